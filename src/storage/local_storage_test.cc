#include <gtest/gtest.h>

#include "temp_dir.h"
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "storage/storage.h"

namespace pqflow::storage {
namespace {

namespace fs = std::filesystem;

class LocalStorageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = tmp_.path();
    storage_ = MakeLocalStorage(root_);
    ASSERT_NE(storage_, nullptr);
  }

  static std::string Slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  static void WriteLocal(const std::string& path, const std::string& data) {
    std::ofstream out(path, std::ios::binary);
    out << data;
  }

  std::vector<std::string> ListPaths(const std::string& prefix) {
    auto files = storage_->List(prefix);
    EXPECT_TRUE(files.ok()) << files.status().message();
    std::vector<std::string> out;
    if (files.ok()) {
      for (const auto& f : *files) out.push_back(f.path);
    }
    return out;
  }

  pqflow::testing::TempDir tmp_;
  std::string root_;
  std::unique_ptr<Storage> storage_;
};

TEST_F(LocalStorageTest, DescribeAndPaths) {
  EXPECT_EQ(storage_->Describe(), root_);
  EXPECT_EQ(storage_->DisplayPath("a/b.parquet"), root_ + "/a/b.parquet");
  EXPECT_EQ(storage_->ReadableRoot(), root_);
  // Readers open the files themselves: nothing is fetched.
  auto readable = storage_->OpenForReading({FileInfo{"a/b.parquet", 10, 0, ""}});
  ASSERT_TRUE(readable.ok());
  EXPECT_EQ(readable->local_paths, std::vector<std::string>{root_ + "/a/b.parquet"});
  EXPECT_EQ(readable->bytes_fetched, 0u);
}

TEST_F(LocalStorageTest, WriteFileAtomicThenReadAndStat) {
  const std::string data = std::string("hello\0world\n", 12) + std::string(100000, 'x');
  ASSERT_TRUE(storage_->WriteFileAtomic("a/b/c.json", data).ok());
  EXPECT_EQ(Slurp(root_ + "/a/b/c.json"), data);

  auto read = storage_->ReadFile("a/b/c.json");
  ASSERT_TRUE(read.ok()) << read.status().message();
  EXPECT_EQ(*read, data);

  auto st = storage_->Stat("a/b/c.json");
  ASSERT_TRUE(st.ok()) << st.status().message();
  EXPECT_EQ(st->path, "a/b/c.json");
  EXPECT_EQ(st->size, static_cast<int64_t>(data.size()));
  struct stat raw {};
  ASSERT_EQ(::stat((root_ + "/a/b/c.json").c_str(), &raw), 0);
  EXPECT_EQ(st->mtime_ns, static_cast<int64_t>(raw.st_mtim.tv_sec) * 1000000000 + raw.st_mtim.tv_nsec);
  EXPECT_GT(st->mtime_ns, 0);

  // Overwrite replaces the whole content and leaves no temporary file behind.
  ASSERT_TRUE(storage_->WriteFileAtomic("a/b/c.json", "short").ok());
  EXPECT_EQ(storage_->ReadFile("a/b/c.json").value(), "short");
  EXPECT_EQ(storage_->Stat("a/b/c.json")->size, 5);
  EXPECT_EQ(ListPaths("a"), std::vector<std::string>{"a/b/c.json"});

  ASSERT_TRUE(storage_->WriteFileAtomic("empty", "").ok());
  EXPECT_EQ(storage_->ReadFile("empty").value(), "");
  EXPECT_EQ(storage_->Stat("empty")->size, 0);
}

TEST_F(LocalStorageTest, HoldsNothingUnderOnlyADirectoryThatDoesNotExist) {
  ASSERT_TRUE(storage_->WriteFileAtomic("a/b/x.txt", "x").ok());
  EXPECT_FALSE(storage_->HoldsNothingUnder(""));
  EXPECT_FALSE(storage_->HoldsNothingUnder("a"));
  EXPECT_FALSE(storage_->HoldsNothingUnder("a/b"));
  EXPECT_TRUE(storage_->HoldsNothingUnder("a/c"));
  EXPECT_TRUE(storage_->HoldsNothingUnder("z"));
}

