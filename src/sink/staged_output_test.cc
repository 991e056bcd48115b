#include "sink/staged_output.h"

#include <gtest/gtest.h>

#include "temp_dir.h"
#include <stdlib.h>

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "duck/duck.h"

namespace pqflow::sink {
namespace {

namespace fs = std::filesystem;

using Keys = std::map<std::string, std::optional<std::string>>;

TEST(ParseStagedFileTest, DecodesTypedAndPrefixedKeys) {
  const std::string file = "dir/__pq_s=ok/__pq_d=2025-10-28/__pq_c_project_slug=va%2Fb%25c/data_0.parquet.tmp";
  auto f = ParseStagedFile("dir", file, 12, 3456);
  ASSERT_TRUE(f.ok()) << f.status().message();
  EXPECT_EQ(f->local_path, file);
  EXPECT_EQ(f->rows, 12);
  EXPECT_EQ(f->bytes, 3456);
  EXPECT_EQ(f->keys, (Keys{{"__pq_s", "ok"}, {"__pq_d", "2025-10-28"}, {"__pq_c_project_slug", "a/b%c"}}));
}

TEST(ParseStagedFileTest, StagingDirWithTrailingSlashAndAbsolutePaths) {
  const std::string dir = "/root/.pqflow/staging/run-1/layout0";
  auto f = ParseStagedFile(dir + "/", dir + "/__pq_s=ok/data_0.parquet.tmp", 1, 2);
  ASSERT_TRUE(f.ok()) << f.status().message();
  EXPECT_EQ(f->keys, (Keys{{"__pq_s", "ok"}}));

  auto g = ParseStagedFile(dir, dir + "/__pq_s=out/__pq_h=NULL/__pq_d=NULL/data_3.parquet.tmp", 0, 0);
  ASSERT_TRUE(g.ok()) << g.status().message();
  EXPECT_EQ(g->keys, (Keys{{"__pq_s", "out"}, {"__pq_h", std::nullopt}, {"__pq_d", std::nullopt}}));
}

TEST(ParseStagedFileTest, NullAndEmptyAndLiteralNull) {
  auto f = ParseStagedFile("d", "d/__pq_s=ok/__pq_c_a=n/__pq_c_b=v/__pq_c_c=vNULL/__pq_c_d=vn/f.parquet.tmp", 1, 1);
  ASSERT_TRUE(f.ok()) << f.status().message();
  EXPECT_EQ(f->keys, (Keys{{"__pq_s", "ok"}, {"__pq_c_a", std::nullopt}, {"__pq_c_b", ""}, {"__pq_c_c", "NULL"},
                           {"__pq_c_d", "n"}}));
}

TEST(ParseStagedFileTest, NoKeyFolders) {
  auto f = ParseStagedFile("d", "d/data_0.parquet.tmp", 5, 6);
  ASSERT_TRUE(f.ok()) << f.status().message();
  EXPECT_TRUE(f->keys.empty());
}

TEST(ParseStagedFileTest, EncodedKeyNamesAndValues) {
  auto f = ParseStagedFile("d", "d/__pq_c_x%3Dy=va%3Db%20c%2E%2E/f.parquet.tmp", 1, 1);
  ASSERT_TRUE(f.ok()) << f.status().message();
  EXPECT_EQ(f->keys, (Keys{{"__pq_c_x=y", "a=b c.."}}));
}

TEST(ParseStagedFileTest, MalformedSegmentsAreErrors) {
  for (const char* file : {"d/noequals/f.parquet.tmp",            // not key=value
                           "d/__pq_c_x=ok/f.parquet.tmp",          // column value without the v/n prefix
                           "d/__pq_f=/f.parquet.tmp",              // empty prefixed value
                           "d/__pq_s=ok/__pq_c_d=x2025/f.parquet.tmp"}) {
    SCOPED_TRACE(file);
    auto f = ParseStagedFile("d", file, 1, 1);
    ASSERT_FALSE(f.ok());
    EXPECT_NE(f.status().message().find(file), std::string::npos) << f.status().message();
  }
}

TEST(PrefixedKeySqlTest, Text) {
  EXPECT_EQ(PrefixedKeySql("x"), "COALESCE('v' || CAST(x AS VARCHAR), 'n')");
  EXPECT_EQ(PrefixedKeySql("\"project_slug\""), "COALESCE('v' || CAST(\"project_slug\" AS VARCHAR), 'n')");
}

class StagedDuckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = tmp_.path();
    duck::DatabaseOptions options;
    options.threads = 2;
    auto db = duck::Database::Open(options);
    ASSERT_TRUE(db.ok()) << db.status().message();
    db_.emplace(std::move(db).value());
    auto conn = duck::Connection::Make(*db_);
    ASSERT_TRUE(conn.ok());
    conn_.emplace(std::move(conn).value());
  }
  void TearDown() override {
    conn_.reset();
    db_.reset();
  }

