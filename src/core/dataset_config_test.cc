#include "core/dataset_config.h"

#include <gtest/gtest.h>

#include "temp_dir.h"
#include <stdlib.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

namespace pqflow {
namespace {

namespace fs = std::filesystem;

constexpr const char* kOrigin = "pqflow.toml";
constexpr const char* kBase = "/base/dir";

// 1-based line of the first line of `text` containing `needle`.
int LineOf(const std::string& text, const std::string& needle) {
  size_t pos = text.find(needle);
  EXPECT_NE(pos, std::string::npos) << needle;
  int line = 1;
  for (size_t i = 0; i < pos && i < text.size(); ++i) line += text[i] == '\n' ? 1 : 0;
  return line;
}

// A minimal valid dataset `x` with `extra` spliced into its table.
std::string MinimalDataset(const std::string& extra, const std::string& columns_extra = "") {
  return "[datasets.x]\n"
         "layout = \"x/{yyyy}/{mm}/x_{date}.parquet\"\n"
         "time_column = \"d\"\n" +
         extra +
         "\n[[datasets.x.columns]]\n"
         "name = \"d\"\n"
         "type = \"date\"\n"
         "[[datasets.x.columns]]\n"
         "name = \"name\"\n"
         "type = \"string\"\n" +
         columns_extra;
}

Status ParseError(const std::string& toml) {
  auto c = ParseConfig(toml, kOrigin, kBase);
  EXPECT_FALSE(c.ok()) << "accepted:\n" << toml;
  return c.ok() ? Status::OK() : c.status();
}

// The error names the origin and line, the dotted key, and says what is wrong.
void ExpectConfigErrorAtLine(const std::string& toml, int line, const std::string& key, const std::string& what) {
  Status s = ParseError(toml);
  if (s.ok()) return;
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  const std::string where = std::string(kOrigin) + ":" + std::to_string(line) + ": ";
  EXPECT_EQ(s.message().rfind(where, 0), 0u) << "expected prefix '" << where << "' in: " << s.message();
  EXPECT_NE(s.message().find(key + ": "), std::string::npos) << "expected key '" << key << "' in: " << s.message();
  EXPECT_NE(s.message().find(what), std::string::npos) << "expected '" << what << "' in: " << s.message();
}

void ExpectConfigError(const std::string& toml, const std::string& line_needle, const std::string& key,
                       const std::string& what) {
  ExpectConfigErrorAtLine(toml, LineOf(toml, line_needle), key, what);
}

const char* kFullConfig = R"toml(
[storage]
root = "out/data"

[datasets.events]
description = "Product events"
layout = "{workspace_id}/{date}/{hh}/events.parquet"
time_column = "ts"
compression = "GZIP"
compression_level = 6
row_group_size = 50000
max_file_size = "256MB"

[datasets.events.source]
format = "jsonl"
path = "in/events_{date}.jsonl"
header = false
delimiter = ";"
quote = "'"
null_string = "NA"
timestamp_format = "%Y-%m-%d %H:%M:%S"

[datasets.events.splits.by_type]
layout = "by_type/{event_type}/{date}/events.parquet"
enabled = true

[datasets.events.splits.archive]
layout = "archive/{dataset}/{yyyy}/events_{date}.parquet"

[[datasets.events.columns]]
name = "ts"
type = "timestamp"
nullable = false
[[datasets.events.columns]]
name = "workspace_id"
type = "string"
field = "workspaceId"
[[datasets.events.columns]]
name = "event_type"
type = "String"
[[datasets.events.columns]]
name = "amount"
type = "decimal(12,2)"
[[datasets.events.columns]]
name = "day"
type = "date32"
expr = "CAST(ts AS DATE)"

[datasets.report]
layout = "report/report.parquet"
compression = "none"
max_file_size = 1000

[datasets.report.source]
format = "json"
path = "/abs/report.json"
record_path = "recommendations"
parent_fields = ["timestamp", "host"]

[[datasets.report.columns]]
name = "table_name"
type = "varchar"
)toml";

TEST(ParseConfigTest, FullDataset) {
  auto c = ParseConfig(kFullConfig, kOrigin, kBase);
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->source, kOrigin);
  EXPECT_EQ(c->storage.root, "/base/dir/out/data");
  ASSERT_EQ(c->datasets.size(), 2u);

  auto found = c->FindDataset("events");
  ASSERT_TRUE(found.ok()) << found.status().message();
  const DatasetConfig& ds = **found;
  EXPECT_EQ(ds.name, "events");
  EXPECT_EQ(ds.description, "Product events");
  EXPECT_EQ(ds.layout, "{workspace_id}/{date}/{hh}/events.parquet");
  EXPECT_EQ(ds.time_column, "ts");
  EXPECT_EQ(ds.compression, Codec::kGzip);
  EXPECT_EQ(ds.compression_level, std::optional<int>(6));
  EXPECT_EQ(ds.row_group_size, 50000);
  EXPECT_EQ(ds.max_file_size, 256000000);

