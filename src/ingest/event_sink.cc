#include "ingest/event_sink.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>

#include "core/crypto.h"

namespace pqflow::ingest {

namespace {

constexpr int64_t kHourMs = 3600LL * 1000;
constexpr int64_t kDayMs = 24 * kHourMs;

int64_t SystemNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t FloorTo(int64_t t, int64_t unit) { return t - (((t % unit) + unit) % unit); }

std::string Directory(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? "" : path.substr(0, slash + 1);
}

std::string BaseName(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// A layout column's value as the text the path template encodes.
std::optional<std::string> ValueText(const ColumnData& col, size_t row) {
  if (!col.valid[row]) return std::nullopt;
  if (col.is_variable()) return std::string(col.VariableValue(row));
  const uint8_t* p = col.FixedValue(row);
  auto load = [p](auto v) {
    std::memcpy(&v, p, sizeof(v));
    return v;
  };
  switch (col.type.kind) {
    case TypeKind::kBoolean: return std::string(*p ? "true" : "false");
    case TypeKind::kInt8: return std::to_string(load(int8_t{}));
    case TypeKind::kInt16: return std::to_string(load(int16_t{}));
    case TypeKind::kInt32: return std::to_string(load(int32_t{}));
    case TypeKind::kInt64: return std::to_string(load(int64_t{}));
    case TypeKind::kUInt8: return std::to_string(load(uint8_t{}));
    case TypeKind::kUInt16: return std::to_string(load(uint16_t{}));
    case TypeKind::kUInt32: return std::to_string(load(uint32_t{}));
    case TypeKind::kUInt64: return std::to_string(load(uint64_t{}));
    case TypeKind::kDate: return CivilDate::FromDays(load(int32_t{})).ToIso();
    default: break;
  }
  // ValidateStream refuses a layout naming a column of any other type; were one named, its
  // bytes in hex would still make a stable, path-safe name.
  return HexLower(p, col.width);
}

}  // namespace

struct EventSink::StreamState {
  const StreamConfig* config = nullptr;
  PathTemplate layout;
  size_t time_column = 0;
  int64_t time_divisor = 1;  // column unit -> ms (1000 for microsecond timestamps)
  int64_t window_ms = kHourMs;
  std::vector<std::pair<std::string, size_t>> layout_columns;  // name, column index
};

struct EventSink::Buffer {
  std::string key;
  const StreamState* stream = nullptr;
  std::string path;  // the partition's first file name, relative to the storage root
  int64_t window_end_ms = 0;
  RowChunks rows;
  Lsn first_lsn = 0;
  Lsn last_lsn = 0;
  size_t bytes = 0;
};

EventSink::EventSink(storage::Storage* storage, SinkOptions options)
    : storage_(storage), options_(std::move(options)) {
  if (!options_.now_ms) options_.now_ms = SystemNowMs;
}

EventSink::~EventSink() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (flusher_.joinable()) flusher_.join();
}

Result<std::unique_ptr<EventSink>> EventSink::Make(const std::map<std::string, StreamConfig>& streams,
                                                   storage::Storage* storage, duck::Database* db,
                                                   SinkOptions options) {
  std::unique_ptr<EventSink> sink(new EventSink(storage, std::move(options)));
  for (const auto& [name, config] : streams) {
    auto st = std::make_unique<StreamState>();
    st->config = &config;
    PQ_ASSIGN_OR_RETURN(st->layout, PathTemplate::Make(config.layout, name));
    st->window_ms = config.rotation == Rotation::kHourly ? kHourMs : kDayMs;
    for (size_t i = 0; i < config.columns.size(); ++i) {
      if (config.columns[i].name == config.time_column) st->time_column = i;
    }
    st->time_divisor = config.columns[st->time_column].type.kind == TypeKind::kTimestamp ? 1000 : 1;
    for (const std::string& col : st->layout.ColumnNames()) {
      for (size_t i = 0; i < config.columns.size(); ++i) {
        if (config.columns[i].name == col) st->layout_columns.emplace_back(col, i);
      }
    }
    sink->streams_by_name_[name] = st.get();
    sink->streams_.push_back(std::move(st));
  }
  PQ_ASSIGN_OR_RETURN(sink->writer_, ParquetFileWriter::Make(*db));
  PQ_ASSIGN_OR_RETURN(sink->staging_dir_, storage->MakeStagingDir("sink"));
  return sink;
}

Result<EventSink::Buffer*> EventSink::BufferFor(const StreamState& st, const RowBatch& rows, size_t row,
                                                std::string* key) {
  int64_t t;
  std::memcpy(&t, rows.column(st.time_column).FixedValue(row), sizeof(t));
  const int64_t t_ms = t / st.time_divisor - (t % st.time_divisor < 0 ? 1 : 0);
  const int64_t window_start = FloorTo(t_ms, st.window_ms);
  key->assign(st.config->name);
  key->push_back('\0');
  key->append(reinterpret_cast<const char*>(&window_start), sizeof(window_start));
  for (const auto& [name, index] : st.layout_columns) {
    const ColumnData& col = rows.column(index);
    // NULL and "" share one path (the default partition), so they share one buffer: two
    // buffers of one path would share the WAL ranges its files record, and a replay skip
    // the rows of the one not yet written.
    const bool present = col.valid[row] && !(col.is_variable() && col.VariableValue(row).empty());
    key->push_back(present ? '\1' : '\0');
    if (!present) continue;
    if (col.is_variable()) {
      std::string_view v = col.VariableValue(row);
      uint32_t n = static_cast<uint32_t>(v.size());
      key->append(reinterpret_cast<const char*>(&n), sizeof(n));
      key->append(v);
    } else {
      key->append(reinterpret_cast<const char*>(col.FixedValue(row)), col.width);
    }
  }
  auto it = buffers_.find(*key);
  if (it != buffers_.end()) return it->second.get();

  PartitionValues values;
  values.date = CivilDate::FromDays(static_cast<int32_t>(FloorTo(window_start, kDayMs) / kDayMs));
  values.hour = static_cast<int>((window_start - FloorTo(window_start, kDayMs)) / kHourMs);
  for (const auto& [name, index] : st.layout_columns) values.columns[name] = ValueText(rows.column(index), row);
  PQ_ASSIGN_OR_RETURN(std::string path, st.layout.Format(values));
  auto buffer = std::make_unique<Buffer>();
  buffer->key = *key;
  buffer->stream = &st;
  buffer->path = std::move(path);
  buffer->window_end_ms = window_start + st.window_ms;
  std::vector<ColumnType> types;
  for (const auto& c : st.config->columns) types.push_back(c.type);
  buffer->rows = RowChunks(std::move(types));
  Buffer* raw = buffer.get();
  buffers_.emplace(*key, std::move(buffer));
  return raw;
}

void EventSink::UseLogId(std::string_view log_id) {
  if (log_id_ == log_id) return;
  std::lock_guard<std::mutex> lock(mu_);
  log_id_ = log_id;
  committed_ranges_.clear();  // read under another id
}

Result<bool> EventSink::CoveredByFiles(const Buffer& buffer, Lsn lsn) {
  auto it = committed_ranges_.find(buffer.path);
  if (it == committed_ranges_.end()) {
    std::vector<std::pair<Lsn, Lsn>> ranges;
    const std::string dir = Directory(buffer.path);
    const std::string base = BaseName(buffer.path);
    PQ_ASSIGN_OR_RETURN(auto files, storage_->List(dir));
    for (const auto& f : files) {
      if (Directory(f.path) != dir || RotationNumber(base, BaseName(f.path)) == 0) continue;
      auto local = storage_->OpenForReading({f});  // on S3: a copy in the read cache
      if (!local.ok()) return local.status().WithContext("recovering: reading " + f.path);
      auto kv = writer_->ReadKvMetadata(local->local_paths[0]);
      if (!kv.ok()) return kv.status().WithContext("recovering: reading the footer of " + f.path);
      auto first = kv->find("pqflow_wal_first");
      auto last = kv->find("pqflow_wal_last");
      auto stream = kv->find("pqflow_stream");
      if (first == kv->end() || last == kv->end() || stream == kv->end()) continue;
      if (stream->second != buffer.stream->config->name) continue;
      // Another log's LSNs (its WAL directory was replaced: LSNs started again at 0) say
      // nothing about this log's records. Files from before log ids have none, and count.
      if (auto id = kv->find("pqflow_wal_id"); id != kv->end() && !log_id_.empty() && id->second != log_id_) continue;
      ranges.emplace_back(std::stoull(first->second), std::stoull(last->second));
    }
    it = committed_ranges_.emplace(buffer.path, std::move(ranges)).first;
  }
  for (const auto& [first, last] : it->second) {
    if (lsn >= first && lsn <= last) return true;
  }
  return false;
}

Status EventSink::Apply(Lsn lsn, Lsn end, const StreamConfig& stream, const RowBatch& rows) {
  auto sit = streams_by_name_.find(stream.name);
  if (sit == streams_by_name_.end()) return Status::Internal("event sink: unknown stream " + stream.name);
  const StreamState& st = *sit->second;
  std::lock_guard<std::mutex> lock(mu_);
  // Group the record's rows by buffer, keeping their order.
  std::vector<std::pair<Buffer*, std::vector<uint32_t>>> groups;
  std::string key;
  Buffer* last = nullptr;
  size_t last_group = 0;
  for (size_t r = 0; r < rows.rows(); ++r) {
    PQ_ASSIGN_OR_RETURN(Buffer * b, BufferFor(st, rows, r, &key));
    if (b != last) {
      last_group = groups.size();
      for (size_t g = 0; g < groups.size(); ++g) {
        if (groups[g].first == b) last_group = g;
      }
      if (last_group == groups.size()) groups.emplace_back(b, std::vector<uint32_t>{});
      last = b;
    }
    groups[last_group].second.push_back(static_cast<uint32_t>(r));
  }
  bool wake = false;
  for (auto& [b, indices] : groups) {
    if (recovering_) {
      PQ_ASSIGN_OR_RETURN(bool covered, CoveredByFiles(*b, lsn));
      if (covered) {
        if (b->rows.rows() == 0) buffers_.erase(b->key);
        continue;
      }
    }
    if (b->rows.rows() == 0) b->first_lsn = lsn;
    b->last_lsn = lsn;
    b->rows.AppendRows(rows, indices);
    const size_t bytes = b->rows.MemoryBytes();
    buffered_bytes_ += bytes - b->bytes;
    buffered_rows_ += indices.size();
    b->bytes = bytes;
    const StreamConfig& sc = *b->stream->config;
    if (static_cast<int64_t>(b->rows.rows()) >= sc.max_rows || static_cast<int64_t>(b->bytes) >= sc.max_file_size) {
      urgent_ = true;
      wake = true;
    }
  }
  applied_end_ = end;
  if (buffered_bytes_ * 4 > static_cast<uint64_t>(options_.memory_limit) * 3) wake = true;
  if (wake && !recovering_) wake_.notify_one();
  return Status::OK();
}

void EventSink::Start() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    recovering_ = false;
    committed_ranges_.clear();
  }
  flusher_ = std::thread([this] { FlusherLoop(); });
}

