#include "storage/sigv4.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <map>

#include "core/text.h"
#include "core/civil_date.h"
#include "core/crypto.h"

namespace pqflow::storage {

namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
constexpr int64_t kSecondsPerDay = 86400;
constexpr int64_t kMaxUnixSeconds = 253402300799;  // 9999-12-31T23:59:59Z

// Headers the signer sets itself; a caller-supplied copy would be signed twice.
constexpr std::array<std::string_view, 5> kSignerOwnedHeaders = {
    "authorization", "host", "x-amz-date", "x-amz-content-sha256", "x-amz-security-token"};
// Hop-by-hop and client-controlled headers: curl and proxies add, drop or rewrite them, so a
// signature over them breaks in transit (botocore refuses to sign the same list).
constexpr std::array<std::string_view, 11> kUnsignableHeaders = {
    "connection", "expect",  "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
    "trailer",    "transfer-encoding", "upgrade", "user-agent", "x-amzn-trace-id"};
constexpr std::array<std::string_view, 7> kPresignParameters = {
    "x-amz-algorithm", "x-amz-credential",    "x-amz-date",          "x-amz-expires",
    "x-amz-signedheaders", "x-amz-security-token", "x-amz-signature"};

template <size_t N>
bool Contains(const std::array<std::string_view, N>& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

bool IsUnreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         c == '-' || c == '.' || c == '_' || c == '~';
}

// RFC 9110 token characters: what a header name may be made of.
bool IsTokenChar(unsigned char c) {
  return IsUnreserved(c) || std::string_view("!#$%&'*+^`|").find(static_cast<char>(c)) !=
                                std::string_view::npos;
}

bool HasControlChar(std::string_view s, bool allow_tab) {
  return std::any_of(s.begin(), s.end(), [allow_tab](char ch) {
    auto c = static_cast<unsigned char>(ch);
    return (c < 0x20 && !(allow_tab && c == '\t')) || c == 0x7f;
  });
}

// "Trimall": strip leading and trailing blanks, collapse inner runs to one space.
std::string TrimAll(std::string_view value) {
  std::string out;
  bool pending_space = false;
  for (char c : value) {
    if (c == ' ' || c == '\t') {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out += ' ';
    pending_space = false;
    out += c;
  }
  return out;
}

bool IsLowerHex64(std::string_view s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

// Characters that would break "Credential=<id>/<scope>" or the scope itself.
bool IsScopeSafe(std::string_view s) {
  return !s.empty() && !HasControlChar(s, false) &&
         s.find_first_of("/ ,;=") == std::string_view::npos;
}

Status ValidateSigner(const AwsCredentials& credentials, const SigningScope& scope) {
  if (credentials.access_key_id.empty()) return Status::InvalidArgument("AWS access key id is empty");
  if (!IsScopeSafe(credentials.access_key_id)) {
    return Status::InvalidArgument("AWS access key id contains '/', ',', ';', '=', a space or a control character");
  }
  if (credentials.secret_access_key.empty()) {
    return Status::InvalidArgument("AWS secret access key is empty");
  }
  if (HasControlChar(credentials.session_token, false)) {
    return Status::InvalidArgument("AWS session token contains a control character");
  }
  if (!IsScopeSafe(scope.region)) {
    return Status::InvalidArgument("signing region '" + scope.region + "' is empty or contains '/', ',', ';', '=' or a space");
  }
  if (!IsScopeSafe(scope.service)) {
    return Status::InvalidArgument("signing service '" + scope.service + "' is empty or contains '/', ',', ';', '=' or a space");
  }
  return Status::OK();
}

Status ValidateMethodAndPath(std::string_view method, std::string_view path) {
  if (method.empty() || !std::all_of(method.begin(), method.end(),
                                     [](char c) { return c >= 'A' && c <= 'Z'; })) {
    return Status::InvalidArgument("HTTP method '" + std::string(method) + "' is not an upper-case token");
  }
  if (path.empty() || path.front() != '/') {
    return Status::InvalidArgument("request path '" + std::string(path) + "' does not start with '/'");
  }
  return Status::OK();
}

Status ValidateHeaders(const KeyValueList& headers) {
  for (const auto& [name, value] : headers) {
    if (name.empty() || !std::all_of(name.begin(), name.end(), [](char c) {
          return IsTokenChar(static_cast<unsigned char>(c));
        })) {
      return Status::InvalidArgument("header name '" + name + "' is empty or not an HTTP token");
    }
    const std::string lower = AsciiLower(name);
    if (Contains(kSignerOwnedHeaders, lower)) {
      return Status::InvalidArgument("header '" + name + "' is set by the signer; do not pass it");
    }
    if (Contains(kUnsignableHeaders, lower)) {
      return Status::InvalidArgument("header '" + name +
                                     "' must not be signed: HTTP clients and proxies rewrite it");
    }
    if (HasControlChar(value, /*allow_tab=*/true)) {
      return Status::InvalidArgument("value of header '" + name + "' contains a control character");
    }
  }
  return Status::OK();
}

Status ValidateRequest(const SigningRequest& request) {
  PQ_RETURN_IF_ERROR(ValidateMethodAndPath(request.method, request.path));
  if (request.host.empty() || HasControlChar(request.host, false) ||
      request.host.find_first_of(" /") != std::string::npos) {
    return Status::InvalidArgument("host '" + request.host + "' is empty or contains a space, '/' or a control character");
  }
  if (request.payload_sha256_hex != kUnsignedPayload && !IsLowerHex64(request.payload_sha256_hex)) {
    return Status::InvalidArgument("payload hash '" + request.payload_sha256_hex +
                                   "' is neither 64 lower-case hex digits nor UNSIGNED-PAYLOAD");
  }
  return ValidateHeaders(request.headers);
}

struct Endpoint {
  std::string base;         // "scheme://authority", as given, without a trailing '/'
  std::string signed_host;  // authority without the scheme's default port
};

Result<Endpoint> ParseEndpoint(std::string_view endpoint) {
  std::string_view rest = endpoint;
  std::string_view default_port;
  if (rest.starts_with("https://")) {
    rest.remove_prefix(8);
    default_port = ":443";
  } else if (rest.starts_with("http://")) {
    rest.remove_prefix(7);
    default_port = ":80";
  } else {
    return Status::InvalidArgument("endpoint '" + std::string(endpoint) + "' does not start with http:// or https://");
  }
  if (rest.ends_with('/')) rest.remove_suffix(1);
  if (rest.empty() || HasControlChar(rest, false) ||
      rest.find_first_of("/?#@ ") != std::string_view::npos) {
    return Status::InvalidArgument("endpoint '" + std::string(endpoint) +
                                   "' must be scheme://host[:port] without a path, query or user");
  }
  Endpoint out;
  out.base = std::string(endpoint.substr(0, rest.data() + rest.size() - endpoint.data()));
  if (rest.ends_with(default_port)) rest.remove_suffix(default_port.size());
  out.signed_host = std::string(rest);
  return out;
}

Status ValidatePresignQuery(const KeyValueList& query) {
  for (const auto& [name, value] : query) {
    if (name.empty()) return Status::InvalidArgument("presign: a query parameter has an empty name");
    if (Contains(kPresignParameters, AsciiLower(name))) {
      return Status::InvalidArgument("presign: query parameter '" + name + "' is set by the signer");
    }
  }
  return Status::OK();
}

std::string Signature(const AwsCredentials& credentials, const SigningScope& scope,
                      std::string_view amz_date, std::string_view canonical_request) {
  const std::string_view day = amz_date.substr(0, 8);
  const std::string sts = StringToSign(amz_date, CredentialScope(day, scope), canonical_request);
  return HmacSha256Hex(SigningKey(credentials.secret_access_key, day, scope), sts);
}

}  // namespace

std::string UriEncode(std::string_view text, bool encode_slash) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if (IsUnreserved(c) || (c == '/' && !encode_slash)) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kDigits[c >> 4];
      out += kDigits[c & 0xf];
    }
  }
  return out;
}

