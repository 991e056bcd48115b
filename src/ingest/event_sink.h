// Buffers acknowledged event rows per (stream, layout partition, time window) and writes each
// buffer as a new Parquet file when its window closes (plus grace), when it is full, when
// the memory budget needs it, or on shutdown.
//
// Exactly once: rows reach a buffer in WAL order (Apply runs on the WAL's commit thread),
// and a buffer is only ever written whole, so a file holds exactly the partition's rows of
// the WAL records [wal_first, wal_last] — recorded in the file's footer (pqflow_wal_first,
// pqflow_wal_last). After a crash the WAL is replayed through Apply in recovery mode, which
// skips a record's rows for every partition whose existing files already cover its LSN.
// The WAL may be truncated before TruncationPoint(): everything older is in Parquet.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/dataset_config.h"
#include "core/path_template.h"
#include "duck/duck.h"
#include "ingest/parquet_file_writer.h"
#include "ingest/row_batch.h"
#include "storage/storage.h"

namespace pqflow::ingest {

using Lsn = uint64_t;

struct SinkOptions {
  int64_t memory_limit = 512LL << 20;  // bytes buffered; at 3/4 of it the largest buffers are written early
  std::function<int64_t()> now_ms;     // the clock; default: system clock
  int flush_check_ms = 250;            // how often closed windows are looked for
  // Called after every committed file (and after failed writes), from the flusher thread:
  // the caller truncates its WAL up to TruncationPoint().
  std::function<void()> on_commit;
  // One line per file written or write that failed, for the server's log.
  std::function<void(const std::string&)> log;
};

// Counters for /metrics and /health; all monotonic except the gauges.
struct SinkStats {
  std::map<std::string, uint64_t> rows_written;  // per stream
  uint64_t bytes_written = 0;
  uint64_t files_created = 0;
  uint64_t write_errors = 0;
  uint64_t buffered_rows = 0;   // gauge
  uint64_t buffered_bytes = 0;  // gauge
  uint64_t buffers = 0;         // gauge
  int64_t last_write_ms = 0;    // 0 = never
  std::string last_error;
};

class EventSink {
 public:
  // `streams` must outlive the sink. Nothing is written until Start().
  static Result<std::unique_ptr<EventSink>> Make(const std::map<std::string, StreamConfig>& streams,
                                                 storage::Storage* storage, duck::Database* db, SinkOptions options);
  ~EventSink();

  // The WAL's log id (wal::Wal::log_id()), set before the first Apply or Start: files record
  // it with their LSN range, and recovery compares only ranges of the same log ("" = none).
  void UseLogId(std::string_view log_id);

  // Buffers the rows of the durable WAL record `lsn`, which ends at `end` (the next
  // record's LSN). Rows must be of `stream`'s schema. In recovery mode (before Start) rows
  // already in Parquet files are skipped.
  Status Apply(Lsn lsn, Lsn end, const StreamConfig& stream, const RowBatch& rows);

  // Ends recovery and starts writing buffers in the background.
  void Start();
  // Writes every buffer now and stops the background writer (shutdown).
  Status FlushAllAndStop();

  // The WAL may drop everything before this LSN.
  Lsn TruncationPoint() const;
  // Asks for every buffer holding rows of records before `lsn` to be written soon, so that
  // the WAL can be truncated (a busy partition must not pin the log forever).
  void WriteBuffersBefore(Lsn lsn);
  // True while buffered bytes exceed the memory limit: callers should refuse new batches (429).
  bool OverMemoryLimit() const;
  SinkStats Stats() const;

  // The rows of `stream` acknowledged but not yet in a published file, copied, and
  // `list_files` run in the same instant: every row is either in a file list_files sees or
  // in the result, never both, never neither (files are published only outside of it).
  Result<RowBatch> SnapshotBuffered(const std::string& stream, const std::function<Status()>& list_files) const;

 private:
  struct Buffer;
  struct StreamState;
  EventSink(storage::Storage* storage, SinkOptions options);

  Result<Buffer*> BufferFor(const StreamState& st, const RowBatch& rows, size_t row, std::string* key_scratch);
  Result<bool> CoveredByFiles(const Buffer& buffer, Lsn lsn);
  Status WriteBuffer(std::unique_ptr<Buffer> buffer);
  Result<std::string> NextFileName(Buffer& buffer);
  void FlusherLoop();
  std::vector<std::unique_ptr<Buffer>> TakeBuffersToWrite(bool all);
  void Restore(std::unique_ptr<Buffer> buffer);
  void DoneWriting(const Buffer& buffer);  // mu_ held
  // Retries the directory sync of files published without one: whether it succeeded, or
  // nullopt when none is owed.
  std::optional<bool> SyncOwedDirectories();

  storage::Storage* storage_;
  SinkOptions options_;
  std::vector<std::unique_ptr<StreamState>> streams_;
  std::unordered_map<std::string, StreamState*> streams_by_name_;

  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::unordered_map<std::string, std::unique_ptr<Buffer>> buffers_;  // by partition key
  std::multiset<Lsn> writing_first_lsns_;  // buffers taken out and being written
  // Buffers whose file is in place but whose directory sync failed: a crash could still lose
  // the file, so the WAL keeps their rows until a later sync succeeds.
  std::multiset<Lsn> unsynced_first_lsns_;
  std::string log_id_;  // set before Start (UseLogId)
  std::set<const Buffer*> writing_;        // the same buffers, for snapshots
  // Held exclusively from a file's rename until its buffer leaves writing_; shared by
  // snapshots. Taken before mu_.
  mutable std::shared_mutex publish_mu_;
  Lsn applied_end_ = 0;                    // the end of the last applied record
  uint64_t buffered_bytes_ = 0;
  uint64_t buffered_rows_ = 0;
  bool recovering_ = true;
  bool stop_ = false;
  bool urgent_ = false;  // a full buffer is waiting
  Lsn write_before_ = 0;  // buffers whose rows start before this LSN are written now
  SinkStats stats_;
  // Recovery only: WAL ranges of the files already in each partition.
  std::unordered_map<std::string, std::vector<std::pair<Lsn, Lsn>>> committed_ranges_;
  // Next rotation number per partition path (1 = the plain name).
  std::unordered_map<std::string, int> next_file_number_;

  std::unique_ptr<ParquetFileWriter> writer_;  // the flusher's (and recovery's)
  std::string staging_dir_;
  std::thread flusher_;
};

}  // namespace pqflow::ingest
