// `pqflow validate DATASET`: files against manifests; non-zero exit on any mismatch.
#include <cstdio>
#include <memory>

#include "cli/commands.h"
#include "sink/validator.h"

namespace pqflow::cli {

void AddValidateCommand(CLI::App& app, const GlobalOptions& global, int* exit_code) {
  struct Flags {
    std::string dataset;
    bool json = false;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand("validate", "Check a dataset's files against their manifests (size, SHA-256, rows)");
  cmd->footer("Exit status: 0 all files match, 4 a mismatch was found, 1/2 on errors.");
  cmd->add_option("dataset", flags->dataset, "Dataset name")->required();
  cmd->add_flag("--json", flags->json, "Machine-readable output");
  cmd->callback([flags, &global, exit_code] {
    auto config = LoadConfig(global);
    if (!config.ok()) {
      *exit_code = ReportError(config.status());
      return;
    }
    auto report = sink::ValidateDataset(*config, flags->dataset);
    if (!report.ok()) {
      *exit_code = ReportError(report.status());
      return;
    }
    std::string out = flags->json ? report->ToJson() : report->ToText();
    std::fwrite(out.data(), 1, out.size(), stdout);
    *exit_code = report->ok() ? kExitOk : kExitMismatch;
  });
}

}  // namespace pqflow::cli
