// `pqflow export` from a real PostgreSQL 15 server (started per test by PostgresServer):
// seed 000's schema and paths, splits, --delete-after-export under concurrent inserts,
// crashes of either side, and the errors a user meets first.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "harness.h"
#include "postgres_server.h"

namespace pqflow::testing {
namespace {

using nlohmann::json;

// Seed 000's tables, in Read the Docs' shape: pageviews reference projects and versions;
// projects may belong to an organization.
constexpr const char* kSchemaSql = R"sql(
CREATE TABLE organizations_organization (id serial PRIMARY KEY, slug text NOT NULL);
CREATE TABLE projects_project (id serial PRIMARY KEY, slug text NOT NULL, organization_id int REFERENCES organizations_organization);
CREATE TABLE builds_version (id serial PRIMARY KEY, slug text NOT NULL);
CREATE TABLE analytics_pageview (
  id bigserial PRIMARY KEY, project_id int NOT NULL REFERENCES projects_project, version_id int REFERENCES builds_version,
  path text NOT NULL, full_path text NOT NULL, view_count int NOT NULL, date date NOT NULL, status smallint NOT NULL);
INSERT INTO organizations_organization (slug) VALUES ('acme'), ('globex');
INSERT INTO projects_project (slug, organization_id) VALUES ('docs', 1), ('api', 1), ('blog', 2), ('solo', NULL);
INSERT INTO builds_version (slug) VALUES ('latest'), ('stable');
)sql";

// `n` pageviews per day for the days [first, first + days): every 7th without a version.
std::string InsertPageviewsSql(int n, const std::string& first, int days) {
  return "INSERT INTO analytics_pageview (project_id, version_id, path, full_path, view_count, date, status) "
         "SELECT 1 + i % 4, CASE WHEN i % 7 = 0 THEN NULL ELSE 1 + i % 2 END, '/p/' || (i % 50), "
         "'https://x.org/p/' || (i % 50) || '?q=' || i, 1 + i % 9, DATE '" + first + "' + (i % " + std::to_string(days) +
         "), CASE WHEN i % 10 = 0 THEN 404 ELSE 200 END FROM generate_series(1, " + std::to_string(n) + ") AS s(i)";
}

class PostgresExportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pg_ = PostgresServer::Start();
    pg_->Execute(kSchemaSql);
  }

  // The shipped seed 000 example, pointed at this server and this test's directory.
  std::string WriteConfig(const std::string& query_suffix = "", const std::string& delete_sql = "") {
    std::string text = ReadFile(std::string(PQFLOW_SOURCE_DIR) + "/examples/pageviews_postgres.toml");
    auto replace = [&](const std::string& from, const std::string& to) {
      size_t at = text.find(from);
      EXPECT_NE(at, std::string::npos) << from;
      if (at != std::string::npos) text.replace(at, from.size(), to);
    };
    replace("root = \"./data\"", "root = \"" + dir_.path() + "/data\"");
    replace("# dsn = \"host=db.internal dbname=readthedocs user=analytics\"", "dsn = \"" + pg_->Dsn() + "\"");
    if (!query_suffix.empty()) replace("WHERE pv.date BETWEEN {from} AND {to}\n", "WHERE pv.date BETWEEN {from} AND {to}\n" + query_suffix + "\n");
    if (!delete_sql.empty()) replace("DELETE FROM analytics_pageview WHERE date BETWEEN {from} AND {to}", delete_sql);
    std::string path = dir_ / "pqflow.toml";
    WriteFile(path, text);
    return path;
  }

  CommandResult Export(const std::string& config, const std::vector<std::string>& args) {
    std::vector<std::string> all = {"--config", config, "export", "pageviews"};
    all.insert(all.end(), args.begin(), args.end());
    return Pqflow(all);
  }

  // Runs an export of the slow query and kills the server with SIGKILL while it waits.
  CommandResult ExportWhileTheServerDies(const std::string& config, const std::vector<std::string>& args) {
    std::thread killer([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(1200));
      pg_->Kill(SIGKILL);
    });
    CommandResult r = Export(config, args);
    killer.join();
    return r;
  }

  std::string Data(const std::string& rel) const { return dir_.path() + "/data/" + rel; }
  int64_t PgCount(const std::string& where = "true") const {
    return std::stoll(*pg_->Query("SELECT count(*) FROM analytics_pageview WHERE " + where)[0][0]);
  }
  std::string PgScalar(const std::string& sql) const { return pg_->Query(sql)[0][0].value_or("NULL"); }

  TempDir dir_;
  std::unique_ptr<PostgresServer> pg_;
};

