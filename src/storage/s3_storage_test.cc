// S3Storage against a real s3rver behind the SigV4-verifying proxy (tests/support/s3_server.h).
#include "storage/s3_storage.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "s3_server.h"
#include "temp_dir.h"

namespace pqflow::storage {
namespace {

namespace fs = std::filesystem;
using pqflow::testing::S3Server;

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

class S3StorageTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = S3Server::Start().release(); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  std::unique_ptr<Storage> Make(const std::string& prefix, uint64_t cache_bytes = 1 << 20) {
    S3StorageOptions o;
    o.client.endpoint = server_->endpoint();
    o.client.region = server_->options().region;
    o.client.bucket = server_->options().bucket;
    o.client.credentials = {server_->options().access_key_id, server_->options().secret_access_key, ""};
    o.client.part_size = 5 << 20;
    o.prefix = prefix;
    o.local_dir = tmp_ / "local";
    o.cache_bytes = cache_bytes;
    auto s = MakeS3Storage(std::move(o));
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return std::move(s).value();
  }

  std::string Stage(Storage& st, const std::string& name, const std::string& content) {
    auto dir = st.MakeStagingDir("t");
    EXPECT_TRUE(dir.ok());
    const std::string path = *dir + "/" + name;
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }

  static S3Server* server_;
  pqflow::testing::TempDir tmp_;
};
S3Server* S3StorageTest::server_ = nullptr;

TEST_F(S3StorageTest, PublishesListsReadsAndDeletesUnderItsPrefix) {
  auto st = Make("lake/v1");
  EXPECT_EQ(st->Describe(), "s3://" + server_->options().bucket + "/lake/v1");
  const std::string staged = Stage(*st, "a.parquet.tmp", "hello parquet");
  ASSERT_TRUE(st->Publish(staged, "pv/2026/01/a.parquet").ok());
  EXPECT_FALSE(fs::exists(staged));  // moved, as a local rename would
  ASSERT_TRUE(st->WriteFilesAtomic({{"pv/2026/01/_a.manifest.json", "{}"}, {".pqflow/runs/r/report.json", "{}"}}).ok());

  auto listed = st->List("pv");
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].path, "pv/2026/01/_a.manifest.json");
  EXPECT_EQ((*listed)[1].path, "pv/2026/01/a.parquet");
  EXPECT_EQ((*listed)[1].size, 13);
  EXPECT_FALSE((*listed)[1].etag.empty());
  // The whole root, without pqflow's own run reports; a sibling prefix is not included.
  auto other = Make("lake/v1-other");
  ASSERT_TRUE(other->WriteFileAtomic("x.parquet", "x").ok());
  auto all = st->List("");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 2u);

  auto text = st->ReadFile("pv/2026/01/a.parquet");
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text, "hello parquet");
  auto info = st->Stat("pv/2026/01/a.parquet");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->size, 13);
  EXPECT_EQ(info->etag, (*listed)[1].etag);
  EXPECT_EQ(st->Stat("pv/none.parquet").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(st->ReadFile("pv/none.parquet").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(st->DisplayPath("pv/2026/01/a.parquet"),
            "s3://" + server_->options().bucket + "/lake/v1/pv/2026/01/a.parquet");

  ASSERT_TRUE(st->Delete("pv/2026/01/a.parquet").ok());
  ASSERT_TRUE(st->Delete("pv/2026/01/a.parquet").ok());  // absent is fine
  EXPECT_EQ(st->List("pv")->size(), 1u);
}

// A layout's folder holding a split's tree: listed in key order, skipping each refused folder
// with one request whatever it holds.
TEST_F(S3StorageTest, ListWhereSkipsRefusedFoldersInFewRequests) {
  auto st = Make("lw");
  std::vector<std::pair<std::string, std::string>> files = {
      {"pv/_root.manifest.json", "{}"},       {"pv/2025/12/a.parquet", "a"}, {"pv/2026/01/b.parquet", "b"},
      {"pv/2026/01/_b.manifest.json", "{}"}, {"pv/2026/02/c.parquet", "c"}};
  for (int i = 0; i < 30; ++i) files.emplace_back("pv/project/p" + std::to_string(i) + "/2026/01/x.parquet", "x");
  files.emplace_back("pv/.pqflow/staging/y.parquet", "y");
  ASSERT_TRUE(st->WriteFilesAtomic(files).ok());
  std::vector<std::string> asked;
  const int before = server_->Stats().requests;
  auto listed = st->ListWhere("pv", [&](std::string_view dir) {
    asked.emplace_back(dir);
    return dir != "pv/project";
  });
  const int requests = server_->Stats().requests - before;
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  std::vector<std::string> paths;
  for (const auto& f : *listed) paths.push_back(f.path);
  EXPECT_EQ(paths, (std::vector<std::string>{"pv/2025/12/a.parquet", "pv/2026/01/_b.manifest.json",
                                             "pv/2026/01/b.parquet", "pv/2026/02/c.parquet",
                                             "pv/_root.manifest.json"}));
  EXPECT_EQ(asked, (std::vector<std::string>{"pv/2025", "pv/2025/12", "pv/2026", "pv/2026/01", "pv/2026/02",
                                              "pv/project"}));
  EXPECT_EQ(requests, 3);  // from the start; after pv/.pqflow/; after pv/project/
  // Without a filter, or one that refuses nothing: everything but pqflow's own folder.
  EXPECT_EQ(st->ListWhere("pv", {})->size(), 35u);
  EXPECT_EQ(st->ListWhere("pv", [](std::string_view) { return true; })->size(), 35u);
}

TEST_F(S3StorageTest, ReadersGetCachedCopiesFetchedOnlyWhenChanged) {
  auto st = Make("cache-test");
  ASSERT_TRUE(st->WriteFileAtomic("d/year=2026/f.parquet", std::string(1000, 'a')).ok());
  auto listed = st->List("d");
  ASSERT_TRUE(listed.ok());
  auto first = st->OpenForReading(*listed);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->files_fetched, 1u);
  EXPECT_EQ(first->bytes_fetched, 1000u);
  EXPECT_EQ(first->local_paths[0].rfind(st->ReadableRoot(), 0), 0u) << first->local_paths[0];
  EXPECT_EQ(Slurp(first->local_paths[0]), std::string(1000, 'a'));
  first->pin.reset();

  auto second = st->OpenForReading(*st->List("d"));
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->files_fetched, 0u);

  ASSERT_TRUE(st->WriteFileAtomic("d/year=2026/f.parquet", std::string(1000, 'b')).ok());
  auto third = st->OpenForReading(*st->List("d"));
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(third->files_fetched, 1u);
  EXPECT_EQ(Slurp(third->local_paths[0]), std::string(1000, 'b'));
  // A path without an ETag (from a manifest) is looked up first.
  auto by_name = st->OpenForReading({FileInfo{"d/year=2026/f.parquet", 1000, 0, ""}});
  ASSERT_TRUE(by_name.ok()) << by_name.status().ToString();
  EXPECT_EQ(by_name->files_fetched, 0u);
}

