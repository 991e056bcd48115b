// AWS credentials and region as the AWS CLI and SDKs find them, for the S3 client:
//   1. AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN) from the environment;
//   2. otherwise the profile's aws_access_key_id / aws_secret_access_key / aws_session_token
//      in the shared credentials file ($AWS_SHARED_CREDENTIALS_FILE, default ~/.aws/credentials,
//      section [profile]), then in the config file ($AWS_CONFIG_FILE, default ~/.aws/config,
//      section [profile NAME], or [default]).
// The profile is the argument, else $AWS_PROFILE, else "default". The region is AWS_REGION,
// else AWS_DEFAULT_REGION, else the profile's `region` in the config file.
// Secrets never appear in a Status message.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "storage/sigv4.h"

namespace pqflow::storage {

// Where the lookup reads from; the defaults read the real environment and home directory.
// Tests substitute a map and temporary files.
struct AwsConfigSources {
  // Returns the variable's value, or nullopt if unset. Default: std::getenv.
  std::function<std::optional<std::string>(const std::string&)> getenv;
  std::string home_dir;  // empty: $HOME
};

// Section name -> key -> value of a simple INI file (the format of ~/.aws/*): '#' and ';'
// start comments, keys and values are trimmed, names are case-sensitive, later keys win.
// Indented continuation lines (nested s3 = ... settings) are ignored.
using IniFile = std::map<std::string, std::map<std::string, std::string>>;
IniFile ParseIni(std::string_view text);

// NotFound (naming the profile and the places searched, no values) when no credentials exist.
Result<AwsCredentials> LoadAwsCredentials(const std::string& profile = "", const AwsConfigSources& sources = {});
// Empty string when no region is configured anywhere.
std::string LoadAwsRegion(const std::string& profile = "", const AwsConfigSources& sources = {});

}  // namespace pqflow::storage
