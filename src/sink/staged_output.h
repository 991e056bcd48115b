// What DuckDB's partitioned COPY produced: its RETURN_STATS rows, turned into partitions
// with decoded key values. pqflow's partition keys are prefixed ('v' + value, or 'n' for
// NULL) because DuckDB renders NULL and the string "NULL" alike in hive folder names.
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
};

// Parses one RETURN_STATS file name below `staging_dir`.
Result<StagedFile> ParseStagedFile(const std::string& staging_dir, const std::string& filename, int64_t rows,
                                   int64_t bytes);

// SQL for a key value with pqflow's prefix: 'v' || value, or 'n' for NULL.
std::string PrefixedKeySql(const std::string& value_sql);

}  // namespace pqflow::sink
