// One user query from start to end, the same for `pqflow query`, the reports, the
// aggregations and the HTTP API: a locked-down database (query_guard.h), the query checked
// to be one read-only SELECT over the relations, views over only the files it can need
// (catalog.h), a time and memory limit, the result rendered.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/dataset_config.h"
#include "core/status.h"
#include "query/catalog.h"
#include "query/query_output.h"
#include "storage/storage.h"

namespace pqflow::query {

struct QueryOptions {
  OutputFormat format = OutputFormat::kCsv;
  QueryAccess access;
  // Instead of the rows: which files each relation reads after pruning, and DuckDB's plan.
  bool explain = false;
  // Where the files are; null: the configuration's storage, opened for this query. The server
  // passes its own so that the S3 read cache is shared.
  storage::Storage* storage = nullptr;
  // The caller ends the process right after the query (the CLI): the database is left for the
  // OS to reclaim instead of being torn down, which costs DuckDB ~5 ms of joining threads and
  // freeing buffers. The caller must not return from main (static destructors would run with
  // DuckDB's threads alive): it ends with ExitWithoutTeardown.
  bool leave_database_open = false;
};

struct QueryOutcome {
  std::string text;                 // the rendered result (or the explanation)
  std::vector<RelationScan> scans;  // per relation read: files and bytes before and after pruning
};

// Flushes stdio and ends the process without running destructors (see leave_database_open).
[[noreturn]] void ExitWithoutTeardown(int code);

Result<QueryOutcome> RunUserQuery(const Config& config, const std::string& sql, const QueryOptions& options);

// An aggregation spec (aggregation.h) compiled against the columns of its dataset's view,
// then run like RunUserQuery.
Result<QueryOutcome> RunAggregation(const Config& config, std::string_view spec_json, const QueryOptions& options);

// The SQL of a built-in report (reports.h), its dataset checked against the configuration.
Result<std::string> ReportQuerySql(const Config& config, const std::string& report,
                                   std::map<std::string, std::string> arguments);


}  // namespace pqflow::query
