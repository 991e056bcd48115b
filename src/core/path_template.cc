#include "core/path_template.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <regex>

namespace pqflow {

namespace {

constexpr std::string_view kDefaultPartition = "__HIVE_DEFAULT_PARTITION__";

struct TokenName {
  std::string_view name;
  PathTemplate::TokenKind kind;
};
constexpr TokenName kTimeTokens[] = {
    {"dataset", PathTemplate::TokenKind::kDataset},
    {"yyyy", PathTemplate::TokenKind::kYear},   {"YYYY", PathTemplate::TokenKind::kYear},
    {"mm", PathTemplate::TokenKind::kMonth},    {"MM", PathTemplate::TokenKind::kMonth},
    {"dd", PathTemplate::TokenKind::kDay},      {"DD", PathTemplate::TokenKind::kDay},
    {"hh", PathTemplate::TokenKind::kHour},     {"HH", PathTemplate::TokenKind::kHour},
    {"hour", PathTemplate::TokenKind::kHour},
    {"date", PathTemplate::TokenKind::kDate},   {"YYYY-MM-DD", PathTemplate::TokenKind::kDate},
};

bool NeedsEscape(unsigned char c) {
  return c < 0x20 || c == 0x7f || c == '/' || c == '\\' || c == '%' || c == '*' || c == '?' ||
         c == '[' || c == ']' || c == '{' || c == '}' || c == ':';
}

bool IsColumnName(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  }
  return true;
}

std::string Pad(int v, int width) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%0*d", width, v);
  return buf;
}

std::string RegexEscape(std::string_view s) {
  static const std::string kSpecial = R"(\^$.|?*+()[]{})";
  std::string out;
  for (char c : s) {
    if (kSpecial.find(c) != std::string::npos) out += '\\';
    out += c;
  }
  return out;
}

// Input patterns: '*' and '?' stay wildcards within one path segment; '[...]' is a class.
std::string GlobToRegex(std::string_view s) {
  std::string out;
  bool in_class = false;
  bool skip_bang = false;  // glob's "[!" is regex's "[^"
  for (const char& c : s) {
    if (skip_bang) {
      skip_bang = false;
      continue;
    }
    if (in_class) {
      out += c;
      if (c == ']') in_class = false;
    } else if (c == '*') {
      out += "[^/]*";
    } else if (c == '?') {
      out += "[^/]";
    } else if (c == '[') {
      out += c;
      in_class = true;
      if (&c + 1 < s.data() + s.size() && *(&c + 1) == '!') {
        out += '^';
        skip_bang = true;
      }
    } else {
      out += RegexEscape(std::string_view(&c, 1));
    }
  }
  return out;
}

}  // namespace

