#include "core/parallel.h"

#include <gtest/gtest.h>

#include <atomic>
#include <vector>

namespace pqflow {
namespace {

TEST(ParallelFor, VisitsEveryIndexOnce) {
  std::vector<std::atomic<int>> seen(1000);
  ASSERT_TRUE(ParallelFor(seen.size(), 4, [&](size_t i) {
                seen[i]++;
                return Status::OK();
              }).ok());
  for (const auto& s : seen) EXPECT_EQ(s.load(), 1);
}

TEST(ParallelFor, ReturnsTheFailureAndStopsStartingWork) {
  std::atomic<int> started{0};
  Status s = ParallelFor(100000, 2, [&](size_t i) {
    started++;
    return i == 10 ? Status::IOError("disk full at 10") : Status::OK();
  });
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("disk full at 10"), std::string::npos);
  EXPECT_LT(started.load(), 100000);
}

TEST(ParallelFor, AnEmptyRangeIsOk) {
  EXPECT_TRUE(ParallelFor(0, 4, [](size_t) { return Status::Internal("never called"); }).ok());
}

}  // namespace
}  // namespace pqflow
