#include "query/aggregation.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <limits>

#include <nlohmann/json.hpp>

#include "core/civil_date.h"
#include "core/dataset_config.h"
#include "duck/duck.h"

namespace pqflow::query {
namespace {

using nlohmann::json;

constexpr int64_t kMsPerDay = 86400000;
constexpr int64_t kMaxWindowsPerRow = 1000;
// Time bounds outside 0001-01-01 .. 9999-12-31 are rejected (they fit every time type).
constexpr int64_t kMinTimeMs = -62135596800000;
constexpr int64_t kMaxTimeMs = 253402300799999;
// Helper columns of window queries; a relation column of the same name is refused.
constexpr std::string_view kTimeMsColumn = "__pqflow_t";
constexpr std::string_view kWindowStartColumn = "__pqflow_ws";

struct FunctionEntry {
  std::string_view name;
  AggregateFunction function;
};
// "distinct" is the seed's word for count_distinct; it parses to the same function.
constexpr std::array<FunctionEntry, 9> kFunctions = {{
    {"sum", AggregateFunction::kSum},
    {"avg", AggregateFunction::kAvg},
    {"count", AggregateFunction::kCount},
    {"count_distinct", AggregateFunction::kCountDistinct},
    {"min", AggregateFunction::kMin},
    {"max", AggregateFunction::kMax},
    {"percentile", AggregateFunction::kPercentile},
    {"stddev", AggregateFunction::kStddev},
    {"distinct", AggregateFunction::kCountDistinct},
}};

struct OpEntry {
  std::string_view name;
  FilterOp op;
  std::string_view sql;
};
constexpr std::array<OpEntry, 7> kOps = {{
    {"=", FilterOp::kEq, "="},
    {"!=", FilterOp::kNe, "<>"},
    {">", FilterOp::kGt, ">"},
    {">=", FilterOp::kGe, ">="},
    {"<", FilterOp::kLt, "<"},
    {"<=", FilterOp::kLe, "<="},
    {"in", FilterOp::kIn, "IN"},
}};

std::string Join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += sep;
    out += parts[i];
  }
  return out;
}

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// Shortest text that reads back as the same double ("0.95", not "0.94999999999999996").
std::string DoubleText(double v) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc() ? std::string(buf, end) : std::to_string(v);
}

// ---------------------------------------------------------------------------------------
// Parsing: JSON shape.

Status CheckKeys(const json& object, const std::string& where, std::initializer_list<std::string_view> allowed) {
  for (const auto& [key, value] : object.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
    std::vector<std::string> names(allowed.begin(), allowed.end());
    return Status::InvalidArgument(where + ": unknown key '" + key + "' (expected: " + Join(names, ", ") + ")");
  }
  return Status::OK();
}

Result<const json*> RequireObject(const json& value, const std::string& where) {
  if (!value.is_object()) return Status::InvalidArgument(where + ": expected an object");
  return &value;
}

Result<std::string> GetString(const json& value, const std::string& where) {
  if (!value.is_string()) return Status::InvalidArgument(where + ": expected a string");
  std::string s = value.get<std::string>();
  if (s.empty()) return Status::InvalidArgument(where + ": must not be empty");
  return s;
}

Result<int64_t> GetInt64(const json& value, const std::string& where) {
  if (!value.is_number_integer()) return Status::InvalidArgument(where + ": expected an integer");
  constexpr auto kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  if (value.is_number_unsigned() && value.get<uint64_t>() > kMax) {
    return Status::InvalidArgument(where + ": " + value.dump() + " is too large");
  }
  return value.get<int64_t>();
}

// Reads two digits at s[*pos] into *out and advances.
bool TwoDigits(std::string_view s, size_t* pos, int* out) {
  if (*pos + 2 > s.size() || !std::isdigit(static_cast<unsigned char>(s[*pos])) ||
      !std::isdigit(static_cast<unsigned char>(s[*pos + 1]))) {
    return false;
  }
  *out = (s[*pos] - '0') * 10 + (s[*pos + 1] - '0');
  *pos += 2;
  return true;
}

