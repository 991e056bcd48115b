#include "storage/object_cache.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/parallel.h"
#include "core/text.h"

namespace pqflow::storage {

namespace fs = std::filesystem;

namespace {

// Data under <dir>/objects, ETag sidecars under <dir>/etags: a key can never collide with a
// sidecar, and readers are allowed into objects/ only.
constexpr const char* kObjects = "objects";
constexpr const char* kEtags = "etags";

std::string ReadSmallFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return in ? s.str() : std::string();
}

Status WriteSmallFileAtomic(const fs::path& p, const std::string& data) {
  std::error_code ec;
  fs::create_directories(p.parent_path(), ec);
  if (ec) return Status::IOError("creating " + p.parent_path().string() + ": " + ec.message());
  const std::string tmp = p.string() + ".tmp-" + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << data;
    if (!out.flush()) return Status::IOError("writing " + tmp);
  }
  if (::rename(tmp.c_str(), p.c_str()) != 0) return Status::FromErrno("renaming " + tmp, errno);
  return Status::OK();
}

std::string UniqueSuffix() {
  static std::atomic<uint64_t> counter{0};
  return ".part-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
}

}  // namespace

Result<std::unique_ptr<ObjectCache>> ObjectCache::Open(std::string dir, uint64_t capacity_bytes) {
  std::unique_ptr<ObjectCache> cache(new ObjectCache(std::move(dir), capacity_bytes));
  const fs::path objects = fs::path(cache->dir_) / kObjects;
  std::error_code ec;
  fs::create_directories(objects, ec);
  if (ec) return Status::IOError("creating the cache directory " + objects.string() + ": " + ec.message());
  return cache;
}

ObjectCache::Entry* ObjectCache::Find(const std::string& path) {
  auto it = entries_.find(path);
  if (it != entries_.end() || scanned_) return it == entries_.end() ? nullptr : &it->second;
  // Not scanned yet: an entry left by an earlier process counts if its sidecar is there.
  std::error_code ec;
  const std::string local = LocalPath(path);
  const auto size = fs::file_size(local, ec);
  if (ec) return nullptr;
  std::string etag = ReadSmallFile(fs::path(dir_) / kEtags / path);
  if (etag.empty()) return nullptr;
  Entry& e = entries_[path];
  e.bytes = static_cast<uint64_t>(size);
  e.etag = std::move(etag);
  bytes_ += e.bytes;
  return &e;
}

void ObjectCache::Scan() {
  if (scanned_) return;
  scanned_ = true;
  const fs::path objects = fs::path(dir_) / kObjects;
  const fs::path etags = fs::path(dir_) / kEtags;
  struct Found {
    std::string path;
    uint64_t bytes;
    std::string etag;
    fs::file_time_type mtime;
  };
  std::vector<Found> found;
  const size_t cut = objects.string().size() + 1;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(objects, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    const std::string full = it->path().string();
    const std::string rel = full.substr(std::min(full.size(), cut));
    if (entries_.count(rel) > 0) continue;  // known already (in use by this process)
    // A download that was interrupted, or an entry whose sidecar never got written; removed
    // once it is old enough not to be another process's download in progress.
    std::string etag = ReadSmallFile(etags / rel);
    if (full.find(".part-") != std::string::npos || etag.empty()) {
      const auto age = fs::file_time_type::clock::now() - it->last_write_time(ec);
      if (!ec && age > std::chrono::minutes(10)) fs::remove(it->path(), ec);
      continue;
    }
    found.push_back({rel, static_cast<uint64_t>(it->file_size(ec)), std::move(etag), it->last_write_time(ec)});
  }
  // Entries of earlier processes are older than any this process used: the least recent first.
  std::sort(found.begin(), found.end(), [](const Found& a, const Found& b) { return a.mtime < b.mtime; });
  const uint64_t n = found.size();
  for (auto& [path, e] : entries_) e.last_use += n;
  clock_ += n;
  for (uint64_t i = 0; i < n; ++i) {
    entries_[found[i].path] = Entry{found[i].bytes, std::move(found[i].etag), i + 1, 0};
    bytes_ += found[i].bytes;
  }
}

std::string ObjectCache::LocalPath(const std::string& path) const {
  return (fs::path(dir_) / kObjects / path).string();
}

uint64_t ObjectCache::size() {
  std::lock_guard<std::mutex> lock(mu_);
  Scan();
  return bytes_;
}

Status ObjectCache::MakeRoom(uint64_t incoming) {
  if (incoming == 0) return Status::OK();
  Scan();  // the whole directory counts against the capacity
  while (bytes_ + incoming > capacity_) {
    auto victim = entries_.end();
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
      if (it->second.pins == 0 && (victim == entries_.end() || it->second.last_use < victim->second.last_use)) {
        victim = it;
      }
    }
    if (victim == entries_.end()) {
      return Status::FailedPrecondition("the local cache " + dir_ + " (" + HumanBytes(static_cast<int64_t>(capacity_)) +
                                        ") is full of files in use; " + HumanBytes(static_cast<int64_t>(incoming)) +
                                        " more do not fit: raise storage.cache_size or narrow the query's "
                                        "partition filter");
    }
    std::error_code ec;
    fs::remove(fs::path(dir_) / kEtags / victim->first, ec);
    fs::remove(LocalPath(victim->first), ec);
    bytes_ -= victim->second.bytes;
    entries_.erase(victim);
  }
  return Status::OK();
}

