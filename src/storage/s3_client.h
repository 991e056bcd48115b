// A small S3 client over libcurl and the SigV4 signer (sigv4.h): single-object operations,
// listing, multipart upload, presigned GET URLs. Every call returns a Status naming the
// operation, s3://bucket/key, the HTTP status and S3's error Code and Message. The secret
// access key never appears in a Status or a log line.
//
// Retries: 5xx, 429, S3's SlowDown/InternalError/RequestTimeout (also inside a 200 body of
// CompleteMultipartUpload), timeouts and connection failures are retried with exponential
// backoff and full jitter, up to retry.max_attempts; other 4xx fail at once. Every operation is
// idempotent on S3 (a PUT replaces, a part number is re-uploaded), so retrying is safe.
//
// Thread-safety: all methods may be called from several threads at once. Each thread keeps
// one curl handle, so connections are reused.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "storage/sigv4.h"

namespace pqflow::storage {

struct S3RetryPolicy {
  int max_attempts = 5;  // including the first; 1 disables retries
  std::chrono::milliseconds base_delay{100};  // attempt n waits up to base * 2^(n-1), jittered
  std::chrono::milliseconds max_delay{5000};
};

struct S3ClientOptions {
  // "http://127.0.0.1:9000" or "https://s3.eu-west-1.amazonaws.com"; no path, no trailing '/'.
  std::string endpoint;
  std::string region = "us-east-1";
  std::string bucket;
  // true: http://host/bucket/key (MinIO, s3rver); false: http://bucket.host/key (AWS default).
  bool path_style = true;
  AwsCredentials credentials;
  std::chrono::milliseconds connect_timeout{5000};
  // A transfer slower than 1 KiB/s for this long is aborted (and retried): a stalled connection.
  std::chrono::milliseconds stall_timeout{30000};
  S3RetryPolicy retry;
  // PutLargeFile: part size (S3: at least 5 MiB except the last, at most 10000 parts) and how
  // many parts are in flight at once. Memory stays O(1) per part in flight: parts are
  // streamed from the file, never held whole.
  int64_t part_size = 8 << 20;
  int upload_threads = 4;
};

struct S3ObjectInfo {
  std::string key;
  int64_t size = 0;
  std::string etag;  // with its quotes, as S3 sends it
};

struct S3CompletedPart {
  int part_number = 0;  // 1..10000
  std::string etag;
};

class S3Client {
 public:
  // InvalidArgument for a malformed endpoint, an empty bucket or missing credentials.
  static Result<std::unique_ptr<S3Client>> Make(S3ClientOptions options);
  ~S3Client();
  S3Client(const S3Client&) = delete;
  S3Client& operator=(const S3Client&) = delete;

  const S3ClientOptions& options() const { return options_; }

  // Single PUT with the body's SHA-256 signed in x-amz-content-sha256 (S3 refuses a body that
  // does not match it, so no Content-MD5 is computed: one hash per byte uploaded).
  // PutObjectFromFile streams the file (read twice: once to hash, once to send).
  Status PutObject(const std::string& key, std::string_view data);
  Status PutObjectFromFile(const std::string& key, const std::string& local_path);
  // NotFound when the key does not exist.
  Result<std::string> GetObject(const std::string& key);
  // Writes local_path (truncated first, and again before each retry). Returns the size and
  // ETag of what was downloaded.
  Result<S3ObjectInfo> GetObjectToFile(const std::string& key, const std::string& local_path);
  Result<S3ObjectInfo> HeadObject(const std::string& key);
  Status DeleteObject(const std::string& key);  // OK if absent (as S3)
  // Every object under `prefix`, following continuation tokens through all pages, in key order.
  // max_keys_per_page: 1..1000 (tests use small pages).
  Result<std::vector<S3ObjectInfo>> ListObjects(const std::string& prefix, int max_keys_per_page = 1000);
  // One page: the first `max_keys` objects under `prefix` whose keys sort after `start_after`
  // ("" = from the start), and whether more follow.
  struct ListPage {
    std::vector<S3ObjectInfo> objects;
    bool truncated = false;
  };
  Result<ListPage> ListObjectsPage(const std::string& prefix, const std::string& start_after, int max_keys = 1000);

  // ---- Multipart upload. ----
  Result<std::string> CreateMultipartUpload(const std::string& key);  // the upload id
  // The part's ETag. `data` must stay valid during the call.
  Result<std::string> UploadPart(const std::string& key, const std::string& upload_id, int part_number,
                                 std::string_view data);
  // Parts in ascending part_number order. An <Error> inside a 200 answer is an error (retried
  // when S3 marks it as transient).
  Status CompleteMultipartUpload(const std::string& key, const std::string& upload_id,
                                 const std::vector<S3CompletedPart>& parts);
  Status AbortMultipartUpload(const std::string& key, const std::string& upload_id);
  // Uploads a file of any size: a single PutObjectFromFile up to part_size, else a multipart
  // upload of part_size parts with upload_threads parts in flight. On any failure the upload
  // is aborted (best effort, the abort retried too), so no parts are left behind.
  Status PutLargeFile(const std::string& key, const std::string& local_path);

  // A presigned GET URL valid `expires_seconds` (1 s .. 7 days) from `unix_seconds`.
  Result<std::string> PresignGetUrl(const std::string& key, int64_t expires_seconds, int64_t unix_seconds) const;

  struct Request;  // one HTTP exchange (s3_client.cc)

 private:
  explicit S3Client(S3ClientOptions options);
  Result<std::string> UploadFilePart(const std::string& key, const std::string& upload_id, int part_number,
                                     const std::string& local_path, int64_t offset, int64_t length);
  Status UploadAllParts(const std::string& key, const std::string& upload_id, const std::string& local_path,
                        int64_t size, std::vector<S3CompletedPart>& parts);

  S3ClientOptions options_;
  std::string scheme_host_;  // "http://127.0.0.1:9000" or "https://bucket.s3....": what URLs start with
  std::string host_header_;  // "127.0.0.1:9000": what curl sends as Host, and what is signed
};

// ---- Exposed for tests. ----

// The text of the first <name>...</name> element in `xml`, XML entities decoded; empty if absent.
std::string XmlField(std::string_view xml, std::string_view name);
// The text of every <name>...</name> block, in order (e.g. each <Contents> of a listing).
std::vector<std::string> XmlBlocks(std::string_view xml, std::string_view name);
// Whether an S3 answer (HTTP status, error Code) is worth retrying.
bool IsRetryableS3Error(long http_status, std::string_view code);

}  // namespace pqflow::storage
