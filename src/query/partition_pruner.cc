#include "query/partition_pruner.h"

#include <algorithm>
#include <cctype>
#include <iterator>
#include <optional>
#include <set>

#include <nlohmann/json.hpp>

#include "core/text.h"

namespace pqflow::query {

namespace {

using json = nlohmann::json;

// A string member of a parse-tree node, or "" (members such as "type" are objects in some nodes).
std::string Str(const json& node, const char* key) {
  if (!node.is_object()) return "";
  auto it = node.find(key);
  return it != node.end() && it->is_string() ? it->get<std::string>() : "";
}

bool IsClass(const json& node, const char* cls) {
  return node.is_object() && node.contains("class") && node["class"] == cls;
}

// Functions whose value differs between two evaluations: a conjunct using one cannot be
// evaluated once per file and again per row with the same outcome.
bool IsVolatileFunction(const std::string& name) {
  static const std::set<std::string> kVolatile = {"random", "uuid", "gen_random_uuid", "uuidv4", "uuidv7",
                                                  "nextval", "currval", "setseed"};
  return kVolatile.count(AsciiLower(name)) > 0;
}

// Expression classes a pruning conjunct may contain.
bool IsPlainExpression(const json& node) {
  if (!node.is_object() || !node.contains("class")) return true;
  static const std::set<std::string> kAllowed = {"COLUMN_REF", "CONSTANT", "CAST",     "COMPARISON", "CONJUNCTION",
                                                 "BETWEEN",    "OPERATOR", "FUNCTION", "CASE"};
  const std::string cls = node["class"].get<std::string>();
  if (kAllowed.count(cls) == 0) return false;
  if (cls == "FUNCTION" && IsVolatileFunction(Str(node, "function_name"))) return false;
  if (cls == "FUNCTION" && node.contains("filter") && !node["filter"].is_null()) return false;
  for (const auto& [key, child] : node.items()) {
    if (child.is_object() && child.contains("class") && !IsPlainExpression(child)) return false;
    if (child.is_array()) {
      for (const auto& c : child) {
        if (!IsPlainExpression(c)) return false;
      }
    }
  }
  return true;
}

void CollectColumnRefs(json& node, std::vector<json*>& out) {
  if (IsClass(node, "COLUMN_REF")) {
    out.push_back(&node);
    return;
  }
  if (node.is_object() || node.is_array()) {
    for (auto& child : node) CollectColumnRefs(child, out);
  }
}

bool HasColumnRefs(json node) {
  std::vector<json*> refs;
  CollectColumnRefs(node, refs);
  return !refs.empty();
}

// A base-table reference in a FROM clause, and whether the WHERE may prune it.
struct TableRef {
  std::string table;      // lowercase
  std::string qualifier;  // lowercase alias, or the table name
  bool prunable = false;
};

// Walks a FROM clause. Only inner joins keep both sides prunable; a LEFT join keeps its
// left side, a RIGHT join its right; anything else (full, positional, asof, lateral, a
// subquery or table function) contributes rows the WHERE cannot be reasoned about from here.
void CollectTableRefs(const json& from, bool prunable, std::vector<TableRef>& refs, bool* has_other_source) {
  if (!from.is_object()) return;
  const std::string type = Str(from, "type");
  if (type == "BASE_TABLE") {
    const bool qualified = !Str(from, "schema_name").empty() || !Str(from, "catalog_name").empty();
    TableRef ref;
    ref.table = AsciiLower(Str(from, "table_name"));
    const std::string alias = Str(from, "alias");
    ref.qualifier = alias.empty() ? ref.table : AsciiLower(alias);
    ref.prunable = prunable && !qualified && from.value("column_name_alias", json::array()).empty() &&
                   (!from.contains("sample") || from["sample"].is_null()) &&
                   (!from.contains("at_clause") || from["at_clause"].is_null());
    refs.push_back(ref);
    return;
  }
  if (type == "JOIN") {
    const std::string join = Str(from, "join_type");
    const std::string ref_type = Str(from, "ref_type").empty() ? "REGULAR" : Str(from, "ref_type");
    const bool plain = ref_type == "REGULAR" || ref_type == "CROSS";
    const bool left_ok = plain && (join == "INNER" || join == "LEFT" || join == "SEMI" || join == "ANTI");
    const bool right_ok = plain && (join == "INNER" || join == "RIGHT");
    CollectTableRefs(from["left"], prunable && left_ok, refs, has_other_source);
    CollectTableRefs(from["right"], prunable && right_ok, refs, has_other_source);
    return;
  }
  if (type != "EMPTY") *has_other_source = true;
}

void FlattenAnd(const json& node, std::vector<json>& out) {
  if (IsClass(node, "CONJUNCTION") && Str(node, "type") == "CONJUNCTION_AND") {
    for (const auto& child : node["children"]) FlattenAnd(child, out);
    return;
  }
  if (!node.is_null()) out.push_back(node);
}

json ColumnRef(const std::string& name) {
  return json{{"class", "COLUMN_REF"}, {"type", "COLUMN_REF"}, {"alias", ""}, {"column_names", json::array({name})}};
}

json Compare(const char* type, const std::string& column, const json& constant) {
  return json{{"class", "COMPARISON"}, {"type", type}, {"alias", ""}, {"left", ColumnRef(column)}, {"right", constant}};
}

json And(std::vector<json> children) {
  if (children.size() == 1) return children[0];
  return json{{"class", "CONJUNCTION"}, {"type", "CONJUNCTION_AND"}, {"alias", ""}, {"children", std::move(children)}};
}

// `col OP k` (or `k OP col`, mirrored) for a column whose file values lie in [__lo, __hi):
// the condition under which some value of the file can satisfy it. Null when none is
// derivable (!=, functions of the column): that conjunct then prunes nothing.
json RangeCondition(const json& conjunct, const std::string& column_ref_name) {
  auto is_col = [&](const json& n) {
    return IsClass(n, "COLUMN_REF") && AsciiLower(n["column_names"].back().get<std::string>()) == column_ref_name;
  };
  if (IsClass(conjunct, "BETWEEN")) {
    if (!is_col(conjunct["input"]) || HasColumnRefs(conjunct["lower"]) || HasColumnRefs(conjunct["upper"])) {
      return nullptr;
    }
    return And({Compare("COMPARE_GREATERTHAN", "__hi", conjunct["lower"]),
                Compare("COMPARE_LESSTHANOREQUALTO", "__lo", conjunct["upper"])});
  }
  if (!IsClass(conjunct, "COMPARISON")) return nullptr;
  std::string type = Str(conjunct, "type");
  json constant;
  if (is_col(conjunct["left"]) && !HasColumnRefs(conjunct["right"])) {
    constant = conjunct["right"];
  } else if (is_col(conjunct["right"]) && !HasColumnRefs(conjunct["left"])) {
    constant = conjunct["left"];
    if (type == "COMPARE_LESSTHAN") type = "COMPARE_GREATERTHAN";
    else if (type == "COMPARE_GREATERTHAN") type = "COMPARE_LESSTHAN";
    else if (type == "COMPARE_LESSTHANOREQUALTO") type = "COMPARE_GREATERTHANOREQUALTO";
    else if (type == "COMPARE_GREATERTHANOREQUALTO") type = "COMPARE_LESSTHANOREQUALTO";
  } else {
    return nullptr;
  }
  if (type == "COMPARE_EQUAL" || type == "COMPARE_NOT_DISTINCT_FROM") {
    return And({Compare("COMPARE_LESSTHANOREQUALTO", "__lo", constant), Compare("COMPARE_GREATERTHAN", "__hi", constant)});
  }
  if (type == "COMPARE_GREATERTHAN" || type == "COMPARE_GREATERTHANOREQUALTO") {
    return Compare("COMPARE_GREATERTHAN", "__hi", constant);
  }
  if (type == "COMPARE_LESSTHANOREQUALTO") return Compare("COMPARE_LESSTHANOREQUALTO", "__lo", constant);
  if (type == "COMPARE_LESSTHAN") return Compare("COMPARE_LESSTHAN", "__lo", constant);
  return nullptr;
}

// DuckDB parses the keywords current_date and current_timestamp as column references; a
// column of that name wins, else they are these functions.
const char* KeywordFunction(const std::string& name) {
  const std::string n = AsciiLower(name);
  if (n == "current_date") return "current_date";
  if (n == "current_timestamp") return "get_current_timestamp";
  return nullptr;
}

class Extractor {
 public:
  // `function_template`: a parsed call without arguments, to turn keywords into calls.
  Extractor(const std::vector<RelationPartitioning>& relations, json function_template)
      : function_template_(std::move(function_template)) {
    for (const auto& r : relations) relations_[AsciiLower(r.relation)] = &r;
  }

