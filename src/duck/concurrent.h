// Running many independent statements on one database from several connections at once,
// e.g. one COPY per partition. DuckDB parallelises inside a query; this parallelises
// across queries that are each too small to use more than one thread.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/status.h"
#include "duck/duck.h"

namespace pqflow::duck {

// Runs `statements` on `workers` connections of `db`. Results come back in statement order.
// The first failure stops the remaining statements and is returned with its statement's
// index in the message. `on_done(n)` is called (from worker threads, serialised) after each
// statement with the number finished so far.
Result<std::vector<QueryResult>> RunConcurrently(const Database& db, const std::vector<std::string>& statements,
                                                 int workers, const std::function<void(size_t)>& on_done = {});

}  // namespace pqflow::duck
