// The record of a publish in progress. An export moves its new files into place, then
// switches each partition's manifest, then deletes the files the new version replaces. A
// run killed between the first and the last step leaves files that no manifest lists,
// which a "*.parquet" glob reader would count twice. The journal, written before the first
// move and removed after the last delete, lists every file the run may leave behind, and
// the next run of the dataset deletes those that their partition's manifest does not list:
// each partition is then exactly the version its manifest names (the old one, or the new
// one where the killed run had already switched it).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "storage/storage.h"

namespace pqflow::sink {

struct JournalPartition {
  std::string manifest;            // the partition's manifest path
  std::vector<std::string> files;  // the run's new files and the previous version's
};

// ".pqflow/journal/<dataset>.json", relative to the storage root.
std::string JournalPath(const std::string& dataset);

struct Journal {
  std::string run_id;
  std::vector<JournalPartition> partitions;
};

// The journal of `dataset`'s unfinished publish, or nullopt when there is none.
Result<std::optional<Journal>> ReadJournal(storage::Storage& storage, const std::string& dataset);

Status WriteJournal(storage::Storage& storage, const std::string& dataset, const std::string& run_id,
                    const std::vector<JournalPartition>& partitions);
Status RemoveJournal(storage::Storage& storage, const std::string& dataset);

struct Recovery {
  bool found = false;       // a journal was there: a run was interrupted
  std::string run_id;       // the interrupted run
  size_t files_deleted = 0;
};

// Finishes an interrupted publish (see above) and removes its journal. Call with the
// dataset's lock held.
Result<Recovery> RecoverInterruptedPublish(storage::Storage& storage, const std::string& dataset);

}  // namespace pqflow::sink
