// `pqflow query SQL`: SQL over the configured datasets, each a view named after it.
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>

#include "cli/commands.h"
#include "query/catalog.h"

namespace pqflow::cli {

void AddQueryCommand(CLI::App& app, const GlobalOptions& global, int* exit_code) {
  struct Flags {
    std::string sql;
    std::string file;
    std::string format;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand("query", "Run SQL over the datasets (each dataset is a view of the same name)");
  cmd->footer("Examples:\n  pqflow query \"SELECT date, sum(view_count) FROM pageviews GROUP BY 1 ORDER BY 1\"\n"
              "  pqflow query --file report.sql --format csv");
  cmd->add_option("sql", flags->sql, "The SQL text");
  cmd->add_option("--file,-f", flags->file, "Read the SQL from a file");
  cmd->add_option("--format", flags->format, "table (default on a terminal), csv or json (one object per line)")
      ->check(CLI::IsMember({"table", "csv", "json"}));
  cmd->callback([flags, &global, exit_code] {
    std::string sql = flags->sql;
    if (!flags->file.empty()) {
      std::ifstream in(flags->file);
      if (!in) {
        *exit_code = ReportError(Status::NotFound("cannot read " + flags->file));
        return;
      }
      std::stringstream buf;
      buf << in.rdbuf();
      sql = buf.str();
    }
    if (sql.empty()) {
      *exit_code = ReportError(Status::InvalidArgument("give the SQL as an argument or with --file"));
      return;
    }
    while (!sql.empty() && (sql.back() == ';' || std::isspace(static_cast<unsigned char>(sql.back())))) sql.pop_back();
    auto config = LoadConfig(global);
    if (!config.ok()) {
      *exit_code = ReportError(config.status());
      return;
    }
    std::string fmt = flags->format.empty() ? (::isatty(STDOUT_FILENO) ? "table" : "csv") : flags->format;
    auto format = fmt == "json" ? query::OutputFormat::kJson : fmt == "csv" ? query::OutputFormat::kCsv : query::OutputFormat::kTable;
    Status s = [&]() -> Status {
      PQ_ASSIGN_OR_RETURN(duck::Database db, duck::Database::Open({}));
      PQ_ASSIGN_OR_RETURN(duck::Connection conn, duck::Connection::Make(db));
      PQ_RETURN_IF_ERROR(conn.Execute("SET TimeZone = 'UTC'"));
      PQ_RETURN_IF_ERROR(query::CreateDatasetViews(conn, *config).status());
      PQ_ASSIGN_OR_RETURN(std::string out, query::RunQuery(conn, sql, format));
      std::fwrite(out.data(), 1, out.size(), stdout);
      return Status::OK();
    }();
    *exit_code = s.ok() ? kExitOk : ReportError(s.WithContext("query"));
  });
}

}  // namespace pqflow::cli
