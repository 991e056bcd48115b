// S3Client against a real s3rver behind the SigV4-verifying proxy (tests/support/s3_server.h).
#include "storage/s3_client.h"

#include <curl/curl.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <ctime>
#include <fstream>
#include <random>
#include <sstream>

#include "s3_server.h"
#include "temp_dir.h"

namespace pqflow::storage {
namespace {

using pqflow::testing::S3FaultSpec;
using pqflow::testing::S3Server;

std::string RandomBytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string s(n, '\0');
  for (size_t i = 0; i < n; i += 8) {
    uint64_t v = rng();
    std::memcpy(&s[i], &v, std::min<size_t>(8, n - i));
  }
  return s;
}

void WriteLocal(const std::string& path, const std::string& data) { std::ofstream(path, std::ios::binary) << data; }
std::string ReadLocal(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

size_t Append(char* d, size_t s, size_t n, void* out) {
  static_cast<std::string*>(out)->append(d, s * n);
  return s * n;
}
// A plain libcurl GET (no signing): for presigned URLs.
long CurlGet(const std::string& url, std::string& body) {
  CURL* curl = curl_easy_init();
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &Append);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
  long status = 0;
  if (curl_easy_perform(curl) == CURLE_OK) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(curl);
  return status;
}

class S3ClientTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = S3Server::Start().release(); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void TearDown() override { server_->SetFaults({}); }

  static S3ClientOptions Options() {
    S3ClientOptions o;
    o.endpoint = server_->endpoint();
    o.region = server_->options().region;
    o.bucket = server_->options().bucket;
    o.credentials = {server_->options().access_key_id, server_->options().secret_access_key, ""};
    o.part_size = 5 << 20;
    o.retry.base_delay = std::chrono::milliseconds(10);
    o.retry.max_delay = std::chrono::milliseconds(200);
    o.retry.max_attempts = 8;
    return o;
  }
  static std::unique_ptr<S3Client> Client(S3ClientOptions o = Options()) {
    auto c = S3Client::Make(std::move(o));
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return std::move(c).value();
  }
  static S3Server* server_;
  pqflow::testing::TempDir tmp_;
};
S3Server* S3ClientTest::server_ = nullptr;

TEST(S3ClientUnitTest, XmlHelpers) {
  std::string xml = "<R><Contents><Key>a&amp;b</Key><ETag>&quot;x&quot;</ETag></Contents><Contents><Key>c</Key>"
                    "</Contents><IsTruncated>false</IsTruncated></R>";
  auto blocks = XmlBlocks(xml, "Contents");
  ASSERT_EQ(blocks.size(), 2u);
  EXPECT_EQ(XmlField(blocks[0], "Key"), "a&b");
  EXPECT_EQ(XmlField(blocks[0], "ETag"), "\"x\"");
  EXPECT_EQ(XmlField(xml, "Missing"), "");
  EXPECT_TRUE(IsRetryableS3Error(503, "SlowDown"));
  EXPECT_TRUE(IsRetryableS3Error(200, "InternalError"));
  EXPECT_TRUE(IsRetryableS3Error(429, ""));
  EXPECT_FALSE(IsRetryableS3Error(403, "SignatureDoesNotMatch"));
  EXPECT_FALSE(IsRetryableS3Error(404, "NoSuchKey"));
}

TEST(S3ClientUnitTest, MakeValidatesOptions) {
  S3ClientOptions o;
  o.endpoint = "127.0.0.1:9000";
  o.bucket = "b";
  o.credentials = {"AK", "SK", ""};
  EXPECT_EQ(S3Client::Make(o).status().code(), StatusCode::kInvalidArgument);
  o.endpoint = "http://127.0.0.1:9000";
  EXPECT_TRUE(S3Client::Make(o).ok());
  o.credentials.secret_access_key = "";
  EXPECT_EQ(S3Client::Make(o).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(S3ClientTest, PutGetHeadDeleteRoundTrip) {
  auto client = Client();
  const std::string key = "dt=2026-01-15/part 0+ü.parquet";
  const std::string data = RandomBytes(100000, 1);
  ASSERT_TRUE(client->PutObject(key, data).ok());
  auto got = client->GetObject(key);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, data);
  auto head = client->HeadObject(key);
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  EXPECT_EQ(head->size, 100000);
  EXPECT_FALSE(head->etag.empty());

  const std::string local = tmp_ / "up.bin";
  WriteLocal(local, RandomBytes(300000, 2));
  ASSERT_TRUE(client->PutObjectFromFile("from-file.bin", local).ok());
  ASSERT_TRUE(client->GetObjectToFile("from-file.bin", tmp_ / "down.bin").ok());
  EXPECT_EQ(ReadLocal(tmp_ / "down.bin"), ReadLocal(local));

  ASSERT_TRUE(client->DeleteObject(key).ok());
  auto gone = client->GetObject(key);
  EXPECT_EQ(gone.status().code(), StatusCode::kNotFound) << gone.status().ToString();
  EXPECT_NE(gone.status().message().find("NoSuchKey"), std::string::npos) << gone.status().ToString();
  EXPECT_EQ(client->HeadObject(key).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(client->DeleteObject(key).ok());
  EXPECT_EQ(server_->Stats().rejected, 0);
}

TEST_F(S3ClientTest, ListsEveryPage) {
  auto client = Client();
  for (int i = 0; i < 23; ++i) ASSERT_TRUE(client->PutObject("list/k" + std::to_string(100 + i), "v").ok());
  ASSERT_TRUE(client->PutObject("other/x", "v").ok());
  auto all = client->ListObjects("list/", 5);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), 23u);
  for (int i = 0; i < 23; ++i) EXPECT_EQ((*all)[i].key, "list/k" + std::to_string(100 + i));
  EXPECT_EQ((*all)[0].size, 1);
}

