#include "sink/publish_journal.h"

#include <gtest/gtest.h>

#include "sink/manifest.h"
#include "temp_dir.h"

namespace pqflow::sink {
namespace {

class PublishJournalTest : public ::testing::Test {
 protected:
  void SetUp() override { storage_ = storage::MakeLocalStorage(tmp_.path()); }
  void Put(const std::string& path) { ASSERT_TRUE(storage_->WriteFileAtomic(path, "PAR1").ok()); }
  bool Exists(const std::string& path) { return storage_->Stat(path).ok(); }
  void PutManifest(const std::string& path, const std::vector<std::string>& files) {
    Manifest m;
    m.dataset = "pv";
    for (const auto& f : files) m.files.push_back({f, 1, 4, "", std::nullopt});
    ASSERT_TRUE(storage_->WriteFileAtomic(path, m.ToJson()).ok());
  }

  pqflow::testing::TempDir tmp_;
  std::unique_ptr<storage::Storage> storage_;
};

TEST_F(PublishJournalTest, WithoutAJournalRecoveryFindsNoInterruptedRun) {
  auto r = RecoverInterruptedPublish(*storage_, "pv");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_FALSE(r->found);
  EXPECT_EQ(r->files_deleted, 0u);
}

TEST_F(PublishJournalTest, DeletesWhatNoManifestListsPerPartition) {
  // Partition a: the manifest still names the old file (the run stopped before switching it).
  Put("d/a/old.parquet");
  Put("d/a/new.parquet");
  PutManifest("d/a/_old.manifest.json", {"d/a/old.parquet"});
  // Partition b: switched to the new file; the old one was not deleted yet.
  Put("d/b/old.parquet");
  Put("d/b/new.parquet");
  PutManifest("d/b/_old.manifest.json", {"d/b/new.parquet"});
  // Partition c: new, no manifest yet; one of its two files was moved.
  Put("d/c/new.parquet");
  ASSERT_TRUE(WriteJournal(*storage_, "pv", "run-1",
                           {{"d/a/_old.manifest.json", {"d/a/new.parquet", "d/a/old.parquet"}},
                            {"d/b/_old.manifest.json", {"d/b/new.parquet", "d/b/old.parquet"}},
                            {"d/c/_new.manifest.json", {"d/c/new.parquet", "d/c/new-0001.parquet"}}})
                  .ok());
  auto r = RecoverInterruptedPublish(*storage_, "pv");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(r->found);
  EXPECT_EQ(r->run_id, "run-1");
  EXPECT_EQ(r->files_deleted, 3u);
  EXPECT_TRUE(Exists("d/a/old.parquet"));
  EXPECT_FALSE(Exists("d/a/new.parquet"));
  EXPECT_TRUE(Exists("d/b/new.parquet"));
  EXPECT_FALSE(Exists("d/b/old.parquet"));
  EXPECT_FALSE(Exists("d/c/new.parquet"));
  EXPECT_FALSE(Exists(JournalPath("pv")));
  // Done once: a second recovery finds nothing.
  auto again = RecoverInterruptedPublish(*storage_, "pv");
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->found);
}

TEST_F(PublishJournalTest, AJournalThatDoesNotParseDeletesNothing) {
  Put("d/a/new.parquet");
  ASSERT_TRUE(storage_->WriteFileAtomic(JournalPath("pv"), "{\"partitions\": [{\"manifest\": 3}]}").ok());
  auto r = RecoverInterruptedPublish(*storage_, "pv");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("is not a pqflow publish journal"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("move it away"), std::string::npos);
  EXPECT_TRUE(Exists("d/a/new.parquet"));
  EXPECT_TRUE(Exists(JournalPath("pv")));
}

}  // namespace
}  // namespace pqflow::sink
