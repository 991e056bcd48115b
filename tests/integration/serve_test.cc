// `pqflow serve` end to end: the real binary over real HTTP, files read back by DuckDB and
// by hyparquet. Schemas and layout of every built-in stream, atomic rejection with line
// errors, auth and workspace restriction, body limits, gzip, late events, restart replay.
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "harness.h"
#include "serve_process.h"

namespace pqflow::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

int64_t EpochMs(int y, int mo, int d, int h, int mi, int s) {
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  return static_cast<int64_t>(timegm(&tm)) * 1000;
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Waits until every path exists under `root` (files appear when their hour is written).
bool WaitForFiles(const std::string& root, const std::vector<std::string>& paths, int seconds = 20) {
  for (int i = 0; i < seconds * 10; ++i) {
    bool all = true;
    for (const auto& p : paths) all = all && fs::exists(root + "/" + p);
    if (all) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

class ServeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ingest_ = NewApiKey("ingest-all", "ingest");
    ws42_ = NewApiKey("ingest-42", "ingest", "42");
    admin_ = NewApiKey("admin", "admin");
    query_ = NewApiKey("query-only", "query");
  }

  // Writes pqflow.toml: storage in data/, WAL in wal/, the keys, closed hours written at once.
  void WriteConfig(const std::string& server_extra = "", const std::string& streams_extra = "") {
    std::string toml = "[storage]\nroot = \"data\"\n\n[server]\nlisten = \"127.0.0.1:0\"\nwal_dir = \"wal\"\n" +
                       server_extra + "\n";
    for (const auto* k : {&ingest_, &ws42_, &admin_, &query_}) toml += k->second + "\n";
    for (const char* s : {"events", "logs", "snapshots"}) toml += "[streams." + std::string(s) + "]\ngrace = \"0s\"\n";
    toml += streams_extra;
    WriteFile(dir_ / "pqflow.toml", toml);
  }

  std::string Data() const { return dir_ / "data"; }

  TempDir dir_;
  std::pair<std::string, std::string> ingest_, ws42_, admin_, query_;
};

// `pqflow serve` runs in the pqflow-serve beside the binary; without it, the error names it.
TEST(ServeCompanionTest, WithoutPqflowServeBesideItServeFailsNamingIt) {
  TempDir dir;
  fs::copy_file(PQFLOW_BINARY, dir / "pqflow");
  fs::permissions(dir / "pqflow", fs::perms::owner_exec, fs::perm_options::add);
  CommandResult alone = RunCommand({dir / "pqflow", "serve", "--listen", "127.0.0.1:0"}, dir.path());
  EXPECT_NE(alone.exit_code, 0);
  EXPECT_NE(alone.err.find("pqflow serve: starting " + (dir / "pqflow-serve")), std::string::npos) << alone.err;
  EXPECT_NE(alone.err.find("No such file or directory"), std::string::npos) << alone.err;
  // Every other command works without it.
  CommandResult version = RunCommand({dir / "pqflow", "--version"}, dir.path());
  EXPECT_EQ(version.exit_code, 0) << version.err;
  CommandResult help = RunCommand({dir / "pqflow", "serve", "--help"}, dir.path());
  EXPECT_EQ(help.exit_code, 0) << help.err;
  EXPECT_NE(help.out.find("--allow-unauthenticated"), std::string::npos) << help.out;
}

// What every command pays before main: pqflow links none of the libraries that only some
// commands need (they are opened on first use, or live in pqflow-serve).
TEST(ServeCompanionTest, PqflowLinksNeitherTheHttpServerNorOpenSslNorTheClientLibraries) {
  CommandResult needed = RunCommand({"readelf", "--dynamic", PQFLOW_BINARY}, PQFLOW_SOURCE_DIR);
  ASSERT_EQ(needed.exit_code, 0) << needed.err;
  ASSERT_NE(needed.out.find("[libduckdb.so]"), std::string::npos) << needed.out;  // the output is what we think
  for (const char* library : {"libcpp-httplib", "libssl", "libcrypto", "libpq", "libcurl", "libbrotli", "libz."}) {
    EXPECT_EQ(needed.out.find(std::string("[") + library), std::string::npos) << library << " in\n" << needed.out;
  }
}

TEST_F(ServeTest, EveryBuiltinStreamIsWrittenWithTheSeedSchemaAndLayout) {
  WriteConfig();
  ServeProcess serve(dir_.path());
  ASSERT_TRUE(serve.Start()) << serve.Log();
  const int64_t t10 = EpochMs(2026, 1, 15, 10, 15, 0), t11 = EpochMs(2026, 1, 15, 11, 20, 0);
  const int64_t before = NowMs();
  std::string events =
      "{\"timestamp\":" + std::to_string(t10) +
      ",\"workspace_id\":42,\"event_type\":\"track\",\"event_name\":\"page_view\","
      "\"device_id\":\"6f1c2a9e-0b4d-4c5e-9a7b-1d2e3f405162\",\"session_id\":\"00000000-0000-0000-0000-000000000001\","
      "\"source_ip\":\"10.0.0.1\",\"payload\":{\"path\":\"/docs\",\"ms\":12}}\n"
      "{\"timestamp\":" + std::to_string(t10 + 1000) +
      ",\"workspace_id\":42,\"event_type\":\"identify\",\"source_ip\":\"2001:db8::1\",\"payload\":{}}\n"
      "\n"
      "{\"timestamp\":" + std::to_string(t11) + ",\"workspace_id\":42,\"event_type\":\"alias\"}\n"
      "{\"timestamp\":" + std::to_string(t10) + ",\"workspace_id\":7,\"event_type\":\"group\",\"event_name\":\"x\"}";
  HttpReply r = serve.Post("/v1/streams/events", events, ingest_.first);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)["accepted"], 4);
  std::string logs = "{\"timestamp\":" + std::to_string(t10) +
                     ",\"workspace_id\":42,\"level\":\"error\",\"event_type\":\"log\",\"source\":\"web-1\","
                     "\"service\":\"api\",\"source_ip\":\"192.168.1.20\",\"payload\":\"disk full\"}\n";
  ASSERT_EQ(serve.Post("/v1/streams/logs", logs, ingest_.first).status, 200);
  std::string snapshots = "{\"timestamp\":" + std::to_string(t10) +
                          ",\"workspace_id\":42,\"source\":\"github\",\"entity\":\"user/repo\","
                          "\"payload\":{\"stars\":3}}\n";
  ASSERT_EQ(serve.Post("/v1/streams/snapshots", snapshots, ingest_.first).status, 200);
  const int64_t after = NowMs();

  // Closed hours (grace 0) are written without waiting for shutdown.
  const std::vector<std::string> files = {
      "parquet/42/2026-01-15/10/events.parquet", "parquet/42/2026-01-15/11/events.parquet",
      "parquet/7/2026-01-15/10/events.parquet", "parquet/42/2026-01-15/10/logs.parquet",
      "parquet/42/2026-01-15/10/snapshots.parquet"};
  ASSERT_TRUE(WaitForFiles(Data(), files)) << serve.Log();
  EXPECT_EQ(serve.Stop(), 0) << serve.Log();
  EXPECT_NE(serve.Log().find("pqflow serve: wrote parquet/7/2026-01-15/10/events.parquet rows=1 bytes="), std::string::npos)
      << serve.Log();
  EXPECT_EQ(ListFiles(Data(), ".parquet"), (std::vector<std::string>{
                                               "parquet/42/2026-01-15/10/events.parquet",
                                               "parquet/42/2026-01-15/10/logs.parquet",
                                               "parquet/42/2026-01-15/10/snapshots.parquet",
                                               "parquet/42/2026-01-15/11/events.parquet",
                                               "parquet/7/2026-01-15/10/events.parquet"}));

  const std::string ev = "'" + Data() + "/parquet/42/2026-01-15/10/events.parquet'";
  EXPECT_EQ(DuckScalar("SELECT string_agg(column_name || ' ' || column_type, ', ') FROM (DESCRIBE SELECT * FROM " + ev + ")"),
            "timestamp BIGINT, batch_timestamp BIGINT, workspace_id UBIGINT, event_type VARCHAR, event_name VARCHAR, "
            "device_id UUID, session_id UUID, source_ip BLOB, payload BLOB");
  EXPECT_EQ(DuckScalar("SELECT string_agg(concat_ws('|', timestamp, workspace_id, event_type, coalesce(event_name, 'NULL'), "
                       "coalesce(device_id::VARCHAR, 'NULL'), coalesce(session_id::VARCHAR, 'NULL'), hex(source_ip), "
                       "decode(payload)), ' ; ' ORDER BY timestamp) FROM " + ev),
            std::to_string(t10) + "|42|track|page_view|6f1c2a9e-0b4d-4c5e-9a7b-1d2e3f405162|00000000-0000-0000-0000-000000000001|"
            "00000000000000000000FFFF0A000001|{\"path\":\"/docs\",\"ms\":12} ; " + std::to_string(t10 + 1000) +
            "|42|identify|NULL|NULL|NULL|20010DB8000000000000000000000001|{}");
  const int64_t batch_ts = std::stoll(DuckScalar("SELECT min(batch_timestamp) FROM " + ev));
  EXPECT_GE(batch_ts, before);
  EXPECT_LE(batch_ts, after);
  EXPECT_EQ(DuckScalar("SELECT count(*) FROM read_parquet('" + Data() + "/parquet/*/*/*/*.parquet', union_by_name=true)"), "6");
  EXPECT_EQ(DuckScalar("SELECT string_agg(column_name, ',') FROM (DESCRIBE SELECT * FROM '" + Data() +
                       "/parquet/42/2026-01-15/10/logs.parquet')"),
            "timestamp,batch_timestamp,workspace_id,level,event_type,source,service,session_id,source_ip,payload");
  EXPECT_EQ(DuckScalar("SELECT decode(payload) || '|' || level || '|' || hex(source_ip) FROM '" + Data() +
                       "/parquet/42/2026-01-15/10/logs.parquet'"),
            "disk full|error|00000000000000000000FFFFC0A80114");
  EXPECT_EQ(DuckScalar("SELECT string_agg(column_name, ',') FROM (DESCRIBE SELECT * FROM '" + Data() +
                       "/parquet/42/2026-01-15/10/snapshots.parquet')"),
            "timestamp,batch_timestamp,workspace_id,source,entity,source_ip,payload");

  // An independent reader sees the same schema and values.
  json h = ReadWithHyparquet({Data() + "/parquet/42/2026-01-15/10/events.parquet"}, true);
  std::map<std::string, json> schema;
  for (const auto& e : h["files"][0]["schema"]) schema[e["name"]] = e;
  EXPECT_EQ(schema["timestamp"]["physical"], "INT64");
  EXPECT_EQ(schema["workspace_id"]["physical"], "INT64");
  EXPECT_EQ(schema["device_id"]["physical"], "FIXED_LEN_BYTE_ARRAY");
  EXPECT_EQ(schema["device_id"]["type_length"], 16);
  EXPECT_EQ(schema["device_id"]["logical"], "UUID");
  EXPECT_EQ(schema["source_ip"]["physical"], "BYTE_ARRAY");
  EXPECT_EQ(schema["payload"]["physical"], "BYTE_ARRAY");
  EXPECT_EQ(h["files"][0]["codecs"], json::array({"SNAPPY"}));
  ASSERT_EQ(h["rows"].size(), 2u);
  EXPECT_EQ(h["rows"][0]["device_id"], "6f1c2a9e-0b4d-4c5e-9a7b-1d2e3f405162");
  EXPECT_EQ(h["rows"][0]["source_ip"], "00000000000000000000ffff0a000001");
  EXPECT_EQ(h["rows"][0]["workspace_id"], "42");
  EXPECT_EQ(h["rows"][0]["timestamp"], std::to_string(t10));
  json logs_h = ReadWithHyparquet({Data() + "/parquet/42/2026-01-15/10/logs.parquet"}, true);
  EXPECT_EQ(logs_h["rows"][0]["level"], "error");
  EXPECT_EQ(logs_h["rows"][0]["source_ip"], "00000000000000000000ffffc0a80114");
  EXPECT_EQ(logs_h["rows"][0]["payload"], "6469736b2066756c6c");  // "disk full"
  json snap_h = ReadWithHyparquet({Data() + "/parquet/42/2026-01-15/10/snapshots.parquet"}, true);
  EXPECT_EQ(snap_h["rows"][0]["entity"], "user/repo");
  EXPECT_EQ(snap_h["files"][0]["schema"].size(), 7u);
}

