#include "sink/export_sql.h"

#include <charconv>

#include "duck/duck.h"
#include "sink/staged_output.h"

namespace pqflow::sink {

using duck::QuoteIdentifier;
using duck::QuoteLiteral;

namespace {

std::string DateOf(const DatasetConfig& ds) { return "CAST(" + QuoteIdentifier(ds.time_column) + " AS DATE)"; }

// The partition date at the layout's granularity: a {yyyy}/{mm} layout has one file per month.
std::string DateKeySql(const DatasetConfig& ds, const PathTemplate& layout) {
  std::string date = DateOf(ds);
  if (layout.Granularity() == PathTemplate::DateGranularity::kMonth) return "CAST(date_trunc('month', " + date + ") AS DATE)";
  if (layout.Granularity() == PathTemplate::DateGranularity::kYear) return "CAST(date_trunc('year', " + date + ") AS DATE)";
  return date;
}

// The layout's keys as (SQL expression, column name) pairs: date, hour, then {column}s.
std::vector<std::pair<std::string, std::string>> LayoutKeys(const DatasetConfig& ds, const PathTemplate& layout) {
  std::vector<std::pair<std::string, std::string>> keys;
  if (layout.HasDateTokens()) keys.emplace_back(DateKeySql(ds, layout), kDateKey);
  if (layout.HasHourToken()) keys.emplace_back("hour(" + QuoteIdentifier(ds.time_column) + ")", kHourKey);
  for (const auto& col : layout.ColumnNames()) keys.emplace_back(QuoteIdentifier(col), ColumnKey(col));
  return keys;
}

bool AnyLayoutHasDates(const std::vector<PathTemplate>& layouts) {
  for (const auto& l : layouts) {
    if (l.HasDateTokens()) return true;
  }
  return false;
}

}  // namespace

std::string ColumnKey(const std::string& column) { return "__pq_c_" + column; }

Result<StateAndDate> DecodeStateDate(const std::string& value) {
  int64_t k = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), k);
  if (ec != std::errc() || end != value.data() + value.size() || (k % 4 != 0 && k != 1 && k != 2)) {
    return Status::Internal("staged folder key " + std::string(kStateDateKey) + "=" + value + " is not a state and date");
  }
  if (k == 1 || k == 2) return StateAndDate{static_cast<int>(k), std::nullopt};
  return StateAndDate{0, CivilDate::FromDays(static_cast<int32_t>(k / 4))};
}

std::string NullReasonSql(const DatasetConfig& ds, const std::string& alias) {
  std::string parts;
  for (const auto& c : ds.columns) {
    if (c.nullable) continue;
    parts += ", CASE WHEN " + alias + QuoteIdentifier(c.name) + " IS NULL THEN " +
             QuoteLiteral("column " + c.name + ": missing or null, but the column is not nullable") + " END";
  }
  if (parts.empty()) return "NULL::VARCHAR";
  return "NULLIF(concat_ws('; '" + parts + "), '')";
}

std::string RecordJsonSql(const DatasetConfig& ds, const std::string& alias) {
  std::string fields;
  for (const ColumnSpec* c : ds.FileColumns()) {
    fields += (fields.empty() ? "" : ", ") + QuoteLiteral(c->name) + ": " + alias + QuoteIdentifier(c->name);
  }
  return "to_json({" + fields + "})::VARCHAR";
}

std::string RowsSql(const DatasetConfig& ds, const std::string& source_sql, const std::vector<PathTemplate>& layouts,
                    const source::InputSelection& row_filter) {
  // Derived columns are computed over the read columns, then everything is put in the
  // declared order.
  std::string derived;
  for (const auto& c : ds.columns) {
    if (c.expr.empty()) continue;
    derived += ", CAST((" + c.expr + ") AS " + c.type.DuckDbType() + ") AS " + QuoteIdentifier(c.name);
  }
  std::string ordered;
  for (const auto& c : ds.columns) ordered += QuoteIdentifier(c.name) + ", ";

  std::string bad = "__pq_reason IS NOT NULL";
  for (const auto& c : ds.columns) {
    if (!c.nullable) bad += " OR " + QuoteIdentifier(c.name) + " IS NULL";
  }
  if (AnyLayoutHasDates(layouts)) bad += " OR " + QuoteIdentifier(ds.time_column) + " IS NULL";
  std::string out = "false";
  bool filter_dates = !row_filter.explicit_inputs.empty() &&
                      (row_filter.mode == source::DateMode::kDate || row_filter.mode == source::DateMode::kRange);
  if (filter_dates && !ds.time_column.empty()) {
    out = DateOf(ds) + " NOT BETWEEN DATE " + QuoteLiteral(row_filter.from.ToIso()) + " AND DATE " +
          QuoteLiteral(row_filter.to.ToIso());
  }
  std::string reason = "COALESCE(__pq_reason, " + NullReasonSql(ds, "") + ")";
  return "SELECT " + ordered + "__pq_file, __pq_line, " + reason + " AS __pq_reason, __pq_raw, CASE WHEN " + bad +
         " THEN 'bad' WHEN " + out + " THEN 'out' ELSE 'ok' END AS __pq_state FROM (SELECT *" + derived + " FROM (" +
         source_sql + "))";
}

