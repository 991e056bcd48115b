// What an export run did, for people (one line per file, a summary) and machines (JSON).
// The counts always balance: rows_read = rows_written + rows_rejected + rows_skipped +
// rows_outside_dates (counted on the main layout; split copies repeat written rows).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace pqflow::sink {

struct WrittenFile {
  std::string path;      // relative to the storage root
  std::string split;     // "" for the main layout
  int64_t rows = 0;
  int64_t bytes = 0;
  bool dry_run = false;  // would be written
};

struct SkippedPartition {
  std::string path;
  int64_t rows = 0;
  std::string reason;
};

struct RejectedRow {
  std::string file;
  int64_t line = 0;      // 0 when the reader cannot tell
  std::string column;    // "" when the whole record is bad
  std::string reason;
  std::string record;    // the input as read
};

struct InputSummary {
  std::string path;
  int64_t bytes = 0;
};

struct RunReport {
  std::string run_id;
  std::string dataset;
  std::string storage;
  bool dry_run = false;
  std::vector<InputSummary> inputs;
  int64_t input_bytes = 0;
  int64_t rows_read = 0;
  int64_t rows_written = 0;
  int64_t rows_rejected = 0;
  int64_t rows_skipped = 0;
  int64_t rows_outside_dates = 0;
  int64_t rows_deleted = 0;         // from a PostgreSQL source, --delete-after-export
  int64_t bytes_written = 0;        // main layout: what the compression ratio compares
  int64_t split_bytes_written = 0;  // per-split copies
  double seconds = 0;
  std::vector<WrittenFile> files;
  std::vector<SkippedPartition> skipped;
  std::vector<RejectedRow> rejects;
  // An earlier run of the dataset that was killed while publishing (publish_journal.h):
  // its id and how many of its files no manifest listed and this run deleted.
  std::string recovered_run;
  int64_t recovered_files_deleted = 0;
  std::string report_path;   // local path of report.json, "" for dry runs
  std::string rejects_path;  // local path of rejects.ndjson, "" when none were kept

  bool Balances() const {
    return rows_read == rows_written + rows_rejected + rows_skipped + rows_outside_dates;
  }
  // Folds a later run into this one (a --historical export runs one date at a time).
  void Add(const RunReport& other);
  std::string ToJson() const;
  std::string RejectsNdjson() const;
  // "export:parquet file=... rows=... compressed_kb=... ratio=...%" per file, then a summary.
  std::string ToText() const;
};

}  // namespace pqflow::sink
