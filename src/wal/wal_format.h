// The bytes of the WAL: segment file names, the segment header and record framing.
// docs/wal.md is the specification; change the two together.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "wal/wal.h"

namespace pqflow::wal {

constexpr size_t kSegmentHeaderBytes = 20;  // magic 5, version 1, reserved 2, first LSN 8, CRC 4
constexpr size_t kRecordHeaderBytes = 9;    // length 4, type 1, CRC 4
constexpr uint32_t kMaxPayloadBytes = 64u << 20;
constexpr uint8_t kFormatVersion = 1;

// "00000000000000000042.wal" for a segment whose first record has LSN 42.
std::string SegmentFileName(Lsn first_lsn);
// The first LSN named by a segment file name, or nullopt unless it is 20 digits + ".wal".
std::optional<Lsn> ParseSegmentFileName(std::string_view name);

std::array<char, kSegmentHeaderBytes> EncodeSegmentHeader(Lsn first_lsn);
// The first LSN of a segment header. The error says what is wrong without naming the file
// (kCorruption, or kFailedPrecondition for a format version this build does not read).
Result<Lsn> DecodeSegmentHeader(std::string_view header);

// A record's CRC is that of payload ‖ LSN ‖ type ‖ length: the payload part is computed by
// the appending thread before it knows its LSN, the rest under the log's lock.
uint32_t RecordCrc(uint32_t payload_crc, Lsn lsn, uint8_t type, uint32_t length);
std::array<char, kRecordHeaderBytes> EncodeRecordHeader(uint32_t length, uint8_t type, uint32_t crc);

// How many payload bytes to read after this record header: its length, or 0 when the header
// cannot be valid (type 0, or a length over the limit), so that garbage never makes a reader
// buffer megabytes.
size_t PayloadBytesToRead(std::string_view header);

struct ParsedRecord {
  Record record;            // valid when problem is empty; payload points into the parsed bytes
  size_t frame_bytes = 0;   // header + payload
  std::string problem;      // why these bytes are not a valid record, empty if they are
};

// Parses the record at `lsn` from `bytes`, which start at its first byte and hold at least its
// header and payload unless the segment ends sooner.
ParsedRecord ParseRecord(std::string_view bytes, Lsn lsn);

}  // namespace pqflow::wal
