// `pqflow validate`: checks a dataset's files against their manifests.
#pragma once

#include <string>
#include <vector>

#include "core/dataset_config.h"
#include "core/path_template.h"
#include "core/status.h"

namespace pqflow::sink {

struct ValidationIssue {
  std::string path;
  std::string problem;
};

struct ValidationReport {
  int partitions = 0;
  int files = 0;
  int64_t rows = 0;
  int64_t bytes = 0;
  std::vector<ValidationIssue> issues;
  bool ok() const { return issues.empty(); }
  std::string ToJson() const;
  std::string ToText() const;
};

// Every manifest's files must exist with the recorded size, SHA-256 and row count (read
// from the Parquet footer), and every Parquet file of the layout must belong to a manifest.
Result<ValidationReport> ValidateDataset(const Config& config, const std::string& dataset);

// The static prefixes of several layouts with nested ones removed, so a listing of each
// visits every file once.
std::vector<std::string> DisjointPrefixes(const std::vector<PathTemplate>& layouts);

}  // namespace pqflow::sink
