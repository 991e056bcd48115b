#include "core/dynamic_library.h"

#include <gtest/gtest.h>

#include <cstring>

namespace pqflow {
namespace {

TEST(DynamicLibraryTest, ResolvesFunctionsOfALibrary) {
  void* strlen_address = nullptr;
  ASSERT_TRUE(LoadLibrarySymbols("libc.so.6", "libc6", {{"strlen", &strlen_address}}).ok());
  ASSERT_NE(strlen_address, nullptr);
  EXPECT_EQ(reinterpret_cast<size_t (*)(const char*)>(strlen_address)("pqflow"), 6u);
}

TEST(DynamicLibraryTest, AMissingLibraryNamesThePackageToInstall) {
  void* unused = nullptr;
  Status s = LoadLibrarySymbols("libpqflow-no-such-library.so.9", "libpqflow-none9", {{"f", &unused}});
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("cannot load libpqflow-no-such-library.so.9"), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find("install the Debian package libpqflow-none9"), std::string::npos) << s.ToString();
}

TEST(DynamicLibraryTest, AMissingFunctionIsNamed) {
  void* unused = nullptr;
  Status s = LoadLibrarySymbols("libc.so.6", "libc6", {{"pqflow_no_such_function", &unused}});
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("libc.so.6 has no function pqflow_no_such_function"), std::string::npos)
      << s.ToString();
}

TEST(DynamicLibraryTest, ALazyLibraryLoadsOnceAndGivesTheSameAnswerAfter) {
  void* strlen_address = nullptr;
  LazyLibrary libc("libc.so.6", "libc6", {{"strlen", &strlen_address}});
  EXPECT_EQ(strlen_address, nullptr);  // nothing happens before the first use
  ASSERT_TRUE(libc.Load().ok());
  EXPECT_NE(strlen_address, nullptr);
  EXPECT_TRUE(libc.Load().ok());

  void* unused = nullptr;
  LazyLibrary missing("libpqflow-no-such-library.so.9", "libpqflow-none9", {{"f", &unused}});
  EXPECT_FALSE(missing.Load().ok());
  EXPECT_EQ(missing.Load().message(), missing.Load().message());
}

TEST(DynamicLibraryDeathTest, AForwardingCallToAMissingLibraryAbortsSayingWhatToInstall) {
  void* unused = nullptr;
  LazyLibrary missing("libpqflow-no-such-library.so.9", "libpqflow-none9", {{"f", &unused}});
  EXPECT_DEATH(missing.LoadOrDie(), "install the Debian package libpqflow-none9");
}

}  // namespace
}  // namespace pqflow
