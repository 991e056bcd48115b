#include "source/pg_source.h"

#include <duckdb.h>
#include <libpq-fe.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>

#include "duck/logical_type.h"
#include "source/libpq_loader.h"
#include "source/pg_binary.h"

namespace pqflow::source {

namespace {

struct PgResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using PgResultPtr = std::unique_ptr<PGresult, PgResultDeleter>;

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

std::string DescribeParts(const char* host, const char* port, const char* db, const char* user) {
  auto part = [](const char* key, const char* value) {
    return value != nullptr && *value != '\0' ? std::string(key) + "=" + value + " " : std::string();
  };
  return Trim(part("host", host) + part("port", port) + part("dbname", db) + part("user", user));
}

const ColumnSpec* TimeColumn(const DatasetConfig& ds) {
  return ds.time_column.empty() ? nullptr : ds.FindColumn(ds.time_column);
}

}  // namespace

std::string DescribeDsn(const std::string& dsn) {
  char* err = nullptr;
  PQconninfoOption* opts = PQconninfoParse(dsn.c_str(), &err);
  if (opts == nullptr) {
    if (err != nullptr) PQfreemem(err);
    return "(unparseable connection string)";
  }
  const char* host = nullptr;
  const char* port = nullptr;
  const char* db = nullptr;
  const char* user = nullptr;
  for (PQconninfoOption* o = opts; o->keyword != nullptr; ++o) {
    std::string k = o->keyword;
    if (k == "host" || k == "hostaddr") host = host != nullptr ? host : o->val;
    if (k == "port") port = o->val;
    if (k == "dbname") db = o->val;
    if (k == "user") user = o->val;
  }
  // libpq's environment fills what the string leaves out.
  std::string out = DescribeParts(host != nullptr ? host : std::getenv("PGHOST"), port != nullptr ? port : std::getenv("PGPORT"),
                                  db != nullptr ? db : std::getenv("PGDATABASE"), user != nullptr ? user : std::getenv("PGUSER"));
  PQconninfoFree(opts);
  return out.empty() ? "(libpq defaults)" : out;
}

std::string BindDates(const std::string& sql, const PgDateRange& range) {
  auto literal = [](const CivilDate& d) { return "'" + d.ToIso() + "'::date"; };
  std::string out;
  for (size_t i = 0; i < sql.size();) {
    if (sql.compare(i, 6, "{date}") == 0) {
      out += literal(range.from);
      i += 6;
    } else if (sql.compare(i, 6, "{from}") == 0) {
      out += literal(range.from);
      i += 6;
    } else if (sql.compare(i, 4, "{to}") == 0) {
      out += literal(range.to);
      i += 4;
    } else {
      out += sql[i++];
    }
  }
  return out;
}

Result<std::unique_ptr<PgSource>> PgSource::Open(const DatasetConfig& ds, bool will_delete) {
  PQ_RETURN_IF_ERROR(LoadLibPq().WithContext("dataset " + ds.name + ": PostgreSQL source"));
  PGconn* conn = PQconnectdb(ds.source.dsn.c_str());
  if (conn == nullptr) return Status::IOError("connecting to PostgreSQL: out of memory");
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string msg = Trim(PQerrorMessage(conn));
    PQfinish(conn);
    return Status::IOError("dataset " + ds.name + ": cannot connect to PostgreSQL (" + DescribeDsn(ds.source.dsn) +
                           "): " + msg + "\n  check source.dsn in the config, or PGHOST, PGPORT, PGUSER, PGPASSFILE",
                           /*retryable=*/true);
  }
  std::unique_ptr<PgSource> src(new PgSource(ds, conn));
  if (PQsetClientEncoding(conn, "UTF8") != 0) return src->Error("setting client_encoding to UTF8");
  PQ_RETURN_IF_ERROR(src->Exec("SET TimeZone = 'UTC'", "setting the time zone"));
  // One snapshot for reading and deleting: the DELETE sees exactly the rows COPY saw.
  PQ_RETURN_IF_ERROR(src->Exec(std::string("BEGIN ISOLATION LEVEL REPEATABLE READ") + (will_delete ? "" : " READ ONLY"),
                               "starting a transaction"));
  src->open_transaction_ = true;
  return src;
}

