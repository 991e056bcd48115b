#include "query/catalog.h"

#include <filesystem>
#include <fstream>
#include <utility>

#include <gtest/gtest.h>

#include "temp_dir.h"

namespace pqflow::query {
namespace {

constexpr const char* kConfig = R"(
[storage]
root = "data"

[datasets.pageviews]
layout = "pv/{project_slug}/{YYYY}/{MM}/pageviews_{YYYY-MM-DD}.parquet"
time_column = "date"
project_column = "project_slug"
[datasets.pageviews.source]
format = "csv"
path = "in.csv"
[[datasets.pageviews.columns]]
name = "project_slug"
type = "string"
[[datasets.pageviews.columns]]
name = "date"
type = "date"
[[datasets.pageviews.columns]]
name = "views"
type = "int32"

[datasets.qp]
layout = "qp/year={yyyy}/month={mm}/qp_{yyyy}{mm}{dd}.parquet"
time_column = "day"
source = {format = "csv", path = "in.csv"}
columns = [{name = "day", type = "date"}, {name = "ms", type = "double"}]
)";

class CatalogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto config = ParseConfig(kConfig, "test.toml", dir_.path());
    ASSERT_TRUE(config.ok()) << config.status().ToString();
    config_ = *config;
    storage_ = storage::MakeLocalStorage(config_.storage.root);
    db_ = std::make_unique<duck::Database>(duck::Database::Open({}).value());
    conn_ = std::make_unique<duck::Connection>(duck::Connection::Make(*db_).value());
    // 2 projects x 5 days, one file each with 10 rows of views = day number.
    for (const char* project : {"docs", "blog"}) {
      for (int day = 1; day <= 5; ++day) {
        std::string rel = "pv/" + std::string(project) + "/2026/01/pageviews_2026-01-0" + std::to_string(day) + ".parquet";
        std::filesystem::create_directories(std::filesystem::path(dir_ / "data/" + rel).parent_path());
        ASSERT_TRUE(conn_->Execute("COPY (SELECT '" + std::string(project) + "' AS project_slug, DATE '2026-01-0" +
                                   std::to_string(day) + "' AS date, " + std::to_string(day) +
                                   "::INT AS views FROM range(10)) TO '" + (dir_ / "data/" + rel) + "' (FORMAT parquet)")
                        .ok());
      }
    }
    // Not data: a manifest, a staging directory, a file that does not match the layout.
    std::filesystem::create_directories(dir_ / "data/pv/.pqflow");
    ASSERT_TRUE(conn_->Execute("COPY (SELECT 1 AS x) TO '" + (dir_ / "data/pv/.pqflow/x.parquet") + "'").ok());
    ASSERT_TRUE(conn_->Execute("COPY (SELECT 1 AS x) TO '" + (dir_ / "data/pv/docs/stray.parquet") + "'").ok());
  }

  ParsedQuery Parsed(const std::string& sql) {
    auto parsed = ParseQuery(*conn_, sql);
    EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
    return parsed.ok() ? std::move(parsed).value() : ParsedQuery{};
  }

  int64_t Scalar(const std::string& sql) {
    auto r = conn_->Query(sql);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->GetInt64(0, 0, -1) : -1;
  }

  pqflow::testing::TempDir dir_;
  Config config_;
  std::unique_ptr<storage::Storage> storage_;
  std::unique_ptr<duck::Database> db_;
  std::unique_ptr<duck::Connection> conn_;
};

TEST_F(CatalogTest, AViewReadsOnlyTheFilesItsPartitionFiltersNeed) {
  const std::string sql = "SELECT sum(views) FROM pageviews WHERE project_slug = 'docs' AND date >= '2026-01-04'";
  auto scans = CreateViews(*conn_, config_, *storage_, Parsed(sql), {"pageviews"}, {});
  ASSERT_TRUE(scans.ok()) << scans.status().ToString();
  ASSERT_EQ(scans->size(), 1u);
  EXPECT_EQ((*scans)[0].files_total, 10u);
  EXPECT_EQ((*scans)[0].files_selected, 2u);
  EXPECT_LT((*scans)[0].bytes_selected, (*scans)[0].bytes_total);
  EXPECT_FALSE((*scans)[0].partition_filter.empty());
  EXPECT_EQ(Scalar(sql), 10 * (4 + 5));
}

