#include "core/dynamic_library.h"

#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace pqflow {

Status LoadLibrarySymbols(const char* soname, const char* debian_package,
                          const std::vector<LibrarySymbol>& symbols) {
  // RTLD_GLOBAL: the library's own dependencies may look its symbols up (libcurl's TLS
  // backends do); RTLD_NOW: a missing symbol is found here, not in the middle of a request.
  void* handle = dlopen(soname, RTLD_NOW | RTLD_GLOBAL);
  if (handle == nullptr) {
    const char* why = dlerror();
    return Status::FailedPrecondition(std::string("cannot load ") + soname + " (" + (why ? why : "unknown error") +
                                      "): install the Debian package " + debian_package);
  }
  for (const LibrarySymbol& s : symbols) {
    *s.address = dlsym(handle, s.name);
    if (*s.address == nullptr) {
      return Status::FailedPrecondition(std::string(soname) + " has no function " + s.name +
                                        ": install the Debian 12 version of " + debian_package);
    }
  }
  return Status::OK();  // the handle stays open for the life of the process
}

Status LazyLibrary::Load() {
  std::call_once(once_, [this] { status_ = LoadLibrarySymbols(soname_, debian_package_, symbols_); });
  return status_;
}

void LazyLibrary::LoadOrDie() {
  if (Load().ok()) return;
  std::fprintf(stderr, "pqflow: %s\n", status_.ToString().c_str());
  std::abort();
}

}  // namespace pqflow
