// Each subcommand registers itself on the CLI11 app; main.cc only calls these.
#pragma once

#include <CLI/CLI.hpp>

#include "cli/common.h"

namespace pqflow::cli {

void AddExportCommand(CLI::App& app, const GlobalOptions& global, int* exit_code);
void AddInspectCommand(CLI::App& app, const GlobalOptions& global, int* exit_code);
void AddValidateCommand(CLI::App& app, const GlobalOptions& global, int* exit_code);
void AddQueryCommand(CLI::App& app, const GlobalOptions& global, int* exit_code);
void AddDatasetsCommand(CLI::App& app, const GlobalOptions& global, int* exit_code);
void AddServeCommand(CLI::App& app, const GlobalOptions& global, int* exit_code);
void AddKeysCommand(CLI::App& app, const GlobalOptions& global, int* exit_code);
void AddPresignCommand(CLI::App& app, const GlobalOptions& global, int* exit_code);

// Builds the whole command line and runs it; what main() calls.
int RunCli(int argc, char** argv);

}  // namespace pqflow::cli