TEST_F(S3ClientTest, MultipartUploadOfTwentyMegabytes) {
  auto client = Client();
  const std::string local = tmp_ / "big.bin";
  WriteLocal(local, RandomBytes(20 * 1000 * 1000 + 123, 3));  // 4 full 5 MiB parts
  const int before = server_->Stats().requests;
  ASSERT_TRUE(client->PutLargeFile("big/file.bin", local).ok());
  EXPECT_GE(server_->Stats().requests - before, 1 + 4 + 1);  // create, parts, complete
  ASSERT_TRUE(client->GetObjectToFile("big/file.bin", tmp_ / "big.down").ok());
  EXPECT_TRUE(ReadLocal(tmp_ / "big.down") == ReadLocal(local));
  EXPECT_TRUE(server_->PendingMultipartUploads().empty());
}

TEST_F(S3ClientTest, ExplicitMultipartAndAbort) {
  auto client = Client();
  auto id = client->CreateMultipartUpload("mp/aborted");
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  auto etag = client->UploadPart("mp/aborted", *id, 1, RandomBytes(1000, 4));
  ASSERT_TRUE(etag.ok()) << etag.status().ToString();
  EXPECT_EQ(server_->PendingMultipartUploads().size(), 1u);
  ASSERT_TRUE(client->AbortMultipartUpload("mp/aborted", *id).ok());
  EXPECT_TRUE(server_->PendingMultipartUploads().empty());
  EXPECT_EQ(client->AbortMultipartUpload("mp/aborted", *id).code(), StatusCode::kNotFound);
}

