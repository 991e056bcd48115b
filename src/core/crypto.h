// The cryptography pqflow uses, all from OpenSSL's libcrypto: SHA-256 (manifests, API key
// hashes, S3 payloads), HMAC-SHA256 (S3 signatures), random bytes (new API keys) and a
// constant-time comparison (API keys). libcrypto is opened on first use, like libpq and
// libcurl (core/dynamic_library.h): linked, it cost every command ~4 ms before main, and
// `pqflow query` on a local dataset never needs it. Unlike those two, it is part of every
// Debian system (libssl3, which apt needs), so a failure to open it aborts with the reason
// instead of being reported as a missing package.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace pqflow {

using Sha256Digest = std::array<uint8_t, 32>;

// SHA-256 over data given in pieces.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(const void* data, size_t size);
  Sha256Digest Finish();  // once

 private:
  void* ctx_;  // EVP_MD_CTX
};

Sha256Digest Sha256Of(std::string_view data);
std::string Sha256Hex(std::string_view data);  // lowercase hex, 64 digits
Result<std::string> Sha256File(const std::string& path);
// `length` bytes from `offset`; a file shorter than that is an error (it changed under us).
Result<std::string> Sha256FileRange(const std::string& path, int64_t offset, int64_t length);

// HMAC-SHA256 of `data` under `key`: the 32 raw bytes, as a string (SigV4 chains them as keys).
std::string HmacSha256(std::string_view key, std::string_view data);

// Cryptographically strong random bytes (OpenSSL's RAND_bytes).
Status RandomBytes(uint8_t* out, size_t size);

// Whether a and b (size bytes each) are equal, in a time that does not depend on where
// they differ.
bool ConstantTimeEqual(const void* a, const void* b, size_t size);

// Lowercase hex of bytes.
std::string HexLower(const void* data, size_t size);
inline std::string HexLower(std::string_view bytes) { return HexLower(bytes.data(), bytes.size()); }

}  // namespace pqflow
