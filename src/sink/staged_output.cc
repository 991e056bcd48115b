#include "sink/staged_output.h"

#include <cstdio>

namespace pqflow::sink {

namespace {

std::string PercentDecode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned v = 0;
    if (s[i] == '%' && i + 2 < s.size() && std::sscanf(s.substr(i + 1, 2).c_str(), "%2x", &v) == 1) {
      out += static_cast<char>(v);
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace

bool IsPrefixedKey(const std::string& key) { return key.rfind("__pq_c_", 0) == 0 || key == "__pq_f"; }

std::string PrefixedKeySql(const std::string& value_sql) {
  return "COALESCE('v' || CAST(" + value_sql + " AS VARCHAR), 'n')";
}

Result<StagedFile> ParseStagedFile(const std::string& staging_dir, const std::string& filename, int64_t rows,
                                   int64_t bytes) {
  StagedFile f;
  f.local_path = filename;
  f.rows = rows;
  f.bytes = bytes;
  std::string rel = filename;
  if (rel.rfind(staging_dir, 0) == 0) rel = rel.substr(staging_dir.size());
  size_t start = 0;
  while (start < rel.size()) {
    size_t slash = rel.find('/', start);
    if (slash == std::string::npos) break;  // the file name itself
    std::string seg = rel.substr(start, slash - start);
    start = slash + 1;
    if (seg.empty()) continue;
    size_t eq = seg.find('=');
    if (eq == std::string::npos) return Status::Internal("unexpected staged folder '" + seg + "' in " + filename);
    std::string key = PercentDecode(seg.substr(0, eq));
    std::string value = PercentDecode(seg.substr(eq + 1));
    if (!IsPrefixedKey(key)) {
      f.keys[key] = value == "NULL" ? std::nullopt : std::optional<std::string>(value);
      continue;
    }
    if (value.empty() || (value[0] != 'v' && value[0] != 'n')) {
      return Status::Internal("unexpected staged key value '" + value + "' in " + filename);
    }
    f.keys[key] = value[0] == 'n' ? std::nullopt : std::optional<std::string>(value.substr(1));
  }
  return f;
}

}  // namespace pqflow::sink