TEST_F(ServeTest, AnInvalidBatchIsRejectedWholeWithLineErrors) {
  WriteConfig();
  ServeProcess serve(dir_.path());
  ASSERT_TRUE(serve.Start()) << serve.Log();
  const std::string t = std::to_string(EpochMs(2026, 1, 15, 10, 0, 0));
  std::string body = "{\"timestamp\":" + t + ",\"workspace_id\":1,\"event_type\":\"track\"}\n"
                     "{\"timestamp\":" + t + ",\"workspace_id\":1,\"event_type\":\"trak\"}\n"
                     "{\"timestamp\":" + t + ",\"workspace_id\":-3,\"event_type\":\"track\"}\n"
                     "not json\n"
                     "{\"timestamp\":" + t + ",\"workspace_id\":1,\"event_type\":\"track\",\"device_id\":\"nope\"}\n";
  HttpReply r = serve.Post("/v1/streams/events", body, ingest_.first);
  ASSERT_EQ(r.status, 400) << r.body;
  json j = json::parse(r.body);
  ASSERT_EQ(j["errors"].size(), 4u) << r.body;
  EXPECT_EQ(j["errors"][0]["line"], 2);
  EXPECT_EQ(j["errors"][0]["field"], "event_type");
  EXPECT_NE(j["errors"][0]["reason"].get<std::string>().find("expected one of track, identify, group, alias, enrich"),
            std::string::npos);
  EXPECT_EQ(j["errors"][1]["line"], 3);
  EXPECT_EQ(j["errors"][1]["field"], "workspace_id");
  EXPECT_EQ(j["errors"][2]["line"], 4);
  EXPECT_EQ(j["errors"][3]["line"], 5);
  EXPECT_EQ(j["errors"][3]["field"], "device_id");
  // A timestamp far ahead of the clock is refused too (it would hold a buffer for years).
  r = serve.Post("/v1/streams/events", "{\"timestamp\":" + std::to_string(NowMs() + 3LL * 86400000) +
                                           ",\"workspace_id\":1,\"event_type\":\"track\"}", ingest_.first);
  ASSERT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(json::parse(r.body)["errors"][0]["field"], "timestamp");
  // Unknown stream.
  r = serve.Post("/v1/streams/nope", body, ingest_.first);
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(r.body.find("unknown stream 'nope'"), std::string::npos) << r.body;

  EXPECT_EQ(serve.Stop(), 0) << serve.Log();
  EXPECT_TRUE(ListFiles(Data(), ".parquet").empty());  // the valid first line was not kept either
}

