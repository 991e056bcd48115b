// `pqflow query SQL`: SQL over the configured datasets, each a view named after it.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>

#include "cli/commands.h"
#include "query/catalog.h"
#include "query/query_output.h"

namespace pqflow::cli {

namespace {

// Written beside the target and renamed over it: a reader never sees half a result.
Status WriteOutputFile(const std::string& path, const std::string& data) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
    out.close();
    if (!out) {
      std::remove(tmp.c_str());
      return Status::IOError("cannot write " + path);
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return Status::FromErrno("writing " + path, errno);
  }
  return Status::OK();
}

}  // namespace

void AddQueryCommand(CLI::App& app, const GlobalOptions& global, int* exit_code) {
  struct Flags {
    std::string sql;
    std::string file;
    std::string format;
    std::string output;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand("query", "Run SQL over the datasets (each dataset is a view of the same name)");
  cmd->footer("Examples:\n  pqflow query \"SELECT date, sum(view_count) FROM pageviews GROUP BY 1 ORDER BY 1\"\n"
              "  pqflow query --file report.sql --format csv");
  cmd->add_option("sql", flags->sql, "The SQL text");
  cmd->add_option("--file,-f", flags->file, "Read the SQL from a file");
  cmd->add_option("--format", flags->format,
                  "table (default on a terminal), csv (default otherwise), json (an array) or ndjson (one object per line)")
      ->check(CLI::IsMember({"table", "csv", "json", "ndjson"}));
  cmd->add_option("--output,-o", flags->output, "Write the result to FILE (complete or not at all) instead of stdout");
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
    const bool terminal = flags->output.empty() && ::isatty(STDOUT_FILENO);
    std::string fmt = flags->format.empty() ? (terminal ? "table" : "csv") : flags->format;
    auto format = fmt == "json"     ? query::OutputFormat::kJson
                  : fmt == "ndjson" ? query::OutputFormat::kNdjson
                  : fmt == "csv"    ? query::OutputFormat::kCsv
                                    : query::OutputFormat::kTable;
    Status s = [&]() -> Status {
      PQ_ASSIGN_OR_RETURN(duck::Database db, duck::Database::Open({}));
      PQ_ASSIGN_OR_RETURN(duck::Connection conn, duck::Connection::Make(db));
      PQ_RETURN_IF_ERROR(conn.Execute("SET TimeZone = 'UTC'"));
      PQ_RETURN_IF_ERROR(query::CreateViews(conn, *config, sql, query::RelationNames(*config), {}).status());
      PQ_ASSIGN_OR_RETURN(std::string out, query::RunQuery(conn, sql, format));
      if (flags->output.empty()) {
        std::fwrite(out.data(), 1, out.size(), stdout);
        return Status::OK();
      }
      return WriteOutputFile(flags->output, out);
    }();
    *exit_code = s.ok() ? kExitOk : ReportError(s.WithContext("query"));
  });
}

}  // namespace pqflow::cli