  EXPECT_EQ(ds.source.format, SourceFormat::kNdjson);
  EXPECT_EQ(ds.source.path, "/base/dir/in/events_{date}.jsonl");
  EXPECT_FALSE(ds.source.header);
  EXPECT_EQ(ds.source.delimiter, ";");
  EXPECT_EQ(ds.source.quote, "'");
  EXPECT_EQ(ds.source.null_string, "NA");
  EXPECT_EQ(ds.source.timestamp_format, "%Y-%m-%d %H:%M:%S");
  EXPECT_TRUE(ds.source.record_path.empty());
  EXPECT_TRUE(ds.source.parent_fields.empty());

  ASSERT_EQ(ds.splits.size(), 2u);
  const SplitSpec* by_type = ds.FindSplit("by_type");
  ASSERT_NE(by_type, nullptr);
  EXPECT_EQ(by_type->layout, "by_type/{event_type}/{date}/events.parquet");
  EXPECT_TRUE(by_type->enabled);
  const SplitSpec* archive = ds.FindSplit("archive");
  ASSERT_NE(archive, nullptr);
  EXPECT_EQ(archive->layout, "archive/{dataset}/{yyyy}/events_{date}.parquet");
  EXPECT_FALSE(archive->enabled);
  EXPECT_EQ(ds.FindSplit("nope"), nullptr);

  ASSERT_EQ(ds.columns.size(), 5u);
  const std::vector<std::string> names = {"ts", "workspace_id", "event_type", "amount", "day"};
  for (size_t i = 0; i < names.size(); ++i) EXPECT_EQ(ds.columns[i].name, names[i]) << i;
  EXPECT_EQ(ds.columns[0].type, (ColumnType{TypeKind::kTimestamp, 0, 0}));
  EXPECT_FALSE(ds.columns[0].nullable);
  EXPECT_EQ(ds.columns[0].field, "ts");
  EXPECT_TRUE(ds.columns[1].nullable);
  EXPECT_EQ(ds.columns[1].field, "workspaceId");
  EXPECT_EQ(ds.columns[2].type.kind, TypeKind::kString);
  EXPECT_EQ(ds.columns[3].type, (ColumnType{TypeKind::kDecimal, 12, 2}));
  EXPECT_EQ(ds.columns[4].type.kind, TypeKind::kDate);
  EXPECT_EQ(ds.columns[4].expr, "CAST(ts AS DATE)");
  EXPECT_TRUE(ds.columns[0].expr.empty());
  ASSERT_NE(ds.FindColumn("amount"), nullptr);
  EXPECT_EQ(ds.FindColumn("amount")->name, "amount");
  EXPECT_EQ(ds.FindColumn("Amount"), nullptr);

  auto report = c->FindDataset("report");
  ASSERT_TRUE(report.ok());
  const DatasetConfig& r = **report;
  EXPECT_EQ(r.compression, Codec::kUncompressed);
  EXPECT_EQ(r.compression_level, std::nullopt);
  EXPECT_EQ(r.max_file_size, 1000);
  EXPECT_EQ(r.row_group_size, 122880);
  EXPECT_TRUE(r.time_column.empty());
  EXPECT_EQ(r.source.format, SourceFormat::kJson);
  EXPECT_EQ(r.source.path, "/abs/report.json");
  EXPECT_EQ(r.source.record_path, "recommendations");
  EXPECT_EQ(r.source.parent_fields, (std::vector<std::string>{"timestamp", "host"}));
  // Defaults of the fields this dataset leaves out.
  EXPECT_TRUE(r.source.header);
  EXPECT_EQ(r.source.delimiter, ",");
  EXPECT_EQ(r.source.quote, "\"");
  EXPECT_TRUE(r.splits.empty());
}

TEST(ParseConfigTest, DefaultsOfAnEmptyConfig) {
  auto c = ParseConfig("", kOrigin, kBase);
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->storage.root, "/base/dir/data");
  EXPECT_TRUE(c->datasets.empty());
  auto missing = c->FindDataset("pageviews");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("configured: none"), std::string::npos) << missing.status().message();

  auto abs = ParseConfig("[storage]\nroot = \"/srv/pq\"\n", kOrigin, kBase);
  ASSERT_TRUE(abs.ok()) << abs.status().message();
  EXPECT_EQ(abs->storage.root, "/srv/pq");
}

TEST(ParseConfigTest, FindDatasetListsConfiguredNames) {
  auto c = ParseConfig(kFullConfig, kOrigin, kBase);
  ASSERT_TRUE(c.ok()) << c.status().message();
  auto missing = c->FindDataset("event");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("'event'"), std::string::npos);
  EXPECT_NE(missing.status().message().find("events, report"), std::string::npos) << missing.status().message();
}

// ---- The embedded default ---------------------------------------------------------------

struct ExpectedColumn {
  const char* name;
  const char* type;
  bool nullable;
};

