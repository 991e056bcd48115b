#include "query/catalog.h"

#include <algorithm>
#include <cctype>
#include <optional>
#include <regex>
#include <set>

#include "core/text.h"
#include "core/path_template.h"
#include "query/partition_pruner.h"
#include "query/published_files.h"
#include "query/split_reader.h"
#include "sink/manifest.h"

namespace pqflow::query {

namespace {

const ColumnSpec* FindColumn(const Relation& rel, const std::string& name) {
  for (const auto& c : rel.columns) {
    if (c.name == name && c.in_file) return &c;
  }
  return nullptr;
}

// A path with a hidden segment (staging, manifests) is not data.
bool HasHiddenSegment(std::string_view path) {
  for (size_t start = 0; start < path.size();) {
    const size_t slash = path.find('/', start);
    if (IsHiddenPathSegment(path.substr(start, slash == std::string_view::npos ? slash : slash - start))) return true;
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return false;
}

// Every data file of a layout with the partition values its path encodes, and the paths of
// the manifests found beside them.
Result<std::vector<LayoutFile>> ListLayoutFiles(storage::Storage& storage, const PathTemplate& layout,
                                                std::vector<std::string>* manifests) {
  // Directories the layout cannot produce (a split's tree nested under the main layout's
  // folder: "analytics/pageviews/project/...", 180,000 files for 1e7 pageviews) are not walked.
  PQ_ASSIGN_OR_RETURN(auto listed, storage.ListWhere(layout.StaticDirectory(), [&layout](std::string_view dir) {
    return layout.MayHoldFilesUnder(dir);
  }));
  std::vector<LayoutFile> files;
  for (auto& f : listed) {
    if (sink::IsManifestPath(f.path)) manifests->push_back(f.path);
    if (!f.path.ends_with(".parquet") || HasHiddenSegment(f.path)) continue;
    auto values = layout.Parse(f.path);
    if (!values.ok()) continue;  // another layout's file sharing the directory
    files.push_back({std::move(f), std::move(*values)});
  }
  if (!std::is_sorted(manifests->begin(), manifests->end())) std::sort(manifests->begin(), manifests->end());
  return files;  // in path order, as List returns them
}

// Reading more manifests than this ahead of a query would cost more than it saves: a query
// then reads those of the partitions it selects.
constexpr size_t kMaxManifestsRead = 1024;

// The time column as a partition column: exact for a DATE column of a daily layout, else
// the [lo, hi) range of the file's year, month, day or hour in the column's own units.
struct TimePartition {
  PartitionColumn column;
  PathTemplate::DateGranularity granularity = PathTemplate::DateGranularity::kNone;
  bool hourly = false;
};

std::optional<TimePartition> TimePartitionOf(const Relation& rel, const PathTemplate& layout) {
  const ColumnSpec* col = FindColumn(rel, rel.time_column);
  if (col == nullptr || !layout.HasDateTokens()) return std::nullopt;
  const TypeKind k = col->type.kind;
  if (k != TypeKind::kDate && k != TypeKind::kTimestamp && k != TypeKind::kTimestampMs && k != TypeKind::kInt64) {
    return std::nullopt;
  }
  TimePartition t;
  t.granularity = layout.Granularity();
  t.hourly = layout.HasHourToken();
  t.column.name = col->name;
  t.column.sql_type = col->type.DuckDbType();
  t.column.exact = k == TypeKind::kDate && t.granularity == PathTemplate::DateGranularity::kDay && !t.hourly;
  return t;
}

// A bound of a file's time range as a SQL value of the column's type.
std::string TimeBound(TypeKind kind, CivilDate date, int hour) {
  switch (kind) {
    case TypeKind::kDate: return date.ToIso();
    case TypeKind::kInt64:  // epoch milliseconds (the event streams' timestamp)
      return std::to_string((static_cast<int64_t>(date.DaysSinceEpoch()) * 24 + hour) * 3600000);
    default: {
      char hh[8];
      std::snprintf(hh, sizeof hh, "%02d", hour);
      return date.ToIso() + " " + hh + ":00:00" + (kind == TypeKind::kTimestamp ? "+00" : "");
    }
  }
}

std::pair<std::string, std::string> TimeRange(const TimePartition& t, TypeKind kind, const PartitionValues& v) {
  CivilDate lo = *v.date;
  int lo_hour = 0;
  CivilDate hi = lo;
  int hi_hour = 0;
  if (t.hourly && v.hour) {
    lo_hour = *v.hour;
    hi_hour = lo_hour + 1;
    if (hi_hour == 24) {
      hi = lo.AddDays(1);
      hi_hour = 0;
    }
  } else if (t.granularity == PathTemplate::DateGranularity::kYear) {
    lo = CivilDate::Parse(std::to_string(lo.year()) + "-01-01").value();
    hi = CivilDate::Parse(std::to_string(lo.year() + 1) + "-01-01").value();
  } else if (t.granularity == PathTemplate::DateGranularity::kMonth) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%04d-%02d-01", lo.year(), lo.month());
    lo = CivilDate::Parse(buf).value();
    std::snprintf(buf, sizeof buf, "%04d-%02d-01", lo.month() == 12 ? lo.year() + 1 : lo.year(),
                  lo.month() == 12 ? 1 : lo.month() + 1);
    hi = CivilDate::Parse(buf).value();
  } else {
    hi = lo.AddDays(1);
  }
  return {TimeBound(kind, lo, lo_hour), TimeBound(kind, hi, hi_hour)};
}

std::string FileList(const std::vector<std::string>& files) {
  std::string list = "[";
  for (size_t i = 0; i < files.size(); ++i) list += (i ? ", " : "") + duck::QuoteLiteral(files[i]);
  return list + "]";
}

// Hive-style segments of a layout ("year={yyyy}/month={mm}/"): the keys that are not columns of
// the files, which the view adds as BIGINT columns from the path, and whether another names a
// column of the files ("workspace={workspace}/").
struct HiveSegments {
  std::vector<std::string> keys;
  bool names_a_column = false;
};

HiveSegments HiveSegmentsOf(const Relation& rel) {
  static const std::regex kSegment("(?:^|/)([A-Za-z_][A-Za-z0-9_]*)=\\{");
  HiveSegments out;
  for (auto it = std::sregex_iterator(rel.layout.begin(), rel.layout.end(), kSegment); it != std::sregex_iterator();
       ++it) {
    const std::string key = (*it)[1];
    bool is_column = false;
    for (const auto& c : rel.columns) is_column = is_column || AsciiLower(c.name) == AsciiLower(key);
    out.names_a_column = out.names_a_column || is_column;
    if (!is_column && std::find(out.keys.begin(), out.keys.end(), key) == out.keys.end()) out.keys.push_back(key);
  }
  return out;
}

std::vector<std::string> HiveKeys(const Relation& rel) { return HiveSegmentsOf(rel).keys; }

// The view of a relation with no file to read: its declared columns (then the hive keys,
// where DuckDB puts them), no rows.
std::string EmptyRelationSql(const Relation& rel) {
  std::vector<std::string> parts;
  for (const auto& c : rel.columns) {
    if (c.in_file) parts.push_back("CAST(NULL AS " + c.type.DuckDbType() + ") AS " + duck::QuoteIdentifier(c.name));
  }
  for (const auto& key : HiveKeys(rel)) parts.push_back("CAST(NULL AS BIGINT) AS " + duck::QuoteIdentifier(key));
  std::string sql = "SELECT ";
  for (size_t i = 0; i < parts.size(); ++i) sql += (i ? ", " : "") + parts[i];
  return sql + " WHERE false";
}

// `union_by_name` may be false only when every file has the declared columns (then DuckDB's
// schema from the first file is every file's).
std::string ReadParquetSql(const Relation& rel, const std::vector<std::string>& paths, bool union_by_name) {
  const HiveSegments hive = HiveSegmentsOf(rel);
  std::string sql;
  const std::string read = "read_parquet(" + FileList(paths) + ", union_by_name = " + (union_by_name ? "true" : "false");
  if (hive.keys.empty()) {
    sql = "SELECT * FROM " + read + ", hive_partitioning = false";
  } else if (!hive.names_a_column) {
    // Hive columns in layout order (DuckDB's own order is not the path's).
    std::string keys;
    for (const auto& k : hive.keys) keys += (keys.empty() ? "" : ", ") + duck::QuoteIdentifier(k);
    sql = "SELECT * EXCLUDE (" + keys + "), " + keys + " FROM " + read + ", hive_partitioning = true, hive_types = {";
    for (size_t i = 0; i < hive.keys.size(); ++i) {
      sql += (i ? ", " : "") + duck::QuoteLiteral(hive.keys[i]) + ": 'BIGINT'";
    }
    sql += "}";
  } else {
    // DuckDB's hive partitioning would also replace that column's values in the files by the
    // path's text (a NULL read back as '__HIVE_DEFAULT_PARTITION__', 'null' as NULL): the
    // keys are taken from each file's name instead.
    sql = "SELECT * EXCLUDE (__pqflow_file)";
    for (const auto& k : hive.keys) {
      sql += ", CAST(regexp_extract(__pqflow_file, " + duck::QuoteLiteral("(?:^|/)" + k + "=([^/]*)/") +
             ", 1) AS BIGINT) AS " + duck::QuoteIdentifier(k);
    }
    sql += " FROM " + read + ", hive_partitioning = false, filename = '__pqflow_file'";
  }
  // Files written before a column was added lack it: a query that selects only such files
  // must still find the column (NULL), so the declared columns lead.
  return EmptyRelationSql(rel) + " UNION ALL BY NAME " + sql + ")";
}

// The partition table: one row per file (its index, whether it must be kept whatever the
// predicate says, then its partition values as text), and the SQL name and type of each value.
struct PartitionTable {
  std::vector<std::pair<std::string, std::string>> columns;  // name, SQL type
  std::vector<bool> keep;
  std::vector<std::vector<std::optional<std::string>>> cells;
};

PartitionTable MakePartitionTable(const std::vector<LayoutFile>& files, const std::vector<PartitionColumn>& columns,
                                  const std::optional<TimePartition>& time, TypeKind time_kind) {
  PartitionTable t;
  for (const auto& c : columns) {
    t.columns.emplace_back(c.exact ? c.name : "__lo", c.sql_type);
    if (!c.exact) t.columns.emplace_back("__hi", c.sql_type);
  }
  for (const auto& f : files) {
    const PartitionValues& v = f.values;
    bool keep = false;
    std::vector<std::optional<std::string>> cells;
    for (const auto& c : columns) {
      if (time && c.name == time->column.name) {
        if (c.exact) {
          cells.push_back(v.date ? std::optional(v.date->ToIso()) : std::nullopt);
        } else {
          auto [lo, hi] = TimeRange(*time, time_kind, v);
          cells.push_back(lo);
          cells.push_back(hi);
        }
        continue;
      }
      auto it = v.columns.find(c.name);
      cells.push_back(it == v.columns.end() ? std::nullopt : it->second);
      keep = keep || !cells.back();
    }
    t.keep.push_back(keep);
    t.cells.push_back(std::move(cells));
  }
  return t;
}

// Up to this many files the partition table is a set of JSON arrays unnested inside the
// selecting query (one statement); above it, a temporary table filled by the appender.
// JSON, because DuckDB binds a list literal at ~10 us per element (90 files: 2.5 ms as list
// literals, 1.4 ms as JSON; 2,000 files: 19.6 and 3.1 ms).
constexpr size_t kMaxFilesInLists = 256;

// A JSON array of `values` (null for a missing one), or nullopt when one is not valid UTF-8,
// which a JSON string cannot hold.
std::optional<std::string> JsonArray(const std::vector<std::optional<std::string>>& values) {
  nlohmann::json array = nlohmann::json::array();
  for (const auto& v : values) array.push_back(v ? nlohmann::json(*v) : nlohmann::json());
  try {
    return array.dump(-1, ' ', false, nlohmann::json::error_handler_t::strict);
  } catch (const nlohmann::json::type_error&) {
    return std::nullopt;
  }
}

// The partition table as a subquery, or nullopt when its values cannot be put in JSON.
std::optional<std::string> PartitionListsSql(const PartitionTable& t) {
  std::string keep;
  for (size_t i = 0; i < t.keep.size(); ++i) keep += (i ? "," : "") + std::string(t.keep[i] ? "true" : "false");
  std::string sql = "(SELECT unnest(range(" + std::to_string(t.cells.size()) + ")) AS __index, unnest(from_json(" +
                    duck::QuoteLiteral("[" + keep + "]") + ", '[\"BOOLEAN\"]')) AS __keep";
  for (size_t c = 0; c < t.columns.size(); ++c) {
    std::vector<std::optional<std::string>> values;
    values.reserve(t.cells.size());
    for (const auto& row : t.cells) values.push_back(row[c]);
    std::optional<std::string> array = JsonArray(values);
    if (!array) return std::nullopt;
    sql += ", CAST(unnest(from_json(" + duck::QuoteLiteral(*array) + ", '[\"VARCHAR\"]')) AS " + t.columns[c].second +
           ") AS " + duck::QuoteIdentifier(t.columns[c].first);
  }
  return sql + ")";
}

Status FillPartitionTable(duck::Connection& conn, const PartitionTable& t) {
  std::string ddl = "CREATE OR REPLACE TEMP TABLE __pqflow_partitions (__index BIGINT, __keep BOOLEAN";
  for (const auto& [name, type] : t.columns) ddl += ", " + duck::QuoteIdentifier(name) + " " + type;
  PQ_RETURN_IF_ERROR(conn.Execute(ddl + ")"));
  PQ_ASSIGN_OR_RETURN(duck::Appender app, duck::Appender::Make(conn, "__pqflow_partitions"));
  for (size_t i = 0; i < t.cells.size(); ++i) {
    PQ_RETURN_IF_ERROR(app.AppendInt64(static_cast<int64_t>(i)));
    PQ_RETURN_IF_ERROR(app.AppendString(t.keep[i] ? "true" : "false"));
    for (const auto& cell : t.cells[i]) {
      PQ_RETURN_IF_ERROR(cell ? app.AppendString(*cell) : app.AppendNull());
    }
    PQ_RETURN_IF_ERROR(app.EndRow());
  }
  return app.Flush();
}

// Selects the files whose partition values can satisfy `predicate`, by evaluating it in
// DuckDB over one row per file. A file with a NULL partition value is always kept (NULL
// and "" share the default partition, so its path does not tell which its rows hold).
Result<std::vector<size_t>> SelectFiles(duck::Connection& conn, const std::vector<LayoutFile>& files,
                                        const std::vector<PartitionColumn>& columns,
                                        const std::optional<TimePartition>& time, TypeKind time_kind,
                                        const std::string& predicate) {
  const PartitionTable table = MakePartitionTable(files, columns, time, time_kind);
  std::vector<size_t> out;
  auto all_files = [&] {
    for (size_t i = 0; i < files.size(); ++i) out.push_back(i);
    return out;
  };
  const bool in_lists = files.size() <= kMaxFilesInLists;
  std::optional<std::string> lists;
  if (in_lists) {
    lists = PartitionListsSql(table);
    if (!lists) return all_files();  // a value that is not UTF-8, which DuckDB's strings refuse too
  } else if (!FillPartitionTable(conn, table).ok()) {
    // A value that is not UTF-8, which DuckDB's appender refuses: reading every file is exact.
    (void)conn.Execute("DROP TABLE IF EXISTS __pqflow_partitions");
    return all_files();
  }
  auto selected = conn.Query("SELECT __index FROM " + (in_lists ? *lists : "__pqflow_partitions") +
                             " WHERE __keep OR (" + predicate + ")");
  if (!in_lists) PQ_RETURN_IF_ERROR(conn.Execute("DROP TABLE __pqflow_partitions"));
  if (!selected.ok()) return all_files();  // e.g. a constant that does not cast: the query itself will say so
  for (size_t r = 0; r < selected->row_count(); ++r) out.push_back(static_cast<size_t>(selected->GetInt64(r, 0)));
  std::sort(out.begin(), out.end());  // path order (an ORDER BY would cost DuckDB more)
  return out;
}

}  // namespace

Result<std::vector<std::pair<std::string, std::string>>> RelationColumnTypes(duck::Connection& conn,
                                                                              const Relation& rel) {
  PQ_ASSIGN_OR_RETURN(duck::QueryResult described, conn.Query("DESCRIBE " + EmptyRelationSql(rel)));
  std::vector<std::pair<std::string, std::string>> columns;
  for (size_t r = 0; r < described.row_count(); ++r) {
    columns.emplace_back(described.GetOr(r, 0, ""), described.GetOr(r, 1, ""));
  }
  return columns;
}

std::vector<Relation> ListRelations(const Config& config) {
  std::vector<Relation> out;
  for (const auto& [name, ds] : config.datasets) {
    out.push_back({name, ds.layout, ds.columns, ds.time_column, ds.tenant_column, ds.project_column});
  }
  for (const auto& [name, stream] : config.streams) {
    if (config.datasets.count(name) == 0) {
      out.push_back({name, stream.layout, stream.columns, stream.time_column, stream.tenant_column, ""});
    }
  }
  return out;
}

std::vector<std::string> RelationNames(const Config& config) {
  std::vector<std::string> names;
  for (const auto& r : ListRelations(config)) names.push_back(r.name);
  return names;
}

std::vector<std::string> RelationsNamedIn(const Config& config, std::string_view sql) {
  std::set<std::string> words;
  auto ident_char = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$'; };
  for (size_t i = 0; i < sql.size();) {
    const char c = sql[i];
    if (c == '\'' || c == '"') {  // a string literal, or a quoted identifier ("" and '' escape)
      std::string text;
      size_t j = i + 1;
      for (; j < sql.size(); ++j) {
        if (sql[j] != c) {
          text += sql[j];
        } else if (j + 1 < sql.size() && sql[j + 1] == c) {
          text += c;
          ++j;
        } else {
          break;
        }
      }
      if (c == '"') words.insert(AsciiLower(text));
      i = j + 1;
    } else if (sql.substr(i, 2) == "--") {
      const size_t eol = sql.find('\n', i);
      i = eol == std::string_view::npos ? sql.size() : eol + 1;
    } else if (sql.substr(i, 2) == "/*") {
      const size_t end = sql.find("*/", i + 2);
      i = end == std::string_view::npos ? sql.size() : end + 2;
    } else if (ident_char(c)) {
      size_t j = i;
      while (j < sql.size() && ident_char(sql[j])) ++j;
      words.insert(AsciiLower(std::string(sql.substr(i, j - i))));
      i = j;
    } else {
      ++i;
    }
  }
  std::vector<std::string> out;
  for (const auto& name : RelationNames(config)) {
    if (words.count(AsciiLower(name)) > 0) out.push_back(name);
  }
  return out;
}

PrefetchedListings PrefetchListings(const Config& config, storage::Storage& storage,
                                    const std::vector<std::string>& relations) {
  PrefetchedListings out;
  if (!storage.ReadsAreLocal()) return out;
  std::set<std::string> wanted;
  for (const auto& r : relations) wanted.insert(AsciiLower(r));
  for (const auto& rel : ListRelations(config)) {
    if (wanted.count(AsciiLower(rel.name)) == 0) continue;
    auto layout = PathTemplate::Make(rel.layout, rel.name);
    if (!layout.ok()) continue;
    ListedManifests manifests;
    auto files = ListLayoutFiles(storage, *layout, &manifests.paths);
    if (!files.ok()) continue;
    RelationListing& listing = out[AsciiLower(rel.name)];
    listing.files = std::move(*files);
    if (manifests.paths.size() <= kMaxManifestsRead) {
      ReadManifests(storage, manifests.paths, &manifests.read);
    }
    listing.manifests = std::move(manifests);
  }
  return out;
}

Result<std::vector<RelationScan>> CreateViews(duck::Connection& conn, const Config& config, storage::Storage& storage,
                                              const ParsedQuery& query, const std::vector<std::string>& used,
                                              const QueryAccess& access, PrefetchedListings* prefetched) {
  std::set<std::string> wanted;
  for (const auto& u : used) wanted.insert(AsciiLower(u));
  struct Pending {
    Relation rel;
    PathTemplate layout;
    std::vector<PartitionColumn> columns;
    std::optional<TimePartition> time;
    const DatasetConfig* dataset = nullptr;  // set when a split may stand in (split_reader.h)
  };
  std::vector<Pending> pending;
  std::vector<RelationPartitioning> partitioning;
  for (auto& rel : ListRelations(config)) {
    if (wanted.count(AsciiLower(rel.name)) == 0) continue;
    if (!access.workspaces.empty() && rel.tenant_column.empty()) {
      return Status::PermissionDenied(rel.name + " has no tenant column, and this key may read only workspaces " +
                                      "it is restricted to");
    }
    if (!access.projects.empty() && rel.project_column.empty()) {
      return Status::PermissionDenied(rel.name + " has no project column, and this key may read only projects " +
                                      "it is restricted to");
    }
    PQ_ASSIGN_OR_RETURN(PathTemplate layout, PathTemplate::Make(rel.layout, rel.name));
    Pending p{rel, layout, {}, TimePartitionOf(rel, layout)};
    for (const auto& name : layout.ColumnNames()) {
      if (const ColumnSpec* c = FindColumn(rel, name)) p.columns.push_back({c->name, c->type.DuckDbType(), true});
    }
    if (p.time) p.columns.push_back(p.time->column);
    std::vector<std::string> all_columns;
    for (const auto& c : rel.columns) all_columns.push_back(c.name);
    std::vector<std::string> pin_columns;
    // A split's files have the dataset's columns but not the main layout's hive segments.
    if (auto ds = config.datasets.find(rel.name); ds != config.datasets.end() && !ds->second.splits.empty() &&
                                                  HiveKeys(rel).empty()) {
      pin_columns = SplitPinColumns(ds->second, layout);
      if (!pin_columns.empty()) p.dataset = &ds->second;
    }
    partitioning.push_back({rel.name, p.columns, all_columns, pin_columns});
    pending.push_back(std::move(p));
  }
  PartitionPins pins;
  PQ_ASSIGN_OR_RETURN(auto predicates, ExtractPartitionPredicates(conn, query, partitioning, &pins));

  std::vector<RelationScan> scans;
  for (const auto& p : pending) {
    RelationScan scan;
    scan.relation = p.rel.name;
    std::vector<LayoutFile> files;
    ListedManifests manifests;
    auto list = [&]() -> Status {
      PQ_ASSIGN_OR_RETURN(files, ListLayoutFiles(storage, p.layout, &manifests.paths));
      return Status::OK();
    };
    const std::string live_table = "__pqflow_live_" + std::to_string(scans.size());
    bool live = false;
    bool listed = false;
    if (access.live != nullptr) {
      PQ_ASSIGN_OR_RETURN(live, access.live->Snapshot(conn, p.rel.name, live_table, list));
      listed = live;
    } else if (prefetched != nullptr) {
      if (auto it = prefetched->find(AsciiLower(p.rel.name)); it != prefetched->end()) {
        files = std::move(it->second.files);
        manifests = std::move(it->second.manifests);
        prefetched->erase(it);
        listed = true;
      }
    }
    if (!listed) PQ_RETURN_IF_ERROR(list());
    scan.files_total = files.size();
    for (const auto& f : files) scan.bytes_total += static_cast<uint64_t>(f.info.size);
    std::vector<size_t> chosen;
    auto pred = predicates.find(p.rel.name);
    if (pred != predicates.end() && !files.empty()) {
      scan.partition_filter = pred->second;
      const TypeKind time_kind = p.time ? FindColumn(p.rel, p.time->column.name)->type.kind : TypeKind::kDate;
      PQ_ASSIGN_OR_RETURN(chosen, SelectFiles(conn, files, p.columns, p.time, time_kind, pred->second));
    } else {
      for (size_t i = 0; i < files.size(); ++i) chosen.push_back(i);
    }
    const bool is_dataset = config.datasets.count(p.rel.name) > 0;
    PQ_ASSIGN_OR_RETURN(PublishedFiles published,
                        ResolvePublishedFiles(storage, p.rel, is_dataset, p.layout, files, chosen, &manifests));
    std::vector<storage::FileInfo> selected;
    for (const auto& f : published.files) selected.push_back(f.info);
    if (auto pinned = pins.find(p.rel.name); p.dataset != nullptr && pinned != pins.end()) {
      PQ_ASSIGN_OR_RETURN(auto split, ReadFromSplit(storage, *p.dataset, p.layout, published.files, pinned->second,
                                                    &manifests.read));
      if (split) {
        selected = std::move(split->files);
        scan.split = split->split;
        scan.split_partitions = split->partitions;
        scan.partitions_selected = split->partitions_total;
      }
    }
    for (const auto& f : selected) scan.bytes_selected += static_cast<uint64_t>(f.size);
    // Split files are not in the main layout's manifests: they keep union_by_name.
    scan.declared_schema = published.declared_schema && scan.split.empty();
    scan.files_selected = selected.size();
    // Local paths for DuckDB: the files themselves, or (S3) copies fetched into the cache.
    PQ_ASSIGN_OR_RETURN(storage::ReadableFiles readable, storage.OpenForReading(selected));
    scan.bytes_fetched = readable.bytes_fetched;
    scan.files_fetched = readable.files_fetched;
    scan.pin = readable.pin;
    const std::vector<std::string>& paths = readable.local_paths;
    std::string body =
        paths.empty() ? EmptyRelationSql(p.rel) : ReadParquetSql(p.rel, paths, /*union_by_name=*/!scan.declared_schema);
    if (live) {
      PQ_ASSIGN_OR_RETURN(duck::QueryResult n, conn.Query("SELECT count(*) FROM " + live_table));
      scan.live_rows = static_cast<uint64_t>(n.GetInt64(0, 0));
      body = paths.empty() ? "SELECT * FROM " + live_table
                           : "SELECT * FROM (" + body + ") UNION ALL BY NAME SELECT * FROM " + live_table;
    }
    if (!access.workspaces.empty()) {
      std::string in;
      for (uint64_t w : access.workspaces) in += (in.empty() ? "" : ", ") + std::to_string(w);
      body = "SELECT * FROM (" + body + ") WHERE " + duck::QuoteIdentifier(p.rel.tenant_column) + " IN (" + in + ")";
    }
    if (!access.projects.empty()) {
      std::string in;
      for (const auto& project : access.projects) in += (in.empty() ? "" : ", ") + duck::QuoteLiteral(project);
      body = "SELECT * FROM (" + body + ") WHERE CAST(" + duck::QuoteIdentifier(p.rel.project_column) +
             " AS VARCHAR) IN (" + in + ")";
    }
    PQ_RETURN_IF_ERROR(conn.Execute("CREATE OR REPLACE TEMP VIEW " + duck::QuoteIdentifier(p.rel.name) + " AS " + body)
                           .WithContext("creating the view of " + p.rel.name));
    scans.push_back(std::move(scan));
  }
  return scans;
}

}  // namespace pqflow::query