TEST_F(LocalStorageTest, MissingFiles) {
  auto read = storage_->ReadFile("no/such/file.json");
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), StatusCode::kNotFound);
  EXPECT_NE(read.status().message().find("no/such/file.json"), std::string::npos) << read.status().message();

  auto st = storage_->Stat("no/such/file.json");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.status().code(), StatusCode::kNotFound);

  EXPECT_TRUE(storage_->Delete("no/such/file.json").ok());
  auto listed = storage_->List("no/such");
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->empty());
}

TEST_F(LocalStorageTest, Delete) {
  ASSERT_TRUE(storage_->WriteFileAtomic("d/x.parquet", "1").ok());
  ASSERT_TRUE(storage_->WriteFileAtomic("d/y.parquet", "2").ok());
  ASSERT_TRUE(storage_->Delete("d/x.parquet").ok());
  EXPECT_FALSE(fs::exists(root_ + "/d/x.parquet"));
  EXPECT_EQ(storage_->Stat("d/x.parquet").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(storage_->ReadFile("d/y.parquet").value(), "2");
  EXPECT_TRUE(storage_->Delete("d/x.parquet").ok());  // already gone
  EXPECT_EQ(ListPaths("d"), std::vector<std::string>{"d/y.parquet"});
}

TEST_F(LocalStorageTest, ListReportsSizeAndModificationTime) {
  ASSERT_TRUE(storage_->WriteFileAtomic("m/x.json", "12345").ok());
  auto files = storage_->List("m");
  ASSERT_TRUE(files.ok());
  ASSERT_EQ(files->size(), 1u);
  auto st = storage_->Stat("m/x.json");
  ASSERT_TRUE(st.ok());
  EXPECT_EQ((*files)[0].size, 5);
  EXPECT_GT((*files)[0].mtime_ns, 0);
  EXPECT_EQ((*files)[0].mtime_ns, st->mtime_ns);
}

TEST_F(LocalStorageTest, ListIsSortedRecursiveAndSkipsPqflowDir) {
  for (const char* p : {"ds/2025/10/28/b.parquet", "ds/2025/10/28/a.parquet", "ds/2025/09/30/z.parquet",
                        "ds/_a.manifest.json", "ds/x", "other/o.parquet", "top.parquet"}) {
    ASSERT_TRUE(storage_->WriteFileAtomic(p, p).ok()) << p;
  }
  // Staging and locks live under .pqflow, which a listing never shows.
  auto staging = storage_->MakeStagingDir("run1");
  ASSERT_TRUE(staging.ok());
  WriteLocal(*staging + "/s.parquet.tmp", "staged");
  auto lock = storage_->LockDataset("ds");
  ASSERT_TRUE(lock.ok()) << lock.status().message();
  fs::create_directories(root_ + "/ds/.pqflow");
  WriteLocal(root_ + "/ds/.pqflow/hidden.parquet", "h");
  fs::create_directories(root_ + "/ds/empty_dir");

  EXPECT_EQ(ListPaths("ds"), (std::vector<std::string>{"ds/2025/09/30/z.parquet", "ds/2025/10/28/a.parquet",
                                                       "ds/2025/10/28/b.parquet", "ds/_a.manifest.json", "ds/x"}));
  EXPECT_EQ(ListPaths("ds/2025/10"), (std::vector<std::string>{"ds/2025/10/28/a.parquet", "ds/2025/10/28/b.parquet"}));
  EXPECT_EQ(ListPaths(""), (std::vector<std::string>{"ds/2025/09/30/z.parquet", "ds/2025/10/28/a.parquet",
                                                     "ds/2025/10/28/b.parquet", "ds/_a.manifest.json", "ds/x",
                                                     "other/o.parquet", "top.parquet"}));
  auto files = storage_->List("ds/2025/10");
  ASSERT_TRUE(files.ok());
  ASSERT_EQ(files->size(), 2u);
  EXPECT_EQ((*files)[0].size, static_cast<int64_t>(std::string("ds/2025/10/28/a.parquet").size()));
  EXPECT_EQ((*files)[1].size, static_cast<int64_t>(std::string("ds/2025/10/28/b.parquet").size()));
}

TEST_F(LocalStorageTest, ListWhereWalksOnlyTheDirectoriesTheFilterKeeps) {
  for (const char* p : {"ds/2025/10/a.parquet", "ds/2025/b.parquet", "ds/project/docs/2025/c.parquet", "ds/top.parquet"}) {
    ASSERT_TRUE(storage_->WriteFileAtomic(p, p).ok()) << p;
  }
  std::vector<std::string> asked;
  auto files = storage_->ListWhere("ds", [&](std::string_view dir) {
    asked.emplace_back(dir);
    return dir != "ds/project";
  });
  ASSERT_TRUE(files.ok()) << files.status().message();
  std::vector<std::string> paths;
  for (const auto& f : *files) paths.push_back(f.path);
  EXPECT_EQ(paths, (std::vector<std::string>{"ds/2025/10/a.parquet", "ds/2025/b.parquet", "ds/top.parquet"}));
  std::sort(asked.begin(), asked.end());
  // Asked about each directory below the prefix, and never about what lies under a refused one.
  EXPECT_EQ(asked, (std::vector<std::string>{"ds/2025", "ds/2025/10", "ds/project"}));
}

TEST_F(LocalStorageTest, StagingDirIsUnderPqflowAndStartsEmpty) {
  auto dir = storage_->MakeStagingDir("export-1");
  ASSERT_TRUE(dir.ok()) << dir.status().message();
  EXPECT_EQ(*dir, root_ + "/.pqflow/staging/export-1");
  EXPECT_TRUE(fs::is_directory(*dir));
  WriteLocal(*dir + "/leftover.parquet.tmp", "old");

  auto again = storage_->MakeStagingDir("export-1");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *dir);
  EXPECT_TRUE(fs::is_empty(*again)) << "a staging directory is created empty";

  WriteLocal(*again + "/f.tmp", "x");
  ASSERT_TRUE(storage_->RemoveStagingDir(*again).ok());
  EXPECT_FALSE(fs::exists(*again));
  EXPECT_TRUE(storage_->RemoveStagingDir(*again).ok());  // already gone
}

