// The AWS environment variables of one test, restored when it ends: the credentials of a
// test S3 server, and HOME pointing at an empty directory so that no ~/.aws file is read.
#pragma once

#include <stdlib.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "s3_server.h"

namespace pqflow::testing {

class AwsEnvironment {
 public:
  AwsEnvironment(const S3Server& s3, const std::string& home) {
    Set("AWS_ACCESS_KEY_ID", s3.options().access_key_id);
    Set("AWS_SECRET_ACCESS_KEY", s3.options().secret_access_key);
    Set("HOME", home);
    for (const char* v : {"AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION"}) Unset(v);
  }
  ~AwsEnvironment() {
    for (const auto& [name, value] : saved_) {
      if (value) {
        setenv(name.c_str(), value->c_str(), 1);
      } else {
        unsetenv(name.c_str());
      }
    }
  }

 private:
  void Save(const std::string& name) {
    const char* v = std::getenv(name.c_str());
    saved_.emplace_back(name, v ? std::optional<std::string>(v) : std::nullopt);
  }
  void Set(const std::string& name, const std::string& value) {
    Save(name);
    setenv(name.c_str(), value.c_str(), 1);
  }
  void Unset(const std::string& name) {
    Save(name);
    unsetenv(name.c_str());
  }
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

}  // namespace pqflow::testing
