#include "source/file_source.h"

#include <glob.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <map>

#include "core/path_template.h"
#include "duck/duck.h"

namespace pqflow::source {

using duck::QuoteIdentifier;
using duck::QuoteLiteral;

namespace {

bool HasGlobChars(const std::string& s) { return s.find_first_of("*?[") != std::string::npos; }

Result<std::vector<std::string>> Glob(const std::string& pattern) {
  glob_t g{};
  int rc = ::glob(pattern.c_str(), GLOB_NOSORT, nullptr, &g);
  std::vector<std::string> out;
  if (rc == 0) {
    for (size_t i = 0; i < g.gl_pathc; ++i) out.emplace_back(g.gl_pathv[i]);
  }
  ::globfree(&g);
  if (rc != 0 && rc != GLOB_NOMATCH) return Status::IOError("cannot expand " + pattern);
  std::sort(out.begin(), out.end());
  return out;
}

Result<InputFile> StatInput(const std::string& path) {
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) {
    return Status::NotFound("input file " + path + " does not exist");
  }
  if (!S_ISREG(st.st_mode)) return Status::InvalidArgument("input " + path + " is not a regular file");
  if (::access(path.c_str(), R_OK) != 0) return Status::IOError("input file " + path + " is not readable (permission denied)");
  return InputFile{path, static_cast<int64_t>(st.st_size),
                   static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec, std::nullopt};
}

Result<std::vector<InputFile>> ResolveExplicit(const std::vector<std::string>& inputs) {
  std::vector<InputFile> out;
  for (const auto& in : inputs) {
    if (!HasGlobChars(in)) {
      PQ_ASSIGN_OR_RETURN(InputFile f, StatInput(in));
      out.push_back(std::move(f));
      continue;
    }
    PQ_ASSIGN_OR_RETURN(auto matches, Glob(in));
    if (matches.empty()) return Status::NotFound("no input file matches " + in);
    for (const auto& m : matches) {
      PQ_ASSIGN_OR_RETURN(InputFile f, StatInput(m));
      out.push_back(std::move(f));
    }
  }
  return out;
}

bool Selected(const InputSelection& sel, const std::optional<CivilDate>& date) {
  if (!date) return sel.mode != DateMode::kDate && sel.mode != DateMode::kRange;
  if (sel.mode == DateMode::kDate || sel.mode == DateMode::kRange) return *date >= sel.from && *date <= sel.to;
  return true;
}

Result<std::vector<InputFile>> ResolveFromTemplate(const DatasetConfig& ds, const InputSelection& sel) {
  if (ds.source.path.empty()) {
    return Status::InvalidArgument("dataset " + ds.name + " has no source.path; pass --input FILE");
  }
  PQ_ASSIGN_OR_RETURN(PathTemplate tmpl, PathTemplate::MakeInput(ds.source.path));
  std::string pattern;
  for (const auto& tok : tmpl.tokens()) {
    pattern += tok.kind == PathTemplate::TokenKind::kLiteral ? tok.text : "*";
  }
  PQ_ASSIGN_OR_RETURN(auto matches, Glob(pattern));
  std::vector<InputFile> out;
  for (const auto& m : matches) {
    auto values = tmpl.Parse(m);
    if (!values.ok()) continue;  // matched the glob but not the date tokens
    if (!Selected(sel, values->date)) continue;
    PQ_ASSIGN_OR_RETURN(InputFile f, StatInput(m));
    f.date = values->date;
    out.push_back(std::move(f));
  }
  if (sel.mode == DateMode::kLatest && tmpl.HasDateTokens() && !out.empty()) {
    CivilDate latest = *std::max_element(out.begin(), out.end(), [](const InputFile& a, const InputFile& b) {
                          return a.date < b.date;
                        })->date;
    std::erase_if(out, [&](const InputFile& f) { return f.date != latest; });
  }
  if (out.empty()) {
    std::string what = sel.mode == DateMode::kDate ? " for " + sel.from.ToIso()
                       : sel.mode == DateMode::kRange ? " from " + sel.from.ToIso() + " to " + sel.to.ToIso()
                                                      : "";
    return Status::NotFound("no input files for dataset " + ds.name + what + " (looked for " + ds.source.path + ")");
  }
  return out;
}

std::string FileList(const std::vector<InputFile>& inputs) {
  std::string list = "[";
  for (size_t i = 0; i < inputs.size(); ++i) list += (i ? ", " : "") + QuoteLiteral(inputs[i].path);
  return list + "]";
}

// ---- CSV: DuckDB's reader with declared types; bad lines go to the rejects tables ----

std::string CsvSql(const DatasetConfig& ds, const std::vector<InputFile>& inputs, bool in_order = false) {
  const SourceSpec& src = ds.source;
  std::string types;
  std::string select;
  for (const auto& c : ds.columns) {
    if (!c.expr.empty()) continue;
    types += (types.empty() ? "" : ", ") + QuoteLiteral(c.field) + ": " + QuoteLiteral(c.type.DuckDbType());
    select += ", " + QuoteIdentifier(c.field) + " AS " + QuoteIdentifier(c.name);
  }
  std::string opts = "header = " + std::string(src.header ? "true" : "false") +
                     ", delim = " + QuoteLiteral(src.delimiter) + ", quote = " + QuoteLiteral(src.quote) +
                     ", escape = " + QuoteLiteral(src.quote) +
                     ", nullstr = " + QuoteLiteral(src.null_string) +
                     ", store_rejects = true, rejects_table = '" + (in_order ? "__pq_reread_errors" : kCsvRejectsTable) +
                     "', rejects_scan = '" + (in_order ? "__pq_reread_scans" : kCsvRejectScansTable) +
                     "', filename = '__pq_file'" + (in_order ? ", parallel = false" : "");
  if (!src.timestamp_format.empty()) opts += ", timestampformat = " + QuoteLiteral(src.timestamp_format);
  // With a header, columns are matched by name (a reordered CSV still works); without one,
  // by position.
  opts += src.header ? ", types = {" + types + "}" : ", columns = {" + types + "}, auto_detect = false";
  return "SELECT __pq_file, NULL::BIGINT AS __pq_line" + select +
         ", NULL::VARCHAR AS __pq_reason, NULL::VARCHAR AS __pq_raw FROM read_csv(" + FileList(inputs) + ", " +
         opts + ")";
}

// ---- JSON formats: records as JSON values, every field validated in SQL --------------

// A delimiter no JSON text line contains, so each line arrives as one VARCHAR value.
constexpr const char* kLineDelimiter = "E'\\x1f\\x1e\\x1d\\x1c'";

std::string NdjsonRecordsSql(const std::vector<InputFile>& inputs) {
  // One subquery per file keeps row_number() equal to the line number within that file.
  std::string sql;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (i) sql += " UNION ALL ";
    sql += "SELECT " + QuoteLiteral(inputs[i].path) +
           " AS __pq_file, row_number() OVER () AS __pq_line, line AS __pq_raw FROM read_csv(" +
           QuoteLiteral(inputs[i].path) + ", columns = {'line': 'VARCHAR'}, delim = " + kLineDelimiter +
           ", quote = '', escape = '', header = false, auto_detect = false, new_line = '\\n')";
  }
  return "SELECT __pq_file, __pq_line, __pq_raw, NULL::JSON AS __pq_doc FROM (" + sql +
         ") WHERE __pq_raw IS NOT NULL AND trim(__pq_raw) <> ''";
}

