#include "ingest/ingest_service.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "wal/wal.h"

namespace pqflow::ingest {

namespace {

constexpr uint8_t kBatchRecordType = 1;
constexpr uint8_t kBatchRecordVersion = 1;

int64_t SystemNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The time column of each row in ms, whatever its declared unit.
int64_t RowTimeMs(const StreamConfig& stream, const RowBatch& rows, size_t time_index, size_t row) {
  int64_t t;
  std::memcpy(&t, rows.column(time_index).FixedValue(row), sizeof(t));
  return stream.columns[time_index].type.kind == TypeKind::kTimestamp ? t / 1000 : t;
}

size_t ColumnIndex(const StreamConfig& stream, const std::string& name) {
  for (size_t i = 0; i < stream.columns.size(); ++i) {
    if (stream.columns[i].name == name) return i;
  }
  return 0;
}

}  // namespace

std::string BatchRecordHead(const std::string& stream, int64_t receipt_ms) {
  std::string out;
  out.reserve(2 + stream.size() + 8);
  out.push_back(static_cast<char>(kBatchRecordVersion));
  out.push_back(static_cast<char>(stream.size()));
  out.append(stream);
  char ts[8];
  for (int i = 0; i < 8; ++i) ts[i] = static_cast<char>((static_cast<uint64_t>(receipt_ms) >> (8 * i)) & 0xff);
  out.append(ts, 8);
  return out;
}

Result<BatchRecord> DecodeBatchRecord(std::string_view payload) {
  if (payload.size() < 2 || static_cast<uint8_t>(payload[0]) != kBatchRecordVersion) {
    return Status::Corruption("batch record: unknown version");
  }
  const size_t name_len = static_cast<uint8_t>(payload[1]);
  if (payload.size() < 2 + name_len + 8) return Status::Corruption("batch record: truncated header");
  BatchRecord r;
  r.stream = std::string(payload.substr(2, name_len));
  uint64_t ts = 0;
  for (int i = 0; i < 8; ++i) ts |= static_cast<uint64_t>(static_cast<uint8_t>(payload[2 + name_len + i])) << (8 * i);
  r.receipt_ms = static_cast<int64_t>(ts);
  r.body = payload.substr(2 + name_len + 8);
  return r;
}

IngestService::IngestService(const Config& config, IngestOptions options)
    : config_(config), options_(std::move(options)) {
  if (!options_.now_ms) options_.now_ms = SystemNowMs;
}

IngestService::~IngestService() = default;

Result<std::unique_ptr<IngestService>> IngestService::Open(const Config& config, storage::Storage* storage,
                                                           duck::Database* db, IngestOptions options) {
  std::unique_ptr<IngestService> svc(new IngestService(config, std::move(options)));
  for (const auto& [name, _] : svc->config_.streams) {
    if (name.size() > 255) return Status::InvalidArgument("stream name too long: " + name);
  }
  SinkOptions sink_options;
  sink_options.memory_limit = svc->config_.server.memory_limit;
  sink_options.now_ms = svc->options_.now_ms;
  sink_options.flush_check_ms = svc->options_.flush_check_ms;
  sink_options.log = svc->options_.log;
  IngestService* raw = svc.get();
  sink_options.on_commit = [raw] { raw->TruncateWal(); };
  PQ_ASSIGN_OR_RETURN(svc->sink_, EventSink::Make(svc->config_.streams, storage, db, std::move(sink_options)));

  wal::WalOptions wal_options;
  wal_options.dir = svc->config_.server.wal_dir;
  wal_options.segment_bytes = static_cast<uint64_t>(svc->config_.server.wal_segment_size);
  wal_options.fsync = svc->options_.wal_fsync;
  auto wal = wal::Wal::Open(wal_options, [raw](const wal::Record& r) {
    raw->sink_->UseLogId(r.log_id);
    return raw->Replay(r.lsn, r.payload);
  });
  if (!wal.ok()) return wal.status().WithContext("opening the write-ahead log in " + wal_options.dir);
  svc->wal_ = std::move(*wal);
  svc->sink_->UseLogId(svc->wal_->log_id());
  svc->sink_->Start();
  // What the replay buffered may already be complete (closed windows): let the sink decide.
  svc->TruncateWal();
  return svc;
}

Status IngestService::Replay(uint64_t lsn, std::string_view payload) {
  PQ_ASSIGN_OR_RETURN(BatchRecord record, DecodeBatchRecord(payload));
  auto stream = config_.FindStream(record.stream);
  if (!stream.ok()) {
    return Status::FailedPrecondition("the write-ahead log holds a batch for stream '" + record.stream +
                                      "', which is no longer configured; restore its [streams] entry so that "
                                      "the batch can be written");
  }
  NdjsonDecoder decoder(**stream);
  DecodedBatch batch = decoder.Decode(record.body, record.receipt_ms);
  if (!batch.errors.empty()) {
    const LineError& e = batch.errors.front();
    return Status::FailedPrecondition("the write-ahead log holds a batch for stream '" + record.stream +
                                      "' that the configured schema now rejects (line " + std::to_string(e.line) +
                                      ", " + e.field + ": " + e.reason +
                                      "); restore the schema it was accepted with so that it can be written");
  }
  replayed_records_++;
  replayed_rows_ += batch.rows.rows();
  return sink_->Apply(lsn, wal::Wal::EndOf(lsn, payload.size()), **stream, batch.rows);
}

std::unique_ptr<NdjsonDecoder> IngestService::TakeDecoder(const StreamConfig& stream) {
  {
    std::lock_guard<std::mutex> lock(decoders_mu_);
    auto& pool = free_decoders_[stream.name];
    if (!pool.empty()) {
      auto d = std::move(pool.back());
      pool.pop_back();
      return d;
    }
  }
  return std::make_unique<NdjsonDecoder>(stream);
}

void IngestService::ReturnDecoder(const StreamConfig& stream, std::unique_ptr<NdjsonDecoder> decoder) {
  std::lock_guard<std::mutex> lock(decoders_mu_);
  free_decoders_[stream.name].push_back(std::move(decoder));
}

IngestOutcome IngestService::Ingest(const StreamConfig& stream, std::string_view ndjson,
                                    const std::vector<uint64_t>& allowed_workspaces, size_t readable_past_end) {
  IngestOutcome out;
  if (shutting_down_) {
    out.http_status = 503;
    out.message = "the server is shutting down; retry against its replacement";
    return out;
  }
  if (std::string failure = Failure(); !failure.empty()) {
    out.http_status = 503;
    out.message = failure;
    return out;
  }
  if (wal_->SizeBytes() > static_cast<uint64_t>(config_.server.max_wal_size) || sink_->OverMemoryLimit()) {
    out.http_status = 429;
    out.retry_after_seconds = 1;
    out.message = wal_->SizeBytes() > static_cast<uint64_t>(config_.server.max_wal_size)
                      ? "the write-ahead log is over max_wal_size while buffers are written; retry shortly"
                      : "buffered events are over memory_limit while buffers are written; retry shortly";
    return out;
  }
  const int64_t receipt_ms = options_.now_ms();
  auto decoder = TakeDecoder(stream);
  DecodedBatch batch = decoder->Decode(ndjson, receipt_ms, 100, readable_past_end);
  ReturnDecoder(stream, std::move(decoder));
  if (batch.errors.empty() && batch.rows.rows() > 0) {
    const size_t tenant = ColumnIndex(stream, stream.tenant_column);
    const size_t time = ColumnIndex(stream, stream.time_column);
    for (size_t r = 0; r < batch.rows.rows(); ++r) {
      const int64_t row_line = batch.row_lines[r];
      if (!allowed_workspaces.empty()) {
        uint64_t ws;
        std::memcpy(&ws, batch.rows.column(tenant).FixedValue(r), sizeof(ws));
        if (std::find(allowed_workspaces.begin(), allowed_workspaces.end(), ws) == allowed_workspaces.end()) {
          out.http_status = 403;
          out.message = "this API key may not write to " + stream.tenant_column + " " + std::to_string(ws);
          out.errors.push_back({row_line, stream.tenant_column, out.message});
          return out;
        }
      }
      if (RowTimeMs(stream, batch.rows, time, r) > receipt_ms + options_.max_future_ms) {
        batch.errors.push_back({row_line, stream.columns[time].field,
                                "more than " + std::to_string(options_.max_future_ms / 3600000) +
                                    " h ahead of the server's clock"});
        if (batch.errors.size() >= 100) break;
      }
    }
  }
  if (!batch.errors.empty()) {
    out.http_status = 400;
    out.errors = std::move(batch.errors);
    out.errors_truncated = batch.errors_truncated;
    out.message = "the batch was rejected as a whole; nothing from it was kept";
    return out;
  }
  if (batch.rows.rows() == 0) return out;  // an empty body: nothing to keep

  Status applied;
  const std::string head = BatchRecordHead(stream.name, receipt_ms);
  auto lsn = wal_->Append(kBatchRecordType, head, ndjson, [&](uint64_t l) {
    applied = sink_->Apply(l, wal::Wal::EndOf(l, head.size() + ndjson.size()), stream, batch.rows);
  });
  if (!lsn.ok()) {
    // Not durable (the log is failed after an I/O error): the client may retry elsewhere.
    out.http_status = 503;
    out.message = lsn.status().message() + "; the batch was not kept";
    return out;
  }
  if (!applied.ok()) {
    // Durable but not buffered: only a restart (replay) can write it. Keep the log whole
    // from here on and refuse new batches; this one is acknowledged, it is on disk.
    std::lock_guard<std::mutex> lock(failure_mu_);
    failure_ = applied.WithContext("buffering a durable batch (restart the server: it will be replayed)").message();
    std::fprintf(stderr, "pqflow serve: error: %s\n", failure_.c_str());
  }
  // The log may hold max_wal_size; past half of it, the buffers that pin its oldest quarter
  // are written so that it can be truncated long before intake has to be refused.
  const uint64_t max_wal = static_cast<uint64_t>(config_.server.max_wal_size);
  if (wal_->SizeBytes() > max_wal / 2 && *lsn > max_wal / 4) sink_->WriteBuffersBefore(*lsn - max_wal / 4);
  out.accepted = batch.rows.rows();
  return out;
}

std::string IngestService::Failure() const {
  std::lock_guard<std::mutex> lock(failure_mu_);
  return failure_;
}

void IngestService::TruncateWal() {
  if (wal_ == nullptr || !Failure().empty()) return;
  (void)wal_->TruncateBefore(sink_->TruncationPoint());
}

Status IngestService::Shutdown() {
  std::lock_guard<std::mutex> lock(shutdown_mu_);
  if (shut_down_) return Status::OK();
  shutting_down_ = true;
  Status s = sink_->FlushAllAndStop();
  if (s.ok()) shut_down_ = true;
  return s;
}

IngestStats IngestService::Stats() const {
  IngestStats s;
  s.wal_bytes = wal_->SizeBytes();
  s.wal_fsyncs = wal_->fsyncs();
  s.wal_tail_cut_bytes = wal_->tail_cut_bytes();
  s.replayed_records = replayed_records_;
  s.replayed_rows = replayed_rows_;
  s.sink = sink_->Stats();
  s.failure = Failure();
  return s;
}

}  // namespace pqflow::ingest
