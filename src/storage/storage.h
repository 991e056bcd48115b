// Where a dataset's files live. Everything pqflow itself writes (manifests, reports,
// published Parquet files) goes through this interface, so tests can swap in a
// fault-injecting implementation. DuckDB writes Parquet into a local staging directory
// that the storage hands out; Publish() makes a staged file visible, complete or not at all.
// Implementations: a local directory (local_storage.cc) and S3 (s3_storage.h).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/dataset_config.h"
#include "core/status.h"

namespace pqflow::storage {

struct FileInfo {
  std::string path;  // relative to the storage root
  int64_t size = 0;
  int64_t mtime_ns = 0;  // 0 where the store does not say (S3)
  std::string etag;      // S3: the object's ETag, which changes with its content; "" locally
};

// Local copies of stored files for a reader that opens files itself (DuckDB). They stay
// valid (not evicted from a cache) while this object lives.
struct ReadableFiles {
  std::vector<std::string> local_paths;  // in the order asked for
  uint64_t bytes_fetched = 0;            // downloaded for this call (0 on a local root)
  size_t files_fetched = 0;
  std::shared_ptr<void> pin;             // keeps the copies in the cache; must not outlive the storage
};

// Held while a run changes a dataset; released when destroyed.
class DatasetLock {
 public:
  virtual ~DatasetLock() = default;
};

// A staged file and where it is published.
struct StagedMove {
  std::string local_path;
  std::string dest;  // relative to the storage root
  // The file is the only entry of a staging folder of its own that nothing else uses: a
  // local root may move that folder into place when the destination folder is new.
  bool own_folder = false;
  // Optional: a second file of the same staging folder (a new partition's manifest), published
  // after the first. It moves in with the folder when the folder moves; otherwise it follows
  // the file on its own.
  std::string companion_local_path = {};
  std::string companion_dest = {};
};

class Storage {
 public:
  virtual ~Storage() = default;

  virtual std::string Describe() const = 0;
  // A local directory for DuckDB's staged output, on the same filesystem as the root and
  // outside every path a dataset glob can match. Created empty.
  virtual Result<std::string> MakeStagingDir(const std::string& name) = 0;
  virtual Status RemoveStagingDir(const std::string& local_dir) = 0;
  // Makes staged files durable before any of them is published.
  virtual Status SyncStaged(const std::vector<std::string>& local_paths) = 0;
  // Moves a durable staged file to `dest` (relative), replacing what is there atomically.
  // Safe to call from several threads at once.
  virtual Status Publish(const std::string& staged_local_path, const std::string& dest) = 0;
  // Publish() for many files, concurrently. On failure some files may be published.
  virtual Status PublishAll(const std::vector<StagedMove>& moves) = 0;
  // Makes the directory entries of everything published so far durable. After a failure,
  // the next call tries again whatever this one could not sync.
  virtual Status SyncPublished() = 0;

  virtual Status WriteFileAtomic(const std::string& dest, std::string_view data) = 0;
  // Many small files, each atomic, durable together: one sync instead of two per file.
  virtual Status WriteFilesAtomic(const std::vector<std::pair<std::string, std::string>>& files) = 0;
  virtual Result<std::string> ReadFile(const std::string& path) = 0;
  virtual Result<FileInfo> Stat(const std::string& path) = 0;  // NotFound if absent
  virtual Status Delete(const std::string& path) = 0;           // OK if absent
  // Files under `prefix` (a relative directory), recursively, sorted by path.
  virtual Result<std::vector<FileInfo>> List(const std::string& prefix) = 0;
  // The same, where a directory can skip: `descend(dir)` (dir relative to the root, without
  // a trailing '/') says whether anything under it is wanted. A local root then never walks
  // the skipped subtrees; an object store lists keys, not directories, and lists them all.
  using DirectoryFilter = std::function<bool(std::string_view dir)>;
  virtual Result<std::vector<FileInfo>> ListWhere(const std::string& prefix, const DirectoryFilter& descend) {
    (void)descend;
    return List(prefix);
  }
  // Exclusive right to change `dataset`; FailedPrecondition if another process holds it.
  virtual Result<std::unique_ptr<DatasetLock>> LockDataset(const std::string& dataset) = 0;
  // Where a person finds the file: an absolute path, or s3://bucket/key.
  virtual std::string DisplayPath(const std::string& path) const = 0;
  // Local paths with the current content of `files` (as List or Stat returned them): the
  // files themselves on a local root; on S3, copies in a bounded local cache, fetched only
  // when missing or when their ETag changed.
  virtual Result<ReadableFiles> OpenForReading(const std::vector<FileInfo>& files) = 0;
  // The directory every OpenForReading path lies under: what a query may read.
  virtual std::string ReadableRoot() const = 0;
  // Whether reading a small file costs a system call rather than a request over the network:
  // what may be read speculatively (a query's manifests) without slowing the query down.
  virtual bool ReadsAreLocal() const { return false; }
  // True only when nothing can lie under `dir` (relative; "" = the root) because a store with
  // directories has no such directory: what lets an export or a query skip looking for
  // manifests of a layout never written. An object store has no directories: always false.
  virtual bool HoldsNothingUnder(const std::string& dir) {
    (void)dir;
    return false;
  }
};

// A local directory. Staging lives in <root>/.pqflow/staging, which no "*.parquet" glob of
// a dataset can match because staged files end in ".tmp".
std::unique_ptr<Storage> MakeLocalStorage(const std::string& root);

// The storage of a configuration: a local directory, or an S3 bucket and prefix
// (s3_storage.h) with its client settings and credentials resolved.
Result<std::unique_ptr<Storage>> OpenStorage(const StorageConfig& config);

}  // namespace pqflow::storage
