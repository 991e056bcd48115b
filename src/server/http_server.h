// The HTTP face of `pqflow serve` (cpp-httplib): event ingest, health and metrics.
//
//   POST /v1/streams/{stream}   NDJSON body (optionally Content-Encoding: gzip); key scope ingest
//   GET  /health                open: status, versions, WAL bytes, buffered rows, last write
//   GET  /metrics               Prometheus text; key scope admin
//   POST /v1/query              {"sql": ...}; key scope query          (query_routes.cc)
//   GET  /v1/reports/{name}     ?parameter=value...; key scope query
//   POST /v1/aggregate          an aggregation spec; key scope query
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "core/dataset_config.h"
#include "core/status.h"
#include "storage/storage.h"
#include "ingest/ingest_service.h"
#include "query/query_session.h"
#include "server/auth.h"
#include "server/http_settings.h"
#include "server/metrics.h"

namespace pqflow::server {

struct HttpServerOptions {
  // No keys configured and this set: requests need no key (refused unless listening on a
  // loopback address).
  bool allow_unauthenticated = false;
  // Where queries read the datasets (shared, so S3's read cache is one per server); null:
  // each query opens the configuration's storage.
  storage::Storage* storage = nullptr;
};

class HttpServer {
 public:
  static Result<std::unique_ptr<HttpServer>> Make(const Config& config, ingest::IngestService* ingest,
                                                  HttpServerOptions options);
  ~HttpServer();

  // Binds config.server.listen ("host:port"; port 0 = any free port).
  Status Bind();
  int port() const;
  std::string host() const { return address_.host; }
  // Serves until Stop(); requests in flight finish first.
  Status Run();
  void Stop();  // safe from any thread, also a signal-watching one
  MetricsRegistry& metrics() { return metrics_; }

 private:
  HttpServer(const Config& config, ingest::IngestService* ingest, HttpServerOptions options);
  void InstallRoutes();
  void InstallQueryRoutes();
  query::QueryOptions OptionsFor(const ApiKey& key, query::OutputFormat format) const;
  // The key of the request if it may use `scope`; else answers 401/403 and returns null.
  const ApiKey* Authenticate(const httplib::Request& req, httplib::Response& res, Scope scope);
  void SyncSinkCounters();

  const Config& config_;
  ingest::IngestService* ingest_;
  HttpServerOptions options_;
  std::unique_ptr<KeyStore> keys_;
  std::unique_ptr<httplib::Server> http_;
  std::unique_ptr<HttpListener> listener_;
  ListenAddress address_;
  std::atomic<bool> stopping_{false};

  std::unique_ptr<query::LiveRowSource> live_rows_;
  MetricsRegistry metrics_;
  struct Meters;
  std::unique_ptr<Meters> meters_;
};

}  // namespace pqflow::server
