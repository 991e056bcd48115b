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

struct ServeFlags {
  std::string listen;
  bool allow_unauthenticated = false;
  bool quiet = false;
};
// Runs `pqflow serve`. Two definitions, one per executable: the server itself
// (serve_run.cc, in pqflow-serve), and in `pqflow` a replacement of the process by the
// pqflow-serve beside it (serve_exec.cc), so that no other command loads the HTTP server's
// libraries (libcpp-httplib, libssl, brotli: ~8 ms of every start).
int RunServe(const GlobalOptions& global, const ServeFlags& flags);

// Builds the whole command line and runs it; what main() calls.
int RunCli(int argc, char** argv);

}  // namespace pqflow::cli
