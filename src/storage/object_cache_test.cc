#include "storage/object_cache.h"

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <gtest/gtest.h>

#include "temp_dir.h"

namespace pqflow::storage {
namespace {

namespace fs = std::filesystem;

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// A pretend remote store: path -> (content, etag), counting fetches.
struct FakeRemote {
  std::map<std::string, std::pair<std::string, std::string>> objects;
  std::atomic<int> fetches{0};

  void Put(const std::string& path, const std::string& content) {
    const int version = objects.count(path) ? std::stoi(objects[path].second.substr(2)) + 1 : 1;
    objects[path] = {content, "\"v" + std::to_string(version) + "\""};
  }
  FileInfo Info(const std::string& path) {
    return FileInfo{path, static_cast<int64_t>(objects[path].first.size()), 0, objects[path].second};
  }
  ObjectCache::Fetch Fetcher() {
    return [this](const FileInfo& f, const std::string& local) -> Result<std::string> {
      ++fetches;
      auto it = objects.find(f.path);
      if (it == objects.end()) return Status::NotFound(f.path);
      std::ofstream(local, std::ios::binary) << it->second.first;
      return it->second.second;
    };
  }
};

class ObjectCacheTest : public ::testing::Test {
 protected:
  std::unique_ptr<ObjectCache> Open(uint64_t capacity) {
    auto cache = ObjectCache::Open(dir_ / "cache", capacity);
    EXPECT_TRUE(cache.ok()) << cache.status().ToString();
    return std::move(cache).value();
  }
  pqflow::testing::TempDir dir_;
  FakeRemote remote_;
};

TEST_F(ObjectCacheTest, FetchesOnceThenServesFromDiskUntilTheEtagChanges) {
  remote_.Put("a/year=2026/x.parquet", std::string(100, 'a'));
  auto cache = Open(1 << 20);
  auto first = cache->Acquire({remote_.Info("a/year=2026/x.parquet")}, remote_.Fetcher(), 2);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->files_fetched, 1u);
  EXPECT_EQ(first->bytes_fetched, 100u);
  // The cached copy keeps the key's directories (hive segments stay readable by DuckDB).
  EXPECT_EQ(first->local_paths[0], dir_ / "cache/objects/a/year=2026/x.parquet");
  EXPECT_EQ(Slurp(first->local_paths[0]), std::string(100, 'a'));

  auto again = cache->Acquire({remote_.Info("a/year=2026/x.parquet")}, remote_.Fetcher(), 2);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->files_fetched, 0u);
  EXPECT_EQ(remote_.fetches, 1);

  remote_.Put("a/year=2026/x.parquet", std::string(100, 'b'));  // same size, new content
  auto changed = cache->Acquire({remote_.Info("a/year=2026/x.parquet")}, remote_.Fetcher(), 2);
  ASSERT_TRUE(changed.ok());
  EXPECT_EQ(changed->files_fetched, 1u);
  EXPECT_EQ(Slurp(changed->local_paths[0]), std::string(100, 'b'));
}

TEST_F(ObjectCacheTest, AReopenedCacheTrustsOnlyEntriesWithTheirEtag) {
  remote_.Put("k1.parquet", "one");
  remote_.Put("k2.parquet", "two");
  {
    auto cache = Open(1 << 20);
    ASSERT_TRUE(cache->Acquire({remote_.Info("k1.parquet"), remote_.Info("k2.parquet")}, remote_.Fetcher(), 2).ok());
  }
  // A crash between the download and the sidecar: the entry must not be trusted.
  fs::remove(dir_ / "cache/etags/k2.parquet");
  // And an interrupted download's temporary file is cleaned up once it is old (a recent one
  // may be another process's download in progress).
  const std::string stale = dir_ / "cache/objects/k1.parquet.part-1-1";
  const std::string recent = dir_ / "cache/objects/k1.parquet.part-2-1";
  std::ofstream(stale) << "partial";
  std::ofstream(recent) << "partial";
  fs::last_write_time(stale, fs::file_time_type::clock::now() - std::chrono::hours(1));
  auto cache = Open(1 << 20);
  // A query whose files are all cached does not walk the cache directory...
  auto cached = cache->Acquire({remote_.Info("k1.parquet")}, remote_.Fetcher(), 2);
  ASSERT_TRUE(cached.ok());
  EXPECT_EQ(cached->files_fetched, 0u);
  EXPECT_TRUE(fs::exists(stale));
  // ...one that must fetch (or asks the size) does.
  EXPECT_EQ(cache->size(), 3u);
  EXPECT_FALSE(fs::exists(stale));
  EXPECT_TRUE(fs::exists(recent));
  auto got = cache->Acquire({remote_.Info("k1.parquet"), remote_.Info("k2.parquet")}, remote_.Fetcher(), 2);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->files_fetched, 1u);  // k2 only
  EXPECT_EQ(remote_.fetches, 3);
}

