// Reading a dataset's split instead of its main layout.
//
// A split (seed 000's per-project copies: `[datasets.pageviews.splits.project]`) holds the
// rows of the main layout again, cut by more columns. When a query pins every column a split
// adds (`project_slug = 'docs'`, `project_slug IN ('a', 'b')`; partition_pruner.h), the
// split's partitions of those values hold exactly the rows of each main partition that the
// query can want, and are a fraction of its size.
//
// A main partition is read from the split only when, for every pinned value, the split
// partition's manifest was written by the same export run as the main partition's (same
// run_id, date and hour): one run cuts both from the same rows. Anything else (no split
// partition for a value, one from an older run, a run that stopped while publishing) reads
// that main partition whole: like pruning, this may read too much, never too little.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/dataset_config.h"
#include "core/path_template.h"
#include "core/status.h"
#include "query/catalog.h"
#include "sink/manifest.h"
#include "storage/storage.h"

namespace pqflow::query {

struct SplitRead {
  std::string split;                     // the split read from
  size_t partitions = 0;                 // main partitions read from it
  size_t partitions_total = 0;           // main partitions selected
  std::vector<storage::FileInfo> files;  // the split's files, and the main files of the other partitions
};

// The string columns that some split of `ds` adds to its main layout: the pin columns.
std::vector<std::string> SplitPinColumns(const DatasetConfig& ds, const PathTemplate& main_layout);

// What to read instead of `main_files` (the main layout's selected files), or nullopt when
// no split of `ds` has every added column pinned or no main partition could use one.
// `known_manifests`: main manifests already read, by path (catalog.h's ListedManifests).
Result<std::optional<SplitRead>> ReadFromSplit(storage::Storage& storage, const DatasetConfig& ds,
                                               const PathTemplate& main_layout, const std::vector<LayoutFile>& main_files,
                                               const std::map<std::string, std::vector<std::string>>& pins,
                                               const std::map<std::string, sink::Manifest>* known_manifests = nullptr);

}  // namespace pqflow::query
