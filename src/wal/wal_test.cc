// Appending, group commit, rotation and truncation of the WAL. Start-up after crashes and
// damage is in wal_recovery_test.cc.
#include "wal/wal.h"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <map>
#include <set>
#include <thread>

#include "temp_dir.h"
#include "wal/wal_format.h"
#include "wal/wal_test_util.h"

namespace pqflow::wal {
namespace {

using pqflow::testing::TempDir;
using namespace pqflow::wal::testing;  // NOLINT: test helpers

TEST(WalTest, NewLogInEmptyDirectoryStartsAtLsnZero) {
  TempDir tmp;
  std::vector<Replayed> replayed;
  auto wal = OpenInto(Options(tmp.path()), &replayed);
  ASSERT_TRUE(wal.ok()) << wal.status().ToString();
  EXPECT_TRUE(replayed.empty());
  EXPECT_EQ((*wal)->NextLsn(), 0u);
  EXPECT_EQ((*wal)->SizeBytes(), kSegmentHeaderBytes);
  EXPECT_EQ((*wal)->tail_cut_bytes(), 0u);
  EXPECT_EQ(SegmentNames(tmp.path()), std::vector<std::string>{"00000000000000000000.wal"});
}

// LSNs start again at 0 in a new log, so a new log gets a new id; a reopened log keeps its own.
TEST(WalTest, ALogKeepsItsIdAndANewLogGetsAnother) {
  TempDir tmp;
  const WalOptions options = Options(tmp / "wal");
  std::string first_id;
  {
    auto wal = Wal::Open(options, [](const Record&) { return Status::OK(); });
    ASSERT_TRUE(wal.ok()) << wal.status().ToString();
    first_id = (*wal)->log_id();
    EXPECT_EQ(first_id.size(), 32u);
    EXPECT_EQ(first_id.find_first_not_of("0123456789abcdef"), std::string::npos) << first_id;
    MustAppend(**wal, "a record");
  }
  std::vector<std::string> replayed_ids;
  auto collect = [&](const Record& r) {
    replayed_ids.emplace_back(r.log_id);
    return Status::OK();
  };
  {
    auto wal = Wal::Open(options, collect);
    ASSERT_TRUE(wal.ok()) << wal.status().ToString();
    EXPECT_EQ((*wal)->log_id(), first_id);
    EXPECT_EQ(replayed_ids, std::vector<std::string>{first_id});  // replayed records carry it
  }
  // A log written before log ids: its records get one, kept from then on.
  std::filesystem::remove(tmp / "wal/LOG_ID");
  replayed_ids.clear();
  std::string adopted;
  {
    auto wal = Wal::Open(options, collect);
    ASSERT_TRUE(wal.ok()) << wal.status().ToString();
    adopted = (*wal)->log_id();
    EXPECT_NE(adopted, first_id);
    EXPECT_EQ(replayed_ids, std::vector<std::string>{adopted});
  }
  {
    auto wal = Wal::Open(options, collect);
    ASSERT_TRUE(wal.ok());
    EXPECT_EQ((*wal)->log_id(), adopted);
  }
  // Every segment removed (a repair, or a replaced directory): LSN 0 again, and a new id.
  for (const auto& name : SegmentNames(tmp / "wal")) std::filesystem::remove(tmp / ("wal/" + name));
  auto wal = Wal::Open(options, collect);
  ASSERT_TRUE(wal.ok());
  EXPECT_EQ((*wal)->NextLsn(), 0u);
  EXPECT_NE((*wal)->log_id(), adopted);
  EXPECT_NE((*wal)->log_id(), first_id);
}

TEST(WalTest, RoundTripWithFsync) {
  TempDir tmp;
  WalOptions options = Options(tmp / "a/b/wal", 64ull << 20, /*fsync=*/true);  // created with its parents
  std::vector<std::string> payloads = {"first", "", TestPayload(3, 1000)};
  std::vector<Lsn> lsns;
  {
    std::vector<Replayed> replayed;
    auto wal = OpenInto(options, &replayed);
    ASSERT_TRUE(wal.ok()) << wal.status().ToString();
    for (size_t i = 0; i < payloads.size(); ++i) {
      Lsn seen = 999999;
      auto lsn = (*wal)->Append(static_cast<uint8_t>(i + 1), payloads[i], [&](Lsn l) { seen = l; });
      ASSERT_TRUE(lsn.ok()) << lsn.status().ToString();
      EXPECT_EQ(seen, *lsn);  // on_durable ran before Append returned
      lsns.push_back(*lsn);
    }
    EXPECT_EQ(lsns, (std::vector<Lsn>{0, 14, 23}));  // each LSN = previous + 9 + payload bytes
    EXPECT_EQ((*wal)->NextLsn(), 23u + 9 + 1000);
    EXPECT_EQ((*wal)->SizeBytes(), kSegmentHeaderBytes + 23 + 9 + 1000);
    EXPECT_GE((*wal)->fsyncs(), 3u);
  }
  std::vector<Replayed> replayed;
  auto wal = OpenInto(options, &replayed);
  ASSERT_TRUE(wal.ok()) << wal.status().ToString();
  ASSERT_EQ(replayed.size(), payloads.size());
  for (size_t i = 0; i < payloads.size(); ++i) {
    EXPECT_EQ(replayed[i].lsn, lsns[i]);
    EXPECT_EQ(replayed[i].type, i + 1);
    EXPECT_EQ(replayed[i].payload, payloads[i]);
  }
  EXPECT_EQ((*wal)->NextLsn(), 23u + 9 + 1000);
  EXPECT_EQ(MustAppend(**wal, "after reopen"), 23u + 9 + 1000);
}

TEST(WalTest, APayloadInTwoPiecesIsOneRecord) {
  TempDir tmp;
  WalOptions options = Options(tmp / "wal");
  const std::string body = TestPayload(7, 5000);
  {
    auto wal = Wal::Open(options, [](const Record&) { return Status::OK(); });
    ASSERT_TRUE(wal.ok()) << wal.status().ToString();
    auto first = (*wal)->Append(1, "head:", body, nullptr);
    ASSERT_TRUE(first.ok());
    auto second = (*wal)->Append(2, "", "tail only", nullptr);
    ASSERT_TRUE(second.ok());
    auto third = (*wal)->Append(3, "head only", "", nullptr);
    ASSERT_TRUE(third.ok());
    EXPECT_EQ(*second, Wal::EndOf(*first, 5 + body.size()));
    EXPECT_EQ(*third, Wal::EndOf(*second, 9));
  }
  // Replay checks each record's checksum: the pieces were checksummed as one payload.
  std::vector<Replayed> replayed = ReplayAll(options);
  ASSERT_EQ(replayed.size(), 3u);
  EXPECT_EQ(replayed[0].payload, "head:" + body);
  EXPECT_EQ(replayed[1].payload, "tail only");
  EXPECT_EQ(replayed[2].payload, "head only");
}

TEST(WalTest, OnDurableHasFinishedWhenAppendReturns) {
  TempDir tmp;
  auto wal = Wal::Open(Options(tmp.path()), [](const Record&) { return Status::OK(); });
  ASSERT_TRUE(wal.ok()) << wal.status().ToString();
  for (int i = 0; i < 3; ++i) {
    bool finished = false;
    auto lsn = (*wal)->Append(1, "x", [&](Lsn) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));  // an appender woken early would see false
      finished = true;
    });
    ASSERT_TRUE(lsn.ok()) << lsn.status().ToString();
    EXPECT_TRUE(finished);
  }
}