TEST_F(ObjectCacheTest, EvictsTheLeastRecentlyUsedUnpinnedEntries) {
  for (const char* k : {"a", "b", "c", "d"}) remote_.Put(k, std::string(40, k[0]));
  auto cache = Open(100);  // room for two 40-byte objects
  ASSERT_TRUE(cache->Acquire({remote_.Info("a")}, remote_.Fetcher(), 1).ok());
  ASSERT_TRUE(cache->Acquire({remote_.Info("b")}, remote_.Fetcher(), 1).ok());
  ASSERT_TRUE(cache->Acquire({remote_.Info("a")}, remote_.Fetcher(), 1).ok());  // a is now the most recent
  ASSERT_TRUE(cache->Acquire({remote_.Info("c")}, remote_.Fetcher(), 1).ok());  // evicts b
  EXPECT_LE(cache->size(), 100u);
  EXPECT_TRUE(fs::exists(dir_ / "cache/objects/a"));
  EXPECT_FALSE(fs::exists(dir_ / "cache/objects/b"));
  EXPECT_FALSE(fs::exists(dir_ / "cache/etags/b"));
  EXPECT_TRUE(fs::exists(dir_ / "cache/objects/c"));
}

TEST_F(ObjectCacheTest, PinnedEntriesAreNotEvictedAndTooMuchIsAClearError) {
  for (const char* k : {"a", "b", "c"}) remote_.Put(k, std::string(40, k[0]));
  auto cache = Open(100);
  auto pinned = cache->Acquire({remote_.Info("a"), remote_.Info("b")}, remote_.Fetcher(), 2);
  ASSERT_TRUE(pinned.ok());
  auto refused = cache->Acquire({remote_.Info("c")}, remote_.Fetcher(), 1);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("storage.cache_size"), std::string::npos) << refused.status().message();
  EXPECT_TRUE(fs::exists(dir_ / "cache/objects/a"));
  pinned->pin.reset();  // the reader is done
  auto now = cache->Acquire({remote_.Info("c")}, remote_.Fetcher(), 1);
  ASSERT_TRUE(now.ok()) << now.status().ToString();
  // Files that alone exceed the capacity are refused before anything is fetched.
  remote_.Put("big", std::string(200, 'x'));
  const int before = remote_.fetches;
  EXPECT_FALSE(cache->Acquire({remote_.Info("big")}, remote_.Fetcher(), 1).ok());
  EXPECT_EQ(remote_.fetches, before);
}

TEST_F(ObjectCacheTest, AFailedOrShortFetchLeavesNoEntry) {
  remote_.Put("x", "0123456789");
  auto cache = Open(1 << 20);
  FileInfo wrong_size = remote_.Info("x");
  wrong_size.size = 11;  // the object changed between the listing and the download
  auto short_read = cache->Acquire({wrong_size}, remote_.Fetcher(), 1);
  ASSERT_FALSE(short_read.ok());
  EXPECT_NE(short_read.status().message().find("the listing said 11"), std::string::npos) << short_read.status().message();
  EXPECT_FALSE(fs::exists(dir_ / "cache/etags/x"));
  auto missing = cache->Acquire({FileInfo{"gone", 5, 0, "\"v1\""}}, remote_.Fetcher(), 1);
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(cache->size(), 0u);
  auto good = cache->Acquire({remote_.Info("x")}, remote_.Fetcher(), 1);
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(cache->size(), 10u);
}

}  // namespace
}  // namespace pqflow::storage