TEST_F(LocalStorageTest, PublishMovesStagedFileIntoPlace) {
  auto staging = storage_->MakeStagingDir("run");
  ASSERT_TRUE(staging.ok());
  const std::string staged = *staging + "/data_0.parquet.tmp";
  WriteLocal(staged, "PAR1 first");
  ASSERT_TRUE(storage_->SyncStaged({staged}).ok());
  ASSERT_TRUE(storage_->Publish(staged, "analytics/pageviews/2026/01/15/pageviews_2026-01-15.parquet").ok());
  EXPECT_FALSE(fs::exists(staged));
  EXPECT_EQ(storage_->ReadFile("analytics/pageviews/2026/01/15/pageviews_2026-01-15.parquet").value(), "PAR1 first");
  EXPECT_TRUE(storage_->SyncPublished().ok());

  // Publishing again replaces the existing file.
  const std::string staged2 = *staging + "/data_1.parquet.tmp";
  WriteLocal(staged2, "PAR1 second, longer");
  ASSERT_TRUE(storage_->SyncStaged({staged2}).ok());
  ASSERT_TRUE(storage_->Publish(staged2, "analytics/pageviews/2026/01/15/pageviews_2026-01-15.parquet").ok());
  EXPECT_EQ(storage_->ReadFile("analytics/pageviews/2026/01/15/pageviews_2026-01-15.parquet").value(),
            "PAR1 second, longer");
  EXPECT_TRUE(storage_->SyncPublished().ok());
  EXPECT_EQ(ListPaths("analytics"),
            std::vector<std::string>{"analytics/pageviews/2026/01/15/pageviews_2026-01-15.parquet"});

  // Publishing a staged file that does not exist fails and names the destination.
  Status missing = storage_->Publish(*staging + "/nope.tmp", "x/y.parquet");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.message().find("x/y.parquet"), std::string::npos) << missing.message();
  EXPECT_EQ(storage_->Stat("x/y.parquet").status().code(), StatusCode::kNotFound);
}

