// The POSIX file operations of the WAL. Every error names the file and what was being done
// ("wal: writing /x/wal/00000000000000000000.wal at offset 123: No space left on device").
#pragma once

#include <sys/uio.h>

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/unique_fd.h"
#include "wal/wal.h"

namespace pqflow::wal {

// Makes files and directories durable when the log is opened with fsync, and counts the
// syncs it did (Wal::fsyncs()). Safe to use from several threads.
class Syncer {
 public:
  explicit Syncer(bool enabled) : enabled_(enabled) {}
  Status SyncData(int fd, const std::string& path);  // fdatasync: the data and the file size
  Status SyncFile(int fd, const std::string& path);  // fsync
  Status SyncDir(const std::string& dir);
  uint64_t count() const { return count_.load(std::memory_order_relaxed); }

 private:
  bool enabled_;
  std::atomic<uint64_t> count_{0};
};

std::string JoinPath(const std::string& dir, std::string_view name);

// Creates `dir` (and its parents) if missing, and makes the new entry durable.
Status CreateWalDir(const std::string& dir, Syncer& syncer);

// Holds an exclusive flock on dir/LOCK while the returned descriptor is open, so that two
// processes never append to one log.
Result<UniqueFd> LockWalDir(const std::string& dir);

// The log's identity, in dir/LOG_ID: LSNs are comparable only within one id (docs/wal.md).
// ReadLogId gives nullopt when there is no LOG_ID (a new directory, or a log written before
// 0.1.1); WriteLogId replaces it durably (temp file, sync, rename, sync of the directory).
Result<std::optional<std::string>> ReadLogId(const std::string& dir);
Status WriteLogId(const std::string& dir, const std::string& id, Syncer& syncer);
Result<std::string> NewLogId();  // 32 random hex digits

// Writes all of `iov` at `offset`, continuing after short writes. `iov` is consumed.
Status WriteAllAt(int fd, std::vector<iovec>& iov, uint64_t offset, const std::string& path);

// Creates the segment whose first record will have `first_lsn`, with its header, published
// under its final name only once the header is durable (temp file, sync, rename, sync of the
// directory). Returns it opened for writing.
Result<UniqueFd> CreateSegment(const std::string& dir, Lsn first_lsn, Syncer& syncer);

}  // namespace pqflow::wal
