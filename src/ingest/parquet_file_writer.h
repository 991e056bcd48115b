// Writing buffered rows as one Parquet file through DuckDB (the project's only Parquet
// writer), and reading back the key/value metadata pqflow puts in its files.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/dataset_config.h"
#include "core/status.h"
#include "duck/duck.h"
#include "ingest/row_batch.h"

namespace pqflow::ingest {

// Writes `rows` (columns in `stream` order) to `local_path` with the stream's codec and row
// group size, plus `kv_metadata` in the file footer. The file is not synced.
Status WriteParquetFile(duck::Connection& conn, const StreamConfig& stream, const RowBatch& rows,
                        const std::string& local_path,
                        const std::vector<std::pair<std::string, std::string>>& kv_metadata);

// The footer's key/value metadata of a Parquet file.
Result<std::map<std::string, std::string>> ReadKvMetadata(duck::Connection& conn, const std::string& local_path);

}  // namespace pqflow::ingest
