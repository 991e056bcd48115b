// NDJSON request bodies to typed rows (see ndjson_decoder.h).
//
// What each declared type accepts (JSON null or a missing key: NULL, or "required" when the
// column is not nullable):
//   boolean              true / false
//   int8..uint64         JSON integers within the type's range (no fractions, no exponents,
//                        no strings)
//   float / double       any JSON number (underflow becomes 0, overflow is an error)
//   decimal(p,s)         a JSON number or a numeric string, converted exactly: more than s
//                        significant fractional digits, or more than p-s integer digits, is an
//                        error, never a rounding
//   string               a JSON string (an enumeration: exactly one of `values`)
//   json                 any JSON value, stored as its minified text (numbers and escapes kept
//                        as written)
//   binary               a JSON string: its bytes; any other value: its minified JSON text
//   uuid                 a string of 32 hex digits, 8-4-4-4-12 with dashes or without,
//                        optionally in {braces}, any case
//   ipv6                 a string: an IPv4 dotted quad (stored ::ffff:a.b.c.d) or any IPv6
//                        text form
//   date                 a "YYYY-MM-DD" string
//   timestamp(_ms)       ONE rule for both units: a JSON integer is always epoch
//                        MILLISECONDS (multiplied by 1000 for a microsecond timestamp); a
//                        string is RFC 3339 / ISO 8601: "2024-01-15T10:30:00Z",
//                        "2024-01-15T10:30:00.123+02:00", "2024-01-15 10:30:00" (no offset:
//                        UTC). Fractional digits finer than the column's unit are truncated.
// receipt_time columns are filled from the receipt time (ms; µs for timestamp, days for date)
// and a body that sets one is refused.
//
// Every value of an accepted line is validated as JSON, including the inside of json and
// binary values: simdjson's On-Demand API only checks what is read, so those are walked.
// Error budget: at least one error is always reported (max_errors = 0 counts as 1), so that
// a bad batch can never look clean.
#include "ingest/ndjson_decoder.h"

#include <arpa/inet.h>
#include <simdjson.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cstring>
#include <limits>

