// `pqflow serve`'s options and help; RunServe (commands.h) runs it.
#include <memory>

#include "cli/commands.h"

namespace pqflow::cli {

void AddServeCommand(CLI::App& app, const GlobalOptions& global, int* exit_code) {
  auto flags = std::make_shared<ServeFlags>();
  CLI::App* cmd = app.add_subcommand("serve", "Run the HTTP event sink: durable ingest rotated into Parquet files");
  cmd->add_option("--listen", flags->listen, "host:port to listen on (default server.listen, 127.0.0.1:8080; port 0 = any)");
  cmd->add_flag("--allow-unauthenticated", flags->allow_unauthenticated,
                "Serve without API keys when none are configured (loopback addresses only)");
  cmd->add_flag("--quiet,-q", flags->quiet, "Do not log each Parquet file written (errors are still logged)");
  cmd->footer(
      "Endpoints:\n"
      "  POST /v1/streams/{events|logs|snapshots|...}  NDJSON body, Authorization: Bearer KEY (scope ingest)\n"
      "  GET  /health                                  open\n"
      "  GET  /metrics                                 Prometheus text (scope admin)\n"
      "A 200 means the batch is on disk (fsynced write-ahead log). SIGTERM writes every buffer and exits 0.\n"
      "Keys: pqflow keys new --name NAME --scopes ingest. Settings: [server] and [streams.*] in the config,\n"
      "PQFLOW_LISTEN, PQFLOW_WAL_DIR, PQFLOW_MAX_BODY_SIZE, PQFLOW_MAX_WAL_SIZE, PQFLOW_MEMORY_LIMIT.");
  cmd->callback([flags, &global, exit_code] {
    *exit_code = RunServe(global, *flags);
  });
}

}  // namespace pqflow::cli
