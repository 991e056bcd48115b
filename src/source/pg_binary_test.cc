#include "source/pg_binary.h"

#include <duckdb.h>
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "duck/duck.h"

namespace pqflow::source {
namespace {

// PostgreSQL type OIDs, written out here rather than taken from the code under test.
constexpr uint32_t kBool = 16, kBytea = 17, kName = 19, kInt8 = 20, kInt2 = 21, kInt4 = 23, kText = 25, kOid = 26,
                   kJson = 114, kCidr = 650, kFloat4 = 700, kFloat8 = 701, kInet = 869, kBpchar = 1042,
                   kVarchar = 1043, kDate = 1082, kTimestamp = 1114, kTimestamptz = 1184, kNumeric = 1700,
                   kUuid = 2950, kJsonb = 3802;

// numeric sign words.
constexpr uint16_t kPos = 0x0000, kNeg = 0x4000, kNaN = 0xC000, kPinf = 0xD000, kNinf = 0xF000;

// Writes CopyData payloads by hand, in network byte order.
class Message {
 public:
  Message& Header(int32_t flags = 0, const std::string& extension = "") {
    bytes_.append("PGCOPY\n\377\r\n\0", 11);
    I32(flags).I32(static_cast<int32_t>(extension.size()));
    bytes_ += extension;
    return *this;
  }
  Message& Tuple(int16_t fields) { return I16(fields); }
  Message& Trailer() { return I16(-1); }

  // Fields: a length word, then the value as PostgreSQL's send function writes it.
  Message& Null() { return I32(-1); }
  Message& Field(const std::string& value) {
    I32(static_cast<int32_t>(value.size()));
    bytes_ += value;
    return *this;
  }
  Message& Bool(bool v) { return I32(1).U8(v ? 1 : 0); }
  Message& Int2(int16_t v) { return I32(2).I16(v); }
  Message& Int4(int32_t v) { return I32(4).I32(v); }
  Message& Int8(int64_t v) { return I32(8).I64(v); }
  Message& Float4(float v) { return I32(4).I32(std::bit_cast<int32_t>(v)); }
  Message& Float8(double v) { return I32(8).I64(std::bit_cast<int64_t>(v)); }
  Message& Numeric(int16_t weight, uint16_t sign, int16_t dscale, const std::vector<uint16_t>& digits) {
    I32(static_cast<int32_t>(8 + 2 * digits.size()));
    I16(static_cast<int16_t>(digits.size())).I16(weight).I16(static_cast<int16_t>(sign)).I16(dscale);
    for (uint16_t d : digits) I16(static_cast<int16_t>(d));
    return *this;
  }
  Message& Uuid(const std::string& hex) {  // 32 hex digits, dashes ignored
    std::string raw;
    for (size_t i = 0; i < hex.size(); ++i) {
      if (hex[i] == '-') continue;
      raw += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
      ++i;
    }
    return Field(raw);
  }
  Message& Inet(uint8_t family, uint8_t bits, bool cidr, const std::vector<uint8_t>& addr) {
    std::string raw{static_cast<char>(family), static_cast<char>(bits), static_cast<char>(cidr),
                    static_cast<char>(addr.size())};
    for (uint8_t b : addr) raw += static_cast<char>(b);
    return Field(raw);
  }

  Message& U8(uint8_t v) {
    bytes_ += static_cast<char>(v);
    return *this;
  }
  Message& I16(int16_t v) { return U8(static_cast<uint16_t>(v) >> 8).U8(v & 0xff); }
  Message& I32(int32_t v) { return I16(static_cast<int16_t>(static_cast<uint32_t>(v) >> 16)).I16(v & 0xffff); }
  Message& I64(int64_t v) {
    return I32(static_cast<int32_t>(static_cast<uint64_t>(v) >> 32)).I32(static_cast<int32_t>(v & 0xffffffff));
  }
  Message& Raw(const std::string& raw) {
    bytes_ += raw;
    return *this;
  }

  const std::string& str() const { return bytes_; }

 private:
  std::string bytes_;
};

// The messages PostgreSQL sends for these rows (each holding the encoded fields of one row):
// the header rides on the first tuple, each tuple has its own message, the trailer comes last.
std::vector<std::string> CopyOf(size_t columns, const std::vector<Message>& rows) {
  std::vector<std::string> messages;
  for (size_t i = 0; i < rows.size(); ++i) {
    Message m;
    if (i == 0) m.Header();
    m.Tuple(static_cast<int16_t>(columns)).Raw(rows[i].str());
    messages.push_back(m.str());
  }
  if (rows.empty()) {
    messages.push_back(Message().Header().Trailer().str());
  } else {
    messages.push_back(Message().Trailer().str());
  }
  return messages;
}

Message F() { return Message(); }

PgColumn Col(const std::string& name, uint32_t oid, const std::string& type, int32_t typmod = -1) {
  auto parsed = ColumnType::Parse(type);
  EXPECT_TRUE(parsed.ok()) << type;
  return PgColumn{name, oid, typmod, parsed.ok() ? *parsed : ColumnType{}};
}

// Appends data chunks to table t through DuckDB's appender.
class TableWriter {
 public:
  TableWriter(duckdb_connection conn, size_t columns) {
    EXPECT_EQ(duckdb_appender_create(conn, nullptr, "t", &appender_), DuckDBSuccess);
    std::vector<duckdb_logical_type> types;
    for (size_t i = 0; i < columns; ++i) types.push_back(duckdb_appender_column_type(appender_, i));
    chunk_ = duckdb_create_data_chunk(types.data(), types.size());
    for (auto& type : types) duckdb_destroy_logical_type(&type);
  }
  ~TableWriter() {
    duckdb_destroy_data_chunk(&chunk_);
    duckdb_appender_destroy(&appender_);
  }
  TableWriter(const TableWriter&) = delete;
  TableWriter& operator=(const TableWriter&) = delete;

  duckdb_data_chunk chunk() const { return chunk_; }

  // Appends the chunk's first `rows` rows; `reset` empties the chunk afterwards.
  void Append(idx_t rows, bool reset = true) {
    if (rows == 0) return;
    duckdb_data_chunk_set_size(chunk_, rows);
    EXPECT_EQ(duckdb_append_data_chunk(appender_, chunk_), DuckDBSuccess) << duckdb_appender_error(appender_);
    if (reset) duckdb_data_chunk_reset(chunk_);
  }
  void Close() { EXPECT_EQ(duckdb_appender_close(appender_), DuckDBSuccess) << duckdb_appender_error(appender_); }

 private:
  duckdb_appender appender_ = nullptr;
  duckdb_data_chunk chunk_ = nullptr;
};

class PgBinaryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    duck::DatabaseOptions options;
    options.threads = 1;
    auto db = duck::Database::Open(options);
    ASSERT_TRUE(db.ok()) << db.status().message();
    db_.emplace(std::move(db).value());
    auto conn = duck::Connection::Make(*db_);
    ASSERT_TRUE(conn.ok()) << conn.status().message();
    conn_.emplace(std::move(conn).value());
    ASSERT_TRUE(conn_->Execute("SET TimeZone = 'UTC'").ok());
  }

  // Creates table t (c0, c1, ...) with the columns' DuckDB types.
  void CreateTable(const std::vector<PgColumn>& columns) {
    std::string ddl = "CREATE OR REPLACE TABLE t (";
    for (size_t i = 0; i < columns.size(); ++i) {
      ddl += (i ? ", c" : "c") + std::to_string(i) + " " + columns[i].target.DuckDbType();
    }
    Status s = conn_->Execute(ddl + ")");
    ASSERT_TRUE(s.ok()) << s.message();
  }

