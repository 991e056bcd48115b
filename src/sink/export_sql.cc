#include "sink/export_sql.h"

#include "duck/duck.h"
#include "sink/staged_output.h"

namespace pqflow::sink {

using duck::QuoteIdentifier;
using duck::QuoteLiteral;

namespace {

std::string DateOf(const DatasetConfig& ds) { return "CAST(" + QuoteIdentifier(ds.time_column) + " AS DATE)"; }

bool AnyLayoutHasDates(const std::vector<PathTemplate>& layouts) {
  for (const auto& l : layouts) {
    if (l.HasDateTokens()) return true;
  }
  return false;
}

}  // namespace

std::string ColumnKey(const std::string& column) { return "__pq_c_" + column; }

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
  for (const auto& c : ds.columns) select += QuoteIdentifier(c.name) + ", ";
  std::string keys = std::string(kStateKey);
  select += PrefixedKeySql("__pq_state") + " AS " + kStateKey;
  if (target.keep_bad_rows) {
    select += ", CASE WHEN __pq_state = 'bad' THEN " + PrefixedKeySql("__pq_file") + " ELSE 'n' END AS " + kFileKey;
    keys += std::string(", ") + kFileKey;
  }
  if (layout.HasDateTokens()) {
    // One file per period the layout names: a {yyyy}/{mm} layout gets one per month.
    std::string date = DateOf(ds);
    if (layout.Granularity() == PathTemplate::DateGranularity::kMonth) date = "CAST(date_trunc('month', " + date + ") AS DATE)";
    if (layout.Granularity() == PathTemplate::DateGranularity::kYear) date = "CAST(date_trunc('year', " + date + ") AS DATE)";
    select += ", " + ok_only(PrefixedKeySql(date)) + " AS " + kDateKey;
    keys += std::string(", ") + kDateKey;
  }
  if (layout.HasHourToken()) {
    select += ", " + ok_only(PrefixedKeySql("hour(" + QuoteIdentifier(ds.time_column) + ")")) + " AS " + kHourKey;
    keys += std::string(", ") + kHourKey;
  }
  for (const auto& col : layout.ColumnNames()) {
    select += ", " + ok_only(PrefixedKeySql(QuoteIdentifier(col))) + " AS " + QuoteIdentifier(ColumnKey(col));
    keys += ", " + QuoteIdentifier(ColumnKey(col));
  }
  std::string where = target.where.empty() ? "" : " WHERE " + target.where;
  return "COPY (SELECT " + select + " FROM " + target.relation + where + ") TO " + QuoteLiteral(target.staging_dir) +
         " (" + ParquetOptions(ds) + ", PARTITION_BY (" + keys + "), RETURN_STATS, FILE_EXTENSION 'parquet.tmp')";
}

}  // namespace pqflow::sink
