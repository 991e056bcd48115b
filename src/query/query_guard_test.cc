#include "query/query_guard.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <optional>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "temp_dir.h"

namespace pqflow::query {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

constexpr milliseconds kTimeout{10000};
// 10M rows sorted: about 160 MB, beyond a 64MB memory limit unless DuckDB may spill.
constexpr const char* kBigSort = "SELECT count(*) FROM (SELECT i FROM range(10000000) t(i) ORDER BY random())";
constexpr const char* kLongQuery = "SELECT sum(a.range * b.range) FROM range(100000) a, range(100000) b";

// A database with two datasets under <tmp>/root, written by DuckDB before the lock-down, a
// Parquet file and a CSV outside the root and one in a sibling directory <tmp>/root2. Its
// temp_directory is <tmp>/spill.
class QueryGuardTest : public ::testing::Test {
 protected:
  void SetUp() override {
    QueryLimits limits;
    limits.readable_directories = {root_};
    limits.memory_limit = "256MB";
    limits.threads = 2;
    Open(limits);
  }

  void Open(const QueryLimits& limits) {
    fs::create_directories(root_ + "/pageviews");
    fs::create_directories(root_ + "/users");
    fs::create_directories(tmp_ / "root2");
    duck::DatabaseOptions options;
    options.temp_directory = spill_;
    auto db = duck::Database::Open(options);
    ASSERT_TRUE(db.ok()) << db.status().message();
    db_.emplace(std::move(db).value());
    auto conn = duck::Connection::Make(*db_);
    ASSERT_TRUE(conn.ok()) << conn.status().message();
    conn_.emplace(std::move(conn).value());
    Exec("COPY (SELECT i AS id, 'page' || (i % 5) AS url, i % 3 AS user_id FROM range(100) t(i)) TO " +
         duck::QuoteLiteral(pageviews_file_) + " (FORMAT parquet)");
    Exec("COPY (SELECT i AS user_id, 'user' || i AS name FROM range(3) t(i)) TO " + duck::QuoteLiteral(users_file_) +
         " (FORMAT parquet)");
    Exec("COPY (SELECT 'secret' AS s) TO " + duck::QuoteLiteral(outside_) + " (FORMAT parquet)");
    Exec("COPY (SELECT 'secret' AS s) TO " + duck::QuoteLiteral(tmp_ / "root2/sibling.parquet") + " (FORMAT parquet)");
    Exec("COPY (SELECT 'secret' AS s) TO " + duck::QuoteLiteral(tmp_ / "secret.csv") + " (FORMAT csv)");
    Status s = LockDownDatabase(*conn_, limits);
    ASSERT_TRUE(s.ok()) << s.ToString();
    Exec("CREATE TEMP VIEW pageviews AS SELECT * FROM read_parquet([" + duck::QuoteLiteral(pageviews_file_) + "])");
    Exec("CREATE TEMP VIEW users AS SELECT * FROM read_parquet([" + duck::QuoteLiteral(users_file_) + "])");
  }

  void Exec(const std::string& sql) {
    Status s = conn_->Execute(sql);
    ASSERT_TRUE(s.ok()) << sql << ": " << s.ToString();
  }

  // {root}, {tmp}, {outside} and {spill} replaced by the fixture's paths.
  std::string Expand(std::string sql) const {
    const std::pair<std::string, std::string> vars[] = {
        {"{root}", root_}, {"{tmp}", tmp_.path()}, {"{outside}", outside_}, {"{spill}", spill_}};
    for (const auto& [key, value] : vars) {
      for (size_t pos = sql.find(key); pos != std::string::npos; pos = sql.find(key, pos + value.size())) {
        sql.replace(pos, key.size(), value);
      }
    }
    return sql;
  }

  std::optional<std::string> Scalar(const std::string& sql) {
    auto r = conn_->Query(sql);
    EXPECT_TRUE(r.ok()) << sql << ": " << r.status().message();
    if (!r.ok() || r->row_count() != 1 || r->column_count() < 1) return std::nullopt;
    return r->Get(0, 0);
  }

  // The normal path still works: the views read their files.
  void ExpectViewsWork() {
    EXPECT_EQ(Scalar("SELECT count(*) FROM pageviews"), std::optional<std::string>("100"));
    EXPECT_EQ(Scalar("SELECT count(*) FROM users"), std::optional<std::string>("3"));
  }