void ExpectColumns(const DatasetConfig& ds, const std::vector<ExpectedColumn>& expected) {
  ASSERT_EQ(ds.columns.size(), expected.size()) << ds.name;
  for (size_t i = 0; i < expected.size(); ++i) {
    SCOPED_TRACE(ds.name + "." + expected[i].name);
    EXPECT_EQ(ds.columns[i].name, expected[i].name) << i;
    EXPECT_EQ(ds.columns[i].type.ToString(), expected[i].type);
    EXPECT_EQ(ds.columns[i].nullable, expected[i].nullable);
  }
}

TEST(EmbeddedDefaultTest, HasTheSeedDatasets) {
  auto c = LoadEmbeddedDefault();
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->source, "<embedded default>");
  EXPECT_EQ(c->storage.root, (fs::current_path() / "data").lexically_normal().string());
  std::vector<std::string> names;
  for (const auto& [name, ds] : c->datasets) {
    names.push_back(name);
    EXPECT_EQ(ds.name, name);
  }
  EXPECT_EQ(names, (std::vector<std::string>{"index_advisor", "optimization_summary", "pageviews", "query_perf"}));
  EXPECT_FALSE(EmbeddedDefaultToml().empty());
  EXPECT_NE(EmbeddedDefaultToml().find("[datasets.pageviews]"), std::string_view::npos);
}

TEST(EmbeddedDefaultTest, Pageviews) {
  auto c = LoadEmbeddedDefault();
  ASSERT_TRUE(c.ok()) << c.status().message();
  const DatasetConfig& ds = *c->FindDataset("pageviews").value();
  EXPECT_EQ(ds.layout, "analytics/pageviews/{YYYY}/{MM}/{DD}/pageviews_{YYYY-MM-DD}.parquet");
  EXPECT_EQ(ds.time_column, "date");
  EXPECT_EQ(ds.compression, Codec::kZstd);
  EXPECT_EQ(ds.source.format, SourceFormat::kCsv);
  EXPECT_EQ(ds.source.path, (fs::current_path() / "input/pageviews/pageviews_{date}.csv").string());
  ASSERT_EQ(ds.splits.size(), 1u);
  EXPECT_EQ(ds.splits[0].name, "project");
  EXPECT_EQ(ds.splits[0].layout,
            "analytics/pageviews/project/{project_slug}/{YYYY}/{MM}/{DD}/pageviews_{YYYY-MM-DD}.parquet");
  EXPECT_FALSE(ds.splits[0].enabled);
  ExpectColumns(ds, {{"id", "int64", false},
                     {"project_id", "int32", false},
                     {"project_slug", "string", false},
                     {"version_id", "int32", true},
                     {"version_slug", "string", true},
                     {"path", "string", false},
                     {"full_path", "string", false},
                     {"view_count", "int32", false},
                     {"date", "date", false},
                     {"status", "int16", false}});
}

TEST(EmbeddedDefaultTest, QueryPerf) {
  auto c = LoadEmbeddedDefault();
  ASSERT_TRUE(c.ok()) << c.status().message();
  const DatasetConfig& ds = *c->FindDataset("query_perf").value();
  EXPECT_EQ(ds.layout, "query_perf/year={yyyy}/month={mm}/query_perf_{yyyy}{mm}{dd}.parquet");
  EXPECT_EQ(ds.time_column, "date_partition");
  EXPECT_EQ(ds.compression, Codec::kSnappy);
  EXPECT_EQ(ds.source.format, SourceFormat::kCsv);
  EXPECT_EQ(ds.source.path, (fs::current_path() / "g/reports/query_perf_daily_{yyyy}{mm}{dd}.csv").string());
  ExpectColumns(ds, {{"timestamp", "timestamp", false},
                     {"query_hash", "string", false},
                     {"query_type", "string", true},
                     {"execution_time_ms", "double", false},
                     {"rows_examined", "int64", true},
                     {"rows_returned", "int64", true},
                     {"cache_hit", "boolean", true},
                     {"table_name", "string", true},
                     {"index_used", "string", true},
                     {"cpu_time_ms", "double", true},
                     {"io_wait_ms", "double", true},
                     {"date_partition", "date", true}});
  EXPECT_EQ(ds.columns.back().expr, "CAST(timestamp AS DATE)");
}

TEST(EmbeddedDefaultTest, IndexAdvisor) {
  auto c = LoadEmbeddedDefault();
  ASSERT_TRUE(c.ok()) << c.status().message();
  const DatasetConfig& ds = *c->FindDataset("index_advisor").value();
  EXPECT_EQ(ds.layout, "index_advisor/year={yyyy}/month={mm}/index_advisor_{yyyy}{mm}{dd}.parquet");
  EXPECT_EQ(ds.time_column, "date_partition");
  EXPECT_EQ(ds.source.format, SourceFormat::kJson);
  EXPECT_EQ(ds.source.record_path, "recommendations");
  EXPECT_EQ(ds.source.parent_fields, std::vector<std::string>{"timestamp"});
  ExpectColumns(ds, {{"timestamp", "timestamp", false},
                     {"table_name", "string", false},
                     {"recommended_index", "string", false},
                     {"query_pattern", "string", true},
                     {"estimated_speedup", "double", true},
                     {"estimated_cost", "double", true},
                     {"priority", "string", true},
                     {"status", "string", true},
                     {"date_partition", "date", true}});
}

