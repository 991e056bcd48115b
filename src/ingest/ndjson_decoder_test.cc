#include "ingest/ndjson_decoder.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

namespace pqflow::ingest {
namespace {

constexpr int64_t kReceiptMs = 1705314600000;  // 2024-01-15T10:30:00Z

ColumnType Type(TypeKind kind, int precision = 0, int scale = 0) {
  ColumnType t;
  t.kind = kind;
  t.precision = precision;
  t.scale = scale;
  return t;
}

ColumnSpec Col(std::string name, ColumnType type, bool nullable = true, std::vector<std::string> values = {}) {
  ColumnSpec c;
  c.name = std::move(name);
  c.type = type;
  c.nullable = nullable;
  c.values = std::move(values);
  return c;
}

// The events stream of seed 004, built here rather than taken from the config module.
StreamConfig EventsStream() {
  StreamConfig s;
  s.name = "events";
  ColumnSpec receipt = Col("batch_timestamp", Type(TypeKind::kInt64), false);
  receipt.receipt_time = true;
  s.columns = {Col("timestamp", Type(TypeKind::kInt64), false),
               receipt,
               Col("workspace_id", Type(TypeKind::kUInt64), false),
               Col("event_type", Type(TypeKind::kString), false, {"track", "identify", "group", "alias", "enrich"}),
               Col("event_name", Type(TypeKind::kString)),
               Col("device_id", Type(TypeKind::kUuid)),
               Col("session_id", Type(TypeKind::kUuid)),
               Col("source_ip", Type(TypeKind::kIpv6)),
               Col("payload", Type(TypeKind::kBinary))};
  return s;
}

// A stream with one column "v" of `type`.
StreamConfig OneColumn(ColumnType type, bool nullable = true) {
  StreamConfig s;
  s.name = "t";
  s.columns = {Col("v", type, nullable)};
  return s;
}

DecodedBatch Decode(const StreamConfig& stream, std::string_view body, size_t max_errors = 100) {
  NdjsonDecoder decoder(stream);
  return decoder.Decode(body, kReceiptMs, max_errors);
}

// "line|field|reason" per error, one a line: compared exactly.
std::string Errors(const DecodedBatch& b) {
  std::string out;
  for (const LineError& e : b.errors) out += std::to_string(e.line) + "|" + e.field + "|" + e.reason + "\n";
  return out;
}

std::string Hex(std::string_view bytes) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

std::string FixedHex(const ColumnData& col, size_t row) {
  return Hex(std::string_view(reinterpret_cast<const char*>(col.FixedValue(row)), col.width));
}

template <typename T>
T FixedAs(const ColumnData& col, size_t row) {
  T v{};
  EXPECT_EQ(sizeof(T), col.width);
  if (row >= col.rows() || sizeof(T) != col.width) {
    ADD_FAILURE() << "no row " << row << " of width " << sizeof(T);
    return v;
  }
  std::memcpy(&v, col.FixedValue(row), sizeof(T));
  return v;
}

void ExpectConsistent(const DecodedBatch& b) {
  if (b.errors.empty()) {
    EXPECT_EQ(b.row_lines.size(), b.rows.rows());
  }
  for (size_t c = 0; c < b.rows.column_count(); ++c) {
    const ColumnData& col = b.rows.column(c);
    EXPECT_EQ(col.rows(), b.rows.rows()) << "column " << c;
    if (col.is_variable()) {
      EXPECT_EQ(col.offsets.size(), col.rows() + 1);
      EXPECT_EQ(col.offsets.back(), col.bytes.size());
    } else {
      EXPECT_EQ(col.fixed.size(), col.rows() * col.width);
    }
  }
}

// Decodes {"v": <json>} in a one-column stream; expects one row and no errors.
DecodedBatch One(ColumnType type, std::string_view json) {
  DecodedBatch b = Decode(OneColumn(type), "{\"v\": " + std::string(json) + "}");
  EXPECT_EQ(Errors(b), "") << json;
  EXPECT_EQ(b.rows.rows(), b.errors.empty() ? 1u : 0u) << json;
  return b;
}

// The error reason for {"v": <json>} in a one-column stream.
std::string OneError(ColumnType type, std::string_view json, bool nullable = true) {
  DecodedBatch b = Decode(OneColumn(type, nullable), "{\"v\": " + std::string(json) + "}");
  ExpectConsistent(b);
  EXPECT_EQ(b.rows.rows(), 0u) << json;
  if (b.errors.size() != 1) return "errors: " + Errors(b);
  EXPECT_EQ(b.errors[0].line, 1);
  return (b.errors[0].field.empty() ? "" : b.errors[0].field + ": ") + b.errors[0].reason;
}

// ---- The seed 004 events schema --------------------------------------------------------

TEST(NdjsonDecoderTest, EventsDecodeEveryColumnExactly) {
  const std::string body =
      R"({"timestamp": 1705314600123, "workspace_id": 18446744073709551615, "event_type": "track",)"
      R"( "event_name": "page_view", "device_id": "550e8400-e29b-41d4-a716-446655440000",)"
      R"( "session_id": "{00000000-0000-0000-0000-000000000001}", "source_ip": "192.168.1.10",)"
      R"( "payload": {"url": "/a b", "n": [1, 2.50, 1e400], "ok": true, "x": null}})"
      "\n"
      R"({"event_type":"identify","workspace_id":42,"timestamp":-5,"source_ip":"2001:db8::1","payload":"raw \"bytes\"\n"})"
      "\n";
  DecodedBatch b = Decode(EventsStream(), body);
  ASSERT_EQ(Errors(b), "");
  ASSERT_EQ(b.rows.rows(), 2u);
  ExpectConsistent(b);
  const RowBatch& r = b.rows;
  EXPECT_EQ(FixedAs<int64_t>(r.column(0), 0), 1705314600123);
  EXPECT_EQ(FixedAs<int64_t>(r.column(0), 1), -5);
  EXPECT_EQ(FixedAs<int64_t>(r.column(1), 0), kReceiptMs);
  EXPECT_EQ(FixedAs<int64_t>(r.column(1), 1), kReceiptMs);
  EXPECT_EQ(FixedAs<uint64_t>(r.column(2), 0), 18446744073709551615u);
  EXPECT_EQ(FixedAs<uint64_t>(r.column(2), 1), 42u);
  EXPECT_EQ(r.column(3).VariableValue(0), "track");
  EXPECT_EQ(r.column(3).VariableValue(1), "identify");
  EXPECT_EQ(r.column(4).VariableValue(0), "page_view");
  EXPECT_EQ(r.column(4).valid[1], 0);
  // 550e8400-e29b-41d4-a716-446655440000 as DuckDB keeps it: lower = a716446655440000,
  // upper = 550e8400e29b41d4 ^ 1<<63 = d50e8400e29b41d4, both little-endian.
  EXPECT_EQ(FixedHex(r.column(5), 0), "00004455664416a7" "d4419be200840ed5");
  EXPECT_EQ(r.column(5).valid[1], 0);
  EXPECT_EQ(FixedHex(r.column(5), 1), std::string(32, '0')) << "NULL is zeroes";
  // ...-000000000001: lower = 1, upper = 0 ^ 1<<63.
  EXPECT_EQ(FixedHex(r.column(6), 0), "0100000000000000" "0000000000000080");
  EXPECT_EQ(Hex(r.column(7).VariableValue(0)), "00000000000000000000ffffc0a8010a");
  EXPECT_EQ(Hex(r.column(7).VariableValue(1)), "20010db8000000000000000000000001");
  EXPECT_EQ(r.column(8).VariableValue(0), R"({"url":"/a b","n":[1,2.50,1e400],"ok":true,"x":null})");
  EXPECT_EQ(r.column(8).VariableValue(1), "raw \"bytes\"\n");
}

