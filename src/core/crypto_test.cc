#include "core/crypto.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "temp_dir.h"

namespace pqflow {
namespace {

using pqflow::testing::TempDir;

// FIPS 180-2 and RFC 4231 test vectors.
TEST(CryptoTest, Sha256MatchesTheStandardsVectors) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Sha256 pieces;
  pieces.Update("ab", 2);
  pieces.Update("c", 1);
  const Sha256Digest digest = pieces.Finish();
  EXPECT_EQ(HexLower(digest.data(), digest.size()), Sha256Hex("abc"));
  EXPECT_EQ(Sha256Of("abc"), digest);
}

TEST(CryptoTest, HmacSha256MatchesRfc4231) {
  EXPECT_EQ(HexLower(HmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(CryptoTest, FilesAreHashedWholeOrByRangeAcrossReadChunks) {
  TempDir dir;
  std::string content;
  for (int i = 0; content.size() < (3u << 20) / 2; ++i) content += std::to_string(i) + ",";  // > one 1 MiB read
  { std::ofstream(dir / "f", std::ios::binary) << content; }
  auto whole = Sha256File(dir / "f");
  ASSERT_TRUE(whole.ok()) << whole.status().ToString();
  EXPECT_EQ(*whole, Sha256Hex(content));
  auto range = Sha256FileRange(dir / "f", 1000, static_cast<int64_t>(content.size()) - 2000);
  ASSERT_TRUE(range.ok()) << range.status().ToString();
  EXPECT_EQ(*range, Sha256Hex(std::string_view(content).substr(1000, content.size() - 2000)));
}

TEST(CryptoTest, AShortOrMissingFileIsAnErrorNamingIt) {
  TempDir dir;
  { std::ofstream(dir / "f") << "abc"; }
  auto past_end = Sha256FileRange(dir / "f", 1, 5);
  ASSERT_FALSE(past_end.ok());
  EXPECT_NE(past_end.status().message().find(dir / "f"), std::string::npos) << past_end.status().ToString();
  EXPECT_NE(past_end.status().message().find("shorter than expected"), std::string::npos);
  auto missing = Sha256File(dir / "missing");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find(dir / "missing"), std::string::npos) << missing.status().ToString();
}

TEST(CryptoTest, RandomBytesDifferBetweenDraws) {
  uint8_t a[32] = {};
  uint8_t b[32] = {};
  ASSERT_TRUE(RandomBytes(a, sizeof a).ok());
  ASSERT_TRUE(RandomBytes(b, sizeof b).ok());
  EXPECT_FALSE(ConstantTimeEqual(a, b, sizeof a));  // 2^-256
  EXPECT_TRUE(ConstantTimeEqual(a, a, sizeof a));
  uint8_t c[32];
  std::copy(std::begin(a), std::end(a), c);
  c[31] ^= 1;
  EXPECT_FALSE(ConstantTimeEqual(a, c, sizeof a));
}

TEST(CryptoTest, HexIsLowerCaseTwoDigitsPerByte) {
  EXPECT_EQ(HexLower(std::string_view("\x00\x0f\xa0\xff", 4)), "000fa0ff");
  EXPECT_EQ(HexLower(std::string_view()), "");
}

}  // namespace
}  // namespace pqflow
