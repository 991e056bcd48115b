// Which of a relation's listed files a query reads. An export moves a partition's new files
// into place, switches its manifest, then deletes the files the new version replaces
// (sink/publish_journal.h): for a moment a listing holds both versions, and a run killed in
// between leaves files that no manifest lists. Reading every file the layout matches would
// then count a partition's rows twice, or read part of a partition still being published.
// So a query reads each partition exactly as its manifest names it, and the files of a
// partition without one (written by another tool, or an event stream's) as listed, except
// those an unfinished publish's journal names.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/path_template.h"
#include "core/status.h"
#include "query/catalog.h"
#include "sink/manifest.h"
#include "storage/storage.h"

namespace pqflow::query {

// Reads the manifests at `paths` into `out` (by path), concurrently where the storage is
// remote or they are many. One that cannot be read is left out: its partition is then read
// as if it had none.
void ReadManifests(storage::Storage& storage, const std::vector<std::string>& paths,
                   std::map<std::string, sink::Manifest>* out);

struct PublishedFiles {
  std::vector<LayoutFile> files;
  bool declared_schema = false;  // a manifest lists every file, with the relation's declared columns
};

// The files a query reads of `chosen` (indices into `listed`, the relation's listing after
// pruning). `manifests` holds what the listing found: the manifests present then, and those
// already read; the chosen partitions' others are read now and added. `dataset` is false for
// an event stream, which writes neither manifests nor journals.
Result<PublishedFiles> ResolvePublishedFiles(storage::Storage& storage, const Relation& rel, bool dataset,
                                             const PathTemplate& layout, const std::vector<LayoutFile>& listed,
                                             const std::vector<size_t>& chosen, ListedManifests* manifests);

}  // namespace pqflow::query
