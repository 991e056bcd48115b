// Datasets on S3 end to end: `pqflow export`, `query`, `validate` and `serve` with
// root = "s3://bucket/prefix" against s3rver behind the SigV4-verifying proxy, the objects
// listed and downloaded by Debian's awscli (another client sees what pqflow wrote), faults
// injected into S3 requests, and failures that must leave nothing half-written.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <thread>

#include "aws_environment.h"
#include "harness.h"
#include "s3_server.h"
#include "serve_process.h"

namespace pqflow::testing {
namespace {

std::string Config(const S3Server& s3, const std::string& prefix, const std::string& cache_dir,
                   const std::string& dataset_extra = "") {
  return "[storage]\nroot = \"s3://" + s3.options().bucket + "/" + prefix + "\"\nendpoint = \"" + s3.endpoint() +
         "\"\nregion = \"" + s3.options().region + "\"\ncache_dir = \"" + cache_dir + "\"\n" + R"toml(
[datasets.pv]
layout = "analytics/pageviews/{YYYY}/{MM}/{DD}/pageviews_{YYYY-MM-DD}.parquet"
time_column = "date"
compression = "zstd"
)toml" + dataset_extra + R"toml(
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
name = "date"
type = "date"
nullable = false
)toml";
}

// n rows over 3 days from 2026-01-13, ids from first_id; view_count = id % 7 + 1.
std::string Csv(int n, int first_id = 1) {
  std::string csv = "id,project_slug,view_count,date\n";
  for (int i = first_id; i < first_id + n; ++i) {
    csv += std::to_string(i) + ",proj-" + std::to_string(i % 4) + "," + std::to_string(i % 7 + 1) + ",2026-01-" +
           std::to_string(13 + i % 3) + "\n";
  }
  return csv;
}

int64_t Views(int n, int first_id = 1, int only_day = -1) {
  int64_t s = 0;
  for (int i = first_id; i < first_id + n; ++i) {
    if (only_day < 0 || 13 + i % 3 == only_day) s += i % 7 + 1;
  }
  return s;
}

// Debian's awscli (/usr/bin/aws), else whichever `aws` is on PATH.
std::string AwsCli() { return access("/usr/bin/aws", X_OK) == 0 ? "/usr/bin/aws" : "aws"; }

class S3DatasetTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { s3_ = S3Server::Start().release(); }
  static void TearDownTestSuite() {
    delete s3_;
    s3_ = nullptr;
  }
  void SetUp() override {
    env_ = std::make_unique<AwsEnvironment>(*s3_, dir_.path());
    prefix_ = ::testing::UnitTest::GetInstance()->current_test_info()->name();
  }
  void TearDown() override {
    s3_->SetFaults({});
    EXPECT_TRUE(s3_->PendingMultipartUploads().empty()) << "a multipart upload was left behind";
  }

  void UseConfig(const std::string& prefix, const std::string& extra = "") {
    WriteFile(dir_ / "pqflow.toml", Config(*s3_, prefix, dir_ / "cache", extra));
  }
  CommandResult Run(std::vector<std::string> args) {
    args.insert(args.begin(), {"--config", dir_ / "pqflow.toml"});
    return Pqflow(args, dir_.path());
  }
  CommandResult Aws(std::vector<std::string> args) {
    args.insert(args.begin(), {AwsCli(), "--endpoint-url", s3_->endpoint(), "--region", s3_->options().region});
    return RunCommand(args, dir_.path());
  }
  // Keys under s3://bucket/<prefix>/ as awscli lists them (relative to the prefix), with sizes.
  std::map<std::string, int64_t> AwsList(const std::string& prefix) {
    CommandResult r = Aws({"s3", "ls", "--recursive", "s3://" + s3_->options().bucket + "/" + prefix + "/"});
    EXPECT_TRUE(r.exit_code == 0 || (r.exit_code == 1 && r.out.empty())) << r.err;
    std::map<std::string, int64_t> out;
    std::istringstream lines(r.out);
    std::string date, time, key;
    int64_t size = 0;
    while (lines >> date >> time >> size >> key) out[key.substr(prefix.size() + 1)] = size;
    return out;
  }
  static std::vector<std::string> WithSuffix(const std::map<std::string, int64_t>& keys, const std::string& suffix) {
    std::vector<std::string> out;
    for (const auto& [k, size] : keys) {
      if (k.ends_with(suffix)) out.push_back(k);
    }
    return out;
  }

