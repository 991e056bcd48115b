#include <cstdio>

#include "cli/commands.h"
#include "duck/duck.h"

namespace pqflow::cli {

int RunCli(int argc, char** argv) {
  CLI::App app{"pqflow " PQFLOW_VERSION
               " - turns CSV, NDJSON, JSON reports, PostgreSQL tables and HTTP event streams into\n"
               "partitioned Parquet datasets, and queries them.\n"
               "Configuration: --config FILE, else $PQFLOW_CONFIG, else ./pqflow.toml, else the built-in datasets\n"
               "(pageviews, query_perf, index_advisor, optimization_summary) with storage root ./data."};
  app.require_subcommand(1);
  app.fallthrough();  // global options (--config, --root) may also follow the subcommand
  GlobalOptions global;
  global.argv = argv;
  app.add_option("--config,-c", global.config_path, "Configuration file (TOML)");
  app.add_option("--root", global.root,
                 "Storage root: a directory or s3://bucket/prefix (overrides storage.root and $PQFLOW_ROOT)");
  app.set_version_flag("--version", std::string("pqflow " PQFLOW_VERSION " (DuckDB ") + duck::LibraryVersion() + ")");
  int exit_code = kExitOk;
  AddExportCommand(app, global, &exit_code);
  AddInspectCommand(app, global, &exit_code);
  AddValidateCommand(app, global, &exit_code);
  AddQueryCommand(app, global, &exit_code);
  AddDatasetsCommand(app, global, &exit_code);
  AddServeCommand(app, global, &exit_code);
  AddKeysCommand(app, global, &exit_code);
  AddPresignCommand(app, global, &exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitUsage;
  }
  return exit_code;
}

}  // namespace pqflow::cli
