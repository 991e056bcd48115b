#include "ingest/parquet_file_writer.h"

#include <duckdb.h>

#include <algorithm>
#include <atomic>
#include <cstring>

namespace pqflow::ingest {

namespace {

std::string TableName() {
  static std::atomic<uint64_t> next{0};
  return "__pq_sink_" + std::to_string(next.fetch_add(1));
}

// Fills one data chunk with rows [begin, begin+count) of `rows`.
void FillChunk(duckdb_data_chunk chunk, const RowBatch& rows, size_t begin, size_t count) {
  for (size_t c = 0; c < rows.column_count(); ++c) {
    const ColumnData& col = rows.column(c);
    duckdb_vector vec = duckdb_data_chunk_get_vector(chunk, c);
    uint64_t* validity = nullptr;
    for (size_t i = 0; i < count; ++i) {
      if (col.valid[begin + i]) continue;
      if (validity == nullptr) {
        duckdb_vector_ensure_validity_writable(vec);
        validity = duckdb_vector_get_validity(vec);
      }
      duckdb_validity_set_row_invalid(validity, i);
    }
    if (col.is_variable()) {
      for (size_t i = 0; i < count; ++i) {
        if (!col.valid[begin + i]) continue;
        std::string_view v = col.VariableValue(begin + i);
        duckdb_vector_assign_string_element_len(vec, i, v.data(), v.size());
      }
    } else {
      std::memcpy(duckdb_vector_get_data(vec), col.FixedValue(begin), count * col.width);
    }
  }
  duckdb_data_chunk_set_size(chunk, count);
}

Status AppendRows(duck::Connection& conn, const std::string& table, const RowBatch& rows) {
  duckdb_appender appender = nullptr;
  if (duckdb_appender_create(conn.raw(), nullptr, table.c_str(), &appender) == DuckDBError) {
    std::string msg = appender ? duckdb_appender_error(appender) : "cannot create appender";
    duckdb_appender_destroy(&appender);
    return Status::Internal("appending buffered rows: " + msg);
  }
  std::vector<duckdb_logical_type> types(rows.column_count());
  for (size_t c = 0; c < types.size(); ++c) types[c] = duckdb_appender_column_type(appender, c);
  Status status;
  const size_t kChunk = duckdb_vector_size();
  for (size_t begin = 0; begin < rows.rows() && status.ok(); begin += kChunk) {
    duckdb_data_chunk chunk = duckdb_create_data_chunk(types.data(), types.size());
    FillChunk(chunk, rows, begin, std::min(kChunk, rows.rows() - begin));
    if (duckdb_append_data_chunk(appender, chunk) == DuckDBError) {
      status = Status::Internal(std::string("appending buffered rows: ") + duckdb_appender_error(appender));
    }
    duckdb_destroy_data_chunk(&chunk);
  }
  if (status.ok() && duckdb_appender_close(appender) == DuckDBError) {
    status = Status::Internal(std::string("appending buffered rows: ") + duckdb_appender_error(appender));
  }
  for (auto& t : types) duckdb_destroy_logical_type(&t);
  duckdb_appender_destroy(&appender);
  return status;
}

}  // namespace

Status WriteParquetFile(duck::Connection& conn, const StreamConfig& stream, const RowBatch& rows,
                        const std::string& local_path,
                        const std::vector<std::pair<std::string, std::string>>& kv_metadata) {
  const std::string table = TableName();
  std::string columns;
  for (const ColumnSpec& c : stream.columns) {
    columns += (columns.empty() ? "" : ", ") + duck::QuoteIdentifier(c.name) + " " + c.type.DuckDbType();
  }
  PQ_RETURN_IF_ERROR(conn.Execute("CREATE TEMP TABLE " + table + " (" + columns + ")"));
  Status status = AppendRows(conn, table, rows);
  if (status.ok()) {
    std::string opts = "FORMAT parquet, COMPRESSION " + CodecDuckDbName(stream.compression);
    if (stream.compression_level) opts += ", COMPRESSION_LEVEL " + std::to_string(*stream.compression_level);
    opts += ", ROW_GROUP_SIZE " + std::to_string(stream.row_group_size);
    opts += ", KV_METADATA {created_by_tool: 'pqflow " PQFLOW_VERSION "'";
    for (const auto& [k, v] : kv_metadata) opts += ", " + duck::QuoteIdentifier(k) + ": " + duck::QuoteLiteral(v);
    opts += "}";
    status = conn.Execute("COPY " + table + " TO " + duck::QuoteLiteral(local_path) + " (" + opts + ")");
  }
  Status dropped = conn.Execute("DROP TABLE " + table);
  if (!status.ok()) return status.WithContext("writing " + local_path);
  return dropped;
}

Result<std::map<std::string, std::string>> ReadKvMetadata(duck::Connection& conn, const std::string& local_path) {
  PQ_ASSIGN_OR_RETURN(duck::QueryResult r,
                      conn.Query("SELECT decode(key), decode(value) FROM parquet_kv_metadata(" +
                                 duck::QuoteLiteral(local_path) + ")"));
  std::map<std::string, std::string> out;
  for (size_t i = 0; i < r.row_count(); ++i) out[r.GetOr(i, 0, "")] = r.GetOr(i, 1, "");
  return out;
}

}  // namespace pqflow::ingest
