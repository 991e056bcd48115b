// pqflow-bench-duckdb-query: the "DuckDB alone" peer of the query benchmark
// (bench/run_query_bench.sh). Opens an in-memory DuckDB, runs one SQL statement, prints the
// number of result rows and exits: what a user's own program over the same files would pay.
//
//   pqflow-bench-duckdb-query "SELECT count(*) FROM read_parquet('/data/**/*.parquet')"
//
// It is timed as a whole process, like `pqflow query`, so both pay process start and DuckDB's
// start-up. Kept minimal on purpose (no option parser, no JSON): anything it did beyond
// DuckDB's own work would be counted against DuckDB. Like pqflow it sets TimeZone to UTC and
// reads every row of the result (a query's work is not done until its result is consumed).
#define DUCKDB_API_NO_DEPRECATED
#include <duckdb.h>

#include <cstdio>

namespace {

// Runs `sql` and counts the rows it returns; -1 (after printing DuckDB's error) on failure.
// The result is destroyed on every path, as the C API requires.
long long RowsOf(duckdb_connection conn, const char* sql) {
  duckdb_result result;
  if (duckdb_query(conn, sql, &result) == DuckDBError) {
    std::fprintf(stderr, "pqflow-bench-duckdb-query: %s\n", duckdb_result_error(&result));
    duckdb_destroy_result(&result);
    return -1;
  }
  long long rows = 0;
  for (duckdb_data_chunk chunk = duckdb_fetch_chunk(result); chunk != nullptr; chunk = duckdb_fetch_chunk(result)) {
    rows += static_cast<long long>(duckdb_data_chunk_get_size(chunk));
    duckdb_destroy_data_chunk(&chunk);
  }
  duckdb_destroy_result(&result);
  return rows;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: pqflow-bench-duckdb-query SQL\n");
    return 2;
  }
  duckdb_database db;
  duckdb_connection conn;
  if (duckdb_open(nullptr, &db) == DuckDBError) {
    std::fprintf(stderr, "pqflow-bench-duckdb-query: cannot open an in-memory database\n");
    return 1;
  }
  if (duckdb_connect(db, &conn) == DuckDBError) {
    std::fprintf(stderr, "pqflow-bench-duckdb-query: cannot connect\n");
    duckdb_close(&db);
    return 1;
  }
  long long rows = RowsOf(conn, "SET TimeZone = 'UTC'");
  if (rows >= 0) rows = RowsOf(conn, argv[1]);
  duckdb_disconnect(&conn);
  duckdb_close(&db);
  if (rows < 0) return 1;
  std::printf("%lld\n", rows);
  return 0;
}
