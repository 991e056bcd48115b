#include "duck/zstd_context_reuse.h"

#include <dlfcn.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "duck/duck.h"
#include "temp_dir.h"

namespace duckdb_zstd {
size_t ZSTD_compress(void* dst, size_t dst_capacity, const void* src, size_t src_size, int level);
size_t ZSTD_decompress(void* dst, size_t dst_capacity, const void* src, size_t src_size);
size_t ZSTD_compressBound(size_t src_size);
unsigned ZSTD_isError(size_t code);
}  // namespace duckdb_zstd

namespace pqflow::duck {
namespace {

using CompressFn = size_t (*)(void*, size_t, const void*, size_t, int);
using DecompressFn = size_t (*)(void*, size_t, const void*, size_t);

// libduckdb.so's own definitions: the next ones after this executable's.
template <typename Fn>
Fn LibDuckDbOwn(const char* mangled) {
  return reinterpret_cast<Fn>(dlsym(RTLD_NEXT, mangled));
}

// Page-like inputs: empty, tiny, repetitive, random, and larger than zstd's 128 KB block.
std::vector<std::string> SampleInputs() {
  std::mt19937_64 rng(20261203);
  std::vector<std::string> inputs = {"", "x", "pageviews_2026-01-15.parquet"};
  std::string repetitive;
  for (int i = 0; i < 5000; ++i) repetitive += "/docs/page-" + std::to_string(i % 37) + "\n";
  inputs.push_back(repetitive);
  std::string random(70000, '\0');
  for (auto& c : random) c = static_cast<char>(rng());
  inputs.push_back(random);
  std::string large;
  while (large.size() < 600000) large += std::to_string(rng() % 1000) + ",";
  inputs.push_back(large);
  return inputs;
}

TEST(ZstdContextReuseTest, PagesComeOutByteForByteAsWithDuckDbsOwnFunctions) {
  auto own_compress = LibDuckDbOwn<CompressFn>("_ZN11duckdb_zstd13ZSTD_compressEPvmPKvmi");
  auto own_decompress = LibDuckDbOwn<DecompressFn>("_ZN11duckdb_zstd15ZSTD_decompressEPvmPKvm");
  ASSERT_NE(own_compress, nullptr) << dlerror();
  ASSERT_NE(own_decompress, nullptr) << dlerror();
  ASSERT_NE(own_compress, &duckdb_zstd::ZSTD_compress) << "RTLD_NEXT found this binary's definition";

  // The same thread's context is reused across inputs and levels in both directions: what
  // one call leaves in it must not change the next.
  for (int round = 0; round < 2; ++round) {
    for (int level : {1, 3, 9, 19, -5}) {
      for (const std::string& input : SampleInputs()) {
        SCOPED_TRACE("level " + std::to_string(level) + ", " + std::to_string(input.size()) + " bytes");
        const size_t bound = duckdb_zstd::ZSTD_compressBound(input.size());
        std::string ours(bound, '\0');
        std::string theirs(bound, '\0');
        const size_t n_ours = duckdb_zstd::ZSTD_compress(ours.data(), bound, input.data(), input.size(), level);
        const size_t n_theirs = own_compress(theirs.data(), bound, input.data(), input.size(), level);
        ASSERT_FALSE(duckdb_zstd::ZSTD_isError(n_ours));
        ASSERT_EQ(n_ours, n_theirs);
        ours.resize(n_ours);
        theirs.resize(n_theirs);
        EXPECT_EQ(ours, theirs);

        std::string back(input.size(), '\0');
        const size_t n_back = duckdb_zstd::ZSTD_decompress(back.data(), back.size(), ours.data(), ours.size());
        ASSERT_FALSE(duckdb_zstd::ZSTD_isError(n_back));
        EXPECT_EQ(back.substr(0, n_back), input);
        std::string back_theirs(input.size(), '\0');
        EXPECT_EQ(own_decompress(back_theirs.data(), back_theirs.size(), ours.data(), ours.size()), n_back);
      }
    }
  }
}

TEST(ZstdContextReuseTest, AnErrorIsReportedAsZstdReportsIt) {
  const std::string garbage = "not a zstd frame";
  std::string out(100, '\0');
  EXPECT_TRUE(duckdb_zstd::ZSTD_isError(duckdb_zstd::ZSTD_decompress(out.data(), out.size(), garbage.data(),
                                                                     garbage.size())));
  const std::string input(1000, 'a');
  std::string small(4, '\0');  // below any frame's size
  EXPECT_TRUE(duckdb_zstd::ZSTD_isError(duckdb_zstd::ZSTD_compress(small.data(), small.size(), input.data(),
                                                                   input.size(), 3)));
}

// The whole point: DuckDB's Parquet writer and reader, in this process, go through the
// replacements, and the file reads back.
TEST(ZstdContextReuseTest, DuckDbsParquetPagesGoThroughTheReusedContexts) {
  testing::TempDir dir;
  DatabaseOptions options;
  options.threads = 2;
  auto db = Database::Open(options);
  ASSERT_TRUE(db.ok()) << db.status().message();
  auto conn = Connection::Make(*db);
  ASSERT_TRUE(conn.ok()) << conn.status().message();
  const std::string file = dir.path() + "/t.parquet";
  const uint64_t before = ZstdCallsOnReusedContexts();
  ASSERT_TRUE(conn->Execute("COPY (SELECT i, 'path-' || (i % 97) AS p FROM range(100000) t(i)) TO '" + file +
                            "' (FORMAT parquet, COMPRESSION zstd)")
                  .ok());
  const uint64_t after_write = ZstdCallsOnReusedContexts();
  EXPECT_GT(after_write, before);
  auto r = conn->Query("SELECT count(*), sum(i)::BIGINT, count(DISTINCT p) FROM '" + file + "'");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->GetInt64(0, 0), 100000);
  EXPECT_EQ(r->GetInt64(0, 1), 4999950000);
  EXPECT_EQ(r->GetInt64(0, 2), 97);
  EXPECT_GT(ZstdCallsOnReusedContexts(), after_write);
}

}  // namespace
}  // namespace pqflow::duck
