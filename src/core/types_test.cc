#include "core/types.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace pqflow {
namespace {

ColumnType MustParse(std::string_view text) {
  auto t = ColumnType::Parse(text);
  EXPECT_TRUE(t.ok()) << text << ": " << t.status().message();
  return t.ok() ? *t : ColumnType{};
}

struct KindRow {
  const char* canonical;
  TypeKind kind;
  const char* duckdb;
};

// One row per kind: canonical name, kind, DuckDB SQL type.
const std::vector<KindRow>& AllKinds() {
  static const std::vector<KindRow> kRows = {
      {"boolean", TypeKind::kBoolean, "BOOLEAN"},
      {"int8", TypeKind::kInt8, "TINYINT"},
      {"int16", TypeKind::kInt16, "SMALLINT"},
      {"int32", TypeKind::kInt32, "INTEGER"},
      {"int64", TypeKind::kInt64, "BIGINT"},
      {"uint8", TypeKind::kUInt8, "UTINYINT"},
      {"uint16", TypeKind::kUInt16, "USMALLINT"},
      {"uint32", TypeKind::kUInt32, "UINTEGER"},
      {"uint64", TypeKind::kUInt64, "UBIGINT"},
      {"float", TypeKind::kFloat, "FLOAT"},
      {"double", TypeKind::kDouble, "DOUBLE"},
      {"string", TypeKind::kString, "VARCHAR"},
      {"binary", TypeKind::kBinary, "BLOB"},
      {"uuid", TypeKind::kUuid, "UUID"},
      {"ipv6", TypeKind::kIpv6, "BLOB"},
      {"date", TypeKind::kDate, "DATE"},
      {"timestamp", TypeKind::kTimestamp, "TIMESTAMPTZ"},
      {"timestamp_ms", TypeKind::kTimestampMs, "TIMESTAMP_MS"},
      {"json", TypeKind::kJson, "JSON"},
  };
  return kRows;
}

TEST(ColumnTypeTest, CanonicalNamesParseAndRoundTrip) {
  for (const auto& row : AllKinds()) {
    SCOPED_TRACE(row.canonical);
    ColumnType t = MustParse(row.canonical);
    EXPECT_EQ(t.kind, row.kind);
    EXPECT_EQ(t.precision, 0);
    EXPECT_EQ(t.scale, 0);
    EXPECT_EQ(t.ToString(), row.canonical);
    EXPECT_EQ(MustParse(t.ToString()), t);
  }
}

TEST(ColumnTypeTest, DuckDbTypeOfEveryKind) {
  for (const auto& row : AllKinds()) {
    SCOPED_TRACE(row.canonical);
    EXPECT_EQ(MustParse(row.canonical).DuckDbType(), row.duckdb);
  }
  EXPECT_EQ(MustParse("decimal(12,2)").DuckDbType(), "DECIMAL(12,2)");
  EXPECT_EQ(MustParse("decimal(38,0)").DuckDbType(), "DECIMAL(38,0)");
}

TEST(ColumnTypeTest, AliasesMapToTheirKind) {
  const std::vector<std::pair<const char*, TypeKind>> aliases = {
      {"bool", TypeKind::kBoolean},         {"tinyint", TypeKind::kInt8},
      {"smallint", TypeKind::kInt16},       {"integer", TypeKind::kInt32},
      {"int", TypeKind::kInt32},            {"bigint", TypeKind::kInt64},
      {"float32", TypeKind::kFloat},        {"real", TypeKind::kFloat},
      {"float64", TypeKind::kDouble},       {"utf8", TypeKind::kString},
      {"varchar", TypeKind::kString},       {"text", TypeKind::kString},
      {"blob", TypeKind::kBinary},          {"bytes", TypeKind::kBinary},
      {"ip", TypeKind::kIpv6},              {"date32", TypeKind::kDate},
      {"timestamp(us)", TypeKind::kTimestamp}, {"timestamp(ms)", TypeKind::kTimestampMs},
  };
  for (const auto& [alias, kind] : aliases) {
    SCOPED_TRACE(alias);
    ColumnType t = MustParse(alias);
    EXPECT_EQ(t.kind, kind);
    // The canonical name is what gets written back (manifests, `datasets` output).
    EXPECT_NE(t.ToString(), alias);
    EXPECT_EQ(MustParse(t.ToString()), t);
  }
}

TEST(ColumnTypeTest, NamesAreCaseAndWhitespaceInsensitive) {
  EXPECT_EQ(MustParse("BIGINT").kind, TypeKind::kInt64);
  EXPECT_EQ(MustParse("  Int64 ").kind, TypeKind::kInt64);
  EXPECT_EQ(MustParse("Timestamp(MS)").kind, TypeKind::kTimestampMs);
  EXPECT_EQ(MustParse("TIMESTAMP_MS").kind, TypeKind::kTimestampMs);
  EXPECT_EQ(MustParse("Date32").kind, TypeKind::kDate);
  ColumnType d = MustParse("DECIMAL( 12 , 2 )");
  EXPECT_EQ(d.kind, TypeKind::kDecimal);
  EXPECT_EQ(d.precision, 12);
  EXPECT_EQ(d.scale, 2);
}

TEST(ColumnTypeTest, DecimalPrecisionAndScale) {
  ColumnType d = MustParse("decimal(12,2)");
  EXPECT_EQ(d, (ColumnType{TypeKind::kDecimal, 12, 2}));
  EXPECT_EQ(d.ToString(), "decimal(12,2)");

  ColumnType no_scale = MustParse("decimal(10)");
  EXPECT_EQ(no_scale, (ColumnType{TypeKind::kDecimal, 10, 0}));
  EXPECT_EQ(no_scale.ToString(), "decimal(10,0)");

  ColumnType numeric = MustParse("numeric(7,3)");
  EXPECT_EQ(numeric, (ColumnType{TypeKind::kDecimal, 7, 3}));
  EXPECT_EQ(numeric.ToString(), "decimal(7,3)");
}

TEST(ColumnTypeTest, DecimalBounds) {
  EXPECT_EQ(MustParse("decimal(1,0)"), (ColumnType{TypeKind::kDecimal, 1, 0}));
  EXPECT_EQ(MustParse("decimal(1,1)"), (ColumnType{TypeKind::kDecimal, 1, 1}));
  EXPECT_EQ(MustParse("decimal(38,0)"), (ColumnType{TypeKind::kDecimal, 38, 0}));
  EXPECT_EQ(MustParse("decimal(38,38)"), (ColumnType{TypeKind::kDecimal, 38, 38}));

  for (const char* bad : {"decimal(0,0)", "decimal(0)", "decimal(39,0)", "decimal(39)", "decimal(10,11)",
                          "decimal(10,-1)", "decimal(-1,0)", "decimal(,2)", "decimal(12,)", "decimal()",
                          "decimal(a,b)", "decimal(12,2,1)", "decimal(12,2", "decimal(", "decimal",
                          "numeric(0,0)", "decimal(1e1,0)"}) {
    SCOPED_TRACE(bad);
    auto t = ColumnType::Parse(bad);
    ASSERT_FALSE(t.ok());
    EXPECT_EQ(t.status().code(), StatusCode::kInvalidArgument);
  }
  auto out_of_range = ColumnType::Parse("decimal(39,2)");
  ASSERT_FALSE(out_of_range.ok());
  EXPECT_NE(out_of_range.status().message().find("1..38"), std::string::npos) << out_of_range.status().message();
}

TEST(ColumnTypeTest, UnknownTypeMessageListsKnownNames) {
  auto t = ColumnType::Parse("int128");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), StatusCode::kInvalidArgument);
  const std::string& msg = t.status().message();
  EXPECT_NE(msg.find("'int128'"), std::string::npos) << msg;
  EXPECT_NE(msg.find(std::string(KnownTypeNames())), std::string::npos) << msg;
  for (const auto& row : AllKinds()) {
    EXPECT_NE(msg.find(row.canonical), std::string::npos) << row.canonical << " missing from: " << msg;
  }
  EXPECT_NE(msg.find("decimal(p,s)"), std::string::npos) << msg;

  for (const char* bad : {"", "   ", "str", "timestamp(ns)", "int_64", "list<int>", "varchar(10)"}) {
    SCOPED_TRACE(bad);
    auto r = ColumnType::Parse(bad);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  }
}

