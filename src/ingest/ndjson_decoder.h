// Decoding one ingest request body (NDJSON: one JSON object per line) into typed rows of a
// stream's schema. A batch is atomic: the caller keeps the rows only when there are no
// errors, and every error names the line, the field and what is wrong. A JSON integer for a
// timestamp or timestamp_ms column is always epoch milliseconds; strings are RFC 3339 /
// ISO 8601 (no offset = UTC). Every value is validated as JSON, also inside json/binary
// values, and kept as written (numbers are not reformatted).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/dataset_config.h"
#include "ingest/row_batch.h"

namespace pqflow::ingest {

// What the JSON parser may read past the end of a line (its SIMD loads): a body whose buffer
// has this much room after it is decoded without being copied.
inline constexpr size_t kDecodePadding = 64;

struct LineError {
  int64_t line = 0;    // 1-based line number in the body
  std::string field;   // the column's input field; empty when the line itself is wrong
  std::string reason;  // e.g. "expected one of track, identify, group, alias, enrich; got \"trak\""
};

struct DecodedBatch {
  RowBatch rows;                  // one row per non-blank line, columns in stream order
  std::vector<int64_t> row_lines; // the body line of each row (1-based)
  std::vector<LineError> errors;  // non-empty: the batch must be rejected as a whole
  bool errors_truncated = false;  // more errors than max_errors were found
};

class NdjsonDecoder {
 public:
  explicit NdjsonDecoder(const StreamConfig& stream);
  ~NdjsonDecoder();
  NdjsonDecoder(const NdjsonDecoder&) = delete;
  NdjsonDecoder& operator=(const NdjsonDecoder&) = delete;

  // `receipt_ms` fills the receipt_time columns. Collects at most `max_errors` errors.
  // `readable_past_end`: bytes of the body's buffer after its end that may be read (not
  // used): with kDecodePadding or more the body is parsed where it is, otherwise a padded
  // copy is made first. Thread-compatible: one decoder per thread (it owns a parser and
  // its buffers).
  DecodedBatch Decode(std::string_view body, int64_t receipt_ms, size_t max_errors = 100,
                      size_t readable_past_end = 0);

 private:
  struct Impl;
  Impl* impl_;
};

}  // namespace pqflow::ingest