constexpr const char* kDay = "2026-01-15";
constexpr const char* kDayFile = "analytics/pageviews/2026/01/15/pageviews_2026-01-15.parquet";

TEST_F(PostgresExportTest, ExportsADayWithTheSeedSchemaPathsAndSplits) {
  pg_->Execute(InsertPageviewsSql(3000, "2026-01-14", 3));
  std::string config = WriteConfig();
  CommandResult r = Export(config, {"--date", kDay, "--per-project", "--per-organization"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  const std::string day = "date = '2026-01-15'";
  const int64_t rows = PgCount(day);
  ASSERT_EQ(rows, 1000);
  EXPECT_NE(r.out.find("export:parquet file=" + std::string(kDayFile) + " rows=1000"), std::string::npos) << r.out;

  // The day's file equals the day's rows: counts, sums and NULLs computed by PostgreSQL.
  std::string file = Data(kDayFile);
  json hy = ReadWithHyparquet({file});
  EXPECT_EQ(hy["total_rows"], rows);
  EXPECT_EQ(hy["columns"]["id"]["sum"], PgScalar("SELECT sum(id) FROM analytics_pageview WHERE " + day));
  EXPECT_EQ(hy["columns"]["view_count"]["sum"].dump(), PgScalar("SELECT sum(view_count) FROM analytics_pageview WHERE " + day));
  EXPECT_EQ(hy["columns"]["version_id"]["nulls"].dump(), PgScalar("SELECT count(*) FILTER (WHERE version_id IS NULL) FROM analytics_pageview WHERE " + day));
  EXPECT_EQ(hy["columns"]["status"]["sum"].dump(), PgScalar("SELECT sum(status) FROM analytics_pageview WHERE " + day));
  // The seed's exact schema, in order; org_slug only shapes the per-organization paths.
  std::vector<std::string> names;
  for (const auto& col : hy["files"][0]["schema"]) names.push_back(col["name"]);
  EXPECT_EQ(names, (std::vector<std::string>{"id", "project_id", "project_slug", "version_id", "version_slug", "path",
                                             "full_path", "view_count", "date", "status"}));
  EXPECT_EQ(DuckScalar("SELECT string_agg(name || ':' || type, ',' ORDER BY name) "
                       "FROM parquet_schema('" + file + "') WHERE num_children IS NULL"),
            "date:INT32,full_path:BYTE_ARRAY,id:INT64,path:BYTE_ARRAY,project_id:INT32,project_slug:BYTE_ARRAY,"
            "status:INT32,version_id:INT32,version_slug:BYTE_ARRAY,view_count:INT32");
  EXPECT_EQ(DuckScalar("SELECT string_agg(DISTINCT compression, ',') FROM parquet_metadata('" + file + "')"), "SNAPPY");

  // Per-project and per-organization copies partition the day exactly.
  for (const auto& [split, key, sql_key] : std::vector<std::tuple<std::string, std::string, std::string>>{
           {"project", "project_slug", "p.slug"}, {"org", "org_slug", "coalesce(o.slug, '__HIVE_DEFAULT_PARTITION__')"}}) {
    auto files = ListFiles(Data("analytics/pageviews/" + split), ".parquet");
    auto groups = pg_->Query("SELECT " + sql_key + ", count(*) FROM analytics_pageview pv JOIN projects_project p ON p.id = pv.project_id "
                             "LEFT JOIN organizations_organization o ON o.id = p.organization_id WHERE pv." + day + " GROUP BY 1 ORDER BY 1");
    ASSERT_EQ(files.size(), groups.size()) << split;
    int64_t total = 0;
    for (const auto& g : groups) {
      std::string f = Data("analytics/pageviews/" + split + "/" + *g[0] + "/2026/01/15/pageviews_2026-01-15.parquet");
      EXPECT_EQ(DuckScalar("SELECT count(*) FROM read_parquet('" + f + "')"), *g[1]) << f;
      if (split == "project") {
        EXPECT_EQ(DuckScalar("SELECT string_agg(DISTINCT project_slug, ',') FROM read_parquet('" + f + "')"), *g[0]);
      }
      total += std::stoll(*g[1]);
    }
    EXPECT_EQ(total, rows) << split;
  }
  EXPECT_EQ(PgCount(), 3000) << "nothing deleted without --delete-after-export";

  // A re-run skips the complete day without reading the source.
  CommandResult again = Export(config, {"--date", kDay});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find(std::string(kDayFile) + " already exists, skipping"), std::string::npos) << again.out;

  // A split asked for after the day was exported is still written; the main file is kept.
  ASSERT_EQ(Export(config, {"--date", "2026-01-16"}).exit_code, 0);
  EXPECT_TRUE(ListFiles(Data("analytics/pageviews/project"), "2026-01-16.parquet").empty());
  CommandResult split_later = Export(config, {"--date", "2026-01-16", "--per-project"});
  ASSERT_EQ(split_later.exit_code, 0) << split_later.err;
  EXPECT_NE(split_later.out.find("pageviews_2026-01-16.parquet already exists, skipping"), std::string::npos)
      << split_later.out;
  EXPECT_EQ(ListFiles(Data("analytics/pageviews/project"), "2026-01-16.parquet").size(), 4u);
}

TEST_F(PostgresExportTest, DeleteAfterExportIsExactUnderConcurrentInserts) {
  pg_->Execute(InsertPageviewsSql(20000, kDay, 1));
  const int64_t before = PgCount();
  std::string config = WriteConfig();
  std::atomic<bool> stop{false};
  std::atomic<int64_t> inserted{0};
  std::thread writer([&] {
    while (!stop) {
      pg_->Execute(InsertPageviewsSql(50, kDay, 1));
      inserted += 50;
    }
  });
  CommandResult r = Export(config, {"--date", kDay, "--delete-after-export"});
  stop = true;
  writer.join();
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  int64_t in_parquet = std::stoll(DuckScalar("SELECT count(*) FROM read_parquet('" + Data(kDayFile) + "')"));
  EXPECT_GE(in_parquet, before);
  EXPECT_EQ(PgCount() + in_parquet, before + inserted.load());
  EXPECT_NE(r.out.find("deleted_from_source=" + std::to_string(in_parquet)), std::string::npos) << r.out;
  // No id is in both places: the snapshot exported and deleted the older rows only.
  int64_t max_exported = std::stoll(DuckScalar("SELECT max(id) FROM read_parquet('" + Data(kDayFile) + "')"));
  if (PgCount() > 0) {
    EXPECT_GT(std::stoll(PgScalar("SELECT min(id) FROM analytics_pageview")), max_exported);
  }

  // The next run picks up the late rows as a second file of the day and empties the day.
  const int64_t late = PgCount();
  CommandResult next = Export(config, {"--date", kDay, "--delete-after-export"});
  ASSERT_EQ(next.exit_code, 0) << next.err << next.out;
  EXPECT_EQ(PgCount(), 0);
  auto files = ListFiles(Data("analytics/pageviews/2026/01/15"), ".parquet");
  ASSERT_EQ(files.size(), late > 0 ? 2u : 1u);
  EXPECT_EQ(std::stoll(DuckScalar("SELECT count(*) FROM read_parquet('" + Data("analytics/pageviews/2026/01/15/*.parquet") + "')")),
            before + inserted.load());
  EXPECT_EQ(DuckScalar("SELECT count(*) - count(DISTINCT id) FROM read_parquet('" + Data("analytics/pageviews/2026/01/15/*.parquet") + "')"), "0");
  CommandResult validate = Pqflow({"--config", config, "validate", "pageviews"});
  EXPECT_EQ(validate.exit_code, 0) << validate.out << validate.err;
}

TEST_F(PostgresExportTest, AFailedDeleteLeavesTheRowsAndTheNextRunReplacesTheFile) {
  pg_->Execute(InsertPageviewsSql(900, "2026-01-14", 3));
  // A DELETE that would remove more than was exported (every day): refused and rolled back.
  std::string bad = WriteConfig("", "DELETE FROM analytics_pageview");
  CommandResult r = Export(bad, {"--date", kDay, "--delete-after-export"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("not deleting from PostgreSQL"), std::string::npos) << r.err;
  EXPECT_EQ(PgCount(), 900);
  // The published file's transaction did not commit: a correct run replaces it, no duplicates.
  std::string good = WriteConfig();
  CommandResult fixed = Export(good, {"--date", kDay, "--delete-after-export"});
  ASSERT_EQ(fixed.exit_code, 0) << fixed.err << fixed.out;
  // Under a new name ("-0001"): the refused run's file went only after the new manifest was in place.
  EXPECT_EQ(ListFiles(Data("analytics/pageviews/2026/01/15"), ".parquet"),
            std::vector<std::string>{"pageviews_2026-01-15-0001.parquet"});
  EXPECT_EQ(DuckScalar("SELECT count(*) FROM read_parquet('" + Data("analytics/pageviews/2026/01/15/*.parquet") + "')"),
            "300");
  EXPECT_EQ(PgCount(), 600);
  EXPECT_EQ(PgCount("date = '2026-01-15'"), 0);
}

// A split copy written by a run whose DELETE was refused, then not rewritten by the next
// (committed) run, must not be replaced by late rows alone later: its rows are gone from the
// source.
TEST_F(PostgresExportTest, SplitOfARefusedRunSurvivesALaterCommittedRunWithoutIt) {
  pg_->Execute(InsertPageviewsSql(300, kDay, 1));
  pg_->Execute(InsertPageviewsSql(10, "2026-01-20", 1));  // so that a DELETE of everything over-deletes
  CommandResult refused = Export(WriteConfig("", "DELETE FROM analytics_pageview"), {"--date", kDay, "--per-project", "--delete-after-export"});
  ASSERT_NE(refused.exit_code, 0);
  std::string good = WriteConfig();
  CommandResult main_only = Export(good, {"--date", kDay, "--delete-after-export"});
  ASSERT_EQ(main_only.exit_code, 0) << main_only.err;
  EXPECT_EQ(PgCount(), 10);
  pg_->Execute(InsertPageviewsSql(40, kDay, 1));  // late rows
  CommandResult late = Export(good, {"--date", kDay, "--per-project", "--delete-after-export"});
  ASSERT_EQ(late.exit_code, 0) << late.err;
  EXPECT_EQ(PgCount(), 10);
  EXPECT_EQ(DuckScalar("SELECT count(*) FROM read_parquet('" + Data("analytics/pageviews/2026/01/15/*.parquet") + "')"), "340");
  EXPECT_EQ(DuckScalar("SELECT count(*) FROM read_parquet('" + Data("analytics/pageviews/project/*/2026/01/15/*.parquet") + "')"),
            "340");
  EXPECT_EQ(DuckScalar("SELECT count(*) - count(DISTINCT id) FROM read_parquet('" +
                       Data("analytics/pageviews/project/*/2026/01/15/*.parquet") + "')"),
            "0");
}

// A query that waits before its first row, so that a test can kill something mid-export.
constexpr const char* kSlowQuery = "AND (SELECT true FROM pg_sleep(3))";

TEST_F(PostgresExportTest, ServerKilledMidExportDeletesNothingAndLeavesNoFiles) {
  pg_->Execute(InsertPageviewsSql(600, "2026-01-14", 3));
  std::string config = WriteConfig(kSlowQuery);
  CommandResult r = ExportWhileTheServerDies(config, {"--date", kDay, "--delete-after-export"});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.err.find("PostgreSQL"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find(pg_->password()), std::string::npos) << "the password must never be printed";
  EXPECT_TRUE(ListFiles(Data("analytics"), ".parquet").empty());
  pg_->Restart();
  EXPECT_EQ(PgCount(), 600);
  // A re-run completes the day.
  CommandResult again = Export(WriteConfig(), {"--date", kDay, "--delete-after-export"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(DuckScalar("SELECT count(*) FROM read_parquet('" + Data(kDayFile) + "')"), "200");
  EXPECT_EQ(PgCount(), 400);
}

// Without splits or deletion the rows stream from PostgreSQL into the Parquet writer; a server
// that dies mid-stream fails the run with PostgreSQL's reason and leaves nothing behind.
TEST_F(PostgresExportTest, ServerKilledMidStreamLeavesNoFiles) {
  pg_->Execute(InsertPageviewsSql(600, "2026-01-14", 3));
  std::string config = WriteConfig(kSlowQuery);
  CommandResult r = ExportWhileTheServerDies(config, {"--date", kDay});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.err.find("PostgreSQL"), std::string::npos) << r.err;
  EXPECT_TRUE(ListFiles(Data("analytics"), ".parquet").empty());
  EXPECT_TRUE(ListFiles(Data("analytics"), ".json").empty());
  pg_->Restart();
  CommandResult again = Export(WriteConfig(), {"--date", kDay});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(DuckScalar("SELECT count(*) FROM read_parquet('" + Data(kDayFile) + "')"), "200");
}

TEST_F(PostgresExportTest, ExporterKilledMidExportDeletesNothing) {
  pg_->Execute(InsertPageviewsSql(600, "2026-01-14", 3));
  std::string config = WriteConfig(kSlowQuery);
  pid_t pid = StartPqflow({"--config", config, "export", "pageviews", "--date", kDay, "--delete-after-export"});
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(ListFiles(Data("analytics"), ".parquet").empty());
  // The server ends the dead client's transaction; nothing was deleted.
  for (int i = 0; i < 50 && PgScalar("SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'COPY%'") != "0"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(PgCount(), 600);
  CommandResult again = Export(WriteConfig(), {"--date", kDay, "--delete-after-export"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(PgCount(), 400);
}

TEST_F(PostgresExportTest, AnEmptyDayIsNotAnError) {
  pg_->Execute(InsertPageviewsSql(10, "2026-01-10", 1));
  std::string config = WriteConfig();
  CommandResult r = Export(config, {"--date", kDay, "--delete-after-export"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_NE(r.out.find("rows_read=0 written=0"), std::string::npos) << r.out;
  EXPECT_EQ(PgCount(), 10);
  EXPECT_TRUE(ListFiles(Data("analytics"), ".parquet").empty());
}

TEST_F(PostgresExportTest, HistoricalExportsEveryDateAndResumes) {
  pg_->Execute(InsertPageviewsSql(500, "2026-01-10", 5));
  std::string config = WriteConfig();
  CommandResult r = Export(config, {"--historical"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_EQ(ListFiles(Data("analytics/pageviews"), ".parquet").size(), 5u);
  EXPECT_NE(r.out.find("rows_read=500 written=500"), std::string::npos) << r.out;
  CommandResult again = Export(config, {"--historical"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("written=0"), std::string::npos) << again.out;
  EXPECT_NE(again.out.find("skipped=500"), std::string::npos) << again.out;
}

TEST_F(PostgresExportTest, ClearErrors) {
  // Wrong password: the server's reason, never the password.
  std::string config = WriteConfig();
  std::string text = ReadFile(config);
  std::string wrong = text;
  wrong.replace(wrong.find("password=" + pg_->password()), ("password=" + pg_->password()).size(), "password=not-it");
  WriteFile(config, wrong);
  CommandResult r = Export(config, {"--date", kDay});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("password authentication failed"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("not-it"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("port=" + std::to_string(pg_->port())), std::string::npos) << r.err;

  // Nothing listening.
  std::string dead = text;
  dead.replace(dead.find("port=" + std::to_string(pg_->port())), ("port=" + std::to_string(pg_->port())).size(), "port=1");
  WriteFile(config, dead);
  r = Export(config, {"--date", kDay});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("cannot connect to PostgreSQL"), std::string::npos) << r.err;

  // Flags that make no sense for the dataset.
  WriteFile(config, text);
  r = Export(config, {"--input", "x.csv"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--input does not apply"), std::string::npos) << r.err;

  // A missing table, named.
  WriteFile(config, text);
  pg_->Execute("DROP TABLE analytics_pageview");
  r = Export(config, {"--date", kDay});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("relation \"analytics_pageview\" does not exist"), std::string::npos) << r.err;
  EXPECT_TRUE(ListFiles(Data("analytics"), ".parquet").empty());
}

// Every supported PostgreSQL type through the real binary, values checked against
// PostgreSQL's own text output.
TEST_F(PostgresExportTest, TypeMapping) {
  pg_->Execute(R"sql(
CREATE TABLE typed (i2 smallint, i4 integer, i8 bigint, n numeric(12,3), r real, d double precision, b boolean,
  t text, v varchar(20), bin bytea, day date, ts timestamp, tstz timestamptz, u uuid, ip inet, j json, jb jsonb);
INSERT INTO typed VALUES
  (-32768, 2147483647, -9223372036854775808, -12345.678, 1.5, -2.25, true, 'héllo', 'v', '\x00ff10', '2026-01-15',
   '2026-01-15 10:11:12.345678', '2026-01-15 23:59:59.999999+00', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
   '192.168.0.1/24', '{"a": [1, 2]}', '{"b": true}'),
  (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '2026-01-15', NULL, NULL, NULL, NULL, NULL, NULL);
)sql");
  std::string config = dir_ / "typed.toml";
  WriteFile(config, "[storage]\nroot = \"" + dir_.path() + "/data\"\n[datasets.typed]\nlayout = \"typed/{date}.parquet\"\n"
                    "time_column = \"day\"\n[datasets.typed.source]\nformat = \"postgres\"\ndsn = \"" + pg_->Dsn() +
                    "\"\ntable = \"typed\"\n" +
                    [] {
                      std::string cols;
                      for (const auto& [n, t] : std::vector<std::pair<std::string, std::string>>{
                               {"i2", "int16"}, {"i4", "int32"}, {"i8", "int64"}, {"n", "decimal(12,3)"}, {"r", "float"},
                               {"d", "double"}, {"b", "boolean"}, {"t", "string"}, {"v", "string"}, {"bin", "binary"},
                               {"day", "date"}, {"ts", "timestamp"}, {"tstz", "timestamp_ms"}, {"u", "uuid"},
                               {"ip", "string"}, {"j", "json"}, {"jb", "json"}}) {
                        cols += "[[datasets.typed.columns]]\nname = \"" + n + "\"\ntype = \"" + t + "\"\n";
                      }
                      return cols;
                    }());
  CommandResult r = Pqflow({"--config", config, "export", "typed", "--date", kDay});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  std::string f = Data("typed/2026-01-15.parquet");
  EXPECT_EQ(DuckScalar("SELECT concat_ws('|', i2, i4, i8, n, r, d, b, t, v, hex(bin), day, ts::VARCHAR, epoch_ms(tstz), u, ip, j, jb) "
                       "FROM read_parquet('" + f + "') WHERE i2 IS NOT NULL"),
            "-32768|2147483647|-9223372036854775808|-12345.678|1.5|-2.25|true|héllo|v|00FF10|2026-01-15|"
            "2026-01-15 10:11:12.345678+00|1768521599999|a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11|192.168.0.1/24|"
            "{\"a\": [1, 2]}|{\"b\": true}");
  EXPECT_EQ(DuckScalar("SELECT count(*) FROM read_parquet('" + f + "') WHERE i2 IS NULL AND i8 IS NULL AND n IS NULL AND "
                       "u IS NULL AND jb IS NULL AND bin IS NULL AND tstz IS NULL"),
            "1");
  json hy = ReadWithHyparquet({f}, true);
  EXPECT_EQ(hy["total_rows"], 2);
  EXPECT_EQ(hy["columns"]["u"]["min"], "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
  EXPECT_EQ(hy["columns"]["n"]["sum"], "-12345.678");

  // A type that cannot be stored as declared is refused up front, naming the column.
  std::string text = ReadFile(config);
  text.replace(text.find("name = \"ip\"\ntype = \"string\""), std::string("name = \"ip\"\ntype = \"string\"").size(),
               "name = \"ip\"\ntype = \"int32\"");
  WriteFile(config, text);
  CommandResult bad = Pqflow({"--config", config, "export", "typed", "--date", "2026-01-16"});
  EXPECT_EQ(bad.exit_code, 2) << "a schema that does not fit the source is a configuration error";
  EXPECT_NE(bad.err.find("\"ip\""), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find("inet"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace pqflow::testing
