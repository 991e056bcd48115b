// The built-in reports of the seeds, as SQL over the dataset views:
//   top-pages       seed 000: most viewed pages of a project (project, since, until, limit)
//   daily-totals    seed 000: views per day, optionally of one project (project, since, until)
//   validation      seed 001: per date_partition, query count, average and max execution_time_ms
//   avg-query-time  seed 001: average execution_time_ms over the last N days (days)
//   slow-queries    seed 001: queries slower than a threshold, slowest first (threshold_ms, limit)
// Every report reads one dataset (pageviews or query_perf unless `dataset` names another with
// the same columns). Parameter values are validated by type and enter the SQL only as quoted
// literals, so the partition filters they make still prune files.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/status.h"

namespace pqflow::query {

struct ReportParameter {
  std::string name;
  enum class Type { kString, kDate, kInteger, kNumber } type = Type::kString;
  std::string default_value;  // "" = optional with no default, unless required
  bool required = false;
  std::string help;
};

struct ReportDefinition {
  std::string name;  // "top-pages"
  std::string description;
  std::string dataset;  // the default dataset
  std::vector<ReportParameter> parameters;  // "dataset" is implicit
};

const std::vector<ReportDefinition>& Reports();

// The SQL of report `name` with `arguments` (parameter name -> text). Unknown reports and
// parameters, missing required ones and values of the wrong type are InvalidArgument naming them.
Result<std::string> ReportSql(const std::string& name, const std::map<std::string, std::string>& arguments);

}  // namespace pqflow::query