TEST_F(ServeTest, KeysScopesAndWorkspaceRestrictions) {
  WriteConfig();
  ServeProcess serve(dir_.path());
  ASSERT_TRUE(serve.Start()) << serve.Log();
  const std::string t = std::to_string(EpochMs(2026, 1, 15, 10, 0, 0));
  auto line = [&](int ws) { return "{\"timestamp\":" + t + ",\"workspace_id\":" + std::to_string(ws) + ",\"event_type\":\"track\"}\n"; };

  EXPECT_EQ(serve.Get("/health").status, 200);  // open
  json health = json::parse(serve.Get("/health").body);
  EXPECT_EQ(health["status"], "ok");
  EXPECT_EQ(health["duckdb_version"], "v1.4.4");
  EXPECT_TRUE(health.contains("wal_bytes") && health.contains("buffered_rows") && health.contains("last_write"));

  HttpReply r = serve.Post("/v1/streams/events", line(1), "");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.headers["WWW-Authenticate"], "Bearer");
  EXPECT_EQ(serve.Post("/v1/streams/events", line(1), "pqf_not-a-real-key").status, 401);
  r = serve.Post("/v1/streams/events", line(1), query_.first);
  EXPECT_EQ(r.status, 403);
  EXPECT_NE(r.body.find("lacks the ingest scope"), std::string::npos) << r.body;
  r = serve.Post("/v1/streams/events", line(42) + line(7), ws42_.first);
  EXPECT_EQ(r.status, 403);
  EXPECT_NE(r.body.find("workspace_id 7"), std::string::npos) << r.body;
  EXPECT_EQ(json::parse(r.body)["errors"][0]["line"], 2);
  EXPECT_EQ(serve.Post("/v1/streams/events", line(42), ws42_.first).status, 200);
  EXPECT_EQ(serve.Post("/v1/streams/events", line(7), admin_.first).status, 200);  // admin implies ingest

  EXPECT_EQ(serve.Get("/metrics").status, 401);
  EXPECT_EQ(serve.Get("/metrics", ingest_.first).status, 403);
  ASSERT_TRUE(WaitForFiles(Data(), {"parquet/42/2026-01-15/10/events.parquet", "parquet/7/2026-01-15/10/events.parquet"}));
  // The counters move just after a file is published: wait for them to settle.
  for (int i = 0; i < 100; ++i) {
    r = serve.Get("/metrics", admin_.first);
    if (r.body.find("pqflow_buffered_rows 0") != std::string::npos &&
        r.body.find("pqflow_files_created_total 2") != std::string::npos) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(r.status, 200);
  for (const char* m : {"pqflow_batches_received_total 6", "pqflow_event_rows_written_total 2",
                        "pqflow_log_rows_written_total 0", "pqflow_snapshot_rows_written_total 0",
                        "pqflow_files_created_total 2", "pqflow_write_errors_total 0", "pqflow_decode_errors_total 0",
                        "pqflow_bytes_written_total", "pqflow_rejected_batches_total 4",
                        "pqflow_ingest_responses_total{status=\"401\"} 2", "pqflow_wal_bytes", "pqflow_buffered_rows 0",
                        "pqflow_ingest_request_duration_seconds_bucket{le=\"+Inf\"} 6"}) {
    EXPECT_NE(r.body.find(m), std::string::npos) << m << "\n" << r.body;
  }
  EXPECT_EQ(serve.Stop(), 0) << serve.Log();
  EXPECT_EQ(DuckScalar("SELECT string_agg(DISTINCT workspace_id::VARCHAR, ',' ORDER BY workspace_id::VARCHAR) FROM '" +
                       Data() + "/parquet/*/*/*/events.parquet'"),
            "42,7");
  // The stream is queryable by name, as seed 004 queries it with DuckDB.
  CommandResult q = Pqflow({"query", "--config", "pqflow.toml", "--format", "csv",
                            "SELECT workspace_id, count(*) AS n FROM events GROUP BY 1 ORDER BY 1"},
                           dir_.path());
  EXPECT_EQ(q.exit_code, 0) << q.err;
  EXPECT_EQ(q.out, "workspace_id,n\n7,1\n42,1\n");
  const std::string sql = "SELECT workspace_id, event_type FROM events ORDER BY workspace_id";
  q = Pqflow({"query", "--config", "pqflow.toml", "--format", "json", sql}, dir_.path());
  EXPECT_EQ(q.out, "[{\"workspace_id\":7,\"event_type\":\"track\"},{\"workspace_id\":42,\"event_type\":\"track\"}]\n");
  q = Pqflow({"query", "--config", "pqflow.toml", "--format", "ndjson", "--output", "out.ndjson", sql}, dir_.path());
  EXPECT_EQ(q.exit_code, 0) << q.err;
  EXPECT_EQ(q.out, "");
  EXPECT_EQ(ReadFile(dir_ / "out.ndjson"),
            "{\"workspace_id\":7,\"event_type\":\"track\"}\n{\"workspace_id\":42,\"event_type\":\"track\"}\n");
}

