#include "duck/logical_type.h"

#include <duckdb.h>

namespace pqflow::duck {

_duckdb_logical_type* NewLogicalType(const ColumnType& t) {
  switch (t.kind) {
    case TypeKind::kBoolean: return duckdb_create_logical_type(DUCKDB_TYPE_BOOLEAN);
    case TypeKind::kInt8: return duckdb_create_logical_type(DUCKDB_TYPE_TINYINT);
    case TypeKind::kInt16: return duckdb_create_logical_type(DUCKDB_TYPE_SMALLINT);
    case TypeKind::kInt32: return duckdb_create_logical_type(DUCKDB_TYPE_INTEGER);
    case TypeKind::kInt64: return duckdb_create_logical_type(DUCKDB_TYPE_BIGINT);
    case TypeKind::kUInt8: return duckdb_create_logical_type(DUCKDB_TYPE_UTINYINT);
    case TypeKind::kUInt16: return duckdb_create_logical_type(DUCKDB_TYPE_USMALLINT);
    case TypeKind::kUInt32: return duckdb_create_logical_type(DUCKDB_TYPE_UINTEGER);
    case TypeKind::kUInt64: return duckdb_create_logical_type(DUCKDB_TYPE_UBIGINT);
    case TypeKind::kFloat: return duckdb_create_logical_type(DUCKDB_TYPE_FLOAT);
    case TypeKind::kDouble: return duckdb_create_logical_type(DUCKDB_TYPE_DOUBLE);
    case TypeKind::kDecimal:
      return duckdb_create_decimal_type(static_cast<uint8_t>(t.precision), static_cast<uint8_t>(t.scale));
    case TypeKind::kString: case TypeKind::kJson: return duckdb_create_logical_type(DUCKDB_TYPE_VARCHAR);
    case TypeKind::kBinary: case TypeKind::kIpv6: return duckdb_create_logical_type(DUCKDB_TYPE_BLOB);
    case TypeKind::kUuid: return duckdb_create_logical_type(DUCKDB_TYPE_UUID);
    case TypeKind::kDate: return duckdb_create_logical_type(DUCKDB_TYPE_DATE);
    case TypeKind::kTimestamp: return duckdb_create_logical_type(DUCKDB_TYPE_TIMESTAMP_TZ);
    case TypeKind::kTimestampMs: return duckdb_create_logical_type(DUCKDB_TYPE_TIMESTAMP_MS);
  }
  return duckdb_create_logical_type(DUCKDB_TYPE_VARCHAR);
}

}  // namespace pqflow::duck