  // Decodes the messages into table t, a chunk of 2048 rows at a time; stops at the first error.
  Status Load(const std::vector<PgColumn>& columns, const std::vector<std::string>& messages,
              PgBinaryDecoder* decoder = nullptr) {
    CreateTable(columns);
    TableWriter writer(conn_->raw(), columns.size());
    PgBinaryDecoder local(columns);
    PgBinaryDecoder& d = decoder ? *decoder : local;
    uint64_t row = 0;
    for (const std::string& message : messages) {
      bool appended = false;
      Status s = d.Decode(message, writer.chunk(), row, &appended);
      if (!s.ok()) return s;
      if (appended && ++row == duckdb_vector_size()) {
        writer.Append(row);
        row = 0;
      }
    }
    writer.Append(row);
    writer.Close();
    return Status::OK();
  }

  Status LoadRows(const std::vector<PgColumn>& columns, const std::vector<Message>& rows) {
    return Load(columns, CopyOf(columns.size(), rows));
  }

  // The error message decoding these rows ends with ("" if it succeeds).
  std::string ErrorOf(const std::vector<PgColumn>& columns, const std::vector<Message>& rows) {
    Status s = LoadRows(columns, rows);
    return s.ok() ? "" : s.message();
  }

  // One column of a query, as text; NULL as "NULL".
  std::vector<std::string> Texts(const std::string& sql) {
    std::vector<std::string> out;
    auto r = conn_->Query(sql);
    EXPECT_TRUE(r.ok()) << sql << ": " << r.status().message();
    if (!r.ok()) return out;
    for (size_t i = 0; i < r->row_count(); ++i) out.push_back(r->GetOr(i, 0, "NULL"));
    return out;
  }

  // Column `c` of table t in insertion order, as DuckDB renders it.
  std::vector<std::string> Column(int c = 0) {
    return Texts("SELECT CAST(c" + std::to_string(c) + " AS VARCHAR) FROM t ORDER BY rowid");
  }

  std::optional<duck::Database> db_;
  std::optional<duck::Connection> conn_;
};

using Strings = std::vector<std::string>;

// --- CheckPgColumn ---

TEST(PgTypeNameTest, NamesKnownAndUnknownOids) {
  EXPECT_EQ(PgTypeName(23), "int4");
  EXPECT_EQ(PgTypeName(1184), "timestamptz");
  EXPECT_EQ(PgTypeName(3802), "jsonb");
  EXPECT_EQ(PgTypeName(600), "oid 600");
}

TEST(CheckPgColumnTest, AcceptsEveryDocumentedConversion) {
  const std::vector<std::pair<uint32_t, std::vector<std::string>>> accepted = {
      {kBool, {"boolean"}},
      {kInt2, {"int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "decimal(5,0)", "float",
               "double"}},
      {kInt4, {"int16", "uint64", "decimal(12,2)", "double"}},
      {kInt8, {"int64", "int32", "decimal(38,0)", "float"}},
      {kOid, {"uint32", "int64", "decimal(10,0)"}},
      {kNumeric, {"decimal(12,2)", "decimal(38,10)", "double", "float", "int64", "uint8"}},
      {kFloat4, {"float", "double"}},
      {kFloat8, {"float", "double"}},
      {kText, {"string", "json"}},
      {kVarchar, {"string", "json"}},
      {kBpchar, {"string"}},
      {kName, {"string"}},
      {kJson, {"json", "string"}},
      {kJsonb, {"json", "string"}},
      {kBytea, {"binary"}},
      {kUuid, {"uuid", "string"}},
      {kInet, {"string"}},
      {kCidr, {"string"}},
      {kDate, {"date"}},
      {kTimestamp, {"timestamp", "timestamp_ms"}},
      {kTimestamptz, {"timestamp", "timestamp_ms"}},
  };
  for (const auto& [oid, targets] : accepted) {
    for (const std::string& target : targets) {
      Status s = CheckPgColumn(Col("c", oid, target));
      EXPECT_TRUE(s.ok()) << oid << " -> " << target << ": " << s.message();
    }
  }
}

TEST(CheckPgColumnTest, RefusesWithTheColumnBothTypesAndWhatToDeclare) {
  Status s = CheckPgColumn(Col("source_ip", kInet, "int32"));
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "column \"source_ip\": PostgreSQL type inet cannot be stored as int32; declare it as string");

  EXPECT_EQ(CheckPgColumn(Col("ip", kInet, "ipv6")).message(),
            "column \"ip\": PostgreSQL type inet cannot be stored as ipv6; declare it as string");
  EXPECT_EQ(CheckPgColumn(Col("ip", kText, "ipv6")).message(),
            "column \"ip\": PostgreSQL type text cannot be stored as ipv6; declare it as string");
  EXPECT_EQ(CheckPgColumn(Col("day", kDate, "timestamp")).message(),
            "column \"day\": PostgreSQL type date cannot be stored as timestamp; declare it as date");
  EXPECT_EQ(CheckPgColumn(Col("at", kTimestamptz, "date")).message(),
            "column \"at\": PostgreSQL type timestamptz cannot be stored as date; declare it as timestamp");
  EXPECT_EQ(CheckPgColumn(Col("ok", kBool, "int32")).message(),
            "column \"ok\": PostgreSQL type bool cannot be stored as int32; declare it as boolean");
  EXPECT_EQ(CheckPgColumn(Col("n", kInt8, "string")).message(),
            "column \"n\": PostgreSQL type int8 cannot be stored as string; declare it as int64");
  EXPECT_EQ(CheckPgColumn(Col("f", kFloat8, "decimal(10,2)")).message(),
            "column \"f\": PostgreSQL type float8 cannot be stored as decimal(10,2); declare it as double");
  EXPECT_EQ(CheckPgColumn(Col("b", kBytea, "string")).message(),
            "column \"b\": PostgreSQL type bytea cannot be stored as string; declare it as binary");
  EXPECT_EQ(CheckPgColumn(Col("j", kJsonb, "binary")).message(),
            "column \"j\": PostgreSQL type jsonb cannot be stored as binary; declare it as json");
  EXPECT_EQ(CheckPgColumn(Col("u", kUuid, "binary")).message(),
            "column \"u\": PostgreSQL type uuid cannot be stored as binary; declare it as uuid");
  EXPECT_EQ(CheckPgColumn(Col("o", kOid, "string")).message(),
            "column \"o\": PostgreSQL type oid cannot be stored as string; declare it as uint32");
  // numeric(12,2): typmod = ((12 << 16) | 2) + 4.
  EXPECT_EQ(CheckPgColumn(Col("price", kNumeric, "string", (12 << 16 | 2) + 4)).message(),
            "column \"price\": PostgreSQL type numeric cannot be stored as string; declare it as decimal(12,2)");
  EXPECT_EQ(CheckPgColumn(Col("price", kNumeric, "string")).message(),
            "column \"price\": PostgreSQL type numeric cannot be stored as string; declare it as decimal(p,s) or "
            "double");

  Status unknown = CheckPgColumn(Col("pt", 600, "string"));
  EXPECT_EQ(unknown.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(unknown.message().find("column \"pt\": PostgreSQL type oid 600 is not supported"), std::string::npos)
      << unknown.message();
  EXPECT_NE(unknown.message().find("::text"), std::string::npos) << unknown.message();
}

TEST_F(PgBinaryTest, DecodeRefusesAnUncheckedColumn) {
  PgBinaryDecoder decoder({Col("a", kInt4, "int32"), Col("ip", kInet, "ipv6")});
  CreateTable({Col("a", kInt4, "int32"), Col("ip", kInet, "string")});
  TableWriter writer(conn_->raw(), 2);
  bool appended = true;
  Status s = decoder.Decode(Message().Header().str(), writer.chunk(), 0, &appended);
  EXPECT_FALSE(s.ok());
  EXPECT_FALSE(appended);
  EXPECT_EQ(s.message(), "column \"ip\": PostgreSQL type inet cannot be stored as ipv6; declare it as string");
}

