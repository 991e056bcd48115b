#include "source/pg_binary.h"

#include <duckdb.h>

#include <algorithm>
#include <array>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <utility>

// Wire formats follow PostgreSQL's send functions (src/backend/utils/adt/: int.c, int8.c,
// numeric.c, float.c, date.c, timestamp.c, uuid.c, network.c, jsonb.c, varlena.c) and the COPY
// framing in src/backend/commands/copyto.c; docs: "COPY ... Binary Format".

namespace pqflow::source {

namespace {

__extension__ typedef unsigned __int128 UInt128;
__extension__ typedef __int128 Int128;

// pg_type.oid values (src/include/catalog/pg_type.dat); stable across PostgreSQL versions.
constexpr uint32_t kBoolOid = 16, kByteaOid = 17, kNameOid = 19, kInt8Oid = 20, kInt2Oid = 21, kInt4Oid = 23,
                   kTextOid = 25, kOidOid = 26, kJsonOid = 114, kCidrOid = 650, kFloat4Oid = 700, kFloat8Oid = 701,
                   kInetOid = 869, kBpcharOid = 1042, kVarcharOid = 1043, kDateOid = 1082, kTimestampOid = 1114,
                   kTimestamptzOid = 1184, kNumericOid = 1700, kUuidOid = 2950, kJsonbOid = 3802;

struct KnownPgType {
  uint32_t oid;
  const char* name;
  const char* declare;  // the pqflow type to suggest when a declaration does not fit
};

constexpr std::array<KnownPgType, 21> kKnownPgTypes = {{
    {kBoolOid, "bool", "boolean"},
    {kByteaOid, "bytea", "binary"},
    {kNameOid, "name", "string"},
    {kInt8Oid, "int8", "int64"},
    {kInt2Oid, "int2", "int16"},
    {kInt4Oid, "int4", "int32"},
    {kTextOid, "text", "string"},
    {kOidOid, "oid", "uint32"},
    {kJsonOid, "json", "json"},
    {kCidrOid, "cidr", "string"},
    {kFloat4Oid, "float4", "float"},
    {kFloat8Oid, "float8", "double"},
    {kInetOid, "inet", "string"},
    {kBpcharOid, "bpchar", "string"},
    {kVarcharOid, "varchar", "string"},
    {kDateOid, "date", "date"},
    {kTimestampOid, "timestamp", "timestamp"},
    {kTimestamptzOid, "timestamptz", "timestamp"},
    {kNumericOid, "numeric", "decimal(p,s) or double"},  // or decimal(p,s) from the typmod
    {kUuidOid, "uuid", "uuid"},
    {kJsonbOid, "jsonb", "json"},
}};

const KnownPgType* FindPgType(uint32_t oid) {
  for (const auto& t : kKnownPgTypes) {
    if (t.oid == oid) return &t;
  }
  return nullptr;
}

// The numeric typmod is ((precision << 16) | scale) + VARHDRSZ; -1 when unconstrained.
std::string NumericDeclaration(int32_t typmod) {
  if (typmod >= 4) {
    int precision = ((typmod - 4) >> 16) & 0xffff;
    int scale = (typmod - 4) & 0xffff;
    if (precision >= 1 && precision <= 38 && scale <= precision) {
      return "decimal(" + std::to_string(precision) + "," + std::to_string(scale) + ")";
    }
  }
  return "decimal(p,s) or double";
}

bool IsIntegerKind(TypeKind kind) {
  switch (kind) {
    case TypeKind::kInt8: case TypeKind::kInt16: case TypeKind::kInt32: case TypeKind::kInt64:
    case TypeKind::kUInt8: case TypeKind::kUInt16: case TypeKind::kUInt32: case TypeKind::kUInt64:
      return true;
    default:
      return false;
  }
}

// Network byte order reads; callers have checked the bounds.
uint16_t Be16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, sizeof v);
  return std::endian::native == std::endian::little ? __builtin_bswap16(v) : v;
}
uint32_t Be32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return std::endian::native == std::endian::little ? __builtin_bswap32(v) : v;
}
uint64_t Be64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return std::endian::native == std::endian::little ? __builtin_bswap64(v) : v;
}

template <typename T>
void Put(uint8_t* data, uint64_t row, T value) {
  std::memcpy(data + row * sizeof(T), &value, sizeof(T));
}

constexpr std::array<UInt128, 39> MakePowersOfTen() {
  std::array<UInt128, 39> p{};
  p[0] = 1;
  for (size_t i = 1; i < p.size(); ++i) p[i] = p[i - 1] * 10;
  return p;
}
constexpr std::array<UInt128, 39> kPow10 = MakePowersOfTen();

constexpr int32_t kPgEpochDays = 10957;                  // 1970-01-01 .. 2000-01-01
constexpr int64_t kPgEpochMicros = 946684800000000;      // the same, in microseconds
constexpr int64_t kPgEpochMillis = kPgEpochMicros / 1000;

// numeric sign word (src/backend/utils/adt/numeric.c).
constexpr uint16_t kNumericPos = 0x0000, kNumericNeg = 0x4000, kNumericNaN = 0xC000, kNumericPinf = 0xD000,
                   kNumericNinf = 0xF000;

// A numeric as numeric_send writes it: value = sum(digit[i] * 10000^(weight - i)).
struct Numeric {
  int ndigits = 0;
  int weight = 0;
  uint16_t sign = 0;
  int dscale = 0;
  const uint8_t* digits = nullptr;

  uint32_t digit(int i) const { return Be16(digits + 2 * i); }
  bool negative() const { return sign == kNumericNeg || sign == kNumericNinf; }
  bool special() const { return sign == kNumericNaN || sign == kNumericPinf || sign == kNumericNinf; }
};

}  // namespace

