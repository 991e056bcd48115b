// `pqflow presign PATH [--expires 1h]`: a presigned GET URL (SigV4 query signing) for a file
// of an S3 storage root, so that someone without credentials can download it until it expires.
#include <cstdio>
#include <ctime>
#include <memory>

#include "cli/commands.h"
#include "storage/s3_client.h"
#include "storage/s3_storage.h"

namespace pqflow::cli {

namespace {

Result<std::unique_ptr<storage::S3Client>> ClientFor(const Config& config, const S3Root& root) {
  PQ_ASSIGN_OR_RETURN(storage::S3ClientOptions options, storage::S3ClientOptionsFor(config.storage, root));
  return storage::S3Client::Make(std::move(options));
}

Result<std::string> Presign(const Config& config, const std::string& path, const std::string& expires, bool check) {
  auto root = ParseS3Root(config.storage.root);
  if (!root) {
    return Status::InvalidArgument("presign needs an S3 storage root (storage.root = \"s3://bucket/prefix\"); " +
                                   config.storage.root + " is a local directory");
  }
  auto seconds = ParseDurationSeconds(expires);
  if (!seconds.ok()) return Status::InvalidArgument("--expires: " + seconds.status().message() + " (e.g. 90s, 15m, 1h, 7d)");
  std::string relative = path;
  while (!relative.empty() && relative.front() == '/') relative.erase(0, 1);
  if (relative.empty() || relative.find("..") != std::string::npos) {
    return Status::InvalidArgument("give the file's path inside the storage root, e.g. analytics/pageviews/2026/01/15/pageviews_2026-01-15.parquet");
  }
  const std::string key = root->prefix.empty() ? relative : root->prefix + "/" + relative;
  PQ_ASSIGN_OR_RETURN(auto client, ClientFor(config, *root));
  if (check) {
    auto info = client->HeadObject(key);
    if (!info.ok() && info.status().code() == StatusCode::kNotFound) {
      return Status::NotFound("no file " + relative + " under " + config.storage.root);
    }
    PQ_RETURN_IF_ERROR(info.status());
  }
  return client->PresignGetUrl(key, *seconds, static_cast<int64_t>(std::time(nullptr)));
}

}  // namespace

void AddPresignCommand(CLI::App& app, const GlobalOptions& global, int* exit_code) {
  struct Flags {
    std::string path;
    std::string expires = "1h";
    bool no_check = false;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand("presign", "Print a presigned download URL for a file of an S3 storage root");
  cmd->footer("Example:\n  pqflow presign analytics/pageviews/2026/01/15/pageviews_2026-01-15.parquet --expires 2h\n"
              "Credentials: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (/ AWS_SESSION_TOKEN), or the shared files\n"
              "~/.aws/credentials and ~/.aws/config with storage.profile or AWS_PROFILE.");
  cmd->add_option("path", flags->path, "The file's path inside the storage root")->required();
  cmd->add_option("--expires", flags->expires, "How long the URL works: 1s to 7d (default 1h)");
  cmd->add_flag("--no-check", flags->no_check, "Do not check that the file exists first");
  cmd->callback([flags, &global, exit_code] {
    Status s = [&]() -> Status {
      PQ_ASSIGN_OR_RETURN(Config config, LoadConfig(global));
      PQ_ASSIGN_OR_RETURN(std::string url, Presign(config, flags->path, flags->expires, !flags->no_check));
      std::printf("%s\n", url.c_str());
      return Status::OK();
    }();
    *exit_code = s.ok() ? kExitOk : ReportError(s.WithContext("presign"));
  });
}

}  // namespace pqflow::cli