  // Counts every reference to each relation and notes CTE names that shadow one.
  void CountReferences(const json& node) {
    if (node.is_object()) {
      if (Str(node, "type") == "BASE_TABLE" && node.contains("table_name")) {
        ++references_[AsciiLower(node["table_name"].get<std::string>())];
      }
      if (node.contains("cte_map") && node["cte_map"].contains("map")) {
        for (const auto& entry : node["cte_map"]["map"]) {
          if (entry.contains("key")) shadowed_.insert(AsciiLower(entry["key"].get<std::string>()));
        }
      }
    }
    if (node.is_object() || node.is_array()) {
      for (const auto& child : node) CountReferences(child);
    }
  }

  void VisitSelects(const json& node) {
    if (node.is_object() && Str(node, "type") == "SELECT_NODE") ExtractFromSelect(node);
    if (node.is_object() || node.is_array()) {
      for (const auto& child : node) VisitSelects(child);
    }
  }

  std::map<std::string, std::vector<json>>& conjuncts() { return conjuncts_; }

  PartitionPins Pins() const {
    PartitionPins out;
    for (const auto& [relation, columns] : pins_) {
      for (const auto& [column, values] : columns) {
        if (!values.empty()) out[relation][column] = std::vector<std::string>(values.begin(), values.end());
      }
    }
    return out;
  }