void ObjectCache::Unpin(const std::vector<std::string>& paths) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& p : paths) {
    auto it = entries_.find(p);
    if (it != entries_.end() && it->second.pins > 0) --it->second.pins;
  }
}

Result<ReadableFiles> ObjectCache::Acquire(const std::vector<FileInfo>& files, const Fetch& fetch, int workers) {
  ReadableFiles out;
  std::vector<std::string> pinned;
  std::vector<size_t> missing;  // indexes into files
  {
    std::lock_guard<std::mutex> lock(mu_);
    uint64_t wanted = 0, incoming = 0;
    for (const auto& f : files) wanted += static_cast<uint64_t>(std::max<int64_t>(f.size, 0));
    if (wanted > capacity_) {
      return Status::FailedPrecondition("the files to read (" + std::to_string(files.size()) + ", " +
                                        HumanBytes(static_cast<int64_t>(wanted)) + ") do not fit in the local cache " +
                                        dir_ + " (" + HumanBytes(static_cast<int64_t>(capacity_)) +
                                        "): raise storage.cache_size or narrow the query's partition filter");
    }
    for (size_t i = 0; i < files.size(); ++i) {
      const FileInfo& f = files[i];
      if (Find(f.path) == nullptr) entries_[f.path] = Entry{};
      Entry& e = entries_[f.path];
      e.last_use = ++clock_;
      ++e.pins;
      pinned.push_back(f.path);
      const bool current = !e.etag.empty() && e.etag == f.etag && static_cast<int64_t>(e.bytes) == f.size;
      if (current) {
        ::utimensat(AT_FDCWD, LocalPath(f.path).c_str(), nullptr, 0);  // last use, for the next process's scan
        continue;
      }
      // Stale or absent: its sidecar goes first so that a crash mid-download leaves no
      // entry that looks current.
      std::error_code ec;
      fs::remove(fs::path(dir_) / kEtags / f.path, ec);
      e.etag.clear();
      bytes_ -= e.bytes;
      e.bytes = 0;
      incoming += static_cast<uint64_t>(std::max<int64_t>(f.size, 0));
      missing.push_back(i);
    }
    if (Status s = MakeRoom(incoming); !s.ok()) {
      for (const auto& p : pinned) --entries_[p].pins;
      return s;
    }
    for (size_t i : missing) {
      entries_[files[i].path].bytes = static_cast<uint64_t>(std::max<int64_t>(files[i].size, 0));
    }
    bytes_ += incoming;
  }
  auto unpin_on_failure = [&](Status s) {
    std::lock_guard<std::mutex> lock(mu_);
    for (size_t i : missing) {
      auto it = entries_.find(files[i].path);
      if (it != entries_.end() && it->second.etag.empty()) {
        bytes_ -= it->second.bytes;
        it->second.bytes = 0;
      }
    }
    for (const auto& p : pinned) --entries_[p].pins;
    return s;
  };
  std::vector<std::string> etags(files.size());
  Status s = ParallelFor(missing.size(), std::max(1, workers), [&](size_t k) -> Status {
    const FileInfo& f = files[missing[k]];
    const std::string local = LocalPath(f.path);
    std::error_code ec;
    fs::create_directories(fs::path(local).parent_path(), ec);
    if (ec) return Status::IOError("creating " + fs::path(local).parent_path().string() + ": " + ec.message());
    const std::string tmp = local + UniqueSuffix();
    Result<std::string> etag = fetch(f, tmp);
    if (etag.ok() && f.size >= 0 && static_cast<int64_t>(fs::file_size(tmp, ec)) != f.size) {
      etag = Status::IOError("fetching " + f.path + ": got " + std::to_string(fs::file_size(tmp, ec)) +
                             " bytes, the listing said " + std::to_string(f.size) + " (changed while reading? try again)");
    }
    if (!etag.ok()) {
      fs::remove(tmp, ec);
      return etag.status();
    }
    if (::rename(tmp.c_str(), local.c_str()) != 0) return Status::FromErrno("renaming " + tmp, errno);
    PQ_RETURN_IF_ERROR(WriteSmallFileAtomic(fs::path(dir_) / kEtags / f.path, *etag));
    etags[missing[k]] = std::move(*etag);
    return Status::OK();
  });
  if (!s.ok()) return unpin_on_failure(s);
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (size_t i : missing) {
      entries_[files[i].path].etag = etags[i];
      out.bytes_fetched += static_cast<uint64_t>(std::max<int64_t>(files[i].size, 0));
    }
  }
  out.files_fetched = missing.size();
  for (const auto& f : files) out.local_paths.push_back(LocalPath(f.path));
  out.pin = std::shared_ptr<void>(nullptr, [this, pinned](void*) { Unpin(pinned); });
  return out;
}

}  // namespace pqflow::storage
