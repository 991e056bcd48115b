// Writing buffered rows as one Parquet file through DuckDB (the project's only Parquet
// writer), and reading back the key/value metadata pqflow puts in its files. The rows are
// scanned in place by a table function, not copied into a DuckDB table first.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/dataset_config.h"
#include "core/status.h"
#include "duck/duck.h"
#include "ingest/row_batch.h"

namespace pqflow::ingest {

class ParquetFileWriter {
 public:
  // Opens its own connection to `db`. One writer is used by one thread at a time.
  static Result<std::unique_ptr<ParquetFileWriter>> Make(const duck::Database& db);
  ~ParquetFileWriter();

  // Writes `rows` (columns in `stream` order, row order kept) to `local_path` with the
  // stream's codec and row group size, plus `kv_metadata` in the footer. Not synced.
  Status Write(const StreamConfig& stream, const RowChunks& rows, const std::string& local_path,
               const std::vector<std::pair<std::string, std::string>>& kv_metadata);

  // The footer's key/value metadata of a Parquet file.
  Result<std::map<std::string, std::string>> ReadKvMetadata(const std::string& local_path);

  // What the table function reads; public for the C callbacks only.
  struct Scan {
    const StreamConfig* stream = nullptr;
    std::vector<const RowBatch*> parts;  // scanned one after the other
    size_t part = 0;                     // the one being scanned
    size_t next_row = 0;                 // in parts[part]
  };

 private:
  explicit ParquetFileWriter(duck::Connection conn) : conn_(std::move(conn)) {}
  duck::Connection conn_;
  std::string function_;  // the registered table function's name
  std::unique_ptr<Scan> scan_ = std::make_unique<Scan>();
};

// Copies `rows` (of `stream`'s schema) into a new temporary table of `conn`.
Status CreateTableFromRows(duck::Connection& conn, const StreamConfig& stream, const RowBatch& rows,
                           const std::string& table);

}  // namespace pqflow::ingest
