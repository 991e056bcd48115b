// pqflow-loadgen: load generator for the event-ingest server (`pqflow serve`).
//
// Each of --connections threads owns one keep-alive HTTP connection and sends batches of --batch
// NDJSON events to POST {url}/v1/streams/{stream}, one request at a time, until --duration has
// passed or --batches batches (in total, over all connections) have been settled, whichever comes
// first. A thread builds each body just before sending it: building is outside the measured
// request latency, and its cost is reported (gen_s, gen_events_per_s) so one can check that it is
// not the bottleneck. It is not, plain (about 3 M events/s per core); --gzip costs ten times more
// (zlib), so for peak numbers with gzip use --batches N --pregenerate, which builds every body
// before the clock starts. --generate-only runs the generator alone, without a server.
//
// Event ids. Every event carries payload.seq, unique across connections and runs:
//     seq = client_id * 10^12 + connection * 10^9 + counter    (counter = 0, 1, ... per connection)
// so a batch is the contiguous range [first, last] of one connection. Give every run against the
// same data its own --client-id (e.g. before and after a server restart). client_id <= 9000 keeps
// seq below 2^53, so any JSON parser reads it exactly.
//
// What each outcome does (the server answers 200 only once the batch is durable):
//   200           acknowledged; ack log: "ACK <first> <last> <count>".
//   429           throttled; sleep min(Retry-After, 1 s), send the same body again.
//   5xx           sent again (same body) after a backoff of 50 ms doubling to 1 s. This assumes
//                 the server answers 5xx (503 while shutting down) only for batches it did not
//                 make durable.
//   other 4xx     rejected; ack log: "REJECTED <first> <last> <status> <body snippet>"; the run
//                 exits 1. 401, 403 and 404 stop the whole run: no later batch would fare better.
//   no connection the connect failed, so nothing was sent: send again after the backoff, until
//                 --duration ends (forever with --batches alone; Ctrl-C stops). One line is printed
//                 when the server becomes unreachable and one when it answers again, so a crash
//                 test can restart the server under a running loadgen.
//   no answer     the request was sent but the connection broke before a response: the batch may
//                 or may not be durable. With --ack-log it is logged as "UNCERTAIN <first> <last>
//                 <count>" and NOT sent again (a resend would duplicate its seqs had the first try
//                 landed). Without --ack-log it is sent again, so duplicates are possible.
//
// Contract for crash tests: the acknowledged events are exactly the ACK ranges, and each must be
// present after recovery; REJECTED ranges must be absent; UNCERTAIN ranges may be present or
// absent. A batch still being retried when the run ends (429, 5xx, refused connects) was never
// accepted and is in no line. Only if the loadgen itself is killed can a batch land without a
// line (between the server's 200 and the write below): crash tests kill the server, not us.
//
// The ack log is opened with O_APPEND (existing lines are kept, so several runs may share one
// file) and each line is one write(2) under a mutex: a killed loadgen leaves only whole lines.
#include <fcntl.h>
#include <fmt/core.h>
#include <httplib.h>
#include <unistd.h>
#include <zlib.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <latch>
#include <limits>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "sampling.h"

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr int64_t kSeqsPerConnection = 1'000'000'000;
constexpr int64_t kSeqsPerClient = 1'000'000'000'000;
constexpr int kMaxConnections = 999;    // connection * 10^9 must stay below 10^12
constexpr int64_t kMaxClientId = 9000;  // keeps seq < 2^53

struct Options {
  std::string url = "http://127.0.0.1:8080";  // scheme://host[:port][/path prefix]
  std::string stream = "events";
  std::string key;  // empty: no Authorization header
  int connections = 16;
  int batch = 1000;            // events per request
  std::string duration = "";   // "10s", "500ms", "2m", "1h"; default 10s unless --batches
  int64_t batches = 0;         // total over all connections; 0 = until --duration
  int64_t workspaces = 20;     // workspace_id in 1..workspaces, Zipf-skewed towards 1
  double hours = 0;            // 0: timestamp = now - 0..5 s; else uniform over the last H hours
  bool gzip = false;           // gzip bodies (zlib level 1), Content-Encoding: gzip
  int64_t client_id = 0;       // see "Event ids" above
  std::string ack_log;         // empty: no ack log, and "no answer" batches are resent
  bool quiet = false;          // no human summary table on stderr
  bool generate_only = false;  // build (and gzip) bodies without sending them
  bool pregenerate = false;    // with --batches: build every body before the clock starts
};

// Set by SIGINT/SIGTERM and by fatal answers (401/403/404, a failed ack-log write).
std::atomic<bool> g_stop{false};

void OnStopSignal(int) { g_stop.store(true); }

void InstallSignalHandlers() {
  struct sigaction sa {};
  sa.sa_handler = OnStopSignal;
  sa.sa_flags = SA_RESETHAND;  // a second Ctrl-C kills at once
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
}

// Parses "10s", "500ms", "2m", "1h" or a bare number of seconds.
std::optional<Clock::duration> ParseDuration(std::string_view text) {
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || value < 0) return std::nullopt;
  const std::string_view unit(end, static_cast<size_t>(text.data() + text.size() - end));
  double seconds = 0;
  if (unit.empty() || unit == "s") {
    seconds = value;
  } else if (unit == "ms") {
    seconds = value / 1000;
  } else if (unit == "m") {
    seconds = value * 60;
  } else if (unit == "h") {
    seconds = value * 3600;
  } else {
    return std::nullopt;
  }
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
}
using pqflow_bench::AliasTable;
using pqflow_bench::Rng;
using pqflow_bench::ZipfWeights;