Lsn EventSink::TruncationPoint() const {
  std::lock_guard<std::mutex> lock(mu_);
  Lsn point = applied_end_;
  for (const auto& [_, b] : buffers_) {
    if (b->rows.rows() > 0) point = std::min(point, b->first_lsn);
  }
  if (!writing_first_lsns_.empty()) point = std::min(point, *writing_first_lsns_.begin());
  if (!unsynced_first_lsns_.empty()) point = std::min(point, *unsynced_first_lsns_.begin());
  return point;
}

void EventSink::WriteBuffersBefore(Lsn lsn) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (lsn <= write_before_) return;
    write_before_ = lsn;
    urgent_ = true;
  }
  wake_.notify_one();
}

bool EventSink::OverMemoryLimit() const {
  std::lock_guard<std::mutex> lock(mu_);
  return buffered_bytes_ > static_cast<uint64_t>(options_.memory_limit);
}

SinkStats EventSink::Stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  SinkStats s = stats_;
  s.buffered_bytes = buffered_bytes_;
  s.buffered_rows = buffered_rows_;
  s.buffers = buffers_.size() + writing_first_lsns_.size();
  return s;
}

std::vector<std::unique_ptr<EventSink::Buffer>> EventSink::TakeBuffersToWrite(bool all) {
  std::lock_guard<std::mutex> lock(mu_);
  const int64_t now = options_.now_ms();
  std::vector<std::string> keys;
  uint64_t remaining = buffered_bytes_;
  std::vector<Buffer*> others;
  for (const auto& [key, b] : buffers_) {
    const StreamConfig& sc = *b->stream->config;
    if (b->rows.rows() == 0) continue;
    if (all || now >= b->window_end_ms + sc.grace_seconds * 1000 || static_cast<int64_t>(b->rows.rows()) >= sc.max_rows ||
        static_cast<int64_t>(b->bytes) >= sc.max_file_size || b->first_lsn < write_before_) {
      keys.push_back(key);
      remaining -= b->bytes;
    } else {
      others.push_back(b.get());
    }
  }
  // Over 3/4 of the memory budget: write the largest buffers early, down to half of it.
  const uint64_t limit = static_cast<uint64_t>(options_.memory_limit);
  if (remaining * 4 > limit * 3) {
    std::sort(others.begin(), others.end(), [](const Buffer* a, const Buffer* b) { return a->bytes > b->bytes; });
    for (const Buffer* b : others) {
      if (remaining * 2 <= limit) break;
      keys.push_back(b->key);
      remaining -= b->bytes;
    }
  }
  std::vector<std::unique_ptr<Buffer>> out;
  for (const std::string& key : keys) {
    auto it = buffers_.find(key);
    writing_first_lsns_.insert(it->second->first_lsn);
    writing_.insert(it->second.get());
    out.push_back(std::move(it->second));
    buffers_.erase(it);
  }
  urgent_ = false;
  return out;
}

