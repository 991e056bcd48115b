// `pqflow query`, `pqflow report` and `pqflow aggregate` end to end (issue #5): the real binary
// over datasets it exported itself from CSV generated here. Every expected answer is computed
// in C++ loops over the generated rows, never by the SQL under test: reports and aggregations,
// windows at day boundaries, empty ranges, NULLs, the query guard and limits, pruning, formats.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "harness.h"

namespace pqflow::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using std::chrono::days;
using std::chrono::sys_days;

std::string DateText(sys_days day) {
  const std::chrono::year_month_day ymd{day};
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()));
  return buf;
}

int64_t EpochMs(sys_days day) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(day.time_since_epoch()).count();
}

sys_days TodayUtc() { return std::chrono::floor<days>(std::chrono::system_clock::now()); }

// ---------------------------------------------------------------------------------------------
// The generated data.

// pageviews: 3 projects x 10 days (2026-01-10 .. 2026-01-19) x up to 5 paths.
const sys_days kFirstDay{std::chrono::year{2026} / 1 / 10};
constexpr int kDays = 10;
const std::vector<std::string> kProjects = {"alpha", "beta", "gamma"};
const std::vector<std::string> kPaths = {"/api.html", "/faq.html", "/index.html", "/install.html", "/usage.html"};

std::string Day(int day) { return DateText(kFirstDay + days{day}); }  // day 0 = 2026-01-10

struct Pageview {
  int64_t id = 0;
  std::string project;
  std::optional<std::string> version;  // NULL in about a quarter of the rows
  std::string path;
  int64_t views = 0;
  int day = 0;  // days after kFirstDay
};

std::vector<Pageview> MakePageviews() {
  std::vector<Pageview> rows;
  for (int p = 0; p < 3; ++p) {
    for (int d = 0; d < kDays; ++d) {
      for (int k = 0; k < 5; ++k) {
        if ((p * 7 + d * 3 + k) % 6 == 0) continue;  // not every page every day
        Pageview r;
        r.id = static_cast<int64_t>(rows.size()) + 1;
        r.project = kProjects[p];
        if ((d + k + p) % 4 != 0) r.version = k % 2 ? "v1" : "latest";
        r.path = kPaths[k];
        r.views = (p + 1) * (d + 3) * (k + 2) * 37 % 97 + 1;
        r.day = d;
        rows.push_back(r);
      }
    }
  }
  return rows;
}

std::string PageviewsCsv(const std::vector<Pageview>& rows) {
  std::string csv = "id,project_slug,version_slug,path,view_count,date\n";
  for (const auto& r : rows) {
    csv += std::to_string(r.id) + "," + r.project + "," + r.version.value_or("") + "," + r.path + "," +
           std::to_string(r.views) + "," + Day(r.day) + "\n";
  }
  return csv;
}

// query_perf: 5 queries on each of the 10 days up to today (UTC), one at midnight and one a
// second before the next; execution times are distinct multiples of 0.25 (exact in binary).
struct QueryPerfRow {
  std::string hash;  // unique
  std::optional<std::string> type;
  double ms = 0;
  std::optional<bool> cache_hit;
  sys_days day;
  std::string time_of_day;  // HH:MM:SS
};

std::vector<QueryPerfRow> MakeQueryPerf(sys_days today) {
  const char* const kTimes[] = {"00:00:00", "06:15:00", "12:00:30", "18:45:00", "23:59:59"};
  std::vector<QueryPerfRow> rows;
  for (int back = 0; back < kDays; ++back) {
    for (int i = 0; i < 5; ++i) {
      QueryPerfRow r;
      r.hash = "q" + std::to_string(back) + "_" + std::to_string(i);
      if (i != 2) r.type = i % 2 ? "UPDATE" : "SELECT";
      r.ms = 1.5 + back * 13.25 + i * 50.5;
      if (i != 3) r.cache_hit = (back + i) % 2 == 0;
      r.day = today - days{back};
      r.time_of_day = kTimes[i];
      rows.push_back(r);
    }
  }
  return rows;
}

std::string QueryPerfCsv(const std::vector<QueryPerfRow>& rows) {
  std::string csv =
      "timestamp,query_hash,query_type,execution_time_ms,rows_examined,rows_returned,cache_hit,table_name,"
      "index_used,cpu_time_ms,io_wait_ms\n";
  for (size_t n = 0; n < rows.size(); ++n) {
    const auto& r = rows[n];
    std::ostringstream ms;
    ms << r.ms;
    // Both spellings of an ISO timestamp.
    csv += DateText(r.day) + (n % 2 ? "T" : " ") + r.time_of_day + "," + r.hash + "," + r.type.value_or("") + "," +
           ms.str() + "," + std::to_string(n * 10) + "," + std::to_string(n) + "," +
           (r.cache_hit ? (*r.cache_hit ? "true" : "false") : "") + ",users,idx_users,1.0,0.5\n";
  }
  return csv;
}

// The test configuration: pageviews (with a per-project split) and query_perf from
// examples/pqflow.toml, small, with `query` as the [query] table.
std::string ConfigToml(const std::string& query) {
  return "[storage]\nroot = \"data\"\n\n[query]\n" + query + R"toml(
[datasets.pageviews]
layout = "analytics/pageviews/{YYYY}/{MM}/{DD}/pageviews_{YYYY-MM-DD}.parquet"
time_column = "date"
compression = "zstd"

[datasets.pageviews.source]
format = "csv"
path = "in/pageviews_{date}.csv"

[datasets.pageviews.splits.project]
layout = "analytics/pageviews/project/{project_slug}/{YYYY}/{MM}/{DD}/pageviews_{YYYY-MM-DD}.parquet"

[[datasets.pageviews.columns]]
name = "id"
type = "int64"
nullable = false
[[datasets.pageviews.columns]]
name = "project_slug"
type = "string"
nullable = false
[[datasets.pageviews.columns]]
name = "version_slug"
type = "string"
[[datasets.pageviews.columns]]
name = "path"
type = "string"
nullable = false
[[datasets.pageviews.columns]]
name = "view_count"
type = "int32"
nullable = false
[[datasets.pageviews.columns]]
name = "date"
type = "date32"
nullable = false

[datasets.query_perf]
layout = "query_perf/year={yyyy}/month={mm}/query_perf_{yyyy}{mm}{dd}.parquet"
time_column = "date_partition"
compression = "snappy"

[datasets.query_perf.source]
format = "csv"
path = "in/query_perf_daily_{yyyy}{mm}{dd}.csv"

[[datasets.query_perf.columns]]
name = "timestamp"
type = "timestamp"
nullable = false
[[datasets.query_perf.columns]]
name = "query_hash"
type = "string"
nullable = false
[[datasets.query_perf.columns]]
name = "query_type"
type = "string"
[[datasets.query_perf.columns]]
name = "execution_time_ms"
type = "double"
nullable = false
[[datasets.query_perf.columns]]
name = "rows_examined"
type = "int64"
[[datasets.query_perf.columns]]
name = "rows_returned"
type = "int64"
[[datasets.query_perf.columns]]
name = "cache_hit"
type = "boolean"
[[datasets.query_perf.columns]]
name = "table_name"
type = "string"
[[datasets.query_perf.columns]]
name = "index_used"
type = "string"
[[datasets.query_perf.columns]]
name = "cpu_time_ms"
type = "double"
[[datasets.query_perf.columns]]
name = "io_wait_ms"
type = "double"
[[datasets.query_perf.columns]]
name = "date_partition"
type = "date"
expr = "CAST(timestamp AS DATE)"
)toml";
}

// ---------------------------------------------------------------------------------------------
// Reading pqflow's output.

using CsvRows = std::vector<std::vector<std::string>>;