namespace pg_binary_internal {

enum class Source : uint8_t {
  kOther, kBool, kInt2, kInt4, kInt8, kOid, kNumeric, kFloat4, kFloat8, kText, kJson, kJsonb, kBytea, kUuid,
  kInet, kDate, kTimestamp,
};

enum class Conversion : uint8_t {
  kUnsupported,
  kBool,              // bool -> boolean
  kIntAsInt,          // int2/int4/int8/oid -> any integer (range-checked)
  kIntAsDecimal,
  kIntAsFloat,
  kIntAsDouble,
  kNumericAsInt,      // only integral values in range
  kNumericAsDecimal,  // exact: no digit may be dropped
  kNumericAsFloat,    // nearest
  kNumericAsDouble,
  kFloat4AsFloat,
  kFloat4AsDouble,
  kFloat8AsFloat,
  kFloat8AsDouble,
  kBytes,             // text-like, json, bytea: stored as sent
  kJsonb,             // version byte stripped
  kUuid,
  kUuidAsText,
  kInetAsText,
  kDate,
  kTimestampAsMicros,
  kTimestampAsMillis,
};

}  // namespace pg_binary_internal

namespace {

using pg_binary_internal::Conversion;
using pg_binary_internal::Cursor;
using pg_binary_internal::Plan;
using pg_binary_internal::Sink;
using pg_binary_internal::Source;

enum class Failure : uint8_t {
  kNone,
  kLength,       // the field's byte length is impossible for its type
  kMalformed,    // the bytes are not a valid value of the type
  kRange,        // the value does not fit the declared type
  kInexact,      // storing it would drop nonzero fractional digits
  kNaN,
  kInfinity,
  kJsonbVersion,
};

Source SourceOf(uint32_t oid) {
  switch (oid) {
    case kBoolOid: return Source::kBool;
    case kInt2Oid: return Source::kInt2;
    case kInt4Oid: return Source::kInt4;
    case kInt8Oid: return Source::kInt8;
    case kOidOid: return Source::kOid;
    case kNumericOid: return Source::kNumeric;
    case kFloat4Oid: return Source::kFloat4;
    case kFloat8Oid: return Source::kFloat8;
    case kTextOid: case kVarcharOid: case kBpcharOid: case kNameOid: return Source::kText;
    case kJsonOid: return Source::kJson;
    case kJsonbOid: return Source::kJsonb;
    case kByteaOid: return Source::kBytea;
    case kUuidOid: return Source::kUuid;
    case kInetOid: case kCidrOid: return Source::kInet;
    case kDateOid: return Source::kDate;
    case kTimestampOid: case kTimestamptzOid: return Source::kTimestamp;
    default: return Source::kOther;
  }
}

Conversion ConversionFor(Source source, TypeKind target) {
  const bool integer = IsIntegerKind(target);
  switch (source) {
    case Source::kBool:
      return target == TypeKind::kBoolean ? Conversion::kBool : Conversion::kUnsupported;
    case Source::kInt2: case Source::kInt4: case Source::kInt8: case Source::kOid:
      if (integer) return Conversion::kIntAsInt;
      if (target == TypeKind::kDecimal) return Conversion::kIntAsDecimal;
      if (target == TypeKind::kFloat) return Conversion::kIntAsFloat;
      if (target == TypeKind::kDouble) return Conversion::kIntAsDouble;
      return Conversion::kUnsupported;
    case Source::kNumeric:
      if (integer) return Conversion::kNumericAsInt;
      if (target == TypeKind::kDecimal) return Conversion::kNumericAsDecimal;
      if (target == TypeKind::kFloat) return Conversion::kNumericAsFloat;
      if (target == TypeKind::kDouble) return Conversion::kNumericAsDouble;
      return Conversion::kUnsupported;
    case Source::kFloat4:
      if (target == TypeKind::kFloat) return Conversion::kFloat4AsFloat;
      if (target == TypeKind::kDouble) return Conversion::kFloat4AsDouble;
      return Conversion::kUnsupported;
    case Source::kFloat8:
      if (target == TypeKind::kFloat) return Conversion::kFloat8AsFloat;
      if (target == TypeKind::kDouble) return Conversion::kFloat8AsDouble;
      return Conversion::kUnsupported;
    case Source::kText: case Source::kJson:
      return target == TypeKind::kString || target == TypeKind::kJson ? Conversion::kBytes : Conversion::kUnsupported;
    case Source::kJsonb:
      return target == TypeKind::kString || target == TypeKind::kJson ? Conversion::kJsonb : Conversion::kUnsupported;
    case Source::kBytea:
      return target == TypeKind::kBinary ? Conversion::kBytes : Conversion::kUnsupported;
    case Source::kUuid:
      if (target == TypeKind::kUuid) return Conversion::kUuid;
      if (target == TypeKind::kString) return Conversion::kUuidAsText;
      return Conversion::kUnsupported;
    case Source::kInet:
      return target == TypeKind::kString ? Conversion::kInetAsText : Conversion::kUnsupported;
    case Source::kDate:
      return target == TypeKind::kDate ? Conversion::kDate : Conversion::kUnsupported;
    case Source::kTimestamp:
      if (target == TypeKind::kTimestamp) return Conversion::kTimestampAsMicros;
      if (target == TypeKind::kTimestampMs) return Conversion::kTimestampAsMillis;
      return Conversion::kUnsupported;
    case Source::kOther:
      return Conversion::kUnsupported;
  }
  return Conversion::kUnsupported;
}

// The DuckDB vector width and accepted range of an integer target.
struct IntegerTarget {
  uint8_t width;
  int64_t min;
  uint64_t max;
};

IntegerTarget IntegerTargetOf(TypeKind kind) {
  switch (kind) {
    case TypeKind::kInt8: return {1, INT8_MIN, INT8_MAX};
    case TypeKind::kInt16: return {2, INT16_MIN, INT16_MAX};
    case TypeKind::kInt32: return {4, INT32_MIN, INT32_MAX};
    case TypeKind::kInt64: return {8, INT64_MIN, INT64_MAX};
    case TypeKind::kUInt8: return {1, 0, UINT8_MAX};
    case TypeKind::kUInt16: return {2, 0, UINT16_MAX};
    case TypeKind::kUInt32: return {4, 0, UINT32_MAX};
    default: return {8, 0, UINT64_MAX};
  }
}

// DuckDB's physical decimal width: int16 up to 4 digits, int32 up to 9, int64 up to 18, else hugeint.
uint8_t DecimalWidth(int precision) { return precision <= 4 ? 2 : precision <= 9 ? 4 : precision <= 18 ? 8 : 16; }

duckdb_type DuckDbTypeId(TypeKind kind) {
  switch (kind) {
    case TypeKind::kBoolean: return DUCKDB_TYPE_BOOLEAN;
    case TypeKind::kInt8: return DUCKDB_TYPE_TINYINT;
    case TypeKind::kInt16: return DUCKDB_TYPE_SMALLINT;
    case TypeKind::kInt32: return DUCKDB_TYPE_INTEGER;
    case TypeKind::kInt64: return DUCKDB_TYPE_BIGINT;
    case TypeKind::kUInt8: return DUCKDB_TYPE_UTINYINT;
    case TypeKind::kUInt16: return DUCKDB_TYPE_USMALLINT;
    case TypeKind::kUInt32: return DUCKDB_TYPE_UINTEGER;
    case TypeKind::kUInt64: return DUCKDB_TYPE_UBIGINT;
    case TypeKind::kFloat: return DUCKDB_TYPE_FLOAT;
    case TypeKind::kDouble: return DUCKDB_TYPE_DOUBLE;
    case TypeKind::kDecimal: return DUCKDB_TYPE_DECIMAL;
    case TypeKind::kString: case TypeKind::kJson: return DUCKDB_TYPE_VARCHAR;
    case TypeKind::kBinary: case TypeKind::kIpv6: return DUCKDB_TYPE_BLOB;
    case TypeKind::kUuid: return DUCKDB_TYPE_UUID;
    case TypeKind::kDate: return DUCKDB_TYPE_DATE;
    case TypeKind::kTimestamp: return DUCKDB_TYPE_TIMESTAMP_TZ;
    case TypeKind::kTimestampMs: return DUCKDB_TYPE_TIMESTAMP_MS;
  }
  return DUCKDB_TYPE_INVALID;
}

bool VectorHasType(duckdb_vector vector, const ColumnType& type) {
  duckdb_logical_type logical = duckdb_vector_get_column_type(vector);
  bool ok = duckdb_get_type_id(logical) == DuckDbTypeId(type.kind);
  if (ok && type.kind == TypeKind::kDecimal) {
    ok = duckdb_decimal_width(logical) == type.precision && duckdb_decimal_scale(logical) == type.scale;
  }
  duckdb_destroy_logical_type(&logical);
  return ok;
}

// --- field decoders: each checks the length first and never reads past `len` ---

// False if `len` is not the width of the integer source.
bool ReadInt(Source source, const uint8_t* p, uint32_t len, int64_t* value) {
  switch (source) {
    case Source::kInt2:
      if (len != 2) return false;
      *value = static_cast<int16_t>(Be16(p));
      return true;
    case Source::kInt4:
      if (len != 4) return false;
      *value = static_cast<int32_t>(Be32(p));
      return true;
    case Source::kOid:  // unsigned
      if (len != 4) return false;
      *value = Be32(p);
      return true;
    case Source::kInt8:
      if (len != 8) return false;
      *value = static_cast<int64_t>(Be64(p));
      return true;
    default:
      return false;
  }
}

// Stores the low `width` bytes of a two's-complement value that is known to fit.
void PutInt(uint8_t* data, uint64_t row, uint8_t width, uint64_t bits) {
  switch (width) {
    case 1: Put(data, row, static_cast<uint8_t>(bits)); break;
    case 2: Put(data, row, static_cast<uint16_t>(bits)); break;
    case 4: Put(data, row, static_cast<uint32_t>(bits)); break;
    default: Put(data, row, bits); break;
  }
}

void PutDecimal(uint8_t* data, uint64_t row, uint8_t width, bool negative, UInt128 magnitude) {
  const Int128 v = negative ? -static_cast<Int128>(magnitude) : static_cast<Int128>(magnitude);
  switch (width) {
    case 2: Put(data, row, static_cast<int16_t>(v)); break;
    case 4: Put(data, row, static_cast<int32_t>(v)); break;
    case 8: Put(data, row, static_cast<int64_t>(v)); break;
    default: Put(data, row, duckdb_hugeint{static_cast<uint64_t>(v), static_cast<int64_t>(v >> 64)}); break;
  }
}

Failure ParseNumeric(const uint8_t* p, uint32_t len, Numeric* n) {
  if (len < 8) return Failure::kLength;
  n->ndigits = static_cast<int16_t>(Be16(p));
  n->weight = static_cast<int16_t>(Be16(p + 2));
  n->sign = Be16(p + 4);
  n->dscale = static_cast<int16_t>(Be16(p + 6));
  n->digits = p + 8;
  if (n->ndigits < 0 || len != 8 + 2 * static_cast<uint32_t>(n->ndigits)) return Failure::kLength;
  if (n->sign != kNumericPos && n->sign != kNumericNeg && !n->special()) return Failure::kMalformed;
  return Failure::kNone;
}

// acc * 10^k + d, or false if that exceeds `limit` (or 128 bits).
bool MulAdd(UInt128* acc, int k, uint32_t d, UInt128 limit) {
  UInt128 next;
  if (__builtin_mul_overflow(*acc, kPow10[k], &next) || __builtin_add_overflow(next, UInt128{d}, &next)) return false;
  *acc = next;
  return next <= limit;
}

// |value| * 10^scale as an integer no larger than `limit`. Fails with kInexact rather than
// dropping a nonzero digit, so 1.50 fits scale 1 but 1.25 does not.
Failure ScaledMagnitude(const Numeric& n, int scale, UInt128 limit, UInt128* out) {
  static constexpr uint32_t kSmallPow10[] = {1, 10, 100, 1000, 10000};
  UInt128 acc = 0;
  // Power of ten, in units of the result, of the lowest decimal digit of base-10000 digit i.
  int shift = 4 * n.weight + scale;
  for (int i = 0; i < n.ndigits; ++i, shift -= 4) {
    uint32_t d = n.digit(i);
    if (d > 9999) return Failure::kMalformed;
    int keep = 4;  // how many of its 4 decimal digits survive
    if (shift < 0) {
      keep = std::max(shift + 4, 0);
      if (d % kSmallPow10[4 - keep] != 0) return Failure::kInexact;
      if (keep == 0) continue;
      d /= kSmallPow10[4 - keep];
    }
    if (!MulAdd(&acc, keep, d, limit)) return Failure::kRange;
  }
  // Trailing zero digits are not sent (10000 is one digit of weight 1): scale up for them.
  const int trailing = shift + 4;
  if (trailing > 0 && acc != 0 && (trailing > 38 || !MulAdd(&acc, trailing, 0, limit))) return Failure::kRange;
  *out = acc;
  return Failure::kNone;
}

// Nearest float or double. The digits go through std::from_chars, which rounds correctly;
// beyond 200 base-10000 digits (800 decimal digits, more than the 767 that can decide a
// double's rounding) the rest is folded into one sticky digit.
template <typename T>
Failure NumericToFloating(const Numeric& n, T* out) {
  if (n.sign == kNumericNaN) {
    *out = std::numeric_limits<T>::quiet_NaN();
    return Failure::kNone;
  }
  if (n.sign == kNumericPinf || n.sign == kNumericNinf) {
    *out = n.negative() ? -std::numeric_limits<T>::infinity() : std::numeric_limits<T>::infinity();
    return Failure::kNone;
  }
  constexpr int kMaxDigits = 200;
  char buf[1 + 4 * kMaxDigits + 1 + 16];
  char* w = buf;
  if (n.negative()) *w++ = '-';
  const int used = std::min(n.ndigits, kMaxDigits);
  for (int i = 0; i < used; ++i) {
    uint32_t d = n.digit(i);
    if (d > 9999) return Failure::kMalformed;
    for (int k = 3; k >= 0; --k, d /= 10) w[k] = static_cast<char>('0' + d % 10);
    w += 4;
  }
  int exponent = 4 * (n.weight - used + 1);
  bool sticky = false;
  for (int i = used; i < n.ndigits; ++i) {
    const uint32_t d = n.digit(i);
    if (d > 9999) return Failure::kMalformed;
    sticky |= d != 0;
  }
  if (sticky) {
    *w++ = '1';
    --exponent;
  }
  if (used == 0) *w++ = '0';
  *w++ = 'e';
  w = std::to_chars(w, buf + sizeof buf, exponent).ptr;
  T value{};
  const auto [end, ec] = std::from_chars(buf, w, value);
  if (ec == std::errc::result_out_of_range || (ec == std::errc() && std::isinf(value))) {
    if (n.weight >= 0) return Failure::kRange;  // too large
    value = n.negative() ? T(-0.0) : T(0.0);    // too small: nearest is zero
  } else if (ec != std::errc() || end != w) {
    return Failure::kMalformed;
  }
  *out = value;
  return Failure::kNone;
}

// The 8-4-4-4-12 lowercase form; `out` holds 36 characters.
void FormatUuid(const uint8_t* p, char* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) *out++ = '-';
    *out++ = kHex[p[i] >> 4];
    *out++ = kHex[p[i] & 15];
  }
}

