// `pqflow query SQL`, `pqflow report NAME`, `pqflow aggregate SPEC`: questions over the
// datasets, each a view of the same name, with the same output options.
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>

#include "cli/commands.h"
#include "query/query_session.h"
#include "query/reports.h"

namespace pqflow::cli {

namespace {

// Written beside the target and renamed over it: a reader never sees half a result.
Status WriteOutputFile(const std::string& path, const std::string& data) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
    out.close();
    if (!out) {
      std::remove(tmp.c_str());
      return Status::IOError("cannot write " + path);
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return Status::FromErrno("writing " + path, errno);
  }
  return Status::OK();
}

Result<std::string> ReadTextFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot read " + path);
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

// --format, --output, --explain: shared by query, report and aggregate.
struct OutputFlags {
  std::string format;
  std::string output;
  bool explain = false;

  void AddTo(CLI::App* cmd) {
    cmd->add_option("--format", format,
                    "table (default on a terminal), csv (default otherwise), json (an array) or ndjson (one object "
                    "per line)")
        ->check(CLI::IsMember({"table", "csv", "json", "ndjson"}));
    cmd->add_option("--output,-o", output, "Write the result to FILE (complete or not at all) instead of stdout");
    cmd->add_flag("--explain", explain,
                  "Show which files each dataset reads after partition pruning, and DuckDB's plan, instead of the rows");
  }

  query::QueryOptions Options() const {
    const bool terminal = output.empty() && ::isatty(STDOUT_FILENO);
    const std::string fmt = format.empty() ? (terminal ? "table" : "csv") : format;
    query::QueryOptions options;
    options.format = fmt == "json"     ? query::OutputFormat::kJson
                     : fmt == "ndjson" ? query::OutputFormat::kNdjson
                     : fmt == "csv"    ? query::OutputFormat::kCsv
                                       : query::OutputFormat::kTable;
    options.explain = explain;
    options.leave_database_open = true;  // each command ends with query::ExitWithoutTeardown
    return options;
  }