  testing::TempDir tmp_;
  std::string root_ = tmp_ / "root";
  std::string pageviews_file_ = root_ + "/pageviews/part-0.parquet";
  std::string users_file_ = root_ + "/users/part-0.parquet";
  std::string outside_ = tmp_ / "outside.parquet";
  std::string spill_ = tmp_ / "spill";  // the database's temp_directory
  std::vector<std::string> relations_ = {"pageviews", "users"};
  std::optional<duck::Database> db_;
  std::optional<duck::Connection> conn_;
};

// ---- layer 1 ---------------------------------------------------------------------------

TEST(QueryGuardSettingsTest, EverySettingTheLockDownUsesExists) {
  auto db = duck::Database::Open({});
  ASSERT_TRUE(db.ok());
  auto conn = duck::Connection::Make(*db);
  ASSERT_TRUE(conn.ok());
  for (const char* name : {"allowed_directories", "autoinstall_known_extensions", "autoload_known_extensions",
                           "allow_community_extensions", "memory_limit", "threads", "max_temp_directory_size",
                           "enable_external_access", "lock_configuration"}) {
    auto r = conn->Query("SELECT count(*) FROM duckdb_settings() WHERE name = " + duck::QuoteLiteral(name));
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ(r->GetInt64(0, 0), 1) << name;
  }
}

TEST_F(QueryGuardTest, ViewsWorkAfterLockDown) {
  ExpectViewsWork();
  auto r = RunReadOnlyQuery(*conn_, "SELECT url, count(*) FROM pageviews GROUP BY url ORDER BY url", relations_,
                            kTimeout);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->result.row_count(), 5u);
  EXPECT_EQ(r->result.Get(0, 0), std::optional<std::string>("page0"));
  EXPECT_EQ(r->result.GetInt64(0, 1), 20);
}

TEST_F(QueryGuardTest, SettingsAreInForce) {
  EXPECT_EQ(Scalar("SELECT current_setting('enable_external_access')::VARCHAR"), std::optional<std::string>("false"));
  EXPECT_EQ(Scalar("SELECT current_setting('lock_configuration')::VARCHAR"), std::optional<std::string>("true"));
  EXPECT_EQ(Scalar("SELECT current_setting('autoload_known_extensions')::VARCHAR"),
            std::optional<std::string>("false"));
  EXPECT_EQ(Scalar("SELECT current_setting('threads')::VARCHAR"), std::optional<std::string>("2"));
  EXPECT_EQ(Scalar("SELECT current_setting('allowed_directories')::VARCHAR"),
            std::optional<std::string>("[" + root_ + "/]"));
  EXPECT_EQ(Scalar("SELECT current_setting('temp_directory')::VARCHAR"), std::optional<std::string>(""));
}

TEST_F(QueryGuardTest, LayerOneAloneStopsReadCsvOfEtcPasswd) {
  Status s = conn_->Execute("SELECT * FROM read_csv('/etc/passwd')");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("disabled by configuration"), std::string::npos) << s.message();
}

TEST_F(QueryGuardTest, LayerOneAloneReadsTheRootButNotASiblingDirectory) {
  EXPECT_EQ(Scalar("SELECT count(*) FROM read_parquet(" + duck::QuoteLiteral(pageviews_file_) + ")"),
            std::optional<std::string>("100"));
  // "root" must not also admit "root2".
  EXPECT_FALSE(conn_->Execute(Expand("SELECT * FROM read_parquet('{tmp}/root2/sibling.parquet')")).ok());
  EXPECT_FALSE(conn_->Execute(Expand("SELECT * FROM read_parquet('{root}/../outside.parquet')")).ok());
}

TEST_F(QueryGuardTest, LockDownCannotBeUndone) {
  for (const char* sql : {"SET enable_external_access = true", "RESET enable_external_access",
                          "SET lock_configuration = false", "SET memory_limit = '100GB'",
                          "SET allowed_directories = ['/']", "PRAGMA threads = 8"}) {
    EXPECT_FALSE(conn_->Execute(sql).ok()) << sql;
  }
  EXPECT_EQ(Scalar("SELECT current_setting('enable_external_access')::VARCHAR"), std::optional<std::string>("false"));
}

