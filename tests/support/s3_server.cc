#include "s3_server.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace pqflow::testing {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

std::string Tail(const std::string& path, size_t max_bytes = 2000) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buf;
  buf << in.rdbuf();
  std::string text = buf.str();
  if (text.size() > max_bytes) text.erase(0, text.size() - max_bytes);
  return text;
}

std::string FindOnPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path != nullptr ? path : "/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    std::string candidate = dir + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  throw std::runtime_error("no `" + name + "` on PATH: run scripts/bootstrap.sh");
}

// Port 0 makes the kernel pick a free port; s3rver needs one on its command line (the proxy
// picks its own). Another process could take it first: Launch() retries.
int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  bool ok = fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
            ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  if (fd >= 0) ::close(fd);
  if (!ok) throw std::runtime_error(std::string("cannot find a free TCP port: ") + std::strerror(errno));
  return ntohs(addr.sin_port);
}

// Everything is prepared before fork(): the child of a multithreaded process may only make
// async-signal-safe calls.
pid_t Spawn(const std::vector<std::string>& args, const std::vector<std::string>& extra_env,
            const std::string& cwd, const std::string& log_path) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) env_strings.emplace_back(*e);
  env_strings.insert(env_strings.end(), extra_env.begin(), extra_env.end());
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (log_fd < 0 || null_fd < 0) throw std::runtime_error("cannot open " + log_path);
  const pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid == 0) {
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    if (::dup2(null_fd, 0) < 0 || ::dup2(log_fd, 1) < 0 || ::dup2(log_fd, 2) < 0) ::_exit(127);
    // A crashed or killed test binary leaves no server behind.
    if (::prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || ::getppid() != parent) ::_exit(127);
    if (::chdir(cwd.c_str()) != 0) ::_exit(127);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  ::close(log_fd);
  ::close(null_fd);
  if (pid < 0) throw std::runtime_error(std::string("fork failed: ") + std::strerror(errno));
  return pid;
}

// True once `pid` has exited (and been reaped).
bool Reaped(pid_t pid, bool block) {
  int status = 0;
  pid_t r;
  do {
    r = ::waitpid(pid, &status, block ? 0 : WNOHANG);
  } while (r < 0 && errno == EINTR);
  return r != 0;
}

size_t AppendBody(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

}  // namespace

std::unique_ptr<S3Server> S3Server::Start(const Options& options) {
  std::unique_ptr<S3Server> server(new S3Server(options));
  server->Launch();
  return server;
}

S3Server::S3Server(const Options& options) : options_(options) {
  if (options_.node_modules.empty()) {
    const char* env = std::getenv("PQFLOW_NODE_MODULES");
    options_.node_modules =
        env != nullptr && *env != '\0' ? env : std::string(PQFLOW_SOURCE_DIR) + "/third_party/node/node_modules";
  }
  for (const char* pkg : {"s3rver/bin/s3rver.js", "aws4/aws4.js"}) {
    if (!fs::exists(options_.node_modules + "/" + pkg)) {
      throw std::runtime_error("missing " + options_.node_modules + "/" + pkg + ": run scripts/bootstrap.sh");
    }
  }
  node_ = FindOnPath("node");
  data_dir_ = dir_ / "data";
  fs::create_directories(data_dir_);
}

S3Server::~S3Server() {
  StopProcess(proxy_pid_);
  StopProcess(s3rver_pid_);
}

