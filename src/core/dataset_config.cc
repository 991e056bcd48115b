#include "core/dataset_config.h"

#include <cctype>
#include <charconv>
#include <limits>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <toml++/toml.h>

#include "core/config_reader.h"

namespace pqflow {

namespace fs = std::filesystem;
using config_internal::ConfigReader;
using config_internal::ResolvePath;

namespace config_internal {

Status ParseColumn(const ConfigReader& r, const toml::table& t, const std::string& prefix, bool stream,
                   ColumnSpec* col) {
  if (stream) {
    PQ_RETURN_IF_ERROR(r.CheckKeys(t, prefix, {"name", "type", "nullable", "field", "values", "receipt_time"}));
  } else {
    PQ_RETURN_IF_ERROR(r.CheckKeys(t, prefix, {"name", "type", "nullable", "expr", "field", "in_file"}));
  }
  PQ_RETURN_IF_ERROR(r.GetString(t, prefix, "name", &col->name));
  if (col->name.empty()) return r.Error(&t, prefix + "name", "every column needs a name");
  std::string type_text;
  PQ_RETURN_IF_ERROR(r.GetString(t, prefix, "type", &type_text));
  if (type_text.empty()) return r.Error(&t, prefix + "type", "column '" + col->name + "' needs a type (" + std::string(KnownTypeNames()) + ")");
  auto type = ColumnType::Parse(type_text);
  if (!type.ok()) return r.Error(t.get("type"), prefix + "type", type.status().message());
  col->type = *type;
  if (col->type.kind == TypeKind::kIpv6 && !stream) {
    return r.Error(t.get("type"), prefix + "type", "ipv6 columns are written by event streams (pqflow serve) only; declare an exported column as string");
  }
  PQ_RETURN_IF_ERROR(r.GetBool(t, prefix, "nullable", &col->nullable));
  PQ_RETURN_IF_ERROR(r.GetString(t, prefix, "expr", &col->expr));
  PQ_RETURN_IF_ERROR(r.GetString(t, prefix, "field", &col->field));
  PQ_RETURN_IF_ERROR(r.GetBool(t, prefix, "in_file", &col->in_file));
  PQ_RETURN_IF_ERROR(r.GetStringList(t, prefix, "values", &col->values));
  PQ_RETURN_IF_ERROR(r.GetBool(t, prefix, "receipt_time", &col->receipt_time));
  if (!col->values.empty() && col->type.kind != TypeKind::kString) {
    return r.Error(t.get("values"), prefix + "values", "an enumeration needs type = \"string\"");
  }
  if (col->field.empty()) col->field = col->name;
  return Status::OK();
}

Status ParseColumns(const ConfigReader& r, const toml::node& node, const std::string& prefix, bool stream,
                    std::vector<ColumnSpec>* columns) {
  const toml::array* arr = node.as_array();
  if (arr == nullptr) return r.Error(&node, prefix + "columns", "expected [[" + prefix + "columns]] entries");
  for (size_t i = 0; i < arr->size(); ++i) {
    const toml::table* ct = (*arr)[i].as_table();
    std::string cp = prefix + "columns[" + std::to_string(i) + "].";
    if (ct == nullptr) return r.Error(&(*arr)[i], cp, "expected a table {name = ..., type = ...}");
    ColumnSpec col;
    PQ_RETURN_IF_ERROR(ParseColumn(r, *ct, cp, stream, &col));
    columns->push_back(std::move(col));
  }
  return Status::OK();
}

}  // namespace config_internal

namespace {

struct CodecInfo {
  std::string_view name;
  Codec codec;
  std::string_view duckdb;
  int min_level, max_level;  // 0,0: the codec takes no level
};
constexpr CodecInfo kCodecs[] = {
    {"snappy", Codec::kSnappy, "snappy", 0, 0},
    {"gzip", Codec::kGzip, "gzip", 1, 9},
    {"zstd", Codec::kZstd, "zstd", 1, 22},
    {"lz4", Codec::kLz4, "lz4_raw", 0, 0},
    {"brotli", Codec::kBrotli, "brotli", 0, 11},
    {"uncompressed", Codec::kUncompressed, "uncompressed", 0, 0},
};

const CodecInfo& Info(Codec codec) {
  for (const auto& c : kCodecs) {
    if (c.codec == codec) return c;
  }
  return kCodecs[0];
}

Status ParseSource(const ConfigReader& r, const toml::table& t, const std::string& prefix,
                   const std::string& base_dir, SourceSpec* src) {
  PQ_RETURN_IF_ERROR(r.CheckKeys(t, prefix, {"format", "path", "header", "delimiter", "quote", "null_string",
                                             "timestamp_format", "record_path", "parent_fields", "dsn", "table",
                                             "query", "delete"}));
  std::string format = "csv";
  PQ_RETURN_IF_ERROR(r.GetString(t, prefix, "format", &format));
  if (format == "csv") src->format = SourceFormat::kCsv;
  else if (format == "ndjson" || format == "jsonl") src->format = SourceFormat::kNdjson;
  else if (format == "json") src->format = SourceFormat::kJson;
  else if (format == "postgres" || format == "postgresql") src->format = SourceFormat::kPostgres;
  else return r.Error(t.get("format"), prefix + "format", "expected csv, ndjson, json or postgres; got '" + format + "'");
  PQ_RETURN_IF_ERROR(r.GetString(t, prefix, "path", &src->path));
  src->path = ResolvePath(base_dir, src->path);
  PQ_RETURN_IF_ERROR(r.GetBool(t, prefix, "header", &src->header));
  PQ_RETURN_IF_ERROR(r.GetString(t, prefix, "delimiter", &src->delimiter));
  PQ_RETURN_IF_ERROR(r.GetString(t, prefix, "quote", &src->quote));
  PQ_RETURN_IF_ERROR(r.GetString(t, prefix, "null_string", &src->null_string));
  PQ_RETURN_IF_ERROR(r.GetString(t, prefix, "timestamp_format", &src->timestamp_format));
  PQ_RETURN_IF_ERROR(r.GetString(t, prefix, "record_path", &src->record_path));
  PQ_RETURN_IF_ERROR(r.GetStringList(t, prefix, "parent_fields", &src->parent_fields));
  if (src->delimiter.empty() || src->delimiter.size() > 4) {
    return r.Error(t.get("delimiter"), prefix + "delimiter", "expected 1 to 4 characters");
  }
  if (src->format != SourceFormat::kJson && (!src->record_path.empty() || !src->parent_fields.empty())) {
    return r.Error(&t, prefix + "record_path", "only applies to format = \"json\"");
  }
  PQ_RETURN_IF_ERROR(r.GetString(t, prefix, "dsn", &src->dsn));
  PQ_RETURN_IF_ERROR(r.GetString(t, prefix, "table", &src->table));
  PQ_RETURN_IF_ERROR(r.GetString(t, prefix, "query", &src->query));
  PQ_RETURN_IF_ERROR(r.GetString(t, prefix, "delete", &src->delete_sql));
  bool postgres = src->format == SourceFormat::kPostgres;
  for (const char* key : {"dsn", "table", "query", "delete"}) {
    if (!postgres && t.get(key) != nullptr) return r.Error(t.get(key), prefix + key, "only applies to format = \"postgres\"");
  }
  if (postgres && src->table.empty() == src->query.empty()) {
    return r.Error(&t, prefix + "table", "a postgres source needs exactly one of table = \"name\" or query = \"SELECT ...\"");
  }
  if (postgres && !src->table.empty() && !src->delete_sql.empty()) {
    return r.Error(t.get("delete"), prefix + "delete", "a table source deletes by its time_column; delete only applies to query sources");
  }
  return Status::OK();
}

Status ParseSplits(const ConfigReader& r, const toml::table& t, const std::string& prefix, DatasetConfig* ds) {
  for (auto&& [k, v] : t) {
    std::string p = prefix + std::string(k.str()) + ".";
    const toml::table* st = v.as_table();
    if (st == nullptr) return r.Error(&v, p, "expected a table with layout = \"...\"");
    PQ_RETURN_IF_ERROR(r.CheckKeys(*st, p, {"layout", "enabled"}));
    SplitSpec split{std::string(k.str()), "", false};
    PQ_RETURN_IF_ERROR(r.GetString(*st, p, "layout", &split.layout));
    PQ_RETURN_IF_ERROR(r.GetBool(*st, p, "enabled", &split.enabled));
    if (split.layout.empty()) return r.Error(&v, p + "layout", "a split needs a layout");
    ds->splits.push_back(std::move(split));
  }
  return Status::OK();
}

// Cross-field checks: every name the layout, sort order and time column use is a column.
Status ValidateDataset(const ConfigReader& r, const toml::table& t, const std::string& prefix, const DatasetConfig& ds) {
  if (ds.columns.empty()) return r.Error(&t, prefix + "columns", "a dataset needs at least one [[...columns]] entry");
  std::set<std::string> names;
  for (const auto& c : ds.columns) {
    if (!names.insert(c.name).second) return r.Error(t.get("columns"), prefix + "columns", "column '" + c.name + "' is declared twice");
  }
  auto check_layout = [&](const std::string& text, const toml::node* node, const std::string& key) -> Status {
    auto tmpl = PathTemplate::Make(text, ds.name);
    if (!tmpl.ok()) return r.Error(node, prefix + key, tmpl.status().message());
    for (const auto& col : tmpl->ColumnNames()) {
      if (!names.count(col)) return r.Error(node, prefix + key, "{" + col + "} is not a column of the dataset");
    }
    if (tmpl->HasDateTokens() && ds.time_column.empty()) {
      return r.Error(node, prefix + key, "uses date tokens, so the dataset needs time_column = \"<a date or timestamp column>\"");
    }
    const ColumnSpec* time = ds.FindColumn(ds.time_column);
    if (tmpl->HasHourToken() && time != nullptr && time->type.kind == TypeKind::kDate) {
      return r.Error(node, prefix + key, "uses {hh}, but time_column '" + ds.time_column +
                                             "' is a date, which has no hour: use a timestamp column or drop {hh}");
    }
    return Status::OK();
  };
  if (ds.layout.empty()) return r.Error(&t, prefix + "layout", "a dataset needs a layout, e.g. \"{dataset}/{yyyy}/{mm}/{dd}/{dataset}_{date}.parquet\"");
  PQ_RETURN_IF_ERROR(check_layout(ds.layout, t.get("layout"), "layout"));
  for (const auto& s : ds.splits) {
    const toml::node* node = t.at_path("splits." + s.name + ".layout").node();
    PQ_RETURN_IF_ERROR(check_layout(s.layout, node, "splits." + s.name + ".layout"));
  }
  if (ds.FileColumns().empty()) return r.Error(t.get("columns"), prefix + "columns", "at least one column must be stored (in_file)");
  if (ds.source.format == SourceFormat::kPostgres && !ds.source.table.empty() && ds.time_column.empty()) {
    return r.Error(&t, prefix + "time_column", "a postgres table source selects rows by date, so the dataset needs time_column");
  }
  if (!ds.tenant_column.empty() && !names.count(ds.tenant_column)) {
    return r.Error(t.get("tenant_column"), prefix + "tenant_column", "'" + ds.tenant_column + "' is not a column of the dataset");
  }
  if (!ds.project_column.empty() && !names.count(ds.project_column)) {
    return r.Error(t.get("project_column"), prefix + "project_column", "'" + ds.project_column + "' is not a column of the dataset");
  }
  for (const auto& col : ds.sort_by) {
    if (!names.count(col)) return r.Error(t.get("sort_by"), prefix + "sort_by", "'" + col + "' is not a column of the dataset");
  }
  if (!ds.time_column.empty()) {
    const ColumnSpec* tc = ds.FindColumn(ds.time_column);
    if (tc == nullptr || !tc->type.IsTemporal()) {
      return r.Error(t.get("time_column"), prefix + "time_column", "'" + ds.time_column + "' must name a date or timestamp column");
    }
  }
  return Status::OK();
}

Status ParseDataset(const ConfigReader& r, const std::string& name, const toml::table& t,
                    const std::string& base_dir, DatasetConfig* ds) {
  std::string prefix = "datasets." + name + ".";
  ds->name = name;
  PQ_RETURN_IF_ERROR(r.CheckKeys(t, prefix, {"description", "columns", "source", "layout", "time_column", "splits",
                                             "compression", "compression_level", "row_group_size", "sort_by",
                                             "max_file_size", "tenant_column", "project_column"}));
  PQ_RETURN_IF_ERROR(r.GetString(t, prefix, "description", &ds->description));
  PQ_RETURN_IF_ERROR(r.GetString(t, prefix, "tenant_column", &ds->tenant_column));
  PQ_RETURN_IF_ERROR(r.GetString(t, prefix, "project_column", &ds->project_column));
  PQ_RETURN_IF_ERROR(r.GetString(t, prefix, "layout", &ds->layout));
  PQ_RETURN_IF_ERROR(r.GetString(t, prefix, "time_column", &ds->time_column));
  PQ_RETURN_IF_ERROR(r.GetCompression(t, prefix, &ds->compression, &ds->compression_level));
  PQ_RETURN_IF_ERROR(r.GetInt(t, prefix, "row_group_size", 1, &ds->row_group_size));
  PQ_RETURN_IF_ERROR(r.GetStringList(t, prefix, "sort_by", &ds->sort_by));
  if (const toml::node* n = t.get("max_file_size")) {
    auto text = n->value<std::string>();
    auto num = n->value<int64_t>();
    auto size = text ? ParseByteSize(*text) : num ? Result<int64_t>(*num) : Result<int64_t>(Status::InvalidArgument("expected a size"));
    if (!size.ok()) return r.Error(n, prefix + "max_file_size", size.status().message() + " (e.g. \"256MB\")");
    ds->max_file_size = *size;
  }
  if (const toml::node* n = t.get("columns")) {
    PQ_RETURN_IF_ERROR(config_internal::ParseColumns(r, *n, prefix, /*stream=*/false, &ds->columns));
  }
  if (const toml::node* n = t.get("source")) {
    if (!n->is_table()) return r.Error(n, prefix + "source", "expected a table");
    PQ_RETURN_IF_ERROR(ParseSource(r, *n->as_table(), prefix + "source.", base_dir, &ds->source));
  }
  if (const toml::node* n = t.get("splits")) {
    if (!n->is_table()) return r.Error(n, prefix + "splits", "expected [datasets." + name + ".splits.NAME] tables");
    PQ_RETURN_IF_ERROR(ParseSplits(r, *n->as_table(), prefix + "splits.", ds));
  }
  return ValidateDataset(r, t, prefix, *ds);
}

}  // namespace

Result<Codec> ParseCodec(std::string_view name) {
  std::string lower;
  for (char c : name) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "none") lower = "uncompressed";
  for (const auto& c : kCodecs) {
    if (c.name == lower) return c.codec;
  }
  return Status::InvalidArgument("unknown compression '" + std::string(name) +
                                 "' (expected snappy, gzip, zstd, lz4, brotli or uncompressed)");
}

