// Start-up of the WAL after a crash or damage: torn tails are cut, only in the last segment;
// anything else that is wrong stops Open with an error naming the file.
#include "wal/wal_recovery.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "temp_dir.h"
#include "wal/crc32c.h"
#include "wal/wal_test_util.h"

namespace pqflow::wal {
namespace {

namespace fs = std::filesystem;
using pqflow::testing::TempDir;
using namespace pqflow::wal::testing;  // NOLINT: test helpers

constexpr uint64_t kSegmentBytes = 100;
constexpr size_t kPayloadBytes = 50;
constexpr size_t kFrameBytes = kRecordHeaderBytes + kPayloadBytes;

// Six records, two per segment: segments start at lsns[0], lsns[2] and lsns[4].
struct SampleLog {
  std::vector<Lsn> lsns;
  std::string last_segment;  // path
  uint64_t last_record_offset = 0;  // of lsns[5] in last_segment
};

SampleLog WriteSampleLog(const std::string& dir) {
  SampleLog log;
  auto wal = Wal::Open(Options(dir, kSegmentBytes), [](const Record&) { return Status::OK(); });
  EXPECT_TRUE(wal.ok()) << wal.status().ToString();
  for (int i = 0; i < 6; ++i) log.lsns.push_back(MustAppend(**wal, TestPayload(i, kPayloadBytes)));
  EXPECT_EQ(SegmentNames(dir).size(), 3u);
  log.last_segment = SegmentPath(dir, log.lsns[4]);
  log.last_record_offset = FileOffset(log.lsns[4], log.lsns[5]);
  return log;
}

void ExpectSampleRecords(const std::vector<Replayed>& replayed, const SampleLog& log, size_t count) {
  ASSERT_EQ(replayed.size(), count);
  for (size_t i = 0; i < count; ++i) {
    EXPECT_EQ(replayed[i].lsn, log.lsns[i]);
    EXPECT_EQ(replayed[i].payload, TestPayload(i, kPayloadBytes));
  }
}

Status OpenError(const std::string& dir, int* replay_calls = nullptr) {
  auto wal = Wal::Open(Options(dir, kSegmentBytes), [&](const Record&) {
    if (replay_calls) ++*replay_calls;
    return Status::OK();
  });
  return wal.ok() ? Status::OK() : wal.status();
}

TEST(WalRecoveryTest, TornLastRecordIsCutAtEveryLengthAndAppendingContinues) {
  TempDir original;
  SampleLog log = WriteSampleLog(original.path());
  std::string last_segment = ReadFile(log.last_segment);
  ASSERT_EQ(last_segment.size(), log.last_record_offset + kFrameBytes);
  for (size_t kept = 0; kept < kFrameBytes; ++kept) {
    SCOPED_TRACE("bytes of the last record on disk: " + std::to_string(kept));
    TempDir tmp;
    for (const auto& name : SegmentNames(original.path())) fs::copy_file(original / name, tmp / name);
    std::string cut_segment = SegmentPath(tmp.path(), log.lsns[4]);
    WriteFile(cut_segment, std::string_view(last_segment).substr(0, log.last_record_offset + kept));
    {
      std::vector<Replayed> replayed;
      auto wal = OpenInto(Options(tmp.path(), kSegmentBytes), &replayed);
      ASSERT_TRUE(wal.ok()) << wal.status().ToString();
      ExpectSampleRecords(replayed, log, 5);
      EXPECT_EQ((*wal)->tail_cut_bytes(), kept);
      EXPECT_EQ(fs::file_size(cut_segment), log.last_record_offset);
      EXPECT_EQ((*wal)->NextLsn(), log.lsns[5]);
      EXPECT_EQ(MustAppend(**wal, "after the cut"), log.lsns[5]);
    }
    std::vector<Replayed> replayed = ReplayAll(Options(tmp.path(), kSegmentBytes));
    ASSERT_EQ(replayed.size(), 6u);
    EXPECT_EQ(replayed[5].lsn, log.lsns[5]);
    EXPECT_EQ(replayed[5].payload, "after the cut");
  }
}

TEST(WalRecoveryTest, FlippedByteAnywhereInTheLastRecordIsCut) {
  TempDir original;
  SampleLog log = WriteSampleLog(original.path());
  for (size_t i = 0; i < kFrameBytes; ++i) {
    SCOPED_TRACE("flipped byte " + std::to_string(i) + " of the last record");
    TempDir tmp;
    for (const auto& name : SegmentNames(original.path())) fs::copy_file(original / name, tmp / name);
    FlipByte(SegmentPath(tmp.path(), log.lsns[4]), log.last_record_offset + i);
    std::vector<Replayed> replayed;
    auto wal = OpenInto(Options(tmp.path(), kSegmentBytes), &replayed);
    ASSERT_TRUE(wal.ok()) << wal.status().ToString();
    ExpectSampleRecords(replayed, log, 5);
    EXPECT_EQ((*wal)->tail_cut_bytes(), kFrameBytes);
  }
}

TEST(WalRecoveryTest, ZeroFilledTailIsCut) {
  TempDir tmp;
  SampleLog log = WriteSampleLog(tmp.path());
  // What a crash can leave when the file size reached the disk but the data did not.
  WriteFile(log.last_segment, ReadFile(log.last_segment) + std::string(4096, '\0'));
  std::vector<Replayed> replayed;
  auto wal = OpenInto(Options(tmp.path(), kSegmentBytes), &replayed);
  ASSERT_TRUE(wal.ok()) << wal.status().ToString();
  ExpectSampleRecords(replayed, log, 6);
  EXPECT_EQ((*wal)->tail_cut_bytes(), 4096u);
}

TEST(WalRecoveryTest, ValidRecordAtTheWrongLsnIsCut) {
  TempDir tmp;
  SampleLog log = WriteSampleLog(tmp.path());
  // A copy of record 5 after itself: its bytes and checksum are intact, only its LSN differs.
  std::string segment = ReadFile(log.last_segment);
  WriteFile(log.last_segment, segment + segment.substr(log.last_record_offset));
  std::vector<Replayed> replayed;
  auto wal = OpenInto(Options(tmp.path(), kSegmentBytes), &replayed);
  ASSERT_TRUE(wal.ok()) << wal.status().ToString();
  ExpectSampleRecords(replayed, log, 6);
  EXPECT_EQ((*wal)->tail_cut_bytes(), kFrameBytes);
}

TEST(WalRecoveryTest, DamageInTheMiddleOfTheLastSegmentCutsFromThere) {
  // Documented trade-off (docs/wal.md): in the last segment, damage looks like a torn write.
  TempDir tmp;
  SampleLog log = WriteSampleLog(tmp.path());
  FlipByte(log.last_segment, FileOffset(log.lsns[4], log.lsns[4]) + kRecordHeaderBytes + 3);
  std::vector<Replayed> replayed;
  auto wal = OpenInto(Options(tmp.path(), kSegmentBytes), &replayed);
  ASSERT_TRUE(wal.ok()) << wal.status().ToString();
  ExpectSampleRecords(replayed, log, 4);
  EXPECT_EQ((*wal)->tail_cut_bytes(), 2 * kFrameBytes);
}

TEST(WalRecoveryTest, FlippedByteInAnEarlierSegmentIsCorruptionNamingFileAndOffset) {
  TempDir tmp;
  SampleLog log = WriteSampleLog(tmp.path());
  std::string first_segment = SegmentPath(tmp.path(), 0);
  uint64_t record_offset = FileOffset(0, log.lsns[1]);
  FlipByte(first_segment, record_offset + kRecordHeaderBytes + 10);
  std::string before = ReadFile(first_segment);
  Status s = OpenError(tmp.path());
  ASSERT_EQ(s.code(), StatusCode::kCorruption) << s.ToString();
  EXPECT_NE(s.message().find("reading " + first_segment + " at offset " + std::to_string(record_offset)),
            std::string::npos)
      << s.message();
  EXPECT_NE(s.message().find("docs/wal.md"), std::string::npos) << s.message();
  EXPECT_EQ(ReadFile(first_segment), before);  // nothing cut outside the last segment
  EXPECT_EQ(SegmentNames(tmp.path()).size(), 3u);
}

TEST(WalRecoveryTest, MissingSegmentIsCorruption) {
  TempDir tmp;
  SampleLog log = WriteSampleLog(tmp.path());
  fs::remove(SegmentPath(tmp.path(), log.lsns[2]));
  Status s = OpenError(tmp.path());
  ASSERT_EQ(s.code(), StatusCode::kCorruption) << s.ToString();
  EXPECT_NE(s.message().find(SegmentPath(tmp.path(), 0) + " ends at LSN " + std::to_string(log.lsns[2])),
            std::string::npos)
      << s.message();
}

TEST(WalRecoveryTest, StrayWalFilesAreRefusedBeforeAnythingIsReplayed) {
  struct Case {
    std::string name;
    std::string bytes;
    std::string expected;  // in the message
  };
  std::string copied_header(EncodeSegmentHeader(0).data(), kSegmentHeaderBytes);
  std::string bad_checksum = copied_header;
  bad_checksum[10] ^= 1;
  std::vector<Case> cases = {
      {"notes.wal", "hello", "its name is not 20 digits"},
      {"123.wal", std::string(copied_header), "its name is not 20 digits"},
      {"00000000000000099999.wal", "this is not a pqflow segment, just text", "does not start with \"PQWAL\""},
      {"00000000000000099999.wal", "PQW", "shorter than the 20-byte segment header"},
      {"00000000000000099999.wal", bad_checksum, "header checksum is wrong"},
      {"00000000000000099999.wal", copied_header, "its header says its first LSN is 0"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name + " holding " + std::to_string(c.bytes.size()) + " bytes");
    TempDir tmp;
    WriteSampleLog(tmp.path());
    WriteFile(tmp / c.name, c.bytes);
    int replay_calls = 0;
    Status s = OpenError(tmp.path(), &replay_calls);
    ASSERT_EQ(s.code(), StatusCode::kCorruption) << s.ToString();
    EXPECT_NE(s.message().find(tmp / c.name), std::string::npos) << s.message();
    EXPECT_NE(s.message().find("is not a pqflow WAL segment"), std::string::npos) << s.message();
    EXPECT_NE(s.message().find(c.expected), std::string::npos) << s.message();
    EXPECT_EQ(replay_calls, 0);
  }
}

TEST(WalRecoveryTest, NewerFormatVersionIsRefused) {
  TempDir tmp;
  auto header = EncodeSegmentHeader(0);
  header[5] = 2;
  uint32_t crc = Crc32c(header.data(), 16);
  for (int i = 0; i < 4; ++i) header[16 + i] = static_cast<char>(crc >> (8 * i));
  WriteFile(SegmentPath(tmp.path(), 0), std::string_view(header.data(), header.size()));
  Status s = OpenError(tmp.path());
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << s.ToString();
  EXPECT_NE(s.message().find("format version 2"), std::string::npos) << s.message();
}

TEST(WalRecoveryTest, ReplayErrorAbortsOpenAndLeavesTheLogAsItWas) {
  TempDir tmp;
  SampleLog log = WriteSampleLog(tmp.path());
  std::vector<Lsn> seen;
  auto wal = Wal::Open(Options(tmp.path(), kSegmentBytes), [&](const Record& r) {
    seen.push_back(r.lsn);
    return seen.size() == 3 ? Status::InvalidArgument("batch does not decode") : Status::OK();
  });
  ASSERT_FALSE(wal.ok());
  EXPECT_EQ(wal.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(wal.status().message().find("batch does not decode"), std::string::npos) << wal.status().ToString();
  EXPECT_NE(wal.status().message().find("LSN " + std::to_string(log.lsns[2])), std::string::npos)
      << wal.status().ToString();
  EXPECT_EQ(seen.size(), 3u);
  ExpectSampleRecords(ReplayAll(Options(tmp.path(), kSegmentBytes)), log, 6);
}

TEST(WalRecoveryTest, LeftoverTempSegmentIsDeleted) {
  TempDir tmp;
  SampleLog log = WriteSampleLog(tmp.path());
  std::string temp = SegmentPath(tmp.path(), 12345) + ".tmp";
  WriteFile(temp, "PQW");  // a crash while a segment was being created
  ExpectSampleRecords(ReplayAll(Options(tmp.path(), kSegmentBytes)), log, 6);
  EXPECT_FALSE(fs::exists(temp));
}

TEST(WalRecoveryTest, HeaderOnlyLastSegmentContinuesTheLog) {
  TempDir tmp;
  SampleLog log = WriteSampleLog(tmp.path());
  Lsn end = log.lsns[5] + kFrameBytes;
  // A crash right after rotation created the next segment, before anything was written to it.
  auto header = EncodeSegmentHeader(end);
  WriteFile(SegmentPath(tmp.path(), end), std::string_view(header.data(), header.size()));
  std::vector<Replayed> replayed;
  auto wal = OpenInto(Options(tmp.path(), kSegmentBytes), &replayed);
  ASSERT_TRUE(wal.ok()) << wal.status().ToString();
  ExpectSampleRecords(replayed, log, 6);
  EXPECT_EQ((*wal)->NextLsn(), end);
  EXPECT_EQ(MustAppend(**wal, "next"), end);
  EXPECT_EQ(fs::file_size(SegmentPath(tmp.path(), end)), kSegmentHeaderBytes + kRecordHeaderBytes + 4);
}

}  // namespace
}  // namespace pqflow::wal