// --- integers ---

TEST_F(PgBinaryTest, IntegersIntoEveryIntegerTypeAtTheirLimits) {
  std::vector<PgColumn> cols = {Col("a", kInt2, "int16"),  Col("b", kInt4, "int32"),  Col("c", kInt8, "int64"),
                                Col("d", kOid, "uint32"),  Col("e", kInt4, "uint8"),  Col("f", kInt2, "int8"),
                                Col("g", kInt8, "uint64"), Col("h", kInt4, "uint16"), Col("i", kOid, "int64")};
  ASSERT_TRUE(LoadRows(cols, {F().Int2(-32768).Int4(-2147483647 - 1).Int8(std::numeric_limits<int64_t>::min())
                                  .Int4(0).Int4(0).Int2(-128).Int8(0).Int4(0).Int4(0),
                              F().Int2(32767).Int4(2147483647).Int8(std::numeric_limits<int64_t>::max())
                                  .Int4(-1).Int4(255).Int2(127).Int8(std::numeric_limits<int64_t>::max())
                                  .Int4(65535).Int4(-1)})
                  .ok());
  EXPECT_EQ(Column(0), (Strings{"-32768", "32767"}));
  EXPECT_EQ(Column(1), (Strings{"-2147483648", "2147483647"}));
  EXPECT_EQ(Column(2), (Strings{"-9223372036854775808", "9223372036854775807"}));
  EXPECT_EQ(Column(3), (Strings{"0", "4294967295"}));  // oid is unsigned: 0xffffffff
  EXPECT_EQ(Column(4), (Strings{"0", "255"}));
  EXPECT_EQ(Column(5), (Strings{"-128", "127"}));
  EXPECT_EQ(Column(6), (Strings{"0", "9223372036854775807"}));
  EXPECT_EQ(Column(7), (Strings{"0", "65535"}));
  EXPECT_EQ(Column(8), (Strings{"0", "4294967295"}));
}

TEST_F(PgBinaryTest, IntegerOutOfRangeIsAnErrorNamingRowColumnAndValue) {
  EXPECT_EQ(ErrorOf({Col("view_count", kInt8, "int32")}, {F().Int8(3000000000)}),
            "row 1, column \"view_count\": value 3000000000 does not fit int32");
  EXPECT_EQ(ErrorOf({Col("n", kInt4, "uint8")}, {F().Int4(255), F().Int4(256)}),
            "row 2, column \"n\": value 256 does not fit uint8");
  EXPECT_EQ(ErrorOf({Col("n", kInt4, "uint8")}, {F().Int4(-1)}), "row 1, column \"n\": value -1 does not fit uint8");
  EXPECT_EQ(ErrorOf({Col("n", kInt2, "int8")}, {F().Int2(-129)}), "row 1, column \"n\": value -129 does not fit int8");
  EXPECT_EQ(ErrorOf({Col("n", kInt8, "uint64")}, {F().Int8(-1)}), "row 1, column \"n\": value -1 does not fit uint64");
  EXPECT_EQ(ErrorOf({Col("n", kOid, "int32")}, {F().Int4(-1)}),
            "row 1, column \"n\": value 4294967295 does not fit int32");
}

TEST_F(PgBinaryTest, IntegersIntoDecimalFloatAndDouble) {
  std::vector<PgColumn> cols = {Col("a", kInt4, "decimal(7,2)"), Col("b", kInt8, "decimal(38,10)"),
                                Col("c", kInt2, "decimal(5,0)"), Col("d", kInt8, "decimal(38,0)"),
                                Col("e", kInt8, "double"),       Col("f", kInt4, "float"),
                                Col("g", kInt8, "decimal(18,4)")};
  ASSERT_TRUE(LoadRows(cols, {F().Int4(12345).Int8(-5).Int2(-32768).Int8(std::numeric_limits<int64_t>::min())
                                  .Int8(9007199254740993).Int4(16777217).Int8(-99999999999999)})
                  .ok());
  EXPECT_EQ(Column(0), (Strings{"12345.00"}));
  EXPECT_EQ(Column(1), (Strings{"-5.0000000000"}));
  EXPECT_EQ(Column(2), (Strings{"-32768"}));
  EXPECT_EQ(Column(3), (Strings{"-9223372036854775808"}));
  EXPECT_EQ(Column(4), (Strings{"9007199254740992.0"}));  // 2^53 + 1 rounds to even
  EXPECT_EQ(Column(5), (Strings{"16777216.0"}));          // 2^24 + 1 likewise
  EXPECT_EQ(Column(6), (Strings{"-99999999999999.0000"}));

  EXPECT_EQ(ErrorOf({Col("n", kInt4, "decimal(6,2)")}, {F().Int4(100000)}),
            "row 1, column \"n\": value 100000 does not fit decimal(6,2)");
  EXPECT_EQ(ErrorOf({Col("n", kInt8, "decimal(38,30)")}, {F().Int8(-1000000000)}),
            "row 1, column \"n\": value -1000000000 does not fit decimal(38,30)");
}

// --- numeric ---

TEST_F(PgBinaryTest, NumericIntoDecimalOfEveryWidth) {
  std::vector<PgColumn> cols = {Col("a", kNumeric, "decimal(10,4)"), Col("b", kNumeric, "decimal(10,6)"),
                                Col("c", kNumeric, "decimal(9,2)"),  Col("d", kNumeric, "decimal(5,1)"),
                                Col("e", kNumeric, "decimal(4,2)"),  Col("f", kNumeric, "decimal(18,3)"),
                                Col("g", kNumeric, "decimal(38,10)"), Col("h", kNumeric, "decimal(38,0)"),
                                Col("i", kNumeric, "decimal(10,5)")};
  std::vector<Message> rows = {
      F().Numeric(1, kPos, 4, {1, 2345, 6789})           // 12345.6789
          .Numeric(-1, kNeg, 6, {1, 2300})               // -0.000123: 0.0001 + 0.00000023 * 100
          .Numeric(1, kPos, 0, {1})                      // 10000: trailing zero digits are not sent
          .Numeric(0, kPos, 2, {1, 5000})                // 1.50: exact at scale 1
          .Numeric(0, kNeg, 2, {99, 9900})               // -99.99 (int16)
          .Numeric(3, kPos, 3, {123, 4567, 8901, 2345, 6780})  // 123456789012345.678 (int64)
          .Numeric(5, kNeg, 10, {12, 3456, 7890, 1234, 5678, 9012, 123, 4567, 8900})  // hugeint
          .Numeric(9, kPos, 0, {99, 9999, 9999, 9999, 9999, 9999, 9999, 9999, 9999, 9999})  // 38 nines
          .Numeric(-2, kPos, 5, {1000}),                 // 0.00001
      F().Numeric(0, kPos, 0, {}).Numeric(0, kPos, 0, {}).Numeric(0, kPos, 2, {}).Numeric(0, kPos, 0, {})
          .Numeric(0, kPos, 0, {}).Numeric(0, kNeg, 0, {1}).Numeric(0, kPos, 0, {1}).Numeric(0, kNeg, 0, {1})
          .Numeric(0, kNeg, 0, {7}),
  };
  Status s = LoadRows(cols, rows);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(Column(0), (Strings{"12345.6789", "0.0000"}));
  EXPECT_EQ(Column(1), (Strings{"-0.000123", "0.000000"}));
  EXPECT_EQ(Column(2), (Strings{"10000.00", "0.00"}));
  EXPECT_EQ(Column(3), (Strings{"1.5", "0.0"}));
  EXPECT_EQ(Column(4), (Strings{"-99.99", "0.00"}));
  EXPECT_EQ(Column(5), (Strings{"123456789012345.678", "-1.000"}));
  EXPECT_EQ(Column(6), (Strings{"-1234567890123456789012.0123456789", "1.0000000000"}));
  EXPECT_EQ(Column(7), (Strings{"99999999999999999999999999999999999999", "-1"}));
  EXPECT_EQ(Column(8), (Strings{"0.00001", "-7.00000"}));
}

