#include "query/query_session.h"

#include <strings.h>

#include <cstdio>
#include <cstdlib>
#include <future>
#include <system_error>

#include "core/text.h"
#include "query/aggregation.h"
#include "query/query_guard.h"
#include "query/reports.h"

namespace pqflow::query {

namespace {

// A database for one query, locked down before any view exists, the storage its files come
// from (the caller's, or one opened for this query), and the files of the relations the
// query names, listed while DuckDB started.
struct Session {
  duck::Database db;
  duck::Connection conn;
  std::unique_ptr<storage::Storage> owned_storage;
  storage::Storage* storage = nullptr;
  PrefetchedListings prefetched;
};

Result<Session> OpenSession(const Config& config, const QueryOptions& options, const std::vector<std::string>& relations) {
  std::unique_ptr<storage::Storage> owned;
  storage::Storage* storage = options.storage;
  if (storage == nullptr) {
    PQ_ASSIGN_OR_RETURN(owned, storage::OpenStorage(config.storage));
    storage = owned.get();
  }
  // The files of the relations the query names are listed, and their manifests read, on a
  // thread of their own while DuckDB starts up here (~20 ms of one core). Not the server's
  // streams: they are listed at the instant their buffers are copied (catalog.h).
  PrefetchedListings prefetched;
  std::future<PrefetchedListings> prefetching;
  if (options.access.live == nullptr && !relations.empty() && storage->ReadsAreLocal()) {
    try {
      prefetching = std::async(std::launch::async, [&] { return PrefetchListings(config, *storage, relations); });
    } catch (const std::system_error&) {
      prefetched = PrefetchListings(config, *storage, relations);  // no thread to be had: listed here
    }
  }
  QueryLimits limits;
  limits.readable_directories = {storage->ReadableRoot()};
  limits.memory_limit = std::to_string(config.query.memory_limit) + "B";
  limits.threads = config.query.threads;
  auto open = [&]() -> Result<duck::Database> {
    duck::DatabaseOptions db_options;
    PQ_ASSIGN_OR_RETURN(db_options.settings, LockDownOpenSettings(limits));
    return duck::Database::Open(db_options);
  };
  Result<duck::Database> opened = open();
  if (prefetching.valid()) prefetched = prefetching.get();
  PQ_ASSIGN_OR_RETURN(duck::Database db, std::move(opened));
  PQ_ASSIGN_OR_RETURN(duck::Connection conn, duck::Connection::Make(db));
  PQ_RETURN_IF_ERROR(LockDownDatabase(conn, limits, /*open_settings_applied=*/true));
  return Session{std::move(db), std::move(conn), std::move(owned), storage, std::move(prefetched)};
}

std::string ExplainText(duck::Connection& conn, const std::string& sql, const std::vector<RelationScan>& scans) {
  std::string out;
  for (const auto& s : scans) {
    out += s.relation + ": " + std::to_string(s.files_selected) + " of " + std::to_string(s.files_total) + " files, " +
           HumanBytes(static_cast<int64_t>(s.bytes_selected)) + " of " + HumanBytes(static_cast<int64_t>(s.bytes_total)) +
           (s.partition_filter.empty() ? " (no partition filter)" : " (partition filter: " + s.partition_filter + ")") +
           "\n";
    if (!s.split.empty()) {
      out += "  read from split " + s.split + " for " + std::to_string(s.split_partitions) + " of " +
             std::to_string(s.partitions_selected) + " partitions (the rows its pinned values select)\n";
    }
    if (s.declared_schema) out += "  the manifests show every selected file has the declared columns\n";
    if (s.files_fetched > 0) {
      out += "  fetched " + std::to_string(s.files_fetched) + " of them (" +
             HumanBytes(static_cast<int64_t>(s.bytes_fetched)) + ") into the local cache\n";
    }
  }
  auto plan = conn.Query("EXPLAIN " + sql);
  if (plan.ok()) {
    for (const auto& row : plan->rows()) {
      if (row.size() > 1 && row[1]) out += "\n" + *row[1] + "\n";
    }
  }
  return out;
}

// The database stays open until the process ends: see QueryOptions::leave_database_open.
void LeaveOpen(Session& session) {
  struct Open {
    duck::Database db;
    duck::Connection conn;
  };
  static auto* left_open = new std::vector<Open>;  // never freed, on purpose
  left_open->push_back({std::move(session.db), std::move(session.conn)});
}

Result<QueryOutcome> RunInSession(Session& session, const Config& config, const std::string& sql,
                                  const QueryOptions& options) {
  PQ_ASSIGN_OR_RETURN(ParsedQuery parsed, ParseQuery(session.conn, sql));
  PQ_ASSIGN_OR_RETURN(std::vector<std::string> used, CheckReadOnlyQuery(parsed, RelationNames(config)));
  QueryOutcome outcome;
  PQ_ASSIGN_OR_RETURN(outcome.scans, CreateViews(session.conn, config, *session.storage, parsed, used, options.access,
                                                 &session.prefetched));
  // The selected files stay pinned in the read cache while the query runs, and not after:
  // the cache may belong to this session's storage, which goes before the outcome does.
  auto unpinned = [](QueryOutcome out) {
    for (auto& s : out.scans) s.pin.reset();
    return out;
  };
  const auto timeout = std::chrono::seconds(config.query.timeout_seconds);
  PQ_ASSIGN_OR_RETURN(QueryDeadline deadline, QueryDeadline::Start(session.conn, timeout));
  if (options.explain) {
    outcome.text = ExplainText(session.conn, sql, outcome.scans);
    return unpinned(std::move(outcome));
  }
  auto text = RunQuery(session.conn, sql, options.format);
  PQ_RETURN_IF_ERROR(deadline.Explain(text.status()));
  outcome.text = std::move(*text);
  return unpinned(std::move(outcome));
}

// The relation's name as configured, or NotFound listing the configured ones.
Result<std::string> FindRelation(const Config& config, const std::string& name) {
  std::string known;
  for (const auto& r : RelationNames(config)) {
    if (strcasecmp(r.c_str(), name.c_str()) == 0) return r;
    known += (known.empty() ? "" : ", ") + r;
  }
  return Status::NotFound("unknown dataset '" + name + "' (configured: " + known + ")");
}

}  // namespace

void ExitWithoutTeardown(int code) {
  std::fflush(nullptr);
  std::_Exit(code);
}

Result<QueryOutcome> RunUserQuery(const Config& config, const std::string& sql, const QueryOptions& options) {
  PQ_ASSIGN_OR_RETURN(Session session, OpenSession(config, options, RelationsNamedIn(config, sql)));
  auto outcome = RunInSession(session, config, sql, options);
  if (options.leave_database_open) LeaveOpen(session);
  return outcome;
}

Result<QueryOutcome> RunAggregation(const Config& config, std::string_view spec_json, const QueryOptions& options) {
  PQ_ASSIGN_OR_RETURN(AggregationSpec spec, ParseAggregationSpec(spec_json));
  PQ_ASSIGN_OR_RETURN(std::string relation, FindRelation(config, spec.dataset));
  PQ_ASSIGN_OR_RETURN(Session session, OpenSession(config, options, {relation}));
  // The columns the relation's view has, so that a spec is checked against what queries see;
  // from the declaration, so that no file is listed, read or (S3) fetched for it.
  std::vector<RelationColumn> columns;
  for (const auto& rel : ListRelations(config)) {
    if (rel.name != relation) continue;
    PQ_ASSIGN_OR_RETURN(auto typed, RelationColumnTypes(session.conn, rel));
    for (auto& [name, type] : typed) columns.push_back({std::move(name), std::move(type)});
  }
  PQ_ASSIGN_OR_RETURN(CompiledAggregation compiled, CompileAggregation(spec, columns));
  auto outcome = RunInSession(session, config, compiled.sql, options);
  if (options.leave_database_open) LeaveOpen(session);
  return outcome;
}

Result<std::string> ReportQuerySql(const Config& config, const std::string& report,
                                   std::map<std::string, std::string> arguments) {
  PQ_RETURN_IF_ERROR(ReportSql(report, arguments).status());  // the parameters first
  for (const auto& r : Reports()) {
    if (r.name != report) continue;
    auto& ds = arguments["dataset"];
    PQ_ASSIGN_OR_RETURN(ds, FindRelation(config, ds.empty() ? r.dataset : ds));
  }
  return ReportSql(report, arguments);
}

}  // namespace pqflow::query