TEST_F(S3ClientTest, WrongSecretIsAClearForbiddenError) {
  S3ClientOptions o = Options();
  o.credentials.secret_access_key = "wrong-secret-value";
  auto client = Client(o);
  Status s = client->PutObject("secret/key.txt", "data");
  ASSERT_EQ(s.code(), StatusCode::kPermissionDenied) << s.ToString();
  EXPECT_NE(s.message().find("PutObject"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("s3://pqflow-test/secret/key.txt"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("403 SignatureDoesNotMatch"), std::string::npos) << s.message();
  EXPECT_EQ(s.message().find("wrong-secret-value"), std::string::npos);
  EXPECT_EQ(client->GetObject("secret/key.txt").status().code(), StatusCode::kPermissionDenied);
  // Not retried: one request per call.
  const int before = server_->Stats().requests;
  EXPECT_FALSE(client->HeadObject("x").ok());
  EXPECT_EQ(server_->Stats().requests - before, 1);
}

TEST_F(S3ClientTest, PresignedGetWorksAndExpires) {
  auto client = Client();
  ASSERT_TRUE(client->PutObject("presign/a b.txt", "presigned body").ok());
  const int64_t now = std::time(nullptr);
  auto url = client->PresignGetUrl("presign/a b.txt", 60, now);
  ASSERT_TRUE(url.ok()) << url.status().ToString();
  std::string body;
  EXPECT_EQ(CurlGet(*url, body), 200) << body;
  EXPECT_EQ(body, "presigned body");

  auto expired = client->PresignGetUrl("presign/a b.txt", 10, now - 3600);
  ASSERT_TRUE(expired.ok());
  body.clear();
  EXPECT_EQ(CurlGet(*expired, body), 403);
  EXPECT_NE(body.find("Request has expired"), std::string::npos) << body;

  std::string tampered = *url;
  tampered.replace(tampered.find("a%20b"), 5, "a%20c");
  body.clear();
  EXPECT_EQ(CurlGet(tampered, body), 403);
  EXPECT_NE(body.find("SignatureDoesNotMatch"), std::string::npos) << body;
}

TEST_F(S3ClientTest, AStalledAnswerIsAbortedAndRetriedAndTheDownloadIsWhole) {
  S3ClientOptions o = Options();
  o.stall_timeout = std::chrono::milliseconds(1000);
  // Each attempt stalls with probability 1/2: with the default 5 attempts, 1 download in 32
  // would fail for good (seen once in a full `make test`); with 12, 1 in 4,096.
  o.retry.max_attempts = 12;
  auto client = Client(o);
  const std::string data = RandomBytes(1 << 20, 7);
  ASSERT_TRUE(client->PutObject("stall/obj", data).ok());
  server_->SetFaults({0.5, {"stall"}, "stall/", "GET"});
  const int faults_before = server_->Stats().faults;
  const auto start = std::chrono::steady_clock::now();
  int downloads = 0;
  // Until at least one answer stalled (the proxy goes silent for 8 s), at most 12 downloads.
  while (server_->Stats().faults == faults_before && downloads < 12) {
    auto got = client->GetObjectToFile("stall/obj", tmp_ / "stalled.bin");
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(ReadLocal(tmp_ / "stalled.bin"), data);  // truncated before the retry: no doubled bytes
    ++downloads;
  }
  server_->SetFaults({});
  EXPECT_GT(server_->Stats().faults, faults_before);
  // Each stall cost about the 1 s stall timeout plus a backoff, not the proxy's 8 s.
  const auto per_stall = (std::chrono::steady_clock::now() - start) / (server_->Stats().faults - faults_before);
  EXPECT_LT(per_stall, std::chrono::seconds(5));
}

TEST_F(S3ClientTest, RetriesThroughInjectedFaults) {
  auto client = Client();
  server_->SetFaults({0.3, {"500", "503", "slowdown", "drop"}, "", ""});
  const int faults_before = server_->Stats().faults;
  for (int i = 0; i < 10; ++i) {
    const std::string key = "faults/k" + std::to_string(i);
    Status put = client->PutObject(key, "value " + std::to_string(i));
    ASSERT_TRUE(put.ok()) << put.ToString();
    auto got = client->GetObject(key);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(*got, "value " + std::to_string(i));
    auto head = client->HeadObject(key);
    ASSERT_TRUE(head.ok()) << head.status().ToString();
  }
  auto listed = client->ListObjects("faults/", 3);
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  EXPECT_EQ(listed->size(), 10u);
  const std::string local = tmp_ / "mp.bin";
  WriteLocal(local, RandomBytes(11 << 20, 5));
  server_->SetFaults({0.3, {"500", "503", "slowdown", "drop", "complete200"}, "", ""});
  Status large = client->PutLargeFile("faults/mp.bin", local);
  ASSERT_TRUE(large.ok()) << large.ToString();
  server_->SetFaults({});
  EXPECT_GT(server_->Stats().faults - faults_before, 5);
  EXPECT_EQ(*client->GetObject("faults/mp.bin"), ReadLocal(local));
  EXPECT_TRUE(server_->PendingMultipartUploads().empty());
}

TEST_F(S3ClientTest, CompleteErrorInsideOkBodyIsDetected) {
  S3ClientOptions o = Options();
  o.retry.max_attempts = 1;
  auto client = Client(o);
  auto id = client->CreateMultipartUpload("ok-body/x");
  ASSERT_TRUE(id.ok());
  auto etag = client->UploadPart("ok-body/x", *id, 1, "part");
  ASSERT_TRUE(etag.ok());
  server_->SetFaults({1.0, {"complete200"}, "", ""});
  Status s = client->CompleteMultipartUpload("ok-body/x", *id, {{1, *etag}});
  server_->SetFaults({});
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(s.retryable()) << s.ToString();
  EXPECT_NE(s.message().find("InternalError"), std::string::npos) << s.ToString();
  ASSERT_TRUE(client->AbortMultipartUpload("ok-body/x", *id).ok());
}

TEST_F(S3ClientTest, FailedMultipartUploadIsAborted) {
  S3ClientOptions o = Options();
  o.retry.max_attempts = 3;
  auto client = Client(o);
  const std::string local = tmp_ / "doomed.bin";
  WriteLocal(local, RandomBytes(12 << 20, 6));
  server_->SetFaults({1.0, {"part500"}, "", ""});  // every UploadPart fails, Create and Abort get through
  const int before = server_->Stats().requests;
  Status s = client->PutLargeFile("doomed.bin", local);
  const int requests = server_->Stats().requests - before;
  server_->SetFaults({});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("UploadPart s3://pqflow-test/doomed.bin: HTTP 500 InternalError"), std::string::npos)
      << s.ToString();
  EXPECT_NE(s.message().find("after 3 attempts"), std::string::npos) << s.ToString();
  EXPECT_EQ(s.message().find("abort failed"), std::string::npos) << s.ToString();
  EXPECT_GE(requests, 1 + 3 + 1);  // create, one part's 3 attempts, abort
  EXPECT_TRUE(server_->PendingMultipartUploads().empty());
  EXPECT_EQ(client->HeadObject("doomed.bin").status().code(), StatusCode::kNotFound);
  // A re-run without faults completes.
  ASSERT_TRUE(client->PutLargeFile("doomed.bin", local).ok());
  EXPECT_EQ(client->HeadObject("doomed.bin")->size, 12 << 20);
}

}  // namespace
}  // namespace pqflow::storage
