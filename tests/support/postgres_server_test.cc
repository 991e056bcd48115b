#include "postgres_server.h"

#include <gtest/gtest.h>
#include <arpa/inet.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>

namespace pqflow::testing {
namespace {

namespace fs = std::filesystem;
using Row = PostgresServer::Row;

// kill(pid, 0) also succeeds for a zombie, so false here means the process was reaped too.
bool ProcessExists(pid_t pid) { return ::kill(pid, 0) == 0 || errno != ESRCH; }

// The real uid a process runs as, from /proc.
int ProcessUid(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("Uid:")) return std::stoi(line.substr(4));
  }
  return -1;
}

// A listening socket on 127.0.0.1:port, or -1.
int ListenOn(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);  // the port may be in TIME_WAIT
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 1) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Empty if libpq connects, else its error message.
std::string ConnectError(const std::string& dsn) {
  PGconn* conn = PQconnectdb(dsn.c_str());
  std::string err = PQstatus(conn) == CONNECTION_OK ? "" : PQerrorMessage(conn);
  PQfinish(conn);
  return err;
}

TEST(PostgresServerTest, CreatesTableInsertsAndCountsRows) {
  auto pg = PostgresServer::Start();
  EXPECT_EQ(pg->host(), "127.0.0.1");
  EXPECT_GT(pg->port(), 0);
  EXPECT_EQ(pg->Dsn(), "host=127.0.0.1 port=" + std::to_string(pg->port()) +
                           " dbname=pqflow_test user=postgres password=pqflow-test-password");
  // postgres refuses to run as root, so under root the harness must have switched users.
  if (::geteuid() == 0) {
    EXPECT_NE(ProcessUid(pg->pid()), 0) << "running as " << pg->os_user();
  }

  pg->Execute("CREATE TABLE t (id int PRIMARY KEY, name text); INSERT INTO t VALUES (1, 'a'), (2, NULL), (3, 'c')");
  EXPECT_EQ(pg->Query("SELECT count(*) FROM t")[0][0], "3");
  std::vector<Row> rows = pg->Query("SELECT id, name FROM t ORDER BY id");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[1], (Row{"2", std::nullopt}));
  EXPECT_EQ(pg->Query("SELECT current_database(), current_user, current_setting('fsync')")[0],
            (Row{"pqflow_test", "postgres", "off"}));

  try {
    pg->Execute("INSERT INTO t VALUES (1, 'duplicate')");
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("duplicate key value"), std::string::npos) << e.what();
  }
}

TEST(PostgresServerTest, TcpConnectionsNeedTheRightPassword) {
  auto pg = PostgresServer::Start();
  // passfile: a ~/.pgpass on the machine must not supply a password behind our back.
  std::string base = "host=127.0.0.1 port=" + std::to_string(pg->port()) + " dbname=pqflow_test user=" + pg->user() +
                     " passfile=/nonexistent/pgpass";
  std::string err = ConnectError(base + " password=wrong");
  EXPECT_NE(err.find("password authentication failed"), std::string::npos) << err;
  err = ConnectError(base);
  EXPECT_NE(err.find("no password supplied"), std::string::npos) << err;
  EXPECT_EQ(ConnectError(base + " password=" + pg->password()), "");
  EXPECT_EQ(ConnectError(pg->Dsn()), "");
}

TEST(PostgresServerTest, KillNineThenRestartKeepsCommittedRows) {
  auto pg = PostgresServer::Start();
  pg->Execute("CREATE TABLE t (id int); INSERT INTO t SELECT generate_series(1, 1000)");
  PGconn* conn = PQconnectdb(pg->Dsn().c_str());
  ASSERT_EQ(PQstatus(conn), CONNECTION_OK) << PQerrorMessage(conn);
  const pid_t pid = pg->pid();
  const int port = pg->port();

  pg->Kill(SIGKILL);
  EXPECT_FALSE(ProcessExists(pid));
  EXPECT_FALSE(pg->running());
  EXPECT_EQ(pg->pid(), -1);
  EXPECT_THROW(pg->Execute("SELECT 1"), std::runtime_error);
  EXPECT_NE(ConnectError(pg->Dsn()), "");
  // The open connection's backend went down with the server.
  PGresult* res = PQexec(conn, "SELECT 1");
  EXPECT_NE(PQresultStatus(res), PGRES_TUPLES_OK);
  PQclear(res);
  PQfinish(conn);

  pg->Restart();  // crash recovery
  EXPECT_TRUE(pg->running());
  EXPECT_NE(pg->pid(), pid);
  EXPECT_EQ(pg->port(), port);
  EXPECT_EQ(pg->Query("SELECT count(*) FROM t")[0][0], "1000");
}