namespace pqflow::ingest {

namespace {

namespace od = simdjson::ondemand;
using simdjson::error_code;

__extension__ typedef __int128 Int128;

// Nesting allowed inside json/binary values (validation recurses once per level).
constexpr int kMaxJsonDepth = 256;
// Input values quoted in error messages are cut to about this many bytes.
constexpr size_t kMaxQuotedBytes = 40;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsJsonSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string_view TrimRight(std::string_view s) {
  while (!s.empty() && IsJsonSpace(s.back())) s.remove_suffix(1);
  return s;
}

bool IsBlank(std::string_view s) { return TrimRight(s).empty(); }

// A value On-Demand typed as boolean or null (by its first letter) must be exactly that
// word; its own checks report a misspelling as a type mismatch.
error_code CheckAtom(od::value& v, od::json_type t) {
  const std::string_view token = TrimRight(v.raw_json_token());
  if (t == od::json_type::null) return token == "null" ? simdjson::SUCCESS : simdjson::N_ATOM_ERROR;
  if (token == "true" || token == "false") return simdjson::SUCCESS;
  return token[0] == 't' ? simdjson::T_ATOM_ERROR : simdjson::F_ATOM_ERROR;
}

// `text` cut to about kMaxQuotedBytes, never inside a UTF-8 sequence.
std::string Shorten(std::string_view text) {
  if (text.size() <= kMaxQuotedBytes) return std::string(text);
  size_t cut = kMaxQuotedBytes - 3;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  std::string out(text.substr(0, cut));
  out += "...";
  return out;
}

// ---- Numbers ---------------------------------------------------------------------------

struct NumberShape {
  bool valid = false;
  bool integer = false;  // no fraction and no exponent
};

// The strict JSON number grammar (simdjson's On-Demand API does not check tokens it skips).
NumberShape ScanJsonNumber(std::string_view t) {
  size_t i = 0;
  const size_t n = t.size();
  auto digits = [&] {
    size_t begin = i;
    while (i < n && IsDigit(t[i])) ++i;
    return i - begin;
  };
  if (i < n && t[i] == '-') ++i;
  if (i < n && t[i] == '0') {
    ++i;
  } else if (digits() == 0) {
    return {};
  }
  bool integer = true;
  if (i < n && t[i] == '.') {
    ++i;
    integer = false;
    if (digits() == 0) return {};
  }
  if (i < n && (t[i] == 'e' || t[i] == 'E')) {
    ++i;
    integer = false;
    if (i < n && (t[i] == '+' || t[i] == '-')) ++i;
    if (digits() == 0) return {};
  }
  if (i != n) return {};
  return {true, integer};
}

// A JSON integer token as a 128-bit value; false when its magnitude exceeds 64 bits.
bool ParseIntegerToken(std::string_view t, Int128* out) {
  const bool neg = !t.empty() && t[0] == '-';
  uint64_t magnitude = 0;
  const char* begin = t.data() + (neg ? 1 : 0);
  auto [p, ec] = std::from_chars(begin, t.data() + t.size(), magnitude);
  if (ec != std::errc() || p != t.data() + t.size()) return false;
  *out = neg ? -static_cast<Int128>(magnitude) : static_cast<Int128>(magnitude);
  return true;
}

// Decimal exponent of the first significant digit of a valid JSON number; tells an
// underflow (negative) from an overflow when from_chars reports result_out_of_range.
int64_t LeadingExponent(std::string_view t) {
  size_t i = (!t.empty() && t[0] == '-') ? 1 : 0;
  int64_t e = -1;
  bool found = false;
  for (; i < t.size() && IsDigit(t[i]); ++i) {
    if (found || t[i] != '0') {
      found = true;
      ++e;
    }
  }
  if (i < t.size() && t[i] == '.') {
    for (++i; !found && i < t.size() && IsDigit(t[i]); ++i) {
      if (t[i] != '0') found = true;
      else --e;
    }
    while (i < t.size() && IsDigit(t[i])) ++i;
  }
  if (i < t.size()) {  // the exponent, saturated: only its sign can matter past that
    ++i;
    const bool negative = t[i] == '-';
    if (t[i] == '-' || t[i] == '+') ++i;
    int64_t exp = 0;
    for (; i < t.size(); ++i) exp = std::min<int64_t>(exp * 10 + (t[i] - '0'), 1'000'000'000);
    e += negative ? -exp : exp;
  }
  return e;
}

enum class DecimalParse { kOk, kSyntax, kTooManyPlaces, kOverflow };

// Exact conversion of decimal text ("-12.50", "1e3", "+.5") to an integer scaled by
// 10^scale. The text's digits are never rounded.
DecimalParse ParseDecimalText(std::string_view t, int precision, int scale, Int128* out) {
  size_t i = 0;
  const size_t n = t.size();
  bool neg = false;
  if (i < n && (t[i] == '+' || t[i] == '-')) neg = t[i++] == '-';
  const size_t int_begin = i;
  while (i < n && IsDigit(t[i])) ++i;
  const std::string_view int_digits = t.substr(int_begin, i - int_begin);
  std::string_view frac_digits;
  if (i < n && t[i] == '.') {
    const size_t frac_begin = ++i;
    while (i < n && IsDigit(t[i])) ++i;
    frac_digits = t.substr(frac_begin, i - frac_begin);
  }
  if (int_digits.empty() && frac_digits.empty()) return DecimalParse::kSyntax;
  int64_t exp = 0;
  if (i < n && (t[i] == 'e' || t[i] == 'E')) {
    ++i;
    bool exp_neg = false;
    if (i < n && (t[i] == '+' || t[i] == '-')) exp_neg = t[i++] == '-';
    const size_t exp_begin = i;
    for (; i < n && IsDigit(t[i]); ++i) {
      if (exp < 1'000'000'000) exp = exp * 10 + (t[i] - '0');  // saturates; fails below anyway
    }
    if (i == exp_begin) return DecimalParse::kSyntax;
    if (exp_neg) exp = -exp;
  }
  if (i != n) return DecimalParse::kSyntax;

  // The digits D = int_digits frac_digits, value = D * 10^(exp - |frac_digits|).
  const int64_t total = static_cast<int64_t>(int_digits.size() + frac_digits.size());
  auto digit = [&](int64_t k) {
    return k < static_cast<int64_t>(int_digits.size()) ? int_digits[k] : frac_digits[k - int_digits.size()];
  };
  int64_t first = 0;
  while (first < total && digit(first) == '0') ++first;
  if (first == total) {
    *out = 0;
    return DecimalParse::kOk;
  }
  int64_t last = total - 1;
  while (digit(last) == '0') --last;
  // Power of ten of the last significant digit, then of the scaled result's last digit.
  const int64_t shift = exp - static_cast<int64_t>(frac_digits.size()) + (total - 1 - last) + scale;
  if (shift < 0) return DecimalParse::kTooManyPlaces;
  if ((last - first + 1) + shift > precision) return DecimalParse::kOverflow;
  Int128 value = 0;
  for (int64_t k = first; k <= last; ++k) value = value * 10 + (digit(k) - '0');
  for (int64_t k = 0; k < shift; ++k) value *= 10;
  *out = neg ? -value : value;
  return DecimalParse::kOk;
}

// ---- Text forms: uuid, ip, date, timestamp -------------------------------------------

// A hex digit's value, or kNotHex: one table lookup per digit, with no branch, on the path
// every event's device_id and session_id take.
constexpr uint8_t kNotHex = 0x10;
constexpr std::array<uint8_t, 256> kHexValues = [] {
  std::array<uint8_t, 256> t{};
  t.fill(kNotHex);
  for (int c = 0; c < 10; ++c) t['0' + c] = static_cast<uint8_t>(c);
  for (int c = 0; c < 6; ++c) t['a' + c] = t['A' + c] = static_cast<uint8_t>(10 + c);
  return t;
}();

// Where the 32 digits of the dashed form (8-4-4-4-12) are.
constexpr std::array<uint8_t, 32> kDashedDigits = {0,  1,  2,  3,  4,  5,  6,  7,  9,  10, 11, 12, 14, 15, 16, 17,
                                                   19, 20, 21, 22, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35};

// 32 hex digits, 8-4-4-4-12 with dashes or none, optionally braced: the value's first
// (`hi`) and last (`lo`) 8 bytes as big-endian integers.
bool ParseUuid(std::string_view s, uint64_t* hi, uint64_t* lo) {
  if (s.size() >= 2 && s.front() == '{' && s.back() == '}') s = s.substr(1, s.size() - 2);
  const bool dashed = s.size() == 36;
  if (!dashed && s.size() != 32) return false;
  if (dashed && (s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-')) return false;
  // Two accumulators in registers: one array indexed by i/16 went through memory, a
  // store and a dependent load per digit (85 ns a UUID).
  uint64_t words[2] = {0, 0};
  uint8_t seen = 0;  // the OR of every digit's table entry: kNotHex is set if one was not a digit
  for (size_t half = 0; half < 2; ++half) {
    uint64_t w = 0;
    for (size_t i = half * 16; i < half * 16 + 16; ++i) {
      const uint8_t h = kHexValues[static_cast<unsigned char>(s[dashed ? kDashedDigits[i] : i])];
      seen |= h;
      w = (w << 4) | (h & 0xF);
    }
    words[half] = w;
  }
  if (seen & kNotHex) return false;
  *hi = words[0];
  *lo = words[1];
  return true;
}

// An IPv4 dotted quad to 4 bytes, by inet_pton's rules (four decimal octets up to 255, no
// leading zeros), read in place: inet_pton needs a NUL-terminated copy.
bool ParseIpv4(std::string_view s, uint8_t out[4]) {
  int octets = 0;
  size_t i = 0;
  while (octets < 4) {
    if (octets > 0) {
      if (i >= s.size() || s[i] != '.') return false;
      ++i;
    }
    const size_t begin = i;
    unsigned value = 0;
    while (i < s.size() && IsDigit(s[i]) && i - begin < 3) value = value * 10 + static_cast<unsigned>(s[i++] - '0');
    const size_t digits = i - begin;
    if (digits == 0 || value > 255 || (digits > 1 && s[begin] == '0')) return false;
    out[octets++] = static_cast<uint8_t>(value);
  }
  return i == s.size();
}

// IPv4 dotted quad (as ::ffff:a.b.c.d) or IPv6 text, to 16 bytes in network order.
bool ParseIp(std::string_view s, uint8_t out[16]) {
  if (s.find(':') == std::string_view::npos) {
    std::memset(out, 0, 10);
    out[10] = out[11] = 0xff;
    return ParseIpv4(s, out + 12);
  }
  char text[INET6_ADDRSTRLEN + 1];
  if (s.size() >= sizeof text || s.find('\0') != std::string_view::npos) return false;
  std::memcpy(text, s.data(), s.size());
  text[s.size()] = '\0';
  return inet_pton(AF_INET6, text, out) == 1;
}

// Exactly `s.size()` ASCII digits.
bool ParseDigits(std::string_view s, int* out) {
  int v = 0;
  for (char c : s) {
    if (!IsDigit(c)) return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return !s.empty();
}

bool ParseDays(std::string_view s, int32_t* days) {
  int y = 0, m = 0, d = 0;
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  if (!ParseDigits(s.substr(0, 4), &y) || !ParseDigits(s.substr(5, 2), &m) || !ParseDigits(s.substr(8, 2), &d)) return false;
  const std::chrono::year_month_day ymd{std::chrono::year(y), std::chrono::month(static_cast<unsigned>(m)),
                                        std::chrono::day(static_cast<unsigned>(d))};
  if (!ymd.ok()) return false;
  *days = std::chrono::sys_days(ymd).time_since_epoch().count();
  return true;
}

// "Z", "+02:00", "-0530", or nothing (UTC), from s[i] to the end: seconds east of UTC.
bool ParseOffset(std::string_view s, size_t i, int64_t* seconds) {
  *seconds = 0;
  if (i == s.size()) return true;
  if (s[i] == 'Z' || s[i] == 'z') return i + 1 == s.size();
  if (s[i] != '+' && s[i] != '-') return false;
  const int64_t sign = s[i] == '-' ? -1 : 1;
  std::string_view rest = s.substr(i + 1);
  int h = 0, m = 0;
  if (rest.size() == 5 && rest[2] == ':') {
    if (!ParseDigits(rest.substr(0, 2), &h) || !ParseDigits(rest.substr(3, 2), &m)) return false;
  } else if (rest.size() == 4) {
    if (!ParseDigits(rest.substr(0, 2), &h) || !ParseDigits(rest.substr(2, 2), &m)) return false;
  } else {
    return false;
  }
  if (h > 23 || m > 59) return false;
  *seconds = sign * (h * 3600 + m * 60);
  return true;
}

// RFC 3339 / ISO 8601 date-time to microseconds since the epoch (digits past µs truncated).
bool ParseTimestampMicros(std::string_view s, int64_t* micros) {
  int32_t days = 0;
  int h = 0, mi = 0, sec = 0;
  if (s.size() < 19 || !ParseDays(s.substr(0, 10), &days)) return false;
  if ((s[10] != 'T' && s[10] != 't' && s[10] != ' ') || s[13] != ':' || s[16] != ':') return false;
  if (!ParseDigits(s.substr(11, 2), &h) || !ParseDigits(s.substr(14, 2), &mi) || !ParseDigits(s.substr(17, 2), &sec)) return false;
  if (h > 23 || mi > 59 || sec > 59) return false;
  size_t i = 19;
  int64_t fraction = 0;
  if (i < s.size() && s[i] == '.') {
    const size_t begin = ++i;
    int kept = 0;
    for (; i < s.size() && IsDigit(s[i]); ++i) {
      if (kept < 6) {
        fraction = fraction * 10 + (s[i] - '0');
        ++kept;
      }
    }
    if (i == begin) return false;
    for (; kept < 6; ++kept) fraction *= 10;
  }
  int64_t offset = 0;
  if (!ParseOffset(s, i, &offset)) return false;
  const int64_t seconds = int64_t{days} * 86400 + h * 3600 + mi * 60 + sec - offset;
  *micros = seconds * 1'000'000 + fraction;
  return true;
}

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0)) ? 1 : 0); }

// ---- Field names -----------------------------------------------------------------------

// Input key -> column index: open addressing over a power-of-two table, built once.
class FieldTable {
 public:
  void Build(const std::vector<std::string>& keys) {
    keys_ = keys;
    size_t size = 8;
    while (size < keys.size() * 4) size *= 2;
    slots_.assign(size, Slot{0, -1});
    mask_ = size - 1;
    for (size_t c = 0; c < keys.size(); ++c) {
      if (Find(keys[c]) >= 0) continue;  // two columns on one key: the first is filled
      const uint32_t h = Hash(keys[c]);
      size_t i = h & mask_;
      while (slots_[i].column >= 0) i = (i + 1) & mask_;
      slots_[i] = Slot{h, static_cast<int32_t>(c)};
    }
  }

  // The column read from `key`, or -1.
  int Find(std::string_view key) const {
    const uint32_t h = Hash(key);
    for (size_t i = h & mask_; slots_[i].column >= 0; i = (i + 1) & mask_) {
      if (slots_[i].hash == h && keys_[slots_[i].column] == key) return slots_[i].column;
    }
    return -1;
  }

 private:
  struct Slot {
    uint32_t hash;
    int32_t column;
  };
  static uint32_t Hash(std::string_view key) {  // FNV-1a
    uint32_t h = 2166136261u;
    for (char c : key) h = (h ^ static_cast<uint8_t>(c)) * 16777619u;
    return h;
  }
  std::vector<std::string> keys_;
  std::vector<Slot> slots_;
  size_t mask_ = 0;
};

// ---- Columns ---------------------------------------------------------------------------

struct ColumnPlan {
  ColumnType type;
  std::string field;
  bool nullable = true;
  bool receipt_time = false;
  std::vector<std::string> values;
  std::string expected;  // the start of a conversion error: "expected ...; got "
  Int128 min = 0, max = 0;  // integer kinds
};

struct IntRange {
  Int128 min;
  Int128 max;
};

IntRange IntegerRange(TypeKind kind) {
  switch (kind) {
    case TypeKind::kInt8: return {INT8_MIN, INT8_MAX};
    case TypeKind::kInt16: return {INT16_MIN, INT16_MAX};
    case TypeKind::kInt32: return {INT32_MIN, INT32_MAX};
    case TypeKind::kInt64: return {INT64_MIN, INT64_MAX};
    case TypeKind::kUInt8: return {0, UINT8_MAX};
    case TypeKind::kUInt16: return {0, UINT16_MAX};
    case TypeKind::kUInt32: return {0, UINT32_MAX};
    case TypeKind::kUInt64: return {0, UINT64_MAX};
    default: return {0, 0};
  }
}

std::string Int128Text(Int128 v) {
  if (v < 0) return std::to_string(static_cast<int64_t>(v));
  return std::to_string(static_cast<uint64_t>(v));
}

std::string ExpectedText(const ColumnSpec& spec) {
  const ColumnType& t = spec.type;
  switch (t.kind) {
    case TypeKind::kBoolean: return "expected true or false; got ";
    case TypeKind::kInt8: case TypeKind::kInt16: case TypeKind::kInt32: case TypeKind::kInt64:
    case TypeKind::kUInt8: case TypeKind::kUInt16: case TypeKind::kUInt32: case TypeKind::kUInt64: {
      const IntRange r = IntegerRange(t.kind);
      return "expected an integer in [" + Int128Text(r.min) + ", " + Int128Text(r.max) + "]; got ";
    }
    case TypeKind::kFloat: case TypeKind::kDouble: return "expected a number; got ";
    case TypeKind::kDecimal: return "expected a " + t.ToString() + " number or numeric string; got ";
    case TypeKind::kString:
      if (spec.values.empty()) return "expected a string; got ";
      {
        std::string text = "expected one of ";
        for (size_t i = 0; i < spec.values.size(); ++i) text += (i ? ", " : "") + spec.values[i];
        return text + "; got ";
      }
    case TypeKind::kJson: case TypeKind::kBinary: return "expected a JSON value; got ";
    case TypeKind::kUuid: return "expected a UUID string (8-4-4-4-12 hex digits); got ";
    case TypeKind::kIpv6: return "expected an IPv4 or IPv6 address string; got ";
    case TypeKind::kDate: return "expected a date string \"YYYY-MM-DD\"; got ";
    case TypeKind::kTimestamp: case TypeKind::kTimestampMs:
      return "expected epoch milliseconds (an integer) or an RFC 3339 string such as \"2024-01-15T10:30:00Z\"; got ";
  }
  return "unexpected value; got ";
}

template <typename T>
void AppendAs(ColumnData& col, Int128 v) {
  const T narrow = static_cast<T>(v);
  col.AppendFixed(&narrow);
}

struct HugeInt {  // DuckDB's hugeint_t layout
  uint64_t lower;
  int64_t upper;
};

void AppendDecimal(ColumnData& col, Int128 v) {
  switch (col.width) {
    case 2: return AppendAs<int16_t>(col, v);
    case 4: return AppendAs<int32_t>(col, v);
    case 8: return AppendAs<int64_t>(col, v);
    default: {
      const HugeInt h{static_cast<uint64_t>(v), static_cast<int64_t>(v >> 64)};
      col.AppendFixed(&h);
    }
  }
}

}  // namespace

// ---- The decoder -----------------------------------------------------------------------

struct NdjsonDecoder::Impl {
  explicit Impl(const StreamConfig& stream);
  DecodedBatch Decode(std::string_view body, int64_t receipt_ms, size_t max_errors, size_t readable_past_end);

