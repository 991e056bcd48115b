// The DuckDB logical type of a declared pqflow column type, for table functions and data
// chunks built through the C API (PostgreSQL scans, the event sink's writer).
#pragma once

#include "core/types.h"

struct _duckdb_logical_type;

namespace pqflow::duck {

// A new logical type; the caller destroys it with duckdb_destroy_logical_type.
_duckdb_logical_type* NewLogicalType(const ColumnType& type);

}  // namespace pqflow::duck