// ---------------------------------------------------------------------------------------------
// Events. All strings come from [a-zA-Z0-9./:_-], so none needs JSON escaping.

constexpr std::array<std::string_view, 5> kEventTypes = {"track", "identify", "group", "alias",
                                                         "enrich"};
constexpr std::array<double, 5> kEventTypeWeights = {85, 7, 4, 2, 2};

constexpr std::array<std::string_view, 12> kEventNames = {
    "page_view", "button_click",  "search",   "add_to_cart", "form_submit", "video_play",
    "login",     "file_download", "purchase", "share",       "signup",      "logout"};
constexpr std::array<double, 12> kEventNameWeights = {40, 15, 8, 6, 5, 5, 5, 4, 4, 3, 3, 2};

constexpr std::array<std::string_view, 10> kSections = {
    "guide",  "api",      "tutorial", "reference", "howto",
    "config", "examples", "faq",      "cli",       "release-notes"};
constexpr std::array<std::string_view, 24> kPages = {
    "index",      "install",  "quickstart", "getting-started", "usage",      "configuration",
    "changelog",  "faq",      "api",        "overview",        "examples",   "troubleshooting",
    "migration",  "security", "testing",    "deployment",      "streams",    "sinks",
    "partitions", "queries",  "retention",  "authentication",  "monitoring", "performance"};

// External referrers; "" is direct traffic. About a third of referrers are internal docs pages.
constexpr std::array<std::string_view, 8> kExternalReferrers = {
    "",
    "https://www.google.com/",
    "https://www.bing.com/",
    "https://duckduckgo.com/",
    "https://github.com/pqflow/pqflow",
    "https://news.ycombinator.com/",
    "https://stackoverflow.com/questions",
    "https://twitter.com/"};
constexpr std::string_view kInternalReferrerPrefix = "https://docs.pqflow.example";

constexpr std::array<std::string_view, 6> kIpv6Prefixes = {"2001", "2400", "2600",
                                                           "2a00", "2a02", "2c0f"};

template <typename Container>
std::string_view Pick(Rng& rng, const Container& words) {
  return words[rng.Below(static_cast<uint32_t>(words.size()))];
}

void PutInt(std::string& out, int64_t v) {
  char buf[24];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  (void)ec;  // cannot fail: 24 chars hold any int64
  out.append(buf, end);
}

// Random version-4 UUID in canonical text form (36 chars).
std::string MakeUuid(Rng& rng) {
  static constexpr char kHex[] = "0123456789abcdef";
  uint64_t hi = rng.Next();
  uint64_t lo = rng.Next();
  hi = (hi & ~0xF000ULL) | 0x4000ULL;        // version 4
  lo = (lo & ~(3ULL << 62)) | (2ULL << 62);  // RFC 4122 variant
  std::string text(36, '-');
  size_t pos = 0;
  for (int i = 0; i < 32; ++i) {
    if (i == 8 || i == 12 || i == 16 || i == 20) ++pos;  // skip a dash
    const uint64_t word = i < 16 ? hi : lo;
    text[pos++] = kHex[(word >> (60 - 4 * (i % 16))) & 0xF];
  }
  return text;
}

// 80% IPv4 (public-looking first octet), 20% IPv6 (full 8 groups, no "::").
std::string MakeIp(Rng& rng) {
  std::string ip;
  if (rng.Below(5) != 0) {
    PutInt(ip, 1 + rng.Below(223));
    for (int i = 0; i < 3; ++i) {
      ip.push_back('.');
      PutInt(ip, rng.Below(256));
    }
    return ip;
  }
  ip = Pick(rng, kIpv6Prefixes);
  for (int i = 0; i < 7; ++i) {
    char buf[8];
    const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, rng.Below(65536), 16);
    (void)ec;
    ip.push_back(':');
    ip.append(buf, end);
  }
  return ip;
}

// Every /docs/{page}.html and /docs/{section}/{page}.html, shuffled: the popularity order.
std::vector<std::string> MakePaths(Rng& rng) {
  std::vector<std::string> paths;
  for (std::string_view page : kPages) paths.push_back(fmt::format("/docs/{}.html", page));
  for (std::string_view section : kSections) {
    for (std::string_view page : kPages) {
      paths.push_back(fmt::format("/docs/{}/{}.html", section, page));
    }
  }
  for (size_t i = paths.size() - 1; i > 0; --i) {
    std::swap(paths[i], paths[rng.Below(static_cast<uint32_t>(i + 1))]);
  }
  return paths;
}

std::vector<double> ToVector(const auto& weights) { return {weights.begin(), weights.end()}; }

// A device seen repeatedly: events from one visitor share device, IP and workspace; sessions
// rotate now and then, and visitors are replaced now and then (so every workspace shows up).
struct Visitor {
  std::string device_id;
  std::string session_id;
  std::string source_ip;
  int64_t workspace_id = 1;
};

// Builds NDJSON event lines. One per connection thread; not thread-safe.
class EventGenerator {
 public:
  static constexpr size_t kVisitors = 1024;

