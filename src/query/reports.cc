#include "query/reports.h"

#include <charconv>
#include <cmath>

#include "core/civil_date.h"
#include "duck/duck.h"

namespace pqflow::query {

namespace {

using Type = ReportParameter::Type;

std::string TypeName(Type t) {
  switch (t) {
    case Type::kDate: return "a date (YYYY-MM-DD)";
    case Type::kInteger: return "a whole number";
    case Type::kNumber: return "a number";
    case Type::kString: return "text";
  }
  return "text";
}

// The value as a SQL literal of its type, or an error naming the parameter.
Result<std::string> Literal(const ReportParameter& p, const std::string& value) {
  auto bad = [&] { return Status::InvalidArgument(p.name + ": '" + value + "' is not " + TypeName(p.type)); };
  switch (p.type) {
    case Type::kDate: {
      if (!CivilDate::Parse(value).ok()) return bad();
      return "DATE " + duck::QuoteLiteral(value);
    }
    case Type::kInteger: {
      int64_t v = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
      if (ec != std::errc() || end != value.data() + value.size() || v < 0) return bad();
      return std::to_string(v);
    }
    case Type::kNumber: {
      size_t used = 0;
      double v = 0;
      try {
        v = std::stod(value, &used);
      } catch (...) {
        return bad();
      }
      if (used != value.size() || !std::isfinite(v)) return bad();
      return "CAST(" + duck::QuoteLiteral(value) + " AS DOUBLE)";
    }
    case Type::kString: return duck::QuoteLiteral(value);
  }
  return bad();
}

std::string PageviewFilters(const std::map<std::string, std::string>& lit) {
  std::string where = "true";
  if (lit.count("project")) where += " AND project_slug = " + lit.at("project");
  if (lit.count("since")) where += " AND date >= " + lit.at("since");
  if (lit.count("until")) where += " AND date <= " + lit.at("until");
  return where;
}

std::string Sql(const std::string& report, const std::string& from, const std::map<std::string, std::string>& lit) {
  if (report == "top-pages") {
    return "SELECT path, sum(view_count) AS views FROM " + from + " WHERE " + PageviewFilters(lit) +
           " GROUP BY path ORDER BY views DESC, path LIMIT " + lit.at("limit");
  }
  if (report == "daily-totals") {
    return "SELECT date, sum(view_count) AS views FROM " + from + " WHERE " + PageviewFilters(lit) +
           " GROUP BY date ORDER BY date";
  }
  if (report == "validation") {
    return "SELECT date_partition, count(*) AS query_count, avg(execution_time_ms) AS avg_execution_ms, "
           "max(execution_time_ms) AS max_execution_ms FROM " + from +
           " GROUP BY date_partition ORDER BY date_partition DESC LIMIT " + lit.at("limit");
  }
  if (report == "avg-query-time") {
    return "SELECT avg(execution_time_ms) AS avg_execution_ms, count(*) AS query_count FROM " + from +
           " WHERE date_partition >= current_date - " + lit.at("days");
  }
  // slow-queries
  return "SELECT * FROM " + from + " WHERE execution_time_ms > " + lit.at("threshold_ms") +
         " ORDER BY execution_time_ms DESC LIMIT " + lit.at("limit");
}

}  // namespace

const std::vector<ReportDefinition>& Reports() {
  static const std::vector<ReportDefinition> kReports = {
      {"top-pages", "The most viewed pages of a project (seed 000)", "pageviews",
       {{"project", Type::kString, "", true, "project_slug"},
        {"since", Type::kDate, "", false, "first day, inclusive"},
        {"until", Type::kDate, "", false, "last day, inclusive"},
        {"limit", Type::kInteger, "10", false, "how many pages"}}},
      {"daily-totals", "Views per day, of one project or all (seed 000)", "pageviews",
       {{"project", Type::kString, "", false, "project_slug; all projects if absent"},
        {"since", Type::kDate, "", false, "first day, inclusive"},
        {"until", Type::kDate, "", false, "last day, inclusive"}}},
      {"validation", "Per date_partition: query count, average and max execution_time_ms (seed 001)", "query_perf",
       {{"limit", Type::kInteger, "30", false, "how many days, newest first"}}},
      {"avg-query-time", "Average execution_time_ms over the last N days (seed 001's avg_query_time)", "query_perf",
       {{"days", Type::kInteger, "7", false, "days back from today (UTC)"}}},
      {"slow-queries", "Queries slower than a threshold, slowest first (seed 001's slow_queries)", "query_perf",
       {{"threshold_ms", Type::kNumber, "", true, "execution_time_ms above which a query is slow"},
        {"limit", Type::kInteger, "100", false, "how many queries"}}},
  };
  return kReports;
}

Result<std::string> ReportSql(const std::string& name, const std::map<std::string, std::string>& arguments) {
  const ReportDefinition* def = nullptr;
  std::string known;
  for (const auto& r : Reports()) {
    if (r.name == name) def = &r;
    known += (known.empty() ? "" : ", ") + r.name;
  }
  if (def == nullptr) return Status::NotFound("unknown report '" + name + "' (available: " + known + ")");
  std::map<std::string, std::string> literals;
  for (const auto& [key, value] : arguments) {
    if (key == "dataset") continue;
    bool found = false;
    for (const auto& p : def->parameters) found = found || p.name == key;
    if (!found) {
      std::string names = "dataset";
      for (const auto& p : def->parameters) names += ", " + p.name;
      return Status::InvalidArgument("report " + name + " has no parameter '" + key + "' (it takes: " + names + ")");
    }
  }
  for (const auto& p : def->parameters) {
    auto it = arguments.find(p.name);
    std::string value = it != arguments.end() ? it->second : p.default_value;
    if (value.empty()) {
      if (p.required) return Status::InvalidArgument("report " + name + " needs " + p.name + " (" + p.help + ")");
      continue;
    }
    auto literal = Literal(p, value);
    if (!literal.ok()) return literal.status().WithContext("report " + name);
    literals[p.name] = *literal;
  }
  auto ds = arguments.find("dataset");
  const std::string dataset = ds != arguments.end() && !ds->second.empty() ? ds->second : def->dataset;
  return Sql(name, duck::QuoteIdentifier(dataset), literals);
}

}  // namespace pqflow::query