PgSource::PgSource(const DatasetConfig& ds, pg_conn* conn)
    : ds_(ds), conn_(conn), server_(DescribeParts(PQhost(conn), PQport(conn), PQdb(conn), PQuser(conn))) {}

PgSource::~PgSource() {
  scan_.reset();  // its thread uses the connection
  if (open_transaction_ && PQstatus(conn_) == CONNECTION_OK) PQclear(PQexec(conn_, "ROLLBACK"));
  PQfinish(conn_);
}

std::string PgSource::Describe() const {
  std::string what = ds_.source.table.empty() ? "query" : "table=" + ds_.source.table;
  return "postgres " + server_ + " " + what;
}

Status PgSource::Error(const std::string& what) const {
  std::string msg = Trim(PQerrorMessage(conn_));
  bool lost = PQstatus(conn_) != CONNECTION_OK;
  return Status::IOError("dataset " + ds_.name + ": PostgreSQL (" + server_ + "), " + what + ": " +
                             (msg.empty() ? "unknown error" : msg) +
                             (lost ? "\n  the connection was lost; nothing was deleted, and a re-run redoes the export" : ""),
                         lost);
}

Status PgSource::Exec(const std::string& sql, const std::string& what) {
  PgResultPtr r(PQexec(conn_, sql.c_str()));
  if (r == nullptr || (PQresultStatus(r.get()) != PGRES_COMMAND_OK && PQresultStatus(r.get()) != PGRES_TUPLES_OK)) {
    return Error(what);
  }
  return Status::OK();
}

Result<std::string> PgSource::Identifier(const std::string& name) const {
  char* q = PQescapeIdentifier(conn_, name.data(), name.size());
  if (q == nullptr) return Status::InvalidArgument("cannot quote identifier '" + name + "': " + Trim(PQerrorMessage(conn_)));
  std::string out = q;
  PQfreemem(q);
  return out;
}

