#include "ingest/ndjson_decoder.h"

#include <arpa/inet.h>
#include <simdjson.h>

#include <array>
#include <charconv>
#include <cstring>
#include <limits>

#include "core/civil_date.h"

namespace pqflow::ingest {

namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;
// Decimals up to 38 digits and the full uint64 range need 128 bits; DuckDB's hugeint has
// the same little-endian layout.
__extension__ typedef __int128 Int128;
__extension__ typedef unsigned __int128 UInt128;

std::string Shorten(std::string_view text) {
  if (text.size() <= 40) return std::string(text);
  return std::string(text.substr(0, 37)) + "...";
}

// The offending value as the error message quotes it.
std::string Got(const element& e) {
  if (e.type() == element_type::STRING) return "\"" + Shorten(std::string_view(e.get_string().value_unsafe())) + "\"";
  return Shorten(simdjson::minify(e));
}

const char* JsonTypeName(element_type t) {
  switch (t) {
    case element_type::ARRAY: return "an array";
    case element_type::OBJECT: return "an object";
    case element_type::INT64: case element_type::UINT64: return "an integer";
    case element_type::DOUBLE: return "a number";
    case element_type::STRING: return "a string";
    case element_type::BOOL: return "a boolean";
    case element_type::NULL_VALUE: return "null";
  }
  return "a value";
}

// Signed range of an integer type and its byte width.
struct IntRange {
  Int128 min, max;
};
IntRange RangeOf(TypeKind kind) {
  switch (kind) {
    case TypeKind::kInt8: return {INT8_MIN, INT8_MAX};
    case TypeKind::kInt16: return {INT16_MIN, INT16_MAX};
    case TypeKind::kInt32: return {INT32_MIN, INT32_MAX};
    case TypeKind::kInt64: return {INT64_MIN, INT64_MAX};
    case TypeKind::kUInt8: return {0, UINT8_MAX};
    case TypeKind::kUInt16: return {0, UINT16_MAX};
    case TypeKind::kUInt32: return {0, UINT32_MAX};
    default: return {0, static_cast<Int128>(UINT64_MAX)};
  }
}

std::string Int128Text(Int128 v) {
  if (v == 0) return "0";
  bool neg = v < 0;
  UInt128 u = neg ? -static_cast<UInt128>(v) : static_cast<UInt128>(v);
  std::string s;
  while (u > 0) {
    s.insert(s.begin(), static_cast<char>('0' + static_cast<int>(u % 10)));
    u /= 10;
  }
  return neg ? "-" + s : s;
}

// Hex digit values, -1 for anything else: one lookup per character on the hot path.
constexpr std::array<int8_t, 256> MakeHexTable() {
  std::array<int8_t, 256> t{};
  for (auto& v : t) v = -1;
  for (int c = '0'; c <= '9'; ++c) t[c] = static_cast<int8_t>(c - '0');
  for (int c = 'a'; c <= 'f'; ++c) t[c] = static_cast<int8_t>(c - 'a' + 10);
  for (int c = 'A'; c <= 'F'; ++c) t[c] = static_cast<int8_t>(c - 'A' + 10);
  return t;
}
constexpr std::array<int8_t, 256> kHex = MakeHexTable();

int HexValue(char c) { return kHex[static_cast<uint8_t>(c)]; }

// "6f1c2a9e-0b4d-4c5e-9a7b-1d2e3f405162", 32 hex digits, or either in braces.
bool ParseUuid(std::string_view text, uint8_t out[16]) {
  if (text.size() >= 2 && text.front() == '{' && text.back() == '}') text = text.substr(1, text.size() - 2);
  const bool dashed = text.size() == 36;
  if (!dashed && text.size() != 32) return false;
  size_t pos = 0;
  for (int i = 0; i < 16; ++i) {
    if (dashed && (pos == 8 || pos == 13 || pos == 18 || pos == 23)) {
      if (text[pos] != '-') return false;
      ++pos;
    }
    int hi = HexValue(text[pos]), lo = HexValue(text[pos + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
    pos += 2;
  }
  return true;
}

bool ParseIp(std::string_view text, uint8_t out[16]) {
  if (text.empty() || text.size() > 64) return false;
  char buf[65];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  in_addr v4;
  if (inet_pton(AF_INET, buf, &v4) == 1) {
    std::memset(out, 0, 10);
    out[10] = out[11] = 0xff;
    std::memcpy(out + 12, &v4, 4);
    return true;
  }
  return inet_pton(AF_INET6, buf, out) == 1;
}

bool Digits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

// RFC 3339 / ISO 8601: "2024-01-15T10:30:00Z", "2024-01-15 10:30:00.123+02:00",
// "2024-01-15T10:30:00" (UTC). Microseconds since the epoch.
bool ParseTimestampMicros(std::string_view s, int64_t* out) {
  if (s.size() < 19) return false;
  auto date = CivilDate::Parse(s.substr(0, 10));
  if (!date.ok() || (s[10] != 'T' && s[10] != 't' && s[10] != ' ')) return false;
  int hh, mm, ss;
  if (!Digits(s, 11, 2, &hh) || s[13] != ':' || !Digits(s, 14, 2, &mm) || s[16] != ':' || !Digits(s, 17, 2, &ss) ||
      hh > 23 || mm > 59 || ss > 60) {
    return false;
  }
  size_t pos = 19;
  int64_t micros = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int digits = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (digits < 6) micros = micros * 10 + (s[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0) return false;
    for (int d = digits; d < 6; ++d) micros *= 10;
  }
  int64_t offset_s = 0;
  if (pos < s.size()) {
    if ((s[pos] == 'Z' || s[pos] == 'z') && pos + 1 == s.size()) {
      ++pos;
    } else if (s[pos] == '+' || s[pos] == '-') {
      int oh, om;
      const int sign = s[pos] == '-' ? -1 : 1;
      if (!Digits(s, pos + 1, 2, &oh)) return false;
      size_t m = pos + 3;
      if (m < s.size() && s[m] == ':') ++m;
      if (!Digits(s, m, 2, &om) || m + 2 != s.size() || oh > 23 || om > 59) return false;
      offset_s = sign * (oh * 3600 + om * 60);
      pos = s.size();
    } else {
      return false;
    }
  }
  if (pos != s.size()) return false;
  const int64_t seconds = static_cast<int64_t>(date->DaysSinceEpoch()) * 86400 + hh * 3600 + mm * 60 + ss - offset_s;
  *out = seconds * 1000000 + micros;
  return true;
}

// Exact decimal text ("-12.50", "1e3") scaled to `scale` digits; false with a reason.
bool ParseDecimal(std::string_view text, int precision, int scale, Int128* out, std::string* reason) {
  size_t i = 0;
  bool neg = false;
  if (i < text.size() && (text[i] == '-' || text[i] == '+')) neg = text[i++] == '-';
  std::string digits;
  int exponent = 0;  // value = digits * 10^exponent
  bool any = false, dot = false;
  for (; i < text.size(); ++i) {
    char c = text[i];
    if (c >= '0' && c <= '9') {
      digits += c;
      any = true;
      if (dot) --exponent;
    } else if (c == '.' && !dot) {
      dot = true;
    } else {
      break;
    }
  }
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    int e = 0;
    auto [p, ec] = std::from_chars(text.data() + i + 1 + (text[i + 1] == '+' ? 1 : 0), text.data() + text.size(), e);
    if (ec != std::errc() || p != text.data() + text.size()) {
      *reason = "not a decimal number";
      return false;
    }
    exponent += e;
    i = text.size();
  }
  if (!any || i != text.size()) {
    *reason = "not a decimal number";
    return false;
  }
  // Shift to `scale` fractional digits; digits dropped must be zeros.
  int shift = exponent + scale;
  while (shift < 0) {
    if (digits.empty() || digits.back() != '0') {
      *reason = "more than " + std::to_string(scale) + " digits after the decimal point";
      return false;
    }
    digits.pop_back();
    ++shift;
  }
  size_t first = digits.find_first_not_of('0');
  digits = first == std::string::npos ? "" : digits.substr(first);
  if (static_cast<int>(digits.size()) + shift > precision) {
    *reason = "does not fit decimal(" + std::to_string(precision) + "," + std::to_string(scale) + ")";
    return false;
  }
  Int128 v = 0;
  for (char c : digits) v = v * 10 + (c - '0');
  for (int k = 0; k < shift; ++k) v *= 10;
  *out = neg ? -v : v;
  return true;
}

}  // namespace

struct NdjsonDecoder::Impl {
  const StreamConfig& stream;
  std::vector<ColumnType> types;
  simdjson::dom::parser parser;
  std::string scratch;          // the current line, padded for simdjson
  std::vector<uint8_t> seen;    // per column, for the current line
  std::string text;             // reusable conversion buffer