// Thousands of files: the partition values go through a temporary table instead of a
// VALUES list. The extra files are not Parquet: reading any of them would fail the query.
TEST_F(CatalogTest, ALayoutOfThousandsOfFilesIsPrunedAsExactly) {
  for (int i = 0; i < 2100; ++i) {
    const std::filesystem::path path = dir_ / ("data/pv/filler" + std::to_string(i) + "/2026/01/pageviews_2026-01-01.parquet");
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path) << "not parquet";
  }
  const std::string sql = "SELECT sum(views) FROM pageviews WHERE project_slug = 'docs' AND date >= '2026-01-04'";
  auto scans = CreateViews(*conn_, config_, *storage_, Parsed(sql), {"pageviews"}, {});
  ASSERT_TRUE(scans.ok()) << scans.status().ToString();
  EXPECT_EQ((*scans)[0].files_total, 2110u);
  EXPECT_EQ((*scans)[0].files_selected, 2u);
  EXPECT_EQ(Scalar(sql), 10 * (4 + 5));
}

// Above the JSON lists' bound, a partition value that is not UTF-8 (a folder "caf%E9"),
// which DuckDB's appender refuses: the query reads every file instead of failing.
TEST_F(CatalogTest, AValueThatIsNotUtf8AmongThousandsOfFilesKeepsTheQueryExact) {
  const std::string filler = dir_ / "filler.parquet";
  ASSERT_TRUE(conn_->Execute("COPY (SELECT 'x' AS project_slug, DATE '2026-01-01' AS date, 0::INT AS views) TO '" +
                             filler + "' (FORMAT parquet)")
                  .ok());
  for (int i = 0; i < 300; ++i) {
    const std::filesystem::path path = dir_ / ("data/pv/f" + std::to_string(i) + "/2026/01/pageviews_2026-01-01.parquet");
    std::filesystem::create_directories(path.parent_path());
    std::filesystem::copy_file(filler, path);
  }
  std::filesystem::create_directories(dir_ / "data/pv/caf%E9/2026/01");
  std::filesystem::copy_file(filler, dir_ / "data/pv/caf%E9/2026/01/pageviews_2026-01-01.parquet");
  const std::string sql = "SELECT sum(views) FROM pageviews WHERE project_slug = 'docs' AND date >= '2026-01-04'";
  auto scans = CreateViews(*conn_, config_, *storage_, Parsed(sql), {"pageviews"}, {});
  ASSERT_TRUE(scans.ok()) << scans.status().ToString();
  EXPECT_EQ((*scans)[0].files_total, 311u);
  EXPECT_EQ(Scalar(sql), 10 * (4 + 5));
}

TEST_F(CatalogTest, AnUnfilteredQuerySeesEveryFile) {
  auto scans = CreateViews(*conn_, config_, *storage_, Parsed("SELECT count(*) FROM pageviews"), {"PageViews"}, {});
  ASSERT_TRUE(scans.ok()) << scans.status().ToString();
  EXPECT_EQ((*scans)[0].files_selected, 10u);
  EXPECT_EQ(Scalar("SELECT count(*), sum(views) FROM pageviews"), 100);
  EXPECT_EQ(Scalar("SELECT sum(views) FROM pageviews"), 2 * 10 * 15);
}

TEST_F(CatalogTest, ARelationWithoutFilesIsAnEmptyViewOfItsColumns) {
  auto scans = CreateViews(*conn_, config_, *storage_, Parsed("SELECT * FROM events"), {"events"}, {});
  ASSERT_TRUE(scans.ok()) << scans.status().ToString();
  EXPECT_EQ((*scans)[0].files_total, 0u);
  EXPECT_EQ(Scalar("SELECT count(*) FROM events"), 0);
  auto cols = conn_->Query("DESCRIBE events");
  ASSERT_TRUE(cols.ok());
  EXPECT_EQ(cols->GetOr(0, 0, ""), "timestamp");
  // A filter that matches no file gives an empty view too, with the same columns.
  ASSERT_TRUE(CreateViews(*conn_, config_, *storage_, Parsed("SELECT * FROM pageviews WHERE date > '2027-01-01'"),
                          {"pageviews"}, {})
                  .ok());
  EXPECT_EQ(Scalar("SELECT count(*) FROM pageviews"), 0);
  EXPECT_EQ(Scalar("SELECT count(*) FROM (DESCRIBE pageviews)"), 3);
}

