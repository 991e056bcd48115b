// The catalog: every configured dataset as a DuckDB view over its Parquet files, so
// `SELECT ... FROM pageviews` works; the event streams of `pqflow serve` (events, logs,
// snapshots, ...) likewise. (Partition pruning and safety limits: issue #5.)
#pragma once

#include <string>
#include <vector>

#include "core/dataset_config.h"
#include "core/status.h"
#include "duck/duck.h"

namespace pqflow::query {

// Creates one view per dataset and stream that has files; returns the names of the views.
Result<std::vector<std::string>> CreateDatasetViews(duck::Connection& conn, const Config& config);

// Runs `sql` and renders the result as an aligned table, CSV, a JSON array of objects, or
// one JSON object per line (NDJSON). Numbers stay numbers in JSON; everything else is text.
enum class OutputFormat { kTable, kCsv, kJson, kNdjson };
Result<std::string> RunQuery(duck::Connection& conn, const std::string& sql, OutputFormat format);

}  // namespace pqflow::query
