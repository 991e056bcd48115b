#include "query/partition_pruner.h"

#include <gtest/gtest.h>

namespace pqflow::query {
namespace {

class PartitionPrunerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = std::make_unique<duck::Database>(duck::Database::Open({}).value());
    conn_ = std::make_unique<duck::Connection>(duck::Connection::Make(*db_).value());
    // One row per file: pageviews by day, events by (workspace, hour) with epoch-ms bounds.
    ASSERT_TRUE(conn_->Execute("CREATE TABLE pv_parts AS SELECT 'd' || i AS file, DATE '2026-01-01' + i::INT AS date, "
                               "'p' || (i % 3) AS project_slug FROM range(10) t(i)")
                    .ok());
    ASSERT_TRUE(conn_->Execute("CREATE TABLE ev_parts AS SELECT 'h' || i AS file, (i % 2)::UBIGINT AS workspace_id, "
                               "i * 3600000 AS __lo, (i + 1) * 3600000 AS __hi FROM range(6) t(i)")
                    .ok());
  }

  ParsedQuery Parsed(const std::string& sql) {
    auto parsed = ParseQuery(*conn_, sql);
    EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
    return parsed.ok() ? std::move(parsed).value() : ParsedQuery{};
  }

  // The files of `table` the query's predicate for `relation` keeps, or "all" without one.
  std::string Kept(const std::string& sql, const std::string& relation, const std::string& table) {
    auto predicates = ExtractPartitionPredicates(*conn_, Parsed(sql), relations_);
    EXPECT_TRUE(predicates.ok()) << predicates.status().ToString();
    if (!predicates.ok()) return "error";
    auto it = predicates->find(relation);
    if (it == predicates->end()) return "all";
    auto rows = conn_->Query("SELECT string_agg(file, ',' ORDER BY file) FROM " + table + " WHERE " + it->second);
    EXPECT_TRUE(rows.ok()) << it->second << ": " << rows.status().ToString();
    return rows.ok() ? rows->GetOr(0, 0, "") : "error";
  }
  std::string Pageviews(const std::string& sql) { return Kept(sql, "pageviews", "pv_parts"); }
  // The values pageviews' pin column `path` is pinned to, comma-separated, or "none".
  std::string PathPins(const std::string& sql) {
    PartitionPins pins;
    auto predicates = ExtractPartitionPredicates(*conn_, Parsed(sql), relations_, &pins);
    EXPECT_TRUE(predicates.ok()) << predicates.status().ToString();
    auto rel = pins.find("pageviews");
    if (rel == pins.end() || rel->second.count("path") == 0) return "none";
    std::string out;
    for (const auto& v : rel->second.at("path")) out += (out.empty() ? "" : ",") + v;
    return out;
  }
  std::string Events(const std::string& sql) { return Kept(sql, "events", "ev_parts"); }

  std::unique_ptr<duck::Database> db_;
  std::unique_ptr<duck::Connection> conn_;
  std::vector<RelationPartitioning> relations_ = {
      {"pageviews", {{"date", "DATE", true}, {"project_slug", "VARCHAR", true}}, {"date", "project_slug", "path"},
       {"path"}},
      {"events", {{"workspace_id", "UBIGINT", true}, {"timestamp", "BIGINT", false}}, {"workspace_id", "timestamp"}, {}},
      {"dated", {{"day", "DATE", true}}, {"day", "current_date"}, {}},
  };
};

TEST_F(PartitionPrunerTest, ComparisonsOnAnExactColumnKeepOnlyMatchingFiles) {
  EXPECT_EQ(Pageviews("SELECT * FROM pageviews WHERE date >= DATE '2026-01-08'"), "d7,d8,d9");
  EXPECT_EQ(Pageviews("SELECT * FROM pageviews WHERE date BETWEEN '2026-01-02' AND '2026-01-03' AND path = 'x'"),
            "d1,d2");
  EXPECT_EQ(Pageviews("SELECT * FROM pageviews WHERE '2026-01-02' > date"), "d0");
  EXPECT_EQ(Pageviews("SELECT * FROM pageviews WHERE project_slug IN ('p1') AND date < '2026-01-06'"), "d1,d4");
  EXPECT_EQ(Pageviews("SELECT * FROM pageviews WHERE (date = '2026-01-01' OR date = '2026-01-10')"), "d0,d9");
  EXPECT_EQ(Pageviews("SELECT * FROM pageviews WHERE year(date) = 2026 AND day(date) = 3"), "d2");
}

