#include "postgres_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <thread>

extern char** environ;

namespace pqflow::testing {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

constexpr const char* kDefaultBinDir = "/usr/lib/postgresql/15/bin";
constexpr const char* kCreatedOsUser = "pqflow-test";

// Closes a file descriptor on every path out of a function.
struct Fd {
  int fd;
  explicit Fd(int f) : fd(f) {}
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
};

int OpenLog(const std::string& path, bool truncate) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | (truncate ? O_TRUNC : O_APPEND), 0644);
  if (fd < 0) throw std::runtime_error("cannot open " + path + ": " + std::strerror(errno));
  return fd;
}

// The last few lines of a log, from byte `from` on.
std::string Tail(const std::string& path, off_t from = 0, size_t max_bytes = 3000) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buf;
  in.seekg(from);
  buf << in.rdbuf();
  std::string text = buf.str();
  if (text.size() > max_bytes) {
    text.erase(0, text.size() - max_bytes);
    size_t nl = text.find('\n');
    if (nl != std::string::npos) text.erase(0, nl + 1);
  }
  return text;
}

// A value for a libpq conninfo string, quoted only where needed so the usual case stays readable.
std::string ConninfoValue(const std::string& v) {
  if (!v.empty() && v.find_first_of(" '\\\t\n") == std::string::npos) return v;
  std::string out = "'";
  for (char c : v) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

// A quoted value for postgresql.conf, where backslashes are escapes too.
std::string ConfValue(const std::string& v) {
  std::string out = "'";
  for (char c : v) {
    if (c == '\'') out += '\'';
    if (c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

std::string QuoteIdentifier(const std::string& name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

struct OsUser {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
  bool switch_to = false;  // false: run as ourselves
};

std::optional<OsUser> LookUpUser(const std::string& name) {
  passwd pw{};
  passwd* found = nullptr;
  std::vector<char> buf(16384);
  if (::getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &found) != 0 || found == nullptr) return std::nullopt;
  return OsUser{name, pw.pw_uid, pw.pw_gid, true};
}

// The parent's environment with the locale forced to C: the server's messages, which WaitReady reads, are English.
std::vector<std::string> ChildEnvironment() {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view v(*e);
    if (v.starts_with("LC_") || v.starts_with("LANG=") || v.starts_with("LANGUAGE=")) continue;
    env.emplace_back(v);
  }
  env.emplace_back("LC_ALL=C");
  return env;
}

struct ChildSpec {
  std::vector<std::string> argv;  // argv[0] is an absolute path
  std::string cwd;
  int output_fd = -1;  // receives stdout and stderr
  const OsUser* user = nullptr;
  bool die_with_parent = false;
};

[[noreturn]] void ChildFail(const char* msg) {
  ssize_t ignored = ::write(STDERR_FILENO, msg, std::strlen(msg));
  (void)ignored;
  ::_exit(127);
}

// fork/exec rather than posix_spawn: the child must drop root privileges before exec. Everything it needs is
// prepared before fork(), because in a multithreaded process the child may only make async-signal-safe calls.
pid_t SpawnChild(const ChildSpec& spec) {
  std::vector<char*> argv;
  for (const auto& a : spec.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<std::string> env_strings = ChildEnvironment();
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  Fd null_fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  const bool switch_user = spec.user != nullptr && spec.user->switch_to;
  const uid_t uid = switch_user ? spec.user->uid : 0;
  const gid_t gid = switch_user ? spec.user->gid : 0;
  const pid_t parent = ::getpid();

  pid_t pid = ::fork();
  if (pid == 0) {
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);  // postgres expects to receive its signals
    if (::dup2(null_fd.fd, STDIN_FILENO) < 0 || ::dup2(spec.output_fd, STDOUT_FILENO) < 0 ||
        ::dup2(spec.output_fd, STDERR_FILENO) < 0) {
      ChildFail("pqflow PostgresServer: dup2 failed\n");
    }
    // Group first: once the uid is dropped we may no longer change it.
    if (switch_user && (::setgroups(1, &gid) != 0 || ::setgid(gid) != 0 || ::setuid(uid) != 0)) {
      ChildFail("pqflow PostgresServer: cannot switch to the server's OS user\n");
    }
    // After setuid, which clears the parent-death signal. If the parent already died, nobody would send it.
    if (spec.die_with_parent && (::prctl(PR_SET_PDEATHSIG, SIGQUIT) != 0 || ::getppid() != parent)) ::_exit(127);
    if (::chdir(spec.cwd.c_str()) != 0) ChildFail("pqflow PostgresServer: chdir failed\n");
    ::execve(argv[0], argv.data(), envp.data());
    ChildFail("pqflow PostgresServer: exec failed\n");
  }
  if (pid < 0) throw std::runtime_error(std::string("fork failed: ") + std::strerror(errno));
  return pid;
}

int WaitStatus(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;  // ECHILD: SIGCHLD is ignored, the kernel reaped it
  }
  return status;
}

std::string DescribeStatus(int status) {
  if (status == -1) return "unknown status (is SIGCHLD ignored?)";
  if (WIFEXITED(status)) return "exit code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "signal " + std::to_string(WTERMSIG(status));
  return "status " + std::to_string(status);
}

// Test processes running at once must not run useradd at once: one fails and rolls back the user that the other may
// already have seen (and initdb then finds no such user). flock on /etc serialises them: it always exists, while
// useradd replaces the files in it. Retries cover useradd failing because some other tool holds /etc/passwd.
OsUser CreateOsUser(const std::string& log_path) {
  Fd lock(::open("/etc", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (lock.fd >= 0) ::flock(lock.fd, LOCK_EX);
  const char* useradd = ::access("/usr/sbin/useradd", X_OK) == 0 ? "/usr/sbin/useradd" : "/sbin/useradd";
  for (int attempt = 0; attempt < 5; ++attempt) {
    if (auto u = LookUpUser(kCreatedOsUser)) return *u;
    Fd log(OpenLog(log_path, true));
    ChildSpec spec{{useradd, "--system", "--user-group", "--no-create-home", "--shell", "/usr/sbin/nologin",
                    kCreatedOsUser},
                   "/",
                   log.fd};
    WaitStatus(SpawnChild(spec));
    if (auto u = LookUpUser(kCreatedOsUser)) return *u;
    std::this_thread::sleep_for(milliseconds(100 * (attempt + 1)));
  }
  throw std::runtime_error(std::string("cannot create OS user ") + kCreatedOsUser +
                           " to run postgres as (postgres refuses to run as root): " + Tail(log_path));
}

// Who runs initdb and postgres; resolved once per process.
OsUser ServerOsUser(const std::string& log_path) {
  if (::geteuid() != 0) {
    passwd* pw = ::getpwuid(::geteuid());
    return OsUser{pw != nullptr ? pw->pw_name : std::to_string(::geteuid()), ::geteuid(), ::getegid(), false};
  }
  static std::mutex mu;
  static std::optional<OsUser> cached;
  std::lock_guard<std::mutex> lock(mu);
  if (!cached) cached = LookUpUser("postgres");
  if (!cached) cached = CreateOsUser(log_path);
  return *cached;
}

// Port 0 makes the kernel pick a free port. Another process may take it before postgres binds it; Launch retries.
int FreePort() {
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (fd.fd < 0 || ::bind(fd.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd.fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    throw std::runtime_error(std::string("cannot find a free TCP port: ") + std::strerror(errno));
  }
  return ntohs(addr.sin_port);
}

using Conn = std::unique_ptr<PGconn, decltype(&PQfinish)>;
using Result = std::unique_ptr<PGresult, decltype(&PQclear)>;

std::vector<PostgresServer::Row> RunSql(const std::string& dsn, const std::string& sql) {
  Conn conn(PQconnectdb(dsn.c_str()), &PQfinish);
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    throw std::runtime_error("cannot connect to the test server: " + std::string(PQerrorMessage(conn.get())));
  }
  Result res(PQexec(conn.get(), sql.c_str()), &PQclear);
  ExecStatusType st = PQresultStatus(res.get());
  if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
    throw std::runtime_error("SQL failed: " + std::string(PQresultErrorMessage(res.get())) + "in: " + sql);
  }
  std::vector<PostgresServer::Row> rows(PQntuples(res.get()));
  for (int r = 0; r < PQntuples(res.get()); ++r) {
    for (int c = 0; c < PQnfields(res.get()); ++c) {
      if (PQgetisnull(res.get(), r, c)) {
        rows[r].emplace_back(std::nullopt);
      } else {
        rows[r].emplace_back(std::string(PQgetvalue(res.get(), r, c), PQgetlength(res.get(), r, c)));
      }
    }
  }
  return rows;
}

}  // namespace

std::unique_ptr<PostgresServer> PostgresServer::Start(const Options& options) {
  // On any exception the unique_ptr's destructor stops what was started and removes the directory.
  std::unique_ptr<PostgresServer> server(new PostgresServer(options));
  server->InitDb();
  server->Launch(/*keep_port=*/false);
  if (options.dbname != "postgres") {
    RunSql(server->Dsn("postgres"), "CREATE DATABASE " + QuoteIdentifier(options.dbname));
  }
  return server;
}

PostgresServer::PostgresServer(const Options& options) : options_(options) {
  bin_dir_ = options_.bin_dir;
  if (bin_dir_.empty()) {
    const char* env = std::getenv("PQFLOW_PG_BIN");
    bin_dir_ = env != nullptr && *env != '\0' ? env : kDefaultBinDir;
  }
  for (const char* tool : {"initdb", "postgres"}) {
    if (::access((bin_dir_ + "/" + tool).c_str(), X_OK) != 0) {
      throw std::runtime_error("no PostgreSQL server binary " + bin_dir_ + "/" + tool +
                               ": run scripts/bootstrap.sh, or set PQFLOW_PG_BIN to the directory holding it");
    }
  }
  OsUser user = ServerOsUser(dir_ / "useradd.log");
  os_user_ = user.name;
  switch_user_ = user.switch_to;
  uid_ = user.uid;
  gid_ = user.gid;
  // initdb creates data/ in here; the server's socket lives here too.
  if (switch_user_ && ::chown(dir_.path().c_str(), uid_, gid_) != 0) {
    throw std::runtime_error("cannot chown " + dir_.path() + " to " + os_user_ + ": " + std::strerror(errno));
  }
  data_dir_ = dir_ / "data";
  log_path_ = dir_ / "postgres.log";
  // A unix socket path is at most 107 bytes; with a long $TMPDIR go without one (the helpers use TCP anyway).
  if (dir_.path().size() + sizeof("/.s.PGSQL.65535.lock") <= sizeof(sockaddr_un::sun_path)) socket_dir_ = dir_.path();
}

PostgresServer::~PostgresServer() {
  try {
    Stop();
  } catch (...) {
    // A destructor must not throw; TempDir's destructor still removes the directory.
  }
}

std::string PostgresServer::Dsn() const { return Dsn(options_.dbname); }

std::string PostgresServer::Dsn(const std::string& dbname) const {
  return "host=" + host_ + " port=" + std::to_string(port_) + " dbname=" + ConninfoValue(dbname) +
         " user=" + ConninfoValue(options_.user) + " password=" + ConninfoValue(options_.password);
}

void PostgresServer::Execute(const std::string& sql) const { RunSql(Dsn(), sql); }

std::vector<PostgresServer::Row> PostgresServer::Query(const std::string& sql) const { return RunSql(Dsn(), sql); }

void PostgresServer::InitDb() {
  // initdb reads the superuser's password from a file (never the command line, which ps shows).
  const std::string pwfile = dir_ / "pwfile";
  {
    Fd out(::open(pwfile.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    const std::string line = options_.password + "\n";
    if (out.fd < 0 || ::write(out.fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
      throw std::runtime_error("cannot write " + pwfile + ": " + std::strerror(errno));
    }
  }
  if (switch_user_ && ::chown(pwfile.c_str(), uid_, gid_) != 0) {
    throw std::runtime_error("cannot chown " + pwfile + ": " + std::strerror(errno));
  }
  const std::string log_path = dir_ / "initdb.log";
  Fd log(OpenLog(log_path, true));
  std::vector<std::string> argv = {bin_dir_ + "/initdb", "-D", data_dir_, "-U", options_.user, "--pwfile=" + pwfile,
                                   "-E", "UTF8", "--locale=C", "--auth-local=trust", "--auth-host=scram-sha-256",
                                   "--no-instructions"};
  if (options_.fast) argv.push_back("--no-sync");
  OsUser user{os_user_, uid_, gid_, switch_user_};
  int status = WaitStatus(SpawnChild({argv, dir_.path(), log.fd, &user, options_.die_with_parent}));
  fs::remove(pwfile);
  if (status != 0) {
    std::string hint = switch_user_ ? " (as OS user " + os_user_ + ", who needs access to " + dir_.path() + ")" : "";
    throw std::runtime_error("initdb failed with " + DescribeStatus(status) + hint + ":\n" + Tail(log_path));
  }

  // Everything but the port goes into postgresql.conf so that Restart() needs no arguments.
  std::ofstream conf(data_dir_ + "/postgresql.conf", std::ios::app);
  conf << "\n# Added by pqflow's PostgresServer (tests/support/postgres_server.cc)\n";
  conf << "listen_addresses = '127.0.0.1'\n";
  conf << "unix_socket_directories = " << ConfValue(socket_dir_) << "\n";
  // Dynamic shared memory as files in the data directory, which the test removes, instead of
  // /dev/shm segments, which a server killed by a test (SIGKILL) would leave behind.
  conf << "dynamic_shared_memory_type = mmap\n";
  if (options_.fast) conf << "fsync = off\nfull_page_writes = off\n";
  for (const auto& [name, value] : options_.settings) conf << name << " = " << ConfValue(value) << "\n";
  if (!conf.flush()) throw std::runtime_error("cannot write " + data_dir_ + "/postgresql.conf");
}

void PostgresServer::Launch(bool keep_port) {
  Fd log(OpenLog(log_path_, false));
  OsUser user{os_user_, uid_, gid_, switch_user_};
  constexpr int kAttempts = 5;
  for (int attempt = 1;; ++attempt) {
    if (!keep_port || attempt > 1) port_ = FreePort();
    off_t log_start = ::lseek(log.fd, 0, SEEK_END);
    // The postmaster itself, not pg_ctl, so that pid_ is the process to signal and to wait for.
    pid_ = SpawnChild({{bin_dir_ + "/postgres", "-D", data_dir_, "-p", std::to_string(port_)},
                       dir_.path(),
                       log.fd,
                       &user,
                       options_.die_with_parent});
    if (WaitReady(log_start) == Startup::kReady) return;
    if (attempt == kAttempts) {
      throw std::runtime_error("postgres found no free port in " + std::to_string(kAttempts) + " attempts:\n" +
                               LogTail());
    }
  }
}

PostgresServer::Startup PostgresServer::WaitReady(off_t log_start) {
  const auto deadline = Clock::now() + options_.start_timeout;
  const std::string ping = "host=" + host_ + " port=" + std::to_string(port_) +
                           " dbname=postgres connect_timeout=2 user=" + ConninfoValue(options_.user);
  const std::string pid_file = data_dir_ + "/postmaster.pid";
  for (;;) {
    if (TryReap(false)) {
      if (Tail(log_path_, log_start).find("Address already in use") != std::string::npos) return Startup::kPortTaken;
      throw std::runtime_error("postgres exited during startup with " + DescribeStatus(last_status_) +
                               "; server log:\n" + LogTail());
    }
    // Like pg_ctl, trust postmaster.pid rather than the port alone: if another server won the race for the port,
    // PQping would succeed against that one. Its lines: pid, data dir, start time, port, socket dir, listen
    // address, "shm key  shm id", status.
    std::ifstream in(pid_file);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    if (lines.size() >= 8 && lines[0] == std::to_string(pid_) && lines[7].starts_with("ready") &&
        PQping(ping.c_str()) == PQPING_OK) {
      long key = 0;
      std::istringstream(lines[6]) >> key >> shm_id_;
      shm_creator_ = pid_;
      return Startup::kReady;
    }
    if (Clock::now() > deadline) {
      ::kill(pid_, SIGKILL);
      TryReap(true);
      throw std::runtime_error("postgres did not accept connections within " +
                               std::to_string(options_.start_timeout.count()) + " ms; server log:\n" + LogTail());
    }
    std::this_thread::sleep_for(milliseconds(10));
  }
}

bool PostgresServer::TryReap(bool block) {
  if (pid_ < 0) return true;
  int status = 0;
  pid_t r;
  do {
    r = ::waitpid(pid_, &status, block ? 0 : WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r == 0) return false;
  last_status_ = r > 0 ? status : -1;  // -1 (ECHILD): SIGCHLD is ignored and the kernel reaped it
  pid_ = -1;
  ReleaseSharedMemory();
  return true;
}

// postgres guards its data directory with a small SysV shared memory segment, deleted on a clean shutdown. After a
// SIGKILL it stays, attached by the backends until they notice the postmaster is gone and exit. Waiting for that
// means the server is really gone (connections fail, Restart() finds no "still in use" segment, nothing writes to
// the directory while it is removed); deleting it leaves no garbage in the machine.
void PostgresServer::ReleaseSharedMemory() {
  if (shm_id_ < 0) return;
  const auto deadline = Clock::now() + milliseconds(10000);
  for (;;) {
    shmid_ds ds{};
    // Gone (clean shutdown), or the id now names someone else's segment: nothing to do.
    if (::shmctl(shm_id_, IPC_STAT, &ds) != 0 || ds.shm_cpid != shm_creator_) break;
    if (ds.shm_nattch == 0) {
      ::shmctl(shm_id_, IPC_RMID, nullptr);
      break;
    }
    if (Clock::now() > deadline) break;
    std::this_thread::sleep_for(milliseconds(5));
  }
  shm_id_ = -1;
}

bool PostgresServer::running() { return !TryReap(false); }

bool PostgresServer::WaitForExit(milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!TryReap(false)) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(milliseconds(5));
  }
  return true;
}

void PostgresServer::Kill(int signal) {
  if (pid_ < 0) throw std::logic_error("PostgresServer::Kill: the server is not running");
  ::kill(pid_, signal);
  if (signal == SIGKILL) TryReap(true);
}

void PostgresServer::Stop() {
  if (!running()) return;
  ::kill(pid_, SIGINT);  // fast shutdown: roll back open transactions, checkpoint, exit
  if (WaitForExit(options_.stop_timeout)) return;
  ::kill(pid_, SIGKILL);
  TryReap(true);
}

void PostgresServer::Restart() {
  Stop();
  Launch(/*keep_port=*/true);
}

std::string PostgresServer::LogTail() const { return Tail(log_path_); }

}  // namespace pqflow::testing
