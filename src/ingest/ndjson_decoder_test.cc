// NDJSON decoding into typed rows: exact values in DuckDB's representation for every type,
// and an exact {line, field, reason} for every kind of bad input.
#include "ingest/ndjson_decoder.h"

#include <gtest/gtest.h>

#include <cstring>

namespace pqflow::ingest {
namespace {

ColumnSpec Col(const std::string& name, const std::string& type, bool nullable = true,
               std::vector<std::string> values = {}) {
  ColumnSpec c;
  c.name = c.field = name;
  c.type = *ColumnType::Parse(type);
  c.nullable = nullable;
  c.values = std::move(values);
  return c;
}

StreamConfig EventsStream() {
  StreamConfig s;
  s.name = "events";
  ColumnSpec receipt = Col("batch_timestamp", "int64", false);
  receipt.receipt_time = true;
  s.columns = {Col("timestamp", "int64", false), receipt, Col("workspace_id", "uint64", false),
               Col("event_type", "string", false, {"track", "identify", "group", "alias", "enrich"}),
               Col("event_name", "string"), Col("device_id", "uuid"), Col("session_id", "uuid"),
               Col("source_ip", "ipv6"), Col("payload", "binary")};
  return s;
}

StreamConfig OneColumn(const std::string& type) {
  StreamConfig s;
  s.name = "t";
  s.columns = {Col("v", type)};
  return s;
}

template <typename T>
T Fixed(const ColumnData& c, size_t row) {
  T v{};
  std::memcpy(&v, c.FixedValue(row), sizeof(T) < c.width ? sizeof(T) : c.width);
  return v;
}

std::string Hex(std::string_view bytes) {
  static const char* k = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out += k[b >> 4];
    out += k[b & 15];
  }
  return out;
}

// The single error of decoding `value` as the one column of type `type`.
std::string ErrorFor(const std::string& type, const std::string& value) {
  StreamConfig s = OneColumn(type);
  NdjsonDecoder d(s);
  DecodedBatch b = d.Decode("{\"v\":" + value + "}", 0);
  if (b.errors.size() != 1) return "<" + std::to_string(b.errors.size()) + " errors>";
  return b.errors[0].reason;
}

TEST(NdjsonDecoderTest, SeedEventDecodesIntoDuckDbRepresentation) {
  StreamConfig s = EventsStream();
  NdjsonDecoder d(s);
  DecodedBatch b = d.Decode(
      "{\"timestamp\":1705314600000,\"workspace_id\":42,\"event_type\":\"track\",\"event_name\":\"page_view\","
      "\"device_id\":\"6F1C2A9E-0B4D-4C5E-9A7B-1D2E3F405162\",\"session_id\":\"{00000000000000000000000000000001}\","
      "\"source_ip\":\"10.0.0.1\",\"payload\":{\"path\":\"/docs\", \"n\": [1, 2]}}\n"
      "{\"timestamp\":1,\"workspace_id\":18446744073709551615,\"event_type\":\"alias\",\"source_ip\":\"2001:db8::1\","
      "\"payload\":\"disk full\",\"event_name\":null}",
      /*receipt_ms=*/777);
  ASSERT_TRUE(b.errors.empty()) << b.errors[0].reason;
  ASSERT_EQ(b.rows.rows(), 2u);
  EXPECT_EQ(Fixed<int64_t>(b.rows.column(0), 0), 1705314600000);
  EXPECT_EQ(Fixed<int64_t>(b.rows.column(1), 0), 777);  // receipt time
  EXPECT_EQ(Fixed<uint64_t>(b.rows.column(2), 0), 42u);
  EXPECT_EQ(Fixed<uint64_t>(b.rows.column(2), 1), UINT64_MAX);
  EXPECT_EQ(b.rows.column(3).VariableValue(0), "track");
  EXPECT_EQ(b.rows.column(4).VariableValue(0), "page_view");
  EXPECT_FALSE(b.rows.column(4).valid[1]);
  // UUID: big-endian 128-bit value, top bit flipped; lower = last 8 bytes.
  struct Huge {
    uint64_t lower;
    int64_t upper;
  };
  Huge u = Fixed<Huge>(b.rows.column(5), 0);
  EXPECT_EQ(u.lower, 0x9a7b1d2e3f405162u);
  EXPECT_EQ(static_cast<uint64_t>(u.upper), 0x6f1c2a9e0b4d4c5eu ^ 0x8000000000000000u);
  Huge session = Fixed<Huge>(b.rows.column(6), 0);
  EXPECT_EQ(session.lower, 1u);
  EXPECT_EQ(static_cast<uint64_t>(session.upper), 0x8000000000000000u);
  EXPECT_FALSE(b.rows.column(5).valid[1]);
  EXPECT_EQ(Hex(b.rows.column(7).VariableValue(0)), "00000000000000000000ffff0a000001");
  EXPECT_EQ(Hex(b.rows.column(7).VariableValue(1)), "20010db8000000000000000000000001");
  EXPECT_EQ(b.rows.column(8).VariableValue(0), "{\"path\":\"/docs\",\"n\":[1,2]}");  // minified JSON bytes
  EXPECT_EQ(b.rows.column(8).VariableValue(1), "disk full");                      // a string: its bytes
}

TEST(NdjsonDecoderTest, LinesBlankLinesCrlfAndNoFinalNewline) {
  StreamConfig s = OneColumn("int32");
  NdjsonDecoder d(s);
  DecodedBatch b = d.Decode("{\"v\":1}\r\n\n   \n{\"v\":2}\r\n{\"v\":\"x\"}\n{\"v\":3}", 0);
  ASSERT_EQ(b.errors.size(), 1u);
  EXPECT_EQ(b.errors[0].line, 5);
  EXPECT_EQ(b.errors[0].field, "v");
  EXPECT_EQ(b.errors[0].reason, "expected an integer in -2147483648..2147483647; got \"x\"");
  EXPECT_EQ(d.Decode("", 0).rows.rows(), 0u);
  DecodedBatch ok = d.Decode("{\"v\":1}\r\n\n{\"v\":2}", 0);
  ASSERT_TRUE(ok.errors.empty());
  EXPECT_EQ(ok.rows.rows(), 2u);
  EXPECT_EQ(ok.row_lines, (std::vector<int64_t>{1, 3}));
}

TEST(NdjsonDecoderTest, EveryErrorKindNamesLineFieldAndReason) {
  StreamConfig s = EventsStream();
  NdjsonDecoder d(s);
  DecodedBatch b = d.Decode(
      "{\"timestamp\":1,\"workspace_id\":1,\"event_type\":\"trak\"}\n"                         // 1 enum
      "{\"timestamp\":1,\"event_type\":\"track\"}\n"                                          // 2 required
      "{\"timestamp\":1,\"workspace_id\":null,\"event_type\":\"track\"}\n"                    // 3 null required
      "{\"timestamp\":1,\"workspace_id\":1,\"event_type\":\"track\",\"userId\":5}\n"          // 4 unknown
      "{\"timestamp\":1,\"workspace_id\":1,\"workspace_id\":2,\"event_type\":\"track\"}\n"    // 5 duplicate
      "{\"timestamp\":1,\"workspace_id\":1,\"event_type\":\"track\",\"batch_timestamp\":9}\n" // 6 server's
      "[1,2]\n"                                                                               // 7 not an object
      "{\"timestamp\":1,\n"                                                                   // 8 invalid JSON
      "{\"timestamp\":1,\"workspace_id\":1,\"event_type\":\"track\",\"device_id\":\"nope\"}\n" // 9 uuid
      "{\"timestamp\":1,\"workspace_id\":1,\"event_type\":\"track\",\"source_ip\":\"300.1.1.1\"}\n",  // 10 ip
      0);
  ASSERT_EQ(b.errors.size(), 10u);
  auto e = [&](size_t i) { return std::to_string(b.errors[i].line) + "|" + b.errors[i].field + "|" + b.errors[i].reason; };
  EXPECT_EQ(e(0), "1|event_type|expected one of track, identify, group, alias, enrich; got \"trak\"");
  EXPECT_EQ(e(1), "2|workspace_id|required");
  EXPECT_EQ(e(2), "3|workspace_id|required; got null");
  EXPECT_EQ(e(3),
            "4|userId|unknown field; this stream has: timestamp, workspace_id, event_type, event_name, device_id, "
            "session_id, source_ip, payload");
  EXPECT_EQ(e(4), "5|workspace_id|the field appears twice");
  EXPECT_EQ(e(5), "6|batch_timestamp|set by the server (the time the batch was received); leave it out");
  EXPECT_EQ(e(6), "7||expected a JSON object; got an array");
  EXPECT_EQ(e(7).substr(0, 17), "8||invalid JSON: ");
  EXPECT_EQ(e(8), "9|device_id|expected a UUID such as \"6f1c2a9e-0b4d-4c5e-9a7b-1d2e3f405162\"; got \"nope\"");
  EXPECT_EQ(e(9), "10|source_ip|expected an IPv4 or IPv6 address such as \"10.0.0.1\" or \"2001:db8::1\"; got \"300.1.1.1\"");
  // Rejected lines leave no partial row behind: every column has the same length.
  for (size_t c = 0; c < b.rows.column_count(); ++c) EXPECT_EQ(b.rows.column(c).rows(), 0u) << c;
}

TEST(NdjsonDecoderTest, ErrorsAreCappedAndRowsStayConsistent) {
  StreamConfig s = EventsStream();
  NdjsonDecoder d(s);
  std::string body;
  for (int i = 0; i < 50; ++i) {
    body += "{\"timestamp\":1,\"workspace_id\":1,\"event_type\":\"track\",\"event_name\":\"ok\"}\n";
    body += "{\"timestamp\":1,\"workspace_id\":1,\"event_type\":\"track\",\"event_name\":\"ok\",\"device_id\":7}\n";
  }
  DecodedBatch b = d.Decode(body, 0, /*max_errors=*/10);
  EXPECT_EQ(b.errors.size(), 10u);
  EXPECT_TRUE(b.errors_truncated);
  EXPECT_EQ(b.errors[9].line, 20);
  for (size_t c = 0; c < b.rows.column_count(); ++c) EXPECT_EQ(b.rows.column(c).rows(), 50u) << c;
  EXPECT_EQ(b.rows.column(4).bytes.size(), 100u);  // 50 kept rows of "ok", nothing of the rejected ones
}

TEST(NdjsonDecoderTest, IntegerRanges) {
  EXPECT_EQ(ErrorFor("int8", "128"), "expected an integer in -128..127; got 128");
  EXPECT_EQ(ErrorFor("int8", "-129"), "expected an integer in -128..127; got -129");
  EXPECT_EQ(ErrorFor("uint8", "-1"), "expected an integer in 0..255; got -1");
  EXPECT_EQ(ErrorFor("int16", "1.5"), "expected an integer in -32768..32767; got 1.5");
  EXPECT_EQ(ErrorFor("int64", "9223372036854775808"),
            "expected an integer in -9223372036854775808..9223372036854775807; got 9223372036854775808");
  EXPECT_EQ(ErrorFor("uint64", "true"), "expected an integer in 0..18446744073709551615; got true");
  StreamConfig s;
  s.name = "t";
  s.columns = {Col("a", "int8"), Col("b", "int16"), Col("c", "uint16"), Col("d", "uint32"), Col("e", "int64")};
  NdjsonDecoder d(s);
  DecodedBatch b = d.Decode("{\"a\":-128,\"b\":32767,\"c\":65535,\"d\":4294967295,\"e\":-9223372036854775808}", 0);
  ASSERT_TRUE(b.errors.empty());
  EXPECT_EQ(Fixed<int8_t>(b.rows.column(0), 0), -128);
  EXPECT_EQ(Fixed<int16_t>(b.rows.column(1), 0), 32767);
  EXPECT_EQ(Fixed<uint16_t>(b.rows.column(2), 0), 65535);
  EXPECT_EQ(Fixed<uint32_t>(b.rows.column(3), 0), 4294967295u);
  EXPECT_EQ(Fixed<int64_t>(b.rows.column(4), 0), INT64_MIN);
  EXPECT_EQ(b.rows.column(0).width, 1u);
}

TEST(NdjsonDecoderTest, DecimalsAreExact) {
  auto decimal = [](const std::string& type, const std::string& value) -> std::string {
    StreamConfig s = OneColumn(type);
    NdjsonDecoder d(s);
    DecodedBatch b = d.Decode("{\"v\":" + value + "}", 0);
    if (!b.errors.empty()) return "error: " + b.errors[0].reason;
    __extension__ typedef __int128 I128;
    I128 v = 0;
    std::memcpy(&v, b.rows.column(0).FixedValue(0), b.rows.column(0).width);
    if (b.rows.column(0).width < 16 && (v >> (8 * b.rows.column(0).width - 1)) & 1) v -= I128(1) << (8 * b.rows.column(0).width);
    bool neg = v < 0;
    std::string out;
    for (I128 u = neg ? -v : v; u > 0 || out.empty(); u /= 10) out.insert(out.begin(), char('0' + int(u % 10)));
    return (neg ? "-" : "") + out;
  };
  EXPECT_EQ(decimal("decimal(12,2)", "12.5"), "1250");
  EXPECT_EQ(decimal("decimal(12,2)", "\"-0.01\""), "-1");
  EXPECT_EQ(decimal("decimal(12,2)", "0.1"), "10");  // the JSON number 0.1, not 0.1000000000000000055
  EXPECT_EQ(decimal("decimal(12,2)", "3"), "300");
  EXPECT_EQ(decimal("decimal(4,2)", "\"1.2e1\""), "1200");
  EXPECT_EQ(decimal("decimal(12,2)", "\"1.230\""), "123");  // a trailing zero is not precision lost
  EXPECT_EQ(decimal("decimal(38,0)", "\"99999999999999999999999999999999999999\""), "99999999999999999999999999999999999999");
  EXPECT_EQ(decimal("decimal(12,2)", "1.234"), "error: more than 2 digits after the decimal point: 1.234");
  EXPECT_EQ(decimal("decimal(4,2)", "123.4"), "error: does not fit decimal(4,2): 123.4");
  EXPECT_EQ(decimal("decimal(4,2)", "\"abc\""), "error: not a decimal number: \"abc\"");
  EXPECT_EQ(decimal("decimal(4,2)", "[1]"), "error: expected a decimal number; got [1]");
}

TEST(NdjsonDecoderTest, TimestampsDatesAndOtherTypes) {
  auto one = [](const std::string& type, const std::string& value) {
    StreamConfig s = OneColumn(type);
    NdjsonDecoder d(s);
    return d.Decode("{\"v\":" + value + "}", 0);
  };
  // Integers are epoch milliseconds for both timestamp types.
  EXPECT_EQ(Fixed<int64_t>(one("timestamp_ms", "1705314600123").rows.column(0), 0), 1705314600123);
  EXPECT_EQ(Fixed<int64_t>(one("timestamp", "1705314600123").rows.column(0), 0), 1705314600123000);
  EXPECT_EQ(Fixed<int64_t>(one("timestamp", "\"2024-01-15T10:30:00Z\"").rows.column(0), 0), 1705314600000000);
  EXPECT_EQ(Fixed<int64_t>(one("timestamp", "\"2024-01-15 10:30:00\"").rows.column(0), 0), 1705314600000000);
  EXPECT_EQ(Fixed<int64_t>(one("timestamp", "\"2024-01-15T12:30:00.123456+02:00\"").rows.column(0), 0), 1705314600123456);
  EXPECT_EQ(Fixed<int64_t>(one("timestamp_ms", "\"2024-01-15T10:30:00.5-0130\"").rows.column(0), 0), 1705320000500);
  EXPECT_EQ(Fixed<int64_t>(one("timestamp_ms", "\"1969-12-31T23:59:59.999Z\"").rows.column(0), 0), -1);
  EXPECT_EQ(ErrorFor("timestamp", "\"2024-01-15T25:00:00Z\""),
            "expected epoch milliseconds or an ISO 8601 time such as \"2024-01-15T10:30:00Z\"; got \"2024-01-15T25:00:00Z\"");
  EXPECT_EQ(ErrorFor("timestamp", "\"2024-01-15T10:00:00+2\"").substr(0, 20), "expected epoch milli");
  EXPECT_EQ(Fixed<int32_t>(one("date", "\"2024-01-15\"").rows.column(0), 0), 19737);
  EXPECT_EQ(ErrorFor("date", "\"2024-02-30\""), "expected a date \"YYYY-MM-DD\"; got \"2024-02-30\"");
  EXPECT_EQ(Fixed<uint8_t>(one("boolean", "true").rows.column(0), 0), 1);
  EXPECT_EQ(ErrorFor("boolean", "1"), "expected true or false; got 1");
  EXPECT_EQ(Fixed<double>(one("double", "2.5").rows.column(0), 0), 2.5);
  EXPECT_EQ(Fixed<float>(one("float", "7").rows.column(0), 0), 7.0f);
  EXPECT_EQ(one("json", "{\"a\": [1, \"x\"]}").rows.column(0).VariableValue(0), "{\"a\":[1,\"x\"]}");
  EXPECT_EQ(one("json", "\"text\"").rows.column(0).VariableValue(0), "\"text\"");
  EXPECT_EQ(ErrorFor("string", "12"), "expected a string; got 12");
  EXPECT_EQ(Hex(one("ipv6", "\"::ffff:1.2.3.4\"").rows.column(0).VariableValue(0)), "00000000000000000000ffff01020304");
  EXPECT_EQ(Hex(one("ipv6", "\"::\"").rows.column(0).VariableValue(0)), std::string(32, '0'));
}

TEST(NdjsonDecoderTest, LongValuesAreShortenedInErrors) {
  EXPECT_EQ(ErrorFor("int32", "\"" + std::string(60, 'x') + "\""),
            "expected an integer in -2147483648..2147483647; got \"" + std::string(37, 'x') + "...\"");
}

TEST(NdjsonDecoderTest, ALargeBodyDecodesEveryLine) {
  StreamConfig s = EventsStream();
  NdjsonDecoder d(s);
  std::string body;
  for (int i = 0; i < 10000; ++i) {
    body += "{\"timestamp\":" + std::to_string(i) + ",\"workspace_id\":" + std::to_string(i % 7) +
            ",\"event_type\":\"track\",\"payload\":{\"seq\":" + std::to_string(i) + "}}\n";
  }
  DecodedBatch b = d.Decode(body, 5);
  ASSERT_TRUE(b.errors.empty());
  ASSERT_EQ(b.rows.rows(), 10000u);
  EXPECT_EQ(Fixed<int64_t>(b.rows.column(0), 9999), 9999);
  EXPECT_EQ(Fixed<uint64_t>(b.rows.column(2), 9999), 9999u % 7);
  EXPECT_EQ(b.rows.column(8).VariableValue(1234), "{\"seq\":1234}");
  // The decoder is reused: a second body starts from scratch.
  EXPECT_EQ(d.Decode("{\"timestamp\":1,\"workspace_id\":1,\"event_type\":\"group\"}", 5).rows.rows(), 1u);
}

}  // namespace
}  // namespace pqflow::ingest
