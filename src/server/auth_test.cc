#include "server/auth.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pqflow::server {
namespace {

// SHA-256("abc"), FIPS 180-2 appendix B.1.
constexpr const char* kAbcHash = "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

ApiKey MakeKey(std::string name, std::string_view key_text, uint32_t scopes, std::vector<uint64_t> workspaces = {}) {
  ApiKey key;
  key.name = std::move(name);
  key.sha256 = ParseKeyHash(HashKeyText(key_text)).value();
  key.scopes = scopes;
  key.workspaces = std::move(workspaces);
  return key;
}

TEST(ScopesTest, ParsesNamesIntoBits) {
  auto scopes = ParseScopes({"ingest", "export"});
  ASSERT_TRUE(scopes.ok()) << scopes.status().message();
  EXPECT_EQ(*scopes, ScopeBit(Scope::kIngest) | ScopeBit(Scope::kExport));
  auto again = ParseScopes({"query", "query"});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, ScopeBit(Scope::kQuery));
}

TEST(ScopesTest, AdminImpliesEveryScope) {
  auto scopes = ParseScopes({"admin"});
  ASSERT_TRUE(scopes.ok());
  EXPECT_EQ(*scopes, kAllScopes);
  // A key built in code with only the admin bit still has every scope.
  ApiKey admin;
  admin.scopes = ScopeBit(Scope::kAdmin);
  for (Scope scope : {Scope::kIngest, Scope::kQuery, Scope::kExport, Scope::kAdmin}) {
    EXPECT_TRUE(admin.Has(scope)) << ScopeName(scope);
  }
}

TEST(ScopesTest, HasOnlyGrantedScopes) {
  ApiKey key;
  key.scopes = ParseScopes({"ingest"}).value();
  EXPECT_TRUE(key.Has(Scope::kIngest));
  EXPECT_FALSE(key.Has(Scope::kQuery));
  EXPECT_FALSE(key.Has(Scope::kExport));
  EXPECT_FALSE(key.Has(Scope::kAdmin));
}