Result<std::string> EventSink::NextFileName(Buffer& buffer) {
  auto it = next_file_number_.find(buffer.path);
  if (it == next_file_number_.end()) {
    const std::string dir = Directory(buffer.path);
    const std::string base = BaseName(buffer.path);
    PQ_ASSIGN_OR_RETURN(auto files, storage_->List(dir));
    int highest = 0;
    for (const auto& f : files) {
      if (Directory(f.path) == dir) highest = std::max(highest, RotationNumber(base, BaseName(f.path)));
    }
    it = next_file_number_.emplace(buffer.path, highest + 1).first;
  }
  // Taken only once the file is published (WriteBuffer), so that a failed write does not
  // leave a gap: the first file of a partition is always the plain name.
  const int n = it->second;
  return n == 1 ? buffer.path : RotatedFileName(buffer.path, n);
}

void EventSink::Restore(std::unique_ptr<Buffer> buffer) {
  // The rows are still in the WAL (its truncation point did not pass them); keep them
  // buffered, ahead of rows that arrived for the same partition meanwhile.
  auto it = buffers_.find(buffer->key);
  if (it != buffers_.end()) {
    buffer->rows.AppendAll(std::move(it->second->rows));
    buffer->last_lsn = it->second->last_lsn;
    buffered_bytes_ -= it->second->bytes;
    buffers_.erase(it);
  }
  buffered_bytes_ -= buffer->bytes;
  buffer->bytes = buffer->rows.MemoryBytes();
  buffered_bytes_ += buffer->bytes;
  std::string key = buffer->key;
  buffers_.emplace(std::move(key), std::move(buffer));
}