TEST(NdjsonDecoderTest, OptionalColumnsMissingOrNullAreNull) {
  DecodedBatch b = Decode(EventsStream(),
                          R"({"timestamp":1,"workspace_id":2,"event_type":"alias","event_name":null,"device_id":null,)"
                          R"("session_id":null,"source_ip":null,"payload":null})"
                          "\n"
                          R"({"timestamp":1,"workspace_id":2,"event_type":"group"})");
  ASSERT_EQ(Errors(b), "");
  ASSERT_EQ(b.rows.rows(), 2u);
  for (size_t c = 4; c < 9; ++c) {
    EXPECT_EQ(b.rows.column(c).valid, (std::vector<uint8_t>{0, 0})) << c;
  }
  EXPECT_EQ(b.rows.column(8).bytes, "");
  ExpectConsistent(b);
}

TEST(NdjsonDecoderTest, UuidForms) {
  const std::string expected = "00004455664416a7" "d4419be200840ed5";
  for (const char* text : {"\"550e8400-e29b-41d4-a716-446655440000\"", "\"550E8400-E29B-41D4-A716-446655440000\"",
                           "\"550e8400e29b41d4a716446655440000\"", "\"{550e8400-e29b-41d4-a716-446655440000}\"",
                           "\"{550e8400e29b41d4a716446655440000}\""}) {
    DecodedBatch b = One(Type(TypeKind::kUuid), text);
    ASSERT_EQ(b.rows.rows(), 1u) << text;
    EXPECT_EQ(FixedHex(b.rows.column(0), 0), expected) << text;
  }
  // ffffffff-...: upper = ffffffffffffffff ^ 1<<63 = 7fffffffffffffff.
  DecodedBatch max = One(Type(TypeKind::kUuid), "\"ffffffff-ffff-ffff-ffff-ffffffffffff\"");
  EXPECT_EQ(FixedHex(max.rows.column(0), 0), "ffffffffffffffff" "ffffffffffffff7f");
  const std::string reason = "v: expected a UUID string (8-4-4-4-12 hex digits); got ";
  const ColumnType uuid = Type(TypeKind::kUuid);
  EXPECT_EQ(OneError(uuid, "\"550e8400-e29b-41d4-a716-44665544000\""), reason + "\"550e8400-e29b-41d4-a716-44665544000\"");
  EXPECT_EQ(OneError(uuid, "\"550e8400-e29b-41d4-a716-44665544000g\""), reason + "\"550e8400-e29b-41d4-a716-44665544000g\"");
  EXPECT_EQ(OneError(uuid, "\"550e8400e-29b-41d4-a716-446655440000\""), reason + "\"550e8400e-29b-41d4-a716-446655440000\"");
  EXPECT_EQ(OneError(uuid, "\"{550e8400-e29b-41d4-a716-446655440000\""), reason + "\"{550e8400-e29b-41d4-a716-446655440000\"");
  EXPECT_EQ(OneError(uuid, "\"\""), reason + "\"\"");
  EXPECT_EQ(OneError(uuid, "12"), reason + "12");
  EXPECT_EQ(OneError(uuid, "[1, 2]"), reason + "[1, 2]");
}

TEST(NdjsonDecoderTest, IpAddressForms) {
  struct Case {
    const char* text;
    const char* hex;
  };
  const Case cases[] = {
      {"10.0.0.1", "00000000000000000000ffff0a000001"},
      {"255.255.255.255", "00000000000000000000ffffffffffff"},
      {"0.0.0.0", "00000000000000000000ffff00000000"},
      {"1.20.199.0", "00000000000000000000ffff0114c700"},
      {"::ffff:10.0.0.1", "00000000000000000000ffff0a000001"},
      {"::1", "00000000000000000000000000000001"},
      {"::", "00000000000000000000000000000000"},
      {"2001:db8::1", "20010db8000000000000000000000001"},
      {"2001:DB8:0:0:0:0:0:1", "20010db8000000000000000000000001"},
      {"2001:0db8:0000:0000:0000:0000:0000:0001", "20010db8000000000000000000000001"},
      {"fe80::1:2", "fe800000000000000000000000010002"},
      {"2001:db8:85a3::8a2e:370:7334", "20010db885a3000000008a2e03707334"},
      {"1:2:3:4:5:6:7:8", "00010002000300040005000600070008"},
  };
  for (const Case& c : cases) {
    DecodedBatch b = One(Type(TypeKind::kIpv6), "\"" + std::string(c.text) + "\"");
    ASSERT_EQ(b.rows.rows(), 1u) << c.text;
    EXPECT_EQ(b.rows.column(0).VariableValue(0).size(), 16u);
    EXPECT_EQ(Hex(b.rows.column(0).VariableValue(0)), c.hex) << c.text;
  }
  const std::string reason = "v: expected an IPv4 or IPv6 address string; got ";
  const ColumnType ip = Type(TypeKind::kIpv6);
  for (const char* bad : {"\"256.1.1.1\"", "\"1.2.3\"", "\"1.2.3.4.5\"", "\"::g\"", "\"1:2:3:4:5:6:7:8:9\"", "\"\"",
                          "\"fe80::1%eth0\"", "\" 10.0.0.1\"", "\"10.0.0.1\\u0000x\"", "\"localhost\"",
                          "\"01.2.3.4\"", "\"1.2.3.4.\"", "\".1.2.3\"", "\"1..2.3\"", "\"1.2.3.1000\"", "\"10.0.0.1 \"",
                          "\"-1.2.3.4\"", "\"1.2.3.4x\""}) {
    EXPECT_EQ(OneError(ip, bad), reason + bad);
  }
  EXPECT_EQ(OneError(ip, "167772161"), reason + "167772161");
}

