#include "sink/exporter.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <ctime>
#include <deque>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "core/crash_point.h"
#include "core/parallel.h"
#include "core/path_template.h"
#include "core/crypto.h"
#include "duck/concurrent.h"
#include "duck/duck.h"
#include "sink/export_sql.h"
#include "sink/manifest.h"
#include "sink/publish_journal.h"
#include "sink/staged_output.h"
#include "source/pg_source.h"
#include "storage/local_dirs.h"
#include "storage/storage.h"

namespace pqflow::sink {

namespace {

using duck::QuoteIdentifier;
using duck::QuoteLiteral;

struct Layout {
  std::string split;  // "" = main layout
  PathTemplate tmpl;
};

// One output partition of one layout: the files DuckDB staged for it and where they go.
struct Partition {
  size_t layout = 0;
  PartitionValues values;
  std::vector<StagedFile> staged;
  std::vector<std::string> dest;  // final relative paths, one per staged file
  int64_t rows = 0;
  int64_t bytes = 0;
  bool rotated = false;  // already split by max_file_size when written
  std::optional<Manifest> previous;  // the partition's manifest before this run, if any
  std::string manifest_path;
  // Files of the previous version that stay: rows a committed --delete-after-export run
  // removed from PostgreSQL, which this run therefore cannot read again.
  std::vector<ManifestFile> kept;
};

std::string UtcNow(const char* fmt) {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, fmt, &tm);
  return buf;
}

// Polls DuckDB's progress for the running statement while it runs.
class ProgressPoller {
 public:
  ProgressPoller(const duck::Connection& conn, const ExportOptions& options, std::string step)
      : conn_(conn), options_(options), step_(std::move(step)) {
    if (options_.progress) thread_ = std::thread([this] { Loop(); });
  }
  ~ProgressPoller() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }

 private:
  void Loop() {
    while (!stop_) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      double p = conn_.QueryProgress();
      if (p >= 0 && !stop_) options_.progress(step_, p);
    }
  }
  const duck::Connection& conn_;
  const ExportOptions& options_;
  std::string step_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// Manifest reads and existence checks in flight at once while committing (requests on S3).
constexpr int kStorageRequestsAtOnce = 8;

class ExportRun {
 public:
  ExportRun(storage::Storage& storage, const DatasetConfig& ds, const ExportOptions& options)
      : ds_(ds), options_(options), storage_(&storage) {}

