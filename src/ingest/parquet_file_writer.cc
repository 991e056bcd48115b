#include "ingest/parquet_file_writer.h"

#include <duckdb.h>

#include <algorithm>
#include <atomic>
#include <cstring>

#include "duck/logical_type.h"

namespace pqflow::ingest {

namespace {


// Fills `chunk` with rows [begin, begin+count) of `rows`.
void FillChunk(duckdb_data_chunk chunk, const RowBatch& rows, size_t begin, size_t count) {
  if (count == 0) {  // the end, or an empty batch (whose columns have no data to copy from)
    duckdb_data_chunk_set_size(chunk, 0);
    return;
  }
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

void ScanBind(duckdb_bind_info info) {
  auto* scan = static_cast<ParquetFileWriter::Scan*>(duckdb_bind_get_extra_info(info));
  for (const ColumnSpec& c : scan->stream->columns) {
    duckdb_logical_type type = duck::NewLogicalType(c.type);
    duckdb_bind_add_result_column(info, c.name.c_str(), type);
    duckdb_destroy_logical_type(&type);
  }
}

void ScanInit(duckdb_init_info info) {
  // One thread: the file keeps the buffer's row order.
  duckdb_init_set_max_threads(info, 1);
  auto* scan = static_cast<ParquetFileWriter::Scan*>(duckdb_init_get_extra_info(info));
  scan->part = 0;
  scan->next_row = 0;
}

void ScanNext(duckdb_function_info info, duckdb_data_chunk out) {
  auto* scan = static_cast<ParquetFileWriter::Scan*>(duckdb_function_get_extra_info(info));
  while (scan->part < scan->parts.size() && scan->next_row >= scan->parts[scan->part]->rows()) {
    ++scan->part;
    scan->next_row = 0;
  }
  if (scan->part == scan->parts.size()) {
    duckdb_data_chunk_set_size(out, 0);
    return;
  }
  const RowBatch& rows = *scan->parts[scan->part];
  const size_t count = std::min<size_t>(duckdb_vector_size(), rows.rows() - scan->next_row);
  FillChunk(out, rows, scan->next_row, count);
  scan->next_row += count;
}

// Registers table function `name` on `conn`, scanning what `scan` points at when called.
Status RegisterScanFunction(const duck::Connection& conn, const std::string& name, ParquetFileWriter::Scan* scan) {
  duckdb_table_function tf = duckdb_create_table_function();
  duckdb_table_function_set_name(tf, name.c_str());
  duckdb_table_function_set_extra_info(tf, scan, nullptr);
  duckdb_table_function_set_bind(tf, ScanBind);
  duckdb_table_function_set_init(tf, ScanInit);
  duckdb_table_function_set_function(tf, ScanNext);
  duckdb_state registered = duckdb_register_table_function(conn.raw(), tf);
  duckdb_destroy_table_function(&tf);
  if (registered == DuckDBError) return Status::Internal("cannot register the table function " + name);
  return Status::OK();
}

}  // namespace

ParquetFileWriter::~ParquetFileWriter() = default;

Result<std::unique_ptr<ParquetFileWriter>> ParquetFileWriter::Make(const duck::Database& db) {
  PQ_ASSIGN_OR_RETURN(duck::Connection conn, duck::Connection::Make(db));
  std::unique_ptr<ParquetFileWriter> writer(new ParquetFileWriter(std::move(conn)));
  // Table functions live in the database's catalog: each writer registers its own name.
  static std::atomic<uint64_t> next_id{0};
  writer->function_ = "__pq_sink_rows_" + std::to_string(next_id.fetch_add(1));
  PQ_RETURN_IF_ERROR(RegisterScanFunction(writer->conn_, writer->function_, writer->scan_.get()));
  return writer;
}

Status ParquetFileWriter::Write(const StreamConfig& stream, const RowChunks& rows, const std::string& local_path,
                                const std::vector<std::pair<std::string, std::string>>& kv_metadata) {
  scan_->stream = &stream;
  scan_->parts.clear();
  for (const RowBatch& chunk : rows.chunks()) scan_->parts.push_back(&chunk);
  std::string opts = "FORMAT parquet, COMPRESSION " + CodecDuckDbName(stream.compression);
  if (stream.compression_level) opts += ", COMPRESSION_LEVEL " + std::to_string(*stream.compression_level);
  opts += ", ROW_GROUP_SIZE " + std::to_string(stream.row_group_size);
  opts += ", KV_METADATA {created_by_tool: 'pqflow " PQFLOW_VERSION "'";
  for (const auto& [k, v] : kv_metadata) opts += ", " + duck::QuoteIdentifier(k) + ": " + duck::QuoteLiteral(v);
  opts += "}";
  Status s = conn_.Execute("COPY (SELECT * FROM " + function_ + "()) TO " +
                           duck::QuoteLiteral(local_path) + " (" + opts + ")");
  scan_->parts.clear();
  return s.ok() ? s : s.WithContext("writing " + local_path);
}

Status CreateTableFromRows(duck::Connection& conn, const StreamConfig& stream, const RowBatch& rows,
                           const std::string& table) {
  ParquetFileWriter::Scan scan{&stream, {&rows}, 0, 0};
  static std::atomic<uint64_t> next_id{0};
  const std::string function = "__pq_table_rows_" + std::to_string(next_id.fetch_add(1));
  PQ_RETURN_IF_ERROR(RegisterScanFunction(conn, function, &scan));
  // The function stays in the catalog but its rows are gone when this returns: one use only.
  return conn.Execute("CREATE OR REPLACE TEMP TABLE " + duck::QuoteIdentifier(table) + " AS SELECT * FROM " + function + "()");
}

Result<std::map<std::string, std::string>> ParquetFileWriter::ReadKvMetadata(const std::string& local_path) {
  PQ_ASSIGN_OR_RETURN(duck::QueryResult r,
                      conn_.Query("SELECT decode(key), decode(value) FROM parquet_kv_metadata(" +
                                  duck::QuoteLiteral(local_path) + ")"));
  std::map<std::string, std::string> out;
  for (size_t i = 0; i < r.row_count(); ++i) out[r.GetOr(i, 0, "")] = r.GetOr(i, 1, "");
  return out;
}

}  // namespace pqflow::ingest