// The time-of-day part after the date: "HH:MM[:SS[.fff...]]" then the zone "", "Z",
// "+HH", "+HH:MM" or "+HHMM". Returns ms to add to the date's midnight UTC.
std::optional<int64_t> ParseTimeOfDay(std::string_view s) {
  size_t pos = 0;
  int h = 0, m = 0, sec = 0, frac_ms = 0;
  if (!TwoDigits(s, &pos, &h) || pos >= s.size() || s[pos++] != ':' || !TwoDigits(s, &pos, &m)) return std::nullopt;
  if (pos < s.size() && s[pos] == ':') {
    ++pos;
    if (!TwoDigits(s, &pos, &sec)) return std::nullopt;
    if (pos < s.size() && s[pos] == '.') {
      size_t digits = 0;
      for (++pos; pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos])); ++pos, ++digits) {
        if (digits < 3) frac_ms = frac_ms * 10 + (s[pos] - '0');
      }
      if (digits == 0) return std::nullopt;
      for (; digits < 3; ++digits) frac_ms *= 10;
    }
  }
  if (h > 23 || m > 59 || sec > 59) return std::nullopt;
  int64_t offset_min = 0;
  std::string_view zone = s.substr(pos);
  if (zone == "Z" || zone == "z") {
    zone = {};
  } else if (!zone.empty()) {
    if (zone[0] != '+' && zone[0] != '-') return std::nullopt;
    size_t zpos = 1;
    int oh = 0, om = 0;
    if (!TwoDigits(zone, &zpos, &oh)) return std::nullopt;
    if (zpos < zone.size() && zone[zpos] == ':') ++zpos;
    if (zpos < zone.size() && !TwoDigits(zone, &zpos, &om)) return std::nullopt;
    if (zpos != zone.size() || oh > 23 || om > 59) return std::nullopt;
    offset_min = (zone[0] == '+' ? 1 : -1) * (oh * 60 + om);
  }
  return ((h * 60 + m - offset_min) * 60 + sec) * int64_t{1000} + frac_ms;
}

// An ISO-8601 date or timestamp (see the header) -> ms since the Unix epoch.
Result<int64_t> ParseIsoInstant(std::string_view text, const std::string& where) {
  auto bad = [&] {
    return Status::InvalidArgument(where + ": '" + std::string(text) +
                                   "' is not an ISO-8601 date or timestamp (e.g. 2026-01-01 or 2026-01-01T10:00:00Z)");
  };
  auto date = CivilDate::Parse(text.substr(0, 10));
  if (!date.ok()) return bad();
  int64_t ms = int64_t{date->DaysSinceEpoch()} * kMsPerDay;
  if (text.size() == 10) return ms;
  char sep = text[10];
  if (sep != 'T' && sep != 't' && sep != ' ') return bad();
  std::optional<int64_t> time_of_day = ParseTimeOfDay(text.substr(11));
  if (!time_of_day) return bad();
  return ms + *time_of_day;
}

Result<int64_t> ParseTimePoint(const json& value, const std::string& where) {
  int64_t ms = 0;
  if (value.is_string()) {
    PQ_ASSIGN_OR_RETURN(ms, ParseIsoInstant(value.get<std::string>(), where));
  } else if (value.is_number_integer()) {
    PQ_ASSIGN_OR_RETURN(ms, GetInt64(value, where));
  } else {
    return Status::InvalidArgument(where + ": expected an ISO-8601 string or an integer (ms since the epoch)");
  }
  if (ms < kMinTimeMs || ms > kMaxTimeMs) {
    return Status::InvalidArgument(where + ": " + value.dump() + " is out of range");
  }
  return ms;
}

Result<int64_t> ParseDurationMs(const json& value, const std::string& where) {
  PQ_ASSIGN_OR_RETURN(std::string text, GetString(value, where));
  // ParseDurationSeconds does not check for overflow; nine digits of days still fit.
  size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  if (digits > 9) return Status::InvalidArgument(where + ": '" + text + "' is too long");
  auto seconds = ParseDurationSeconds(text);
  if (!seconds.ok()) return seconds.status().WithContext(where);
  if (*seconds <= 0) return Status::InvalidArgument(where + ": '" + text + "' must be positive");
  return *seconds * 1000;
}

