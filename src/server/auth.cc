#include "server/auth.h"

#include <algorithm>
#include <cstddef>
#include <optional>

#include "core/crypto.h"

namespace pqflow::server {

namespace {

struct ScopeEntry {
  Scope scope;
  std::string_view name;
};
// Declaration order is the order FormatScopes writes and error messages list.
constexpr ScopeEntry kScopeTable[] = {
    {Scope::kIngest, "ingest"},
    {Scope::kQuery, "query"},
    {Scope::kExport, "export"},
    {Scope::kAdmin, "admin"},
};
constexpr std::string_view kValidScopes = "valid scopes: ingest, query, export, admin";

constexpr std::string_view kHashPrefix = "sha256:";
constexpr size_t kHashHexDigits = 64;
constexpr std::string_view kKeyPrefix = "pqf_";
constexpr size_t kKeyRandomBytes = 32;

std::optional<Scope> ScopeFromName(std::string_view name) {
  for (const ScopeEntry& entry : kScopeTable) {
    if (entry.name == name) return entry.scope;
  }
  return std::nullopt;
}

int LowerHexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// Decodes exactly 64 lowercase hex digits; returns the index of the first invalid one, or
// npos on success.
size_t DecodeLowerHex(std::string_view hex, KeyHash& out) {
  for (size_t i = 0; i < out.size(); ++i) {
    int high = LowerHexValue(hex[2 * i]);
    if (high < 0) return 2 * i;
    int low = LowerHexValue(hex[2 * i + 1]);
    if (low < 0) return 2 * i + 1;
    out[i] = static_cast<uint8_t>(high << 4 | low);
  }
  return std::string_view::npos;
}

KeyHash HashOfKey(std::string_view key) { return Sha256Of(key); }

// HTTP optional whitespace around header values and between scheme and token.
std::string_view TrimSpaceAndTab(std::string_view text) {
  size_t begin = text.find_first_not_of(" \t");
  if (begin == std::string_view::npos) return {};
  size_t end = text.find_last_not_of(" \t");
  return text.substr(begin, end - begin + 1);
}

bool EqualsIgnoreAsciiCase(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; };
    return lower(x) == lower(y);
  });
}

// The key inside "Bearer <key>". Messages never include the header: with a missing scheme,
// the whole header may be the key.
Result<std::string_view> BearerToken(std::string_view header) {
  constexpr std::string_view kExpected = " (expected \"Bearer <key>\")";
  header = TrimSpaceAndTab(header);
  if (header.empty()) return Status::InvalidArgument("missing Authorization header" + std::string(kExpected));
  size_t space = header.find_first_of(" \t");
  std::string_view scheme = header.substr(0, space);
  if (!EqualsIgnoreAsciiCase(scheme, "Bearer")) {
    return Status::InvalidArgument("Authorization header is not a Bearer token" + std::string(kExpected));
  }
  if (space == std::string_view::npos) {
    return Status::InvalidArgument("Authorization header has an empty Bearer token" + std::string(kExpected));
  }
  return TrimSpaceAndTab(header.substr(space));
}

std::string Base64UrlWithoutPadding(const uint8_t* data, size_t size) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  out.reserve((size * 4 + 2) / 3);
  for (size_t i = 0; i < size; i += 3) {
    size_t chunk = std::min<size_t>(3, size - i);
    uint32_t bits = uint32_t{data[i]} << 16;
    if (chunk > 1) bits |= uint32_t{data[i + 1]} << 8;
    if (chunk > 2) bits |= uint32_t{data[i + 2]};
    for (size_t k = 0; k <= chunk; ++k) out += kAlphabet[(bits >> (18 - 6 * k)) & 0x3f];
  }
  return out;
}

// A TOML basic string: quotes, backslashes and control characters escaped.
std::string TomlString(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (byte < 0x20 || byte == 0x7f) {
      out += "\\u00";
      out += kHex[byte >> 4];
      out += kHex[byte & 0xf];
    } else {
      out += c;
    }
  }
  return out + "\"";
}

}  // namespace

std::string_view ScopeName(Scope scope) {
  for (const ScopeEntry& entry : kScopeTable) {
    if (entry.scope == scope) return entry.name;
  }
  return "unknown";
}

Result<uint32_t> ParseScopes(const std::vector<std::string>& names) {
  if (names.empty()) return Status::InvalidArgument("no scopes given (" + std::string(kValidScopes) + ")");
  uint32_t scopes = 0;
  for (const std::string& name : names) {
    std::optional<Scope> scope = ScopeFromName(name);
    if (!scope) {
      return Status::InvalidArgument("unknown scope \"" + name + "\" (" + std::string(kValidScopes) + ")");
    }
    scopes |= *scope == Scope::kAdmin ? kAllScopes : ScopeBit(*scope);
  }
  return scopes;
}