// PostgreSQL's text form of inet/cidr (network_out and pg_inet_net_ntop in src/port/
// inet_net_ntop.c): IPv4 dotted quad; IPv6 with the first longest run of two or more zero
// words as "::" and ::a.b.c.d / ::ffff:a.b.c.d for embedded IPv4; "/bits" unless an inet has
// the full width. Returns the length written to `out` (at most 43 bytes), or 0 if malformed.
size_t FormatInet(const uint8_t* p, uint32_t len, char* out) {
  if (len < 4) return 0;
  const uint8_t family = p[0], bits = p[1], is_cidr = p[2], nbytes = p[3];
  const uint8_t* addr = p + 4;
  const bool v4 = family == 2;  // PGSQL_AF_INET (AF_INET); PGSQL_AF_INET6 is AF_INET + 1
  if ((!v4 && family != 3) || nbytes != (v4 ? 4 : 16) || len != 4u + nbytes || bits > (v4 ? 32 : 128)) return 0;
  char* w = out;
  auto decimal_quad = [&w](const uint8_t* q) {
    for (int i = 0; i < 4; ++i) {
      if (i > 0) *w++ = '.';
      w = std::to_chars(w, w + 3, unsigned{q[i]}).ptr;
    }
  };
  if (v4) {
    decimal_quad(addr);
  } else {
    uint32_t words[8];
    for (int i = 0; i < 8; ++i) words[i] = Be16(addr + 2 * i);
    int best = -1, best_len = 0;
    for (int i = 0; i < 8;) {
      if (words[i] != 0) {
        ++i;
        continue;
      }
      int j = i;
      while (j < 8 && words[j] == 0) ++j;
      if (j - i > best_len) best = i, best_len = j - i;
      i = j;
    }
    if (best_len < 2) best = -1;
    for (int i = 0; i < 8; ++i) {
      if (best >= 0 && i >= best && i < best + best_len) {
        if (i == best) *w++ = ':';
        continue;
      }
      if (i != 0) *w++ = ':';
      if (i == 6 && best == 0 && (best_len == 6 || (best_len == 5 && words[5] == 0xffff))) {
        decimal_quad(addr + 12);
        break;
      }
      w = std::to_chars(w, w + 4, words[i], 16).ptr;
    }
    if (best >= 0 && best + best_len == 8) *w++ = ':';
  }
  if (is_cidr || bits != (v4 ? 32 : 128)) {
    *w++ = '/';
    w = std::to_chars(w, w + 3, unsigned{bits}).ptr;
  }
  return static_cast<size_t>(w - out);
}

