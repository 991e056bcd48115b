// The query API of pqflow serve (key scope `query`):
//   POST /v1/query            {"sql": "SELECT ..."} (or the SQL as a text/plain body)
//   GET  /v1/reports/{name}   parameters in the query string: ?project=docs&since=2026-01-01
//   POST /v1/aggregate        an aggregation spec (docs/user-guide.md, pqflow aggregate)
// Results are a JSON array of objects by default; ?format=csv|ndjson|json (or Accept:
// text/csv) chooses. X-Pqflow-Files-Read and X-Pqflow-Bytes-Read say what partition
// pruning left to read. A key restricted to workspaces sees only their rows. Streams include
// the rows acknowledged but not yet written to Parquet (X-Pqflow-Live-Rows).
#include <algorithm>
#include <semaphore>
#include <thread>

#include <nlohmann/json.hpp>

#include "query/query_session.h"
#include "query/reports.h"
#include "server/http_reply.h"
#include "server/http_server.h"
#include "server/live_rows.h"

namespace pqflow::server {

namespace {

using nlohmann::json;

int HttpStatusFor(const Status& s) {
  switch (s.code()) {
    case StatusCode::kInvalidArgument: return 400;
    case StatusCode::kPermissionDenied: return 403;
    case StatusCode::kNotFound: return 404;
    case StatusCode::kFailedPrecondition: return 422;  // over the query's memory limit
    default: return 500;
  }
}

// The format a request asks for; nullopt (after answering 400) for an unknown one.
std::optional<query::OutputFormat> RequestedFormat(const httplib::Request& req, httplib::Response& res,
                                                   const std::string& body_format) {
  std::string f = req.has_param("format") ? req.get_param_value("format") : body_format;
  if (f.empty() && req.get_header_value("Accept").find("text/csv") != std::string::npos) f = "csv";
  if (f.empty() || f == "json") return query::OutputFormat::kJson;
  if (f == "csv") return query::OutputFormat::kCsv;
  if (f == "ndjson") return query::OutputFormat::kNdjson;
  SendError(res, 400, "unknown format '" + f + "' (expected json, csv or ndjson)");
  return std::nullopt;
}

// At most this many queries run at once (each may use every core and [query] memory_limit);
// more are refused with 429 rather than queued behind each other.
std::counting_semaphore<>& Slots() {
  static std::counting_semaphore<> slots(std::max(2, 2 * static_cast<int>(std::thread::hardware_concurrency())));
  return slots;
}

// Runs `run` in a query slot, or answers 429.
template <typename Run>
void WithQuerySlot(httplib::Response& res, Run run) {
  if (!Slots().try_acquire()) {
    res.set_header("Retry-After", "1");
    SendError(res, 429, "too many queries running; retry in a second");
    return;
  }
  run();
  Slots().release();
}

void SendOutcome(httplib::Response& res, const Result<query::QueryOutcome>& outcome, query::OutputFormat format) {
  if (!outcome.ok()) {
    SendError(res, HttpStatusFor(outcome.status()), outcome.status().message());
    return;
  }
  size_t files = 0, total = 0;
  uint64_t bytes = 0, live = 0, fetched = 0;
  for (const auto& s : outcome->scans) {
    live += s.live_rows;
    fetched += s.bytes_fetched;
    files += s.files_selected;
    total += s.files_total;
    bytes += s.bytes_selected;
  }
  res.set_header("X-Pqflow-Files-Read", std::to_string(files) + " of " + std::to_string(total));
  res.set_header("X-Pqflow-Bytes-Read", std::to_string(bytes));
  res.set_header("X-Pqflow-Live-Rows", std::to_string(live));
  res.set_header("X-Pqflow-Bytes-Fetched", std::to_string(fetched));
  res.status = 200;
  const char* type = format == query::OutputFormat::kCsv      ? "text/csv"
                     : format == query::OutputFormat::kNdjson ? "application/x-ndjson"
                                                              : "application/json";
  res.set_content(outcome->text, type);
}

}  // namespace

query::QueryOptions HttpServer::OptionsFor(const ApiKey& key, query::OutputFormat format) const {
  query::QueryOptions options;
  options.format = format;
  options.access.workspaces = key.workspaces;
  options.access.projects = key.projects;
  options.access.live = live_rows_.get();
  options.storage = options_.storage;
  return options;
}

void HttpServer::InstallQueryRoutes() {
  httplib::Server& http = *http_;
  live_rows_ = std::make_unique<SinkLiveRows>(config_, ingest_->sink());

  http.Post("/v1/query", [this](const httplib::Request& req, httplib::Response& res) {
    const ApiKey* key = Authenticate(req, res, Scope::kQuery);
    if (key == nullptr) return;
    std::string sql = req.body;
    std::string body_format;
    if (req.get_header_value("Content-Type").find("json") != std::string::npos) {
      json body = json::parse(req.body, nullptr, false);
      if (!body.is_object() || !body.contains("sql") || !body["sql"].is_string()) {
        return SendError(res, 400, "expected a JSON object {\"sql\": \"SELECT ...\"}");
      }
      sql = body["sql"].get<std::string>();
      if (body.contains("format") && body["format"].is_string()) body_format = body["format"].get<std::string>();
    }
    auto format = RequestedFormat(req, res, body_format);
    if (!format) return;
    if (sql.find_first_not_of(" \t\r\n;") == std::string::npos) return SendError(res, 400, "the query is empty");
    WithQuerySlot(res, [&] { SendOutcome(res, query::RunUserQuery(config_, sql, OptionsFor(*key, *format)), *format); });
  });

  http.Get(R"(/v1/reports/([^/]+))", [this](const httplib::Request& req, httplib::Response& res) {
    const ApiKey* key = Authenticate(req, res, Scope::kQuery);
    if (key == nullptr) return;
    std::map<std::string, std::string> arguments;
    for (const auto& [name, value] : req.params) {
      if (name != "format") arguments[name] = value;
    }
    auto format = RequestedFormat(req, res, "");
    if (!format) return;
    auto sql = query::ReportQuerySql(config_, req.matches[1], arguments);
    if (!sql.ok()) return SendError(res, HttpStatusFor(sql.status()), sql.status().message());
    WithQuerySlot(res, [&] { SendOutcome(res, query::RunUserQuery(config_, *sql, OptionsFor(*key, *format)), *format); });
  });

  http.Get("/v1/reports", [this](const httplib::Request& req, httplib::Response& res) {
    if (Authenticate(req, res, Scope::kQuery) == nullptr) return;
    json list = json::array();
    for (const auto& r : query::Reports()) {
      json params = json::array();
      for (const auto& p : r.parameters) {
        params.push_back({{"name", p.name}, {"required", p.required}, {"default", p.default_value}, {"help", p.help}});
      }
      list.push_back({{"name", r.name}, {"description", r.description}, {"dataset", r.dataset}, {"parameters", params}});
    }
    SendJson(res, 200, list);
  });

  http.Post("/v1/aggregate", [this](const httplib::Request& req, httplib::Response& res) {
    const ApiKey* key = Authenticate(req, res, Scope::kQuery);
    if (key == nullptr) return;
    auto format = RequestedFormat(req, res, "");
    if (!format) return;
    WithQuerySlot(res,
                  [&] { SendOutcome(res, query::RunAggregation(config_, req.body, OptionsFor(*key, *format)), *format); });
  });
}

}  // namespace pqflow::server