std::string CodecName(Codec codec) { return std::string(Info(codec).name); }
std::string CodecDuckDbName(Codec codec) { return std::string(Info(codec).duckdb); }
bool CodecHasLevel(Codec codec) { return Info(codec).max_level > 0; }
std::pair<int, int> CodecLevelRange(Codec codec) { return {Info(codec).min_level, Info(codec).max_level}; }

std::string SourceFormatName(SourceFormat format) {
  switch (format) {
    case SourceFormat::kCsv: return "csv";
    case SourceFormat::kNdjson: return "ndjson";
    case SourceFormat::kJson: return "json";
    case SourceFormat::kPostgres: return "postgres";
  }
  return "?";
}

const ColumnSpec* DatasetConfig::FindColumn(std::string_view column) const {
  for (const auto& c : columns) {
    if (c.name == column) return &c;
  }
  return nullptr;
}

std::vector<const ColumnSpec*> DatasetConfig::FileColumns() const {
  std::vector<const ColumnSpec*> out;
  for (const auto& c : columns) {
    if (c.in_file) out.push_back(&c);
  }
  return out;
}

const SplitSpec* DatasetConfig::FindSplit(std::string_view split) const {
  for (const auto& s : splits) {
    if (s.name == split) return &s;
  }
  return nullptr;
}