Status EventSink::WriteBuffer(std::unique_ptr<Buffer> buffer) {
  static std::atomic<uint64_t> staged_seq{0};
  const std::string staged = staging_dir_ + "/" + std::to_string(staged_seq.fetch_add(1)) + ".parquet.tmp";
  const std::string& stream = buffer->stream->config->name;
  Status status;
  std::string dest;
  int64_t size = 0;
  {
    auto name = NextFileName(*buffer);
    status = name.status();
    if (status.ok()) dest = *name;
  }
  if (status.ok()) {
    std::vector<std::pair<std::string, std::string>> kv = {{"pqflow_stream", stream},
                                                          {"pqflow_wal_first", std::to_string(buffer->first_lsn)},
                                                          {"pqflow_wal_last", std::to_string(buffer->last_lsn)}};
    if (!log_id_.empty()) kv.emplace_back("pqflow_wal_id", log_id_);
    status = writer_->Write(*buffer->stream->config, buffer->rows, staged, kv);
  }
  if (status.ok()) status = storage_->SyncStaged({staged});
  // From the rename until the buffer leaves writing_, a snapshot would see its rows twice:
  // snapshots wait (SnapshotBuffered).
  std::unique_lock<std::shared_mutex> publishing(publish_mu_);
  if (status.ok()) status = storage_->Publish(staged, dest);
  // Once renamed, the file is visible with its rows: writing them again would duplicate
  // them, so a failed directory sync after it is reported and the rows count as written, but
  // the WAL keeps them until a sync succeeds (a crash before it could lose the rename).
  const bool published = status.ok();
  if (status.ok()) status = storage_->SyncPublished();
  if (published) {
    auto info = storage_->Stat(dest);
    if (info.ok()) size = info->size;
  }
  std::error_code ec;
  std::filesystem::remove(staged, ec);

  std::lock_guard<std::mutex> lock(mu_);
  DoneWriting(*buffer);
  if (published && !status.ok()) {
    ++stats_.write_errors;
    stats_.last_error = status.WithContext("syncing the directory of " + dest).message();
    unsynced_first_lsns_.insert(buffer->first_lsn);
  } else if (published) {
    unsynced_first_lsns_.clear();  // the storage synced every directory it still owed
  }
  if (!published) {
    ++stats_.write_errors;
    status = status.WithContext("writing " + std::to_string(buffer->rows.rows()) + " " + stream + " rows to " +
                                (dest.empty() ? buffer->path : dest));
    stats_.last_error = status.message();
    if (options_.log) options_.log("error: " + status.message() + " (kept in memory and the WAL; retrying)");
    Restore(std::move(buffer));
    return status;
  }
  if (options_.log) {
    options_.log("wrote " + dest + " rows=" + std::to_string(buffer->rows.rows()) + " bytes=" + std::to_string(size));
  }
  ++next_file_number_[buffer->path];  // only the flusher thread uses it
  stats_.rows_written[stream] += buffer->rows.rows();
  stats_.bytes_written += static_cast<uint64_t>(size);
  ++stats_.files_created;
  stats_.last_write_ms = options_.now_ms();
  buffered_bytes_ -= buffer->bytes;
  buffered_rows_ -= buffer->rows.rows();
  return status;
}

