#include "storage/aws_credentials.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace pqflow::storage {

namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::optional<std::string> Env(const AwsConfigSources& sources, const std::string& name) {
  if (sources.getenv) return sources.getenv(name);
  const char* v = std::getenv(name.c_str());
  if (v == nullptr) return std::nullopt;
  return std::string(v);
}

std::string NonEmptyEnv(const AwsConfigSources& sources, const std::string& name) {
  return Env(sources, name).value_or("");
}

struct SharedFiles {
  std::string credentials_path;
  std::string config_path;
  IniFile credentials;
  IniFile config;
};

IniFile ReadIni(const std::string& path) {
  std::ifstream in(path);
  if (!in) return {};
  std::stringstream buf;
  buf << in.rdbuf();
  return ParseIni(buf.str());
}

SharedFiles ReadSharedFiles(const AwsConfigSources& sources) {
  std::string home = sources.home_dir.empty() ? NonEmptyEnv(sources, "HOME") : sources.home_dir;
  SharedFiles f;
  f.credentials_path = NonEmptyEnv(sources, "AWS_SHARED_CREDENTIALS_FILE");
  if (f.credentials_path.empty()) f.credentials_path = home + "/.aws/credentials";
  f.config_path = NonEmptyEnv(sources, "AWS_CONFIG_FILE");
  if (f.config_path.empty()) f.config_path = home + "/.aws/config";
  f.credentials = ReadIni(f.credentials_path);
  f.config = ReadIni(f.config_path);
  return f;
}

std::string ProfileName(const std::string& profile, const AwsConfigSources& sources) {
  if (!profile.empty()) return profile;
  std::string env = NonEmptyEnv(sources, "AWS_PROFILE");
  return env.empty() ? "default" : env;
}

// The config file names sections "[profile NAME]", except "[default]".
const std::map<std::string, std::string>* ConfigSection(const IniFile& config, const std::string& profile) {
  for (const std::string& name : {"profile " + profile, profile}) {
    if (name == profile && profile != "default") continue;
    auto it = config.find(name);
    if (it != config.end()) return &it->second;
  }
  return nullptr;
}

std::optional<AwsCredentials> FromSection(const std::map<std::string, std::string>* section) {
  if (section == nullptr) return std::nullopt;
  auto get = [&](const char* key) {
    auto it = section->find(key);
    return it == section->end() ? std::string() : it->second;
  };
  AwsCredentials c{get("aws_access_key_id"), get("aws_secret_access_key"), get("aws_session_token")};
  if (c.access_key_id.empty() || c.secret_access_key.empty()) return std::nullopt;
  return c;
}

}  // namespace

IniFile ParseIni(std::string_view text) {
  IniFile ini;
  std::string section;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view raw = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    const bool indented = !raw.empty() && (raw.front() == ' ' || raw.front() == '\t');
    std::string_view line = Trim(raw);
    if (line.empty() || line.front() == '#' || line.front() == ';' || indented) continue;
    if (line.front() == '[' && line.back() == ']') {
      section = std::string(Trim(line.substr(1, line.size() - 2)));
      ini[section];
      continue;
    }
    size_t eq = line.find('=');
    if (eq == std::string_view::npos || section.empty()) continue;
    ini[section][std::string(Trim(line.substr(0, eq)))] = std::string(Trim(line.substr(eq + 1)));
  }
  return ini;
}

Result<AwsCredentials> LoadAwsCredentials(const std::string& profile, const AwsConfigSources& sources) {
  AwsCredentials env{NonEmptyEnv(sources, "AWS_ACCESS_KEY_ID"), NonEmptyEnv(sources, "AWS_SECRET_ACCESS_KEY"),
                     NonEmptyEnv(sources, "AWS_SESSION_TOKEN")};
  if (!env.access_key_id.empty() && !env.secret_access_key.empty()) return env;
  const std::string name = ProfileName(profile, sources);
  SharedFiles files = ReadSharedFiles(sources);
  auto section = files.credentials.find(name);
  if (section != files.credentials.end()) {
    if (auto c = FromSection(&section->second)) return *c;
  }
  if (auto c = FromSection(ConfigSection(files.config, name))) return *c;
  return Status::NotFound("no AWS credentials for profile '" + name +
                          "': set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or add the profile to " +
                          files.credentials_path + " or " + files.config_path);
}

std::string LoadAwsRegion(const std::string& profile, const AwsConfigSources& sources) {
  for (const char* var : {"AWS_REGION", "AWS_DEFAULT_REGION"}) {
    std::string v = NonEmptyEnv(sources, var);
    if (!v.empty()) return v;
  }
  SharedFiles files = ReadSharedFiles(sources);
  const auto* section = ConfigSection(files.config, ProfileName(profile, sources));
  if (section == nullptr) return "";
  auto it = section->find("region");
  return it == section->end() ? "" : it->second;
}

}  // namespace pqflow::storage