Result<const DatasetConfig*> Config::FindDataset(std::string_view dataset) const {
  auto it = datasets.find(std::string(dataset));
  if (it != datasets.end()) return &it->second;
  std::string known;
  for (const auto& [n, _] : datasets) known += (known.empty() ? "" : ", ") + n;
  return Status::NotFound("unknown dataset '" + std::string(dataset) + "' in " + source +
                          " (configured: " + (known.empty() ? "none" : known) + ")");
}

Result<Config> ParseConfig(std::string_view toml_text, const std::string& origin, const std::string& base_dir) {
  ConfigReader r(origin);
  toml::table root;
  try {
    root = toml::parse(toml_text, origin);
  } catch (const toml::parse_error& e) {
    return Status::InvalidArgument(origin + ":" + std::to_string(e.source().begin.line) + ": " +
                                   std::string(e.description()));
  }
  PQ_RETURN_IF_ERROR(r.CheckKeys(root, "", {"storage", "datasets", "streams", "server", "query"}));
  Config config;
  config.source = origin;
  if (const toml::node* n = root.get("storage")) {
    if (!n->is_table()) return r.Error(n, "storage", "expected a table");
    const toml::table& st = *n->as_table();
    PQ_RETURN_IF_ERROR(r.CheckKeys(st, "storage.", {"root", "endpoint", "region", "path_style", "profile", "cache_dir",
                                                    "cache_size", "part_size", "parallel_uploads"}));
    PQ_RETURN_IF_ERROR(r.GetString(st, "storage.", "root", &config.storage.root));
    PQ_RETURN_IF_ERROR(r.GetString(st, "storage.", "endpoint", &config.storage.endpoint));
    PQ_RETURN_IF_ERROR(r.GetString(st, "storage.", "region", &config.storage.region));
    PQ_RETURN_IF_ERROR(r.GetString(st, "storage.", "profile", &config.storage.profile));
    if (const toml::node* ps = st.get("path_style")) {
      if (!ps->is_boolean()) return r.Error(ps, "storage.path_style", "expected true or false");
      config.storage.path_style = ps->value<bool>();
    }
    PQ_RETURN_IF_ERROR(r.GetString(st, "storage.", "cache_dir", &config.storage.cache_dir));
    if (!config.storage.cache_dir.empty()) config.storage.cache_dir = ResolvePath(base_dir, config.storage.cache_dir);
    PQ_RETURN_IF_ERROR(r.GetByteSize(st, "storage.", "cache_size", &config.storage.cache_size));
    PQ_RETURN_IF_ERROR(r.GetByteSize(st, "storage.", "part_size", &config.storage.part_size));
    if (const toml::node* ps = st.get("part_size"); ps && config.storage.part_size < (int64_t{5} << 20)) {
      return r.Error(ps, "storage.part_size", "expected at least 5MB (S3's smallest multipart part)");
    }
    int64_t uploads = config.storage.parallel_uploads;
    PQ_RETURN_IF_ERROR(r.GetInt(st, "storage.", "parallel_uploads", 1, &uploads));
    config.storage.parallel_uploads = static_cast<int>(uploads);
    const bool s3 = ParseS3Root(config.storage.root).has_value();
    if (config.storage.root.rfind("s3://", 0) == 0 && !s3) {
      return r.Error(st.get("root"), "storage.root", "expected s3://bucket or s3://bucket/prefix");
    }
    for (const char* key : {"endpoint", "region", "path_style", "profile", "cache_dir", "cache_size", "part_size",
                            "parallel_uploads"}) {
      if (!s3 && st.get(key) != nullptr) {
        return r.Error(st.get(key), std::string("storage.") + key, "is for s3:// roots only");
      }
    }
  }
  if (!ParseS3Root(config.storage.root)) config.storage.root = ResolvePath(base_dir, config.storage.root);
  if (const toml::node* n = root.get("datasets")) {
    if (!n->is_table()) return r.Error(n, "datasets", "expected [datasets.NAME] tables");
    for (auto&& [k, v] : *n->as_table()) {
      const toml::table* dt = v.as_table();
      if (dt == nullptr) return r.Error(&v, "datasets." + std::string(k.str()), "expected a table");
      DatasetConfig ds;
      PQ_RETURN_IF_ERROR(ParseDataset(r, std::string(k.str()), *dt, base_dir, &ds));
      config.datasets.emplace(ds.name, std::move(ds));
    }
  }
  PQ_RETURN_IF_ERROR(config_internal::ParseStreams(r, root.get("streams"), &config));
  PQ_RETURN_IF_ERROR(config_internal::ParseServer(r, root.get("server"), base_dir, &config));
  if (const toml::node* n = root.get("query")) {
    if (!n->is_table()) return r.Error(n, "query", "expected a table");
    const toml::table& q = *n->as_table();
    PQ_RETURN_IF_ERROR(r.CheckKeys(q, "query.", {"timeout", "memory_limit", "threads"}));
    PQ_RETURN_IF_ERROR(r.GetSeconds(q, "query.", "timeout", &config.query.timeout_seconds));
    PQ_RETURN_IF_ERROR(r.GetByteSize(q, "query.", "memory_limit", &config.query.memory_limit));
    int64_t threads = 0;
    PQ_RETURN_IF_ERROR(r.GetInt(q, "query.", "threads", 0, &threads));
    config.query.threads = static_cast<int>(threads);
  }
  return config;
}

