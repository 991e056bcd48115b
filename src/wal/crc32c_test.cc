#include "wal/crc32c.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace pqflow::wal {
namespace {

// The definition, one bit at a time: what the table-driven code must agree with.
uint32_t BitwiseCrc32c(const std::string& s) {
  uint32_t crc = 0xFFFFFFFF;
  for (unsigned char c : s) {
    crc ^= c;
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ ((crc & 1) ? 0x82F63B78 : 0);
  }
  return ~crc;
}

TEST(Crc32cTest, StandardCheckValue) { EXPECT_EQ(Crc32c("123456789", 9), 0xE3069283u); }

TEST(Crc32cTest, Rfc3720TestVectors) {
  std::string zeros(32, '\0');
  std::string ones(32, '\xFF');
  std::string ascending;
  for (int i = 0; i < 32; ++i) ascending += static_cast<char>(i);
  EXPECT_EQ(Crc32c(zeros.data(), zeros.size()), 0x8A9136AAu);
  EXPECT_EQ(Crc32c(ones.data(), ones.size()), 0x62A8AB43u);
  EXPECT_EQ(Crc32c(ascending.data(), ascending.size()), 0x46DD794Eu);
  EXPECT_EQ(Crc32c("", 0), 0u);
}

TEST(Crc32cTest, AgreesWithTheBitwiseDefinitionAtEveryLengthAndAlignment) {
  std::mt19937 rng(42);
  std::string data(300, '\0');
  for (char& c : data) c = static_cast<char>(rng());
  for (size_t start = 0; start < 8; ++start) {
    for (size_t n = 0; start + n <= data.size(); n += 1 + n / 16) {
      std::string piece = data.substr(start, n);
      ASSERT_EQ(Crc32c(data.data() + start, n), BitwiseCrc32c(piece)) << "start " << start << " length " << n;
      // Both implementations: the hardware one (used where the CPU has it) and the tables.
      ASSERT_EQ(Crc32cSoftware(0, data.data() + start, n), BitwiseCrc32c(piece)) << "start " << start << " length " << n;
    }
  }
}

TEST(Crc32cTest, ExtendEqualsChecksumOfTheWhole) {
  std::string data = "The quick brown fox jumps over the lazy dog, twice: the quick brown fox.";
  uint32_t whole = Crc32c(data.data(), data.size());
  for (size_t split = 0; split <= data.size(); ++split) {
    uint32_t first = Crc32c(data.data(), split);
    EXPECT_EQ(Crc32cExtend(first, data.data() + split, data.size() - split), whole) << split;
  }
}

}  // namespace
}  // namespace pqflow::wal
