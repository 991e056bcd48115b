#include "duck/duck.h"

#include <utility>

#include <duckdb.h>

namespace pqflow::duck {

namespace {

Status ConfigSet(duckdb_config config, const char* key, const std::string& value) {
  if (duckdb_set_config(config, key, value.c_str()) == DuckDBError) {
    return Status::InvalidArgument(std::string("DuckDB rejected setting ") + key + "=" + value);
  }
  return Status::OK();
}

Status ResultError(duckdb_result* result) {
  const char* msg = duckdb_result_error(result);
  std::string text = msg != nullptr ? msg : "unknown DuckDB error";
  duckdb_error_type type = duckdb_result_error_type(result);
  duckdb_destroy_result(result);
  switch (type) {
    case DUCKDB_ERROR_IO:
      return Status::IOError(text);
    case DUCKDB_ERROR_CATALOG:
    case DUCKDB_ERROR_BINDER:
    case DUCKDB_ERROR_PARSER:
    case DUCKDB_ERROR_CONVERSION:
    case DUCKDB_ERROR_INVALID_INPUT:
    case DUCKDB_ERROR_INVALID_TYPE:
    case DUCKDB_ERROR_OUT_OF_RANGE:
    case DUCKDB_ERROR_DIVIDE_BY_ZERO:
    case DUCKDB_ERROR_MISMATCH_TYPE:
      return Status::InvalidArgument(text);
    case DUCKDB_ERROR_OUT_OF_MEMORY:  // over the memory_limit the database was given
      return Status::FailedPrecondition(text);
    case DUCKDB_ERROR_INTERRUPT:
      return Status::FailedPrecondition(text);
    default:
      return Status::IOError(text);
  }
}

const char* TypeName(duckdb_type t) {
  switch (t) {
    case DUCKDB_TYPE_BOOLEAN: return "BOOLEAN";
    case DUCKDB_TYPE_TINYINT: return "TINYINT";
    case DUCKDB_TYPE_SMALLINT: return "SMALLINT";
    case DUCKDB_TYPE_INTEGER: return "INTEGER";
    case DUCKDB_TYPE_BIGINT: return "BIGINT";
    case DUCKDB_TYPE_UTINYINT: return "UTINYINT";
    case DUCKDB_TYPE_USMALLINT: return "USMALLINT";
    case DUCKDB_TYPE_UINTEGER: return "UINTEGER";
    case DUCKDB_TYPE_UBIGINT: return "UBIGINT";
    case DUCKDB_TYPE_HUGEINT: return "HUGEINT";
    case DUCKDB_TYPE_UHUGEINT: return "UHUGEINT";
    case DUCKDB_TYPE_FLOAT: return "FLOAT";
    case DUCKDB_TYPE_DOUBLE: return "DOUBLE";
    case DUCKDB_TYPE_DECIMAL: return "DECIMAL";
    case DUCKDB_TYPE_VARCHAR: return "VARCHAR";
    case DUCKDB_TYPE_BLOB: return "BLOB";
    case DUCKDB_TYPE_DATE: return "DATE";
    case DUCKDB_TYPE_TIMESTAMP: return "TIMESTAMP";
    case DUCKDB_TYPE_TIMESTAMP_MS: return "TIMESTAMP_MS";
    case DUCKDB_TYPE_TIMESTAMP_TZ: return "TIMESTAMPTZ";
    case DUCKDB_TYPE_UUID: return "UUID";
    default: return "OTHER";
  }
}

}  // namespace

// Fills a QueryResult from a DuckDB result and destroys the latter.
struct ResultBuilder {
  static QueryResult Build(duckdb_result* result);
};

namespace {
QueryResult Materialize(duckdb_result* result) { return ResultBuilder::Build(result); }
}  // namespace

QueryResult ResultBuilder::Build(duckdb_result* result) {
  QueryResult out;
  idx_t cols = duckdb_column_count(result);
  idx_t rows = duckdb_row_count(result);
  for (idx_t c = 0; c < cols; ++c) {
    out.names_.emplace_back(duckdb_column_name(result, c));
    duckdb_logical_type lt = duckdb_column_logical_type(result, c);
    char* tname = duckdb_logical_type_get_alias(lt);
    if (tname == nullptr) {
      out.types_.emplace_back(TypeName(duckdb_column_type(result, c)));
    } else {
      out.types_.emplace_back(tname);
      duckdb_free(tname);
    }
    duckdb_destroy_logical_type(&lt);
  }
  out.rows_.resize(rows);
  for (idx_t r = 0; r < rows; ++r) {
    auto& row = out.rows_[r];
    row.resize(cols);
    for (idx_t c = 0; c < cols; ++c) {
      if (duckdb_value_is_null(result, c, r)) continue;
      char* v = duckdb_value_varchar(result, c, r);
      if (v != nullptr) {
        row[c] = std::string(v);
        duckdb_free(v);
      }
    }
  }
  duckdb_destroy_result(result);
  return out;
}

void QueryResult::KeepColumns(size_t count) {
  if (count >= names_.size()) return;
  names_.resize(count);
  types_.resize(count);
  for (auto& row : rows_) row.resize(count);
}

// ---- Database --------------------------------------------------------------------------

Result<Database> Database::Open(const DatabaseOptions& options) {
  duckdb_config config = nullptr;
  if (duckdb_create_config(&config) == DuckDBError) return Status::Internal("cannot create DuckDB config");
  Status s = Status::OK();
  if (options.threads > 0) s = ConfigSet(config, "threads", std::to_string(options.threads));
  if (s.ok() && !options.memory_limit.empty()) s = ConfigSet(config, "memory_limit", options.memory_limit);
  if (s.ok() && !options.temp_directory.empty()) s = ConfigSet(config, "temp_directory", options.temp_directory);
  if (s.ok()) s = ConfigSet(config, "preserve_insertion_order", options.preserve_insertion_order ? "true" : "false");
  // pqflow ships no extensions and must never download any at run time.
  if (s.ok()) s = ConfigSet(config, "autoinstall_known_extensions", "false");
  if (s.ok()) s = ConfigSet(config, "autoload_known_extensions", "false");
  for (const auto& [key, value] : options.settings) {
    if (s.ok()) s = ConfigSet(config, key.c_str(), value);
  }
  if (!s.ok()) {
    duckdb_destroy_config(&config);
    return s;
  }
  Database db;
  char* err = nullptr;
  const char* path = options.path.empty() ? nullptr : options.path.c_str();
  if (duckdb_open_ext(path, &db.db_, config, &err) == DuckDBError) {
    std::string msg = err != nullptr ? err : "unknown error";
    duckdb_free(err);
    duckdb_destroy_config(&config);
    return Status::IOError("opening DuckDB: " + msg);
  }
  duckdb_destroy_config(&config);
  return db;
}

Database::Database(Database&& other) noexcept : db_(std::exchange(other.db_, nullptr)) {}
Database& Database::operator=(Database&& other) noexcept {
  if (this != &other) {
    if (db_ != nullptr) duckdb_close(&db_);
    db_ = std::exchange(other.db_, nullptr);
  }
  return *this;
}
Database::~Database() {
  if (db_ != nullptr) duckdb_close(&db_);
}

// ---- QueryResult -----------------------------------------------------------------------

int QueryResult::ColumnIndex(std::string_view name) const {
  for (size_t i = 0; i < names_.size(); ++i) {
    if (names_[i] == name) return static_cast<int>(i);
  }
  return -1;
}

std::string QueryResult::GetOr(size_t row, size_t col, std::string fallback) const {
  const auto& v = rows_[row][col];
  return v ? *v : fallback;
}

int64_t QueryResult::GetInt64(size_t row, size_t col, int64_t fallback) const {
  const auto& v = rows_[row][col];
  if (!v) return fallback;
  try {
    return std::stoll(*v);
  } catch (...) {
    return fallback;
  }
}

// ---- Connection ------------------------------------------------------------------------

Result<Connection> Connection::Make(const Database& db) {
  Connection c;
  if (duckdb_connect(db.raw(), &c.conn_) == DuckDBError) return Status::Internal("cannot connect to DuckDB");
  return c;
}

Connection::Connection(Connection&& other) noexcept : conn_(std::exchange(other.conn_, nullptr)) {}
Connection& Connection::operator=(Connection&& other) noexcept {
  if (this != &other) {
    if (conn_ != nullptr) duckdb_disconnect(&conn_);
    conn_ = std::exchange(other.conn_, nullptr);
  }
  return *this;
}
Connection::~Connection() {
  if (conn_ != nullptr) duckdb_disconnect(&conn_);
}

Status Connection::Execute(const std::string& sql) {
  duckdb_result result;
  if (duckdb_query(conn_, sql.c_str(), &result) == DuckDBError) return ResultError(&result);
  duckdb_destroy_result(&result);
  return Status::OK();
}

Result<QueryResult> Connection::Query(const std::string& sql) {
  duckdb_result result;
  if (duckdb_query(conn_, sql.c_str(), &result) == DuckDBError) return ResultError(&result);
  return Materialize(&result);
}

Result<PreparedStatement> Connection::Prepare(const std::string& sql) {
  PreparedStatement p;
  if (duckdb_prepare(conn_, sql.c_str(), &p.stmt_) == DuckDBError) {
    const char* msg = duckdb_prepare_error(p.stmt_);
    return Status::InvalidArgument(msg != nullptr ? msg : "cannot prepare statement");
  }
  return p;
}

double Connection::QueryProgress() const {
  if (conn_ == nullptr) return -1;
  duckdb_query_progress_type p = duckdb_query_progress(conn_);
  return p.percentage;
}

void Connection::Interrupt() {
  if (conn_ != nullptr) duckdb_interrupt(conn_);
}

// ---- PreparedStatement -----------------------------------------------------------------

PreparedStatement::PreparedStatement(PreparedStatement&& other) noexcept : stmt_(std::exchange(other.stmt_, nullptr)) {}
PreparedStatement& PreparedStatement::operator=(PreparedStatement&& other) noexcept {
  if (this != &other) {
    if (stmt_ != nullptr) duckdb_destroy_prepare(&stmt_);
    stmt_ = std::exchange(other.stmt_, nullptr);
  }
  return *this;
}
PreparedStatement::~PreparedStatement() {
  if (stmt_ != nullptr) duckdb_destroy_prepare(&stmt_);
}

Status PreparedStatement::BindString(size_t index, std::string_view value) {
  if (duckdb_bind_varchar_length(stmt_, index, value.data(), value.size()) == DuckDBError) {
    return Status::InvalidArgument("cannot bind parameter " + std::to_string(index));
  }
  return Status::OK();
}

Status PreparedStatement::BindInt64(size_t index, int64_t value) {
  if (duckdb_bind_int64(stmt_, index, value) == DuckDBError) {
    return Status::InvalidArgument("cannot bind parameter " + std::to_string(index));
  }
  return Status::OK();
}

Status PreparedStatement::BindNull(size_t index) {
  if (duckdb_bind_null(stmt_, index) == DuckDBError) {
    return Status::InvalidArgument("cannot bind parameter " + std::to_string(index));
  }
  return Status::OK();
}

Result<QueryResult> PreparedStatement::Execute() {
  duckdb_result result;
  if (duckdb_execute_prepared(stmt_, &result) == DuckDBError) return ResultError(&result);
  return Materialize(&result);
}

// ---- Appender --------------------------------------------------------------------------

Result<Appender> Appender::Make(const Connection& conn, const std::string& table) {
  Appender a;
  if (duckdb_appender_create(conn.raw(), nullptr, table.c_str(), &a.appender_) == DuckDBError) {
    const char* msg = duckdb_appender_error(a.appender_);
    return Status::InvalidArgument("cannot append to " + table + ": " + (msg != nullptr ? msg : "?"));
  }
  return a;
}

Appender::Appender(Appender&& other) noexcept : appender_(std::exchange(other.appender_, nullptr)) {}
Appender& Appender::operator=(Appender&& other) noexcept {
  if (this != &other) {
    if (appender_ != nullptr) duckdb_appender_destroy(&appender_);
    appender_ = std::exchange(other.appender_, nullptr);
  }
  return *this;
}
Appender::~Appender() {
  if (appender_ != nullptr) duckdb_appender_destroy(&appender_);
}

Status Appender::Check(int state, const char* what) {
  if (state == DuckDBError) {
    const char* msg = duckdb_appender_error(appender_);
    return Status::InvalidArgument(std::string(what) + ": " + (msg != nullptr ? msg : "appender error"));
  }
  return Status::OK();
}

Status Appender::AppendString(std::string_view v) {
  return Check(duckdb_append_varchar_length(appender_, v.data(), v.size()), "append");
}
Status Appender::AppendInt64(int64_t v) { return Check(duckdb_append_int64(appender_, v), "append"); }
Status Appender::AppendNull() { return Check(duckdb_append_null(appender_), "append"); }
Status Appender::EndRow() { return Check(duckdb_appender_end_row(appender_), "end row"); }
Status Appender::Flush() { return Check(duckdb_appender_flush(appender_), "flush"); }

// ---- helpers ---------------------------------------------------------------------------

std::string QuoteIdentifier(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string QuoteLiteral(std::string_view value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

std::string LibraryVersion() { return duckdb_library_version(); }

}  // namespace pqflow::duck