// --- error messages ---

// The value as PostgreSQL would show it, for error messages (cold path).
std::string NumericText(const Numeric& n) {
  if (n.sign == kNumericNaN) return "NaN";
  if (n.sign == kNumericPinf) return "Infinity";
  if (n.sign == kNumericNinf) return "-Infinity";
  std::string digits;  // every base-10000 digit as 4 decimal digits
  for (int i = 0; i < n.ndigits; ++i) {
    const std::string group = std::to_string(n.digit(i) % 10000);
    digits += std::string(4 - group.size(), '0') + group;
  }
  int point = 4 * (n.weight + 1);  // decimal digits before the point
  if (point < 0) {
    digits.insert(0, static_cast<size_t>(-point), '0');
    point = 0;
  }
  if (static_cast<size_t>(point) > digits.size()) digits.append(point - digits.size(), '0');
  std::string integer = digits.substr(0, point);
  integer.erase(0, std::min(integer.find_first_not_of('0'), integer.size()));
  std::string fraction = digits.substr(point);
  fraction.erase(std::min(fraction.find_last_not_of('0') + 1, fraction.size()));
  if (static_cast<int>(fraction.size()) < n.dscale) fraction.append(n.dscale - fraction.size(), '0');
  return (n.negative() ? "-" : "") + (integer.empty() ? "0" : integer) + (fraction.empty() ? "" : "." + fraction);
}