  explicit Impl(const StreamConfig& s) : stream(s) {
    for (const auto& c : s.columns) types.push_back(c.type);
    seen.resize(s.columns.size());
  }

  int FindColumn(std::string_view key) const {
    for (size_t i = 0; i < stream.columns.size(); ++i) {
      if (stream.columns[i].field == key) return static_cast<int>(i);
    }
    return -1;
  }

  // Converts one value into column `c`; empty result = ok, else the reason.
  std::string Convert(size_t c, const element& v, ColumnData& col) {
    const ColumnSpec& spec = stream.columns[c];
    const element_type t = v.type();
    const TypeKind kind = spec.type.kind;
    auto expected = [&](const std::string& what) { return "expected " + what + "; got " + Got(v); };
    switch (kind) {
      case TypeKind::kBoolean: {
        if (t != element_type::BOOL) return expected("true or false");
        uint8_t b = v.get_bool().value_unsafe() ? 1 : 0;
        col.AppendFixed(&b);
        return "";
      }
      case TypeKind::kInt8: case TypeKind::kInt16: case TypeKind::kInt32: case TypeKind::kInt64:
      case TypeKind::kUInt8: case TypeKind::kUInt16: case TypeKind::kUInt32: case TypeKind::kUInt64: {
        const IntRange r = RangeOf(kind);
        auto range = [&] { return "an integer in " + Int128Text(r.min) + ".." + Int128Text(r.max); };
        Int128 value;
        if (t == element_type::INT64) {
          value = v.get_int64().value_unsafe();
        } else if (t == element_type::UINT64) {
          value = v.get_uint64().value_unsafe();
        } else {
          return expected(range());
        }
        if (value < r.min || value > r.max) return expected(range());
        const int64_t narrow = static_cast<int64_t>(value);  // two's complement: low bytes hold the value
        col.AppendFixed(&narrow);                            // little-endian: the first `width` bytes
        return "";
      }
      case TypeKind::kFloat: case TypeKind::kDouble: {
        double d;
        if (t == element_type::DOUBLE) d = v.get_double().value_unsafe();
        else if (t == element_type::INT64) d = static_cast<double>(v.get_int64().value_unsafe());
        else if (t == element_type::UINT64) d = static_cast<double>(v.get_uint64().value_unsafe());
        else return expected("a number");
        if (kind == TypeKind::kFloat) {
          float f = static_cast<float>(d);
          col.AppendFixed(&f);
        } else {
          col.AppendFixed(&d);
        }
        return "";
      }
      case TypeKind::kDecimal: {
        std::string_view number;
        char buf[64];
        if (t == element_type::STRING) {
          number = v.get_string().value_unsafe();
        } else if (t == element_type::INT64 || t == element_type::UINT64 || t == element_type::DOUBLE) {
          // The shortest text that reads back as the same number: 0.1 stays 0.1.
          std::to_chars_result res = t == element_type::DOUBLE ? std::to_chars(buf, buf + sizeof(buf), v.get_double().value_unsafe())
                                     : t == element_type::INT64 ? std::to_chars(buf, buf + sizeof(buf), v.get_int64().value_unsafe())
                                                                : std::to_chars(buf, buf + sizeof(buf), v.get_uint64().value_unsafe());
          number = std::string_view(buf, static_cast<size_t>(res.ptr - buf));
        } else {
          return expected("a decimal number");
        }
        Int128 value;
        std::string reason;
        if (!ParseDecimal(number, spec.type.precision, spec.type.scale, &value, &reason)) {
          return reason + ": " + Got(v);
        }
        col.AppendFixed(&value);  // little-endian: the first `width` bytes hold the value
        return "";
      }
      case TypeKind::kString: {
        if (t != element_type::STRING) return expected("a string");
        std::string_view s = v.get_string().value_unsafe();
        if (!spec.values.empty()) {
          bool found = false;
          for (const auto& allowed : spec.values) found = found || allowed == s;
          if (!found) {
            std::string list;
            for (const auto& allowed : spec.values) list += (list.empty() ? "" : ", ") + allowed;
            return expected("one of " + list);
          }
        }
        col.AppendVariable(s);
        return "";
      }
      case TypeKind::kJson:
        col.AppendVariable(simdjson::minify(v));
        return "";
      case TypeKind::kBinary:
        if (t == element_type::STRING) {
          col.AppendVariable(v.get_string().value_unsafe());
        } else {
          col.AppendVariable(simdjson::minify(v));
        }
        return "";
      case TypeKind::kUuid: {
        uint8_t b[16];
        if (t != element_type::STRING || !ParseUuid(v.get_string().value_unsafe(), b)) {
          return expected("a UUID such as \"6f1c2a9e-0b4d-4c5e-9a7b-1d2e3f405162\"");
        }
        uint64_t hi = 0, lo = 0;
        for (int i = 0; i < 8; ++i) hi = hi << 8 | b[i];
        for (int i = 8; i < 16; ++i) lo = lo << 8 | b[i];
        // DuckDB's UUID: the 128-bit big-endian value with its top bit flipped.
        struct {
          uint64_t lower;
          int64_t upper;
        } h{lo, static_cast<int64_t>(hi ^ (uint64_t{1} << 63))};
        col.AppendFixed(&h);
        return "";
      }
      case TypeKind::kIpv6: {
        uint8_t b[16];
        if (t != element_type::STRING || !ParseIp(v.get_string().value_unsafe(), b)) {
          return expected("an IPv4 or IPv6 address such as \"10.0.0.1\" or \"2001:db8::1\"");
        }
        col.AppendVariable(std::string_view(reinterpret_cast<const char*>(b), 16));
        return "";
      }
      case TypeKind::kDate: {
        if (t != element_type::STRING) return expected("a date \"YYYY-MM-DD\"");
        auto d = CivilDate::Parse(v.get_string().value_unsafe());
        if (!d.ok()) return expected("a date \"YYYY-MM-DD\"");
        int32_t days = d->DaysSinceEpoch();
        col.AppendFixed(&days);
        return "";
      }
      case TypeKind::kTimestamp: case TypeKind::kTimestampMs: {
        int64_t micros;
        if (t == element_type::INT64) {
          const int64_t ms = v.get_int64().value_unsafe();
          if (ms > INT64_MAX / 1000 || ms < INT64_MIN / 1000) return expected("epoch milliseconds in range");
          micros = ms * 1000;
        } else if (t == element_type::STRING && ParseTimestampMicros(v.get_string().value_unsafe(), &micros)) {
        } else {
          return expected("epoch milliseconds or an ISO 8601 time such as \"2024-01-15T10:30:00Z\"");
        }
        int64_t stored = kind == TypeKind::kTimestamp ? micros : micros / 1000 - (micros % 1000 < 0 ? 1 : 0);
        col.AppendFixed(&stored);
        return "";
      }
    }
    return "unsupported column type";
  }

