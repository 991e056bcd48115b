#include "sink/manifest.h"

#include <nlohmann/json.hpp>

#include "core/crypto.h"

namespace pqflow::sink {

using nlohmann::json;

namespace {
constexpr const char* kFormat = "pqflow.partition-manifest";
constexpr int kVersion = 1;

json OptionalString(const std::optional<std::string>& v) { return v ? json(*v) : json(nullptr); }
}  // namespace

std::string Manifest::ToJson() const {
  json j;
  j["format"] = kFormat;
  j["version"] = kVersion;
  j["dataset"] = dataset;
  j["layout"] = layout;
  j["split"] = split.empty() ? json(nullptr) : json(split);
  json part = json::object();
  part["date"] = OptionalString(date);
  part["hour"] = hour ? json(*hour) : json(nullptr);
  json cols = json::object();
  for (const auto& [k, v] : columns) cols[k] = OptionalString(v);
  part["columns"] = cols;
  j["partition"] = part;
  j["rows"] = rows;
  j["bytes"] = bytes;
  j["files"] = json::array();
  for (const auto& f : files) {
    json file = {{"path", f.path}, {"rows", f.rows}, {"bytes", f.bytes}, {"sha256", f.sha256}};
    if (f.source_txid) file["source_txid"] = *f.source_txid;
    j["files"].push_back(std::move(file));
  }
  j["schema"] = json::array();
  for (const auto& c : schema) {
    j["schema"].push_back({{"name", c.name}, {"type", c.type.ToString()}, {"nullable", c.nullable}});
  }
  j["compression"] = compression;
  json src = json::object();
  src["fingerprint"] = source_fingerprint;
  src["files"] = json::array();
  for (const auto& s : sources) {
    src["files"].push_back({{"path", s.path}, {"size", s.size}, {"mtime_ns", s.mtime_ns}});
  }
  j["source"] = src;
  j["run_id"] = run_id;
  j["created_at"] = created_at;
  j["pqflow_version"] = pqflow_version;
  j["duckdb_version"] = duckdb_version;
  return j.dump(2) + "\n";
}

Result<Manifest> Manifest::FromJson(const std::string& text, const std::string& origin) {
  try {
    json j = json::parse(text);
    if (j.value("format", "") != kFormat) return Status::Corruption(origin + ": not a pqflow manifest");
    if (j.value("version", 0) != kVersion) {
      return Status::Corruption(origin + ": manifest version " + std::to_string(j.value("version", 0)) + " is not supported");
    }
    Manifest m;
    m.dataset = j.at("dataset").get<std::string>();
    m.layout = j.at("layout").get<std::string>();
    if (j.contains("split") && !j.at("split").is_null()) m.split = j.at("split").get<std::string>();
    const json& part = j.at("partition");
    if (!part.contains("date") || !part.contains("hour")) {
      return Status::Corruption(origin + ": malformed manifest: partition needs date and hour");
    }
    if (!part.at("date").is_null()) m.date = part.at("date").get<std::string>();
    if (!part.at("hour").is_null()) m.hour = part.at("hour").get<int>();
    for (auto& [k, v] : part.at("columns").items()) {
      m.columns.emplace_back(k, v.is_null() ? std::nullopt : std::optional<std::string>(v.get<std::string>()));
    }
    m.rows = j.at("rows").get<int64_t>();
    m.bytes = j.at("bytes").get<int64_t>();
    for (const auto& f : j.at("files")) {
      ManifestFile file{f.at("path").get<std::string>(), f.at("rows").get<int64_t>(), f.at("bytes").get<int64_t>(),
                        f.at("sha256").get<std::string>(), std::nullopt};
      if (f.contains("source_txid")) file.source_txid = f.at("source_txid").get<int64_t>();
      m.files.push_back(std::move(file));
    }
    for (const auto& c : j.at("schema")) {
      ColumnSpec col;
      col.name = c.at("name").get<std::string>();
      auto type = ColumnType::Parse(c.at("type").get<std::string>());
      if (!type.ok()) return Status::Corruption(origin + ": " + type.status().message());
      col.type = *type;
      col.nullable = c.at("nullable").get<bool>();
      m.schema.push_back(std::move(col));
    }
    m.compression = j.value("compression", "");
    m.source_fingerprint = j.at("source").value("fingerprint", "");
    for (const auto& s : j.at("source").at("files")) {
      m.sources.push_back({s.at("path").get<std::string>(), s.at("size").get<int64_t>(), s.at("mtime_ns").get<int64_t>()});
    }
    m.run_id = j.value("run_id", "");
    m.created_at = j.value("created_at", "");
    m.pqflow_version = j.value("pqflow_version", "");
    m.duckdb_version = j.value("duckdb_version", "");
    return m;
  } catch (const json::exception& e) {
    return Status::Corruption(origin + ": malformed manifest: " + e.what());
  }
}

std::string ManifestPathFor(const std::string& first_file_path) {
  size_t slash = first_file_path.rfind('/');
  std::string dir = slash == std::string::npos ? "" : first_file_path.substr(0, slash + 1);
  std::string name = slash == std::string::npos ? first_file_path : first_file_path.substr(slash + 1);
  constexpr std::string_view kExt = ".parquet";
  if (name.size() > kExt.size() && name.compare(name.size() - kExt.size(), kExt.size(), kExt) == 0) {
    name.resize(name.size() - kExt.size());
  }
  return dir + "_" + name + ".manifest.json";
}

bool IsManifestPath(const std::string& path) {
  size_t slash = path.rfind('/');
  std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  constexpr std::string_view kSuffix = ".manifest.json";
  return name.size() > kSuffix.size() + 1 && name[0] == '_' &&
         name.compare(name.size() - kSuffix.size(), kSuffix.size(), kSuffix) == 0;
}

std::string SourceFingerprint(const std::vector<ManifestSource>& sources) {
  std::string text;
  for (const auto& s : sources) {
    text += s.path + '\0' + std::to_string(s.size) + '\0' + std::to_string(s.mtime_ns) + '\n';
  }
  return Sha256Hex(text);
}

Result<Manifest> ReadManifest(storage::Storage& storage, const std::string& path) {
  PQ_ASSIGN_OR_RETURN(std::string text, storage.ReadFile(path));
  return Manifest::FromJson(text, storage.DisplayPath(path));
}

bool FilesMatch(storage::Storage& storage, const Manifest& manifest) {
  for (const auto& f : manifest.files) {
    auto st = storage.Stat(f.path);
    if (!st.ok() || st->size != f.bytes) return false;
  }
  return true;
}

bool PartitionIsComplete(storage::Storage& storage, const std::string& manifest_path, Manifest* out) {
  auto m = ReadManifest(storage, manifest_path);
  if (!m.ok() || !FilesMatch(storage, *m)) return false;
  if (out != nullptr) *out = std::move(m).value();
  return true;
}

}  // namespace pqflow::sink