 private:
  void ReserveRows(DecodedBatch& out, std::string_view body) const;
  void SetReceipt(int64_t receipt_ms);
  // One non-blank line; appends one row to every column unless it records an error.
  void DecodeLine(std::string_view line, size_t capacity);
  void FinishRow();
  error_code Convert(size_t c, od::value& v);
  error_code ConvertNull(size_t c, od::value& v);
  error_code ConvertInteger(size_t c, od::value& v, od::json_type t);
  error_code ConvertFloat(size_t c, od::value& v, od::json_type t);
  error_code ConvertDecimal(size_t c, od::value& v, od::json_type t);
  error_code ConvertString(size_t c, od::value& v, od::json_type t);
  error_code ConvertJsonText(size_t c, od::value& v, od::json_type t);
  error_code ConvertParsedString(size_t c, od::value& v, od::json_type t);
  error_code ConvertTimestamp(size_t c, od::value& v, od::json_type t);
  error_code Mismatch(size_t c, od::value& v, od::json_type t);
  error_code ValidateJson(od::value& v, od::json_type t, int depth);
  void FailValue(size_t c, std::string_view got) { Fail(columns_[c].field, columns_[c].expected + Shorten(got)); }
  void FailJson(error_code e) { Fail("", std::string("invalid JSON: ") + simdjson::error_message(e)); }
  void Fail(std::string_view field, std::string reason);