// The settings given at open and the SET statements are two ways to one lock-down: every
// DuckDB setting ends the same, with spilling off and on.
TEST(QueryGuardLockDownTest, SettingsGivenAtOpenLockDownAsTheStatementsDo) {
  for (const char* spill : {"", "3GB"}) {
    QueryLimits limits;
    limits.readable_directories = {"/tmp/pqflow-guard-test-root"};
    limits.memory_limit = "300MB";
    limits.threads = 1;
    limits.max_temp_directory_size = spill;
    auto settings_of = [&](bool at_open) {
      std::vector<std::string> out;
      duck::DatabaseOptions options;
      if (at_open) {
        auto settings = LockDownOpenSettings(limits);
        EXPECT_TRUE(settings.ok()) << settings.status().message();
        if (settings.ok()) options.settings = *settings;
      }
      auto db = duck::Database::Open(options);
      EXPECT_TRUE(db.ok()) << db.status().message();
      if (!db.ok()) return out;
      auto conn = duck::Connection::Make(*db);
      EXPECT_TRUE(conn.ok());
      if (!conn.ok()) return out;
      Status s = LockDownDatabase(*conn, limits, at_open);
      EXPECT_TRUE(s.ok()) << s.ToString();
      auto r = conn->Query("SELECT name || '=' || coalesce(value, 'NULL') FROM duckdb_settings() ORDER BY name");
      EXPECT_TRUE(r.ok()) << r.status().message();
      if (r.ok()) {
        for (size_t i = 0; i < r->row_count(); ++i) out.push_back(r->GetOr(i, 0, ""));
      }
      return out;
    };
    const std::vector<std::string> by_statements = settings_of(false);
    const std::vector<std::string> at_open = settings_of(true);
    EXPECT_EQ(at_open, by_statements) << "spill '" << spill << "'";
    for (const char* expected : {"threads=1", "enable_external_access=false", "lock_configuration=true",
                                 "allow_community_extensions=false", "autoload_known_extensions=false"}) {
      EXPECT_NE(std::find(at_open.begin(), at_open.end(), expected), at_open.end()) << expected;
    }
  }
}

