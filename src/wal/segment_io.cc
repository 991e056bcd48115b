#include "wal/segment_io.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <filesystem>
#include <system_error>
#include <utility>

#include "core/crypto.h"
#include "wal/wal_format.h"

namespace pqflow::wal {

namespace fs = std::filesystem;

Status Syncer::SyncData(int fd, const std::string& path) {
  if (!enabled_) return Status::OK();
  count_.fetch_add(1, std::memory_order_relaxed);
  if (::fdatasync(fd) != 0) return Status::FromErrno("wal: syncing " + path, errno);
  return Status::OK();
}

Status Syncer::SyncFile(int fd, const std::string& path) {
  if (!enabled_) return Status::OK();
  count_.fetch_add(1, std::memory_order_relaxed);
  if (::fsync(fd) != 0) return Status::FromErrno("wal: syncing " + path, errno);
  return Status::OK();
}

Status Syncer::SyncDir(const std::string& dir) {
  if (!enabled_) return Status::OK();
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return Status::FromErrno("wal: opening directory " + dir + " to sync it", errno);
  return SyncFile(fd.get(), dir);
}

std::string JoinPath(const std::string& dir, std::string_view name) {
  std::string path = dir;
  if (!path.empty() && path.back() != '/') path += '/';
  path += name;
  return path;
}

Status CreateWalDir(const std::string& dir, Syncer& syncer) {
  std::error_code ec;
  bool created = fs::create_directories(dir, ec);
  if (ec) return Status::IOError("wal: creating directory " + dir + ": " + ec.message());
  if (!created) return Status::OK();
  fs::path parent = fs::path(dir).lexically_normal().parent_path();
  return syncer.SyncDir(parent.empty() ? "." : parent.string());
}

Result<UniqueFd> LockWalDir(const std::string& dir) {
  std::string path = JoinPath(dir, "LOCK");
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  if (fd.get() < 0) return Status::FromErrno("wal: opening " + path, errno);
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK) return Status::FromErrno("wal: locking " + path, errno);
    return Status::FailedPrecondition("wal: another process has the WAL in " + dir + " open (" + path +
                                      " is locked); stop it first");
  }
  return fd;
}

namespace {

// Creates dir/name with `content`, published under that name only once it is durable (temp
// file, sync, rename, sync of the directory). Returns it opened for writing.
Result<UniqueFd> CreateDurably(const std::string& dir, const std::string& name, std::string_view content,
                               Syncer& syncer) {
  const std::string path = JoinPath(dir, name);
  const std::string temp = path + ".tmp";
  UniqueFd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (fd.get() < 0) return Status::FromErrno("wal: creating " + temp, errno);
  std::vector<iovec> iov = {{const_cast<char*>(content.data()), content.size()}};
  Status s = WriteAllAt(fd.get(), iov, 0, temp);
  if (s.ok()) s = syncer.SyncFile(fd.get(), temp);
  if (s.ok() && ::rename(temp.c_str(), path.c_str()) != 0) s = Status::FromErrno("wal: renaming " + temp, errno);
  if (!s.ok()) {
    ::unlink(temp.c_str());
    return s;
  }
  PQ_RETURN_IF_ERROR(syncer.SyncDir(dir));
  return fd;
}

}  // namespace

Result<std::optional<std::string>> ReadLogId(const std::string& dir) {
  const std::string path = JoinPath(dir, "LOG_ID");
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    if (errno == ENOENT) return std::optional<std::string>();
    return Status::FromErrno("wal: opening " + path, errno);
  }
  char buf[64];
  ssize_t n = ::read(fd.get(), buf, sizeof buf);
  if (n < 0) return Status::FromErrno("wal: reading " + path, errno);
  std::string id(buf, static_cast<size_t>(n));
  while (!id.empty() && (id.back() == '\n' || id.back() == ' ')) id.pop_back();
  if (id.empty() || id.size() > 40 ||
      !std::all_of(id.begin(), id.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; })) {
    return Status::Corruption("wal: " + path + " does not hold a log id; delete it only together with every *.wal "
                              "segment (that starts a new log)");
  }
  return std::optional<std::string>(std::move(id));
}

Status WriteLogId(const std::string& dir, const std::string& id, Syncer& syncer) {
  return CreateDurably(dir, "LOG_ID", id + "\n", syncer).status();
}

Result<std::string> NewLogId() {
  uint8_t bytes[16];
  PQ_RETURN_IF_ERROR(RandomBytes(bytes, sizeof bytes).WithContext("wal: making a log id"));
  return HexLower(bytes, sizeof bytes);
}

Status WriteAllAt(int fd, std::vector<iovec>& iov, uint64_t offset, const std::string& path) {
  size_t next = 0;
  while (next < iov.size()) {
    if (iov[next].iov_len == 0) {
      ++next;
      continue;
    }
    int count = static_cast<int>(std::min<size_t>(iov.size() - next, IOV_MAX));
    ssize_t n = ::pwritev(fd, &iov[next], count, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = n < 0 ? errno : EIO;  // a write of nothing would loop forever
      return Status::FromErrno("wal: writing " + path + " at offset " + std::to_string(offset), err);
    }
    offset += static_cast<uint64_t>(n);
    for (auto left = static_cast<size_t>(n); left > 0;) {
      size_t step = std::min(left, iov[next].iov_len);
      iov[next].iov_base = static_cast<char*>(iov[next].iov_base) + step;
      iov[next].iov_len -= step;
      left -= step;
      if (iov[next].iov_len == 0) ++next;
    }
  }
  return Status::OK();
}

Result<UniqueFd> CreateSegment(const std::string& dir, Lsn first_lsn, Syncer& syncer) {
  auto header = EncodeSegmentHeader(first_lsn);
  return CreateDurably(dir, SegmentFileName(first_lsn), std::string_view(header.data(), header.size()), syncer);
}

}  // namespace pqflow::wal