std::string ValueText(Source source, const uint8_t* p, uint32_t len) {
  int64_t i = 0;
  if (ReadInt(source, p, len, &i)) return std::to_string(i);
  char buf[32];
  switch (source) {
    case Source::kNumeric: {
      Numeric n;
      return ParseNumeric(p, len, &n) == Failure::kNone ? NumericText(n) : "?";
    }
    case Source::kFloat4:
      if (len != 4) break;
      return std::string(buf, std::to_chars(buf, buf + sizeof buf, std::bit_cast<float>(Be32(p))).ptr);
    case Source::kFloat8:
      if (len != 8) break;
      return std::string(buf, std::to_chars(buf, buf + sizeof buf, std::bit_cast<double>(Be64(p))).ptr);
    case Source::kDate:
      if (len != 4) break;
      return std::to_string(static_cast<int32_t>(Be32(p))) + " days from 2000-01-01";
    case Source::kTimestamp:
      if (len != 8) break;
      return std::to_string(static_cast<int64_t>(Be64(p))) + " microseconds from 2000-01-01 00:00 UTC";
    default:
      break;
  }
  return "?";
}

bool NegativeInfinity(Source source, const uint8_t* p, uint32_t len) {
  if (source == Source::kDate && len == 4) return static_cast<int32_t>(Be32(p)) == INT32_MIN;
  if (source == Source::kTimestamp && len == 8) return static_cast<int64_t>(Be64(p)) == INT64_MIN;
  Numeric n;
  return source == Source::kNumeric && ParseNumeric(p, len, &n) == Failure::kNone && n.sign == kNumericNinf;
}

Status Malformed(const std::string& where, const std::string& what) {
  return Status::InvalidArgument(where + "malformed binary COPY data: " + what);
}

