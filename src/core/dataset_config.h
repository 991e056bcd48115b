// The configuration file (pqflow.toml): storage and datasets. Every field documents its
// default; docs/configuration.md is the user-facing reference for the same table.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/path_template.h"
#include "core/status.h"
#include "core/types.h"

namespace pqflow {

enum class Codec { kSnappy, kGzip, kZstd, kLz4, kBrotli, kUncompressed };
enum class SourceFormat { kCsv, kNdjson, kJson, kPostgres };

Result<Codec> ParseCodec(std::string_view name);
std::string CodecName(Codec codec);       // "zstd"
std::string CodecDuckDbName(Codec codec); // the COPY option value ("lz4_raw" for lz4)
bool CodecHasLevel(Codec codec);          // zstd, gzip, brotli
std::pair<int, int> CodecLevelRange(Codec codec);  // {0, 0} when the codec takes no level
std::string SourceFormatName(SourceFormat format);

struct ColumnSpec {
  std::string name;
  ColumnType type;
  bool nullable = true;
  std::string expr;   // SQL over the other columns for derived columns; empty = read from input
  std::string field;  // input field, CSV header or PostgreSQL column name; default: name
  // false: the column feeds layouts (e.g. {org_slug} from a join) but is not stored in the
  // Parquet files, whose schema then stays exactly the declared stored columns.
  bool in_file = true;
  // Streams: the only values accepted (an enumeration such as event_type); empty = any.
  std::vector<std::string> values;
  // Streams: filled by the server with the receipt time of the batch (ms since the epoch
  // for int64 columns); a body that sets it is rejected.
  bool receipt_time = false;
};

struct SourceSpec {
  SourceFormat format = SourceFormat::kCsv;
  // Where inputs are found when --input is not given: a path relative to the config file,
  // with optional date tokens ({yyyy}{mm}{dd}, {date}) and glob characters.
  std::string path;
  bool header = true;             // csv
  std::string delimiter = ",";    // csv
  std::string quote = "\"";       // csv
  std::string null_string;        // csv: the text that means NULL (default: empty field)
  std::string timestamp_format;   // csv: strptime format if not ISO 8601
  std::string record_path;        // json: dotted path to the array of records, e.g. "recommendations"
  std::vector<std::string> parent_fields;  // json: fields read from the document, not the record

  // postgres: a libpq connection string ("host=... dbname=..." or "postgresql://..."); empty
  // = libpq's environment (PGHOST, PGDATABASE, PGPASSFILE, ...). A password in it is never
  // printed.
  std::string dsn;
  // postgres: either a table (rows filtered by the dataset's time_column) or a query whose
  // text may use {date}, {from} and {to} (dates, inclusive), e.g. for a join.
  std::string table;
  std::string query;
  // postgres, query sources: the DELETE for --delete-after-export, with the same
  // parameters, e.g. "DELETE FROM pageviews WHERE date BETWEEN {from} AND {to}". Table
  // sources derive it from the table and time_column.
  std::string delete_sql;
};

struct SplitSpec {
  std::string name;
  std::string layout;
  bool enabled = false;  // written on every run, or only with --split-by NAME
};

struct DatasetConfig {
  std::string name;
  std::string description;
  std::vector<ColumnSpec> columns;
  SourceSpec source;
  std::string layout;       // path template under the storage root
  std::string time_column;  // date/timestamp column that fills the layout's date tokens
  // The column API keys restricted to workspaces are matched on; empty = such keys cannot
  // read the dataset.
  std::string tenant_column;
  // The column API keys restricted to projects are matched on (its text, e.g. project_slug);
  // empty = such keys cannot read the dataset.
  std::string project_column;
  std::vector<SplitSpec> splits;
  Codec compression = Codec::kZstd;
  std::optional<int> compression_level;  // codec default when unset
  int64_t row_group_size = 122880;       // rows
  int64_t max_file_size = 0;             // bytes; 0 = never rotate
  // Row order inside each file (ascending); better compression and tighter row-group
  // statistics for these columns. Empty = input order.
  std::vector<std::string> sort_by;

