// Thin RAII C++ over DuckDB's C API. Every DuckDBError becomes a Status carrying DuckDB's
// own message; every handle is destroyed exactly once, also on failure paths. This is the
// only module that includes duckdb.h.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

struct _duckdb_database;
struct _duckdb_connection;
struct _duckdb_prepared_statement;
struct _duckdb_appender;

namespace pqflow::duck {

struct DatabaseOptions {
  std::string path;             // "" = in memory
  int threads = 0;              // 0 = DuckDB's default (all cores)
  std::string memory_limit;     // e.g. "2GB"; "" = DuckDB's default (80% of RAM)
  std::string temp_directory;   // where DuckDB spills when over memory_limit
  bool preserve_insertion_order = true;
  // Further settings by DuckDB name, applied in this order before the database starts. Only
  // DuckDB's own: an extension's (TimeZone, parquet_metadata_cache) is refused at open.
  std::vector<std::pair<std::string, std::string>> settings;
};

class Database {
 public:
  static Result<Database> Open(const DatabaseOptions& options);
  Database(Database&& other) noexcept;
  Database& operator=(Database&& other) noexcept;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  ~Database();

  _duckdb_database* raw() const { return db_; }

 private:
  Database() = default;
  _duckdb_database* db_ = nullptr;
};

// A fully materialised query result; cells are read as text (DuckDB's own rendering).
class QueryResult {
 public:
  QueryResult() = default;
  size_t column_count() const { return names_.size(); }
  size_t row_count() const { return rows_.size(); }
  const std::vector<std::string>& column_names() const { return names_; }
  const std::vector<std::string>& column_types() const { return types_; }
  int ColumnIndex(std::string_view name) const;  // -1 if absent
  const std::optional<std::string>& Get(size_t row, size_t col) const { return rows_[row][col]; }
  std::string GetOr(size_t row, size_t col, std::string fallback) const;
  int64_t GetInt64(size_t row, size_t col, int64_t fallback = 0) const;
  const std::vector<std::vector<std::optional<std::string>>>& rows() const { return rows_; }
  void KeepColumns(size_t count);  // drops the columns after the first `count`

 private:
  friend struct ResultBuilder;
  std::vector<std::string> names_;
  std::vector<std::string> types_;
  std::vector<std::vector<std::optional<std::string>>> rows_;
};

struct ResultBuilder;
class PreparedStatement;

class Connection {
 public:
  static Result<Connection> Make(const Database& db);
  Connection(Connection&& other) noexcept;
  Connection& operator=(Connection&& other) noexcept;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  Status Execute(const std::string& sql);
  Result<QueryResult> Query(const std::string& sql);
  Result<PreparedStatement> Prepare(const std::string& sql);
  // Asks a running query on this connection to stop (safe from another thread).
  void Interrupt();
  // Percent done of the running query, or -1 when DuckDB cannot tell (thread-safe).
  double QueryProgress() const;
  _duckdb_connection* raw() const { return conn_; }

 private:
  Connection() = default;
  _duckdb_connection* conn_ = nullptr;
};

class PreparedStatement {
 public:
  PreparedStatement(PreparedStatement&& other) noexcept;
  PreparedStatement& operator=(PreparedStatement&& other) noexcept;
  PreparedStatement(const PreparedStatement&) = delete;
  PreparedStatement& operator=(const PreparedStatement&) = delete;
  ~PreparedStatement();

  // Parameters are 1-based, as in DuckDB.
  Status BindString(size_t index, std::string_view value);
  Status BindInt64(size_t index, int64_t value);
  Status BindNull(size_t index);
  Result<QueryResult> Execute();

 private:
  friend class Connection;
  PreparedStatement() = default;
  _duckdb_prepared_statement* stmt_ = nullptr;
};

// Appends rows to a table through DuckDB's appender (much faster than INSERT).
class Appender {
 public:
  static Result<Appender> Make(const Connection& conn, const std::string& table);
  Appender(Appender&& other) noexcept;
  Appender& operator=(Appender&& other) noexcept;
  Appender(const Appender&) = delete;
  Appender& operator=(const Appender&) = delete;
  ~Appender();

  Status AppendString(std::string_view value);
  Status AppendInt64(int64_t value);
  Status AppendNull();
  Status EndRow();
  Status Flush();

 private:
  Appender() = default;
  Status Check(int state, const char* what);
  _duckdb_appender* appender_ = nullptr;
};

// SQL quoting for identifiers ("a""b") and string literals ('it''s').
std::string QuoteIdentifier(std::string_view name);
std::string QuoteLiteral(std::string_view value);

std::string LibraryVersion();  // "v1.4.4"

}  // namespace pqflow::duck