  Status Deliver(const query::QueryOutcome& outcome) const {
    if (output.empty()) {
      std::fwrite(outcome.text.data(), 1, outcome.text.size(), stdout);
      return Status::OK();
    }
    return WriteOutputFile(output, outcome.text);
  }
};

void AddReportCommands(CLI::App& app, const GlobalOptions& global, int* exit_code) {
  CLI::App* report = app.add_subcommand("report", "Built-in reports of the seeds (top pages, daily totals, ...)");
  report->require_subcommand(1);
  for (const auto& def : query::Reports()) {
    CLI::App* cmd = report->add_subcommand(def.name, def.description + " (dataset " + def.dataset + ")");
    auto args = std::make_shared<std::map<std::string, std::string>>();
    auto out = std::make_shared<OutputFlags>();
    for (const auto& p : def.parameters) {
      std::string help = p.help + (p.default_value.empty() ? "" : " (default " + p.default_value + ")");
      // threshold_ms is also --threshold-ms, as flags are usually spelled.
      std::string names = "--" + p.name;
      if (p.name.find('_') != std::string::npos) {
        std::string dashed = p.name;
        std::replace(dashed.begin(), dashed.end(), '_', '-');
        names += ",--" + dashed;
      }
      auto* opt = cmd->add_option_function<std::string>(
          names, [args, name = p.name](const std::string& v) { (*args)[name] = v; }, help);
      if (p.required) opt->required();
    }
    cmd->add_option_function<std::string>(
        "--dataset", [args](const std::string& v) { (*args)["dataset"] = v; },
        "Read another dataset with the same columns (default " + def.dataset + ")");
    out->AddTo(cmd);
    cmd->callback([name = def.name, args, out, &global, exit_code] {
      Status s = [&]() -> Status {
        PQ_ASSIGN_OR_RETURN(Config config, LoadConfig(global));
        PQ_ASSIGN_OR_RETURN(std::string sql, query::ReportQuerySql(config, name, *args));
        PQ_ASSIGN_OR_RETURN(query::QueryOutcome outcome, query::RunUserQuery(config, sql, out->Options()));
        return out->Deliver(outcome);
      }();
      *exit_code = s.ok() ? kExitOk : ReportError(s.WithContext("report " + name));
      query::ExitWithoutTeardown(*exit_code);
    });
  }
}

void AddAggregateCommand(CLI::App& app, const GlobalOptions& global, int* exit_code) {
  struct Flags {
    std::string spec;
    std::string file;
    OutputFlags out;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand("aggregate", "Aggregate a dataset from a JSON spec (functions, filters, group by, "
                                                  "time range, tumbling and sliding windows)");
  cmd->footer(
      "Example:\n  pqflow aggregate '{\"dataset\": \"events\", \"aggregations\": [{\"function\": \"count\"}],\n"
      "    \"group_by\": [\"event_type\"], \"window\": {\"size\": \"1h\"}}'\n"
      "Functions: sum avg count count_distinct min max percentile (with \"p\") stddev; filter ops: = != > >= < <= in.\n"
      "The spec format is in docs/user-guide.md (pqflow aggregate).");
  cmd->add_option("spec", flags->spec, "The spec as JSON text");
  cmd->add_option("--file,-f", flags->file, "Read the spec from a file");
  flags->out.AddTo(cmd);
  cmd->callback([flags, &global, exit_code] {
    Status s = [&]() -> Status {
      std::string spec = flags->spec;
      if (!flags->file.empty()) {
        PQ_ASSIGN_OR_RETURN(spec, ReadTextFile(flags->file));
      }
      if (spec.empty()) return Status::InvalidArgument("give the spec as an argument or with --file");
      PQ_ASSIGN_OR_RETURN(Config config, LoadConfig(global));
      PQ_ASSIGN_OR_RETURN(query::QueryOutcome outcome, query::RunAggregation(config, spec, flags->out.Options()));
      return flags->out.Deliver(outcome);
    }();
    *exit_code = s.ok() ? kExitOk : ReportError(s.WithContext("aggregate"));
    query::ExitWithoutTeardown(*exit_code);
  });
}

}  // namespace

void AddQueryCommand(CLI::App& app, const GlobalOptions& global, int* exit_code) {
  struct Flags {
    std::string sql;
    std::string file;
    OutputFlags out;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand("query", "Run SQL over the datasets (each dataset is a view of the same name)");
  cmd->footer(
      "Examples:\n  pqflow query \"SELECT date, sum(view_count) FROM pageviews GROUP BY 1 ORDER BY 1\"\n"
      "  pqflow query --file report.sql --format csv\n"
      "  pqflow query --explain \"SELECT count(*) FROM pageviews WHERE date >= DATE '2026-01-01'\"\n"
      "Queries only read: one SELECT over the dataset views, within [query] timeout and memory_limit.");
  cmd->add_option("sql", flags->sql, "The SQL text");
  cmd->add_option("--file,-f", flags->file, "Read the SQL from a file");
  flags->out.AddTo(cmd);
  cmd->callback([flags, &global, exit_code] {
    Status s = [&]() -> Status {
      std::string sql = flags->sql;
      if (!flags->file.empty()) {
        PQ_ASSIGN_OR_RETURN(sql, ReadTextFile(flags->file));
      }
      while (!sql.empty() && (sql.back() == ';' || std::isspace(static_cast<unsigned char>(sql.back())))) sql.pop_back();
      if (sql.empty()) return Status::InvalidArgument("give the SQL as an argument or with --file");
      PQ_ASSIGN_OR_RETURN(Config config, LoadConfig(global));
      PQ_ASSIGN_OR_RETURN(query::QueryOutcome outcome, query::RunUserQuery(config, sql, flags->out.Options()));
      return flags->out.Deliver(outcome);
    }();
    *exit_code = s.ok() ? kExitOk : ReportError(s.WithContext("query"));
    query::ExitWithoutTeardown(*exit_code);
  });
  AddReportCommands(app, global, exit_code);
  AddAggregateCommand(app, global, exit_code);
}

}  // namespace pqflow::cli
