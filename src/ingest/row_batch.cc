#include "ingest/row_batch.h"

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

void RowBatch::AppendRows(const RowBatch& other, const std::vector<uint32_t>& row_indices) {
  for (size_t c = 0; c < columns_.size(); ++c) {
    ColumnData& dst = columns_[c];
    const ColumnData& src = other.columns_[c];
    for (uint32_t r : row_indices) {
      if (!src.valid[r]) {
        dst.AppendNull();
      } else if (dst.is_variable()) {
        dst.AppendVariable(src.VariableValue(r));
      } else {
        dst.AppendFixed(src.FixedValue(r));
      }
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

}  // namespace pqflow::ingest