TEST(QueryGuardLockDownTest, NegativeThreadsAreRefusedBeforeOpening) {
  QueryLimits limits;
  limits.threads = -1;
  EXPECT_EQ(LockDownOpenSettings(limits).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(QueryGuardTest, SecondConnectionIsLockedToo) {
  auto other = duck::Connection::Make(*db_);
  ASSERT_TRUE(other.ok());
  EXPECT_TRUE(LockDownDatabase(*other, QueryLimits{}).ok());
  EXPECT_FALSE(other->Execute("SELECT * FROM read_text('/etc/passwd')").ok());
  EXPECT_FALSE(other->Execute("SET enable_external_access = true").ok());
}

TEST(QueryGuardLockDownTest, RefusesADirectoryThatAdmitsEveryFile) {
  for (const char* dir : {"", "/", "//"}) {
    auto db = duck::Database::Open({});
    ASSERT_TRUE(db.ok());
    auto conn = duck::Connection::Make(*db);
    ASSERT_TRUE(conn.ok());
    QueryLimits limits;
    limits.readable_directories = {dir};
    Status s = LockDownDatabase(*conn, limits);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << "'" << dir << "': " << s.ToString();
  }
}

TEST(QueryGuardLockDownTest, BadMemoryLimitIsAnError) {
  auto db = duck::Database::Open({});
  ASSERT_TRUE(db.ok());
  auto conn = duck::Connection::Make(*db);
  ASSERT_TRUE(conn.ok());
  QueryLimits limits;
  limits.memory_limit = "lots";
  Status s = LockDownDatabase(*conn, limits);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("SET memory_limit = 'lots'"), std::string::npos) << s.message();
}

// ---- layer 2: allowed ------------------------------------------------------------------

struct AllowedCase {
  const char* name;
  const char* sql;
  std::vector<std::string> relations;  // what CheckReadOnlyQuery reports
};

void PrintTo(const AllowedCase& c, std::ostream* os) { *os << c.sql; }

class AllowedQueryTest : public QueryGuardTest, public ::testing::WithParamInterface<AllowedCase> {};

TEST_P(AllowedQueryTest, PassesTheCheckAndRuns) {
  const AllowedCase& c = GetParam();
  auto r = RunReadOnlyQuery(*conn_, c.sql, relations_, kTimeout);
  ASSERT_TRUE(r.ok()) << c.sql << ": " << r.status().ToString();
  EXPECT_EQ(r->relations, c.relations);
  EXPECT_GT(r->result.row_count(), 0u);
  ExpectViewsWork();
}

const AllowedCase kAllowedCases[] = {
    {"Plain", "SELECT count(*) FROM pageviews", {"pageviews"}},
    {"FromFirst", "FROM pageviews SELECT count(*)", {"pageviews"}},
    {"CaseInsensitive", "SELECT count(*) FROM PageViews", {"pageviews"}},
    {"Quoted", "SELECT count(*) FROM \"pageviews\" AS p", {"pageviews"}},
    {"Join",
     "SELECT u.name, count(*) FROM pageviews p JOIN users u ON p.user_id = u.user_id GROUP BY ALL ORDER BY 1",
     {"pageviews", "users"}},
    {"Cte", "WITH top AS (SELECT url, count(*) AS n FROM pageviews GROUP BY url) SELECT * FROM top ORDER BY n DESC",
     {"pageviews"}},
    {"CteChain", "WITH a AS (SELECT * FROM pageviews), b AS (SELECT * FROM a) SELECT count(*) FROM b", {"pageviews"}},
    {"MaterializedCte",
     "WITH a AS MATERIALIZED (SELECT * FROM users), b AS (SELECT * FROM a) SELECT count(*) FROM b, a", {"users"}},
    {"CteShadowsADataset", "WITH pageviews AS (SELECT 1 AS x) SELECT * FROM pageviews", {}},
    {"RecursiveCte", "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 5) SELECT sum(n) FROM r",
     {}},
    {"SubqueryInFrom", "SELECT avg(c) FROM (SELECT url, count(*) AS c FROM pageviews GROUP BY url)", {"pageviews"}},
    {"SubqueryInWhere",
     "SELECT count(*) FROM pageviews WHERE user_id IN (SELECT user_id FROM users WHERE name = 'user1')",
     {"pageviews", "users"}},
    {"LateralJoin",
     "SELECT u.name, x.n FROM users u, LATERAL (SELECT count(*) AS n FROM pageviews p WHERE p.user_id = u.user_id) x",
     {"users", "pageviews"}},
    {"Window",
     "SELECT id, url FROM pageviews QUALIFY row_number() OVER (PARTITION BY url ORDER BY id) = 1", {"pageviews"}},
    {"Range", "SELECT sum(i) FROM range(10) t(i)", {}},
    {"GeneratorsAndUnnest", "SELECT * FROM generate_series(1, 3) g, unnest([1, 2]) u", {}},
    {"Union", "SELECT url FROM pageviews UNION SELECT name FROM users", {"pageviews", "users"}},
    {"Values", "SELECT * FROM (VALUES (1, 'a')) v(x, y)", {}},
    {"Describe", "DESCRIBE pageviews", {"pageviews"}},
    {"Summarize", "SUMMARIZE users", {"users"}},
    {"PivotWithInList", "PIVOT pageviews ON url IN ('page0', 'page1') USING count(*)", {"pageviews"}},
    {"LiteralMentioningReadCsv", "SELECT 'read_csv(''/etc/passwd'')' AS s FROM users LIMIT 1", {"users"}},
    {"LineCommentHidesDrop", "SELECT count(*) FROM pageviews -- ; DROP VIEW pageviews", {"pageviews"}},
    {"BlockCommentHidesDrop", "SELECT count(*) FROM pageviews /* ; DROP VIEW users */", {"pageviews"}},
};

std::string AllowedName(const ::testing::TestParamInfo<AllowedCase>& param) { return param.param.name; }

INSTANTIATE_TEST_SUITE_P(QueryGuard, AllowedQueryTest, ::testing::ValuesIn(kAllowedCases), AllowedName);

// ---- layer 2: hostile ------------------------------------------------------------------

struct HostileCase {
  const char* name;
  const char* sql;               // {root}, {tmp}, {outside} expanded
  const char* refusal;           // in CheckReadOnlyQuery's message
  bool layer_one_blocks;         // executed directly on the locked-down connection, it fails too
  const char* must_not_exist = nullptr;  // a file the statement would create
};

void PrintTo(const HostileCase& c, std::ostream* os) { *os << c.sql; }

class HostileQueryTest : public QueryGuardTest, public ::testing::WithParamInterface<HostileCase> {};

TEST_P(HostileQueryTest, IsRefusedByTheCheck) {
  const HostileCase& c = GetParam();
  std::string sql = Expand(c.sql);
  auto r = RunReadOnlyQuery(*conn_, sql, relations_, kTimeout);
  ASSERT_FALSE(r.ok()) << sql;
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status().ToString();
  EXPECT_NE(r.status().message().find(c.refusal), std::string::npos)
      << sql << "\n  refused with: " << r.status().message() << "\n  expected to mention: " << c.refusal;
  ExpectViewsWork();
  if (c.must_not_exist != nullptr) {
    EXPECT_FALSE(fs::exists(Expand(c.must_not_exist)));
  }
}

// The same cases executed directly, without the statement check: those marked kL1 fail.
class LayerOneTest : public QueryGuardTest, public ::testing::WithParamInterface<HostileCase> {};

TEST_P(LayerOneTest, AloneBlocksIt) {
  const HostileCase& c = GetParam();
  std::string sql = Expand(c.sql);
  EXPECT_FALSE(conn_->Execute(sql).ok()) << sql;
  if (c.must_not_exist != nullptr) {
    EXPECT_FALSE(fs::exists(Expand(c.must_not_exist)));
  }
}

constexpr const char* kNotSelect = "only a single SELECT query is allowed";
constexpr bool kL1 = true;   // layer 1 blocks it as well
constexpr bool kL2 = false;  // only layer 2 does

const HostileCase kHostileCases[] = {
    // Reading other files.
    {"ReadCsvEtcPasswd", "SELECT * FROM read_csv('/etc/passwd')", "table function read_csv is not allowed", kL1},
    {"ReadCsvAuto", "SELECT * FROM read_csv_auto('{tmp}/secret.csv')", "read_csv_auto", kL1},
    {"ReadText", "SELECT * FROM read_text('/etc/passwd')", "read_text", kL1},
    {"ReadBlob", "SELECT * FROM read_blob('/etc/hostname')", "read_blob", kL1},
    {"ReadJson", "SELECT * FROM read_json('/etc/passwd')", "read_json", kL1},
    {"ReplacementScanEtcPasswd", "SELECT * FROM '/etc/passwd'", "table /etc/passwd is not allowed", kL1},
    {"ReplacementScanOutsideParquet", "SELECT * FROM '{outside}'", "outside.parquet", kL1},
    {"ReplacementScanCsv", "SELECT * FROM '{tmp}/secret.csv'", "secret.csv", kL1},
    {"ReadParquetOutside", "SELECT * FROM read_parquet('{outside}')", "read_parquet", kL1},
    {"GlobTempDirectory", "SELECT * FROM glob('{spill}/*')", "glob", kL1},
    {"ReadParquetDotDot", "SELECT * FROM read_parquet('{root}/../outside.parquet')", "read_parquet", kL1},
    // Layer 1 admits the root, but only the views may read it.
    {"ReadParquetInsideRoot", "SELECT * FROM read_parquet('{root}/pageviews/part-0.parquet')", "read_parquet", kL2},
    {"ParquetMetadata", "SELECT * FROM parquet_metadata('{outside}')", "parquet_metadata", kL1},
    {"Glob", "SELECT * FROM glob('/*')", "table function glob", kL1},
    {"SniffCsv", "SELECT * FROM sniff_csv('/etc/passwd')", "sniff_csv", kL1},
    // Writing files.
    {"CopyToOutside", "COPY pageviews TO '{tmp}/stolen.csv'", kNotSelect, kL1, "{tmp}/stolen.csv"},
    {"CopyIntoTheRoot", "COPY (SELECT 1) TO '{root}/pageviews/evil.parquet' (FORMAT parquet)", kNotSelect, kL2,
     "{root}/pageviews/evil.parquet"},
    {"CopyIntoTempDirectory", "COPY (SELECT 1) TO '{spill}/x.csv'", kNotSelect, kL1, "{spill}/x.csv"},
    {"ExportDatabase", "EXPORT DATABASE '{tmp}/export'", kNotSelect, kL1, "{tmp}/export"},
    {"AttachFile", "ATTACH '{tmp}/x.db' AS x", kNotSelect, kL1, "{tmp}/x.db"},
    {"AttachInsideRoot", "ATTACH '{root}/x.db' AS x", kNotSelect, kL2, "{root}/x.db"},
    {"AttachMemory", "ATTACH ':memory:' AS m", kNotSelect, kL2},
    // Extensions and settings.
    {"InstallHttpfs", "INSTALL httpfs", kNotSelect, kL1},
    {"LoadHttpfs", "LOAD httpfs", kNotSelect, kL1},
    {"SetThreads", "SET threads = 1", kNotSelect, kL1},
    {"SetExternalAccess", "SET enable_external_access = true", kNotSelect, kL1},
    {"ResetMemoryLimit", "RESET memory_limit", kNotSelect, kL1},
    {"PragmaSetting", "PRAGMA threads = 1", kNotSelect, kL1},
    {"PragmaDatabaseList", "PRAGMA database_list", kNotSelect, kL2},
    {"SetVariable", "SET VARIABLE x = 1", kNotSelect, kL2},
    {"CurrentSetting", "SELECT current_setting('allowed_directories')", "function current_setting", kL2},
    {"DuckdbSettings", "SELECT * FROM duckdb_settings()", "table function duckdb_settings", kL2},
    {"PgSettings", "SELECT * FROM pg_settings", "table pg_settings", kL2},
    {"InformationSchema", "SELECT * FROM information_schema.tables", "qualified name information_schema.tables", kL2},
    {"SystemCatalog", "SELECT * FROM system.main.duckdb_tables", "qualified name system.main.duckdb_tables", kL2},
    {"QualifiedView", "SELECT * FROM temp.main.pageviews", "qualified name temp.main.pageviews", kL2},
    {"ShowTables", "SHOW TABLES", "SHOW", kL2},
    {"DescribeCatalogView", "DESCRIBE pg_settings", "table pg_settings", kL2},
    {"EnableLogging", "SELECT * FROM enable_logging()", "enable_logging", kL2},
    // Changing the catalog.
    {"CreateTable", "CREATE TABLE t AS SELECT 1", kNotSelect, kL2},
    {"CreateView", "CREATE OR REPLACE TEMP VIEW pageviews AS SELECT 1", kNotSelect, kL2},
    {"CreateMacro", "CREATE MACRO m(x) AS x + 1", kNotSelect, kL2},
    {"Insert", "INSERT INTO pageviews VALUES (1, 'x', 1)", kNotSelect, kL2},
    {"Update", "UPDATE pageviews SET url = 'x'", kNotSelect, kL2},
    {"Delete", "DELETE FROM pageviews", kNotSelect, kL2},
    {"DropView", "DROP VIEW users", kNotSelect, kL2},
    {"Call", "CALL pragma_version()", kNotSelect, kL2},
    {"Explain", "EXPLAIN ANALYZE SELECT * FROM read_csv('/etc/passwd')", kNotSelect, kL1},
    {"DataModifyingCte", "WITH x AS (DELETE FROM users RETURNING *) SELECT * FROM x", kNotSelect, kL2},
    // Two statements, also behind comments.
    {"TwoStatements", "SELECT 1; DROP VIEW users", kNotSelect, kL2},
    {"TwoSelects", "SELECT 1; SELECT * FROM read_text('/etc/passwd')", "2 statements", kL1},
    {"LineCommentThenDrop", "SELECT 1 -- comment\n; DROP VIEW users", kNotSelect, kL2},
    {"BlockCommentThenDrop", "SELECT 1 /* */; DROP VIEW users", kNotSelect, kL2},
    // Table functions hidden deeper in the tree.
    {"HiddenInCte", "WITH x AS (SELECT * FROM read_csv('/etc/passwd')) SELECT * FROM x", "read_csv", kL1},
    {"HiddenInSecondCte", "WITH a AS (SELECT 1), b AS (FROM read_text('/etc/passwd')) SELECT * FROM a, b",
     "read_text", kL1},
    {"HiddenInSubquery", "SELECT * FROM (SELECT * FROM read_text('/etc/passwd'))", "read_text", kL1},
    {"HiddenInLateralJoin", "SELECT * FROM users, LATERAL (SELECT * FROM read_csv('/etc/passwd')) q", "read_csv", kL1},
    {"HiddenInScalarSubqueryInWhere",
     "SELECT * FROM pageviews WHERE url = (SELECT content FROM read_text('/etc/passwd'))", "read_text", kL1},
    {"HiddenInSelectList", "SELECT (SELECT count(*) FROM read_blob('/etc/hostname')) FROM users", "read_blob", kL1},
    {"HiddenInOrderBy", "SELECT count(*) FROM users ORDER BY (SELECT count(*) FROM glob('/*'))", "glob", kL1},
    {"HiddenInUnion", "SELECT url FROM pageviews UNION ALL SELECT content FROM read_text('/etc/passwd')", "read_text",
     kL1},
    {"HiddenInRecursiveCte",
     "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r, read_csv('/etc/passwd') WHERE n < 3) "
     "SELECT * FROM r",
     "read_csv", kL1},
    {"HiddenInTableFunctionArgument", "SELECT * FROM range((SELECT count(*) FROM read_text('/etc/passwd')))",
     "read_text", kL1},
    {"HiddenInPivotSource", "PIVOT (FROM read_csv('/etc/passwd')) ON column0 IN ('x') USING count(*)", "read_csv",
     kL1},
    {"HiddenInDescribe", "DESCRIBE SELECT * FROM read_csv('/etc/passwd')", "read_csv", kL1},
    {"HiddenInExists", "SELECT * FROM users WHERE EXISTS (FROM glob('/*'))", "glob", kL1},
    {"HiddenInJoin", "SELECT * FROM users JOIN read_csv('/etc/passwd') r ON true", "read_csv", kL1},
    {"HiddenInUnnestArgument", "SELECT * FROM unnest((SELECT list(content) FROM read_text('/etc/passwd')))",
     "read_text", kL1},
    {"HiddenInValues", "SELECT * FROM (VALUES ((SELECT content FROM read_text('/etc/passwd'))))", "read_text", kL1},
    {"QuotedUpperCaseFunctionName", "SELECT * FROM \"READ_CSV\"('/etc/passwd')", "read_csv", kL1},
    {"ReplacementScanInsideRoot", "SELECT * FROM '{root}/pageviews/part-0.parquet'", "part-0.parquet", kL2},
    {"TableMacro", "SELECT * FROM duckdb_logs_parsed('QueryLog')", "table function duckdb_logs_parsed", kL2},
    {"QueryTable", "SELECT * FROM query_table('users')", "table function query_table", kL2},
    {"QueryFunction", "SELECT * FROM query('SELECT * FROM read_csv(''/etc/passwd'')')", "table function query", kL1},
    {"JsonExecuteSerializedSql",
     "SELECT * FROM json_execute_serialized_sql(json_serialize_sql('SELECT 1'))", "json_execute_serialized_sql", kL2},
    {"QualifiedRange", "SELECT * FROM system.main.range(3)", "table function range", kL2},
    // CTE names must not hide catalog views: a CTE's body does not see itself or later CTEs.
    {"CteShadowingCatalogView", "WITH pg_settings AS (SELECT * FROM pg_settings) SELECT * FROM pg_settings",
     "table pg_settings", kL2},
    {"RecursiveCteWithoutUnion",
     "WITH RECURSIVE pg_settings AS (SELECT * FROM pg_settings) SELECT * FROM pg_settings", "table pg_settings", kL2},
    {"CteFromAnotherScope", "SELECT * FROM (WITH pg_class AS (SELECT 1) SELECT * FROM pg_class), pg_class",
     "table pg_class", kL2},
    {"LaterCte", "WITH a AS (SELECT * FROM pg_settings), pg_settings AS (SELECT 1) SELECT * FROM a",
     "table pg_settings", kL2},
    {"MaterializedCteShadowing",
     "WITH pg_settings AS MATERIALIZED (SELECT * FROM pg_settings) SELECT * FROM pg_settings", "table pg_settings",
     kL2},
    // Needs DDL (a temporary ENUM type) to find the pivot values.
    {"PivotWithoutInList", "PIVOT pageviews ON url USING count(*)", kNotSelect, kL2},
};

std::string HostileName(const ::testing::TestParamInfo<HostileCase>& param) { return param.param.name; }

std::vector<HostileCase> LayerOneCases() {
  std::vector<HostileCase> out;
  for (const auto& c : kHostileCases) {
    if (c.layer_one_blocks) out.push_back(c);
  }
  return out;
}

INSTANTIATE_TEST_SUITE_P(QueryGuard, HostileQueryTest, ::testing::ValuesIn(kHostileCases), HostileName);
INSTANTIATE_TEST_SUITE_P(QueryGuard, LayerOneTest, ::testing::ValuesIn(LayerOneCases()), HostileName);

TEST_F(QueryGuardTest, RefusalNamesWhatWasRefusedAndTheViews) {
  auto r = CheckReadOnlyQuery(*conn_, "SELECT * FROM read_csv('/etc/passwd')", relations_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "table function read_csv is not allowed: queries read the dataset views (pageviews, users)");
}

TEST_F(QueryGuardTest, NulByteIsRefused) {
  std::string sql("SELECT 1\0; DROP VIEW users", 26);
  auto r = CheckReadOnlyQuery(*conn_, sql, relations_);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("NUL"), std::string::npos) << r.status().message();
  ExpectViewsWork();
}

