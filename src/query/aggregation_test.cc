#include "query/aggregation.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <variant>
#include <vector>

#include "core/civil_date.h"
#include "duck/duck.h"

namespace pqflow::query {
namespace {

// ---------------------------------------------------------------------------------------
// Parsing.

std::string ParseError(const std::string& json_text) {
  auto spec = ParseAggregationSpec(json_text);
  EXPECT_FALSE(spec.ok()) << json_text;
  if (spec.ok()) return "";
  EXPECT_EQ(spec.status().code(), StatusCode::kInvalidArgument);
  return spec.status().message();
}

TEST(AggregationParseTest, FullSpec) {
  auto spec = ParseAggregationSpec(R"({
    "dataset": "pageviews",
    "aggregations": [
      {"function": "sum", "column": "view_count", "as": "views"},
      {"function": "count"},
      {"function": "distinct", "column": "path"},
      {"function": "percentile", "column": "view_count", "p": 0.95}
    ],
    "filters": [
      {"column": "project_slug", "op": "=", "value": "docs"},
      {"column": "status", "op": "in", "value": [200, 304, 1.5, true]},
      {"column": "referrer", "op": "!=", "value": null}
    ],
    "group_by": ["project_slug"],
    "time": {"column": "date", "from": "2026-01-01", "to": 1769904000000},
    "window": {"size": "1h", "step": "15m"},
    "limit": 1000
  })");
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  EXPECT_EQ(spec->dataset, "pageviews");
  ASSERT_EQ(spec->aggregations.size(), 4u);
  EXPECT_EQ(spec->aggregations[0].function, AggregateFunction::kSum);
  EXPECT_EQ(spec->aggregations[0].column, "view_count");
  EXPECT_EQ(spec->aggregations[0].as, "views");
  EXPECT_EQ(spec->aggregations[1].function, AggregateFunction::kCount);
  EXPECT_EQ(spec->aggregations[1].column, "");
  EXPECT_EQ(spec->aggregations[2].function, AggregateFunction::kCountDistinct);
  EXPECT_EQ(spec->aggregations[3].function, AggregateFunction::kPercentile);
  EXPECT_DOUBLE_EQ(spec->aggregations[3].p, 0.95);
  ASSERT_EQ(spec->filters.size(), 3u);
  EXPECT_EQ(spec->filters[0].op, FilterOp::kEq);
  EXPECT_EQ(spec->filters[0].values, std::vector<std::string>{"docs"});
  EXPECT_EQ(spec->filters[1].op, FilterOp::kIn);
  EXPECT_EQ(spec->filters[1].values, (std::vector<std::string>{"200", "304", "1.5", "true"}));
  EXPECT_EQ(spec->filters[2].op, FilterOp::kNe);
  EXPECT_TRUE(spec->filters[2].is_null);
  EXPECT_EQ(spec->group_by, std::vector<std::string>{"project_slug"});
  ASSERT_TRUE(spec->time.has_value());
  EXPECT_EQ(spec->time->column, "date");
  EXPECT_EQ(spec->time->from_ms, 1767225600000);
  EXPECT_EQ(spec->time->to_ms, 1769904000000);
  ASSERT_TRUE(spec->window.has_value());
  EXPECT_EQ(spec->window->size_ms, 3600000);
  EXPECT_EQ(spec->window->step_ms, 900000);
  EXPECT_TRUE(spec->window->sliding());
  EXPECT_EQ(spec->limit, 1000);
}

TEST(AggregationParseTest, MinimalSpecAndTumblingWindow) {
  auto spec = ParseAggregationSpec(
      R"({"dataset": "events", "aggregations": [{"function": "count"}], "time": {"column": "timestamp"},
          "window": {"size": "7d"}})");
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  EXPECT_FALSE(spec->time->from_ms.has_value());
  EXPECT_FALSE(spec->time->to_ms.has_value());
  EXPECT_EQ(spec->window->size_ms, 7 * 86400000LL);
  EXPECT_EQ(spec->window->step_ms, 7 * 86400000LL);
  EXPECT_FALSE(spec->window->sliding());
  EXPECT_FALSE(spec->limit.has_value());
}

TEST(AggregationParseTest, IsoTimes) {
  struct Case {
    std::string text;
    int64_t ms;
  };
  const int64_t day = 1767225600000;  // 2026-01-01T00:00:00Z
  for (const Case& c : std::vector<Case>{
           {"2026-01-01", day},
           {"2026-01-01T10:00", day + 36000000},
           {"2026-01-01T10:00:00Z", day + 36000000},
           {"2026-01-01 10:00:00.25", day + 36000250},
           {"2026-01-01t10:00:00.123456z", day + 36000123},
           {"2026-01-01T10:00:00+02:00", day + 28800000},
           {"2026-01-01T10:00:00-0130", day + 41400000},
           {"2026-01-01T01:00:00+05", day - 14400000},
           {"1969-12-31T23:59:59.999Z", -1},
       }) {
    auto spec = ParseAggregationSpec(R"({"dataset": "d", "aggregations": [{"function": "count"}],
                                         "time": {"column": "t", "from": ")" + c.text + R"("}})");
    ASSERT_TRUE(spec.ok()) << c.text << ": " << spec.status().message();
    EXPECT_EQ(spec->time->from_ms, c.ms) << c.text;
  }
}

