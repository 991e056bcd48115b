#include <cstdio>

#include "cli/commands.h"
#include "duck/duck.h"

namespace pqflow::cli {

namespace {

// The subcommand of a command line: its first word that is neither an option nor the value of
// --config or --root. "" with --help, whose answer needs no database.
std::string_view SubcommandOf(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") return "";
    if (arg == "--config" || arg == "-c" || arg == "--root") {
      ++i;
    } else if (!arg.starts_with("-")) {
      return arg;
    }
  }
  return "";
}

// The command line parsed and its command run; `database` goes to the query commands.
int RunParsed(int argc, char** argv, const std::shared_ptr<duck::DatabaseOpening>& database) {
  CLI::App app{"pqflow " PQFLOW_VERSION
               " - turns CSV, NDJSON, JSON reports, PostgreSQL tables and HTTP event streams into\n"
               "partitioned Parquet datasets, and queries them.\n"
               "Configuration: --config FILE, else $PQFLOW_CONFIG, else ./pqflow.toml, else the built-in datasets\n"
               "(pageviews, query_perf, index_advisor, optimization_summary) with storage root ./data."};
  app.require_subcommand(1);
  app.fallthrough();  // global options (--config, --root) may also follow the subcommand
  GlobalOptions global;
  global.argv = argv;
  global.database = database;
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

}  // namespace

int RunCli(int argc, char** argv) {
  // A query command needs DuckDB, whose start-up (~20 ms of one core) can overlap with
  // building and parsing this command line (~2 ms), reading the configuration and listing files.
  const std::string_view subcommand = SubcommandOf(argc, argv);
  std::shared_ptr<duck::DatabaseOpening> database;
  if (subcommand == "query" || subcommand == "report" || subcommand == "aggregate") {
    database = duck::DatabaseOpening::Start({});
  }
  const int exit_code = RunParsed(argc, argv, database);
  // Not taken (a usage error, --help in a subcommand's place): closed here, not by a thread
  // still running while the process's static objects are destroyed.
  if (database != nullptr) (void)database->Take();
  return exit_code;
}

}  // namespace pqflow::cli
