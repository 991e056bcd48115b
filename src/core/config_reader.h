// Reading pqflow.toml tables with errors that point at the offending line and key
// ("pqflow.toml:12: datasets.x.compression: ..."), shared by the dataset, stream and server
// sections. Unknown keys are errors, so that a typo is never a silently ignored setting.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <toml++/toml.h>

#include "core/dataset_config.h"
#include "core/status.h"

namespace pqflow::config_internal {

class ConfigReader {
 public:
  explicit ConfigReader(std::string origin) : origin_(std::move(origin)) {}

  Status Error(const toml::node* node, const std::string& key, const std::string& message) const;
  Status CheckKeys(const toml::table& table, const std::string& prefix, const std::set<std::string>& known) const;
  Status GetString(const toml::table& t, const std::string& prefix, const char* key, std::string* out) const;
  Status GetBool(const toml::table& t, const std::string& prefix, const char* key, bool* out) const;
  Status GetInt(const toml::table& t, const std::string& prefix, const char* key, int64_t min, int64_t* out) const;
  Status GetStringList(const toml::table& t, const std::string& prefix, const char* key,
                       std::vector<std::string>* out) const;
  Status GetUIntList(const toml::table& t, const std::string& prefix, const char* key, std::vector<uint64_t>* out) const;
  // "256MB" or a number of bytes.
  Status GetByteSize(const toml::table& t, const std::string& prefix, const char* key, int64_t* out) const;
  // "30s", "5m", "1h" or a number of seconds.
  Status GetSeconds(const toml::table& t, const std::string& prefix, const char* key, int64_t* out) const;
  // compression = "zstd" and compression_level = N, checked against the codec's range.
  Status GetCompression(const toml::table& t, const std::string& prefix, Codec* codec, std::optional<int>* level) const;

  const std::string& origin() const { return origin_; }

 private:
  std::string origin_;
};

std::string ResolvePath(const std::string& base_dir, const std::string& p);

// One [[...columns]] entry; stream columns take `values` and `receipt_time`, dataset
// columns `expr` and `in_file`.
Status ParseColumn(const ConfigReader& r, const toml::table& t, const std::string& prefix, bool stream,
                   ColumnSpec* col);

// The [[PREFIXcolumns]] array of tables.
Status ParseColumns(const ConfigReader& r, const toml::node& node, const std::string& prefix, bool stream,
                    std::vector<ColumnSpec>* columns);

// [streams.NAME] tables and the built-in event streams; [server].
Status ParseStreams(const ConfigReader& r, const toml::node* streams_node, Config* config);
Status ParseServer(const ConfigReader& r, const toml::node* server_node, const std::string& base_dir, Config* config);

}  // namespace pqflow::config_internal
