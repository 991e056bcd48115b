// [streams.NAME] and [server] in pqflow.toml, and the built-in event streams of seed 004.
#include <set>

#include "core/config_reader.h"

namespace pqflow {

namespace {

ColumnSpec Column(std::string name, TypeKind kind, bool nullable, std::vector<std::string> values = {}) {
  ColumnSpec c;
  c.name = name;
  c.field = std::move(name);
  c.type.kind = kind;
  c.nullable = nullable;
  c.values = std::move(values);
  return c;
}

// The columns every built-in stream starts with: event time, receipt time, tenant.
std::vector<ColumnSpec> CommonColumns() {
  ColumnSpec receipt = Column("batch_timestamp", TypeKind::kInt64, false);
  receipt.receipt_time = true;
  return {Column("timestamp", TypeKind::kInt64, false), receipt, Column("workspace_id", TypeKind::kUInt64, false)};
}

StreamConfig Builtin(const std::string& name, std::vector<ColumnSpec> columns) {
  StreamConfig s;
  s.name = name;
  s.columns = CommonColumns();
  for (auto& c : columns) s.columns.push_back(std::move(c));
  return s;
}

std::string DefaultLayout(const StreamConfig& s) {
  return s.rotation == Rotation::kHourly ? "parquet/{workspace_id}/{date}/{hour}/" + s.name + ".parquet"
                                         : "parquet/{workspace_id}/{date}/" + s.name + ".parquet";
}

// The key's node, or the table when the key is absent (the setting is a default).
const toml::node* At(const toml::table& t, const char* key) {
  const toml::node* n = t.get(key);
  return n != nullptr ? n : &t;
}

// The types whose values the sink writes into a path as the text DuckDB casts them to and
// from, which queries rely on to prune by the path. Others (a double's or a UUID's bytes, a
// timestamp) would be written in a form the path's reader takes for another value.
bool CanNameAFolder(TypeKind kind) {
  switch (kind) {
    case TypeKind::kString:
    case TypeKind::kJson:
    case TypeKind::kBoolean:
    case TypeKind::kInt8:
    case TypeKind::kInt16:
    case TypeKind::kInt32:
    case TypeKind::kInt64:
    case TypeKind::kUInt8:
    case TypeKind::kUInt16:
    case TypeKind::kUInt32:
    case TypeKind::kUInt64:
    case TypeKind::kDate:
      return true;
    default:
      return false;
  }
}

Status ValidateStream(const config_internal::ConfigReader& r, const toml::table& t, const std::string& prefix,
                      const StreamConfig& s) {
  if (s.columns.empty()) return r.Error(&t, prefix + "columns", "a stream needs at least one [[...columns]] entry");
  std::set<std::string> names, fields;
  for (const auto& c : s.columns) {
    if (!names.insert(c.name).second) return r.Error(t.get("columns"), prefix + "columns", "column '" + c.name + "' is declared twice");
    if (!c.receipt_time && !fields.insert(c.field).second) {
      return r.Error(t.get("columns"), prefix + "columns", "two columns read the JSON field '" + c.field + "'");
    }
    if (c.receipt_time && c.type.kind != TypeKind::kInt64 && !c.type.IsTemporal()) {
      return r.Error(t.get("columns"), prefix + "columns", "receipt_time column '" + c.name + "' must be int64 (ms) or a timestamp");
    }
  }
  const ColumnSpec* time = s.FindColumn(s.time_column);
  if (time == nullptr || !(time->type.kind == TypeKind::kInt64 || time->type.kind == TypeKind::kTimestamp ||
                           time->type.kind == TypeKind::kTimestampMs)) {
    return r.Error(At(t, "time_column"), prefix + "time_column",
                   "'" + s.time_column + "' must name an int64 (ms since the epoch) or timestamp column");
  }
  if (time->nullable) return r.Error(At(t, "time_column"), prefix + "time_column", "'" + s.time_column + "' must be nullable = false");
  const ColumnSpec* tenant = s.FindColumn(s.tenant_column);
  if (tenant == nullptr || tenant->type.kind != TypeKind::kUInt64 || tenant->nullable) {
    return r.Error(At(t, "tenant_column"), prefix + "tenant_column",
                   "'" + s.tenant_column + "' must name a uint64 column with nullable = false");
  }
  auto layout = PathTemplate::Make(s.layout, s.name);
  if (!layout.ok()) return r.Error(At(t, "layout"), prefix + "layout", layout.status().message());
  for (const auto& col : layout->ColumnNames()) {
    const ColumnSpec* c = s.FindColumn(col);
    if (c == nullptr) return r.Error(At(t, "layout"), prefix + "layout", "{" + col + "} is not a column of the stream");
    if (!CanNameAFolder(c->type.kind)) {
      return r.Error(At(t, "layout"), prefix + "layout",
                     "{" + col + "} is a " + c->type.ToString() + " column; a stream's layout can name string, "
                     "json, boolean, integer and date columns");
    }
  }
  if (s.rotation == Rotation::kHourly && !layout->HasHourToken()) {
    return r.Error(At(t, "layout"), prefix + "layout", "hourly rotation needs {hour} in the layout");
  }
  if (s.rotation == Rotation::kDaily && layout->HasHourToken()) {
    return r.Error(At(t, "layout"), prefix + "layout",
                   "daily rotation writes one file a day, which {hour} would label hour 00: drop {hour} or use "
                   "rotation = \"hourly\"");
  }
  if (layout->Granularity() != PathTemplate::DateGranularity::kDay) {
    return r.Error(At(t, "layout"), prefix + "layout", "a stream layout needs the day ({date} or {dd}) so that a file never spans days");
  }
  return Status::OK();
}

Status ParseStream(const config_internal::ConfigReader& r, const std::string& name, const toml::table& t,
                   StreamConfig* s, bool builtin) {
  std::string prefix = "streams." + name + ".";
  s->name = name;
  PQ_RETURN_IF_ERROR(r.CheckKeys(t, prefix, {"columns", "rotation", "layout", "time_column", "tenant_column",
                                             "compression", "compression_level", "row_group_size", "max_rows",
                                             "max_file_size", "grace"}));
  if (const toml::node* n = t.get("columns")) {
    if (builtin) {
      return r.Error(n, prefix + "columns", "the schema of the built-in stream '" + name +
                                                "' is fixed; declare a stream with another name for other columns");
    }
    PQ_RETURN_IF_ERROR(config_internal::ParseColumns(r, *n, prefix, /*stream=*/true, &s->columns));
  }
  std::string rotation = s->rotation == Rotation::kHourly ? "hourly" : "daily";
  PQ_RETURN_IF_ERROR(r.GetString(t, prefix, "rotation", &rotation));
  if (rotation == "hourly") s->rotation = Rotation::kHourly;
  else if (rotation == "daily") s->rotation = Rotation::kDaily;
  else return r.Error(t.get("rotation"), prefix + "rotation", "expected \"hourly\" or \"daily\"; got '" + rotation + "'");
  PQ_RETURN_IF_ERROR(r.GetString(t, prefix, "layout", &s->layout));
  if (s->layout.empty()) s->layout = DefaultLayout(*s);
  PQ_RETURN_IF_ERROR(r.GetString(t, prefix, "time_column", &s->time_column));
  PQ_RETURN_IF_ERROR(r.GetString(t, prefix, "tenant_column", &s->tenant_column));
  PQ_RETURN_IF_ERROR(r.GetCompression(t, prefix, &s->compression, &s->compression_level));
  PQ_RETURN_IF_ERROR(r.GetInt(t, prefix, "row_group_size", 1, &s->row_group_size));
  PQ_RETURN_IF_ERROR(r.GetInt(t, prefix, "max_rows", 1, &s->max_rows));
  PQ_RETURN_IF_ERROR(r.GetByteSize(t, prefix, "max_file_size", &s->max_file_size));
  PQ_RETURN_IF_ERROR(r.GetSeconds(t, prefix, "grace", &s->grace_seconds));
  return ValidateStream(r, t, prefix, *s);
}

}  // namespace

const ColumnSpec* StreamConfig::FindColumn(std::string_view column) const {
  for (const auto& c : columns) {
    if (c.name == column) return &c;
  }
  return nullptr;
}

std::vector<StreamConfig> BuiltinStreams() {
  const std::vector<std::string> event_types = {"track", "identify", "group", "alias", "enrich"};
  const std::vector<std::string> levels = {"emergency", "alert", "critical", "error", "warning", "notice", "info", "debug"};
  std::vector<StreamConfig> out;
  out.push_back(Builtin("events", {Column("event_type", TypeKind::kString, false, event_types),
                                   Column("event_name", TypeKind::kString, true),
                                   Column("device_id", TypeKind::kUuid, true),
                                   Column("session_id", TypeKind::kUuid, true),
                                   Column("source_ip", TypeKind::kIpv6, true),
                                   Column("payload", TypeKind::kBinary, true)}));
  out.push_back(Builtin("logs", {Column("level", TypeKind::kString, false, levels),
                                 Column("event_type", TypeKind::kString, false, {"log", "enrich"}),
                                 Column("source", TypeKind::kString, true),
                                 Column("service", TypeKind::kString, true),
                                 Column("session_id", TypeKind::kUuid, true),
                                 Column("source_ip", TypeKind::kIpv6, true),
                                 Column("payload", TypeKind::kBinary, true)}));
  out.push_back(Builtin("snapshots", {Column("source", TypeKind::kString, false),
                                      Column("entity", TypeKind::kString, false),
                                      Column("source_ip", TypeKind::kIpv6, true),
                                      Column("payload", TypeKind::kBinary, true)}));
  for (auto& s : out) s.layout = DefaultLayout(s);
  return out;
}

namespace config_internal {

Status ParseStreams(const ConfigReader& r, const toml::node* streams_node, Config* config) {
  for (auto& s : BuiltinStreams()) config->streams.emplace(s.name, std::move(s));
  if (streams_node == nullptr) return Status::OK();
  const toml::table* streams = streams_node->as_table();
  if (streams == nullptr) return r.Error(streams_node, "streams", "expected [streams.NAME] tables");
  for (auto&& [k, v] : *streams) {
    std::string name(k.str());
    const toml::table* st = v.as_table();
    if (st == nullptr) return r.Error(&v, "streams." + name, "expected a table");
    auto it = config->streams.find(name);
    bool builtin = it != config->streams.end();
    StreamConfig s = builtin ? it->second : StreamConfig{};
    // A built-in stream's default layout follows its rotation unless a layout is given.
    if (builtin) s.layout.clear();
    PQ_RETURN_IF_ERROR(ParseStream(r, name, *st, &s, builtin));
    config->streams[name] = std::move(s);
  }
  return Status::OK();
}

Status ParseServer(const ConfigReader& r, const toml::node* server_node, const std::string& base_dir, Config* config) {
  ServerConfig& server = config->server;
  server.wal_dir = ResolvePath(base_dir, "wal");
  if (server_node == nullptr) return Status::OK();
  const toml::table* t = server_node->as_table();
  if (t == nullptr) return r.Error(server_node, "server", "expected a table");
  const std::string prefix = "server.";
  PQ_RETURN_IF_ERROR(r.CheckKeys(*t, prefix, {"listen", "wal_dir", "max_body_size", "max_wal_size", "memory_limit",
                                              "wal_segment_size", "threads", "keys"}));
  PQ_RETURN_IF_ERROR(r.GetString(*t, prefix, "listen", &server.listen));
  std::string wal_dir;
  PQ_RETURN_IF_ERROR(r.GetString(*t, prefix, "wal_dir", &wal_dir));
  if (!wal_dir.empty()) server.wal_dir = ResolvePath(base_dir, wal_dir);
  PQ_RETURN_IF_ERROR(r.GetByteSize(*t, prefix, "max_body_size", &server.max_body_size));
  PQ_RETURN_IF_ERROR(r.GetByteSize(*t, prefix, "max_wal_size", &server.max_wal_size));
  PQ_RETURN_IF_ERROR(r.GetByteSize(*t, prefix, "memory_limit", &server.memory_limit));
  PQ_RETURN_IF_ERROR(r.GetByteSize(*t, prefix, "wal_segment_size", &server.wal_segment_size));
  int64_t threads = 0;
  PQ_RETURN_IF_ERROR(r.GetInt(*t, prefix, "threads", 0, &threads));
  server.threads = static_cast<int>(threads);
  if (const toml::node* n = t->get("keys")) {
    const toml::array* arr = n->as_array();
    if (arr == nullptr) return r.Error(n, prefix + "keys", "expected [[server.keys]] entries");
    for (size_t i = 0; i < arr->size(); ++i) {
      const toml::table* kt = (*arr)[i].as_table();
      std::string kp = prefix + "keys[" + std::to_string(i) + "].";
      if (kt == nullptr) return r.Error(&(*arr)[i], kp, "expected a table {name = ..., hash = ..., scopes = [...]}");
      PQ_RETURN_IF_ERROR(r.CheckKeys(*kt, kp, {"name", "hash", "scopes", "workspaces", "projects"}));
      ApiKeyConfig key;
      PQ_RETURN_IF_ERROR(r.GetString(*kt, kp, "name", &key.name));
      PQ_RETURN_IF_ERROR(r.GetString(*kt, kp, "hash", &key.hash));
      PQ_RETURN_IF_ERROR(r.GetStringList(*kt, kp, "scopes", &key.scopes));
      PQ_RETURN_IF_ERROR(r.GetUIntList(*kt, kp, "workspaces", &key.workspaces));
      PQ_RETURN_IF_ERROR(r.GetStringList(*kt, kp, "projects", &key.projects));
      if (key.hash.empty()) return r.Error(kt, kp + "hash", "a key needs hash = \"sha256:...\" (pqflow keys new prints one)");
      if (key.scopes.empty()) return r.Error(kt, kp + "scopes", "a key needs scopes, e.g. [\"ingest\"]");
      if (key.name.empty()) key.name = "key" + std::to_string(i + 1);
      server.keys.push_back(std::move(key));
    }
  }
  return Status::OK();
}

}  // namespace config_internal

}  // namespace pqflow