 private:
  void ExtractFromSelect(const json& select) {
    if (!select.contains("where_clause") || select["where_clause"].is_null()) return;
    std::vector<TableRef> refs;
    bool has_other_source = false;
    CollectTableRefs(select.value("from_table", json()), true, refs, &has_other_source);
    const bool single_table = refs.size() == 1 && !has_other_source;
    std::vector<json> terms;
    FlattenAnd(select["where_clause"], terms);
    for (json& term : terms) {
      if (!IsPlainExpression(term)) continue;
      if (!has_other_source) ResolveKeywords(term, refs);
      std::vector<json*> columns;
      CollectColumnRefs(term, columns);
      if (columns.empty()) continue;
      const TableRef* owner = nullptr;
      bool usable = true;
      for (json* col : columns) {
        const auto& names = (*col)["column_names"];
        const TableRef* ref = nullptr;
        if (names.size() == 1 && single_table) {
          ref = &refs[0];
        } else if (names.size() == 2) {
          const std::string q = AsciiLower(names[0].get<std::string>());
          for (const auto& r : refs) {
            if (r.qualifier == q) ref = ref ? nullptr : &r;  // ambiguous -> none
          }
        }
        if (ref == nullptr || (owner != nullptr && owner != ref)) {
          usable = false;
          break;
        }
        owner = ref;
      }
      if (!usable || owner == nullptr || !owner->prunable) continue;
      auto rel = relations_.find(owner->table);
      if (rel == relations_.end() || references_[owner->table] != 1 || shadowed_.count(owner->table)) continue;
      AddConjunct(*rel->second, term);
    }
  }

  // Bare current_date / current_timestamp that no table of the FROM has as a column become
  // the function calls DuckDB would make of them.
  void ResolveKeywords(json& term, const std::vector<TableRef>& refs) {
    std::vector<json*> columns;
    CollectColumnRefs(term, columns);
    for (json* col : columns) {
      const auto& names = (*col)["column_names"];
      if (names.size() != 1 || function_template_.is_null()) continue;
      const std::string name = names[0].get<std::string>();
      const char* function = KeywordFunction(name);
      if (function == nullptr) continue;
      bool is_column = false;
      for (const auto& r : refs) {
        auto rel = relations_.find(r.table);
        if (rel == relations_.end()) {
          is_column = true;  // a table whose columns we do not know
          break;
        }
        for (const auto& c : rel->second->all_columns) is_column = is_column || AsciiLower(c) == AsciiLower(name);
      }
      if (is_column) continue;
      json call = function_template_;
      call["function_name"] = function;
      *col = std::move(call);
    }
  }