Result<Aggregation> ParseAggregation(const json& value, const std::string& where) {
  PQ_RETURN_IF_ERROR(RequireObject(value, where).status());
  PQ_RETURN_IF_ERROR(CheckKeys(value, where, {"function", "column", "as", "p"}));
  if (!value.contains("function")) return Status::InvalidArgument(where + ": 'function' is required");
  PQ_ASSIGN_OR_RETURN(std::string name, GetString(value["function"], where + ".function"));
  auto entry =
      std::find_if(kFunctions.begin(), kFunctions.end(), [&](const FunctionEntry& e) { return e.name == name; });
  if (entry == kFunctions.end()) {
    return Status::InvalidArgument(
        where + ": unknown function '" + name +
        "' (expected one of: sum, avg, count, count_distinct, min, max, percentile, stddev)");
  }
  Aggregation agg;
  agg.function = entry->function;
  if (value.contains("column")) {
    PQ_ASSIGN_OR_RETURN(agg.column, GetString(value["column"], where + ".column"));
  } else if (agg.function != AggregateFunction::kCount) {
    return Status::InvalidArgument(where + ": " + name + " needs a 'column'");
  }
  if (value.contains("as")) {
    PQ_ASSIGN_OR_RETURN(agg.as, GetString(value["as"], where + ".as"));
  }
  bool percentile = agg.function == AggregateFunction::kPercentile;
  if (value.contains("p") && !percentile) return Status::InvalidArgument(where + ": 'p' only applies to percentile");
  if (percentile) {
    if (!value.contains("p")) return Status::InvalidArgument(where + ": percentile needs 'p' (a number in [0, 1])");
    const json& p = value["p"];
    if (!p.is_number() || !(p.get<double>() >= 0 && p.get<double>() <= 1)) {
      return Status::InvalidArgument(where + ".p: " + p.dump() + " is not a number in [0, 1]");
    }
    agg.p = p.get<double>();
  }
  return agg;
}

// A scalar filter value as the text given to CAST: strings as they are, numbers as JSON
// writes them, booleans as true/false.
Result<std::string> FilterValueText(const json& value, const std::string& where) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_boolean()) return std::string(value.get<bool>() ? "true" : "false");
  if (value.is_number_float()) return DoubleText(value.get<double>());
  if (value.is_number()) return value.dump();
  return Status::InvalidArgument(where + ": expected a string, number or boolean");
}

Result<Filter> ParseFilter(const json& value, const std::string& where) {
  PQ_RETURN_IF_ERROR(RequireObject(value, where).status());
  PQ_RETURN_IF_ERROR(CheckKeys(value, where, {"column", "op", "value"}));
  for (const char* key : {"column", "op", "value"}) {
    if (!value.contains(key)) return Status::InvalidArgument(where + ": '" + key + "' is required");
  }
  Filter filter;
  PQ_ASSIGN_OR_RETURN(filter.column, GetString(value["column"], where + ".column"));
  PQ_ASSIGN_OR_RETURN(std::string op, GetString(value["op"], where + ".op"));
  auto entry = std::find_if(kOps.begin(), kOps.end(), [&](const OpEntry& e) { return e.name == op; });
  if (entry == kOps.end()) {
    return Status::InvalidArgument(where + ": unknown op '" + op + "' (expected one of: =, !=, >, >=, <, <=, in)");
  }
  filter.op = entry->op;
  const json& v = value["value"];
  if (v.is_null()) {
    if (filter.op != FilterOp::kEq && filter.op != FilterOp::kNe) {
      return Status::InvalidArgument(where + ": a null value needs op = (IS NULL) or != (IS NOT NULL), not '" + op +
                                     "'");
    }
    filter.is_null = true;
  } else if (filter.op == FilterOp::kIn) {
    if (!v.is_array() || v.empty()) return Status::InvalidArgument(where + ".value: 'in' needs a non-empty array");
    for (size_t i = 0; i < v.size(); ++i) {
      PQ_ASSIGN_OR_RETURN(std::string text, FilterValueText(v[i], where + ".value[" + std::to_string(i) + "]"));
      filter.values.push_back(std::move(text));
    }
  } else {
    PQ_ASSIGN_OR_RETURN(std::string text, FilterValueText(v, where + ".value"));
    filter.values.push_back(std::move(text));
  }
  return filter;
}

