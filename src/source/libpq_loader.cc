// pqflow's definitions of the libpq functions it calls, each forwarding to libpq itself,
// opened on first use. The signatures must match libpq-fe.h exactly (the compiler checks:
// a mismatch conflicts with the header's declaration). Add a function here before using it.
#include "source/libpq_loader.h"

#include <libpq-fe.h>


#include "core/dynamic_library.h"

#define PQFLOW_LIBPQ_FUNCTIONS(X)                                                                   \
  X(PGconn*, PQconnectdb, (const char* conninfo), (conninfo))                                      \
  X(void, PQfinish, (PGconn * conn), (conn))                                                       \
  X(ConnStatusType, PQstatus, (const PGconn* conn), (conn))                                        \
  X(char*, PQerrorMessage, (const PGconn* conn), (conn))                                           \
  X(char*, PQuser, (const PGconn* conn), (conn))                                                   \
  X(char*, PQhost, (const PGconn* conn), (conn))                                                   \
  X(char*, PQport, (const PGconn* conn), (conn))                                                   \
  X(char*, PQdb, (const PGconn* conn), (conn))                                                     \
  X(int, PQsetClientEncoding, (PGconn * conn, const char* encoding), (conn, encoding))             \
  X(PQconninfoOption*, PQconninfoParse, (const char* conninfo, char** errmsg), (conninfo, errmsg)) \
  X(void, PQconninfoFree, (PQconninfoOption * options), (options))                                 \
  X(PGresult*, PQexec, (PGconn * conn, const char* query), (conn, query))                          \
  X(PGresult*, PQexecParams,                                                                       \
    (PGconn * conn, const char* command, int n, const Oid* types, const char* const* values,       \
     const int* lengths, const int* formats, int result_format),                                   \
    (conn, command, n, types, values, lengths, formats, result_format))                            \
  X(PGresult*, PQgetResult, (PGconn * conn), (conn))                                               \
  X(int, PQgetCopyData, (PGconn * conn, char** buffer, int async), (conn, buffer, async))          \
  X(ExecStatusType, PQresultStatus, (const PGresult* res), (res))                                  \
  X(int, PQntuples, (const PGresult* res), (res))                                                  \
  X(char*, PQgetvalue, (const PGresult* res, int row, int field), (res, row, field))               \
  X(int, PQgetisnull, (const PGresult* res, int row, int field), (res, row, field))                \
  X(Oid, PQftype, (const PGresult* res, int field), (res, field))                                  \
  X(int, PQfmod, (const PGresult* res, int field), (res, field))                                   \
  X(char*, PQcmdStatus, (PGresult * res), (res))                                                   \
  X(char*, PQcmdTuples, (PGresult * res), (res))                                                   \
  X(void, PQclear, (PGresult * res), (res))                                                        \
  X(char*, PQescapeIdentifier, (PGconn * conn, const char* str, size_t len), (conn, str, len))     \
  X(void, PQfreemem, (void* ptr), (ptr))                                                           \
  X(PGcancel*, PQgetCancel, (PGconn * conn), (conn))                                               \
  X(void, PQfreeCancel, (PGcancel * cancel), (cancel))                                             \
  X(int, PQcancel, (PGcancel * cancel, char* errbuf, int errbufsize), (cancel, errbuf, errbufsize))

namespace pqflow::source {
namespace {

struct LibPq {
#define PQFLOW_MEMBER(ret, name, params, args) decltype(&::name) name = nullptr;
  PQFLOW_LIBPQ_FUNCTIONS(PQFLOW_MEMBER)
#undef PQFLOW_MEMBER
};

LibPq libpq;

LazyLibrary& Library() {
#define PQFLOW_SYMBOL(ret, name, params, args) LibrarySymbol{#name, reinterpret_cast<void**>(&libpq.name)},
  static LazyLibrary library("libpq.so.5", "libpq5", {PQFLOW_LIBPQ_FUNCTIONS(PQFLOW_SYMBOL)});
#undef PQFLOW_SYMBOL
  return library;
}

// Every forwarded call goes through here (PQgetCopyData once per row): after the first,
// it costs one initialised-static check, not a Load() that returns a Status.
const LibPq& Loaded() {
  static const LibPq& loaded = (Library().LoadOrDie(), libpq);
  return loaded;
}

}  // namespace

Status LoadLibPq() { return Library().Load(); }

}  // namespace pqflow::source

extern "C" {
#define PQFLOW_FORWARD(ret, name, params, args) \
  ret name params { return pqflow::source::Loaded().name args; }
PQFLOW_LIBPQ_FUNCTIONS(PQFLOW_FORWARD)
#undef PQFLOW_FORWARD
}
