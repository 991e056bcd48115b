// `pqflow keys new`: a new API key, and the config lines that hold only its hash.
#include <cstdio>
#include <memory>

#include "cli/commands.h"
#include "server/auth.h"

namespace pqflow::cli {

void AddKeysCommand(CLI::App& app, const GlobalOptions&, int* exit_code) {
  struct Flags {
    std::string name;
    std::vector<std::string> scopes{"ingest"};
    std::vector<uint64_t> workspaces;
    std::vector<std::string> projects;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* keys = app.add_subcommand("keys", "Manage API keys for pqflow serve");
  keys->require_subcommand(1);
  CLI::App* cmd = keys->add_subcommand("new", "Print a new API key and the [[server.keys]] lines for the config");
  cmd->add_option("--name", flags->name, "A name for logs and audit, e.g. ingest-prod")->required();
  cmd->add_option("--scopes", flags->scopes, "ingest, query, export, admin (default: ingest)")->delimiter(',');
  cmd->add_option("--workspaces", flags->workspaces, "Restrict the key to these workspace ids (default: all)")
      ->delimiter(',');
  cmd->add_option("--projects", flags->projects,
                  "Queries with this key see only these projects' rows (a dataset's project_column, e.g. project_slug)")
      ->delimiter(',');
  cmd->footer("Only the SHA-256 of the key goes into the config; the key itself is shown once.");
  cmd->callback([flags, exit_code] {
    auto scopes = server::ParseScopes(flags->scopes);
    if (!scopes.ok()) {
      *exit_code = ReportError(scopes.status());
      return;
    }
    auto key = server::GenerateKeyText();
    if (!key.ok()) {
      *exit_code = ReportError(key.status());
      return;
    }
    std::string snippet = server::KeyConfigSnippet(flags->name, server::HashKeyText(*key), *scopes, flags->workspaces,
                                                   flags->projects);
    std::printf("API key (shown once; give it to the client as \"Authorization: Bearer <key>\"):\n%s\n\n"
                "Add to pqflow.toml:\n%s", key->c_str(), snippet.c_str());
    *exit_code = kExitOk;
  });
}

}  // namespace pqflow::cli