  const ColumnSpec* FindColumn(std::string_view column) const;
  // The columns stored in the files (in_file), in declared order.
  std::vector<const ColumnSpec*> FileColumns() const;
  const SplitSpec* FindSplit(std::string_view split) const;
};

enum class Rotation { kHourly, kDaily };

// An event stream of `pqflow serve` (POST /v1/streams/{name}): NDJSON rows buffered per
// layout partition and time window, then written as Parquet files.
struct StreamConfig {
  std::string name;
  std::vector<ColumnSpec> columns;  // file column order
  Rotation rotation = Rotation::kHourly;
  // Path template under the storage root; default "{workspace_id}/{date}/{hh}/NAME.parquet"
  // (hourly) or "{workspace_id}/{date}/NAME.parquet" (daily).
  std::string layout;
  // Whose time decides the window: an int64 (ms since the epoch), timestamp or
  // timestamp_ms column.
  std::string time_column = "timestamp";
  // The tenant column API keys can be restricted on (workspace ids).
  std::string tenant_column = "workspace_id";
  Codec compression = Codec::kSnappy;
  std::optional<int> compression_level;
  int64_t row_group_size = 122880;
  int64_t max_rows = 1000000;           // per file; a full buffer is written early
  int64_t max_file_size = 128LL << 20;  // bytes buffered per file (approximate)
  int64_t grace_seconds = 300;          // late events still buffered after the window closes
  const ColumnSpec* FindColumn(std::string_view column) const;
};

// An API key entry: only the SHA-256 of the key is stored (`pqflow keys new` prints both).
struct ApiKeyConfig {
  std::string name;
  std::string hash;                  // "sha256:<64 hex digits>"
  std::vector<std::string> scopes;   // ingest, query, export, admin
  std::vector<uint64_t> workspaces;  // empty = every workspace
  std::vector<std::string> projects; // queries see only these projects' rows; empty = every project
};

// [server]: `pqflow serve`. Environment overrides: PQFLOW_LISTEN, PQFLOW_WAL_DIR,
// PQFLOW_MAX_BODY_SIZE, PQFLOW_MAX_WAL_SIZE, PQFLOW_MEMORY_LIMIT.
struct ServerConfig {
  std::string listen = "127.0.0.1:8080";
  std::string wal_dir;                      // default: "wal" beside the config file (absolute after loading)
  int64_t max_body_size = 16LL << 20;       // per request, after gzip decoding; larger = 413
  int64_t max_wal_size = 1LL << 30;         // log not yet written to Parquet; beyond = 429
  int64_t memory_limit = 512LL << 20;       // buffered rows; reaching it writes the largest buffers early
  int64_t wal_segment_size = 64LL << 20;
  int threads = 0;                          // HTTP worker threads; 0 = 4 per core
  std::vector<ApiKeyConfig> keys;
};

// [query]: limits on every query (`pqflow query`, reports, aggregations, HTTP).
struct QueryConfig {
  int64_t timeout_seconds = 30;
  int64_t memory_limit = 1LL << 30;
  int threads = 0;  // 0 = every core
};

struct StorageConfig {
  std::string root = "./data";  // absolute after loading; or "s3://bucket/prefix"
  // S3 roots only: the endpoint ("http://127.0.0.1:9000"; default https://s3.<region>.amazonaws.com),
  // the region (default: AWS_REGION / the profile's, else us-east-1), path-style addressing
  // (default: on with an endpoint, off for AWS) and the credentials profile (default: AWS_PROFILE).
  std::string endpoint;
  std::string region;
  std::optional<bool> path_style;
  std::string profile;
  // S3 roots only: where staged uploads, dataset locks and the read cache live locally
  // (default $XDG_CACHE_HOME/pqflow, else ~/.cache/pqflow; a directory per bucket and prefix
  // below it), the read cache's size, the multipart part size and how many uploads run at once.
  std::string cache_dir;
  int64_t cache_size = int64_t{4} << 30;
  int64_t part_size = int64_t{8} << 20;
  int parallel_uploads = 8;
};

// "s3://bucket/prefix" -> {bucket, "prefix"} (no trailing '/'); nullopt for a local root.
struct S3Root {
  std::string bucket;
  std::string prefix;
};
std::optional<S3Root> ParseS3Root(std::string_view root);

struct Config {
  std::string source;  // file the config came from, or "<embedded default>"
  StorageConfig storage;
  std::map<std::string, DatasetConfig> datasets;
  std::map<std::string, StreamConfig> streams;  // always holds the built-ins events, logs, snapshots
  ServerConfig server;
  QueryConfig query;

  Result<const DatasetConfig*> FindDataset(std::string_view dataset) const;
  Result<const StreamConfig*> FindStream(std::string_view stream) const;
};

// Parses TOML text. `origin` names it in errors ("pqflow.toml:12: datasets.x.compression:
// ..."); relative paths are resolved against `base_dir`.
Result<Config> ParseConfig(std::string_view toml_text, const std::string& origin, const std::string& base_dir);
Result<Config> LoadConfigFile(const std::string& path);
// The configuration used when no file is given: built-in datasets, root ./data.
Result<Config> LoadEmbeddedDefault();
std::string_view EmbeddedDefaultToml();

// Applies PQFLOW_* environment overrides (PQFLOW_ROOT and the [server] settings); a
// malformed value is an error naming the variable.
Status ApplyEnvironmentOverrides(Config* config);

// The dataset's layouts as templates: the main layout first, then every split's.
Result<std::vector<PathTemplate>> AllLayouts(const DatasetConfig& dataset);

// "256MB", "1GiB", "1048576" -> bytes.
Result<int64_t> ParseByteSize(std::string_view text);
// "90s", "5m", "1h", "2d", "300" -> seconds.
Result<int64_t> ParseDurationSeconds(std::string_view text);

// The built-in streams of seed 004 (events, logs, snapshots) with their fixed schemas.
std::vector<StreamConfig> BuiltinStreams();

}  // namespace pqflow
