#include "storage/aws_credentials.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "temp_dir.h"

namespace pqflow::storage {
namespace {

class AwsCredentialsTest : public ::testing::Test {
 protected:
  AwsCredentialsTest() {
    std::filesystem::create_directories(home_ / ".aws");
    sources_.home_dir = home_.path();
    sources_.getenv = [this](const std::string& name) -> std::optional<std::string> {
      auto it = env_.find(name);
      if (it == env_.end()) return std::nullopt;
      return it->second;
    };
  }
  void Write(const std::string& rel, const std::string& text) { std::ofstream(home_ / rel) << text; }

  testing::TempDir home_;
  std::map<std::string, std::string> env_;
  AwsConfigSources sources_;
};

TEST(IniTest, ParsesSectionsCommentsAndNestedSettings) {
  IniFile ini = ParseIni(
      "# comment\n[default]\naws_access_key_id = AKID1 \r\n; other\n"
      "[profile dev]\nregion=eu-west-1\ns3 =\n  addressing_style = path\nkey = a=b\n");
  EXPECT_EQ(ini["default"]["aws_access_key_id"], "AKID1");
  EXPECT_EQ(ini["profile dev"]["region"], "eu-west-1");
  EXPECT_EQ(ini["profile dev"]["key"], "a=b");
  EXPECT_EQ(ini["profile dev"].count("addressing_style"), 0u);
}

TEST_F(AwsCredentialsTest, EnvironmentWins) {
  env_ = {{"AWS_ACCESS_KEY_ID", "ENVKEY"}, {"AWS_SECRET_ACCESS_KEY", "envsecret"}, {"AWS_SESSION_TOKEN", "tok"}};
  Write(".aws/credentials", "[default]\naws_access_key_id=FILEKEY\naws_secret_access_key=filesecret\n");
  auto c = LoadAwsCredentials("", sources_);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "ENVKEY");
  EXPECT_EQ(c->session_token, "tok");
}

TEST_F(AwsCredentialsTest, ProfileFromCredentialsFileThenConfigFile) {
  Write(".aws/credentials",
        "[default]\naws_access_key_id=DEF\naws_secret_access_key=s1\n[prod]\naws_access_key_id = PROD\n"
        "aws_secret_access_key = s2\naws_session_token = t2\n");
  Write(".aws/config", "[profile cfgonly]\naws_access_key_id=CFG\naws_secret_access_key=s3\nregion=ap-south-1\n"
                       "[default]\nregion=eu-central-1\n");
  EXPECT_EQ(LoadAwsCredentials("", sources_)->access_key_id, "DEF");
  auto prod = LoadAwsCredentials("prod", sources_);
  ASSERT_TRUE(prod.ok());
  EXPECT_EQ(prod->secret_access_key, "s2");
  EXPECT_EQ(prod->session_token, "t2");
  env_["AWS_PROFILE"] = "cfgonly";
  EXPECT_EQ(LoadAwsCredentials("", sources_)->access_key_id, "CFG");
  EXPECT_EQ(LoadAwsRegion("", sources_), "ap-south-1");
  EXPECT_EQ(LoadAwsRegion("default", sources_), "eu-central-1");
  env_["AWS_DEFAULT_REGION"] = "us-west-2";
  EXPECT_EQ(LoadAwsRegion("", sources_), "us-west-2");
  env_["AWS_REGION"] = "us-east-2";
  EXPECT_EQ(LoadAwsRegion("", sources_), "us-east-2");
}

TEST_F(AwsCredentialsTest, ExplicitFilePathsAndMissingProfile) {
  Write("creds.ini", "[x]\naws_access_key_id=XK\naws_secret_access_key=very-secret\n");
  env_["AWS_SHARED_CREDENTIALS_FILE"] = home_ / "creds.ini";
  EXPECT_EQ(LoadAwsCredentials("x", sources_)->access_key_id, "XK");
  auto missing = LoadAwsCredentials("nope", sources_);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("'nope'"), std::string::npos);
  EXPECT_EQ(missing.status().message().find("very-secret"), std::string::npos);
}

}  // namespace
}  // namespace pqflow::storage