Result<TimeRange> ParseTimeRange(const json& value) {
  PQ_RETURN_IF_ERROR(RequireObject(value, "time").status());
  PQ_RETURN_IF_ERROR(CheckKeys(value, "time", {"column", "from", "to"}));
  if (!value.contains("column")) return Status::InvalidArgument("time: 'column' is required");
  TimeRange range;
  PQ_ASSIGN_OR_RETURN(range.column, GetString(value["column"], "time.column"));
  if (value.contains("from")) {
    PQ_ASSIGN_OR_RETURN(range.from_ms, ParseTimePoint(value["from"], "time.from"));
  }
  if (value.contains("to")) {
    PQ_ASSIGN_OR_RETURN(range.to_ms, ParseTimePoint(value["to"], "time.to"));
  }
  if (range.from_ms && range.to_ms && *range.from_ms > *range.to_ms) {
    return Status::InvalidArgument("time: 'from' is after 'to'");
  }
  return range;
}

Result<Window> ParseWindow(const json& value) {
  PQ_RETURN_IF_ERROR(RequireObject(value, "window").status());
  PQ_RETURN_IF_ERROR(CheckKeys(value, "window", {"size", "step"}));
  if (!value.contains("size")) return Status::InvalidArgument("window: 'size' is required");
  Window window;
  PQ_ASSIGN_OR_RETURN(window.size_ms, ParseDurationMs(value["size"], "window.size"));
  window.step_ms = window.size_ms;
  if (value.contains("step")) {
    PQ_ASSIGN_OR_RETURN(window.step_ms, ParseDurationMs(value["step"], "window.step"));
  }
  if (window.step_ms > window.size_ms) {
    return Status::InvalidArgument("window: step " + value["step"].get<std::string>() + " is larger than size " +
                                   value["size"].get<std::string>() + " (rows between windows would be lost)");
  }
  int64_t per_row = (window.size_ms + window.step_ms - 1) / window.step_ms;
  if (per_row > kMaxWindowsPerRow) {
    return Status::InvalidArgument("window: size/step puts each row in " + std::to_string(per_row) +
                                   " windows (at most " + std::to_string(kMaxWindowsPerRow) + ")");
  }
  return window;
}

Result<std::vector<std::string>> ParseGroupBy(const json& value) {
  if (!value.is_array()) return Status::InvalidArgument("group_by: expected an array of column names");
  std::vector<std::string> columns;
  for (size_t i = 0; i < value.size(); ++i) {
    PQ_ASSIGN_OR_RETURN(std::string column, GetString(value[i], "group_by[" + std::to_string(i) + "]"));
    columns.push_back(std::move(column));
  }
  return columns;
}

Status ParseLists(const json& doc, AggregationSpec* spec) {
  if (!doc.contains("aggregations")) return Status::InvalidArgument("'aggregations' is required");
  const json& aggs = doc["aggregations"];
  if (!aggs.is_array()) return Status::InvalidArgument("aggregations: expected an array");
  if (aggs.empty()) return Status::InvalidArgument("aggregations: at least one aggregation is required");
  for (size_t i = 0; i < aggs.size(); ++i) {
    PQ_ASSIGN_OR_RETURN(Aggregation agg, ParseAggregation(aggs[i], "aggregations[" + std::to_string(i) + "]"));
    spec->aggregations.push_back(std::move(agg));
  }
  if (doc.contains("filters")) {
    const json& filters = doc["filters"];
    if (!filters.is_array()) return Status::InvalidArgument("filters: expected an array");
    for (size_t i = 0; i < filters.size(); ++i) {
      PQ_ASSIGN_OR_RETURN(Filter filter, ParseFilter(filters[i], "filters[" + std::to_string(i) + "]"));
      spec->filters.push_back(std::move(filter));
    }
  }
  if (doc.contains("group_by")) {
    PQ_ASSIGN_OR_RETURN(spec->group_by, ParseGroupBy(doc["group_by"]));
  }
  return Status::OK();
}

// ---------------------------------------------------------------------------------------
// Compiling: SQL over the relation.

enum class TypeClass { kInteger, kNumeric, kDate, kTimestamp, kTimestampTz, kOther };

