#include "query/parsed_query.h"

namespace pqflow::query {

Result<ParsedQuery> ParseQuery(duck::Connection& conn, std::string_view sql) {
  if (sql.find('\0') != std::string_view::npos) return Status::InvalidArgument("the query contains a NUL character");
  PQ_ASSIGN_OR_RETURN(auto stmt, conn.Prepare("SELECT json_serialize_sql(?::VARCHAR), json_serialize_sql(?::VARCHAR), "
                                              "json_serialize_sql(?::VARCHAR)"));
  PQ_RETURN_IF_ERROR(stmt.BindString(1, sql));
  PQ_RETURN_IF_ERROR(stmt.BindString(2, "SELECT current_date()"));
  PQ_RETURN_IF_ERROR(stmt.BindString(3, std::string(kPartitionWherePrefix) + "true"));
  PQ_ASSIGN_OR_RETURN(auto result, stmt.Execute());
  if (result.row_count() != 1 || result.column_count() != 3) {
    return Status::Internal("json_serialize_sql returned no value");
  }
  ParsedQuery parsed;
  nlohmann::json* trees[] = {&parsed.tree, &parsed.current_date, &parsed.where_template};
  for (size_t i = 0; i < 3; ++i) {
    const auto& text = result.Get(0, i);
    if (!text) return Status::Internal("json_serialize_sql returned no value");
    *trees[i] = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
    if (trees[i]->is_discarded() || !trees[i]->is_object()) {
      return Status::Internal("json_serialize_sql returned malformed JSON");
    }
  }
  return parsed;
}

}  // namespace pqflow::query
