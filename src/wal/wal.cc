#include "wal/wal.h"

#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "wal/crc32c.h"
#include "wal/segment_io.h"
#include "wal/wal_format.h"
#include "wal/wal_recovery.h"

namespace pqflow::wal {

namespace {

// One Append waiting for the writer. Lives on the appending thread's stack, which blocks until
// `done`, so the writer may point into its payload instead of copying it.
struct PendingAppend {
  Lsn lsn = 0;
  std::array<char, kRecordHeaderBytes> header{};
  std::string_view head;  // the payload is head + tail
  std::string_view tail;
  const std::function<void(Lsn)>* on_durable = nullptr;
  bool done = false;  // guarded by Impl::mu
  Status status;      // guarded by Impl::mu
};

uint64_t FrameBytes(size_t payload_bytes) { return kRecordHeaderBytes + payload_bytes; }

Status FailedEarlier(const Status& failure) {
  return failure.WithContext("wal: not appending, the log failed earlier (restart to replay it)");
}

}  // namespace

struct Wal::Impl {
  explicit Impl(const WalOptions& opts) : options(opts), syncer(opts.fsync) {}

  Status Start(const std::function<Status(const Record&)>& replay);
  Result<Lsn> Append(uint8_t type, std::string_view head, std::string_view tail,
                     const std::function<void(Lsn)>& on_durable);
  Status TruncateBefore(Lsn lsn);
  void Stop();

  // The writer thread and what only it calls.
  void RunWriter();
  void Complete(const std::vector<PendingAppend*>& group, size_t durable, const Status& error);
  Status WriteGroup(const std::vector<PendingAppend*>& group, size_t* durable);
  size_t RunEnd(const std::vector<PendingAppend*>& group, size_t begin) const;
  Status WriteRun(const std::vector<PendingAppend*>& group, size_t begin, size_t end);
  Status Rotate(Lsn first_lsn);
  void CutBackToSynced();
  std::string ActivePath() const { return JoinPath(options.dir, SegmentFileName(active_first_lsn)); }
  Lsn ActiveEndLsn() const { return active_first_lsn + active_bytes - kSegmentHeaderBytes; }
  bool ActiveIsFull() const { return active_bytes > options.segment_bytes && active_bytes > kSegmentHeaderBytes; }

  const WalOptions options;
  Syncer syncer;
  UniqueFd dir_lock;
  uint64_t tail_cut_bytes = 0;
  std::string log_id;  // set by Start, constant after

  // The active segment: touched only by the writer thread once Start() has returned.
  UniqueFd active_fd;
  Lsn active_first_lsn = 0;
  uint64_t active_bytes = 0;  // its file size, header included
  uint64_t synced_bytes = 0;  // active_bytes at the last successful sync: a failed group is cut back to it

  mutable std::mutex mu;
  std::condition_variable work_cv;   // the writer waits for appends or Stop()
  std::condition_variable done_cv;   // appenders wait for PendingAppend::done
  std::vector<PendingAppend*> queue;  // in LSN order
  Lsn next_lsn = 0;
  Status failed;                      // not OK once a write or sync has failed
  bool stopping = false;
  std::deque<SegmentInfo> segments;   // on disk, in LSN order; the last is the active one