std::string JsonPath(const std::string& dotted) {
  std::string out = "$";
  size_t start = 0;
  while (start <= dotted.size()) {
    size_t dot = dotted.find('.', start);
    std::string part = dotted.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (!part.empty()) out += ".\"" + part + "\"";
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return out;
}

std::string JsonDocRecordsSql(const DatasetConfig& ds, const std::vector<InputFile>& inputs) {
  std::string arr = ds.source.record_path.empty()
                        ? "CASE WHEN json_type(json) = 'ARRAY' THEN json ELSE json_array(json) END"
                        : "json_extract(json, " + QuoteLiteral(JsonPath(ds.source.record_path)) + ")";
  return "SELECT __pq_file, i + 1 AS __pq_line, (arr -> i)::VARCHAR AS __pq_raw, doc AS __pq_doc FROM ("
         "SELECT __pq_file, doc, arr, unnest(range(coalesce(json_array_length(arr), 0)::BIGINT)) AS i FROM ("
         "SELECT filename AS __pq_file, json AS doc, " + arr + " AS arr FROM read_json_objects(" +
         FileList(inputs) + ", format = 'auto', filename = true)))";
}

std::string JsonSql(const DatasetConfig& ds, const std::string& records_sql) {
  std::string select, reasons;
  for (const auto& c : ds.columns) {
    if (!c.expr.empty()) continue;
    bool from_parent = std::find(ds.source.parent_fields.begin(), ds.source.parent_fields.end(), c.field) !=
                       ds.source.parent_fields.end();
    std::string src = from_parent ? "__pq_doc" : "__pq_rec";
    std::string path = QuoteLiteral(JsonPath(c.field));
    std::string raw = "json_extract_string(" + src + ", " + path + ")";
    std::string value;
    if (c.type.kind == TypeKind::kJson) {
      value = "CASE WHEN json_type(json_extract(" + src + ", " + path + ")) IS DISTINCT FROM 'NULL' THEN json_extract(" +
              src + ", " + path + ") END";
    } else if (c.type.kind == TypeKind::kString) {
      value = raw;
    } else {
      value = "TRY_CAST(" + raw + " AS " + c.type.DuckDbType() + ")";
    }
    select += ", " + value + " AS " + QuoteIdentifier(c.name);
    std::string col = QuoteLiteral("column " + c.name + ": ");
    reasons += ", CASE WHEN " + raw + " IS NOT NULL AND (" + value + ") IS NULL THEN " + col +
               " || 'cannot convert ' || to_json(" + raw + ")::VARCHAR || ' to " + c.type.ToString() + "' END";
    if (!c.nullable) {
      reasons += ", CASE WHEN " + raw + " IS NULL THEN " + col + " || 'missing or null, but the column is not nullable' END";
    }
  }
  std::string reason = "CASE WHEN __pq_rec IS NULL THEN 'malformed JSON' WHEN json_type(__pq_rec) <> 'OBJECT' THEN "
                       "'expected a JSON object, got ' || lower(json_type(__pq_rec)) ELSE NULLIF(concat_ws('; '" +
                       reasons + "), '') END";
  return "SELECT __pq_file, __pq_line" + select + ", " + reason + " AS __pq_reason, __pq_raw FROM ("
         "SELECT *, CASE WHEN json_valid(__pq_raw) THEN __pq_raw::JSON END AS __pq_rec FROM (" + records_sql + "))";
}

}  // namespace