// Converts one non-NULL field into row `row` of the column's vector.
Failure DecodeField(const Plan& plan, const Sink& sink, const uint8_t* p, uint32_t len, uint64_t row) {
  switch (plan.conversion) {
    case Conversion::kUnsupported:
      return Failure::kMalformed;  // unreachable: Decode refuses such columns first
    case Conversion::kBool:
      if (len != 1) return Failure::kLength;
      Put<uint8_t>(sink.data, row, p[0] != 0);
      return Failure::kNone;
    case Conversion::kIntAsInt: {
      int64_t v;
      if (!ReadInt(plan.source, p, len, &v)) return Failure::kLength;
      if (v < plan.min || (v > 0 && static_cast<uint64_t>(v) > plan.max)) return Failure::kRange;
      PutInt(sink.data, row, plan.width, static_cast<uint64_t>(v));
      return Failure::kNone;
    }
    case Conversion::kIntAsDecimal: {
      int64_t v;
      if (!ReadInt(plan.source, p, len, &v)) return Failure::kLength;
      const UInt128 magnitude = v < 0 ? uint64_t{0} - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
      if (magnitude > plan.max) return Failure::kRange;
      PutDecimal(sink.data, row, plan.width, v < 0, magnitude * kPow10[plan.scale]);
      return Failure::kNone;
    }
    case Conversion::kIntAsFloat:
    case Conversion::kIntAsDouble: {
      int64_t v;
      if (!ReadInt(plan.source, p, len, &v)) return Failure::kLength;
      if (plan.conversion == Conversion::kIntAsFloat) {
        Put(sink.data, row, static_cast<float>(v));
      } else {
        Put(sink.data, row, static_cast<double>(v));
      }
      return Failure::kNone;
    }
    case Conversion::kNumericAsInt: {
      Numeric n;
      UInt128 magnitude = 0;
      if (Failure f = ParseNumeric(p, len, &n); f != Failure::kNone) return f;
      if (n.sign == kNumericNaN) return Failure::kNaN;
      if (n.special()) return Failure::kInfinity;
      if (Failure f = ScaledMagnitude(n, 0, UINT64_MAX, &magnitude); f != Failure::kNone) return f;
      const UInt128 limit = n.negative() ? static_cast<UInt128>(-static_cast<Int128>(plan.min)) : plan.max;
      if (magnitude > limit) return Failure::kRange;
      const uint64_t low = static_cast<uint64_t>(magnitude);
      PutInt(sink.data, row, plan.width, n.negative() ? uint64_t{0} - low : low);
      return Failure::kNone;
    }
    case Conversion::kNumericAsDecimal: {
      Numeric n;
      UInt128 magnitude = 0;
      if (Failure f = ParseNumeric(p, len, &n); f != Failure::kNone) return f;
      if (n.sign == kNumericNaN) return Failure::kNaN;
      if (n.special()) return Failure::kInfinity;
      if (Failure f = ScaledMagnitude(n, plan.scale, kPow10[plan.precision] - 1, &magnitude); f != Failure::kNone) {
        return f;
      }
      PutDecimal(sink.data, row, plan.width, n.negative(), magnitude);
      return Failure::kNone;
    }
    case Conversion::kNumericAsFloat:
    case Conversion::kNumericAsDouble: {
      Numeric n;
      if (Failure f = ParseNumeric(p, len, &n); f != Failure::kNone) return f;
      if (plan.conversion == Conversion::kNumericAsFloat) {
        float v;
        if (Failure f = NumericToFloating(n, &v); f != Failure::kNone) return f;
        Put(sink.data, row, v);
      } else {
        double v;
        if (Failure f = NumericToFloating(n, &v); f != Failure::kNone) return f;
        Put(sink.data, row, v);
      }
      return Failure::kNone;
    }
    case Conversion::kFloat4AsFloat:
    case Conversion::kFloat4AsDouble: {
      if (len != 4) return Failure::kLength;
      const float v = std::bit_cast<float>(Be32(p));
      if (plan.conversion == Conversion::kFloat4AsFloat) {
        Put(sink.data, row, v);
      } else {
        Put(sink.data, row, static_cast<double>(v));
      }
      return Failure::kNone;
    }
    case Conversion::kFloat8AsFloat:
    case Conversion::kFloat8AsDouble: {
      if (len != 8) return Failure::kLength;
      const double v = std::bit_cast<double>(Be64(p));
      if (plan.conversion == Conversion::kFloat8AsDouble) {
        Put(sink.data, row, v);
        return Failure::kNone;
      }
      const float f = static_cast<float>(v);
      if (std::isinf(f) && std::isfinite(v)) return Failure::kRange;
      Put(sink.data, row, f);
      return Failure::kNone;
    }
    case Conversion::kBytes:
      // Text arrives in client_encoding, which the PostgreSQL source sets to UTF8; the server
      // only stores valid UTF-8 in a UTF8 database, so it is not validated again here.
      duckdb_vector_assign_string_element_len(sink.vector, row, reinterpret_cast<const char*>(p), len);
      return Failure::kNone;
    case Conversion::kJsonb:
      if (len < 1) return Failure::kLength;
      if (p[0] != 1) return Failure::kJsonbVersion;
      duckdb_vector_assign_string_element_len(sink.vector, row, reinterpret_cast<const char*>(p + 1), len - 1);
      return Failure::kNone;
    case Conversion::kUuid: {
      if (len != 16) return Failure::kLength;
      // DuckDB keeps a UUID as the big-endian 128-bit number with its top bit flipped, so that
      // signed comparison orders UUIDs like their text.
      const uint64_t upper = Be64(p) ^ (uint64_t{1} << 63);
      Put(sink.data, row, duckdb_hugeint{Be64(p + 8), static_cast<int64_t>(upper)});
      return Failure::kNone;
    }
    case Conversion::kUuidAsText: {
      if (len != 16) return Failure::kLength;
      char text[36];
      FormatUuid(p, text);
      duckdb_vector_assign_string_element_len(sink.vector, row, text, sizeof text);
      return Failure::kNone;
    }
    case Conversion::kInetAsText: {
      char text[64];
      const size_t n = FormatInet(p, len, text);
      if (n == 0) return Failure::kMalformed;
      duckdb_vector_assign_string_element_len(sink.vector, row, text, n);
      return Failure::kNone;
    }
    case Conversion::kDate: {
      if (len != 4) return Failure::kLength;
      const int32_t days = static_cast<int32_t>(Be32(p));
      if (days == INT32_MAX || days == INT32_MIN) return Failure::kInfinity;
      const int64_t shifted = int64_t{days} + kPgEpochDays;
      // DuckDB reserves +-INT32_MAX for its own infinities.
      if (shifted >= INT32_MAX || shifted <= -INT32_MAX) return Failure::kRange;
      Put(sink.data, row, static_cast<int32_t>(shifted));
      return Failure::kNone;
    }
    case Conversion::kTimestampAsMicros:
    case Conversion::kTimestampAsMillis: {
      if (len != 8) return Failure::kLength;
      const int64_t micros = static_cast<int64_t>(Be64(p));
      if (micros == INT64_MAX || micros == INT64_MIN) return Failure::kInfinity;
      int64_t out;
      if (plan.conversion == Conversion::kTimestampAsMillis) {
        const int64_t millis = micros / 1000 - (micros % 1000 < 0 ? 1 : 0);  // floor, also before 2000
        out = millis + kPgEpochMillis;
      } else if (__builtin_add_overflow(micros, kPgEpochMicros, &out) || out == INT64_MAX) {
        return Failure::kRange;
      }
      Put(sink.data, row, out);
      return Failure::kNone;
    }
  }
  return Failure::kMalformed;
}

