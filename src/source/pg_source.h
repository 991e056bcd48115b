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

struct PgCopyStats {
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

  // Creates `table` in DuckDB with the dataset's read (non-derived) columns, declared types,
  // and streams the range's rows into it. The row count is checked against PostgreSQL's own
  // COPY count. `progress(rows)` is called now and then.
  Result<PgCopyStats> CopyInto(const PgDateRange& range, duck::Connection& duck, const std::string& table,
                           const std::function<void(int64_t)>& progress = {});

  // Deletes the range's rows as this transaction's snapshot sees them, i.e. exactly the rows
  // CopyInto read; rows committed by others since are not touched. Returns rows deleted.
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
  std::string server_;  // "host=... port=... dbname=... user=..."
  bool open_transaction_ = false;
};

// The DSN's host, port, database and user, for messages; never the password.
std::string DescribeDsn(const std::string& dsn);

// Replaces {date}, {from} and {to} in a query with date literals ('2026-01-15'::date).
// The values are dates pqflow parsed itself, never user text; COPY takes no bind parameters.
std::string BindDates(const std::string& sql, const PgDateRange& range);

}  // namespace pqflow::source
