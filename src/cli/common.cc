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

Status RequireLocalRoot(const Config& config, const std::string& command) {
  if (!ParseS3Root(config.storage.root)) return Status::OK();
  return Status::InvalidArgument(command + " on an S3 storage root (" + config.storage.root +
                                 ") is not built yet (issue #6): give a local --root; pqflow presign works on S3");
}

int ReportError(const Status& status) {
  std::fprintf(stderr, "pqflow: error: %s\n", status.message().c_str());
  return status.code() == StatusCode::kInvalidArgument || status.code() == StatusCode::kNotFound ? kExitUsage
                                                                                               : kExitFailure;
}

bool StderrIsTerminal() { return ::isatty(STDERR_FILENO) == 1; }

}  // namespace pqflow::cli