  EventGenerator(const Options& opt, uint64_t seed)
      : opt_(opt),
        rng_(seed),
        log_workspaces_(std::log(static_cast<double>(opt.workspaces) + 1.0)),
        types_(ToVector(kEventTypeWeights)),
        names_(ToVector(kEventNameWeights)),
        paths_(MakePaths(rng_)),
        path_dist_(ZipfWeights(paths_.size(), 1.1)),
        visitors_(kVisitors) {
    for (Visitor& v : visitors_) ResetVisitor(v);
  }

  // Appends `count` lines whose payload.seq run first_seq, first_seq + 1, ...
  void AppendBatch(int64_t first_seq, int count, std::string& out) {
    const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
    for (int i = 0; i < count; ++i) AppendEvent(first_seq + i, now_ms, out);
  }

 private:
  void ResetVisitor(Visitor& v) {
    v.device_id = MakeUuid(rng_);
    v.session_id = MakeUuid(rng_);
    v.source_ip = MakeIp(rng_);
    v.workspace_id = Workspace();
  }

  // Zipf-like (s = 1) over 1..W by inverting the continuous CDF ln(x) / ln(W + 1): workspace 1 is
  // the busiest, and no table, so W can be large.
  int64_t Workspace() {
    const auto w = static_cast<int64_t>(std::exp(rng_.Uniform() * log_workspaces_));
    return std::clamp<int64_t>(w, 1, opt_.workspaces);
  }

  Visitor& PickVisitor() {
    Visitor& v = visitors_[rng_.Below(kVisitors)];
    const uint32_t roll = rng_.Below(1000);
    if (roll < 2) {
      ResetVisitor(v);
    } else if (roll < 22) {
      v.session_id = MakeUuid(rng_);
    }
    return v;
  }

  int64_t Timestamp(int64_t now_ms) {
    if (opt_.hours <= 0) return now_ms - rng_.Below(5000);
    const auto span_ms = static_cast<uint64_t>(opt_.hours * 3'600'000.0);
    return now_ms - static_cast<int64_t>(span_ms == 0 ? 0 : rng_.Next() % span_ms);
  }

  // Pareto-like: mostly a few seconds, a long tail up to an hour.
  int64_t DurationMs() {
    const double u = 1.0 - rng_.Uniform();  // (0, 1]
    return std::min<int64_t>(3'600'000, static_cast<int64_t>(800.0 * std::pow(u, -1.0 / 1.2)));
  }

  void AppendReferrer(std::string& out) {
    if (rng_.Below(3) == 0) {
      out.append(kInternalReferrerPrefix);
      out.append(paths_[path_dist_.Sample(rng_)]);
    } else {
      out.append(Pick(rng_, kExternalReferrers));
    }
  }

  void AppendEvent(int64_t seq, int64_t now_ms, std::string& out) {
    const Visitor& v = PickVisitor();
    out.append("{\"timestamp\":");
    PutInt(out, Timestamp(now_ms));
    out.append(",\"workspace_id\":");
    PutInt(out, v.workspace_id);
    out.append(",\"event_type\":\"");
    out.append(kEventTypes[types_.Sample(rng_)]);
    out.append("\",\"event_name\":\"");
    out.append(kEventNames[names_.Sample(rng_)]);
    out.append("\",\"device_id\":\"");
    out.append(v.device_id);
    out.append("\",\"session_id\":\"");
    out.append(v.session_id);
    out.append("\",\"source_ip\":\"");
    out.append(v.source_ip);
    out.append("\",\"payload\":{\"seq\":");
    PutInt(out, seq);
    out.append(",\"path\":\"");
    out.append(paths_[path_dist_.Sample(rng_)]);
    out.append("\",\"referrer\":\"");
    AppendReferrer(out);
    out.append("\",\"duration_ms\":");
    PutInt(out, DurationMs());
    out.append("}}\n");
  }

  const Options& opt_;
  Rng rng_;
  double log_workspaces_;
  AliasTable types_;
  AliasTable names_;
  std::vector<std::string> paths_;
  AliasTable path_dist_;
  std::vector<Visitor> visitors_;
};

// gzip (RFC 1952) at zlib level 1: a load generator wants cheap compression. Reuses its stream.
class Gzipper {
 public:
  Gzipper() {
    ok_ = deflateInit2(&zs_, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK;
  }
  ~Gzipper() {
    if (ok_) deflateEnd(&zs_);
  }
  Gzipper(const Gzipper&) = delete;
  Gzipper& operator=(const Gzipper&) = delete;

  [[nodiscard]] bool Compress(std::string_view in, std::string& out) {
    if (!ok_ || deflateReset(&zs_) != Z_OK) return false;
    out.resize(deflateBound(&zs_, static_cast<uLong>(in.size())));
    zs_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    zs_.avail_in = static_cast<uInt>(in.size());
    zs_.next_out = reinterpret_cast<Bytef*>(out.data());
    zs_.avail_out = static_cast<uInt>(out.size());
    if (deflate(&zs_, Z_FINISH) != Z_STREAM_END) return false;
    out.resize(zs_.total_out);
    return true;
  }

 private:
  z_stream zs_{};
  bool ok_ = false;
};

// ---------------------------------------------------------------------------------------------
// Shared state of a run.

// Appends whole lines with one write(2) each; thread-safe. A failed write stops the run: an ack
// log with holes would make a crash test report false losses.
class AckLog {
 public:
  static std::unique_ptr<AckLog> Open(const std::string& path) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) {
      fmt::print(stderr, "pqflow-loadgen: opening ack log {}: {}\n", path, std::strerror(errno));
      return nullptr;
    }
    return std::unique_ptr<AckLog>(new AckLog(fd, path));
  }
  ~AckLog() { ::close(fd_); }
  AckLog(const AckLog&) = delete;
  AckLog& operator=(const AckLog&) = delete;

  void Append(std::string_view line) {
    std::lock_guard lock(mu_);
    if (failed_) return;
    size_t off = 0;
    while (off < line.size()) {
      const ssize_t n = ::write(fd_, line.data() + off, line.size() - off);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        fmt::print(stderr, "pqflow-loadgen: writing ack log {}: {}; stopping\n", path_,
                   std::strerror(errno));
        failed_ = true;
        g_stop.store(true);
        return;
      }
      off += static_cast<size_t>(n);
    }
  }

  bool failed() const {
    std::lock_guard lock(mu_);
    return failed_;
  }

 private:
  AckLog(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_;
  std::string path_;
  mutable std::mutex mu_;
  bool failed_ = false;
};

