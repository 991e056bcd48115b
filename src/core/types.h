// Column types a dataset can declare, and how each maps onto DuckDB and Parquet.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace pqflow {

enum class TypeKind {
  kBoolean,
  kInt8, kInt16, kInt32, kInt64,
  kUInt8, kUInt16, kUInt32, kUInt64,
  kFloat, kDouble,
  kDecimal,      // precision 1..38, scale 0..precision
  kString,       // UTF-8
  kBinary,
  kUuid,         // FIXED_LEN_BYTE_ARRAY(16), logical type UUID
  kIpv6,         // 16 bytes, IPv4 stored v4-mapped; read from text
  kDate,
  kTimestamp,    // microseconds, UTC (isAdjustedToUTC = true)
  kTimestampMs,  // milliseconds
  kJson,
};

struct ColumnType {
  TypeKind kind = TypeKind::kString;
  int precision = 0;  // decimal only
  int scale = 0;      // decimal only

  // Accepts the documented names and common aliases, case-insensitively:
  // "int64", "bigint", "decimal(12,2)", "timestamp(ms)", "date32", "utf8", ...
  static Result<ColumnType> Parse(std::string_view text);

  std::string ToString() const;      // canonical pqflow name, e.g. "decimal(12,2)"
  std::string DuckDbType() const;    // SQL type used when reading and writing
  bool IsNumeric() const;
  bool IsTemporal() const { return kind == TypeKind::kDate || kind == TypeKind::kTimestamp || kind == TypeKind::kTimestampMs; }
  bool operator==(const ColumnType&) const = default;
};

// The accepted names, for error messages ("expected one of ...").
std::string_view KnownTypeNames();

}  // namespace pqflow