Status FieldError(const PgColumn& col, Source source, uint64_t copy_row, Failure failure, const uint8_t* p,
                  uint32_t len) {
  const std::string where = "row " + std::to_string(copy_row) + ", column \"" + col.name + "\": ";
  const std::string target = col.target.ToString();
  const std::string pg_type = PgTypeName(col.type_oid);
  switch (failure) {
    case Failure::kLength:
      return Malformed(where, "a value of type " + pg_type + " cannot be " + std::to_string(len) + " bytes long");
    case Failure::kRange:
      return Status::InvalidArgument(where + "value " + ValueText(source, p, len) + " does not fit " + target);
    case Failure::kInexact:
      if (IsIntegerKind(col.target.kind)) {
        return Status::InvalidArgument(where + "value " + ValueText(source, p, len) +
                                       " is not a whole number, so it cannot be stored as " + target);
      }
      return Status::InvalidArgument(where + "value " + ValueText(source, p, len) + " does not fit " + target +
                                     " without rounding; declare a larger scale or round it in the query");
    case Failure::kNaN:
      return Status::InvalidArgument(where + "NaN cannot be stored as " + target);
    case Failure::kInfinity: {
      const std::string what = (NegativeInfinity(source, p, len) ? "-infinity" : "infinity");
      if (source == Source::kNumeric) return Status::InvalidArgument(where + what + " cannot be stored as " + target);
      return Status::InvalidArgument(where + what + " cannot be stored as " + target + " (Parquet readers do not " +
                                     "agree on infinities); filter or replace it in the query");
    }
    case Failure::kJsonbVersion:
      return Malformed(where, "unsupported jsonb version " + std::to_string(len > 0 ? p[0] : 0));
    case Failure::kMalformed:
    case Failure::kNone:
      break;
  }
  return Malformed(where, "invalid " + pg_type + " value");
}

}  // namespace

// Bounds-checked reads over one message.
class pg_binary_internal::Cursor {
 public:
  explicit Cursor(std::string_view message)
      : p_(reinterpret_cast<const uint8_t*>(message.data())), left_(message.size()) {}
  const uint8_t* data() const { return p_; }
  size_t left() const { return left_; }
  void Skip(size_t n) { p_ += n, left_ -= n; }  // n <= left()
  bool ReadInt16(int16_t* v) {
    if (left_ < 2) return false;
    *v = static_cast<int16_t>(Be16(p_));
    Skip(2);
    return true;
  }
  bool ReadInt32(int32_t* v) {
    if (left_ < 4) return false;
    *v = static_cast<int32_t>(Be32(p_));
    Skip(4);
    return true;
  }

 private:
  const uint8_t* p_;
  size_t left_;
};

std::string PgTypeName(uint32_t type_oid) {
  const KnownPgType* t = FindPgType(type_oid);
  return t ? t->name : "oid " + std::to_string(type_oid);
}

Status CheckPgColumn(const PgColumn& column) {
  const KnownPgType* t = FindPgType(column.type_oid);
  const std::string prefix = "column \"" + column.name + "\": PostgreSQL type " + PgTypeName(column.type_oid);
  if (t == nullptr) {
    return Status::InvalidArgument(prefix + " is not supported; cast it in the query (e.g. ::text) and declare it " +
                                   "as the matching type (string for ::text)");
  }
  if (ConversionFor(SourceOf(column.type_oid), column.target.kind) != Conversion::kUnsupported) return Status::OK();
  const std::string declare = column.type_oid == kNumericOid ? NumericDeclaration(column.typmod) : t->declare;
  return Status::InvalidArgument(prefix + " cannot be stored as " + column.target.ToString() + "; declare it as " +
                                 declare);
}

PgBinaryDecoder::PgBinaryDecoder(std::vector<PgColumn> columns)
    : columns_(std::move(columns)), plans_(columns_.size()), sinks_(columns_.size()) {
  for (size_t c = 0; c < columns_.size(); ++c) {
    const PgColumn& column = columns_[c];
    Plan& plan = plans_[c];
    plan.source = SourceOf(column.type_oid);
    plan.conversion = ConversionFor(plan.source, column.target.kind);
    if (plan.conversion == Conversion::kUnsupported && plan_status_.ok()) plan_status_ = CheckPgColumn(column);
    if (IsIntegerKind(column.target.kind)) {
      const IntegerTarget t = IntegerTargetOf(column.target.kind);
      plan.width = t.width;
      plan.min = t.min;
      plan.max = t.max;
    } else if (column.target.kind == TypeKind::kDecimal) {
      plan.precision = static_cast<uint8_t>(column.target.precision);
      plan.scale = static_cast<uint8_t>(column.target.scale);
      plan.width = DecimalWidth(column.target.precision);
      // The largest integer magnitude that fits, for integer sources (whose magnitude is at most 2^63).
      const UInt128 whole = (kPow10[plan.precision] - 1) / kPow10[plan.scale];
      plan.max = whole > UINT64_MAX ? UINT64_MAX : static_cast<uint64_t>(whole);
    }
  }
}