TEST(NdjsonDecoderTest, BinaryAndJsonValues) {
  const ColumnType binary = Type(TypeKind::kBinary);
  const ColumnType json = Type(TypeKind::kJson);
  auto value = [](const DecodedBatch& b) { return std::string(b.rows.column(0).VariableValue(0)); };
  EXPECT_EQ(value(One(binary, R"({ "a" : [ 1 , { "b" : "x  y" } ] , "c" : { } , "d" : [ ] })")),
            R"({"a":[1,{"b":"x  y"}],"c":{},"d":[]})");
  EXPECT_EQ(value(One(binary, R"("caf\u00e9 \"q\" \\ \t")")), "caf\xc3\xa9 \"q\" \\ \t");
  EXPECT_EQ(value(One(binary, R"("")")), "");
  EXPECT_EQ(value(One(binary, "[1,\t2]")), "[1,2]");
  EXPECT_EQ(value(One(binary, "123456789012345678901234567890")), "123456789012345678901234567890");
  EXPECT_EQ(value(One(binary, "-1.50E+3")), "-1.50E+3");
  EXPECT_EQ(value(One(binary, "true")), "true");
  EXPECT_EQ(value(One(binary, "false")), "false");
  // Escapes inside objects are kept as written.
  EXPECT_EQ(value(One(binary, R"({"k\u0041": "\u00e9\n"})")), R"({"k\u0041":"\u00e9\n"})");
  // A json column keeps a string as JSON text, quotes and escapes included.
  EXPECT_EQ(value(One(json, R"("x\"y")")), R"("x\"y")");
  EXPECT_EQ(value(One(json, R"({"a": {"b": [null, true]}})")), R"({"a":{"b":[null,true]}})");
  EXPECT_EQ(value(One(json, "0")), "0");
  DecodedBatch null_json = One(json, "null");
  EXPECT_EQ(null_json.rows.column(0).valid[0], 0);
}

TEST(NdjsonDecoderTest, InvalidJsonInsideJsonValuesIsRefused) {
  const ColumnType binary = Type(TypeKind::kBinary);
  EXPECT_EQ(OneError(binary, R"({"a": tru})"), "invalid JSON: Problem while parsing an atom starting with the letter 't'");
  EXPECT_EQ(OneError(binary, R"([falsy])"), "invalid JSON: Problem while parsing an atom starting with the letter 'f'");
  EXPECT_EQ(OneError(binary, R"({"a": nul})"), "invalid JSON: Problem while parsing an atom starting with the letter 'n'");
  EXPECT_EQ(OneError(binary, R"({"a": 01})"), "invalid JSON: Problem while parsing a number");
  EXPECT_EQ(OneError(binary, R"([1, -])"), "invalid JSON: Problem while parsing a number");
  EXPECT_EQ(OneError(binary, R"({"a": "\q"})"), "invalid JSON: Problem while parsing a string");
  EXPECT_EQ(OneError(binary, R"({"\q": 1})"), "invalid JSON: Problem while parsing a string");
  const std::string structure =
      "invalid JSON: The JSON document has an improper structure: missing or superfluous commas, braces, missing keys, etc.";
  EXPECT_EQ(OneError(binary, R"([1, 2,])"), structure);
  EXPECT_EQ(OneError(binary, R"({"a" 1})"), structure);
  EXPECT_EQ(OneError(binary, R"({"a": 1 "b": 2})"), structure);
  EXPECT_EQ(OneError(binary, R"([1 2])"), structure);
  const std::string deep = std::string(300, '[') + std::string(300, ']');
  EXPECT_EQ(OneError(binary, deep), "invalid JSON: The JSON document was too deep (too many nested objects and arrays)");
  const std::string ok_deep = std::string(200, '[') + std::string(200, ']');
  EXPECT_EQ(One(binary, ok_deep).rows.column(0).VariableValue(0), ok_deep);
}

// ---- Errors: line, field, reason -------------------------------------------------------

TEST(NdjsonDecoderTest, LineErrors) {
  const std::string body =
      "[1, 2]\n"                                        // 1
      "42\n"                                            // 2
      "\"text\"\n"                                      // 3
      "{\"timestamp\": 1,}\n"                           // 4
      "{\"timestamp\": 1\n"                             // 5
      "{\"event_name\": \"abc}\n"                       // 6
      "{\"timestamp\":1,\"workspace_id\":2,\"event_type\":\"track\"}{}\n"  // 7
      "{\"timestamp\": 1} x\n"                          // 8
      "{\"timestamp\": 01}\n"                           // 9
      "{\"event_name\": \"\\q\"}\n"                     // 10
      "nonsense\n"                                      // 11
      "{\"timestamp\":1,\"workspace_id\":2,\"event_type\":\"track\"}\n";  // 12: fine
  DecodedBatch b = Decode(EventsStream(), body);
  EXPECT_EQ(Errors(b),
            "1||expected a JSON object\n"
            "2||expected a JSON object\n"
            "3||expected a JSON object\n"
            "4||invalid JSON: The JSON document has an improper structure: missing or superfluous commas, braces, "
            "missing keys, etc.\n"
            "5||invalid JSON: JSON document ended early in the middle of an object or array.\n"
            "6||invalid JSON: A string is opened, but never closed.\n"
            "7||invalid JSON: Unexpected trailing content in the JSON input.\n"
            "8||invalid JSON: JSON document ended early in the middle of an object or array.\n"
            "9||invalid JSON: Problem while parsing a number\n"
            "10||invalid JSON: Problem while parsing a string\n"
            "11||expected a JSON object\n");
  EXPECT_EQ(b.rows.rows(), 1u);
  ExpectConsistent(b);
}

TEST(NdjsonDecoderTest, FieldErrors) {
  const std::string body =
      R"({"timestamp":1,"workspace_id":2,"event_type":"trak"})" "\n"                      // 1
      R"({"timestamp":1,"workspace_id":2,"event_type":"track","color":"red"})" "\n"      // 2
      R"({"timestamp":1,"workspace_id":2,"event_type":"track","timestamp":2})" "\n"      // 3
      R"({"timestamp":1,"workspace_id":2,"event_type":"track","batch_timestamp":5})" "\n"  // 4
      R"({"timestamp":1,"workspace_id":2,"event_type":"track","batch_timestamp":null})" "\n"  // 5
      R"({"workspace_id":2,"event_type":"track"})" "\n"                                  // 6
      R"({"timestamp":null,"workspace_id":2,"event_type":"track"})" "\n"                 // 7
      R"({})" "\n"                                                                        // 8
      R"({"timestamp":"1705314600000","workspace_id":-1,"event_type":"Track"})" "\n"     // 9
      R"({"timestamp":1.5,"workspace_id":2,"event_type":["track"]})" "\n"                // 10
      R"({"timestamp":1,"workspace_id":2,"event_type":"track","event_name":7})" "\n";    // 11
  DecodedBatch b = Decode(EventsStream(), body);
  EXPECT_EQ(Errors(b),
            "1|event_type|expected one of track, identify, group, alias, enrich; got \"trak\"\n"
            "2|color|unknown field; this stream has: timestamp, workspace_id, event_type, event_name, device_id, "
            "session_id, source_ip, payload\n"
            "3|timestamp|duplicate field\n"
            "4|batch_timestamp|set by the server\n"
            "5|batch_timestamp|set by the server\n"
            "6|timestamp|required\n"
            "7|timestamp|required\n"
            "8|timestamp|required\n"
            "8|workspace_id|required\n"
            "8|event_type|required\n"
            "9|timestamp|expected an integer in [-9223372036854775808, 9223372036854775807]; got \"1705314600000\"\n"
            "9|workspace_id|expected an integer in [0, 18446744073709551615]; got -1\n"
            "9|event_type|expected one of track, identify, group, alias, enrich; got \"Track\"\n"
            "10|timestamp|expected an integer in [-9223372036854775808, 9223372036854775807]; got 1.5\n"
            "10|event_type|expected one of track, identify, group, alias, enrich; got [\"track\"]\n"
            "11|event_name|expected a string; got 7\n");
  EXPECT_EQ(b.rows.rows(), 0u);
  ExpectConsistent(b);
}

TEST(NdjsonDecoderTest, FieldNamesComeFromFieldOrName) {
  StreamConfig s;
  s.name = "t";
  s.columns = {Col("ts", Type(TypeKind::kInt64), false), Col("user", Type(TypeKind::kString))};
  s.columns[0].field = "time";
  DecodedBatch ok = Decode(s, R"({"time": 7, "user": "u"})");
  ASSERT_EQ(Errors(ok), "");
  EXPECT_EQ(FixedAs<int64_t>(ok.rows.column(0), 0), 7);
  EXPECT_EQ(ok.rows.column(1).VariableValue(0), "u");
  DecodedBatch bad = Decode(s, R"({"ts": 7})");
  EXPECT_EQ(Errors(bad), "1|ts|unknown field; this stream has: time, user\n1|time|required\n");
}

TEST(NdjsonDecoderTest, EscapedKeysAreMatchedUnescaped) {
  DecodedBatch b = Decode(OneColumn(Type(TypeKind::kInt32)), R"({"\u0076": 5})");
  ASSERT_EQ(Errors(b), "");
  EXPECT_EQ(FixedAs<int32_t>(b.rows.column(0), 0), 5);
  EXPECT_EQ(Errors(Decode(OneColumn(Type(TypeKind::kInt32)), R"({"v": 5, "\u0076": 6})")), "1|v|duplicate field\n");
}

TEST(NdjsonDecoderTest, LongValuesAreShortenedInErrors) {
  const std::string long_value = "\"" + std::string(50, 'x') + "\"";
  EXPECT_EQ(OneError(Type(TypeKind::kUuid), long_value),
            "v: expected a UUID string (8-4-4-4-12 hex digits); got \"" + std::string(36, 'x') + "...");
  // Never cut inside a UTF-8 sequence: 'é' is 2 bytes, the cut at 37 would split the 19th.
  std::string accents = "\"";
  for (int i = 0; i < 30; ++i) accents += "\xc3\xa9";
  accents += "\"";
  const std::string reason = OneError(Type(TypeKind::kDate), accents);
  const std::string prefix = "v: expected a date string \"YYYY-MM-DD\"; got ";
  ASSERT_EQ(reason.substr(0, prefix.size()), prefix);
  std::string expected_got = "\"";
  for (int i = 0; i < 18; ++i) expected_got += "\xc3\xa9";
  EXPECT_EQ(reason.substr(prefix.size()), expected_got + "...");
}

// ---- Lines -----------------------------------------------------------------------------

TEST(NdjsonDecoderTest, BlankLinesCrlfAndMissingFinalNewline) {
  const ColumnType i32 = Type(TypeKind::kInt32);
  const std::string body = "\n{\"v\":1}\r\n   \r\n\t\n{\"v\":2}\n\r\n{\"v\":3}";
  DecodedBatch b = Decode(OneColumn(i32), body);
  ASSERT_EQ(Errors(b), "");
  ASSERT_EQ(b.rows.rows(), 3u);
  EXPECT_EQ(FixedAs<int32_t>(b.rows.column(0), 0), 1);
  EXPECT_EQ(FixedAs<int32_t>(b.rows.column(0), 1), 2);
  EXPECT_EQ(FixedAs<int32_t>(b.rows.column(0), 2), 3);
  EXPECT_EQ(b.row_lines, (std::vector<int64_t>{2, 5, 7}));
  EXPECT_EQ(Decode(OneColumn(i32), "").rows.rows(), 0u);
  EXPECT_EQ(Decode(OneColumn(i32), "\n\n  \n").rows.rows(), 0u);
  EXPECT_EQ(Decode(OneColumn(i32), "{\"v\":1}\n").rows.rows(), 1u);
  EXPECT_EQ(Decode(OneColumn(i32), "{\"v\":1}\r\n").rows.rows(), 1u);
  // Blank lines still count: the bad value is on line 9.
  EXPECT_EQ(Errors(Decode(OneColumn(i32), body + "\n\r\n{\"v\":\"x\"}\r\n")),
            "9|v|expected an integer in [-2147483648, 2147483647]; got \"x\"\n");
  // A line ending in the middle of a value is not joined with the next.
  EXPECT_EQ(Errors(Decode(OneColumn(i32), "{\"v\":\n1}\n")),
            "1||invalid JSON: JSON document ended early in the middle of an object or array.\n"
            "2||expected a JSON object\n");
}

TEST(NdjsonDecoderTest, FailedLinesLeaveNoPartialRow) {
  // Line 2 fails on its last field after earlier fields (fixed and variable) were appended.
  const std::string body =
      R"({"timestamp":1,"workspace_id":10,"event_type":"track","event_name":"a","source_ip":"1.2.3.4"})" "\n"
      R"({"timestamp":2,"workspace_id":20,"event_name":"bbbb","source_ip":"::1","payload":{"x":1},"event_type":"nope"})" "\n"
      R"({"timestamp":3,"workspace_id":30,"event_type":"group","event_name":"c","payload":"p"})" "\n";
  DecodedBatch b = Decode(EventsStream(), body);
  EXPECT_EQ(Errors(b), "2|event_type|expected one of track, identify, group, alias, enrich; got \"nope\"\n");
  ASSERT_EQ(b.rows.rows(), 2u);
  ExpectConsistent(b);
  EXPECT_EQ(b.row_lines, (std::vector<int64_t>{1, 3}));
  EXPECT_EQ(FixedAs<int64_t>(b.rows.column(0), 1), 3);
  EXPECT_EQ(FixedAs<uint64_t>(b.rows.column(2), 1), 30u);
  EXPECT_EQ(b.rows.column(4).bytes, "ac");
  EXPECT_EQ(b.rows.column(4).VariableValue(1), "c");
  EXPECT_EQ(b.rows.column(7).valid, (std::vector<uint8_t>{1, 0}));
  EXPECT_EQ(b.rows.column(8).bytes, "p");
  EXPECT_EQ(b.rows.column(8).VariableValue(1), "p");
}

TEST(NdjsonDecoderTest, MaxErrors) {
  std::string body;
  for (int i = 0; i < 5; ++i) body += "{\"v\": \"bad\"}\n{\"v\": 1}\n";
  const StreamConfig s = OneColumn(Type(TypeKind::kInt8));
  DecodedBatch three = Decode(s, body, 3);
  ASSERT_EQ(three.errors.size(), 3u);
  EXPECT_TRUE(three.errors_truncated);
  EXPECT_EQ(three.errors[2].line, 5);
  ExpectConsistent(three);
  DecodedBatch five = Decode(s, body, 5);
  EXPECT_EQ(five.errors.size(), 5u);
  EXPECT_FALSE(five.errors_truncated);
  EXPECT_EQ(five.errors[4].line, 9);
  EXPECT_EQ(five.rows.rows(), 5u);
  // Several errors in one line count one by one.
  DecodedBatch one_line = Decode(EventsStream(), "{}\n{}\n", 2);
  EXPECT_EQ(Errors(one_line), "1|timestamp|required\n1|workspace_id|required\n");
  EXPECT_TRUE(one_line.errors_truncated);
  ExpectConsistent(one_line);
  // Zero still reports the first error: a bad batch never looks clean.
  DecodedBatch zero = Decode(s, body, 0);
  EXPECT_EQ(zero.errors.size(), 1u);
  EXPECT_TRUE(zero.errors_truncated);
  DecodedBatch clean = Decode(s, "{\"v\": 1}", 0);
  EXPECT_TRUE(clean.errors.empty());
  EXPECT_FALSE(clean.errors_truncated);
}

TEST(NdjsonDecoderTest, DecoderIsReusableAcrossBodies) {
  NdjsonDecoder decoder(EventsStream());
  DecodedBatch bad = decoder.Decode(R"({"timestamp":1,"workspace_id":2,"event_type":"x"})", 5);
  EXPECT_EQ(bad.errors.size(), 1u);
  DecodedBatch good = decoder.Decode(R"({"timestamp":1,"workspace_id":2,"event_type":"enrich","event_name":"n"})", 7);
  ASSERT_EQ(Errors(good), "");
  ASSERT_EQ(good.rows.rows(), 1u);
  EXPECT_EQ(FixedAs<int64_t>(good.rows.column(1), 0), 7);
  EXPECT_EQ(good.rows.column(3).VariableValue(0), "enrich");
  // The same key on a new line is not a duplicate of the previous line's.
  DecodedBatch again = decoder.Decode(R"({"timestamp":1,"workspace_id":2,"event_type":"enrich"})", 7);
  EXPECT_EQ(Errors(again), "");
}

TEST(NdjsonDecoderTest, ABodyWithRoomAfterItIsDecodedInPlaceAlike) {
  // The last line is cut short and has no newline: what lies after the body (here JSON that
  // would complete it) must never be read as part of it.
  const std::string body =
      R"({"timestamp":1,"workspace_id":2,"event_type":"track","event_name":"a","source_ip":"10.0.0.1"})" "\n"
      R"({"timestamp":2,"workspace_id":3,"event_type":"nope","event_name":"b"})" "\n"
      R"({"timestamp":3,"workspace_id":4,"event_type":"track","event_name":"c")";
  std::string buffer = body + R"(}, "x": [1, 2, 3], "y": "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"})";
  ASSERT_GE(buffer.size() - body.size(), kDecodePadding);
  NdjsonDecoder decoder(EventsStream());
  DecodedBatch copied = decoder.Decode(body, 7);
  DecodedBatch in_place = decoder.Decode(std::string_view(buffer.data(), body.size()), 7, 100, buffer.size() - body.size());
  EXPECT_EQ(Errors(in_place), Errors(copied));
  EXPECT_NE(Errors(in_place).find("3||invalid JSON"), std::string::npos) << Errors(in_place);
  EXPECT_EQ(in_place.rows.rows(), copied.rows.rows());
  EXPECT_EQ(in_place.row_lines, copied.row_lines);
}

TEST(NdjsonDecoderTest, LargeBody) {
  const char* types[] = {"track", "identify", "group", "alias", "enrich"};
  std::string body;
  for (int i = 0; i < 10000; ++i) {
    body += "{\"timestamp\":" + std::to_string(1705314600000 + i) + ",\"workspace_id\":" + std::to_string(i % 7) +
            ",\"event_type\":\"" + types[i % 5] + "\",\"event_name\":\"e" + std::to_string(i) +
            "\",\"device_id\":\"550e8400-e29b-41d4-a716-4466554" + std::to_string(10000 + i).substr(0, 5) +
            "\",\"source_ip\":\"10.0." + std::to_string(i / 256 % 256) + "." + std::to_string(i % 256) +
            "\",\"payload\":{\"i\":" + std::to_string(i) + "}}\n";
  }
  DecodedBatch b = Decode(EventsStream(), body);
  ASSERT_EQ(Errors(b), "");
  ASSERT_EQ(b.rows.rows(), 10000u);
  ExpectConsistent(b);
  ASSERT_EQ(b.row_lines.size(), 10000u);
  EXPECT_EQ(b.row_lines[9999], 10000);
  int64_t sum = 0;
  for (size_t r = 0; r < 10000; ++r) sum += FixedAs<int64_t>(b.rows.column(0), r) - 1705314600000;
  EXPECT_EQ(sum, 9999 * 10000 / 2);
  for (size_t r : {0u, 1u, 4999u, 9999u}) {
    const std::string i = std::to_string(r);
    EXPECT_EQ(FixedAs<uint64_t>(b.rows.column(2), r), r % 7);
    EXPECT_EQ(b.rows.column(3).VariableValue(r), types[r % 5]);
    EXPECT_EQ(b.rows.column(4).VariableValue(r), "e" + i);
    EXPECT_EQ(b.rows.column(8).VariableValue(r), "{\"i\":" + i + "}");
    EXPECT_EQ(static_cast<uint8_t>(b.rows.column(7).VariableValue(r)[15]), r % 256);
  }
}

// ---- Conversions per type ---------------------------------------------------------------

TEST(NdjsonDecoderTest, IntegerRangeLimits) {
  struct Case {
    TypeKind kind;
    const char* min;
    const char* max;
    const char* below;
    const char* above;
  };
  const Case cases[] = {
      {TypeKind::kInt8, "-128", "127", "-129", "128"},
      {TypeKind::kInt16, "-32768", "32767", "-32769", "32768"},
      {TypeKind::kInt32, "-2147483648", "2147483647", "-2147483649", "2147483648"},
      {TypeKind::kInt64, "-9223372036854775808", "9223372036854775807", "-9223372036854775809", "9223372036854775808"},
      {TypeKind::kUInt8, "0", "255", "-1", "256"},
      {TypeKind::kUInt16, "0", "65535", "-1", "65536"},
      {TypeKind::kUInt32, "0", "4294967295", "-1", "4294967296"},
      {TypeKind::kUInt64, "0", "18446744073709551615", "-1", "18446744073709551616"},
  };
  for (const Case& c : cases) {
    const ColumnType type = Type(c.kind);
    DecodedBatch lo = One(type, c.min);
    DecodedBatch hi = One(type, c.max);
    ASSERT_EQ(lo.rows.rows(), 1u) << c.min;
    ASSERT_EQ(hi.rows.rows(), 1u) << c.max;
    const std::string range = std::string("v: expected an integer in [") + c.min + ", " + c.max + "]; got ";
    EXPECT_EQ(OneError(type, c.below), range + c.below);
    EXPECT_EQ(OneError(type, c.above), range + c.above);
    EXPECT_EQ(OneError(type, "1.0"), range + "1.0");
    EXPECT_EQ(OneError(type, "1e2"), range + "1e2");
    EXPECT_EQ(OneError(type, "\"5\""), range + "\"5\"");
    EXPECT_EQ(OneError(type, "true"), range + "true");
    EXPECT_EQ(OneError(type, "99999999999999999999999"), range + "99999999999999999999999");
  }
  EXPECT_EQ(FixedAs<int8_t>(One(Type(TypeKind::kInt8), "-128").rows.column(0), 0), -128);
  EXPECT_EQ(FixedAs<int16_t>(One(Type(TypeKind::kInt16), "32767").rows.column(0), 0), 32767);
  EXPECT_EQ(FixedAs<int32_t>(One(Type(TypeKind::kInt32), "-2147483648").rows.column(0), 0), INT32_MIN);
  EXPECT_EQ(FixedAs<int64_t>(One(Type(TypeKind::kInt64), "-9223372036854775808").rows.column(0), 0), INT64_MIN);
  EXPECT_EQ(FixedAs<int64_t>(One(Type(TypeKind::kInt64), "9223372036854775807").rows.column(0), 0), INT64_MAX);
  EXPECT_EQ(FixedAs<uint8_t>(One(Type(TypeKind::kUInt8), "255").rows.column(0), 0), 255);
  EXPECT_EQ(FixedAs<uint16_t>(One(Type(TypeKind::kUInt16), "65535").rows.column(0), 0), 65535);
  EXPECT_EQ(FixedAs<uint32_t>(One(Type(TypeKind::kUInt32), "4294967295").rows.column(0), 0), UINT32_MAX);
  EXPECT_EQ(FixedAs<uint64_t>(One(Type(TypeKind::kUInt64), "18446744073709551615").rows.column(0), 0), UINT64_MAX);
  EXPECT_EQ(FixedAs<uint32_t>(One(Type(TypeKind::kUInt32), "-0").rows.column(0), 0), 0u);
}

TEST(NdjsonDecoderTest, Booleans) {
  const ColumnType type = Type(TypeKind::kBoolean);
  EXPECT_EQ(FixedAs<uint8_t>(One(type, "true").rows.column(0), 0), 1);
  EXPECT_EQ(FixedAs<uint8_t>(One(type, "false").rows.column(0), 0), 0);
  EXPECT_EQ(OneError(type, "1"), "v: expected true or false; got 1");
  EXPECT_EQ(OneError(type, "\"true\""), "v: expected true or false; got \"true\"");
  EXPECT_EQ(OneError(type, "{}"), "v: expected true or false; got {}");
  EXPECT_EQ(OneError(type, "null", /*nullable=*/false), "v: required");
}

TEST(NdjsonDecoderTest, FloatsAndDoubles) {
  const ColumnType f = Type(TypeKind::kFloat);
  const ColumnType d = Type(TypeKind::kDouble);
  EXPECT_EQ(FixedAs<float>(One(f, "1.5").rows.column(0), 0), 1.5f);
  EXPECT_EQ(FixedAs<float>(One(f, "0.1").rows.column(0), 0), 0.1f);
  EXPECT_EQ(FixedAs<float>(One(f, "-3").rows.column(0), 0), -3.0f);
  EXPECT_EQ(FixedAs<double>(One(d, "0.1").rows.column(0), 0), 0.1);
  EXPECT_EQ(FixedAs<double>(One(d, "-2.5E-3").rows.column(0), 0), -0.0025);
  EXPECT_EQ(FixedAs<double>(One(d, "1e308").rows.column(0), 0), 1e308);
  EXPECT_EQ(FixedAs<double>(One(d, "12345678901234567890").rows.column(0), 0), 12345678901234567890.0);
  EXPECT_EQ(FixedAs<double>(One(d, "1e-400").rows.column(0), 0), 0.0);
  EXPECT_EQ(FixedAs<float>(One(f, "1e-50").rows.column(0), 0), 0.0f);
  EXPECT_EQ(FixedAs<float>(One(f, "0.0000000000000000000000000000000000000000000000000001").rows.column(0), 0), 0.0f);
  EXPECT_TRUE(std::signbit(FixedAs<double>(One(d, "-1e-400").rows.column(0), 0)));
  EXPECT_EQ(FixedAs<double>(One(d, "1e-99999999999999999999999").rows.column(0), 0), 0.0);
  EXPECT_EQ(OneError(d, "1E+99999999999999999999999"), "v: number out of range for double; got 1E+99999999999999999999999");
  EXPECT_EQ(OneError(f, "1e39"), "v: number out of range for float; got 1e39");
  EXPECT_EQ(OneError(d, "-1e400"), "v: number out of range for double; got -1e400");
  EXPECT_EQ(OneError(d, "\"1.5\""), "v: expected a number; got \"1.5\"");
  EXPECT_EQ(OneError(d, "false"), "v: expected a number; got false");
  EXPECT_EQ(OneError(d, "1."), "invalid JSON: Problem while parsing a number");
  EXPECT_EQ(OneError(d, ".5"), "invalid JSON: The JSON document has an improper structure: missing or superfluous "
                               "commas, braces, missing keys, etc.");
}

TEST(NdjsonDecoderTest, DecimalsAreExact) {
  const ColumnType d12 = Type(TypeKind::kDecimal, 12, 2);
  auto scaled = [](const DecodedBatch& b) { return FixedAs<int64_t>(b.rows.column(0), 0); };
  EXPECT_EQ(scaled(One(d12, "12.5")), 1250);
  EXPECT_EQ(scaled(One(d12, "12.50")), 1250);
  EXPECT_EQ(scaled(One(d12, "\"12.50\"")), 1250);
  EXPECT_EQ(scaled(One(d12, "1.2300")), 123);
  EXPECT_EQ(scaled(One(d12, "-3.25")), -325);
  EXPECT_EQ(scaled(One(d12, "\"-0.01\"")), -1);
  EXPECT_EQ(scaled(One(d12, "\"+7\"")), 700);
  EXPECT_EQ(scaled(One(d12, "\".5\"")), 50);
  EXPECT_EQ(scaled(One(d12, "1e2")), 10000);
  EXPECT_EQ(scaled(One(d12, "0.1e1")), 100);
  EXPECT_EQ(scaled(One(d12, "125E-2")), 125);
  EXPECT_EQ(scaled(One(d12, "-0")), 0);
  EXPECT_EQ(scaled(One(d12, "0.000e-999999999999")), 0);
  EXPECT_EQ(scaled(One(d12, "9999999999.99")), 999999999999);
  EXPECT_EQ(scaled(One(d12, "\"0009999999999.99\"")), 999999999999) << "leading zeros are not digits";
  EXPECT_EQ(OneError(d12, "1.234"), "v: more than 2 decimal places for decimal(12,2); got 1.234");
  EXPECT_EQ(OneError(d12, "\"0.001\""), "v: more than 2 decimal places for decimal(12,2); got \"0.001\"");
  EXPECT_EQ(OneError(d12, "1e-3"), "v: more than 2 decimal places for decimal(12,2); got 1e-3");
  EXPECT_EQ(OneError(d12, "10000000000"),
            "v: out of range for decimal(12,2) (at most 10 digits before the point); got 10000000000");
  EXPECT_EQ(OneError(d12, "-1e10"), "v: out of range for decimal(12,2) (at most 10 digits before the point); got -1e10");
  EXPECT_EQ(OneError(d12, "1e999999999999999"),
            "v: out of range for decimal(12,2) (at most 10 digits before the point); got 1e999999999999999");
  const std::string syntax = "v: expected a decimal(12,2) number or numeric string; got ";
  for (const char* bad : {"\"abc\"", "\"\"", "\"1.2.3\"", "\"1e\"", "\"1 \"", "\"0x10\"", "\".\"", "\"-\"", "true", "[1]"}) {
    EXPECT_EQ(OneError(d12, bad), syntax + bad);
  }
  EXPECT_EQ(OneError(d12, "1.5e"), "invalid JSON: Problem while parsing a number");

  // Storage width follows the precision: int16, int32, int64, hugeint.
  EXPECT_EQ(FixedAs<int16_t>(One(Type(TypeKind::kDecimal, 4, 2), "-99.99").rows.column(0), 0), -9999);
  EXPECT_EQ(OneError(Type(TypeKind::kDecimal, 4, 2), "100"),
            "v: out of range for decimal(4,2) (at most 2 digits before the point); got 100");
  EXPECT_EQ(FixedAs<int32_t>(One(Type(TypeKind::kDecimal, 9, 0), "999999999").rows.column(0), 0), 999999999);
  EXPECT_EQ(FixedAs<int64_t>(One(Type(TypeKind::kDecimal, 18, 18), "0.123456789012345678").rows.column(0), 0),
            123456789012345678);
}

TEST(NdjsonDecoderTest, DecimalHugeintPrecision38) {
  const ColumnType d38 = Type(TypeKind::kDecimal, 38, 0);
  // 12345678901234567890123456789012345678 = 669260594276348691 * 2^64 + 0xc4499050de38f34e.
  DecodedBatch b = One(d38, "12345678901234567890123456789012345678");
  ASSERT_EQ(b.rows.rows(), 1u);
  uint64_t lower = 0;
  int64_t upper = 0;
  std::memcpy(&lower, b.rows.column(0).FixedValue(0), 8);
  EXPECT_EQ(lower, 0xc4499050de38f34eULL);
  std::memcpy(&upper, b.rows.column(0).FixedValue(0) + 8, 8);
  EXPECT_EQ(upper, 669260594276348691);
  DecodedBatch minus_one = One(d38, "\"-1\"");
  EXPECT_EQ(FixedHex(minus_one.rows.column(0), 0), std::string(32, 'f'));
  DecodedBatch max = One(d38, "99999999999999999999999999999999999999");
  EXPECT_EQ(FixedHex(max.rows.column(0), 0), "ffffffff3f228a09" "7ac4865aa84c3b4b");  // 10^38 - 1
  EXPECT_EQ(OneError(d38, "100000000000000000000000000000000000000"),
            "v: out of range for decimal(38,0) (at most 38 digits before the point); got 100000000000000000000000000000000000000");
  EXPECT_EQ(OneError(d38, "\"1000000000000000000000000000000000000000000\""),
            "v: out of range for decimal(38,0) (at most 38 digits before the point); got \"1" + std::string(35, '0') + "...");
  const ColumnType d38s10 = Type(TypeKind::kDecimal, 38, 10);
  DecodedBatch frac = One(d38s10, "\"-1234567890123456789012345678.0123456789\"");
  // -12345678901234567890123456780123456789 in two's complement.
  DecodedBatch expected = One(Type(TypeKind::kDecimal, 38, 0), "-12345678901234567890123456780123456789");
  EXPECT_EQ(FixedHex(frac.rows.column(0), 0), FixedHex(expected.rows.column(0), 0));
}

TEST(NdjsonDecoderTest, Timestamps) {
  const ColumnType us = Type(TypeKind::kTimestamp);
  const ColumnType ms = Type(TypeKind::kTimestampMs);
  auto value = [](const DecodedBatch& b) { return FixedAs<int64_t>(b.rows.column(0), 0); };
  // A JSON integer is always epoch milliseconds.
  EXPECT_EQ(value(One(us, "1705314600123")), 1705314600123000);
  EXPECT_EQ(value(One(ms, "1705314600123")), 1705314600123);
  EXPECT_EQ(value(One(us, "-1")), -1000);
  EXPECT_EQ(value(One(ms, "9223372036854775807")), INT64_MAX);
  EXPECT_EQ(value(One(us, "\"2024-01-15T10:30:00Z\"")), 1705314600000000);
  EXPECT_EQ(value(One(us, "\"2024-01-15t10:30:00z\"")), 1705314600000000);
  EXPECT_EQ(value(One(us, "\"2024-01-15 10:30:00\"")), 1705314600000000);
  EXPECT_EQ(value(One(us, "\"2024-01-15T10:30:00.123+02:00\"")), 1705307400123000);
  EXPECT_EQ(value(One(us, "\"2024-01-15T10:30:00+05:30\"")), 1705294800000000);
  EXPECT_EQ(value(One(us, "\"2024-01-15T10:30:00-0530\"")), 1705334400000000);
  EXPECT_EQ(value(One(us, "\"2024-01-15T10:30:00.123456789Z\"")), 1705314600123456);
  EXPECT_EQ(value(One(us, "\"2024-01-15T10:30:00.5Z\"")), 1705314600500000);
  EXPECT_EQ(value(One(ms, "\"2024-01-15T10:30:00.123999Z\"")), 1705314600123);
  EXPECT_EQ(value(One(us, "\"1969-12-31T23:59:59.999999Z\"")), -1);
  EXPECT_EQ(value(One(ms, "\"1969-12-31T23:59:59.9995Z\"")), -1) << "truncated toward the past";
  EXPECT_EQ(value(One(us, "\"1970-01-01T00:00:00Z\"")), 0);
  const std::string reason =
      "v: expected epoch milliseconds (an integer) or an RFC 3339 string such as \"2024-01-15T10:30:00Z\"; got ";
  for (const char* bad : {"\"2024-01-15\"", "\"2024-13-01T00:00:00Z\"", "\"2023-02-29T00:00:00Z\"",
                          "\"2024-01-15T24:00:00Z\"", "\"2024-01-15T10:60:00Z\"", "\"2024-01-15T10:30:60Z\"",
                          "\"2024-01-15T10:30:00+2\"", "\"2024-01-15T10:30:00+24:00\"", "\"2024-01-15T10:30:00.Z\"",
                          "\"2024-01-15T10:30:00ZZ\"", "\"2024-01-15X10:30:00\"", "\"2024-1-15T10:30:00Z\"",
                          "\"garbage\"", "\"1705314600123\"", "1.5", "1e3", "true", "{}"}) {
    EXPECT_EQ(OneError(us, bad), reason + bad);
  }
  EXPECT_EQ(OneError(us, "9223372036854776"), reason + "9223372036854776") << "overflows microseconds";
  EXPECT_EQ(value(One(us, "9223372036854775")), 9223372036854775000);
}

TEST(NdjsonDecoderTest, Dates) {
  const ColumnType date = Type(TypeKind::kDate);
  auto days = [](const DecodedBatch& b) { return FixedAs<int32_t>(b.rows.column(0), 0); };
  EXPECT_EQ(days(One(date, "\"2024-01-15\"")), 19737);
  EXPECT_EQ(days(One(date, "\"2024-02-29\"")), 19782);
  EXPECT_EQ(days(One(date, "\"1970-01-01\"")), 0);
  EXPECT_EQ(days(One(date, "\"1969-12-31\"")), -1);
  const std::string reason = "v: expected a date string \"YYYY-MM-DD\"; got ";
  for (const char* bad : {"\"2023-02-29\"", "\"2024-1-5\"", "\"2024-00-10\"", "\"2024-04-31\"", "\"2024/01/15\"",
                          "\"2024-01-15T00:00:00Z\"", "\"+024-01-15\"", "19737", "\"\""}) {
    EXPECT_EQ(OneError(date, bad), reason + bad);
  }
}

TEST(NdjsonDecoderTest, ReceiptTimeColumnsByType) {
  StreamConfig s;
  s.name = "t";
  for (TypeKind kind : {TypeKind::kInt64, TypeKind::kTimestamp, TypeKind::kTimestampMs, TypeKind::kDate}) {
    ColumnSpec c = Col("r" + std::to_string(s.columns.size()), Type(kind), false);
    c.receipt_time = true;
    s.columns.push_back(c);
  }
  s.columns.push_back(Col("v", Type(TypeKind::kString)));
  NdjsonDecoder decoder(s);
  DecodedBatch b = decoder.Decode("{\"v\":\"a\"}\n{}\n", -1);
  ASSERT_EQ(Errors(b), "");
  ASSERT_EQ(b.rows.rows(), 2u);
  EXPECT_EQ(FixedAs<int64_t>(b.rows.column(0), 1), -1);
  EXPECT_EQ(FixedAs<int64_t>(b.rows.column(1), 1), -1000);
  EXPECT_EQ(FixedAs<int64_t>(b.rows.column(2), 1), -1);
  EXPECT_EQ(FixedAs<int32_t>(b.rows.column(3), 1), -1);
  DecodedBatch today = decoder.Decode("{}", kReceiptMs);
  EXPECT_EQ(FixedAs<int32_t>(today.rows.column(3), 0), 19737);
  EXPECT_EQ(Errors(decoder.Decode(R"({"r2": 5})", 0)), "1|r2|set by the server\n");
}

TEST(NdjsonDecoderTest, StringsAreUnescaped) {
  DecodedBatch b = One(Type(TypeKind::kString), R"("tab\there \u00e9 \ud83d\ude00 \"q\"")");
  EXPECT_EQ(b.rows.column(0).VariableValue(0), "tab\there \xc3\xa9 \xf0\x9f\x98\x80 \"q\"");
  EXPECT_EQ(OneError(Type(TypeKind::kString), R"("\ud83d")"), "invalid JSON: Problem while parsing a string");
  EXPECT_EQ(Errors(Decode(OneColumn(Type(TypeKind::kString)), "{\"v\": \"\xff\"}")),
            "1||invalid JSON: The input is not valid UTF-8\n");
}

}  // namespace
}  // namespace pqflow::ingest