  std::vector<ColumnPlan> columns_;
  std::vector<ColumnType> types_;
  FieldTable fields_;
  std::string unknown_reason_;  // "unknown field; this stream has: a, b, c"
  od::parser parser_;
  std::string padded_;          // the body plus SIMDJSON_PADDING
  std::string minified_;        // scratch for json/binary values
  std::vector<uint64_t> seen_;  // per column: the line stamp that set it
  uint64_t stamp_ = 0;

  // State of the current Decode call.
  DecodedBatch* out_ = nullptr;
  size_t max_errors_ = 1;
  int64_t line_ = 0;
  bool line_failed_ = false;
  bool stopped_ = false;
  std::vector<std::array<uint8_t, 8>> receipt_;  // per column: the receipt value's bytes
};

NdjsonDecoder::Impl::Impl(const StreamConfig& stream) {
  std::vector<std::string> keys;
  for (const ColumnSpec& spec : stream.columns) {
    ColumnPlan plan;
    plan.type = spec.type;
    plan.field = spec.field.empty() ? spec.name : spec.field;
    plan.nullable = spec.nullable;
    plan.receipt_time = spec.receipt_time;
    plan.values = spec.values;
    plan.expected = ExpectedText(spec);
    const IntRange range = IntegerRange(spec.type.kind);
    plan.min = range.min;
    plan.max = range.max;
    if (!plan.receipt_time) unknown_reason_ += (unknown_reason_.empty() ? "" : ", ") + plan.field;
    keys.push_back(plan.field);
    types_.push_back(spec.type);
    columns_.push_back(std::move(plan));
  }
  unknown_reason_ = "unknown field; this stream has: " + unknown_reason_;
  fields_.Build(keys);
  seen_.assign(columns_.size(), 0);
  receipt_.resize(columns_.size());
}

void NdjsonDecoder::Impl::Fail(std::string_view field, std::string reason) {
  line_failed_ = true;
  if (out_->errors.size() >= max_errors_) {
    out_->errors_truncated = true;
    stopped_ = true;
    return;
  }
  out_->errors.push_back(LineError{line_, std::string(field), std::move(reason)});
}

void NdjsonDecoder::Impl::ReserveRows(DecodedBatch& out, std::string_view body) const {
  size_t lines = 1;
  for (const char* p = body.data(); (p = static_cast<const char*>(std::memchr(p, '\n', body.data() + body.size() - p)));) {
    ++p;
    ++lines;
  }
  out.row_lines.reserve(lines);
  for (size_t c = 0; c < out.rows.column_count(); ++c) {
    ColumnData& col = out.rows.column(c);
    col.valid.reserve(lines);
    if (col.is_variable()) col.offsets.reserve(lines + 1);
    else col.fixed.reserve(lines * col.width);
  }
}

void NdjsonDecoder::Impl::SetReceipt(int64_t receipt_ms) {
  for (size_t c = 0; c < columns_.size(); ++c) {
    if (!columns_[c].receipt_time) continue;
    int64_t v = receipt_ms;
    if (columns_[c].type.kind == TypeKind::kTimestamp) v = receipt_ms * 1000;
    if (columns_[c].type.kind == TypeKind::kDate) {
      const int32_t days = static_cast<int32_t>(FloorDiv(receipt_ms, 86'400'000));
      std::memcpy(receipt_[c].data(), &days, sizeof days);
    } else {
      std::memcpy(receipt_[c].data(), &v, sizeof v);
    }
  }
}

static_assert(kDecodePadding >= simdjson::SIMDJSON_PADDING);

DecodedBatch NdjsonDecoder::Impl::Decode(std::string_view body, int64_t receipt_ms, size_t max_errors,
                                         size_t readable_past_end) {
  DecodedBatch out;
  out.rows = RowBatch(types_);
  out_ = &out;
  max_errors_ = std::max<size_t>(max_errors, 1);
  stopped_ = false;
  SetReceipt(receipt_ms);
  ReserveRows(out, body);
  // Every line needs padding that simdjson may read past its end: the rest of the body and
  // the room after it, or else one padded copy of the body.
  const char* text = body.data();
  size_t readable = body.size() + readable_past_end;
  if (readable_past_end < kDecodePadding) {
    padded_.assign(body);
    padded_.append(simdjson::SIMDJSON_PADDING, '\0');
    text = padded_.data();
    readable = padded_.size();
  }
  size_t rows = 0;
  size_t pos = 0;
  line_ = 0;
  while (pos < body.size() && !stopped_) {
    ++line_;
    const void* nl = std::memchr(text + pos, '\n', body.size() - pos);
    const size_t end = nl ? static_cast<size_t>(static_cast<const char*>(nl) - text) : body.size();
    size_t len = end - pos;
    if (len > 0 && text[pos + len - 1] == '\r') --len;
    const std::string_view line(text + pos, len);
    const size_t capacity = readable - pos;
    pos = end + 1;
    if (IsBlank(line)) continue;
    line_failed_ = false;
    DecodeLine(line, capacity);
    if (line_failed_) {
      out.rows.Truncate(rows);
    } else {
      out.row_lines.push_back(line_);
      ++rows;
    }
  }
  out_ = nullptr;
  return out;
}

void NdjsonDecoder::Impl::DecodeLine(std::string_view line, size_t capacity) {
  od::document doc;
  error_code e = parser_.iterate(line.data(), line.size(), capacity).get(doc);
  if (e) return FailJson(e);
  od::json_type type;
  if ((e = doc.type().get(type))) return FailJson(e);
  if (type != od::json_type::object) return Fail("", "expected a JSON object");
  od::object object;
  if ((e = doc.get_object().get(object))) return FailJson(e);
  ++stamp_;
  for (auto field_result : object) {
    od::field field;
    if ((e = std::move(field_result).get(field))) return FailJson(e);
    std::string_view key;
    if ((e = field.unescaped_key().get(key))) return FailJson(e);
    const int c = fields_.Find(key);
    if (c < 0) {
      Fail(key, unknown_reason_);
    } else if (seen_[c] == stamp_) {
      Fail(key, "duplicate field");
    } else {
      seen_[c] = stamp_;
      if (columns_[c].receipt_time) Fail(key, "set by the server");
      else if ((e = Convert(static_cast<size_t>(c), field.value()))) return FailJson(e);
    }
    if (stopped_) return;
  }
  if (!doc.current_location().error()) return FailJson(simdjson::TRAILING_CONTENT);
  FinishRow();
}

// Columns the line did not set: the receipt time, NULL, or "required".
void NdjsonDecoder::Impl::FinishRow() {
  for (size_t c = 0; c < columns_.size() && !stopped_; ++c) {
    if (seen_[c] == stamp_) continue;
    ColumnData& col = out_->rows.column(c);
    if (columns_[c].receipt_time) col.AppendFixed(receipt_[c].data());
    else if (columns_[c].nullable) col.AppendNull();
    else Fail(columns_[c].field, "required");
  }
}

error_code NdjsonDecoder::Impl::Convert(size_t c, od::value& v) {
  od::json_type t;
  if (error_code e = v.type().get(t)) return e;
  if (t == od::json_type::null) return ConvertNull(c, v);
  ColumnData& col = out_->rows.column(c);
  switch (columns_[c].type.kind) {
    case TypeKind::kBoolean: {
      if (t != od::json_type::boolean) return Mismatch(c, v, t);
      if (error_code e = CheckAtom(v, t)) return e;
      const uint8_t byte = TrimRight(v.raw_json_token()) == "true" ? 1 : 0;
      col.AppendFixed(&byte);
      return simdjson::SUCCESS;
    }
    case TypeKind::kInt8: case TypeKind::kInt16: case TypeKind::kInt32: case TypeKind::kInt64:
    case TypeKind::kUInt8: case TypeKind::kUInt16: case TypeKind::kUInt32: case TypeKind::kUInt64:
      return ConvertInteger(c, v, t);
    case TypeKind::kFloat: case TypeKind::kDouble: return ConvertFloat(c, v, t);
    case TypeKind::kDecimal: return ConvertDecimal(c, v, t);
    case TypeKind::kString: return ConvertString(c, v, t);
    case TypeKind::kJson: case TypeKind::kBinary: return ConvertJsonText(c, v, t);
    case TypeKind::kUuid: case TypeKind::kIpv6: case TypeKind::kDate: return ConvertParsedString(c, v, t);
    case TypeKind::kTimestamp: case TypeKind::kTimestampMs: return ConvertTimestamp(c, v, t);
  }
  return simdjson::SUCCESS;
}

error_code NdjsonDecoder::Impl::ConvertNull(size_t c, od::value& v) {
  if (error_code e = CheckAtom(v, od::json_type::null)) return e;
  if (columns_[c].nullable) out_->rows.column(c).AppendNull();
  else Fail(columns_[c].field, "required");
  return simdjson::SUCCESS;
}

// A value of the wrong JSON type: the error quotes it (containers are skipped to do so).
error_code NdjsonDecoder::Impl::Mismatch(size_t c, od::value& v, od::json_type t) {
  if (t == od::json_type::object || t == od::json_type::array) {
    std::string_view text;
    if (error_code e = simdjson::to_json_string(v).get(text)) return e;
    FailValue(c, TrimRight(text));
  } else {
    FailValue(c, TrimRight(v.raw_json_token()));
  }
  return simdjson::SUCCESS;
}

error_code NdjsonDecoder::Impl::ConvertInteger(size_t c, od::value& v, od::json_type t) {
  if (t != od::json_type::number) return Mismatch(c, v, t);
  const std::string_view token = TrimRight(v.raw_json_token());
  const NumberShape shape = ScanJsonNumber(token);
  if (!shape.valid) return simdjson::NUMBER_ERROR;
  Int128 value = 0;
  const ColumnPlan& plan = columns_[c];
  if (!shape.integer || !ParseIntegerToken(token, &value) || value < plan.min || value > plan.max) {
    FailValue(c, token);
    return simdjson::SUCCESS;
  }
  ColumnData& col = out_->rows.column(c);
  switch (plan.type.kind) {
    case TypeKind::kInt8: AppendAs<int8_t>(col, value); break;
    case TypeKind::kInt16: AppendAs<int16_t>(col, value); break;
    case TypeKind::kInt32: AppendAs<int32_t>(col, value); break;
    case TypeKind::kInt64: AppendAs<int64_t>(col, value); break;
    case TypeKind::kUInt8: AppendAs<uint8_t>(col, value); break;
    case TypeKind::kUInt16: AppendAs<uint16_t>(col, value); break;
    case TypeKind::kUInt32: AppendAs<uint32_t>(col, value); break;
    default: AppendAs<uint64_t>(col, value); break;
  }
  return simdjson::SUCCESS;
}

error_code NdjsonDecoder::Impl::ConvertFloat(size_t c, od::value& v, od::json_type t) {
  if (t != od::json_type::number) return Mismatch(c, v, t);
  const std::string_view token = TrimRight(v.raw_json_token());
  if (!ScanJsonNumber(token).valid) return simdjson::NUMBER_ERROR;
  const bool single = columns_[c].type.kind == TypeKind::kFloat;
  const bool negative = token[0] == '-';
  double d = 0;
  float f = 0;
  const auto result = single ? std::from_chars(token.data(), token.data() + token.size(), f)
                             : std::from_chars(token.data(), token.data() + token.size(), d);
  if (result.ec == std::errc::result_out_of_range) {
    if (LeadingExponent(token) >= 0) {
      Fail(columns_[c].field, std::string("number out of range for ") + (single ? "float" : "double") + "; got " + Shorten(token));
      return simdjson::SUCCESS;
    }
    d = negative ? -0.0 : 0.0;  // underflow
    f = negative ? -0.0f : 0.0f;
  } else if (result.ec != std::errc()) {
    return simdjson::NUMBER_ERROR;
  }
  ColumnData& col = out_->rows.column(c);
  if (single) col.AppendFixed(&f);
  else col.AppendFixed(&d);
  return simdjson::SUCCESS;
}

error_code NdjsonDecoder::Impl::ConvertDecimal(size_t c, od::value& v, od::json_type t) {
  const std::string_view token = TrimRight(v.raw_json_token());
  std::string_view text;
  if (t == od::json_type::number) {
    if (!ScanJsonNumber(token).valid) return simdjson::NUMBER_ERROR;
    text = token;
  } else if (t == od::json_type::string) {
    if (error_code e = v.get_string().get(text)) return e;
  } else {
    return Mismatch(c, v, t);
  }
  const ColumnPlan& plan = columns_[c];
  Int128 value = 0;
  switch (ParseDecimalText(text, plan.type.precision, plan.type.scale, &value)) {
    case DecimalParse::kOk:
      AppendDecimal(out_->rows.column(c), value);
      break;
    case DecimalParse::kSyntax:
      FailValue(c, token);
      break;
    case DecimalParse::kTooManyPlaces:
      Fail(plan.field, "more than " + std::to_string(plan.type.scale) + " decimal places for " + plan.type.ToString() +
                           "; got " + Shorten(token));
      break;
    case DecimalParse::kOverflow:
      Fail(plan.field, "out of range for " + plan.type.ToString() + " (at most " +
                           std::to_string(plan.type.precision - plan.type.scale) + " digits before the point); got " +
                           Shorten(token));
      break;
  }
  return simdjson::SUCCESS;
}

error_code NdjsonDecoder::Impl::ConvertString(size_t c, od::value& v, od::json_type t) {
  if (t != od::json_type::string) return Mismatch(c, v, t);
  const std::string_view token = TrimRight(v.raw_json_token());
  std::string_view text;
  if (error_code e = v.get_string().get(text)) return e;
  const std::vector<std::string>& values = columns_[c].values;
  if (!values.empty() && std::find(values.begin(), values.end(), text) == values.end()) {
    FailValue(c, token);
    return simdjson::SUCCESS;
  }
  out_->rows.column(c).AppendVariable(text);
  return simdjson::SUCCESS;
}

// json: the value's minified JSON text; binary: a string's bytes, else the same text.
error_code NdjsonDecoder::Impl::ConvertJsonText(size_t c, od::value& v, od::json_type t) {
  ColumnData& col = out_->rows.column(c);
  const std::string_view token = v.raw_json_token();
  if (t == od::json_type::string && columns_[c].type.kind == TypeKind::kBinary) {
    std::string_view bytes;
    if (error_code e = v.get_string().get(bytes)) return e;
    col.AppendVariable(bytes);
    return simdjson::SUCCESS;
  }
  if (error_code e = ValidateJson(v, t, 0)) return e;
  if (t != od::json_type::object && t != od::json_type::array) {
    col.AppendVariable(TrimRight(token));  // a scalar has no whitespace to remove
    return simdjson::SUCCESS;
  }
  const char* end = nullptr;
  if (error_code e = v.current_location().get(end)) return e;
  const size_t len = static_cast<size_t>(end - token.data());
  minified_.resize(len + simdjson::SIMDJSON_PADDING);
  size_t out_len = 0;
  if (error_code e = simdjson::minify(token.data(), len, minified_.data(), out_len)) return e;
  col.AppendVariable(std::string_view(minified_.data(), out_len));
  return simdjson::SUCCESS;
}

// Reads every part of a value, so that what On-Demand would skip unchecked is valid JSON.
error_code NdjsonDecoder::Impl::ValidateJson(od::value& v, od::json_type t, int depth) {
  switch (t) {
    case od::json_type::object: {
      if (depth >= kMaxJsonDepth) return simdjson::DEPTH_ERROR;
      od::object object;
      if (error_code e = v.get_object().get(object)) return e;
      for (auto field_result : object) {
        od::field field;
        std::string_view key;
        od::json_type child_type;
        if (error_code e = std::move(field_result).get(field)) return e;
        if (error_code e = field.unescaped_key().get(key)) return e;
        od::value child = field.value();
        if (error_code e = child.type().get(child_type)) return e;
        if (error_code e = ValidateJson(child, child_type, depth + 1)) return e;
      }
      return simdjson::SUCCESS;
    }
    case od::json_type::array: {
      if (depth >= kMaxJsonDepth) return simdjson::DEPTH_ERROR;
      od::array array;
      if (error_code e = v.get_array().get(array)) return e;
      for (auto element : array) {
        od::value child;
        od::json_type child_type;
        if (error_code e = std::move(element).get(child)) return e;
        if (error_code e = child.type().get(child_type)) return e;
        if (error_code e = ValidateJson(child, child_type, depth + 1)) return e;
      }
      return simdjson::SUCCESS;
    }
    case od::json_type::number:
      return ScanJsonNumber(TrimRight(v.raw_json_token())).valid ? simdjson::SUCCESS : simdjson::NUMBER_ERROR;
    case od::json_type::string: {
      std::string_view s;
      return v.get_string().get(s);
    }
    case od::json_type::boolean:
    case od::json_type::null:
      return CheckAtom(v, t);
  }
  return simdjson::SUCCESS;
}

// uuid, ipv6 and date: strings in a fixed text form.
error_code NdjsonDecoder::Impl::ConvertParsedString(size_t c, od::value& v, od::json_type t) {
  if (t != od::json_type::string) return Mismatch(c, v, t);
  const std::string_view token = TrimRight(v.raw_json_token());
  std::string_view text;
  if (error_code e = v.get_string().get(text)) return e;
  ColumnData& col = out_->rows.column(c);
  switch (columns_[c].type.kind) {
    case TypeKind::kUuid: {
      uint64_t hi = 0, lo = 0;
      if (!ParseUuid(text, &hi, &lo)) break;
      const HugeInt h{lo, static_cast<int64_t>(hi ^ (uint64_t{1} << 63))};
      col.AppendFixed(&h);
      return simdjson::SUCCESS;
    }
    case TypeKind::kIpv6: {
      uint8_t bytes[16];
      if (!ParseIp(text, bytes)) break;
      col.AppendVariable(std::string_view(reinterpret_cast<const char*>(bytes), sizeof bytes));
      return simdjson::SUCCESS;
    }
    default: {
      int32_t days = 0;
      if (!ParseDays(text, &days)) break;
      col.AppendFixed(&days);
      return simdjson::SUCCESS;
    }
  }
  FailValue(c, token);
  return simdjson::SUCCESS;
}

error_code NdjsonDecoder::Impl::ConvertTimestamp(size_t c, od::value& v, od::json_type t) {
  const bool micros = columns_[c].type.kind == TypeKind::kTimestamp;
  const std::string_view token = TrimRight(v.raw_json_token());
  int64_t value = 0;
  if (t == od::json_type::number) {
    const NumberShape shape = ScanJsonNumber(token);
    if (!shape.valid) return simdjson::NUMBER_ERROR;
    Int128 ms = 0;
    const Int128 limit = micros ? INT64_MAX / 1000 : INT64_MAX;
    if (!shape.integer || !ParseIntegerToken(token, &ms) || ms > limit || ms < -limit) {
      FailValue(c, token);
      return simdjson::SUCCESS;
    }
    value = static_cast<int64_t>(ms) * (micros ? 1000 : 1);
  } else if (t == od::json_type::string) {
    std::string_view text;
    if (error_code e = v.get_string().get(text)) return e;
    if (!ParseTimestampMicros(text, &value)) {
      FailValue(c, token);
      return simdjson::SUCCESS;
    }
    if (!micros) value = FloorDiv(value, 1000);
  } else {
    return Mismatch(c, v, t);
  }
  out_->rows.column(c).AppendFixed(&value);
  return simdjson::SUCCESS;
}

NdjsonDecoder::NdjsonDecoder(const StreamConfig& stream) : impl_(new Impl(stream)) {}
NdjsonDecoder::~NdjsonDecoder() { delete impl_; }

DecodedBatch NdjsonDecoder::Decode(std::string_view body, int64_t receipt_ms, size_t max_errors,
                                   size_t readable_past_end) {
  return impl_->Decode(body, receipt_ms, max_errors, readable_past_end);
}

}  // namespace pqflow::ingest