// Prints one line when the server stops answering and one when it answers again, however many
// connections notice. Thread-safe.
class OutageTracker {
 public:
  void Lost(std::string_view why) {
    std::lock_guard lock(mu_);
    if (down_) return;
    down_ = true;
    down_hint_.store(true);
    since_ = Clock::now();
    ++outages_;
    fmt::print(stderr, "pqflow-loadgen: server unreachable ({}); retrying\n", why);
  }

  void Answered() {
    if (!down_hint_.load(std::memory_order_relaxed)) return;
    std::lock_guard lock(mu_);
    if (!down_) return;
    down_ = false;
    down_hint_.store(false);
    const double secs = std::chrono::duration<double>(Clock::now() - since_).count();
    fmt::print(stderr, "pqflow-loadgen: reconnected after {:.1f} s\n", secs);
  }

  int64_t outages() const {
    std::lock_guard lock(mu_);
    return outages_;
  }

 private:
  mutable std::mutex mu_;
  bool down_ = false;                   // guarded by mu_
  std::atomic<bool> down_hint_{false};  // lock-free early out for Answered(); mu_ decides
  Clock::time_point since_;
  int64_t outages_ = 0;
};

struct Context {
  Context(const Options& options, std::string base, std::string request_path, AckLog* log)
      : opt(options),
        scheme_host_port(std::move(base)),
        path(std::move(request_path)),
        batches_left(options.batches > 0 ? options.batches : std::numeric_limits<int64_t>::max()),
        ack_log(log),
        ready(options.connections) {}

  const Options& opt;
  std::string scheme_host_port;       // for httplib::Client
  std::string path;                   // {prefix}/v1/streams/{stream}
  std::atomic<int64_t> batches_left;  // claimed one at a time by the connections
  AckLog* ack_log;                    // may be null
  std::latch ready;                   // counted down by each connection once set up
  std::latch go{1};                   // the start signal, after `deadline` is set
  Clock::time_point deadline = Clock::time_point::max();  // max(): none; written before `go`
  OutageTracker outage;
  std::atomic<int> diagnostics_left{5};    // error bodies echoed to stderr, at most
  std::atomic<int64_t> prepared_bytes{0};  // --pregenerate: bodies held in memory

  bool ShouldStop() const { return g_stop.load() || Clock::now() >= deadline; }
  bool ClaimBatch() { return batches_left.fetch_sub(1) > 0; }
};

struct ConnStats {
  int64_t generated_events = 0;
  int64_t acked_events = 0;
  int64_t acked_batches = 0;
  int64_t acked_bytes = 0;              // uncompressed NDJSON
  int64_t acked_wire_bytes = 0;         // as sent (gzip or not)
  int64_t throttled = 0;                // 429 answers
  int64_t server_errors = 0;            // 5xx answers
  int64_t connect_failures = 0;         // attempts that never reached the server
  int64_t uncertain = 0;                // sent, no answer
  int64_t rejected = 0;                 // 4xx other than 429
  int64_t abandoned = 0;                // still unsettled when the run ended
  int64_t accepted_mismatch = 0;        // 200 whose "accepted" differs from the batch size
  std::chrono::nanoseconds gen_time{};  // CPU time of this thread spent building bodies
  std::vector<uint32_t> latency_us;     // of acknowledged requests (the attempt answered 200)
};

// A request body and the seqs in it: payload.seq runs first .. last() within one connection.
struct PreparedBatch {
  int64_t first = 0;
  int count = 0;
  size_t raw_bytes = 0;  // uncompressed NDJSON
  std::string wire;      // the body as sent (gzip with --gzip)

  int64_t last() const { return first + count - 1; }
};

// CPU time of the calling thread: generation cost without the time the thread sat preempted,
// which with more connections than cores would otherwise dominate.
std::chrono::nanoseconds ThreadCpuTime() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
}

// Sleeps up to `d`, waking early if the run is stopped or the deadline passes.
void SleepUnlessStopped(const Context& ctx, Clock::duration d) {
  const Clock::time_point until = std::min(Clock::now() + d, ctx.deadline);
  for (Clock::time_point now = Clock::now(); !g_stop.load() && now < until; now = Clock::now()) {
    std::this_thread::sleep_for(std::min<Clock::duration>(20ms, until - now));
  }
}

