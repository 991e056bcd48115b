#include "query/reports.h"

#include <gtest/gtest.h>

namespace pqflow::query {
namespace {

std::string Error(const std::string& name, const std::map<std::string, std::string>& args) {
  auto sql = ReportSql(name, args);
  return sql.ok() ? "ok" : sql.status().message();
}

TEST(ReportsTest, ParametersBecomeQuotedLiteralsOfTheirType) {
  auto sql = ReportSql("top-pages", {{"project", "it's"}, {"since", "2026-01-01"}, {"limit", "5"}});
  ASSERT_TRUE(sql.ok()) << sql.status().ToString();
  EXPECT_NE(sql->find("project_slug = 'it''s'"), std::string::npos) << *sql;
  EXPECT_NE(sql->find("date >= DATE '2026-01-01'"), std::string::npos) << *sql;
  EXPECT_EQ(sql->find("until"), std::string::npos) << *sql;
  EXPECT_NE(sql->find("LIMIT 5"), std::string::npos) << *sql;
  auto other = ReportSql("daily-totals", {{"dataset", "pv\"2"}});
  ASSERT_TRUE(other.ok());
  EXPECT_NE(other->find("FROM \"pv\"\"2\""), std::string::npos) << *other;
}

TEST(ReportsTest, DefaultsApplyAndBadValuesAreNamed) {
  auto sql = ReportSql("validation", {});
  ASSERT_TRUE(sql.ok());
  EXPECT_NE(sql->find("LIMIT 30"), std::string::npos);
  EXPECT_EQ(Error("top-pages", {}), "report top-pages needs project (project_slug)");
  EXPECT_EQ(Error("top-pages", {{"project", "x"}, {"since", "2026-13-01"}}),
            "report top-pages: since: '2026-13-01' is not a date (YYYY-MM-DD)");
  EXPECT_EQ(Error("top-pages", {{"project", "x"}, {"limit", "10; DROP"}}),
            "report top-pages: limit: '10; DROP' is not a whole number");
  EXPECT_EQ(Error("slow-queries", {{"threshold_ms", "fast"}}),
            "report slow-queries: threshold_ms: 'fast' is not a number");
  EXPECT_EQ(Error("slow-queries", {{"threshold_ms", "100"}, {"project", "x"}}),
            "report slow-queries has no parameter 'project' (it takes: dataset, threshold_ms, limit)");
  EXPECT_EQ(Error("top", {}),
            "unknown report 'top' (available: top-pages, daily-totals, validation, avg-query-time, slow-queries)");
}

}  // namespace
}  // namespace pqflow::query
