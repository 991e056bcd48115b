// A partition's manifest: the record, written last, that a partition is complete.
// Format: docs/manifest.md. It sits beside the partition's first file as
// "_<file stem>.manifest.json"; readers that skip "_"-prefixed files (Spark, Hive, Trino)
// and "*.parquet" globs never see it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/dataset_config.h"
#include "core/status.h"
#include "storage/storage.h"

namespace pqflow::sink {

struct ManifestFile {
  std::string path;  // relative to the storage root
  int64_t rows = 0;
  int64_t bytes = 0;
  std::string sha256;
  // PostgreSQL sources: the id of the transaction that read this file's rows. Whether that
  // transaction committed (pg_xact_status) says whether the rows were also deleted from
  // the source (--delete-after-export), which decides what a later run may replace.
  std::optional<int64_t> source_txid;
};

struct ManifestSource {
  std::string path;
  int64_t size = 0;
  int64_t mtime_ns = 0;
};

struct Manifest {
  std::string dataset;
  std::string layout;
  std::string split;  // "" for the main layout
  std::optional<std::string> date;
  std::optional<int> hour;
  std::vector<std::pair<std::string, std::optional<std::string>>> columns;  // layout column values
  std::vector<ManifestFile> files;
  int64_t rows = 0;
  int64_t bytes = 0;
  std::vector<ColumnSpec> schema;
  std::string compression;
  std::vector<ManifestSource> sources;
  std::string source_fingerprint;
  std::string run_id;
  std::string created_at;
  std::string pqflow_version;
  std::string duckdb_version;

  std::string ToJson() const;
  static Result<Manifest> FromJson(const std::string& text, const std::string& origin);
};

// "a/b/pageviews_2026-01-15.parquet" -> "a/b/_pageviews_2026-01-15.manifest.json"
std::string ManifestPathFor(const std::string& first_file_path);
bool IsManifestPath(const std::string& path);

// A fingerprint of the inputs: SHA-256 over their paths, sizes and modification times.
std::string SourceFingerprint(const std::vector<ManifestSource>& sources);

// Reads the manifest at `path`; NotFound if there is none.
Result<Manifest> ReadManifest(storage::Storage& storage, const std::string& path);
// True when every file the manifest lists is present with its recorded size.
bool FilesMatch(storage::Storage& storage, const Manifest& manifest);
// True when the manifest exists and FilesMatch.
bool PartitionIsComplete(storage::Storage& storage, const std::string& manifest_path, Manifest* out);

}  // namespace pqflow::sink
