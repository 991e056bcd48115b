// PostgreSQL as a source: one REPEATABLE READ transaction per export, rows streamed with
// COPY ... TO STDOUT (FORMAT binary) straight into a DuckDB table, and, with
// --delete-after-export, the DELETE of exactly those rows in the same transaction (same
// snapshot, same predicate) once the Parquet files are durable and verified.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/civil_date.h"
#include "core/dataset_config.h"
#include "core/status.h"
#include "duck/duck.h"

struct pg_conn;

namespace pqflow::source {

// Dates, inclusive. Query sources see them as {from}, {to} and {date} (= from).
struct PgDateRange {
  CivilDate from;
  CivilDate to;
};

// What a transaction's id says about it now (pg_xact_status).
enum class PgTransactionState { kCommitted, kAborted, kInProgress, kUnknown };

struct PgCopyStats {  // what a scan read
  int64_t rows = 0;
  int64_t bytes = 0;  // binary COPY data received
};

class PgSource {
 public:
  // Connects with the dataset's dsn (or libpq's environment) and begins a REPEATABLE READ
  // transaction, READ ONLY unless rows are to be deleted. Errors name the server
  // (host, port, database, user; never the password).
  static Result<std::unique_ptr<PgSource>> Open(const DatasetConfig& ds, bool will_delete);
  ~PgSource();  // rolls back an uncommitted transaction
  PgSource(const PgSource&) = delete;
  PgSource& operator=(const PgSource&) = delete;

  // Where the rows come from, for reports: "postgres host=... dbname=... table=...".
  std::string Describe() const;

  // The dates that have rows, ascending (for --historical).
  Result<std::vector<CivilDate>> DatesPresent();

  // The transaction's id; assigning one is what lets a later run ask whether this
  // transaction's DELETE committed (pg_xact_status).
  Result<int64_t> TransactionId();
  Result<PgTransactionState> TransactionState(int64_t txid);

  // Starts COPY (...) TO STDOUT (FORMAT binary) for the range and registers a DuckDB table
  // function `function` on `duck` that yields its rows, decoded chunk by chunk as DuckDB
  // pulls them: nothing is held beyond one chunk, and reading, decoding and writing Parquet
  // overlap. The function's columns are the dataset's read (non-derived) columns with their
  // declared types (json as VARCHAR). It can be scanned once. Impossible type pairs fail
  // here, before a row moves.
  Status StartScan(const PgDateRange& range, duck::Connection& duck, const std::string& function);
  // After the scan: every row arrived and PostgreSQL's own count agrees.
  Result<PgCopyStats> FinishScan();
  // The error that stopped a scan (DuckDB only sees its text), or OK.
  Status ScanError() const;

  struct Scan;  // the registered function's state (pg_source.cc)

  // Deletes the range's rows as this transaction's snapshot sees them, i.e. exactly the rows
  // the scan read; rows committed by others since are not touched. Returns rows deleted.
  Result<int64_t> DeleteRange(const PgDateRange& range);
  Status Commit();

 private:
  PgSource(const DatasetConfig& ds, pg_conn* conn);
  Result<std::string> Identifier(const std::string& name) const;
  Result<std::string> TableRangeSql(const PgDateRange& range) const;  // "table WHERE <range>"
  Result<std::string> RangeSql(const PgDateRange& range) const;       // SELECT of the read columns
  Status Exec(const std::string& sql, const std::string& what);
  Status Error(const std::string& what) const;

  const DatasetConfig& ds_;
  pg_conn* conn_;
  std::unique_ptr<Scan> scan_;
  std::string server_;  // "host=... port=... dbname=... user=..."
  bool open_transaction_ = false;
};

// The DSN's host, port, database and user, for messages; never the password.
std::string DescribeDsn(const std::string& dsn);

// Replaces {date}, {from} and {to} in a query with date literals ('2026-01-15'::date).
// The values are dates pqflow parsed itself, never user text; COPY takes no bind parameters.
std::string BindDates(const std::string& sql, const PgDateRange& range);

}  // namespace pqflow::source
