#include "core/crypto.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "core/dynamic_library.h"
#include "core/unique_fd.h"

// The OpenSSL functions pqflow calls, resolved from libcrypto at first use. Only their
// declarations come from OpenSSL's headers (for the types): nothing here links libcrypto.
#define PQFLOW_LIBCRYPTO_FUNCTIONS(X) \
  X(EVP_sha256)                       \
  X(EVP_MD_CTX_new)                   \
  X(EVP_MD_CTX_free)                  \
  X(EVP_DigestInit_ex)                \
  X(EVP_DigestUpdate)                 \
  X(EVP_DigestFinal_ex)               \
  X(HMAC)                             \
  X(RAND_bytes)                       \
  X(CRYPTO_memcmp)                    \
  X(ERR_get_error)                    \
  X(ERR_error_string_n)

namespace pqflow {

namespace {

struct LibCrypto {
#define PQFLOW_MEMBER(name) decltype(&::name) name = nullptr;
  PQFLOW_LIBCRYPTO_FUNCTIONS(PQFLOW_MEMBER)
#undef PQFLOW_MEMBER
};

LibCrypto libcrypto;

LazyLibrary& Library() {
#define PQFLOW_SYMBOL(name) LibrarySymbol{#name, reinterpret_cast<void**>(&libcrypto.name)},
  static LazyLibrary library("libcrypto.so.3", "libssl3", {PQFLOW_LIBCRYPTO_FUNCTIONS(PQFLOW_SYMBOL)});
#undef PQFLOW_SYMBOL
  return library;
}

const LibCrypto& Crypto() {
  static const LibCrypto& loaded = (Library().LoadOrDie(), libcrypto);
  return loaded;
}

std::string OpenSslErrorText() {
  unsigned long code = Crypto().ERR_get_error();
  if (code == 0) return "no OpenSSL error recorded";
  char text[256];
  Crypto().ERR_error_string_n(code, text, sizeof(text));
  return text;
}

constexpr size_t kFileChunk = 1 << 20;

// Hashes `length` bytes from `offset` (length < 0: to the end of the file).
Result<std::string> HashFile(const std::string& path, int64_t offset, int64_t length) {
  UniqueFd file(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (file.get() < 0) return Status::FromErrno("opening " + path, errno);
  Sha256 hash;
  std::unique_ptr<char[]> buf(new char[kFileChunk]);
  for (int64_t done = 0; length < 0 || done < length;) {
    const size_t want = length < 0 ? kFileChunk : static_cast<size_t>(std::min<int64_t>(length - done, kFileChunk));
    const ssize_t n = ::pread(file.get(), buf.get(), want, offset + done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::FromErrno("reading " + path, errno);
    if (n == 0 && length < 0) break;
    if (n == 0) return Status::IOError("reading " + path + ": the file is shorter than expected (it changed while read)");
    hash.Update(buf.get(), static_cast<size_t>(n));
    done += n;
  }
  const Sha256Digest digest = hash.Finish();
  return HexLower(digest.data(), digest.size());
}

}  // namespace

Sha256::Sha256() : ctx_(Crypto().EVP_MD_CTX_new()) {
  Crypto().EVP_DigestInit_ex(static_cast<EVP_MD_CTX*>(ctx_), Crypto().EVP_sha256(), nullptr);
}

Sha256::~Sha256() { Crypto().EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_)); }

void Sha256::Update(const void* data, size_t size) {
  Crypto().EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(ctx_), data, size);
}

Sha256Digest Sha256::Finish() {
  Sha256Digest digest{};
  unsigned len = 0;
  Crypto().EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(ctx_), digest.data(), &len);
  return digest;
}

Sha256Digest Sha256Of(std::string_view data) {
  Sha256 hash;
  hash.Update(data.data(), data.size());
  return hash.Finish();
}

std::string Sha256Hex(std::string_view data) {
  const Sha256Digest digest = Sha256Of(data);
  return HexLower(digest.data(), digest.size());
}

Result<std::string> Sha256File(const std::string& path) { return HashFile(path, 0, -1); }

Result<std::string> Sha256FileRange(const std::string& path, int64_t offset, int64_t length) {
  return HashFile(path, offset, length);
}

std::string HmacSha256(std::string_view key, std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  // HMAC() only fails on allocation failure or an unusable digest, neither of which a
  // caller can act on; an empty result then makes an S3 request fail authentication.
  if (Crypto().HMAC(Crypto().EVP_sha256(), key.data(), static_cast<int>(key.size()),
                    reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest, &len) == nullptr) {
    return std::string();
  }
  return std::string(reinterpret_cast<const char*>(digest), len);
}

Status RandomBytes(uint8_t* out, size_t size) {
  if (Crypto().RAND_bytes(out, static_cast<int>(size)) != 1) {
    return Status::Internal("OpenSSL RAND_bytes failed: " + OpenSslErrorText());
  }
  return Status::OK();
}

bool ConstantTimeEqual(const void* a, const void* b, size_t size) { return Crypto().CRYPTO_memcmp(a, b, size) == 0; }

std::string HexLower(const void* data, size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  const auto* bytes = static_cast<const unsigned char*>(data);
  std::string out(2 * size, '\0');
  for (size_t i = 0; i < size; ++i) {
    out[2 * i] = kDigits[bytes[i] >> 4];
    out[2 * i + 1] = kDigits[bytes[i] & 15];
  }
  return out;
}

}  // namespace pqflow