Result<std::vector<InputFile>> ResolveInputs(const DatasetConfig& dataset, const InputSelection& selection) {
  if (!selection.explicit_inputs.empty()) return ResolveExplicit(selection.explicit_inputs);
  return ResolveFromTemplate(dataset, selection);
}

Result<std::string> BuildSourceSql(const DatasetConfig& dataset, const std::vector<InputFile>& inputs) {
  if (inputs.empty()) return Status::InvalidArgument("no inputs");
  switch (dataset.source.format) {
    case SourceFormat::kCsv:
      for (const auto& in : inputs) {
        if (in.size == 0 && dataset.source.header) {
          return Status::InvalidArgument("input file " + in.path + " is empty: expected at least the CSV header line");
        }
      }
      return CsvSql(dataset, inputs);
    case SourceFormat::kNdjson: return JsonSql(dataset, NdjsonRecordsSql(inputs));
    case SourceFormat::kJson: return JsonSql(dataset, JsonDocRecordsSql(dataset, inputs));
    case SourceFormat::kPostgres: break;  // read by PgSource, not from files
  }
  return Status::Internal("unknown source format");
}

std::string CsvSourceSqlInOrder(const DatasetConfig& dataset, const InputFile& input) {
  return CsvSql(dataset, {input}, /*in_order=*/true);
}

Result<std::vector<int64_t>> CsvRecordLines(const std::string& path, const SourceSpec& source) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError("reading " + path + " again to number its rejected rows: cannot open it");
  const char quote = source.quote.empty() ? '\0' : source.quote[0];
  std::vector<int64_t> starts;
  int64_t line = 1;
  bool in_quotes = false, blank = true, header = source.header;
  std::vector<char> buf(1 << 16);
  auto end_record = [&] {
    if (!blank && !header) starts.push_back(line);
    if (!blank) header = false;
    blank = true;
    ++line;
  };
  while (in.read(buf.data(), static_cast<std::streamsize>(buf.size())) || in.gcount() > 0) {
    for (std::streamsize i = 0; i < in.gcount(); ++i) {
      const char c = buf[static_cast<size_t>(i)];
      if (c == quote && quote != '\0') in_quotes = !in_quotes;  // a doubled quote toggles twice
      if (c == '\n' && !in_quotes) {
        end_record();
      } else if (c != '\r') {
        blank = false;
      }
    }
  }
  if (!blank) end_record();
  return starts;
}

}  // namespace pqflow::source
