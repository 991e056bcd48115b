#include "wal/wal_recovery.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <string_view>
#include <system_error>

namespace pqflow::wal {

namespace fs = std::filesystem;

namespace {

constexpr size_t kReadChunkBytes = 1 << 20;

struct SegmentFile {
  SegmentInfo info;
  std::string path;
};

// Reads a segment front to back through one buffer, so that each record is contiguous in
// memory however large the segment is, and a read error is an error rather than a SIGBUS.
class SegmentReader {
 public:
  SegmentReader(int fd, const std::string& path, uint64_t file_bytes) : fd_(fd), path_(path), file_bytes_(file_bytes) {}

  // The bytes [offset, offset + n), fewer where the file ends. Valid until the next call;
  // offsets must not go back.
  Result<std::string_view> Read(uint64_t offset, size_t n) {
    uint64_t want_end = std::min<uint64_t>(offset + n, file_bytes_);
    if (offset < buffer_offset_ || offset > BufferEnd()) {
      buffer_.clear();
      buffer_offset_ = offset;
    }
    if (want_end > BufferEnd()) PQ_RETURN_IF_ERROR(Fill(offset, want_end));
    uint64_t available = BufferEnd() > offset ? std::min<uint64_t>(n, BufferEnd() - offset) : 0;
    return std::string_view(buffer_).substr(offset - buffer_offset_, available);
  }

 private:
  uint64_t BufferEnd() const { return buffer_offset_ + buffer_.size(); }

  // Drops the bytes before `offset` and reads at least up to `want_end` (a whole chunk if
  // the file has it, so that small records do not cost one pread each).
  Status Fill(uint64_t offset, uint64_t want_end) {
    buffer_.erase(0, offset - buffer_offset_);
    buffer_offset_ = offset;
    size_t filled = buffer_.size();
    uint64_t read_end = std::min<uint64_t>(std::max<uint64_t>(want_end, offset + kReadChunkBytes), file_bytes_);
    buffer_.resize(read_end - offset);
    while (filled < buffer_.size()) {
      ssize_t got = ::pread(fd_, buffer_.data() + filled, buffer_.size() - filled, static_cast<off_t>(offset + filled));
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) {
        return Status::FromErrno("wal: reading " + path_ + " at offset " + std::to_string(offset + filled), errno);
      }
      if (got == 0) break;  // the file shrank since it was listed: what is missing reads as torn
      filled += static_cast<size_t>(got);
    }
    buffer_.resize(filled);
    return Status::OK();
  }

  int fd_;
  const std::string& path_;
  uint64_t file_bytes_;
  std::string buffer_;
  uint64_t buffer_offset_ = 0;  // file offset of buffer_[0]
};

Result<UniqueFd> OpenSegmentFile(const std::string& path, int flags) {
  UniqueFd fd(::open(path.c_str(), flags | O_CLOEXEC));
  if (fd.get() < 0) return Status::FromErrno("wal: opening " + path, errno);
  return fd;
}

Status NotASegment(const std::string& path, const std::string& dir, const std::string& why) {
  return Status::Corruption("wal: " + path + " is not a pqflow WAL segment: " + why +
                            "; if pqflow did not write it, move it out of " + dir);
}

// The *.wal files of `dir` in LSN order; deletes segments whose creation never finished.
Result<std::vector<SegmentFile>> ListSegments(const std::string& dir) {
  std::vector<SegmentFile> segments;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    std::string path = JoinPath(dir, name);
    if (name.ends_with(".wal.tmp")) {
      if (::unlink(path.c_str()) != 0 && errno != ENOENT) return Status::FromErrno("wal: deleting " + path, errno);
      continue;
    }
    if (!name.ends_with(".wal")) continue;
    std::optional<Lsn> first_lsn = ParseSegmentFileName(name);
    if (!first_lsn) return NotASegment(path, dir, "its name is not 20 digits + \".wal\"");
    segments.push_back({{*first_lsn, 0}, path});
  }
  if (ec) return Status::IOError("wal: listing " + dir + ": " + ec.message());
  std::sort(segments.begin(), segments.end(),
            [](const SegmentFile& a, const SegmentFile& b) { return a.info.first_lsn < b.info.first_lsn; });
  return segments;
}

// Reads the segment's size and checks its header against its name.
Status CheckSegmentHeader(SegmentFile& segment, const std::string& dir) {
  PQ_ASSIGN_OR_RETURN(UniqueFd fd, OpenSegmentFile(segment.path, O_RDONLY));
  struct stat st{};
  if (::fstat(fd.get(), &st) != 0) return Status::FromErrno("wal: stat " + segment.path, errno);
  if (!S_ISREG(st.st_mode)) return NotASegment(segment.path, dir, "it is not a regular file");
  segment.info.file_bytes = static_cast<uint64_t>(st.st_size);
  SegmentReader reader(fd.get(), segment.path, segment.info.file_bytes);
  PQ_ASSIGN_OR_RETURN(std::string_view header, reader.Read(0, kSegmentHeaderBytes));
  Result<Lsn> first_lsn = DecodeSegmentHeader(header);
  if (!first_lsn.ok() && first_lsn.status().code() == StatusCode::kCorruption) {
    return NotASegment(segment.path, dir, first_lsn.status().message());
  }
  if (!first_lsn.ok()) return first_lsn.status().WithContext("wal: " + segment.path);
  if (*first_lsn != segment.info.first_lsn) {
    return NotASegment(segment.path, dir, "its header says its first LSN is " + std::to_string(*first_lsn));
  }
  return Status::OK();
}