TEST_F(ServeTest, BodyLimitsAndGzip) {
  WriteConfig("max_body_size = \"4KB\"\n");
  ServeProcess serve(dir_.path());
  ASSERT_TRUE(serve.Start()) << serve.Log();
  const std::string t = std::to_string(EpochMs(2026, 1, 15, 10, 0, 0));
  std::string batch;
  for (int i = 0; i < 20; ++i) {
    batch += "{\"timestamp\":" + t + ",\"workspace_id\":5,\"event_type\":\"track\",\"event_name\":\"e" + std::to_string(i) + "\"}\n";
  }
  ASSERT_LT(batch.size(), 4000u);
  HttpReply r = serve.Post("/v1/streams/events", Gzip(batch), ingest_.first, {{"Content-Encoding", "gzip"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)["accepted"], 20);

  std::string big;
  while (big.size() < 5000) big += batch;
  r = serve.Post("/v1/streams/events", big, ingest_.first);
  EXPECT_EQ(r.status, 413) << r.body;
  // Small on the wire, over the limit once decoded: still 413, nothing kept.
  std::string bomb;
  while (bomb.size() < 200000) bomb += batch;
  std::string zipped = Gzip(bomb);
  ASSERT_LT(zipped.size(), 4000u);
  r = serve.Post("/v1/streams/events", zipped, ingest_.first, {{"Content-Encoding", "gzip"}});
  EXPECT_EQ(r.status, 413) << r.body << " (" << zipped.size() << " bytes zipped)";

  EXPECT_EQ(serve.Stop(), 0) << serve.Log();
  EXPECT_EQ(DuckScalar("SELECT count(*) FROM '" + Data() + "/parquet/5/2026-01-15/10/events.parquet'"), "20");
}

TEST_F(ServeTest, LateEventsGoToANewFileAndCommittedFilesNeverChange) {
  WriteConfig();
  ServeProcess serve(dir_.path());
  ASSERT_TRUE(serve.Start()) << serve.Log();
  const std::string t = std::to_string(EpochMs(2026, 1, 15, 10, 30, 0));
  auto batch = [&](const std::string& name) {
    return "{\"timestamp\":" + t + ",\"workspace_id\":9,\"event_type\":\"track\",\"event_name\":\"" + name + "\"}\n";
  };
  ASSERT_EQ(serve.Post("/v1/streams/events", batch("first"), ingest_.first).status, 200);
  const std::string first = "parquet/9/2026-01-15/10/events.parquet";
  ASSERT_TRUE(WaitForFiles(Data(), {first}));
  const std::string before = ReadFile(Data() + "/" + first);
  ASSERT_EQ(serve.Post("/v1/streams/events", batch("late"), ingest_.first).status, 200);
  ASSERT_TRUE(WaitForFiles(Data(), {"parquet/9/2026-01-15/10/events-0002.parquet"}));
  EXPECT_EQ(serve.Stop(), 0) << serve.Log();
  // After a restart, another late event gets the next number.
  ASSERT_TRUE(serve.Start()) << serve.Log();
  ASSERT_EQ(serve.Post("/v1/streams/events", batch("later"), ingest_.first).status, 200);
  EXPECT_EQ(serve.Stop(), 0) << serve.Log();
  EXPECT_EQ(ReadFile(Data() + "/" + first), before);
  EXPECT_EQ(ListFiles(Data() + "/parquet/9/2026-01-15/10"),
            (std::vector<std::string>{"events-0002.parquet", "events-0003.parquet", "events.parquet"}));
  EXPECT_EQ(DuckScalar("SELECT string_agg(event_name, ',' ORDER BY filename) FROM read_parquet('" + Data() +
                       "/parquet/9/*/*/*.parquet', filename=true)"),
            "late,later,first");
}

TEST_F(ServeTest, AcknowledgedRowsSurviveSigkillExactlyOnce) {
  WriteConfig();
  ServeProcess serve(dir_.path());
  ASSERT_TRUE(serve.Start()) << serve.Log();
  const int64_t now = NowMs();
  // Rows of the current hour stay buffered; rows of a past hour get written before the kill.
  for (int b = 0; b < 5; ++b) {
    std::string body;
    for (int i = 0; i < 100; ++i) {
      const int64_t ts = (i % 2 == 0) ? now : EpochMs(2026, 1, 15, 10, 0, 0);
      body += "{\"timestamp\":" + std::to_string(ts) + ",\"workspace_id\":3,\"event_type\":\"track\",\"event_name\":\"" +
              std::to_string(b * 100 + i) + "\"}\n";
    }
    ASSERT_EQ(serve.Post("/v1/streams/events", body, ingest_.first).status, 200);
  }
  ASSERT_TRUE(WaitForFiles(Data(), {"parquet/3/2026-01-15/10/events.parquet"}));
  serve.Kill();
  ASSERT_TRUE(serve.Start()) << serve.Log();
  EXPECT_NE(serve.Log().find("replayed"), std::string::npos) << serve.Log();
  EXPECT_EQ(serve.Stop(), 0) << serve.Log();
  EXPECT_EQ(DuckScalar("SELECT count(*) || '/' || count(DISTINCT event_name) FROM '" + Data() + "/parquet/3/*/*/*.parquet'"),
            "500/500");
  EXPECT_EQ(DuckScalar("SELECT count(*) FROM '" + Data() + "/parquet/3/2026-01-15/10/*.parquet'"), "250");
}

// A WAL directory replaced by an empty one (a new disk, an operator's cleanup) starts its
// LSNs at 0 again, where the files already written recorded the old log's LSNs: recovery
// must not take the new log's records for rows those files hold.
TEST_F(ServeTest, ANewWalDirectoryIsNotMistakenForTheOneTheFilesCameFrom) {
  WriteConfig();
  ServeProcess serve(dir_.path());
  const std::string ts = std::to_string(NowMs());  // the current hour: buffered until shutdown
  auto batch = [&](const std::string& prefix) {
    std::string body;
    for (int i = 0; i < 50; ++i) {
      body += "{\"timestamp\":" + ts + ",\"workspace_id\":6,\"event_type\":\"track\",\"event_name\":\"" + prefix +
              std::to_string(i) + "\"}\n";
    }
    return body;
  };
  ASSERT_TRUE(serve.Start()) << serve.Log();
  ASSERT_EQ(serve.Post("/v1/streams/events", batch("old-"), ingest_.first).status, 200);
  EXPECT_EQ(serve.Stop(), 0) << serve.Log();  // writes the open hour's file with LSNs from 0
  fs::remove_all(dir_ / "wal");
  ASSERT_TRUE(serve.Start()) << serve.Log();
  ASSERT_EQ(serve.Post("/v1/streams/events", batch("new-"), ingest_.first).status, 200);  // LSNs from 0 again
  serve.Kill();
  ASSERT_TRUE(serve.Start()) << serve.Log();
  EXPECT_EQ(serve.Stop(), 0) << serve.Log();
  EXPECT_EQ(DuckScalar("SELECT count(*) || '/' || count(DISTINCT event_name) FROM '" + Data() +
                       "/parquet/6/*/*/*.parquet'"),
            "100/100");
}

TEST_F(ServeTest, OverTheWalLimitBatchesAreRefusedWith429) {
  // A log limit below one batch: the first batch fills it, the next is refused until the
  // buffers are written and the log truncated (which, with the hour still open, is never).
  WriteConfig("max_wal_size = \"1KB\"\n");
  ServeProcess serve(dir_.path());
  ASSERT_TRUE(serve.Start()) << serve.Log();
  std::string line = "{\"timestamp\":" + std::to_string(NowMs()) + ",\"workspace_id\":1,\"event_type\":\"track\",\"event_name\":\"" +
                     std::string(2000, 'x') + "\"}\n";
  ASSERT_EQ(serve.Post("/v1/streams/events", line, ingest_.first).status, 200);
  HttpReply r;
  for (int i = 0; i < 50 && r.status != 429; ++i) r = serve.Post("/v1/streams/events", line, ingest_.first);
  ASSERT_EQ(r.status, 429) << r.body;
  EXPECT_EQ(r.headers["Retry-After"], "1");
  EXPECT_NE(r.body.find("max_wal_size"), std::string::npos) << r.body;
  EXPECT_EQ(serve.Stop(), 0) << serve.Log();
}

TEST_F(ServeTest, ACustomStreamWithDailyRotation) {
  WriteConfig("", R"toml(
[streams.clicks]
rotation = "daily"
layout = "clicks/{workspace_id}/{date}/clicks.parquet"
compression = "zstd"
[[streams.clicks.columns]]
name = "timestamp"
type = "timestamp_ms"
nullable = false
[[streams.clicks.columns]]
name = "workspace_id"
type = "uint64"
nullable = false
[[streams.clicks.columns]]
name = "button"
type = "string"
values = ["ok", "cancel"]
[[streams.clicks.columns]]
name = "price"
type = "decimal(10,2)"
[[streams.clicks.columns]]
name = "received"
type = "timestamp"
receipt_time = true
)toml");
  ServeProcess serve(dir_.path());
  ASSERT_TRUE(serve.Start()) << serve.Log();
  HttpReply r = serve.Post("/v1/streams/clicks",
                           "{\"timestamp\":\"2026-01-15T09:00:00Z\",\"workspace_id\":4,\"button\":\"ok\",\"price\":12.5}\n"
                           "{\"timestamp\":\"2026-01-15T23:59:59.999Z\",\"workspace_id\":4,\"button\":\"cancel\"}\n"
                           "{\"timestamp\":\"2026-01-16T00:00:00Z\",\"workspace_id\":4,\"button\":\"ok\"}\n",
                           ingest_.first);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(serve.Post("/v1/streams/clicks", "{\"timestamp\":1,\"workspace_id\":4,\"button\":\"maybe\"}", ingest_.first).status,
            400);
  ASSERT_TRUE(WaitForFiles(Data(), {"clicks/4/2026-01-15/clicks.parquet", "clicks/4/2026-01-16/clicks.parquet"}));
  EXPECT_EQ(serve.Stop(), 0) << serve.Log();
  const std::string f = "'" + Data() + "/clicks/4/2026-01-15/clicks.parquet'";
  EXPECT_EQ(DuckScalar("SELECT string_agg(column_name || ' ' || column_type, ', ') FROM (DESCRIBE SELECT * FROM " + f + ")"),
            "timestamp TIMESTAMP, workspace_id UBIGINT, button VARCHAR, price DECIMAL(10,2), received TIMESTAMP WITH TIME ZONE");
  EXPECT_EQ(DuckScalar("SELECT string_agg(button || '=' || coalesce(price::VARCHAR, 'NULL'), ',' ORDER BY timestamp) FROM " + f),
            "ok=12.50,cancel=NULL");
  EXPECT_EQ(DuckScalar("SELECT compression FROM parquet_metadata(" + f + ") LIMIT 1"), "ZSTD");
}

TEST_F(ServeTest, AFullDiskDelaysFilesButLosesNothing) {
  // The storage root on a real 64 KiB tmpfs (needs root, as in CI); the WAL on the normal disk.
  const std::string root = dir_ / "data";
  WriteFile(root + "/.keep", "");
  if (::mount("tmpfs", root.c_str(), "tmpfs", 0, "size=64k") != 0) GTEST_SKIP() << "cannot mount a tmpfs here (not root?)";
  struct Unmount {
    std::string path;
    ~Unmount() { ::umount(path.c_str()); }
  } unmount{root};
  WriteConfig();
  ServeProcess serve(dir_.path());
  ASSERT_TRUE(serve.Start()) << serve.Log();
  const std::string t = std::to_string(EpochMs(2026, 1, 15, 10, 0, 0));
  // Incompressible names (48 pseudo-random hex digits each): ~150 KB of Parquet, more than fits.
  std::string body;
  uint64_t x = 88172645463325252ull;
  for (int i = 0; i < 3000; ++i) {
    std::string name = std::to_string(i) + "-";
    for (int k = 0; k < 3; ++k) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      char hex[17];
      std::snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(x));
      name += hex;
    }
    body += "{\"timestamp\":" + t + ",\"workspace_id\":1,\"event_type\":\"track\",\"event_name\":\"" + name + "\"}\n";
  }
  // Acknowledged: the batch is in the WAL, whatever happens to the Parquet disk.
  ASSERT_EQ(serve.Post("/v1/streams/events", body, ingest_.first).status, 200);
  json health;
  for (int i = 0; i < 100; ++i) {
    health = json::parse(serve.Get("/health").body);
    if (health["write_errors"].get<int>() > 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_GT(health["write_errors"].get<int>(), 0) << health.dump();
  EXPECT_NE(health["last_error"].get<std::string>().find("No space left on device"), std::string::npos) << health.dump();
  EXPECT_EQ(health["buffered_rows"], 3000);
  EXPECT_TRUE(ListFiles(root, ".parquet").empty());
  EXPECT_NE(serve.Log().find("pqflow serve: error: writing 3000 events rows to parquet/1/2026-01-15/10/events.parquet"),
            std::string::npos) << serve.Log();
  // Space comes back: the retry writes the file.
  ASSERT_EQ(::mount("tmpfs", root.c_str(), "tmpfs", MS_REMOUNT, "size=16m"), 0);
  ASSERT_TRUE(WaitForFiles(root, {"parquet/1/2026-01-15/10/events.parquet"}, 30))
      << serve.Get("/health").body << serve.Log();
  EXPECT_EQ(serve.Stop(), 0) << serve.Log();
  EXPECT_EQ(DuckScalar("SELECT count(*) || '/' || count(DISTINCT event_name) FROM '" + root + "/parquet/1/*/*/*.parquet'"),
            "3000/3000");
  for (const auto& f : ListFiles(root)) {
    if (f.rfind(".pqflow/", 0) != 0) {
      EXPECT_EQ(f.find(".tmp"), std::string::npos) << f;
    }
  }
}

TEST_F(ServeTest, ReplayRefusesToDropBatchesOfAStreamThatWasRemoved) {
  const std::string stream = "[streams.clicks]\n[[streams.clicks.columns]]\nname = \"timestamp\"\ntype = \"int64\"\n"
                             "nullable = false\n[[streams.clicks.columns]]\nname = \"workspace_id\"\ntype = \"uint64\"\n"
                             "nullable = false\n";
  WriteConfig("", stream);
  ServeProcess serve(dir_.path());
  ASSERT_TRUE(serve.Start()) << serve.Log();
  ASSERT_EQ(serve.Post("/v1/streams/clicks", "{\"timestamp\":" + std::to_string(NowMs()) + ",\"workspace_id\":1}",
                       ingest_.first).status, 200);
  serve.Kill();  // the row is only in the WAL
  WriteConfig();
  CommandResult r = Pqflow({"serve", "--config", "pqflow.toml"}, dir_.path());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("the write-ahead log holds a batch for stream 'clicks', which is no longer configured"),
            std::string::npos) << r.err;
  WriteConfig("", stream);  // restored: the row is written
  ASSERT_TRUE(serve.Start()) << serve.Log();
  EXPECT_EQ(serve.Stop(), 0) << serve.Log();
  EXPECT_EQ(DuckScalar("SELECT count(*) FROM '" + Data() + "/parquet/1/*/*/clicks.parquet'"), "1");
}