  Result<RunReport> Run() {
    auto start = std::chrono::steady_clock::now();
    report_.dataset = ds_.name;
    report_.dry_run = options_.dry_run;
    report_.storage = storage_->Describe();
    report_.run_id = UtcNow("%Y%m%dT%H%M%SZ") + "-" + std::to_string(::getpid());
    PQ_RETURN_IF_ERROR(ResolveLayouts());
    if (!postgres()) PQ_RETURN_IF_ERROR(ResolveInputs());
    PQ_ASSIGN_OR_RETURN(lock_, storage_->LockDataset(ds_.name));
    if (!options_.dry_run) {
      PQ_ASSIGN_OR_RETURN(Recovery recovery, RecoverInterruptedPublish(*storage_, ds_.name));
      report_.recovered_run = recovery.run_id;
      report_.recovered_files_deleted = static_cast<int64_t>(recovery.files_deleted);
    }
    bool work = true;
    if (postgres()) {
      PQ_ASSIGN_OR_RETURN(work, PgRangeNeedsExport());
    } else {
      PQ_RETURN_IF_ERROR(SkipExportedInputs());
      work = !inputs_.empty();
    }
    if (work) {
      PQ_ASSIGN_OR_RETURN(staging_, storage_->MakeStagingDir(ds_.name));
      Status s = Process();
      Status removed = Timed("remove staging", [&] { return storage_->RemoveStagingDir(staging_); });
      (void)removed;  // a leftover staging directory is removed by the next run
      PQ_RETURN_IF_ERROR(s);
    }
    report_.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!options_.dry_run) PQ_RETURN_IF_ERROR(WriteRunReport());
    return report_;
  }

 private:
  Status Process() {
    PQ_RETURN_IF_ERROR(Timed("open DuckDB", [&] { return OpenDuckDb(); }));
    PQ_RETURN_IF_ERROR(Timed("read and validate", [&] { return PrepareRows(); }));
    for (size_t i = 0; i < layouts_.size(); ++i) {
      Status s = Timed("write layout " + std::to_string(i), [&] { return WriteLayout(i); });
      if (!s.ok() && pg_ && !pg_->ScanError().ok()) return pg_->ScanError();  // the cause, not DuckDB's copy of it
      PQ_RETURN_IF_ERROR(s);
    }
    if (postgres() && !materialized_) PQ_RETURN_IF_ERROR(FinishPostgres());
    PQ_RETURN_IF_ERROR(Timed("collect rejects", [&] { return CollectRejects(); }));
    PQ_RETURN_IF_ERROR(CheckOnError());
    PQ_RETURN_IF_ERROR(Timed("rotate", [&] { return RotateLargeFiles(); }));
    // Everything is staged. A file source needs DuckDB no more, and its memory (the sorted
    // rows of a per-partition layout: ~550 MB for 1e6 rows in 116,629 partitions) would add
    // to the manifests' and the report's at the process's peak.
    if (!postgres()) {
      conn_.reset();
      db_.reset();
    }
    PQ_RETURN_IF_ERROR(Timed("publish", [&] { return Commit(); }));
    if (!options_.delete_after_export || options_.dry_run) return Status::OK();
    return Timed("verify and delete", [&] { return VerifyAndDelete(); });
  }

  bool postgres() const { return ds_.source.format == SourceFormat::kPostgres; }

  // PostgreSQL: one date range per run. Without --delete-after-export or --overwrite, a
  // range whose daily partitions are all complete is skipped without reading it again.
  Result<bool> PgRangeNeedsExport() {
    const auto& sel = options_.selection;
    if (sel.mode == source::DateMode::kHistorical) return Status::Internal("historical runs are split by date");
    pg_range_ = sel.mode == source::DateMode::kLatest
                    ? source::PgDateRange{CivilDate::TodayUtc().AddDays(-1), CivilDate::TodayUtc().AddDays(-1)}
                    : source::PgDateRange{sel.from, sel.to};
    if (options_.overwrite || options_.delete_after_export) return true;
    if (!DailyLayoutsOnly()) return true;
    std::vector<SkippedPartition> done;
    for (CivilDate d = pg_range_.from; d <= pg_range_.to; d = d.AddDays(1)) {
      PQ_ASSIGN_OR_RETURN(std::optional<SkippedPartition> day, CompleteDay(d));
      if (!day) return true;
      done.push_back(std::move(*day));
    }
    for (auto& d : done) RecordSkipped(std::move(d));
    return false;
  }

  // Whether a whole date can be judged complete before reading: every layout written this
  // run has one file per day and no column tokens (column values are known only after reading).
  bool DailyLayoutsOnly() const {
    return std::all_of(layouts_.begin(), layouts_.end(), [](const Layout& l) {
      return l.tmpl.ColumnNames().empty() && l.tmpl.Granularity() == PathTemplate::DateGranularity::kDay &&
             !l.tmpl.HasHourToken();
    });
  }

  // The main partition of `date` if every layout's partition of that date is complete.
  Result<std::optional<SkippedPartition>> CompleteDay(CivilDate date) {
    std::optional<SkippedPartition> main;
    for (const auto& l : layouts_) {
      PartitionValues v;
      v.date = date;
      PQ_ASSIGN_OR_RETURN(std::string path, l.tmpl.Format(v));
      Manifest m;
      if (!PartitionIsComplete(*storage_, ManifestPathFor(path), &m)) return std::optional<SkippedPartition>();
      if (l.split.empty()) main = SkippedPartition{path, m.rows, "already exists, skipping"};
    }
    return main;
  }

  void RecordSkipped(SkippedPartition skipped) {
    report_.rows_read += skipped.rows;
    report_.rows_skipped += skipped.rows;
    report_.skipped.push_back(std::move(skipped));
  }

  template <typename F>
  Status Timed(const std::string& step, F&& f) {
    auto start = std::chrono::steady_clock::now();
    Status s = f();
    if (options_.trace) options_.trace(step, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    return s;
  }

  Status ResolveLayouts() {
    PQ_ASSIGN_OR_RETURN(PathTemplate main, PathTemplate::Make(ds_.layout, ds_.name));
    layouts_.push_back({"", std::move(main)});
    for (const auto& name : options_.splits) {
      if (ds_.FindSplit(name) == nullptr) {
        std::string known;
        for (const auto& s : ds_.splits) known += (known.empty() ? "" : ", ") + s.name;
        return Status::InvalidArgument("dataset " + ds_.name + " has no split '" + name + "' (configured: " +
                                       (known.empty() ? "none" : known) + ")");
      }
    }
    for (const auto& split : ds_.splits) {
      bool wanted = split.enabled ||
                    std::find(options_.splits.begin(), options_.splits.end(), split.name) != options_.splits.end();
      if (!wanted) continue;
      PQ_ASSIGN_OR_RETURN(PathTemplate t, PathTemplate::Make(split.layout, ds_.name));
      layouts_.push_back({split.name, std::move(t)});
    }
    return Status::OK();
  }

  Status ResolveInputs() {
    PQ_ASSIGN_OR_RETURN(inputs_, source::ResolveInputs(ds_, options_.selection));
    return Status::OK();
  }

  // Seed 001's idempotency: an input whose date's partitions are all complete is not read
  // again. Only possible when the date is known from the file name, every layout has one
  // file per day, and none splits by column (column values are only known after reading).
  Status SkipExportedInputs() {
    if (options_.overwrite || !options_.selection.explicit_inputs.empty() || !DailyLayoutsOnly()) return Status::OK();
    std::vector<source::InputFile> keep;
    for (auto& in : inputs_) {
      std::optional<SkippedPartition> day;
      if (in.date) {
        PQ_ASSIGN_OR_RETURN(day, CompleteDay(*in.date));
      }
      if (day) {
        RecordSkipped(std::move(*day));
      } else {
        keep.push_back(std::move(in));
      }
    }
    inputs_ = std::move(keep);
    return Status::OK();
  }

  Status OpenDuckDb() {
    duck::DatabaseOptions opts;
    opts.threads = options_.threads;
    opts.memory_limit = options_.memory_limit;
    opts.temp_directory = staging_ + "/duckdb_tmp";
    PQ_ASSIGN_OR_RETURN(db_, duck::Database::Open(opts));
    PQ_ASSIGN_OR_RETURN(conn_, duck::Connection::Make(*db_));
    return conn_->Execute("SET TimeZone = 'UTC'");
  }

  // The validated rows. Streamed straight into the COPY for a single-layout CSV export
  // (one pass over the input); materialised in a temporary table when several layouts
  // read them or when the JSON validation needs per-record reasons.
  Status PrepareRows() {
    for (const auto& in : inputs_) {
      report_.inputs.push_back({in.path, in.size});
      report_.input_bytes += in.size;
    }
    std::string source_sql;
    if (postgres()) {
      PQ_ASSIGN_OR_RETURN(source_sql, ReadPostgres());
    } else {
      PQ_ASSIGN_OR_RETURN(source_sql, source::BuildSourceSql(ds_, inputs_));
    }
    std::vector<PathTemplate> templates;
    for (const auto& l : layouts_) templates.push_back(l.tmpl);
    source::InputSelection row_filter = options_.selection;
    if (postgres()) {  // rows a query returns outside the asked dates are not exported
      row_filter = {{"postgres"}, source::DateMode::kRange, pg_range_.from, pg_range_.to};
    }
    std::string rows = RowsSql(ds_, source_sql, templates, row_filter);
    materialized_ = postgres() ? PgMaterialized()
                               : layouts_.size() > 1 || ds_.source.format != SourceFormat::kCsv ||
                                     std::any_of(layouts_.begin(), layouts_.end(), [&](const Layout& l) { return PerPartition(l); });
    if (!materialized_) {
      rows_relation_ = "(" + rows + ")";
      return Status::OK();
    }
    ProgressPoller poll(*conn_, options_, "reading");
    // PostgreSQL rows already sit in a DuckDB table: a view over it saves a second copy.
    std::string kind = postgres() ? "VIEW" : "TABLE";
    PQ_RETURN_IF_ERROR(conn_->Execute("CREATE TEMP " + kind + " __pq_rows AS " + rows).WithContext(InputContext()));
    rows_relation_ = "__pq_rows";
    return Status::OK();
  }

  // PostgreSQL rows come from a DuckDB table function that decodes the COPY stream as DuckDB
  // pulls it. A single plain layout streams it straight into the partitioned COPY; several
  // layouts, per-partition writing and --delete-after-export (whose check needs what was
  // read) keep the rows in a table, spilled to the staging directory beyond the memory limit.
  Result<std::string> ReadPostgres() {
    PQ_ASSIGN_OR_RETURN(pg_, source::PgSource::Open(ds_, options_.delete_after_export));
    if (options_.delete_after_export) {
      PQ_ASSIGN_OR_RETURN(pg_txid_, pg_->TransactionId());
    }
    PQ_RETURN_IF_ERROR(pg_->StartScan(pg_range_, *conn_, "__pq_pg_scan"));
    std::string cols;
    for (const auto& c : ds_.columns) {
      if (!c.expr.empty()) continue;
      cols += "CAST(" + QuoteIdentifier(c.name) + " AS " + c.type.DuckDbType() + ") AS " + QuoteIdentifier(c.name) + ", ";
    }
    std::string bookkeeping = "NULL::VARCHAR AS __pq_file, NULL::BIGINT AS __pq_line, NULL::VARCHAR AS __pq_reason, "
                              "NULL::VARCHAR AS __pq_raw";
    if (!PgMaterialized()) return "SELECT " + cols + bookkeeping + " FROM __pq_pg_scan()";
    {
      ProgressPoller poll(*conn_, options_, "reading");
      Status s = conn_->Execute("CREATE TEMP TABLE __pq_pg AS SELECT " + cols.substr(0, cols.size() - 2) +
                                " FROM __pq_pg_scan()");
      if (!s.ok()) return pg_->ScanError().ok() ? s : pg_->ScanError();
    }
    PQ_RETURN_IF_ERROR(FinishPostgres());
    return "SELECT *, " + bookkeeping + " FROM __pq_pg";
  }

  bool PgMaterialized() const {
    return options_.delete_after_export || layouts_.size() > 1 ||
           std::any_of(layouts_.begin(), layouts_.end(), [&](const Layout& l) { return PerPartition(l); });
  }

  // The scan read everything PostgreSQL sent, by its own count.
  Status FinishPostgres() {
    PQ_ASSIGN_OR_RETURN(source::PgCopyStats copied, pg_->FinishScan());
    pg_rows_ = copied.rows;
    report_.inputs.push_back({pg_->Describe(), copied.bytes});
    report_.input_bytes += copied.bytes;
    return Status::OK();
  }

  // --delete-after-export: the published files are read back and must hold exactly the rows
  // PostgreSQL sent (count and an order-independent checksum); only then are the same rows
  // deleted in the transaction that read them. Any failure rolls back: nothing is deleted,
  // and the files' transaction id tells the next run that their rows are still in the source.
  Status VerifyAndDelete() {
    auto refuse = [&](const std::string& why) {
      return Status::FailedPrecondition("export " + ds_.name + ": not deleting from PostgreSQL: " + why +
                                        "; the rows stay in the source and the next run exports them again");
    };
    if (report_.rows_rejected > 0 || report_.rows_outside_dates > 0 || report_.rows_written != pg_rows_) {
      return refuse(std::to_string(pg_rows_) + " rows read but " + std::to_string(report_.rows_written) + " written (" +
                    std::to_string(report_.rows_rejected) + " rejected, " + std::to_string(report_.rows_outside_dates) +
                    " outside the dates)");
    }
    std::vector<storage::FileInfo> published;
    for (const auto& f : report_.files) {
      if (f.split.empty()) published.push_back({f.path, f.bytes, 0, ""});
    }
    // Read back from where they were published (on S3: downloaded again, not the staged copies).
    PQ_ASSIGN_OR_RETURN(storage::ReadableFiles readable, storage_->OpenForReading(published));
    std::string files, cols;
    for (const auto& path : readable.local_paths) files += (files.empty() ? "" : ", ") + QuoteLiteral(path);
    for (const ColumnSpec* c : ds_.FileColumns()) {
      if (c->expr.empty()) cols += (cols.empty() ? "" : ", ") + ("CAST(" + QuoteIdentifier(c->name) + " AS VARCHAR)");
    }
    std::string checksum = "SELECT count(*), CAST(coalesce(sum(hash(" + cols + ")), 0) AS VARCHAR) FROM ";
    PQ_ASSIGN_OR_RETURN(duck::QueryResult read, conn_->Query(checksum + "__pq_pg"));
    std::string written_sql = files.empty() ? checksum + "__pq_pg WHERE false" : checksum + "read_parquet([" + files + "])";
    PQ_ASSIGN_OR_RETURN(duck::QueryResult written, conn_->Query(written_sql));
    if (read.GetInt64(0, 0) != written.GetInt64(0, 0) || read.Get(0, 1) != written.Get(0, 1)) {
      return refuse("the files re-read hold " + std::to_string(written.GetInt64(0, 0)) + " rows (checksum " +
                    written.GetOr(0, 1, "") + "), PostgreSQL sent " + std::to_string(read.GetInt64(0, 0)) +
                    " (checksum " + read.GetOr(0, 1, "") + ")");
    }
    PQ_ASSIGN_OR_RETURN(int64_t deleted, pg_->DeleteRange(pg_range_));
    if (deleted != pg_rows_) {
      return refuse("the DELETE matched " + std::to_string(deleted) + " rows, not the " + std::to_string(pg_rows_) +
                    " exported (rolled back)");
    }
    PQ_RETURN_IF_ERROR(pg_->Commit().WithContext("export " + ds_.name));
    report_.rows_deleted = deleted;
    return Status::OK();
  }

  std::string InputContext() const {
    std::string what = "converting " + std::to_string(inputs_.size()) + " input file" + (inputs_.size() == 1 ? "" : "s");
    if (inputs_.size() == 1) what = "converting " + inputs_[0].path;
    return "export " + ds_.name + ": " + what;
  }

  // Layouts split by column values can have hundreds of thousands of partitions, and a
  // sort order must hold inside each file: both are written one COPY per partition, from a
  // table sorted by partition, on several connections. Memory stays bounded (DuckDB's
  // partitioned COPY keeps a writer per partition) and every partition is exactly one file.
  bool PerPartition(const Layout& l) const { return !l.tmpl.ColumnNames().empty() || !ds_.sort_by.empty(); }

  Status WriteLayoutPerPartition(size_t index) {
    const Layout& layout = layouts_[index];
    std::string table = "__pq_layout" + std::to_string(index);
    std::string dir = staging_ + "/layout" + std::to_string(index);
    {
      ProgressPoller poll(*conn_, options_, "sorting");
      for (const auto& sql : PartitionTableSql(ds_, layout.tmpl, rows_relation_, table)) {
        PQ_RETURN_IF_ERROR(conn_->Execute(sql).WithContext("export " + ds_.name + ": sorting rows by partition"));
      }
    }
    PQ_ASSIGN_OR_RETURN(duck::QueryResult parts, conn_->Query(PartitionListSql(layout.tmpl, table)));
    std::vector<PartitionValues> values;
    int64_t total_rows = 0;
    for (size_t r = 0; r < parts.row_count(); ++r) {
      PQ_ASSIGN_OR_RETURN(PartitionValues v, ValuesFromList(layout.tmpl, parts, r));
      values.push_back(std::move(v));
      total_rows += parts.GetInt64(r, 1);
    }
    int workers = options_.threads > 0 ? options_.threads : static_cast<int>(std::thread::hardware_concurrency());
    workers = std::max(1, workers);
    std::vector<PartitionBatch> batches = BatchPartitions(parts, total_rows, workers);
    std::vector<std::string> statements;
    for (size_t b = 0; b < batches.size(); ++b) {
      PartitionBatch& batch = batches[b];
      int64_t first = parts.GetInt64(batch.first, 0), last = parts.GetInt64(batch.last, 0);
      if (batch.first == batch.last) {
        batch.target = dir + "/p" + std::to_string(first) + (ds_.max_file_size > 0 ? "" : ".parquet.tmp");
        statements.push_back(PartitionCopySql(ds_, table, first, batch.target));
      } else {
        batch.target = dir + "/b" + std::to_string(b);
        statements.push_back(PartitionRangeCopySql(ds_, table, first, last, batch.target));
      }
    }
    std::filesystem::create_directories(dir);
    std::string step = layout.split.empty() ? "writing" : "writing split " + layout.split;
    size_t total = statements.size();
    // Each COPY is too small for a second thread to help; one thread per connection
    // spares DuckDB's scheduler the hand-offs (measured: 1.2 ms instead of 1.7 ms a file).
    PQ_RETURN_IF_ERROR(conn_->Execute("SET threads = 1"));
    auto results = duck::RunConcurrently(*db_, statements, workers, [&](size_t done) {
      if (options_.progress && done % 16 == 0) options_.progress(step, 100.0 * done / total);
    });
    PQ_RETURN_IF_ERROR(conn_->Execute("SET threads = " + std::to_string(workers)));
    if (!results.ok()) return results.status().WithContext("export " + ds_.name + ": writing Parquet");
    for (size_t b = 0; b < batches.size(); ++b) {
      const PartitionBatch& batch = batches[b];
      if (batch.first == batch.last) continue;
      int64_t expected = 0;
      for (size_t r = batch.first; r <= batch.last; ++r) expected += parts.GetInt64(r, 1);
      if (int64_t wrote = (*results)[b].GetInt64(0, 0); wrote != expected) {
        return Status::Internal("export " + ds_.name + ": DuckDB wrote " + std::to_string(wrote) + " rows into " +
                                batch.target + ", expected " + std::to_string(expected));
      }
    }
    // Each staged file's size: one stat per file, on several threads (200,000 partitions
    // took 5 s on one thread on ext4, listing every folder).
    std::vector<std::vector<StagedFile>> files(parts.row_count());
    PQ_RETURN_IF_ERROR(Timed(" write: size staged files", [&] {
      return ParallelFor(batches.size(), FileWorkers(),
                         [&](size_t b) { return SizeStagedFiles(batches[b], parts, (*results)[b], &files); });
    }));
    for (size_t r = 0; r < files.size(); ++r) {
      SortByFileNumber(&files[r]);
      for (auto& f : files[r]) PQ_RETURN_IF_ERROR(AddStaged(index, values[r], std::move(f), /*rotated=*/true));
    }
    if (index == 0) {
      PQ_ASSIGN_OR_RETURN(duck::QueryResult out,
                          conn_->Query("SELECT count(*) FROM " + rows_relation_ + " WHERE __pq_state = 'out'"));
      report_.rows_outside_dates += out.GetInt64(0, 0);
    }
    PQ_RETURN_IF_ERROR(conn_->Execute("DROP TABLE " + table));
    return conn_->Execute("DROP TABLE " + table + "_parts");
  }

  // Partition values from a PartitionListSql row: pid, rows, date?, hour?, columns...
  static Result<PartitionValues> ValuesFromList(const PathTemplate& layout, const duck::QueryResult& parts, size_t r) {
    PartitionValues v;
    size_t col = 2;
    if (layout.HasDateTokens()) {
      PQ_ASSIGN_OR_RETURN(CivilDate d, CivilDate::Parse(parts.GetOr(r, col++, "")));
      v.date = d;
    }
    if (layout.HasHourToken()) v.hour = static_cast<int>(parts.GetInt64(r, col++));
    for (const auto& name : layout.ColumnNames()) v.columns[name] = parts.Get(r, col++);
    return v;
  }

  // Consecutive partitions (rows of a PartitionListSql result) written by one COPY.
  struct PartitionBatch {
    size_t first = 0, last = 0;
    std::string target;  // the file (one partition) or the folder of the partitions' folders
  };

  // Small partitions are written many to a COPY: DuckDB's fixed cost per COPY statement
  // (about 1 ms on this project's benchmark machine) is three times its cost per file
  // inside one partitioned COPY (0.3 ms), and 100,000 partitions are common with {column}
  // layouts. Batches are also bounded in rows so that a few large partitions still spread
  // over every connection. A COPY per partition remains for datasets that rotate by size
  // (DuckDB names and counts those files itself) and for sort orders: a partitioned COPY
  // does not keep the order of its input inside a file (DuckDB 1.4.4 appends a large slice
  // of a partition before the rows it buffered for it; caught by SortByOrdersRowsInsideEveryFile).
  std::vector<PartitionBatch> BatchPartitions(const duck::QueryResult& parts, int64_t total_rows, int workers) const {
    const int64_t max_rows = std::max<int64_t>(100'000, total_rows / (4 * int64_t{workers}));
    std::vector<PartitionBatch> batches;
    int64_t rows = 0;
    for (size_t r = 0; r < parts.row_count(); ++r) {
      int64_t n = parts.GetInt64(r, 1);
      bool fits = !batches.empty() && ds_.max_file_size == 0 && ds_.sort_by.empty() &&
                  static_cast<int64_t>(r - batches.back().first) < kPartitionsPerRangeCopy && rows + n <= max_rows;
      if (fits) {
        batches.back().last = r;
        rows += n;
      } else {
        batches.push_back(PartitionBatch{r, r, ""});
        rows = n;
      }
    }
    return batches;
  }

  Result<int64_t> StagedFileSize(const std::string& path) const {
    std::error_code ec;
    auto bytes = std::filesystem::file_size(path, ec);
    if (ec) return Status::IOError("export " + ds_.name + ": staged file " + path + ": " + ec.message());
    return static_cast<int64_t>(bytes);
  }

  // The files one COPY of `batch` staged, with their sizes, into files[r] per partition row r.
  Status SizeStagedFiles(const PartitionBatch& batch, const duck::QueryResult& parts, const duck::QueryResult& stats,
                         std::vector<std::vector<StagedFile>>* files) const {
    for (size_t r = batch.first; r <= batch.last; ++r) {
      std::vector<StagedFile>& out = (*files)[r];
      if (batch.first != batch.last) {
        PQ_ASSIGN_OR_RETURN(StagedFile f, RangeFolderFile(batch.target, parts.GetInt64(r, 0), parts.GetInt64(r, 1)));
        out.push_back(std::move(f));
      } else if (ds_.max_file_size > 0) {
        for (size_t f = 0; f < stats.row_count(); ++f) {
          out.push_back(StagedFile{stats.GetOr(f, 0, ""), stats.GetInt64(f, 1), stats.GetInt64(f, 2), {}, false, ""});
        }
      } else {
        PQ_ASSIGN_OR_RETURN(int64_t bytes, StagedFileSize(batch.target));
        out.push_back(StagedFile{batch.target, stats.GetInt64(0, 0), bytes, {}, false, ""});
      }
    }
    return Status::OK();
  }

  // The one file a partitioned COPY wrote for partition `pid`, holding all its `rows`:
  // batches never exceed DuckDB's open-file limit, so no file is closed and continued in a
  // second one, and a second file is an error here rather than rows left unpublished.
  Result<StagedFile> RangeFolderFile(const std::string& dir, int64_t pid, int64_t rows) const {
    const std::string path = PartitionRangeFile(dir, pid, 0);
    std::error_code ec;
    const auto bytes = std::filesystem::file_size(path, ec);
    if (ec) return Status::Internal("export " + ds_.name + ": expected DuckDB to have written " + path + ": " + ec.message());
    const std::string second = PartitionRangeFile(dir, pid, 1);
    if (std::filesystem::exists(second, ec) || ec) {
      return Status::Internal("export " + ds_.name + ": expected DuckDB to write one file into " +
                              PartitionRangeFolder(dir, pid) + ", found " + second + (ec ? " (" + ec.message() + ")" : ""));
    }
    return StagedFile{path, rows, static_cast<int64_t>(bytes), {}, /*own_folder=*/true, ""};
  }

  // data_2 before data_10: order by the number DuckDB put in the name.
  static void SortByFileNumber(std::vector<StagedFile>* files) {
    std::sort(files->begin(), files->end(), [](const StagedFile& a, const StagedFile& b) {
      return a.local_path.size() != b.local_path.size() ? a.local_path.size() < b.local_path.size()
                                                         : a.local_path < b.local_path;
    });
  }

  Status WriteLayout(size_t index) {
    const Layout& layout = layouts_[index];
    if (PerPartition(layout)) return WriteLayoutPerPartition(index);
    CopyTarget target;
    target.relation = rows_relation_;
    target.staging_dir = staging_ + "/layout" + std::to_string(index);
    target.keep_bad_rows = !materialized_;
    // Every partition key costs DuckDB a Value per row; a stream has no input files to name.
    target.bad_rows_by_file = !postgres();
    if (materialized_) target.where = "__pq_state <> 'bad'";
    std::string sql = LayoutCopySql(ds_, layout.tmpl, target);
    ProgressPoller poll(*conn_, options_, layout.split.empty() ? "writing" : "writing split " + layout.split);
    auto stats = conn_->Query(sql);
    if (!stats.ok()) return stats.status().WithContext(materialized_ ? "export " + ds_.name + ": writing Parquet" : InputContext());
    int fn = stats->ColumnIndex("filename"), cnt = stats->ColumnIndex("count"), sz = stats->ColumnIndex("file_size_bytes");
    for (size_t r = 0; r < stats->row_count(); ++r) {
      PQ_ASSIGN_OR_RETURN(StagedFile f, ParseStagedFile(target.staging_dir, stats->GetOr(r, fn, ""),
                                                        stats->GetInt64(r, cnt), stats->GetInt64(r, sz)));
      PQ_RETURN_IF_ERROR(Route(index, std::move(f)));
    }
    return Status::OK();
  }

  // Sends a staged file to its partition, or to the rejected / outside-dates tallies.
  Status Route(size_t index, StagedFile f) {
    StateAndDate key;
    if (auto it = f.keys.find(kStateDateKey); it != f.keys.end()) {
      PQ_ASSIGN_OR_RETURN(key, DecodeStateDate(it->second.value_or("")));
    } else {
      key.state = std::stoi(f.keys[kStateKey].value_or("0"));
    }
    bool main = index == 0;
    if (key.state == 1) {
      if (main) bad_files_.push_back(f);
      return Status::OK();
    }
    if (key.state == 2) {
      if (main) report_.rows_outside_dates += f.rows;
      return Status::OK();
    }
    PartitionValues v;
    v.date = key.date;
    if (auto it = f.keys.find(kHourKey); it != f.keys.end() && it->second) v.hour = std::stoi(*it->second);
    for (const auto& col : layouts_[index].tmpl.ColumnNames()) v.columns[col] = f.keys[ColumnKey(col)];
    return AddStaged(index, v, std::move(f), /*rotated=*/false);
  }

  Status AddStaged(size_t index, const PartitionValues& v, StagedFile f, bool rotated) {
    PQ_ASSIGN_OR_RETURN(std::string path, layouts_[index].tmpl.Format(v));
    auto [it, inserted] = partition_index_.emplace(std::make_pair(index, path), partitions_.size());
    if (inserted) partitions_.push_back(Partition{index, v, {}, {}, 0, 0, rotated, std::nullopt, "", {}});
    Partition& p = partitions_[it->second];
    p.rows += f.rows;
    p.bytes += f.bytes;
    p.staged.push_back(std::move(f));
    return Status::OK();
  }

  Status CollectRejects() {
    if (ds_.source.format == SourceFormat::kCsv) PQ_RETURN_IF_ERROR(CollectCsvReaderRejects());
    std::string sql;
    if (materialized_) {
      sql = "SELECT __pq_file, __pq_line, __pq_reason, COALESCE(__pq_raw, " + RecordJsonSql(ds_, "t.") +
            ") FROM __pq_rows t WHERE __pq_state = 'bad' ORDER BY __pq_file, __pq_line";
    } else {
      for (const auto& f : bad_files_) {
        if (!sql.empty()) sql += " UNION ALL ";
        auto file = f.keys.find(kFileKey);
        std::string name = file != f.keys.end() ? file->second.value_or("") : pg_ ? pg_->Describe() : "";
        sql += "SELECT " + QuoteLiteral(name) + ", NULL::BIGINT, " + NullReasonSql(ds_, "t.") + ", " +
               RecordJsonSql(ds_, "t.") + " FROM read_parquet(" + QuoteLiteral(f.local_path) +
               ", hive_partitioning = false) t";
      }
    }
    if (sql.empty()) return Status::OK();
    PQ_ASSIGN_OR_RETURN(duck::QueryResult rows, conn_->Query(sql));
    for (size_t r = 0; r < rows.row_count(); ++r) {
      RejectedRow row{rows.GetOr(r, 0, ""), rows.GetInt64(r, 1), "", rows.GetOr(r, 2, "invalid row"), rows.GetOr(r, 3, "")};
      size_t colon = row.reason.find(':');
      if (row.reason.rfind("column ", 0) == 0 && colon != std::string::npos) row.column = row.reason.substr(7, colon - 7);
      report_.rejects.push_back(std::move(row));
    }
    report_.rows_rejected += static_cast<int64_t>(rows.row_count());
    report_.rows_read += static_cast<int64_t>(rows.row_count());
    if (ds_.source.format == SourceFormat::kCsv) PQ_RETURN_IF_ERROR(NumberCsvRejects());
    return Status::OK();
  }

  // DuckDB's CSV reader does not number the rows it returns, so a row that parses but breaks
  // a NOT NULL rule has no line yet. Each file with such rows (only those, and only then) is
  // read again in order on one thread: its n-th row is the n-th record the reader did not
  // reject, and the file's record boundaries give that record's line. Rows are matched by
  // their record text; identical rows take the lines of their copies in order.
  Status NumberCsvRejects() {
    std::map<std::string, std::vector<RejectedRow*>> unnumbered;
    for (auto& r : report_.rejects) {
      if (r.line <= 0) unnumbered[r.file].push_back(&r);
    }
    std::vector<PathTemplate> templates;
    for (const auto& l : layouts_) templates.push_back(l.tmpl);
    for (auto& [file, rows] : unnumbered) {
      auto input = std::find_if(inputs_.begin(), inputs_.end(), [&](const source::InputFile& in) { return in.path == file; });
      if (input == inputs_.end()) continue;
      std::set<int64_t> reader_rejected;
      for (const auto& r : report_.rejects) {
        if (r.file == file && r.line > 0) reader_rejected.insert(r.line);
      }
      PQ_ASSIGN_OR_RETURN(std::vector<int64_t> records, source::CsvRecordLines(file, ds_.source));
      std::vector<int64_t> returned;  // lines of the records the reader returned, in order
      for (int64_t line : records) {
        if (reader_rejected.count(line) == 0) returned.push_back(line);
      }
      const std::string rows_sql = RowsSql(ds_, source::CsvSourceSqlInOrder(ds_, *input), templates, options_.selection);
      PQ_ASSIGN_OR_RETURN(duck::QueryResult bad,
                          conn_->Query("SELECT __pq_ord, " + RecordJsonSql(ds_, "") +
                                       " FROM (SELECT row_number() OVER () AS __pq_ord, * FROM (" + rows_sql +
                                       ")) WHERE __pq_state = 'bad' ORDER BY __pq_ord"));
      std::map<std::string, std::deque<int64_t>> lines_by_record;
      for (size_t r = 0; r < bad.row_count(); ++r) {
        const int64_t ord = bad.GetInt64(r, 0);
        if (ord >= 1 && ord <= static_cast<int64_t>(returned.size())) {
          lines_by_record[bad.GetOr(r, 1, "")].push_back(returned[static_cast<size_t>(ord - 1)]);
        }
      }
      for (RejectedRow* row : rows) {
        auto it = lines_by_record.find(row->record);
        if (it == lines_by_record.end() || it->second.empty()) continue;
        row->line = it->second.front();
        it->second.pop_front();
      }
    }
    std::stable_sort(report_.rejects.begin(), report_.rejects.end(), [](const RejectedRow& a, const RejectedRow& b) {
      return a.file != b.file ? a.file < b.file : a.line < b.line;
    });
    return Status::OK();
  }

  // Lines DuckDB's CSV reader could not parse or convert, one rejected row per line.
  Status CollectCsvReaderRejects() {
    std::string sql = std::string("SELECT s.file_path, e.line, e.column_name, e.error_message, e.csv_line FROM ") +
                      source::kCsvRejectsTable + " e JOIN " + source::kCsvRejectScansTable +
                      " s USING (scan_id, file_id) ORDER BY s.file_path, e.line";
    auto rows = conn_->Query(sql);
    if (!rows.ok()) return Status::OK();  // the reader found nothing to reject: no table
    int64_t prev_line = -1;
    std::string prev_file;
    for (size_t r = 0; r < rows->row_count(); ++r) {
      RejectedRow row{rows->GetOr(r, 0, ""), rows->GetInt64(r, 1), rows->GetOr(r, 2, ""), rows->GetOr(r, 3, ""),
                      rows->GetOr(r, 4, "")};
      if (!row.column.empty()) row.reason = "column " + row.column + ": " + row.reason;
      bool same_row = row.file == prev_file && row.line == prev_line;
      prev_file = row.file;
      prev_line = row.line;
      if (same_row) {
        report_.rejects.back().reason += "; " + row.reason;
        continue;
      }
      report_.rejects.push_back(std::move(row));
      ++report_.rows_rejected;
      ++report_.rows_read;
    }
    return Status::OK();
  }

  Status CheckOnError() {
    if (options_.on_error != OnError::kFail || report_.rejects.empty()) return Status::OK();
    const RejectedRow& r = report_.rejects.front();
    return Status::InvalidArgument("export " + ds_.name + ": " + std::to_string(report_.rejects.size()) +
                                   " row(s) rejected and --on-error=fail; first: " + r.file +
                                   (r.line > 0 ? ":" + std::to_string(r.line) : "") + ": " + r.reason +
                                   "; nothing was written");
  }

  // DuckDB cannot cap file sizes inside a partitioned COPY, so partitions over
  // max_file_size are re-split here, each part below the limit (approximately: DuckDB
  // checks the size between row groups).
  Status RotateLargeFiles() {
    if (ds_.max_file_size <= 0) return Status::OK();
    int n = 0;
    for (auto& p : partitions_) {
      if (p.rotated) continue;
      std::vector<StagedFile> out;
      for (auto& f : p.staged) {
        if (f.bytes <= ds_.max_file_size) {
          out.push_back(std::move(f));
          continue;
        }
        std::string dir = staging_ + "/rotate" + std::to_string(n++);
        std::string sql = "COPY (SELECT * FROM read_parquet(" + QuoteLiteral(f.local_path) + ")) TO " + QuoteLiteral(dir) +
                          " (" + ParquetOptions(ds_) + ", FILE_SIZE_BYTES " + std::to_string(ds_.max_file_size) +
                          ", RETURN_STATS, FILE_EXTENSION 'parquet.tmp')";
        PQ_ASSIGN_OR_RETURN(duck::QueryResult stats, conn_->Query(sql));
        std::vector<StagedFile> parts;
        for (size_t r = 0; r < stats.row_count(); ++r) {
          parts.push_back(StagedFile{stats.GetOr(r, 0, ""), stats.GetInt64(r, 1), stats.GetInt64(r, 2), {}, false, ""});
        }
        SortByFileNumber(&parts);
        for (auto& part : parts) out.push_back(std::move(part));
      }
      p.staged = std::move(out);
    }
    return Status::OK();
  }

  Status Commit() {
    // Every partition's previous manifest, and whether its files are all there, first and
    // concurrently: on S3 each is a request or more (one at a time, 1,530 partitions took
    // 1.5-2.3 s against a local server; against a region it would be tens of seconds).
    const bool may_skip = !options_.overwrite && !options_.delete_after_export;
    std::vector<std::string> paths(partitions_.size());
    std::vector<char> complete(partitions_.size(), 0);
    // A layout whose fixed folder does not exist yet has no manifest to read (a first export
    // of 200,000 partitions spent 0.6 s failing to open each).
    std::vector<char> layout_is_new(layouts_.size(), 0);
    for (size_t l = 0; l < layouts_.size(); ++l) {
      layout_is_new[l] = storage_->HoldsNothingUnder(layouts_[l].tmpl.StaticDirectory());
    }
    PQ_RETURN_IF_ERROR(Timed(" publish: read old manifests", [&] {
      return ParallelFor(partitions_.size(), kStorageRequestsAtOnce, [&](size_t i) -> Status {
        Partition& p = partitions_[i];
        PQ_ASSIGN_OR_RETURN(paths[i], layouts_[p.layout].tmpl.Format(p.values));
        p.manifest_path = ManifestPathFor(paths[i]);
        if (layout_is_new[p.layout]) return Status::OK();
        if (auto old = ReadManifest(*storage_, p.manifest_path); old.ok()) {
          p.previous = std::move(old).value();
        } else if (old.status().code() != StatusCode::kNotFound) {
          // Not "no previous version": rewriting the partition could leave its old files
          // beside the new ones, or (--delete-after-export) drop the rows it kept.
          return old.status().WithContext("export " + ds_.name + ": the manifest of partition " + paths[i] +
                                          " cannot be read; repair or remove it, then export again");
        }
        complete[i] = may_skip && p.previous && FilesMatch(*storage_, *p.previous);
        return Status::OK();
      });
    }));
    std::vector<Partition*> to_publish;
    std::vector<std::string> staged_paths;
    for (size_t pi = 0; pi < partitions_.size(); ++pi) {
      Partition& p = partitions_[pi];
      const std::string& path = paths[pi];
      bool main = p.layout == 0;
      if (main) report_.rows_read += p.rows;
      if (postgres() && p.previous) PQ_RETURN_IF_ERROR(KeepDeletedRows(&p));
      if (complete[pi]) {
        if (main) {
          report_.rows_skipped += p.rows;
          report_.skipped.push_back({p.previous->files.empty() ? path : p.previous->files[0].path, p.rows,
                                     "already exists, skipping"});
        }
        continue;
      }
      NameFiles(path, &p);
      for (size_t i = 0; i < p.staged.size(); ++i) {
        report_.files.push_back({p.dest[i], layouts_[p.layout].split, p.staged[i].rows, p.staged[i].bytes, options_.dry_run});
        (main ? report_.bytes_written : report_.split_bytes_written) += p.staged[i].bytes;
        staged_paths.push_back(p.staged[i].local_path);
      }
      if (main) report_.rows_written += p.rows;
      to_publish.push_back(&p);
    }
    if (options_.dry_run || to_publish.empty()) return Status::OK();
    // Data files first, manifests last: a partition without its manifest is not complete,
    // and a re-run redoes it. A new partition whose file has a staging folder of its own
    // gets its manifest in that folder, and both move into place with the folder's one
    // rename: no second pass creating, syncing and renaming 200,000 manifests.
    std::vector<std::string> staged_manifests(to_publish.size());  // local paths, or ""
    PQ_RETURN_IF_ERROR(Timed(" publish: hash files", [&] {
      return ParallelFor(to_publish.size(), FileWorkers(),
                         [&](size_t i) { return HashFiles(to_publish[i], &staged_manifests[i]); });
    }));
    std::vector<Partition*> manifests_to_write;
    for (size_t i = 0; i < to_publish.size(); ++i) {
      if (staged_manifests[i].empty()) {
        manifests_to_write.push_back(to_publish[i]);
      } else {
        staged_paths.push_back(staged_manifests[i]);
      }
    }
    PQ_RETURN_IF_ERROR(Timed(" publish: sync staged files", [&] {
      return storage_->SyncStaged(staged_paths).WithContext("export " + ds_.name + ": syncing staged files");
    }));
    std::vector<storage::StagedMove> moves;
    std::vector<std::string> superseded;
    std::vector<JournalPartition> journal;
    for (size_t pi = 0; pi < to_publish.size(); ++pi) {
      const Partition* p = to_publish[pi];
      for (size_t i = 0; i < p->staged.size(); ++i) {
        moves.push_back({.local_path = p->staged[i].local_path, .dest = p->dest[i], .own_folder = p->staged[i].own_folder});
      }
      if (!staged_manifests[pi].empty()) {
        moves.back().companion_local_path = staged_manifests[pi];
        moves.back().companion_dest = p->manifest_path;
      }
      journal.push_back({p->manifest_path, p->dest});
      if (!p->previous) continue;
      // Files of the previous version that the new one does not replace go after the new
      // manifest is in place.
      for (const auto& f : p->previous->files) {
        bool kept = std::any_of(p->kept.begin(), p->kept.end(), [&](const ManifestFile& k) { return k.path == f.path; });
        if (!kept && std::find(p->dest.begin(), p->dest.end(), f.path) == p->dest.end()) {
          superseded.push_back(f.path);
          journal.back().files.push_back(f.path);
        }
      }
    }
    PQ_RETURN_IF_ERROR(WriteJournal(*storage_, ds_.name, report_.run_id, journal).WithContext("export " + ds_.name));
    Status s = Timed(" publish: move files", [&] { return storage_->PublishAll(moves).WithContext("export " + ds_.name); });
    if (s.ok()) s = Timed(" publish: sync moves", [&] { return storage_->SyncPublished().WithContext("export " + ds_.name); });
    CrashPoint("export.files_moved");
    if (s.ok()) s = Timed(" publish: write manifests", [&] { return WriteManifests(manifests_to_write); });
    if (!s.ok()) {
      // A failed run (a full disk, a dead S3 endpoint) leaves each partition whole: the new
      // files of partitions whose manifest was not switched are taken back, the old files of
      // those that were are deleted, exactly as the next run would from the journal. If
      // that fails too, the journal stays for the next run.
      (void)RecoverInterruptedPublish(*storage_, ds_.name);
      return s;
    }
    CrashPoint("export.manifests_written");
    for (const auto& path : superseded) PQ_RETURN_IF_ERROR(storage_->Delete(path));
    return RemoveJournal(*storage_, ds_.name).WithContext("export " + ds_.name);
  }

  // A partition that a committed --delete-after-export run wrote holds rows that are no
  // longer in PostgreSQL: they are kept, and this run's rows (late arrivals) are added as
  // new files. Files of runs whose transaction did not commit are replaced: their rows are
  // still in the source and were read again.
  Status KeepDeletedRows(Partition* p) {
    for (const auto& f : p->previous->files) {
      if (!f.source_txid) continue;
      PQ_ASSIGN_OR_RETURN(source::PgTransactionState state, TransactionState(*f.source_txid));
      if (state == source::PgTransactionState::kInProgress) {
        return Status::FailedPrecondition("export " + ds_.name + ": " + f.path + " was written by PostgreSQL transaction " +
                                          std::to_string(*f.source_txid) + ", which is still running; try again later");
      }
      if (state == source::PgTransactionState::kAborted) {
        PQ_ASSIGN_OR_RETURN(bool deleted_later, DeletedByLaterRun(*p, *f.source_txid));
        if (deleted_later) p->kept.push_back(f);
      }
      if (state == source::PgTransactionState::kCommitted) p->kept.push_back(f);
      if (state == source::PgTransactionState::kUnknown) {
        return Status::FailedPrecondition("export " + ds_.name + ": cannot tell whether PostgreSQL transaction " +
                                          std::to_string(*f.source_txid) + " (which wrote " + f.path +
                                          ") committed; check the source and remove or keep that partition by hand");
      }
    }
    if (!p->kept.empty() && !options_.delete_after_export) {
      return Status::FailedPrecondition(
          "export " + ds_.name + ": " + p->kept.front().path +
          " holds rows already deleted from PostgreSQL; replacing it would lose them. Run with --delete-after-export "
          "to add the rows the source still has");
    }
    return Status::OK();
  }

  // A split file whose run did not commit still holds rows that are gone from the source if
  // a later run that did commit exported the same day without writing that split. The main
  // layout, which every run writes, records such a run.
  Result<bool> DeletedByLaterRun(const Partition& p, int64_t txid) {
    const PathTemplate& main = layouts_[0].tmpl;
    if (p.layout == 0 || !p.values.date || !main.ColumnNames().empty() || main.HasHourToken() ||
        main.Granularity() != layouts_[p.layout].tmpl.Granularity()) {
      return false;
    }
    PartitionValues v;
    v.date = p.values.date;
    PQ_ASSIGN_OR_RETURN(std::string main_path, main.Format(v));
    auto manifest = ReadManifest(*storage_, ManifestPathFor(main_path));
    if (!manifest.ok()) return false;
    for (const auto& f : manifest->files) {
      if (!f.source_txid || *f.source_txid <= txid) continue;
      PQ_ASSIGN_OR_RETURN(source::PgTransactionState state, TransactionState(*f.source_txid));
      if (state == source::PgTransactionState::kCommitted) return true;
    }
    return false;
  }

  // One question to PostgreSQL per transaction, not per file: every split partition of a
  // day names the same few transactions.
  Result<source::PgTransactionState> TransactionState(int64_t txid) {
    if (auto it = txid_states_.find(txid); it != txid_states_.end()) return it->second;
    PQ_ASSIGN_OR_RETURN(source::PgTransactionState state, pg_->TransactionState(txid));
    txid_states_.emplace(txid, state);
    return state;
  }

  // Names for a partition's new files: the layout's name, or -0001, -0002... when rotated.
  // They never reuse a name the partition's previous version lists, so that until the new
  // manifest replaces the old one the old files are all still there (on S3 a partition is
  // never half old, half new), and a failed run can take every new file back. So an
  // --overwrite of a one-file partition alternates between the layout's name and "-0001".
  static void NameFiles(const std::string& path, Partition* p) {
    std::set<std::string> taken;
    for (const auto& f : p->kept) taken.insert(f.path);
    if (p->previous) {
      for (const auto& f : p->previous->files) taken.insert(f.path);
    }
    if (p->staged.size() == 1 && taken.count(path) == 0) {
      p->dest.push_back(path);
      return;
    }
    int n = 1;
    for (size_t i = 0; i < p->staged.size(); ++i) {
      while (taken.count(RotatedFileName(path, n)) > 0) ++n;
      p->dest.push_back(RotatedFileName(path, n++));
    }
  }

  // Manifests are built and written 32,768 at a time (~64 MB): 200,000 of them at ~2 KB
  // each would hold 400 MB at once. Each group costs two syncfs() calls on a local root,
  // which is why the groups are not smaller (one run with groups of 8,192 spent 19 s on
  // 206,795 manifests on ext4, against ~9 s writing them all at once).
  Status WriteManifests(const std::vector<Partition*>& partitions) {
    constexpr size_t kManifestsAtOnce = 32768;
    for (size_t first = 0; first < partitions.size(); first += kManifestsAtOnce) {
      size_t n = std::min(kManifestsAtOnce, partitions.size() - first);
      std::vector<std::pair<std::string, std::string>> manifests(n);
      PQ_RETURN_IF_ERROR(ParallelFor(n, FileWorkers(), [&](size_t i) {
        const Partition& p = *partitions[first + i];
        manifests[i] = {p.manifest_path, ManifestFor(p).ToJson()};
        return Status::OK();
      }));
      PQ_RETURN_IF_ERROR(storage_->WriteFilesAtomic(manifests).WithContext("export " + ds_.name + ": writing manifests"));
    }
    return Status::OK();
  }

  // Hashes a partition's staged files; then, if its manifest travels with its folder, writes
  // the manifest there and sets `staged_manifest` to its local path.
  Status HashFiles(Partition* p, std::string* staged_manifest) const {
    for (auto& f : p->staged) {
      PQ_ASSIGN_OR_RETURN(f.sha256, Sha256File(f.local_path));
    }
    if (!ManifestMovesWithFolder(*p)) return Status::OK();
    const std::string local = std::filesystem::path(p->staged[0].local_path).parent_path() /
                              std::filesystem::path(p->manifest_path).filename();
    PQ_RETURN_IF_ERROR(storage::WriteLocalFile(local, ManifestFor(*p).ToJson(), p->manifest_path));
    *staged_manifest = local;
    return Status::OK();
  }

  // A new partition written as one file alone in its staging folder, beside its manifest
  // in the layout: the manifest can travel in that folder (storage::StagedMove::companion).
  static bool ManifestMovesWithFolder(const Partition& p) {
    namespace fs = std::filesystem;
    return !p.previous && p.kept.empty() && p.staged.size() == 1 && p.staged[0].own_folder &&
           fs::path(p.manifest_path).parent_path() == fs::path(p.dest[0]).parent_path();
  }

  // The manifest of a partition about to be published (its files hashed already).
  Manifest ManifestFor(const Partition& p) const {
    Manifest m = NewManifest(p);
    m.files = p.kept;
    for (const auto& f : p.kept) {
      m.rows += f.rows;
      m.bytes += f.bytes;
    }
    for (size_t i = 0; i < p.staged.size(); ++i) {
      m.files.push_back({p.dest[i], p.staged[i].rows, p.staged[i].bytes, p.staged[i].sha256, pg_txid_});
    }
    return m;
  }

  Manifest NewManifest(const Partition& p) const {
    Manifest m = RunManifest();
    m.layout = layouts_[p.layout].tmpl.text();
    m.split = layouts_[p.layout].split;
    if (p.values.date) m.date = p.values.date->ToIso();
    m.hour = p.values.hour;
    for (const auto& [k, v] : p.values.columns) m.columns.emplace_back(k, v);
    m.rows = p.rows;
    m.bytes = p.bytes;
    return m;
  }

  // What every manifest of this run says alike, made once (for 200,000 partitions the
  // source fingerprint and the timestamp per manifest were measurable). Manifests are built on
  // several threads.
  const Manifest& RunManifest() const {
    std::call_once(run_manifest_once_, [this] {
      Manifest m;
      m.dataset = ds_.name;
      for (const ColumnSpec* c : ds_.FileColumns()) m.schema.push_back(*c);
      m.compression = CodecName(ds_.compression);
      for (const auto& in : inputs_) m.sources.push_back({in.path, in.size, in.mtime_ns});
      m.source_fingerprint = SourceFingerprint(m.sources);
      m.run_id = report_.run_id;
      m.created_at = UtcNow("%Y-%m-%dT%H:%M:%SZ");
      m.pqflow_version = PQFLOW_VERSION;
      m.duckdb_version = duck::LibraryVersion();
      run_manifest_ = std::move(m);
    });
    return run_manifest_;
  }

  Status WriteRunReport() {
    std::string dir = ".pqflow/runs/" + ds_.name + "/" + report_.run_id + "/";
    if (options_.on_error == OnError::kQuarantine && !report_.rejects.empty()) {
      PQ_RETURN_IF_ERROR(storage_->WriteFileAtomic(dir + "rejects.ndjson", report_.RejectsNdjson()));
      report_.rejects_path = storage_->DisplayPath(dir + "rejects.ndjson");
    }
    report_.report_path = storage_->DisplayPath(dir + "report.json");
    return storage_->WriteFileAtomic(dir + "report.json", report_.ToJson());
  }

  const DatasetConfig& ds_;
  const ExportOptions& options_;
  storage::Storage* storage_;
  std::unique_ptr<storage::DatasetLock> lock_;
  std::vector<Layout> layouts_;
  std::vector<source::InputFile> inputs_;
  std::string staging_;
  std::optional<duck::Database> db_;
  std::optional<duck::Connection> conn_;
  bool materialized_ = false;
  std::string rows_relation_;
  std::unique_ptr<source::PgSource> pg_;  // PostgreSQL sources: the reading transaction
  source::PgDateRange pg_range_;
  std::optional<int64_t> pg_txid_;        // with --delete-after-export
  int64_t pg_rows_ = 0;
  std::map<int64_t, source::PgTransactionState> txid_states_;
  std::vector<Partition> partitions_;
  std::map<std::pair<size_t, std::string>, size_t> partition_index_;  // (layout, path) -> partitions_
  std::vector<StagedFile> bad_files_;
  RunReport report_;
  mutable std::once_flag run_manifest_once_;
  mutable Manifest run_manifest_;
};

}  // namespace

