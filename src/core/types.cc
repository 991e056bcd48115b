#include "core/types.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <utility>

namespace pqflow {

namespace {

struct NamedKind {
  std::string_view name;
  TypeKind kind;
};

constexpr std::array<NamedKind, 38> kNames = {{
    {"boolean", TypeKind::kBoolean},   {"bool", TypeKind::kBoolean},
    {"int8", TypeKind::kInt8},         {"tinyint", TypeKind::kInt8},
    {"int16", TypeKind::kInt16},       {"smallint", TypeKind::kInt16},
    {"int32", TypeKind::kInt32},       {"integer", TypeKind::kInt32},
    {"int", TypeKind::kInt32},         {"int64", TypeKind::kInt64},
    {"bigint", TypeKind::kInt64},      {"uint8", TypeKind::kUInt8},
    {"uint16", TypeKind::kUInt16},     {"uint32", TypeKind::kUInt32},
    {"uint64", TypeKind::kUInt64},     {"float", TypeKind::kFloat},
    {"float32", TypeKind::kFloat},     {"real", TypeKind::kFloat},
    {"double", TypeKind::kDouble},     {"float64", TypeKind::kDouble},
    {"string", TypeKind::kString},     {"utf8", TypeKind::kString},
    {"varchar", TypeKind::kString},    {"text", TypeKind::kString},
    {"binary", TypeKind::kBinary},     {"blob", TypeKind::kBinary},
    {"bytes", TypeKind::kBinary},      {"uuid", TypeKind::kUuid},
    {"ipv6", TypeKind::kIpv6},         {"ip", TypeKind::kIpv6},
    {"date", TypeKind::kDate},         {"date32", TypeKind::kDate},
    {"timestamp", TypeKind::kTimestamp}, {"timestamp(us)", TypeKind::kTimestamp},
    {"timestamp_ms", TypeKind::kTimestampMs}, {"timestamp(ms)", TypeKind::kTimestampMs},
    {"json", TypeKind::kJson},         {"decimal", TypeKind::kDecimal},
}};

std::string Lower(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (!std::isspace(static_cast<unsigned char>(c))) out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

bool ParseInt(std::string_view s, int* out) {
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

Result<ColumnType> ParseDecimal(const std::string& t) {
  // decimal(p,s) or decimal(p)
  size_t open = t.find('(');
  if (open == std::string::npos || t.back() != ')') {
    return Status::InvalidArgument("decimal needs a precision, e.g. decimal(12,2)");
  }
  std::string_view args(t.data() + open + 1, t.size() - open - 2);
  size_t comma = args.find(',');
  ColumnType type{TypeKind::kDecimal, 0, 0};
  bool ok = comma == std::string_view::npos
                ? ParseInt(args, &type.precision)
                : ParseInt(args.substr(0, comma), &type.precision) && ParseInt(args.substr(comma + 1), &type.scale);
  if (!ok || type.precision < 1 || type.precision > 38 || type.scale < 0 || type.scale > type.precision) {
    return Status::InvalidArgument("decimal precision must be 1..38 and scale 0..precision, got '" + t + "'");
  }
  return type;
}

}  // namespace

std::string_view KnownTypeNames() {
  return "boolean, int8, int16, int32, int64, uint8, uint16, uint32, uint64, float, double, "
         "decimal(p,s), string, binary, uuid, ipv6, date, timestamp, timestamp_ms, json";
}

Result<ColumnType> ColumnType::Parse(std::string_view text) {
  std::string t = Lower(text);
  if (t.rfind("decimal(", 0) == 0 || t.rfind("numeric(", 0) == 0) return ParseDecimal(t);
  for (const auto& n : kNames) {
    if (n.name == t && n.kind != TypeKind::kDecimal) return ColumnType{n.kind, 0, 0};
  }
  return Status::InvalidArgument("unknown type '" + std::string(text) + "' (expected one of " +
                                 std::string(KnownTypeNames()) + ")");
}

std::string ColumnType::ToString() const {
  switch (kind) {
    case TypeKind::kBoolean: return "boolean";
    case TypeKind::kInt8: return "int8";
    case TypeKind::kInt16: return "int16";
    case TypeKind::kInt32: return "int32";
    case TypeKind::kInt64: return "int64";
    case TypeKind::kUInt8: return "uint8";
    case TypeKind::kUInt16: return "uint16";
    case TypeKind::kUInt32: return "uint32";
    case TypeKind::kUInt64: return "uint64";
    case TypeKind::kFloat: return "float";
    case TypeKind::kDouble: return "double";
    case TypeKind::kDecimal: return "decimal(" + std::to_string(precision) + "," + std::to_string(scale) + ")";
    case TypeKind::kString: return "string";
    case TypeKind::kBinary: return "binary";
    case TypeKind::kUuid: return "uuid";
    case TypeKind::kIpv6: return "ipv6";
    case TypeKind::kDate: return "date";
    case TypeKind::kTimestamp: return "timestamp";
    case TypeKind::kTimestampMs: return "timestamp_ms";
    case TypeKind::kJson: return "json";
  }
  return "?";
}

std::string ColumnType::DuckDbType() const {
  switch (kind) {
    case TypeKind::kBoolean: return "BOOLEAN";
    case TypeKind::kInt8: return "TINYINT";
    case TypeKind::kInt16: return "SMALLINT";
    case TypeKind::kInt32: return "INTEGER";
    case TypeKind::kInt64: return "BIGINT";
    case TypeKind::kUInt8: return "UTINYINT";
    case TypeKind::kUInt16: return "USMALLINT";
    case TypeKind::kUInt32: return "UINTEGER";
    case TypeKind::kUInt64: return "UBIGINT";
    case TypeKind::kFloat: return "FLOAT";
    case TypeKind::kDouble: return "DOUBLE";
    case TypeKind::kDecimal: return "DECIMAL(" + std::to_string(precision) + "," + std::to_string(scale) + ")";
    case TypeKind::kString: return "VARCHAR";
    case TypeKind::kBinary: return "BLOB";
    case TypeKind::kUuid: return "UUID";
    case TypeKind::kIpv6: return "BLOB";
    case TypeKind::kDate: return "DATE";
    case TypeKind::kTimestamp: return "TIMESTAMPTZ";
    case TypeKind::kTimestampMs: return "TIMESTAMP_MS";
    case TypeKind::kJson: return "JSON";
  }
  return "VARCHAR";
}

bool ColumnType::IsNumeric() const {
  switch (kind) {
    case TypeKind::kInt8: case TypeKind::kInt16: case TypeKind::kInt32: case TypeKind::kInt64:
    case TypeKind::kUInt8: case TypeKind::kUInt16: case TypeKind::kUInt32: case TypeKind::kUInt64:
    case TypeKind::kFloat: case TypeKind::kDouble: case TypeKind::kDecimal:
      return true;
    default:
      return false;
  }
}

}  // namespace pqflow