std::string CanonicalUri(std::string_view path) {
  return path.empty() ? std::string("/") : UriEncode(path, /*encode_slash=*/false);
}

std::string CanonicalQueryString(const KeyValueList& query) {
  KeyValueList encoded;
  encoded.reserve(query.size());
  for (const auto& [name, value] : query) {
    encoded.emplace_back(UriEncode(name, true), UriEncode(value, true));
  }
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [name, value] : encoded) {
    if (!out.empty()) out += '&';
    out += name;
    out += '=';
    out += value;
  }
  return out;
}

CanonicalHeaders CanonicalizeHeaders(const KeyValueList& headers) {
  std::map<std::string, std::string> joined;  // sorted by lowercase name
  for (const auto& [name, value] : headers) {
    auto [it, inserted] = joined.try_emplace(AsciiLower(name), TrimAll(value));
    if (!inserted) it->second += "," + TrimAll(value);
  }
  CanonicalHeaders out;
  for (const auto& [name, value] : joined) {
    out.block += name + ":" + value + "\n";
    if (!out.signed_headers.empty()) out.signed_headers += ';';
    out.signed_headers += name;
  }
  return out;
}

std::string CanonicalRequest(std::string_view method, std::string_view path,
                             const KeyValueList& query, const KeyValueList& headers_to_sign,
                             std::string_view payload_hash) {
  const CanonicalHeaders headers = CanonicalizeHeaders(headers_to_sign);
  std::string out(method);
  out += '\n';
  out += CanonicalUri(path);
  out += '\n';
  out += CanonicalQueryString(query);
  out += '\n';
  out += headers.block;  // each line ends in '\n', so a blank line follows the block
  out += '\n';
  out += headers.signed_headers;
  out += '\n';
  out += payload_hash;
  return out;
}

std::string CredentialScope(std::string_view yyyymmdd, const SigningScope& scope) {
  return std::string(yyyymmdd) + "/" + scope.region + "/" + scope.service + "/aws4_request";
}

