#include "ingest/row_batch.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

namespace pqflow::ingest {
namespace {

ColumnType Type(TypeKind kind, int precision = 0, int scale = 0) {
  ColumnType t;
  t.kind = kind;
  t.precision = precision;
  t.scale = scale;
  return t;
}

int64_t Int64At(const ColumnData& col, size_t row) {
  int64_t v = 0;
  std::memcpy(&v, col.FixedValue(row), sizeof v);
  return v;
}

// A batch (int64, string) with rows {1,"a"}, {NULL,"bb"}, {3,NULL}, {4,""}.
RowBatch Sample() {
  RowBatch b({Type(TypeKind::kInt64), Type(TypeKind::kString)});
  const int64_t one = 1, three = 3, four = 4;
  b.column(0).AppendFixed(&one);
  b.column(1).AppendVariable("a");
  b.column(0).AppendNull();
  b.column(1).AppendVariable("bb");
  b.column(0).AppendFixed(&three);
  b.column(1).AppendNull();
  b.column(0).AppendFixed(&four);
  b.column(1).AppendVariable("");
  return b;
}

TEST(RowBatchTest, FixedWidthPerType) {
  EXPECT_EQ(FixedWidth(Type(TypeKind::kBoolean)), 1u);
  EXPECT_EQ(FixedWidth(Type(TypeKind::kInt8)), 1u);
  EXPECT_EQ(FixedWidth(Type(TypeKind::kUInt16)), 2u);
  EXPECT_EQ(FixedWidth(Type(TypeKind::kInt32)), 4u);
  EXPECT_EQ(FixedWidth(Type(TypeKind::kFloat)), 4u);
  EXPECT_EQ(FixedWidth(Type(TypeKind::kDate)), 4u);
  EXPECT_EQ(FixedWidth(Type(TypeKind::kUInt64)), 8u);
  EXPECT_EQ(FixedWidth(Type(TypeKind::kDouble)), 8u);
  EXPECT_EQ(FixedWidth(Type(TypeKind::kTimestamp)), 8u);
  EXPECT_EQ(FixedWidth(Type(TypeKind::kTimestampMs)), 8u);
  EXPECT_EQ(FixedWidth(Type(TypeKind::kUuid)), 16u);
  EXPECT_EQ(FixedWidth(Type(TypeKind::kDecimal, 4, 2)), 2u);
  EXPECT_EQ(FixedWidth(Type(TypeKind::kDecimal, 5, 2)), 4u);
  EXPECT_EQ(FixedWidth(Type(TypeKind::kDecimal, 9, 2)), 4u);
  EXPECT_EQ(FixedWidth(Type(TypeKind::kDecimal, 10, 2)), 8u);
  EXPECT_EQ(FixedWidth(Type(TypeKind::kDecimal, 18, 2)), 8u);
  EXPECT_EQ(FixedWidth(Type(TypeKind::kDecimal, 19, 2)), 16u);
  EXPECT_EQ(FixedWidth(Type(TypeKind::kDecimal, 38, 0)), 16u);
  for (TypeKind k : {TypeKind::kString, TypeKind::kJson, TypeKind::kBinary, TypeKind::kIpv6}) {
    EXPECT_EQ(FixedWidth(Type(k)), 0u);
    EXPECT_TRUE(ColumnData(Type(k)).is_variable());
  }
}

TEST(RowBatchTest, AppendFixedAndNull) {
  ColumnData col(Type(TypeKind::kInt32));
  const int32_t a = -7, b = 123456;
  col.AppendFixed(&a);
  col.AppendNull();
  col.AppendFixed(&b);
  ASSERT_EQ(col.rows(), 3u);
  EXPECT_EQ(col.fixed.size(), 12u);
  EXPECT_EQ(col.valid, (std::vector<uint8_t>{1, 0, 1}));
  int32_t v = 0;
  std::memcpy(&v, col.FixedValue(0), 4);
  EXPECT_EQ(v, -7);
  std::memcpy(&v, col.FixedValue(1), 4);
  EXPECT_EQ(v, 0) << "a NULL's fixed bytes are zero";
  std::memcpy(&v, col.FixedValue(2), 4);
  EXPECT_EQ(v, 123456);
  EXPECT_TRUE(col.offsets.empty());
}

TEST(RowBatchTest, AppendVariableAndNull) {
  ColumnData col(Type(TypeKind::kBinary));
  EXPECT_EQ(col.offsets, (std::vector<uint32_t>{0}));
  col.AppendVariable(std::string_view("a\0b", 3));
  col.AppendNull();
  col.AppendVariable("");
  col.AppendVariable("xyz");
  ASSERT_EQ(col.rows(), 4u);
  EXPECT_EQ(col.offsets, (std::vector<uint32_t>{0, 3, 3, 3, 6}));
  EXPECT_EQ(col.bytes, std::string("a\0bxyz", 6));
  EXPECT_EQ(col.VariableValue(0), std::string_view("a\0b", 3));
  EXPECT_EQ(col.VariableValue(1), "");
  EXPECT_EQ(col.VariableValue(2), "");
  EXPECT_EQ(col.VariableValue(3), "xyz");
  EXPECT_EQ(col.valid, (std::vector<uint8_t>{1, 0, 1, 1}));
  EXPECT_TRUE(col.fixed.empty());
}

TEST(RowBatchTest, ConstructsColumnsInOrder) {
  RowBatch b({Type(TypeKind::kUuid), Type(TypeKind::kString), Type(TypeKind::kDecimal, 20, 4)});
  ASSERT_EQ(b.column_count(), 3u);
  EXPECT_EQ(b.column(0).width, 16u);
  EXPECT_TRUE(b.column(1).is_variable());
  EXPECT_EQ(b.column(2).type, Type(TypeKind::kDecimal, 20, 4));
  EXPECT_EQ(b.rows(), 0u);
  EXPECT_EQ(RowBatch().rows(), 0u);
}

TEST(RowBatchTest, AppendRowsWithIndicesNullsAndVariableColumns) {
  const RowBatch src = Sample();
  RowBatch dst({Type(TypeKind::kInt64), Type(TypeKind::kString)});
  const int64_t zero = 100;
  dst.column(0).AppendFixed(&zero);
  dst.column(1).AppendVariable("pre");
  dst.AppendRows(src, {3, 1, 2, 1});
  ASSERT_EQ(dst.rows(), 5u);
  ASSERT_EQ(dst.column(1).rows(), 5u);
  const ColumnData& ints = dst.column(0);
  const ColumnData& strs = dst.column(1);
  EXPECT_EQ(ints.valid, (std::vector<uint8_t>{1, 1, 0, 1, 0}));
  EXPECT_EQ(Int64At(ints, 0), 100);
  EXPECT_EQ(Int64At(ints, 1), 4);
  EXPECT_EQ(Int64At(ints, 2), 0);
  EXPECT_EQ(Int64At(ints, 3), 3);
  EXPECT_EQ(strs.valid, (std::vector<uint8_t>{1, 1, 1, 0, 1}));
  EXPECT_EQ(strs.VariableValue(0), "pre");
  EXPECT_EQ(strs.VariableValue(1), "");
  EXPECT_EQ(strs.VariableValue(2), "bb");
  EXPECT_EQ(strs.VariableValue(3), "");
  EXPECT_EQ(strs.VariableValue(4), "bb");
  EXPECT_EQ(strs.bytes, "prebbbb");
  EXPECT_EQ(strs.offsets, (std::vector<uint32_t>{0, 3, 3, 5, 5, 7}));

  RowBatch none({Type(TypeKind::kInt64), Type(TypeKind::kString)});
  none.AppendRows(src, {});
  EXPECT_EQ(none.rows(), 0u);
  EXPECT_EQ(none.column(1).offsets, (std::vector<uint32_t>{0}));
}

TEST(RowBatchTest, AppendAllRebasesOffsets) {
  RowBatch dst = Sample();
  dst.AppendAll(Sample());
  ASSERT_EQ(dst.rows(), 8u);
  ASSERT_EQ(dst.column(1).rows(), 8u);
  const ColumnData& strs = dst.column(1);
  EXPECT_EQ(strs.offsets.size(), 9u);
  EXPECT_EQ(strs.offsets, (std::vector<uint32_t>{0, 1, 3, 3, 3, 4, 6, 6, 6}));
  EXPECT_EQ(strs.VariableValue(4), "a");
  EXPECT_EQ(strs.VariableValue(5), "bb");
  EXPECT_EQ(strs.valid[6], 0);
  EXPECT_EQ(dst.column(0).fixed.size(), 64u);
  EXPECT_EQ(Int64At(dst.column(0), 4), 1);
  EXPECT_EQ(dst.column(0).valid[5], 0);
  EXPECT_EQ(Int64At(dst.column(0), 7), 4);

  RowBatch empty({Type(TypeKind::kInt64), Type(TypeKind::kString)});
  empty.AppendAll(Sample());
  EXPECT_EQ(empty.column(1).offsets, Sample().column(1).offsets);
  EXPECT_EQ(empty.column(0).fixed, Sample().column(0).fixed);
}

TEST(RowBatchTest, TruncateDropsTrailingRowsIncludingPartialOnes) {
  RowBatch b = Sample();
  // A partly appended fifth row: only the first column got its value.
  const int64_t five = 5;
  b.column(0).AppendFixed(&five);
  EXPECT_EQ(b.column(0).rows(), 5u);
  EXPECT_EQ(b.column(1).rows(), 4u);
  b.Truncate(4);
  EXPECT_EQ(b.column(0).rows(), 4u);
  EXPECT_EQ(b.column(0).fixed.size(), 32u);
  EXPECT_EQ(b.column(1).rows(), 4u);

  b.Truncate(2);
  ASSERT_EQ(b.rows(), 2u);
  EXPECT_EQ(b.column(0).fixed.size(), 16u);
  EXPECT_EQ(b.column(1).offsets, (std::vector<uint32_t>{0, 1, 3}));
  EXPECT_EQ(b.column(1).bytes, "abb");
  // Appending after a truncate continues from the kept rows.
  b.column(1).AppendVariable("z");
  EXPECT_EQ(b.column(1).VariableValue(2), "z");
  EXPECT_EQ(b.column(1).bytes, "abbz");

  b.Truncate(10);  // more rows than there are: no change
  EXPECT_EQ(b.column(1).rows(), 3u);

  b.Clear();
  EXPECT_EQ(b.rows(), 0u);
  EXPECT_EQ(b.column(1).offsets, (std::vector<uint32_t>{0}));
  EXPECT_TRUE(b.column(1).bytes.empty());
  EXPECT_TRUE(b.column(0).fixed.empty());
}

TEST(RowBatchTest, MemoryBytesGrowsWithData) {
  RowBatch b({Type(TypeKind::kString)});
  const size_t before = b.MemoryBytes();
  for (int i = 0; i < 100; ++i) b.column(0).AppendVariable("0123456789");
  EXPECT_GE(b.MemoryBytes(), before + 1000 + 100 * 4 + 100);
}

// A batch (int64 = i, string = "v<i>", NULL every 7th row) of `n` rows.
RowBatch Numbered(size_t n) {
  RowBatch b({Type(TypeKind::kInt64), Type(TypeKind::kString)});
  for (size_t i = 0; i < n; ++i) {
    const int64_t v = static_cast<int64_t>(i);
    b.column(0).AppendFixed(&v);
    if (i % 7 == 0) b.column(1).AppendNull();
    else b.column(1).AppendVariable("v" + std::to_string(i));
  }
  return b;
}

TEST(RowChunksTest, AppendsAcrossChunkBoundariesInOrder) {
  const size_t n = RowChunks::kRowsPerChunk + 1000;
  const RowBatch src = Numbered(n);
  std::vector<uint32_t> evens, odds;
  for (uint32_t i = 0; i < n; ++i) (i % 2 ? odds : evens).push_back(i);
  RowChunks chunks({Type(TypeKind::kInt64), Type(TypeKind::kString)});
  EXPECT_EQ(chunks.MemoryBytes(), 0u);
  chunks.AppendRows(src, evens);
  chunks.AppendRows(src, odds);
  chunks.AppendRows(src, odds);
  ASSERT_EQ(chunks.rows(), n + odds.size());
  ASSERT_EQ(chunks.chunks().size(), 2u);
  EXPECT_EQ(chunks.chunks()[0].rows(), RowChunks::kRowsPerChunk);
  EXPECT_EQ(chunks.chunks()[1].rows(), n + odds.size() - RowChunks::kRowsPerChunk);
  // The full chunk's size is the next chunk's reservation: no copy as it fills.
  EXPECT_GE(chunks.chunks()[1].column(1).bytes.capacity(), chunks.chunks()[0].column(1).bytes.size());

  RowBatch all({Type(TypeKind::kInt64), Type(TypeKind::kString)});
  chunks.AppendTo(&all);
  ASSERT_EQ(all.rows(), chunks.rows());
  std::vector<uint32_t> expected = evens;
  expected.insert(expected.end(), odds.begin(), odds.end());
  expected.insert(expected.end(), odds.begin(), odds.end());
  for (size_t r = 0; r < expected.size(); ++r) {
    const uint32_t i = expected[r];
    ASSERT_EQ(Int64At(all.column(0), r), static_cast<int64_t>(i)) << r;
    ASSERT_EQ(all.column(1).valid[r], i % 7 == 0 ? 0 : 1) << r;
    if (i % 7 != 0) {
      ASSERT_EQ(all.column(1).VariableValue(r), "v" + std::to_string(i)) << r;
    }
  }
  EXPECT_GE(chunks.MemoryBytes(), all.column(1).bytes.size() + all.column(0).fixed.size());
}

TEST(RowChunksTest, AppendAllKeepsBothInOrderAndCountsMemory) {
  const RowBatch src = Numbered(10);
  RowChunks a({Type(TypeKind::kInt64), Type(TypeKind::kString)});
  RowChunks b({Type(TypeKind::kInt64), Type(TypeKind::kString)});
  a.AppendRows(src, {0, 1, 2});
  b.AppendRows(src, {7, 8});
  const size_t bytes = a.MemoryBytes() + b.MemoryBytes();
  a.AppendAll(std::move(b));
  EXPECT_EQ(b.rows(), 0u);  // NOLINT(bugprone-use-after-move): emptied on purpose
  EXPECT_EQ(a.rows(), 5u);
  EXPECT_EQ(a.MemoryBytes(), bytes);
  a.AppendRows(src, {9});  // goes on after b's rows, in b's (now last, not full) chunk
  RowBatch all({Type(TypeKind::kInt64), Type(TypeKind::kString)});
  a.AppendTo(&all);
  std::vector<int64_t> ids;
  for (size_t r = 0; r < all.rows(); ++r) ids.push_back(Int64At(all.column(0), r));
  EXPECT_EQ(ids, (std::vector<int64_t>{0, 1, 2, 7, 8, 9}));
  EXPECT_EQ(all.column(1).valid, (std::vector<uint8_t>{0, 1, 1, 0, 1, 1}));
}

}  // namespace
}  // namespace pqflow::ingest
