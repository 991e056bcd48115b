// Rows decoded from ingested events, held column by column in DuckDB's own in-memory
// representation, so that writing a buffer to Parquet is a memcpy per column into DuckDB
// data chunks rather than a conversion per value.
//
// Representation per declared type (ColumnType):
//   boolean            1 byte (0/1)          int8..int64, uint8..uint64: their width
//   float / double     4 / 8 bytes           decimal(p,s): int16/32/64/128 by precision
//   date               int32 days since 1970-01-01
//   timestamp          int64 microseconds since the epoch (UTC)
//   timestamp_ms       int64 milliseconds since the epoch
//   uuid               duckdb_hugeint: the big-endian 128-bit value with its top bit flipped
//                      (lower = last 8 bytes, upper = first 8 bytes XOR 1<<63), as DuckDB keeps it
//   string, json, binary, ipv6: variable length, in `bytes` with `offsets`
//                      (ipv6 is always exactly 16 bytes: IPv4 stored v4-mapped, ::ffff:a.b.c.d)
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/types.h"

namespace pqflow::ingest {

// Bytes per value in ColumnData::fixed for a fixed-width type; 0 for variable-length types.
size_t FixedWidth(const ColumnType& type);

struct ColumnData {
  ColumnType type;
  size_t width = 0;              // FixedWidth(type)
  std::vector<uint8_t> fixed;    // width * rows bytes (fixed-width types; zeroes where NULL)
  std::vector<uint32_t> offsets; // variable-length types: rows + 1 offsets into `bytes`
  std::string bytes;             // variable-length types: the values, back to back
  std::vector<uint8_t> valid;    // one byte per row: 1 = value, 0 = NULL

  explicit ColumnData(ColumnType t);

  size_t rows() const { return valid.size(); }
  bool is_variable() const { return width == 0; }
  std::string_view VariableValue(size_t row) const {
    return std::string_view(bytes).substr(offsets[row], offsets[row + 1] - offsets[row]);
  }
  const uint8_t* FixedValue(size_t row) const { return fixed.data() + row * width; }

  // Appending: exactly one of these per row.
  void AppendNull();
  void AppendFixed(const void* value);  // `width` bytes
  void AppendVariable(std::string_view value);

  // Approximate heap bytes held, for the memory budget.
  size_t MemoryBytes() const { return fixed.capacity() + offsets.capacity() * 4 + bytes.capacity() + valid.capacity(); }
};

// A set of rows for one schema: every column has the same number of rows.
class RowBatch {
 public:
  RowBatch() = default;
  explicit RowBatch(const std::vector<ColumnType>& types);

  size_t rows() const { return columns_.empty() ? 0 : columns_[0].rows(); }
  size_t column_count() const { return columns_.size(); }
  ColumnData& column(size_t i) { return columns_[i]; }
  const ColumnData& column(size_t i) const { return columns_[i]; }

  // Appends the given rows of `other` (same column types), in the order given.
  void AppendRows(const RowBatch& other, const std::vector<uint32_t>& row_indices) {
    AppendRows(other, row_indices.data(), row_indices.size());
  }
  void AppendRows(const RowBatch& other, const uint32_t* row_indices, size_t count);
  // Reserves room for `rows` more rows and `bytes_per_column[c]` more bytes of each variable column.
  void Reserve(size_t rows, const std::vector<size_t>& bytes_per_column);
  // Appends all rows of `other`.
  void AppendAll(const RowBatch& other);
  // Drops the last rows so that `rows` remain (undoing a partly appended row).
  void Truncate(size_t rows);
  void Clear();
  size_t MemoryBytes() const;

 private:
  std::vector<ColumnData> columns_;
};

// Rows kept as a list of RowBatch chunks of at most kRowsPerChunk rows, for buffers that
// grow to millions of rows: one growing RowBatch copied everything it held into a larger
// allocation, and faulted in that allocation's fresh pages, at every doubling (14% of the
// server's CPU under load). A full chunk stays where it is; the next one is allocated at
// once at the size the last one reached.
class RowChunks {
 public:
  static constexpr size_t kRowsPerChunk = 4 * 2048;  // whole DuckDB vectors

  RowChunks() = default;
  explicit RowChunks(std::vector<ColumnType> types) : types_(std::move(types)) {}

  size_t rows() const { return rows_; }
  const std::vector<RowBatch>& chunks() const { return chunks_; }
  // Appends the given rows of `other` (of these column types), in the order given.
  void AppendRows(const RowBatch& other, const std::vector<uint32_t>& row_indices);
  // Moves the chunks of `other` after these.
  void AppendAll(RowChunks&& other);
  // Appends every row to `out` (of these column types).
  void AppendTo(RowBatch* out) const;
  // Approximate heap bytes held, for the memory budget.
  size_t MemoryBytes() const { return full_chunk_bytes_ + (chunks_.empty() ? 0 : chunks_.back().MemoryBytes()); }

 private:
  RowBatch& ChunkWithRoom();

  std::vector<ColumnType> types_;
  std::vector<RowBatch> chunks_;
  size_t rows_ = 0;
  size_t full_chunk_bytes_ = 0;  // MemoryBytes of every chunk but the last
};

}  // namespace pqflow::ingest