TEST_F(LocalStorageTest, PublishAllMovesAFileAloneInItsFolderWithTheFolderAndItsCompanion) {
  auto staging = storage_->MakeStagingDir("run");
  ASSERT_TRUE(staging.ok());
  auto stage = [&](const std::string& folder, const std::string& data) {
    fs::create_directories(*staging + "/" + folder);
    WriteLocal(*staging + "/" + folder + "/data_0.parquet.tmp", data);
    return *staging + "/" + folder + "/data_0.parquet.tmp";
  };
  // A partition folder that exists but that this storage has not seen (an earlier run's),
  // and one it published itself.
  fs::create_directories(root_ + "/ds/b/2026-01-02");
  WriteLocal(root_ + "/ds/b/2026-01-02/old.parquet", "old");
  WriteLocal(*staging + "/c.tmp", "c old");
  ASSERT_TRUE(storage_->Publish(*staging + "/c.tmp", "ds/c/2026-01-03/old.parquet").ok());

  std::vector<StagedMove> moves = {{.local_path = stage("p=1", "a"), .dest = "ds/a/2026-01-01/pv.parquet", .own_folder = true},
                                   {.local_path = stage("p=2", "b"), .dest = "ds/b/2026-01-02/pv.parquet", .own_folder = true},
                                   {.local_path = stage("p=3", "c"), .dest = "ds/c/2026-01-03/pv.parquet", .own_folder = true},
                                   {.local_path = stage("p=4", "d"), .dest = "ds/d/2026-01-04/pv.parquet", .own_folder = true}};
  // Manifests beside the files of p=1 (whose folder moves) and p=2 (whose folder cannot).
  for (auto* m : {&moves[0], &moves[1]}) {
    m->companion_local_path = fs::path(m->local_path).parent_path() / "_pv.manifest.json";
    m->companion_dest = fs::path(m->dest).parent_path() / "_pv.manifest.json";
    WriteLocal(m->companion_local_path, "manifest of " + m->dest);
  }
  ASSERT_TRUE(storage_->SyncStaged({moves[0].local_path, moves[1].local_path, moves[2].local_path}).ok());
  Status s = storage_->PublishAll(moves);
  ASSERT_TRUE(s.ok()) << s.message();
  ASSERT_TRUE(storage_->SyncPublished().ok());
  EXPECT_EQ(ListPaths("ds"),
            (std::vector<std::string>{"ds/a/2026-01-01/_pv.manifest.json", "ds/a/2026-01-01/pv.parquet",
                                      "ds/b/2026-01-02/_pv.manifest.json", "ds/b/2026-01-02/old.parquet",
                                      "ds/b/2026-01-02/pv.parquet", "ds/c/2026-01-03/old.parquet",
                                      "ds/c/2026-01-03/pv.parquet", "ds/d/2026-01-04/pv.parquet"}));
  EXPECT_EQ(storage_->ReadFile("ds/a/2026-01-01/pv.parquet").value(), "a");
  EXPECT_EQ(storage_->ReadFile("ds/a/2026-01-01/_pv.manifest.json").value(), "manifest of ds/a/2026-01-01/pv.parquet");
  EXPECT_EQ(storage_->ReadFile("ds/b/2026-01-02/pv.parquet").value(), "b");
  EXPECT_EQ(storage_->ReadFile("ds/b/2026-01-02/_pv.manifest.json").value(), "manifest of ds/b/2026-01-02/pv.parquet");
  EXPECT_EQ(storage_->ReadFile("ds/c/2026-01-03/pv.parquet").value(), "c");
  EXPECT_EQ(storage_->ReadFile("ds/d/2026-01-04/pv.parquet").value(), "d");
  // The new partitions' staging folders became their folders; the others stay behind, empty.
  EXPECT_FALSE(fs::exists(*staging + "/p=1"));
  EXPECT_TRUE(fs::is_empty(*staging + "/p=2"));
  EXPECT_TRUE(fs::is_empty(*staging + "/p=3"));
  EXPECT_FALSE(fs::exists(*staging + "/p=4"));
}

TEST_F(LocalStorageTest, PublishRecreatesAParentRemovedSinceTheLastPublish) {
  auto staging = storage_->MakeStagingDir("run");
  ASSERT_TRUE(staging.ok());
  WriteLocal(*staging + "/a.tmp", "a");
  ASSERT_TRUE(storage_->Publish(*staging + "/a.tmp", "ds/2025/10/28/a.parquet").ok());
  std::error_code ec;
  fs::remove_all(root_ + "/ds", ec);  // e.g. a user or a retention job removed the partition
  WriteLocal(*staging + "/b.tmp", "b");
  Status s = storage_->Publish(*staging + "/b.tmp", "ds/2025/10/28/b.parquet");
  EXPECT_TRUE(s.ok()) << s.message();
  auto b = storage_->ReadFile("ds/2025/10/28/b.parquet");
  ASSERT_TRUE(b.ok()) << b.status().message();
  EXPECT_EQ(*b, "b");
}