// Exponential backoff with jitter: 50 ms doubling to 1 s.
class Backoff {
 public:
  explicit Backoff(Rng& rng) : rng_(rng) {}
  Clock::duration Next() {
    const auto base = next_;
    next_ = std::min<Clock::duration>(next_ * 2, 1s);
    return base * (75 + rng_.Below(51)) / 100;  // 75%..125%
  }

 private:
  Rng& rng_;
  Clock::duration next_ = 50ms;
};

std::string Snippet(std::string_view body) {
  std::string s(body.substr(0, 200));
  for (char& c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  return s;
}

void Diagnose(Context& ctx, int conn, const httplib::Response& res) {
  if (ctx.diagnostics_left.fetch_sub(1) <= 0) return;
  fmt::print(stderr, "pqflow-loadgen: conn {}: HTTP {}: {}\n", conn, res.status, Snippet(res.body));
}

// Retry-After in seconds (fractions tolerated), capped at 1 s; 100 ms if absent or unreadable.
Clock::duration RetryAfter(const httplib::Response& res) {
  const std::string value = res.get_header_value("Retry-After");
  char* end = nullptr;
  const double secs = std::strtod(value.c_str(), &end);
  if (value.empty() || end == value.c_str() || !(secs >= 0)) return 100ms;
  return std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(std::clamp(secs, 0.01, 1.0)));
}

// True if the request certainly never reached the server (the connect itself failed).
bool NothingSent(httplib::Error err) {
  switch (err) {
    case httplib::Error::Connection:
    case httplib::Error::ConnectionTimeout:
    case httplib::Error::BindIPAddress:
    case httplib::Error::SSLConnection:
    case httplib::Error::SSLLoadingCerts:
    case httplib::Error::SSLServerVerification:
      return true;
    default:
      return false;
  }
}

void OnAck(Context& ctx, int conn, const PreparedBatch& b, const httplib::Response& res,
           Clock::duration latency, ConnStats& stats) {
  if (ctx.ack_log != nullptr) {
    ctx.ack_log->Append(fmt::format("ACK {} {} {}\n", b.first, b.last(), b.count));
  }
  stats.acked_events += b.count;
  stats.acked_batches += 1;
  stats.acked_bytes += static_cast<int64_t>(b.raw_bytes);
  stats.acked_wire_bytes += static_cast<int64_t>(b.wire.size());
  stats.latency_us.push_back(static_cast<uint32_t>(
      std::min<int64_t>(std::numeric_limits<uint32_t>::max(),
                        std::chrono::duration_cast<std::chrono::microseconds>(latency).count())));
  const auto reply = nlohmann::json::parse(res.body, nullptr, /*allow_exceptions=*/false);
  if (reply.is_object() && reply.contains("accepted") && reply["accepted"].is_number_integer() &&
      reply["accepted"].get<int64_t>() != b.count) {
    if (stats.accepted_mismatch++ == 0) {
      fmt::print(stderr, "pqflow-loadgen: conn {}: sent {} events, server says {}\n", conn, b.count,
                 res.body);
    }
  }
}

void OnReject(Context& ctx, int conn, const PreparedBatch& b, const httplib::Response& res,
              ConnStats& stats) {
  ++stats.rejected;
  if (ctx.ack_log != nullptr) {
    ctx.ack_log->Append(
        fmt::format("REJECTED {} {} {} {}\n", b.first, b.last(), res.status, Snippet(res.body)));
  }
  Diagnose(ctx, conn, res);
  const bool fatal = res.status == 401 || res.status == 403 || res.status == 404;
  if (fatal && !g_stop.exchange(true)) {
    fmt::print(stderr, "pqflow-loadgen: HTTP {} is fatal; stopping\n", res.status);
  }
}

// Sends one batch until it is acknowledged, rejected, uncertain or the run ends.
void SettleBatch(Context& ctx, int conn, httplib::Client& cli, const httplib::Headers& headers,
                 const PreparedBatch& b, Rng& rng, ConnStats& stats) {
  Backoff backoff(rng);
  for (int attempt = 0;; ++attempt) {
    if (attempt > 0 && ctx.ShouldStop()) {
      ++stats.abandoned;
      return;
    }
    const Clock::time_point t0 = Clock::now();
    const httplib::Result res =
        cli.Post(ctx.path, headers, b.wire.data(), b.wire.size(), "application/x-ndjson");
    const Clock::duration latency = Clock::now() - t0;
    if (!res) {
      ctx.outage.Lost(fmt::format("httplib error: {}", httplib::to_string(res.error())));
      if (NothingSent(res.error())) {
        ++stats.connect_failures;
      } else {
        ++stats.uncertain;
        if (ctx.ack_log != nullptr) {
          ctx.ack_log->Append(fmt::format("UNCERTAIN {} {} {}\n", b.first, b.last(), b.count));
          return;
        }
      }
      SleepUnlessStopped(ctx, backoff.Next());
      continue;
    }
    ctx.outage.Answered();
    if (res->status == 200) {
      OnAck(ctx, conn, b, *res, latency, stats);
      return;
    }
    if (res->status == 429) {
      ++stats.throttled;
      SleepUnlessStopped(ctx, RetryAfter(*res));
    } else if (res->status >= 500) {
      ++stats.server_errors;
      Diagnose(ctx, conn, *res);
      SleepUnlessStopped(ctx, backoff.Next());
    } else {
      OnReject(ctx, conn, b, *res, stats);
      return;
    }
  }
}

