#include "storage/s3_client.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <mutex>
#include <random>
#include <thread>

#include "core/crypto.h"
#include "core/unique_fd.h"
#include "storage/libcurl_loader.h"

namespace pqflow::storage {

namespace {

// One curl handle per thread: curl_easy_reset keeps its connection cache, so requests from
// the same thread reuse connections.
struct CurlHandle {
  CURL* curl = curl_easy_init();
  ~CurlHandle() {
    if (curl != nullptr) curl_easy_cleanup(curl);
  }
};

CURL* ThreadCurl() {
  thread_local CurlHandle handle;
  curl_easy_reset(handle.curl);
  return handle.curl;
}

Result<int64_t> FileSize(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return Status::FromErrno("opening " + path, errno);
  off_t size = ::lseek(fd.get(), 0, SEEK_END);
  if (size < 0) return Status::FromErrno("seeking " + path, errno);
  return static_cast<int64_t>(size);
}

std::string XmlEscape(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '&') out += "&amp;";
    else if (c == '<') out += "&lt;";
    else if (c == '>') out += "&gt;";
    else if (c == '"') out += "&quot;";
    else out += c;
  }
  return out;
}

std::string XmlUnescape(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    size_t semi = text[i] == '&' ? text.find(';', i) : std::string_view::npos;
    if (semi == std::string_view::npos || semi - i > 10) {
      out += text[i];
      continue;
    }
    std::string_view entity = text.substr(i + 1, semi - i - 1);
    if (entity == "amp") out += '&';
    else if (entity == "lt") out += '<';
    else if (entity == "gt") out += '>';
    else if (entity == "quot") out += '"';
    else if (entity == "apos") out += '\'';
    else if (entity.starts_with("#x")) out += static_cast<char>(std::stoi(std::string(entity.substr(2)), nullptr, 16));
    else if (entity.starts_with("#")) out += static_cast<char>(std::stoi(std::string(entity.substr(1))));
    else out.append(text.substr(i, semi - i + 1));
    i = semi;
  }
  return out;
}

bool IsRetryableCurlError(CURLcode rc) {
  switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_SEND_FAIL_REWIND:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return true;
    default:
      return false;
  }
}

std::once_flag curl_init_once;

}  // namespace

std::string XmlField(std::string_view xml, std::string_view name) {
  const std::string open = "<" + std::string(name) + ">";
  const std::string close = "</" + std::string(name) + ">";
  size_t start = xml.find(open);
  if (start == std::string_view::npos) return "";
  start += open.size();
  size_t end = xml.find(close, start);
  if (end == std::string_view::npos) return "";
  return XmlUnescape(xml.substr(start, end - start));
}

std::vector<std::string> XmlBlocks(std::string_view xml, std::string_view name) {
  const std::string open = "<" + std::string(name) + ">";
  const std::string close = "</" + std::string(name) + ">";
  std::vector<std::string> blocks;
  for (size_t at = xml.find(open); at != std::string_view::npos; at = xml.find(open, at)) {
    size_t end = xml.find(close, at + open.size());
    if (end == std::string_view::npos) break;
    blocks.emplace_back(xml.substr(at + open.size(), end - at - open.size()));
    at = end + close.size();
  }
  return blocks;
}

bool IsRetryableS3Error(long http_status, std::string_view code) {
  if (http_status >= 500 || http_status == 429) return true;
  return code == "SlowDown" || code == "InternalError" || code == "RequestTimeout" || code == "ServiceUnavailable";
}

// One HTTP exchange: what to send, and where the answer goes. Sent again, unchanged, on a retry.
struct S3Client::Request {
  const char* operation = "";  // "PutObject": for error messages
  std::string method = "GET";
  std::string key;             // decoded; empty for bucket operations
  KeyValueList query;          // decoded
  KeyValueList headers;        // extra headers, all signed
  std::string payload_sha256_hex = std::string(kEmptyPayloadSha256);
  // The body: `body`, or `length` bytes of `body_file` from `body_offset`.
  std::string_view body;
  std::string body_file;
  int64_t body_offset = 0;
  int64_t length = -1;         // -1: body.size()
  std::string response_file;   // if set, a 2xx body goes there instead of Response::body
  bool head = false;
};

