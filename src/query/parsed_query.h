// A user query as DuckDB's parser sees it, for the query guard (query_guard.h) and the
// partition pruner (partition_pruner.h), together with the two statements of its own the
// pruner works from. All three are parsed in one round trip to DuckDB (json_serialize_sql):
// the guard and the pruner had each parsed the query on its own, ~0.6 ms at every query.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "duck/duck.h"

namespace pqflow::query {

// The pruner's template: conjuncts put in its WHERE print back as SQL after this prefix.
inline constexpr const char* kPartitionWherePrefix = "SELECT 1 FROM __pqflow_partitions WHERE ";

struct ParsedQuery {
  // json_serialize_sql's answers: {"error": false, "statements": [...]}, or the error.
  nlohmann::json tree;            // of the query
  nlohmann::json current_date;    // of "SELECT current_date()"
  nlohmann::json where_template;  // of kPartitionWherePrefix + "true"
};

// Parses `sql` and the pruner's two statements. A query DuckDB cannot parse, or that is no
// SELECT, is not an error here: its tree says so, for the guard to report. A NUL character
// is: DuckDB runs a query as a C string, so text after it would be checked but not run.
[[nodiscard]] Result<ParsedQuery> ParseQuery(duck::Connection& conn, std::string_view sql);

}  // namespace pqflow::query
