#include "sink/export_sql.h"

#include <gtest/gtest.h>

namespace pqflow::sink {
namespace {

TEST(StateDateKeyTest, DecodesWhatLayoutCopySqlWrites) {
  auto ok = DecodeStateDate(std::to_string(4 * 20468));  // 2026-01-15 is day 20,468
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  EXPECT_EQ(ok->state, 0);
  ASSERT_TRUE(ok->date.has_value());
  EXPECT_EQ(ok->date->ToIso(), "2026-01-15");

  auto before_1970 = DecodeStateDate("-4");
  ASSERT_TRUE(before_1970.ok());
  EXPECT_EQ(before_1970->state, 0);
  EXPECT_EQ(before_1970->date->ToIso(), "1969-12-31");

  auto epoch = DecodeStateDate("0");
  ASSERT_TRUE(epoch.ok());
  EXPECT_EQ(epoch->date->ToIso(), "1970-01-01");

  auto rejected = DecodeStateDate("1");
  ASSERT_TRUE(rejected.ok());
  EXPECT_EQ(rejected->state, 1);
  EXPECT_FALSE(rejected->date.has_value());

  auto outside = DecodeStateDate("2");
  ASSERT_TRUE(outside.ok());
  EXPECT_EQ(outside->state, 2);
}

TEST(StateDateKeyTest, AnythingElseIsAnError) {
  for (const char* bad : {"3", "5", "-1", "", "NULL", "12x", "x"}) {
    EXPECT_FALSE(DecodeStateDate(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace pqflow::sink