TEST_F(QueryGuardTest, EmptyQueryIsRefused) {
  for (const char* sql : {"", "   ", "-- nothing", ";"}) {
    auto r = CheckReadOnlyQuery(*conn_, sql, relations_);
    ASSERT_FALSE(r.ok()) << "'" << sql << "'";
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  }
}

TEST_F(QueryGuardTest, SyntaxErrorCarriesDuckDbsMessage) {
  auto r = CheckReadOnlyQuery(*conn_, "SELEC 1", relations_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("syntax error"), std::string::npos) << r.status().message();
}

TEST_F(QueryGuardTest, SetConfigDoesNotExist) {
  // PostgreSQL's way to SET from a SELECT; DuckDB 1.4 has no such function.
  auto r = RunReadOnlyQuery(*conn_, "SELECT set_config('threads', '1', false)", relations_, kTimeout);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("set_config"), std::string::npos) << r.status().message();
  EXPECT_EQ(Scalar("SELECT current_setting('threads')::VARCHAR"), std::optional<std::string>("2"));
}

TEST_F(QueryGuardTest, NoRelationsMeansNoTables) {
  auto r = CheckReadOnlyQuery(*conn_, "SELECT * FROM pageviews", {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "table pageviews is not allowed: queries read the dataset views (none)");
  EXPECT_TRUE(CheckReadOnlyQuery(*conn_, "SELECT 42", {}).ok());
}

// ---- memory limit ----------------------------------------------------------------------

class QueryGuardMemoryTest : public QueryGuardTest {
 protected:
  void SetUp() override {
    QueryLimits limits;
    limits.readable_directories = {root_};
    limits.memory_limit = "64MB";
    limits.threads = 1;
    Open(limits);
  }
};

TEST_F(QueryGuardMemoryTest, BigListRunsOutOfMemory) {
  // 100M BIGINTs are 800 MB.
  auto r = RunReadOnlyQuery(*conn_, "SELECT list(i) FROM range(100000000) t(i)", relations_, kTimeout);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("Out of Memory"), std::string::npos) << r.status().message();
  ExpectViewsWork();
}

