#include "query/query_guard.h"

#include <algorithm>
#include <cctype>
#include <system_error>
#include <utility>

#include <nlohmann/json.hpp>

#include "core/text.h"

namespace pqflow::query {

namespace {

using Json = nlohmann::json;

// Table functions that produce values from their arguments and touch nothing else.
constexpr const char* kAllowedTableFunctions[] = {"range", "generate_series", "unnest"};
// Scalar functions refused although harmless to the files: current_setting shows the
// server's paths and limits, write_log writes to DuckDB's log.
constexpr const char* kDeniedScalarFunctions[] = {"current_setting", "write_log"};
// How often an expired deadline interrupts again (see QueryDeadline).
constexpr std::chrono::milliseconds kReinterruptInterval{50};

std::string StringField(const Json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

bool Contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

template <size_t N>
bool Contains(const char* const (&names)[N], const std::string& name) {
  return std::any_of(std::begin(names), std::end(names), [&](const char* n) { return name == n; });
}

// Walks json_serialize_sql's tree of one SELECT statement. Query nodes are the objects with
// a "cte_map"; table references are the objects with "type", "alias" and "sample" but no
// "class" (expressions have a "class"). Every member of every object is visited, so a
// subquery is found wherever DuckDB puts it (WHERE, ORDER BY, QUALIFY, function arguments).
class ReadOnlyChecker {
 public:
  explicit ReadOnlyChecker(const std::vector<std::string>& relations) : relations_(relations) {
    for (const auto& r : relations) lowered_.push_back(AsciiLower(r));
  }

  Status Check(const Json& statement) {
    auto node = statement.find("node");
    if (node == statement.end() || !node->is_object() || !node->contains("cte_map")) {
      return Status::InvalidArgument("only a single SELECT query is allowed");
    }
    return Walk(*node, {});
  }

  std::vector<std::string> used() && { return std::move(used_); }

 private:
  // Lower-cased names of the CTEs a table reference may mean at this point of the tree.
  using Scope = std::vector<std::string>;

  Status Walk(const Json& value, const Scope& scope) {
    if (value.is_array()) {
      for (const auto& element : value) PQ_RETURN_IF_ERROR(Walk(element, scope));
      return Status::OK();
    }
    if (!value.is_object()) return Status::OK();
    if (value.contains("cte_map")) return WalkQueryNode(value, scope);
    if (IsTableRef(value)) return WalkTableRef(value, scope);
    if (StringField(value, "class") == "FUNCTION") {
      std::string name = AsciiLower(StringField(value, "function_name"));
      if (Contains(kDeniedScalarFunctions, name)) return Refuse("function " + name);
    }
    return WalkMembers(value, scope, {});
  }

  Status WalkMembers(const Json& object, const Scope& scope, std::initializer_list<const char*> skip) {
    for (auto it = object.begin(); it != object.end(); ++it) {
      if (std::any_of(skip.begin(), skip.end(), [&](const char* k) { return it.key() == k; })) continue;
      PQ_RETURN_IF_ERROR(Walk(it.value(), scope));
    }
    return Status::OK();
  }

  // A CTE's body sees the CTEs defined before it, not itself or later ones: in
  // `WITH pg_class AS (SELECT * FROM pg_class)` the inner pg_class is DuckDB's catalog view.
  // The rest of the node sees all of them. DuckDB copies the CTE map into nested nodes
  // (CTE_NODE children); a copy may be walked with a wider scope, but the outermost copy is
  // always walked with the right one, and one refusal refuses the query.
  Status WalkQueryNode(const Json& node, const Scope& scope) {
    Scope inner = scope;
    Scope before_cte_node = scope;  // for a CTE_NODE: the scope of its own CTE's body
    const std::string type = StringField(node, "type");
    const std::string cte_name = AsciiLower(StringField(node, "cte_name"));
    bool seen_own = false;
    const Json* map = nullptr;
    if (auto it = node.find("cte_map"); it != node.end() && it->is_object() && it->contains("map")) {
      map = &(*it)["map"];
    }
    if (map != nullptr && map->is_array()) {
      for (const auto& entry : *map) {
        std::string name = AsciiLower(StringField(entry, "key"));
        if (entry.contains("value")) PQ_RETURN_IF_ERROR(Walk(entry["value"], inner));
        if (name == cte_name) seen_own = true;
        if (!seen_own) before_cte_node.push_back(name);
        inner.push_back(std::move(name));
      }
    }
    if (type == "CTE_NODE") {
      if (!seen_own) before_cte_node = scope;
      if (node.contains("query")) PQ_RETURN_IF_ERROR(Walk(node["query"], before_cte_node));
      if (node.contains("child")) PQ_RETURN_IF_ERROR(Walk(node["child"], inner));
      return WalkMembers(node, inner, {"cte_map", "query", "child"});
    }
    if (type == "RECURSIVE_CTE_NODE") {
      // Only the recursive side may name the CTE itself.
      Scope recursive = inner;
      recursive.push_back(cte_name);
      if (node.contains("left")) PQ_RETURN_IF_ERROR(Walk(node["left"], inner));
      if (node.contains("right")) PQ_RETURN_IF_ERROR(Walk(node["right"], recursive));
      return WalkMembers(node, inner, {"cte_map", "left", "right"});
    }
    return WalkMembers(node, inner, {"cte_map"});
  }

  static bool IsTableRef(const Json& object) {
    return object.contains("type") && object.contains("alias") && object.contains("sample") &&
           !object.contains("class");
  }

  Status WalkTableRef(const Json& ref, const Scope& scope) {
    const std::string type = StringField(ref, "type");
    if (type == "BASE_TABLE") {
      PQ_RETURN_IF_ERROR(CheckBaseTable(ref, scope));
    } else if (type == "TABLE_FUNCTION") {
      PQ_RETURN_IF_ERROR(CheckTableFunction(ref));
    } else if (type == "SHOW_REF") {
      // DESCRIBE / SUMMARIZE of a query are fine (the query is walked); SHOW TABLES and the
      // like name a catalog listing instead.
      if (!StringField(ref, "table_name").empty() || !ref.contains("query") || ref["query"].is_null()) {
        return Refuse("SHOW " + StringField(ref, "table_name"));
      }
    } else if (type != "SUBQUERY" && type != "JOIN" && type != "EXPRESSION_LIST" && type != "EMPTY" &&
               type != "PIVOT") {
      return Refuse("table reference of type " + type);
    }
    return WalkMembers(ref, scope, {});
  }

  Status CheckBaseTable(const Json& ref, const Scope& scope) {
    const std::string table = StringField(ref, "table_name");
    const std::string schema = StringField(ref, "schema_name");
    const std::string catalog = StringField(ref, "catalog_name");
    if (!schema.empty() || !catalog.empty()) {
      std::string qualified = (catalog.empty() ? "" : catalog + ".") + (schema.empty() ? "" : schema + ".") + table;
      return Refuse("qualified name " + qualified);
    }
    const std::string lowered = AsciiLower(table);
    if (Contains(scope, lowered)) return Status::OK();
    for (size_t i = 0; i < lowered_.size(); ++i) {
      if (lowered_[i] != lowered) continue;
      if (!Contains(used_, relations_[i])) used_.push_back(relations_[i]);
      return Status::OK();
    }
    return Refuse("table " + table);
  }

  Status CheckTableFunction(const Json& ref) {
    auto fn = ref.find("function");
    if (fn == ref.end() || !fn->is_object() || StringField(*fn, "class") != "FUNCTION") {
      return Refuse("table function expression");
    }
    const std::string name = StringField(*fn, "function_name");
    const bool qualified = !StringField(*fn, "schema").empty() || !StringField(*fn, "catalog").empty();
    if (qualified || !Contains(kAllowedTableFunctions, AsciiLower(name))) return Refuse("table function " + name);
    return Status::OK();
  }

  Status Refuse(const std::string& what) const {
    std::string views;
    for (const auto& r : relations_) views += (views.empty() ? "" : ", ") + r;
    return Status::InvalidArgument(what + " is not allowed: queries read the dataset views (" +
                                   (views.empty() ? "none" : views) + ")");
  }

  const std::vector<std::string>& relations_;
  std::vector<std::string> lowered_;
  std::vector<std::string> used_;
};

Status Set(duck::Connection& conn, const std::string& statement) {
  Status s = conn.Execute(statement);
  return s.ok() ? s : s.WithContext("locking down DuckDB: " + statement);
}

Result<std::string> CurrentSetting(duck::Connection& conn, const std::string& name) {
  PQ_ASSIGN_OR_RETURN(auto r, conn.Query("SELECT current_setting(" + duck::QuoteLiteral(name) + ")::VARCHAR"));
  if (r.row_count() != 1 || r.column_count() != 1) return Status::Internal("cannot read setting " + name);
  return r.GetOr(0, 0, "");
}

Result<std::string> AllowedDirectoriesList(const std::vector<std::string>& dirs) {
  std::string list;
  for (std::string dir : dirs) {
    if (dir.empty() || dir.find_first_not_of('/') == std::string::npos) {
      return Status::InvalidArgument("readable directory '" + dir + "' would make every file readable");
    }
    if (dir.back() != '/') dir += '/';
    list += (list.empty() ? "" : ", ") + duck::QuoteLiteral(dir);
  }
  return "[" + list + "]";
}

// A database another connection already locked down cannot be changed, and need not be.
Status AlreadyLockedDown(duck::Connection& conn) {
  PQ_ASSIGN_OR_RETURN(std::string locked, CurrentSetting(conn, "lock_configuration"));
  if (locked != "true") return Status::FailedPrecondition("DuckDB configuration is not locked");
  PQ_ASSIGN_OR_RETURN(std::string external, CurrentSetting(conn, "enable_external_access"));
  if (external != "false") return Status::FailedPrecondition("DuckDB configuration is locked with external access on");
  return Status::OK();
}

}  // namespace

// ---- layer 1 ---------------------------------------------------------------------------

Result<std::vector<std::pair<std::string, std::string>>> LockDownOpenSettings(const QueryLimits& limits) {
  if (limits.threads < 0) return Status::InvalidArgument("threads must not be negative");
  std::vector<std::pair<std::string, std::string>> settings = {
      {"autoinstall_known_extensions", "false"},
      {"autoload_known_extensions", "false"},
      {"allow_community_extensions", "false"},
  };
  if (!limits.memory_limit.empty()) settings.emplace_back("memory_limit", limits.memory_limit);
  if (limits.threads > 0) settings.emplace_back("threads", std::to_string(limits.threads));
  if (limits.max_temp_directory_size.empty()) {
    settings.emplace_back("temp_directory", "");
  } else {
    settings.emplace_back("max_temp_directory_size", limits.max_temp_directory_size);
  }
  return settings;
}

Status LockDownDatabase(duck::Connection& conn, const QueryLimits& limits, bool open_settings_applied) {
  PQ_ASSIGN_OR_RETURN(auto open_settings, LockDownOpenSettings(limits));
  PQ_ASSIGN_OR_RETURN(std::string dirs, AllowedDirectoriesList(limits.readable_directories));
  // allowed_directories and temp_directory can only be set while external access is on, and
  // nothing can be set once the configuration is locked: the order matters.
  std::vector<std::string> statements = {
      "SET TimeZone = 'UTC'",
      // A query binds its views' files more than once (the view, then the query): read each
      // footer once. The cache lives as long as this database, which serves one query.
      "SET parquet_metadata_cache = true",
  };
  if (!open_settings_applied) {
    for (const auto& [name, value] : open_settings) {
      statements.push_back("SET " + name + " = " + duck::QuoteLiteral(value));
    }
  }
  // DuckDB takes a list setting only as SQL (duckdb_set_config refuses it), and only while
  // external access is on.
  statements.push_back("SET allowed_directories = " + dirs);
  statements.push_back("SET enable_external_access = false");
  statements.push_back("SET lock_configuration = true");
  // One round trip: each statement on its own costs a parse and a transaction.
  std::string batch;
  for (const auto& statement : statements) batch += statement + ";\n";
  Status set = Set(conn, batch);
  if (!set.ok() && AlreadyLockedDown(conn).ok()) return Status::OK();
  return set;
}

// ---- layer 2 ---------------------------------------------------------------------------

Result<std::vector<std::string>> CheckReadOnlyQuery(duck::Connection& conn, std::string_view sql,
                                                    const std::vector<std::string>& relations) {
  PQ_ASSIGN_OR_RETURN(ParsedQuery parsed, ParseQuery(conn, sql));
  return CheckReadOnlyQuery(parsed, relations);
}

Result<std::vector<std::string>> CheckReadOnlyQuery(const ParsedQuery& query,
                                                    const std::vector<std::string>& relations) {
  const Json& parsed = query.tree;
  auto error = parsed.find("error");
  if (error == parsed.end() || !error->is_boolean() || error->get<bool>()) {
    // DuckDB's json_serialize_sql answers every statement other than a SELECT with the
    // error_type "not implemented" (its wording): that is our refusal of non-SELECTs.
    if (StringField(parsed, "error_type") == "not implemented") {
      return Status::InvalidArgument("only a single SELECT query is allowed");
    }
    std::string message = StringField(parsed, "error_message");
    return Status::InvalidArgument(message.empty() ? "DuckDB cannot parse the query" : message);
  }
  auto found = parsed.find("statements");
  if (found == parsed.end() || !found->is_array() || found->empty()) {
    return Status::InvalidArgument("the query is empty");
  }
  const Json& statements = *found;
  if (statements.size() > 1) {
    return Status::InvalidArgument("only a single SELECT query is allowed; this holds " +
                                   std::to_string(statements.size()) + " statements");
  }
  ReadOnlyChecker checker(relations);
  PQ_RETURN_IF_ERROR(checker.Check(statements[0]));
  return std::move(checker).used();
}

// ---- layer 3 ---------------------------------------------------------------------------

Result<QueryDeadline> QueryDeadline::Start(duck::Connection& conn, std::chrono::milliseconds timeout) {
  QueryDeadline deadline(std::make_unique<Timer>(), timeout);
  try {
    deadline.thread_ = std::thread(&QueryDeadline::Run, deadline.timer_.get(), &conn, timeout);
  } catch (const std::system_error& e) {
    return Status::Internal(std::string("cannot start the query timer: ") + e.what());
  }
  return deadline;
}

void QueryDeadline::Run(Timer* timer, duck::Connection* conn, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(timer->mu);
  if (timer->cv.wait_for(lock, timeout, [&] { return timer->cancelled; })) return;
  timer->fired = true;  // before the interrupt, so that the failing query sees it
  do {
    conn->Interrupt();
  } while (!timer->cv.wait_for(lock, kReinterruptInterval, [&] { return timer->cancelled; }));
}

QueryDeadline::~QueryDeadline() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(timer_->mu);
    timer_->cancelled = true;
  }
  timer_->cv.notify_all();
  thread_.join();
}

bool QueryDeadline::expired() const { return timer_ != nullptr && timer_->fired; }

Status QueryDeadline::Explain(Status query_status) const {
  if (query_status.ok() || !expired()) return query_status;
  return Status::InvalidArgument("query exceeded the time limit of " + FormatTimeLimit(timeout_));
}

std::string FormatTimeLimit(std::chrono::milliseconds timeout) {
  auto ms = timeout.count();
  return ms % 1000 == 0 ? std::to_string(ms / 1000) + " s" : std::to_string(ms) + " ms";
}

// ---- all together ----------------------------------------------------------------------

Result<GuardedResult> RunReadOnlyQuery(duck::Connection& conn, std::string_view sql,
                                       const std::vector<std::string>& relations, std::chrono::milliseconds timeout) {
  GuardedResult out;
  PQ_ASSIGN_OR_RETURN(out.relations, CheckReadOnlyQuery(conn, sql, relations));
  PQ_ASSIGN_OR_RETURN(QueryDeadline deadline, QueryDeadline::Start(conn, timeout));
  auto result = conn.Query(std::string(sql));
  if (!result.ok()) return deadline.Explain(result.status());
  out.result = std::move(result).value();
  return out;
}

}  // namespace pqflow::query