TypeClass ClassifyType(std::string_view duck_type) {
  std::string t = Upper(duck_type);
  static constexpr std::string_view kIntegers[] = {
      "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT",
      "UHUGEINT", "INT", "INT1", "INT2", "INT4", "INT8", "SHORT", "LONG", "SIGNED", "INT128"};
  static constexpr std::string_view kFloats[] = {"FLOAT", "DOUBLE", "REAL", "FLOAT4", "FLOAT8"};
  static constexpr std::string_view kTimestamps[] = {"TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS",
                                                     "TIMESTAMP_US", "DATETIME"};
  auto in = [&](const auto& list) { return std::find(std::begin(list), std::end(list), t) != std::end(list); };
  if (in(kIntegers)) return TypeClass::kInteger;
  if (in(kFloats) || t.starts_with("DECIMAL") || t.starts_with("NUMERIC")) return TypeClass::kNumeric;
  if (t == "DATE") return TypeClass::kDate;
  if (in(kTimestamps)) return TypeClass::kTimestamp;
  if (t == "TIMESTAMP WITH TIME ZONE" || t == "TIMESTAMPTZ") return TypeClass::kTimestampTz;
  return TypeClass::kOther;
}

bool IsNumeric(TypeClass c) { return c == TypeClass::kInteger || c == TypeClass::kNumeric; }
bool IsTime(TypeClass c) { return c != TypeClass::kNumeric && c != TypeClass::kOther; }

bool SameName(std::string_view a, std::string_view b) { return Upper(a) == Upper(b); }

// The relation's columns, found by name as DuckDB does: exactly, else ignoring case.
class ColumnLookup {
 public:
  ColumnLookup(const std::string& dataset, const std::vector<RelationColumn>& columns)
      : dataset_(dataset), columns_(columns) {}

  Result<const RelationColumn*> Find(const std::string& name, const std::string& where) const {
    for (const auto& c : columns_) {
      if (c.name == name) return &c;
    }
    for (const auto& c : columns_) {
      if (SameName(c.name, name)) return &c;
    }
    return Status::InvalidArgument(where + ": unknown column '" + name + "' (" + dataset_ + " has: " + Names() + ")");
  }

 private:
  std::string Names() const {
    constexpr size_t kMaxListed = 40;
    std::vector<std::string> names;
    for (size_t i = 0; i < columns_.size() && i < kMaxListed; ++i) names.push_back(columns_[i].name);
    std::string out = Join(names, ", ");
    if (columns_.size() > kMaxListed) out += ", ... (" + std::to_string(columns_.size() - kMaxListed) + " more)";
    return columns_.empty() ? "no columns" : out;
  }
  const std::string& dataset_;
  const std::vector<RelationColumn>& columns_;
};

// "p95", "p50", "p99_9", "p100".
std::string PercentileName(double p) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "p%.6g", p * 100);
  std::string name = buf;
  std::replace(name.begin(), name.end(), '.', '_');
  return name;
}

std::string DefaultOutputName(const Aggregation& agg, const std::string& column) {
  if (agg.function == AggregateFunction::kCount && agg.column.empty()) return "count";
  if (agg.function == AggregateFunction::kPercentile) return PercentileName(agg.p) + "_" + column;
  return std::string(AggregateFunctionName(agg.function)) + "_" + column;
}

Result<std::string> AggregateSql(const Aggregation& agg, const ColumnLookup& lookup, const std::string& where,
                                 std::string* column_name) {
  if (agg.column.empty()) return std::string("count(*)");
  PQ_ASSIGN_OR_RETURN(const RelationColumn* column, lookup.Find(agg.column, where));
  *column_name = column->name;
  std::string col = duck::QuoteIdentifier(column->name);
  switch (agg.function) {
    case AggregateFunction::kCount: return "count(" + col + ")";
    case AggregateFunction::kCountDistinct: return "count(DISTINCT " + col + ")";
    case AggregateFunction::kMin: return "min(" + col + ")";
    case AggregateFunction::kMax: return "max(" + col + ")";
    default: break;
  }
  if (!IsNumeric(ClassifyType(column->type))) {
    return Status::InvalidArgument(where + ": " + std::string(AggregateFunctionName(agg.function)) +
                                   " needs a numeric column; '" + column->name + "' is " + column->type);
  }
  switch (agg.function) {
    case AggregateFunction::kSum: return "sum(" + col + ")";
    case AggregateFunction::kAvg: return "avg(" + col + ")";
    case AggregateFunction::kStddev: return "stddev_samp(" + col + ")";
    default: return "quantile_cont(" + col + ", " + DoubleText(agg.p) + ")";
  }
}

