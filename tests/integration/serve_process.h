// A `pqflow serve` child process for end-to-end tests: started on a free port with a
// given config, talked to over real HTTP, stopped with SIGTERM or killed with SIGKILL
// (only the process this object started, by PID).
#pragma once

#include <sys/types.h>

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace httplib {
class Client;
}

namespace pqflow::testing {

struct HttpReply {
  int status = 0;  // 0: no response (connection failed)
  std::string body;
  std::map<std::string, std::string> headers;
};

class ServeProcess {
 public:
  // `dir` holds the config file `config_name` and receives serve.out / serve.err.
  ServeProcess(std::string dir, std::string config_name = "pqflow.toml");
  ~ServeProcess();  // SIGKILL if still running

  // Starts the server and waits (up to 30 s) until it listens; false with the log on failure.
  bool Start(const std::vector<std::string>& extra_args = {});
  int Stop();  // SIGTERM; waits; the exit code (128+signal if killed)
  void Kill();  // SIGKILL; waits
  bool running() const { return pid_ > 0; }
  int port() const { return port_; }
  std::string Log() const;  // stdout + stderr so far

  HttpReply Post(const std::string& path, const std::string& body, const std::string& key,
                 const std::map<std::string, std::string>& headers = {});
  HttpReply Get(const std::string& path, const std::string& key = "");

 private:
  std::string dir_;
  std::string config_;
  pid_t pid_ = -1;
  int port_ = 0;
  int starts_ = 0;
};

// `pqflow keys new` through the binary: {key, config snippet}.
std::pair<std::string, std::string> NewApiKey(const std::string& name, const std::string& scopes,
                                              const std::string& workspaces = "");

// Gzip-compresses `data` (zlib), for Content-Encoding: gzip bodies.
std::string Gzip(const std::string& data);

}  // namespace pqflow::testing