  std::mutex truncate_mu;  // one TruncateBefore at a time; taken before mu
  std::thread writer;
};

Status Wal::Impl::Start(const std::function<Status(const Record&)>& replay) {
  PQ_RETURN_IF_ERROR(CreateWalDir(options.dir, syncer));
  PQ_ASSIGN_OR_RETURN(dir_lock, LockWalDir(options.dir));
  PQ_ASSIGN_OR_RETURN(std::optional<std::string> recorded_id, ReadLogId(options.dir));
  if (recorded_id) {
    log_id = *recorded_id;
  } else {
    PQ_ASSIGN_OR_RETURN(log_id, NewLogId());
  }
  auto replay_with_id = [&](const Record& r) {
    Record with_id = r;
    with_id.log_id = log_id;
    return replay(with_id);
  };
  PQ_ASSIGN_OR_RETURN(RecoveredLog log, RecoverLog(options.dir, syncer, replay_with_id));
  tail_cut_bytes = log.tail_cut_bytes;
  // A log without segments starts again at LSN 0: a new sequence, so a new id.
  if (log.segments.empty() && recorded_id) {
    PQ_ASSIGN_OR_RETURN(log_id, NewLogId());
  }
  if (log.segments.empty() || !recorded_id) PQ_RETURN_IF_ERROR(WriteLogId(options.dir, log_id, syncer));
  if (log.segments.empty()) {
    PQ_ASSIGN_OR_RETURN(active_fd, CreateSegment(options.dir, 0, syncer));
    log.segments.push_back({0, kSegmentHeaderBytes});
  } else {
    std::string path = JoinPath(options.dir, SegmentFileName(log.segments.back().first_lsn));
    active_fd = UniqueFd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
    if (active_fd.get() < 0) return Status::FromErrno("wal: opening " + path + " for appending", errno);
  }
  active_first_lsn = log.segments.back().first_lsn;
  active_bytes = synced_bytes = log.segments.back().file_bytes;
  next_lsn = ActiveEndLsn();
  segments.assign(log.segments.begin(), log.segments.end());
  writer = std::thread([this] { RunWriter(); });
  return Status::OK();
}

Result<Lsn> Wal::Impl::Append(uint8_t type, std::string_view head, std::string_view tail,
                              const std::function<void(Lsn)>& on_durable) {
  const size_t payload_bytes = head.size() + tail.size();
  if (type == 0) return Status::InvalidArgument("wal: record type 0 is reserved; use 1 to 255");
  if (payload_bytes > kMaxPayloadBytes) {
    return Status::InvalidArgument("wal: a record payload of " + std::to_string(payload_bytes) +
                                   " bytes is over the 64 MiB limit");
  }
  // Checksummed here, in parallel with other appenders, not by the single writer.
  uint32_t payload_crc = Crc32cExtend(Crc32c(head.data(), head.size()), tail.data(), tail.size());
  auto length = static_cast<uint32_t>(payload_bytes);
  PendingAppend pending;
  pending.head = head;
  pending.tail = tail;
  pending.on_durable = &on_durable;
  std::unique_lock<std::mutex> lock(mu);
  if (!failed.ok()) return FailedEarlier(failed);
  pending.lsn = next_lsn;
  next_lsn += FrameBytes(payload_bytes);
  pending.header = EncodeRecordHeader(length, type, RecordCrc(payload_crc, pending.lsn, type, length));
  queue.push_back(&pending);
  work_cv.notify_one();
  done_cv.wait(lock, [&] { return pending.done; });
  if (!pending.status.ok()) return pending.status;
  return pending.lsn;
}

void Wal::Impl::RunWriter() {
  std::vector<PendingAppend*> group;
  for (;;) {
    Status earlier_failure;
    {
      std::unique_lock<std::mutex> lock(mu);
      work_cv.wait(lock, [&] { return !queue.empty() || stopping; });
      if (queue.empty()) return;  // stopping, and everything queued is written
      group.swap(queue);
      earlier_failure = failed;
    }
    size_t durable = 0;
    Status s = earlier_failure.ok() ? Status::OK() : FailedEarlier(earlier_failure);
    if (s.ok()) {
      s = WriteGroup(group, &durable);
      if (!s.ok()) CutBackToSynced();
    }
    Complete(group, durable, s);
    group.clear();
  }
}

// Runs the callbacks of the durable appends in LSN order, then wakes every appender of the group.
void Wal::Impl::Complete(const std::vector<PendingAppend*>& group, size_t durable, const Status& error) {
  for (size_t i = 0; i < durable; ++i) {
    if (*group[i]->on_durable) (*group[i]->on_durable)(group[i]->lsn);
  }
  {
    std::lock_guard<std::mutex> lock(mu);
    if (!error.ok() && failed.ok()) failed = error;
    for (size_t i = 0; i < group.size(); ++i) {
      if (i >= durable) group[i]->status = error;
      group[i]->done = true;
    }
  }
  done_cv.notify_all();
}

// Writes and syncs the group, one run per segment it touches; `durable` counts the appends
// (a prefix of the group) that are synced, also when an error follows.
Status Wal::Impl::WriteGroup(const std::vector<PendingAppend*>& group, size_t* durable) {
  size_t begin = 0;
  while (begin < group.size()) {
    if (ActiveIsFull()) PQ_RETURN_IF_ERROR(Rotate(group[begin]->lsn));
    if (group[begin]->lsn != ActiveEndLsn()) {
      return Status::Internal("wal: record LSN " + std::to_string(group[begin]->lsn) + " does not follow the end of " +
                              ActivePath() + " at LSN " + std::to_string(ActiveEndLsn()));
    }
    size_t end = RunEnd(group, begin);
    PQ_RETURN_IF_ERROR(WriteRun(group, begin, end));
    PQ_RETURN_IF_ERROR(syncer.SyncData(active_fd.get(), ActivePath()));
    synced_bytes = active_bytes;
    *durable = end;
    begin = end;
  }
  return Status::OK();
}

// The end of the run of appends from `begin` that go into the active segment: it takes
// records until it has grown past segment_bytes, and always at least one.
size_t Wal::Impl::RunEnd(const std::vector<PendingAppend*>& group, size_t begin) const {
  uint64_t bytes = active_bytes;
  size_t end = begin;
  do {
    bytes += FrameBytes(group[end]->head.size() + group[end]->tail.size());
    ++end;
  } while (end < group.size() && bytes <= options.segment_bytes);
  return end;
}

Status Wal::Impl::WriteRun(const std::vector<PendingAppend*>& group, size_t begin, size_t end) {
  std::vector<iovec> iov;
  iov.reserve(3 * (end - begin));
  uint64_t bytes = 0;
  for (size_t i = begin; i < end; ++i) {
    PendingAppend* p = group[i];
    iov.push_back({p->header.data(), p->header.size()});
    iov.push_back({const_cast<char*>(p->head.data()), p->head.size()});
    iov.push_back({const_cast<char*>(p->tail.data()), p->tail.size()});
    bytes += FrameBytes(p->head.size() + p->tail.size());
  }
  PQ_RETURN_IF_ERROR(WriteAllAt(active_fd.get(), iov, active_bytes, ActivePath()));
  active_bytes += bytes;
  std::lock_guard<std::mutex> lock(mu);
  segments.back().file_bytes = active_bytes;
  return Status::OK();
}

Status Wal::Impl::Rotate(Lsn first_lsn) {
  PQ_ASSIGN_OR_RETURN(UniqueFd fd, CreateSegment(options.dir, first_lsn, syncer));
  active_fd = std::move(fd);
  active_first_lsn = first_lsn;
  active_bytes = synced_bytes = kSegmentHeaderBytes;
  std::lock_guard<std::mutex> lock(mu);
  segments.push_back({first_lsn, kSegmentHeaderBytes});
  return Status::OK();
}

// After a failed write or sync, tries to remove what was not acknowledged, so that the next
// start-up does not replay records whose Append failed. Best effort: the log is failed anyway.
// Always cuts: a write that failed part-way has put bytes past active_bytes.
void Wal::Impl::CutBackToSynced() {
  if (::ftruncate(active_fd.get(), static_cast<off_t>(synced_bytes)) != 0) return;
  if (!syncer.SyncData(active_fd.get(), ActivePath()).ok()) return;
  active_bytes = synced_bytes;
  std::lock_guard<std::mutex> lock(mu);
  segments.back().file_bytes = active_bytes;
}

Status Wal::Impl::TruncateBefore(Lsn lsn) {
  std::lock_guard<std::mutex> one_at_a_time(truncate_mu);
  std::vector<Lsn> doomed;  // first LSNs
  {
    std::lock_guard<std::mutex> lock(mu);
    if (lsn > next_lsn) {
      return Status::InvalidArgument("wal: cannot truncate before LSN " + std::to_string(lsn) +
                                     ": the log ends at LSN " + std::to_string(next_lsn));
    }
    for (size_t i = 0; i + 1 < segments.size() && segments[i].end_lsn() <= lsn; ++i) {
      doomed.push_back(segments[i].first_lsn);
    }
  }
  // Only this function removes segments and the writer only adds at the back, so the doomed
  // ones stay at the front of `segments` while their files are deleted.
  Status s;
  size_t deleted = 0;
  for (Lsn first_lsn : doomed) {
    std::string path = JoinPath(options.dir, SegmentFileName(first_lsn));
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
      s = Status::FromErrno("wal: deleting " + path, errno);
      break;
    }
    ++deleted;
    std::lock_guard<std::mutex> lock(mu);
    segments.pop_front();
  }
  if (deleted > 0) {
    Status synced = syncer.SyncDir(options.dir);
    if (s.ok()) s = synced;
  }
  return s;
}