std::optional<S3Root> ParseS3Root(std::string_view root) {
  if (root.rfind("s3://", 0) != 0) return std::nullopt;
  std::string_view rest = root.substr(5);
  const size_t slash = rest.find('/');
  S3Root out;
  out.bucket = std::string(rest.substr(0, slash));
  if (slash != std::string_view::npos) out.prefix = std::string(rest.substr(slash + 1));
  while (!out.prefix.empty() && out.prefix.back() == '/') out.prefix.pop_back();
  if (out.bucket.empty()) return std::nullopt;
  return out;
}

Result<const StreamConfig*> Config::FindStream(std::string_view stream) const {
  auto it = streams.find(std::string(stream));
  if (it != streams.end()) return &it->second;
  std::string known;
  for (const auto& [n, _] : streams) known += (known.empty() ? "" : ", ") + n;
  return Status::NotFound("unknown stream '" + std::string(stream) + "' (configured: " + known + ")");
}

Result<Config> LoadConfigFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot open config file " + path + " (pass --config FILE, or omit it to use the embedded default)");
  std::stringstream buf;
  buf << in.rdbuf();
  std::string base = fs::absolute(fs::path(path)).parent_path().string();
  return ParseConfig(buf.str(), path, base);
}

Result<Config> LoadEmbeddedDefault() {
  return ParseConfig(EmbeddedDefaultToml(), "<embedded default>", fs::current_path().string());
}