TEST(AggregationParseTest, Errors) {
  const std::string agg = R"("dataset": "pageviews", "aggregations": [{"function": "count"}])";
  struct Case {
    std::string json;
    std::string message;
  };
  for (const Case& c : std::vector<Case>{
           {R"({"dataset": "x", )", "invalid JSON: parse error at line 1, column 18: syntax error while parsing object key"},
           {"[1, 2]", "the spec must be a JSON object"},
           {R"({"aggregations": [{"function": "count"}]})", "'dataset' is required"},
           {R"({"dataset": 7, "aggregations": [{"function": "count"}]})", "dataset: expected a string"},
           {R"({"dataset": "pageviews"})", "'aggregations' is required"},
           {R"({"dataset": "pageviews", "aggregations": []})", "aggregations: at least one aggregation is required"},
           {R"({"dataset": "pageviews", "aggregations": {}})", "aggregations: expected an array"},
           {"{" + agg + R"(, "fliters": []})",
            "spec: unknown key 'fliters' (expected: dataset, aggregations, filters, group_by, time, window, limit)"},
           {R"({"dataset": "p", "aggregations": [{"function": "sum", "column": "a"}, {"function": "median", "column": "a"}]})",
            "aggregations[1]: unknown function 'median' (expected one of: sum, avg, count, count_distinct, min, max, "
            "percentile, stddev)"},
           {R"({"dataset": "p", "aggregations": [{"function": "sum", "colum": "a"}]})",
            "aggregations[0]: unknown key 'colum' (expected: function, column, as, p)"},
           {R"({"dataset": "p", "aggregations": [{"column": "a"}]})", "aggregations[0]: 'function' is required"},
           {R"({"dataset": "p", "aggregations": [{"function": "avg"}]})", "aggregations[0]: avg needs a 'column'"},
           {R"({"dataset": "p", "aggregations": ["count"]})", "aggregations[0]: expected an object"},
           {R"({"dataset": "p", "aggregations": [{"function": "percentile", "column": "a"}]})",
            "aggregations[0]: percentile needs 'p' (a number in [0, 1])"},
           {R"({"dataset": "p", "aggregations": [{"function": "percentile", "column": "a", "p": 95}]})",
            "aggregations[0].p: 95 is not a number in [0, 1]"},
           {R"({"dataset": "p", "aggregations": [{"function": "percentile", "column": "a", "p": -0.1}]})",
            "aggregations[0].p: -0.1 is not a number in [0, 1]"},
           {R"({"dataset": "p", "aggregations": [{"function": "percentile", "column": "a", "p": "0.5"}]})",
            "aggregations[0].p: \"0.5\" is not a number in [0, 1]"},
           {R"({"dataset": "p", "aggregations": [{"function": "max", "column": "a", "p": 0.5}]})",
            "aggregations[0]: 'p' only applies to percentile"},
           {R"({"dataset": "p", "aggregations": [{"function": "max", "column": "a", "as": ""}]})",
            "aggregations[0].as: must not be empty"},
           {"{" + agg + R"(, "filters": [{"column": "a", "op": "like", "value": "x"}]})",
            "filters[0]: unknown op 'like' (expected one of: =, !=, >, >=, <, <=, in)"},
           {"{" + agg + R"(, "filters": [{"column": "a", "op": "=", "valeu": "x"}]})",
            "filters[0]: unknown key 'valeu' (expected: column, op, value)"},
           {"{" + agg + R"(, "filters": [{"column": "a", "op": "="}]})", "filters[0]: 'value' is required"},
           {"{" + agg + R"(, "filters": [{"column": "a", "op": ">", "value": null}]})",
            "filters[0]: a null value needs op = (IS NULL) or != (IS NOT NULL), not '>'"},
           {"{" + agg + R"(, "filters": [{"column": "a", "op": "in", "value": 3}]})",
            "filters[0].value: 'in' needs a non-empty array"},
           {"{" + agg + R"(, "filters": [{"column": "a", "op": "in", "value": []}]})",
            "filters[0].value: 'in' needs a non-empty array"},
           {"{" + agg + R"(, "filters": [{"column": "a", "op": "in", "value": [1, null]}]})",
            "filters[0].value[1]: expected a string, number or boolean"},
           {"{" + agg + R"(, "filters": [{"column": "a", "op": "=", "value": [1]}]})",
            "filters[0].value: expected a string, number or boolean"},
           {"{" + agg + R"(, "filters": {}})", "filters: expected an array"},
           {"{" + agg + R"(, "group_by": "a"})", "group_by: expected an array of column names"},
           {"{" + agg + R"(, "group_by": ["a", 1]})", "group_by[1]: expected a string"},
           {"{" + agg + R"(, "time": {"from": "2026-01-01"}})", "time: 'column' is required"},
           {"{" + agg + R"(, "time": {"column": "t", "form": "2026-01-01"}})",
            "time: unknown key 'form' (expected: column, from, to)"},
           {"{" + agg + R"(, "time": {"column": "t", "from": "2026-02-30"}})",
            "time.from: '2026-02-30' is not an ISO-8601 date or timestamp (e.g. 2026-01-01 or 2026-01-01T10:00:00Z)"},
           {"{" + agg + R"(, "time": {"column": "t", "to": "2026-01-01T25:00"}})",
            "time.to: '2026-01-01T25:00' is not an ISO-8601 date or timestamp"},
           {"{" + agg + R"(, "time": {"column": "t", "to": "2026-01-01T10:00:00 UTC"}})",
            "time.to: '2026-01-01T10:00:00 UTC' is not an ISO-8601 date or timestamp"},
           {"{" + agg + R"(, "time": {"column": "t", "to": 1.5}})",
            "time.to: expected an ISO-8601 string or an integer (ms since the epoch)"},
           {"{" + agg + R"(, "time": {"column": "t", "to": 9223372036854775807}})",
            "time.to: 9223372036854775807 is out of range"},
           {"{" + agg + R"(, "time": {"column": "t", "from": "2026-01-02", "to": "2026-01-01"}})",
            "time: 'from' is after 'to'"},
           {"{" + agg + R"(, "window": {"size": "1h"}})",
            "window: needs \"time\": {\"column\": ...} to know the row times"},
           {"{" + agg + R"(, "time": {"column": "t"}, "window": {"size": "1h", "step": "2h"}})",
            "window: step 2h is larger than size 1h (rows between windows would be lost)"},
           {"{" + agg + R"(, "time": {"column": "t"}, "window": {"size": "1d", "step": "1m"}})",
            "window: size/step puts each row in 1440 windows (at most 1000)"},
           {"{" + agg + R"(, "time": {"column": "t"}, "window": {"size": "1w"}})",
            "window.size: '1w' has an unknown unit (use s, m, h or d)"},
           {"{" + agg + R"(, "time": {"column": "t"}, "window": {"size": "0s"}})", "window.size: '0s' must be positive"},
           {"{" + agg + R"(, "time": {"column": "t"}, "window": {"size": 3600}})", "window.size: expected a string"},
           {"{" + agg + R"(, "time": {"column": "t"}, "window": {"size": "99999999999d"}})",
            "window.size: '99999999999d' is too long"},
           {"{" + agg + R"(, "time": {"column": "t"}, "window": {"size": "1h", "slide": "1m"}})",
            "window: unknown key 'slide' (expected: size, step)"},
           {"{" + agg + R"(, "limit": 0})", "limit: must be positive"},
           {"{" + agg + R"(, "limit": "10"})", "limit: expected an integer"},
       }) {
    std::string message = ParseError(c.json);
    EXPECT_TRUE(message.starts_with(c.message)) << c.json << "\n  got:      " << message << "\n  expected: " << c.message;
  }
}

// ---------------------------------------------------------------------------------------
// Compiling without running.

const std::vector<RelationColumn> kPageviews = {
    {"id", "BIGINT"},         {"project_id", "BIGINT"}, {"project_slug", "VARCHAR"}, {"path", "VARCHAR"},
    {"view_count", "BIGINT"}, {"status", "INTEGER"},    {"date", "DATE"},            {"price", "DECIMAL(18,3)"},
    {"at", "TIMESTAMP WITH TIME ZONE"},
};

Result<CompiledAggregation> Compile(const std::string& json_text, const std::vector<RelationColumn>& columns = kPageviews) {
  auto spec = ParseAggregationSpec(json_text);
  if (!spec.ok()) return spec.status();
  return CompileAggregation(*spec, columns);
}