  void AppendReceiptTime(size_t c, int64_t receipt_ms, ColumnData& col) {
    int64_t v = stream.columns[c].type.kind == TypeKind::kTimestamp ? receipt_ms * 1000 : receipt_ms;
    col.AppendFixed(&v);
  }

  // Decodes one non-blank line into a row; false (after recording errors) if it is wrong.
  bool DecodeLine(std::string_view line, int64_t line_no, int64_t receipt_ms, RowBatch& rows, DecodedBatch& out,
                  size_t max_errors) {
    auto fail = [&](const std::string& field, const std::string& reason) {
      if (out.errors.size() < max_errors) {
        out.errors.push_back({line_no, field, reason});
      } else {
        out.errors_truncated = true;
      }
    };
    scratch.assign(line);
    scratch.resize(line.size() + simdjson::SIMDJSON_PADDING);
    element doc;
    auto error = parser.parse(scratch.data(), line.size(), false).get(doc);
    if (error) {
      fail("", std::string("invalid JSON: ") + simdjson::error_message(error));
      return false;
    }
    if (doc.type() != element_type::OBJECT) {
      fail("", "expected a JSON object; got " + std::string(JsonTypeName(doc.type())));
      return false;
    }
    const size_t before = rows.rows();
    std::fill(seen.begin(), seen.end(), 0);
    bool ok = true;
    simdjson::dom::object object;
    if (doc.get_object().get(object) != simdjson::SUCCESS) return false;
    for (auto field : object) {
      const int c = FindColumn(field.key);
      if (c < 0) {
        std::string names;
        for (const auto& col : stream.columns) {
          if (!col.receipt_time) names += (names.empty() ? "" : ", ") + col.field;
        }
        fail(std::string(field.key), "unknown field; this stream has: " + names);
        ok = false;
        continue;
      }
      const ColumnSpec& spec = stream.columns[static_cast<size_t>(c)];
      if (seen[c]) {
        fail(spec.field, "the field appears twice");
        ok = false;
        continue;
      }
      seen[c] = 1;
      if (spec.receipt_time) {
        fail(spec.field, "set by the server (the time the batch was received); leave it out");
        ok = false;
        continue;
      }
      ColumnData& col = rows.column(static_cast<size_t>(c));
      if (field.value.type() == element_type::NULL_VALUE) {
        if (!spec.nullable) {
          fail(spec.field, "required; got null");
          ok = false;
        } else {
          col.AppendNull();
        }
        continue;
      }
      std::string reason = Convert(static_cast<size_t>(c), field.value, col);
      if (!reason.empty()) {
        fail(spec.field, reason);
        ok = false;
      }
    }
    for (size_t c = 0; c < stream.columns.size(); ++c) {
      if (seen[c]) continue;
      const ColumnSpec& spec = stream.columns[c];
      if (spec.receipt_time) {
        AppendReceiptTime(c, receipt_ms, rows.column(c));
      } else if (spec.nullable) {
        rows.column(c).AppendNull();
      } else {
        fail(spec.field, "required");
        ok = false;
      }
    }
    if (!ok) rows.Truncate(before);
    return ok;
  }
};

NdjsonDecoder::NdjsonDecoder(const StreamConfig& stream) : impl_(new Impl(stream)) {}
NdjsonDecoder::~NdjsonDecoder() { delete impl_; }

DecodedBatch NdjsonDecoder::Decode(std::string_view body, int64_t receipt_ms, size_t max_errors) {
  DecodedBatch out;
  out.rows = RowBatch(impl_->types);
  int64_t line_no = 0;
  size_t pos = 0;
  while (pos < body.size()) {
    ++line_no;
    size_t nl = body.find('\n', pos);
    if (nl == std::string_view::npos) nl = body.size();
    std::string_view line = body.substr(pos, nl - pos);
    pos = nl + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    if (impl_->DecodeLine(line, line_no, receipt_ms, out.rows, out, max_errors)) out.row_lines.push_back(line_no);
  }
  return out;
}

}  // namespace pqflow::ingest
