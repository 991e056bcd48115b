#include "query/query_output.h"

#include <algorithm>

#include <nlohmann/json.hpp>

namespace pqflow::query {

namespace {

bool IsNumericType(const std::string& t) {
  static const char* kNumeric[] = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
                                   "UINTEGER", "UBIGINT", "FLOAT", "DOUBLE", "DECIMAL"};
  return std::any_of(std::begin(kNumeric), std::end(kNumeric), [&](const char* n) { return t == n; });
}

std::string CsvField(const std::string& v) {
  if (v.find_first_of(",\"\n") == std::string::npos) return v;
  std::string out = "\"";
  for (char c : v) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string RenderTable(const duck::QueryResult& r, const std::vector<std::string>& types) {
  std::vector<size_t> width(r.column_count());
  for (size_t c = 0; c < r.column_count(); ++c) width[c] = r.column_names()[c].size();
  for (const auto& row : r.rows()) {
    for (size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c] ? row[c]->size() : 4);
  }
  auto line = [&](const std::vector<std::string>& cells, bool header) {
    std::string out;
    for (size_t c = 0; c < cells.size(); ++c) {
      std::string pad(width[c] - std::min(width[c], cells[c].size()), ' ');
      bool right = !header && IsNumericType(types[c]);
      out += (c ? " | " : "") + (right ? pad + cells[c] : cells[c] + pad);
    }
    return out + "\n";
  };
  std::string out = line(r.column_names(), true);
  std::string rule;
  for (size_t c = 0; c < width.size(); ++c) rule += (c ? "-+-" : "") + std::string(width[c], '-');
  out += rule + "\n";
  for (const auto& row : r.rows()) {
    std::vector<std::string> cells;
    for (const auto& v : row) cells.push_back(v ? *v : "NULL");
    out += line(cells, false);
  }
  out += "(" + std::to_string(r.row_count()) + " row" + (r.row_count() == 1 ? "" : "s") + ")\n";
  return out;
}

}  // namespace

Result<std::string> RunQuery(duck::Connection& conn, const std::string& sql, OutputFormat format) {
  // The values rendered by DuckDB itself as text, each column followed by its type name (a
  // DESCRIBE would bind the query, and read its files' footers, once more).
  const std::string wrapper = "SELECT COLUMNS(*)::VARCHAR, typeof(COLUMNS(*)) FROM (";
  auto rendered = conn.Query(wrapper + sql + ")");
  if (!rendered.ok()) {
    // DuckDB's message quotes the text around the error. Where the query itself does not
    // bind, its own error quotes the user's text; a failure while running may quote the
    // wrapper, which the user did not write: that quote is cut.
    if (auto bound = conn.Prepare(sql); !bound.ok()) return bound.status();
    const std::string& message = rendered.status().message();
    const size_t quote = message.find("\n\nLINE ");
    if (quote != std::string::npos && message.find("COLUMNS(*)", quote) != std::string::npos) {
      return rendered.status().WithMessage(message.substr(0, quote));
    }
    return rendered.status();
  }
  duck::QueryResult result = std::move(rendered).value();
  std::vector<std::string> types(result.column_count() / 2);
  for (size_t c = 0; c < types.size() && result.row_count() > 0; ++c) {
    const std::string t = result.GetOr(0, types.size() + c, "");
    types[c] = t.substr(0, t.find('('));
  }
  result.KeepColumns(types.size());
  if (format == OutputFormat::kTable) return RenderTable(result, types);
  std::string out;
  if (format == OutputFormat::kCsv) {
    for (size_t c = 0; c < result.column_count(); ++c) out += (c ? "," : "") + CsvField(result.column_names()[c]);
    out += "\n";
    for (const auto& row : result.rows()) {
      for (size_t c = 0; c < row.size(); ++c) out += (c ? "," : "") + (row[c] ? CsvField(*row[c]) : "");
      out += "\n";
    }
    return out;
  }
  nlohmann::ordered_json array = nlohmann::ordered_json::array();
  for (const auto& row : result.rows()) {
    nlohmann::ordered_json j = nlohmann::ordered_json::object();  // keys in column order
    for (size_t c = 0; c < row.size(); ++c) {
      const std::string& name = result.column_names()[c];
      if (!row[c]) {
        j[name] = nullptr;
      } else if (IsNumericType(types[c])) {
        j[name] = nlohmann::ordered_json::parse(*row[c], nullptr, false);
        if (j[name].is_discarded()) j[name] = *row[c];
      } else {
        j[name] = *row[c];
      }
    }
    if (format == OutputFormat::kNdjson) {
      out += j.dump() + "\n";
    } else {
      array.push_back(std::move(j));
    }
  }
  return format == OutputFormat::kNdjson ? out : array.dump() + "\n";
}

}  // namespace pqflow::query
