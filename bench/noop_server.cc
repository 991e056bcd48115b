// pqflow-bench-noop-server: the ceiling of pqflow serve's HTTP layer. The same cpp-httplib
// server with the same settings (server/http_settings.h) and the same route, answering
// every batch {"accepted":N} after reading its body — no parsing, no WAL, no Parquet.
// bench/run_ingest_bench.sh runs pqflow-loadgen against it and against pqflow serve.
#include <httplib.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "server/http_settings.h"

int main(int argc, char** argv) {
  const std::string listen = argc > 1 ? argv[1] : "127.0.0.1:0";
  auto address = pqflow::server::ParseListenAddress(listen);
  if (!address.ok()) {
    std::fprintf(stderr, "usage: pqflow-bench-noop-server [HOST:PORT]\n%s\n", address.status().message().c_str());
    return 2;
  }
  pqflow::ServerConfig config;
  httplib::Server http;
  pqflow::server::HttpListener listener(http, config);
  http.Post(R"(/v1/streams/([^/]+))", [](const httplib::Request&, httplib::Response& res,
                                         const httplib::ContentReader& read_body) {
    std::string body;
    read_body([&](const char* data, size_t len) {
      body.append(data, len);
      return true;
    });
    size_t lines = 0;
    for (const char* p = body.data(); (p = static_cast<const char*>(std::memchr(p, '\n', body.data() + body.size() - p)));
         ++p) {
      ++lines;
    }
    res.set_content("{\"accepted\":" + std::to_string(lines) + ",\"stream\":\"events\"}\n", "application/json");
  });
  if (auto s = listener.Bind(*address); !s.ok()) {
    std::fprintf(stderr, "%s\n", s.message().c_str());
    return 1;
  }
  std::printf("pqflow-bench-noop-server: listening on http://%s:%d\n", address->host.c_str(), listener.port());
  std::fflush(stdout);
  http.listen_after_bind();
  return 0;
}