namespace {

struct Response {
  CURLcode curl_code = CURLE_OK;
  std::string curl_error;
  long status = 0;
  std::string body;  // the answer's body (or the error body when streaming to a file)
  std::string etag;
  int64_t content_length = -1;
};

struct Transfer {
  const S3Client::Request* request = nullptr;
  Response* response = nullptr;
  CURL* curl = nullptr;
  int in_fd = -1;
  int out_fd = -1;
  int64_t sent = 0;
  bool write_failed = false;
};

size_t ReadBody(char* buf, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const auto& req = *t->request;
  const int64_t length = req.length >= 0 ? req.length : static_cast<int64_t>(req.body.size());
  size_t want = static_cast<size_t>(std::min<int64_t>(length - t->sent, static_cast<int64_t>(size * n)));
  if (want == 0) return 0;
  if (t->in_fd < 0) {
    std::memcpy(buf, req.body.data() + t->sent, want);
  } else {
    ssize_t got;
    do {
      got = ::pread(t->in_fd, buf, want, req.body_offset + t->sent);
    } while (got < 0 && errno == EINTR);
    if (got <= 0) return CURL_READFUNC_ABORT;
    want = static_cast<size_t>(got);
  }
  t->sent += static_cast<int64_t>(want);
  return want;
}

// curl rewinds the body when it re-sends a request on a fresh connection (the reused one had
// been closed by the server).
int SeekBody(void* user, curl_off_t offset, int origin) {
  auto* t = static_cast<Transfer*>(user);
  if (origin != SEEK_SET || offset < 0) return CURL_SEEKFUNC_CANTSEEK;
  t->sent = static_cast<int64_t>(offset);
  return CURL_SEEKFUNC_OK;
}

size_t WriteBody(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  long status = 0;
  curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
  const size_t bytes = size * n;
  if (t->out_fd < 0 || status < 200 || status >= 300) {
    t->response->body.append(data, bytes);
    return bytes;
  }
  for (size_t done = 0; done < bytes;) {
    ssize_t w = ::write(t->out_fd, data + done, bytes - done);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) {
      t->write_failed = true;
      return 0;
    }
    done += static_cast<size_t>(w);
  }
  return bytes;
}

size_t ReadHeader(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string_view line(data, size * n);
  size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    std::string name(line.substr(0, colon));
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) value.remove_suffix(1);
    if (name == "etag") t->response->etag = std::string(value);
    if (name == "content-length") t->response->content_length = std::atoll(std::string(value).c_str());
  }
  return size * n;
}

}  // namespace

namespace {

// Builds the Status of a failed exchange. Never includes the request's headers (they carry the
// signature and maybe the session token).
Status S3Error(const S3Client::Request& req, const std::string& bucket, const Response& resp) {
  std::string what = std::string("S3 ") + req.operation + " s3://" + bucket + "/" + req.key + ": ";
  if (resp.curl_code != CURLE_OK) {
    return Status::IOError(what + curl_easy_strerror(resp.curl_code) +
                               (resp.curl_error.empty() ? "" : " (" + resp.curl_error + ")"),
                           IsRetryableCurlError(resp.curl_code));
  }
  const std::string code = XmlField(resp.body, "Code");
  std::string msg = what + "HTTP " + std::to_string(resp.status);
  if (!code.empty()) msg += " " + code;
  const std::string message = XmlField(resp.body, "Message");
  if (!message.empty()) msg += ": " + message;
  if (resp.status == 404) return Status::NotFound(msg);
  if (resp.status == 403) return Status::PermissionDenied(msg);
  return Status::IOError(msg, IsRetryableS3Error(resp.status, code));
}

}  // namespace

