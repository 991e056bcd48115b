#include "ingest/row_batch.h"

#include <algorithm>
#include <cstring>

namespace pqflow::ingest {

size_t FixedWidth(const ColumnType& type) {
  switch (type.kind) {
    case TypeKind::kBoolean: case TypeKind::kInt8: case TypeKind::kUInt8: return 1;
    case TypeKind::kInt16: case TypeKind::kUInt16: return 2;
    case TypeKind::kInt32: case TypeKind::kUInt32: case TypeKind::kFloat: case TypeKind::kDate: return 4;
    case TypeKind::kInt64: case TypeKind::kUInt64: case TypeKind::kDouble:
    case TypeKind::kTimestamp: case TypeKind::kTimestampMs: return 8;
    case TypeKind::kUuid: return 16;
    case TypeKind::kDecimal:
      return type.precision <= 4 ? 2 : type.precision <= 9 ? 4 : type.precision <= 18 ? 8 : 16;
    case TypeKind::kString: case TypeKind::kJson: case TypeKind::kBinary: case TypeKind::kIpv6: return 0;
  }
  return 0;
}

ColumnData::ColumnData(ColumnType t) : type(t), width(FixedWidth(t)) {
  if (is_variable()) offsets.push_back(0);
}

void ColumnData::AppendNull() {
  valid.push_back(0);
  if (is_variable()) {
    offsets.push_back(offsets.back());
  } else {
    fixed.resize(fixed.size() + width, 0);
  }
}

void ColumnData::AppendFixed(const void* value) {
  valid.push_back(1);
  const auto* p = static_cast<const uint8_t*>(value);
  fixed.insert(fixed.end(), p, p + width);
}

void ColumnData::AppendVariable(std::string_view value) {
  valid.push_back(1);
  bytes.append(value);
  offsets.push_back(static_cast<uint32_t>(bytes.size()));
}

RowBatch::RowBatch(const std::vector<ColumnType>& types) {
  columns_.reserve(types.size());
  for (const ColumnType& t : types) columns_.emplace_back(t);
}

void RowBatch::AppendRows(const RowBatch& other, const uint32_t* row_indices, size_t count) {
  for (size_t c = 0; c < columns_.size(); ++c) {
    ColumnData& dst = columns_[c];
    const ColumnData& src = other.columns_[c];
    const size_t first = dst.rows();
    dst.valid.resize(first + count);
    if (dst.is_variable()) {
      // No exact reserve here: growing by exactly what each call needs would reallocate
      // (and copy) on every call; push_back and append grow geometrically.
      for (size_t i = 0; i < count; ++i) {
        const uint32_t r = row_indices[i];
        dst.valid[first + i] = src.valid[r];
        dst.bytes.append(src.bytes, src.offsets[r], src.offsets[r + 1] - src.offsets[r]);  // "" when NULL
        dst.offsets.push_back(static_cast<uint32_t>(dst.bytes.size()));
      }
    } else {
      // NULLs are zeroes in `fixed` already, so every row is one copy of `width` bytes.
      const size_t w = dst.width;
      dst.fixed.resize((first + count) * w);
      uint8_t* out = dst.fixed.data() + first * w;
      for (size_t i = 0; i < count; ++i) {
        const uint32_t r = row_indices[i];
        dst.valid[first + i] = src.valid[r];
        std::memcpy(out + i * w, src.fixed.data() + r * w, w);
      }
    }
  }
}

void RowBatch::Reserve(size_t rows, const std::vector<size_t>& bytes_per_column) {
  for (size_t c = 0; c < columns_.size(); ++c) {
    ColumnData& col = columns_[c];
    col.valid.reserve(col.valid.size() + rows);
    if (col.is_variable()) {
      col.offsets.reserve(col.offsets.size() + rows);
      col.bytes.reserve(col.bytes.size() + bytes_per_column[c]);
    } else {
      col.fixed.reserve(col.fixed.size() + rows * col.width);
    }
  }
}

void RowBatch::AppendAll(const RowBatch& other) {
  for (size_t c = 0; c < columns_.size(); ++c) {
    ColumnData& dst = columns_[c];
    const ColumnData& src = other.columns_[c];
    dst.valid.insert(dst.valid.end(), src.valid.begin(), src.valid.end());
    if (dst.is_variable()) {
      const uint32_t base = static_cast<uint32_t>(dst.bytes.size());
      dst.bytes.append(src.bytes);
      for (size_t r = 1; r < src.offsets.size(); ++r) dst.offsets.push_back(base + src.offsets[r]);
    } else {
      dst.fixed.insert(dst.fixed.end(), src.fixed.begin(), src.fixed.end());
    }
  }
}

void RowBatch::Truncate(size_t rows) {
  for (ColumnData& col : columns_) {
    if (col.rows() <= rows) continue;
    col.valid.resize(rows);
    if (col.is_variable()) {
      col.offsets.resize(rows + 1);
      col.bytes.resize(col.offsets.back());
    } else {
      col.fixed.resize(rows * col.width);
    }
  }
}

void RowBatch::Clear() { Truncate(0); }

size_t RowBatch::MemoryBytes() const {
  size_t total = 0;
  for (const ColumnData& col : columns_) total += col.MemoryBytes();
  return total;
}

RowBatch& RowChunks::ChunkWithRoom() {
  if (!chunks_.empty() && chunks_.back().rows() < kRowsPerChunk) return chunks_.back();
  const bool after_full_chunk = !chunks_.empty();
  std::vector<size_t> bytes(types_.size(), 0);
  if (after_full_chunk) {
    // The next chunk at the size the last one reached: no regrowth for steady traffic.
    const RowBatch& last = chunks_.back();
    for (size_t c = 0; c < types_.size(); ++c) bytes[c] = last.column(c).bytes.size();
    full_chunk_bytes_ += last.MemoryBytes();
  }
  chunks_.emplace_back(types_);
  if (after_full_chunk) chunks_.back().Reserve(kRowsPerChunk, bytes);
  return chunks_.back();
}

void RowChunks::AppendRows(const RowBatch& other, const std::vector<uint32_t>& row_indices) {
  size_t done = 0;
  while (done < row_indices.size()) {
    RowBatch& chunk = ChunkWithRoom();
    const size_t n = std::min(kRowsPerChunk - chunk.rows(), row_indices.size() - done);
    chunk.AppendRows(other, row_indices.data() + done, n);
    done += n;
  }
  rows_ += row_indices.size();
}

void RowChunks::AppendAll(RowChunks&& other) {
  for (RowBatch& chunk : other.chunks_) {
    if (!chunks_.empty()) full_chunk_bytes_ += chunks_.back().MemoryBytes();
    rows_ += chunk.rows();
    chunks_.push_back(std::move(chunk));
  }
  other = RowChunks(std::move(other.types_));
}

void RowChunks::AppendTo(RowBatch* out) const {
  for (const RowBatch& chunk : chunks_) out->AppendAll(chunk);
}

}  // namespace pqflow::ingest
