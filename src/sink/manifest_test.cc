#include "sink/manifest.h"

#include <gtest/gtest.h>

#include "temp_dir.h"
#include <stdlib.h>

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace pqflow::sink {
namespace {

namespace fs = std::filesystem;

ColumnSpec Column(const std::string& name, ColumnType type, bool nullable) {
  ColumnSpec c;
  c.name = name;
  c.type = type;
  c.nullable = nullable;
  return c;
}

Manifest FullManifest() {
  Manifest m;
  m.dataset = "events";
  m.layout = "{workspace_id}/{date}/{hh}/events.parquet";
  m.split = "by_region";
  m.date = "2025-10-28";
  m.hour = 7;
  m.columns = {{"region", std::nullopt}, {"workspace_id", "ws/\"42\"\n"}};
  m.files = {{"ws%2F42/2025-10-28/07/events-0001.parquet", 1000, 123456,
              "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", 9000000001},
             {"ws%2F42/2025-10-28/07/events-0002.parquet", 5, 789, "00ff", std::nullopt}};
  m.rows = 1005;
  m.bytes = 124245;
  m.schema = {Column("ts", ColumnType{TypeKind::kTimestamp, 0, 0}, false),
              Column("amount", ColumnType{TypeKind::kDecimal, 12, 2}, true),
              Column("workspace_id", ColumnType{TypeKind::kString, 0, 0}, true)};
  m.compression = "zstd";
  m.sources = {{"/in/events_2025-10-28.jsonl", 4096, 1761609600123456789LL}, {"/in/caf\xc3\xa9.jsonl", 0, -1}};
  m.source_fingerprint = SourceFingerprint(m.sources);
  m.run_id = "20251028T070000Z-abc";
  m.created_at = "2025-10-28T07:00:01Z";
  m.pqflow_version = "0.1.0";
  m.duckdb_version = "v1.4.4";
  return m;
}

void ExpectSameManifest(const Manifest& a, const Manifest& b) {
  EXPECT_EQ(a.dataset, b.dataset);
  EXPECT_EQ(a.layout, b.layout);
  EXPECT_EQ(a.split, b.split);
  EXPECT_EQ(a.date, b.date);
  EXPECT_EQ(a.hour, b.hour);
  EXPECT_EQ(a.columns, b.columns);
  ASSERT_EQ(a.files.size(), b.files.size());
  for (size_t i = 0; i < a.files.size(); ++i) {
    EXPECT_EQ(a.files[i].path, b.files[i].path) << i;
    EXPECT_EQ(a.files[i].rows, b.files[i].rows) << i;
    EXPECT_EQ(a.files[i].bytes, b.files[i].bytes) << i;
    EXPECT_EQ(a.files[i].sha256, b.files[i].sha256) << i;
    EXPECT_EQ(a.files[i].source_txid, b.files[i].source_txid) << i;
  }
  EXPECT_EQ(a.rows, b.rows);
  EXPECT_EQ(a.bytes, b.bytes);
  ASSERT_EQ(a.schema.size(), b.schema.size());
  for (size_t i = 0; i < a.schema.size(); ++i) {
    EXPECT_EQ(a.schema[i].name, b.schema[i].name) << i;
    EXPECT_EQ(a.schema[i].type, b.schema[i].type) << i;
    EXPECT_EQ(a.schema[i].nullable, b.schema[i].nullable) << i;
  }
  EXPECT_EQ(a.compression, b.compression);
  ASSERT_EQ(a.sources.size(), b.sources.size());
  for (size_t i = 0; i < a.sources.size(); ++i) {
    EXPECT_EQ(a.sources[i].path, b.sources[i].path) << i;
    EXPECT_EQ(a.sources[i].size, b.sources[i].size) << i;
    EXPECT_EQ(a.sources[i].mtime_ns, b.sources[i].mtime_ns) << i;
  }
  EXPECT_EQ(a.source_fingerprint, b.source_fingerprint);
  EXPECT_EQ(a.run_id, b.run_id);
  EXPECT_EQ(a.created_at, b.created_at);
  EXPECT_EQ(a.pqflow_version, b.pqflow_version);
  EXPECT_EQ(a.duckdb_version, b.duckdb_version);
}

TEST(ManifestJsonTest, RoundTripOfEveryField) {
  const Manifest m = FullManifest();
  const std::string json = m.ToJson();
  auto back = Manifest::FromJson(json, "m.json");
  ASSERT_TRUE(back.ok()) << back.status().message();
  ExpectSameManifest(m, *back);
  EXPECT_EQ(back->ToJson(), json);
}

// The text is what nlohmann's dump(2) makes of the same JSON: keys sorted, two-space
// indents, "[]" and "{}" when empty, control characters escaped.
TEST(ManifestJsonTest, TextIsTheCanonicalIndentedJson) {
  Manifest full = FullManifest();
  full.columns = {{"zone", "a\tb\x01"}, {"region", std::nullopt}, {"az", "\\"}};
  Manifest empty;
  empty.created_at = "2025-10-28T07:00:01Z";
  for (const Manifest& m : {full, empty}) {
    const std::string text = m.ToJson();
    EXPECT_EQ(text, nlohmann::json::parse(text).dump(2) + "\n");
  }
  EXPECT_NE(empty.ToJson().find("\"files\": [],"), std::string::npos) << empty.ToJson();
  EXPECT_NE(empty.ToJson().find("\"columns\": {},"), std::string::npos) << empty.ToJson();
}

TEST(ManifestJsonTest, RoundTripOfAMainLayoutPartitionWithoutOptionalFields) {
  Manifest m;
  m.dataset = "query_perf";
  m.layout = "query_perf/year={yyyy}/month={mm}/query_perf_{yyyy}{mm}{dd}.parquet";
  m.compression = "snappy";
  auto back = Manifest::FromJson(m.ToJson(), "m.json");
  ASSERT_TRUE(back.ok()) << back.status().message();
  ExpectSameManifest(m, *back);
  EXPECT_EQ(back->split, "");
  EXPECT_EQ(back->date, std::nullopt);
  EXPECT_EQ(back->hour, std::nullopt);
  EXPECT_TRUE(back->columns.empty());
  EXPECT_TRUE(back->files.empty());
}

TEST(ManifestJsonTest, DocumentShape) {
  const Manifest m = FullManifest();
  nlohmann::json j = nlohmann::json::parse(m.ToJson());
  EXPECT_EQ(j["format"], "pqflow.partition-manifest");
  EXPECT_EQ(j["version"], 1);
  EXPECT_EQ(j["dataset"], "events");
  EXPECT_EQ(j["split"], "by_region");
  EXPECT_EQ(j["partition"]["date"], "2025-10-28");
  EXPECT_EQ(j["partition"]["hour"], 7);
  EXPECT_TRUE(j["partition"]["columns"]["region"].is_null());
  EXPECT_EQ(j["partition"]["columns"]["workspace_id"], "ws/\"42\"\n");
  EXPECT_EQ(j["rows"], 1005);
  EXPECT_EQ(j["bytes"], 124245);
  ASSERT_EQ(j["files"].size(), 2u);
  EXPECT_EQ(j["files"][0]["path"], "ws%2F42/2025-10-28/07/events-0001.parquet");
  EXPECT_EQ(j["files"][1]["sha256"], "00ff");
  ASSERT_EQ(j["schema"].size(), 3u);
  EXPECT_EQ(j["schema"][1]["type"], "decimal(12,2)");
  EXPECT_EQ(j["schema"][0]["nullable"], false);
  EXPECT_EQ(j["source"]["fingerprint"], SourceFingerprint(m.sources));
  EXPECT_EQ(j["source"]["files"][0]["mtime_ns"], 1761609600123456789LL);
  EXPECT_EQ(j["duckdb_version"], "v1.4.4");

  Manifest main;
  main.dataset = "d";
  nlohmann::json mj = nlohmann::json::parse(main.ToJson());
  EXPECT_TRUE(mj["split"].is_null());
  EXPECT_TRUE(mj["partition"]["date"].is_null());
  EXPECT_TRUE(mj["partition"]["hour"].is_null());
  EXPECT_TRUE(mj["partition"]["columns"].is_object());
  EXPECT_EQ(main.ToJson().back(), '\n');
}

void ExpectCorruption(const std::string& text, const std::string& fragment) {
  auto m = Manifest::FromJson(text, "a/_x.manifest.json");
  ASSERT_FALSE(m.ok()) << text;
  EXPECT_EQ(m.status().code(), StatusCode::kCorruption) << m.status().message();
  EXPECT_EQ(m.status().message().rfind("a/_x.manifest.json: ", 0), 0u) << m.status().message();
  EXPECT_NE(m.status().message().find(fragment), std::string::npos) << m.status().message();
}

TEST(ManifestJsonTest, RejectsWrongFormatVersionAndMalformedJson) {
  nlohmann::json good = nlohmann::json::parse(FullManifest().ToJson());

  nlohmann::json wrong_format = good;
  wrong_format["format"] = "something-else";
  ExpectCorruption(wrong_format.dump(), "not a pqflow manifest");
  nlohmann::json no_format = good;
  no_format.erase("format");
  ExpectCorruption(no_format.dump(), "not a pqflow manifest");

  nlohmann::json v2 = good;
  v2["version"] = 2;
  ExpectCorruption(v2.dump(), "manifest version 2 is not supported");
  nlohmann::json v0 = good;
  v0.erase("version");
  ExpectCorruption(v0.dump(), "version");

  ExpectCorruption("", "malformed manifest");
  ExpectCorruption("{", "malformed manifest");
  ExpectCorruption(FullManifest().ToJson().substr(0, 200), "malformed manifest");
  ExpectCorruption("[1, 2, 3]", "");
  ExpectCorruption("\"just a string\"", "");
  ExpectCorruption("null", "");

  nlohmann::json string_version = good;
  string_version["version"] = "1";
  ExpectCorruption(string_version.dump(), "");
}

TEST(ManifestJsonTest, RejectsMissingOrMistypedFields) {
  nlohmann::json good = nlohmann::json::parse(FullManifest().ToJson());
  for (const char* field : {"dataset", "layout", "partition", "rows", "bytes", "files", "schema", "source"}) {
    SCOPED_TRACE(field);
    nlohmann::json j = good;
    j.erase(field);
    ExpectCorruption(j.dump(), "malformed manifest");
  }
  nlohmann::json rows_text = good;
  rows_text["rows"] = "1005";
  ExpectCorruption(rows_text.dump(), "malformed manifest");

  nlohmann::json file_without_size = good;
  file_without_size["files"][0].erase("bytes");
  ExpectCorruption(file_without_size.dump(), "malformed manifest");

  nlohmann::json bad_type = good;
  bad_type["schema"][0]["type"] = "int128";
  ExpectCorruption(bad_type.dump(), "unknown type 'int128'");

  nlohmann::json column_number = good;
  column_number["partition"]["columns"]["region"] = 5;
  ExpectCorruption(column_number.dump(), "malformed manifest");
}

TEST(ManifestJsonTest, RejectsPartitionWithoutDateOrHourKeys) {
  nlohmann::json good = nlohmann::json::parse(FullManifest().ToJson());
  nlohmann::json j = good;
  j["partition"].erase("date");
  j["partition"].erase("hour");
  ExpectCorruption(j.dump(), "malformed manifest");
}

TEST(ManifestPathTest, ManifestPathFor) {
  EXPECT_EQ(ManifestPathFor("a/b/pageviews_2026-01-15.parquet"), "a/b/_pageviews_2026-01-15.manifest.json");
  EXPECT_EQ(ManifestPathFor("pageviews_2026-01-15.parquet"), "_pageviews_2026-01-15.manifest.json");
  EXPECT_EQ(ManifestPathFor("ws_42/2025-10-28/07/events.parquet"), "ws_42/2025-10-28/07/_events.manifest.json");
  EXPECT_EQ(ManifestPathFor("query_perf/year=2025/month=10/query_perf_20251028.parquet"),
            "query_perf/year=2025/month=10/_query_perf_20251028.manifest.json");
}

TEST(ManifestPathTest, IsManifestPath) {
  EXPECT_TRUE(IsManifestPath("a/b/_pageviews_2026-01-15.manifest.json"));
  EXPECT_TRUE(IsManifestPath("_x.manifest.json"));
  EXPECT_TRUE(IsManifestPath(ManifestPathFor("ws_42/2025-10-28/07/events.parquet")));
  EXPECT_FALSE(IsManifestPath("a/b/pageviews_2026-01-15.manifest.json"));  // no '_'
  EXPECT_FALSE(IsManifestPath("a/_b/x.manifest.json"));                    // '_' on the folder only
  EXPECT_FALSE(IsManifestPath("a/b/_pageviews_2026-01-15.parquet"));
  EXPECT_FALSE(IsManifestPath("a/b/_x.manifest.json.tmp"));
  EXPECT_FALSE(IsManifestPath("_.manifest.json"));
  EXPECT_FALSE(IsManifestPath(""));
}

TEST(SourceFingerprintTest, ChangesWithPathSizeAndMtime) {
  const std::vector<ManifestSource> base = {{"/in/a.csv", 100, 1000}, {"/in/b.csv", 200, 2000}};
  const std::string fp = SourceFingerprint(base);
  EXPECT_EQ(fp.size(), 64u);
  EXPECT_EQ(fp.find_first_not_of("0123456789abcdef"), std::string::npos) << fp;
  EXPECT_EQ(SourceFingerprint(base), fp);  // deterministic

  auto size = base;
  size[1].size = 201;
  EXPECT_NE(SourceFingerprint(size), fp);
  auto mtime = base;
  mtime[0].mtime_ns = 1001;
  EXPECT_NE(SourceFingerprint(mtime), fp);
  auto path = base;
  path[0].path = "/in/c.csv";
  EXPECT_NE(SourceFingerprint(path), fp);
  auto fewer = base;
  fewer.pop_back();
  EXPECT_NE(SourceFingerprint(fewer), fp);
  // Field boundaries are unambiguous: moving digits between size and mtime changes it.
  EXPECT_NE(SourceFingerprint({{"/in/a.csv", 11, 1}}), SourceFingerprint({{"/in/a.csv", 1, 11}}));
  EXPECT_NE(SourceFingerprint({{"/in/a.csv1", 1, 1}}), SourceFingerprint({{"/in/a.csv", 11, 1}}));
  // The empty list has the SHA-256 of the empty string.
  EXPECT_EQ(SourceFingerprint({}), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

class PartitionCompleteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = tmp_.path();
    storage_ = storage::MakeLocalStorage(root_);
    ASSERT_TRUE(storage_->WriteFileAtomic("pv/2026/01/15/pageviews_2026-01-15.parquet", "PAR1-one-PAR1").ok());
    ASSERT_TRUE(storage_->WriteFileAtomic("pv/2026/01/15/pageviews_2026-01-15-0002.parquet", "PAR1-22-PAR1").ok());
    manifest_.dataset = "pageviews";
    manifest_.layout = "pv/{yyyy}/{mm}/{dd}/pageviews_{date}.parquet";
    manifest_.date = "2026-01-15";
    manifest_.files = {{"pv/2026/01/15/pageviews_2026-01-15.parquet", 3, 13, "aa", std::nullopt},
                       {"pv/2026/01/15/pageviews_2026-01-15-0002.parquet", 4, 12, "bb", std::nullopt}};
    manifest_.rows = 7;
    manifest_.bytes = 25;
    manifest_path_ = ManifestPathFor(manifest_.files[0].path);
  }
  void WriteManifest() { ASSERT_TRUE(storage_->WriteFileAtomic(manifest_path_, manifest_.ToJson()).ok()); }

  pqflow::testing::TempDir tmp_;
  std::string root_;
  std::unique_ptr<storage::Storage> storage_;
  Manifest manifest_;
  std::string manifest_path_;
};

TEST_F(PartitionCompleteTest, CompleteWhenEveryFileHasItsRecordedSize) {
  WriteManifest();
  EXPECT_EQ(manifest_path_, "pv/2026/01/15/_pageviews_2026-01-15.manifest.json");
  Manifest out;
  EXPECT_TRUE(PartitionIsComplete(*storage_, manifest_path_, &out));
  ExpectSameManifest(out, manifest_);
  EXPECT_TRUE(PartitionIsComplete(*storage_, manifest_path_, nullptr));

  auto read = ReadManifest(*storage_, manifest_path_);
  ASSERT_TRUE(read.ok()) << read.status().message();
  ExpectSameManifest(*read, manifest_);
}

TEST_F(PartitionCompleteTest, IncompleteWhenAFileIsMissing) {
  WriteManifest();
  ASSERT_TRUE(storage_->Delete(manifest_.files[1].path).ok());
  Manifest out;
  out.dataset = "untouched";
  EXPECT_FALSE(PartitionIsComplete(*storage_, manifest_path_, &out));
  EXPECT_EQ(out.dataset, "untouched");
}

TEST_F(PartitionCompleteTest, IncompleteWhenAFileHasAnotherSize) {
  WriteManifest();
  ASSERT_TRUE(storage_->WriteFileAtomic(manifest_.files[0].path, "PAR1-truncated").ok());  // 14 bytes, not 13
  EXPECT_FALSE(PartitionIsComplete(*storage_, manifest_path_, nullptr));
  ASSERT_TRUE(storage_->WriteFileAtomic(manifest_.files[0].path, "PAR1-one-PAR").ok());  // 12 bytes
  EXPECT_FALSE(PartitionIsComplete(*storage_, manifest_path_, nullptr));
  ASSERT_TRUE(storage_->WriteFileAtomic(manifest_.files[0].path, "PAR1-ONE-PAR1").ok());  // 13 again
  EXPECT_TRUE(PartitionIsComplete(*storage_, manifest_path_, nullptr));
}

TEST_F(PartitionCompleteTest, IncompleteWithoutAReadableManifest) {
  EXPECT_FALSE(PartitionIsComplete(*storage_, manifest_path_, nullptr));
  auto none = ReadManifest(*storage_, manifest_path_);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), StatusCode::kNotFound);

  ASSERT_TRUE(storage_->WriteFileAtomic(manifest_path_, "{\"format\": \"pqflow.partition-manifest\"").ok());
  EXPECT_FALSE(PartitionIsComplete(*storage_, manifest_path_, nullptr));
  auto corrupt = ReadManifest(*storage_, manifest_path_);
  ASSERT_FALSE(corrupt.ok());
  EXPECT_EQ(corrupt.status().code(), StatusCode::kCorruption);
  EXPECT_NE(corrupt.status().message().find(storage_->DisplayPath(manifest_path_)), std::string::npos)
      << corrupt.status().message();
}

}  // namespace
}  // namespace pqflow::sink