namespace {

struct Endpoint {
  std::string scheme;  // "http" or "https"
  std::string host;    // with ":port" unless the default one
};

Result<Endpoint> ParseEndpoint(const std::string& endpoint) {
  size_t sep = endpoint.find("://");
  if (sep == std::string::npos) return Status::InvalidArgument("S3 endpoint '" + endpoint + "' has no scheme://");
  Endpoint e{endpoint.substr(0, sep), endpoint.substr(sep + 3)};
  if (e.scheme != "http" && e.scheme != "https") {
    return Status::InvalidArgument("S3 endpoint '" + endpoint + "': scheme must be http or https");
  }
  if (e.host.empty() || e.host.find_first_of("/?#@ ") != std::string::npos) {
    return Status::InvalidArgument("S3 endpoint '" + endpoint + "' must be scheme://host[:port] without a path");
  }
  const std::string default_port = e.scheme == "http" ? ":80" : ":443";
  if (e.host.ends_with(default_port)) e.host.resize(e.host.size() - default_port.size());
  return e;
}

std::chrono::milliseconds BackoffDelay(const S3RetryPolicy& policy, int attempt) {
  thread_local std::mt19937_64 rng(std::random_device{}());
  int64_t cap = policy.base_delay.count() << std::min(attempt - 1, 20);
  cap = std::min<int64_t>(cap, policy.max_delay.count());
  return std::chrono::milliseconds(std::uniform_int_distribution<int64_t>(0, std::max<int64_t>(cap, 0))(rng));
}

}  // namespace

Result<std::unique_ptr<S3Client>> S3Client::Make(S3ClientOptions options) {
  PQ_RETURN_IF_ERROR(LoadLibCurl().WithContext("S3 storage"));
  std::call_once(curl_init_once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  PQ_ASSIGN_OR_RETURN(Endpoint endpoint, ParseEndpoint(options.endpoint));
  if (options.bucket.empty() || options.bucket.find('/') != std::string::npos) {
    return Status::InvalidArgument("S3 bucket name '" + options.bucket + "' is empty or contains '/'");
  }
  if (options.credentials.access_key_id.empty() || options.credentials.secret_access_key.empty()) {
    return Status::InvalidArgument("S3 credentials missing: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
  }
  if (options.region.empty()) return Status::InvalidArgument("S3 region is empty");
  if (options.part_size < 5 << 20) return Status::InvalidArgument("S3 part size must be at least 5 MiB");
  options.retry.max_attempts = std::max(1, options.retry.max_attempts);
  options.upload_threads = std::max(1, options.upload_threads);
  std::unique_ptr<S3Client> client(new S3Client(std::move(options)));
  client->host_header_ = client->options_.path_style ? endpoint.host : client->options_.bucket + "." + endpoint.host;
  client->scheme_host_ = endpoint.scheme + "://" + client->host_header_;
  return client;
}

S3Client::S3Client(S3ClientOptions options) : options_(std::move(options)) {}
S3Client::~S3Client() = default;

namespace {

// One attempt of `req`, signed as of now.
Response PerformOnce(const S3Client::Request& req, const S3ClientOptions& options, const std::string& scheme_host,
                     const std::string& host_header) {
  Response resp;
  const std::string path =
      options.path_style ? "/" + options.bucket + (req.key.empty() ? "" : "/" + req.key) : "/" + req.key;
  SigningRequest signing;
  signing.method = req.method;
  signing.host = host_header;
  signing.path = path;
  signing.query = req.query;
  signing.headers = req.headers;
  signing.payload_sha256_hex = req.payload_sha256_hex;
  auto signed_headers = SignRequest(signing, options.credentials, SigningScope{options.region}, std::time(nullptr));
  if (!signed_headers.ok()) {
    resp.curl_code = CURLE_BAD_FUNCTION_ARGUMENT;
    resp.curl_error = signed_headers.status().message();
    return resp;
  }
  std::string url = scheme_host + CanonicalUri(path);
  if (!req.query.empty()) url += "?" + CanonicalQueryString(req.query);

  curl_slist* header_list = curl_slist_append(nullptr, "Expect:");
  for (const auto& list : {req.headers, *signed_headers}) {
    for (const auto& [name, value] : list) header_list = curl_slist_append(header_list, (name + ": " + value).c_str());
  }
  UniqueFd in(req.body_file.empty() ? -1 : ::open(req.body_file.c_str(), O_RDONLY | O_CLOEXEC));
  UniqueFd out(req.response_file.empty() ? -1
                                   : ::open(req.response_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if ((!req.body_file.empty() && in.get() < 0) || (!req.response_file.empty() && out.get() < 0)) {
    curl_slist_free_all(header_list);
    resp.curl_code = CURLE_READ_ERROR;
    resp.curl_error = std::string("cannot open local file: ") + std::strerror(errno);
    return resp;
  }
  CURL* curl = ThreadCurl();
  Transfer t{&req, &resp, curl, in.get(), out.get()};
  const int64_t length = req.length >= 0 ? req.length : static_cast<int64_t>(req.body.size());
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, header_list);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options.connect_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1024L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, std::max(1L, static_cast<long>(options.stall_timeout.count() / 1000)));
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &WriteBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &ReadHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &t);
  char error_buf[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_buf);
  if (req.head) {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (req.method == "PUT" || req.method == "POST") {
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, req.method.c_str());
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, &ReadBody);
    curl_easy_setopt(curl, CURLOPT_READDATA, &t);
    curl_easy_setopt(curl, CURLOPT_SEEKFUNCTION, &SeekBody);
    curl_easy_setopt(curl, CURLOPT_SEEKDATA, &t);
    curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(length));
  } else if (req.method != "GET") {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, req.method.c_str());
  }
  resp.curl_code = curl_easy_perform(curl);
  resp.curl_error = error_buf;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &resp.status);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, nullptr);
  curl_slist_free_all(header_list);
  if (t.write_failed) {
    resp.curl_code = CURLE_WRITE_ERROR;
    resp.curl_error = "cannot write " + req.response_file + ": " + std::strerror(errno);
  }
  return resp;
}

}  // namespace