Status ApplyEnvironmentOverrides(Config* config) {
  auto env = [](const char* name) -> std::optional<std::string> {
    const char* v = std::getenv(name);
    if (v == nullptr || *v == '\0') return std::nullopt;
    return std::string(v);
  };
  if (auto root = env("PQFLOW_ROOT")) {
    config->storage.root = ParseS3Root(*root) ? *root : fs::absolute(*root).lexically_normal().string();
  }
  if (auto listen = env("PQFLOW_LISTEN")) config->server.listen = *listen;
  if (auto wal = env("PQFLOW_WAL_DIR")) config->server.wal_dir = fs::absolute(*wal).lexically_normal().string();
  struct SizeVar { const char* name; int64_t* target; };
  for (SizeVar v : {SizeVar{"PQFLOW_MAX_BODY_SIZE", &config->server.max_body_size},
                    SizeVar{"PQFLOW_MAX_WAL_SIZE", &config->server.max_wal_size},
                    SizeVar{"PQFLOW_MEMORY_LIMIT", &config->server.memory_limit}}) {
    auto text = env(v.name);
    if (!text) continue;
    auto size = ParseByteSize(*text);
    if (!size.ok() || *size <= 0) {
      return Status::InvalidArgument(std::string("environment variable ") + v.name + "='" + *text +
                                     "': expected a size such as 64MB");
    }
    *v.target = *size;
  }
  return Status::OK();
}