Result<std::string> PgSource::TableRangeSql(const PgDateRange& range) const {
  std::string table;
  size_t start = 0;
  for (;;) {  // schema.table: each part quoted on its own
    size_t dot = ds_.source.table.find('.', start);
    PQ_ASSIGN_OR_RETURN(std::string part,
                        Identifier(ds_.source.table.substr(start, dot == std::string::npos ? dot : dot - start)));
    table += (table.empty() ? "" : ".") + part;
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  const ColumnSpec* tc = TimeColumn(ds_);
  if (tc == nullptr || !tc->expr.empty()) {
    return Status::InvalidArgument("dataset " + ds_.name + ": a postgres table source needs a time_column read from the table");
  }
  PQ_ASSIGN_OR_RETURN(std::string t, Identifier(tc->field));
  return table + " WHERE " + t + " >= '" + range.from.ToIso() + "'::date AND " + t + " < '" +
         range.to.AddDays(1).ToIso() + "'::date";
}

Result<std::string> PgSource::RangeSql(const PgDateRange& range) const {
  std::string cols;
  for (const auto& c : ds_.columns) {
    if (!c.expr.empty()) continue;
    PQ_ASSIGN_OR_RETURN(std::string f, Identifier(c.field));
    cols += (cols.empty() ? "" : ", ") + f;
  }
  if (!ds_.source.query.empty()) return "SELECT " + cols + " FROM (" + BindDates(ds_.source.query, range) + ") AS __pq_q";
  PQ_ASSIGN_OR_RETURN(std::string from, TableRangeSql(range));
  return "SELECT " + cols + " FROM " + from;
}

Result<std::vector<CivilDate>> PgSource::DatesPresent() {
  const ColumnSpec* tc = TimeColumn(ds_);
  if (tc == nullptr || !tc->expr.empty()) {
    return Status::InvalidArgument("dataset " + ds_.name + ": --historical needs a time_column read from the source");
  }
  PQ_ASSIGN_OR_RETURN(CivilDate first, CivilDate::Parse("0001-01-01"));
  PQ_ASSIGN_OR_RETURN(CivilDate last, CivilDate::Parse("9999-12-30"));
  PQ_ASSIGN_OR_RETURN(std::string rows, RangeSql({first, last}));
  PQ_ASSIGN_OR_RETURN(std::string field, Identifier(tc->field));
  PgResultPtr r(PQexec(conn_, ("SELECT DISTINCT CAST(" + field + " AS date)::text FROM (" + rows + ") AS __pq_d WHERE " +
                               field + " IS NOT NULL ORDER BY 1")
                                  .c_str()));
  if (r == nullptr || PQresultStatus(r.get()) != PGRES_TUPLES_OK) return Error("listing the dates present");
  std::vector<CivilDate> dates;
  for (int i = 0; i < PQntuples(r.get()); ++i) {
    PQ_ASSIGN_OR_RETURN(CivilDate d, CivilDate::Parse(PQgetvalue(r.get(), i, 0)));
    dates.push_back(d);
  }
  return dates;
}

Result<int64_t> PgSource::TransactionId() {
  PgResultPtr r(PQexec(conn_, "SELECT txid_current()"));
  if (r == nullptr || PQresultStatus(r.get()) != PGRES_TUPLES_OK) return Error("reading the transaction id");
  return std::strtoll(PQgetvalue(r.get(), 0, 0), nullptr, 10);
}

Result<PgTransactionState> PgSource::TransactionState(int64_t txid) {
  std::string id = std::to_string(txid);
  const char* params[] = {id.c_str()};
  PgResultPtr r(PQexecParams(conn_, "SELECT txid_status($1::bigint)", 1, nullptr, params, nullptr, nullptr, 0));
  if (r == nullptr || PQresultStatus(r.get()) != PGRES_TUPLES_OK) return Error("asking for transaction " + id + "'s outcome");
  if (PQgetisnull(r.get(), 0, 0)) return PgTransactionState::kUnknown;
  std::string s = PQgetvalue(r.get(), 0, 0);
  if (s == "committed") return PgTransactionState::kCommitted;
  if (s == "aborted") return PgTransactionState::kAborted;
  return PgTransactionState::kInProgress;
}

// The state of a registered scan. One producer thread receives the COPY stream (libpq is
// used from that thread only) and hands batches of messages to DuckDB's threads, each of
// which decodes its batch into its own output chunk: receiving, decoding and writing
// Parquet run in parallel. The queue is bounded, so memory is a few batches.
struct PgSource::Scan {
  // Rows copied out of libpq's buffers, which are freed at once on the receiving thread:
  // freeing ten million of them on DuckDB's threads made glibc shrink and regrow its heaps
  // (10% of the CPU in the kernel zeroing pages). Batches are recycled for the same reason.
  struct Batch {
    std::string data;          // the rows' messages, back to back
    std::vector<size_t> ends;  // where each message ends in `data`
    size_t size() const { return ends.size(); }
    std::string_view message(size_t i) const {
      size_t begin = i == 0 ? 0 : ends[i - 1];
      return std::string_view(data).substr(begin, ends[i] - begin);
    }
  };
  static constexpr size_t kMaxQueued = 8;

  PgSource* source = nullptr;
  std::string dataset;
  std::vector<PgColumn> columns;
  std::thread producer;
  std::mutex mu;
  std::condition_variable changed;
  std::deque<Batch> queue;
  std::vector<Batch> spare;  // consumed batches with their memory
  bool closed = false;  // the producer has finished (or failed); no more batches
  bool stop = false;    // consumers failed: the producer should give up
  Status error;
  int64_t bytes = 0;
  int64_t server_rows = -1;
  std::atomic<int64_t> rows{0};

  ~Scan() { Stop(); }

  void Start() { producer = std::thread([this] { Produce(); }); }

  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu);
      stop = true;
    }
    changed.notify_all();
    if (producer.joinable()) {
      // A producer waiting for the server is woken by cancelling the COPY.
      if (PGcancel* cancel = PQgetCancel(source->conn_)) {
        char err[256];
        bool running;
        {
          std::lock_guard<std::mutex> lock(mu);
          running = !closed;
        }
        if (running) PQcancel(cancel, err, sizeof err);
        PQfreeCancel(cancel);
      }
      producer.join();
    }
    queue.clear();
  }

  // A consumed batch, emptied, for the producer to fill again.
  void Recycle(Batch&& b) {
    b.data.clear();
    b.ends.clear();
    std::lock_guard<std::mutex> lock(mu);
    spare.push_back(std::move(b));
  }

  Batch SpareBatch() {
    std::lock_guard<std::mutex> lock(mu);
    if (spare.empty()) return Batch{};
    Batch b = std::move(spare.back());
    spare.pop_back();
    return b;
  }

  void Produce() {
    Status status = ProduceAll();
    std::lock_guard<std::mutex> lock(mu);
    if (!status.ok() && error.ok()) error = std::move(status);
    closed = true;
    changed.notify_all();
  }

  Status ProduceAll() {
    const size_t batch_rows = duckdb_vector_size();
    Batch batch = SpareBatch();
    bool first = true;
    for (;;) {
      char* buf = nullptr;
      int n = PQgetCopyData(source->conn_, &buf, 0);
      if (n == -1) break;
      if (n < 0) return source->Error("reading rows (COPY)");
      bytes += n;
      std::string_view msg(buf, static_cast<size_t>(n));
      if (first) {  // the header goes to every consumer's decoder; strip it here
        first = false;
        auto header = HeaderLength(msg);
        PgBinaryDecoder check(columns);  // signature and flags, as the consumers' decoders would
        bool appended = false;
        Status valid = header.ok() ? check.Decode(msg.substr(0, *header), nullptr, 0, &appended) : header.status();
        if (!valid.ok()) {
          PQfreemem(buf);
          return valid;
        }
        msg.remove_prefix(*header);
      }
      bool trailer = msg.size() == 2 && static_cast<unsigned char>(msg[0]) == 0xff && static_cast<unsigned char>(msg[1]) == 0xff;
      if (!msg.empty() && !trailer) {
        batch.data.append(msg);
        batch.ends.push_back(batch.data.size());
      }
      PQfreemem(buf);
      if (batch.size() == batch_rows) {
        if (!Push(std::move(batch))) return Status::OK();
        batch = SpareBatch();
      }
    }
    if (batch.size() > 0 && !Push(std::move(batch))) return Status::OK();
    PgResultPtr result(PQgetResult(source->conn_));
    if (result == nullptr || PQresultStatus(result.get()) != PGRES_COMMAND_OK) return source->Error("finishing COPY");
    server_rows = std::strtoll(PQcmdTuples(result.get()), nullptr, 10);
    while (PGresult* extra = PQgetResult(source->conn_)) PQclear(extra);
    return Status::OK();
  }

  // Waits for room; false if the consumers stopped (the batch is freed).
  bool Push(Batch&& batch) {
    std::unique_lock<std::mutex> lock(mu);
    changed.wait(lock, [&] { return stop || queue.size() < kMaxQueued; });
    if (stop) return false;
    queue.push_back(std::move(batch));
    changed.notify_all();
    return true;
  }

  // The next batch; false when the stream has ended (or failed: see error).
  bool Pop(Batch* out) {
    std::unique_lock<std::mutex> lock(mu);
    changed.wait(lock, [&] { return !queue.empty() || closed || stop; });
    if (queue.empty()) return false;
    *out = std::move(queue.front());
    queue.pop_front();
    changed.notify_all();
    return true;
  }

  void Fail(Status s) {
    std::lock_guard<std::mutex> lock(mu);
    if (error.ok()) error = std::move(s);
    stop = true;
    changed.notify_all();
  }

  Status Error() {
    std::lock_guard<std::mutex> lock(mu);
    return error;
  }

  // 11-byte signature, flags, extension length and extension.
  static Result<size_t> HeaderLength(std::string_view msg) {
    if (msg.size() < 19) return Status::Corruption("malformed binary COPY data: the header is cut short");
    auto byte = [&](size_t i) { return static_cast<uint32_t>(static_cast<unsigned char>(msg[i])); };
    uint32_t ext = byte(15) << 24 | byte(16) << 16 | byte(17) << 8 | byte(18);
    if (ext > msg.size() - 19) return Status::Corruption("malformed binary COPY data: header extension too long");
    return 19 + static_cast<size_t>(ext);
  }
};

