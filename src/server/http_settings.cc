#include "server/http_settings.h"

#include <netinet/in.h>
#include <sys/socket.h>

namespace pqflow::server {

Result<ListenAddress> ParseListenAddress(const std::string& listen) {
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == listen.size()) {
    return Status::InvalidArgument("listen address '" + listen + "': expected host:port, e.g. 127.0.0.1:8080");
  }
  ListenAddress a;
  a.host = listen.substr(0, colon);
  if (a.host.size() > 2 && a.host.front() == '[' && a.host.back() == ']') a.host = a.host.substr(1, a.host.size() - 2);
  const std::string port = listen.substr(colon + 1);
  if (port.find_first_not_of("0123456789") != std::string::npos || port.size() > 5 || std::stoi(port) > 65535) {
    return Status::InvalidArgument("listen address '" + listen + "': the port must be 0..65535");
  }
  a.port = std::stoi(port);
  return a;
}

HttpListener::HttpListener(httplib::Server& http, const ServerConfig& config) : http_(http) {
  // One worker per open connection (httplib serves a keep-alive connection on one thread).
  const size_t threads = config.threads > 0 ? static_cast<size_t>(config.threads) : 64;
  http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  // The body limit on the wire; the decoded (gunzipped) size is checked while reading.
  http.set_payload_max_length(static_cast<size_t>(config.max_body_size));
  http.set_read_timeout(30, 0);
  http.set_write_timeout(30, 0);
  http.set_keep_alive_max_count(100000);
  // Replies are small and latency-bound: do not let Nagle hold them back.
  http.set_tcp_nodelay(true);
  http.set_socket_options([this](int sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    listen_fd_ = sock;
  });
}

Status HttpListener::Bind(const ListenAddress& address) {
  if (address.port == 0) {
    port_ = http_.bind_to_any_port(address.host);
    if (port_ <= 0) return Status::IOError("cannot listen on " + address.host + " (any port)");
  } else if (!http_.bind_to_port(address.host, address.port)) {
    return Status::IOError("cannot listen on " + address.host + ":" + std::to_string(address.port) +
                           " (in use, or not an address of this machine); change server.listen or PQFLOW_LISTEN");
  } else {
    port_ = address.port;
  }
  // Debian's libcpp-httplib listens with a backlog of 5, too short for many clients
  // (re)connecting at once; listen() again on the bound socket raises it.
  if (listen_fd_ >= 0) ::listen(listen_fd_, 1024);
  return Status::OK();
}

}  // namespace pqflow::server
