// The write-ahead log of `pqflow serve`: an ingested batch is acknowledged only after its
// record is on disk and fsynced. Concurrent appends share one write and one fsync (group
// commit). After a crash, Open() replays every record still in the log, in order, and cuts
// a torn tail. The record format is documented in docs/wal.md.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"

namespace pqflow::wal {

// A record's position: the byte offset of its first byte in the log as if the records of all
// segments were one stream (segment headers do not count). A new log's first record is LSN 0;
// the next record's LSN is this one + 9 + payload bytes. Strictly increasing; an acknowledged
// LSN is never reused, also across restarts and truncation (only an operator's repair of a
// corrupt log, see docs/wal.md, hands LSNs out again; a failed Append's LSN may be reused).
using Lsn = uint64_t;

struct WalOptions {
  std::string dir;                          // created if missing; holds *.wal segments and LOCK
  uint64_t segment_bytes = 64ull << 20;     // a segment is closed once its file grows past this
  bool fsync = true;                        // false only in tests that measure nothing durable
};

struct Record {
  Lsn lsn = 0;
  uint8_t type = 0;          // caller-defined, 1..255
  std::string_view payload;  // valid during the callback only
  std::string_view log_id;   // Wal::log_id() of the log being replayed
};

class Wal {
 public:
  // Opens (or creates) the log in options.dir. Every intact record is passed to `replay` in
  // LSN order before Open returns; a torn or corrupt tail of the last segment is cut (and
  // reported through `tail_cut_bytes()`); corruption anywhere else is a kCorruption error
  // naming the segment file and offset. `replay` returning an error aborts Open with it
  // (prefixed with the record's LSN and file; its code is kept). A log already open in
  // another Wal or process is refused with kFailedPrecondition.
  static Result<std::unique_ptr<Wal>> Open(const WalOptions& options,
                                           const std::function<Status(const Record&)>& replay);
  // Closes without losing anything already acknowledged. No Append may still be running.
  ~Wal();

  // Appends one record and returns once it is durable, sharing the write and fsync with
  // concurrent callers. Thread-safe. `type` is 1..255 and the payload at most 64 MiB
  // (kInvalidArgument otherwise, and the log stays usable); the payload is not copied.
  // `on_durable(lsn)` (may be empty) runs after the fsync and before Append returns, in
  // LSN order across all callers (one at a time), so that whatever the caller does with
  // the record (e.g. buffering its rows) happens in log order. It runs on the log's writer
  // thread, so it must be quick, must not throw and must not call Append. An I/O error
  // fails this and every later Append (the log's state on disk is unknown after a failed
  // fsync): the server must restart, which replays the log.
  Result<Lsn> Append(uint8_t type, std::string_view payload, const std::function<void(Lsn)>& on_durable) {
    return Append(type, {}, payload, on_durable);
  }
  // The same, for a payload in two pieces (a header and a body the caller holds apart):
  // the record's payload is `head` followed by `tail`, written without joining them.
  Result<Lsn> Append(uint8_t type, std::string_view head, std::string_view tail,
                     const std::function<void(Lsn)>& on_durable);

  // Everything before `lsn` is kept elsewhere: whole segments that end at or before it are
  // deleted, except the active (last) one, whose name carries the LSNs forward. Records at
  // or after it stay and are replayed by the next Open, and so may some before it (those
  // sharing a segment with later ones): skip them by LSN. `lsn` past NextLsn() is
  // kInvalidArgument. Thread-safe, also while appending.
  Status TruncateBefore(Lsn lsn);

  // Thread-safe, like all of these.
  // The LSN right after a record of `payload_bytes` at `lsn`: truncating before it frees the
  // record's segment once everything in it is kept elsewhere.
  static Lsn EndOf(Lsn lsn, size_t payload_bytes);

  // The log's identity: a new log (an empty directory, or one whose segments were all
  // removed) gets a new one, since its LSNs start again at 0. Whoever records LSNs elsewhere
  // (the event sink, in its files) records the id too, and compares LSNs only under the same id.
  const std::string& log_id() const;

  uint64_t SizeBytes() const;     // bytes in all segments on disk, headers included
  Lsn NextLsn() const;            // the LSN the next record will get
  uint64_t tail_cut_bytes() const;  // bytes cut from a torn tail by Open
  // fsync/fdatasync calls on files and directories since Open, 0 without options.fsync
  // (group commit: fewer than appends under concurrency).
  uint64_t fsyncs() const;

 private:
  Wal();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pqflow::wal