TEST(ScopesTest, UnknownScopeListsValidOnes) {
  auto scopes = ParseScopes({"ingest", "write"});
  ASSERT_FALSE(scopes.ok());
  EXPECT_EQ(scopes.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(scopes.status().message(), "unknown scope \"write\" (valid scopes: ingest, query, export, admin)");
  EXPECT_FALSE(ParseScopes({"Ingest"}).ok());
}

TEST(ScopesTest, EmptyListIsAnError) {
  auto scopes = ParseScopes({});
  ASSERT_FALSE(scopes.ok());
  EXPECT_EQ(scopes.status().message(), "no scopes given (valid scopes: ingest, query, export, admin)");
}

TEST(ScopesTest, FormatIsInverseOfParse) {
  for (const std::vector<std::string>& names : std::vector<std::vector<std::string>>{
           {"ingest"}, {"query"}, {"export"}, {"admin"}, {"ingest", "query"}, {"ingest", "query", "export"}}) {
    EXPECT_EQ(FormatScopes(ParseScopes(names).value()), names);
  }
  EXPECT_EQ(FormatScopes(ScopeBit(Scope::kExport) | ScopeBit(Scope::kIngest)),
            (std::vector<std::string>{"ingest", "export"}));
}

TEST(KeyHashTest, ParseAndFormatRoundTrip) {
  auto hash = ParseKeyHash(kAbcHash);
  ASSERT_TRUE(hash.ok()) << hash.status().message();
  EXPECT_EQ((*hash)[0], 0xba);
  EXPECT_EQ((*hash)[31], 0xad);
  EXPECT_EQ(FormatKeyHash(*hash), kAbcHash);
  EXPECT_EQ(HashKeyText("abc"), kAbcHash);
}

TEST(KeyHashTest, RejectsMalformedHashes) {
  const std::string hex = std::string(kAbcHash).substr(7);
  struct Case {
    std::string text;
    std::string message;
  };
  const std::vector<Case> cases = {
      {hex, "key hash must be \"sha256:\" followed by 64 lowercase hex digits (the hash of the key, not the key "
            "itself)"},
      {"SHA256:" + hex, "key hash must be \"sha256:\""},
      {"sha256:" + hex.substr(1), "key hash has 63 characters after \"sha256:\", expected 64"},
      {"sha256:" + hex + "0", "key hash has 65 characters after \"sha256:\""},
      {"sha256:", "key hash has 0 characters"},
      {"sha256:B" + hex.substr(1), "not a lowercase hex digit at position 7"},
      {"sha256:" + hex.substr(0, 63) + "g", "not a lowercase hex digit at position 70"},
  };
  for (const Case& c : cases) {
    auto hash = ParseKeyHash(c.text);
    ASSERT_FALSE(hash.ok()) << c.text;
    EXPECT_EQ(hash.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(hash.status().message().find(c.message), std::string::npos) << hash.status().message();
  }
}

TEST(KeyHashTest, ErrorDoesNotEchoAPastedKey) {
  const std::string key = "pqf_this-is-the-secret-key-text";
  auto hash = ParseKeyHash(key);
  ASSERT_FALSE(hash.ok());
  EXPECT_EQ(hash.status().message().find("secret"), std::string::npos);
}

class KeyStoreTest : public ::testing::Test {
 protected:
  KeyStore store_{{
      MakeKey("ingest-prod", "key-one", ScopeBit(Scope::kIngest), {42, 43}),
      MakeKey("analyst", "key-two", ScopeBit(Scope::kQuery) | ScopeBit(Scope::kExport)),
      MakeKey("root", "key-three", kAllScopes),
  }};

  std::string Failure(std::string_view header, StatusCode code) {
    auto key = store_.Authenticate(header);
    EXPECT_FALSE(key.ok()) << header;
    if (key.ok()) return "";
    EXPECT_EQ(key.status().code(), code) << header;
    return key.status().message();
  }
};

TEST_F(KeyStoreTest, AuthenticatesEachConfiguredKey) {
  for (auto [header, name] : std::vector<std::pair<std::string, std::string>>{
           {"Bearer key-one", "ingest-prod"}, {"Bearer key-two", "analyst"}, {"Bearer key-three", "root"}}) {
    auto key = store_.Authenticate(header);
    ASSERT_TRUE(key.ok()) << header << ": " << key.status().message();
    EXPECT_EQ((*key)->name, name);
    // The pointer is into the store, not into a copy.
    EXPECT_GE(*key, store_.keys().data());
    EXPECT_LT(*key, store_.keys().data() + store_.keys().size());
  }
}

TEST_F(KeyStoreTest, SchemeIsCaseInsensitiveAndWhitespaceTolerated) {
  for (std::string_view header : {"bearer key-two", "BEARER key-two", "  Bearer \t key-two \t"}) {
    auto key = store_.Authenticate(header);
    ASSERT_TRUE(key.ok()) << header << ": " << key.status().message();
    EXPECT_EQ((*key)->name, "analyst");
  }
}

TEST_F(KeyStoreTest, MissingHeader) {
  EXPECT_EQ(Failure("", StatusCode::kInvalidArgument), "missing Authorization header (expected \"Bearer <key>\")");
  EXPECT_EQ(Failure("  \t", StatusCode::kInvalidArgument), "missing Authorization header (expected \"Bearer <key>\")");
}

TEST_F(KeyStoreTest, NotABearerTokenNeverEchoesTheHeader) {
  const std::string expected = "Authorization header is not a Bearer token (expected \"Bearer <key>\")";
  EXPECT_EQ(Failure("Basic a2V5LW9uZTo=", StatusCode::kInvalidArgument), expected);
  // Without a scheme the whole header may be the key itself.
  EXPECT_EQ(Failure("key-one", StatusCode::kInvalidArgument), expected);
  EXPECT_EQ(Failure("Bearerkey-one", StatusCode::kInvalidArgument), expected);
  EXPECT_EQ(Failure("Bearer", StatusCode::kInvalidArgument),
            "Authorization header has an empty Bearer token (expected \"Bearer <key>\")");
  EXPECT_EQ(Failure("Bearer   ", StatusCode::kInvalidArgument),
            "Authorization header has an empty Bearer token (expected \"Bearer <key>\")");
}

TEST_F(KeyStoreTest, UnknownKeyNeverEchoesTheKey) {
  EXPECT_EQ(Failure("Bearer key-four", StatusCode::kNotFound), "unknown API key");
  // Near misses and case changes are different keys.
  EXPECT_EQ(Failure("Bearer key-on", StatusCode::kNotFound), "unknown API key");
  EXPECT_EQ(Failure("Bearer KEY-ONE", StatusCode::kNotFound), "unknown API key");
  // The stored hash itself is not a key.
  EXPECT_EQ(Failure("Bearer " + HashKeyText("key-one"), StatusCode::kNotFound), "unknown API key");
}

TEST(KeyStoreEmptyTest, NoKeysMeansEveryKeyIsUnknown) {
  KeyStore store({});
  auto key = store.Authenticate("Bearer anything");
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.status().code(), StatusCode::kNotFound);
}

TEST(KeyStoreDuplicateTest, FirstConfiguredKeyWinsOnSharedHash) {
  KeyStore store({MakeKey("first", "same", ScopeBit(Scope::kIngest)), MakeKey("second", "same", kAllScopes)});
  auto key = store.Authenticate("Bearer same");
  ASSERT_TRUE(key.ok());
  EXPECT_EQ((*key)->name, "first");
}

TEST_F(KeyStoreTest, WorkspaceRestriction) {
  const ApiKey* ingest = store_.Authenticate("Bearer key-one").value();
  EXPECT_TRUE(ingest->AllowsWorkspace(42));
  EXPECT_TRUE(ingest->AllowsWorkspace(43));
  EXPECT_FALSE(ingest->AllowsWorkspace(44));
  EXPECT_FALSE(ingest->AllowsWorkspace(0));
  const ApiKey* analyst = store_.Authenticate("Bearer key-two").value();
  EXPECT_TRUE(analyst->AllowsWorkspace(0));
  EXPECT_TRUE(analyst->AllowsWorkspace(42));
  EXPECT_TRUE(analyst->AllowsWorkspace(UINT64_MAX));
}

TEST(GenerateKeyTest, KeysAreDistinctWellFormedAndAuthenticate) {
  constexpr int kKeys = 20;
  std::vector<std::string> texts;
  std::vector<ApiKey> keys;
  for (int i = 0; i < kKeys; ++i) {
    auto text = GenerateKeyText();
    ASSERT_TRUE(text.ok()) << text.status().message();
    ASSERT_EQ(text->size(), 47u) << *text;
    EXPECT_EQ(text->substr(0, 4), "pqf_");
    EXPECT_EQ(text->find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", 4),
              std::string::npos)
        << *text;
    auto hash = ParseKeyHash(HashKeyText(*text));
    ASSERT_TRUE(hash.ok()) << hash.status().message();
    keys.push_back(ApiKey{"key" + std::to_string(i), *hash, ScopeBit(Scope::kIngest), {}, {}});
    texts.push_back(*text);
  }
  EXPECT_EQ(std::set<std::string>(texts.begin(), texts.end()).size(), texts.size());
  // Each generated key finds exactly its own entry.
  KeyStore store(keys);
  for (size_t i = 0; i < texts.size(); ++i) {
    auto key = store.Authenticate("Bearer " + texts[i]);
    ASSERT_TRUE(key.ok()) << key.status().message();
    EXPECT_EQ((*key)->name, "key" + std::to_string(i));
  }
}

TEST(KeySnippetTest, RestrictedKey) {
  EXPECT_EQ(KeyConfigSnippet("ingest-prod", kAbcHash, ParseScopes({"ingest"}).value(), {42}),
            "[[server.keys]]\n"
            "name = \"ingest-prod\"\n"
            "hash = \"sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\"\n"
            "scopes = [\"ingest\"]\n"
            "workspaces = [42]\n");
}

TEST(KeySnippetTest, UnrestrictedKeyWithSeveralScopes) {
  EXPECT_EQ(KeyConfigSnippet("analyst", kAbcHash, ParseScopes({"export", "query"}).value(), {}),
            "[[server.keys]]\n"
            "name = \"analyst\"\n"
            "hash = \"sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\"\n"
            "scopes = [\"query\", \"export\"]\n");
}

TEST(KeySnippetTest, AdminAndSeveralWorkspaces) {
  EXPECT_EQ(KeyConfigSnippet("ops", kAbcHash, ParseScopes({"admin"}).value(), {7, 18446744073709551615u}),
            "[[server.keys]]\n"
            "name = \"ops\"\n"
            "hash = \"sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\"\n"
            "scopes = [\"admin\"]\n"
            "workspaces = [7, 18446744073709551615]\n");
}

TEST(KeySnippetTest, NameIsEscapedAsTomlString) {
  std::string snippet = KeyConfigSnippet("say \"hi\"\\\n", kAbcHash, ScopeBit(Scope::kQuery), {});
  EXPECT_EQ(snippet.substr(0, snippet.find("hash")), "[[server.keys]]\nname = \"say \\\"hi\\\"\\\\\\u000a\"\n");
}

}  // namespace
}  // namespace pqflow::server
