// The query guard (issue #5): user SQL, from `pqflow query` or `POST /v1/query`, may only
// read the dataset views pqflow created. Three layers, each stopping what the others might
// miss:
//
//  1. LockDownDatabase, once per Database before any view is created: DuckDB itself refuses
//     every file outside the readable directories (read_csv('/etc/passwd'), FROM 'x.csv',
//     ATTACH, EXPORT, INSTALL, LOAD), caps memory and threads, switches spilling to disk off
//     (unless asked for), and refuses any later SET, RESET or PRAGMA that would change a
//     setting. DuckDB still lets queries write inside the readable directories.
//  2. CheckReadOnlyQuery, before each query: DuckDB's own parser must see exactly one SELECT
//     whose every table reference is a dataset view, a CTE of the query, or one of the
//     generators range / generate_series / unnest. This is what stops COPY ... TO and
//     ATTACH inside the readable directories (layer 1 lets DuckDB write there), DDL/DML on
//     the in-memory catalog, query('...'), duckdb_settings(), pg_settings, information_schema.
//  3. QueryDeadline: a query still running after the time limit is interrupted.
//
// RunReadOnlyQuery puts 2 and 3 together for callers that just want the rows.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "core/status.h"
#include "duck/duck.h"
#include "query/parsed_query.h"

namespace pqflow::query {

struct QueryLimits {
  // The directories user queries may read: the storage root. Spell them as the views spell
  // their files (DuckDB compares paths as text, so "data/" does not cover "/srv/data/..."); a
  // trailing '/' is added so that "data" does not also cover "data2". Empty = no file at all.
  std::vector<std::string> readable_directories;
  // DuckDB size syntax ("1GB", "512MiB"); "" keeps the database's own limit.
  std::string memory_limit = "1GB";
  // 0 keeps the database's own thread count.
  int threads = 0;
  // How much a query may spill to the database's temp_directory ("10GB"). "" (the default)
  // switches the temp directory off: memory_limit is then a hard cap. DuckDB lets queries
  // read and write the temp directory despite the lock-down (it adds it to the readable
  // directories), so with spilling on only layer 2 keeps queries out of it.
  std::string max_temp_directory_size;
  // Per query; enforced by QueryDeadline, not by DuckDB.
  std::chrono::milliseconds timeout{30000};
};

// Applies layer 1 to the Database behind `conn`. Every setting involved is global in DuckDB,
// so this locks the whole Database (all its connections, present and future) and cannot be
// undone: use a Database dedicated to user queries, and open it, lock it down, then create
// the views. A second call on a locked-down Database only verifies that external access is
// off; the first call's limits stay in force. On error the Database must not run user SQL.
// `open_settings_applied`: the Database was opened with LockDownOpenSettings(limits), which
// are then not set again.
[[nodiscard]] Status LockDownDatabase(duck::Connection& conn, const QueryLimits& limits,
                                      bool open_settings_applied = false);

// The settings of layer 1 that DuckDB takes when a database is opened (extensions, memory,
// threads, spilling), for duck::DatabaseOptions::settings: a query then parses and runs five
// SET statements fewer (~0.6 ms). The rest (the readable directories, the lock) still needs
// LockDownDatabase.
Result<std::vector<std::pair<std::string, std::string>>> LockDownOpenSettings(const QueryLimits& limits);

// Layer 2. Parses `sql` with DuckDB's parser (json_serialize_sql, which serialises SELECT
// statements only) and walks the whole tree: CTEs, subqueries in FROM and in expressions,
// joins, set operations, PIVOT. Returns the names from `relations` the query reads, in the
// caller's spelling, in order of first use (CTE names are not included). Refusals are
// InvalidArgument and name what was refused; a syntax error carries DuckDB's message.
// `relations` are matched case-insensitively, as DuckDB matches identifiers.
[[nodiscard]] Result<std::vector<std::string>> CheckReadOnlyQuery(duck::Connection& conn, std::string_view sql,
                                                                  const std::vector<std::string>& relations);
// The same on a query already parsed (by ParseQuery, which the partition pruner shares).
[[nodiscard]] Result<std::vector<std::string>> CheckReadOnlyQuery(const ParsedQuery& query,
                                                                  const std::vector<std::string>& relations);

// Layer 3. Interrupts the query running on a connection once `timeout` has passed. DuckDB
// forgets an interrupt that arrives while no query runs, so after the deadline the query is
// interrupted again every 50 ms until the QueryDeadline is destroyed: a query that starts
// late is stopped too. Start it right before the query it guards and destroy it before the
// connection runs anything else. `conn` must outlive it.
class QueryDeadline {
 public:
  [[nodiscard]] static Result<QueryDeadline> Start(duck::Connection& conn, std::chrono::milliseconds timeout);
  QueryDeadline(QueryDeadline&& other) noexcept = default;
  QueryDeadline& operator=(QueryDeadline&&) = delete;
  QueryDeadline(const QueryDeadline&) = delete;
  QueryDeadline& operator=(const QueryDeadline&) = delete;
  ~QueryDeadline();  // stops the timer thread and joins it

  // True once the deadline has passed and the query was interrupted.
  bool expired() const;
  // The status of the guarded query as the user should see it: a failure after the
  // deadline fired becomes InvalidArgument "query exceeded the time limit of 2 s" instead
  // of DuckDB's "Interrupted!"; anything else is returned unchanged.
  Status Explain(Status query_status) const;

 private:
  struct Timer {
    std::mutex mu;
    std::condition_variable cv;
    bool cancelled = false;  // guarded by mu
    std::atomic<bool> fired{false};
  };
  QueryDeadline(std::unique_ptr<Timer> timer, std::chrono::milliseconds timeout)
      : timer_(std::move(timer)), timeout_(timeout) {}
  static void Run(Timer* timer, duck::Connection* conn, std::chrono::milliseconds timeout);

  std::unique_ptr<Timer> timer_;  // shared with thread_, which it outlives
  std::chrono::milliseconds timeout_;
  std::thread thread_;
};

// "2 s" for whole seconds, "300 ms" otherwise.
std::string FormatTimeLimit(std::chrono::milliseconds timeout);

struct GuardedResult {
  std::vector<std::string> relations;  // the dataset views the query read
  duck::QueryResult result;
};

// CheckReadOnlyQuery, then the query under a QueryDeadline. `conn` must have been locked
// down (LockDownDatabase) before its views were created.
[[nodiscard]] Result<GuardedResult> RunReadOnlyQuery(duck::Connection& conn, std::string_view sql,
                                                     const std::vector<std::string>& relations,
                                                     std::chrono::milliseconds timeout);

}  // namespace pqflow::query