TEST(EmbeddedDefaultTest, OptimizationSummary) {
  auto c = LoadEmbeddedDefault();
  ASSERT_TRUE(c.ok()) << c.status().message();
  const DatasetConfig& ds = *c->FindDataset("optimization_summary").value();
  EXPECT_EQ(ds.layout, "optimization_summary/year={yyyy}/month={mm}/optimization_summary_{yyyy}{mm}{dd}.parquet");
  EXPECT_EQ(ds.source.format, SourceFormat::kNdjson);
  ExpectColumns(ds, {{"timestamp", "timestamp", false},
                     {"event_type", "string", false},
                     {"metric_name", "string", true},
                     {"metric_value", "double", true},
                     {"metadata", "json", true},
                     {"date_partition", "date", true}});
}

TEST(EmbeddedDefaultTest, EveryLayoutIsAValidTemplate) {
  auto c = LoadEmbeddedDefault();
  ASSERT_TRUE(c.ok()) << c.status().message();
  for (const auto& [name, ds] : c->datasets) {
    SCOPED_TRACE(name);
    EXPECT_TRUE(PathTemplate::Make(ds.layout, name).ok());
    EXPECT_TRUE(PathTemplate::MakeInput(ds.source.path).ok());
    for (const auto& s : ds.splits) EXPECT_TRUE(PathTemplate::Make(s.layout, name).ok()) << s.name;
  }
}

// ---- Errors name origin, line and key ---------------------------------------------------

TEST(ConfigErrorTest, UnknownKeyTypo) {
  const std::string toml = MinimalDataset("compresion = \"zstd\"\n");
  ExpectConfigError(toml, "compresion", "datasets.x.compresion", "unknown key");
  Status s = ParseError(toml);
  EXPECT_NE(s.message().find("compression"), std::string::npos) << "should list the known keys: " << s.message();
}

TEST(ConfigErrorTest, UnknownKeysAtEveryLevel) {
  ExpectConfigError("[storage]\nroot = \"x\"\nrooot = \"y\"\n", "rooot", "storage.rooot", "unknown key");
  ExpectConfigError("title = \"x\"\n", "title", "title", "unknown key");
  ExpectConfigError(MinimalDataset("[datasets.x.source]\nformat = \"csv\"\nheaders = true\n"), "headers",
                    "datasets.x.source.headers", "unknown key");
  ExpectConfigError(MinimalDataset("", "nulable = false\n"), "nulable", "datasets.x.columns[1].nulable",
                    "unknown key");
  ExpectConfigError(MinimalDataset("[datasets.x.splits.s]\nlayout = \"s/{date}.parquet\"\nenable = true\n"),
                    "enable =", "datasets.x.splits.s.enable", "unknown key");
}

TEST(ConfigErrorTest, BadCodec) {
  const std::string toml = MinimalDataset("compression = \"lzo\"\n");
  ExpectConfigError(toml, "lzo", "datasets.x.compression", "unknown compression 'lzo'");
}

TEST(ConfigErrorTest, CompressionLevelOutOfRange) {
  ExpectConfigError(MinimalDataset("compression = \"zstd\"\ncompression_level = 23\n"), "compression_level",
                    "datasets.x.compression_level", "expected 1..22 for zstd");
  ExpectConfigError(MinimalDataset("compression = \"zstd\"\ncompression_level = 0\n"), "compression_level",
                    "datasets.x.compression_level", "expected 1..22 for zstd");
  ExpectConfigError(MinimalDataset("compression = \"gzip\"\ncompression_level = 10\n"), "compression_level",
                    "datasets.x.compression_level", "expected 1..9 for gzip");
  ExpectConfigError(MinimalDataset("compression = \"brotli\"\ncompression_level = 12\n"), "compression_level",
                    "datasets.x.compression_level", "expected 0..11 for brotli");
  ExpectConfigError(MinimalDataset("compression_level = \"3\"\n"), "compression_level",
                    "datasets.x.compression_level", "expected 1..22 for zstd");

  for (const auto& [codec, level] : std::vector<std::pair<std::string, int>>{
           {"zstd", 1}, {"zstd", 22}, {"gzip", 1}, {"gzip", 9}, {"brotli", 0}, {"brotli", 11}}) {
    SCOPED_TRACE(codec + " " + std::to_string(level));
    auto c = ParseConfig(
        MinimalDataset("compression = \"" + codec + "\"\ncompression_level = " + std::to_string(level) + "\n"), kOrigin,
        kBase);
    ASSERT_TRUE(c.ok()) << c.status().message();
    EXPECT_EQ(c->datasets.at("x").compression_level, std::optional<int>(level));
  }
}