// Pins (a split's extra columns fixed by the query) follow the same rules as predicates.
TEST_F(PartitionPrunerTest, EqualityAndInListsOfTextPinAColumnWhereAPredicateCouldPrune) {
  EXPECT_EQ(PathPins("SELECT * FROM pageviews WHERE path = 'x' AND date > '2026-01-05'"), "x");
  EXPECT_EQ(PathPins("SELECT * FROM pageviews WHERE 'x' = path"), "x");
  EXPECT_EQ(PathPins("SELECT * FROM pageviews WHERE path IN ('b', 'a')"), "a,b");
  EXPECT_EQ(PathPins("SELECT * FROM pageviews WHERE path IN ('a', 'b') AND path IN ('b', 'c')"), "b");
  EXPECT_EQ(PathPins("SELECT * FROM pageviews p WHERE p.path = 'x'"), "x");
  // Not a pin: an OR, a comparison that is not equality, a constant that is not text, a NULL.
  EXPECT_EQ(PathPins("SELECT * FROM pageviews WHERE path = 'x' OR date = '2026-01-01'"), "none");
  EXPECT_EQ(PathPins("SELECT * FROM pageviews WHERE path >= 'x'"), "none");
  EXPECT_EQ(PathPins("SELECT * FROM pageviews WHERE path = 5"), "none");
  EXPECT_EQ(PathPins("SELECT * FROM pageviews WHERE path IN ('a', NULL)"), "none");
  EXPECT_EQ(PathPins("SELECT * FROM pageviews WHERE path = lower('X')"), "none");
  // Not where pruning would be: read twice, the NULL side of an outer join, an outer query.
  EXPECT_EQ(PathPins("SELECT * FROM pageviews a JOIN pageviews b ON a.date = b.date WHERE a.path = 'x'"), "none");
  EXPECT_EQ(PathPins("SELECT * FROM range(3) r LEFT JOIN pageviews p ON true WHERE p.path = 'x'"), "none");
  EXPECT_EQ(PathPins("SELECT * FROM (SELECT * FROM pageviews) s WHERE path = 'x'"), "none");
}

TEST_F(PartitionPrunerTest, NonPartitionTermsAndUnfilteredQueriesKeepEverything) {
  EXPECT_EQ(Pageviews("SELECT * FROM pageviews"), "all");
  EXPECT_EQ(Pageviews("SELECT * FROM pageviews WHERE path = 'x'"), "all");
  // An OR across a partition and a data column cannot be judged from the path.
  EXPECT_EQ(Pageviews("SELECT * FROM pageviews WHERE date = '2026-01-01' OR path = 'x'"), "all");
  EXPECT_EQ(Pageviews("SELECT * FROM pageviews WHERE date > '2026-01-05' AND random() < 2"), "d5,d6,d7,d8,d9");
  EXPECT_EQ(Pageviews("SELECT * FROM pageviews WHERE date > CAST(random() AS VARCHAR)"), "all");
  EXPECT_EQ(Pageviews("SELECT * FROM pageviews WHERE date IN (SELECT DATE '2026-01-01')"), "all");
}

TEST_F(PartitionPrunerTest, FiltersInsideSubqueriesAndCtesApplyToTheirOwnSelect) {
  EXPECT_EQ(Pageviews("SELECT count(*) FROM (SELECT * FROM pageviews WHERE date = '2026-01-04') s"), "d3");
  EXPECT_EQ(Pageviews("WITH x AS (SELECT * FROM pageviews WHERE project_slug = 'p0') SELECT * FROM x"), "d0,d3,d6,d9");
  // A filter outside the subquery is not pushed through it by pqflow (DuckDB still applies it).
  EXPECT_EQ(Pageviews("SELECT * FROM (SELECT * FROM pageviews) s WHERE date = '2026-01-04'"), "all");
  // A CTE named like the dataset shadows it: its own filters say nothing about the files.
  EXPECT_EQ(Pageviews("WITH pageviews AS (SELECT 1 AS date) SELECT * FROM pageviews WHERE date = 1"), "all");
}

