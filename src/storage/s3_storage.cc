#include "storage/s3_storage.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>

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
    std::vector<FileInfo> out;
    PQ_RETURN_IF_ERROR(AppendListing(KeyPrefix(prefix), &out));
    return out;  // S3 lists in key order
  }

  // In key order, a page at a time; when a key lies in a folder `descend` refuses, the listing
  // starts again after the last key that folder can hold (start-after), so that a refused
  // folder costs one request whatever it holds (a split's 180,000 copies nested in the main
  // layout's folder: 180 requests listing everything, 2 this way). Not with '/' as delimiter,
  // which would take a request per folder.
  Result<std::vector<FileInfo>> ListWhere(const std::string& prefix, const DirectoryFilter& descend) override {
    if (!descend) return List(prefix);
    const std::string key_prefix = KeyPrefix(prefix);
    std::map<std::string, bool, std::less<>> wanted;  // folder (relative) -> descend's answer
    // The first folder below the listed one, on the way to `rel`, that descend refuses.
    auto refused_folder = [&](const std::string& rel) -> std::optional<std::string> {
      const size_t base = Relative(key_prefix).size();
      for (size_t slash = rel.find('/', base); slash != std::string::npos; slash = rel.find('/', slash + 1)) {
        std::string dir = rel.substr(0, slash);
        auto it = wanted.find(dir);
        if (it == wanted.end()) {
          const bool yes = !InPqflowFolder(dir + "/") && descend(dir);
          it = wanted.emplace(dir, yes).first;
        }
        if (!it->second) return dir;
      }
      return std::nullopt;
    };
    std::vector<FileInfo> out;
    std::string after;
    for (;;) {
      PQ_ASSIGN_OR_RETURN(S3Client::ListPage page, client_->ListObjectsPage(key_prefix, after));
      std::string skip_to;
      for (auto& o : page.objects) {
        std::string rel = Relative(o.key);
        if (auto folder = refused_folder(rel)) {
          // U+10FFFF sorts after every other character in UTF-8: past the folder's last key.
          skip_to = Key(*folder) + "/\xf4\x8f\xbf\xbf";
          break;
        }
        if (InPqflowFolder(rel)) continue;
        out.push_back(FileInfo{std::move(rel), o.size, 0, std::move(o.etag)});
      }
      if (!skip_to.empty()) {
        after = std::move(skip_to);
        continue;
      }
      if (!page.truncated || page.objects.empty()) break;
      after = page.objects.back().key;
    }
    return out;  // in key order
  }

  // pqflow's own folder (run reports, journals), which listings leave out at any depth.
  static bool InPqflowFolder(std::string_view rel) {
    return rel.starts_with(".pqflow/") || rel.find("/.pqflow/") != std::string_view::npos;
  }

  // The key prefix listing `prefix` (a folder, relative to the root) lists under.
  std::string KeyPrefix(const std::string& prefix) const {
    if (prefix.empty()) return options_.prefix.empty() ? "" : options_.prefix + "/";
    std::string key_prefix = Key(prefix);
    if (!key_prefix.empty() && key_prefix.back() != '/') key_prefix += '/';
    return key_prefix;
  }

  std::string Relative(const std::string& key) const {
    const size_t cut = options_.prefix.empty() ? 0 : options_.prefix.size() + 1;
    return key.substr(std::min(key.size(), cut));
  }

  // Appends the objects under `key_prefix` to `out`.
  Status AppendListing(const std::string& key_prefix, std::vector<FileInfo>* out) {
    PQ_ASSIGN_OR_RETURN(auto objects, client_->ListObjects(key_prefix));
    out->reserve(out->size() + objects.size());
    for (auto& o : objects) {
      std::string rel = Relative(o.key);
      if (InPqflowFolder(rel)) continue;  // run reports, as the local root skips them
      out->push_back(FileInfo{std::move(rel), o.size, 0, std::move(o.etag)});
    }
    return Status::OK();
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