TEST(ConfigErrorTest, CompressionLevelOnCodecWithoutLevels) {
  for (const char* codec : {"snappy", "lz4", "uncompressed"}) {
    SCOPED_TRACE(codec);
    ExpectConfigError(MinimalDataset("compression = \"" + std::string(codec) + "\"\ncompression_level = 3\n"),
                      "compression_level", "datasets.x.compression_level", std::string(codec) + " takes no level");
  }
}

TEST(ConfigErrorTest, UnknownType) {
  const std::string toml = MinimalDataset("", "[[datasets.x.columns]]\nname = \"n\"\ntype = \"int128\"\n");
  ExpectConfigError(toml, "int128", "datasets.x.columns[2].type", "unknown type 'int128'");
  // A missing key is reported at the line of the table that lacks it.
  const std::string untyped = MinimalDataset("", "[[datasets.x.columns]]\nname = \"n\"\n");
  ExpectConfigErrorAtLine(untyped, LineOf(untyped, "name = \"n\"") - 1, "datasets.x.columns[2].type",
                          "column 'n' needs a type");
  ExpectConfigError(MinimalDataset("", "[[datasets.x.columns]]\nname = \"ip\"\ntype = \"ipv6\"\n"), "ipv6",
                    "datasets.x.columns[2].type", "event streams");
}

TEST(ConfigErrorTest, DuplicateColumn) {
  const std::string toml = MinimalDataset("", "[[datasets.x.columns]]\nname = \"name\"\ntype = \"int64\"\n");
  Status s = ParseError(toml);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message().rfind(std::string(kOrigin) + ":", 0), 0u) << s.message();
  EXPECT_NE(s.message().find("datasets.x.columns: "), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("column 'name' is declared twice"), std::string::npos) << s.message();
}

TEST(ConfigErrorTest, LayoutTokenThatIsNotAColumn) {
  const std::string toml =
      "[datasets.x]\nlayout = \"x/{project}/{date}.parquet\"\ntime_column = \"d\"\n"
      "[[datasets.x.columns]]\nname = \"d\"\ntype = \"date\"\n";
  ExpectConfigError(toml, "layout", "datasets.x.layout", "{project} is not a column of the dataset");

  const std::string split = MinimalDataset("[datasets.x.splits.by]\nlayout = \"by/{nope}/{date}.parquet\"\n");
  Status s = ParseError(split);
  EXPECT_NE(s.message().find("datasets.x.splits.by.layout: "), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("{nope} is not a column"), std::string::npos) << s.message();
}

TEST(ConfigErrorTest, SplitLayoutErrorPointsAtTheSplitsLine) {
  const std::string toml = MinimalDataset("[datasets.x.splits.by]\nlayout = \"by/{nope}/{date}.parquet\"\n");
  ExpectConfigError(toml, "by/{nope}", "datasets.x.splits.by.layout", "{nope} is not a column");
}

TEST(ConfigErrorTest, InvalidLayout) {
  const std::string toml =
      "[datasets.x]\nlayout = \"../x/{date}.csv\"\ntime_column = \"d\"\n"
      "[[datasets.x.columns]]\nname = \"d\"\ntype = \"date\"\n";
  ExpectConfigError(toml, "layout", "datasets.x.layout", ".parquet");
  ExpectConfigError("[datasets.x]\n[[datasets.x.columns]]\nname = \"d\"\ntype = \"date\"\n", "", "datasets.x.layout",
                    "needs a layout");
}

TEST(ConfigErrorTest, DateTokensWithoutTimeColumn) {
  const std::string toml =
      "[datasets.x]\nlayout = \"x/{yyyy}/x.parquet\"\n"
      "[[datasets.x.columns]]\nname = \"d\"\ntype = \"date\"\n";
  ExpectConfigError(toml, "layout", "datasets.x.layout", "uses date tokens");
  const std::string daily =
      "[datasets.x]\nlayout = \"x/{date}/x.parquet\"\n"
      "[[datasets.x.columns]]\nname = \"d\"\ntype = \"date\"\n";
  ExpectConfigError(daily, "layout", "datasets.x.layout", "uses date tokens");
  // Without date tokens no time column is needed.
  auto ok = ParseConfig("[datasets.x]\nlayout = \"x/x.parquet\"\n[[datasets.x.columns]]\nname = \"d\"\ntype = \"date\"\n",
                        kOrigin, kBase);
  EXPECT_TRUE(ok.ok()) << ok.status().message();
}

// A date has no hour: every row would be written to hour 00 and pruned away by any filter.
TEST(ConfigErrorTest, HourTokenNeedsATimestampTimeColumn) {
  const std::string toml =
      "[datasets.x]\nlayout = \"x/{date}/{hh}/x.parquet\"\ntime_column = \"d\"\n"
      "[[datasets.x.columns]]\nname = \"d\"\ntype = \"date\"\n";
  ExpectConfigError(toml, "layout", "datasets.x.layout", "'d' is a date, which has no hour");
  auto ok = ParseConfig("[datasets.x]\nlayout = \"x/{date}/{hh}/x.parquet\"\ntime_column = \"t\"\n"
                        "[[datasets.x.columns]]\nname = \"t\"\ntype = \"timestamp\"\n",
                        kOrigin, kBase);
  EXPECT_TRUE(ok.ok()) << ok.status().ToString();
}