TEST_F(PartitionPrunerTest, BareCurrentDateIsTheFunctionUnlessAColumnHasItsName) {
  auto predicates = ExtractPartitionPredicates(
      *conn_, Parsed("SELECT * FROM pageviews WHERE date >= current_date - 3 AND date <= CURRENT_TIMESTAMP"), relations_);
  ASSERT_TRUE(predicates.ok());
  EXPECT_EQ((*predicates)["pageviews"], "((date >= (current_date() - 3)) AND (date <= get_current_timestamp()))");
  // In `dated`, current_date is a column: the condition compares two columns of the rows.
  predicates = ExtractPartitionPredicates(*conn_, Parsed("SELECT * FROM dated WHERE day >= current_date"), relations_);
  ASSERT_TRUE(predicates.ok());
  EXPECT_EQ(predicates->count("dated"), 0u);
}

TEST_F(PartitionPrunerTest, ADatasetReadTwiceIsNotPruned) {
  EXPECT_EQ(Pageviews("SELECT * FROM pageviews a JOIN pageviews b USING (id) WHERE a.date = '2026-01-01'"), "all");
  EXPECT_EQ(Pageviews("SELECT * FROM pageviews WHERE date = '2026-01-01' UNION ALL SELECT * FROM pageviews"), "all");
}

TEST_F(PartitionPrunerTest, JoinsPruneOnlyTheSidesAWhereClauseCanFilter) {
  EXPECT_EQ(Pageviews("SELECT * FROM pageviews p JOIN events e ON true WHERE p.date = '2026-01-02'"), "d1");
  EXPECT_EQ(Pageviews("SELECT * FROM pageviews p, events e WHERE p.date = '2026-01-02'"), "d1");
  // Unqualified names in a join could belong to either side.
  EXPECT_EQ(Pageviews("SELECT * FROM pageviews p JOIN events e ON true WHERE date = '2026-01-02'"), "all");
  // The NULL-filled side of an outer join keeps its files: `p.date IS NULL OR ...` would
  // otherwise turn pruned rows into NULL rows that match.
  EXPECT_EQ(Pageviews("SELECT * FROM events e LEFT JOIN pageviews p ON true WHERE p.date = '2026-01-02'"), "all");
  EXPECT_EQ(Pageviews("SELECT * FROM pageviews p LEFT JOIN events e ON true WHERE p.date = '2026-01-02'"), "d1");
  EXPECT_EQ(Pageviews("SELECT * FROM pageviews p FULL JOIN events e ON true WHERE p.date = '2026-01-02'"), "all");
  EXPECT_EQ(Pageviews("SELECT * FROM pageviews p POSITIONAL JOIN events e WHERE p.date = '2026-01-02'"), "all");
}

TEST_F(PartitionPrunerTest, ARangeColumnKeepsFilesWhoseRangeCanSatisfyTheComparison) {
  const int64_t h = 3600000;
  auto at = [&](double hours) { return std::to_string(static_cast<int64_t>(hours * h)); };
  EXPECT_EQ(Events("SELECT * FROM events WHERE timestamp >= " + at(4.5)), "h4,h5");
  EXPECT_EQ(Events("SELECT * FROM events WHERE timestamp > " + at(4)), "h4,h5");
  EXPECT_EQ(Events("SELECT * FROM events WHERE timestamp < " + at(2)), "h0,h1");
  EXPECT_EQ(Events("SELECT * FROM events WHERE timestamp <= " + at(2)), "h0,h1,h2");
  EXPECT_EQ(Events("SELECT * FROM events WHERE " + at(2) + " >= timestamp"), "h0,h1,h2");
  EXPECT_EQ(Events("SELECT * FROM events WHERE timestamp = " + at(3)), "h3");
  EXPECT_EQ(Events("SELECT * FROM events WHERE timestamp BETWEEN " + at(1.5) + " AND " + at(3)), "h1,h2,h3");
  EXPECT_EQ(Events("SELECT * FROM events WHERE timestamp >= " + at(1) + " AND workspace_id = 1"), "h1,h3,h5");
  // Forms the range cannot answer prune nothing.
  EXPECT_EQ(Events("SELECT * FROM events WHERE timestamp != " + at(3)), "all");
  EXPECT_EQ(Events("SELECT * FROM events WHERE timestamp // 2 = 0"), "all");
}

TEST_F(PartitionPrunerTest, QueriesDuckDbCannotParseAreLeftForTheQueryToReport) {
  auto predicates = ExtractPartitionPredicates(*conn_, Parsed("SELEKT * FROM pageviews"), relations_);
  ASSERT_TRUE(predicates.ok());
  EXPECT_TRUE(predicates->empty());
}

}  // namespace
}  // namespace pqflow::query
