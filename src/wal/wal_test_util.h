// Helpers shared by the WAL tests: options, replaying a log into memory, and poking at
// segment files the way a crash or a bad disk would.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "wal/wal.h"
#include "wal/wal_format.h"

namespace pqflow::wal::testing {

struct Replayed {
  Lsn lsn = 0;
  uint8_t type = 0;
  std::string payload;
};

inline WalOptions Options(const std::string& dir, uint64_t segment_bytes = 64ull << 20, bool fsync = false) {
  WalOptions o;
  o.dir = dir;
  o.segment_bytes = segment_bytes;
  o.fsync = fsync;
  return o;
}

inline Result<std::unique_ptr<Wal>> OpenInto(const WalOptions& options, std::vector<Replayed>* out) {
  return Wal::Open(options, [out](const Record& r) {
    out->push_back({r.lsn, r.type, std::string(r.payload)});
    return Status::OK();
  });
}

// Opens the log, returns what it replays, and closes it again.
inline std::vector<Replayed> ReplayAll(const WalOptions& options) {
  std::vector<Replayed> out;
  auto wal = OpenInto(options, &out);
  EXPECT_TRUE(wal.ok()) << wal.status().ToString();
  return out;
}

// Appends and expects success.
inline Lsn MustAppend(Wal& wal, std::string_view payload, uint8_t type = 1) {
  auto lsn = wal.Append(type, payload, nullptr);
  EXPECT_TRUE(lsn.ok()) << lsn.status().ToString();
  return lsn.ok() ? *lsn : 0;
}

// A payload that differs per `seed` and byte position, so misplaced bytes show.
inline std::string TestPayload(uint64_t seed, size_t size) {
  std::string s(size, '\0');
  for (size_t i = 0; i < size; ++i) s[i] = static_cast<char>('a' + (seed * 31 + i * 7) % 26);
  return s;
}

inline std::string SegmentPath(const std::string& dir, Lsn first_lsn) { return dir + "/" + SegmentFileName(first_lsn); }

// The *.wal file names in `dir`, sorted.
inline std::vector<std::string> SegmentNames(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    std::string name = e.path().filename().string();
    if (name.ends_with(".wal")) names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline void WriteFile(const std::string& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << path;
}

inline void FlipByte(const std::string& path, uint64_t offset) {
  std::string bytes = ReadFile(path);
  ASSERT_LT(offset, bytes.size());
  bytes[offset] = static_cast<char>(bytes[offset] ^ 0x5A);
  WriteFile(path, bytes);
}

// The file offset of the record at `lsn` in the segment whose first record is `first_lsn`.
inline uint64_t FileOffset(Lsn first_lsn, Lsn lsn) { return kSegmentHeaderBytes + (lsn - first_lsn); }

}  // namespace pqflow::wal::testing