TEST_F(ServeTest, StartupErrorsSayWhatToDo) {
  WriteFile(dir_ / "pqflow.toml", "[storage]\nroot = \"data\"\n[server]\nlisten = \"127.0.0.1:0\"\n");
  CommandResult r = Pqflow({"serve", "--config", "pqflow.toml"}, dir_.path());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("no API keys are configured: run `pqflow keys new"), std::string::npos) << r.err;
  WriteConfig();
  ServeProcess serve(dir_.path());
  ASSERT_TRUE(serve.Start()) << serve.Log();
  // A second server on the same WAL is refused; on another WAL but the same port too.
  r = Pqflow({"serve", "--config", "pqflow.toml", "--listen", "127.0.0.1:0"}, dir_.path());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("another process has the WAL"), std::string::npos) << r.err;
  ::setenv("PQFLOW_WAL_DIR", (dir_ / "wal2").c_str(), 1);
  r = Pqflow({"serve", "--config", "pqflow.toml", "--listen", "127.0.0.1:" + std::to_string(serve.port())}, dir_.path());
  ::unsetenv("PQFLOW_WAL_DIR");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("cannot listen on 127.0.0.1:" + std::to_string(serve.port())), std::string::npos) << r.err;
  EXPECT_EQ(serve.Stop(), 0) << serve.Log();
}