std::string CompileError(const std::string& json_text) {
  auto compiled = Compile(json_text);
  EXPECT_FALSE(compiled.ok()) << json_text;
  if (compiled.ok()) return "";
  EXPECT_EQ(compiled.status().code(), StatusCode::kInvalidArgument);
  return compiled.status().message();
}

TEST(AggregationCompileTest, Errors) {
  const std::string ds = R"("dataset": "pageviews", )";
  const std::string count = R"("aggregations": [{"function": "count"}])";
  struct Case {
    std::string json;
    std::string message;
  };
  for (const Case& c : std::vector<Case>{
           {"{" + ds + count + R"(, "filters": [{"column": "projct", "op": "=", "value": "x"}]})",
            "filters[0]: unknown column 'projct' (pageviews has: id, project_id, project_slug, path, view_count, status, "
            "date, price, at)"},
           {"{" + ds + R"("aggregations": [{"function": "count"}, {"function": "sum", "column": "views"}]})",
            "aggregations[1]: unknown column 'views' (pageviews has: id, "},
           {"{" + ds + count + R"(, "group_by": ["status", "slug"]})", "group_by[1]: unknown column 'slug'"},
           {"{" + ds + count + R"(, "time": {"column": "day"}})", "time.column: unknown column 'day'"},
           {"{" + ds + R"("aggregations": [{"function": "sum", "column": "path"}]})",
            "aggregations[0]: sum needs a numeric column; 'path' is VARCHAR"},
           {"{" + ds + R"("aggregations": [{"function": "avg", "column": "date"}]})",
            "aggregations[0]: avg needs a numeric column; 'date' is DATE"},
           {"{" + ds + R"("aggregations": [{"function": "stddev", "column": "project_slug"}]})",
            "aggregations[0]: stddev needs a numeric column; 'project_slug' is VARCHAR"},
           {"{" + ds + R"("aggregations": [{"function": "percentile", "column": "at", "p": 0.5}]})",
            "aggregations[0]: percentile needs a numeric column; 'at' is TIMESTAMP WITH TIME ZONE"},
           {"{" + ds + count + R"(, "time": {"column": "path"}})",
            "time.column: 'path' is VARCHAR; expected DATE, TIMESTAMP, TIMESTAMP WITH TIME ZONE or an integer column"},
           {"{" + ds + count + R"(, "time": {"column": "price"}})", "time.column: 'price' is DECIMAL(18,3); expected"},
           {"{" + ds + R"("aggregations": [{"function": "sum", "column": "view_count"}, {"function": "max", "column": "id", "as": "sum_view_count"}]})",
            "aggregations[1]: output column 'sum_view_count' is already used by aggregations[0] (set a different \"as\")"},
           {"{" + ds + R"("aggregations": [{"function": "count"}, {"function": "count"}]})",
            "aggregations[1]: output column 'count' is already used by aggregations[0]"},
           {"{" + ds + R"("aggregations": [{"function": "max", "column": "id", "as": "Status"}], "group_by": ["status"]})",
            "aggregations[0]: output column 'Status' is already used by group_by[0]"},
           {"{" + ds + R"("aggregations": [{"function": "count", "as": "window_start"}], "time": {"column": "date"}, "window": {"size": "1d"}})",
            "aggregations[0]: output column 'window_start' is already used by window"},
           {"{" + ds + count + R"(, "group_by": ["path", "path"]})",
            "group_by[1]: output column 'path' is already used by group_by[0]"},
       }) {
    std::string message = CompileError(c.json);
    EXPECT_TRUE(message.starts_with(c.message)) << c.json << "\n  got:      " << message << "\n  expected: " << c.message;
  }
  AggregationSpec empty;
  empty.dataset = "pageviews";
  auto compiled = CompileAggregation(empty, kPageviews);
  ASSERT_FALSE(compiled.ok());
  EXPECT_EQ(compiled.status().message(), "aggregations: at least one aggregation is required");
}

TEST(AggregationCompileTest, DefaultOutputNames) {
  auto compiled = Compile(R"({"dataset": "pageviews", "aggregations": [
      {"function": "count"}, {"function": "count", "column": "path"}, {"function": "distinct", "column": "path"},
      {"function": "sum", "column": "view_count"}, {"function": "avg", "column": "price"},
      {"function": "min", "column": "date"}, {"function": "max", "column": "at"},
      {"function": "stddev", "column": "view_count"},
      {"function": "percentile", "column": "view_count", "p": 0.95},
      {"function": "percentile", "column": "view_count", "p": 0.5},
      {"function": "percentile", "column": "view_count", "p": 0.999},
      {"function": "percentile", "column": "view_count", "p": 1},
      {"function": "percentile", "column": "view_count", "p": 0, "as": "lowest"},
      {"function": "sum", "column": "VIEW_COUNT", "as": "total"}],
    "group_by": ["project_slug"], "time": {"column": "date"}, "window": {"size": "1d"}})");
  ASSERT_TRUE(compiled.ok()) << compiled.status().message();
  EXPECT_EQ(compiled->output_columns,
            (std::vector<std::string>{"window_start", "window_end", "project_slug", "count", "count_path",
                                      "count_distinct_path", "sum_view_count", "avg_price", "min_date", "max_at",
                                      "stddev_view_count", "p95_view_count", "p50_view_count", "p99_9_view_count",
                                      "p100_view_count", "lowest", "total"}));
}

TEST(AggregationCompileTest, SpecTextIsNeverSplicedAsSql) {
  std::vector<RelationColumn> columns = {{"we\"ird", "VARCHAR"}, {"n", "BIGINT"}};
  auto compiled = Compile(R"({"dataset": "evil\"; DROP TABLE x; --",
      "aggregations": [{"function": "max", "column": "we\"ird", "as": "a\" FROM y; --"}],
      "filters": [{"column": "we\"ird", "op": "=", "value": "x'); DROP TABLE t; --"},
                  {"column": "n", "op": "in", "value": ["1'", 2]}]})",
                          columns);
  ASSERT_TRUE(compiled.ok()) << compiled.status().message();
  EXPECT_EQ(compiled->sql,
            "SELECT max(\"we\"\"ird\") AS \"a\"\" FROM y; --\" FROM \"evil\"\"; DROP TABLE x; --\" WHERE "
            "\"we\"\"ird\" = CAST('x''); DROP TABLE t; --' AS VARCHAR) AND "
            "\"n\" IN (CAST('1''' AS BIGINT), CAST('2' AS BIGINT))");
}