Result<std::string> FilterSql(const Filter& filter, const ColumnLookup& lookup, const std::string& where) {
  PQ_ASSIGN_OR_RETURN(const RelationColumn* column, lookup.Find(filter.column, where));
  std::string col = duck::QuoteIdentifier(column->name);
  if (filter.is_null) return col + (filter.op == FilterOp::kEq ? " IS NULL" : " IS NOT NULL");
  std::vector<std::string> values;
  for (const auto& v : filter.values) values.push_back("CAST(" + duck::QuoteLiteral(v) + " AS " + column->type + ")");
  auto entry = std::find_if(kOps.begin(), kOps.end(), [&](const OpEntry& e) { return e.op == filter.op; });
  if (filter.op == FilterOp::kIn) return col + " IN (" + Join(values, ", ") + ")";
  return col + " " + std::string(entry->sql) + " " + values.front();
}

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0)) ? 1 : 0); }

// "YYYY-MM-DD HH:MM:SS.mmm" in UTC.
std::string FormatUtc(int64_t ms) {
  int64_t days = FloorDiv(ms, kMsPerDay);
  int64_t rem = ms - days * kMsPerDay;
  char buf[32];
  std::snprintf(buf, sizeof buf, " %02d:%02d:%02d.%03d", static_cast<int>(rem / 3600000),
                static_cast<int>(rem / 60000 % 60), static_cast<int>(rem / 1000 % 60), static_cast<int>(rem % 1000));
  return CivilDate::FromDays(static_cast<int32_t>(days)).ToIso() + buf;
}

// The time column compared with a bound (ms since the epoch) in the column's own type, so
// DuckDB can use it against Parquet statistics. A DATE d stands for d's midnight UTC, so
// d >= bound and d < bound both hold exactly for d >= ceil(bound / day) and below.
std::string BoundSql(const std::string& col, TypeClass type, std::string_view op, int64_t ms) {
  switch (type) {
    case TypeClass::kInteger: return col + " " + std::string(op) + " " + std::to_string(ms);
    case TypeClass::kDate: {
      int64_t days = -FloorDiv(-ms, kMsPerDay);
      return col + " " + std::string(op) + " CAST(" +
             duck::QuoteLiteral(CivilDate::FromDays(static_cast<int32_t>(days)).ToIso()) + " AS DATE)";
    }
    case TypeClass::kTimestampTz:
      return col + " " + std::string(op) + " CAST(" + duck::QuoteLiteral(FormatUtc(ms) + "+00") +
             " AS TIMESTAMP WITH TIME ZONE)";
    default: return col + " " + std::string(op) + " CAST(" + duck::QuoteLiteral(FormatUtc(ms)) + " AS TIMESTAMP)";
  }
}

// The time column as BIGINT ms since the epoch.
std::string TimeMsSql(const std::string& col, TypeClass type) {
  switch (type) {
    case TypeClass::kInteger: return "CAST(" + col + " AS BIGINT)";
    case TypeClass::kDate: return "epoch_ms(CAST(" + col + " AS TIMESTAMP))";
    default: return "epoch_ms(" + col + ")";
  }
}

struct TimeSql {
  std::vector<std::string> conditions;  // for WHERE
  std::string ms_expr;                  // the time as ms since the epoch
};

Result<TimeSql> CompileTime(const AggregationSpec& spec, const ColumnLookup& lookup,
                            const std::vector<RelationColumn>& columns) {
  TimeSql out;
  if (!spec.time) return out;
  PQ_ASSIGN_OR_RETURN(const RelationColumn* column, lookup.Find(spec.time->column, "time.column"));
  TypeClass type = ClassifyType(column->type);
  if (!IsTime(type)) {
    return Status::InvalidArgument("time.column: '" + column->name + "' is " + column->type +
                                   "; expected DATE, TIMESTAMP, TIMESTAMP WITH TIME ZONE or an integer column "
                                   "(ms since the epoch)");
  }
  std::string col = duck::QuoteIdentifier(column->name);
  if (spec.time->from_ms) out.conditions.push_back(BoundSql(col, type, ">=", *spec.time->from_ms));
  if (spec.time->to_ms) out.conditions.push_back(BoundSql(col, type, "<", *spec.time->to_ms));
  if (spec.window) {
    for (const auto& c : columns) {
      if (SameName(c.name, kTimeMsColumn) || SameName(c.name, kWindowStartColumn)) {
        return Status::InvalidArgument("window: the column name '" + c.name + "' is reserved for window queries");
      }
    }
    out.conditions.push_back(col + " IS NOT NULL");
  }
  out.ms_expr = TimeMsSql(col, type);
  return out;
}

