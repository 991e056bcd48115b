// SQL text the exporter sends to DuckDB: the validated row relation, and the COPY that
// writes one layout's partitions. Kept apart from the orchestration so it can be read
// (and tested) as SQL.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/civil_date.h"
#include "core/dataset_config.h"
#include "core/path_template.h"
#include "core/status.h"
#include "source/file_source.h"

namespace pqflow::sink {

// Extra columns of the row relation besides the declared ones:
//   __pq_file, __pq_line, __pq_reason, __pq_raw (see source::BuildSourceSql) and
//   __pq_state: 'ok', 'bad' (rejected) or 'out' (outside the selected dates).
std::string RowsSql(const DatasetConfig& ds, const std::string& source_sql, const std::vector<PathTemplate>& layouts,
                    const source::InputSelection& row_filter);

// "column x: missing or null, but the column is not nullable; ..." for a row, or NULL.
std::string NullReasonSql(const DatasetConfig& ds, const std::string& alias);

// A rejected row as the rejects file shows it: a JSON object of the file columns, in order
// (the same text for the same row wherever it is computed).
std::string RecordJsonSql(const DatasetConfig& ds, const std::string& alias);

struct CopyTarget {
  std::string relation;      // table or "(subquery)" with RowsSql's columns
  std::string where;         // "" or a condition on it
  std::string staging_dir;
  bool keep_bad_rows = true; // write rejected rows into a 'bad' partition (streaming CSV)
  bool bad_rows_by_file = true;  // ...one per input file (a PostgreSQL stream has none)
};

std::string LayoutCopySql(const DatasetConfig& ds, const PathTemplate& layout, const CopyTarget& target);

// Key column names used in staged folder names.
inline constexpr const char* kStateKey = "__pq_s";  // 0 ok, 1 bad (rejected), 2 outside the dates
inline constexpr const char* kFileKey = "__pq_f";
inline constexpr const char* kDateKey = "__pq_d";
inline constexpr const char* kHourKey = "__pq_h";
// Layouts with a date use one key for the state and the date (DuckDB builds a Value of every
// key for every row): 4 x days since 1970-01-01 for rows to write, 1 for rejected rows, 2 for
// rows outside the selected dates.
inline constexpr const char* kStateDateKey = "__pq_sd";
struct StateAndDate {
  int state = 0;                  // as kStateKey: 0 ok, 1 rejected, 2 outside the dates
  std::optional<CivilDate> date;  // for state 0
};
Result<StateAndDate> DecodeStateDate(const std::string& value);
std::string ColumnKey(const std::string& column);  // "__pq_c_<column>"

// The per-partition writer (layouts with {column} tokens, or a sort order): a table with
// the layout's ok rows, numbered by partition (__pq_pid) and sorted by partition and
// sort_by; then COPYs of consecutive partitions, one file each.
// Two statements: the partitions (distinct keys, numbered), then the rows joined to them.
std::vector<std::string> PartitionTableSql(const DatasetConfig& ds, const PathTemplate& layout,
                                           const std::string& rows_table, const std::string& table);
// One row per partition: __pq_pid, rows, then the key values as text (date, hour, columns).
std::string PartitionListSql(const PathTemplate& layout, const std::string& table);
// A COPY of one partition; `target` is a file, or a directory when the dataset rotates.
std::string PartitionCopySql(const DatasetConfig& ds, const std::string& table, int64_t pid, const std::string& target);
// One COPY of the partitions first_pid..last_pid into `dir`, each in its folder
// PartitionRangeFolder(dir, pid). At most kPartitionsPerRangeCopy partitions: DuckDB keeps
// that many files open (partitioned_write_max_open_files) and closing one early would start
// a second file for the same partition. Rows keep no order inside a file (see
// Exporter's BatchPartitions), so this is for datasets without sort_by.
inline constexpr int64_t kPartitionsPerRangeCopy = 100;
std::string PartitionRangeCopySql(const DatasetConfig& ds, const std::string& table, int64_t first_pid,
                                  int64_t last_pid, const std::string& dir);
std::string PartitionRangeFolder(const std::string& dir, int64_t pid);
// The n-th file (from 0) such a COPY writes into a partition's folder: it names its files
// itself (FILENAME_PATTERN), so they are found without listing 200,000 folders.
std::string PartitionRangeFile(const std::string& dir, int64_t pid, int n);

// COPY options shared by every Parquet file pqflow writes for `ds`.
std::string ParquetOptions(const DatasetConfig& ds);

}  // namespace pqflow::sink
