#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <mutex>
#include <set>
#include <unordered_set>
#include <system_error>

#include "core/parallel.h"
#include "storage/local_dirs.h"
#include "storage/storage.h"

namespace pqflow::storage {

namespace fs = std::filesystem;

namespace {

// Above this many files, one syncfs() of the filesystem is far cheaper than one fsync()
// per file and per directory (the many-partitions case writes hundreds of thousands).
constexpr size_t kSyncfsThreshold = 64;

Status FsyncPath(const std::string& path, bool directory) {
  int fd = ::open(path.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno("opening " + path + " to sync it", errno);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return Status::FromErrno("syncing " + path, err);
  return Status::OK();
}

Status SyncFilesystemOf(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno("opening " + path, errno);
  int rc = ::syncfs(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return Status::FromErrno("syncing the filesystem of " + path, err);
  return Status::OK();
}

Status MakeParents(const fs::path& p) {
  std::error_code ec;
  fs::create_directories(p.parent_path(), ec);
  if (ec) return Status::IOError("creating directory " + p.parent_path().string() + ": " + ec.message());
  return Status::OK();
}

int64_t MtimeNs(const struct stat& st) {
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
}

class LocalStorage final : public Storage {
 public:
  explicit LocalStorage(std::string root)
      : root_(fs::absolute(root).lexically_normal()),
        root_prefix_len_(root_.string().size() + (root_.string().ends_with('/') ? 0 : 1)) {}

  std::string Describe() const override { return root_.string(); }

  Result<std::string> MakeStagingDir(const std::string& name) override {
    return MakeEmptyDir((root_ / ".pqflow" / "staging" / name).string());
  }

  Status RemoveStagingDir(const std::string& local_dir) override { return RemoveDirTree(local_dir); }

  Status SyncStaged(const std::vector<std::string>& local_paths) override {
    if (local_paths.size() > kSyncfsThreshold) return SyncFilesystemOf(root_.string());
    for (const auto& p : local_paths) PQ_RETURN_IF_ERROR(FsyncPath(p, false));
    return Status::OK();
  }

  Status Publish(const std::string& staged, const std::string& dest) override {
    fs::path target = root_ / dest;
    PQ_RETURN_IF_ERROR(EnsureParent(target));
    if (::rename(staged.c_str(), target.c_str()) != 0) {
      // The parent may have been removed since this process created it.
      if (errno != ENOENT) return Status::FromErrno("publishing " + dest, errno);
      PQ_RETURN_IF_ERROR(MakeParents(target));
      if (::rename(staged.c_str(), target.c_str()) != 0) return Status::FromErrno("publishing " + dest, errno);
    }
    std::lock_guard<std::mutex> lock(dirs_mu_);
    NotePublishedDir(target.parent_path().string());
    return Status::OK();
  }

  Status PublishAll(const std::vector<StagedMove>& moves) override {
    return ParallelFor(moves.size(), FileWorkers(), [&](size_t i) -> Status {
      const StagedMove& m = moves[i];
      if (m.own_folder) {
        PQ_ASSIGN_OR_RETURN(bool folder_moved, PublishWithFolder(m));
        if (folder_moved) return Status::OK();  // the companion went with it
      } else {
        PQ_RETURN_IF_ERROR(Publish(m.local_path, m.dest));
      }
      return m.companion_dest.empty() ? Status::OK() : Publish(m.companion_local_path, m.companion_dest);
    });
  }

  // A new partition's folder is the staged file's folder, moved into place: one rename
  // instead of a mkdir, a rename and an rmdir at cleanup (removing 116,629 empty staging
  // folders alone took 10.5 s on ext4). The file takes its final name first, inside the staging folder
  // (which no dataset glob reaches). Where the destination folder exists (an earlier version
  // of the partition), the file is published alone. Returns whether the folder moved.
  Result<bool> PublishWithFolder(const StagedMove& m) {
    fs::path target = root_ / m.dest;
    fs::path folder = fs::path(m.local_path).parent_path();
    std::string renamed = (folder / target.filename()).string();
    if (::rename(m.local_path.c_str(), renamed.c_str()) != 0) return Status::FromErrno("publishing " + m.dest, errno);
    bool exists = false;
    {
      std::lock_guard<std::mutex> lock(dirs_mu_);
      exists = known_dirs_.count(target.parent_path().string()) > 0;
    }
    if (!exists) {
      PQ_RETURN_IF_ERROR(EnsureParent(target.parent_path()));
      exists = ::rename(folder.c_str(), target.parent_path().c_str()) != 0;
    }
    if (exists) {
      PQ_RETURN_IF_ERROR(Publish(renamed, m.dest));
      return false;
    }
    std::lock_guard<std::mutex> lock(dirs_mu_);
    known_dirs_.insert(target.parent_path().string());
    NotePublishedDir(target.parent_path().string());
    NotePublishedDir(target.parent_path().parent_path().string());
    return true;
  }

  Status SyncPublished() override {
    std::set<std::string> dirs;
    bool many = false;
    {
      std::lock_guard<std::mutex> lock(dirs_mu_);
      dirs.swap(published_dirs_);
      std::swap(many, published_many_dirs_);
    }
    Status synced = many ? SyncFilesystemOf(root_.string()) : Status::OK();
    while (synced.ok() && !dirs.empty()) {
      synced = FsyncPath(*dirs.begin(), true);
      if (synced.ok()) dirs.erase(dirs.begin());
    }
    if (!synced.ok()) {
      // Still owed: the next call tries these again (the event sink holds its WAL until then).
      std::lock_guard<std::mutex> lock(dirs_mu_);
      published_many_dirs_ = published_many_dirs_ || many;
      for (auto& d : dirs) NotePublishedDir(std::move(d));
    }
    return synced;
  }

  Status WriteFileAtomic(const std::string& dest, std::string_view data) override {
    return WriteFilesAtomic({{dest, std::string(data)}});
  }

  Status WriteFilesAtomic(const std::vector<std::pair<std::string, std::string>>& files) override {
    std::vector<StagedMove> temps(files.size());
    std::string suffix = ".tmp-" + std::to_string(::getpid());
    Status s = ParallelFor(files.size(), FileWorkers(), [&](size_t i) {
      const auto& [dest, data] = files[i];
      fs::path target = root_ / dest;
      std::string tmp = target.string() + suffix;
      PQ_RETURN_IF_ERROR(EnsureParent(target));
      PQ_RETURN_IF_ERROR(WriteLocalFile(tmp, data, dest));
      temps[i] = StagedMove{.local_path = tmp, .dest = dest};
      return Status::OK();
    });
    std::vector<std::string> written;
    for (const auto& t : temps) {
      if (!t.local_path.empty()) written.push_back(t.local_path);
    }
    if (s.ok()) s = SyncStaged(written);
    if (s.ok()) s = PublishAll(temps);
    if (s.ok()) return SyncPublished();
    for (const auto& t : written) ::unlink(t.c_str());
    return s;
  }

  Result<std::string> ReadFile(const std::string& path) override {
    fs::path p = root_ / path;
    int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT) return Status::NotFound(p.string() + " does not exist");
      return Status::FromErrno("opening " + p.string(), errno);
    }
    std::string out;
    char buf[1 << 16];
    for (;;) {
      ssize_t n = ::read(fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        int err = errno;
        ::close(fd);
        return Status::FromErrno("reading " + p.string(), err);
      }
      if (n == 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    return out;
  }

  Result<FileInfo> Stat(const std::string& path) override {
    struct stat st{};
    fs::path p = root_ / path;
    if (::stat(p.c_str(), &st) != 0) {
      if (errno == ENOENT) return Status::NotFound(p.string() + " does not exist");
      return Status::FromErrno("stat " + p.string(), errno);
    }
    return FileInfo{path, static_cast<int64_t>(st.st_size), MtimeNs(st), ""};
  }

  Status Delete(const std::string& path) override {
    fs::path p = root_ / path;
    if (::unlink(p.c_str()) != 0 && errno != ENOENT) return Status::FromErrno("deleting " + p.string(), errno);
    return Status::OK();
  }

  Result<std::vector<FileInfo>> List(const std::string& prefix) override { return ListWhere(prefix, {}); }

  Result<std::vector<FileInfo>> ListWhere(const std::string& prefix, const DirectoryFilter& descend) override {
    std::vector<FileInfo> out;
    fs::path base = root_ / prefix;
    std::error_code ec;
    if (!fs::exists(base, ec)) return out;
    for (auto it = fs::recursive_directory_iterator(base, fs::directory_options::skip_permission_denied, ec);
         it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (ec) return Status::IOError("listing " + base.string() + ": " + ec.message());
      if (it->path().filename() == ".pqflow" && it->is_directory()) {
        it.disable_recursion_pending();
        continue;
      }
      // The entry's type comes from the directory listing: only files cost a stat.
      std::error_code type_ec;
      if (it->is_directory(type_ec)) {
        if (descend) {
          const std::string full = it->path().string();
          if (!descend(std::string_view(full).substr(std::min(full.size(), root_prefix_len_)))) {
            it.disable_recursion_pending();
          }
        }
        continue;
      }
      struct stat st{};
      if (::stat(it->path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
      // Below root_ by construction: a prefix cut, not fs::relative (which resolves every path).
      const std::string full = it->path().string();
      std::string rel = full.substr(std::min(full.size(), root_prefix_len_));
      out.push_back(FileInfo{rel, static_cast<int64_t>(st.st_size), MtimeNs(st), ""});
    }
    std::sort(out.begin(), out.end(), [](const FileInfo& a, const FileInfo& b) { return a.path < b.path; });
    return out;
  }

  Result<std::unique_ptr<DatasetLock>> LockDataset(const std::string& dataset) override {
    return LockFile((root_ / ".pqflow" / "locks" / (dataset + ".lock")).string(), "dataset " + dataset);
  }

  std::string DisplayPath(const std::string& path) const override { return (root_ / path).string(); }

  Result<ReadableFiles> OpenForReading(const std::vector<FileInfo>& files) override {
    ReadableFiles out;
    out.local_paths.reserve(files.size());
    for (const auto& f : files) out.local_paths.push_back((root_ / f.path).string());
    return out;
  }

  std::string ReadableRoot() const override { return root_.string(); }

  bool ReadsAreLocal() const override { return true; }

  bool HoldsNothingUnder(const std::string& dir) override {
    struct stat st{};
    return ::stat((root_ / dir).c_str(), &st) != 0 && errno == ENOENT;
  }

 private:
  fs::path root_;
  size_t root_prefix_len_;  // of "<root>/"
  // Creates the parent of `target` unless this process already did: with one directory per
  // partition, create_directories' stat of every level is a measurable cost.
  Status EnsureParent(const fs::path& target) {
    std::string parent = target.parent_path().string();
    {
      std::lock_guard<std::mutex> lock(dirs_mu_);
      if (known_dirs_.count(parent) > 0) return Status::OK();
    }
    PQ_RETURN_IF_ERROR(MakeParents(target));
    std::lock_guard<std::mutex> lock(dirs_mu_);
    known_dirs_.insert(std::move(parent));
    return Status::OK();
  }

  // Directories to sync, until there are more than kSyncfsThreshold of them: then one syncfs
  // covers them all, and 200,000 folders need not be kept (dirs_mu_ held).
  void NotePublishedDir(std::string dir) {
    if (published_many_dirs_) return;
    published_dirs_.insert(std::move(dir));
    if (published_dirs_.size() > kSyncfsThreshold) {
      published_many_dirs_ = true;
      published_dirs_.clear();
    }
  }

  std::mutex dirs_mu_;  // guards the sets; Publish runs on several threads
  std::set<std::string> published_dirs_;
  bool published_many_dirs_ = false;
  std::unordered_set<std::string> known_dirs_;  // parents already created by this process
};

}  // namespace

std::unique_ptr<Storage> MakeLocalStorage(const std::string& root) { return std::make_unique<LocalStorage>(root); }

}  // namespace pqflow::storage
