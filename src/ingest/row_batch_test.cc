// RowBatch: appending, gathering rows by index, truncating a partly appended row.
#include "ingest/row_batch.h"

#include <gtest/gtest.h>

#include <cstring>

namespace pqflow::ingest {
namespace {

RowBatch IntAndString() { return RowBatch({ColumnType{TypeKind::kInt32}, ColumnType{TypeKind::kString}}); }

void Add(RowBatch& b, std::optional<int32_t> i, std::optional<std::string> s) {
  if (i) {
    b.column(0).AppendFixed(&*i);
  } else {
    b.column(0).AppendNull();
  }
  if (s) {
    b.column(1).AppendVariable(*s);
  } else {
    b.column(1).AppendNull();
  }
}

std::string Dump(const RowBatch& b) {
  std::string out;
  for (size_t r = 0; r < b.rows(); ++r) {
    int32_t v = 0;
    std::memcpy(&v, b.column(0).FixedValue(r), 4);
    out += (b.column(0).valid[r] ? std::to_string(v) : "NULL") + ":" +
           (b.column(1).valid[r] ? std::string(b.column(1).VariableValue(r)) : "NULL") + " ";
  }
  return out;
}

TEST(RowBatchTest, WidthsFollowDuckDbTypes) {
  EXPECT_EQ(FixedWidth(ColumnType{TypeKind::kBoolean}), 1u);
  EXPECT_EQ(FixedWidth(ColumnType{TypeKind::kDate}), 4u);
  EXPECT_EQ(FixedWidth(ColumnType{TypeKind::kTimestampMs}), 8u);
  EXPECT_EQ(FixedWidth(ColumnType{TypeKind::kUuid}), 16u);
  EXPECT_EQ(FixedWidth(ColumnType{TypeKind::kDecimal, 9, 2}), 4u);
  EXPECT_EQ(FixedWidth(ColumnType{TypeKind::kDecimal, 38, 2}), 16u);
  EXPECT_EQ(FixedWidth(ColumnType{TypeKind::kIpv6}), 0u);  // variable: a 16-byte blob
}

TEST(RowBatchTest, AppendGatherAndTruncate) {
  RowBatch b = IntAndString();
  Add(b, 1, "a");
  Add(b, std::nullopt, "bb");
  Add(b, 3, std::nullopt);
  Add(b, 4, "");
  EXPECT_EQ(Dump(b), "1:a NULL:bb 3:NULL 4: ");
  EXPECT_EQ(b.column(0).fixed[4], 0);  // a NULL's bytes are zero

  RowBatch picked = IntAndString();
  picked.AppendRows(b, {3, 1, 1});
  EXPECT_EQ(Dump(picked), "4: NULL:bb NULL:bb ");
  picked.AppendAll(b);
  EXPECT_EQ(Dump(picked), "4: NULL:bb NULL:bb 1:a NULL:bb 3:NULL 4: ");

  // A row appended to some columns only (a line that failed half way) is cut back.
  b.column(0).AppendFixed(&b);  // any 4 bytes
  b.Truncate(4);
  EXPECT_EQ(b.column(0).rows(), 4u);
  EXPECT_EQ(b.column(1).rows(), 4u);
  b.Truncate(1);
  EXPECT_EQ(Dump(b), "1:a ");
  EXPECT_EQ(b.column(1).bytes, "a");
  b.Clear();
  EXPECT_EQ(b.rows(), 0u);
  Add(b, 9, "z");
  EXPECT_EQ(Dump(b), "9:z ");
  EXPECT_GT(b.MemoryBytes(), 0u);
}

}  // namespace
}  // namespace pqflow::ingest