namespace {

// What each of DuckDB's threads decodes with: a decoder that saw a plain header.
struct ScanLocal {
  std::unique_ptr<PgBinaryDecoder> decoder;
};

constexpr char kPlainHeader[19] = {'P', 'G', 'C', 'O', 'P', 'Y', '\n', '\xff', '\r', '\n', '\0', 0, 0, 0, 0, 0, 0, 0, 0};

}  // namespace

namespace {

void ScanBind(duckdb_bind_info info) {
  auto* scan = static_cast<PgSource::Scan*>(duckdb_bind_get_extra_info(info));
  for (const auto& c : scan->columns) {
    duckdb_logical_type type = duck::NewLogicalType(c.target);
    duckdb_bind_add_result_column(info, c.name.c_str(), type);
    duckdb_destroy_logical_type(&type);
  }
}

void ScanInit(duckdb_init_info info) {
  duckdb_init_set_max_threads(info, std::max(1u, std::thread::hardware_concurrency()));
}

void ScanLocalInit(duckdb_init_info info) {
  auto* scan = static_cast<PgSource::Scan*>(duckdb_init_get_extra_info(info));
  auto* local = new ScanLocal{std::make_unique<PgBinaryDecoder>(scan->columns)};
  bool appended = false;
  Status s = local->decoder->Decode(std::string_view(kPlainHeader, sizeof kPlainHeader), nullptr, 0, &appended);
  if (!s.ok()) duckdb_init_set_error(info, s.message().c_str());
  duckdb_init_set_init_data(info, local, [](void* p) { delete static_cast<ScanLocal*>(p); });
}

void ScanNext(duckdb_function_info info, duckdb_data_chunk out) {
  auto* scan = static_cast<PgSource::Scan*>(duckdb_function_get_extra_info(info));
  auto* local = static_cast<ScanLocal*>(duckdb_function_get_local_init_data(info));
  PgSource::Scan::Batch batch;
  if (!scan->Pop(&batch)) {
    Status s = scan->Error();
    if (!s.ok()) duckdb_function_set_error(info, s.message().c_str());
    duckdb_data_chunk_set_size(out, 0);
    return;
  }
  idx_t row = 0;
  Status s;
  for (size_t i = 0; i < batch.size() && s.ok(); ++i) {
    bool appended = false;
    s = local->decoder->Decode(batch.message(i), out, row, &appended);
    if (appended) ++row;
  }
  scan->Recycle(std::move(batch));
  if (!s.ok()) {
    scan->Fail(s.WithContext("dataset " + scan->dataset + ": decoding PostgreSQL rows"));
    duckdb_function_set_error(info, scan->Error().message().c_str());
    return;
  }
  scan->rows += static_cast<int64_t>(row);
  duckdb_data_chunk_set_size(out, row);
}

}  // namespace

