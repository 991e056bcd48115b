#include "sink/run_report.h"

#include "core/text.h"

#include <cstdio>

#include <nlohmann/json.hpp>

namespace pqflow::sink {

using nlohmann::json;

namespace {

std::string Fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}


}  // namespace

void RunReport::Add(const RunReport& other) {
  inputs.insert(inputs.end(), other.inputs.begin(), other.inputs.end());
  input_bytes += other.input_bytes;
  rows_read += other.rows_read;
  rows_written += other.rows_written;
  rows_rejected += other.rows_rejected;
  rows_skipped += other.rows_skipped;
  rows_outside_dates += other.rows_outside_dates;
  rows_deleted += other.rows_deleted;
  bytes_written += other.bytes_written;
  split_bytes_written += other.split_bytes_written;
  seconds += other.seconds;
  files.insert(files.end(), other.files.begin(), other.files.end());
  skipped.insert(skipped.end(), other.skipped.begin(), other.skipped.end());
  rejects.insert(rejects.end(), other.rejects.begin(), other.rejects.end());
  if (!other.recovered_run.empty()) recovered_run = other.recovered_run;
  recovered_files_deleted += other.recovered_files_deleted;
  if (!other.report_path.empty()) report_path = other.report_path;
  if (!other.rejects_path.empty()) rejects_path = other.rejects_path;
}

std::string RunReport::ToJson() const {
  json j;
  j["run_id"] = run_id;
  j["dataset"] = dataset;
  j["storage"] = storage;
  j["dry_run"] = dry_run;
  j["inputs"] = json::array();
  for (const auto& in : inputs) j["inputs"].push_back({{"path", in.path}, {"bytes", in.bytes}});
  j["input_bytes"] = input_bytes;
  j["rows"] = {{"read", rows_read}, {"written", rows_written}, {"rejected", rows_rejected},
               {"skipped", rows_skipped}, {"outside_dates", rows_outside_dates}, {"deleted_from_source", rows_deleted},
               {"balanced", Balances()}};
  j["bytes_written"] = bytes_written;
  j["split_bytes_written"] = split_bytes_written;
  j["compression_ratio"] = input_bytes > 0 ? static_cast<double>(bytes_written) / static_cast<double>(input_bytes) : 0.0;
  j["seconds"] = seconds;
  j["files"] = json::array();
  for (const auto& f : files) {
    j["files"].push_back({{"path", f.path}, {"split", f.split.empty() ? json(nullptr) : json(f.split)},
                          {"rows", f.rows}, {"bytes", f.bytes}});
  }
  j["skipped"] = json::array();
  for (const auto& s : skipped) j["skipped"].push_back({{"path", s.path}, {"rows", s.rows}, {"reason", s.reason}});
  j["rejects_sample"] = json::array();
  for (size_t i = 0; i < rejects.size() && i < 20; ++i) {
    const auto& r = rejects[i];
    j["rejects_sample"].push_back({{"file", r.file}, {"line", r.line}, {"column", r.column}, {"reason", r.reason}});
  }
  j["recovered"] = recovered_run.empty() ? json(nullptr)
                                          : json{{"run_id", recovered_run}, {"files_deleted", recovered_files_deleted}};
  j["report_path"] = report_path.empty() ? json(nullptr) : json(report_path);
  j["rejects_path"] = rejects_path.empty() ? json(nullptr) : json(rejects_path);
  return j.dump(2) + "\n";
}

std::string RunReport::RejectsNdjson() const {
  std::string out;
  for (const auto& r : rejects) {
    json j = {{"file", r.file}, {"line", r.line == 0 ? json(nullptr) : json(r.line)},
              {"column", r.column.empty() ? json(nullptr) : json(r.column)}, {"reason", r.reason}, {"record", r.record}};
    out += j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
  }
  return out;
}

std::string RunReport::ToText() const {
  std::string out;
  if (!recovered_run.empty()) {
    out += "recovered: run " + recovered_run + " was interrupted while publishing; deleted " +
           std::to_string(recovered_files_deleted) + " of its files that no manifest lists\n";
  }
  // Apportion input bytes by rows so every file's ratio compares like with like.
  double in_per_row = rows_read > 0 ? static_cast<double>(input_bytes) / static_cast<double>(rows_read) : 0;
  for (const auto& f : files) {
    double in_bytes = in_per_row * static_cast<double>(f.rows);
    std::string ratio = in_bytes > 0 ? Fixed(100.0 * static_cast<double>(f.bytes) / in_bytes, 1) + "%" : "n/a";
    out += std::string(f.dry_run ? "dry-run:would-write" : "export:parquet") + " file=" + f.path +
           " rows=" + std::to_string(f.rows) + " compressed_kb=" + Fixed(static_cast<double>(f.bytes) / 1024.0, 1) +
           " ratio=" + ratio + "\n";
  }
  for (const auto& s : skipped) out += s.path + " " + s.reason + "\n";
  for (size_t i = 0; i < rejects.size() && i < 10; ++i) {
    const auto& r = rejects[i];
    out += "rejected: " + r.file + (r.line > 0 ? ":" + std::to_string(r.line) : "") + ": " + r.reason + "\n";
  }
  if (rejects.size() > 10) out += "rejected: ... and " + std::to_string(rejects.size() - 10) + " more\n";
  double ratio = input_bytes > 0 ? 100.0 * static_cast<double>(bytes_written) / static_cast<double>(input_bytes) : 0;
  out += std::string(dry_run ? "dry run: " : "") + "summary: dataset=" + dataset + " rows_read=" + std::to_string(rows_read) +
         " written=" + std::to_string(rows_written) + " rejected=" + std::to_string(rows_rejected) +
         " skipped=" + std::to_string(rows_skipped);
  if (rows_outside_dates > 0) out += " outside_dates=" + std::to_string(rows_outside_dates);
  if (rows_deleted > 0) out += " deleted_from_source=" + std::to_string(rows_deleted);
  out += " files=" + std::to_string(files.size()) + " in=" + HumanBytes(input_bytes) + " out=" + HumanBytes(bytes_written);
  if (split_bytes_written > 0) out += " (+" + HumanBytes(split_bytes_written) + " in splits)";
  if (bytes_written > 0) out += " ratio=" + Fixed(ratio, 1) + "% (saved " + Fixed(100 - ratio, 1) + "%)";
  out += " seconds=" + Fixed(seconds, 2) + "\n";
  if (!rejects_path.empty()) out += "rejected rows kept in " + rejects_path + "\n";
  if (!report_path.empty()) out += "report: " + report_path + "\n";
  return out;
}

}  // namespace pqflow::sink