TEST(AggregationCompileTest, TimeBoundsUseTheColumnsType) {
  auto sql = [](const std::string& column) {
    auto compiled = Compile(R"({"dataset": "d", "aggregations": [{"function": "count"}],
        "time": {"column": ")" + column + R"(", "from": "2026-01-01T10:00:00.5+01:00", "to": "2026-01-03"}})",
                            {{"ts", "TIMESTAMP_NS"}, {"tz", "TIMESTAMP WITH TIME ZONE"}, {"d", "DATE"}, {"ms", "UBIGINT"}});
    EXPECT_TRUE(compiled.ok()) << compiled.status().message();
    return compiled.ok() ? compiled->sql : "";
  };
  EXPECT_EQ(sql("ts"),
            "SELECT count(*) AS \"count\" FROM \"d\" WHERE \"ts\" >= CAST('2026-01-01 09:00:00.500' AS TIMESTAMP) AND "
            "\"ts\" < CAST('2026-01-03 00:00:00.000' AS TIMESTAMP)");
  EXPECT_EQ(sql("tz"),
            "SELECT count(*) AS \"count\" FROM \"d\" WHERE \"tz\" >= CAST('2026-01-01 09:00:00.500+00' AS TIMESTAMP "
            "WITH TIME ZONE) AND \"tz\" < CAST('2026-01-03 00:00:00.000+00' AS TIMESTAMP WITH TIME ZONE)");
  // A day counts as its midnight: 2026-01-01 is before 09:00 that day, so the first day is 01-02.
  EXPECT_EQ(sql("d"),
            "SELECT count(*) AS \"count\" FROM \"d\" WHERE \"d\" >= CAST('2026-01-02' AS DATE) AND "
            "\"d\" < CAST('2026-01-03' AS DATE)");
  EXPECT_EQ(sql("ms"), "SELECT count(*) AS \"count\" FROM \"d\" WHERE \"ms\" >= 1767258000500 AND \"ms\" < 1767398400000");
}

// ---------------------------------------------------------------------------------------
// Running the SQL against rows whose answers are computed here, in C++.

constexpr int64_t kHour = 3600000;
constexpr int64_t kDay = 24 * kHour;
constexpr int64_t kBase = 1767225600000;  // 2026-01-01T00:00:00Z, a Thursday

struct Row {
  int64_t id = 0;
  std::optional<std::string> grp;
  std::optional<int64_t> status;
  std::optional<double> value;  // a multiple of 0.25, so DECIMAL(18,3) holds it exactly
  std::string path;
  std::optional<int64_t> t;  // ms since the epoch; ts, ts_ms, day and tstz are all derived
};

std::string FormatUtc(int64_t ms) {
  int64_t days = ms >= 0 ? ms / kDay : -((-ms + kDay - 1) / kDay);
  int64_t rem = ms - days * kDay;
  char buf[32];
  std::snprintf(buf, sizeof buf, " %02d:%02d:%02d", static_cast<int>(rem / kHour), static_cast<int>(rem / 60000 % 60),
                static_cast<int>(rem / 1000 % 60));
  std::string out = CivilDate::FromDays(static_cast<int32_t>(days)).ToIso() + buf;
  if (rem % 1000 != 0) {
    std::snprintf(buf, sizeof buf, ".%03d", static_cast<int>(rem % 1000));
    out += buf;
  }
  return out;
}

int64_t DayStart(int64_t ms) { return ms - (((ms % kDay) + kDay) % kDay); }

// Deterministic across platforms: mt19937_64's output is fixed by the standard, and only
// its raw numbers are used (no distributions).
std::vector<Row> GenerateRows(size_t n) {
  std::mt19937_64 rng(20260105);
  static const char* kGroups[] = {"alpha", "beta", "gamma", "delta", "epsilon"};
  static const int64_t kStatus[] = {200, 200, 200, 301, 304, 404, 500};
  std::vector<Row> rows;
  for (size_t i = 0; i < n; ++i) {
    Row r;
    r.id = static_cast<int64_t>(i);
    if (rng() % 20 != 0) r.grp = kGroups[rng() % 5];
    if (rng() % 20 != 0) r.status = kStatus[rng() % 7];
    if (rng() % 10 != 0) r.value = static_cast<double>(rng() % 40000) / 4.0 - 1000.0;
    r.path = "/docs/" + std::to_string(rng() % 60);
    if (rng() % 50 != 0) {
      int64_t t = kBase - kDay / 2 + static_cast<int64_t>(rng() % (6 * kDay));  // 2025-12-31T12:00 .. 2026-01-06T12:00
      switch (i % 10) {
        case 0: t -= ((t % kHour) + kHour) % kHour; break;            // on an hour boundary
        case 1: t -= ((t % (15 * 60000)) + 15 * 60000) % (15 * 60000); break;  // on a quarter hour
        case 2: t = DayStart(t); break;                               // at midnight
        case 3: t -= ((t % kHour) + kHour) % kHour + 1; break;        // 1 ms before an hour
        default: break;
      }
      r.t = t;
    }
    rows.push_back(std::move(r));
  }
  // Rows exactly on the bounds and window edges the tests use, whatever the generator gave.
  const int64_t kEdges[] = {kBase + kDay, kBase + kDay - 1, kBase + 3 * kDay + 6 * kHour,
                            kBase + 3 * kDay + 6 * kHour - 1, kBase, kBase - 1, kBase + kDay + 2 * kHour};
  for (size_t i = 0; i < std::size(kEdges) && i < rows.size(); ++i) rows[rows.size() - 1 - i].t = kEdges[i];
  return rows;
}

std::string Literal(const std::optional<std::string>& s) { return s ? duck::QuoteLiteral(*s) : "NULL"; }

std::string RowValues(const Row& r) {
  char value[64] = "NULL";
  if (r.value) std::snprintf(value, sizeof value, "%.2f", *r.value);
  std::string ts = r.t ? "'" + FormatUtc(*r.t) + "'" : "NULL";
  std::string tstz = r.t ? "'" + FormatUtc(*r.t) + "+00'" : "NULL";
  std::string day = r.t ? "'" + FormatUtc(DayStart(*r.t)).substr(0, 10) + "'" : "NULL";
  return "(" + std::to_string(r.id) + ", " + Literal(r.grp) + ", " + (r.status ? std::to_string(*r.status) : "NULL") +
         ", " + value + ", " + value + ", " + duck::QuoteLiteral(r.path) + ", " + ts + ", " +
         (r.t ? std::to_string(*r.t) : "NULL") + ", " + day + ", " + tstz + ")";
}

// A cell of an expected result: NULL, a number (compared with a tolerance) or text.
using Cell = std::variant<std::monostate, double, std::string>;
using Table = std::vector<std::vector<Cell>>;

Cell Num(std::optional<double> v) { return v ? Cell(*v) : Cell(std::monostate{}); }
Cell Text(const std::optional<std::string>& v) { return v ? Cell(*v) : Cell(std::monostate{}); }

using Rows = std::vector<const Row*>;

std::vector<double> Values(const Rows& rows) {
  std::vector<double> out;
  for (const Row* r : rows) {
    if (r->value) out.push_back(*r->value);
  }
  return out;
}

std::optional<double> Sum(const Rows& rows) {
  std::vector<double> v = Values(rows);
  if (v.empty()) return std::nullopt;
  double s = 0;
  for (double x : v) s += x;
  return s;
}

