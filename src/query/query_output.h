// A query's result as text: an aligned table for a terminal, or CSV, JSON, NDJSON.
#pragma once

#include <string>

#include "core/status.h"
#include "duck/duck.h"

namespace pqflow::query {

// Runs `sql` and renders the result as an aligned table, CSV, a JSON array of objects, or
// one JSON object per line (NDJSON). Numbers stay numbers in JSON; everything else is text.
enum class OutputFormat { kTable, kCsv, kJson, kNdjson };
Result<std::string> RunQuery(duck::Connection& conn, const std::string& sql, OutputFormat format);

}  // namespace pqflow::query
