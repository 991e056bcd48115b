// Shared libraries that only some commands need (libpq for a PostgreSQL source, libcurl for
// S3 storage) are opened when first used instead of at process start. Linked normally, they
// and their ~30 dependencies (Kerberos, LDAP, GnuTLS, ...) cost every command, `pqflow query`
// included, about 6 ms of dynamic loading before main.
//
// A library's functions are defined by pqflow under their own names (see libpq_loader.cc,
// libcurl_loader.cc), so calling code stays as the library's documentation writes it; each
// definition forwards to the symbol resolved here.
#pragma once

#include <mutex>
#include <utility>
#include <vector>

#include "core/status.h"

namespace pqflow {

struct LibrarySymbol {
  const char* name;
  void** address;  // receives the function's address
};

// Opens `soname` and resolves every symbol, or says which library and which Debian package
// is missing. Not thread-safe: LazyLibrary serialises it.
Status LoadLibrarySymbols(const char* soname, const char* debian_package,
                          const std::vector<LibrarySymbol>& symbols);

// A library opened at most once per process, on first use.
class LazyLibrary {
 public:
  LazyLibrary(const char* soname, const char* debian_package, std::vector<LibrarySymbol> symbols)
      : soname_(soname), debian_package_(debian_package), symbols_(std::move(symbols)) {}

  // Opens it the first time; every call gives the same answer.
  Status Load();
  // For a forwarding definition: there is no Status to return through the library's own C
  // signature, so a failure is printed and the process aborts. Commands call Load() first
  // and report the failure as an error before this can happen.
  void LoadOrDie();

 private:
  const char* soname_;
  const char* debian_package_;
  std::vector<LibrarySymbol> symbols_;
  std::once_flag once_;
  Status status_;
};

}  // namespace pqflow