std::optional<bool> EventSink::SyncOwedDirectories() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (unsynced_first_lsns_.empty()) return std::nullopt;
  }
  Status s = storage_->SyncPublished();
  std::lock_guard<std::mutex> lock(mu_);
  if (s.ok()) {
    unsynced_first_lsns_.clear();
    return true;
  }
  ++stats_.write_errors;
  stats_.last_error = s.WithContext("syncing the directories of published files").message();
  return false;
}

void EventSink::DoneWriting(const Buffer& buffer) {
  writing_first_lsns_.erase(writing_first_lsns_.find(buffer.first_lsn));
  writing_.erase(&buffer);
}

Result<RowBatch> EventSink::SnapshotBuffered(const std::string& stream, const std::function<Status()>& list_files) const {
  auto st = streams_by_name_.find(stream);
  if (st == streams_by_name_.end()) return Status::NotFound("no stream " + stream);
  std::vector<ColumnType> types;
  for (const auto& c : st->second->config->columns) types.push_back(c.type);
  RowBatch out(types);
  std::shared_lock<std::shared_mutex> publishing(publish_mu_);
  PQ_RETURN_IF_ERROR(list_files());
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [_, b] : buffers_) {
    if (b->stream == st->second) b->rows.AppendTo(&out);
  }
  for (const Buffer* b : writing_) {
    if (b->stream == st->second) b->rows.AppendTo(&out);
  }
  return out;
}

void EventSink::FlusherLoop() {
  int failures = 0;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      // After failed writes, wait longer (up to ~8 s) before trying again.
      const int wait_ms = options_.flush_check_ms << std::min(failures, 5);
      wake_.wait_for(lock, std::chrono::milliseconds(wait_ms), [this] {
        return stop_ || urgent_ || buffered_bytes_ * 4 > static_cast<uint64_t>(options_.memory_limit) * 3;
      });
      if (stop_) return;
    }
    auto buffers = TakeBuffersToWrite(false);
    if (buffers.empty()) {
      if (std::optional<bool> synced = SyncOwedDirectories()) {
        failures = *synced ? 0 : failures + 1;
        if (*synced && options_.on_commit) options_.on_commit();  // the WAL may truncate further
      }
      continue;
    }
    bool failed = false;
    for (auto& b : buffers) {
      if (failed) {
        std::lock_guard<std::mutex> lock(mu_);
        DoneWriting(*b);
        Restore(std::move(b));
        continue;
      }
      failed = !WriteBuffer(std::move(b)).ok();
    }
    failures = failed ? failures + 1 : 0;
    if (options_.on_commit) options_.on_commit();
  }
}

Status EventSink::FlushAllAndStop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (flusher_.joinable()) flusher_.join();
  Status first_error;
  for (auto& b : TakeBuffersToWrite(true)) {
    Status s = WriteBuffer(std::move(b));
    if (!s.ok() && first_error.ok()) first_error = s;
  }
  if (std::optional<bool> synced = SyncOwedDirectories(); synced && !*synced && first_error.ok()) {
    first_error = Status::IOError(Stats().last_error + " (the WAL keeps their rows)");
  }
  if (options_.on_commit) options_.on_commit();
  return first_error;
}

}  // namespace pqflow::ingest
