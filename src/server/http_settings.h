// The cpp-httplib settings and socket set-up of `pqflow serve`, shared with the no-op
// server of the ingest benchmark (bench/noop_server.cc) so that the ceiling it measures is
// this server's HTTP layer.
#pragma once

#include <httplib.h>

#include <string>

#include "core/dataset_config.h"
#include "core/status.h"

namespace pqflow::server {

struct ListenAddress {
  std::string host;
  int port = 0;  // 0 = any free port
};
// "127.0.0.1:8080", "[::1]:0".
Result<ListenAddress> ParseListenAddress(const std::string& listen);

class HttpListener {
 public:
  // Applies the settings: worker threads, body limit, timeouts, TCP_NODELAY, and
  // SO_REUSEADDR only (httplib's default adds SO_REUSEPORT, which would let a second server
  // bind the same port).
  HttpListener(httplib::Server& http, const ServerConfig& config);
  // Binds, and deepens the listen backlog. Then http.listen_after_bind() serves.
  Status Bind(const ListenAddress& address);
  int port() const { return port_; }

 private:
  httplib::Server& http_;
  int listen_fd_ = -1;
  int port_ = 0;
};

}  // namespace pqflow::server
