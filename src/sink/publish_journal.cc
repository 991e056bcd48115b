#include "sink/publish_journal.h"

#include <algorithm>
#include <atomic>

#include <nlohmann/json.hpp>

#include "core/parallel.h"
#include "sink/manifest.h"

namespace pqflow::sink {

using nlohmann::json;

namespace {

// As many storage requests at once as the export's own manifest reads.
constexpr int kRequestsAtOnce = 8;

}  // namespace

std::string JournalPath(const std::string& dataset) { return ".pqflow/journal/" + dataset + ".json"; }

Status WriteJournal(storage::Storage& storage, const std::string& dataset, const std::string& run_id,
                    const std::vector<JournalPartition>& partitions) {
  // Text built directly: a JSON tree of 200,000 partitions would cost ~100 MB for a moment.
  std::string text = "{\"format\":1,\"dataset\":" + json(dataset).dump() + ",\"run_id\":" + json(run_id).dump() +
                     ",\"partitions\":[";
  for (size_t i = 0; i < partitions.size(); ++i) {
    text += (i == 0 ? "{\"manifest\":" : ",\n{\"manifest\":") + json(partitions[i].manifest).dump() +
            ",\"files\":" + json(partitions[i].files).dump() + "}";
  }
  text += "]}\n";
  return storage.WriteFileAtomic(JournalPath(dataset), text).WithContext("writing the publish journal of " + dataset);
}

Status RemoveJournal(storage::Storage& storage, const std::string& dataset) {
  return storage.Delete(JournalPath(dataset)).WithContext("removing the publish journal of " + dataset);
}

Result<std::optional<Journal>> ReadJournal(storage::Storage& storage, const std::string& dataset) {
  const std::string path = JournalPath(dataset);
  auto text = storage.ReadFile(path);
  if (!text.ok()) {
    if (text.status().code() == StatusCode::kNotFound) return std::optional<Journal>();
    return text.status().WithContext("reading the publish journal of " + dataset);
  }
  Journal journal;
  try {
    json j = json::parse(*text);
    journal.run_id = j.value("run_id", "");
    for (const auto& p : j.at("partitions")) {
      journal.partitions.push_back({p.at("manifest").get<std::string>(), p.at("files").get<std::vector<std::string>>()});
    }
  } catch (const json::exception& e) {
    // Written atomically, so never torn; a journal that does not parse was not written by
    // pqflow, and guessing which files it meant could delete data.
    return Status::InvalidArgument(storage.DisplayPath(path) + " is not a pqflow publish journal (" + e.what() +
                                   "); move it away to export or query " + dataset + " again");
  }
  return std::optional<Journal>(std::move(journal));
}

Result<Recovery> RecoverInterruptedPublish(storage::Storage& storage, const std::string& dataset) {
  Recovery recovery;
  PQ_ASSIGN_OR_RETURN(std::optional<Journal> journal, ReadJournal(storage, dataset));
  if (!journal) return recovery;
  recovery.run_id = journal->run_id;
  const std::vector<JournalPartition>& partitions = journal->partitions;
  recovery.found = true;
  std::atomic<size_t> deleted{0};
  Status swept = ParallelFor(partitions.size(), kRequestsAtOnce, [&](size_t i) -> Status {
    const JournalPartition& p = partitions[i];
    std::vector<std::string> listed;
    auto manifest = ReadManifest(storage, p.manifest);
    if (manifest.ok()) {
      for (const auto& f : manifest->files) listed.push_back(f.path);
    } else if (manifest.status().code() != StatusCode::kNotFound) {
      return manifest.status().WithContext("recovering an interrupted export of " + dataset);
    }
    for (const auto& f : p.files) {
      if (std::find(listed.begin(), listed.end(), f) != listed.end()) continue;
      auto st = storage.Stat(f);
      if (st.status().code() == StatusCode::kNotFound) continue;  // never moved, or already deleted
      PQ_RETURN_IF_ERROR(st.status().WithContext("recovering an interrupted export of " + dataset));
      PQ_RETURN_IF_ERROR(storage.Delete(f).WithContext("recovering an interrupted export of " + dataset));
      ++deleted;
    }
    return Status::OK();
  });
  PQ_RETURN_IF_ERROR(swept);
  recovery.files_deleted = deleted;
  PQ_RETURN_IF_ERROR(RemoveJournal(storage, dataset));
  return recovery;
}

}  // namespace pqflow::sink