TEST(PostgresServerTest, TwoServersAtOnceAreIndependent) {
  // Started from two threads at the same time; they outlive those threads, hence die_with_parent off.
  PostgresServer::Options options;
  options.die_with_parent = false;
  auto start = [&] { return PostgresServer::Start(options); };
  auto fa = std::async(std::launch::async, start);
  auto fb = std::async(std::launch::async, start);
  auto a = fa.get();
  auto b = fb.get();
  EXPECT_NE(a->port(), b->port());
  EXPECT_NE(a->data_dir(), b->data_dir());
  a->Execute("CREATE TABLE only_in_a (id int)");
  EXPECT_EQ(a->Query("SELECT count(*) FROM pg_tables WHERE tablename = 'only_in_a'")[0][0], "1");
  EXPECT_EQ(b->Query("SELECT count(*) FROM pg_tables WHERE tablename = 'only_in_a'")[0][0], "0");
}

TEST(PostgresServerTest, OptionsStopRestartAndDestructorCleansUp) {
  PostgresServer::Options options;
  options.dbname = "other db";  // needs quoting, both in SQL and in the conninfo
  options.password = "it's secret";
  options.settings = {{"max_connections", "7"}, {"application_name", "pq'flow"}};
  std::string dir;
  pid_t pid = -1;
  {
    auto pg = PostgresServer::Start(options);
    dir = fs::path(pg->data_dir()).parent_path();
    EXPECT_TRUE(fs::is_directory(pg->data_dir()));
    EXPECT_EQ(pg->Query("SELECT current_database(), current_setting('max_connections')")[0], (Row{"other db", "7"}));
    pg->Stop();
    EXPECT_FALSE(pg->running());
    EXPECT_THROW(pg->Execute("SELECT 1"), std::runtime_error);
    // Another process took the port while the server was down: Restart moves to a new one.
    const int old_port = pg->port();
    const int holder = ListenOn(old_port);
    ASSERT_GE(holder, 0) << std::strerror(errno);
    pg->Restart();
    ::close(holder);
    EXPECT_NE(pg->port(), old_port);
    EXPECT_EQ(pg->Query("SHOW application_name")[0][0], "pq'flow");  // settings survive
    pid = pg->pid();
  }
  EXPECT_FALSE(ProcessExists(pid));
  EXPECT_FALSE(fs::exists(dir));
}

TEST(PostgresServerTest, FailedStartReportsTheLogAndLeavesNothing) {
  // A private $TMPDIR shows that the failed server's directory is gone. The server's OS user must be able to enter.
  TempDir tmp;
  ::chmod(tmp.path().c_str(), 0711);
  const char* old = std::getenv("TMPDIR");
  std::string saved = old != nullptr ? old : "";
  ::setenv("TMPDIR", tmp.path().c_str(), 1);
  PostgresServer::Options options;
  options.settings = {{"shared_buffers", "plenty"}};
  std::string message;
  try {
    PostgresServer::Start(options);
  } catch (const std::runtime_error& e) {
    message = e.what();
  }
  old != nullptr ? ::setenv("TMPDIR", saved.c_str(), 1) : ::unsetenv("TMPDIR");
  EXPECT_NE(message.find("invalid value for parameter \"shared_buffers\""), std::string::npos) << message;
  EXPECT_TRUE(fs::is_empty(tmp.path()));
}

TEST(PostgresServerTest, MissingBinariesAreReported) {
  PostgresServer::Options options;
  options.bin_dir = "/nonexistent/bin";
  try {
    PostgresServer::Start(options);
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("PQFLOW_PG_BIN"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace pqflow::testing
