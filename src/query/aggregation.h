// Aggregation specs (issue #5): a small JSON document compiled into one DuckDB SELECT over
// a relation (the view named after a dataset or stream), checked against its columns.
//
// THE SPEC
//
//   {
//     "dataset": "pageviews",
//     "aggregations": [
//       {"function": "sum", "column": "view_count", "as": "views"},
//       {"function": "count"},
//       {"function": "count_distinct", "column": "path"},
//       {"function": "percentile", "column": "view_count", "p": 0.95}
//     ],
//     "filters": [
//       {"column": "project_slug", "op": "=", "value": "docs"},
//       {"column": "status", "op": "in", "value": [200, 304]},
//       {"column": "referrer", "op": "!=", "value": null}
//     ],
//     "group_by": ["project_slug"],
//     "time": {"column": "date", "from": "2026-01-01", "to": "2026-02-01"},
//     "window": {"size": "1h", "step": "15m"},
//     "limit": 1000
//   }
//
// Keys are case-sensitive; a key not listed here is an error (so "fliters" is caught).
//
// "dataset"       required string: the relation queried (quoted as an identifier).
// "aggregations"  required, non-empty array of objects with the keys:
//     "function"  required, one of
//                   sum, avg, min, max  - SQL's; sum and avg need a numeric column
//                   count               - no column: all rows (count(*));
//                                         with a column: rows where it is not NULL
//                   count_distinct      - distinct non-NULL values; "distinct" is an alias
//                   percentile          - continuous percentile with linear interpolation
//                                         between the closest ranks (DuckDB quantile_cont);
//                                         needs "p" in [0, 1] and a numeric column
//                   stddev              - sample standard deviation (stddev_samp; NULL
//                                         for fewer than two values); numeric column
//     "column"    the input column; required by every function except count
//     "as"        the output column name. Default: <function>_<column> ("sum_view_count",
//                 "count_distinct_path"), "count" for count without a column, and for
//                 percentile "p" + 100*p with up to 6 significant digits and "." written
//                 as "_": p=0.95 -> "p95_view_count", p=0.5 -> "p50_...", p=0.999 ->
//                 "p99_9_...", p=1 -> "p100_...".
//     "p"         number in [0, 1]; only for percentile.
//     NULLs are ignored by every function except count without a column. Over no
//     values sum/avg/min/max/percentile/stddev give NULL.
// "filters"       optional array of objects {"column", "op", "value"}, all required; rows
//                 must match every filter (AND).
//     "op"        one of = != > >= < <= in
//     "value"     a string, number or boolean, cast to the column's type by DuckDB
//                 (CAST('<value>' AS <type>)); a value that does not cast is DuckDB's
//                 error when the query runs. For "in": a non-empty array of such values.
//                 null only with = (IS NULL) and != (IS NOT NULL). As in SQL, a
//                 comparison never matches a row where the column is NULL (!= included).
// "group_by"      optional array of column names: one output row per distinct
//                 combination (NULL forms its own group).
// "time"          optional object:
//     "column"    required: a DATE, TIMESTAMP (any precision), TIMESTAMP WITH TIME ZONE
//                 or integer column; an integer column holds milliseconds since the Unix
//                 epoch, as the event streams store "timestamp". A TIMESTAMP without time
//                 zone is read as UTC; a DATE as its midnight UTC.
//     "from"      optional, inclusive lower bound; "to" optional, exclusive upper bound.
//                 Either an integer (ms since the epoch) or an ISO-8601 string:
//                 "2026-01-01", "2026-01-01T10:00", "2026-01-01T10:00:00.250Z",
//                 "2026-01-01 10:00:00+02:00" (a space may replace "T"; no offset = UTC;
//                 fractions below a millisecond are dropped). from > to is an error;
//                 from == to selects nothing. Rows whose time is NULL never match a bound.
// "window"        optional object; needs "time" (its "column" is the window time):
//     "size"      required duration: digits and a unit s, m, h or d ("30s", "15m", "1h",
//                 "7d"); digits alone are seconds.
//     "step"      optional duration, at most "size". Without it (or equal to it) windows
//                 are tumbling: [k*size, (k+1)*size). With a smaller step they slide: a
//                 row at time t belongs to every window [s, s+size) where s is a multiple
//                 of step and s <= t < s+size (size 1h, step 15m: four windows). At most
//                 1000 windows per row (ceil(size/step)).
//                 Windows are aligned to the Unix epoch (1970-01-01T00:00:00Z), so "1d"
//                 windows start at midnight UTC and "7d" windows on Thursdays. Rows whose
//                 time is NULL are left out; a window without rows is absent (no row of
//                 zero counts).
// "limit"         optional positive integer: at most this many output rows.
//
// OUTPUT: with a window, "window_start" and "window_end" (TIMESTAMP, UTC, also for DATE
// and integer time columns); then the group_by columns in the given order; then one
// column per aggregation in the given order. Names must be unique. Rows are ordered by
// window_start, then by the group_by columns (ascending, NULLs last). Without group_by
// and window the result is exactly one row, also when no row matched.
//
// SAFETY: every identifier from the spec is quoted with duck::QuoteIdentifier and every
// value is a duck::QuoteLiteral inside a CAST; no spec text is ever spliced as SQL.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace pqflow::query {