TEST_F(LocalStorageTest, WriteFilesAtomicWritesEveryFile) {
  ASSERT_TRUE(storage_->WriteFilesAtomic({{"m/1/_a.manifest.json", "{\"a\":1}"},
                                          {"m/2/_b.manifest.json", "{\"b\":2}"},
                                          {"m/_c.manifest.json", ""}})
                  .ok());
  EXPECT_EQ(storage_->ReadFile("m/1/_a.manifest.json").value(), "{\"a\":1}");
  EXPECT_EQ(storage_->ReadFile("m/2/_b.manifest.json").value(), "{\"b\":2}");
  EXPECT_EQ(storage_->ReadFile("m/_c.manifest.json").value(), "");
  EXPECT_EQ(ListPaths("m"), (std::vector<std::string>{"m/1/_a.manifest.json", "m/2/_b.manifest.json",
                                                      "m/_c.manifest.json"}));
  EXPECT_TRUE(storage_->WriteFilesAtomic({}).ok());

  // Replacing existing files.
  ASSERT_TRUE(storage_->WriteFilesAtomic({{"m/1/_a.manifest.json", "new"}}).ok());
  EXPECT_EQ(storage_->ReadFile("m/1/_a.manifest.json").value(), "new");
}

TEST_F(LocalStorageTest, WriteFilesAtomicFailureLeavesNoTemporaryFiles) {
  ASSERT_TRUE(storage_->WriteFileAtomic("blocker", "a file where a directory should be").ok());
  Status s = storage_->WriteFilesAtomic({{"ok/_first.manifest.json", "1"}, {"blocker/_x.manifest.json", "2"}});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kIOError);
  EXPECT_NE(s.message().find("blocker"), std::string::npos) << s.message();
  // Nothing of the batch became visible, and no temporary file was left behind.
  EXPECT_EQ(storage_->Stat("ok/_first.manifest.json").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(ListPaths(""), std::vector<std::string>{"blocker"});
}

TEST_F(LocalStorageTest, SyncManyFiles) {
  auto staging = storage_->MakeStagingDir("many");
  ASSERT_TRUE(staging.ok());
  std::vector<std::string> staged;
  for (int i = 0; i < 70; ++i) {  // more than the per-file fsync threshold
    staged.push_back(*staging + "/f" + std::to_string(i) + ".tmp");
    WriteLocal(staged.back(), std::to_string(i));
  }
  ASSERT_TRUE(storage_->SyncStaged(staged).ok());
  for (int i = 0; i < 70; ++i) {
    ASSERT_TRUE(storage_->Publish(staged[i], "p/" + std::to_string(i) + "/f.parquet").ok());
  }
  EXPECT_TRUE(storage_->SyncPublished().ok());
  EXPECT_TRUE(storage_->SyncPublished().ok());  // nothing pending
  EXPECT_EQ(ListPaths("p").size(), 70u);
  EXPECT_EQ(storage_->ReadFile("p/42/f.parquet").value(), "42");
  EXPECT_TRUE(storage_->SyncStaged({}).ok());
}

TEST_F(LocalStorageTest, SyncStagedOfAMissingFileFails) {
  Status s = storage_->SyncStaged({root_ + "/.pqflow/staging/none/x.tmp"});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kIOError);
}

TEST_F(LocalStorageTest, LockDatasetIsExclusive) {
  auto first = storage_->LockDataset("pageviews");
  ASSERT_TRUE(first.ok()) << first.status().message();
  ASSERT_NE(*first, nullptr);

  auto second = storage_->LockDataset("pageviews");
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(second.status().message().find("pageviews"), std::string::npos) << second.status().message();

  // Another dataset is independent, also through a second storage object on the same root.
  auto other = MakeLocalStorage(root_)->LockDataset("query_perf");
  EXPECT_TRUE(other.ok()) << other.status().message();
  auto via_other = MakeLocalStorage(root_)->LockDataset("pageviews");
  EXPECT_FALSE(via_other.ok());

  first->reset();  // release
  auto third = storage_->LockDataset("pageviews");
  ASSERT_TRUE(third.ok()) << third.status().message();
  auto fourth = storage_->LockDataset("pageviews");
  EXPECT_FALSE(fourth.ok());
}

}  // namespace
}  // namespace pqflow::storage