  // `column = 'text'` or `column IN ('a', ...)` on a pin column: the values it allows.
  void CollectPin(const RelationPartitioning& rel, const json& term) {
    auto pin_column = [&](const json& node) -> std::string {
      if (!IsClass(node, "COLUMN_REF")) return "";
      const std::string name = AsciiLower(node["column_names"].back().get<std::string>());
      for (const auto& c : rel.pin_columns) {
        if (AsciiLower(c) == name) return c;
      }
      return "";
    };
    auto text = [](const json& node) -> std::optional<std::string> {
      if (!IsClass(node, "CONSTANT") || !node.contains("value")) return std::nullopt;
      const json& v = node["value"];
      if (v.value("is_null", true) || !v.contains("type") || Str(v["type"], "id") != "VARCHAR") return std::nullopt;
      if (!v.contains("value") || !v["value"].is_string()) return std::nullopt;
      return v["value"].get<std::string>();
    };
    std::string column;
    std::set<std::string> values;
    if (IsClass(term, "COMPARISON") && Str(term, "type") == "COMPARE_EQUAL") {
      std::optional<std::string> value;
      if (column = pin_column(term["left"]); !column.empty()) value = text(term["right"]);
      else if (column = pin_column(term["right"]); !column.empty()) value = text(term["left"]);
      if (!value) return;
      values.insert(*value);
    } else if (IsClass(term, "OPERATOR") && Str(term, "type") == "COMPARE_IN" && term["children"].size() > 1) {
      column = pin_column(term["children"][0]);
      if (column.empty()) return;
      for (size_t i = 1; i < term["children"].size(); ++i) {
        std::optional<std::string> value = text(term["children"][i]);
        if (!value) return;
        values.insert(*value);
      }
    } else {
      return;
    }
    auto [it, first] = pins_[rel.relation].try_emplace(column, values);
    if (first) return;
    std::set<std::string> both;
    std::set_intersection(it->second.begin(), it->second.end(), values.begin(), values.end(),
                          std::inserter(both, both.begin()));
    it->second = std::move(both);
  }

  void AddConjunct(const RelationPartitioning& rel, json term) {
    CollectPin(rel, term);
    std::vector<json*> columns;
    CollectColumnRefs(term, columns);
    const PartitionColumn* range = nullptr;
    for (json* col : columns) {
      const std::string name = AsciiLower((*col)["column_names"].back().get<std::string>());
      auto it = std::find_if(rel.columns.begin(), rel.columns.end(),
                             [&](const PartitionColumn& c) { return AsciiLower(c.name) == name; });
      if (it == rel.columns.end()) return;  // not a partition column: the files cannot tell
      if (!it->exact) range = &*it;
      (*col)["column_names"] = json::array({it->name});
    }
    if (range != nullptr) {
      if (columns.size() != 1) return;
      term = RangeCondition(term, AsciiLower(range->name));
      if (term.is_null()) return;
    }
    conjuncts_[rel.relation].push_back(std::move(term));
  }

  json function_template_;
  std::map<std::string, const RelationPartitioning*> relations_;
  std::map<std::string, int> references_;
  std::set<std::string> shadowed_;
  std::map<std::string, std::vector<json>> conjuncts_;
  std::map<std::string, std::map<std::string, std::set<std::string>>> pins_;
};

// The tree of a single SELECT, or nullptr where json_serialize_sql answered an error or more
// than one statement.
const json* SingleSelect(const json& tree) {
  if (!tree.is_object() || tree.value("error", true)) return nullptr;
  auto statements = tree.find("statements");
  return statements != tree.end() && statements->is_array() && statements->size() == 1 ? &tree : nullptr;
}

}  // namespace

Result<std::map<std::string, std::string>> ExtractPartitionPredicates(
    duck::Connection& conn, const ParsedQuery& query, const std::vector<RelationPartitioning>& relations,
    PartitionPins* pins) {
  std::map<std::string, std::string> predicates;
  // The query; a parsed function call without arguments, to turn keywords into calls; and a
  // template whose WHERE takes the conjuncts, for DuckDB to turn them back into SQL.
  const json* tree = SingleSelect(query.tree);
  if (tree == nullptr) return predicates;  // not ours to judge: the query itself will say what is wrong
  json call;
  if (const json* date = SingleSelect(query.current_date)) {
    call = date->value(json::json_pointer("/statements/0/node/select_list/0"), json());
  }
  Extractor extractor(relations, call);
  extractor.CountReferences(*tree);
  extractor.VisitSelects(*tree);
  if (pins != nullptr) *pins = extractor.Pins();
  if (extractor.conjuncts().empty()) return predicates;
  const json* tmpl = SingleSelect(query.where_template);
  if (tmpl == nullptr) return Status::Internal("DuckDB cannot parse the partition table's SELECT");
  const std::string prefix = kPartitionWherePrefix;
  for (auto& [relation, terms] : extractor.conjuncts()) {
    json statement = *tmpl;
    statement["statements"][0]["node"]["where_clause"] = And(terms);
    PQ_ASSIGN_OR_RETURN(duck::PreparedStatement stmt, conn.Prepare("SELECT json_deserialize_sql(?::JSON)"));
    PQ_RETURN_IF_ERROR(stmt.BindString(1, statement.dump()));
    auto text = stmt.Execute();
    if (!text.ok()) continue;  // a shape DuckDB cannot print back: no pruning for it
    std::string where = text->GetOr(0, 0, "");
    if (where.rfind(prefix, 0) != 0) continue;
    predicates[relation] = where.substr(prefix.size());
  }
  return predicates;
}

}  // namespace pqflow::query