TEST_F(CatalogTest, HiveSegmentsOfALayoutAreColumns) {
  // Empty first: the view already has year and month.
  ASSERT_TRUE(CreateViews(*conn_, config_, *storage_, Parsed("SELECT * FROM qp"), {"qp"}, {}).ok());
  auto cols = conn_->Query("SELECT string_agg(column_name, ',') FROM (DESCRIBE qp)");
  ASSERT_TRUE(cols.ok());
  EXPECT_EQ(cols->GetOr(0, 0, ""), "day,ms,year,month");
  for (const char* day : {"2025-10-28", "2025-11-02"}) {
    std::string d(day);
    std::string rel = "qp/year=" + d.substr(0, 4) + "/month=" + d.substr(5, 2) + "/qp_" + d.substr(0, 4) + d.substr(5, 2) +
                      d.substr(8, 2) + ".parquet";
    std::filesystem::create_directories(std::filesystem::path(dir_ / "data/" + rel).parent_path());
    ASSERT_TRUE(conn_->Execute("COPY (SELECT DATE '" + d + "' AS day, 1.5 AS ms) TO '" + (dir_ / "data/" + rel) + "'").ok());
  }
  ASSERT_TRUE(CreateViews(*conn_, config_, *storage_, Parsed("SELECT * FROM qp"), {"qp"}, {}).ok());
  cols = conn_->Query("SELECT string_agg(column_name, ',') FROM (DESCRIBE qp)");
  EXPECT_EQ(cols->GetOr(0, 0, ""), "day,ms,year,month");
  EXPECT_EQ(Scalar("SELECT sum(year * 100 + month) FROM qp"), 202510 + 202511);
  EXPECT_EQ(Scalar("SELECT count(*) FROM qp WHERE month = 11 AND day = DATE '2025-11-02'"), 1);
}