std::vector<std::string> PartitionTableSql(const DatasetConfig& ds, const PathTemplate& layout,
                                           const std::string& rows_table, const std::string& table) {
  std::string cols, keys, key_names, join;
  for (const auto& c : ds.columns) cols += "r." + QuoteIdentifier(c.name) + ", ";
  for (const auto& [expr, name] : LayoutKeys(ds, layout)) {
    keys += (keys.empty() ? "" : ", ") + expr + " AS " + QuoteIdentifier(name);
    key_names += ", p." + QuoteIdentifier(name);
    join += (join.empty() ? "" : " AND ") + std::string("p.") + QuoteIdentifier(name) + " IS NOT DISTINCT FROM r." +
            QuoteIdentifier(name);
  }
  if (keys.empty()) {
    keys = "1 AS __pq_one";
    join = "true";
  }
  std::string sort = "__pq_pid";
  for (const auto& c : ds.sort_by) sort += ", " + QuoteIdentifier(c);
  // Regular tables (not TEMP): the per-partition COPYs run on other connections. The
  // partitions come from a hash aggregate and a join rather than dense_rank(), which
  // would sort every row once more.
  std::string parts = table + "_parts";
  return {"CREATE TABLE " + parts + " AS SELECT *, row_number() OVER () AS __pq_pid FROM (SELECT DISTINCT " + keys +
              " FROM " + rows_table + " WHERE __pq_state = 'ok')",
          "CREATE TABLE " + table + " AS SELECT " + cols + "p.__pq_pid" + key_names + " FROM (SELECT *, " + keys +
              " FROM " + rows_table + " WHERE __pq_state = 'ok') r JOIN " + parts + " p ON " + join + " ORDER BY " + sort};
}

std::string PartitionListSql(const PathTemplate& layout, const std::string& table) {
  std::string keys;
  if (layout.HasDateTokens()) keys += ", CAST(any_value(" + std::string(kDateKey) + ") AS VARCHAR)";
  if (layout.HasHourToken()) keys += ", CAST(any_value(" + std::string(kHourKey) + ") AS VARCHAR)";
  for (const auto& col : layout.ColumnNames()) keys += ", CAST(any_value(" + QuoteIdentifier(ColumnKey(col)) + ") AS VARCHAR)";
  return "SELECT __pq_pid, count(*)" + keys + " FROM " + table + " GROUP BY __pq_pid ORDER BY __pq_pid";
}

std::string PartitionCopySql(const DatasetConfig& ds, const std::string& table, int64_t pid, const std::string& target) {
  std::string cols;
  for (const ColumnSpec* c : ds.FileColumns()) cols += (cols.empty() ? "" : ", ") + QuoteIdentifier(c->name);
  std::string order;
  for (const auto& c : ds.sort_by) order += (order.empty() ? " ORDER BY " : ", ") + QuoteIdentifier(c);
  // RETURN_STATS costs as much as writing a small file (it gathers column statistics), so
  // it is asked for only when rotation makes the file names unknown in advance.
  std::string opts = ParquetOptions(ds);
  if (ds.max_file_size > 0) {
    opts += ", RETURN_STATS, FILE_SIZE_BYTES " + std::to_string(ds.max_file_size) + ", FILE_EXTENSION 'parquet.tmp'";
  }
  return "COPY (SELECT " + cols + " FROM " + table + " WHERE __pq_pid = " + std::to_string(pid) + order + ") TO " +
         QuoteLiteral(target) + " (" + opts + ")";
}