// The query API: SQL, reports and aggregations over the stream files, with the key's scope
// and workspaces applied, safety refusals as 400s, and the pruning figure in a header.
TEST_F(ServeTest, QueryReportsAndAggregationsOverHttp) {
  auto query42 = NewApiKey("query-42", "query", "42");
  auto query_docs = NewApiKey("query-docs", "query");
  query_docs.second += "projects = [\"docs\"]\n";
  WriteConfig();
  // A dataset without a tenant column, with no files yet.
  WriteFile(dir_ / "pqflow.toml", ReadFile(dir_ / "pqflow.toml") + query42.second + query_docs.second + R"(
[datasets.pageviews]
layout = "pv/{YYYY-MM-DD}.parquet"
time_column = "date"
project_column = "project_slug"
source = {format = "csv", path = "in.csv"}
columns = [{name = "project_slug", type = "string"}, {name = "path", type = "string"},
           {name = "view_count", type = "int32"}, {name = "date", type = "date"}]
)");
  ServeProcess serve(dir_.path());
  ASSERT_TRUE(serve.Start()) << serve.Log();
  std::string batch;
  for (int ws : {42, 42, 7}) {
    batch += "{\"timestamp\":" + std::to_string(EpochMs(2026, 1, 15, ws == 7 ? 11 : 10, 0, 0)) +
             ",\"workspace_id\":" + std::to_string(ws) + ",\"event_type\":\"" + (ws == 7 ? "identify" : "track") +
             "\"}\n";
  }
  ASSERT_EQ(serve.Post("/v1/streams/events", batch, ingest_.first).status, 200);
  ASSERT_TRUE(WaitForFiles(Data(), {"parquet/42/2026-01-15/10/events.parquet", "parquet/7/2026-01-15/11/events.parquet"}));
  const std::map<std::string, std::string> json_body = {{"Content-Type", "application/json"}};
  auto sql = [](const std::string& text) { return json{{"sql", text}}.dump(); };
  const std::string per_ws = sql("SELECT workspace_id, count(*) AS n FROM events GROUP BY 1 ORDER BY 1");

  HttpReply r = serve.Post("/v1/query", per_ws, query_.first, json_body);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body), json::parse(R"([{"workspace_id":7,"n":1},{"workspace_id":42,"n":2}])"));
  EXPECT_EQ(r.headers["X-Pqflow-Files-Read"], "2 of 2");
  // A key restricted to workspace 42 sees only its rows, whatever the SQL says.
  r = serve.Post("/v1/query", per_ws, query42.first, json_body);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body), json::parse(R"([{"workspace_id":42,"n":2}])"));
  r = serve.Post("/v1/query", sql("SELECT count(*) AS n FROM events WHERE workspace_id = 7"), query42.first, json_body);
  EXPECT_EQ(json::parse(r.body), json::parse(R"([{"n":0}])"));
  // ... and nothing of a dataset without a tenant column.
  r = serve.Post("/v1/query", sql("SELECT count(*) FROM pageviews"), query42.first, json_body);
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_NE(r.body.find("pageviews has no tenant column"), std::string::npos) << r.body;
  // A key restricted to projects reads datasets with a project column, and no stream.
  r = serve.Post("/v1/query", sql("SELECT count(*) AS n FROM pageviews"), query_docs.first, json_body);
  EXPECT_EQ(r.status, 200) << r.body;
  r = serve.Post("/v1/query", per_ws, query_docs.first, json_body);
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_NE(r.body.find("events has no project column"), std::string::npos) << r.body;

  // The partition filter on the hour prunes files; CSV on request; plain-text SQL bodies.
  r = serve.Post("/v1/query?format=csv",
                 "SELECT event_type FROM events WHERE timestamp >= " + std::to_string(EpochMs(2026, 1, 15, 11, 0, 0)),
                 query_.first, {{"Content-Type", "text/plain"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, "event_type\nidentify\n");
  EXPECT_EQ(r.headers["X-Pqflow-Files-Read"], "1 of 2");
  EXPECT_NE(r.headers["Content-Type"].find("text/csv"), std::string::npos);

  // Scopes and keys.
  EXPECT_EQ(serve.Post("/v1/query", per_ws, ingest_.first, json_body).status, 403);
  EXPECT_EQ(serve.Post("/v1/query", per_ws, "", json_body).status, 401);
  EXPECT_EQ(serve.Post("/v1/query", per_ws, admin_.first, json_body).status, 200);

  // Hostile or broken queries are 400s that say why; nothing is written.
  for (const char* bad : {"SELECT * FROM read_csv('/etc/passwd')", "COPY (SELECT 1) TO 'data/x.csv'",
                          "ATTACH 'data/x.db'", "SELECT 1; DROP VIEW events", "SELECT nope FROM events"}) {
    r = serve.Post("/v1/query", sql(bad), query_.first, json_body);
    EXPECT_EQ(r.status, 400) << bad << ": " << r.body;
    EXPECT_TRUE(json::parse(r.body).contains("error")) << r.body;
  }
  EXPECT_FALSE(fs::exists(Data() + "/x.csv"));
  EXPECT_FALSE(fs::exists(Data() + "/x.db"));
  EXPECT_EQ(serve.Post("/v1/query", "{\"query\": 1}", query_.first, json_body).status, 400);

  // Reports: parameters from the query string, validated; unknown report 404.
  r = serve.Get("/v1/reports/top-pages?project=docs&since=2026-01-01", query_.first);
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, "[]\n");  // no pageviews exported here
  r = serve.Get("/v1/reports/top-pages", query_.first);
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("needs project"), std::string::npos) << r.body;
  EXPECT_EQ(serve.Get("/v1/reports/top-pages?project=x&since=yesterday", query_.first).status, 400);
  EXPECT_EQ(serve.Get("/v1/reports/nope", query_.first).status, 404);
  r = serve.Get("/v1/reports", query_.first);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(json::parse(r.body).size(), 5u);

  // Aggregations: a tumbling hourly count per event type.
  r = serve.Post("/v1/aggregate",
                 R"({"dataset": "events", "aggregations": [{"function": "count"}], "group_by": ["event_type"],
                     "time": {"column": "timestamp"}, "window": {"size": "1h"}})",
                 query_.first, json_body);
  ASSERT_EQ(r.status, 200) << r.body;
  json agg = json::parse(r.body);
  ASSERT_EQ(agg.size(), 2u) << r.body;
  EXPECT_EQ(agg[0]["window_start"], "2026-01-15 10:00:00");
  EXPECT_EQ(agg[0]["event_type"], "track");
  EXPECT_EQ(agg[0]["count"], 2);
  EXPECT_EQ(agg[1]["event_type"], "identify");
  r = serve.Post("/v1/aggregate", R"({"dataset": "events", "aggregations": [{"function": "median", "column": "x"}]})",
                 query_.first, json_body);
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("median"), std::string::npos) << r.body;
  EXPECT_EQ(serve.Post("/v1/aggregate", R"({"dataset": "nope", "aggregations": [{"function": "count"}]})",
                       query_.first, json_body)
                .status,
            404);
  EXPECT_EQ(serve.Stop(), 0) << serve.Log();
}


