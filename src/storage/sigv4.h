// AWS Signature Version 4 (SigV4) for S3 and S3-compatible servers: pure functions that
// turn a request description into the headers (or the presigned URL) that authenticate it.
// No I/O, no clock, no logging; the caller passes the time, so every result is reproducible.
//
// What is signed (S3 rules, as in the Amazon S3 API Reference, "Authenticating Requests
// (AWS Signature Version 4)"):
//
//   CanonicalRequest = Method \n CanonicalUri \n CanonicalQuery \n CanonicalHeaders \n
//                      SignedHeaders \n PayloadHash
//   StringToSign     = "AWS4-HMAC-SHA256" \n AmzDate \n Scope \n hex(SHA256(CanonicalRequest))
//   Scope            = YYYYMMDD/region/service/aws4_request
//   SigningKey       = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, YYYYMMDD), region), service),
//                           "aws4_request")
//   Signature        = hex(HMAC(SigningKey, StringToSign))
//
// Paths: callers pass the *decoded* path ("/bucket/dt=2026-01-15/part 0.parquet"); the signer
// encodes it exactly once with UriEncode(path, /*encode_slash=*/false) and does not normalise
// "." / ".." / "//" segments. That is what S3 expects. Other AWS services encode the path a
// second time and normalise it; this signer deliberately does not (S3 object keys may contain
// "//" and "..", and S3 signs them as they are). The HTTP layer must put CanonicalUri(path)
// and CanonicalQueryString(query) on the wire so that what is sent is what was signed.
//
// Secrets: the secret access key and the session token never appear in a Status message and
// are never logged here. The derived signing key is as sensitive as the secret for one day.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace pqflow::storage {

// Name/value pairs in the caller's order; names may repeat.
using KeyValueList = std::vector<std::pair<std::string, std::string>>;

struct AwsCredentials {
  std::string access_key_id;
  std::string secret_access_key;  // never logged, never in an error message
  std::string session_token;      // empty unless temporary (STS) credentials
};

// Where a signature is valid: part of the credential scope.
struct SigningScope {
  std::string region;            // e.g. "us-east-1"; MinIO/s3rver accept their configured one
  std::string service = "s3";
};

// The payload hash of a request whose body is not hashed (allowed by S3, and always used for
// presigned URLs).
inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";
// SHA-256 of the empty string: the payload hash of GET, HEAD and DELETE.
inline constexpr std::string_view kEmptyPayloadSha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// Whether SignRequest adds and signs `x-amz-content-sha256`. S3 requires the header on every
// request; the generic SigV4 services (and AWS's generic test suite) do not use it.
enum class PayloadHashHeader { kAddAndSign, kOmit };

struct SigningRequest {
  std::string method = "GET";  // sent as is; upper case
  // The Host header exactly as the HTTP client sends it: "bucket.s3.amazonaws.com", or
  // "127.0.0.1:9000" (a port is included when it is not the scheme's default). Always signed.
  std::string host;
  std::string path = "/";  // decoded; must start with '/'; encoded once by the signer
  KeyValueList query;      // decoded; "?lifecycle" is {"lifecycle", ""}; encoded by the signer
  // Further headers to sign (names case-insensitive, values are trimmed and inner runs of
  // spaces collapsed; a repeated name is signed as "v1,v2"). Must not contain Host,
  // Authorization, X-Amz-Date, X-Amz-Content-SHA256 or X-Amz-Security-Token (the signer adds
  // them) nor hop-by-hop headers that clients and proxies rewrite (Expect, Connection, ...).
  KeyValueList headers;
  // Lowercase hex SHA-256 of the body (Sha256Hex), or kUnsignedPayload.
  std::string payload_sha256_hex = std::string(kEmptyPayloadSha256);
  PayloadHashHeader payload_hash_header = PayloadHashHeader::kAddAndSign;
};