TEST_F(PgBinaryTest, NumericThatDoesNotFitADecimalIsAnError) {
  auto col = [](const std::string& type) { return std::vector<PgColumn>{Col("price", kNumeric, type)}; };
  EXPECT_EQ(ErrorOf(col("decimal(7,2)"), {F().Numeric(1, kPos, 2, {10})}),
            "row 1, column \"price\": value 100000.00 does not fit decimal(7,2)");
  EXPECT_EQ(ErrorOf(col("decimal(7,2)"), {F().Numeric(1, kPos, 2, {9, 9999, 9900})}), "");  // 99999.99 fits
  EXPECT_EQ(ErrorOf(col("decimal(38,0)"), {F().Numeric(9, kPos, 0, {100})}),
            "row 1, column \"price\": value 1" + std::string(38, '0') + " does not fit decimal(38,0)");
  // 10000^30000: far past any accumulator, refused without overflowing.
  EXPECT_EQ(ErrorOf(col("decimal(38,0)"), {F().Numeric(30000, kPos, 0, {1})}),
            "row 1, column \"price\": value 1" + std::string(120000, '0') + " does not fit decimal(38,0)");
  // More fractional digits than the scale: an error, not rounding.
  EXPECT_EQ(ErrorOf(col("decimal(5,1)"), {F().Numeric(0, kPos, 2, {1, 2500})}),
            "row 1, column \"price\": value 1.25 does not fit decimal(5,1) without rounding; declare a larger scale "
            "or round it in the query");
  EXPECT_EQ(ErrorOf(col("decimal(10,4)"), {F().Numeric(-2, kNeg, 5, {1000})}),
            "row 1, column \"price\": value -0.00001 does not fit decimal(10,4) without rounding; declare a larger "
            "scale or round it in the query");
  EXPECT_EQ(ErrorOf(col("decimal(10,2)"), {F().Numeric(0, kNaN, 0, {})}),
            "row 1, column \"price\": NaN cannot be stored as decimal(10,2)");
  EXPECT_EQ(ErrorOf(col("decimal(10,2)"), {F().Numeric(0, kPinf, 0, {})}),
            "row 1, column \"price\": infinity cannot be stored as decimal(10,2)");
  EXPECT_EQ(ErrorOf(col("decimal(10,2)"), {F().Numeric(0, kNinf, 0, {})}),
            "row 1, column \"price\": -infinity cannot be stored as decimal(10,2)");
}

TEST_F(PgBinaryTest, NumericIntoIntegersOnlyWhenWholeAndInRange) {
  std::vector<PgColumn> cols = {Col("a", kNumeric, "int32"), Col("b", kNumeric, "int8"), Col("c", kNumeric, "int16"),
                                Col("d", kNumeric, "uint64"), Col("e", kNumeric, "int64")};
  Status s = LoadRows(cols, {F().Numeric(0, kPos, 0, {42})
                                 .Numeric(0, kNeg, 0, {7})
                                 .Numeric(0, kPos, 3, {2})  // 2.000
                                 .Numeric(4, kPos, 0, {1844, 6744, 737, 955, 1615})
                                 .Numeric(4, kNeg, 0, {922, 3372, 368, 5477, 5808})});
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(Column(0), (Strings{"42"}));
  EXPECT_EQ(Column(1), (Strings{"-7"}));
  EXPECT_EQ(Column(2), (Strings{"2"}));
  EXPECT_EQ(Column(3), (Strings{"18446744073709551615"}));
  EXPECT_EQ(Column(4), (Strings{"-9223372036854775808"}));

  EXPECT_EQ(ErrorOf({Col("n", kNumeric, "int32")}, {F().Numeric(0, kPos, 1, {1, 5000})}),
            "row 1, column \"n\": value 1.5 is not a whole number, so it cannot be stored as int32");
  EXPECT_EQ(ErrorOf({Col("n", kNumeric, "uint8")}, {F().Numeric(0, kPos, 0, {300})}),
            "row 1, column \"n\": value 300 does not fit uint8");
  EXPECT_EQ(ErrorOf({Col("n", kNumeric, "uint64")}, {F().Numeric(4, kPos, 0, {1844, 6744, 737, 955, 1616})}),
            "row 1, column \"n\": value 18446744073709551616 does not fit uint64");
  EXPECT_EQ(ErrorOf({Col("n", kNumeric, "int64")}, {F().Numeric(4, kPos, 0, {922, 3372, 368, 5477, 5808})}),
            "row 1, column \"n\": value 9223372036854775808 does not fit int64");
  EXPECT_EQ(ErrorOf({Col("n", kNumeric, "uint64")}, {F().Numeric(0, kNeg, 0, {1})}),
            "row 1, column \"n\": value -1 does not fit uint64");
  EXPECT_EQ(ErrorOf({Col("n", kNumeric, "int64")}, {F().Numeric(0, kNaN, 0, {})}),
            "row 1, column \"n\": NaN cannot be stored as int64");
}

TEST_F(PgBinaryTest, NumericAsDoubleAndFloatIsNearest) {
  std::vector<PgColumn> cols = {Col("d", kNumeric, "double"), Col("f", kNumeric, "float")};
  std::vector<uint16_t> thirds(30, 3333);
  std::vector<uint16_t> long_one(250, 0);  // 1.000...0001 with 996 zeros: more digits than a double can use
  long_one.front() = 1;
  long_one.back() = 1;
  Status s = LoadRows(cols, {F().Numeric(-1, kPos, 1, {1000}).Numeric(-1, kPos, 1, {1000}),  // 0.1
                             F().Numeric(1, kNeg, 4, {1, 2345, 6789}).Numeric(0, kPos, 1, {1, 5000}),
                             F().Numeric(0, kNaN, 0, {}).Numeric(0, kNaN, 0, {}),
                             F().Numeric(0, kPinf, 0, {}).Numeric(0, kNinf, 0, {}),
                             F().Numeric(-5, kPos, 20, {1}).Numeric(-13, kPos, 0, {100}),  // 1e-20, 1e-50
                             F().Numeric(-1, kPos, 120, thirds).Numeric(0, kPos, 0, {}),
                             F().Numeric(0, kPos, 996, long_one).Numeric(1, kNeg, 0, {1677, 7217})});
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(Column(0), (Strings{"0.1", "-12345.6789", "nan", "inf", "1e-20", "0.3333333333333333", "1.0"}));
  // 1e-50 underflows float to 0; -(2^24 + 1) lies halfway between two floats and rounds to even.
  EXPECT_EQ(Column(1), (Strings{"0.1", "1.5", "nan", "-inf", "0.0", "0.0", "-16777216.0"}));

  EXPECT_EQ(ErrorOf({Col("f", kNumeric, "float")}, {F().Numeric(9, kPos, 0, {3400})}),
            "row 1, column \"f\": value 34" + std::string(38, '0') + " does not fit float");
}

// --- floats, booleans ---