std::string PartitionRangeCopySql(const DatasetConfig& ds, const std::string& table, int64_t first_pid,
                                  int64_t last_pid, const std::string& dir) {
  std::string cols;
  for (const ColumnSpec* c : ds.FileColumns()) cols += QuoteIdentifier(c->name) + ", ";
  // The partition number names the folder and is left out of the file (DuckDB's default).
  return "COPY (SELECT " + cols + "__pq_pid FROM " + table + " WHERE __pq_pid BETWEEN " + std::to_string(first_pid) +
         " AND " + std::to_string(last_pid) + ") TO " + QuoteLiteral(dir) + " (" + ParquetOptions(ds) +
         ", PARTITION_BY (__pq_pid), FILENAME_PATTERN 'data_{i}', FILE_EXTENSION 'parquet.tmp')";
}

std::string PartitionRangeFolder(const std::string& dir, int64_t pid) {
  return dir + "/__pq_pid=" + std::to_string(pid);
}

std::string PartitionRangeFile(const std::string& dir, int64_t pid, int n) {
  return PartitionRangeFolder(dir, pid) + "/data_" + std::to_string(n) + ".parquet.tmp";
}

std::string ParquetOptions(const DatasetConfig& ds) {
  std::string opts = "FORMAT parquet, COMPRESSION " + CodecDuckDbName(ds.compression);
  if (ds.compression_level) opts += ", COMPRESSION_LEVEL " + std::to_string(*ds.compression_level);
  opts += ", ROW_GROUP_SIZE " + std::to_string(ds.row_group_size);
  opts += ", KV_METADATA {created_by_tool: 'pqflow " PQFLOW_VERSION "', dataset: " + QuoteLiteral(ds.name) + "}";
  return opts;
}

std::string LayoutCopySql(const DatasetConfig& ds, const PathTemplate& layout, const CopyTarget& target) {
  auto ok_only = [](const std::string& key_sql) { return "CASE WHEN __pq_state = 'ok' THEN " + key_sql + " ELSE 'n' END"; };
  std::string select;
  for (const ColumnSpec* c : ds.FileColumns()) select += QuoteIdentifier(c->name) + ", ";
  // State, date and hour keys are never ambiguous in a folder name (a NULL date or hour is
  // only possible outside 'ok' rows), so they are partitioned by their typed values, which
  // is cheaper than building strings for every row; column values get the 'v'/'n' prefix.
  // Numbers, not the state's name, and as few keys as possible: DuckDB builds a Value of every
  // key for every row, and a string costs an allocation (measured: 1e7 PostgreSQL rows 16-24 s
  // with string keys, 14-15 s with fewer and numeric ones; 1e7 CSV rows 9.0-9.4 s partitioned
  // by (state, date), 7.4-8.0 s by one key).
  const bool dated = layout.HasDateTokens();
  std::string keys = dated ? kStateDateKey : kStateKey;
  if (dated) {
    select += "CAST(CASE __pq_state WHEN 'ok' THEN 4 * (" + DateKeySql(ds, layout) +
              " - DATE '1970-01-01') WHEN 'bad' THEN 1 ELSE 2 END AS BIGINT) AS " + kStateDateKey;
  } else {
    select += "CAST(CASE __pq_state WHEN 'ok' THEN 0 WHEN 'bad' THEN 1 ELSE 2 END AS UTINYINT) AS " + std::string(kStateKey);
  }
  if (target.keep_bad_rows && target.bad_rows_by_file) {
    select += ", CASE WHEN __pq_state = 'bad' THEN " + PrefixedKeySql("__pq_file") + " ELSE 'n' END AS " + kFileKey;
    keys += std::string(", ") + kFileKey;
  }
  for (const auto& [expr, name] : LayoutKeys(ds, layout)) {
    if (name == kDateKey) continue;  // in kStateDateKey
    bool typed = name == kHourKey;
    std::string value = typed ? "CASE WHEN __pq_state = 'ok' THEN " + expr + " END" : ok_only(PrefixedKeySql(expr));
    select += ", " + value + " AS " + QuoteIdentifier(name);
    keys += ", " + QuoteIdentifier(name);
  }
  std::string where = target.where.empty() ? "" : " WHERE " + target.where;
  return "COPY (SELECT " + select + " FROM " + target.relation + where + ") TO " + QuoteLiteral(target.staging_dir) +
         " (" + ParquetOptions(ds) + ", PARTITION_BY (" + keys + "), RETURN_STATS, FILE_EXTENSION 'parquet.tmp')";
}

}  // namespace pqflow::sink
