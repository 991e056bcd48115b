// pqflow's definitions of the libcurl functions it calls, each forwarding to libcurl itself,
// opened on first use. The signatures must match curl.h exactly (the compiler checks: a
// mismatch conflicts with the header's declaration). Add a function here before using it.
#define CURL_DISABLE_TYPECHECK  // curl's type-checking macros would rename the definitions below
#include "storage/libcurl_loader.h"

#include <curl/curl.h>

#include <cstdarg>

#include "core/dynamic_library.h"

#define PQFLOW_LIBCURL_FUNCTIONS(X)                                                                      \
  X(CURLcode, curl_global_init, (long flags), (flags))                                                  \
  X(CURL*, curl_easy_init, (void), ())                                                                   \
  X(CURLcode, curl_easy_perform, (CURL * curl), (curl))                                                 \
  X(void, curl_easy_reset, (CURL * curl), (curl))                                                       \
  X(void, curl_easy_cleanup, (CURL * curl), (curl))                                                     \
  X(const char*, curl_easy_strerror, (CURLcode code), (code))                                           \
  X(struct curl_slist*, curl_slist_append, (struct curl_slist * list, const char* text), (list, text)) \
  X(void, curl_slist_free_all, (struct curl_slist * list), (list))

// The two variadic functions take exactly one argument after the option, forwarded below.
#define PQFLOW_LIBCURL_VARIADIC(X) \
  X(curl_easy_setopt)              \
  X(curl_easy_getinfo)

namespace pqflow::storage {
namespace {

struct LibCurl {
#define PQFLOW_MEMBER(ret, name, params, args) decltype(&::name) name = nullptr;
  PQFLOW_LIBCURL_FUNCTIONS(PQFLOW_MEMBER)
#undef PQFLOW_MEMBER
#define PQFLOW_MEMBER(name) decltype(&::name) name = nullptr;
  PQFLOW_LIBCURL_VARIADIC(PQFLOW_MEMBER)
#undef PQFLOW_MEMBER
};

LibCurl libcurl;

LazyLibrary& Library() {
#define PQFLOW_SYMBOL(ret, name, params, args) LibrarySymbol{#name, reinterpret_cast<void**>(&libcurl.name)},
#define PQFLOW_VARIADIC_SYMBOL(name) LibrarySymbol{#name, reinterpret_cast<void**>(&libcurl.name)},
  static LazyLibrary library("libcurl.so.4", "libcurl4",
                             {PQFLOW_LIBCURL_FUNCTIONS(PQFLOW_SYMBOL) PQFLOW_LIBCURL_VARIADIC(PQFLOW_VARIADIC_SYMBOL)});
#undef PQFLOW_VARIADIC_SYMBOL
#undef PQFLOW_SYMBOL
  return library;
}

// Every forwarded call goes through here (PQgetCopyData once per row): after the first,
// it costs one initialised-static check, not a Load() that returns a Status.
const LibCurl& Loaded() {
  static const LibCurl& loaded = (Library().LoadOrDie(), libcurl);
  return loaded;
}

}  // namespace

Status LoadLibCurl() { return Library().Load(); }

}  // namespace pqflow::storage

extern "C" {
#define PQFLOW_FORWARD(ret, name, params, args) \
  ret name params { return pqflow::storage::Loaded().name args; }
PQFLOW_LIBCURL_FUNCTIONS(PQFLOW_FORWARD)
#undef PQFLOW_FORWARD

// The argument's type follows from the option number, as libcurl itself reads it: below
// CURLOPTTYPE_OBJECTPOINT a long, below CURLOPTTYPE_OFF_T a pointer (data or function),
// below CURLOPTTYPE_BLOB a curl_off_t, then a pointer (struct curl_blob*).
CURLcode curl_easy_setopt(CURL* curl, CURLoption option, ...) {
  const auto& lib = pqflow::storage::Loaded();
  va_list ap;
  va_start(ap, option);
  CURLcode code;
  if (option < CURLOPTTYPE_OBJECTPOINT) {
    code = lib.curl_easy_setopt(curl, option, va_arg(ap, long));
  } else if (option < CURLOPTTYPE_OFF_T) {
    code = lib.curl_easy_setopt(curl, option, va_arg(ap, void*));
  } else if (option < CURLOPTTYPE_BLOB) {
    code = lib.curl_easy_setopt(curl, option, va_arg(ap, curl_off_t));
  } else {
    code = lib.curl_easy_setopt(curl, option, va_arg(ap, void*));
  }
  va_end(ap);
  return code;
}

// Every CURLINFO takes a pointer to where the answer goes.
CURLcode curl_easy_getinfo(CURL* curl, CURLINFO info, ...) {
  const auto& lib = pqflow::storage::Loaded();
  va_list ap;
  va_start(ap, info);
  CURLcode code = lib.curl_easy_getinfo(curl, info, va_arg(ap, void*));
  va_end(ap);
  return code;
}
}