  pqflow::testing::TempDir tmp_;
  std::string dir_;
  std::optional<duck::Database> db_;
  std::optional<duck::Connection> conn_;
};

TEST_F(StagedDuckTest, PrefixedKeySqlEvaluates) {
  auto r = conn_->Query("SELECT " + PrefixedKeySql("NULL") + ", " + PrefixedKeySql("'abc'") + ", " +
                        PrefixedKeySql("''") + ", " + PrefixedKeySql("'NULL'") + ", " + PrefixedKeySql("42") + ", " +
                        PrefixedKeySql("DATE '2025-10-28'"));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->Get(0, 0), std::optional<std::string>("n"));
  EXPECT_EQ(r->Get(0, 1), std::optional<std::string>("vabc"));
  EXPECT_EQ(r->Get(0, 2), std::optional<std::string>("v"));
  EXPECT_EQ(r->Get(0, 3), std::optional<std::string>("vNULL"));
  EXPECT_EQ(r->Get(0, 4), std::optional<std::string>("v42"));
  EXPECT_EQ(r->Get(0, 5), std::optional<std::string>("v2025-10-28"));
}

// The real thing: DuckDB's partitioned COPY names the folders, ParseStagedFile reads them back.
TEST_F(StagedDuckTest, RoundTripThroughDuckDbPartitionedCopy) {
  const std::vector<std::optional<std::string>> values = {
      "ok", "a/b%c", "x=y", "NULL", std::nullopt, "", "..", ".", "sp ace", "caf\xc3\xa9", "q'uote", "100%", "%2F",
      "n", "v", "a\\b"};
  ASSERT_TRUE(conn_->Execute("CREATE TABLE src (k VARCHAR, n BIGINT)").ok());
  std::map<std::optional<std::string>, int64_t> expected_rows;
  for (size_t i = 0; i < values.size(); ++i) {
    for (size_t j = 0; j <= i % 3; ++j) {
      const std::string v = values[i] ? duck::QuoteLiteral(*values[i]) : "NULL";
      ASSERT_TRUE(conn_->Execute("INSERT INTO src VALUES (" + v + ", " + std::to_string(i) + ")").ok());
      ++expected_rows[values[i]];
    }
  }
  const std::string staging = dir_ + "/staging";
  auto stats = conn_->Query("COPY (SELECT n, " + PrefixedKeySql("k") + " AS __pq_c_k FROM src) TO " +
                            duck::QuoteLiteral(staging) +
                            " (FORMAT parquet, PARTITION_BY (__pq_c_k), RETURN_STATS, FILE_EXTENSION 'parquet.tmp')");
  ASSERT_TRUE(stats.ok()) << stats.status().message();
  const int fn = stats->ColumnIndex("filename");
  const int cnt = stats->ColumnIndex("count");
  const int sz = stats->ColumnIndex("file_size_bytes");
  ASSERT_GE(fn, 0);
  ASSERT_GE(cnt, 0);
  ASSERT_GE(sz, 0);
  ASSERT_EQ(stats->row_count(), values.size());

  std::map<std::optional<std::string>, int64_t> got_rows;
  for (size_t r = 0; r < stats->row_count(); ++r) {
    const std::string filename = stats->GetOr(r, fn, "");
    auto f = ParseStagedFile(staging, filename, stats->GetInt64(r, cnt), stats->GetInt64(r, sz));
    ASSERT_TRUE(f.ok()) << filename << ": " << f.status().message();
    ASSERT_EQ(f->keys.size(), 1u) << filename;
    ASSERT_EQ(f->keys.count("__pq_c_k"), 1u) << filename;
    EXPECT_TRUE(fs::exists(filename)) << filename;
    EXPECT_EQ(f->bytes, static_cast<int64_t>(fs::file_size(filename))) << filename;
    got_rows[f->keys.at("__pq_c_k")] += f->rows;

    // The file holds exactly the rows of that key.
    const std::optional<std::string>& key = f->keys.at("__pq_c_k");
    std::string where = key ? "k = " + duck::QuoteLiteral(*key) : "k IS NULL";
    auto check = conn_->Query("SELECT (SELECT count(*) FROM read_parquet(" + duck::QuoteLiteral(filename) +
                              ", hive_partitioning = false)) = (SELECT count(*) FROM src WHERE " + where + ")");
    ASSERT_TRUE(check.ok()) << check.status().message();
    EXPECT_EQ(check->Get(0, 0), std::optional<std::string>("true")) << filename;
  }
  EXPECT_EQ(got_rows, expected_rows);
}

}  // namespace
}  // namespace pqflow::sink