std::vector<std::string> FormatScopes(uint32_t scopes) {
  if (scopes & ScopeBit(Scope::kAdmin)) return {std::string(ScopeName(Scope::kAdmin))};
  std::vector<std::string> names;
  for (const ScopeEntry& entry : kScopeTable) {
    if (scopes & ScopeBit(entry.scope)) names.emplace_back(entry.name);
  }
  return names;
}

bool ApiKey::AllowsWorkspace(uint64_t workspace_id) const {
  return workspaces.empty() || std::find(workspaces.begin(), workspaces.end(), workspace_id) != workspaces.end();
}

bool ApiKey::Has(Scope scope) const {
  return (scopes & (ScopeBit(scope) | ScopeBit(Scope::kAdmin))) != 0;
}

Result<KeyHash> ParseKeyHash(std::string_view text) {
  if (!text.starts_with(kHashPrefix)) {
    return Status::InvalidArgument(
        "key hash must be \"sha256:\" followed by 64 lowercase hex digits (the hash of the key, not the key "
        "itself)");
  }
  std::string_view hex = text.substr(kHashPrefix.size());
  if (hex.size() != kHashHexDigits) {
    return Status::InvalidArgument("key hash has " + std::to_string(hex.size()) +
                                   " characters after \"sha256:\", expected 64 lowercase hex digits");
  }
  KeyHash hash{};
  size_t bad = DecodeLowerHex(hex, hash);
  if (bad != std::string_view::npos) {
    return Status::InvalidArgument("key hash has a character that is not a lowercase hex digit at position " +
                                   std::to_string(kHashPrefix.size() + bad));
  }
  return hash;
}

std::string FormatKeyHash(const KeyHash& hash) {
  return std::string(kHashPrefix) + HexLower(hash.data(), hash.size());
}

KeyStore::KeyStore(std::vector<ApiKey> keys) : keys_(std::move(keys)) {}

Result<const ApiKey*> KeyStore::Authenticate(std::string_view authorization_header) const {
  PQ_ASSIGN_OR_RETURN(std::string_view token, BearerToken(authorization_header));
  const KeyHash presented = HashOfKey(token);
  // Branch-free selection of the first match: `matched` becomes all ones at the first equal
  // hash, and every hash is compared whatever happened before.
  size_t match_index = 0;
  size_t matched = 0;
  for (size_t i = 0; i < keys_.size(); ++i) {
    size_t equal = static_cast<size_t>(ConstantTimeEqual(presented.data(), keys_[i].sha256.data(), presented.size()));
    size_t take = (size_t{0} - equal) & ~matched;
    match_index = (match_index & ~take) | (i & take);
    matched |= take;
  }
  if (matched == 0) return Status::NotFound("unknown API key");
  return &keys_[match_index];
}

Result<std::string> GenerateKeyText() {
  std::array<uint8_t, kKeyRandomBytes> random{};
  if (Status s = RandomBytes(random.data(), random.size()); !s.ok()) return s.WithContext("generating an API key");
  return std::string(kKeyPrefix) + Base64UrlWithoutPadding(random.data(), random.size());
}

std::string HashKeyText(std::string_view key) { return std::string(kHashPrefix) + Sha256Hex(key); }

std::string KeyConfigSnippet(const std::string& name, const std::string& key_hash, uint32_t scopes,
                             const std::vector<uint64_t>& workspaces, const std::vector<std::string>& projects) {
  std::string out = "[[server.keys]]\n";
  out += "name = " + TomlString(name) + "\n";
  out += "hash = " + TomlString(key_hash) + "\n";
  out += "scopes = [";
  std::vector<std::string> scope_names = FormatScopes(scopes);
  for (size_t i = 0; i < scope_names.size(); ++i) out += (i ? ", " : "") + TomlString(scope_names[i]);
  out += "]\n";
  if (!workspaces.empty()) {
    out += "workspaces = [";
    for (size_t i = 0; i < workspaces.size(); ++i) out += (i ? ", " : "") + std::to_string(workspaces[i]);
    out += "]\n";
  }
  if (!projects.empty()) {
    out += "projects = [";
    for (size_t i = 0; i < projects.size(); ++i) out += (i ? ", " : "") + TomlString(projects[i]);
    out += "]\n";
  }
  return out;
}

}  // namespace pqflow::server
