// A private PostgreSQL server for one test: initdb into a fresh temporary directory, a postmaster listening on a
// free port of 127.0.0.1, and everything stopped and removed when the object is destroyed. Needs the PostgreSQL 15
// server binaries (scripts/bootstrap.sh installs them). Link pqflow_test_postgres.
//
// As root (CI), initdb and postgres run as the `postgres` OS user, or as `pqflow-test` (created with useradd once)
// where there is no such user, because postgres refuses to run as root. Otherwise they run as the current user.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <csignal>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "temp_dir.h"

namespace pqflow::testing {

struct PostgresServerOptions {
  // Directory holding initdb and postgres. Empty: $PQFLOW_PG_BIN if set, else /usr/lib/postgresql/15/bin.
  std::string bin_dir;
  std::string dbname = "pqflow_test";  // created once the server is up ("postgres" always exists)
  // The database superuser. Unix-socket connections are trusted; TCP ones need the password (scram-sha-256).
  std::string user = "postgres";
  std::string password = "pqflow-test-password";
  // fsync=off and full_page_writes=off: much faster, and committed data still survives Kill(SIGKILL), only not a
  // machine crash. synchronous_commit stays on, since off would lose the last commits when the server is killed.
  bool fast = true;
  // More postgresql.conf settings, e.g. {"max_connections", "20"}; kept across Restart().
  std::vector<std::pair<std::string, std::string>> settings;
  // Deliver SIGQUIT (immediate shutdown) to the server when the thread that started it ends, so a test binary that
  // crashes or is killed by CTest leaves no postgres running. Turn off to start a server from a short-lived thread.
  bool die_with_parent = true;
  std::chrono::milliseconds start_timeout{30000};
  std::chrono::milliseconds stop_timeout{10000};  // Stop() sends SIGKILL after this
};

class PostgresServer {
 public:
  using Options = PostgresServerOptions;
  using Row = std::vector<std::optional<std::string>>;  // std::nullopt is SQL NULL

  // initdb, start, wait until it accepts connections, create the database. Throws std::runtime_error, with the
  // end of the initdb or server log, if any step fails.
  static std::unique_ptr<PostgresServer> Start(const Options& options = {});
  ~PostgresServer();  // stops the server (only the process it started) and removes the directory
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  const std::string& host() const { return host_; }  // always 127.0.0.1
  int port() const { return port_; }
  const std::string& user() const { return options_.user; }
  const std::string& password() const { return options_.password; }
  const std::string& dbname() const { return options_.dbname; }
  pid_t pid() const { return pid_; }  // the postmaster's, or -1 while stopped
  const std::string& data_dir() const { return data_dir_; }
  const std::string& socket_dir() const { return socket_dir_; }  // empty if the path is too long for a socket
  const std::string& os_user() const { return os_user_; }         // who the server runs as
  // libpq conninfo over TCP: "host=127.0.0.1 port=N dbname=... user=... password=...".
  std::string Dsn() const;
  std::string Dsn(const std::string& dbname) const;  // the same for another database, e.g. "postgres"

  // One statement or several separated by ';', on a new connection to dbname(). Throws with the server's message.
  void Execute(const std::string& sql) const;
  // Rows of the last statement, every value as text.
  std::vector<Row> Query(const std::string& sql) const;

  // Sends `signal` to the postmaster. For SIGKILL (a simulated crash) also waits until it and its backends are
  // gone, so the next connection fails; for other signals returns at once (see WaitForExit).
  void Kill(int signal = SIGKILL);
  // Waits up to `timeout` for the postmaster to exit; true if it has (or was not running).
  bool WaitForExit(std::chrono::milliseconds timeout);
  bool running();
  // Fast shutdown (SIGINT), SIGKILL after options.stop_timeout. Does nothing if not running.
  void Stop();
  // Stops if running, then starts again on the same data directory (with crash recovery after a Kill) and the same
  // port, or a new one in the rare case another process took it meanwhile: read port()/Dsn() afterwards.
  void Restart();

  std::string LogTail() const;  // the last lines of the server log, for failure messages

 private:
  explicit PostgresServer(const Options& options);
  void InitDb();
  void Launch(bool keep_port);
  enum class Startup { kReady, kPortTaken };
  Startup WaitReady(off_t log_start);
  void Reaped();  // bookkeeping once waitpid returned our postmaster
  bool TryReap(bool block);
  void ReleaseSharedMemory();

  Options options_;
  TempDir dir_;  // declared before anything that lives in it
  std::string host_ = "127.0.0.1";
  std::string bin_dir_;
  std::string data_dir_;
  std::string socket_dir_;
  std::string log_path_;
  std::string os_user_;
  bool switch_user_ = false;
  uid_t uid_ = 0;
  gid_t gid_ = 0;
  int port_ = 0;
  pid_t pid_ = -1;
  int last_status_ = 0;  // of the postmaster, from waitpid
  // The SysV segment postgres uses as its interlock. After a SIGKILL nobody deletes it, so we do (see .cc).
  int shm_id_ = -1;
  pid_t shm_creator_ = -1;
};

}  // namespace pqflow::testing