TEST_F(PgBinaryTest, FloatsAndBooleans) {
  std::vector<PgColumn> cols = {Col("a", kFloat4, "float"), Col("b", kFloat4, "double"), Col("c", kFloat8, "double"),
                                Col("d", kFloat8, "float"), Col("e", kBool, "boolean")};
  const double inf = std::numeric_limits<double>::infinity();
  Status s = LoadRows(cols, {F().Float4(1.5f).Float4(0.1f).Float8(0.1).Float8(0.1).Bool(true),
                             F().Float4(-0.0f).Float4(1e30f).Float8(std::nan("")).Float8(-inf).Bool(false),
                             F().Null().Null().Null().Null().Null()});
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(Column(0), (Strings{"1.5", "-0.0", "NULL"}));
  EXPECT_EQ(Column(1), (Strings{"0.10000000149011612", "1.0000000150474662e+30", "NULL"}));
  EXPECT_EQ(Column(2), (Strings{"0.1", "nan", "NULL"}));
  EXPECT_EQ(Column(3), (Strings{"0.1", "-inf", "NULL"}));
  EXPECT_EQ(Column(4), (Strings{"true", "false", "NULL"}));

  EXPECT_EQ(ErrorOf({Col("d", kFloat8, "float")}, {F().Float8(1e300)}),
            "row 1, column \"d\": value 1e+300 does not fit float");
  EXPECT_EQ(ErrorOf({Col("b", kBool, "boolean")}, {F().Field("ab")}),
            "row 1, column \"b\": malformed binary COPY data: a value of type bool cannot be 2 bytes long");
  EXPECT_EQ(ErrorOf({Col("f", kFloat8, "double")}, {F().Int4(1)}),
            "row 1, column \"f\": malformed binary COPY data: a value of type float8 cannot be 4 bytes long");
}

// --- text, json, bytea ---

TEST_F(PgBinaryTest, TextTypesAreStoredAsSent) {
  std::vector<PgColumn> cols = {Col("a", kText, "string"), Col("b", kVarchar, "string"), Col("c", kBpchar, "string"),
                                Col("d", kName, "string"), Col("e", kText, "json")};
  Status s = LoadRows(cols, {F().Field("hello").Field("\xC5\xBC\xC3\xB3\xC5\x82w \xF0\x9F\x90\xA2").Field("ab   ")
                                 .Field("pg_class").Field("{\"a\": [1, 2]}"),
                             F().Field("").Field("a string longer than the twelve inlined bytes").Null()
                                 .Field("x").Field("null")});
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(Column(0), (Strings{"hello", ""}));
  EXPECT_EQ(Column(1),
            (Strings{"\xC5\xBC\xC3\xB3\xC5\x82w \xF0\x9F\x90\xA2", "a string longer than the twelve inlined bytes"}));
  EXPECT_EQ(Column(2), (Strings{"ab   ", "NULL"}));  // bpchar keeps its padding
  EXPECT_EQ(Column(3), (Strings{"pg_class", "x"}));
  EXPECT_EQ(Column(4), (Strings{"{\"a\": [1, 2]}", "null"}));
  EXPECT_EQ(Texts("SELECT length(c1) FROM t ORDER BY rowid"), (Strings{"6", "45"}));
}

TEST_F(PgBinaryTest, JsonAndJsonb) {
  std::vector<PgColumn> cols = {Col("a", kJson, "json"), Col("b", kJsonb, "json"), Col("c", kJson, "string"),
                                Col("d", kJsonb, "string")};
  Status s = LoadRows(cols, {F().Field("{\"k\": \"v\"}").Field(std::string("\1") + "{\"k\": 1}").Field("[1]")
                                 .Field(std::string("\1") + "[true, null]")});
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(Column(0), (Strings{"{\"k\": \"v\"}"}));
  EXPECT_EQ(Column(1), (Strings{"{\"k\": 1}"}));
  EXPECT_EQ(Column(2), (Strings{"[1]"}));
  EXPECT_EQ(Column(3), (Strings{"[true, null]"}));
  EXPECT_EQ(Texts("SELECT c1->>'k' FROM t"), (Strings{"1"}));  // DuckDB reads it as JSON

  EXPECT_EQ(ErrorOf({Col("j", kJsonb, "json")}, {F().Field(std::string("\2") + "{}")}),
            "row 1, column \"j\": malformed binary COPY data: unsupported jsonb version 2");
  EXPECT_EQ(ErrorOf({Col("j", kJsonb, "json")}, {F().Field("")}),
            "row 1, column \"j\": malformed binary COPY data: a value of type jsonb cannot be 0 bytes long");
}

TEST_F(PgBinaryTest, ByteaIntoBinary) {
  Status s = LoadRows({Col("b", kBytea, "binary")},
                      {F().Field(std::string("a\0\xff", 3)), F().Field(""), F().Null(),
                       F().Field(std::string(40, 'z'))});
  ASSERT_TRUE(s.ok()) << s.message();
  std::string z_hex;
  for (int i = 0; i < 40; ++i) z_hex += "7A";
  EXPECT_EQ(Texts("SELECT coalesce(hex(c0), 'NULL') FROM t ORDER BY rowid"), (Strings{"6100FF", "", "NULL", z_hex}));
}

// --- uuid, inet ---

TEST_F(PgBinaryTest, UuidIntoUuidAndString) {
  const Strings uuids = {"12345678-9abc-def0-1234-56789abcdef0", "ffffffff-ffff-ffff-ffff-ffffffffffff",
                         "00000000-0000-0000-0000-000000000000", "80000000-0000-0000-0000-000000000001",
                         "7fffffff-ffff-ffff-8000-000000000000"};
  std::vector<Message> rows;
  for (const auto& u : uuids) rows.push_back(F().Uuid(u).Uuid(u));
  Status s = LoadRows({Col("u", kUuid, "uuid"), Col("s", kUuid, "string")}, rows);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(Column(0), uuids);
  EXPECT_EQ(Column(1), uuids);
  // DuckDB orders its UUIDs like their text only if the top bit was flipped on the way in.
  EXPECT_EQ(Texts("SELECT CAST(c0 AS VARCHAR) FROM t ORDER BY c0"),
            (Strings{"00000000-0000-0000-0000-000000000000", "12345678-9abc-def0-1234-56789abcdef0",
                     "7fffffff-ffff-ffff-8000-000000000000", "80000000-0000-0000-0000-000000000001",
                     "ffffffff-ffff-ffff-ffff-ffffffffffff"}));
  EXPECT_EQ(Texts("SELECT count(*) FROM t WHERE c0 = '12345678-9abc-def0-1234-56789abcdef0'::UUID"), (Strings{"1"}));

  EXPECT_EQ(ErrorOf({Col("u", kUuid, "uuid")}, {F().Field("0123456789abcde")}),
            "row 1, column \"u\": malformed binary COPY data: a value of type uuid cannot be 15 bytes long");
}