TEST(ColumnTypeTest, EveryNameInKnownTypeNamesParses) {
  std::string names(KnownTypeNames());
  size_t start = 0;
  int count = 0;
  while (start < names.size()) {
    size_t comma = names.find(", ", start);
    std::string name = names.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    start = comma == std::string::npos ? names.size() : comma + 2;
    ++count;
    SCOPED_TRACE(name);
    if (name == "decimal(p,s)") continue;
    ColumnType t = MustParse(name);
    EXPECT_EQ(t.ToString(), name);
  }
  EXPECT_EQ(count, 20);
}

TEST(ColumnTypeTest, IsNumericAndIsTemporal) {
  for (const char* n : {"int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float", "double",
                        "decimal(5,2)"}) {
    SCOPED_TRACE(n);
    EXPECT_TRUE(MustParse(n).IsNumeric());
    EXPECT_FALSE(MustParse(n).IsTemporal());
  }
  for (const char* n : {"date", "timestamp", "timestamp_ms"}) {
    SCOPED_TRACE(n);
    EXPECT_TRUE(MustParse(n).IsTemporal());
    EXPECT_FALSE(MustParse(n).IsNumeric());
  }
  for (const char* n : {"boolean", "string", "binary", "uuid", "ipv6", "json"}) {
    SCOPED_TRACE(n);
    EXPECT_FALSE(MustParse(n).IsNumeric());
    EXPECT_FALSE(MustParse(n).IsTemporal());
  }
}

TEST(ColumnTypeTest, DefaultIsStringAndEqualityComparesDecimalParameters) {
  ColumnType t;
  EXPECT_EQ(t.kind, TypeKind::kString);
  EXPECT_EQ(t.ToString(), "string");
  EXPECT_NE(MustParse("decimal(12,2)"), MustParse("decimal(12,3)"));
  EXPECT_NE(MustParse("decimal(12,2)"), MustParse("decimal(13,2)"));
  EXPECT_EQ(MustParse("decimal(12,2)"), MustParse("numeric(12,2)"));
}

}  // namespace
}  // namespace pqflow
