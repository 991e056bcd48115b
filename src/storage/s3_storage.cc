#include "storage/s3_storage.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "core/parallel.h"
#include "storage/aws_credentials.h"
#include "storage/local_dirs.h"
#include "storage/object_cache.h"

namespace pqflow::storage {

namespace fs = std::filesystem;

namespace {

class S3Storage final : public Storage {
 public:
  S3Storage(S3StorageOptions options, std::unique_ptr<S3Client> client, std::unique_ptr<ObjectCache> cache)
      : options_(std::move(options)), client_(std::move(client)), cache_(std::move(cache)) {}

  std::string Describe() const override {
    return "s3://" + options_.client.bucket + (options_.prefix.empty() ? "" : "/" + options_.prefix);
  }

  Result<std::string> MakeStagingDir(const std::string& name) override {
    return MakeEmptyDir((fs::path(options_.local_dir) / "staging" / name).string());
  }

  Status RemoveStagingDir(const std::string& local_dir) override { return RemoveDirTree(local_dir); }

  // Staged files only have to last until they are uploaded: S3 makes them durable.
  Status SyncStaged(const std::vector<std::string>&) override { return Status::OK(); }

  Status Publish(const std::string& staged, const std::string& dest) override {
    PQ_RETURN_IF_ERROR(client_->PutLargeFile(Key(dest), staged).WithContext("uploading " + dest));
    ::unlink(staged.c_str());  // published: the local copy has served its purpose, as after a rename
    return Status::OK();
  }

  Status PublishAll(const std::vector<StagedMove>& moves) override {
    return ParallelFor(moves.size(), options_.parallel_transfers, [&](size_t i) -> Status {
      PQ_RETURN_IF_ERROR(Publish(moves[i].local_path, moves[i].dest));
      return moves[i].companion_dest.empty() ? Status::OK()
                                             : Publish(moves[i].companion_local_path, moves[i].companion_dest);
    });
  }

  Status SyncPublished() override { return Status::OK(); }

  Status WriteFileAtomic(const std::string& dest, std::string_view data) override {
    return client_->PutObject(Key(dest), data).WithContext("writing " + DisplayPath(dest));
  }

  Status WriteFilesAtomic(const std::vector<std::pair<std::string, std::string>>& files) override {
    return ParallelFor(files.size(), options_.parallel_transfers,
                       [&](size_t i) { return WriteFileAtomic(files[i].first, files[i].second); });
  }

  Result<std::string> ReadFile(const std::string& path) override { return client_->GetObject(Key(path)); }

  Result<FileInfo> Stat(const std::string& path) override {
    PQ_ASSIGN_OR_RETURN(S3ObjectInfo info, client_->HeadObject(Key(path)));
    return FileInfo{path, info.size, 0, info.etag};
  }

  Status Delete(const std::string& path) override { return client_->DeleteObject(Key(path)); }

  Result<std::vector<FileInfo>> List(const std::string& prefix) override {
    std::string key_prefix = Key(prefix);
    if (!key_prefix.empty() && key_prefix.back() != '/') key_prefix += '/';
    if (prefix.empty()) key_prefix = options_.prefix.empty() ? "" : options_.prefix + "/";
    PQ_ASSIGN_OR_RETURN(auto objects, client_->ListObjects(key_prefix));
    const size_t cut = options_.prefix.empty() ? 0 : options_.prefix.size() + 1;
    std::vector<FileInfo> out;
    out.reserve(objects.size());
    for (auto& o : objects) {
      std::string rel = o.key.substr(std::min(o.key.size(), cut));
      if (rel.rfind(".pqflow/", 0) == 0) continue;  // run reports, as the local root skips them
      out.push_back(FileInfo{std::move(rel), o.size, 0, std::move(o.etag)});
    }
    return out;  // S3 lists in key order
  }

  // A lock file on this machine: S3 itself has nothing to lock with.
  Result<std::unique_ptr<DatasetLock>> LockDataset(const std::string& dataset) override {
    return LockFile((fs::path(options_.local_dir) / "locks" / (dataset + ".lock")).string(),
                    "dataset " + dataset + " of " + Describe() + " on this machine");
  }