TEST_F(PgBinaryTest, InetAndCidrIntoPostgresText) {
  const uint8_t v4 = 2, v6 = 3;
  auto v6addr = [](std::vector<uint16_t> words) {
    std::vector<uint8_t> b;
    for (uint16_t w : words) b.push_back(w >> 8), b.push_back(w & 0xff);
    return b;
  };
  std::vector<std::pair<Message, std::string>> cases = {
      {F().Inet(v4, 32, false, {192, 168, 0, 1}), "192.168.0.1"},
      {F().Inet(v4, 8, false, {10, 1, 2, 3}), "10.1.2.3/8"},
      {F().Inet(v4, 8, true, {10, 0, 0, 0}), "10.0.0.0/8"},
      {F().Inet(v4, 32, true, {192, 168, 1, 5}), "192.168.1.5/32"},
      {F().Inet(v4, 0, true, {0, 0, 0, 0}), "0.0.0.0/0"},
      {F().Inet(v6, 128, false, v6addr({0, 0, 0, 0, 0, 0, 0, 1})), "::1"},
      {F().Inet(v6, 128, false, v6addr({0, 0, 0, 0, 0, 0, 0, 2})), "::2"},
      {F().Inet(v6, 128, false, v6addr({0x2001, 0xdb8, 0, 0, 0, 0xff00, 0x42, 0x8329})), "2001:db8::ff00:42:8329"},
      {F().Inet(v6, 128, false, v6addr({0, 0, 0, 0, 0, 0, 0, 0})), "::"},
      {F().Inet(v6, 128, false, v6addr({0, 0, 0, 0, 0, 0xffff, 0x0102, 0x0304})), "::ffff:1.2.3.4"},
      {F().Inet(v6, 128, false, v6addr({0, 0, 0, 0, 0, 0, 0x0102, 0x0304})), "::1.2.3.4"},
      {F().Inet(v6, 128, false, v6addr({0x2001, 0xdb8, 0, 0, 1, 0, 0, 1})), "2001:db8::1:0:0:1"},  // first run wins
      {F().Inet(v6, 128, false, v6addr({0x2001, 0xdb8, 0, 1, 1, 1, 1, 1})), "2001:db8:0:1:1:1:1:1"},  // one zero
      {F().Inet(v6, 128, false, v6addr({0x2001, 0xdb8, 0, 1, 0, 0, 0, 1})), "2001:db8:0:1::1"},       // longest
      {F().Inet(v6, 128, false, v6addr({1, 0, 0, 0, 0, 0, 0, 0})), "1::"},
      {F().Inet(v6, 10, true, v6addr({0xfe80, 0, 0, 0, 0, 0, 0, 0})), "fe80::/10"},
      {F().Inet(v6, 64, false, v6addr({0x2001, 0xdb8, 0, 0, 0, 0, 0, 1})), "2001:db8::1/64"},
      {F().Inet(v6, 128, true, v6addr({0xabcd, 0xef01, 0x2345, 0x6789, 0xabcd, 0xef01, 0x2345, 0x6789})),
       "abcd:ef01:2345:6789:abcd:ef01:2345:6789/128"},
  };
  std::vector<Message> rows;
  Strings expected;
  for (const auto& [field, text] : cases) rows.push_back(field), expected.push_back(text);
  Status s = LoadRows({Col("ip", kInet, "string")}, rows);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(Column(0), expected);

  const std::string bad = "row 1, column \"ip\": malformed binary COPY data: invalid inet value";
  EXPECT_EQ(ErrorOf({Col("ip", kInet, "string")}, {F().Inet(4, 32, false, {1, 2, 3, 4})}), bad);  // family
  EXPECT_EQ(ErrorOf({Col("ip", kInet, "string")}, {F().Inet(v6, 128, false, {1, 2, 3, 4})}), bad);  // size
  EXPECT_EQ(ErrorOf({Col("ip", kInet, "string")}, {F().Inet(v4, 33, false, {1, 2, 3, 4})}), bad);  // bits
  EXPECT_EQ(ErrorOf({Col("ip", kInet, "string")}, {F().Field(std::string("\2\40\0\4\1\2\3", 7))}), bad);  // short
  EXPECT_EQ(ErrorOf({Col("ip", kInet, "string")}, {F().Field("\2\40")}), bad);
}

// --- dates and timestamps ---

TEST_F(PgBinaryTest, DatesShiftFromThePostgresEpoch) {
  // Days since 2000-01-01, computed independently (Python's datetime.date arithmetic).
  Status s = LoadRows({Col("d", kDate, "date")}, {F().Int4(0), F().Int4(-1), F().Int4(-10957), F().Int4(-10958),
                                                  F().Int4(-14551), F().Int4(-730119), F().Int4(8825),
                                                  F().Int4(-2451545), F().Null()});
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(Column(0), (Strings{"2000-01-01", "1999-12-31", "1970-01-01", "1969-12-31", "1960-02-29", "0001-01-01",
                                "2024-02-29", "4714-11-24 (BC)", "NULL"}));

  EXPECT_EQ(ErrorOf({Col("day", kDate, "date")}, {F().Int4(std::numeric_limits<int32_t>::max())}),
            "row 1, column \"day\": infinity cannot be stored as date (Parquet readers do not agree on infinities); "
            "filter or replace it in the query");
  EXPECT_EQ(ErrorOf({Col("day", kDate, "date")}, {F().Int4(std::numeric_limits<int32_t>::min())}),
            "row 1, column \"day\": -infinity cannot be stored as date (Parquet readers do not agree on infinities); "
            "filter or replace it in the query");
  EXPECT_EQ(ErrorOf({Col("day", kDate, "date")}, {F().Int4(std::numeric_limits<int32_t>::max() - 1)}),
            "row 1, column \"day\": value 2147483646 days from 2000-01-01 does not fit date");
}

TEST_F(PgBinaryTest, TimestampsIntoMicrosAndFlooredMillis) {
  std::vector<PgColumn> cols = {Col("a", kTimestamptz, "timestamp"), Col("b", kTimestamp, "timestamp"),
                                Col("c", kTimestamptz, "timestamp_ms"), Col("d", kTimestamp, "timestamp_ms")};
  auto row = [](int64_t us) { return F().Int8(us).Int8(us).Int8(us).Int8(us); };
  Status s = LoadRows(cols, {row(0), row(-1), row(1500), row(-1500), row(-946684800000000), row(-946684800500000),
                             row(-946684800000001), row(821799930123456), F().Null().Null().Null().Null()});
  ASSERT_TRUE(s.ok()) << s.message();
  const Strings micros = {"2000-01-01 00:00:00+00",        "1999-12-31 23:59:59.999999+00",
                          "2000-01-01 00:00:00.0015+00",   "1999-12-31 23:59:59.9985+00",
                          "1970-01-01 00:00:00+00",        "1969-12-31 23:59:59.5+00",
                          "1969-12-31 23:59:59.999999+00", "2026-01-15 13:45:30.123456+00",
                          "NULL"};
  const Strings millis = {"2000-01-01 00:00:00",     "1999-12-31 23:59:59.999", "2000-01-01 00:00:00.001",
                          "1999-12-31 23:59:59.998", "1970-01-01 00:00:00",     "1969-12-31 23:59:59.5",
                          "1969-12-31 23:59:59.999", "2026-01-15 13:45:30.123", "NULL"};
  EXPECT_EQ(Column(0), micros);
  EXPECT_EQ(Column(1), micros);
  EXPECT_EQ(Column(2), millis);
  EXPECT_EQ(Column(3), millis);
  EXPECT_EQ(Texts("SELECT epoch_us(c0) FROM t WHERE c0 IS NOT NULL ORDER BY rowid LIMIT 2"),
            (Strings{"946684800000000", "946684799999999"}));

  const std::string tail = " (Parquet readers do not agree on infinities); filter or replace it in the query";
  EXPECT_EQ(ErrorOf({Col("at", kTimestamptz, "timestamp")}, {F().Int8(std::numeric_limits<int64_t>::max())}),
            "row 1, column \"at\": infinity cannot be stored as timestamp" + tail);
  EXPECT_EQ(ErrorOf({Col("at", kTimestamp, "timestamp_ms")}, {F().Int8(std::numeric_limits<int64_t>::min())}),
            "row 1, column \"at\": -infinity cannot be stored as timestamp_ms" + tail);
  EXPECT_EQ(ErrorOf({Col("at", kTimestamptz, "timestamp")}, {F().Int8(std::numeric_limits<int64_t>::max() - 1)}),
            "row 1, column \"at\": value 9223372036854775806 microseconds from 2000-01-01 00:00 UTC does not fit "
            "timestamp");
}

