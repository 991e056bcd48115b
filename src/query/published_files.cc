#include "query/published_files.h"

#include <algorithm>
#include <optional>

#include "core/parallel.h"
#include "sink/publish_journal.h"

namespace pqflow::query {

namespace {

// On S3 each manifest is a request: as many at once as an export's own manifest reads.
constexpr int kRemoteReadsAtOnce = 8;
// Locally, fewer than this are read faster by one thread than by starting others.
constexpr size_t kLocalReadsPerThread = 64;

// Whether a manifest lists its files with exactly the relation's declared file columns
// (names, types, order). A view over only such files is read without union_by_name, which
// makes DuckDB read every footer while binding, one after another (~6 ms for 90 files).
bool HasDeclaredSchema(const Relation& rel, const sink::Manifest& m) {
  size_t i = 0;
  for (const auto& c : rel.columns) {
    if (!c.in_file) continue;
    if (i >= m.schema.size() || m.schema[i].name != c.name || m.schema[i].type != c.type) return false;
    ++i;
  }
  return i == m.schema.size();
}

// One partition among the chosen files.
struct Partition {
  std::string manifest_path;  // "" when the layout cannot name it (then it has no manifest)
  std::vector<size_t> files;  // indices into the listing
  const sink::Manifest* manifest = nullptr;
};

}  // namespace

void ReadManifests(storage::Storage& storage, const std::vector<std::string>& paths,
                   std::map<std::string, sink::Manifest>* out) {
  std::vector<std::optional<sink::Manifest>> read(paths.size());
  const int workers = !storage.ReadsAreLocal()                   ? kRemoteReadsAtOnce
                      : paths.size() >= 2 * kLocalReadsPerThread ? FileWorkers()
                                                                 : 1;
  (void)ParallelFor(paths.size(), workers, [&](size_t i) {
    if (auto m = sink::ReadManifest(storage, paths[i]); m.ok()) read[i] = std::move(*m);
    return Status::OK();
  });
  for (size_t i = 0; i < paths.size(); ++i) {
    if (read[i]) {
      (*out)[paths[i]] = std::move(*read[i]);
    } else {
      out->erase(paths[i]);
    }
  }
}

// Ordering is what makes this exact while an export publishes. The export writes its journal,
// moves its new files into place, switches manifests, deletes the replaced files, then
// removes the journal; here the listing comes first, the manifests and the journal after it.
// - A partition with a manifest is read as that manifest names it, whenever it was read after
//   the listing: the files of the version it names are all in place by then (a file the
//   listing missed, moved in since, is looked up).
// - A partition without one is read as listed unless the journal names its files. If no
//   journal is there, a publish that was under way at the listing may have finished since,
//   so those partitions' manifests are looked for once more, after the journal was.
Result<PublishedFiles> ResolvePublishedFiles(storage::Storage& storage, const Relation& rel, bool dataset,
                                             const PathTemplate& layout, const std::vector<LayoutFile>& listed,
                                             const std::vector<size_t>& chosen, ListedManifests* manifests) {
  PublishedFiles out;
  if (!dataset) {  // a stream: every file is whole, and none is ever replaced
    for (size_t i : chosen) out.files.push_back(listed[i]);
    return out;
  }
  std::vector<Partition> partitions;
  std::map<std::string, size_t> by_manifest;
  for (size_t i : chosen) {
    auto first_file = layout.Format(listed[i].values);
    if (!first_file.ok()) {
      partitions.push_back({"", {i}});
      continue;
    }
    std::string manifest_path = sink::ManifestPathFor(*first_file);
    auto [it, added] = by_manifest.emplace(manifest_path, partitions.size());
    if (added) partitions.push_back({std::move(manifest_path), {}});
    partitions[it->second].files.push_back(i);
  }

  std::vector<std::string> to_read;
  for (const auto& p : partitions) {
    if (std::binary_search(manifests->paths.begin(), manifests->paths.end(), p.manifest_path) &&
        manifests->read.count(p.manifest_path) == 0) {
      to_read.push_back(p.manifest_path);
    }
  }
  ReadManifests(storage, to_read, &manifests->read);
  // A manifest of another dataset, or of a split, says nothing about these files.
  auto usable = [&](const std::string& path) -> const sink::Manifest* {
    auto it = manifests->read.find(path);
    if (it == manifests->read.end() || it->second.dataset != rel.name || !it->second.split.empty()) return nullptr;
    return &it->second;
  };
  std::vector<Partition*> without_manifest;
  for (auto& p : partitions) {
    p.manifest = usable(p.manifest_path);
    if (p.manifest == nullptr) without_manifest.push_back(&p);
  }
  std::set<std::string> being_published;
  if (!without_manifest.empty()) {
    PQ_ASSIGN_OR_RETURN(std::optional<sink::Journal> journal, sink::ReadJournal(storage, rel.name));
    if (journal) {
      for (const auto& jp : journal->partitions) being_published.insert(jp.files.begin(), jp.files.end());
    } else {
      std::vector<std::string> again;
      for (const Partition* p : without_manifest) {
        if (!p->manifest_path.empty()) again.push_back(p->manifest_path);
      }
      ReadManifests(storage, again, &manifests->read);
      for (Partition* p : without_manifest) p->manifest = usable(p->manifest_path);
    }
  }

  out.declared_schema = true;
  for (const auto& p : partitions) {
    if (p.manifest == nullptr) {
      for (size_t i : p.files) {
        if (being_published.count(listed[i].info.path) == 0) out.files.push_back(listed[i]);
      }
      out.declared_schema = false;
      continue;
    }
    out.declared_schema = out.declared_schema && HasDeclaredSchema(rel, *p.manifest);
    for (const auto& mf : p.manifest->files) {
      const LayoutFile* found = nullptr;
      for (size_t i : p.files) {
        if (listed[i].info.path == mf.path) found = &listed[i];
      }
      if (found != nullptr) {
        out.files.push_back(*found);
        continue;
      }
      auto info = storage.Stat(mf.path);
      if (!info.ok()) {
        const std::string what = rel.name + ": " + storage.DisplayPath(mf.path) + ", which the manifest " +
                                 storage.DisplayPath(p.manifest_path) + " lists,";
        if (info.status().code() != StatusCode::kNotFound) return info.status().WithContext(what + " cannot be read");
        return Status::FailedPrecondition(what + " is missing: an export replaced the partition as the query started "
                                          "(run it again), or the file was removed (`pqflow validate " + rel.name +
                                          "` checks the dataset)");
      }
      out.files.push_back({std::move(*info), listed[p.files.front()].values});
    }
  }
  out.declared_schema = out.declared_schema && !out.files.empty();
  return out;
}

}  // namespace pqflow::query
