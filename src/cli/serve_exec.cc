// `pqflow serve` in the `pqflow` binary: the process becomes the pqflow-serve built beside
// it, with the same command line and PID (commands.h says why the server is apart).
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>

#include "cli/commands.h"

namespace pqflow::cli {

int RunServe(const GlobalOptions& global, const ServeFlags&) {
  std::error_code ec;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return ReportError(Status::Internal("pqflow serve: cannot tell where this binary is: " + ec.message()));
  const std::string companion = (self.parent_path() / "pqflow-serve").string();
  std::fflush(nullptr);
  ::execv(companion.c_str(), global.argv);
  return ReportError(Status::FromErrno("pqflow serve: starting " + companion +
                                           " (the HTTP server, built and installed beside pqflow)",
                                       errno));
}

}  // namespace pqflow::cli
