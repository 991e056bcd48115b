// Shared libraries that only some commands need (libpq for a PostgreSQL source, libcurl for
// S3 storage) are opened when first used instead of at process start. Linked normally, they
// and their ~30 dependencies (Kerberos, LDAP, GnuTLS, ...) cost every command, `pqflow query`
// included, about 6 ms of dynamic loading before main.
//
// A library's functions are defined by pqflow under their own names (see libpq_loader.cc,
// libcurl_loader.cc), so calling code stays as the library's documentation writes it; each
// definition forwards to the symbol resolved here.
#pragma once

#include <initializer_list>
#include <utility>

#include "core/status.h"

namespace pqflow {

struct LibrarySymbol {
  const char* name;
  void** address;  // receives the function's address
};

// Opens `soname` and resolves every symbol, or says which library and which Debian package
// is missing. Not thread-safe: callers serialise it (std::call_once).
Status LoadLibrarySymbols(const char* soname, const char* debian_package,
                          std::initializer_list<LibrarySymbol> symbols);

// For a forwarding definition reached before its library loaded successfully: there is no
// Status to return through the library's own C signature, so this prints `status` and aborts.
// The callers' explicit Load...() calls report the failure as an error before this can happen.
[[noreturn]] void DieLibraryMissing(const Status& status);

}  // namespace pqflow