std::optional<double> Avg(const Rows& rows) {
  std::vector<double> v = Values(rows);
  if (v.empty()) return std::nullopt;
  return *Sum(rows) / static_cast<double>(v.size());
}

std::optional<double> Min(const Rows& rows) {
  std::vector<double> v = Values(rows);
  if (v.empty()) return std::nullopt;
  return *std::min_element(v.begin(), v.end());
}

std::optional<double> Max(const Rows& rows) {
  std::vector<double> v = Values(rows);
  if (v.empty()) return std::nullopt;
  return *std::max_element(v.begin(), v.end());
}

// Linear interpolation between the closest ranks: position p * (n - 1) in the sorted values.
std::optional<double> Percentile(const Rows& rows, double p) {
  std::vector<double> v = Values(rows);
  if (v.empty()) return std::nullopt;
  std::sort(v.begin(), v.end());
  double pos = p * static_cast<double>(v.size() - 1);
  size_t lo = static_cast<size_t>(std::floor(pos));
  size_t hi = static_cast<size_t>(std::ceil(pos));
  return v[lo] + (pos - static_cast<double>(lo)) * (v[hi] - v[lo]);
}

std::optional<double> StddevSample(const Rows& rows) {
  std::vector<double> v = Values(rows);
  if (v.size() < 2) return std::nullopt;
  double mean = *Avg(rows);
  double ss = 0;
  for (double x : v) ss += (x - mean) * (x - mean);
  return std::sqrt(ss / static_cast<double>(v.size() - 1));
}

double CountValues(const Rows& rows) { return static_cast<double>(Values(rows).size()); }

double CountDistinctPaths(const Rows& rows) {
  std::vector<std::string> paths;
  for (const Row* r : rows) paths.push_back(r->path);
  std::sort(paths.begin(), paths.end());
  return static_cast<double>(std::unique(paths.begin(), paths.end()) - paths.begin());
}

std::optional<std::string> MinPath(const Rows& rows) {
  if (rows.empty()) return std::nullopt;
  std::string m = rows[0]->path;
  for (const Row* r : rows) m = std::min(m, r->path);
  return m;
}

// How to group the generated rows: by window (start in ms) and/or by grp. std::map orders
// keys like the spec's ORDER BY: window start, then grp with NULL (true) last.
struct Grouping {
  std::function<bool(const Row&)> keep = [](const Row&) { return true; };
  bool by_grp = false;
  int64_t size = 0;  // window size in ms; 0 = no window
  int64_t step = 0;
};
using GroupKey = std::pair<int64_t, std::pair<bool, std::string>>;

std::map<GroupKey, Rows> Group(const std::vector<Row>& rows, const Grouping& g) {
  std::map<GroupKey, Rows> groups;
  if (!g.by_grp && g.size == 0) groups[{0, {false, ""}}];  // one row, even over no rows
  for (const Row& r : rows) {
    if (!g.keep(r)) continue;
    std::pair<bool, std::string> grp{!r.grp.has_value(), r.grp.value_or("")};
    if (!g.by_grp) grp = {false, ""};
    if (g.size == 0) {
      groups[{0, grp}].push_back(&r);
      continue;
    }
    if (!r.t) continue;
    int64_t t = *r.t;
    int64_t s = t / g.step * g.step;
    if (s > t) s -= g.step;
    for (; s + g.size > t; s -= g.step) groups[{s, grp}].push_back(&r);
  }
  return groups;
}

// One expected row per group: window start/end (if windowed), grp (if grouped), then `aggs`.
Table Expect(const std::vector<Row>& rows, const Grouping& g, const std::function<std::vector<Cell>(const Rows&)>& aggs) {
  Table table;
  for (const auto& [key, members] : Group(rows, g)) {
    std::vector<Cell> row;
    if (g.size > 0) {
      row.push_back(FormatUtc(key.first));
      row.push_back(FormatUtc(key.first + g.size));
    }
    if (g.by_grp) row.push_back(key.second.first ? Cell(std::monostate{}) : Cell(key.second.second));
    for (Cell& c : aggs(members)) row.push_back(std::move(c));
    table.push_back(std::move(row));
  }
  return table;
}

class AggregationRunTest : public ::testing::Test {
 protected:
  static constexpr size_t kRows = 4000;

  void SetUp() override {
    duck::DatabaseOptions options;
    options.threads = 2;
    auto db = duck::Database::Open(options);
    ASSERT_TRUE(db.ok()) << db.status().message();
    db_.emplace(std::move(db).value());
    auto conn = duck::Connection::Make(*db_);
    ASSERT_TRUE(conn.ok()) << conn.status().message();
    conn_.emplace(std::move(conn).value());
    ASSERT_TRUE(conn_
                    ->Execute("CREATE TABLE events (id BIGINT, grp VARCHAR, status INTEGER, value DOUBLE, "
                              "amount DECIMAL(18,3), path VARCHAR, ts TIMESTAMP, ts_ms BIGINT, day DATE, "
                              "tstz TIMESTAMP WITH TIME ZONE)")
                    .ok());
    rows_ = GenerateRows(kRows);
    for (size_t begin = 0; begin < rows_.size(); begin += 500) {
      std::vector<std::string> values;
      for (size_t i = begin; i < std::min(rows_.size(), begin + 500); ++i) values.push_back(RowValues(rows_[i]));
      std::string sql = "INSERT INTO events VALUES ";
      for (size_t i = 0; i < values.size(); ++i) sql += (i ? ", " : "") + values[i];
      Status st = conn_->Execute(sql);
      ASSERT_TRUE(st.ok()) << st.message();
    }
    auto described = conn_->Query("DESCRIBE events");
    ASSERT_TRUE(described.ok()) << described.status().message();
    for (size_t i = 0; i < described->row_count(); ++i) {
      columns_.push_back({described->GetOr(i, 0, ""), described->GetOr(i, 1, "")});
    }
  }

  // Parses, compiles and runs `spec`; checks the output columns are the ones promised.
  std::optional<duck::QueryResult> Run(const std::string& spec_json) {
    auto spec = ParseAggregationSpec(spec_json);
    EXPECT_TRUE(spec.ok()) << spec.status().message();
    if (!spec.ok()) return std::nullopt;
    auto compiled = CompileAggregation(*spec, columns_);
    EXPECT_TRUE(compiled.ok()) << compiled.status().message();
    if (!compiled.ok()) return std::nullopt;
    auto result = conn_->Query(compiled->sql);
    EXPECT_TRUE(result.ok()) << compiled->sql << "\n" << result.status().message();
    if (!result.ok()) return std::nullopt;
    EXPECT_EQ(result->column_names(), compiled->output_columns);
    return std::move(result).value();
  }

