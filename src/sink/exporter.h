// `pqflow export`: one dataset, from its file or PostgreSQL source into its layout(s),
// atomically.
//
// Pipeline: inputs -> DuckDB (read, validate, derive columns) -> one partitioned COPY per
// layout into a staging directory -> rejects collected -> staged files fsynced -> each
// partition published file by file, its manifest last. A run that stops anywhere before
// publishing leaves the dataset untouched; published files are always complete.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/dataset_config.h"
#include "core/status.h"
#include "sink/run_report.h"
#include "source/file_source.h"

namespace pqflow::sink {

enum class OnError {
  kFail,        // any rejected row fails the run; nothing is published
  kSkip,        // rejected rows are counted and reported, not kept
  kQuarantine,  // rejected rows are kept in rejects.ndjson beside the run report (default)
};

struct ExportOptions {
  source::InputSelection selection;
  bool dry_run = false;
  bool overwrite = false;               // replace complete partitions instead of skipping them
  OnError on_error = OnError::kQuarantine;
  std::vector<std::string> splits;      // split names to write besides the enabled ones
  // PostgreSQL sources: delete the exported rows from the source, in the transaction that
  // read them, once the files are published and re-read (count and checksum).
  bool delete_after_export = false;
  int threads = 0;                      // DuckDB threads; 0 = all cores
  // DuckDB's memory limit; beyond it DuckDB spills to the staging directory. Peak RSS is
  // about this plus ~300 MB (measured: 2.3 GB with 2 GB; docs/benchmarks.md).
  std::string memory_limit = "2GB";
  // Progress of the current step in percent (0..100), called from a helper thread.
  std::function<void(const std::string& step, double percent)> progress;
  // Called when a step of the run ends, with its wall time (--verbose).
  std::function<void(const std::string& step, double seconds)> trace;
};

Result<RunReport> RunExport(const Config& config, const std::string& dataset, const ExportOptions& options);

}  // namespace pqflow::sink
