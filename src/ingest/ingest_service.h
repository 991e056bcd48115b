// Event ingest without HTTP: validate a batch, make it durable in the WAL, buffer its rows,
// and let the sink write them to Parquet. On Open, whatever the WAL still holds is replayed
// into the sink (which skips rows already in Parquet), so a crash loses nothing that was
// acknowledged and writes nothing twice. Used by `pqflow serve` and by tests directly.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/dataset_config.h"
#include "duck/duck.h"
#include "ingest/event_sink.h"
#include "ingest/ndjson_decoder.h"
#include "storage/storage.h"

namespace pqflow::wal {
class Wal;
}

namespace pqflow::ingest {

struct IngestOptions {
  std::function<int64_t()> now_ms;  // default: system clock
  bool wal_fsync = true;
  int flush_check_ms = 250;
  // Events further ahead of the server's clock than this are refused (a mistyped
  // timestamp would otherwise hold a buffer open for years).
  int64_t max_future_ms = 24LL * 3600 * 1000;
  std::function<void(const std::string&)> log;  // the sink's file lines; none when empty
};

struct IngestOutcome {
  int http_status = 200;             // 200, 400, 403, 429, 503
  uint64_t accepted = 0;             // rows made durable
  std::vector<LineError> errors;     // 400: per line; 403: the first line of a refused workspace
  bool errors_truncated = false;
  std::string message;               // for non-2xx
  int retry_after_seconds = 0;       // 429
};

struct IngestStats {
  uint64_t wal_bytes = 0;
  uint64_t wal_fsyncs = 0;
  uint64_t replayed_records = 0;
  uint64_t replayed_rows = 0;
  uint64_t wal_tail_cut_bytes = 0;
  SinkStats sink;
  std::string failure;  // set when the server must be restarted (see Failure())
};

class IngestService {
 public:
  // Opens the WAL in config.server.wal_dir and replays it. `storage` and `db` outlive it.
  static Result<std::unique_ptr<IngestService>> Open(const Config& config, storage::Storage* storage,
                                                     duck::Database* db, IngestOptions options);
  ~IngestService();

  // `allowed_workspaces` empty = any. `readable_past_end` as in NdjsonDecoder::Decode: a
  // body with kDecodePadding bytes of room after it is not copied. Thread-safe.
  IngestOutcome Ingest(const StreamConfig& stream, std::string_view ndjson,
                       const std::vector<uint64_t>& allowed_workspaces, size_t readable_past_end = 0);

  // Refuses new batches (503), writes every buffer, and truncates the WAL. Idempotent.
  Status Shutdown();
  IngestStats Stats() const;
  // Non-empty after an internal error that only a restart (WAL replay) can repair; new
  // batches then get 503 and the WAL is no longer truncated.
  std::string Failure() const;
  const Config& config() const { return config_; }
  // For queries that must see acknowledged rows not yet in Parquet (EventSink::SnapshotBuffered).
  const EventSink& sink() const { return *sink_; }

 private:
  IngestService(const Config& config, IngestOptions options);
  Status Replay(uint64_t lsn, std::string_view payload);
  std::unique_ptr<NdjsonDecoder> TakeDecoder(const StreamConfig& stream);
  void ReturnDecoder(const StreamConfig& stream, std::unique_ptr<NdjsonDecoder> decoder);
  void TruncateWal();

  Config config_;
  IngestOptions options_;
  std::unique_ptr<EventSink> sink_;
  std::unique_ptr<wal::Wal> wal_;
  std::mutex decoders_mu_;
  std::map<std::string, std::vector<std::unique_ptr<NdjsonDecoder>>> free_decoders_;
  std::atomic<bool> shutting_down_{false};
  mutable std::mutex failure_mu_;
  std::string failure_;
  std::mutex shutdown_mu_;
  bool shut_down_ = false;
  uint64_t replayed_records_ = 0;
  uint64_t replayed_rows_ = 0;
};

// The WAL record of one accepted batch (documented in docs/wal.md): the stream name, the
// receipt time, and the NDJSON body exactly as received (after gzip decoding). The head is
// everything before the body; the log writes the two without joining them.
std::string BatchRecordHead(const std::string& stream, int64_t receipt_ms);
struct BatchRecord {
  std::string stream;
  int64_t receipt_ms = 0;
  std::string_view body;
};
Result<BatchRecord> DecodeBatchRecord(std::string_view payload);

}  // namespace pqflow::ingest
