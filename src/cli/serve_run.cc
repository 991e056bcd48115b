// `pqflow serve`: the long-running event sink. Start-up replays the write-ahead log; SIGTERM
// or SIGINT stops intake, lets requests in flight finish, writes every buffer to Parquet,
// and exits 0 (1 if a buffer could not be written: its rows stay in the WAL for next time).
// Built into pqflow-serve only (commands.h).
#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <functional>
#include <memory>
#include <thread>

#include "cli/commands.h"
#include "duck/duck.h"
#include "ingest/ingest_service.h"
#include "server/http_server.h"
#include "storage/storage.h"

namespace pqflow::cli {

namespace {

// Signals are taken by one thread with sigwait, so that stopping the server never runs
// inside a signal handler. SIGUSR1 is how the main thread ends the watcher.
class SignalWatcher {
 public:
  SignalWatcher() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGINT);
    sigaddset(&set_, SIGTERM);
    sigaddset(&set_, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &set_, nullptr);  // before any other thread exists
  }
  void Start(std::function<void(int)> on_signal) {
    thread_ = std::thread([this, on_signal] {
      for (;;) {
        int sig = 0;
        if (sigwait(&set_, &sig) != 0 || sig == SIGUSR1) return;
        on_signal(sig);
      }
    });
  }
  ~SignalWatcher() {
    if (thread_.joinable()) {
      pthread_kill(thread_.native_handle(), SIGUSR1);
      thread_.join();
    }
  }

 private:
  sigset_t set_;
  std::thread thread_;
};

}  // namespace

int RunServe(const GlobalOptions& global, const ServeFlags& flags) {
  SignalWatcher signals;
  auto config = LoadConfig(global);
  if (!config.ok()) return ReportError(config.status());
  if (!flags.listen.empty()) config->server.listen = flags.listen;

  auto storage = storage::OpenStorage(config->storage);
  if (!storage.ok()) return ReportError(storage.status().WithContext("starting pqflow serve"));
  duck::DatabaseOptions db_options;
  auto db = duck::Database::Open(db_options);
  if (!db.ok()) return ReportError(db.status());
  ingest::IngestOptions ingest_options;
  ingest_options.log = [quiet = flags.quiet](const std::string& line) {
    if (!quiet || line.rfind("error:", 0) == 0) std::fprintf(stderr, "pqflow serve: %s\n", line.c_str());
  };
  auto ingest = ingest::IngestService::Open(*config, storage->get(), &*db, ingest_options);
  if (!ingest.ok()) return ReportError(ingest.status().WithContext("starting pqflow serve"));
  ingest::IngestStats replay = (*ingest)->Stats();
  if (replay.replayed_records > 0 || replay.wal_tail_cut_bytes > 0) {
    std::fprintf(stderr, "pqflow serve: replayed %llu batches (%llu rows) from the write-ahead log%s\n",
                 static_cast<unsigned long long>(replay.replayed_records),
                 static_cast<unsigned long long>(replay.replayed_rows),
                 replay.wal_tail_cut_bytes > 0 ? "; cut a torn tail (a batch that was never acknowledged)" : "");
  }

  server::HttpServerOptions http_options;
  http_options.allow_unauthenticated = flags.allow_unauthenticated;
  http_options.storage = storage->get();
  auto http = server::HttpServer::Make((*ingest)->config(), ingest->get(), http_options);
  if (!http.ok()) return ReportError(http.status());
  if (Status s = (*http)->Bind(); !s.ok()) return ReportError(s);
  std::printf("pqflow serve: listening on http://%s:%d (storage %s, WAL %s)\n", (*http)->host().c_str(), (*http)->port(),
              config->storage.root.c_str(), config->server.wal_dir.c_str());
  std::fflush(stdout);

  server::HttpServer* raw_http = http->get();
  signals.Start([raw_http](int sig) {
    std::fprintf(stderr, "pqflow serve: %s received; finishing requests in flight and writing buffers\n",
                 sig == SIGINT ? "SIGINT" : "SIGTERM");
    raw_http->Stop();
  });
  Status run = (*http)->Run();
  Status shutdown = (*ingest)->Shutdown();
  ingest::IngestStats st = (*ingest)->Stats();
  if (!shutdown.ok()) {
    return ReportError(shutdown.WithContext("writing buffered rows at shutdown (they stay in the write-ahead log "
                                            "and are written at the next start)"));
  }
  std::fprintf(stderr, "pqflow serve: stopped; %llu files written in total, write-ahead log %llu bytes\n",
               static_cast<unsigned long long>(st.sink.files_created), static_cast<unsigned long long>(st.wal_bytes));
  return run.ok() ? kExitOk : ReportError(run);
}

}  // namespace pqflow::cli