void Wal::Impl::Stop() {
  if (!writer.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(mu);
    stopping = true;
  }
  work_cv.notify_one();
  writer.join();
}

Wal::Wal() = default;

Wal::~Wal() { impl_->Stop(); }

Result<std::unique_ptr<Wal>> Wal::Open(const WalOptions& options, const std::function<Status(const Record&)>& replay) {
  if (options.dir.empty()) return Status::InvalidArgument("wal: no directory given");
  std::unique_ptr<Wal> wal(new Wal());
  wal->impl_ = std::make_unique<Impl>(options);
  PQ_RETURN_IF_ERROR(wal->impl_->Start(replay));
  return wal;
}

Result<Lsn> Wal::Append(uint8_t type, std::string_view head, std::string_view tail,
                        const std::function<void(Lsn)>& on_durable) {
  return impl_->Append(type, head, tail, on_durable);
}

Status Wal::TruncateBefore(Lsn lsn) { return impl_->TruncateBefore(lsn); }

Lsn Wal::EndOf(Lsn lsn, size_t payload_bytes) { return lsn + kRecordHeaderBytes + payload_bytes; }

uint64_t Wal::SizeBytes() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  uint64_t bytes = 0;
  for (const SegmentInfo& s : impl_->segments) bytes += s.file_bytes;
  return bytes;
}

Lsn Wal::NextLsn() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->next_lsn;
}

uint64_t Wal::tail_cut_bytes() const { return impl_->tail_cut_bytes; }

const std::string& Wal::log_id() const { return impl_->log_id; }

uint64_t Wal::fsyncs() const { return impl_->syncer.count(); }

}  // namespace pqflow::wal