Result<RunReport> RunExport(const Config& config, const std::string& dataset, const ExportOptions& options) {
  PQ_ASSIGN_OR_RETURN(const DatasetConfig* ds, config.FindDataset(dataset));
  bool postgres = ds->source.format == SourceFormat::kPostgres;
  if (options.delete_after_export && !postgres) {
    return Status::InvalidArgument("--delete-after-export only applies to PostgreSQL sources; dataset " + ds->name +
                                   " reads " + SourceFormatName(ds->source.format) + " files");
  }
  if (postgres && !options.selection.explicit_inputs.empty()) {
    return Status::InvalidArgument("--input does not apply to dataset " + ds->name + ", which reads PostgreSQL");
  }
  PQ_ASSIGN_OR_RETURN(auto storage, storage::OpenStorage(config.storage));
  if (!postgres || options.selection.mode != source::DateMode::kHistorical) {
    ExportRun run(*storage, *ds, options);
    return run.Run();
  }
  // PostgreSQL backfill: one transaction and one run per date present, so that a stopped
  // backfill resumes at the first date without a complete partition.
  std::vector<CivilDate> dates;
  {
    PQ_ASSIGN_OR_RETURN(auto pg, source::PgSource::Open(*ds, /*will_delete=*/false));
    PQ_ASSIGN_OR_RETURN(dates, pg->DatesPresent());
  }
  if (dates.empty()) return Status::NotFound("dataset " + ds->name + ": the PostgreSQL source has no rows");
  RunReport total;
  for (size_t i = 0; i < dates.size(); ++i) {
    ExportOptions one = options;
    one.selection.mode = source::DateMode::kDate;
    one.selection.from = one.selection.to = dates[i];
    if (options.progress) {
      one.progress = [&, i](const std::string& step, double) {
        options.progress(dates[i].ToIso() + " " + step, 100.0 * static_cast<double>(i) / static_cast<double>(dates.size()));
      };
    }
    ExportRun run(*storage, *ds, one);
    auto report = run.Run();
    if (!report.ok()) return report.status().WithContext("export " + ds->name + " --historical: date " + dates[i].ToIso());
    if (i == 0) total = *report;
    else total.Add(*report);
  }
  return total;
}

}  // namespace pqflow::sink