TEST_F(S3StorageTest, ALargeFileIsAMultipartUploadAndAFailedOneLeavesNothing) {
  auto st = Make("multipart");
  const std::string big(6 << 20, 'z');  // above the 5 MiB part size
  ASSERT_TRUE(st->Publish(Stage(*st, "big.tmp", big), "big.parquet").ok());
  auto info = st->Stat("big.parquet");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->size, static_cast<int64_t>(big.size()));

  // Failing every UploadPart (and nothing else) fails the upload: it was multipart.
  server_->SetFaults({1.0, {"part500"}, "", ""});
  Status failed = st->Publish(Stage(*st, "big2.tmp", big), "big2.parquet");
  server_->SetFaults({});
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.message().find("big2.parquet"), std::string::npos) << failed.message();
  EXPECT_EQ(st->Stat("big2.parquet").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(server_->PendingMultipartUploads().empty());
}

TEST_F(S3StorageTest, DatasetLocksExcludeASecondRunOnThisMachine) {
  auto st = Make("locks");
  auto held = st->LockDataset("pageviews");
  ASSERT_TRUE(held.ok());
  auto again = st->LockDataset("pageviews");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), StatusCode::kFailedPrecondition);
  held->reset();
  EXPECT_TRUE(st->LockDataset("pageviews").ok());
}

}  // namespace
}  // namespace pqflow::storage