httplib::Headers RequestHeaders(const Options& opt) {
  httplib::Headers headers;
  if (opt.gzip) headers.emplace("Content-Encoding", "gzip");
  if (!opt.key.empty()) headers.emplace("Authorization", "Bearer " + opt.key);
  return headers;
}

// One connection: its thread's generator, HTTP client and seq counter. Not thread-safe.
class Connection {
 public:
  Connection(Context& ctx, int index, ConnStats& stats)
      : ctx_(ctx),
        opt_(ctx.opt),
        index_(index),
        stats_(stats),
        seed_(static_cast<uint64_t>(opt_.client_id) * 1'000'003 + static_cast<uint64_t>(index)),
        gen_(opt_, seed_),
        rng_(seed_ ^ 0xbac0ffULL),
        cli_(ctx.scheme_host_port),
        headers_(RequestHeaders(opt_)),
        seq_base_(opt_.client_id * kSeqsPerClient + index * kSeqsPerConnection) {
    cli_.set_keep_alive(true);
    cli_.set_tcp_nodelay(true);
    cli_.set_connection_timeout(10s);
    cli_.set_read_timeout(30s);
    cli_.set_write_timeout(30s);
  }

  // --pregenerate: builds all `quota` bodies now, before the clock starts.
  [[nodiscard]] bool Pregenerate(int64_t quota) {
    prepared_.resize(static_cast<size_t>(quota));
    for (PreparedBatch& b : prepared_) {
      if (!BuildNext(b)) return false;
      b.wire.shrink_to_fit();  // the gzip buffer was sized for the worst case
    }
    return true;
  }

  void Run() {
    if (opt_.pregenerate) {
      for (const PreparedBatch& b : prepared_) {
        if (ctx_.ShouldStop()) break;
        if (!opt_.generate_only) Settle(b);
      }
      return;
    }
    PreparedBatch b;
    while (!ctx_.ShouldStop() && ctx_.ClaimBatch() && BuildNext(b)) {
      if (!opt_.generate_only) Settle(b);
    }
  }

  int64_t prepared_bytes() const {
    int64_t total = 0;
    for (const PreparedBatch& b : prepared_) total += static_cast<int64_t>(b.wire.size());
    return total;
  }

 private:
  // Builds the body for the next `batch` seqs; the time spent counts as generation, not latency.
  [[nodiscard]] bool BuildNext(PreparedBatch& b) {
    if (counter_ + opt_.batch > kSeqsPerConnection) {
      fmt::print(stderr, "pqflow-loadgen: conn {}: seq space of this client id used up\n", index_);
      return false;
    }
    const auto t0 = ThreadCpuTime();
    b.first = seq_base_ + counter_;
    b.count = opt_.batch;
    std::string& raw = opt_.gzip ? scratch_ : b.wire;
    raw.clear();
    raw.reserve(static_cast<size_t>(opt_.batch) * 400);
    gen_.AppendBatch(b.first, b.count, raw);
    b.raw_bytes = raw.size();
    if (opt_.gzip && !gz_.Compress(raw, b.wire)) {
      fmt::print(stderr, "pqflow-loadgen: gzip failed\n");
      g_stop.store(true);
      return false;
    }
    counter_ += opt_.batch;
    stats_.gen_time += ThreadCpuTime() - t0;
    stats_.generated_events += opt_.batch;
    return true;
  }

  void Settle(const PreparedBatch& b) {
    SettleBatch(ctx_, index_, cli_, headers_, b, rng_, stats_);
  }

  Context& ctx_;
  const Options& opt_;
  const int index_;
  ConnStats& stats_;
  const uint64_t seed_;
  EventGenerator gen_;
  Gzipper gz_;
  Rng rng_;
  httplib::Client cli_;
  const httplib::Headers headers_;
  const int64_t seq_base_;  // client_id * 10^12 + index * 10^9
  int64_t counter_ = 0;     // seqs of this connection used so far
  std::string scratch_;                  // uncompressed body, with --gzip
  std::vector<PreparedBatch> prepared_;  // --pregenerate only
};

// Batches of connection `index` under --pregenerate: the total split as evenly as possible.
int64_t Quota(const Options& opt, int index) {
  return opt.batches / opt.connections + (index < opt.batches % opt.connections ? 1 : 0);
}

// Thread body: setup and pregeneration happen before the shared start signal.
void RunConnection(Context& ctx, int index, ConnStats& stats) {
  Connection conn(ctx, index, stats);
  const bool ready = !ctx.opt.pregenerate || conn.Pregenerate(Quota(ctx.opt, index));
  ctx.prepared_bytes.fetch_add(conn.prepared_bytes());
  ctx.ready.count_down();
  ctx.go.wait();
  if (ready) conn.Run();
}

// ---------------------------------------------------------------------------------------------
// Summary

struct Summary {
  ConnStats total;
  double elapsed_s = 0;
  int64_t outages = 0;
  bool ack_log_failed = false;
};

void Merge(const ConnStats& s, ConnStats& into) {
  into.generated_events += s.generated_events;
  into.acked_events += s.acked_events;
  into.acked_batches += s.acked_batches;
  into.acked_bytes += s.acked_bytes;
  into.acked_wire_bytes += s.acked_wire_bytes;
  into.throttled += s.throttled;
  into.server_errors += s.server_errors;
  into.connect_failures += s.connect_failures;
  into.uncertain += s.uncertain;
  into.rejected += s.rejected;
  into.abandoned += s.abandoned;
  into.accepted_mismatch += s.accepted_mismatch;
  into.gen_time += s.gen_time;
  into.latency_us.insert(into.latency_us.end(), s.latency_us.begin(), s.latency_us.end());
}

