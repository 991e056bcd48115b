// `pqflow datasets`: what the configuration declares.
#include <cstdio>

#include "cli/commands.h"

namespace pqflow::cli {

void AddDatasetsCommand(CLI::App& app, const GlobalOptions& global, int* exit_code) {
  CLI::App* cmd = app.add_subcommand("datasets", "List the configured datasets with their schema and layout");
  cmd->callback([&global, exit_code] {
    auto config = LoadConfig(global);
    if (!config.ok()) {
      *exit_code = ReportError(config.status());
      return;
    }
    std::printf("configuration: %s\nstorage root: %s\n\n", config->source.c_str(), config->storage.root.c_str());
    for (const auto& [name, ds] : config->datasets) {
      std::printf("%s  (%s -> parquet/%s)\n  %s\n  layout: %s\n", name.c_str(), SourceFormatName(ds.source.format).c_str(),
                  CodecName(ds.compression).c_str(), ds.description.c_str(), ds.layout.c_str());
      for (const auto& s : ds.splits) std::printf("  split %s: %s\n", s.name.c_str(), s.layout.c_str());
      if (!ds.source.path.empty()) std::printf("  source: %s\n", ds.source.path.c_str());
      if (!ds.source.table.empty()) std::printf("  source table: %s\n", ds.source.table.c_str());
      if (!ds.source.query.empty()) std::printf("  source query: %s\n", ds.source.query.c_str());
      for (const auto& c : ds.columns) {
        std::printf("    %-22s %-14s%s%s%s\n", c.name.c_str(), c.type.ToString().c_str(), c.nullable ? "" : " not null",
                    c.expr.empty() ? "" : (" = " + c.expr).c_str(), c.in_file ? "" : "  (path only, not in the files)");
      }
      std::printf("\n");
    }
    *exit_code = kExitOk;
  });
}

}  // namespace pqflow::cli
