#include "cli/common.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>

namespace pqflow::cli {

Result<Config> LoadConfig(const GlobalOptions& options) {
  std::string path = options.config_path;
  if (path.empty()) {
    if (const char* env = std::getenv("PQFLOW_CONFIG"); env != nullptr && *env != '\0') path = env;
  }
  if (path.empty() && std::filesystem::exists("pqflow.toml")) path = "pqflow.toml";
  Result<Config> config = path.empty() ? LoadEmbeddedDefault() : LoadConfigFile(path);
  if (!config.ok()) return config;
  if (Status s = ApplyEnvironmentOverrides(&*config); !s.ok()) return s;
  if (!options.root.empty()) {
    config->storage.root = ParseS3Root(options.root) ? options.root
                                                     : std::filesystem::absolute(options.root).lexically_normal().string();
  }
  return config;
}

int ReportError(const Status& status) {
  std::fprintf(stderr, "pqflow: error: %s\n", status.message().c_str());
  return status.code() == StatusCode::kInvalidArgument || status.code() == StatusCode::kNotFound ? kExitUsage
                                                                                               : kExitFailure;
}

bool StderrIsTerminal() { return ::isatty(STDERR_FILENO) == 1; }

}  // namespace pqflow::cli