TEST(WalTest, ConcurrentAppendersEachRecordReplayedOnceInLsnOrder) {
  TempDir tmp;
  constexpr int kThreads = 8;
  constexpr int kPerThread = 500;
  WalOptions options = Options(tmp.path(), /*segment_bytes=*/256 << 10);  // rotates under load too
  std::map<Lsn, std::string> appended;  // lsn -> payload, from the appenders
  std::vector<Lsn> durable_order;       // on_durable runs one at a time: no lock needed
  {
    auto wal = Wal::Open(options, [](const Record&) { return Status::OK(); });
    ASSERT_TRUE(wal.ok()) << wal.status().ToString();
    std::mutex mu;
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kPerThread; ++i) {
          std::string payload = std::to_string(t) + ":" + std::to_string(i) + ":" + TestPayload(t * 1000 + i, i % 700);
          auto lsn = (*wal)->Append(static_cast<uint8_t>(t + 1), payload, [&](Lsn l) { durable_order.push_back(l); });
          ASSERT_TRUE(lsn.ok()) << lsn.status().ToString();
          std::lock_guard<std::mutex> lock(mu);
          EXPECT_TRUE(appended.emplace(*lsn, payload).second) << "LSN handed out twice: " << *lsn;
        }
      });
    }
    for (auto& th : threads) th.join();
  }
  ASSERT_EQ(appended.size(), size_t{kThreads * kPerThread});
  ASSERT_EQ(durable_order.size(), appended.size());
  for (size_t i = 1; i < durable_order.size(); ++i) ASSERT_LT(durable_order[i - 1], durable_order[i]) << i;
  EXPECT_GT(SegmentNames(tmp.path()).size(), 3u);

  std::vector<Replayed> replayed = ReplayAll(options);
  ASSERT_EQ(replayed.size(), appended.size());
  std::map<int, int> last_seq;  // per thread: its appends were sequential, so replay keeps their order
  Lsn expected_lsn = 0;
  for (const Replayed& r : replayed) {
    ASSERT_EQ(r.lsn, expected_lsn);
    ASSERT_EQ(r.payload, appended.at(r.lsn));
    int thread = r.type - 1;
    int seq = std::stoi(r.payload.substr(r.payload.find(':') + 1));
    auto [it, first] = last_seq.emplace(thread, seq);
    if (!first) {
      EXPECT_EQ(seq, it->second + 1);
      it->second = seq;
    }
    expected_lsn += kRecordHeaderBytes + r.payload.size();
  }
}

