#include "sink/validator.h"

#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>

#include "core/path_template.h"
#include "core/crypto.h"
#include "duck/duck.h"
#include "sink/manifest.h"
#include "sink/publish_journal.h"
#include "storage/storage.h"

namespace pqflow::sink {

namespace {

struct Check {
  storage::Storage& storage;
  duck::Connection& conn;
  ValidationReport& report;

  void Issue(const std::string& path, const std::string& problem) { report.issues.push_back({path, problem}); }

  void File(const ManifestFile& f) {
    ++report.files;
    auto st = storage.Stat(f.path);
    if (!st.ok()) return Issue(f.path, "listed in its manifest but missing");
    if (st->size != f.bytes) {
      return Issue(f.path, "size " + std::to_string(st->size) + " bytes, manifest says " + std::to_string(f.bytes));
    }
    auto local = storage.OpenForReading({*st});  // on S3: a copy in the read cache
    if (!local.ok()) return Issue(f.path, local.status().message());
    const std::string& path = local->local_paths[0];
    auto sha = Sha256File(path);
    if (!sha.ok()) return Issue(f.path, sha.status().message());
    if (*sha != f.sha256) return Issue(f.path, "SHA-256 differs from the manifest (file changed or corrupted)");
    auto rows = conn.Query("SELECT num_rows FROM parquet_file_metadata(" + duck::QuoteLiteral(path) + ")");
    if (!rows.ok()) return Issue(f.path, "not readable as Parquet: " + rows.status().message());
    int64_t n = rows->row_count() == 1 ? rows->GetInt64(0, 0, -1) : -1;
    if (n != f.rows) return Issue(f.path, std::to_string(n) + " rows, manifest says " + std::to_string(f.rows));
    report.rows += f.rows;
    report.bytes += f.bytes;
  }
};

}  // namespace

std::vector<std::string> DisjointPrefixes(const std::vector<PathTemplate>& layouts) {
  std::vector<std::string> prefixes;
  for (const auto& l : layouts) prefixes.push_back(l.StaticDirectory());
  std::sort(prefixes.begin(), prefixes.end());
  std::vector<std::string> out;
  for (const auto& p : prefixes) {
    // "a/" already covers "a/b/".
    if (!out.empty() && p.rfind(out.back(), 0) == 0) continue;
    out.push_back(p);
  }
  return out;
}

Result<ValidationReport> ValidateDataset(const Config& config, const std::string& dataset) {
  PQ_ASSIGN_OR_RETURN(const DatasetConfig* ds, config.FindDataset(dataset));
  PQ_ASSIGN_OR_RETURN(auto storage, storage::OpenStorage(config.storage));
  PQ_ASSIGN_OR_RETURN(duck::Database db, duck::Database::Open({}));
  PQ_ASSIGN_OR_RETURN(duck::Connection conn, duck::Connection::Make(db));
  ValidationReport report;
  Check check{*storage, conn, report};
  PQ_ASSIGN_OR_RETURN(std::vector<PathTemplate> layouts, AllLayouts(*ds));
  std::set<std::string> listed;
  std::vector<std::string> parquet_files;
  for (const auto& prefix : DisjointPrefixes(layouts)) {
    PQ_ASSIGN_OR_RETURN(auto files, storage->List(prefix));
    for (const auto& f : files) {
      if (IsManifestPath(f.path)) {
        auto m = ReadManifest(*storage, f.path);
        if (!m.ok()) {
          check.Issue(f.path, m.status().message());
          continue;
        }
        if (m->dataset != ds->name) continue;
        ++report.partitions;
        for (const auto& mf : m->files) {
          listed.insert(mf.path);
          check.File(mf);
        }
      } else if (f.path.size() > 8 && f.path.compare(f.path.size() - 8, 8, ".parquet") == 0) {
        for (const auto& layout2 : layouts) {
          if (layout2.Parse(f.path).ok()) {
            parquet_files.push_back(f.path);
            break;
          }
        }
      }
    }
  }
  // An export killed while publishing leaves such files and its journal; the next export
  // of the dataset removes them.
  const bool interrupted = storage->Stat(JournalPath(ds->name)).ok();
  const std::string unlisted =
      interrupted ? "belongs to no manifest: left by an export that was interrupted while publishing; the next "
                    "`pqflow export " + ds->name + "` removes it"
                  : "matches the layout but belongs to no manifest (partial or foreign file)";
  for (const auto& p : parquet_files) {
    if (!listed.count(p)) check.Issue(p, unlisted);
  }
  return report;
}

std::string ValidationReport::ToJson() const {
  nlohmann::json j = {{"ok", ok()}, {"partitions", partitions}, {"files", files}, {"rows", rows}, {"bytes", bytes}};
  j["issues"] = nlohmann::json::array();
  for (const auto& i : issues) j["issues"].push_back({{"path", i.path}, {"problem", i.problem}});
  return j.dump(2) + "\n";
}

std::string ValidationReport::ToText() const {
  std::string out;
  for (const auto& i : issues) out += "MISMATCH " + i.path + ": " + i.problem + "\n";
  out += std::string(ok() ? "ok" : "FAILED") + ": " + std::to_string(partitions) + " partitions, " +
         std::to_string(files) + " files, " + std::to_string(rows) + " rows checked, " + std::to_string(issues.size()) +
         " problem(s)\n";
  return out;
}

}  // namespace pqflow::sink