// pqflow's CSV (our values hold no comma or quote); the header is row 0.
CsvRows ParseCsv(const std::string& text) {
  CsvRows rows;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> cells;
    size_t start = 0;
    for (size_t comma; (comma = line.find(',', start)) != std::string::npos; start = comma + 1) {
      cells.push_back(line.substr(start, comma - start));
    }
    cells.push_back(line.substr(start));
    rows.push_back(std::move(cells));
  }
  return rows;
}

size_t Column(const CsvRows& rows, const std::string& name) {
  if (rows.empty()) return SIZE_MAX;
  auto it = std::find(rows[0].begin(), rows[0].end(), name);
  return it == rows[0].end() ? SIZE_MAX : static_cast<size_t>(it - rows[0].begin());
}

// A double printed by DuckDB equals one computed here, up to rounding.
void ExpectClose(const std::string& printed, double expected, const std::string& what) {
  SCOPED_TRACE(what + " = " + printed);
  ASSERT_FALSE(printed.empty());
  EXPECT_NEAR(std::stod(printed), expected, 1e-9 * std::max(1.0, std::abs(expected)));
}

// Continuous percentile with linear interpolation between the closest ranks.
double PercentileCont(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  const double pos = p * static_cast<double>(v.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (pos - static_cast<double>(lo)) * (v[hi] - v[lo]);
}

double SampleStddev(const std::vector<double>& v) {
  double mean = 0;
  for (double x : v) mean += x;
  mean /= static_cast<double>(v.size());
  double ss = 0;
  for (double x : v) ss += (x - mean) * (x - mean);
  return std::sqrt(ss / static_cast<double>(v.size() - 1));
}

// ---------------------------------------------------------------------------------------------
// The fixture: one directory, both datasets exported once by the real binary for all tests.

class QueryCliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<TempDir>();
    today_ = TodayUtc();
    pageviews_ = MakePageviews();
    query_perf_ = MakeQueryPerf(today_);
    WriteFile(*dir_ / "pqflow.toml", ConfigToml("timeout = \"20s\"\nthreads = 1\n"));
    WriteFile(*dir_ / "slow.toml", ConfigToml("timeout = \"1s\"\nthreads = 1\n"));
    WriteFile(*dir_ / "small.toml", ConfigToml("timeout = \"20s\"\nmemory_limit = \"64MB\"\nthreads = 1\n"));
    WriteFile(*dir_ / "in/pageviews.csv", PageviewsCsv(pageviews_));
    WriteFile(*dir_ / "in/query_perf.csv", QueryPerfCsv(query_perf_));
    // The per-project copies must not be counted again by the pageviews view.
    CommandResult pv = Run({"export", "pageviews", "--input", *dir_ / "in/pageviews.csv", "--per-project"});
    if (pv.exit_code != 0) setup_error_ += "export pageviews: " + pv.err + pv.out;
    CommandResult qp = Run({"export", "query_perf", "--input", *dir_ / "in/query_perf.csv"});
    if (qp.exit_code != 0) setup_error_ += "export query_perf: " + qp.err + qp.out;
  }
  static void TearDownTestSuite() { dir_.reset(); }
  void SetUp() override { ASSERT_TRUE(setup_error_.empty()) << setup_error_; }

  static CommandResult Run(std::vector<std::string> args, const std::string& config = "pqflow.toml") {
    args.insert(args.begin(), {"--config", *dir_ / config});
    return Pqflow(args, dir_->path());
  }
  static CommandResult Aggregate(const json& spec) { return Run({"aggregate", spec.dump(), "--format", "csv"}); }

  static inline std::unique_ptr<TempDir> dir_;
  static inline std::string setup_error_;
  static inline sys_days today_;
  static inline std::vector<Pageview> pageviews_;
  static inline std::vector<QueryPerfRow> query_perf_;
};

// top-pages in C++: sum of views per path of one project within [since, until], most viewed
// first, ties by path.
std::string ExpectedTopPages(const std::vector<Pageview>& rows, const std::string& project, int since, int until,
                             size_t limit) {
  std::map<std::string, int64_t> views;
  for (const auto& r : rows) {
    if (r.project == project && r.day >= since && r.day <= until) views[r.path] += r.views;
  }
  std::vector<std::pair<std::string, int64_t>> sorted(views.begin(), views.end());
  std::stable_sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  if (sorted.size() > limit) sorted.resize(limit);
  std::string csv = "path,views\n";
  for (const auto& [path, v] : sorted) csv += path + "," + std::to_string(v) + "\n";
  return csv;
}

// daily-totals in C++: views per day within [since, until], of one project or all.
std::vector<std::pair<std::string, int64_t>> DailyTotals(const std::vector<Pageview>& rows,
                                                         const std::optional<std::string>& project, int since,
                                                         int until) {
  std::map<int, int64_t> per_day;
  for (const auto& r : rows) {
    if ((!project || r.project == *project) && r.day >= since && r.day <= until) per_day[r.day] += r.views;
  }
  std::vector<std::pair<std::string, int64_t>> out;
  for (const auto& [day, v] : per_day) out.emplace_back(Day(day), v);
  return out;
}

std::string DailyTotalsCsv(const std::vector<std::pair<std::string, int64_t>>& totals) {
  std::string csv = "date,views\n";
  for (const auto& [date, v] : totals) csv += date + "," + std::to_string(v) + "\n";
  return csv;
}

// ---------------------------------------------------------------------------------------------
// Reports over pageviews.

TEST_F(QueryCliTest, TopPagesMatchesPerPathSumsWithInclusiveBoundsAndLimit) {
  CommandResult all = Run({"report", "top-pages", "--project", "alpha"});
  ASSERT_EQ(all.exit_code, 0) << all.err;
  EXPECT_EQ(all.out, ExpectedTopPages(pageviews_, "alpha", 0, kDays, 10));
  ASSERT_EQ(ParseCsv(all.out).size(), 6u);  // header + all five paths

  CommandResult window = Run({"report", "top-pages", "--project", "beta", "--since", Day(2), "--until", Day(5),
                              "--limit", "3"});
  ASSERT_EQ(window.exit_code, 0) << window.err;
  EXPECT_EQ(window.out, ExpectedTopPages(pageviews_, "beta", 2, 5, 3));
  ASSERT_EQ(ParseCsv(window.out).size(), 4u);

  // since == until: exactly one day, both bounds inclusive.
  CommandResult one_day = Run({"report", "top-pages", "--project", "gamma", "--since", Day(9), "--until", Day(9)});
  ASSERT_EQ(one_day.exit_code, 0) << one_day.err;
  EXPECT_EQ(one_day.out, ExpectedTopPages(pageviews_, "gamma", 9, 9, 10));
  EXPECT_NE(one_day.out, ExpectedTopPages(pageviews_, "gamma", 8, 9, 10));
}

TEST_F(QueryCliTest, DailyTotalsOfAllProjectsAndOfOneMatchCppSums) {
  CommandResult all = Run({"report", "daily-totals"});
  ASSERT_EQ(all.exit_code, 0) << all.err;
  EXPECT_EQ(all.out, DailyTotalsCsv(DailyTotals(pageviews_, std::nullopt, 0, kDays)));
  EXPECT_EQ(ParseCsv(all.out).size(), 1u + kDays);
  int64_t total = 0;
  for (const auto& r : pageviews_) total += r.views;
  int64_t reported = 0;
  CsvRows rows = ParseCsv(all.out);
  for (size_t i = 1; i < rows.size(); ++i) reported += std::stoll(rows[i].at(1));
  EXPECT_EQ(reported, total);  // the per-project copies are not counted twice

  CommandResult beta = Run({"report", "daily-totals", "--project", "beta", "--since", Day(3), "--until", Day(7)});
  ASSERT_EQ(beta.exit_code, 0) << beta.err;
  EXPECT_EQ(beta.out, DailyTotalsCsv(DailyTotals(pageviews_, "beta", 3, 7)));
  EXPECT_EQ(ParseCsv(beta.out).size(), 6u);  // days 3..7, both ends
}