  std::string DisplayPath(const std::string& path) const override {
    return "s3://" + options_.client.bucket + "/" + Key(path);
  }

  Result<ReadableFiles> OpenForReading(const std::vector<FileInfo>& files) override {
    std::vector<FileInfo> known = files;
    // Callers that name files without listing them (a manifest's paths) get the ETag asked.
    PQ_RETURN_IF_ERROR(ParallelFor(known.size(), options_.parallel_transfers, [&](size_t i) -> Status {
      if (!known[i].etag.empty()) return Status::OK();
      PQ_ASSIGN_OR_RETURN(known[i], Stat(known[i].path));
      return Status::OK();
    }));
    auto fetch = [this](const FileInfo& f, const std::string& local) -> Result<std::string> {
      PQ_ASSIGN_OR_RETURN(S3ObjectInfo got, client_->GetObjectToFile(Key(f.path), local));
      return got.etag;
    };
    return cache_->Acquire(known, fetch, options_.parallel_transfers);
  }

  std::string ReadableRoot() const override { return (fs::path(cache_->dir()) / "objects").string(); }

 private:
  std::string Key(const std::string& path) const {
    if (options_.prefix.empty()) return path;
    return path.empty() ? options_.prefix : options_.prefix + "/" + path;
  }

  S3StorageOptions options_;
  std::unique_ptr<S3Client> client_;
  std::unique_ptr<ObjectCache> cache_;
};

// $XDG_CACHE_HOME/pqflow, else ~/.cache/pqflow, else a directory under /tmp.
std::string DefaultCacheBase() {
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && *xdg == '/') return std::string(xdg) + "/pqflow";
  if (const char* home = std::getenv("HOME"); home != nullptr && *home == '/') return std::string(home) + "/.cache/pqflow";
  return "/tmp/pqflow-cache-" + std::to_string(::getuid());
}

}  // namespace

Result<std::unique_ptr<Storage>> MakeS3Storage(S3StorageOptions options) {
  PQ_ASSIGN_OR_RETURN(auto client, S3Client::Make(options.client));
  PQ_ASSIGN_OR_RETURN(auto cache, ObjectCache::Open((fs::path(options.local_dir) / "cache").string(), options.cache_bytes));
  options.parallel_transfers = std::max(1, options.parallel_transfers);
  return std::unique_ptr<Storage>(new S3Storage(std::move(options), std::move(client), std::move(cache)));
}

Result<S3ClientOptions> S3ClientOptionsFor(const StorageConfig& config, const S3Root& root) {
  S3ClientOptions options;
  options.bucket = root.bucket;
  options.region = !config.region.empty() ? config.region : LoadAwsRegion(config.profile);
  if (options.region.empty()) options.region = "us-east-1";
  options.endpoint = !config.endpoint.empty() ? config.endpoint : "https://s3." + options.region + ".amazonaws.com";
  options.path_style = config.path_style.value_or(!config.endpoint.empty());
  options.part_size = config.part_size;
  PQ_ASSIGN_OR_RETURN(options.credentials, LoadAwsCredentials(config.profile));
  return options;
}

Result<std::unique_ptr<Storage>> OpenStorage(const StorageConfig& config) {
  auto root = ParseS3Root(config.root);
  if (!root) return MakeLocalStorage(config.root);
  S3StorageOptions options;
  PQ_ASSIGN_OR_RETURN(options.client, S3ClientOptionsFor(config, *root));
  options.prefix = root->prefix;
  const std::string base = config.cache_dir.empty() ? DefaultCacheBase() : config.cache_dir;
  options.local_dir = (fs::path(base) / "s3" / root->bucket / (root->prefix.empty() ? "_" : root->prefix)).string();
  options.cache_bytes = static_cast<uint64_t>(config.cache_size);
  options.parallel_transfers = config.parallel_uploads;
  return MakeS3Storage(std::move(options));
}

}  // namespace pqflow::storage