// Signs `request` as of `unix_seconds` (UTC). Returns the headers the caller must add to the
// request, in this order: Authorization, x-amz-date, then x-amz-content-sha256 (unless
// kOmit) and x-amz-security-token (when the credentials carry one). Host is not returned:
// the HTTP client sends request.host itself. InvalidArgument for a malformed request.
Result<KeyValueList> SignRequest(const SigningRequest& request, const AwsCredentials& credentials,
                                 const SigningScope& scope, int64_t unix_seconds);

struct PresignOptions {
  std::string method = "GET";
  int64_t expires_seconds = 3600;  // X-Amz-Expires; S3 accepts 1 s to 604800 s (7 days)
  KeyValueList query;  // extra parameters to sign, e.g. {"response-content-disposition", ...}
};
inline constexpr int64_t kMinPresignExpirySeconds = 1;
inline constexpr int64_t kMaxPresignExpirySeconds = 7 * 24 * 3600;

// A presigned URL (query-string authentication, only Host signed, UNSIGNED-PAYLOAD):
//   endpoint + CanonicalUri(path) + "?" + sorted encoded query + "&X-Amz-Signature=..."
// `endpoint` is "scheme://host[:port]" without a path ("https://bucket.s3.amazonaws.com",
// "http://127.0.0.1:9000"); a default port (80/443) is left out of the signed Host, as curl
// leaves it out of the Host header. With a session token, X-Amz-Security-Token is signed too.
// InvalidArgument when the expiry is outside [1 s, 7 days] or the endpoint is malformed.
Result<std::string> PresignUrl(std::string_view endpoint, std::string_view path,
                               const AwsCredentials& credentials, const SigningScope& scope,
                               int64_t unix_seconds, const PresignOptions& options = {});

// ---- Building blocks, exposed for tests and for debugging a SignatureDoesNotMatch. ----

// RFC 3986 percent-encoding as S3 wants it: A-Z a-z 0-9 - . _ ~ are kept, every other byte
// becomes %XY (upper-case hex; UTF-8 bytes one by one, space is %20, never '+'); '/' is kept
// unless encode_slash (paths keep it, query names and values encode it).
std::string UriEncode(std::string_view text, bool encode_slash);

// The canonical URI of a decoded path: UriEncode(path, false), "/" for an empty path.
std::string CanonicalUri(std::string_view path);

// "k1=v1&k2=v2": names and values UriEncode'd (with '/'), sorted by encoded name, then by
// encoded value; a parameter without a value is "k=".
std::string CanonicalQueryString(const KeyValueList& query);

struct CanonicalHeaders {
  std::string block;           // "name:value\n" per header, sorted by lowercase name
  std::string signed_headers;  // "name1;name2"
};
// Lowercases names, trims values and collapses inner runs of spaces and tabs to one space,
// joins repeated names with ',' (in the caller's order) and sorts by name.
CanonicalHeaders CanonicalizeHeaders(const KeyValueList& headers);

// The canonical request over the complete list of headers to sign (Host and the x-amz-*
// headers included), with `path` decoded and `query` decoded as in SigningRequest.
std::string CanonicalRequest(std::string_view method, std::string_view path,
                             const KeyValueList& query, const KeyValueList& headers_to_sign,
                             std::string_view payload_hash);

// "YYYYMMDD/region/service/aws4_request".
std::string CredentialScope(std::string_view yyyymmdd, const SigningScope& scope);

std::string StringToSign(std::string_view amz_date, std::string_view credential_scope,
                         std::string_view canonical_request);

// The 32-byte (binary) signing key for one day, region and service.
std::string SigningKey(std::string_view secret_access_key, std::string_view yyyymmdd,
                       const SigningScope& scope);

// HMAC-SHA256 of `data` under `key` as 64 lowercase hex characters (the raw 32 bytes:
// HmacSha256 in core/crypto.h).
std::string HmacSha256Hex(std::string_view key, std::string_view data);

// "YYYYMMDDTHHMMSSZ" for a time between 1970 and 9999 (UTC); InvalidArgument otherwise.
Result<std::string> AmzDate(int64_t unix_seconds);

}  // namespace pqflow::storage