TEST(ConfigErrorTest, TimeColumnNotTemporal) {
  const std::string toml =
      "[datasets.x]\nlayout = \"x/{date}.parquet\"\ntime_column = \"name\"\n"
      "[[datasets.x.columns]]\nname = \"name\"\ntype = \"string\"\n";
  ExpectConfigError(toml, "time_column", "datasets.x.time_column", "'name' must name a date or timestamp column");
  const std::string missing =
      "[datasets.x]\nlayout = \"x/{date}.parquet\"\ntime_column = \"ts\"\n"
      "[[datasets.x.columns]]\nname = \"name\"\ntype = \"string\"\n";
  ExpectConfigError(missing, "time_column", "datasets.x.time_column", "'ts' must name a date or timestamp column");
  for (const char* type : {"date", "timestamp", "timestamp_ms"}) {
    SCOPED_TRACE(type);
    auto ok = ParseConfig("[datasets.x]\nlayout = \"x/{date}.parquet\"\ntime_column = \"t\"\n"
                          "[[datasets.x.columns]]\nname = \"t\"\ntype = \"" + std::string(type) + "\"\n",
                          kOrigin, kBase);
    EXPECT_TRUE(ok.ok()) << ok.status().message();
  }
}

TEST(ConfigErrorTest, WrongValueTypes) {
  ExpectConfigError(MinimalDataset("row_group_size = 0\n"), "row_group_size", "datasets.x.row_group_size",
                    "expected an integer >= 1");
  ExpectConfigError(MinimalDataset("row_group_size = \"big\"\n"), "row_group_size", "datasets.x.row_group_size",
                    "expected an integer >= 1");
  ExpectConfigError(MinimalDataset("description = 5\n"), "description", "datasets.x.description", "expected a string");
  ExpectConfigError(MinimalDataset("[datasets.x.source]\nheader = \"yes\"\n"), "header", "datasets.x.source.header",
                    "expected true or false");
  ExpectConfigError(MinimalDataset("[datasets.x.source]\nformat = \"xml\"\n"), "xml", "datasets.x.source.format",
                    "expected csv, ndjson, json or postgres");
  ExpectConfigError(MinimalDataset("max_file_size = \"12XB\"\n"), "max_file_size", "datasets.x.max_file_size",
                    "unknown unit");
  ExpectConfigError(MinimalDataset("[datasets.x.source]\nformat = \"csv\"\nrecord_path = \"a\"\n"), "[datasets.x.source]",
                    "datasets.x.source.record_path", "only applies to format = \"json\"");
  ExpectConfigError(MinimalDataset("[datasets.x.source]\ndelimiter = \"\"\n"), "delimiter",
                    "datasets.x.source.delimiter", "expected 1 to 4 characters");
}

TEST(ConfigErrorTest, TomlSyntaxErrorReportsTheLine) {
  const std::string toml = "[storage]\nroot = \"x\"\n\n[datasets.x]\nlayout = \"unterminated\n";
  Status s = ParseError(toml);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message().rfind("pqflow.toml:5: ", 0), 0u) << s.message();

  const std::string dup = "[storage]\nroot = \"x\"\nroot = \"y\"\n";
  Status d = ParseError(dup);
  EXPECT_EQ(d.message().rfind("pqflow.toml:3: ", 0), 0u) << d.message();
}

// ---- Files and environment ------------------------------------------------------------

using pqflow::testing::TempDir;

TEST(LoadConfigFileTest, ResolvesPathsAgainstTheFileAndNamesItInErrors) {
  TempDir dir;
  const std::string file = dir.path() + "/pqflow.toml";
  {
    std::ofstream out(file);
    out << "[storage]\nroot = \"../data\"\n" << MinimalDataset("[datasets.x.source]\npath = \"in/x_{date}.csv\"\n");
  }
  auto c = LoadConfigFile(file);
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->source, file);
  EXPECT_EQ(c->storage.root, (fs::path(dir.path()).parent_path() / "data").string());
  EXPECT_EQ(c->datasets.at("x").source.path, dir.path() + "/in/x_{date}.csv");

  {
    std::ofstream out(file);
    out << "[storage]\nroot = \"x\"\nbucket = \"b\"\n";
  }
  auto bad = LoadConfigFile(file);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message().rfind(file + ":3: storage.bucket: unknown key", 0), 0u) << bad.status().message();

  auto missing = LoadConfigFile(dir.path() + "/nope.toml");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
}