namespace {

// Whether a 2xx answer still carries an error (CompleteMultipartUpload may answer 200 and then
// report a failure in the body).
bool ErrorInOkBody(const S3Client::Request& req, const Response& resp) {
  return std::string_view(req.operation) == "CompleteMultipartUpload" && resp.body.find("<Error>") != std::string::npos;
}

Result<Response> Execute(const S3Client::Request& req, const S3ClientOptions& options, const std::string& scheme_host,
                         const std::string& host_header) {
  for (int attempt = 1;; ++attempt) {
    Response resp = PerformOnce(req, options, scheme_host, host_header);
    const bool ok = resp.curl_code == CURLE_OK && resp.status >= 200 && resp.status < 300 && !ErrorInOkBody(req, resp);
    if (ok) return resp;
    if (resp.curl_code == CURLE_OK && resp.status >= 200 && resp.status < 300) resp.status = 200;  // error in body
    Status error = S3Error(req, options.bucket, resp);
    if (!error.retryable() || attempt >= options.retry.max_attempts) {
      if (attempt > 1) return error.WithContext("after " + std::to_string(attempt) + " attempts");
      return error;
    }
    std::this_thread::sleep_for(BackoffDelay(options.retry, attempt));
  }
}

S3Client::Request NewRequest(const char* operation, const char* method, const std::string& key) {
  S3Client::Request req;
  req.operation = operation;
  req.method = method;
  req.key = key;
  return req;
}

}  // namespace

Status S3Client::PutObject(const std::string& key, std::string_view data) {
  Request req = NewRequest("PutObject", "PUT", key);
  req.payload_sha256_hex = Sha256Hex(data);
  req.body = data;
  return Execute(req, options_, scheme_host_, host_header_).status();
}

Status S3Client::PutObjectFromFile(const std::string& key, const std::string& local_path) {
  PQ_ASSIGN_OR_RETURN(int64_t size, FileSize(local_path));
  Request req = NewRequest("PutObject", "PUT", key);
  PQ_ASSIGN_OR_RETURN(req.payload_sha256_hex, Sha256FileRange(local_path, 0, size));
  req.body_file = local_path;
  req.length = size;
  return Execute(req, options_, scheme_host_, host_header_).status();
}

Result<std::string> S3Client::GetObject(const std::string& key) {
  Request req = NewRequest("GetObject", "GET", key);
  PQ_ASSIGN_OR_RETURN(Response resp, Execute(req, options_, scheme_host_, host_header_));
  return std::move(resp.body);
}

Result<S3ObjectInfo> S3Client::GetObjectToFile(const std::string& key, const std::string& local_path) {
  Request req = NewRequest("GetObject", "GET", key);
  req.response_file = local_path;
  PQ_ASSIGN_OR_RETURN(Response resp, Execute(req, options_, scheme_host_, host_header_));
  return S3ObjectInfo{key, resp.content_length, resp.etag};
}