std::string StringToSign(std::string_view amz_date, std::string_view credential_scope,
                         std::string_view canonical_request) {
  return std::string(kAlgorithm) + "\n" + std::string(amz_date) + "\n" +
         std::string(credential_scope) + "\n" + Sha256Hex(canonical_request);
}

std::string SigningKey(std::string_view secret_access_key, std::string_view yyyymmdd,
                       const SigningScope& scope) {
  std::string key = "AWS4" + std::string(secret_access_key);
  key = HmacSha256(key, yyyymmdd);
  key = HmacSha256(key, scope.region);
  key = HmacSha256(key, scope.service);
  return HmacSha256(key, "aws4_request");
}

std::string HmacSha256Hex(std::string_view key, std::string_view data) {
  return HexLower(HmacSha256(key, data));
}

Result<std::string> AmzDate(int64_t unix_seconds) {
  if (unix_seconds < 0 || unix_seconds > kMaxUnixSeconds) {
    return Status::InvalidArgument("signing time " + std::to_string(unix_seconds) +
                                   " s is outside 1970..9999");
  }
  const CivilDate day = CivilDate::FromDays(static_cast<int32_t>(unix_seconds / kSecondsPerDay));
  const int64_t second_of_day = unix_seconds % kSecondsPerDay;
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%04d%02d%02dT%02d%02d%02dZ", day.year(), day.month(), day.day(),
                static_cast<int>(second_of_day / 3600), static_cast<int>(second_of_day / 60 % 60),
                static_cast<int>(second_of_day % 60));
  return std::string(buf);
}

Result<KeyValueList> SignRequest(const SigningRequest& request, const AwsCredentials& credentials,
                                 const SigningScope& scope, int64_t unix_seconds) {
  PQ_RETURN_IF_ERROR(ValidateSigner(credentials, scope));
  PQ_RETURN_IF_ERROR(ValidateRequest(request));
  PQ_ASSIGN_OR_RETURN(std::string amz_date, AmzDate(unix_seconds));

  KeyValueList added = {{"x-amz-date", amz_date}};
  if (request.payload_hash_header == PayloadHashHeader::kAddAndSign) {
    added.emplace_back("x-amz-content-sha256", request.payload_sha256_hex);
  }
  if (!credentials.session_token.empty()) {
    added.emplace_back("x-amz-security-token", credentials.session_token);
  }
  KeyValueList to_sign = request.headers;
  to_sign.emplace_back("host", request.host);
  to_sign.insert(to_sign.end(), added.begin(), added.end());

  const std::string canonical = CanonicalRequest(request.method, request.path, request.query,
                                                 to_sign, request.payload_sha256_hex);
  const std::string authorization =
      std::string(kAlgorithm) + " Credential=" + credentials.access_key_id + "/" +
      CredentialScope(std::string_view(amz_date).substr(0, 8), scope) +
      ", SignedHeaders=" + CanonicalizeHeaders(to_sign).signed_headers +
      ", Signature=" + Signature(credentials, scope, amz_date, canonical);

  KeyValueList out = {{"Authorization", authorization}};
  out.insert(out.end(), added.begin(), added.end());
  return out;
}

Result<std::string> PresignUrl(std::string_view endpoint, std::string_view path,
                               const AwsCredentials& credentials, const SigningScope& scope,
                               int64_t unix_seconds, const PresignOptions& options) {
  if (options.expires_seconds < kMinPresignExpirySeconds ||
      options.expires_seconds > kMaxPresignExpirySeconds) {
    return Status::InvalidArgument("presign: expiry of " + std::to_string(options.expires_seconds) +
                                   " s is outside the allowed 1 s to 604800 s (7 days)");
  }
  PQ_ASSIGN_OR_RETURN(Endpoint parsed, ParseEndpoint(endpoint));
  PQ_RETURN_IF_ERROR(ValidateSigner(credentials, scope));
  PQ_RETURN_IF_ERROR(ValidateMethodAndPath(options.method, path));
  PQ_RETURN_IF_ERROR(ValidatePresignQuery(options.query));
  PQ_ASSIGN_OR_RETURN(std::string amz_date, AmzDate(unix_seconds));

  KeyValueList query = options.query;
  query.emplace_back("X-Amz-Algorithm", std::string(kAlgorithm));
  const std::string day = amz_date.substr(0, 8);
  query.emplace_back("X-Amz-Credential", credentials.access_key_id + "/" + CredentialScope(day, scope));
  query.emplace_back("X-Amz-Date", amz_date);
  query.emplace_back("X-Amz-Expires", std::to_string(options.expires_seconds));
  query.emplace_back("X-Amz-SignedHeaders", "host");
  if (!credentials.session_token.empty()) {
    query.emplace_back("X-Amz-Security-Token", credentials.session_token);
  }
  const std::string canonical = CanonicalRequest(options.method, path, query,
                                                 {{"host", parsed.signed_host}}, kUnsignedPayload);
  return parsed.base + CanonicalUri(path) + "?" + CanonicalQueryString(query) +
         "&X-Amz-Signature=" + Signature(credentials, scope, amz_date, canonical);
}

}  // namespace pqflow::storage
