#include "cli/commands.h"

#include <cstdio>
#include <memory>
#include <mutex>

#include "sink/exporter.h"

namespace pqflow::cli {

namespace {

struct ExportFlags {
  std::string dataset;
  std::vector<std::string> inputs;
  std::string date, from, to;
  bool historical = false;
  bool dry_run = false;
  bool overwrite = false;
  std::string on_error = "quarantine";
  std::vector<std::string> splits;
  bool per_project = false;
  bool per_organization = false;
  bool delete_after_export = false;
  bool json = false;
  bool quiet = false;
  bool verbose = false;
  int threads = 0;
  std::string memory_limit;
};

Result<source::InputSelection> Selection(const ExportFlags& f) {
  source::InputSelection sel;
  sel.explicit_inputs = f.inputs;
  int modes = (!f.date.empty()) + (!f.from.empty() || !f.to.empty()) + f.historical;
  if (modes > 1) return Status::InvalidArgument("use only one of --date, --from/--to and --historical");
  if (!f.date.empty()) {
    PQ_ASSIGN_OR_RETURN(sel.from, CivilDate::Parse(f.date));
    sel.to = sel.from;
    sel.mode = source::DateMode::kDate;
  } else if (!f.from.empty() || !f.to.empty()) {
    if (f.from.empty() || f.to.empty()) return Status::InvalidArgument("--from and --to go together");
    PQ_ASSIGN_OR_RETURN(sel.from, CivilDate::Parse(f.from));
    PQ_ASSIGN_OR_RETURN(sel.to, CivilDate::Parse(f.to));
    if (sel.to < sel.from) return Status::InvalidArgument("--to " + f.to + " is before --from " + f.from);
    sel.mode = source::DateMode::kRange;
  } else if (f.historical) {
    sel.mode = source::DateMode::kHistorical;
  }
  return sel;
}

// A one-line progress bar on stderr, only when stderr is a terminal.
class ProgressBar {
 public:
  void Update(const std::string& step, double percent) {
    std::lock_guard<std::mutex> lock(mu_);
    if (percent < 0) {  // no total known: the step's own text says how far it is
      std::fprintf(stderr, "\r%-60.60s", step.c_str());
      std::fflush(stderr);
      shown_ = true;
      return;
    }
    int width = 30;
    int filled = static_cast<int>(percent / 100.0 * width);
    std::string bar(static_cast<size_t>(filled), '=');
    bar.resize(static_cast<size_t>(width), ' ');
    std::fprintf(stderr, "\r%-16s [%s] %5.1f%%", step.c_str(), bar.c_str(), percent);
    std::fflush(stderr);
    shown_ = true;
  }
  void Clear() {
    std::lock_guard<std::mutex> lock(mu_);
    if (shown_) std::fprintf(stderr, "\r%70s\r", "");
    shown_ = false;
  }