void S3Server::Launch() {
  const auto deadline = Clock::now() + options_.start_timeout;
  for (int attempt = 1;; ++attempt) {
    s3rver_port_ = FreePort();
    // s3rver 3.x encrypts ListObjectsV2 continuation tokens with DES, which OpenSSL 3 only
    // offers through its legacy provider.
    s3rver_pid_ = Spawn({node_, "--openssl-legacy-provider", options_.node_modules + "/s3rver/bin/s3rver.js", "-d", data_dir_, "-a", "127.0.0.1",
                         "-p", std::to_string(s3rver_port_), "--silent", "--configure-bucket", options_.bucket},
                        {}, dir_.path(), dir_ / "s3rver.log");
    proxy_pid_ = Spawn({node_, std::string(PQFLOW_SOURCE_DIR) + "/tests/support/s3_verify_proxy.mjs"},
                       {"S3_PROXY_UPSTREAM=127.0.0.1:" + std::to_string(s3rver_port_), "S3_PROXY_DATA_DIR=" + data_dir_,
                        "S3_PROXY_ACCESS_KEY=" + options_.access_key_id,
                        "S3_PROXY_SECRET_KEY=" + options_.secret_access_key, "S3_PROXY_REGION=" + options_.region,
                        "S3_PROXY_NODE_MODULES=" + options_.node_modules},
                       dir_.path(), dir_ / "proxy.log");
    bool s3rver_died = false;
    while (Clock::now() < deadline) {
      if (Reaped(s3rver_pid_, false)) {
        s3rver_pid_ = -1;
        s3rver_died = true;
        break;
      }
      if (Reaped(proxy_pid_, false)) {
        proxy_pid_ = -1;
        throw std::runtime_error("s3_verify_proxy.mjs exited during startup:\n" + LogTail());
      }
      if (proxy_port_ == 0) {
        std::string log = Tail(dir_ / "proxy.log");
        size_t at = log.find("listening on 127.0.0.1:");
        if (at != std::string::npos) proxy_port_ = std::atoi(log.c_str() + at + 23);
      }
      if (proxy_port_ != 0) {
        try {
          if (Control("/__proxy/health").find("\"ok\":true") != std::string::npos) return;
        } catch (const std::exception&) {
          // not up yet
        }
      }
      std::this_thread::sleep_for(milliseconds(20));
    }
    StopProcess(proxy_pid_);
    StopProcess(s3rver_pid_);
    proxy_port_ = 0;
    // s3rver exiting at once usually means another process took its port: try another one.
    if (!s3rver_died || attempt == 3 || Clock::now() >= deadline) {
      throw std::runtime_error("the S3 test server did not start:\n" + LogTail());
    }
  }
}

void S3Server::StopProcess(pid_t& pid) {
  if (pid < 0) return;
  ::kill(pid, SIGTERM);
  const auto deadline = Clock::now() + options_.stop_timeout;
  while (!Reaped(pid, false)) {
    if (Clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      Reaped(pid, true);
      break;
    }
    std::this_thread::sleep_for(milliseconds(5));
  }
  pid = -1;
}

std::string S3Server::endpoint() const { return "http://127.0.0.1:" + std::to_string(proxy_port_); }

std::string S3Server::Control(const std::string& path_and_query) {
  CURL* curl = curl_easy_init();
  if (curl == nullptr) throw std::runtime_error("curl_easy_init failed");
  std::string body;
  const std::string url = endpoint() + path_and_query;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  if (path_and_query.starts_with("/__proxy/faults")) curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, "POST");
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &AppendBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 5000L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  CURLcode rc = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(curl);
  if (rc != CURLE_OK || status != 200) {
    throw std::runtime_error("proxy control " + path_and_query + " failed: " + curl_easy_strerror(rc) + " HTTP " +
                             std::to_string(status) + " " + body);
  }
  return body;
}

void S3Server::SetFaults(const S3FaultSpec& spec) {
  std::string kinds;
  for (const auto& k : spec.kinds) kinds += (kinds.empty() ? "" : ",") + k;
  std::string match;
  for (unsigned char c : spec.match) {  // percent-encode the substring for the query string
    char hex[4];
    std::snprintf(hex, sizeof hex, "%%%02X", c);
    match += std::isalnum(c) ? std::string(1, static_cast<char>(c)) : std::string(hex);
  }
  Control("/__proxy/faults?rate=" + std::to_string(spec.rate) + "&kinds=" + kinds + "&match=" + match +
          "&method=" + spec.method);
}

S3ProxyStats S3Server::Stats() {
  const std::string body = Control("/__proxy/stats");
  auto field = [&](const std::string& name) {
    size_t at = body.find("\"" + name + "\":");
    return at == std::string::npos ? -1 : std::atoi(body.c_str() + at + name.size() + 3);
  };
  return {field("requests"), field("faults"), field("rejected")};
}

std::vector<std::string> S3Server::PendingMultipartUploads() const {
  std::vector<std::string> ids;
  const fs::path uploads = fs::path(data_dir_) / options_.bucket / "._S3rver_uploads";
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(uploads, ec)) ids.push_back(entry.path().filename());
  return ids;
}

std::string S3Server::LogTail() const {
  return "--- s3rver.log\n" + Tail(dir_ / "s3rver.log") + "--- proxy.log\n" + Tail(dir_ / "proxy.log");
}

}  // namespace pqflow::testing