// --- NULLs and chunk reuse ---

TEST_F(PgBinaryTest, NullIntoEveryKindOfColumn) {
  std::vector<PgColumn> cols = {
      Col("a", kBool, "boolean"), Col("b", kInt4, "int32"),   Col("c", kNumeric, "decimal(38,2)"),
      Col("d", kFloat8, "double"), Col("e", kText, "string"), Col("f", kJsonb, "json"),
      Col("g", kBytea, "binary"), Col("h", kUuid, "uuid"),    Col("i", kInet, "string"),
      Col("j", kDate, "date"),    Col("k", kTimestamptz, "timestamp"), Col("l", kTimestamp, "timestamp_ms")};
  Message nulls;
  for (size_t i = 0; i < cols.size(); ++i) nulls.Null();
  Status s = LoadRows(cols, {nulls});
  ASSERT_TRUE(s.ok()) << s.message();
  for (size_t c = 0; c < cols.size(); ++c) EXPECT_EQ(Column(static_cast<int>(c)), (Strings{"NULL"})) << c;
}

TEST_F(PgBinaryTest, ReusedChunkRowsAreValidAgain) {
  std::vector<PgColumn> cols = {Col("n", kInt4, "int32"), Col("s", kText, "string")};
  CreateTable(cols);
  TableWriter writer(conn_->raw(), cols.size());
  PgBinaryDecoder decoder(cols);
  bool appended = false;
  std::vector<std::string> m = CopyOf(2, {F().Null().Null(), F().Int4(7).Field("seven"), F().Int4(8).Null(),
                                          F().Int4(9).Field("nine")});
  // First use: row 0 NULL, row 1 valid. Appended without a reset, so the NULLs stay in the mask.
  ASSERT_TRUE(decoder.Decode(m[0], writer.chunk(), 0, &appended).ok());
  ASSERT_TRUE(decoder.Decode(m[1], writer.chunk(), 1, &appended).ok());
  writer.Append(2, /*reset=*/false);
  // Second use of the same chunk: row 0 gets values, row 1 a NULL text.
  ASSERT_TRUE(decoder.Decode(m[2], writer.chunk(), 0, &appended).ok());
  ASSERT_TRUE(decoder.Decode(m[3], writer.chunk(), 1, &appended).ok());
  writer.Append(2, /*reset=*/true);
  // Third use, after a reset.
  ASSERT_TRUE(decoder.Decode(Message().Tuple(2).Null().Field("after reset").str(), writer.chunk(), 0, &appended).ok());
  ASSERT_TRUE(decoder.Decode(m[4], writer.chunk(), 1, &appended).ok());
  writer.Append(1);
  writer.Close();
  EXPECT_TRUE(decoder.finished());
  EXPECT_EQ(decoder.rows_decoded(), 5u);
  EXPECT_EQ(Column(0), (Strings{"NULL", "7", "8", "9", "NULL"}));
  EXPECT_EQ(Column(1), (Strings{"NULL", "seven", "NULL", "nine", "after reset"}));
}

TEST_F(PgBinaryTest, ManyRowsOverSeveralChunks) {
  std::vector<PgColumn> cols = {Col("id", kInt8, "int64"), Col("name", kText, "string"),
                                Col("price", kNumeric, "decimal(12,2)")};
  std::vector<Message> rows;
  for (int i = 0; i < 5000; ++i) {
    Message r;
    r.Int8(i);
    if (i % 7 == 0) {
      r.Null();
    } else {
      r.Field("name number " + std::to_string(i));
    }
    r.Numeric(0, kPos, 2, {static_cast<uint16_t>(i % 10000), 5000});  // i.50
    rows.push_back(r);
  }
  PgBinaryDecoder decoder(cols);
  Status s = Load(cols, CopyOf(cols.size(), rows), &decoder);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(decoder.rows_decoded(), 5000u);
  EXPECT_TRUE(decoder.finished());
  // Sums computed by hand: ids 0..4999 sum to 12497500; prices add 0.50 each; 715 of 5000 ids are multiples of 7.
  EXPECT_EQ(Texts("SELECT count(*) FROM t"), (Strings{"5000"}));
  EXPECT_EQ(Texts("SELECT sum(c0) FROM t"), (Strings{"12497500"}));
  EXPECT_EQ(Texts("SELECT sum(c2) FROM t"), (Strings{"12500000.00"}));
  EXPECT_EQ(Texts("SELECT count(c1) FROM t"), (Strings{"4285"}));
  EXPECT_EQ(Texts("SELECT c1 FROM t WHERE c0 = 4999"), (Strings{"name number 4999"}));
}

// --- framing: header, trailer, truncation ---

TEST_F(PgBinaryTest, HeaderAloneThenTuplesThenTrailer) {
  std::vector<PgColumn> cols = {Col("n", kInt4, "int32")};
  PgBinaryDecoder decoder(cols);
  Status s = Load(cols, {Message().Header().str(), Message().Tuple(1).Int4(1).str(), Message().Tuple(1).Int4(2).str(),
                         Message().Trailer().str()},
                  &decoder);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_TRUE(decoder.finished());
  EXPECT_EQ(decoder.rows_decoded(), 2u);
  EXPECT_EQ(Column(0), (Strings{"1", "2"}));
}

TEST_F(PgBinaryTest, HeaderWithTheFirstTupleAndAnExtensionArea) {
  std::vector<PgColumn> cols = {Col("n", kInt4, "int32")};
  PgBinaryDecoder decoder(cols);
  // Flag bits 17-31 are to be ignored; the extension area is skipped.
  Status s = Load(cols, {Message().Header(1 << 20, "ext!").Tuple(1).Int4(42).str(), Message().Trailer().str()},
                  &decoder);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(decoder.rows_decoded(), 1u);
  EXPECT_EQ(Column(0), (Strings{"42"}));
}

TEST_F(PgBinaryTest, EmptyCopyHasHeaderAndTrailerInOneMessage) {
  std::vector<PgColumn> cols = {Col("n", kInt4, "int32")};
  PgBinaryDecoder decoder(cols);
  ASSERT_TRUE(Load(cols, CopyOf(1, {}), &decoder).ok());
  EXPECT_TRUE(decoder.finished());
  EXPECT_EQ(decoder.rows_decoded(), 0u);
  EXPECT_EQ(Texts("SELECT count(*) FROM t"), (Strings{"0"}));
}

TEST_F(PgBinaryTest, NothingMayFollowTheTrailer) {
  std::vector<PgColumn> cols = {Col("n", kInt4, "int32")};
  EXPECT_EQ(Load(cols, {Message().Header().Trailer().I16(1).str()}).message(),
            "malformed binary COPY data: 2 bytes after the trailer");
  EXPECT_EQ(Load(cols, {Message().Header().Trailer().str(), Message().Tuple(1).Int4(1).str()}).message(),
            "malformed binary COPY data: a message after the trailer");
}

TEST_F(PgBinaryTest, BadHeadersAreRefused) {
  std::vector<PgColumn> cols = {Col("n", kInt4, "int32")};
  EXPECT_EQ(Load(cols, {Message().Header().str().substr(0, 15)}).message(),
            "malformed binary COPY data: the header needs 19 bytes, the first message has 15");
  EXPECT_EQ(Load(cols, {"n\t1\n"}).message(),
            "malformed binary COPY data: the header needs 19 bytes, the first message has 4");
  std::string text_copy = "PGCOPY\n\377\r\n\1" + std::string(8, '\0');
  EXPECT_EQ(Load(cols, {text_copy}).message(),
            "malformed binary COPY data: the first message does not start with the PGCOPY signature (is it FORMAT "
            "binary?)");
  EXPECT_EQ(Load(cols, {Message().Header(1 << 16).str()}).message(),
            "malformed binary COPY data: unsupported header flags 65536");
  EXPECT_EQ(Load(cols, {Message().Header(1).str()}).message(),
            "malformed binary COPY data: unsupported header flags 1");
  EXPECT_EQ(Load(cols, {Message().Raw(std::string("PGCOPY\n\377\r\n\0", 11)).I32(0).I32(5).Raw("abc").str()})
                .message(),
            "malformed binary COPY data: header extension of 5 bytes exceeds the message (3 bytes left)");
}