// The window start of each row as a SELECT item over the time in ms (kTimeMsColumn):
// aligned down to the step, and for sliding windows every earlier multiple of the step
// whose window still covers the row (the outer query drops the ones that do not).
std::string WindowStartSql(const Window& window) {
  std::string t = duck::QuoteIdentifier(kTimeMsColumn);
  std::string step = std::to_string(window.step_ms);
  std::string aligned = "(" + t + " - ((" + t + " % " + step + " + " + step + ") % " + step + "))";
  if (!window.sliding()) return aligned;
  int64_t per_row = (window.size_ms + window.step_ms - 1) / window.step_ms;
  std::string first = "(" + aligned + " - " + std::to_string((per_row - 1) * window.step_ms) + ")";
  return "unnest(generate_series(" + first + ", " + aligned + ", CAST(" + step + " AS BIGINT)))";
}

// What the SELECT aggregates: the relation's rows that pass `conditions`; with a window
// each row once per window it falls in, with the window's start in ms as kWindowStartColumn.
std::string RowsSql(const AggregationSpec& spec, const std::string& time_ms_expr,
                    const std::vector<std::string>& conditions) {
  std::string sql = duck::QuoteIdentifier(spec.dataset);
  if (!conditions.empty()) sql += " WHERE " + Join(conditions, " AND ");
  if (!spec.window) return sql;
  std::string t = duck::QuoteIdentifier(kTimeMsColumn);
  std::string ws = duck::QuoteIdentifier(kWindowStartColumn);
  std::string rows = "SELECT *, " + time_ms_expr + " AS " + t + " FROM " + sql;
  sql = "(SELECT *, " + WindowStartSql(*spec.window) + " AS " + ws + " FROM (" + rows + "))";
  if (spec.window->sliding()) sql += " WHERE " + ws + " + " + std::to_string(spec.window->size_ms) + " > " + t;
  return sql;
}

struct OutputNames {
  std::vector<std::string> names;
  std::vector<std::string> origins;  // where each name came from, for the duplicate error

  Status Add(const std::string& name, const std::string& origin) {
    for (size_t i = 0; i < names.size(); ++i) {
      if (SameName(names[i], name)) {
        return Status::InvalidArgument(origin + ": output column '" + name + "' is already used by " + origins[i] +
                                       " (set a different \"as\")");
      }
    }
    names.push_back(name);
    origins.push_back(origin);
    return Status::OK();
  }
};

std::string OrderAndLimitSql(const AggregationSpec& spec, size_t first_group_item) {
  std::vector<std::string> order;
  if (spec.window) order.push_back("1 ASC NULLS LAST");
  for (size_t i = 0; i < spec.group_by.size(); ++i) {
    order.push_back(std::to_string(first_group_item + i) + " ASC NULLS LAST");
  }
  std::string sql;
  if (!order.empty()) sql += " ORDER BY " + Join(order, ", ");
  if (spec.limit) sql += " LIMIT " + std::to_string(*spec.limit);
  return sql;
}

}  // namespace

std::string_view AggregateFunctionName(AggregateFunction function) {
  for (const auto& e : kFunctions) {
    if (e.function == function) return e.name;
  }
  return "?";
}

std::string_view FilterOpName(FilterOp op) {
  for (const auto& e : kOps) {
    if (e.op == op) return e.name;
  }
  return "?";
}

