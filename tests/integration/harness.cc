#include "harness.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "duck/duck.h"

extern char** environ;

namespace pqflow::testing {

namespace fs = std::filesystem;

void WriteFile(const std::string& path, const std::string& content) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream out(path, std::ios::binary);
  out << content;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

std::vector<std::string> ListFiles(const std::string& dir, const std::string& suffix) {
  std::vector<std::string> out;
  std::error_code ec;
  if (!fs::exists(dir, ec)) return out;
  for (auto it = fs::recursive_directory_iterator(dir, ec); it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    std::string rel = fs::relative(it->path(), dir).string();
    if (suffix.empty() || (rel.size() >= suffix.size() && rel.compare(rel.size() - suffix.size(), suffix.size(), suffix) == 0)) {
      out.push_back(rel);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

pid_t StartProcess(const std::vector<std::string>& argv, const std::string& cwd, const std::string& out_path,
            const std::string& err_path) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (!cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("cannot start " + argv[0]);
  return pid;
}

CommandResult RunCommand(const std::vector<std::string>& argv, const std::string& cwd) {
  TempDir io;
  pid_t pid = StartProcess(argv, cwd, io / "out", io / "err");
  int status = 0;
  ::waitpid(pid, &status, 0);
  CommandResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = ReadFile(io / "out");
  r.err = ReadFile(io / "err");
  return r;
}

CommandResult Pqflow(const std::vector<std::string>& args, const std::string& cwd) {
  std::vector<std::string> argv = {PQFLOW_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv, cwd);
}

pid_t StartPqflow(const std::vector<std::string>& args, const std::string& cwd) {
  std::vector<std::string> argv = {PQFLOW_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  return StartProcess(argv, cwd, "/dev/null", "/dev/null");
}

std::string DuckScalar(const std::string& sql) {
  auto db = duck::Database::Open({});
  if (!db.ok()) throw std::runtime_error(db.status().message());
  auto conn = duck::Connection::Make(*db);
  if (!conn.ok()) throw std::runtime_error(conn.status().message());
  auto r = conn->Query("SELECT CAST((" + sql + ") AS VARCHAR)");
  if (!r.ok()) throw std::runtime_error(r.status().message() + " in " + sql);
  return r->row_count() > 0 ? r->GetOr(0, 0, "NULL") : "";
}

nlohmann::json ReadWithHyparquet(const std::vector<std::string>& paths, bool rows) {
  std::vector<std::string> argv = {"node", std::string(PQFLOW_SOURCE_DIR) + "/tests/readers/read_parquet.mjs"};
  if (rows) argv.push_back("--rows");
  argv.insert(argv.end(), paths.begin(), paths.end());
  CommandResult r = RunCommand(argv);
  if (r.exit_code != 0) throw std::runtime_error("hyparquet failed: " + r.err);
  return nlohmann::json::parse(r.out);
}

std::string GeneratorPath() { return PQFLOW_GENERATOR; }

}  // namespace pqflow::testing