TEST(WalTest, GroupCommitSharesOneFsyncAmongConcurrentAppends) {
  TempDir tmp;
  constexpr int kThreads = 8;
  constexpr int kPerThread = 40;
  auto wal = Wal::Open(Options(tmp.path(), 64ull << 20, /*fsync=*/true), [](const Record&) { return Status::OK(); });
  ASSERT_TRUE(wal.ok()) << wal.status().ToString();
  uint64_t fsyncs_at_open = (*wal)->fsyncs();
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::string payload = TestPayload(t, 300);
      for (int i = 0; i < kPerThread; ++i) {
        // A slow callback keeps the writer busy, so the other appenders queue up behind it.
        auto lsn = (*wal)->Append(1, payload, [](Lsn) { std::this_thread::sleep_for(std::chrono::microseconds(200)); });
        ASSERT_TRUE(lsn.ok()) << lsn.status().ToString();
      }
    });
  }
  for (auto& th : threads) th.join();
  uint64_t appends = kThreads * kPerThread;
  uint64_t fsyncs = (*wal)->fsyncs() - fsyncs_at_open;
  EXPECT_GT(fsyncs, 0u);
  EXPECT_LE(fsyncs, appends / 2) << "group commit did not group: " << fsyncs << " fsyncs for " << appends << " appends";
}

TEST(WalTest, RotatesSegmentsAndReplaysAcrossThem) {
  TempDir tmp;
  // Header 20 + two records of 9 + 50 bytes = 138 > 100: every segment holds two records.
  WalOptions options = Options(tmp.path(), /*segment_bytes=*/100);
  std::vector<Lsn> lsns;
  {
    auto wal = Wal::Open(options, [](const Record&) { return Status::OK(); });
    ASSERT_TRUE(wal.ok()) << wal.status().ToString();
    for (int i = 0; i < 10; ++i) lsns.push_back(MustAppend(**wal, TestPayload(i, 50)));
    EXPECT_EQ((*wal)->SizeBytes(), 5 * kSegmentHeaderBytes + 10 * 59);
  }
  std::vector<std::string> expected_names;
  for (int i = 0; i < 10; i += 2) expected_names.push_back(SegmentFileName(lsns[i]));
  EXPECT_EQ(SegmentNames(tmp.path()), expected_names);
  EXPECT_EQ(expected_names[1], "00000000000000000118.wal");
  for (int i = 0; i < 10; i += 2) {
    EXPECT_EQ(std::filesystem::file_size(SegmentPath(tmp.path(), lsns[i])), kSegmentHeaderBytes + 2 * 59);
  }

  std::vector<Replayed> replayed;
  auto wal = OpenInto(options, &replayed);
  ASSERT_TRUE(wal.ok()) << wal.status().ToString();
  ASSERT_EQ(replayed.size(), 10u);
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(replayed[i].lsn, lsns[i]);
    EXPECT_EQ(replayed[i].payload, TestPayload(i, 50));
  }
  // The last segment is full, so the next record starts a new one named by its LSN.
  Lsn next = MustAppend(**wal, std::string(500, 'x'));  // larger than a segment: alone in one
  EXPECT_EQ(next, 10u * 59);
  Lsn after = MustAppend(**wal, "small");
  EXPECT_EQ(SegmentNames(tmp.path()).size(), 7u);
  EXPECT_TRUE(std::filesystem::exists(SegmentPath(tmp.path(), next)));
  EXPECT_TRUE(std::filesystem::exists(SegmentPath(tmp.path(), after)));
}

