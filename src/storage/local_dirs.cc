#include "storage/local_dirs.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

namespace pqflow::storage {

namespace fs = std::filesystem;

namespace {

class FlockDatasetLock final : public DatasetLock {
 public:
  explicit FlockDatasetLock(int fd) : fd_(fd) {}
  ~FlockDatasetLock() override { ::close(fd_); }  // closing releases the flock

 private:
  int fd_;
};

}  // namespace

Status WriteLocalFile(const std::string& path, std::string_view data, const std::string& name) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::FromErrno("creating " + path, errno);
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      ::unlink(path.c_str());
      return Status::FromErrno("writing " + name, err);
    }
    off += static_cast<size_t>(n);
  }
  if (::close(fd) != 0) return Status::FromErrno("writing " + name, errno);
  return Status::OK();
}

Result<std::string> MakeEmptyDir(const std::string& dir) {
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir, ec);
  if (ec) return Status::IOError("creating staging directory " + dir + ": " + ec.message());
  return dir;
}

Status RemoveDirTree(const std::string& dir) {
  std::error_code ec;
  fs::remove_all(dir, ec);
  if (ec) return Status::IOError("removing " + dir + ": " + ec.message());
  return Status::OK();
}

Result<std::unique_ptr<DatasetLock>> LockFile(const std::string& lock_path, const std::string& what) {
  std::error_code ec;
  fs::create_directories(fs::path(lock_path).parent_path(), ec);
  if (ec) return Status::IOError("creating " + fs::path(lock_path).parent_path().string() + ": " + ec.message());
  int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Status::FromErrno("opening lock " + lock_path, errno);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return Status::FailedPrecondition("another pqflow run is changing " + what + " (lock " + lock_path +
                                      " is held); wait for it to finish");
  }
  return std::unique_ptr<DatasetLock>(new FlockDatasetLock(fd));
}

}  // namespace pqflow::storage
