// File inputs (CSV, NDJSON, JSON documents): which files a run reads, and the DuckDB SQL
// that turns them into rows of the dataset's declared columns. DuckDB does the reading;
// this module only decides what to ask it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/civil_date.h"
#include "core/dataset_config.h"
#include "core/status.h"

namespace pqflow::source {

struct InputFile {
  std::string path;                // absolute
  int64_t size = 0;
  int64_t mtime_ns = 0;
  std::optional<CivilDate> date;   // from the file name, when source.path has date tokens
};

enum class DateMode {
  kLatest,      // default: the newest date with an input (or all inputs if undated)
  kDate,        // --date D
  kRange,       // --from A --to B, inclusive
  kHistorical,  // every input there is
};

struct InputSelection {
  std::vector<std::string> explicit_inputs;  // --input: paths or globs; overrides source.path
  DateMode mode = DateMode::kLatest;
  CivilDate from;  // kDate: from == to
  CivilDate to;
};

// Finds the input files. Missing explicit files, unreadable files and a selection that
// matches nothing are errors that name what was looked for.
Result<std::vector<InputFile>> ResolveInputs(const DatasetConfig& dataset, const InputSelection& selection);

// SQL for one relation with the dataset's non-derived columns (declared types, declared
// order) plus bookkeeping columns:
//   __pq_file   VARCHAR  the input file
//   __pq_line   BIGINT   line (ndjson) or record number (json); NULL for csv
//   __pq_reason VARCHAR  why the record is invalid (json formats), NULL when valid
//   __pq_raw    VARCHAR  the record as read (json formats)
// For CSV, type errors are caught by DuckDB's reader and stored in the tables named by
// kCsvRejectsTable / kCsvRejectScansTable instead.
Result<std::string> BuildSourceSql(const DatasetConfig& dataset, const std::vector<InputFile>& inputs);

// One CSV file read in order on one thread (with its own rejects tables), so that
// row_number() OVER () over it numbers the records the reader accepted. Slower than
// BuildSourceSql: for finding the lines of rejected rows, not for exporting.
std::string CsvSourceSqlInOrder(const DatasetConfig& dataset, const InputFile& input);

// The line where each data record of a CSV file starts, in order, counted as DuckDB's CSV
// reader counts them in its rejects (newlines inside quoted fields do not count). Blank lines
// are not records; the header is skipped.
Result<std::vector<int64_t>> CsvRecordLines(const std::string& path, const SourceSpec& source);

inline constexpr const char* kCsvRejectsTable = "__pq_reject_errors";
inline constexpr const char* kCsvRejectScansTable = "__pq_reject_scans";

}  // namespace pqflow::source