Status PgSource::StartScan(const PgDateRange& range, duck::Connection& duck, const std::string& function) {
  PQ_ASSIGN_OR_RETURN(std::string select, RangeSql(range));
  // The result's column types decide the conversions; an impossible pair fails here.
  PgResultPtr desc(PQexec(conn_, (select + " LIMIT 0").c_str()));
  if (desc == nullptr || PQresultStatus(desc.get()) != PGRES_TUPLES_OK) return Error("reading the source's columns");
  scan_ = std::make_unique<Scan>();
  scan_->source = this;
  scan_->dataset = ds_.name;
  int i = 0;
  for (const auto& c : ds_.columns) {
    if (!c.expr.empty()) continue;
    PgColumn col{c.name, PQftype(desc.get(), i), PQfmod(desc.get(), i), c.type};
    PQ_RETURN_IF_ERROR(CheckPgColumn(col).WithContext("dataset " + ds_.name));
    scan_->columns.push_back(std::move(col));
    ++i;
  }

  duckdb_table_function tf = duckdb_create_table_function();
  duckdb_table_function_set_name(tf, function.c_str());
  duckdb_table_function_set_extra_info(tf, scan_.get(), nullptr);
  duckdb_table_function_set_bind(tf, ScanBind);
  duckdb_table_function_set_init(tf, ScanInit);
  duckdb_table_function_set_local_init(tf, ScanLocalInit);
  duckdb_table_function_set_function(tf, ScanNext);
  duckdb_state registered = duckdb_register_table_function(duck.raw(), tf);
  duckdb_destroy_table_function(&tf);
  if (registered == DuckDBError) return Status::Internal("cannot register the DuckDB table function " + function);

  PgResultPtr copy(PQexec(conn_, ("COPY (" + select + ") TO STDOUT (FORMAT binary)").c_str()));
  if (copy == nullptr || PQresultStatus(copy.get()) != PGRES_COPY_OUT) return Error("starting COPY");
  scan_->Start();
  return Status::OK();
}