TEST(WalTest, TruncateBeforeDeletesOnlyCoveredSegmentsAndNeverTheActiveOne) {
  TempDir tmp;
  WalOptions options = Options(tmp.path(), /*segment_bytes=*/100, /*fsync=*/true);
  std::vector<Lsn> lsns;
  Lsn end = 0;
  {
    auto wal = Wal::Open(options, [](const Record&) { return Status::OK(); });
    ASSERT_TRUE(wal.ok()) << wal.status().ToString();
    for (int i = 0; i < 10; ++i) lsns.push_back(MustAppend(**wal, TestPayload(i, 50)));
    end = (*wal)->NextLsn();
    uint64_t segment_bytes = kSegmentHeaderBytes + 2 * 59;

    ASSERT_TRUE((*wal)->TruncateBefore(0).ok());
    EXPECT_EQ(SegmentNames(tmp.path()).size(), 5u);
    // Records 0 and 1 are covered, record 2 is not; the first segment ends exactly at record 2.
    ASSERT_TRUE((*wal)->TruncateBefore(lsns[3]).ok());
    EXPECT_EQ(SegmentNames(tmp.path()).front(), SegmentFileName(lsns[2]));
    EXPECT_EQ((*wal)->SizeBytes(), 4 * segment_bytes);
    ASSERT_TRUE((*wal)->TruncateBefore(lsns[4] - 1).ok());  // one byte short of the second segment's end
    EXPECT_EQ(SegmentNames(tmp.path()).size(), 4u);

    ASSERT_TRUE((*wal)->TruncateBefore(end).ok());
    EXPECT_EQ(SegmentNames(tmp.path()), std::vector<std::string>{SegmentFileName(lsns[8])});
    EXPECT_EQ((*wal)->SizeBytes(), segment_bytes);

    Status beyond = (*wal)->TruncateBefore(end + 1);
    EXPECT_EQ(beyond.code(), StatusCode::kInvalidArgument) << beyond.ToString();
  }
  std::vector<Replayed> replayed;
  auto wal = OpenInto(options, &replayed);
  ASSERT_TRUE(wal.ok()) << wal.status().ToString();
  ASSERT_EQ(replayed.size(), 2u);
  EXPECT_EQ(replayed[0].lsn, lsns[8]);
  EXPECT_EQ(replayed[1].lsn, lsns[9]);
  EXPECT_EQ((*wal)->NextLsn(), end);
  Lsn next = MustAppend(**wal, "after truncation");
  EXPECT_EQ(next, end);  // the active segment's name carried the LSN forward

  // Everything truncated again, reopened again: still no LSN goes back.
  ASSERT_TRUE((*wal)->TruncateBefore((*wal)->NextLsn()).ok());
  wal->reset();  // closed before it is opened again
  replayed.clear();
  wal = OpenInto(options, &replayed);
  ASSERT_TRUE(wal.ok()) << wal.status().ToString();
  ASSERT_FALSE(replayed.empty());
  EXPECT_EQ(replayed.back().lsn, next);
  EXPECT_GT(MustAppend(**wal, "later"), next);
}

TEST(WalTest, TruncateWhileAppendingKeepsTheLogContiguous) {
  TempDir tmp;
  WalOptions options = Options(tmp.path(), /*segment_bytes=*/2048);
  Lsn last = 0;
  {
    auto wal = Wal::Open(options, [](const Record&) { return Status::OK(); });
    ASSERT_TRUE(wal.ok()) << wal.status().ToString();
    std::atomic<bool> appending{true};
    std::thread truncator([&] {
      while (appending.load()) {
        Status s = (*wal)->TruncateBefore((*wal)->NextLsn());
        ASSERT_TRUE(s.ok()) << s.ToString();
        EXPECT_GE((*wal)->SizeBytes(), kSegmentHeaderBytes);
      }
    });
    std::vector<std::thread> appenders;
    for (int t = 0; t < 4; ++t) {
      appenders.emplace_back([&, t] {
        for (int i = 0; i < 300; ++i) MustAppend(**wal, TestPayload(t + i, 100 + i));
      });
    }
    for (auto& th : appenders) th.join();
    appending = false;
    truncator.join();
    last = MustAppend(**wal, "last");
  }
  std::vector<Replayed> replayed = ReplayAll(options);
  ASSERT_FALSE(replayed.empty());
  for (size_t i = 1; i < replayed.size(); ++i) {
    EXPECT_EQ(replayed[i].lsn, replayed[i - 1].lsn + kRecordHeaderBytes + replayed[i - 1].payload.size());
  }
  EXPECT_EQ(replayed.back().lsn, last);
  EXPECT_EQ(replayed.back().payload, "last");
}