  void ExpectResult(const std::string& spec_json, const Table& expected) {
    std::optional<duck::QueryResult> result = Run(spec_json);
    if (!result) return;
    ASSERT_EQ(result->row_count(), expected.size()) << spec_json;
    for (size_t r = 0; r < expected.size(); ++r) {
      ASSERT_EQ(result->column_count(), expected[r].size()) << spec_json;
      for (size_t c = 0; c < expected[r].size(); ++c) ExpectCell(*result, r, c, expected[r][c], spec_json);
    }
  }

  static void ExpectCell(const duck::QueryResult& result, size_t r, size_t c, const Cell& want, const std::string& spec) {
    const std::optional<std::string>& got = result.Get(r, c);
    std::string where = "row " + std::to_string(r) + " column " + result.column_names()[c] + " of " + spec;
    if (std::holds_alternative<std::monostate>(want)) {
      EXPECT_FALSE(got.has_value()) << where << ": got " << *got << ", want NULL";
    } else if (!got.has_value()) {
      ADD_FAILURE() << where << ": got NULL";
    } else if (const double* d = std::get_if<double>(&want)) {
      double g = std::strtod(got->c_str(), nullptr);
      EXPECT_NEAR(g, *d, 1e-9 * std::max(1.0, std::fabs(*d))) << where << ": got " << *got;
    } else {
      EXPECT_EQ(*got, std::get<std::string>(want)) << where;
    }
  }

  double RowsWithTime() const {
    return static_cast<double>(std::count_if(rows_.begin(), rows_.end(), [](const Row& r) { return r.t.has_value(); }));
  }

  std::optional<duck::Database> db_;
  std::optional<duck::Connection> conn_;
  std::vector<Row> rows_;
  std::vector<RelationColumn> columns_;
};

const char* kEveryFunction = R"("aggregations": [
    {"function": "count"}, {"function": "count", "column": "value"}, {"function": "sum", "column": "value"},
    {"function": "avg", "column": "value"}, {"function": "min", "column": "value"}, {"function": "max", "column": "value"},
    {"function": "count_distinct", "column": "path"}, {"function": "distinct", "column": "path", "as": "paths"},
    {"function": "min", "column": "path"}, {"function": "percentile", "column": "value", "p": 0.95},
    {"function": "percentile", "column": "value", "p": 0.5}, {"function": "percentile", "column": "value", "p": 0},
    {"function": "percentile", "column": "amount", "p": 1}, {"function": "stddev", "column": "value"},
    {"function": "sum", "column": "amount"}, {"function": "avg", "column": "amount"}])";

std::vector<Cell> EveryFunction(const Rows& rows) {
  return {static_cast<double>(rows.size()), CountValues(rows), Num(Sum(rows)), Num(Avg(rows)),
          Num(Min(rows)), Num(Max(rows)), CountDistinctPaths(rows), CountDistinctPaths(rows),
          Text(MinPath(rows)), Num(Percentile(rows, 0.95)), Num(Percentile(rows, 0.5)), Num(Percentile(rows, 0)),
          Num(Percentile(rows, 1)), Num(StddevSample(rows)), Num(Sum(rows)), Num(Avg(rows))};
}

std::vector<Cell> CountAndSum(const Rows& rows) { return {static_cast<double>(rows.size()), Num(Sum(rows))}; }
const char* kCountAndSum = R"("aggregations": [{"function": "count"}, {"function": "sum", "column": "value"}])";

TEST_F(AggregationRunTest, EveryFunctionOverAllRows) {
  ExpectResult(std::string(R"({"dataset": "events", )") + kEveryFunction + "}", Expect(rows_, {}, EveryFunction));
}

TEST_F(AggregationRunTest, EveryFunctionGroupedWithNullGroupLast) {
  Grouping g;
  g.by_grp = true;
  Table expected = Expect(rows_, g, EveryFunction);
  ASSERT_EQ(expected.size(), 6u);  // five groups and NULL
  ExpectResult(std::string(R"({"dataset": "events", "group_by": ["grp"], )") + kEveryFunction + "}", expected);
}

TEST_F(AggregationRunTest, GroupByTwoColumns) {
  std::map<std::pair<std::string, int64_t>, Rows> groups;  // NULLs left out by the filters
  for (const Row& r : rows_) {
    if (r.grp && r.status) groups[{*r.grp, *r.status}].push_back(&r);
  }
  Table expected;
  for (const auto& [key, members] : groups) {
    expected.push_back({key.first, static_cast<double>(key.second), static_cast<double>(members.size()),
                        Num(Max(members))});
  }
  ExpectResult(R"({"dataset": "events", "group_by": ["grp", "status"],
                   "aggregations": [{"function": "count"}, {"function": "max", "column": "value"}],
                   "filters": [{"column": "grp", "op": "!=", "value": null}, {"column": "status", "op": "!=", "value": null}]})",
               expected);
}

TEST_F(AggregationRunTest, FiltersOfEveryOp) {
  struct Case {
    std::string filter;
    std::function<bool(const Row&)> keep;
  };
  // A comparison never matches a NULL status, as in SQL.
  auto status = [](bool (*pred)(int64_t)) {
    return [pred](const Row& r) { return r.status.has_value() && pred(*r.status); };
  };
  for (const Case& c : std::vector<Case>{
           {R"({"column": "status", "op": "=", "value": 404})", status([](int64_t s) { return s == 404; })},
           {R"({"column": "status", "op": "!=", "value": 200})", status([](int64_t s) { return s != 200; })},
           {R"({"column": "status", "op": ">", "value": 304})", status([](int64_t s) { return s > 304; })},
           {R"({"column": "status", "op": ">=", "value": "304"})", status([](int64_t s) { return s >= 304; })},
           {R"({"column": "status", "op": "<", "value": 301})", status([](int64_t s) { return s < 301; })},
           {R"({"column": "status", "op": "<=", "value": 301})", status([](int64_t s) { return s <= 301; })},
           {R"({"column": "status", "op": "in", "value": [200, 304]})", status([](int64_t s) { return s == 200 || s == 304; })},
           {R"({"column": "status", "op": "=", "value": null})", [](const Row& r) { return !r.status.has_value(); }},
           {R"({"column": "status", "op": "!=", "value": null})", [](const Row& r) { return r.status.has_value(); }},
           {R"({"column": "grp", "op": "=", "value": "beta"})", [](const Row& r) { return r.grp == "beta"; }},
           {R"({"column": "grp", "op": "!=", "value": "beta"})", [](const Row& r) { return r.grp && *r.grp != "beta"; }},
           {R"({"column": "grp", "op": "<", "value": "delta"})", [](const Row& r) { return r.grp && *r.grp < "delta"; }},
           {R"({"column": "grp", "op": "in", "value": ["alpha", "gamma", "zeta"]})",
            [](const Row& r) { return r.grp == "alpha" || r.grp == "gamma"; }},
           {R"({"column": "value", "op": ">=", "value": 1000.25})", [](const Row& r) { return r.value && *r.value >= 1000.25; }},
           {R"({"column": "amount", "op": "<", "value": "-500.5"})", [](const Row& r) { return r.value && *r.value < -500.5; }},
           {R"({"column": "ts", "op": ">=", "value": "2026-01-03 12:00:00"})",
            [](const Row& r) { return r.t && *r.t >= kBase + 2 * kDay + 12 * kHour; }},
           {R"({"column": "day", "op": "=", "value": "2026-01-02"})",
            [](const Row& r) { return r.t && DayStart(*r.t) == kBase + kDay; }},
           {R"({"column": "path", "op": "=", "value": "no such path"})", [](const Row&) { return false; }},
       }) {
    SCOPED_TRACE(c.filter);
    Grouping g;
    g.keep = c.keep;
    ExpectResult(std::string(R"({"dataset": "events", "filters": [)") + c.filter + "], " + kCountAndSum + "}",
                 Expect(rows_, g, CountAndSum));
  }
}

