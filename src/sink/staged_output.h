// What DuckDB's partitioned COPY produced: its RETURN_STATS rows, turned into partitions
// with decoded key values. Keys that hold arbitrary strings are prefixed ('v' + value, or
// 'n' for NULL) because DuckDB renders NULL and the string "NULL" alike in folder names.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"

namespace pqflow::sink {

struct StagedFile {
  std::string local_path;
  int64_t rows = 0;
  int64_t bytes = 0;
  // Key column name -> value (nullopt = NULL), from the hive folders of the path.
  std::map<std::string, std::optional<std::string>> keys;
  bool own_folder = false;  // the only file in its staging folder (storage::StagedMove)
  std::string sha256;       // of the content, once publishing has hashed it
};

// Parses one RETURN_STATS file name below `staging_dir`.
Result<StagedFile> ParseStagedFile(const std::string& staging_dir, const std::string& filename, int64_t rows,
                                   int64_t bytes);

// Keys whose values carry the prefix: column values (__pq_c_*) and the input file (__pq_f).
// The state, date and hour keys are written as DuckDB renders them ("NULL" for NULL).
bool IsPrefixedKey(const std::string& key);

// SQL for a key value with pqflow's prefix: 'v' || value, or 'n' for NULL.
std::string PrefixedKeySql(const std::string& value_sql);

}  // namespace pqflow::sink
