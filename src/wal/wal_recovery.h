// Start-up of the WAL: checks the segments, replays their records in LSN order and cuts a
// torn tail of the last segment (docs/wal.md, "Start-up").
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/status.h"
#include "wal/segment_io.h"
#include "wal/wal.h"
#include "wal/wal_format.h"

namespace pqflow::wal {

struct SegmentInfo {
  Lsn first_lsn = 0;        // also its file name
  uint64_t file_bytes = 0;  // header included
  Lsn end_lsn() const { return first_lsn + file_bytes - kSegmentHeaderBytes; }
};

struct RecoveredLog {
  std::vector<SegmentInfo> segments;  // in LSN order, contiguous; empty for a new log
  uint64_t tail_cut_bytes = 0;
};

using ReplayFn = std::function<Status(const Record&)>;

// Replays the log in `dir` (which must exist and be locked by the caller) and deletes
// leftover *.wal.tmp files. Errors name the file and offset; see docs/wal.md, "Errors".
Result<RecoveredLog> RecoverLog(const std::string& dir, Syncer& syncer, const ReplayFn& replay);

}  // namespace pqflow::wal