Result<std::vector<PathTemplate>> AllLayouts(const DatasetConfig& dataset) {
  std::vector<PathTemplate> layouts;
  PQ_ASSIGN_OR_RETURN(PathTemplate main, PathTemplate::Make(dataset.layout, dataset.name));
  layouts.push_back(std::move(main));
  for (const auto& s : dataset.splits) {
    PQ_ASSIGN_OR_RETURN(PathTemplate t, PathTemplate::Make(s.layout, dataset.name));
    layouts.push_back(std::move(t));
  }
  return layouts;
}

Result<int64_t> ParseDurationSeconds(std::string_view text) {
  size_t i = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
  int64_t n = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + i, n);
  if (i == 0 || ec != std::errc()) return Status::InvalidArgument("'" + std::string(text) + "' is not a duration");
  std::string_view unit = text.substr(i);
  static const std::pair<std::string_view, int64_t> kUnits[] = {{"", 1}, {"s", 1}, {"m", 60}, {"h", 3600}, {"d", 86400}};
  for (const auto& [name, mult] : kUnits) {
    if (unit == name) return n * mult;
  }
  return Status::InvalidArgument("'" + std::string(text) + "' has an unknown unit (use s, m, h or d)");
}

Result<int64_t> ParseByteSize(std::string_view text) {
  size_t i = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
  if (i == 0) return Status::InvalidArgument("'" + std::string(text) + "' is not a size");
  int64_t n = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + i, n);
  if (ec != std::errc() || ptr != text.data() + i) return Status::InvalidArgument("'" + std::string(text) + "' is too large");
  std::string unit;
  for (char c : text.substr(i)) {
    if (!std::isspace(static_cast<unsigned char>(c))) unit += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  static const std::pair<const char*, int64_t> kUnits[] = {
      {"", 1}, {"B", 1}, {"KB", 1000}, {"MB", 1000 * 1000}, {"GB", 1000LL * 1000 * 1000},
      {"KIB", 1024}, {"MIB", 1024 * 1024}, {"GIB", 1024LL * 1024 * 1024}, {"K", 1024}, {"M", 1024 * 1024}, {"G", 1024LL * 1024 * 1024}};
  for (const auto& [name, mult] : kUnits) {
    if (unit != name) continue;
    if (n > std::numeric_limits<int64_t>::max() / mult) return Status::InvalidArgument("'" + std::string(text) + "' is too large");
    return n * mult;
  }
  return Status::InvalidArgument("'" + std::string(text) + "' has an unknown unit (use B, KB, MB, GB, KiB, MiB, GiB)");
}

}  // namespace pqflow
