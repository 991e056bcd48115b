// `pqflow presign` against a real S3-compatible server (s3rver behind a proxy that verifies
// every SigV4 signature independently): the URL downloads the file, until it expires.
#include <gtest/gtest.h>
#include <httplib.h>
#include <stdlib.h>

#include <chrono>
#include <thread>

#include "aws_environment.h"
#include "harness.h"
#include "s3_server.h"
#include "storage/s3_client.h"

namespace pqflow::testing {
namespace {

// GET of a full URL, sent exactly as signed.
httplib::Result Fetch(const std::string& url) {
  const size_t path = url.find('/', url.find("://") + 3);
  httplib::Client client(url.substr(0, path));
  client.set_url_encode(false);
  return client.Get(url.substr(path).c_str());
}

TEST(PresignTest, AUrlDownloadsTheFileUntilItExpires) {
  auto s3 = S3Server::Start();
  TempDir dir;
  AwsEnvironment env(*s3, dir.path());
  WriteFile(dir / "pqflow.toml", "[storage]\nroot = \"s3://" + s3->options().bucket + "/lake\"\nendpoint = \"" +
                                     s3->endpoint() + "\"\nregion = \"" + s3->options().region + "\"\n");
  storage::S3ClientOptions options;
  options.endpoint = s3->endpoint();
  options.region = s3->options().region;
  options.bucket = s3->options().bucket;
  options.credentials = {s3->options().access_key_id, s3->options().secret_access_key, ""};
  auto client = storage::S3Client::Make(options);
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  const std::string body = "PAR1 not really parquet, but bytes all the same";
  ASSERT_TRUE((*client)->PutObject("lake/analytics/day=1/file a.parquet", body).ok());

  CommandResult r = Pqflow({"--config", "pqflow.toml", "presign", "analytics/day=1/file a.parquet"}, dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string url = r.out.substr(0, r.out.find('\n'));
  EXPECT_NE(url.find("X-Amz-Expires=3600"), std::string::npos) << url;
  EXPECT_EQ(url.find(s3->options().secret_access_key), std::string::npos);
  auto got = Fetch(url);
  ASSERT_TRUE(got) << url;
  EXPECT_EQ(got->status, 200) << got->body;
  EXPECT_EQ(got->body, body);

  // One second of validity: refused (by the verifying proxy) once it is over.
  r = Pqflow({"--config", "pqflow.toml", "presign", "analytics/day=1/file a.parquet", "--expires", "1s"}, dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));
  got = Fetch(r.out.substr(0, r.out.find('\n')));
  ASSERT_TRUE(got);
  EXPECT_EQ(got->status, 403) << got->body;
  EXPECT_NE(got->body.find("expired"), std::string::npos) << got->body;

  // Errors say what to do.
  r = Pqflow({"--config", "pqflow.toml", "presign", "analytics/nope.parquet"}, dir.path());
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("no file analytics/nope.parquet under s3://"), std::string::npos) << r.err;
  r = Pqflow({"--config", "pqflow.toml", "presign", "analytics/day=1/file a.parquet", "--expires", "8d"}, dir.path());
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("604800"), std::string::npos) << r.err;
  r = Pqflow({"--root", dir.path(), "presign", "x.parquet"}, dir.path());
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("presign needs an S3 storage root"), std::string::npos) << r.err;
}

TEST(PresignTest, AWrongSecretIsRefusedWithoutShowingIt) {
  auto s3 = S3Server::Start();
  TempDir dir;
  AwsEnvironment env(*s3, dir.path());
  setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret", 1);
  WriteFile(dir / "pqflow.toml", "[storage]\nroot = \"s3://" + s3->options().bucket + "\"\nendpoint = \"" +
                                     s3->endpoint() + "\"\n");
  CommandResult r = Pqflow({"--config", "pqflow.toml", "presign", "x.parquet"}, dir.path());
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("403"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("not-the-secret"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace pqflow::testing
