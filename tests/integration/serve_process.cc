#include "serve_process.h"

#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <zlib.h>

#include <chrono>
#include <regex>
#include <stdexcept>
#include <thread>

#include "harness.h"

namespace pqflow::testing {

ServeProcess::ServeProcess(std::string dir, std::string config_name)
    : dir_(std::move(dir)), config_(std::move(config_name)) {}

ServeProcess::~ServeProcess() {
  if (pid_ > 0) Kill();
}

std::string ServeProcess::Log() const {
  std::string log;
  for (int i = 1; i <= starts_; ++i) {
    log += ReadFile(dir_ + "/serve.out." + std::to_string(i)) + ReadFile(dir_ + "/serve.err." + std::to_string(i));
  }
  return log;
}

bool ServeProcess::Start(const std::vector<std::string>& extra_args) {
  std::vector<std::string> argv = {PQFLOW_BINARY, "serve", "--config", config_};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  // Each start has its own log files; Log() shows every run.
  const std::string out = dir_ + "/serve.out." + std::to_string(++starts_);
  pid_ = StartProcess(argv, dir_, out, dir_ + "/serve.err." + std::to_string(starts_));
  const std::regex listening(R"(listening on http://[^:]+:(\d+))");
  for (int i = 0; i < 300; ++i) {
    std::string text = ReadFile(out);
    std::smatch m;
    if (std::regex_search(text, m, listening)) {
      port_ = std::stoi(m[1]);
      return true;
    }
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  Kill();
  return false;
}

int ServeProcess::Stop() {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void ServeProcess::Kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

namespace {

HttpReply ToReply(const httplib::Result& r) {
  HttpReply reply;
  if (!r) return reply;
  reply.status = r->status;
  reply.body = r->body;
  for (const auto& [k, v] : r->headers) reply.headers[k] = v;
  return reply;
}

httplib::Headers MakeHeaders(const std::string& key, const std::map<std::string, std::string>& extra) {
  httplib::Headers h;
  if (!key.empty()) h.emplace("Authorization", "Bearer " + key);
  for (const auto& [k, v] : extra) h.emplace(k, v);
  return h;
}

}  // namespace

HttpReply ServeProcess::Post(const std::string& path, const std::string& body, const std::string& key,
                             const std::map<std::string, std::string>& headers) {
  httplib::Client client("127.0.0.1", port_);
  client.set_read_timeout(30, 0);
  return ToReply(client.Post(path, MakeHeaders(key, headers), body, "application/x-ndjson"));
}

HttpReply ServeProcess::Get(const std::string& path, const std::string& key) {
  httplib::Client client("127.0.0.1", port_);
  return ToReply(client.Get(path, MakeHeaders(key, {})));
}

std::pair<std::string, std::string> NewApiKey(const std::string& name, const std::string& scopes,
                                              const std::string& workspaces) {
  std::vector<std::string> args = {"keys", "new", "--name", name, "--scopes", scopes};
  if (!workspaces.empty()) {
    args.push_back("--workspaces");
    args.push_back(workspaces);
  }
  CommandResult r = Pqflow(args);
  if (r.exit_code != 0) throw std::runtime_error("pqflow keys new failed: " + r.err);
  std::smatch m;
  static const std::regex key_line(R"(\n(pqf_[A-Za-z0-9_\-]+)\n)");
  if (!std::regex_search(r.out, m, key_line)) throw std::runtime_error("no key in: " + r.out);
  size_t snippet = r.out.find("[[server.keys]]");
  if (snippet == std::string::npos) throw std::runtime_error("no snippet in: " + r.out);
  return {m[1], r.out.substr(snippet)};
}

std::string Gzip(const std::string& data) {
  z_stream zs{};
  deflateInit2(&zs, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&zs, data.size()) + 32, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

}  // namespace pqflow::testing