TEST_F(CatalogTest, AProjectRestrictedCallerSeesOnlyItsProjects) {
  QueryAccess docs_only;
  docs_only.projects = {"docs"};
  ASSERT_TRUE(
      CreateViews(*conn_, config_, *storage_, Parsed("SELECT 1 FROM pageviews"), {"pageviews"}, docs_only).ok());
  EXPECT_EQ(Scalar("SELECT count(*) FROM pageviews"), 50);
  EXPECT_EQ(Scalar("SELECT count(*) FROM pageviews WHERE project_slug = 'blog'"), 0);
  auto denied = CreateViews(*conn_, config_, *storage_, Parsed("SELECT 1 FROM qp"), {"qp"}, docs_only);
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(denied.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(denied.status().message().find("qp has no project column"), std::string::npos);
}

TEST_F(CatalogTest, AWorkspaceRestrictedCallerCannotReadARelationWithoutTenantColumn) {
  auto scans = CreateViews(*conn_, config_, *storage_, Parsed("SELECT * FROM pageviews"), {"pageviews"},
                           QueryAccess{{42}, {}, nullptr});
  ASSERT_FALSE(scans.ok());
  EXPECT_EQ(scans.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(scans.status().message().find("pageviews has no tenant column"), std::string::npos);
}

TEST_F(CatalogTest, RelationsNamedInASqlTextAreItsIdentifiersThatNameOne) {
  using V = std::vector<std::string>;
  EXPECT_EQ(RelationsNamedIn(config_, "SELECT count(*) FROM PageViews"), V{"pageviews"});
  EXPECT_EQ(RelationsNamedIn(config_, "SELECT * FROM \"qp\" JOIN pageviews USING (date)"), (V{"pageviews", "qp"}));
  // In a string, a comment or a longer word, a name is not a reference.
  EXPECT_EQ(RelationsNamedIn(config_, "SELECT 'pageviews', 'it''s qp' -- qp\n/* qp */ FROM qp_daily"), V{});
  EXPECT_EQ(RelationsNamedIn(config_, "SELECT 1"), V{});
  // A quoted identifier with an escaped quote, and an unterminated comment.
  EXPECT_EQ(RelationsNamedIn(config_, "SELECT \"a\"\"b\" FROM qp /* pageviews"), V{"qp"});
}

// Partition values go to DuckDB as JSON text: quotes, backslashes and non-ASCII letters
// arrive as they are; the default partition (NULL or "") is a JSON null and always read.
TEST_F(CatalogTest, PartitionValuesWithQuotesAndNonAsciiLettersArePrunedExactly) {
  const std::string value = "o'brien \"x\" \\ \u00fc";
  for (const auto& [folder, literal] : {std::pair<std::string, std::string>{value, duck::QuoteLiteral(value)},
                                        {"__HIVE_DEFAULT_PARTITION__", "NULL"}}) {
    const std::string rel = "pv/" + folder + "/2026/01/pageviews_2026-01-01.parquet";
    std::filesystem::create_directories(std::filesystem::path(dir_ / "data/" + rel).parent_path());
    ASSERT_TRUE(conn_->Execute("COPY (SELECT " + literal + "::VARCHAR AS project_slug, DATE '2026-01-01' AS date, " +
                               "7::INT AS views) TO " + duck::QuoteLiteral(dir_ / "data/" + rel) + " (FORMAT parquet)")
                    .ok());
  }
  const std::string sql = "SELECT sum(views) FROM pageviews WHERE project_slug = 'o''brien \"x\" \\ \u00fc'";
  auto scans = CreateViews(*conn_, config_, *storage_, Parsed(sql), {"pageviews"}, {});
  ASSERT_TRUE(scans.ok()) << scans.status().ToString();
  EXPECT_EQ((*scans)[0].files_total, 12u);
  EXPECT_EQ((*scans)[0].files_selected, 2u);  // the value's file and the default partition's
  EXPECT_EQ(Scalar(sql), 7);
}

// A folder "caf%E9" decodes to a value that is not UTF-8, which neither JSON nor DuckDB's
// strings can hold: its file cannot be judged, so it is read (and its rows filtered by the
// query itself); the other files are still pruned.
TEST_F(CatalogTest, AValueThatIsNotUtf8KeepsItsFileAndTheQueryExact) {
  const std::filesystem::path folder = dir_ / "data/pv/caf%E9/2026/01";
  std::filesystem::create_directories(folder);
  std::filesystem::copy_file(dir_ / "data/pv/blog/2026/01/pageviews_2026-01-01.parquet",
                             folder / "pageviews_2026-01-01.parquet");
  const std::string sql = "SELECT sum(views) FROM pageviews WHERE project_slug = 'docs'";
  auto scans = CreateViews(*conn_, config_, *storage_, Parsed(sql), {"pageviews"}, {});
  ASSERT_TRUE(scans.ok()) << scans.status().ToString();
  EXPECT_EQ((*scans)[0].files_total, 11u);
  EXPECT_EQ((*scans)[0].files_selected, 11u);
  EXPECT_EQ(Scalar(sql), 10 * (1 + 2 + 3 + 4 + 5));
}

TEST_F(CatalogTest, PrefetchedFilesAreTheOnesAViewWouldList) {
  PrefetchedListings prefetched = PrefetchListings(config_, *storage_, {"pageviews"});
  ASSERT_EQ(prefetched.count("pageviews"), 1u);
  EXPECT_EQ(prefetched["pageviews"].files.size(), 10u);
  // These files were written without manifests: nothing proves their columns.
  EXPECT_TRUE(prefetched["pageviews"].manifests.paths.empty());
  EXPECT_EQ(prefetched.count("qp"), 0u);
  auto scans = CreateViews(*conn_, config_, *storage_, Parsed("SELECT * FROM pageviews WHERE date = DATE '2026-01-02'"),
                           {"pageviews"}, {}, &prefetched);
  ASSERT_TRUE(scans.ok()) << scans.status().ToString();
  EXPECT_EQ((*scans)[0].files_selected, 2u);
  EXPECT_FALSE((*scans)[0].declared_schema);
  EXPECT_EQ(Scalar("SELECT sum(views) FROM pageviews WHERE date = DATE '2026-01-02'"), 40);
}

}  // namespace
}  // namespace pqflow::query