// Nearest-rank percentile of sorted microseconds, in ms.
double PercentileMs(const std::vector<uint32_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  const auto rank = static_cast<size_t>(std::ceil(p * static_cast<double>(sorted.size())));
  return sorted[std::clamp<size_t>(rank, 1, sorted.size()) - 1] / 1000.0;
}

double Rate(double amount, double secs) { return secs > 0 ? amount / secs : 0; }

double Round(double v, int decimals) {
  const double scale = std::pow(10.0, decimals);
  return std::round(v * scale) / scale;
}

nlohmann::ordered_json SummaryJson(const Options& opt, const Summary& s) {
  const ConnStats& t = s.total;
  const double gen_s = std::chrono::duration<double>(t.gen_time).count();
  nlohmann::ordered_json j;
  j["mode"] = opt.generate_only ? "generate-only" : "send";
  j["elapsed_s"] = Round(s.elapsed_s, 3);
  j["acked_events"] = t.acked_events;
  j["acked_batches"] = t.acked_batches;
  j["events_per_s"] = Round(Rate(static_cast<double>(t.acked_events), s.elapsed_s), 0);
  j["mb_per_s"] = Round(Rate(static_cast<double>(t.acked_bytes) / 1e6, s.elapsed_s), 2);
  j["wire_mb_per_s"] = Round(Rate(static_cast<double>(t.acked_wire_bytes) / 1e6, s.elapsed_s), 2);
  j["latency_ms"] = {{"p50", PercentileMs(t.latency_us, 0.50)},
                     {"p90", PercentileMs(t.latency_us, 0.90)},
                     {"p99", PercentileMs(t.latency_us, 0.99)},
                     {"max", PercentileMs(t.latency_us, 1.0)}};
  j["throttled_429"] = t.throttled;
  j["errors"] = t.server_errors + t.connect_failures;
  j["errors_5xx"] = t.server_errors;
  j["connect_failures"] = t.connect_failures;
  j["uncertain"] = t.uncertain;
  j["rejected"] = t.rejected;
  j["abandoned"] = t.abandoned;
  j["accepted_mismatch"] = t.accepted_mismatch;
  j["outages"] = s.outages;
  j["generated_events"] = t.generated_events;
  j["gen_s"] = Round(gen_s, 3);
  j["gen_events_per_s"] = Round(Rate(static_cast<double>(t.generated_events), gen_s), 0);
  return j;
}

void PrintTable(const Options& opt, const Context& ctx, const Summary& s) {
  const ConnStats& t = s.total;
  const double gen_s = std::chrono::duration<double>(t.gen_time).count();
  fmt::print(stderr, "pqflow-loadgen: {}{}  {} connections x {} events{}\n", ctx.scheme_host_port,
             ctx.path, opt.connections, opt.batch, opt.gzip ? ", gzip" : "");
  fmt::print(stderr, "  elapsed            {:.2f} s\n", s.elapsed_s);
  fmt::print(stderr, "  acknowledged       {} events in {} batches\n", t.acked_events,
             t.acked_batches);
  fmt::print(
      stderr,
      "  throughput         {:.0f} events/s, {:.1f} MB/s uncompressed, {:.1f} MB/s on the wire\n",
      Rate(static_cast<double>(t.acked_events), s.elapsed_s),
      Rate(static_cast<double>(t.acked_bytes) / 1e6, s.elapsed_s),
      Rate(static_cast<double>(t.acked_wire_bytes) / 1e6, s.elapsed_s));
  fmt::print(stderr, "  latency ms         p50 {:.1f}  p90 {:.1f}  p99 {:.1f}  max {:.1f}\n",
             PercentileMs(t.latency_us, 0.5), PercentileMs(t.latency_us, 0.9),
             PercentileMs(t.latency_us, 0.99), PercentileMs(t.latency_us, 1.0));
  fmt::print(stderr, "  throttled (429)    {}\n", t.throttled);
  fmt::print(stderr, "  errors             {} (5xx {}, failed connects {}; {} outages)\n",
             t.server_errors + t.connect_failures, t.server_errors, t.connect_failures, s.outages);
  fmt::print(stderr, "  uncertain batches  {}{}\n", t.uncertain,
             opt.ack_log.empty() ? " (resent: duplicates possible)" : " (logged, not resent)");
  fmt::print(stderr, "  rejected batches   {}\n", t.rejected);
  fmt::print(stderr, "  abandoned at end   {}\n", t.abandoned);
  fmt::print(stderr, "  generation         {} events in {:.2f} s CPU: {:.0f} events/s per core\n",
             t.generated_events, gen_s, Rate(static_cast<double>(t.generated_events), gen_s));
}

// ---------------------------------------------------------------------------------------------
// Setup

// Splits "http://host:port/prefix" into "http://host:port" and "/prefix" (no trailing slash).
bool SplitUrl(const std::string& url, std::string& scheme_host_port, std::string& prefix) {
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return false;
  const size_t path_start = url.find('/', scheme_end + 3);
  scheme_host_port = url.substr(0, path_start);
  prefix = path_start == std::string::npos ? "" : url.substr(path_start);
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  return scheme_host_port.size() > scheme_end + 3;
}