std::string EncodePartitionValue(const std::optional<std::string>& value) {
  if (!value || value->empty()) return std::string(kDefaultPartition);
  if (*value == ".") return "%2E";
  if (*value == "..") return "%2E%2E";
  std::string out;
  out.reserve(value->size());
  // A value ending in "-" and four digits would read back as a rotated file of a shorter
  // value ("A-1234.parquet" as the first file after "A.parquet"): its '-' is escaped.
  const size_t n = value->size();
  const bool rotation_like =
      n >= 5 && (*value)[n - 5] == '-' &&
      std::all_of(value->end() - 4, value->end(), [](char c) { return c >= '0' && c <= '9'; });
  for (size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>((*value)[i]);
    // A leading '.' or '_' would hide the segment from readers; escaping it also keeps the
    // literal string __HIVE_DEFAULT_PARTITION__ from reading back as NULL.
    if (NeedsEscape(c) || (i == 0 && (c == '.' || c == '_')) || (rotation_like && i == n - 5)) {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

bool IsHiddenPathSegment(std::string_view segment) {
  return (segment.starts_with('.') || segment.starts_with('_')) && !segment.starts_with(kDefaultPartition);
}

std::optional<std::string> DecodePartitionValue(std::string_view encoded) {
  if (encoded == kDefaultPartition) return std::nullopt;
  std::string out;
  for (size_t i = 0; i < encoded.size(); ++i) {
    if (encoded[i] == '%' && i + 2 < encoded.size()) {
      unsigned v = 0;
      if (std::sscanf(std::string(encoded.substr(i + 1, 2)).c_str(), "%2x", &v) == 1) {
        out += static_cast<char>(v);
        i += 2;
        continue;
      }
    }
    out += encoded[i];
  }
  return out;
}

std::string RotatedFileName(const std::string& path, int n) {
  constexpr std::string_view kExt = ".parquet";
  std::string stem = path.substr(0, path.size() - kExt.size());
  // From 10,000 on, groups of four digits ("-0001-0000"): a suffix of '-' and four digits is
  // what Parse takes for rotation, and no encoded value ends in one (EncodePartitionValue),
  // whereas "-10000" could be a value's own end ("order-10000.parquet").
  std::string digits = std::to_string(n);
  digits.insert(0, (4 - digits.size() % 4) % 4, '0');
  std::string suffix;
  for (size_t i = 0; i < digits.size(); i += 4) suffix += "-" + digits.substr(i, 4);
  return stem + suffix + std::string(kExt);
}

int RotationNumber(std::string_view partition_file_name, std::string_view name) {
  constexpr std::string_view kExt = ".parquet";
  if (name == partition_file_name) return 1;
  if (!partition_file_name.ends_with(kExt) || !name.ends_with(kExt)) return 0;
  const std::string_view stem = partition_file_name.substr(0, partition_file_name.size() - kExt.size());
  if (!name.starts_with(stem)) return 0;
  std::string_view suffix = name.substr(stem.size(), name.size() - stem.size() - kExt.size());
  std::string digits;
  // "-0002", "-0001-0000"; and "-10000", as the event sink named files 10,000 and on before
  // 0.1.1 (kept apart so that a restart does not reuse their numbers).
  const bool legacy = suffix.size() > 5 && suffix.find('-', 1) == std::string_view::npos;
  while (!suffix.empty()) {
    const size_t len = legacy ? suffix.size() - 1 : 4;
    if (suffix[0] != '-' || suffix.size() < len + 1) return 0;
    for (char c : suffix.substr(1, len)) {
      if (c < '0' || c > '9') return 0;
    }
    digits += suffix.substr(1, len);
    suffix.remove_prefix(len + 1);
  }
  const size_t first = digits.find_first_not_of('0');
  if (digits.empty() || first == std::string::npos || digits.size() - first > 9) return 0;
  return std::stoi(digits.substr(first));
}

Result<PathTemplate> PathTemplate::MakeInput(std::string_view text) {
  PQ_ASSIGN_OR_RETURN(PathTemplate t, Tokenize(text, ""));
  t.input_ = true;
  for (const auto& tok : t.tokens_) {
    if (tok.kind == TokenKind::kColumn || tok.kind == TokenKind::kDataset || tok.kind == TokenKind::kHour) {
      return Status::InvalidArgument("source path '" + std::string(text) + "': only date tokens ({yyyy}, {mm}, {dd}, {date}) are allowed, not {" + tok.text + "}");
    }
  }
  t.parse_regex_ = std::make_shared<LazyRegex>(t.ParsePattern());
  return t;
}

Result<PathTemplate> PathTemplate::Make(std::string_view text, std::string dataset_name) {
  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument("layout '" + std::string(text) + "': " + why);
  };
  if (text.empty()) return bad("is empty");
  if (text.front() == '/') return bad("must be relative to the storage root, not start with '/'");
  if (text.size() < 8 || text.substr(text.size() - 8) != ".parquet") return bad("must end in .parquet");
  PQ_ASSIGN_OR_RETURN(PathTemplate t, Tokenize(text, std::move(dataset_name)));
  // Literal segments cannot climb out of the root.
  std::string skeleton;
  for (const auto& tok : t.tokens_) skeleton += tok.kind == TokenKind::kLiteral ? tok.text : "x";
  size_t start = 0;
  while (start <= skeleton.size()) {
    size_t slash = skeleton.find('/', start);
    std::string seg = skeleton.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (seg == ".." || seg == ".") return bad("must not contain '.' or '..' segments");
    if (seg.empty()) return bad("must not contain empty segments ('//')");
    if (IsHiddenPathSegment(seg)) {
      return bad("a folder or file name must not start with '" + seg.substr(0, 1) +
                 "': readers skip such names (pqflow's staging and manifests; Hive and Spark too)");
    }
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  for (char c : skeleton) {
    if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') return bad("must not contain glob characters or backslashes");
  }
  // A file's date is read back from its path: the tokens must fix it, from the year down.
  bool year = false, month = false, day = false, date = false, hour = false;
  for (const auto& tok : t.tokens_) {
    year |= tok.kind == TokenKind::kYear;
    month |= tok.kind == TokenKind::kMonth;
    day |= tok.kind == TokenKind::kDay;
    date |= tok.kind == TokenKind::kDate;
    hour |= tok.kind == TokenKind::kHour;
  }
  if (!date) {
    if (month && !year) return bad("{mm} needs {yyyy} (or use {date}): the path must tell the year");
    if (day && !(year && month)) return bad("{dd} needs {yyyy} and {mm} (or use {date}): the path must tell the date");
  }
  if (hour && !date && !(year && month && day)) {
    return bad("{hh} needs the date ({date}, or {yyyy}, {mm} and {dd}): the path must tell the day of the hour");
  }
  t.parse_regex_ = std::make_shared<LazyRegex>(t.ParsePattern());
  t.directory_segments_ = t.DirectorySegments();
  return t;
}

Result<PathTemplate> PathTemplate::Tokenize(std::string_view text, std::string dataset_name) {
  PathTemplate t;
  t.text_ = std::string(text);
  t.dataset_ = std::move(dataset_name);
  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument("path template '" + std::string(text) + "': " + why);
  };
  if (text.empty()) return bad("is empty");
  size_t i = 0;
  std::string literal;
  while (i < text.size()) {
    char c = text[i];
    if (c == '}') return bad("unmatched '}' at position " + std::to_string(i));
    if (c != '{') {
      literal += c;
      ++i;
      continue;
    }
    size_t close = text.find('}', i);
    if (close == std::string_view::npos) return bad("unmatched '{' at position " + std::to_string(i));
    std::string_view name = text.substr(i + 1, close - i - 1);
    if (!literal.empty()) t.tokens_.push_back({TokenKind::kLiteral, std::move(literal)});
    literal.clear();
    TokenKind kind = TokenKind::kColumn;
    for (const auto& tn : kTimeTokens) {
      if (tn.name == name) kind = tn.kind;
    }
    if (kind == TokenKind::kColumn && !IsColumnName(name)) {
      return bad("'{" + std::string(name) + "}' is not a token (expected {dataset}, {yyyy}, {mm}, {dd}, {hh}, {date} or {column_name})");
    }
    t.tokens_.push_back({kind, std::string(name)});
    i = close + 1;
  }
  if (!literal.empty()) t.tokens_.push_back({TokenKind::kLiteral, std::move(literal)});
  return t;
}

bool PathTemplate::HasDateTokens() const {
  for (const auto& tok : tokens_) {
    if (tok.kind == TokenKind::kYear || tok.kind == TokenKind::kMonth || tok.kind == TokenKind::kDay ||
        tok.kind == TokenKind::kDate || tok.kind == TokenKind::kHour) {
      return true;
    }
  }
  return false;
}

bool PathTemplate::HasHourToken() const {
  for (const auto& tok : tokens_) {
    if (tok.kind == TokenKind::kHour) return true;
  }
  return false;
}

std::vector<std::string> PathTemplate::ColumnNames() const {
  std::vector<std::string> names;
  for (const auto& tok : tokens_) {
    if (tok.kind != TokenKind::kColumn) continue;
    bool seen = false;
    for (const auto& n : names) seen = seen || n == tok.text;
    if (!seen) names.push_back(tok.text);
  }
  return names;
}

Result<std::string> PathTemplate::Format(const PartitionValues& values) const {
  std::string out;
  for (const auto& tok : tokens_) {
    if (tok.kind == TokenKind::kLiteral) {
      out += tok.text;
    } else if (tok.kind == TokenKind::kDataset) {
      out += EncodePartitionValue(dataset_);
    } else if (tok.kind == TokenKind::kColumn) {
      auto it = values.columns.find(tok.text);
      if (it == values.columns.end()) return Status::Internal("layout " + text_ + ": no value for {" + tok.text + "}");
      out += EncodePartitionValue(it->second);
    } else if (tok.kind == TokenKind::kHour) {
      if (!values.hour || *values.hour < 0 || *values.hour > 23) {
        return Status::Internal("layout " + text_ + ": no hour in 0..23 for {hh}");
      }
      out += Pad(*values.hour, 2);
    } else {
      if (!values.date) return Status::Internal("layout " + text_ + ": no date for {" + tok.text + "}");
      const CivilDate& d = *values.date;
      if (tok.kind == TokenKind::kYear) out += Pad(d.year(), 4);
      if (tok.kind == TokenKind::kMonth) out += Pad(d.month(), 2);
      if (tok.kind == TokenKind::kDay) out += Pad(d.day(), 2);
      if (tok.kind == TokenKind::kDate) out += d.ToIso();
    }
  }
  return out;
}

namespace {

bool AllDigits(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Whether `s` is exactly what `tokens[i..]` (one directory segment) can produce.
bool MatchesSegment(const std::vector<PathTemplate::Token>& tokens, size_t i, std::string_view s) {
  using Kind = PathTemplate::TokenKind;
  if (i == tokens.size()) return s.empty();
  const PathTemplate::Token& t = tokens[i];
  auto fixed = [&](size_t n, auto&& ok) { return s.size() >= n && ok(s.substr(0, n)) && MatchesSegment(tokens, i + 1, s.substr(n)); };
  switch (t.kind) {
    case Kind::kLiteral:
    case Kind::kDataset:  // resolved to its text by DirectorySegments
      return s.starts_with(t.text) && MatchesSegment(tokens, i + 1, s.substr(t.text.size()));
    case Kind::kYear: return fixed(4, AllDigits);
    case Kind::kMonth:
    case Kind::kDay:
    case Kind::kHour: return fixed(2, AllDigits);
    case Kind::kDate:
      return fixed(10, [](std::string_view d) {
        return AllDigits(d.substr(0, 4)) && d[4] == '-' && AllDigits(d.substr(5, 2)) && d[7] == '-' && AllDigits(d.substr(8, 2));
      });
    case Kind::kColumn:
      for (size_t n = 1; n <= s.size(); ++n) {
        if (MatchesSegment(tokens, i + 1, s.substr(n))) return true;
      }
      return false;
  }
  return false;
}

}  // namespace

std::vector<std::vector<PathTemplate::Token>> PathTemplate::DirectorySegments() const {
  std::vector<std::vector<Token>> segments(1);
  for (const auto& tok : tokens_) {
    if (tok.kind == TokenKind::kDataset) {
      segments.back().push_back({TokenKind::kLiteral, EncodePartitionValue(dataset_)});
      continue;
    }
    if (tok.kind != TokenKind::kLiteral) {
      segments.back().push_back(tok);
      continue;
    }
    size_t start = 0;
    for (size_t slash = tok.text.find('/'); slash != std::string::npos; slash = tok.text.find('/', start)) {
      if (slash > start) segments.back().push_back({TokenKind::kLiteral, tok.text.substr(start, slash - start)});
      segments.emplace_back();
      start = slash + 1;
    }
    if (start < tok.text.size()) segments.back().push_back({TokenKind::kLiteral, tok.text.substr(start)});
  }
  segments.pop_back();  // the file name
  return segments;
}

bool PathTemplate::MayHoldFilesUnder(std::string_view relative_dir) const {
  if (input_) return true;
  size_t depth = 0;
  for (size_t start = 0; start <= relative_dir.size(); ++depth) {
    size_t slash = relative_dir.find('/', start);
    std::string_view segment = relative_dir.substr(start, slash == std::string_view::npos ? slash : slash - start);
    if (depth >= directory_segments_.size() || !MatchesSegment(directory_segments_[depth], 0, segment)) return false;
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return true;
}

// The regular expression Parse matches paths with (compiled once, in Make/MakeInput).
std::string PathTemplate::ParsePattern() const {
  std::string pattern;
  for (const auto& tok : tokens_) {
    switch (tok.kind) {
      case TokenKind::kLiteral: pattern += input_ ? GlobToRegex(tok.text) : RegexEscape(tok.text); break;
      case TokenKind::kDataset: pattern += RegexEscape(EncodePartitionValue(dataset_)); break;
      case TokenKind::kYear: pattern += R"((\d{4}))"; break;
      case TokenKind::kMonth:
      case TokenKind::kDay:
      case TokenKind::kHour: pattern += R"((\d{2}))"; break;
      case TokenKind::kDate: pattern += R"((\d{4}-\d{2}-\d{2}))"; break;
      case TokenKind::kColumn: pattern += "([^/]+?)"; break;
    }
  }
  // Rotated files: name-0001.parquet, from 10,000 on name-0001-0000.parquet (RotatedFileName).
  const std::string ext = R"(\.parquet)";
  if (!input_ && pattern.size() >= ext.size() && pattern.compare(pattern.size() - ext.size(), ext.size(), ext) == 0) {
    pattern.insert(pattern.size() - ext.size(), R"((?:-\d{4})*)");
  }
  return pattern;
}

const std::regex& PathTemplate::LazyRegex::Get() {
  std::call_once(once, [this] { regex.emplace(pattern); });
  return *regex;
}

Result<PartitionValues> PathTemplate::Parse(std::string_view path) const {
  std::smatch m;
  std::string subject(path);
  if (parse_regex_ == nullptr || !std::regex_match(subject, m, parse_regex_->Get())) {
    return Status::NotFound("'" + subject + "' does not match layout " + text_);
  }
  PartitionValues v;
  int fields[3] = {-1, -1, -1};  // year, month, day; every occurrence must agree
  auto set_field = [&](int index, const std::string& text) {
    int value = std::stoi(text);
    if (fields[index] >= 0 && fields[index] != value) return false;
    fields[index] = value;
    return true;
  };
  size_t group = 1;
  for (const auto& tok : tokens_) {
    if (tok.kind == TokenKind::kLiteral || tok.kind == TokenKind::kDataset) continue;
    std::string s = m[group++].str();
    bool consistent = true;
    switch (tok.kind) {
      case TokenKind::kYear: consistent = set_field(0, s); break;
      case TokenKind::kMonth: consistent = set_field(1, s); break;
      case TokenKind::kDay: consistent = set_field(2, s); break;
      case TokenKind::kHour: {
        int hour = std::stoi(s);
        consistent = hour <= 23 && (!v.hour || *v.hour == hour);
        v.hour = hour;
        break;
      }
      case TokenKind::kDate: {
        PQ_ASSIGN_OR_RETURN(CivilDate d, CivilDate::Parse(s));
        consistent = !v.date || *v.date == d;
        v.date = d;
        break;
      }
      case TokenKind::kColumn: {
        auto decoded = DecodePartitionValue(s);
        auto [it, inserted] = v.columns.emplace(tok.text, decoded);
        consistent = inserted || it->second == decoded;
        break;
      }
      default: break;
    }
    if (!consistent) return Status::NotFound("'" + subject + "' has two different values for {" + tok.text + "}");
  }
  if (v.date) {
    // {date} is complete; the separate tokens that are present must agree with it.
    int expected[3] = {v.date->year(), v.date->month(), v.date->day()};
    for (int i = 0; i < 3; ++i) {
      if (fields[i] >= 0 && fields[i] != expected[i]) return Status::NotFound("'" + subject + "' has inconsistent date tokens");
    }
  } else if (fields[0] >= 0 || fields[1] >= 0 || fields[2] >= 0) {
    // A coarser layout ({yyyy}/{mm}) names the first day of its period.
    char iso[48];
    std::snprintf(iso, sizeof iso, "%04d-%02d-%02d", fields[0] < 0 ? 1970 : fields[0], fields[1] < 0 ? 1 : fields[1],
                  fields[2] < 0 ? 1 : fields[2]);
    PQ_ASSIGN_OR_RETURN(CivilDate d, CivilDate::Parse(iso));
    v.date = d;
  }
  return v;
}

PathTemplate::DateGranularity PathTemplate::Granularity() const {
  DateGranularity g = DateGranularity::kNone;
  for (const auto& tok : tokens_) {
    if (tok.kind == TokenKind::kDay || tok.kind == TokenKind::kDate || tok.kind == TokenKind::kHour) return DateGranularity::kDay;
    if (tok.kind == TokenKind::kMonth) g = DateGranularity::kMonth;
    if (tok.kind == TokenKind::kYear && g == DateGranularity::kNone) g = DateGranularity::kYear;
  }
  return g;
}

std::string PathTemplate::StaticDirectory() const {
  std::string head;
  for (const auto& tok : tokens_) {
    if (tok.kind == TokenKind::kLiteral) {
      head += tok.text;
    } else if (tok.kind == TokenKind::kDataset) {
      head += EncodePartitionValue(dataset_);
    } else {
      break;
    }
  }
  size_t slash = head.rfind('/');
  return slash == std::string::npos ? "" : head.substr(0, slash + 1);
}

std::string PathTemplate::Glob() const {
  std::string out;
  for (const auto& tok : tokens_) {
    if (tok.kind == TokenKind::kLiteral) {
      out += tok.text;
    } else if (tok.kind == TokenKind::kDataset) {
      out += EncodePartitionValue(dataset_);
    } else {
      if (out.empty() || out.back() != '*') out += '*';
    }
  }
  // "x_*.parquet" already matches "x_*-0001.parquet"; a template without tokens before the
  // extension needs an explicit wildcard for rotated files.
  const std::string ext = ".parquet";
  std::string stem = out.substr(0, out.size() - ext.size());
  if (stem.empty() || stem.back() != '*') out = stem + "*" + ext;
  return out;
}

}  // namespace pqflow