  static S3Server* s3_;
  TempDir dir_;
  std::unique_ptr<AwsEnvironment> env_;
  std::string prefix_;
};
S3Server* S3DatasetTest::s3_ = nullptr;

TEST_F(S3DatasetTest, ExportIsReadByAwscliHyparquetAndPqflowQueryWhichFetchesOnlyWhatItPrunesTo) {
  UseConfig("lake");
  WriteFile(dir_ / "in/all.csv", Csv(3000));
  CommandResult r = Run({"export", "pv", "--input", dir_ / "in/all.csv", "--split-by", "project"});
  ASSERT_EQ(r.exit_code, 0) << r.err;

  // Another client sees exactly the layout: 3 main files, 4 projects x 3 days of splits,
  // a manifest per partition, no staging leftovers.
  auto keys = AwsList("lake");
  EXPECT_EQ(WithSuffix(keys, ".parquet").size(), 3u + 12u);
  EXPECT_EQ(keys.count("analytics/pageviews/2026/01/14/pageviews_2026-01-14.parquet"), 1u);
  EXPECT_EQ(keys.count("analytics/pageviews/project/proj-2/2026/01/15/pageviews_2026-01-15.parquet"), 1u);
  EXPECT_EQ(WithSuffix(keys, ".manifest.json").size(), 15u);
  EXPECT_TRUE(WithSuffix(keys, ".tmp").empty());

  // Downloaded by awscli, read by DuckDB and by hyparquet.
  r = Aws({"s3", "cp", "--recursive", "--quiet", "s3://" + s3_->options().bucket + "/lake/analytics", dir_ / "dl"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(DuckScalar("SELECT sum(view_count) FROM read_parquet('" + (dir_ / "dl/pageviews/2026/*/*/*.parquet") + "')"),
            std::to_string(Views(3000)));
  auto hyp = ReadWithHyparquet({dir_ / "dl/pageviews/2026"});
  EXPECT_EQ(hyp["total_rows"], 3000);
  EXPECT_EQ(hyp["columns"]["view_count"]["sum"].dump(), nlohmann::json(Views(3000)).dump());

  // A query reads (and fetches) only the partition its filter selects...
  r = Run({"query", "--explain", "SELECT sum(view_count) FROM pv WHERE date = DATE '2026-01-14'"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("pv: 1 of 3 files"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("fetched 1 of them"), std::string::npos) << r.out;
  r = Run({"query", "--format", "csv", "SELECT sum(view_count) AS v FROM pv WHERE date = DATE '2026-01-14'"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "v\n" + std::to_string(Views(3000, 1, 14)) + "\n");
  // ...and the next query finds it in the cache.
  r = Run({"query", "--explain", "SELECT count(*) FROM pv WHERE date = DATE '2026-01-14'"});
  EXPECT_EQ(r.out.find("fetched"), std::string::npos) << r.out;
  r = Run({"query", "--format", "csv", "SELECT sum(view_count) AS v, count(*) AS n FROM pv"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "v,n\n" + std::to_string(Views(3000)) + ",3000\n");
  EXPECT_EQ(Run({"validate", "pv"}).exit_code, 0);  // every file against its manifest's SHA-256

  // A re-run is idempotent: nothing is uploaded again.
  r = Run({"export", "pv", "--input", dir_ / "in/all.csv", "--split-by", "project"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("already exists, skipping"), std::string::npos) << r.out;
  auto again = AwsList("lake");
  EXPECT_EQ(WithSuffix(again, ".parquet"), WithSuffix(keys, ".parquet"));
  EXPECT_EQ(WithSuffix(again, ".manifest.json"), WithSuffix(keys, ".manifest.json"));
  EXPECT_EQ(s3_->Stats().rejected, 0);  // every request pqflow and awscli sent was correctly signed
}

TEST_F(S3DatasetTest, AnAggregationFetchesOnlyTheDaysOfItsTimeRange) {
  UseConfig(prefix_);
  WriteFile(dir_ / "in/all.csv", Csv(3000));
  ASSERT_EQ(Run({"export", "pv", "--input", dir_ / "in/all.csv"}).exit_code, 0);
  CommandResult r = Run({"aggregate", "--format", "csv",
                         R"({"dataset": "pv", "aggregations": [{"function": "sum", "column": "view_count", "as": "v"}],)"
                         R"( "time": {"column": "date", "from": "2026-01-15", "to": "2026-01-16"}})"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "v\n" + std::to_string(Views(3000, 1, 15)) + "\n");
  // The spec is checked against the declared columns: no file was read for that, and the
  // query itself fetched the one day it needs.
  const std::string cached = dir_ / ("cache/s3/" + s3_->options().bucket + "/" + prefix_ + "/cache/objects");
  EXPECT_EQ(ListFiles(cached, ".parquet"), std::vector<std::string>{"analytics/pageviews/2026/01/15/pageviews_2026-01-15.parquet"});
}

TEST_F(S3DatasetTest, OverwriteWritesNewNamesSwitchesTheManifestThenDeletesTheOldFiles) {
  UseConfig(prefix_, "max_file_size = \"40KB\"\nrow_group_size = 1024\n");
  std::string config = ReadFile(dir_ / "pqflow.toml");  // uncompressed, so that a day needs several files
  config.replace(config.find("\"zstd\""), 6, "\"uncompressed\"");
  WriteFile(dir_ / "pqflow.toml", config);
  WriteFile(dir_ / "in/all.csv", Csv(30000));
  CommandResult r = Run({"export", "pv", "--input", dir_ / "in/all.csv"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto before = WithSuffix(AwsList(prefix_), ".parquet");
  ASSERT_GT(before.size(), 3u);  // several files per day
  EXPECT_EQ(before[0], "analytics/pageviews/2026/01/13/pageviews_2026-01-13-0001.parquet");

  WriteFile(dir_ / "in/all.csv", Csv(20000, 100000));
  r = Run({"export", "pv", "--input", dir_ / "in/all.csv", "--overwrite"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto after = WithSuffix(AwsList(prefix_), ".parquet");
  // Not one old name survives (the old files were deleted) nor is reused (overwritten in place).
  for (const auto& key : after) EXPECT_EQ(std::count(before.begin(), before.end(), key), 0) << key;
  EXPECT_EQ(Run({"validate", "pv"}).exit_code, 0);  // the manifests list exactly the new files
  r = Run({"query", "--format", "csv", "SELECT count(*) AS n, min(id) AS lo FROM pv"});
  EXPECT_EQ(r.out, "n,lo\n20000,100000\n");
}

TEST_F(S3DatasetTest, InjectedFaultsAreRetriedAndTheOutputIsIdentical) {
  WriteFile(dir_ / "in/all.csv", Csv(6000));
  UseConfig(prefix_ + "-clean");
  CommandResult r = Run({"export", "pv", "--input", dir_ / "in/all.csv", "--split-by", "project"});
  ASSERT_EQ(r.exit_code, 0) << r.err;

  UseConfig(prefix_ + "-faulty");
  const int faults_before = s3_->Stats().faults;
  s3_->SetFaults({0.25, {"500", "503", "slowdown", "drop", "slow"}, "", ""});
  r = Run({"export", "pv", "--input", dir_ / "in/all.csv", "--split-by", "project"});
  s3_->SetFaults({});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_GT(s3_->Stats().faults, faults_before + 3);

  // The same objects, byte for byte (sizes here; the manifests' SHA-256 by validate), and
  // no duplicates: a retried PUT replaces, it does not add.
  auto clean = AwsList(prefix_ + "-clean");
  auto faulty = AwsList(prefix_ + "-faulty");
  EXPECT_EQ(WithSuffix(clean, ".parquet"), WithSuffix(faulty, ".parquet"));
  for (const auto& key : WithSuffix(clean, ".parquet")) EXPECT_EQ(clean[key], faulty[key]) << key;
  EXPECT_EQ(WithSuffix(faulty, ".manifest.json").size(), WithSuffix(clean, ".manifest.json").size());
  EXPECT_EQ(Run({"validate", "pv"}).exit_code, 0);
  // And the same rows: an order-independent hash of every row of both copies.
  const std::string rows_hash = "SELECT count(*) AS n, sum(hash(id, project_slug, view_count, date)) AS h FROM pv";
  CommandResult faulty_rows = Run({"query", "--format", "csv", rows_hash});
  UseConfig(prefix_ + "-clean");
  CommandResult clean_rows = Run({"query", "--format", "csv", rows_hash});
  ASSERT_EQ(faulty_rows.exit_code, 0) << faulty_rows.err;
  EXPECT_EQ(faulty_rows.out, clean_rows.out);
  EXPECT_EQ(faulty_rows.out.substr(0, faulty_rows.out.find(',', 2)), "n,h\n6000");
}

TEST_F(S3DatasetTest, ARunThatFailsLeavesNoNewObjectAndTheRerunCompletes) {
  UseConfig(prefix_);
  WriteFile(dir_ / "in/all.csv", Csv(3000));
  // Every manifest upload fails (after the data files went up): the run must take its new
  // files back, so nothing half-written is visible.
  s3_->SetFaults({1.0, {"500"}, ".manifest.json", "PUT"});
  CommandResult r = Run({"export", "pv", "--input", dir_ / "in/all.csv"});
  s3_->SetFaults({});
  ASSERT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("manifest"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("500"), std::string::npos) << r.err;
  EXPECT_TRUE(WithSuffix(AwsList(prefix_), ".parquet").empty());

  r = Run({"export", "pv", "--input", dir_ / "in/all.csv"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto complete = AwsList(prefix_);
  EXPECT_EQ(WithSuffix(complete, ".parquet").size(), 3u);

  // An --overwrite that fails the same way leaves the previous version whole.
  WriteFile(dir_ / "in/all.csv", Csv(600, 50000));
  s3_->SetFaults({1.0, {"500"}, ".manifest.json", "PUT"});
  r = Run({"export", "pv", "--input", dir_ / "in/all.csv", "--overwrite"});
  s3_->SetFaults({});
  ASSERT_NE(r.exit_code, 0);
  EXPECT_EQ(Run({"validate", "pv"}).exit_code, 0);
  r = Run({"query", "--format", "csv", "SELECT count(*) AS n FROM pv"});
  EXPECT_EQ(r.out, "n\n3000\n");
}

TEST_F(S3DatasetTest, AnUnreachableEndpointIsAClearError) {
  WriteFile(dir_ / "pqflow.toml", Config(*s3_, prefix_, dir_ / "cache"));
  std::string text = ReadFile(dir_ / "pqflow.toml");
  text.replace(text.find(s3_->endpoint()), s3_->endpoint().size(), "http://127.0.0.1:9");  // discard port: refused
  WriteFile(dir_ / "pqflow.toml", text);
  WriteFile(dir_ / "in/all.csv", Csv(30));
  CommandResult r = Run({"export", "pv", "--input", dir_ / "in/all.csv"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("127.0.0.1 port 9"), std::string::npos) << r.err;
  // The first request (the check for an interrupted earlier run) already fails, naming where.
  EXPECT_NE(r.err.find("s3://" + s3_->options().bucket + "/" + prefix_ + "/"), std::string::npos) << r.err;
  r = Run({"query", "SELECT count(*) FROM pv"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("127.0.0.1 port 9"), std::string::npos) << r.err;
}

TEST_F(S3DatasetTest, TheEventSinkWritesItsHourlyFilesToS3) {
  auto [key, key_toml] = NewApiKey("ingest", "ingest,query");
  WriteFile(dir_ / "pqflow.toml", "[storage]\nroot = \"s3://" + s3_->options().bucket + "/" + prefix_ +
                                      "\"\nendpoint = \"" + s3_->endpoint() + "\"\nregion = \"" +
                                      s3_->options().region + "\"\ncache_dir = \"" + (dir_ / "cache") +
                                      "\"\n[server]\nlisten = \"127.0.0.1:0\"\nwal_dir = \"" + (dir_ / "wal") +
                                      "\"\n" + key_toml);
  ServeProcess serve(dir_.path());
  ASSERT_TRUE(serve.Start()) << serve.Log();
  std::string body;
  for (int i = 0; i < 50; ++i) {
    body += R"({"timestamp": 1767225600000, "workspace_id": )" + std::to_string(i % 2 ? 7 : 42) +
            R"(, "event_type": "track", "event_name": "e)" + std::to_string(i) + "\"}\n";
  }
  HttpReply reply = serve.Post("/v1/streams/events", body, key);
  ASSERT_EQ(reply.status, 200) << reply.body;
  // Acknowledged rows are visible to queries before they reach S3...
  reply = serve.Post("/v1/query?format=csv", "SELECT count(*) AS n FROM events", key, {{"Content-Type", "text/plain"}});
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(reply.body, "n\n50\n");
  ASSERT_EQ(serve.Stop(), 0) << serve.Log();
  // ...and a clean stop writes every buffer: {workspace_id}/{date}/{hour}/events.parquet.
  auto keys = AwsList(prefix_);
  EXPECT_EQ(keys.count("parquet/42/2026-01-01/00/events.parquet"), 1u) << ::testing::PrintToString(keys);
  EXPECT_EQ(keys.count("parquet/7/2026-01-01/00/events.parquet"), 1u);
  CommandResult r = Run({"query", "--format", "csv", "SELECT workspace_id, count(*) AS n FROM events GROUP BY 1 ORDER BY 1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "workspace_id,n\n7,25\n42,25\n");
}

TEST_F(S3DatasetTest, AfterACrashTheSinkWritesEveryAcknowledgedRowToS3ExactlyOnce) {
  auto [key, key_toml] = NewApiKey("ingest", "ingest,query");
  WriteFile(dir_ / "pqflow.toml", "[storage]\nroot = \"s3://" + s3_->options().bucket + "/" + prefix_ +
                                      "\"\nendpoint = \"" + s3_->endpoint() + "\"\nregion = \"" +
                                      s3_->options().region + "\"\ncache_dir = \"" + (dir_ / "cache") +
                                      "\"\n[server]\nlisten = \"127.0.0.1:0\"\nwal_dir = \"" + (dir_ / "wal") +
                                      "\"\n" + key_toml + "\n[streams.events]\nmax_rows = 20\n");
  ServeProcess serve(dir_.path());
  ASSERT_TRUE(serve.Start()) << serve.Log();
  auto batch = [](int from, int to) {
    std::string body;
    for (int i = from; i < to; ++i) {
      body += R"({"timestamp": 1767225600000, "workspace_id": )" + std::to_string(i % 2 ? 7 : 42) +
              R"(, "event_type": "track", "event_name": "e)" + std::to_string(i) + "\"}\n";
    }
    return body;
  };
  // 20 rows per workspace: a full file each goes up at once...
  ASSERT_EQ(serve.Post("/v1/streams/events", batch(0, 40), key).status, 200);
  for (int i = 0; i < 100 && WithSuffix(AwsList(prefix_), ".parquet").size() < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(WithSuffix(AwsList(prefix_), ".parquet").size(), 2u);
  // ...and 5 more each stay buffered (acknowledged: in the WAL).
  ASSERT_EQ(serve.Post("/v1/streams/events", batch(40, 50), key).status, 200);
  serve.Kill();
  // The restart replays the whole WAL, recognises the 40 rows already on S3 (from the files'
  // footers) and buffers only the other 10; a clean stop writes them.
  ASSERT_TRUE(serve.Start()) << serve.Log();
  ASSERT_EQ(serve.Stop(), 0) << serve.Log();
  EXPECT_EQ(WithSuffix(AwsList(prefix_), ".parquet").size(), 4u);
  CommandResult r = Run({"query", "--format", "csv", "SELECT count(*) AS n, count(DISTINCT event_name) AS d FROM events"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "n,d\n50,50\n");
}

}  // namespace
}  // namespace pqflow::testing
