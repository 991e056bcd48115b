#include "query/split_reader.h"

#include <algorithm>
#include <set>

#include "core/parallel.h"
#include "core/text.h"
#include "sink/manifest.h"

namespace pqflow::query {

namespace {

// A pin of many values multiplies the manifests read per partition; past this many the
// main files are read (a query naming 17 projects is not the case this is for).
constexpr size_t kMaxPinnedValues = 16;

struct Split {
  const SplitSpec* spec;
  PathTemplate layout;
  std::vector<std::string> added;  // columns the split adds, all pinned
};

std::set<std::string> LowerNames(const std::vector<std::string>& names) {
  std::set<std::string> out;
  for (const auto& n : names) out.insert(AsciiLower(n));
  return out;
}

// The columns `split` adds to the main layout, or nullopt when a split partition cannot
// stand in for a part of one main partition: a different time granularity (a monthly split
// file holds many days), a main layout column the split does not cut by (its file would hold
// rows of several main partitions), or an added column that is not a string in the files.
std::optional<std::vector<std::string>> AddedColumns(const DatasetConfig& ds, const PathTemplate& main_layout,
                                                     const PathTemplate& split) {
  if (split.Granularity() != main_layout.Granularity() || split.HasHourToken() != main_layout.HasHourToken()) {
    return std::nullopt;
  }
  const std::set<std::string> main_columns = LowerNames(main_layout.ColumnNames());
  const std::set<std::string> split_columns = LowerNames(split.ColumnNames());
  for (const auto& c : main_columns) {
    if (split_columns.count(c) == 0) return std::nullopt;
  }
  std::vector<std::string> added;
  for (const auto& name : split.ColumnNames()) {
    if (main_columns.count(AsciiLower(name))) continue;
    const ColumnSpec* c = ds.FindColumn(name);
    if (c == nullptr || !c->in_file || c->type.kind != TypeKind::kString) return std::nullopt;
    added.push_back(c->name);
  }
  if (added.empty()) return std::nullopt;
  return added;
}

// Every combination of the pinned values of `columns`.
std::vector<std::map<std::string, std::string>> Combinations(const std::vector<std::string>& columns,
                                                             const std::map<std::string, std::vector<std::string>>& pins) {
  std::vector<std::map<std::string, std::string>> out(1);
  for (const auto& column : columns) {
    const std::vector<std::string>& values = pins.at(column);
    std::vector<std::map<std::string, std::string>> next;
    for (const auto& partial : out) {
      for (const auto& v : values) {
        auto combined = partial;
        combined[column] = v;
        next.push_back(std::move(combined));
      }
    }
    out = std::move(next);
    if (out.size() > kMaxPinnedValues) return {};
  }
  return out;
}

// A main partition: its files among those selected, and what its manifest says.
struct MainPartition {
  PartitionValues values;
  std::vector<storage::FileInfo> files;
  std::vector<storage::FileInfo> from_split;  // filled when the split stands in
  bool use_split = false;
};

bool SameTime(const sink::Manifest& a, const sink::Manifest& b) { return a.date == b.date && a.hour == b.hour; }

// Whether the split's partitions of `combinations` can stand in for `p`, and their files.
Status Resolve(storage::Storage& storage, const DatasetConfig& ds, const PathTemplate& main_layout, const Split& split,
               const std::vector<std::map<std::string, std::string>>& combinations,
               const std::map<std::string, sink::Manifest>* known_manifests, MainPartition* p) {
  PQ_ASSIGN_OR_RETURN(std::string main_path, main_layout.Format(p->values));
  const std::string main_manifest_path = sink::ManifestPathFor(main_path);
  const sink::Manifest* known = nullptr;
  if (known_manifests != nullptr) {
    auto it = known_manifests->find(main_manifest_path);
    if (it != known_manifests->end()) known = &it->second;
  }
  Result<sink::Manifest> main_manifest =
      known != nullptr ? Result<sink::Manifest>(*known) : sink::ReadManifest(storage, main_manifest_path);
  if (!main_manifest.ok() || main_manifest->dataset != ds.name || !main_manifest->split.empty()) return Status::OK();
  std::vector<storage::FileInfo> files;
  for (const auto& combination : combinations) {
    PartitionValues values = p->values;
    for (const auto& [column, value] : combination) values.columns[column] = value;
    auto split_path = split.layout.Format(values);
    if (!split_path.ok()) return Status::OK();  // a value the layout cannot hold: read the main files
    auto m = sink::ReadManifest(storage, sink::ManifestPathFor(*split_path));
    if (!m.ok() || m->dataset != ds.name || m->split != split.spec->name || m->run_id.empty() ||
        m->run_id != main_manifest->run_id || !SameTime(*m, *main_manifest)) {
      return Status::OK();
    }
    for (const auto& f : m->files) {
      auto info = storage.Stat(f.path);
      if (!info.ok() || info->size != f.bytes) return Status::OK();
      files.push_back(*info);
    }
  }
  p->from_split = std::move(files);
  p->use_split = true;
  return Status::OK();
}

}  // namespace

std::vector<std::string> SplitPinColumns(const DatasetConfig& ds, const PathTemplate& main_layout) {
  std::set<std::string> columns;
  for (const auto& spec : ds.splits) {
    auto layout = PathTemplate::Make(spec.layout, ds.name);
    if (!layout.ok()) continue;
    if (auto added = AddedColumns(ds, main_layout, *layout)) columns.insert(added->begin(), added->end());
  }
  return std::vector<std::string>(columns.begin(), columns.end());
}

Result<std::optional<SplitRead>> ReadFromSplit(storage::Storage& storage, const DatasetConfig& ds,
                                               const PathTemplate& main_layout, const std::vector<LayoutFile>& main_files,
                                               const std::map<std::string, std::vector<std::string>>& pins,
                                               const std::map<std::string, sink::Manifest>* known_manifests) {
  if (main_files.empty()) return std::optional<SplitRead>();
  // The first split whose added columns are all pinned.
  std::optional<Split> chosen;
  for (const auto& spec : ds.splits) {
    PQ_ASSIGN_OR_RETURN(PathTemplate layout, PathTemplate::Make(spec.layout, ds.name));
    auto added = AddedColumns(ds, main_layout, layout);
    if (!added) continue;
    if (std::all_of(added->begin(), added->end(), [&](const std::string& c) { return pins.count(c) > 0; })) {
      chosen = Split{&spec, std::move(layout), std::move(*added)};
      break;
    }
  }
  if (!chosen) return std::optional<SplitRead>();
  // A split never written: no main manifest need be read to learn that.
  if (storage.HoldsNothingUnder(chosen->layout.StaticDirectory())) return std::optional<SplitRead>();
  const auto combinations = Combinations(chosen->added, pins);
  if (combinations.empty()) return std::optional<SplitRead>();

  std::vector<MainPartition> partitions;
  std::map<std::string, size_t> by_path;  // a rotated partition has several files
  for (const auto& f : main_files) {
    PQ_ASSIGN_OR_RETURN(std::string path, main_layout.Format(f.values));
    auto [it, added] = by_path.try_emplace(path, partitions.size());
    if (added) partitions.push_back({f.values, {}, {}, false});
    partitions[it->second].files.push_back(f.info);
  }
  PQ_RETURN_IF_ERROR(ParallelFor(partitions.size(), FileWorkers(), [&](size_t i) {
    return Resolve(storage, ds, main_layout, *chosen, combinations, known_manifests, &partitions[i]);
  }));

  SplitRead read;
  read.split = chosen->spec->name;
  read.partitions_total = partitions.size();
  for (auto& p : partitions) {
    read.partitions += p.use_split;
    auto& files = p.use_split ? p.from_split : p.files;
    read.files.insert(read.files.end(), files.begin(), files.end());
  }
  if (read.partitions == 0) return std::optional<SplitRead>();
  return std::optional<SplitRead>(std::move(read));
}

}  // namespace pqflow::query
