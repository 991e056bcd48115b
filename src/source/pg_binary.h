// Decoding PostgreSQL's binary COPY format (COPY ... TO STDOUT (FORMAT binary)) straight into
// DuckDB data chunks: no text round trip, no per-value allocation. Each pqflow column is read
// from one PostgreSQL result column; the pair (PostgreSQL type, declared pqflow type) decides
// the conversion, and a pair that makes no sense is refused before any row is read.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/types.h"

struct _duckdb_data_chunk;
struct _duckdb_vector;

namespace pqflow::source {

// Implementation details of PgBinaryDecoder (defined in pg_binary.cc); not for other callers.
namespace pg_binary_internal {

enum class Source : uint8_t;      // how a field's bytes are read
enum class Conversion : uint8_t;  // what a field becomes

// One column's conversion, fixed at construction so that a field costs one switch.
struct Plan {
  Source source{};
  Conversion conversion{};
  uint8_t width = 0;      // bytes per value in the DuckDB vector (fixed-width targets)
  uint8_t precision = 0;  // decimal targets
  uint8_t scale = 0;      // decimal targets
  int64_t min = 0;        // integer targets: the accepted range
  uint64_t max = 0;       // ... and for decimal targets, the largest whole magnitude that fits
};

// Where a column's values go in the bound chunk.
struct Sink {
  _duckdb_vector* vector = nullptr;
  uint8_t* data = nullptr;
  uint64_t* validity = nullptr;  // null while the vector has no validity mask (all valid)
};

class Cursor;

}  // namespace pg_binary_internal

// One column of the COPY output, as PostgreSQL describes it, and what it becomes.
struct PgColumn {
  std::string name;      // for error messages
  uint32_t type_oid = 0; // pg_type.oid of the result column (INT4OID = 23, ...)
  int32_t typmod = -1;   // numeric(p,s) etc.; -1 when unknown
  ColumnType target;     // the declared pqflow type
};

// The PostgreSQL type name for an OID this decoder knows ("int4", "timestamptz", ...), or
// "oid <n>" for an unknown one.
std::string PgTypeName(uint32_t type_oid);

// Refuses a (PostgreSQL type, pqflow type) pair that cannot be converted, naming the column:
// `column "source_ip": PostgreSQL type inet cannot be stored as int32; declare it as string`.
Status CheckPgColumn(const PgColumn& column);

// Feeds the CopyData messages of one binary COPY, in order, into DuckDB data chunks whose
// columns are exactly `columns` (same order, DuckDB types = target.DuckDbType()).
class PgBinaryDecoder {
 public:
  explicit PgBinaryDecoder(std::vector<PgColumn> columns);

  // Decodes one CopyData message (as returned by PQgetCopyData). The first message starts
  // with the 11-byte signature, flags and header extension; the last holds the -1 trailer.
  // A message holding a tuple appends it at row `row` of `chunk` and sets *appended.
  // Errors name the column, the row number within the COPY (1-based) and the reason.
  //
  // PostgreSQL sends each tuple, and the trailer, in a CopyData message of its own, the header
  // prepended to the first one; so a message holding part of a tuple, or two, is an error.
  // The chunk's vector pointers are cached: they are fetched again whenever `chunk` changes or
  // `row` is 0, so reset or replace a chunk only before writing its row 0. Setting the chunk's
  // size is the caller's job. A row is written valid even if an earlier use of the chunk left
  // it NULL. After an error, the row being decoded holds partial values.
  Status Decode(std::string_view message, _duckdb_data_chunk* chunk, uint64_t row, bool* appended);

  bool finished() const { return finished_; }        // the trailer was seen
  uint64_t rows_decoded() const { return rows_; }

 private:
  Status DecodeTuple(pg_binary_internal::Cursor& in, _duckdb_data_chunk* chunk, uint64_t row);
  Status Bind(_duckdb_data_chunk* chunk);

  std::vector<PgColumn> columns_;
  std::vector<pg_binary_internal::Plan> plans_;
  std::vector<pg_binary_internal::Sink> sinks_;
  _duckdb_data_chunk* bound_chunk_ = nullptr;  // the chunk sinks_ point into
  Status plan_status_;  // the first column CheckPgColumn refuses; Decode reports it
  bool header_seen_ = false;
  bool finished_ = false;
  uint64_t rows_ = 0;
};

}  // namespace pqflow::source