 private:
  std::mutex mu_;
  bool shown_ = false;
};

int Run(const GlobalOptions& global, const ExportFlags& f) {
  auto config = LoadConfig(global);
  if (!config.ok()) return ReportError(config.status());
  auto selection = Selection(f);
  if (!selection.ok()) return ReportError(selection.status());
  sink::ExportOptions options;
  options.selection = *selection;
  options.dry_run = f.dry_run;
  options.overwrite = f.overwrite;
  options.on_error = f.on_error == "fail" ? sink::OnError::kFail
                     : f.on_error == "skip" ? sink::OnError::kSkip
                                            : sink::OnError::kQuarantine;
  options.splits = f.splits;
  if (f.per_project) options.splits.push_back("project");
  if (f.per_organization) options.splits.push_back("organization");
  options.delete_after_export = f.delete_after_export;
  options.threads = f.threads;
  if (!f.memory_limit.empty()) options.memory_limit = f.memory_limit;
  auto bar = std::make_shared<ProgressBar>();
  if (StderrIsTerminal() && !f.quiet && !f.json) {
    options.progress = [bar](const std::string& step, double p) { bar->Update(step, p); };
  }
  if (f.verbose) {
    options.trace = [bar](const std::string& step, double seconds) {
      bar->Clear();
      std::fprintf(stderr, "pqflow: %-20s %8.3f s\n", step.c_str(), seconds);
    };
  }
  auto report = sink::RunExport(*config, f.dataset, options);
  bar->Clear();
  if (!report.ok()) return ReportError(report.status());
  std::string out = f.json ? report->ToJson() : report->ToText();
  std::fwrite(out.data(), 1, out.size(), stdout);
  if (!report->Balances()) {
    std::fprintf(stderr, "pqflow: error: internal accounting error: rows read != written + rejected + skipped\n");
    return kExitFailure;
  }
  return report->rows_rejected > 0 ? kExitRejected : kExitOk;
}

}  // namespace

void AddExportCommand(CLI::App& app, const GlobalOptions& global, int* exit_code) {
  auto flags = std::make_shared<ExportFlags>();
  CLI::App* cmd = app.add_subcommand("export", "Export a dataset's source (files or PostgreSQL) into its Parquet layout");
  cmd->footer(
      "Examples:\n"
      "  pqflow export query_perf                      # file source: the newest input date\n"
      "  pqflow export query_perf --date 2025-10-28\n"
      "  pqflow export query_perf --historical --dry-run\n"
      "  pqflow export pageviews --input 'exports/*.csv' --split-by project\n"
      "  pqflow export pg_pageviews                    # PostgreSQL source: yesterday (UTC)\n"
      "  pqflow export pg_pageviews --date 2026-01-15 --per-project --delete-after-export\n\n"
      "Partitions that already have a complete manifest are skipped (\"already exists, skipping\");\n"
      "--overwrite replaces them. Rejected rows are kept in rejects.ndjson beside the run report.\n"
      "--delete-after-export deletes exactly the exported rows from PostgreSQL, in the transaction that\n"
      "read them, after the files are published and re-read; any failure deletes nothing.\n"
      "Exit status: 0 ok, 1 failure, 2 usage/config error, 3 finished with rejected rows.");
  cmd->add_option("dataset", flags->dataset, "Dataset name from the configuration")->required();
  cmd->add_option("--input,-i", flags->inputs, "Input file or glob (repeatable); default: the dataset's source.path");
  cmd->add_option("--date", flags->date, "Export one date (YYYY-MM-DD); PostgreSQL sources default to yesterday (UTC)");
  cmd->add_option("--from", flags->from, "First date of a range (inclusive)");
  cmd->add_option("--to", flags->to, "Last date of a range (inclusive)");
  cmd->add_flag("--historical", flags->historical,
                "Export every input or date found (backfill); complete partitions are skipped, so it resumes");
  cmd->add_flag("--dry-run,-n", flags->dry_run, "Read and validate the inputs, list what would be written, write nothing");
  cmd->add_flag("--overwrite", flags->overwrite, "Replace partitions that already exist");
  cmd->add_option("--on-error", flags->on_error, "What to do with rows that do not fit the schema")
      ->check(CLI::IsMember({"fail", "skip", "quarantine"}))
      ->default_str("quarantine");
  cmd->add_option("--split-by", flags->splits, "Also write the named split (repeatable), e.g. project");
  cmd->add_flag("--per-project", flags->per_project, "Same as --split-by project");
  cmd->add_flag("--per-organization", flags->per_organization, "Same as --split-by organization");
  cmd->add_flag("--delete-after-export", flags->delete_after_export,
                "PostgreSQL sources: delete the exported rows from the source once the files are verified");
  cmd->add_flag("--json", flags->json, "Print the run report as JSON");
  cmd->add_flag("--quiet,-q", flags->quiet, "No progress bar on stderr");
  cmd->add_flag("--verbose,-v", flags->verbose, "Print the wall time of each step on stderr");
  cmd->add_option("--threads", flags->threads, "DuckDB worker threads (default: all cores)");
  cmd->add_option("--memory-limit", flags->memory_limit, "Memory limit, e.g. 4GB; DuckDB spills to disk beyond it (default: 2GB)");
  cmd->callback([flags, &global, exit_code] { *exit_code = Run(global, *flags); });
}

}  // namespace pqflow::cli