TEST_F(PgBinaryTest, FieldCountMismatchNamesTheRow) {
  std::vector<PgColumn> cols;
  for (int i = 0; i < 10; ++i) cols.push_back(Col("c" + std::to_string(i), kInt4, "int32"));
  std::vector<Message> rows;
  for (int r = 0; r < 6; ++r) {
    Message m;
    for (int i = 0; i < 10; ++i) m.Int4(r * 10 + i);
    rows.push_back(m);
  }
  std::vector<std::string> messages = CopyOf(10, rows);
  Message short_row = Message().Tuple(9);
  for (int i = 0; i < 9; ++i) short_row.Int4(i);
  messages.insert(messages.end() - 1, short_row.str());
  EXPECT_EQ(Load(cols, messages).message(), "row 7: expected 10 fields, got 9");
}

TEST_F(PgBinaryTest, MalformedFieldsAreRefusedWithoutReadingPastTheMessage) {
  std::vector<PgColumn> cols = {Col("a", kText, "string")};
  EXPECT_EQ(Load(cols, {Message().Header().Tuple(1).I32(99).Raw(std::string(12, 'x')).str()}).message(),
            "row 1, column \"a\": malformed binary COPY data: field length 99 exceeds the message (12 bytes left)");
  EXPECT_EQ(Load(cols, {Message().Header().Tuple(1).I32(-2).str()}).message(),
            "row 1, column \"a\": malformed binary COPY data: invalid field length -2");
  EXPECT_EQ(Load(cols, {Message().Header().Tuple(1).I16(0).str()}).message(),
            "row 1, column \"a\": malformed binary COPY data: the message ends before the field length (2 bytes left)");
  EXPECT_EQ(Load(cols, {Message().Header().U8(0).str()}).message(),
            "row 1: malformed binary COPY data: the message ends inside the field count");
  EXPECT_EQ(Load(cols, {Message().Header().Tuple(1).Field("a").Tuple(1).Field("b").str()}).message(),
            "row 1: malformed binary COPY data: 7 bytes after the last field (one tuple per message expected)");
  EXPECT_EQ(Load({Col("n", kInt4, "int32")}, {Message().Header().Tuple(1).Field("abc").str()}).message(),
            "row 1, column \"n\": malformed binary COPY data: a value of type int4 cannot be 3 bytes long");
  // numeric: ndigits disagreeing with the length, a digit over 9999, an unknown sign.
  std::vector<PgColumn> num = {Col("n", kNumeric, "decimal(10,2)")};
  EXPECT_EQ(Load(num, {Message().Header().Tuple(1).I32(10).I16(2).I16(0).I16(0).I16(0).I16(1).str()}).message(),
            "row 1, column \"n\": malformed binary COPY data: a value of type numeric cannot be 10 bytes long");
  EXPECT_EQ(Load(num, {Message().Header().Tuple(1).Numeric(0, kPos, 0, {10000}).str()}).message(),
            "row 1, column \"n\": malformed binary COPY data: invalid numeric value");
  EXPECT_EQ(Load(num, {Message().Header().Tuple(1).Numeric(0, 0x1234, 0, {1}).str()}).message(),
            "row 1, column \"n\": malformed binary COPY data: invalid numeric value");
}

// Every proper prefix of valid messages must fail cleanly (run under ASan to catch over-reads).
TEST_F(PgBinaryTest, EveryTruncationIsAnError) {
  std::vector<PgColumn> cols = {Col("a", kInt4, "int32"),      Col("b", kText, "string"),
                                Col("c", kNumeric, "double"),  Col("d", kUuid, "uuid"),
                                Col("e", kInet, "string"),     Col("f", kTimestamptz, "timestamp"),
                                Col("g", kJsonb, "json"),      Col("h", kNumeric, "decimal(20,4)")};
  Message fields = F().Int4(5).Field("some text").Numeric(1, kNeg, 4, {1, 2345, 6789})
                       .Uuid("12345678-9abc-def0-1234-56789abcdef0").Inet(3, 64, false, std::vector<uint8_t>(16, 1))
                       .Int8(123456789).Field(std::string("\1{}")).Numeric(0, kPos, 2, {3, 1400});
  CreateTable(cols);
  TableWriter writer(conn_->raw(), cols.size());
  const std::string first = Message().Header().Tuple(8).Raw(fields.str()).str();
  const std::string later = Message().Tuple(8).Raw(fields.str()).str();
  for (size_t n = 0; n < first.size(); ++n) {
    PgBinaryDecoder decoder(cols);
    bool appended = false;
    // Heap copies of exactly n bytes, so that ASan sees any read past them.
    std::vector<char> bytes(first.begin(), first.begin() + static_cast<std::ptrdiff_t>(n));
    Status s = decoder.Decode(std::string_view(bytes.data(), n), writer.chunk(), 0, &appended);
    EXPECT_FALSE(appended) << n;
    EXPECT_EQ(s.ok(), n == 19) << n << ": " << s.message();  // 19 bytes: the header alone
  }
  for (size_t n = 0; n < later.size(); ++n) {
    PgBinaryDecoder decoder(cols);
    bool appended = false;
    ASSERT_TRUE(decoder.Decode(Message().Header().str(), writer.chunk(), 0, &appended).ok());
    std::vector<char> bytes(later.begin(), later.begin() + static_cast<std::ptrdiff_t>(n));
    Status s = decoder.Decode(std::string_view(bytes.data(), n), writer.chunk(), 0, &appended);
    EXPECT_FALSE(appended) << n;
    EXPECT_EQ(s.ok(), n == 0) << n << ": " << s.message();  // an empty message carries nothing
  }
  PgBinaryDecoder decoder(cols);
  bool appended = false;
  Status s = decoder.Decode(first, writer.chunk(), 0, &appended);
  EXPECT_TRUE(s.ok()) << s.message();
  EXPECT_TRUE(appended);
}

TEST_F(PgBinaryTest, ChunkOfTheWrongShapeIsRefused) {
  CreateTable({Col("a", kInt4, "int64")});
  TableWriter writer(conn_->raw(), 1);
  PgBinaryDecoder decoder({Col("a", kInt4, "int32")});
  bool appended = false;
  Status s = decoder.Decode(Message().Header().Tuple(1).Int4(1).str(), writer.chunk(), 0, &appended);
  EXPECT_EQ(s.code(), StatusCode::kInternal);
  EXPECT_EQ(s.message(), "column \"a\": the data chunk's vector is not of type INTEGER");
  PgBinaryDecoder two({Col("a", kInt4, "int64"), Col("b", kInt4, "int64")});
  EXPECT_EQ(two.Decode(Message().Header().Tuple(2).Int4(1).Int4(2).str(), writer.chunk(), 0, &appended).message(),
            "the data chunk has 1 columns, the COPY 2");
  PgBinaryDecoder one({Col("a", kInt4, "int64")});
  EXPECT_EQ(one.Decode(Message().Header().Tuple(1).Int4(1).str(), writer.chunk(), duckdb_vector_size(), &appended)
                .message(),
            "row index 2048 is past the chunk's capacity of 2048");
}

}  // namespace
}  // namespace pqflow::source