Result<S3ObjectInfo> S3Client::HeadObject(const std::string& key) {
  Request req = NewRequest("HeadObject", "HEAD", key);
  req.head = true;
  PQ_ASSIGN_OR_RETURN(Response resp, Execute(req, options_, scheme_host_, host_header_));
  return S3ObjectInfo{key, resp.content_length, resp.etag};
}

Status S3Client::DeleteObject(const std::string& key) {
  Request req = NewRequest("DeleteObject", "DELETE", key);
  Status s = Execute(req, options_, scheme_host_, host_header_).status();
  return s.code() == StatusCode::kNotFound ? Status::OK() : s;
}

Result<std::vector<S3ObjectInfo>> S3Client::ListObjects(const std::string& prefix, int max_keys_per_page) {
  std::vector<S3ObjectInfo> objects;
  std::string token;
  for (;;) {
    Request req = NewRequest("ListObjectsV2", "GET", "");
    req.query = {{"list-type", "2"}, {"prefix", prefix}, {"max-keys", std::to_string(max_keys_per_page)}};
    if (!token.empty()) req.query.emplace_back("continuation-token", token);
    PQ_ASSIGN_OR_RETURN(Response resp, Execute(req, options_, scheme_host_, host_header_));
    for (const std::string& block : XmlBlocks(resp.body, "Contents")) {
      objects.push_back({XmlField(block, "Key"), std::atoll(XmlField(block, "Size").c_str()), XmlField(block, "ETag")});
    }
    if (XmlField(resp.body, "IsTruncated") != "true") break;
    token = XmlField(resp.body, "NextContinuationToken");
    if (token.empty()) {
      return Status::Corruption("S3 ListObjectsV2 s3://" + options_.bucket + "/" + prefix +
                                ": truncated listing without NextContinuationToken");
    }
  }
  return objects;
}

Result<S3Client::ListPage> S3Client::ListObjectsPage(const std::string& prefix, const std::string& start_after,
                                                     int max_keys) {
  Request req = NewRequest("ListObjectsV2", "GET", "");
  req.query = {{"list-type", "2"}, {"prefix", prefix}, {"max-keys", std::to_string(max_keys)}};
  if (!start_after.empty()) req.query.emplace_back("start-after", start_after);
  PQ_ASSIGN_OR_RETURN(Response resp, Execute(req, options_, scheme_host_, host_header_));
  ListPage page;
  for (const std::string& block : XmlBlocks(resp.body, "Contents")) {
    page.objects.push_back({XmlField(block, "Key"), std::atoll(XmlField(block, "Size").c_str()), XmlField(block, "ETag")});
  }
  page.truncated = XmlField(resp.body, "IsTruncated") == "true";
  return page;
}

Result<std::string> S3Client::CreateMultipartUpload(const std::string& key) {
  Request req = NewRequest("CreateMultipartUpload", "POST", key);
  req.query = {{"uploads", ""}};
  PQ_ASSIGN_OR_RETURN(Response resp, Execute(req, options_, scheme_host_, host_header_));
  std::string upload_id = XmlField(resp.body, "UploadId");
  if (upload_id.empty()) {
    return Status::Corruption("S3 CreateMultipartUpload s3://" + options_.bucket + "/" + key + ": no UploadId");
  }
  return upload_id;
}

Result<std::string> S3Client::UploadPart(const std::string& key, const std::string& upload_id, int part_number,
                                         std::string_view data) {
  Request req = NewRequest("UploadPart", "PUT", key);
  req.query = {{"partNumber", std::to_string(part_number)}, {"uploadId", upload_id}};
  req.payload_sha256_hex = Sha256Hex(data);
  req.body = data;
  PQ_ASSIGN_OR_RETURN(Response resp, Execute(req, options_, scheme_host_, host_header_));
  return std::move(resp.etag);
}