TEST_F(AggregationRunTest, FiltersCombineWithAnd) {
  Grouping g;
  g.by_grp = true;
  g.keep = [](const Row& r) { return r.status && *r.status >= 300 && r.value && *r.value > 0 && r.path != "/docs/7"; };
  ExpectResult(std::string(R"({"dataset": "events", "group_by": ["grp"], "filters": [
                   {"column": "status", "op": ">=", "value": 300}, {"column": "value", "op": ">", "value": 0},
                   {"column": "path", "op": "!=", "value": "/docs/7"}], )") +
                   kCountAndSum + "}",
               Expect(rows_, g, CountAndSum));
}

TEST_F(AggregationRunTest, TimeRangeIsInclusiveExclusiveOnEveryTimeType) {
  const int64_t from = kBase + kDay;            // 2026-01-02T00:00Z: midnight rows sit on it
  const int64_t to = kBase + 3 * kDay + 6 * kHour;  // 2026-01-04T06:00Z: hour rows sit on it
  ASSERT_TRUE(std::any_of(rows_.begin(), rows_.end(), [&](const Row& r) { return r.t == from; }));
  ASSERT_TRUE(std::any_of(rows_.begin(), rows_.end(), [&](const Row& r) { return r.t == to; }));
  ASSERT_TRUE(std::any_of(rows_.begin(), rows_.end(), [&](const Row& r) { return r.t == to - 1; }));
  Grouping g;
  g.by_grp = true;
  g.keep = [&](const Row& r) { return r.t && *r.t >= from && *r.t < to; };
  Table expected = Expect(rows_, g, CountAndSum);
  for (const std::string& column : std::vector<std::string>{"ts", "ts_ms", "tstz"}) {
    for (const std::string& bounds : std::vector<std::string>{R"("from": "2026-01-02", "to": "2026-01-04T06:00:00Z")",
                                      R"("from": "2026-01-02T01:00:00+01:00", "to": 1767506400000)"}) {
      SCOPED_TRACE(column + " " + bounds);
      ExpectResult(R"({"dataset": "events", "group_by": ["grp"], "time": {"column": ")" + column + "\", " + bounds +
                       "}, " + kCountAndSum + "}",
                   expected);
    }
  }
  // Only one bound.
  g.keep = [&](const Row& r) { return r.t && *r.t < to; };
  ExpectResult(std::string(R"({"dataset": "events", "group_by": ["grp"], "time": {"column": "ts", "to": "2026-01-04T06:00Z"}, )") +
                   kCountAndSum + "}",
               Expect(rows_, g, CountAndSum));
  // A DATE is its midnight: from 2026-01-02T06:00 starts with 2026-01-03; to 2026-01-05T00:00:01 keeps 01-05.
  g.keep = [&](const Row& r) {
    return r.t && DayStart(*r.t) >= kBase + 2 * kDay && DayStart(*r.t) <= kBase + 4 * kDay;
  };
  ExpectResult(std::string(R"({"dataset": "events", "group_by": ["grp"],
                   "time": {"column": "day", "from": "2026-01-02T06:00:00Z", "to": "2026-01-05T00:00:01Z"}, )") +
                   kCountAndSum + "}",
               Expect(rows_, g, CountAndSum));
}

TEST_F(AggregationRunTest, TumblingHourWindowsByGroup) {
  Grouping g;
  g.by_grp = true;
  g.size = g.step = kHour;
  Table expected = Expect(rows_, g, EveryFunction);
  ASSERT_GT(expected.size(), 500u);
  ExpectResult(std::string(R"({"dataset": "events", "group_by": ["grp"], "time": {"column": "ts"},
                               "window": {"size": "1h"}, )") + kEveryFunction + "}",
               expected);
  // The same instants as TIMESTAMP WITH TIME ZONE give the same windows.
  ExpectResult(std::string(R"({"dataset": "events", "group_by": ["grp"], "time": {"column": "tstz"},
                               "window": {"size": "60m", "step": "3600s"}, )") + kEveryFunction + "}",
               expected);
}

TEST_F(AggregationRunTest, TumblingDayWindowsOnEpochMillisecondsAndDates) {
  Grouping g;
  g.size = g.step = kDay;
  Table expected = Expect(rows_, g, CountAndSum);
  ASSERT_EQ(expected.size(), 7u);  // 2025-12-31 .. 2026-01-06
  EXPECT_EQ(std::get<std::string>(expected[0][0]), "2025-12-31 00:00:00");
  ExpectResult(std::string(R"({"dataset": "events", "time": {"column": "ts_ms"}, "window": {"size": "1d"}, )") +
                   kCountAndSum + "}",
               expected);
  ExpectResult(std::string(R"({"dataset": "events", "time": {"column": "day"}, "window": {"size": "24h"}, )") +
                   kCountAndSum + "}",
               expected);
}

TEST_F(AggregationRunTest, TimeZoneColumnIgnoresTheSessionTimeZone) {
  if (!conn_->Execute("SET TimeZone = 'America/New_York'").ok()) GTEST_SKIP() << "DuckDB without ICU";
  auto zone = conn_->Query("SELECT current_setting('TimeZone')");
  ASSERT_TRUE(zone.ok());
  ASSERT_EQ(zone->GetOr(0, 0, ""), "America/New_York");
  const int64_t from = kBase + kDay;
  Grouping g;
  g.size = g.step = kDay;
  g.keep = [&](const Row& r) { return r.t && *r.t >= from; };
  ExpectResult(std::string(R"({"dataset": "events", "time": {"column": "tstz", "from": "2026-01-02"},
                               "window": {"size": "1d"}, )") + kCountAndSum + "}",
               Expect(rows_, g, CountAndSum));
}

