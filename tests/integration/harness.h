// Helpers for end-to-end tests: running the real pqflow binary,
// and reading Parquet back with DuckDB and with hyparquet (an independent reader).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "temp_dir.h"

namespace pqflow::testing {

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs argv[0] with the given arguments in `cwd`, waits, captures stdout and stderr.
CommandResult RunCommand(const std::vector<std::string>& argv, const std::string& cwd = "");
// Runs the pqflow binary under test.
CommandResult Pqflow(const std::vector<std::string>& args, const std::string& cwd = "");
// Starts a program without waiting, stdout and stderr into the given files; returns its PID.
pid_t StartProcess(const std::vector<std::string>& argv, const std::string& cwd, const std::string& out_path,
                   const std::string& err_path);
// Starts pqflow without waiting; returns the child's PID (stdout/stderr discarded).
pid_t StartPqflow(const std::vector<std::string>& args, const std::string& cwd = "");

void WriteFile(const std::string& path, const std::string& content);
std::string ReadFile(const std::string& path);
// Every regular file below `dir` (relative paths, sorted), optionally only those ending in `suffix`.
std::vector<std::string> ListFiles(const std::string& dir, const std::string& suffix = "");

// One SQL query through an embedded DuckDB; the first column of the first row as text.
std::string DuckScalar(const std::string& sql);
// hyparquet's summary of files or directories (see tests/readers/read_parquet.mjs).
nlohmann::json ReadWithHyparquet(const std::vector<std::string>& paths, bool rows = false);

// Path of the pageview generator built in bench/.
std::string GeneratorPath();

}  // namespace pqflow::testing