Status PgBinaryDecoder::Decode(std::string_view message, _duckdb_data_chunk* chunk, uint64_t row, bool* appended) {
  *appended = false;
  if (!plan_status_.ok()) return plan_status_;
  if (finished_) return Malformed("", "a message after the trailer");
  Cursor in(message);
  if (!header_seen_) {
    // Signature, int32 flags, int32 extension length, extension. Flag bits 0-15 are critical
    // (a reader must refuse unknown ones); bit 16 means each tuple carries an OID, which COPY of
    // a query never sends; bits 17-31 are safe to ignore.
    static constexpr char kSignature[] = "PGCOPY\n\377\r\n";  // + the terminating '\0': 11 bytes
    int32_t flags = 0, extension = 0;
    if (in.left() < 19) {
      return Malformed("", "the header needs 19 bytes, the first message has " + std::to_string(in.left()));
    }
    if (std::memcmp(in.data(), kSignature, sizeof kSignature) != 0) {
      return Malformed("", "the first message does not start with the PGCOPY signature (is it FORMAT binary?)");
    }
    in.Skip(sizeof kSignature);
    (void)in.ReadInt32(&flags);
    (void)in.ReadInt32(&extension);
    if ((flags & 0x1ffff) != 0) return Malformed("", "unsupported header flags " + std::to_string(flags));
    if (extension < 0 || static_cast<size_t>(extension) > in.left()) {
      return Malformed("", "header extension of " + std::to_string(extension) + " bytes exceeds the message (" +
                               std::to_string(in.left()) + " bytes left)");
    }
    in.Skip(static_cast<size_t>(extension));
    header_seen_ = true;
  }
  if (in.left() == 0) return Status::OK();  // the header alone
  int16_t fields = 0;
  if (!in.ReadInt16(&fields)) {
    return Malformed("row " + std::to_string(rows_ + 1) + ": ", "the message ends inside the field count");
  }
  if (fields == -1) {
    if (in.left() != 0) return Malformed("", std::to_string(in.left()) + " bytes after the trailer");
    finished_ = true;
    return Status::OK();
  }
  if (fields != static_cast<int64_t>(columns_.size())) {
    return Status::InvalidArgument("row " + std::to_string(rows_ + 1) + ": expected " +
                                   std::to_string(columns_.size()) + " fields, got " + std::to_string(fields));
  }
  PQ_RETURN_IF_ERROR(DecodeTuple(in, chunk, row));
  ++rows_;
  *appended = true;
  return Status::OK();
}

Status PgBinaryDecoder::DecodeTuple(Cursor& in, _duckdb_data_chunk* chunk, uint64_t row) {
  static const idx_t capacity = duckdb_vector_size();  // of a chunk made by duckdb_create_data_chunk
  if (row >= capacity) {
    return Status::Internal("row index " + std::to_string(row) + " is past the chunk's capacity of " +
                            std::to_string(capacity));
  }
  if (chunk != bound_chunk_ || row == 0) PQ_RETURN_IF_ERROR(Bind(chunk));
  auto where = [this](size_t c) {
    return "row " + std::to_string(rows_ + 1) + ", column \"" + columns_[c].name + "\": ";
  };
  for (size_t c = 0; c < columns_.size(); ++c) {
    int32_t len = 0;
    if (!in.ReadInt32(&len)) {
      return Malformed(where(c), "the message ends before the field length (" + std::to_string(in.left()) +
                                     " bytes left)");
    }
    Sink& sink = sinks_[c];
    if (len == -1) {  // NULL
      if (sink.validity == nullptr) {
        duckdb_vector_ensure_validity_writable(sink.vector);
        sink.validity = duckdb_vector_get_validity(sink.vector);
      }
      duckdb_validity_set_row_invalid(sink.validity, row);
      continue;
    }
    if (len < 0) return Malformed(where(c), "invalid field length " + std::to_string(len));
    if (static_cast<size_t>(len) > in.left()) {
      return Malformed(where(c), "field length " + std::to_string(len) + " exceeds the message (" +
                                     std::to_string(in.left()) + " bytes left)");
    }
    const uint32_t n = static_cast<uint32_t>(len);
    const Failure failure = DecodeField(plans_[c], sink, in.data(), n, row);
    if (failure != Failure::kNone) return FieldError(columns_[c], plans_[c].source, rows_ + 1, failure, in.data(), n);
    // An earlier use of the chunk may have left this row NULL.
    if (sink.validity != nullptr) sink.validity[row / 64] |= uint64_t{1} << (row % 64);
    in.Skip(n);
  }
  if (in.left() != 0) {
    return Malformed("row " + std::to_string(rows_ + 1) + ": ",
                     std::to_string(in.left()) + " bytes after the last field (one tuple per message expected)");
  }
  return Status::OK();
}

Status PgBinaryDecoder::Bind(_duckdb_data_chunk* chunk) {
  bound_chunk_ = nullptr;  // until every sink points into `chunk`
  const idx_t count = duckdb_data_chunk_get_column_count(chunk);
  if (count != columns_.size()) {
    return Status::Internal("the data chunk has " + std::to_string(count) + " columns, the COPY " +
                            std::to_string(columns_.size()));
  }
  for (size_t c = 0; c < columns_.size(); ++c) {
    duckdb_vector vector = duckdb_data_chunk_get_vector(chunk, c);
    // Writing fixed-width values into a vector of another type would corrupt memory.
    if (!VectorHasType(vector, columns_[c].target)) {
      return Status::Internal("column \"" + columns_[c].name + "\": the data chunk's vector is not of type " +
                              columns_[c].target.DuckDbType());
    }
    auto* data = static_cast<uint8_t*>(duckdb_vector_get_data(vector));
    sinks_[c] = Sink{vector, data, duckdb_vector_get_validity(vector)};
  }
  bound_chunk_ = chunk;
  return Status::OK();
}

}  // namespace pqflow::source
