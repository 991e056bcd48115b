// What every subcommand shares: loading the configuration, and printing errors.
#pragma once

#include <string>

#include "core/dataset_config.h"
#include "core/status.h"

namespace pqflow::cli {

struct GlobalOptions {
  std::string config_path;  // --config; "" = $PQFLOW_CONFIG, ./pqflow.toml, or the embedded default
  std::string root;         // --root overrides storage.root
  char** argv = nullptr;    // the whole command line (NULL-terminated), for serve_exec.cc
};

// Exit codes, documented in docs/user-guide.md.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitRejected = 3;  // finished, but some input rows were rejected
inline constexpr int kExitMismatch = 4;  // validate found files that do not match their manifests

Result<Config> LoadConfig(const GlobalOptions& options);
int ReportError(const Status& status);  // prints "pqflow: error: ..." and returns the exit code
bool StderrIsTerminal();

}  // namespace pqflow::cli
