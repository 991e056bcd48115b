// A bounded local cache of remote objects, for readers that need files on disk (DuckDB has no
// httpfs here). An entry is the object's bytes at <dir>/<path> plus a "<path>.etag" sidecar
// naming the version it holds; it is used only while the sidecar matches the object's
// current ETag and the size matches, so a changed object is fetched again. Least recently
// used entries are evicted to stay under the capacity, except those pinned by a reader.
//
// Crash safety: a download goes to a temporary name and is renamed into place; the sidecar
// is removed before and written after, so an entry without a sidecar is never trusted.
// Several processes may share a directory; eviction by one can remove an entry another has
// not opened yet, which that reader then reports as a missing file (rare: entries are
// pinned only within a process).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "core/status.h"
#include "storage/storage.h"

namespace pqflow::storage {

class ObjectCache {
 public:
  // Downloads `path` into `local_file` and returns the ETag of what it wrote.
  using Fetch = std::function<Result<std::string>(const FileInfo& file, const std::string& local_file)>;

  // Creates `dir` if missing. Entries left there by earlier processes are used when asked
  // for; the whole directory is scanned only when something must be fetched (to enforce the
  // capacity), so a query whose files are all cached does not walk the cache.
  static Result<std::unique_ptr<ObjectCache>> Open(std::string dir, uint64_t capacity_bytes);

  // Makes every file present and current (fetching up to `workers` at once), pins them and
  // returns their local paths. FailedPrecondition when the files alone exceed the capacity.
  Result<ReadableFiles> Acquire(const std::vector<FileInfo>& files, const Fetch& fetch, int workers);

  const std::string& dir() const { return dir_; }
  uint64_t capacity() const { return capacity_; }
  uint64_t size();  // bytes held now (scans the directory)

 private:
  struct Entry {
    uint64_t bytes = 0;
    std::string etag;
    uint64_t last_use = 0;  // a logical clock; entries of earlier processes are ordered by mtime
    int pins = 0;
  };

  ObjectCache(std::string dir, uint64_t capacity) : dir_(std::move(dir)), capacity_(capacity) {}
  std::string LocalPath(const std::string& path) const;
  // The entry of `path`: known, or (before the scan) found on disk with its sidecar.
  Entry* Find(const std::string& path);
  void Scan();
  // Evicts unpinned entries, least recently used first, until `incoming` more bytes fit.
  Status MakeRoom(uint64_t incoming);
  void Unpin(const std::vector<std::string>& paths);

  const std::string dir_;
  const uint64_t capacity_;
  std::mutex mu_;
  std::map<std::string, Entry> entries_;
  uint64_t bytes_ = 0;
  uint64_t clock_ = 0;
  bool scanned_ = false;
};

}  // namespace pqflow::storage