Status PgSource::ScanError() const { return scan_ ? scan_->Error() : Status::OK(); }

Result<PgCopyStats> PgSource::FinishScan() {
  if (!scan_) return Status::Internal("no scan was started");
  if (scan_->producer.joinable()) scan_->producer.join();  // DuckDB saw the end: so did the producer
  PQ_RETURN_IF_ERROR(scan_->Error());
  const int64_t rows = scan_->rows.load();
  if (scan_->server_rows != rows) {
    return Status::Corruption("dataset " + ds_.name + ": PostgreSQL reported " + std::to_string(scan_->server_rows) +
                              " rows but " + std::to_string(rows) + " arrived");
  }
  return PgCopyStats{rows, scan_->bytes};
}

Result<int64_t> PgSource::DeleteRange(const PgDateRange& range) {
  std::string sql;
  if (!ds_.source.table.empty()) {
    PQ_ASSIGN_OR_RETURN(std::string from, TableRangeSql(range));
    sql = "DELETE FROM " + from;  // the extraction's FROM and WHERE
  } else if (!ds_.source.delete_sql.empty()) {
    sql = BindDates(ds_.source.delete_sql, range);
  } else {
    return Status::InvalidArgument("dataset " + ds_.name +
                                   ": --delete-after-export needs source.delete for a query source, e.g. "
                                   "delete = \"DELETE FROM pageviews WHERE date BETWEEN {from} AND {to}\"");
  }
  PgResultPtr r(PQexec(conn_, sql.c_str()));
  if (r == nullptr || PQresultStatus(r.get()) != PGRES_COMMAND_OK) return Error("deleting the exported rows");
  return std::strtoll(PQcmdTuples(r.get()), nullptr, 10);
}

Status PgSource::Commit() {
  PgResultPtr r(PQexec(conn_, "COMMIT"));
  open_transaction_ = false;
  // A transaction that failed earlier "commits" as ROLLBACK with a success status.
  if (r == nullptr || PQresultStatus(r.get()) != PGRES_COMMAND_OK || std::string(PQcmdStatus(r.get())) != "COMMIT") {
    return Error("committing");
  }
  return Status::OK();
}

}  // namespace pqflow::source