TEST_F(QueryGuardMemoryTest, BigSortCannotSpillToDisk) {
  auto r = RunReadOnlyQuery(*conn_, kBigSort, relations_, kTimeout);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("Out of Memory"), std::string::npos) << r.status().message();
  ExpectViewsWork();
}

TEST_F(QueryGuardMemoryTest, TheTempDirectoryIsOff) {
  EXPECT_EQ(Scalar("SELECT current_setting('temp_directory')::VARCHAR"), std::optional<std::string>(""));
}

// With max_temp_directory_size set, the same kind of query spills and succeeds.
class QueryGuardSpillTest : public QueryGuardTest {
 protected:
  void SetUp() override {
    QueryLimits limits;
    limits.readable_directories = {root_};
    limits.memory_limit = "64MB";
    limits.threads = 1;
    limits.max_temp_directory_size = "2GB";
    Open(limits);
  }
};

TEST_F(QueryGuardSpillTest, BigSortSpills) {
  auto r = RunReadOnlyQuery(*conn_, kBigSort, relations_, kTimeout);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->result.GetInt64(0, 0), 10000000);
}

// ---- time limit ------------------------------------------------------------------------

TEST(QueryGuardTimeLimitTest, FormatsTheLimit) {
  EXPECT_EQ(FormatTimeLimit(milliseconds(2000)), "2 s");
  EXPECT_EQ(FormatTimeLimit(milliseconds(300)), "300 ms");
  EXPECT_EQ(FormatTimeLimit(milliseconds(1500)), "1500 ms");
}