// Restores PQFLOW_ROOT as it was before the test.
class SavedEnv {
 public:
  explicit SavedEnv(const char* name) : name_(name) {
    const char* v = std::getenv(name);
    if (v != nullptr) value_ = v;
  }
  ~SavedEnv() {
    if (value_) {
      ::setenv(name_, value_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> value_;
};

TEST(EnvironmentTest, PqflowRootOverridesStorageRoot) {
  SavedEnv saved("PQFLOW_ROOT");
  auto c = ParseConfig("[storage]\nroot = \"/from/file\"\n", kOrigin, kBase);
  ASSERT_TRUE(c.ok()) << c.status().message();

  ::unsetenv("PQFLOW_ROOT");
  ASSERT_TRUE(ApplyEnvironmentOverrides(&*c).ok());
  EXPECT_EQ(c->storage.root, "/from/file");

  ::setenv("PQFLOW_ROOT", "", 1);
  ASSERT_TRUE(ApplyEnvironmentOverrides(&*c).ok());
  EXPECT_EQ(c->storage.root, "/from/file");

  ::setenv("PQFLOW_ROOT", "/srv/pq/../lake/", 1);
  ASSERT_TRUE(ApplyEnvironmentOverrides(&*c).ok());
  EXPECT_EQ(c->storage.root.rfind("/srv/lake", 0), 0u) << c->storage.root;
  EXPECT_EQ(fs::path(c->storage.root).lexically_normal(), fs::path("/srv/lake/"));

  ::setenv("PQFLOW_ROOT", "rel/lake", 1);
  ASSERT_TRUE(ApplyEnvironmentOverrides(&*c).ok());
  EXPECT_EQ(c->storage.root, (fs::current_path() / "rel/lake").string());
}

// ---- Sizes and codecs -------------------------------------------------------------------

TEST(ParseByteSizeTest, UnitsAndPlainNumbers) {
  const std::vector<std::pair<const char*, int64_t>> cases = {
      {"256MB", 256000000},     {"1GiB", 1073741824},  {"12", 12},          {"0", 0},
      {"12B", 12},              {"1KB", 1000},         {"1kb", 1000},       {"1KiB", 1024},
      {"3MiB", 3145728},        {"2GB", 2000000000},   {"1 GiB", 1073741824}, {"4k", 4096},
      {"5M", 5242880},          {"1G", 1073741824},    {"1048576", 1048576}, {"8gib", 8589934592},
  };
  for (const auto& [text, bytes] : cases) {
    SCOPED_TRACE(text);
    auto r = ParseByteSize(text);
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ(*r, bytes);
  }
}

TEST(ParseByteSizeTest, BadUnitsAndNumbers) {
  for (const char* bad : {"12XB", "12TB", "1.5GB", "MB", "", "-1", "ten", "1e6", "12 XB"}) {
    SCOPED_TRACE(bad);
    auto r = ParseByteSize(bad);
    ASSERT_FALSE(r.ok()) << *r;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  }
  auto unit = ParseByteSize("12XB");
  EXPECT_NE(unit.status().message().find("unknown unit"), std::string::npos) << unit.status().message();
}

TEST(ParseByteSizeTest, OverflowIsAnError) {
  for (const char* big : {"99999999999999999999", "10000000000GB", "9223372036854775807KB"}) {
    SCOPED_TRACE(big);
    Result<int64_t> r = Status::Internal("not run");
    EXPECT_NO_THROW(r = ParseByteSize(big));
    ASSERT_FALSE(r.ok()) << *r;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  }
}

TEST(CodecTest, NamesAndLevels) {
  const std::vector<std::tuple<const char*, Codec, const char*, bool>> codecs = {
      {"snappy", Codec::kSnappy, "snappy", false}, {"gzip", Codec::kGzip, "gzip", true},
      {"zstd", Codec::kZstd, "zstd", true},       {"lz4", Codec::kLz4, "lz4_raw", false},
      {"brotli", Codec::kBrotli, "brotli", true}, {"uncompressed", Codec::kUncompressed, "uncompressed", false},
  };
  for (const auto& [name, codec, duck, has_level] : codecs) {
    SCOPED_TRACE(name);
    auto parsed = ParseCodec(name);
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, codec);
    EXPECT_EQ(CodecName(codec), name);
    EXPECT_EQ(CodecDuckDbName(codec), duck);
    EXPECT_EQ(CodecHasLevel(codec), has_level);
  }
  EXPECT_EQ(ParseCodec("ZSTD").value(), Codec::kZstd);
  EXPECT_EQ(ParseCodec("none").value(), Codec::kUncompressed);
  auto bad = ParseCodec("lzo");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("expected snappy, gzip, zstd, lz4, brotli or uncompressed"), std::string::npos);
  EXPECT_EQ(SourceFormatName(SourceFormat::kCsv), "csv");
  EXPECT_EQ(SourceFormatName(SourceFormat::kNdjson), "ndjson");
  EXPECT_EQ(SourceFormatName(SourceFormat::kJson), "json");
}

}  // namespace
}  // namespace pqflow