TEST(WalTest, RefusesOversizedPayloadAndTypeZeroWithoutFailingTheLog) {
  TempDir tmp;
  WalOptions options = Options(tmp.path());
  {
    auto wal = Wal::Open(options, [](const Record&) { return Status::OK(); });
    ASSERT_TRUE(wal.ok()) << wal.status().ToString();
    std::string too_large(kMaxPayloadBytes + 1, 'x');
    auto refused = (*wal)->Append(1, too_large, nullptr);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(refused.status().message().find("64 MiB"), std::string::npos) << refused.status().ToString();
    auto type_zero = (*wal)->Append(0, "x", nullptr);
    EXPECT_EQ(type_zero.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ((*wal)->NextLsn(), 0u);

    too_large.pop_back();  // exactly the limit is allowed
    EXPECT_EQ(MustAppend(**wal, too_large, 255), 0u);
    EXPECT_EQ(MustAppend(**wal, "small"), kRecordHeaderBytes + kMaxPayloadBytes);
  }
  std::vector<Replayed> replayed = ReplayAll(options);
  ASSERT_EQ(replayed.size(), 2u);
  EXPECT_EQ(replayed[0].type, 255);
  EXPECT_EQ(replayed[0].payload.size(), kMaxPayloadBytes);
  EXPECT_EQ(replayed[1].payload, "small");
}

TEST(WalTest, SecondOpenOfTheSameDirectoryIsRefused) {
  TempDir tmp;
  auto ignore = [](const Record&) { return Status::OK(); };
  {
    auto first = Wal::Open(Options(tmp.path()), ignore);
    ASSERT_TRUE(first.ok()) << first.status().ToString();
    auto second = Wal::Open(Options(tmp.path()), ignore);
    ASSERT_FALSE(second.ok());
    EXPECT_EQ(second.status().code(), StatusCode::kFailedPrecondition);
    EXPECT_NE(second.status().message().find(tmp.path()), std::string::npos) << second.status().ToString();
  }
  auto again = Wal::Open(Options(tmp.path()), ignore);
  EXPECT_TRUE(again.ok()) << again.status().ToString();
}

// Holds the process's file size limit low (writes past it fail with EFBIG instead of a
// signal) for one scope.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    old_handler_ = std::signal(SIGXFSZ, SIG_IGN);
    ::getrlimit(RLIMIT_FSIZE, &old_);
    rlimit lowered = old_;
    lowered.rlim_cur = bytes;
    ::setrlimit(RLIMIT_FSIZE, &lowered);
  }
  ~FileSizeLimit() {
    ::setrlimit(RLIMIT_FSIZE, &old_);
    std::signal(SIGXFSZ, old_handler_);
  }

 private:
  rlimit old_{};
  void (*old_handler_)(int) = nullptr;
};

TEST(WalTest, FailedWriteFailsThatAndEveryLaterAppend) {
  TempDir tmp;
  WalOptions options = Options(tmp.path(), 64ull << 20, /*fsync=*/true);
  Lsn kept = 0;
  {
    auto wal = Wal::Open(options, [](const Record&) { return Status::OK(); });
    ASSERT_TRUE(wal.ok()) << wal.status().ToString();
    kept = MustAppend(**wal, "kept");
    FileSizeLimit limit(4096);
    bool called = false;
    auto failed = (*wal)->Append(1, TestPayload(1, 10000), [&](Lsn) { called = true; });
    ASSERT_FALSE(failed.ok());
    EXPECT_FALSE(called);
    EXPECT_EQ(failed.status().code(), StatusCode::kIOError);
    EXPECT_NE(failed.status().message().find(SegmentPath(tmp.path(), 0)), std::string::npos)
        << failed.status().ToString();
    auto later = (*wal)->Append(1, "small", nullptr);  // would fit, but the log is failed
    ASSERT_FALSE(later.ok());
    EXPECT_NE(later.status().message().find("failed earlier"), std::string::npos) << later.status().ToString();
  }
  // The partial write was cut back, so nothing unacknowledged is replayed.
  std::vector<Replayed> replayed;
  auto wal = OpenInto(options, &replayed);
  ASSERT_TRUE(wal.ok()) << wal.status().ToString();
  EXPECT_EQ((*wal)->tail_cut_bytes(), 0u);
  ASSERT_EQ(replayed.size(), 1u);
  EXPECT_EQ(replayed[0].lsn, kept);
  EXPECT_EQ(replayed[0].payload, "kept");
  EXPECT_TRUE((*wal)->Append(1, "works again", nullptr).ok());
}

}  // namespace
}  // namespace pqflow::wal