TEST_F(QueryGuardTest, LongQueryIsStoppedAtTheDeadline) {
  auto start = std::chrono::steady_clock::now();
  auto r = RunReadOnlyQuery(*conn_, kLongQuery, relations_, milliseconds(300));
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "query exceeded the time limit of 300 ms");
  EXPECT_GE(elapsed, milliseconds(300));
  EXPECT_LT(elapsed, milliseconds(5000));
  // Nothing of the deadline lingers on the connection.
  ExpectViewsWork();
}

TEST_F(QueryGuardTest, DeadlineDoesNotFireOnAFastQuery) {
  auto deadline = QueryDeadline::Start(*conn_, milliseconds(2000));
  ASSERT_TRUE(deadline.ok());
  auto r = conn_->Query("SELECT count(*) FROM pageviews");
  EXPECT_TRUE(r.ok());
  EXPECT_FALSE(deadline->expired());
  EXPECT_TRUE(deadline->Explain(r.status()).ok());
}

TEST_F(QueryGuardTest, DeadlineThatPassedBeforeTheQueryStartedStillStopsIt) {
  // DuckDB drops an interrupt sent while the connection is idle; the deadline repeats it.
  auto deadline = QueryDeadline::Start(*conn_, milliseconds(1));
  ASSERT_TRUE(deadline.ok());
  std::this_thread::sleep_for(milliseconds(100));
  EXPECT_TRUE(deadline->expired());
  auto start = std::chrono::steady_clock::now();
  Status s = conn_->Execute(kLongQuery);
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(5000));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(deadline->Explain(s).message(), "query exceeded the time limit of 1 ms");
}

TEST_F(QueryGuardTest, ExplainKeepsOtherOutcomes) {
  auto deadline = QueryDeadline::Start(*conn_, milliseconds(60000));
  ASSERT_TRUE(deadline.ok());
  EXPECT_TRUE(deadline->Explain(Status::OK()).ok());
  Status other = Status::InvalidArgument("Binder Error: no such column");
  EXPECT_EQ(deadline->Explain(other).message(), other.message());
}

TEST_F(QueryGuardTest, MovedDeadlineStillFires) {
  auto started = QueryDeadline::Start(*conn_, milliseconds(200));
  ASSERT_TRUE(started.ok());
  QueryDeadline deadline = std::move(started).value();
  Status s = conn_->Execute(kLongQuery);
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(deadline.expired());
  EXPECT_EQ(deadline.Explain(s).message(), "query exceeded the time limit of 200 ms");
}

}  // namespace
}  // namespace pqflow::query
