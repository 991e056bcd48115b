// `pqflow export` end to end: real binary, real files, two independent Parquet readers.
#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "core/crypto.h"
#include "harness.h"

namespace pqflow::testing {
namespace {

using nlohmann::json;

// A pageviews-like dataset read from CSV; `extra` is appended to the dataset table.
std::string PageviewsConfig(const std::string& codec = "zstd", const std::string& extra = "") {
  return R"toml(
[storage]
root = "data"

[datasets.pv]
layout = "analytics/pageviews/{YYYY}/{MM}/{DD}/pageviews_{YYYY-MM-DD}.parquet"
time_column = "date"
compression = ")toml" + codec + R"toml("
)toml" + extra + R"toml(
[datasets.pv.source]
format = "csv"
path = "in/pageviews_{date}.csv"

[datasets.pv.splits.project]
layout = "analytics/pageviews/project/{project_slug}/{YYYY}/{MM}/{DD}/pageviews_{YYYY-MM-DD}.parquet"

[[datasets.pv.columns]]
name = "id"
type = "int64"
nullable = false
[[datasets.pv.columns]]
name = "project_slug"
type = "string"
nullable = false
[[datasets.pv.columns]]
name = "view_count"
type = "int32"
nullable = false
[[datasets.pv.columns]]
name = "price"
type = "decimal(10,2)"
[[datasets.pv.columns]]
name = "visitor"
type = "uuid"
[[datasets.pv.columns]]
name = "date"
type = "date"
nullable = false
)toml";
}

// [[datasets.pv.columns]] entries for (name, type) pairs, all nullable.
std::string ColumnsToml(const std::vector<std::pair<std::string, std::string>>& columns) {
  std::string out;
  for (const auto& [name, type] : columns) {
    out += "[[datasets.pv.columns]]\nname = \"" + name + "\"\ntype = \"" + type + "\"\n";
  }
  return out;
}

// n rows over `days` days starting 2026-01-13; id i has view_count i % 7 + 1.
std::string PageviewsCsv(int n, int first_id = 1, int days = 3) {
  std::string csv = "id,project_slug,view_count,price,visitor,date\n";
  for (int i = first_id; i < first_id + n; ++i) {
    char uuid[64];
    std::snprintf(uuid, sizeof uuid, "00000000-0000-4000-8000-%012d", i);
    csv += std::to_string(i) + ",proj-" + std::to_string(i % 5) + "," + std::to_string(i % 7 + 1) + "," +
           (i % 10 == 0 ? "" : std::to_string(i % 100) + ".25") + "," + uuid + ",2026-01-" +
           std::to_string(13 + i % days) + "\n";
  }
  return csv;
}

int64_t ExpectedViews(int n, int first_id = 1) {
  int64_t s = 0;
  for (int i = first_id; i < first_id + n; ++i) s += i % 7 + 1;
  return s;
}

class ExportTest : public ::testing::Test {
 protected:
  void SetUp() override { WriteFile(dir_ / "pqflow.toml", PageviewsConfig()); }
  CommandResult Export(std::vector<std::string> args) {
    args.insert(args.begin(), {"--config", dir_ / "pqflow.toml", "export", "pv"});
    return Pqflow(args, dir_.path());
  }
  std::string Data(const std::string& rel = "") const { return dir_ / ("data/" + rel); }
  // "rows/views" of pv as `pqflow query` answers.
  std::string QueryRowsAndViews() {
    CommandResult r = Pqflow({"--config", dir_ / "pqflow.toml", "query", "--format", "csv",
                              "SELECT count(*) || '/' || sum(view_count) AS r FROM pv"},
                             dir_.path());
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out.substr(r.out.find('\n') + 1, r.out.find_last_not_of('\n') - r.out.find('\n'));
  }
  TempDir dir_;
};

TEST_F(ExportTest, CsvReadBackByDuckDbAndHyparquetWithExactCountsAndSums) {
  WriteFile(dir_ / "in/all.csv", PageviewsCsv(3000));
  CommandResult r = Export({"--input", dir_ / "in/all.csv", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  json report = json::parse(r.out);
  EXPECT_EQ(report["rows"]["read"], 3000);
  EXPECT_EQ(report["rows"]["written"], 3000);
  EXPECT_TRUE(report["rows"]["balanced"].get<bool>());

  std::vector<std::string> files = ListFiles(Data("analytics/pageviews"), ".parquet");
  ASSERT_EQ(files, (std::vector<std::string>{"2026/01/13/pageviews_2026-01-13.parquet",
                                             "2026/01/14/pageviews_2026-01-14.parquet",
                                             "2026/01/15/pageviews_2026-01-15.parquet"}));
  std::string glob = Data("analytics/pageviews/*/*/*/*.parquet");
  EXPECT_EQ(DuckScalar("SELECT count(*) FROM read_parquet('" + glob + "')"), "3000");
  EXPECT_EQ(DuckScalar("SELECT sum(view_count) FROM read_parquet('" + glob + "')"), std::to_string(ExpectedViews(3000)));
  EXPECT_EQ(DuckScalar("SELECT count(*) FROM read_parquet('" + glob + "') WHERE price IS NULL"), "300");

  json hy = ReadWithHyparquet({Data("analytics/pageviews/2026")});
  EXPECT_EQ(hy["total_rows"], 3000);
  EXPECT_EQ(hy["columns"]["view_count"]["sum"].dump(), json(ExpectedViews(3000)).dump());
  EXPECT_EQ(hy["columns"]["id"]["sum"], std::to_string(3000LL * 3001 / 2));
  EXPECT_EQ(hy["columns"]["price"]["nulls"], 300);
  // Declared column order and Parquet types.
  const json& schema = hy["files"][0]["schema"];
  std::vector<std::string> names;
  for (const auto& c : schema) names.push_back(c["name"]);
  EXPECT_EQ(names, (std::vector<std::string>{"id", "project_slug", "view_count", "price", "visitor", "date"}));
  for (const auto& c : schema) {
    if (c["name"] == "visitor") {
      EXPECT_EQ(c["physical"], "FIXED_LEN_BYTE_ARRAY");
      EXPECT_EQ(c["type_length"], 16);
      EXPECT_EQ(c["logical"], "UUID");
    }
    if (c["name"] == "date") {
      EXPECT_EQ(c["logical"], "DATE");
    }
    if (c["name"] == "price") {
      EXPECT_EQ(c["logical"], "DECIMAL");
    }
  }
  // Each partition has a manifest, and validate agrees with the files.
  EXPECT_EQ(ListFiles(Data("analytics/pageviews"), ".manifest.json").size(), 3u);
  CommandResult v = Pqflow({"--config", dir_ / "pqflow.toml", "validate", "pv"}, dir_.path());
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
}

TEST_F(ExportTest, EveryCodecIsReadableByBothReaders) {
  WriteFile(dir_ / "in/all.csv", PageviewsCsv(500));
  for (std::string codec : {"snappy", "gzip", "zstd", "lz4", "brotli", "uncompressed"}) {
    SCOPED_TRACE(codec);
    WriteFile(dir_ / "pqflow.toml", PageviewsConfig(codec));
    CommandResult r = Export({"--input", dir_ / "in/all.csv", "--overwrite", "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::string expected = codec == "lz4" ? "LZ4_RAW" : codec == "uncompressed" ? "UNCOMPRESSED" : codec;
    for (auto& ch : expected) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    // Each --overwrite writes the day under a name the previous version did not use.
    std::string f = Data("analytics/pageviews/2026/01/14/*.parquet");
    EXPECT_EQ(ListFiles(Data("analytics/pageviews/2026/01/14"), ".parquet").size(), 1u);
    EXPECT_EQ(DuckScalar("SELECT DISTINCT compression FROM parquet_metadata('" + f + "')"), expected);
    json hy = ReadWithHyparquet({Data("analytics/pageviews/2026")});
    EXPECT_EQ(hy["total_rows"], 500);
    EXPECT_EQ(hy["columns"]["view_count"]["sum"].dump(), json(ExpectedViews(500)).dump());
    EXPECT_EQ(DuckScalar("SELECT sum(view_count) FROM read_parquet('" + Data("analytics/pageviews/*/*/*/*.parquet") + "')"),
              std::to_string(ExpectedViews(500)));
  }
}

TEST_F(ExportTest, RerunSkipsCompletePartitionsAndOverwriteReplacesThem) {
  WriteFile(dir_ / "in/pageviews_2026-01-14.csv", PageviewsCsv(100, 1, 1).replace(0, 0, ""));
  // All 100 rows are dated 2026-01-13 (days = 1); name the file after that date.
  std::rename((dir_ / "in/pageviews_2026-01-14.csv").c_str(), (dir_ / "in/pageviews_2026-01-13.csv").c_str());
  CommandResult first = Export({"--date", "2026-01-13"});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  std::string file = Data("analytics/pageviews/2026/01/13/pageviews_2026-01-13.parquet");
  std::string before = ReadFile(file);

  CommandResult again = Export({"--date", "2026-01-13"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("pageviews_2026-01-13.parquet already exists, skipping"), std::string::npos) << again.out;
  EXPECT_EQ(ReadFile(file), before);

  WriteFile(dir_ / "in/pageviews_2026-01-13.csv", PageviewsCsv(40, 1000, 1));
  CommandResult over = Export({"--date", "2026-01-13", "--overwrite"});
  ASSERT_EQ(over.exit_code, 0) << over.err;
  // The new version never reuses a name of the old one (a failed overwrite takes its new
  // files back and leaves the old version whole); the old file is gone.
  EXPECT_EQ(ListFiles(Data("analytics/pageviews/2026/01/13"), ".parquet"),
            std::vector<std::string>{"pageviews_2026-01-13-0001.parquet"});
  file = Data("analytics/pageviews/2026/01/13/pageviews_2026-01-13-0001.parquet");
  EXPECT_EQ(DuckScalar("SELECT count(*) FROM '" + file + "'"), "40");
  EXPECT_EQ(DuckScalar("SELECT min(id) FROM '" + file + "'"), "1000");
  // The next overwrite goes back to the layout's own name.
  CommandResult third = Export({"--date", "2026-01-13", "--overwrite"});
  ASSERT_EQ(third.exit_code, 0) << third.err;
  EXPECT_EQ(ListFiles(Data("analytics/pageviews/2026/01/13"), ".parquet"),
            std::vector<std::string>{"pageviews_2026-01-13.parquet"});
  CommandResult v = Pqflow({"--config", dir_ / "pqflow.toml", "validate", "pv"}, dir_.path());
  EXPECT_EQ(v.exit_code, 0) << v.out;
}

// A manifest that cannot be read is not "no previous version": rewriting the partition
// could leave its old files beside the new ones. The run stops, names it, changes nothing.
TEST_F(ExportTest, AnUnreadableManifestStopsTheRunAndChangesNothing) {
  WriteFile(dir_ / "in/pageviews_2026-01-13.csv", PageviewsCsv(100, 1, 1));
  ASSERT_EQ(Export({"--date", "2026-01-13"}).exit_code, 0);
  WriteFile(dir_ / "in/pageviews_2026-01-13.csv", PageviewsCsv(40, 1000, 1));
  const std::string manifest = Data("analytics/pageviews/2026/01/13/_pageviews_2026-01-13.manifest.json");
  ASSERT_FALSE(ReadFile(manifest).empty());
  WriteFile(manifest, "{ not json");
  const std::vector<std::string> before = ListFiles(Data("analytics/pageviews"));
  const std::string file = Data("analytics/pageviews/2026/01/13/pageviews_2026-01-13.parquet");
  const std::string bytes = ReadFile(file);
  for (const bool overwrite : {false, true}) {
    SCOPED_TRACE(overwrite ? "--overwrite" : "a re-run");
    CommandResult r = overwrite ? Export({"--date", "2026-01-13", "--overwrite"}) : Export({"--date", "2026-01-13"});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.err.find("pageviews_2026-01-13.parquet cannot be read; repair or remove it"), std::string::npos) << r.err;
    EXPECT_EQ(ListFiles(Data("analytics/pageviews")), before);
    EXPECT_EQ(ReadFile(file), bytes);
  }
}

TEST_F(ExportTest, MalformedCsvIsReportedBalancedAndQuarantined) {
  std::string csv = PageviewsCsv(10);
  csv += "11,proj-1,notanumber,1.00,00000000-0000-4000-8000-000000000011,2026-01-13\n";  // line 12
  csv += "12,proj-1,3,1.00,not-a-uuid,2026-01-13\n";                                    // line 13
  csv += "13,proj-1,3\n";                                                               // line 14
  csv += "14,,3,1.00,00000000-0000-4000-8000-000000000014,2026-01-13\n";                // NULL, not nullable
  WriteFile(dir_ / "in/bad.csv", csv);
  CommandResult r = Export({"--input", dir_ / "in/bad.csv", "--json"});
  EXPECT_EQ(r.exit_code, 3) << r.err;  // finished, with rejected rows
  json report = json::parse(r.out);
  EXPECT_EQ(report["rows"]["read"], 14);
  EXPECT_EQ(report["rows"]["written"], 10);
  EXPECT_EQ(report["rows"]["rejected"], 4);
  EXPECT_TRUE(report["rows"]["balanced"].get<bool>());
  std::string rejects = ReadFile(report["rejects_path"].get<std::string>());
  EXPECT_NE(rejects.find("\"line\":12"), std::string::npos) << rejects;
  EXPECT_NE(rejects.find("notanumber"), std::string::npos);
  EXPECT_NE(rejects.find("\"line\":13"), std::string::npos);
  EXPECT_NE(rejects.find("\"line\":14"), std::string::npos);
  EXPECT_NE(rejects.find("project_slug: missing or null"), std::string::npos);
  EXPECT_NE(rejects.find("\"line\":15"), std::string::npos) << rejects;  // the NULL is numbered too
  EXPECT_NE(rejects.find(dir_ / "in/bad.csv"), std::string::npos);
}

TEST_F(ExportTest, RowsBreakingNotNullGetTheirLineNumbersOnBothCsvPaths) {
  // Line numbers as DuckDB's reader counts them: a blank line counts, the newline inside a
  // quoted field does not. Two identical rejected rows take their own lines.
  auto row = [](int id, const std::string& slug) {
    return std::to_string(id) + "," + slug + ",2,1.00,00000000-0000-4000-8000-00000000000" + std::to_string(id % 10) +
           ",2026-01-13\n";
  };
  std::string csv = "id,project_slug,view_count,price,visitor,date\n";  // line 1
  csv += row(1, "proj-1");                                                // 2
  csv += "\n";                                                            // 3
  csv += row(2, "\"multi\nline\"");                                       // 4
  csv += row(3, "");                                                      // 5: NULL slug
  csv += "4,proj-1,x,1.00,00000000-0000-4000-8000-000000000004,2026-01-13\n";  // 6: not a number
  csv += row(5, "");                                                      // 7: NULL slug
  csv += "6,proj-1,2,1.00,00000000-0000-4000-8000-000000000006,\n";        // 8: NULL date
  csv += row(5, "");                                                      // 9: the same as line 7
  csv += row(7, "proj-2");                                                // 10
  WriteFile(dir_ / "in/nulls.csv", csv);
  for (const bool split : {false, true}) {  // streamed into the COPY, or kept in a table first
    SCOPED_TRACE(split ? "with a split" : "one layout");
    std::vector<std::string> args = {"--input", dir_ / "in/nulls.csv", "--json", "--overwrite"};
    if (split) args.insert(args.end(), {"--split-by", "project"});
    CommandResult r = Export(args);
    ASSERT_EQ(r.exit_code, 3) << r.err;
    json report = json::parse(r.out);
    EXPECT_EQ(report["rows"]["written"], 3);
    EXPECT_EQ(report["rows"]["rejected"], 5);
    std::vector<std::pair<int64_t, std::string>> got;
    std::istringstream lines(ReadFile(report["rejects_path"].get<std::string>()));
    for (std::string line; std::getline(lines, line);) {
      json j = json::parse(line);
      got.emplace_back(j["line"].is_number() ? j["line"].get<int64_t>() : -1, j["column"].get<std::string>());
    }
    const std::vector<std::pair<int64_t, std::string>> want = {
        {5, "project_slug"}, {6, "view_count"}, {7, "project_slug"}, {8, "date"}, {9, "project_slug"}};
    EXPECT_EQ(got, want);
  }
}

TEST_F(ExportTest, OnErrorFailWritesNothingAndSkipKeepsNoRejectsFile) {
  WriteFile(dir_ / "in/bad.csv", PageviewsCsv(10) + "11,proj-1,x,1.00,,2026-01-13\n");
  CommandResult fail = Export({"--input", dir_ / "in/bad.csv", "--on-error", "fail"});
  EXPECT_NE(fail.exit_code, 0);
  EXPECT_NE(fail.err.find("bad.csv:12"), std::string::npos) << fail.err;
  EXPECT_TRUE(ListFiles(Data("analytics"), ".parquet").empty());

  CommandResult skip = Export({"--input", dir_ / "in/bad.csv", "--on-error", "skip", "--json"});
  EXPECT_EQ(skip.exit_code, 3);
  json report = json::parse(skip.out);
  EXPECT_EQ(report["rows"]["rejected"], 1);
  EXPECT_TRUE(report["rejects_path"].is_null());
}

TEST_F(ExportTest, MissingAndUnreadableInputsAreClearErrors) {
  CommandResult missing = Export({"--input", dir_ / "in/nope.csv"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("nope.csv does not exist"), std::string::npos) << missing.err;
  WriteFile(dir_ / "in/empty.csv", "");
  CommandResult empty = Export({"--input", dir_ / "in/empty.csv"});
  EXPECT_EQ(empty.exit_code, 2);
  EXPECT_NE(empty.err.find("empty.csv is empty: expected at least the CSV header line"), std::string::npos) << empty.err;
  CommandResult no_date = Export({"--date", "2026-02-01"});
  EXPECT_EQ(no_date.exit_code, 2);
  EXPECT_NE(no_date.err.find("no input files for dataset pv for 2026-02-01"), std::string::npos) << no_date.err;
  CommandResult bad_date = Export({"--date", "2026-02-30"});
  EXPECT_EQ(bad_date.exit_code, 2);
  EXPECT_NE(bad_date.err.find("is not a date"), std::string::npos);
  CommandResult unknown = Pqflow({"--config", dir_ / "pqflow.toml", "export", "nosuch"}, dir_.path());
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.err.find("unknown dataset 'nosuch'"), std::string::npos);
  CommandResult delete_files = Export({"--delete-after-export"});
  EXPECT_EQ(delete_files.exit_code, 2);
  EXPECT_NE(delete_files.err.find("--delete-after-export only applies to PostgreSQL sources"), std::string::npos)
      << delete_files.err;
  CommandResult no_split = Export({"--per-organization"});
  EXPECT_EQ(no_split.exit_code, 2);
  EXPECT_NE(no_split.err.find("dataset pv has no split 'organization' (configured: project)"), std::string::npos)
      << no_split.err;
}

TEST_F(ExportTest, ConfigErrorsNameFileLineAndKey) {
  std::string config = PageviewsConfig();
  config.replace(config.find("compression = \"zstd\""), 20, "compresion = \"zstd\"");
  WriteFile(dir_ / "bad.toml", config);
  CommandResult r = Pqflow({"--config", dir_ / "bad.toml", "export", "pv"}, dir_.path());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("bad.toml:8: datasets.pv.compresion: unknown key"), std::string::npos) << r.err;
}

TEST_F(ExportTest, DryRunListsFilesAndWritesNothing) {
  WriteFile(dir_ / "in/all.csv", PageviewsCsv(300));
  CommandResult r = Export({"--input", dir_ / "in/all.csv", "--dry-run"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("dry-run:would-write file=analytics/pageviews/2026/01/13/pageviews_2026-01-13.parquet rows=100"),
            std::string::npos)
      << r.out;
  EXPECT_TRUE(ListFiles(Data("analytics")).empty());
}

TEST_F(ExportTest, SplitsPartitionEachDayExactlyAndHostileValuesStayInsideTheRoot) {
  std::string csv = "id,project_slug,view_count,price,visitor,date\n";
  const char* slugs[] = {"alpha", "../../escape", "a/b", "..", "with space", "x%2Fy"};
  int id = 1;
  for (const char* slug : slugs) {
    for (int k = 0; k < 3; ++k) csv += std::to_string(id++) + ",\"" + slug + "\",1,,,2026-01-13\n";
  }
  WriteFile(dir_ / "in/h.csv", csv);
  CommandResult r = Export({"--input", dir_ / "in/h.csv", "--split-by", "project", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> split = ListFiles(Data("analytics/pageviews/project"), ".parquet");
  ASSERT_EQ(split.size(), 6u);
  for (const auto& f : split) {
    EXPECT_EQ(std::count(f.begin(), f.end(), '/'), 4) << f;  // slug/yyyy/mm/dd/file: one segment per value
    std::string first = f.substr(0, f.find('/'));
    EXPECT_NE(first, "..");
    EXPECT_NE(first, ".");
  }
  // Nothing was written outside the storage root.
  EXPECT_TRUE(ListFiles(dir_ / "escape").empty());
  std::string all = Data("analytics/pageviews/project/*/*/*/*/*.parquet");
  EXPECT_EQ(DuckScalar("SELECT count(*) FROM read_parquet('" + all + "')"), "18");
  EXPECT_EQ(DuckScalar("SELECT count(DISTINCT project_slug) FROM read_parquet('" + all + "')"), "6");
  EXPECT_EQ(DuckScalar("SELECT string_agg(DISTINCT project_slug, '|' ORDER BY project_slug) FROM read_parquet('" + all +
                       "', filename = true) WHERE filename LIKE '%/a%2Fb/%'"),
            "a/b");
}

TEST_F(ExportTest, ThousandsOfPartitions) {
  std::string input = dir_ / "in/many.csv";
  WriteFile(dir_ / "in/.keep", "");
  CommandResult gen = RunCommand({GeneratorPath(), "--rows", "30000", "--days", "2", "--projects", "3000", "--zipf", "0.2",
                           "--seed", "3", "-o", input});
  ASSERT_EQ(gen.exit_code, 0) << gen.err;
  WriteFile(dir_ / "pqflow.toml", R"toml(
[storage]
root = "data"
[datasets.pv]
layout = "pv/project/{project_slug}/{date}/part.parquet"
time_column = "date"
[datasets.pv.source]
format = "csv"
)toml" + ColumnsToml({{"id", "int64"}, {"project_slug", "string"}, {"view_count", "int32"}, {"date", "date"}}));
  CommandResult r = Export({"--input", input, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json report = json::parse(r.out);
  size_t expected = std::stoul(DuckScalar("SELECT count(DISTINCT (project_slug, date)) FROM read_csv('" + input + "')"));
  EXPECT_GT(expected, 2000u);
  EXPECT_EQ(report["files"].size(), expected);
  EXPECT_EQ(ListFiles(Data("pv"), ".parquet").size(), expected);
  EXPECT_EQ(DuckScalar("SELECT count(*) FROM read_parquet('" + Data("pv/project/*/*/part.parquet") + "')"), "30000");
}

TEST_F(ExportTest, KilledMidWriteLeavesNoPartialFileAndRerunCompletes) {
  std::string input = dir_ / "in/big.csv";
  WriteFile(dir_ / "in/.keep", "");
  CommandResult gen = RunCommand({GeneratorPath(), "--rows", "1500000", "--days", "10", "--seed", "5", "-o", input});
  ASSERT_EQ(gen.exit_code, 0) << gen.err;
  WriteFile(dir_ / "pqflow.toml",
            PageviewsConfig("zstd").substr(0, PageviewsConfig().find("[[datasets.pv.columns]]")) +
                ColumnsToml({{"id", "int64"}, {"project_id", "int32"}, {"project_slug", "string"}, {"view_count", "int32"},
                             {"date", "date"}}));
  // Kill at increasing delays, so that some kills land while DuckDB writes and some while
  // files are being published.
  for (int delay_ms : {100, 300, 600, 900, 1200, 1600}) {
    SCOPED_TRACE(delay_ms);
    pid_t pid = StartPqflow({"--config", dir_ / "pqflow.toml", "export", "pv", "--input", input, "--overwrite", "--quiet"},
                            dir_.path());
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    // Whatever is visible is complete: every Parquet file reads, and nothing half-written
    // shows up under a name a reader's glob matches.
    for (const auto& f : ListFiles(Data("analytics"), ".parquet")) {
      std::string path = Data("analytics/" + f);
      EXPECT_NO_THROW(DuckScalar("SELECT count(*) FROM read_parquet('" + path + "')")) << path;
    }
  }
  CommandResult r = Export({"--input", input, "--overwrite", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(DuckScalar("SELECT count(*) FROM read_parquet('" + Data("analytics/pageviews/*/*/*/*.parquet") + "')"),
            "1500000");
  CommandResult v = Pqflow({"--config", dir_ / "pqflow.toml", "validate", "pv"}, dir_.path());
  EXPECT_EQ(v.exit_code, 0) << v.out;
}

// A run stopped between moving its new files into place and deleting the replaced ones
// leaves files that no manifest lists (a glob reader counts rows twice); the next run of
// the dataset deletes them from its journal, per partition keeping the version its
// manifest names.
TEST_F(ExportTest, AnExportKilledWhilePublishingIsRepairedByTheNextRun) {
  WriteFile(dir_ / "in/all.csv", PageviewsCsv(3000));
  WriteFile(dir_ / "in/new.csv", PageviewsCsv(600, 5001));
  ASSERT_EQ(Export({"--input", dir_ / "in/all.csv"}).exit_code, 0);
  const std::string glob = Data("analytics/pageviews/*/*/*/*.parquet");
  auto crashed_overwrite = [&](const std::string& point) {
    return RunCommand({"env", "PQFLOW_CRASH_AT=" + point, PQFLOW_BINARY, "--config", dir_ / "pqflow.toml", "export",
                       "pv", "--input", dir_ / "in/new.csv", "--overwrite", "--quiet"},
                      dir_.path());
  };

  // Stopped before any manifest changed: the new files go, the old version stays. Until
  // then a glob counts both versions; a query reads the one the manifests name.
  ASSERT_EQ(crashed_overwrite("export.files_moved").exit_code, 86);
  EXPECT_EQ(ListFiles(Data("analytics"), ".parquet").size(), 6u);
  EXPECT_EQ(DuckScalar("SELECT count(*) FROM read_parquet('" + glob + "')"), "3600");
  EXPECT_EQ(QueryRowsAndViews(), "3000/" + std::to_string(ExpectedViews(3000)));
  CommandResult v = Pqflow({"--config", dir_ / "pqflow.toml", "validate", "pv"}, dir_.path());
  EXPECT_NE(v.exit_code, 0);
  EXPECT_NE(v.out.find("interrupted while publishing; the next `pqflow export pv` removes it"), std::string::npos) << v.out;
  CommandResult r = Export({"--input", dir_ / "in/all.csv", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json report = json::parse(r.out);
  EXPECT_EQ(report["recovered"]["files_deleted"], 3) << r.out;
  EXPECT_EQ(report["rows"]["skipped"], 3000);
  EXPECT_EQ(DuckScalar("SELECT count(*) FROM read_parquet('" + glob + "')"), "3000");
  EXPECT_EQ(DuckScalar("SELECT sum(view_count) FROM read_parquet('" + glob + "')"), std::to_string(ExpectedViews(3000)));
  EXPECT_EQ(Pqflow({"--config", dir_ / "pqflow.toml", "validate", "pv"}, dir_.path()).exit_code, 0);

  // Stopped after the manifests switched: the old files go, the new version stays.
  ASSERT_EQ(crashed_overwrite("export.manifests_written").exit_code, 86);
  EXPECT_EQ(DuckScalar("SELECT count(*) FROM read_parquet('" + glob + "')"), "3600");
  EXPECT_EQ(QueryRowsAndViews(), "600/" + std::to_string(ExpectedViews(600, 5001)));
  r = Export({"--input", dir_ / "in/new.csv"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("recovered: run "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("deleted 3 of its files"), std::string::npos) << r.out;
  EXPECT_EQ(ListFiles(Data("analytics"), ".parquet").size(), 3u);
  EXPECT_EQ(DuckScalar("SELECT count(*) FROM read_parquet('" + glob + "')"), "600");
  EXPECT_EQ(DuckScalar("SELECT sum(view_count) FROM read_parquet('" + glob + "')"),
            std::to_string(ExpectedViews(600, 5001)));
  EXPECT_EQ(Pqflow({"--config", dir_ / "pqflow.toml", "validate", "pv"}, dir_.path()).exit_code, 0);
  EXPECT_FALSE(std::filesystem::exists(Data(".pqflow/journal/pv.json")));
}

// New days moved into an existing month folder, one file at a time, by a run stopped before
// it wrote their manifests: the journal names them, and a query does not read them until a
// run publishes them whole.
TEST_F(ExportTest, AQueryDoesNotReadTheFilesOfAPublishThatDidNotFinish) {
  std::string config = PageviewsConfig();
  const std::string daily = "analytics/pageviews/{YYYY}/{MM}/{DD}/pageviews_{YYYY-MM-DD}.parquet";
  config.replace(config.find(daily), daily.size(), "monthly/{YYYY}/{MM}/pageviews_{YYYY-MM-DD}.parquet");
  WriteFile(dir_ / "pqflow.toml", config);
  WriteFile(dir_ / "in/first.csv", PageviewsCsv(300, 1, 3));  // 2026-01-13 to 15
  WriteFile(dir_ / "in/more.csv", PageviewsCsv(500, 1, 5));   // 13 to 17: two new days
  ASSERT_EQ(Export({"--input", dir_ / "in/first.csv"}).exit_code, 0);
  const std::string before = "300/" + std::to_string(ExpectedViews(300));
  EXPECT_EQ(QueryRowsAndViews(), before);
  CommandResult crashed = RunCommand({"env", "PQFLOW_CRASH_AT=export.files_moved", PQFLOW_BINARY, "--config",
                                      dir_ / "pqflow.toml", "export", "pv", "--input", dir_ / "in/more.csv", "--quiet"},
                                     dir_.path());
  ASSERT_EQ(crashed.exit_code, 86) << crashed.err;
  ASSERT_EQ(ListFiles(Data("monthly"), ".parquet").size(), 5u);
  EXPECT_TRUE(std::filesystem::exists(Data(".pqflow/journal/pv.json")));
  EXPECT_EQ(QueryRowsAndViews(), before);
  // The next run takes the stopped run's files back, then publishes the new days whole.
  ASSERT_EQ(Export({"--input", dir_ / "in/more.csv"}).exit_code, 0);
  int64_t views = ExpectedViews(300);
  int rows = 300;
  for (int i = 1; i <= 500; ++i) {
    if (13 + i % 5 >= 16) {
      views += i % 7 + 1;
      ++rows;
    }
  }
  EXPECT_EQ(QueryRowsAndViews(), std::to_string(rows) + "/" + std::to_string(views));
}

// New partitions carry their manifests in their staging folders: a run stopped right after
// moving them into place has published every one of them whole, and the next run finds
// nothing to delete and nothing to redo.
TEST_F(ExportTest, NewPartitionsArriveWithTheirManifests) {
  std::string config = PageviewsConfig();
  const std::string daily = "analytics/pageviews/{YYYY}/{MM}/{DD}/pageviews_{YYYY-MM-DD}.parquet";
  config.replace(config.find(daily), daily.size(), "by_project/{project_slug}/{YYYY-MM-DD}/pv.parquet");
  WriteFile(dir_ / "pqflow.toml", config);
  WriteFile(dir_ / "in/all.csv", PageviewsCsv(3000));
  CommandResult crashed = RunCommand({"env", "PQFLOW_CRASH_AT=export.files_moved", PQFLOW_BINARY, "--config",
                                      dir_ / "pqflow.toml", "export", "pv", "--input", dir_ / "in/all.csv", "--quiet"},
                                     dir_.path());
  ASSERT_EQ(crashed.exit_code, 86) << crashed.err;
  const std::vector<std::string> files = ListFiles(Data("by_project"), ".parquet");
  ASSERT_GT(files.size(), 3u);
  for (const auto& f : files) {
    const std::string manifest = f.substr(0, f.rfind('/') + 1) + "_pv.manifest.json";
    EXPECT_TRUE(std::filesystem::exists(Data("by_project/" + manifest))) << manifest;
  }
  EXPECT_EQ(DuckScalar("SELECT count(*) FROM read_parquet('" + Data("by_project/*/*/pv.parquet") + "')"), "3000");
  CommandResult r = Export({"--input", dir_ / "in/all.csv", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json report = json::parse(r.out);
  EXPECT_EQ(report["recovered"]["files_deleted"], 0) << r.out;
  EXPECT_EQ(report["rows"]["skipped"], 3000) << r.out;
  EXPECT_EQ(Pqflow({"--config", dir_ / "pqflow.toml", "validate", "pv"}, dir_.path()).exit_code, 0);
}

TEST_F(ExportTest, MonthlyLayoutWritesOneFilePerMonth) {
  std::string config = PageviewsConfig();
  config.replace(config.find("analytics/pageviews/{YYYY}/{MM}/{DD}/pageviews_{YYYY-MM-DD}.parquet"),
                 std::string("analytics/pageviews/{YYYY}/{MM}/{DD}/pageviews_{YYYY-MM-DD}.parquet").size(),
                 "monthly/year={yyyy}/month={mm}/pv.parquet");
  WriteFile(dir_ / "pqflow.toml", config);
  WriteFile(dir_ / "in/all.csv", PageviewsCsv(300));
  CommandResult r = Export({"--input", dir_ / "in/all.csv", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ListFiles(Data("monthly"), ".parquet"), (std::vector<std::string>{"year=2026/month=01/pv.parquet"}));
  EXPECT_EQ(DuckScalar("SELECT count(*) FROM '" + Data("monthly/year=2026/month=01/pv.parquet") + "'"), "300");
}

TEST_F(ExportTest, SortByOrdersRowsInsideEveryFile) {
  WriteFile(dir_ / "pqflow.toml", PageviewsConfig("zstd", "sort_by = [\"project_slug\", \"view_count\"]\n"));
  WriteFile(dir_ / "in/all.csv", PageviewsCsv(5000));
  CommandResult r = Export({"--input", dir_ / "in/all.csv", "--split-by", "project", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // In file order, (project_slug, view_count) never decreases, in the main files and the splits.
  for (const char* glob : {"analytics/pageviews/2*/*/*/*.parquet", "analytics/pageviews/project/*/*/*/*/*.parquet"}) {
    SCOPED_TRACE(glob);
    EXPECT_EQ(DuckScalar("SELECT count(*) FROM (SELECT project_slug, view_count, lag(project_slug) OVER w AS ps, "
                         "lag(view_count) OVER w AS pv FROM read_parquet('" + Data(glob) + "', filename = true, "
                         "file_row_number = true) WINDOW w AS (PARTITION BY filename ORDER BY file_row_number)) "
                         "WHERE ps IS NOT NULL AND (ps, pv) > (project_slug, view_count)"),
              "0");
    EXPECT_EQ(DuckScalar("SELECT count(*) FROM read_parquet('" + Data(glob) + "')"), "5000");
  }
}

TEST_F(ExportTest, MaxFileSizeRotatesLargePartitionsOnBothWritePaths) {
  WriteFile(dir_ / "pqflow.toml", PageviewsConfig("uncompressed", "max_file_size = \"200KB\"\nrow_group_size = 2048\n"));
  WriteFile(dir_ / "in/all.csv", PageviewsCsv(60000, 1, 1));  // one day, ~1 MB of Parquet
  CommandResult r = Export({"--input", dir_ / "in/all.csv", "--split-by", "project", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> main = ListFiles(Data("analytics/pageviews/2026"), ".parquet");
  ASSERT_GT(main.size(), 2u);
  EXPECT_EQ(main[0], "01/13/pageviews_2026-01-13-0001.parquet");
  EXPECT_EQ(main[1], "01/13/pageviews_2026-01-13-0002.parquet");
  std::vector<std::string> split = ListFiles(Data("analytics/pageviews/project/proj-1"), ".parquet");
  ASSERT_GT(split.size(), 1u);
  EXPECT_EQ(split[0], "2026/01/13/pageviews_2026-01-13-0001.parquet");
  EXPECT_EQ(DuckScalar("SELECT count(*) FROM read_parquet('" + Data("analytics/pageviews/2026/*/*/*.parquet") + "')"), "60000");
  EXPECT_EQ(DuckScalar("SELECT count(*) FROM read_parquet('" + Data("analytics/pageviews/project/*/*/*/*/*.parquet") + "')"),
            "60000");
  CommandResult v = Pqflow({"--config", dir_ / "pqflow.toml", "validate", "pv"}, dir_.path());
  EXPECT_EQ(v.exit_code, 0) << v.out;
}

TEST_F(ExportTest, FullDiskFailsClearlyAndLeavesNothingVisible) {
  // A real full disk: a 64 KiB tmpfs as the storage root (needs root, as in CI).
  std::string root = dir_ / "full";
  WriteFile(root + "/.keep", "");
  if (::mount("tmpfs", root.c_str(), "tmpfs", 0, "size=64k") != 0) GTEST_SKIP() << "cannot mount a tmpfs here (not root?)";
  struct Unmount {
    std::string path;
    ~Unmount() { ::umount(path.c_str()); }
  } unmount{root};
  // Sizes that fill the disk while DuckDB writes, and ones where the Parquet files fit but
  // the manifests do not: either way no new file may stay visible.
  for (int rows : {200000, 20000}) {
  SCOPED_TRACE(rows);
  WriteFile(dir_ / "in/all.csv", PageviewsCsv(rows));
  CommandResult r = Export({"--input", dir_ / "in/all.csv", "--root", root});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.err.find("pqflow: error: export pv: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("No space left on device"), std::string::npos) << r.err;
  EXPECT_TRUE(ListFiles(root, ".parquet").empty());
  EXPECT_TRUE(ListFiles(root, ".manifest.json").empty());
  EXPECT_TRUE(ListFiles(root + "/.pqflow/staging").empty());
  }
}

// Seed 001's optimizer metrics as NDJSON, with bad lines in the middle.
TEST_F(ExportTest, NdjsonLinesAreValidatedWithLineNumbers) {
  WriteFile(dir_ / "pqflow.toml", R"toml(
[storage]
root = "data"
[datasets.pv]
layout = "opt/{yyyy}/opt_{yyyy}{mm}{dd}.parquet"
time_column = "day"
[datasets.pv.source]
format = "ndjson"
[[datasets.pv.columns]]
name = "timestamp"
type = "timestamp"
nullable = false
[[datasets.pv.columns]]
name = "metric_value"
type = "double"
[[datasets.pv.columns]]
name = "metadata"
type = "json"
[[datasets.pv.columns]]
name = "day"
type = "date"
expr = "CAST(timestamp AS DATE)"
)toml");
  std::string ndjson;
  double sum = 0;
  for (int i = 0; i < 100; ++i) {
    ndjson += "{\"timestamp\":\"2025-10-2" + std::to_string(7 + i % 2) + "T04:00:00Z\",\"metric_value\":" +
              std::to_string(i) + ".5,\"metadata\":{\"run\":" + std::to_string(i) + "}}\n";
    sum += i + 0.5;
    if (i == 49) {
      ndjson += "{\"timestamp\":\"2025-10-27T05:00:00Z\",\"metric_value\":\"high\"}\n";  // line 51
      ndjson += "\n";                                                                  // blank line 52: ignored
      ndjson += "{\"timestamp\": oops}\n";                                             // line 53
      ndjson += "[1,2]\n";                                                             // line 54
      ndjson += "{\"metric_value\":1}\n";                                              // line 55: no timestamp
    }
  }
  WriteFile(dir_ / "in/m.jsonl", ndjson);
  CommandResult r = Export({"--input", dir_ / "in/m.jsonl", "--json"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  json report = json::parse(r.out);
  EXPECT_EQ(report["rows"]["read"], 104);
  EXPECT_EQ(report["rows"]["written"], 100);
  EXPECT_EQ(report["rows"]["rejected"], 4);
  std::string rejects = ReadFile(report["rejects_path"].get<std::string>());
  EXPECT_NE(rejects.find("\"line\":51,\"reason\":\"column metric_value: cannot convert \\\"high\\\" to double\""), std::string::npos)
      << rejects;
  EXPECT_NE(rejects.find("\"line\":53,\"reason\":\"malformed JSON\""), std::string::npos) << rejects;
  EXPECT_NE(rejects.find("\"line\":54,\"reason\":\"expected a JSON object, got array\""), std::string::npos) << rejects;
  EXPECT_NE(rejects.find("\"line\":55,\"reason\":\"column timestamp: missing or null"), std::string::npos) << rejects;
  EXPECT_EQ(ListFiles(Data("opt"), ".parquet"),
            (std::vector<std::string>{"2025/opt_20251027.parquet", "2025/opt_20251028.parquet"}));
  json hy = ReadWithHyparquet({Data("opt")});
  EXPECT_EQ(hy["total_rows"], 100);
  EXPECT_DOUBLE_EQ(hy["columns"]["metric_value"]["sum"].get<double>(), sum);
  EXPECT_EQ(DuckScalar("SELECT sum((metadata->>'run')::INT) FROM read_parquet('" + Data("opt/*/*.parquet") + "')"), "4950");
}

// Seed 001's index advisor report: one document, one row per recommendation, each carrying
// the document's timestamp.
TEST_F(ExportTest, JsonDocumentRecordsCarryParentFields) {
  WriteFile(dir_ / "pqflow.toml", R"toml(
[storage]
root = "data"
[datasets.pv]
layout = "index_advisor/year={yyyy}/month={mm}/index_advisor_{yyyy}{mm}{dd}.parquet"
time_column = "date_partition"
[datasets.pv.source]
format = "json"
record_path = "report.recommendations"
parent_fields = ["timestamp"]
[[datasets.pv.columns]]
name = "timestamp"
type = "timestamp"
nullable = false
[[datasets.pv.columns]]
name = "table_name"
type = "string"
nullable = false
[[datasets.pv.columns]]
name = "estimated_speedup"
type = "double"
[[datasets.pv.columns]]
name = "date_partition"
type = "date"
expr = "CAST(timestamp AS DATE)"
)toml");
  WriteFile(dir_ / "in/report.json", R"({"timestamp": "2025-10-28T04:10:00Z", "report": {"recommendations": [
    {"table_name": "users", "estimated_speedup": 2.5},
    {"table_name": "orders", "estimated_speedup": 4},
    {"estimated_speedup": 1},
    {"table_name": "events", "estimated_speedup": "fast"}]}})");
  CommandResult r = Export({"--input", dir_ / "in/report.json", "--json"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  json report = json::parse(r.out);
  EXPECT_EQ(report["rows"]["written"], 2);
  EXPECT_EQ(report["rows"]["rejected"], 2);
  std::string rejects = ReadFile(report["rejects_path"].get<std::string>());
  EXPECT_NE(rejects.find("\"line\":3,\"reason\":\"column table_name: missing or null"), std::string::npos) << rejects;
  EXPECT_NE(rejects.find("\"line\":4,\"reason\":\"column estimated_speedup: cannot convert"), std::string::npos) << rejects;
  std::string f = Data("index_advisor/year=2025/month=10/index_advisor_20251028.parquet");
  EXPECT_EQ(DuckScalar("SELECT string_agg(table_name || '@' || strftime(timestamp, '%Y-%m-%d %H:%M'), ',' ORDER BY table_name) "
                       "FROM '" + f + "'"),
            "orders@2025-10-28 04:10,users@2025-10-28 04:10");
  json hy = ReadWithHyparquet({f}, true);
  ASSERT_EQ(hy["rows"].size(), 2u);
  EXPECT_EQ(hy["rows"][0]["timestamp"], "2025-10-28T04:10:00.000000Z");
  EXPECT_DOUBLE_EQ(hy["columns"]["estimated_speedup"]["sum"].get<double>(), 6.5);
}

TEST_F(ExportTest, ValidateDetectsATamperedFile) {
  WriteFile(dir_ / "in/all.csv", PageviewsCsv(200));
  ASSERT_EQ(Export({"--input", dir_ / "in/all.csv"}).exit_code, 0);
  std::string f = Data("analytics/pageviews/2026/01/14/pageviews_2026-01-14.parquet");
  std::string bytes = ReadFile(f);
  bytes[bytes.size() / 2] ^= 0x5a;
  WriteFile(f, bytes);
  CommandResult v = Pqflow({"--config", dir_ / "pqflow.toml", "validate", "pv"}, dir_.path());
  EXPECT_EQ(v.exit_code, 4);
  EXPECT_NE(v.out.find("MISMATCH analytics/pageviews/2026/01/14/pageviews_2026-01-14.parquet: SHA-256 differs"),
            std::string::npos)
      << v.out;
}

TEST_F(ExportTest, ValidateReportsFilesThatNoManifestLists) {
  WriteFile(dir_ / "in/all.csv", PageviewsCsv(30));
  ASSERT_EQ(Export({"--input", dir_ / "in/all.csv"}).exit_code, 0);
  // A partial or foreign file under a name the layout matches.
  WriteFile(Data("analytics/pageviews/2026/02/01/pageviews_2026-02-01.parquet"),
            ReadFile(Data("analytics/pageviews/2026/01/14/pageviews_2026-01-14.parquet")));
  CommandResult v = Pqflow({"--config", dir_ / "pqflow.toml", "validate", "pv"}, dir_.path());
  EXPECT_EQ(v.exit_code, 4);
  EXPECT_NE(v.out.find("MISMATCH analytics/pageviews/2026/02/01/pageviews_2026-02-01.parquet: matches the layout but "
                       "belongs to no manifest"),
            std::string::npos)
      << v.out;
}

// Row counts are read from the footers a batch at a time; a file DuckDB cannot read must
// be named alone, with every other file of its batch still checked.
TEST_F(ExportTest, ValidateNamesAWrongRowCountAndAnUnreadableFileAndChecksTheRest) {
  WriteFile(dir_ / "in/all.csv", PageviewsCsv(300));
  ASSERT_EQ(Export({"--input", dir_ / "in/all.csv"}).exit_code, 0);
  // Manifest of the 14th: one row more than its file holds.
  const std::string m14 = Data("analytics/pageviews/2026/01/14/_pageviews_2026-01-14.manifest.json");
  json manifest = json::parse(ReadFile(m14));
  const int64_t rows14 = manifest["files"][0]["rows"].get<int64_t>();
  manifest["files"][0]["rows"] = rows14 + 1;
  WriteFile(m14, manifest.dump());
  // The 15th: garbage of the same size, and a manifest whose SHA-256 matches it.
  const std::string f15 = Data("analytics/pageviews/2026/01/15/pageviews_2026-01-15.parquet");
  const std::string m15 = Data("analytics/pageviews/2026/01/15/_pageviews_2026-01-15.manifest.json");
  WriteFile(f15, std::string(ReadFile(f15).size(), 'x'));
  manifest = json::parse(ReadFile(m15));
  manifest["files"][0]["sha256"] = Sha256Hex(ReadFile(f15));
  WriteFile(m15, manifest.dump());

  CommandResult v = Pqflow({"--config", dir_ / "pqflow.toml", "validate", "pv", "--json"}, dir_.path());
  EXPECT_EQ(v.exit_code, 4) << v.err;
  json report = json::parse(v.out);
  ASSERT_EQ(report["issues"].size(), 2u) << v.out;
  EXPECT_EQ(report["issues"][0]["path"], "analytics/pageviews/2026/01/14/pageviews_2026-01-14.parquet");
  EXPECT_EQ(report["issues"][0]["problem"],
            std::to_string(rows14) + " rows, manifest says " + std::to_string(rows14 + 1));
  EXPECT_EQ(report["issues"][1]["path"], "analytics/pageviews/2026/01/15/pageviews_2026-01-15.parquet");
  EXPECT_NE(report["issues"][1]["problem"].get<std::string>().find("not readable as Parquet"), std::string::npos)
      << v.out;
  EXPECT_EQ(report["files"].get<int>(), report["partitions"].get<int>());
  EXPECT_GT(report["rows"].get<int64_t>(), 0);  // the files that are fine are counted
}

TEST_F(ExportTest, InspectShowsSchemaCodecsAndStatistics) {
  WriteFile(dir_ / "in/all.csv", PageviewsCsv(90));
  ASSERT_EQ(Export({"--input", dir_ / "in/all.csv"}).exit_code, 0);
  std::string f = Data("analytics/pageviews/2026/01/14/pageviews_2026-01-14.parquet");
  CommandResult r = Pqflow({"inspect", f});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* want : {"== schema", "FIXED_LEN_BYTE_ARRAY", "ZSTD", "view_count", "== row groups", "num_rows"}) {
    EXPECT_NE(r.out.find(want), std::string::npos) << want << "\n" << r.out;
  }
  CommandResult ds = Pqflow({"--config", dir_ / "pqflow.toml", "inspect", "pv", "--json"}, dir_.path());
  ASSERT_EQ(ds.exit_code, 0) << ds.err;
  EXPECT_EQ(json::parse(ds.out)["rows"], 90);
}

}  // namespace
}  // namespace pqflow::testing
