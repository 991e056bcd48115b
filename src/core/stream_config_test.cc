// [streams.*] and [server]: built-in schemas, overrides, custom streams, errors that point
// at the line and key, and PQFLOW_* overrides of server settings.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <string>
#include <vector>

#include "core/dataset_config.h"

namespace pqflow {
namespace {

Config Parse(const std::string& toml) {
  auto c = ParseConfig(toml, "pqflow.toml", "/base");
  EXPECT_TRUE(c.ok()) << c.status().message();
  return c.ok() ? *c : Config{};
}

std::string ParseError(const std::string& toml) {
  auto c = ParseConfig(toml, "pqflow.toml", "/base");
  EXPECT_FALSE(c.ok());
  return c.ok() ? "" : c.status().message();
}

std::vector<std::string> Names(const StreamConfig& s) {
  std::vector<std::string> out;
  for (const auto& c : s.columns) out.push_back(c.name + ":" + c.type.ToString() + (c.nullable ? "" : "!"));
  return out;
}

TEST(StreamConfigTest, BuiltinStreamsHaveTheSeedSchemasInOrder) {
  Config c = Parse("");
  ASSERT_EQ(c.streams.size(), 3u);
  EXPECT_EQ(Names(c.streams.at("events")),
            (std::vector<std::string>{"timestamp:int64!", "batch_timestamp:int64!", "workspace_id:uint64!",
                                      "event_type:string!", "event_name:string", "device_id:uuid", "session_id:uuid",
                                      "source_ip:ipv6", "payload:binary"}));
  EXPECT_EQ(Names(c.streams.at("logs")),
            (std::vector<std::string>{"timestamp:int64!", "batch_timestamp:int64!", "workspace_id:uint64!",
                                      "level:string!", "event_type:string!", "source:string", "service:string",
                                      "session_id:uuid", "source_ip:ipv6", "payload:binary"}));
  EXPECT_EQ(Names(c.streams.at("snapshots")),
            (std::vector<std::string>{"timestamp:int64!", "batch_timestamp:int64!", "workspace_id:uint64!",
                                      "source:string!", "entity:string!", "source_ip:ipv6", "payload:binary"}));
  const StreamConfig& events = c.streams.at("events");
  EXPECT_TRUE(events.columns[1].receipt_time);
  EXPECT_EQ(events.columns[3].values, (std::vector<std::string>{"track", "identify", "group", "alias", "enrich"}));
  EXPECT_EQ(c.streams.at("logs").columns[3].values.size(), 8u);
  EXPECT_EQ(events.layout, "parquet/{workspace_id}/{date}/{hour}/events.parquet");
  EXPECT_EQ(events.compression, Codec::kSnappy);
  EXPECT_EQ(c.server.listen, "127.0.0.1:8080");
  EXPECT_EQ(c.server.wal_dir, "/base/wal");
}

TEST(StreamConfigTest, BuiltinSettingsCanBeChangedButNotItsColumns) {
  Config c = Parse("[streams.events]\nrotation = \"daily\"\ncompression = \"zstd\"\ncompression_level = 9\n"
                   "grace = \"10m\"\nmax_rows = 5000\nmax_file_size = \"8MB\"\n");
  const StreamConfig& events = c.streams.at("events");
  EXPECT_EQ(events.rotation, Rotation::kDaily);
  EXPECT_EQ(events.layout, "parquet/{workspace_id}/{date}/events.parquet");
  EXPECT_EQ(events.compression, Codec::kZstd);
  EXPECT_EQ(events.compression_level, 9);
  EXPECT_EQ(events.grace_seconds, 600);
  EXPECT_EQ(events.max_rows, 5000);
  EXPECT_EQ(events.max_file_size, 8000000);
  EXPECT_EQ(c.streams.at("logs").rotation, Rotation::kHourly);

  EXPECT_EQ(ParseError("[streams.events]\n[[streams.events.columns]]\nname = \"a\"\ntype = \"string\"\n"),
            "pqflow.toml:2: streams.events.columns: the schema of the built-in stream 'events' is fixed; declare a "
            "stream with another name for other columns");
}

TEST(StreamConfigTest, CustomStreamWithEnumerationAndReceiptTime) {
  Config c = Parse(
      "[streams.clicks]\nlayout = \"clicks/{workspace_id}/{date}/{hour}/clicks.parquet\"\n"
      "[[streams.clicks.columns]]\nname = \"timestamp\"\ntype = \"timestamp_ms\"\nnullable = false\n"
      "[[streams.clicks.columns]]\nname = \"received\"\ntype = \"int64\"\nreceipt_time = true\n"
      "[[streams.clicks.columns]]\nname = \"workspace_id\"\ntype = \"uint64\"\nnullable = false\n"
      "[[streams.clicks.columns]]\nname = \"button\"\ntype = \"string\"\nvalues = [\"ok\", \"cancel\"]\n"
      "[[streams.clicks.columns]]\nname = \"ip\"\ntype = \"ipv6\"\n");
  ASSERT_EQ(c.streams.count("clicks"), 1u);
  const StreamConfig& s = c.streams.at("clicks");
  EXPECT_EQ(Names(s), (std::vector<std::string>{"timestamp:timestamp_ms!", "received:int64", "workspace_id:uint64!",
                                                "button:string", "ip:ipv6"}));
  EXPECT_TRUE(s.columns[1].receipt_time);
  EXPECT_EQ(s.columns[3].values, (std::vector<std::string>{"ok", "cancel"}));
}

TEST(StreamConfigTest, ErrorsNameTheLineAndKey) {
  EXPECT_EQ(ParseError("[streams.events]\nrotation = \"weekly\"\n"),
            "pqflow.toml:2: streams.events.rotation: expected \"hourly\" or \"daily\"; got 'weekly'");
  EXPECT_EQ(ParseError("[streams.events]\nlayout = \"p/{workspace_id}/{date}/e.parquet\"\n"),
            "pqflow.toml:2: streams.events.layout: hourly rotation needs {hour} in the layout");
  EXPECT_EQ(ParseError("[streams.events]\nrotation = \"daily\"\nlayout = \"p/{workspace_id}/{date}/{hour}/e.parquet\"\n"),
            "pqflow.toml:3: streams.events.layout: daily rotation writes one file a day, which {hour} would label "
            "hour 00: drop {hour} or use rotation = \"hourly\"");
  EXPECT_EQ(ParseError("[streams.events]\nlayout = \"p/{nope}/{date}/{hour}/e.parquet\"\n"),
            "pqflow.toml:2: streams.events.layout: {nope} is not a column of the stream");
  // A double's value in a path would be written in a form queries read back as another value.
  EXPECT_EQ(ParseError("[streams.x]\nlayout = \"p/{score}/{date}/{hour}/x.parquet\"\n"
                       "[[streams.x.columns]]\nname = \"timestamp\"\ntype = \"int64\"\nnullable = false\n"
                       "[[streams.x.columns]]\nname = \"workspace_id\"\ntype = \"uint64\"\nnullable = false\n"
                       "[[streams.x.columns]]\nname = \"score\"\ntype = \"double\"\n"),
            "pqflow.toml:2: streams.x.layout: {score} is a double column; a stream's layout can name string, json, "
            "boolean, integer and date columns");
  EXPECT_EQ(ParseError("[streams.events]\nrotation = \"daily\"\nlayout = \"p/{workspace_id}/{yyyy}/{mm}/e.parquet\"\n"),
            "pqflow.toml:3: streams.events.layout: a stream layout needs the day ({date} or {dd}) so that a file "
            "never spans days");
  EXPECT_EQ(ParseError("[streams.events]\ntime_column = \"event_name\"\n"),
            "pqflow.toml:2: streams.events.time_column: 'event_name' must name an int64 (ms since the epoch) or "
            "timestamp column");
  EXPECT_EQ(ParseError("[streams.events]\ngrace = \"5 weeks\"\n"),
            "pqflow.toml:2: streams.events.grace: '5 weeks' has an unknown unit (use s, m, h or d) (e.g. \"30s\", "
            "\"5m\", \"1h\")");
  EXPECT_EQ(ParseError("[streams.x]\n[[streams.x.columns]]\nname = \"v\"\ntype = \"int32\"\nvalues = [\"a\"]\n"),
            "pqflow.toml:5: streams.x.columns[0].values: an enumeration needs type = \"string\"");
  EXPECT_EQ(ParseError("[streams.x]\n[[streams.x.columns]]\nname = \"a\"\ntype = \"int64\"\n"
                       "[[streams.x.columns]]\nname = \"b\"\nfield = \"a\"\ntype = \"int64\"\n"),
            "pqflow.toml:2: streams.x.columns: two columns read the JSON field 'a'");
  EXPECT_EQ(ParseError("[streams.x]\n[[streams.x.columns]]\nname = \"timestamp\"\ntype = \"int64\"\nnullable = false\n"),
            "pqflow.toml:1: streams.x.tenant_column: 'workspace_id' must name a uint64 column with nullable = false");
}

TEST(ServerConfigTest, SettingsAndKeys) {
  Config c = Parse(
      "[server]\nlisten = \"0.0.0.0:9000\"\nwal_dir = \"/var/lib/pqflow/wal\"\nmax_body_size = \"1MB\"\n"
      "memory_limit = \"64MiB\"\nthreads = 3\n"
      "[[server.keys]]\nname = \"ingest-prod\"\nhash = \"sha256:00\"\nscopes = [\"ingest\"]\nworkspaces = [42, 7]\n");
  EXPECT_EQ(c.server.listen, "0.0.0.0:9000");
  EXPECT_EQ(c.server.wal_dir, "/var/lib/pqflow/wal");
  EXPECT_EQ(c.server.max_body_size, 1000000);
  EXPECT_EQ(c.server.memory_limit, 64 << 20);
  EXPECT_EQ(c.server.threads, 3);
  ASSERT_EQ(c.server.keys.size(), 1u);
  EXPECT_EQ(c.server.keys[0].name, "ingest-prod");
  EXPECT_EQ(c.server.keys[0].workspaces, (std::vector<uint64_t>{42, 7}));

  EXPECT_EQ(ParseError("[server]\nport = 1\n"),
            "pqflow.toml:2: server.port: unknown key (known keys here: keys, listen, max_body_size, max_wal_size, "
            "memory_limit, threads, wal_dir, wal_segment_size)");
  EXPECT_EQ(ParseError("[[server.keys]]\nname = \"a\"\nscopes = [\"ingest\"]\n"),
            "pqflow.toml:1: server.keys[0].hash: a key needs hash = \"sha256:...\" (pqflow keys new prints one)");
  EXPECT_EQ(ParseError("[[server.keys]]\nhash = \"sha256:00\"\nscopes = [\"ingest\"]\nworkspaces = [-1]\n"),
            "pqflow.toml:4: server.keys[0].workspaces: expected a list of non-negative integers");
}

TEST(ServerConfigTest, EnvironmentOverridesServerSettings) {
  Config c = Parse("");
  ::setenv("PQFLOW_LISTEN", "127.0.0.1:0", 1);
  ::setenv("PQFLOW_MAX_BODY_SIZE", "2MB", 1);
  ::setenv("PQFLOW_WAL_DIR", "/tmp/pq-wal", 1);
  ASSERT_TRUE(ApplyEnvironmentOverrides(&c).ok());
  EXPECT_EQ(c.server.listen, "127.0.0.1:0");
  EXPECT_EQ(c.server.max_body_size, 2000000);
  EXPECT_EQ(c.server.wal_dir, "/tmp/pq-wal");
  ::setenv("PQFLOW_MEMORY_LIMIT", "lots", 1);
  Status s = ApplyEnvironmentOverrides(&c);
  EXPECT_EQ(s.message(), "environment variable PQFLOW_MEMORY_LIMIT='lots': expected a size such as 64MB");
  for (const char* v : {"PQFLOW_LISTEN", "PQFLOW_MAX_BODY_SIZE", "PQFLOW_WAL_DIR", "PQFLOW_MEMORY_LIMIT"}) ::unsetenv(v);
}

}  // namespace
}  // namespace pqflow