namespace pqflow {
namespace {

TEST(PostgresSourceConfigTest, TableOrQueryWithDelete) {
  auto c = ParseConfig(MinimalDataset("[datasets.x.source]\nformat = \"postgres\"\ndsn = \"host=db dbname=a\"\n"
                                      "query = \"SELECT d, name FROM t WHERE d BETWEEN {from} AND {to}\"\n"
                                      "delete = \"DELETE FROM t WHERE d BETWEEN {from} AND {to}\"\n"),
                       kOrigin, kBase);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const SourceSpec& s = c->datasets.at("x").source;
  EXPECT_EQ(s.format, SourceFormat::kPostgres);
  EXPECT_EQ(s.dsn, "host=db dbname=a");
  EXPECT_EQ(s.delete_sql, "DELETE FROM t WHERE d BETWEEN {from} AND {to}");
  auto t = ParseConfig(MinimalDataset("[datasets.x.source]\nformat = \"postgresql\"\ntable = \"analytics.pv\"\n"), kOrigin,
                       kBase);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->datasets.at("x").source.table, "analytics.pv");
}

TEST(PostgresSourceConfigTest, Errors) {
  ExpectConfigError(MinimalDataset("[datasets.x.source]\nformat = \"postgres\"\n"), "[datasets.x.source]",
                    "datasets.x.source.table", "exactly one of table");
  ExpectConfigError(MinimalDataset("[datasets.x.source]\nformat = \"postgres\"\ntable = \"t\"\nquery = \"SELECT 1\"\n"),
                    "[datasets.x.source]", "datasets.x.source.table", "exactly one of table");
  ExpectConfigError(MinimalDataset("[datasets.x.source]\nformat = \"csv\"\ntable = \"t\"\n"), "table =",
                    "datasets.x.source.table", "only applies to format = \"postgres\"");
  ExpectConfigError(MinimalDataset("[datasets.x.source]\nformat = \"postgres\"\ntable = \"t\"\ndelete = \"DELETE\"\n"),
                    "delete =", "datasets.x.source.delete", "delete only applies to query sources");
  ExpectConfigError(MinimalDataset("[datasets.x.source]\nformat = \"mysql\"\n"), "mysql", "datasets.x.source.format",
                    "expected csv, ndjson, json or postgres");
}

TEST(PostgresSourceConfigTest, PathOnlyColumns) {
  auto c = ParseConfig(MinimalDataset("", "[[datasets.x.columns]]\nname = \"org\"\ntype = \"string\"\nin_file = false\n"),
                       kOrigin, kBase);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const DatasetConfig& ds = c->datasets.at("x");
  ASSERT_EQ(ds.columns.size(), 3u);
  EXPECT_FALSE(ds.columns[2].in_file);
  ASSERT_EQ(ds.FileColumns().size(), 2u);
  EXPECT_EQ(ds.FileColumns()[1]->name, "name");
}

TEST(PostgresSourceConfigTest, SeedExampleLoads) {
  auto c = LoadConfigFile(std::string(PQFLOW_SOURCE_DIR) + "/examples/pageviews_postgres.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const DatasetConfig& ds = c->datasets.at("pageviews");
  EXPECT_EQ(ds.FileColumns().size(), 10u);
  EXPECT_NE(ds.FindSplit("organization"), nullptr);
  EXPECT_NE(ds.FindSplit("project"), nullptr);
  EXPECT_NE(ds.source.query.find("{from}"), std::string::npos);
}

}  // namespace
}  // namespace pqflow

namespace pqflow {
namespace {

TEST(StorageConfigTest, AnS3RootIsKeptAsWrittenWithItsSettings) {
  auto c = ParseConfig("[storage]\nroot = \"s3://lake/analytics/\"\nendpoint = \"http://127.0.0.1:9000\"\n"
                       "region = \"eu-west-1\"\npath_style = true\nprofile = \"prod\"\n",
                       "t.toml", "/base");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->storage.root, "s3://lake/analytics/");
  EXPECT_EQ(c->storage.endpoint, "http://127.0.0.1:9000");
  EXPECT_EQ(c->storage.path_style, true);
  auto root = ParseS3Root(c->storage.root);
  ASSERT_TRUE(root);
  EXPECT_EQ(root->bucket, "lake");
  EXPECT_EQ(root->prefix, "analytics");
  EXPECT_FALSE(ParseS3Root("./data"));
  EXPECT_FALSE(ParseS3Root("s3://"));
  EXPECT_EQ(ParseS3Root("s3://b")->prefix, "");
}

TEST(StorageConfigTest, S3SettingsOnALocalRootOrAMalformedS3RootAreErrors) {
  auto c = ParseConfig("[storage]\nroot = \"data\"\nendpoint = \"http://x\"\n", "t.toml", "/base");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("for s3:// roots only"), std::string::npos) << c.status().message();
  c = ParseConfig("[storage]\nroot = \"s3:///x\"\n", "t.toml", "/base");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("expected s3://bucket"), std::string::npos) << c.status().message();
}

}  // namespace
}  // namespace pqflow