// Server-side queries see acknowledged rows at once, whether still buffered or already in
// Parquet, and never twice: after every acknowledged batch the count is exact while the
// sink writes small files in the background.
TEST_F(ServeTest, QueriesSeeAcknowledgedRowsBeforeTheyAreWritten) {
  WriteConfig();
  // Small files (max_rows) so that buffers are written while the test queries.
  std::string toml = ReadFile(dir_ / "pqflow.toml");
  toml.replace(toml.find("[streams.events]\n"), std::string("[streams.events]\n").size(),
               "[streams.events]\nmax_rows = 40\n");
  WriteFile(dir_ / "pqflow.toml", toml);
  ServeProcess serve(dir_.path());
  ASSERT_TRUE(serve.Start()) << serve.Log();
  const std::map<std::string, std::string> json_body = {{"Content-Type", "application/json"}};
  const std::string count_sql = json{{"sql", "SELECT count(*) AS n, count(DISTINCT event_name) AS d FROM events"}}.dump();
  int acknowledged = 0;
  uint64_t live_seen = 0;
  for (int b = 0; b < 25; ++b) {
    std::string batch;
    for (int i = 0; i < 30; ++i) {
      batch += "{\"timestamp\":" + std::to_string(NowMs()) + ",\"workspace_id\":1,\"event_type\":\"track\",\"event_name\":\"e" +
               std::to_string(acknowledged + i) + "\"}\n";
    }
    ASSERT_EQ(serve.Post("/v1/streams/events", batch, ingest_.first).status, 200);
    acknowledged += 30;
    HttpReply r = serve.Post("/v1/query", count_sql, query_.first, json_body);
    ASSERT_EQ(r.status, 200) << r.body;
    json row = json::parse(r.body)[0];
    EXPECT_EQ(row["n"], acknowledged) << "after batch " << b << ": " << r.body;
    EXPECT_EQ(row["d"], acknowledged);
    live_seen += std::stoull(r.headers["X-Pqflow-Live-Rows"]);
  }
  EXPECT_GT(live_seen, 0u);  // some answers came from the buffers ...
  EXPECT_EQ(serve.Stop(), 0) << serve.Log();
  ASSERT_TRUE(serve.Start()) << serve.Log();
  HttpReply r = serve.Post("/v1/query", count_sql, query_.first, json_body);
  EXPECT_EQ(json::parse(r.body)[0]["n"], acknowledged);  // ... and all of them are in files now
  EXPECT_EQ(r.headers["X-Pqflow-Live-Rows"], "0");
  EXPECT_EQ(serve.Stop(), 0) << serve.Log();
}