bool Validate(Options& opt, Clock::duration& duration) {
  if (opt.duration.empty()) opt.duration = opt.batches > 0 ? "0" : "10s";
  const auto parsed = ParseDuration(opt.duration);
  if (!parsed) {
    fmt::print(stderr, "pqflow-loadgen: bad --duration '{}' (want e.g. 10s, 500ms, 2m, 1h)\n",
               opt.duration);
    return false;
  }
  duration = *parsed;
  if (duration == Clock::duration::zero() && opt.batches == 0) {
    fmt::print(stderr, "pqflow-loadgen: give --duration or --batches\n");
    return false;
  }
  if (opt.pregenerate && opt.batches == 0) {
    fmt::print(stderr, "pqflow-loadgen: --pregenerate needs --batches\n");
    return false;
  }
  return true;
}

int Run(Options opt) {
  Clock::duration duration{};
  std::string scheme_host_port, prefix;
  if (!Validate(opt, duration)) return 2;
  if (!SplitUrl(opt.url, scheme_host_port, prefix) ||
      !httplib::Client(scheme_host_port).is_valid()) {
    fmt::print(stderr, "pqflow-loadgen: bad --url '{}' (want e.g. http://127.0.0.1:8080)\n",
               opt.url);
    return 2;
  }
  std::unique_ptr<AckLog> ack_log;
  if (!opt.ack_log.empty() && !opt.generate_only) {
    ack_log = AckLog::Open(opt.ack_log);
    if (ack_log == nullptr) return 2;
  }
  InstallSignalHandlers();
  Context ctx(opt, scheme_host_port, prefix + "/v1/streams/" + opt.stream, ack_log.get());
  std::vector<ConnStats> stats(static_cast<size_t>(opt.connections));
  std::vector<std::thread> threads;
  for (int i = 0; i < opt.connections; ++i) {
    threads.emplace_back(RunConnection, std::ref(ctx), i, std::ref(stats[static_cast<size_t>(i)]));
  }
  ctx.ready.wait();
  if (opt.pregenerate && !opt.quiet) {
    fmt::print(stderr, "pqflow-loadgen: pre-generated {} batches, {:.1f} MB in memory\n",
               opt.batches, static_cast<double>(ctx.prepared_bytes.load()) / 1e6);
  }
  const Clock::time_point start = Clock::now();
  if (duration != Clock::duration::zero()) ctx.deadline = start + duration;
  ctx.go.count_down();
  for (std::thread& t : threads) t.join();

  Summary summary;
  summary.elapsed_s = std::chrono::duration<double>(Clock::now() - start).count();
  for (const ConnStats& s : stats) Merge(s, summary.total);
  std::sort(summary.total.latency_us.begin(), summary.total.latency_us.end());
  summary.outages = ctx.outage.outages();
  summary.ack_log_failed = ack_log != nullptr && ack_log->failed();
  fmt::print("{}\n", SummaryJson(opt, summary).dump());
  std::fflush(stdout);
  if (!opt.quiet) PrintTable(opt, ctx, summary);
  if (opt.generate_only) return summary.total.generated_events > 0 ? 0 : 1;
  const bool ok =
      summary.total.acked_batches > 0 && summary.total.rejected == 0 && !summary.ack_log_failed;
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  CLI::App app{"Load generator for pqflow's event-ingest server (POST /v1/streams/<stream>)"};
  app.add_option("--url", opt.url, "Server base URL")->capture_default_str();
  app.add_option("--stream", opt.stream, "Stream name")->capture_default_str();
  app.add_option("--key", opt.key, "API key, sent as Authorization: Bearer <key>");
  app.add_option("--connections", opt.connections, "Concurrent keep-alive connections (threads)")
      ->check(CLI::Range(1, kMaxConnections))
      ->capture_default_str();
  app.add_option("--batch", opt.batch, "Events per request")
      ->check(CLI::Range(1, 10'000'000))
      ->capture_default_str();
  app.add_option("--duration", opt.duration,
                 "Run time (10s, 500ms, 2m, 1h); default 10s, or unlimited with --batches");
  app.add_option("--batches", opt.batches,
                 "Total batches over all connections (0: until --duration)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--workspaces", opt.workspaces, "workspace_id in 1..N, Zipf-skewed")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 40))
      ->capture_default_str();
  app.add_option("--hours", opt.hours, "Spread timestamps over the last H hours (0: now - 0..5 s)")
      ->check(CLI::Range(0.0, 24.0 * 365 * 100))
      ->capture_default_str();
  app.add_flag("--gzip", opt.gzip, "gzip request bodies (Content-Encoding: gzip)");
  app.add_option("--client-id", opt.client_id,
                 "Distinct per run against the same data (seq prefix)")
      ->check(CLI::Range(int64_t{0}, kMaxClientId))
      ->capture_default_str();
  app.add_option("--ack-log", opt.ack_log, "Append ACK/UNCERTAIN/REJECTED seq ranges to FILE");
  app.add_flag("-q,--quiet", opt.quiet,
               "No summary table on stderr (the JSON line still goes to stdout)");
  app.add_flag("--pregenerate", opt.pregenerate,
               "With --batches: build every body before the clock starts (memory: all bodies)");
  app.add_flag("--generate-only", opt.generate_only,
               "Build the bodies without sending them (measures the generator)");
  CLI11_PARSE(app, argc, argv);
  return Run(std::move(opt));
}