Result<std::string> S3Client::UploadFilePart(const std::string& key, const std::string& upload_id, int part_number,
                                             const std::string& local_path, int64_t offset, int64_t length) {
  Request req = NewRequest("UploadPart", "PUT", key);
  req.query = {{"partNumber", std::to_string(part_number)}, {"uploadId", upload_id}};
  PQ_ASSIGN_OR_RETURN(req.payload_sha256_hex, Sha256FileRange(local_path, offset, length));
  req.body_file = local_path;
  req.body_offset = offset;
  req.length = length;
  PQ_ASSIGN_OR_RETURN(Response resp, Execute(req, options_, scheme_host_, host_header_));
  return std::move(resp.etag);
}

Status S3Client::CompleteMultipartUpload(const std::string& key, const std::string& upload_id,
                                         const std::vector<S3CompletedPart>& parts) {
  std::string body = "<CompleteMultipartUpload>";
  for (const auto& part : parts) {
    body += "<Part><PartNumber>" + std::to_string(part.part_number) + "</PartNumber><ETag>" + XmlEscape(part.etag) +
            "</ETag></Part>";
  }
  body += "</CompleteMultipartUpload>";
  Request req = NewRequest("CompleteMultipartUpload", "POST", key);
  req.query = {{"uploadId", upload_id}};
  req.headers = {{"Content-Type", "application/xml"}};
  req.payload_sha256_hex = Sha256Hex(body);
  req.body = body;
  return Execute(req, options_, scheme_host_, host_header_).status();
}

Status S3Client::AbortMultipartUpload(const std::string& key, const std::string& upload_id) {
  Request req = NewRequest("AbortMultipartUpload", "DELETE", key);
  req.query = {{"uploadId", upload_id}};
  return Execute(req, options_, scheme_host_, host_header_).status();
}

Status S3Client::UploadAllParts(const std::string& key, const std::string& upload_id, const std::string& local_path,
                                int64_t size, std::vector<S3CompletedPart>& parts) {
  const int64_t part_size = options_.part_size;
  const int count = static_cast<int>((size + part_size - 1) / part_size);
  if (count > 10000) return Status::InvalidArgument("S3 upload of " + local_path + " needs more than 10000 parts");
  parts.assign(static_cast<size_t>(count), {});
  std::atomic<int> next{0};
  std::atomic<bool> failed{false};
  std::mutex mu;
  Status first_error;
  auto worker = [&] {
    for (int i = next++; i < count && !failed; i = next++) {
      const int64_t offset = i * part_size;
      auto etag = UploadFilePart(key, upload_id, i + 1, local_path, offset, std::min(part_size, size - offset));
      if (!etag.ok()) {
        std::lock_guard<std::mutex> lock(mu);
        if (!failed.exchange(true)) first_error = etag.status();
        return;
      }
      parts[static_cast<size_t>(i)] = {i + 1, *etag};
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < std::min(options_.upload_threads, count); ++t) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
  return first_error;
}

Status S3Client::PutLargeFile(const std::string& key, const std::string& local_path) {
  PQ_ASSIGN_OR_RETURN(int64_t size, FileSize(local_path));
  if (size <= options_.part_size) return PutObjectFromFile(key, local_path);
  PQ_ASSIGN_OR_RETURN(std::string upload_id, CreateMultipartUpload(key));
  std::vector<S3CompletedPart> parts;
  Status s = UploadAllParts(key, upload_id, local_path, size, parts);
  if (s.ok()) s = CompleteMultipartUpload(key, upload_id, parts);
  if (s.ok()) return s;
  Status aborted = AbortMultipartUpload(key, upload_id);
  std::string context = "uploading " + local_path + " to s3://" + options_.bucket + "/" + key;
  if (!aborted.ok()) context += " (and the abort failed too, upload " + upload_id + " is left: " + aborted.message() + ")";
  return s.WithContext(context);
}

Result<std::string> S3Client::PresignGetUrl(const std::string& key, int64_t expires_seconds,
                                            int64_t unix_seconds) const {
  const std::string path = options_.path_style ? "/" + options_.bucket + "/" + key : "/" + key;
  PresignOptions presign;
  presign.expires_seconds = expires_seconds;
  return PresignUrl(scheme_host_, path, options_.credentials, SigningScope{options_.region}, unix_seconds, presign);
}

}  // namespace pqflow::storage
