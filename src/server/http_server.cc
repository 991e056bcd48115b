#include "server/http_server.h"

#include <httplib.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>

#include "duck/duck.h"
#include "ingest/ndjson_decoder.h"
#include "server/http_reply.h"
#include "server/http_settings.h"

namespace pqflow::server {

namespace {

using nlohmann::json;

bool IsLoopback(const std::string& host) { return host == "127.0.0.1" || host == "::1" || host == "localhost"; }

std::string IsoTimeMs(int64_t ms) {
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
  return buf;
}

}  // namespace

// Counters of the seed 004 sink plus request-level ones. The sink's own totals are mirrored
// into counters on every scrape (SyncSinkCounters), so that the TYPE stays `counter`.
struct HttpServer::Meters {
  Counter* batches_received;
  Counter* rejected_batches;
  Counter* decode_errors;
  Counter* bytes_received;
  std::map<std::string, Counter*> rows_written;  // by stream
  Counter* bytes_written;
  Counter* files_created;
  Counter* write_errors;
  Histogram* ingest_latency;
  std::map<int, Counter*> responses;  // by status
  std::mutex sync_mu;
  ingest::SinkStats last_synced;
};

HttpServer::HttpServer(const Config& config, ingest::IngestService* ingest, HttpServerOptions options)
    : config_(config),
      ingest_(ingest),
      options_(options),
      http_(std::make_unique<httplib::Server>()),
      listener_(std::make_unique<HttpListener>(*http_, config.server)) {}

HttpServer::~HttpServer() { Stop(); }

Result<std::unique_ptr<HttpServer>> HttpServer::Make(const Config& config, ingest::IngestService* ingest,
                                                     HttpServerOptions options) {
  std::unique_ptr<HttpServer> s(new HttpServer(config, ingest, options));
  PQ_ASSIGN_OR_RETURN(s->address_, ParseListenAddress(config.server.listen));
  std::vector<ApiKey> keys;
  for (const ApiKeyConfig& k : config.server.keys) {
    ApiKey key;
    key.name = k.name;
    auto hash = ParseKeyHash(k.hash);
    if (!hash.ok()) return hash.status().WithContext("server.keys '" + k.name + "'");
    key.sha256 = *hash;
    auto scopes = ParseScopes(k.scopes);
    if (!scopes.ok()) return scopes.status().WithContext("server.keys '" + k.name + "'");
    key.scopes = *scopes;
    key.workspaces = k.workspaces;
    key.projects = k.projects;
    keys.push_back(std::move(key));
  }
  if (keys.empty() && !options.allow_unauthenticated) {
    return Status::InvalidArgument(
        "no API keys are configured: run `pqflow keys new --name NAME --scopes ingest` and add the [[server.keys]] "
        "lines it prints to the config (or pass --allow-unauthenticated for a local trial)");
  }
  if (keys.empty() && !IsLoopback(s->address_.host)) {
    return Status::InvalidArgument("--allow-unauthenticated is refused on " + s->address_.host +
                                   ": only a loopback address may serve without API keys");
  }
  s->keys_ = std::make_unique<KeyStore>(std::move(keys));

  auto m = std::make_unique<Meters>();
  MetricsRegistry& r = s->metrics_;
  m->batches_received = &r.AddCounter("pqflow_batches_received_total", "Ingest batches received (any outcome)");
  m->rejected_batches = &r.AddCounter("pqflow_rejected_batches_total", "Batches refused whole (400/403/413/429)");
  m->decode_errors = &r.AddCounter("pqflow_decode_errors_total", "Invalid lines in rejected batches");
  m->bytes_received = &r.AddCounter("pqflow_bytes_received_total", "Request body bytes received (decoded)");
  for (const auto& [name, _] : config.streams) {
    // Seed 004 names these event_rows_written, log_rows_written and snapshot_rows_written.
    std::string seed_name = name == "events" ? "event" : name == "logs" ? "log" : name == "snapshots" ? "snapshot" : "";
    std::string metric = seed_name.empty() ? "pqflow_stream_rows_written_total" : "pqflow_" + seed_name + "_rows_written_total";
    Labels labels;
    if (seed_name.empty()) labels.emplace_back("stream", name);
    m->rows_written[name] = &r.AddCounter(metric, "Rows written to Parquet files", labels);
  }
  m->bytes_written = &r.AddCounter("pqflow_bytes_written_total", "Compressed Parquet bytes written");
  m->files_created = &r.AddCounter("pqflow_files_created_total", "Parquet files created");
  m->write_errors = &r.AddCounter("pqflow_write_errors_total", "Failed Parquet writes (rows kept and retried)");
  m->ingest_latency = &r.AddHistogram("pqflow_ingest_request_duration_seconds",
                                      "Time to answer an ingest request, durable write included",
                                      LatencySecondsBuckets());
  for (int status : {200, 400, 401, 403, 404, 413, 415, 429, 503}) {
    m->responses[status] = &r.AddCounter("pqflow_ingest_responses_total", "Ingest responses by HTTP status",
                                         {{"status", std::to_string(status)}});
  }
  ingest::IngestService* svc = ingest;
  r.AddCallbackGauge("pqflow_wal_bytes", "Bytes in the write-ahead log", [svc] { return double(svc->Stats().wal_bytes); });
  r.AddCallbackGauge("pqflow_buffered_rows", "Acknowledged rows not yet in Parquet",
                     [svc] { return double(svc->Stats().sink.buffered_rows); });
  r.AddCallbackGauge("pqflow_buffered_bytes", "Memory held by buffered rows",
                     [svc] { return double(svc->Stats().sink.buffered_bytes); });
  r.AddCallbackGauge("pqflow_wal_fsyncs", "fsyncs of the write-ahead log since start",
                     [svc] { return double(svc->Stats().wal_fsyncs); });
  s->meters_ = std::move(m);
  s->InstallRoutes();
  return s;
}

void HttpServer::SyncSinkCounters() {
  ingest::SinkStats now = ingest_->Stats().sink;
  std::lock_guard<std::mutex> lock(meters_->sync_mu);
  ingest::SinkStats& last = meters_->last_synced;
  for (const auto& [stream, rows] : now.rows_written) {
    auto it = meters_->rows_written.find(stream);
    if (it != meters_->rows_written.end()) it->second->Inc(rows - last.rows_written[stream]);
  }
  meters_->bytes_written->Inc(now.bytes_written - last.bytes_written);
  meters_->files_created->Inc(now.files_created - last.files_created);
  meters_->write_errors->Inc(now.write_errors - last.write_errors);
  last = now;
}

const ApiKey* HttpServer::Authenticate(const httplib::Request& req, httplib::Response& res, Scope scope) {
  static const ApiKey kOpen{"unauthenticated", {}, kAllScopes, {}, {}};
  if (keys_->keys().empty()) return &kOpen;
  auto key = keys_->Authenticate(req.get_header_value("Authorization"));
  if (!key.ok()) {
    res.set_header("WWW-Authenticate", "Bearer");
    SendError(res, 401, key.status().message());
    return nullptr;
  }
  if (!(*key)->Has(scope)) {
    SendError(res, 403, "API key '" + (*key)->name + "' lacks the " + std::string(ScopeName(scope)) + " scope");
    return nullptr;
  }
  return *key;
}

void HttpServer::InstallRoutes() {
  httplib::Server& http = *http_;

  http.Get("/health", [this](const httplib::Request&, httplib::Response& res) {
    ingest::IngestStats st = ingest_->Stats();
    const char* status = stopping_ ? "stopping" : !st.failure.empty() ? "failed" : "ok";
    json body = {{"status", status},
                 {"version", PQFLOW_VERSION},
                 {"duckdb_version", duck::LibraryVersion()},
                 {"wal_bytes", st.wal_bytes},
                 {"buffered_rows", st.sink.buffered_rows},
                 {"buffered_bytes", st.sink.buffered_bytes},
                 {"files_created", st.sink.files_created},
                 {"write_errors", st.sink.write_errors},
                 {"last_write", st.sink.last_write_ms > 0 ? json(IsoTimeMs(st.sink.last_write_ms)) : json(nullptr)}};
    if (!st.sink.last_error.empty()) body["last_error"] = st.sink.last_error;
    if (!st.failure.empty()) body["failure"] = st.failure;
    SendJson(res, std::string(status) == "ok" ? 200 : 503, body);
  });

  auto authenticate = [this](const httplib::Request& req, httplib::Response& res, Scope scope) {
    return Authenticate(req, res, scope);
  };

  http.Get("/metrics", [this, authenticate](const httplib::Request& req, httplib::Response& res) {
    if (authenticate(req, res, Scope::kAdmin) == nullptr) return;
    SyncSinkCounters();
    res.set_content(metrics_.RenderPrometheus(), std::string(kPrometheusContentType));
  });

  http.Post(R"(/v1/streams/([^/]+))", [this, authenticate](const httplib::Request& req, httplib::Response& res,
                                                          const httplib::ContentReader& read_body) {
    const auto started = std::chrono::steady_clock::now();
    Meters& m = *meters_;
    m.batches_received->Inc();
    auto finish = [&] {
      auto it = m.responses.find(res.status);
      if (it != m.responses.end()) it->second->Inc();
      if (res.status >= 400) {
        m.rejected_batches->Inc();
        // Whatever is left of the body is not read: do not reuse the connection.
        res.set_header("Connection", "close");
      }
      m.ingest_latency->Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    };
    const ApiKey* key = authenticate(req, res, Scope::kIngest);
    if (key == nullptr) return finish();
    const std::string stream_name = req.matches[1];
    auto stream = config_.FindStream(stream_name);
    if (!stream.ok()) {
      SendError(res, 404, stream.status().message());
      return finish();
    }
    const size_t limit = static_cast<size_t>(config_.server.max_body_size);
    std::string body;
    // Room for the whole body at once (it grew and was copied at each doubling), plus the
    // decoder's padding so that it parses the body where it is.
    const size_t length = std::strtoull(req.get_header_value("Content-Length").c_str(), nullptr, 10);
    if (length > 0 && length <= limit && !req.has_header("Content-Encoding")) {
      body.reserve(length + ingest::kDecodePadding);
    }
    bool too_large = false;
    const bool read = read_body([&](const char* data, size_t len) {
      if (body.size() + len > limit) {
        too_large = true;
        return false;
      }
      body.append(data, len);
      return true;
    });
    // httplib refuses a Content-Length over the limit before reading anything.
    if (!read && req.has_header("Content-Length") &&
        std::strtoull(req.get_header_value("Content-Length").c_str(), nullptr, 10) > limit) {
      too_large = true;
    }
    if (!read && !too_large) {
      SendError(res, 400, "could not read the request body (truncated, or not valid " +
                              (req.has_header("Content-Encoding") ? req.get_header_value("Content-Encoding") : "data") +
                              ")");
      return finish();
    }
    if (too_large) {
      SendError(res, 413, "the request body is over max_body_size (" + std::to_string(limit) +
                              " bytes after decoding); send smaller batches");
      return finish();
    }
    m.bytes_received->Inc(body.size());
    const size_t size = body.size();
    body.append(ingest::kDecodePadding, '\0');  // zeroed room, kept as capacity
    body.resize(size);
    ingest::IngestOutcome out = ingest_->Ingest(**stream, body, key->workspaces, body.capacity() - body.size());
    json reply;
    if (out.http_status == 200) {
      reply = {{"accepted", out.accepted}, {"stream", stream_name}};
    } else {
      reply["error"] = out.message;
      if (!out.errors.empty()) {
        json errors = json::array();
        for (const auto& e : out.errors) errors.push_back({{"line", e.line}, {"field", e.field}, {"reason", e.reason}});
        reply["errors"] = std::move(errors);
        if (out.errors_truncated) reply["errors_truncated"] = true;
        if (out.http_status == 400) m.decode_errors->Inc(out.errors.size());
      }
      if (out.http_status == 429) res.set_header("Retry-After", std::to_string(out.retry_after_seconds));
    }
    SendJson(res, out.http_status, reply);
    finish();
  });

  InstallQueryRoutes();

  http.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return;
    if (res.status == 413) {
      SendError(res, 413, "the request body is over max_body_size; send smaller batches");
    } else if (res.status == 404) {
      SendError(res, 404, "no such endpoint (POST /v1/streams/{stream}, POST /v1/query, GET /v1/reports/{name}, "
                         "POST /v1/aggregate, GET /health, GET /metrics)");
    } else {
      SendError(res, res.status, "the request could not be handled (HTTP " + std::to_string(res.status) + ")");
    }
  });
}

Status HttpServer::Bind() { return listener_->Bind(address_); }

int HttpServer::port() const { return listener_->port(); }

Status HttpServer::Run() {
  if (!http_->listen_after_bind() && !stopping_) return Status::IOError("the HTTP server stopped unexpectedly");
  return Status::OK();
}

void HttpServer::Stop() {
  stopping_ = true;
  if (http_) http_->stop();
}

}  // namespace pqflow::server
