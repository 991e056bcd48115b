// API keys for `Authorization: Bearer <key>` on pqflow serve.
//
// The config never holds a key, only its hash ("sha256:<64 lowercase hex>"), so a leaked
// pqflow.toml does not leak access. Keys are high-entropy random tokens (GenerateKeyText), which
// is why one unsalted SHA-256 is enough: there is nothing to brute-force from a dictionary.
// Each key carries scopes (what it may do) and optionally the workspaces (tenants) it may touch.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace pqflow::server {

// One bit per scope, so a key's grants are a single uint32_t. kAdmin implies every other scope.
enum class Scope : uint32_t {
  kIngest = 1u << 0,  // POST events into streams
  kQuery = 1u << 1,   // run queries and built-in analytics
  kExport = 1u << 2,  // start exports, download files
  kAdmin = 1u << 3,   // everything, including server management
};

constexpr uint32_t ScopeBit(Scope scope) { return static_cast<uint32_t>(scope); }
inline constexpr uint32_t kAllScopes =
    ScopeBit(Scope::kIngest) | ScopeBit(Scope::kQuery) | ScopeBit(Scope::kExport) | ScopeBit(Scope::kAdmin);

// The config spelling of a scope: "ingest", "query", "export", "admin".
std::string_view ScopeName(Scope scope);
// Config names to a bit set. "admin" sets every bit. Errors on an empty list and on an
// unknown name (the message lists the valid ones). Duplicates are harmless.
Result<uint32_t> ParseScopes(const std::vector<std::string>& names);
// Inverse of ParseScopes: ["admin"] when the admin bit is set, else the set scopes in
// declaration order.
std::vector<std::string> FormatScopes(uint32_t scopes);

using KeyHash = std::array<uint8_t, 32>;

struct ApiKey {
  std::string name;   // for logs and audit; never secret
  KeyHash sha256{};   // SHA-256 of the key text
  uint32_t scopes = 0;                // ScopeBit()s; see Has()
  std::vector<uint64_t> workspaces;   // empty = any workspace
  std::vector<std::string> projects;  // queries see only these projects' rows; empty = any

  bool AllowsWorkspace(uint64_t workspace_id) const;
  // True when the key was granted `scope` or kAdmin.
  bool Has(Scope scope) const;
};

// Parses the config text "sha256:<64 lowercase hex>". The error never repeats the input,
// since a user may have pasted the key itself where its hash belongs.
Result<KeyHash> ParseKeyHash(std::string_view text);
// The config text for a hash: "sha256:<64 lowercase hex>".
std::string FormatKeyHash(const KeyHash& hash);

// The configured keys of a server. Immutable after construction, so Authenticate may be
// called from any number of threads at once.
class KeyStore {
 public:
  // When two keys share a hash (config validation should reject that), the first one wins.
  explicit KeyStore(std::vector<ApiKey> keys);

  // Authenticates the value of an Authorization header ("" when the request had none).
  // The scheme is case-insensitive ("Bearer", "bearer"). Errors, none of which repeat the
  // header: kInvalidArgument for a missing header or one that is not a non-empty Bearer
  // token; kNotFound for a well-formed token that matches no key. The returned pointer
  // stays valid as long as this store lives.
  //
  // Timing reveals neither which key matched nor how much of one did: the presented key is
  // hashed, then compared with every configured hash in constant time, without early exit.
  Result<const ApiKey*> Authenticate(std::string_view authorization_header) const;

  const std::vector<ApiKey>& keys() const { return keys_; }

 private:
  std::vector<ApiKey> keys_;
};

// A new key: "pqf_" followed by 32 random bytes (OpenSSL RAND_bytes) in base64url without
// padding, 47 characters in all. Fails only if the OpenSSL random generator does.
Result<std::string> GenerateKeyText();
// The config text of a key's hash: "sha256:" + lowercase hex SHA-256 of the key text.
std::string HashKeyText(std::string_view key);

// The TOML lines to paste into pqflow.toml for a key, e.g.
//   [[server.keys]]
//   name = "ingest-prod"
//   hash = "sha256:..."
//   scopes = ["ingest"]
//   workspaces = [42]
// The workspaces line is omitted when the list is empty (unrestricted). The name is written
// as a TOML basic string, escaped as needed.
std::string KeyConfigSnippet(const std::string& name, const std::string& key_hash, uint32_t scopes,
                             const std::vector<uint64_t>& workspaces, const std::vector<std::string>& projects = {});

}  // namespace pqflow::server