// Each segment must start where the one before ends, or records would be missing unseen.
Status CheckContiguous(const std::vector<SegmentFile>& segments) {
  for (size_t i = 0; i + 1 < segments.size(); ++i) {
    Lsn end = segments[i].info.end_lsn();
    if (end != segments[i + 1].info.first_lsn) {
      return Status::Corruption("wal: " + segments[i].path + " ends at LSN " + std::to_string(end) +
                                " but the next segment " + segments[i + 1].path + " starts at LSN " +
                                std::to_string(segments[i + 1].info.first_lsn) +
                                ": a segment is missing or was cut; restore it from a backup");
    }
  }
  return Status::OK();
}

Status DamagedRecord(const SegmentFile& segment, uint64_t offset, Lsn lsn, const std::string& problem) {
  return Status::Corruption("wal: reading " + segment.path + " at offset " + std::to_string(offset) + " (LSN " +
                            std::to_string(lsn) + "): " + problem +
                            ". This is not the last segment, so this is damaged data, not a write cut short by "
                            "a crash; keep a copy of the WAL directory and see docs/wal.md (Errors) for how to "
                            "start without the records from this offset on");
}

// Passes the segment's records to `replay`; returns where its valid records end, which is
// before the end of the file only for a torn tail of the last segment.
Result<uint64_t> ReplaySegment(int fd, const SegmentFile& segment, bool is_last, const ReplayFn& replay) {
  SegmentReader reader(fd, segment.path, segment.info.file_bytes);
  uint64_t offset = kSegmentHeaderBytes;
  Lsn lsn = segment.info.first_lsn;
  while (offset < segment.info.file_bytes) {
    PQ_ASSIGN_OR_RETURN(std::string_view header, reader.Read(offset, kRecordHeaderBytes));
    size_t frame_bytes = kRecordHeaderBytes + PayloadBytesToRead(header);
    PQ_ASSIGN_OR_RETURN(std::string_view frame, reader.Read(offset, frame_bytes));
    ParsedRecord parsed = ParseRecord(frame, lsn);
    if (!parsed.problem.empty()) {
      if (!is_last) return DamagedRecord(segment, offset, lsn, parsed.problem);
      return offset;
    }
    Status s = replay(parsed.record);
    if (!s.ok()) {
      return s.WithContext("wal: replaying the record at LSN " + std::to_string(lsn) + " of " + segment.path);
    }
    offset += parsed.frame_bytes;
    lsn += parsed.frame_bytes;
  }
  return offset;
}

Status CutTail(int fd, const SegmentFile& segment, uint64_t valid_bytes, Syncer& syncer) {
  if (::ftruncate(fd, static_cast<off_t>(valid_bytes)) != 0) {
    return Status::FromErrno(
        "wal: cutting the torn tail of " + segment.path + " at offset " + std::to_string(valid_bytes), errno);
  }
  return syncer.SyncFile(fd, segment.path);
}

}  // namespace

Result<RecoveredLog> RecoverLog(const std::string& dir, Syncer& syncer, const ReplayFn& replay) {
  PQ_ASSIGN_OR_RETURN(std::vector<SegmentFile> segments, ListSegments(dir));
  for (auto& segment : segments) PQ_RETURN_IF_ERROR(CheckSegmentHeader(segment, dir));
  PQ_RETURN_IF_ERROR(CheckContiguous(segments));
  RecoveredLog log;
  for (size_t i = 0; i < segments.size(); ++i) {
    SegmentFile& segment = segments[i];
    bool is_last = i + 1 == segments.size();
    PQ_ASSIGN_OR_RETURN(UniqueFd fd, OpenSegmentFile(segment.path, is_last ? O_RDWR : O_RDONLY));
    PQ_ASSIGN_OR_RETURN(uint64_t valid_bytes, ReplaySegment(fd.get(), segment, is_last, replay));
    if (valid_bytes < segment.info.file_bytes) {
      PQ_RETURN_IF_ERROR(CutTail(fd.get(), segment, valid_bytes, syncer));
      log.tail_cut_bytes = segment.info.file_bytes - valid_bytes;
      segment.info.file_bytes = valid_bytes;
    }
    log.segments.push_back(segment.info);
  }
  return log;
}

}  // namespace pqflow::wal