// Queries beyond twice the cores are refused with 429 rather than piling up; the others
// stop at the time limit.
TEST_F(ServeTest, TooManyConcurrentQueriesAreRefusedWith429) {
  WriteConfig();
  WriteFile(dir_ / "pqflow.toml", ReadFile(dir_ / "pqflow.toml") + "\n[query]\ntimeout = \"2s\"\nthreads = 1\n");
  ServeProcess serve(dir_.path());
  ASSERT_TRUE(serve.Start()) << serve.Log();
  const int slots = std::max(2, 2 * static_cast<int>(std::thread::hardware_concurrency()));
  const std::string slow = json{{"sql", "SELECT sum(a.range * b.range) FROM range(100000) a, range(100000) b"}}.dump();
  std::vector<int> statuses(slots + 3);
  std::vector<std::thread> clients;
  for (size_t i = 0; i < statuses.size(); ++i) {
    clients.emplace_back([&, i] {
      statuses[i] = serve.Post("/v1/query", slow, query_.first, {{"Content-Type", "application/json"}}).status;
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(std::count(statuses.begin(), statuses.end(), 429), 3);
  EXPECT_EQ(std::count(statuses.begin(), statuses.end(), 400), slots);  // the time limit
  EXPECT_EQ(serve.Post("/v1/query", json{{"sql", "SELECT 1 AS one"}}.dump(), query_.first,
                       {{"Content-Type", "application/json"}})
                .body,
            "[{\"one\":1}]\n");
  EXPECT_EQ(serve.Stop(), 0) << serve.Log();
}

}  // namespace
}  // namespace pqflow::testing
