#include "core/config_reader.h"

#include <filesystem>

namespace pqflow::config_internal {

namespace fs = std::filesystem;

Status ConfigReader::Error(const toml::node* node, const std::string& key, const std::string& message) const {
  std::string where = origin_;
  if (node != nullptr && node->source().begin.line > 0) where += ":" + std::to_string(node->source().begin.line);
  return Status::InvalidArgument(where + ": " + key + ": " + message);
}

Status ConfigReader::CheckKeys(const toml::table& table, const std::string& prefix,
                               const std::set<std::string>& known) const {
  for (auto&& [k, v] : table) {
    if (known.count(std::string(k.str())) == 0) {
      std::string list;
      for (const auto& name : known) list += (list.empty() ? "" : ", ") + name;
      return Error(&v, prefix + std::string(k.str()), "unknown key (known keys here: " + list + ")");
    }
  }
  return Status::OK();
}

Status ConfigReader::GetString(const toml::table& t, const std::string& prefix, const char* key, std::string* out) const {
  const toml::node* n = t.get(key);
  if (n == nullptr) return Status::OK();
  auto v = n->value<std::string>();
  if (!v) return Error(n, prefix + key, "expected a string");
  *out = *v;
  return Status::OK();
}

Status ConfigReader::GetBool(const toml::table& t, const std::string& prefix, const char* key, bool* out) const {
  const toml::node* n = t.get(key);
  if (n == nullptr) return Status::OK();
  auto v = n->value<bool>();
  if (!v) return Error(n, prefix + key, "expected true or false");
  *out = *v;
  return Status::OK();
}

Status ConfigReader::GetInt(const toml::table& t, const std::string& prefix, const char* key, int64_t min,
                            int64_t* out) const {
  const toml::node* n = t.get(key);
  if (n == nullptr) return Status::OK();
  auto v = n->value<int64_t>();
  if (!v || *v < min) return Error(n, prefix + key, "expected an integer >= " + std::to_string(min));
  *out = *v;
  return Status::OK();
}

Status ConfigReader::GetStringList(const toml::table& t, const std::string& prefix, const char* key,
                                   std::vector<std::string>* out) const {
  const toml::node* n = t.get(key);
  if (n == nullptr) return Status::OK();
  const toml::array* arr = n->as_array();
  if (arr == nullptr) return Error(n, prefix + key, "expected a list of strings, e.g. [\"a\", \"b\"]");
  out->clear();
  for (const auto& item : *arr) {
    auto s = item.value<std::string>();
    if (!s) return Error(&item, prefix + key, "expected a list of strings");
    out->push_back(*s);
  }
  return Status::OK();
}

Status ConfigReader::GetUIntList(const toml::table& t, const std::string& prefix, const char* key,
                                 std::vector<uint64_t>* out) const {
  const toml::node* n = t.get(key);
  if (n == nullptr) return Status::OK();
  const toml::array* arr = n->as_array();
  if (arr == nullptr) return Error(n, prefix + key, "expected a list of non-negative integers, e.g. [42, 7]");
  out->clear();
  for (const auto& item : *arr) {
    auto v = item.value<int64_t>();
    if (!v || *v < 0) return Error(&item, prefix + key, "expected a list of non-negative integers");
    out->push_back(static_cast<uint64_t>(*v));
  }
  return Status::OK();
}

Status ConfigReader::GetByteSize(const toml::table& t, const std::string& prefix, const char* key, int64_t* out) const {
  const toml::node* n = t.get(key);
  if (n == nullptr) return Status::OK();
  auto text = n->value<std::string>();
  auto num = n->value<int64_t>();
  auto size = text  ? ParseByteSize(*text)
              : num ? Result<int64_t>(*num)
                    : Result<int64_t>(Status::InvalidArgument("expected a size"));
  if (!size.ok() || *size <= 0) {
    return Error(n, prefix + key, (size.ok() ? std::string("expected a positive size") : size.status().message()) + " (e.g. \"256MB\")");
  }
  *out = *size;
  return Status::OK();
}

Status ConfigReader::GetSeconds(const toml::table& t, const std::string& prefix, const char* key, int64_t* out) const {
  const toml::node* n = t.get(key);
  if (n == nullptr) return Status::OK();
  if (auto num = n->value<int64_t>()) {
    if (*num < 0) return Error(n, prefix + key, "expected a duration >= 0");
    *out = *num;
    return Status::OK();
  }
  auto text = n->value<std::string>();
  auto seconds = text ? ParseDurationSeconds(*text) : Result<int64_t>(Status::InvalidArgument("expected a duration"));
  if (!seconds.ok()) return Error(n, prefix + key, seconds.status().message() + " (e.g. \"30s\", \"5m\", \"1h\")");
  *out = *seconds;
  return Status::OK();
}

Status ConfigReader::GetCompression(const toml::table& t, const std::string& prefix, Codec* codec,
                                    std::optional<int>* level) const {
  std::string name = CodecName(*codec);
  PQ_RETURN_IF_ERROR(GetString(t, prefix, "compression", &name));
  auto parsed = ParseCodec(name);
  if (!parsed.ok()) return Error(t.get("compression"), prefix + "compression", parsed.status().message());
  *codec = *parsed;
  if (const toml::node* n = t.get("compression_level")) {
    auto [min_level, max_level] = CodecLevelRange(*codec);
    auto value = n->value<int64_t>();
    if (max_level == 0) return Error(n, prefix + "compression_level", CodecName(*codec) + " takes no level");
    if (!value || *value < min_level || *value > max_level) {
      return Error(n, prefix + "compression_level",
                   "expected " + std::to_string(min_level) + ".." + std::to_string(max_level) + " for " + CodecName(*codec));
    }
    *level = static_cast<int>(*value);
  }
  return Status::OK();
}

std::string ResolvePath(const std::string& base_dir, const std::string& p) {
  if (p.empty() || fs::path(p).is_absolute()) return p;
  return (fs::path(base_dir) / p).lexically_normal().string();
}

}  // namespace pqflow::config_internal