TEST_F(AggregationRunTest, SevenDayWindowsAlignToTheUnixEpoch) {
  // 1970-01-01 was a Thursday, and so is 2026-01-01: windows start there, not on the
  // Monday DuckDB's time_bucket would pick (2025-12-29).
  Grouping g;
  g.size = g.step = 7 * kDay;
  Table expected = Expect(rows_, g, CountAndSum);
  ASSERT_EQ(expected.size(), 2u);
  EXPECT_EQ(std::get<std::string>(expected[0][0]), "2025-12-25 00:00:00");
  EXPECT_EQ(std::get<std::string>(expected[1][0]), "2026-01-01 00:00:00");
  EXPECT_EQ(std::get<std::string>(expected[1][1]), "2026-01-08 00:00:00");
  ExpectResult(std::string(R"({"dataset": "events", "time": {"column": "ts"}, "window": {"size": "7d"}, )") +
                   kCountAndSum + "}",
               expected);
}

TEST_F(AggregationRunTest, SlidingWindowsCountEachRowInEveryWindowCoveringIt) {
  Grouping g;
  g.by_grp = true;
  g.size = kHour;
  g.step = 15 * 60000;
  Table expected = Expect(rows_, g, EveryFunction);
  double total = 0;
  for (const auto& row : expected) total += std::get<double>(row[3]);
  EXPECT_EQ(total, 4 * RowsWithTime());
  ExpectResult(std::string(R"({"dataset": "events", "group_by": ["grp"], "time": {"column": "ts"},
                               "window": {"size": "1h", "step": "15m"}, )") + kEveryFunction + "}",
               expected);
}

TEST_F(AggregationRunTest, SlidingWindowsWhoseStepDoesNotDivideTheSize) {
  Grouping g;
  g.size = kHour;
  g.step = 25 * 60000;  // a row falls in two or three windows
  Table expected = Expect(rows_, g, CountAndSum);
  double total = 0;
  for (const auto& row : expected) total += std::get<double>(row[2]);
  EXPECT_GT(total, 2 * RowsWithTime());
  EXPECT_LT(total, 3 * RowsWithTime());
  ExpectResult(std::string(R"({"dataset": "events", "time": {"column": "ts_ms"},
                               "window": {"size": "1h", "step": "25m"}, )") + kCountAndSum + "}",
               expected);
}

TEST_F(AggregationRunTest, WindowsWithTimeRangeFiltersAndLimit) {
  const int64_t from = kBase + kDay + 2 * kHour;
  const int64_t to = kBase + 2 * kDay;
  Grouping g;
  g.by_grp = true;
  g.size = 2 * kHour;
  g.step = 30 * 60000;
  g.keep = [&](const Row& r) { return r.t && *r.t >= from && *r.t < to && r.status && *r.status != 200; };
  Table expected = Expect(rows_, g, CountAndSum);
  // Sliding windows reach back before `from`: the first starts 1h30 earlier, with only the rows in range.
  EXPECT_EQ(std::get<std::string>(expected[0][0]), FormatUtc(from - 90 * 60000));
  std::string spec = R"({"dataset": "events", "group_by": ["grp"],
      "time": {"column": "ts", "from": "2026-01-02T02:00:00Z", "to": "2026-01-03"},
      "window": {"size": "2h", "step": "30m"}, "filters": [{"column": "status", "op": "!=", "value": 200}], )" +
                     std::string(kCountAndSum);
  ExpectResult(spec + "}", expected);
  expected.resize(7);
  ExpectResult(spec + R"(, "limit": 7})", expected);
}

TEST_F(AggregationRunTest, EmptyRangeGivesNoRowsOrOneRowOfZero) {
  for (const std::string& extra : std::vector<std::string>{R"("group_by": ["grp"])", R"("window": {"size": "1h"})",
                                   R"("window": {"size": "1h", "step": "10m"}, "group_by": ["grp"])"}) {
    SCOPED_TRACE(extra);
    auto result = Run(std::string(R"({"dataset": "events", "time": {"column": "ts", "from": "2027-01-01"}, )") +
                      kCountAndSum + ", " + extra + "}");
    ASSERT_TRUE(result.has_value());
    EXPECT_EQ(result->row_count(), 0u);
  }
  ExpectResult(std::string(R"({"dataset": "events", "time": {"column": "ts", "from": "2026-01-03", "to": "2026-01-03"}, )") +
                   kCountAndSum + "}",
               Table{{0.0, std::monostate{}}});
}

TEST_F(AggregationRunTest, ColumnNamesMatchIgnoringCase) {
  Grouping g;
  g.by_grp = true;
  g.keep = [](const Row& r) { return r.status == 500; };
  std::optional<duck::QueryResult> result = Run(R"({"dataset": "EVENTS", "group_by": ["GRP"],
      "aggregations": [{"function": "count"}, {"function": "sum", "column": "Value"}],
      "filters": [{"column": "Status", "op": "=", "value": 500}]})");
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->column_names(), (std::vector<std::string>{"grp", "count", "sum_value"}));
  EXPECT_EQ(result->row_count(), Expect(rows_, g, CountAndSum).size());
}

TEST_F(AggregationRunTest, HostileValuesAndNamesStayData) {
  ASSERT_TRUE(conn_->Execute("CREATE TABLE \"we\"\"ird\" (\"a\"\"b\" VARCHAR, n INTEGER)").ok());
  ASSERT_TRUE(conn_->Execute("INSERT INTO \"we\"\"ird\" VALUES ('x''); DROP TABLE events; --', 1), ('y', 2)").ok());
  std::vector<RelationColumn> columns = {{"a\"b", "VARCHAR"}, {"n", "INTEGER"}};
  auto spec = ParseAggregationSpec(R"({"dataset": "we\"ird", "aggregations": [{"function": "sum", "column": "n", "as": "it's"}],
      "filters": [{"column": "a\"b", "op": "in", "value": ["x'); DROP TABLE events; --", "z"]}]})");
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  auto compiled = CompileAggregation(*spec, columns);
  ASSERT_TRUE(compiled.ok()) << compiled.status().message();
  auto result = conn_->Query(compiled->sql);
  ASSERT_TRUE(result.ok()) << compiled->sql << ": " << result.status().message();
  EXPECT_EQ(result->column_names(), std::vector<std::string>{"it's"});
  ASSERT_EQ(result->row_count(), 1u);
  EXPECT_EQ(result->GetOr(0, 0, "NULL"), "1");
  EXPECT_TRUE(conn_->Query("SELECT count(*) FROM events").ok());
}

TEST_F(AggregationRunTest, ValueThatDoesNotCastIsDuckDbsErrorAtRunTime) {
  auto spec = ParseAggregationSpec(R"({"dataset": "events", "aggregations": [{"function": "count"}],
      "filters": [{"column": "status", "op": "=", "value": "two hundred"}]})");
  ASSERT_TRUE(spec.ok());
  auto compiled = CompileAggregation(*spec, columns_);
  ASSERT_TRUE(compiled.ok());
  auto result = conn_->Query(compiled->sql);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("two hundred"), std::string::npos) << result.status().message();
}

}  // namespace
}  // namespace pqflow::query
