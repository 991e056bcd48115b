// `pqflow inspect FILE|DATASET`: what is in a Parquet file (schema, row groups, codecs,
// sizes, statistics) or in a dataset (its partitions, from their manifests).
#include <sys/stat.h>

#include <cstdio>
#include <memory>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "duck/duck.h"
#include "query/query_output.h"
#include "sink/manifest.h"
#include "sink/validator.h"
#include "storage/storage.h"

namespace pqflow::cli {

namespace {

struct InspectFlags {
  std::string target;
  bool json = false;
};

Status InspectFile(const std::string& path, bool json) {
  PQ_ASSIGN_OR_RETURN(duck::Database db, duck::Database::Open({}));
  PQ_ASSIGN_OR_RETURN(duck::Connection conn, duck::Connection::Make(db));
  std::string f = duck::QuoteLiteral(path);
  auto format = json ? query::OutputFormat::kJson : query::OutputFormat::kTable;
  struct Section {
    const char* title;
    std::string sql;
  };
  const Section sections[] = {
      {"file", "SELECT num_rows, num_row_groups, format_version, created_by FROM parquet_file_metadata(" + f + ")"},
      {"schema", "SELECT name, type AS physical_type, type_length, converted_type, logical_type, repetition_type "
                 "FROM parquet_schema(" + f + ") WHERE type IS NOT NULL"},
      {"row groups and column chunks",
       "SELECT row_group_id AS rg, row_group_num_rows AS rows, path_in_schema AS column, compression, "
       "total_compressed_size AS compressed, total_uncompressed_size AS uncompressed, stats_min AS min, "
       "stats_max AS max, stats_null_count AS nulls FROM parquet_metadata(" + f + ") ORDER BY row_group_id, column_id"},
      {"key-value metadata", "SELECT decode(key) AS key, decode(value) AS value FROM parquet_kv_metadata(" + f + ")"},
  };
  for (const auto& s : sections) {
    auto text = query::RunQuery(conn, s.sql, format);
    if (!text.ok()) return text.status().WithContext("inspecting " + path);
    if (!json) std::printf("== %s\n", s.title);
    std::fwrite(text->data(), 1, text->size(), stdout);
    if (!json) std::printf("\n");
  }
  return Status::OK();
}

Status InspectDataset(const Config& config, const std::string& name, bool json) {
  PQ_ASSIGN_OR_RETURN(const DatasetConfig* ds, config.FindDataset(name));
  PQ_ASSIGN_OR_RETURN(auto storage, storage::OpenStorage(config.storage));
  nlohmann::json out = {{"dataset", ds->name}, {"root", config.storage.root}, {"layout", ds->layout},
                        {"compression", CodecName(ds->compression)}, {"partitions", nlohmann::json::array()}};
  int64_t rows = 0, bytes = 0;
  PQ_ASSIGN_OR_RETURN(std::vector<PathTemplate> layouts, AllLayouts(*ds));
  std::string text;
  for (const auto& prefix : sink::DisjointPrefixes(layouts)) {
    PQ_ASSIGN_OR_RETURN(auto files, storage->List(prefix));
    for (const auto& f : files) {
      if (!sink::IsManifestPath(f.path)) continue;
      auto m = sink::ReadManifest(*storage, f.path);
      if (!m.ok() || m->dataset != ds->name) continue;
      rows += m->split.empty() ? m->rows : 0;
      bytes += m->bytes;
      for (const auto& mf : m->files) {
        out["partitions"].push_back({{"path", mf.path}, {"split", m->split.empty() ? nlohmann::json(nullptr) : nlohmann::json(m->split)},
                                     {"date", m->date ? nlohmann::json(*m->date) : nlohmann::json(nullptr)},
                                     {"rows", mf.rows}, {"bytes", mf.bytes}, {"created_at", m->created_at}});
        char line[512];
        std::snprintf(line, sizeof line, "%-90s %12lld rows %12lld bytes\n", mf.path.c_str(),
                      static_cast<long long>(mf.rows), static_cast<long long>(mf.bytes));
        text += line;
      }
    }
  }
  out["rows"] = rows;
  out["bytes"] = bytes;
  if (json) {
    std::printf("%s\n", out.dump(2).c_str());
  } else {
    std::printf("dataset %s (%s) in %s\nlayout: %s\n%s%zu files, %lld rows (main layout), %lld bytes\n", ds->name.c_str(),
                CodecName(ds->compression).c_str(), config.storage.root.c_str(), ds->layout.c_str(), text.c_str(),
                out["partitions"].size(), static_cast<long long>(rows), static_cast<long long>(bytes));
  }
  return Status::OK();
}

int Run(const GlobalOptions& global, const InspectFlags& f) {
  struct stat st{};
  bool is_file = ::stat(f.target.c_str(), &st) == 0 && S_ISREG(st.st_mode);
  Status s = Status::OK();
  if (is_file) {
    s = InspectFile(f.target, f.json);
  } else {
    auto config = LoadConfig(global);
    if (!config.ok()) return ReportError(config.status());
    s = InspectDataset(*config, f.target, f.json);
  }
  return s.ok() ? kExitOk : ReportError(s);
}

}  // namespace

void AddInspectCommand(CLI::App& app, const GlobalOptions& global, int* exit_code) {
  auto flags = std::make_shared<InspectFlags>();
  CLI::App* cmd = app.add_subcommand("inspect", "Show a Parquet file's schema, row groups, codecs and statistics, or a dataset's partitions");
  cmd->footer("Examples:\n  pqflow inspect data/query_perf/year=2025/month=10/query_perf_20251028.parquet\n  pqflow inspect query_perf --json");
  cmd->add_option("target", flags->target, "A Parquet file, or a dataset name")->required();
  cmd->add_flag("--json", flags->json, "Machine-readable output");
  cmd->callback([flags, &global, exit_code] { *exit_code = Run(global, *flags); });
}

}  // namespace pqflow::cli