enum class AggregateFunction { kSum, kAvg, kCount, kCountDistinct, kMin, kMax, kPercentile, kStddev };
std::string_view AggregateFunctionName(AggregateFunction function);  // "count_distinct"

struct Aggregation {
  AggregateFunction function = AggregateFunction::kCount;
  std::string column;  // empty only for count (all rows)
  std::string as;      // empty = the default name
  double p = 0;        // percentile only, in [0, 1]
};

enum class FilterOp { kEq, kNe, kGt, kGe, kLt, kLe, kIn };
std::string_view FilterOpName(FilterOp op);  // "!="

struct Filter {
  std::string column;
  FilterOp op = FilterOp::kEq;
  bool is_null = false;             // value null: IS NULL (kEq) / IS NOT NULL (kNe)
  std::vector<std::string> values;  // text cast to the column's type; one unless kIn
};

struct TimeRange {
  std::string column;
  std::optional<int64_t> from_ms;  // inclusive, ms since the Unix epoch
  std::optional<int64_t> to_ms;    // exclusive
};

struct Window {
  int64_t size_ms = 0;
  int64_t step_ms = 0;  // == size_ms for tumbling windows
  bool sliding() const { return step_ms < size_ms; }
};

struct AggregationSpec {
  std::string dataset;
  std::vector<Aggregation> aggregations;  // never empty after parsing
  std::vector<Filter> filters;
  std::vector<std::string> group_by;
  std::optional<TimeRange> time;
  std::optional<Window> window;  // set only together with time
  std::optional<int64_t> limit;  // > 0
};

// Checks the JSON syntax and the shape of the spec (keys, value kinds, functions, ops,
// durations, p); needs no knowledge of the relation.
Result<AggregationSpec> ParseAggregationSpec(std::string_view json_text);

// A column of the relation; `type` as DuckDB's DESCRIBE prints it ("BIGINT",
// "DECIMAL(18,3)", "TIMESTAMP WITH TIME ZONE", ...).
struct RelationColumn {
  std::string name;
  std::string type;
};

struct CompiledAggregation {
  std::string sql;                          // one SELECT, no trailing semicolon
  std::vector<std::string> output_columns;  // the result's column names, in order
};

// Checks the spec against the relation's columns (names, types, output names) and builds
// the SELECT. Column names match DuckDB's way: exactly, else case-insensitively.
Result<CompiledAggregation> CompileAggregation(const AggregationSpec& spec,
                                               const std::vector<RelationColumn>& columns);

}  // namespace pqflow::query