TEST_F(QueryCliTest, EmptyRangesGiveTheHeaderOnlyAndExitZero) {
  CommandResult later = Run({"report", "daily-totals", "--since", "2027-01-01"});
  EXPECT_EQ(later.exit_code, 0) << later.err;
  EXPECT_EQ(later.out, "date,views\n");
  CommandResult top = Run({"report", "top-pages", "--project", "alpha", "--since", "2027-01-01"});
  EXPECT_EQ(top.exit_code, 0) << top.err;
  EXPECT_EQ(top.out, "path,views\n");
  CommandResult reversed = Run({"report", "daily-totals", "--since", Day(5), "--until", Day(4)});
  EXPECT_EQ(reversed.exit_code, 0) << reversed.err;
  EXPECT_EQ(reversed.out, "date,views\n");
  CommandResult nobody = Run({"report", "top-pages", "--project", "no-such-project", "--format", "json"});
  EXPECT_EQ(nobody.exit_code, 0) << nobody.err;
  EXPECT_EQ(nobody.out, "[]\n");
}

// ---------------------------------------------------------------------------------------------
// Reports over query_perf.

TEST_F(QueryCliTest, ValidationGivesPerDayCountAverageAndMaxNewestFirst) {
  CommandResult r = Run({"report", "validation"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  CsvRows rows = ParseCsv(r.out);
  ASSERT_EQ(rows.size(), 1u + kDays) << r.out;
  EXPECT_EQ(rows[0],
            (std::vector<std::string>{"date_partition", "query_count", "avg_execution_ms", "max_execution_ms"}));
  for (int back = 0; back < kDays; ++back) {
    SCOPED_TRACE(back);
    double sum = 0, max = 0;
    int count = 0;
    for (const auto& q : query_perf_) {
      if (q.day != today_ - days{back}) continue;
      sum += q.ms;
      max = std::max(max, q.ms);
      ++count;
    }
    const auto& row = rows[1 + back];  // newest first
    ASSERT_EQ(row.size(), 4u);
    EXPECT_EQ(row[0], DateText(today_ - days{back}));  // date_partition derived from timestamp
    EXPECT_EQ(row[1], std::to_string(count));
    ExpectClose(row[2], sum / count, "avg_execution_ms");
    ExpectClose(row[3], max, "max_execution_ms");
  }
  CommandResult limited = Run({"report", "validation", "--limit", "3"});
  ASSERT_EQ(limited.exit_code, 0) << limited.err;
  CsvRows three = ParseCsv(limited.out);
  ASSERT_EQ(three.size(), 4u);
  EXPECT_EQ(three[3][0], DateText(today_ - days{2}));
}

TEST_F(QueryCliTest, SlowQueriesAreStrictlyAboveTheThresholdSlowestFirst) {
  // The threshold is one row's exact time: that row is not "slower than" it.
  const double threshold = 1.5 + 5 * 13.25 + 3 * 50.5;  // q5_3
  std::vector<const QueryPerfRow*> slow;
  for (const auto& q : query_perf_) {
    if (q.ms > threshold) slow.push_back(&q);
  }
  std::sort(slow.begin(), slow.end(), [](const auto* a, const auto* b) { return a->ms > b->ms; });
  ASSERT_GT(slow.size(), 5u);

  std::ostringstream t;
  t << threshold;
  CommandResult r = Run({"report", "slow-queries", "--threshold-ms", t.str()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  CsvRows rows = ParseCsv(r.out);
  ASSERT_EQ(rows.size(), 1 + slow.size()) << r.out;
  const size_t hash = Column(rows, "query_hash"), ms = Column(rows, "execution_time_ms");
  const size_t ts = Column(rows, "timestamp"), type = Column(rows, "query_type");
  const size_t dp = Column(rows, "date_partition");
  ASSERT_NE(hash, SIZE_MAX);
  ASSERT_NE(ms, SIZE_MAX);
  ASSERT_NE(ts, SIZE_MAX);
  ASSERT_NE(type, SIZE_MAX);
  ASSERT_NE(dp, SIZE_MAX);
  // Every column: the 12 declared (date_partition included), then the layout's hive keys.
  ASSERT_EQ(rows[0].size(), 14u) << r.out;
  EXPECT_EQ(rows[0][11], "date_partition");
  EXPECT_EQ(rows[0][12], "year");
  EXPECT_EQ(rows[0][13], "month");
  for (size_t i = 0; i < slow.size(); ++i) {
    SCOPED_TRACE(slow[i]->hash);
    EXPECT_EQ(rows[1 + i][hash], slow[i]->hash);
    ExpectClose(rows[1 + i][ms], slow[i]->ms, "execution_time_ms");
    EXPECT_EQ(rows[1 + i][ts], DateText(slow[i]->day) + " " + slow[i]->time_of_day + "+00");
    EXPECT_EQ(rows[1 + i][type], slow[i]->type.value_or(""));
    EXPECT_EQ(rows[1 + i][dp], DateText(slow[i]->day));
    const std::chrono::year_month_day ymd{slow[i]->day};
    EXPECT_EQ(rows[1 + i][12], std::to_string(static_cast<int>(ymd.year())));
    EXPECT_EQ(rows[1 + i][13], std::to_string(static_cast<unsigned>(ymd.month())));
  }
  EXPECT_EQ(r.out.find("q5_3,"), std::string::npos);

  CommandResult limited =
      Run({"report", "slow-queries", "--threshold-ms", t.str(), "--limit", "2", "--format", "json"});
  ASSERT_EQ(limited.exit_code, 0) << limited.err;
  json two = json::parse(limited.out);
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(two[0]["query_hash"], slow[0]->hash);
  EXPECT_EQ(two[1]["query_hash"], slow[1]->hash);
  EXPECT_DOUBLE_EQ(two[0]["execution_time_ms"].get<double>(), slow[0]->ms);

  CommandResult none = Run({"report", "slow-queries", "--threshold-ms", "1000000"});
  EXPECT_EQ(none.exit_code, 0) << none.err;
  EXPECT_EQ(ParseCsv(none.out).size(), 1u);
}

TEST_F(QueryCliTest, AvgQueryTimeCoversTodayMinusNDaysThroughToday) {
  if (TodayUtc() != today_) GTEST_SKIP() << "the UTC date changed since the data was generated";
  for (int n : {0, 3, 7}) {
    SCOPED_TRACE(n);
    double sum = 0;
    int count = 0;
    for (const auto& q : query_perf_) {
      if (q.day >= today_ - days{n}) {
        sum += q.ms;
        ++count;
      }
    }
    CommandResult r = Run({"report", "avg-query-time", "--days", std::to_string(n)});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    CsvRows rows = ParseCsv(r.out);
    ASSERT_EQ(rows.size(), 2u) << r.out;
    EXPECT_EQ(rows[0], (std::vector<std::string>{"avg_execution_ms", "query_count"}));
    EXPECT_EQ(rows[1][1], std::to_string(count));
    ExpectClose(rows[1][0], sum / count, "avg_execution_ms");
  }
}

// avg-query-time filters `date_partition >= current_date - N`; DuckDB's parser reads the bare
// keyword as a column reference, which the pruner must still recognise as the function.
TEST_F(QueryCliTest, AvgQueryTimeReadsOnlyTheFilesOfTheLastNDays) {
  if (TodayUtc() != today_) GTEST_SKIP() << "the UTC date changed since the data was generated";
  CommandResult r = Run({"report", "avg-query-time", "--days", "3", "--explain"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("query_perf: 4 of 10 files", 0), 0u) << r.out;
}

// ---------------------------------------------------------------------------------------------
// Aggregations.

// The aggregations "count" and "sum_view_count".
json CountAndSumOfViews() { return {{{"function", "count"}}, {{"function", "sum"}, {"column", "view_count"}}}; }

TEST_F(QueryCliTest, AggregateGroupedByProjectMatchesCppSumsCountsDistinctsAndExtremes) {
  CommandResult r = Aggregate({{"dataset", "pageviews"},
                               {"aggregations",
                                {{{"function", "sum"}, {"column", "view_count"}},
                                 {{"function", "count"}},
                                 {{"function", "count_distinct"}, {"column", "path"}},
                                 {{"function", "min"}, {"column", "view_count"}},
                                 {{"function", "max"}, {"column", "view_count"}},
                                 {{"function", "avg"}, {"column", "view_count"}, {"as", "mean"}},
                                 {{"function", "count"}, {"column", "version_slug"}},
                                 {{"function", "distinct"}, {"column", "version_slug"}, {"as", "versions"}}}},
                               {"group_by", {"project_slug"}}});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  CsvRows rows = ParseCsv(r.out);
  ASSERT_EQ(rows.size(), 4u) << r.out;
  EXPECT_EQ(rows[0], (std::vector<std::string>{"project_slug", "sum_view_count", "count", "count_distinct_path",
                                               "min_view_count", "max_view_count", "mean", "count_version_slug",
                                               "versions"}));
  for (size_t p = 0; p < kProjects.size(); ++p) {
    SCOPED_TRACE(kProjects[p]);
    int64_t sum = 0, count = 0, min = INT64_MAX, max = INT64_MIN, with_version = 0;
    std::map<std::string, int> paths, versions;
    for (const auto& v : pageviews_) {
      if (v.project != kProjects[p]) continue;
      sum += v.views;
      ++count;
      min = std::min(min, v.views);
      max = std::max(max, v.views);
      paths[v.path]++;
      if (v.version) {
        ++with_version;
        versions[*v.version]++;
      }
    }
    const auto& row = rows[1 + p];
    ASSERT_EQ(row.size(), 9u);
    EXPECT_EQ(row[0], kProjects[p]);
    EXPECT_EQ(row[1], std::to_string(sum));
    EXPECT_EQ(row[2], std::to_string(count));
    EXPECT_EQ(row[3], std::to_string(paths.size()));
    EXPECT_EQ(row[4], std::to_string(min));
    EXPECT_EQ(row[5], std::to_string(max));
    ExpectClose(row[6], static_cast<double>(sum) / static_cast<double>(count), "avg");
    EXPECT_EQ(row[7], std::to_string(with_version));
    EXPECT_LT(with_version, count);  // NULLs exist and are not counted
    EXPECT_EQ(row[8], std::to_string(versions.size()));
  }
}

TEST_F(QueryCliTest, AggregatePercentileAndStddevMatchCppWithinRounding) {
  CommandResult r = Aggregate({{"dataset", "pageviews"},
                               {"aggregations",
                                {{{"function", "percentile"}, {"column", "view_count"}, {"p", 0.9}},
                                 {{"function", "percentile"}, {"column", "view_count"}, {"p", 0.5}, {"as", "median"}},
                                 {{"function", "percentile"}, {"column", "view_count"}, {"p", 0.999}},
                                 {{"function", "stddev"}, {"column", "view_count"}}}},
                               {"group_by", {"project_slug"}}});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  CsvRows rows = ParseCsv(r.out);
  ASSERT_EQ(rows.size(), 4u) << r.out;
  EXPECT_EQ(rows[0], (std::vector<std::string>{"project_slug", "p90_view_count", "median", "p99_9_view_count",
                                               "stddev_view_count"}));
  for (size_t p = 0; p < kProjects.size(); ++p) {
    SCOPED_TRACE(kProjects[p]);
    std::vector<double> values;
    for (const auto& v : pageviews_) {
      if (v.project == kProjects[p]) values.push_back(static_cast<double>(v.views));
    }
    const auto& row = rows[1 + p];
    ASSERT_EQ(row.size(), 5u);
    EXPECT_EQ(row[0], kProjects[p]);
    ExpectClose(row[1], PercentileCont(values, 0.9), "p90");
    ExpectClose(row[2], PercentileCont(values, 0.5), "p50");
    ExpectClose(row[3], PercentileCont(values, 0.999), "p99.9");
    ExpectClose(row[4], SampleStddev(values), "stddev");
  }
}

TEST_F(QueryCliTest, AggregateFiltersInAndNotEqualAndNullGroups) {
  // in + != on non-null columns.
  const std::vector<std::string> wanted = {"/index.html", "/faq.html"};
  CommandResult r = Aggregate({{"dataset", "pageviews"},
                               {"aggregations", CountAndSumOfViews()},
                               {"filters",
                                {{{"column", "project_slug"}, {"op", "!="}, {"value", "beta"}},
                                 {{"column", "path"}, {"op", "in"}, {"value", wanted}}}},
                               {"group_by", {"project_slug"}}});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string expected = "project_slug,count,sum_view_count\n";
  for (const std::string project : {"alpha", "gamma"}) {
    int64_t count = 0, sum = 0;
    for (const auto& v : pageviews_) {
      if (v.project == project && std::find(wanted.begin(), wanted.end(), v.path) != wanted.end()) {
        ++count;
        sum += v.views;
      }
    }
    expected += project + "," + std::to_string(count) + "," + std::to_string(sum) + "\n";
  }
  EXPECT_EQ(r.out, expected);

  // != on a nullable column never matches NULL; = null is IS NULL.
  int64_t v1 = 0, nulls = 0;
  for (const auto& v : pageviews_) {
    if (!v.version) ++nulls;
    if (v.version == "v1") ++v1;
  }
  ASSERT_GT(nulls, 0);
  CommandResult ne = Aggregate({{"dataset", "pageviews"},
                                {"aggregations", {{{"function", "count"}}}},
                                {"filters", {{{"column", "version_slug"}, {"op", "!="}, {"value", "latest"}}}}});
  ASSERT_EQ(ne.exit_code, 0) << ne.err;
  EXPECT_EQ(ne.out, "count\n" + std::to_string(v1) + "\n");
  CommandResult is_null = Aggregate({{"dataset", "pageviews"},
                                     {"aggregations", {{{"function", "count"}}}},
                                     {"filters", {{{"column", "version_slug"}, {"op", "="}, {"value", nullptr}}}}});
  ASSERT_EQ(is_null.exit_code, 0) << is_null.err;
  EXPECT_EQ(is_null.out, "count\n" + std::to_string(nulls) + "\n");

  // NULL is its own group, ordered last.
  CommandResult groups = Aggregate({{"dataset", "pageviews"},
                                    {"aggregations", {{{"function", "sum"}, {"column", "view_count"}}}},
                                    {"group_by", {"version_slug"}}});
  ASSERT_EQ(groups.exit_code, 0) << groups.err;
  std::map<std::string, int64_t> sums;  // "" = NULL
  for (const auto& v : pageviews_) sums[v.version.value_or("")] += v.views;
  EXPECT_EQ(groups.out, "version_slug,sum_view_count\nlatest," + std::to_string(sums["latest"]) + "\nv1," +
                            std::to_string(sums["v1"]) + "\n," + std::to_string(sums[""]) + "\n");
}

// Per-day count and sum of views over [from_day, to_day), as the aggregate's CSV rows.
std::string PerDayRows(const std::vector<Pageview>& rows, int from_day, int to_day) {
  std::map<int, std::pair<int64_t, int64_t>> per_day;
  for (const auto& r : rows) {
    if (r.day >= from_day && r.day < to_day) {
      per_day[r.day].first++;
      per_day[r.day].second += r.views;
    }
  }
  std::string out;
  for (const auto& [day, cs] : per_day) {
    out += Day(day) + "," + std::to_string(cs.first) + "," + std::to_string(cs.second) + "\n";
  }
  return out;
}

TEST_F(QueryCliTest, AggregateTimeRangeIsInclusiveFromExclusiveToAtDayBoundaries) {
  const json aggregations = CountAndSumOfViews();
  CommandResult by_day = Aggregate({{"dataset", "pageviews"},
                                  {"aggregations", aggregations},
                                  {"group_by", {"date"}},
                                  {"time", {{"column", "date"}, {"from", Day(2)}, {"to", Day(5)}}}});
  ASSERT_EQ(by_day.exit_code, 0) << by_day.err;
  EXPECT_EQ(by_day.out, "date,count,sum_view_count\n" + PerDayRows(pageviews_, 2, 5));  // days 2, 3, 4

  // A DATE is its midnight UTC: one millisecond past midnight drops `from`'s day and keeps `to`'s.
  CommandResult ms = Aggregate({{"dataset", "pageviews"},
                                {"aggregations", aggregations},
                                {"group_by", {"date"}},
                                {"time",
                                 {{"column", "date"},
                                  {"from", Day(2) + "T00:00:00.001Z"},
                                  {"to", EpochMs(kFirstDay + days{6}) + 1}}}});
  ASSERT_EQ(ms.exit_code, 0) << ms.err;
  EXPECT_EQ(ms.out, "date,count,sum_view_count\n" + PerDayRows(pageviews_, 3, 7));  // days 3..6

  // from == to selects nothing; without group_by there is still one row.
  CommandResult empty = Aggregate({{"dataset", "pageviews"},
                                   {"aggregations", aggregations},
                                   {"time", {{"column", "date"}, {"from", Day(4)}, {"to", Day(4)}}}});
  ASSERT_EQ(empty.exit_code, 0) << empty.err;
  EXPECT_EQ(empty.out, "count,sum_view_count\n0,\n");
}

std::string Midnight(sys_days day) { return DateText(day) + " 00:00:00"; }

TEST_F(QueryCliTest, AggregateOnATimestampKeepsMidnightAndTheLastSecondInTheirDay) {
  // Each day holds one query at 00:00:00 and one at 23:59:59: a 1d window holds all five.
  CommandResult r = Aggregate({{"dataset", "query_perf"},
                               {"aggregations",
                                {{{"function", "count"}}, {{"function", "max"}, {"column", "execution_time_ms"}}}},
                               {"time", {{"column", "timestamp"}}},
                               {"window", {{"size", "1d"}}}});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  CsvRows rows = ParseCsv(r.out);
  ASSERT_EQ(rows.size(), 1u + kDays) << r.out;
  EXPECT_EQ(rows[0], (std::vector<std::string>{"window_start", "window_end", "count", "max_execution_time_ms"}));
  for (int i = 0; i < kDays; ++i) {
    const sys_days day = today_ - days{kDays - 1 - i};  // oldest first
    SCOPED_TRACE(DateText(day));
    double max = 0;
    for (const auto& q : query_perf_) {
      if (q.day == day) max = std::max(max, q.ms);
    }
    ASSERT_EQ(rows[1 + i].size(), 4u);
    EXPECT_EQ(rows[1 + i][0], Midnight(day));
    EXPECT_EQ(rows[1 + i][1], Midnight(day + days{1}));
    EXPECT_EQ(rows[1 + i][2], "5");
    ExpectClose(rows[1 + i][3], max, "max");
  }

  // [midnight of today-3, midnight of today-1): two whole days; a millisecond later drops the
  // midnight query of the first.
  const json count = {{{"function", "count"}}};
  CommandResult two_days = Aggregate({{"dataset", "query_perf"},
                                      {"aggregations", count},
                                      {"time",
                                       {{"column", "timestamp"},
                                        {"from", DateText(today_ - days{3}) + "T00:00:00Z"},
                                        {"to", DateText(today_ - days{1})}}}});
  ASSERT_EQ(two_days.exit_code, 0) << two_days.err;
  EXPECT_EQ(two_days.out, "count\n10\n");
  CommandResult later = Aggregate({{"dataset", "query_perf"},
                                   {"aggregations", count},
                                   {"time",
                                    {{"column", "timestamp"},
                                     {"from", EpochMs(today_ - days{3}) + 1},
                                     {"to", DateText(today_ - days{1}) + " 00:00:00+00:00"}}}});
  ASSERT_EQ(later.exit_code, 0) << later.err;
  EXPECT_EQ(later.out, "count\n9\n");
}

TEST_F(QueryCliTest, AggregateTumblingDayWindowsStartAtMidnightUtc) {
  CommandResult r = Aggregate({{"dataset", "pageviews"},
                               {"aggregations", CountAndSumOfViews()},
                               {"filters", {{{"column", "project_slug"}, {"op", "="}, {"value", "alpha"}}}},
                               {"time", {{"column", "date"}}},
                               {"window", {{"size", "1d"}}}});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string expected = "window_start,window_end,count,sum_view_count\n";
  for (int d = 0; d < kDays; ++d) {
    int64_t count = 0, sum = 0;
    for (const auto& v : pageviews_) {
      if (v.project == "alpha" && v.day == d) {
        ++count;
        sum += v.views;
      }
    }
    ASSERT_GT(count, 0);
    expected += Midnight(kFirstDay + days{d}) + "," + Midnight(kFirstDay + days{d + 1}) + "," + std::to_string(count) +
                "," + std::to_string(sum) + "\n";
  }
  EXPECT_EQ(r.out, expected);
}

TEST_F(QueryCliTest, AggregateSlidingWindowCountsEveryRowInTwoWindows) {
  CommandResult r = Aggregate({{"dataset", "pageviews"},
                               {"aggregations", CountAndSumOfViews()},
                               {"time", {{"column", "date"}}},
                               {"window", {{"size", "2d"}, {"step", "1d"}}}});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // Window [s, s+2d) for every day s from the day before the first to the last day.
  std::string expected = "window_start,window_end,count,sum_view_count\n";
  int64_t total_count = 0;
  for (int s = -1; s < kDays; ++s) {
    int64_t count = 0, sum = 0;
    for (const auto& v : pageviews_) {
      if (v.day == s || v.day == s + 1) {
        ++count;
        sum += v.views;
      }
    }
    total_count += count;
    expected += Midnight(kFirstDay + days{s}) + "," + Midnight(kFirstDay + days{s + 2}) + "," + std::to_string(count) +
                "," + std::to_string(sum) + "\n";
  }
  EXPECT_EQ(r.out, expected);
  EXPECT_EQ(total_count, 2 * static_cast<int64_t>(pageviews_.size()));
  int64_t printed_total = 0;
  CsvRows rows = ParseCsv(r.out);
  for (size_t i = 1; i < rows.size(); ++i) printed_total += std::stoll(rows[i][2]);
  EXPECT_EQ(printed_total, 2 * static_cast<int64_t>(pageviews_.size()));
}

TEST_F(QueryCliTest, AggregateUnknownColumnOrFunctionFailsNamingIt) {
  CommandResult column = Aggregate({{"dataset", "pageviews"},
                                    {"aggregations", {{{"function", "count"}}}},
                                    {"group_by", {"projct"}}});
  EXPECT_NE(column.exit_code, 0);
  EXPECT_NE(column.err.find("unknown column 'projct'"), std::string::npos) << column.err;
  EXPECT_TRUE(column.out.empty()) << column.out;

  CommandResult agg_column = Aggregate({{"dataset", "pageviews"},
                                        {"aggregations", {{{"function", "sum"}, {"column", "views"}}}}});
  EXPECT_NE(agg_column.exit_code, 0);
  EXPECT_NE(agg_column.err.find("aggregations[0]: unknown column 'views'"), std::string::npos) << agg_column.err;

  CommandResult filter = Aggregate({{"dataset", "pageviews"},
                                    {"aggregations", {{{"function", "count"}}}},
                                    {"filters", {{{"column", "nope"}, {"op", "="}, {"value", 1}}}}});
  EXPECT_NE(filter.exit_code, 0);
  EXPECT_NE(filter.err.find("filters[0]: unknown column 'nope'"), std::string::npos) << filter.err;

  CommandResult function = Aggregate({{"dataset", "pageviews"},
                                      {"aggregations", {{{"function", "median"}, {"column", "view_count"}}}}});
  EXPECT_NE(function.exit_code, 0);
  EXPECT_NE(function.err.find("unknown function 'median'"), std::string::npos) << function.err;
  EXPECT_TRUE(function.out.empty()) << function.out;
}

// ---------------------------------------------------------------------------------------------
// The query guard and limits, through the binary.

TEST_F(QueryCliTest, QueriesThatLeaveTheDatasetViewsAreRefused) {
  const std::vector<std::pair<std::string, std::string>> refused = {
      {"SELECT * FROM read_csv('/etc/passwd')", "table function read_csv is not allowed"},
      {"SELECT * FROM '/etc/passwd'", "is not allowed"},
      {"COPY (SELECT 1) TO 'x.csv'", "only a single SELECT"},
      {"COPY (SELECT 1) TO 'data/x.csv'", "only a single SELECT"},
      {"ATTACH 'x.db'", "only a single SELECT"},
      {"INSTALL httpfs", "only a single SELECT"},
      {"SET threads=1", "only a single SELECT"},
      {"SELECT 1; SELECT 2", "2 statements"},
  };
  for (const auto& [sql, message] : refused) {
    SCOPED_TRACE(sql);
    CommandResult r = Run({"query", sql});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_LT(r.exit_code, 128);  // an error, not a crash
    EXPECT_NE(r.err.find(message), std::string::npos) << r.err;
    EXPECT_EQ(r.out, "");
  }
  EXPECT_FALSE(fs::exists(*dir_ / "x.csv"));
  EXPECT_FALSE(fs::exists(*dir_ / "data/x.csv"));
  EXPECT_FALSE(fs::exists(*dir_ / "x.db"));
  EXPECT_FALSE(fs::exists(*dir_ / "data/x.db"));
}

TEST_F(QueryCliTest, ABadQueryFailsQuotingTheUsersOwnSql) {
  CommandResult r = Run({"query", "SELECT projct, count(*) FROM pageviews GROUP BY 1"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("Referenced column \"projct\" not found"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("SELECT projct, count(*) FROM pageviews"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("COLUMNS(*)"), std::string::npos) << r.err;  // not pqflow's wrapper
  EXPECT_EQ(r.out, "");
  // One that binds and fails while running.
  CommandResult run = Run({"query", "SELECT CAST(project_slug AS INTEGER) FROM pageviews"});
  EXPECT_EQ(run.exit_code, 2) << run.err;
  EXPECT_NE(run.err.find("Conversion Error"), std::string::npos) << run.err;
  EXPECT_EQ(run.err.find("COLUMNS(*)"), std::string::npos) << run.err;
  EXPECT_EQ(run.out, "");
}

TEST_F(QueryCliTest, SlowQueryIsStoppedAtTheTimeLimit) {
  const auto start = std::chrono::steady_clock::now();
  CommandResult r =
      Run({"query", "SELECT sum(a.range * b.range) FROM range(100000) a, range(100000) b"}, "slow.toml");
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_NE(r.exit_code, 0);
  EXPECT_LT(r.exit_code, 128);
  EXPECT_NE(r.err.find("query exceeded the time limit of 1 s"), std::string::npos) << r.err;
  EXPECT_LT(elapsed, std::chrono::seconds(5));
  // The same limits let an ordinary query through.
  CommandResult ok = Run({"report", "daily-totals", "--project", "alpha"}, "slow.toml");
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(ok.out, DailyTotalsCsv(DailyTotals(pageviews_, "alpha", 0, kDays)));
}

TEST_F(QueryCliTest, MemoryHungryQueryFailsCleanlyUnderTheMemoryLimit) {
  CommandResult r = Run({"query",
                         "SELECT count(*) FROM (SELECT range % 10000000 AS k, list(range) AS l FROM range(30000000) "
                         "GROUP BY 1)"},
                        "small.toml");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_LT(r.exit_code, 128);  // no crash, no signal
  EXPECT_NE(r.err.find("Out of Memory"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");
  CommandResult ok = Run({"report", "top-pages", "--project", "beta"}, "small.toml");
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(ok.out, ExpectedTopPages(pageviews_, "beta", 0, kDays, 10));
}

// ---------------------------------------------------------------------------------------------
// Pruning and output formats.

TEST_F(QueryCliTest, ExplainShowsPruningAndThePrunedQueryKeepsExactlyTheMatchingRows) {
  const std::string filtered = "SELECT id, view_count, date FROM pageviews WHERE date >= DATE '" + Day(5) +
                               "' ORDER BY id";
  CommandResult explain = Run({"query", "--explain", filtered});
  ASSERT_EQ(explain.exit_code, 0) << explain.err;
  EXPECT_EQ(explain.out.rfind("pageviews: 5 of 10 files", 0), 0u) << explain.out;
  CommandResult between = Run({"query", "--explain",
                               "SELECT count(*) FROM pageviews WHERE date BETWEEN DATE '" + Day(2) + "' AND DATE '" +
                                   Day(4) + "'"});
  ASSERT_EQ(between.exit_code, 0) << between.err;
  EXPECT_EQ(between.out.rfind("pageviews: 3 of 10 files", 0), 0u) << between.out;
  CommandResult unpruned = Run({"query", "--explain", "SELECT count(*) FROM pageviews"});
  ASSERT_EQ(unpruned.exit_code, 0) << unpruned.err;
  EXPECT_EQ(unpruned.out.rfind("pageviews: 10 of 10 files", 0), 0u) << unpruned.out;
  if (TodayUtc() == today_) {
    CommandResult relative = Run({"query", "--explain",
                                  "SELECT count(*) FROM query_perf WHERE date_partition >= current_date() - 3"});
    ASSERT_EQ(relative.exit_code, 0) << relative.err;
    EXPECT_EQ(relative.out.rfind("query_perf: 4 of 10 files", 0), 0u) << relative.out;
  }

  CommandResult pruned = Run({"query", filtered});
  ASSERT_EQ(pruned.exit_code, 0) << pruned.err;
  CommandResult all = Run({"query", "SELECT id, view_count, date FROM pageviews ORDER BY id"});
  ASSERT_EQ(all.exit_code, 0) << all.err;
  CsvRows all_rows = ParseCsv(all.out);
  ASSERT_EQ(all_rows.size(), 1 + pageviews_.size());
  std::string expected = "id,view_count,date\n", from_unfiltered = "id,view_count,date\n";
  for (const auto& v : pageviews_) {
    if (v.day >= 5) expected += std::to_string(v.id) + "," + std::to_string(v.views) + "," + Day(v.day) + "\n";
  }
  for (size_t i = 1; i < all_rows.size(); ++i) {
    if (all_rows[i][2] < Day(5)) continue;
    from_unfiltered += all_rows[i][0] + "," + all_rows[i][1] + "," + all_rows[i][2] + "\n";
  }
  EXPECT_EQ(pruned.out, from_unfiltered);
  EXPECT_EQ(pruned.out, expected);
}

std::vector<std::pair<std::string, int64_t>> TotalsFromJsonArray(const json& array) {
  std::vector<std::pair<std::string, int64_t>> out;
  for (const auto& o : array) out.emplace_back(o.at("date").get<std::string>(), o.at("views").get<int64_t>());
  return out;
}

TEST_F(QueryCliTest, JsonNdjsonAndCsvOfOneReportAgreeAndOutputFileHoldsTheSameBytes) {
  const std::vector<std::string> args = {"report", "daily-totals", "--project", "beta", "--since", Day(1),
                                         "--until", Day(8)};
  const auto expected = DailyTotals(pageviews_, "beta", 1, 8);
  std::map<std::string, std::string> stdout_of;
  for (const std::string format : {"csv", "json", "ndjson"}) {
    SCOPED_TRACE(format);
    std::vector<std::string> a = args;
    a.insert(a.end(), {"--format", format});
    CommandResult r = Run(a);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    stdout_of[format] = r.out;

    std::vector<std::string> to_file = a;
    const std::string path = *dir_ / ("out." + format);
    to_file.insert(to_file.end(), {"--output", path});
    CommandResult f = Run(to_file);
    ASSERT_EQ(f.exit_code, 0) << f.err;
    EXPECT_EQ(f.out, "");
    EXPECT_EQ(ReadFile(path), r.out);
  }
  EXPECT_EQ(stdout_of["csv"], DailyTotalsCsv(expected));

  json array = json::parse(stdout_of["json"]);
  ASSERT_TRUE(array.is_array());
  ASSERT_TRUE(array.at(0).at("views").is_number_integer());  // numbers stay numbers
  EXPECT_EQ(TotalsFromJsonArray(array), expected);

  json lines = json::array();
  std::istringstream in(stdout_of["ndjson"]);
  for (std::string line; std::getline(in, line);) lines.push_back(json::parse(line));
  EXPECT_EQ(lines, array);
  EXPECT_EQ(TotalsFromJsonArray(lines), expected);
}

// ---------------------------------------------------------------------------------------------
// Schema changes.

// A column added to a dataset reads as NULL in the files written before it, whichever files
// a query selects, and columns are matched by name, not position.
TEST(QuerySchemaTest, AColumnAddedLaterReadsAsNullInOlderFilesEvenWhenOnlyThoseAreSelected) {
  TempDir dir;
  auto config = [](bool with_referrer) {
    return std::string("[storage]\nroot = \"data\"\n\n[datasets.hits]\n"
                       "layout = \"hits/{YYYY-MM-DD}.parquet\"\ntime_column = \"date\"\n"
                       "[datasets.hits.source]\nformat = \"csv\"\n"
                       "[[datasets.hits.columns]]\nname = \"id\"\ntype = \"int64\"\n") +
           (with_referrer ? "[[datasets.hits.columns]]\nname = \"referrer\"\ntype = \"string\"\n" : "") +
           "[[datasets.hits.columns]]\nname = \"views\"\ntype = \"int32\"\n"
           "[[datasets.hits.columns]]\nname = \"date\"\ntype = \"date\"\n";
  };
  auto run = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"--config", dir / "pqflow.toml"});
    return Pqflow(args, dir.path());
  };
  WriteFile(dir / "pqflow.toml", config(false));
  WriteFile(dir / "old.csv", "id,views,date\n1,10,2026-01-01\n2,20,2026-01-02\n");
  CommandResult old_export = run({"export", "hits", "--input", dir / "old.csv"});
  ASSERT_EQ(old_export.exit_code, 0) << old_export.err;

  // referrer goes between two existing columns: the files disagree on positions too.
  WriteFile(dir / "pqflow.toml", config(true));
  WriteFile(dir / "new.csv", "id,referrer,views,date\n3,search,30,2026-01-03\n4,,40,2026-01-03\n");
  CommandResult new_export = run({"export", "hits", "--input", dir / "new.csv"});
  ASSERT_EQ(new_export.exit_code, 0) << new_export.err;

  CommandResult all = run({"query", "SELECT * FROM hits ORDER BY id"});
  ASSERT_EQ(all.exit_code, 0) << all.err;
  EXPECT_EQ(all.out,
            "id,referrer,views,date\n1,,10,2026-01-01\n2,,20,2026-01-02\n3,search,30,2026-01-03\n4,,40,2026-01-03\n");
  // Only the older files selected: the new column is still there, NULL.
  CommandResult old_only = run({"query", "SELECT *, referrer IS NULL AS unknown FROM hits WHERE date < DATE "
                                         "'2026-01-03' ORDER BY id"});
  ASSERT_EQ(old_only.exit_code, 0) << old_only.err;
  EXPECT_EQ(old_only.out, "id,referrer,views,date,unknown\n1,,10,2026-01-01,true\n2,,20,2026-01-02,true\n");
  CommandResult explain = run({"query", "--explain", "SELECT count(*) FROM hits WHERE date < DATE '2026-01-03'"});
  ASSERT_EQ(explain.exit_code, 0) << explain.err;
  EXPECT_EQ(explain.out.rfind("hits: 2 of 3 files", 0), 0u) << explain.out;

  // Files of the declared columns, by their manifests, are read without union_by_name; files of
  // an older schema, or without a manifest, are not.
  const std::string proven = "the manifests show every selected file has the declared columns";
  CommandResult newest = run({"query", "--explain", "SELECT count(*) FROM hits WHERE date = DATE '2026-01-03'"});
  ASSERT_EQ(newest.exit_code, 0) << newest.err;
  EXPECT_NE(newest.out.find(proven), std::string::npos) << newest.out;
  EXPECT_EQ(explain.out.find(proven), std::string::npos) << explain.out;
  CommandResult every = run({"query", "--explain", "SELECT count(*) FROM hits"});
  ASSERT_EQ(every.exit_code, 0) << every.err;
  EXPECT_EQ(every.out.find(proven), std::string::npos) << every.out;
  std::filesystem::copy_file(dir / "data/hits/2026-01-03.parquet", dir / "data/hits/2026-01-04.parquet");
  CommandResult foreign = run({"query", "--explain", "SELECT count(*) FROM hits WHERE date >= DATE '2026-01-03'"});
  ASSERT_EQ(foreign.exit_code, 0) << foreign.err;
  EXPECT_EQ(foreign.out.find(proven), std::string::npos) << foreign.out;
  CommandResult counted = run({"query", "SELECT count(referrer) FROM hits WHERE date >= DATE '2026-01-03'"});
  ASSERT_EQ(counted.exit_code, 0) << counted.err;
  EXPECT_EQ(counted.out, "count(referrer)\n2\n");
}

// ---------------------------------------------------------------------------------------------
// A split standing in for the main layout (query/split_reader.h): only where one export run
// wrote both, and the answers never change.

class SplitReadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    rows_ = MakePageviews();
    WriteFile(dir_ / "pqflow.toml", ConfigToml("timeout = \"20s\"\nthreads = 1\n"));
    WriteFile(dir_ / "in/pageviews.csv", PageviewsCsv(rows_));
  }
  CommandResult Run(std::vector<std::string> args) {
    args.insert(args.begin(), {"--config", dir_ / "pqflow.toml"});
    return Pqflow(args, dir_.path());
  }
  static std::string CountAndViews(const std::string& where) {
    return "SELECT count(*) AS n, coalesce(sum(view_count), 0) AS v FROM pageviews WHERE " + where;
  }
  // The same figures computed here, for the rows whose project is in `projects`.
  std::string Expected(const std::vector<std::string>& projects) const {
    int64_t n = 0;
    int64_t v = 0;
    for (const auto& r : rows_) {
      if (std::find(projects.begin(), projects.end(), r.project) == projects.end()) continue;
      ++n;
      v += r.views;
    }
    return "n,v\n" + std::to_string(n) + "," + std::to_string(v) + "\n";
  }
  std::string Answer(const std::string& where) {
    CommandResult r = Run({"query", "--format", "csv", CountAndViews(where)});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
  }
  std::string Explain(const std::string& where) {
    CommandResult r = Run({"query", "--explain", CountAndViews(where)});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
  }
  std::string SplitManifest(const std::string& project, int day) const {
    const std::string date = Day(day);
    return dir_ / ("data/analytics/pageviews/project/" + project + "/" + date.substr(0, 4) + "/" + date.substr(5, 2) +
                   "/" + date.substr(8, 2) + "/_pageviews_" + date + ".manifest.json");
  }

  TempDir dir_;
  std::vector<Pageview> rows_;
};

TEST_F(SplitReadTest, AQueryPinningTheProjectReadsTheSplitWrittenWithTheMainFiles) {
  ASSERT_EQ(Run({"export", "pageviews", "--input", dir_ / "in/pageviews.csv", "--per-project"}).exit_code, 0);
  EXPECT_NE(Explain("project_slug = 'beta'").find("read from split project for 10 of 10 partitions"), std::string::npos)
      << Explain("project_slug = 'beta'");
  for (const auto& project : kProjects) EXPECT_EQ(Answer("project_slug = '" + project + "'"), Expected({project}));
  EXPECT_EQ(Answer("project_slug IN ('alpha', 'gamma')"), Expected({"alpha", "gamma"}));
  EXPECT_EQ(Answer("project_slug = 'beta' AND date >= DATE '" + Day(4) + "'"),
            Answer("lower(project_slug) = 'beta' AND date >= DATE '" + Day(4) + "'"));  // not a pin: main files
  // A project without rows has no split partitions: the main files say so.
  EXPECT_EQ(Answer("project_slug = 'nope'"), "n,v\n0,0\n");
  EXPECT_EQ(Explain("project_slug = 'nope'").find("read from split"), std::string::npos);
  // The top-pages report pins the project too.
  CommandResult top = Run({"report", "top-pages", "--project", "gamma"});
  ASSERT_EQ(top.exit_code, 0) << top.err;
  EXPECT_EQ(top.out, ExpectedTopPages(rows_, "gamma", 0, kDays, 10));
}

TEST_F(SplitReadTest, ASplitFromAnotherRunIsNotReadAndTheAnswerFollowsTheMainFiles) {
  ASSERT_EQ(Run({"export", "pageviews", "--input", dir_ / "in/pageviews.csv", "--per-project"}).exit_code, 0);
  // The main files are written again from changed rows, without the split: every split
  // partition is now from an older run.
  for (auto& r : rows_) r.views += 1000;
  WriteFile(dir_ / "in/pageviews.csv", PageviewsCsv(rows_));
  ASSERT_EQ(Run({"export", "pageviews", "--input", dir_ / "in/pageviews.csv", "--overwrite"}).exit_code, 0);
  EXPECT_EQ(Explain("project_slug = 'beta'").find("read from split"), std::string::npos) << Explain("project_slug = 'beta'");
  EXPECT_EQ(Answer("project_slug = 'beta'"), Expected({"beta"}));
  // Written together again: the split is read again.
  ASSERT_EQ(Run({"export", "pageviews", "--input", dir_ / "in/pageviews.csv", "--overwrite", "--per-project"}).exit_code,
            0);
  EXPECT_NE(Explain("project_slug = 'beta'").find("read from split project for 10 of 10 partitions"), std::string::npos);
  EXPECT_EQ(Answer("project_slug = 'beta'"), Expected({"beta"}));
}

TEST_F(SplitReadTest, APartitionWhoseSplitDoesNotMatchIsReadWholeAndTheOthersFromTheSplit) {
  ASSERT_EQ(Run({"export", "pageviews", "--input", dir_ / "in/pageviews.csv", "--per-project"}).exit_code, 0);
  // Day 3 of beta: a split partition from some other run (as a stopped publish leaves one).
  json manifest = json::parse(ReadFile(SplitManifest("beta", 3)));
  manifest["run_id"] = "20200101T000000Z-1";
  WriteFile(SplitManifest("beta", 3), manifest.dump());
  // Day 4 of beta: none at all.
  fs::remove(SplitManifest("beta", 4));
  EXPECT_NE(Explain("project_slug = 'beta'").find("read from split project for 8 of 10 partitions"), std::string::npos)
      << Explain("project_slug = 'beta'");
  EXPECT_EQ(Answer("project_slug = 'beta'"), Expected({"beta"}));
  // With two projects pinned, a day is read from the split only if both match.
  EXPECT_NE(Explain("project_slug IN ('alpha', 'beta')").find("read from split project for 8 of 10 partitions"),
            std::string::npos);
  EXPECT_EQ(Answer("project_slug IN ('alpha', 'beta')"), Expected({"alpha", "beta"}));
}

// One dataset `ds` of columns (key string, date date, views int32) laid out as `layout`,
// exported from `csv` (rows "key,date,views"), then queried through the binary.
class QueryPartitionFolderTest : public ::testing::Test {
 protected:
  void Export(const std::string& layout, const std::string& csv) {
    WriteFile(dir_ / "pqflow.toml", "[storage]\nroot = \"data\"\n[datasets.ds]\nlayout = \"" + layout +
                                        "\"\ntime_column = \"date\"\nsource = {format = \"csv\", path = \"in.csv\"}\n"
                                        "columns = [{name = \"key\", type = \"string\"}, {name = \"date\", type = "
                                        "\"date\"}, {name = \"views\", type = \"int32\"}]\n");
    WriteFile(dir_ / "in.csv", "key,date,views\n" + csv);
    CommandResult exported = Pqflow({"--config", dir_ / "pqflow.toml", "export", "ds"}, dir_.path());
    ASSERT_EQ(exported.exit_code, 0) << exported.err;
  }
  std::string Query(const std::string& sql) {
    CommandResult r = Pqflow({"--config", dir_ / "pqflow.toml", "query", "--format", "csv", sql}, dir_.path());
    EXPECT_EQ(r.exit_code, 0) << sql << ": " << r.err;
    return r.out;
  }
  // The views of the rows `where` selects, as the CSV of one sum.
  std::string Views(const std::string& where) { return Query("SELECT sum(views) AS v FROM ds WHERE " + where); }

  TempDir dir_;
};

// A row whose partition value is NULL (the default partition, __HIVE_DEFAULT_PARTITION__,
// whose name starts with '_' like the names readers pass over) or starts with '_' or '.' is
// queried like any other: every exported row is in the answer.
TEST_F(QueryPartitionFolderTest, EveryExportedRowIsQueriedWhateverItsPartitionValue) {
  Export("pv/{key}/pv_{date}.parquet",
         "docs,2026-01-01,1\n,2026-01-01,2\n_internal,2026-01-01,4\n.hidden,2026-01-02,8\n");
  EXPECT_EQ(Query("SELECT coalesce(key, 'NULL') AS k, sum(views) AS v FROM ds GROUP BY 1 ORDER BY 1"),
            "k,v\n.hidden,8\nNULL,2\n_internal,4\ndocs,1\n");
  EXPECT_EQ(Views("key = '_internal'"), "v\n4\n");
  EXPECT_EQ(Views("key = '.hidden'"), "v\n8\n");
  EXPECT_EQ(Views("key IS NULL"), "v\n2\n");
}

// A layout whose hive-style segments name a column of the files besides year and month keys:
// the column keeps the files' values (DuckDB's hive partitioning would read a NULL as
// '__HIVE_DEFAULT_PARTITION__' and the text 'null' as NULL), and the keys are columns.
TEST_F(QueryPartitionFolderTest, AHiveSegmentOfAColumnKeepsTheFilesValues) {
  Export("ev/key={key}/year={yyyy}/month={mm}/e_{yyyy}{mm}{dd}.parquet",
         "docs,2026-01-01,1\n,2026-01-01,2\nnull,2026-01-01,4\na/b,2025-12-31,8\n");
  EXPECT_EQ(Query("SELECT coalesce(key, 'NULL') AS k, year, month, sum(views) AS v FROM ds GROUP BY ALL ORDER BY v"),
            "k,year,month,v\ndocs,2026,1,1\nNULL,2026,1,2\nnull,2026,1,4\na/b,2025,12,8\n");
  EXPECT_EQ(Views("key IS NULL"), "v\n2\n");
  EXPECT_EQ(Views("key = 'null'"), "v\n4\n");
  EXPECT_EQ(Views("year = 2025"), "v\n8\n");
}

}  // namespace
}  // namespace pqflow::testing