Result<AggregationSpec> ParseAggregationSpec(std::string_view json_text) {
  json doc;
  try {
    doc = json::parse(json_text);
  } catch (const json::parse_error& e) {
    std::string what = e.what();
    size_t bracket = what.find("] ");
    if (what.starts_with("[json.exception") && bracket != std::string::npos) what = what.substr(bracket + 2);
    return Status::InvalidArgument("invalid JSON: " + what);
  }
  if (!doc.is_object()) return Status::InvalidArgument("the spec must be a JSON object");
  PQ_RETURN_IF_ERROR(
      CheckKeys(doc, "spec", {"dataset", "aggregations", "filters", "group_by", "time", "window", "limit"}));
  AggregationSpec spec;
  if (!doc.contains("dataset")) return Status::InvalidArgument("'dataset' is required");
  PQ_ASSIGN_OR_RETURN(spec.dataset, GetString(doc["dataset"], "dataset"));
  PQ_RETURN_IF_ERROR(ParseLists(doc, &spec));
  if (doc.contains("time")) {
    PQ_ASSIGN_OR_RETURN(spec.time, ParseTimeRange(doc["time"]));
  }
  if (doc.contains("window")) {
    if (!spec.time) return Status::InvalidArgument("window: needs \"time\": {\"column\": ...} to know the row times");
    PQ_ASSIGN_OR_RETURN(spec.window, ParseWindow(doc["window"]));
  }
  if (doc.contains("limit")) {
    PQ_ASSIGN_OR_RETURN(int64_t limit, GetInt64(doc["limit"], "limit"));
    if (limit <= 0) return Status::InvalidArgument("limit: must be positive");
    spec.limit = limit;
  }
  return spec;
}

Result<CompiledAggregation> CompileAggregation(const AggregationSpec& spec,
                                               const std::vector<RelationColumn>& columns) {
  if (spec.aggregations.empty()) return Status::InvalidArgument("aggregations: at least one aggregation is required");
  if (spec.window && !spec.time) return Status::InvalidArgument("window: needs \"time\": {\"column\": ...}");
  ColumnLookup lookup(spec.dataset, columns);
  OutputNames out;
  std::vector<std::string> items;
  if (spec.window) {
    std::string ws = duck::QuoteIdentifier(kWindowStartColumn);
    items.push_back("make_timestamp(" + ws + " * 1000) AS \"window_start\"");
    items.push_back("make_timestamp((" + ws + " + " + std::to_string(spec.window->size_ms) +
                    ") * 1000) AS \"window_end\"");
    PQ_RETURN_IF_ERROR(out.Add("window_start", "window"));
    PQ_RETURN_IF_ERROR(out.Add("window_end", "window"));
  }
  for (size_t i = 0; i < spec.group_by.size(); ++i) {
    std::string where = "group_by[" + std::to_string(i) + "]";
    PQ_ASSIGN_OR_RETURN(const RelationColumn* column, lookup.Find(spec.group_by[i], where));
    items.push_back(duck::QuoteIdentifier(column->name));
    PQ_RETURN_IF_ERROR(out.Add(column->name, where));
  }
  size_t group_item_count = items.size();
  for (size_t i = 0; i < spec.aggregations.size(); ++i) {
    const Aggregation& agg = spec.aggregations[i];
    std::string where = "aggregations[" + std::to_string(i) + "]";
    std::string column_name;
    PQ_ASSIGN_OR_RETURN(std::string sql, AggregateSql(agg, lookup, where, &column_name));
    std::string name = agg.as.empty() ? DefaultOutputName(agg, column_name) : agg.as;
    items.push_back(sql + " AS " + duck::QuoteIdentifier(name));
    PQ_RETURN_IF_ERROR(out.Add(name, where));
  }

  PQ_ASSIGN_OR_RETURN(TimeSql time, CompileTime(spec, lookup, columns));
  std::vector<std::string> conditions = time.conditions;
  for (size_t i = 0; i < spec.filters.size(); ++i) {
    PQ_ASSIGN_OR_RETURN(std::string sql, FilterSql(spec.filters[i], lookup, "filters[" + std::to_string(i) + "]"));
    conditions.push_back(sql);
  }
  std::string sql = "SELECT " + Join(items, ", ") + " FROM " + RowsSql(spec, time.ms_expr, conditions);
  if (group_item_count > 0) {
    std::vector<std::string> ordinals;
    for (size_t i = 1; i <= group_item_count; ++i) ordinals.push_back(std::to_string(i));
    sql += " GROUP BY " + Join(ordinals, ", ");
  }
  sql += OrderAndLimitSql(spec, spec.window ? 3 : 1);
  return CompiledAggregation{std::move(sql), std::move(out.names)};
}

}  // namespace pqflow::query
