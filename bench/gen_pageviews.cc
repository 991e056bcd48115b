// pqflow-gen-pageviews: deterministic generator of pageview-like rows (CSV or NDJSON) for the
// export benchmarks. The same options and seed always give byte-identical output on any
// machine: the only randomness is a seeded xoshiro256** and all tables are built from it.
//
// Columns (the seed's pageviews schema): id, project_id, project_slug, version_id, version_slug,
// path, full_path, view_count, date, status. In CSV an empty field is NULL (version_id and
// version_slug, about 10% of rows); NDJSON writes null.
//
// Shape of the data: projects are Zipf-distributed (s ~ 1.1, so a handful of projects get most
// views); each project has its own set of paths, also Zipf-distributed; weekends get less
// traffic. With --order date (default) rows come in id order with non-decreasing dates, as a
// table exported by primary key would; --order shuffled draws each row's date independently.
#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <map>
#include <string>
#include <string_view>
#include <unistd.h>
#include <unordered_set>
#include <vector>

#include "sampling.h"

namespace {

enum class Format { kCsv, kNdjson };
enum class Order { kByDate, kShuffled };

struct Options {
  int64_t rows = 1'000'000;
  int days = 90;
  int projects = 2000;
  uint64_t seed = 20260115;
  double zipf_s = 1.1;              // exponent for both project and per-project path popularity
  std::string end_date = "2026-01-15";  // last (newest) date; the range goes back `days` days
  std::string output = "-";         // "-" is stdout
  Format format = Format::kCsv;
  Order order = Order::kByDate;
  bool quiet = false;
};

using pqflow_bench::AliasTable;
using pqflow_bench::Rng;
using pqflow_bench::ZipfWeights;

// ---------------------------------------------------------------------------------------------
// Dates (proleptic Gregorian, days since 1970-01-01; H. Hinnant's civil algorithms).

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

std::string CivilFromDays(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  const int64_t y = static_cast<int64_t>(yoe) + era * 400 + (m <= 2);
  return fmt::format("{:04}-{:02}-{:02}", y, m, d);
}

bool ParseDate(const std::string& text, int64_t& days) {
  int y = 0;
  unsigned m = 0, d = 0;
  if (text.size() != 10 || std::sscanf(text.c_str(), "%4d-%2u-%2u", &y, &m, &d) != 3) return false;
  if (m < 1 || m > 12 || d < 1 || d > 31) return false;
  days = DaysFromCivil(y, m, d);
  return CivilFromDays(days) == text;  // rejects 2026-02-30 and friends
}

// ---------------------------------------------------------------------------------------------
// The synthetic world: projects with slugs, versions, languages and paths.

constexpr std::array<std::string_view, 96> kNouns = {
    "sphinx",  "flask",   "django",   "requests", "numpy",    "pandas",  "arrow",   "parquet",
    "kafka",   "rocket",  "pipeline", "stream",   "vector",   "matrix",  "graph",   "cloud",
    "docker",  "kube",    "terra",    "cache",    "queue",    "auth",    "oauth",   "crypto",
    "image",   "audio",   "video",    "text",     "parser",   "lexer",   "compiler", "schema",
    "model",   "tensor",  "neural",   "geo",      "map",      "time",    "config",  "logger",
    "metrics", "trace",   "search",   "indexer",  "storage",  "bucket",  "sync",    "async",
    "http",    "socket",  "rpc",      "grpc",     "json",     "yaml",    "toml",    "markdown",
    "theme",   "plugin",  "widget",   "chart",    "plot",     "table",   "form",    "admin",
    "shop",    "payment", "mail",     "chat",     "bot",      "game",    "robot",   "sensor",
    "serial",  "wasm",    "shell",    "cli",      "mock",     "bench",   "lint",    "build",
    "deploy",  "net",     "dns",      "sql",      "orm",      "redis",   "postgres", "sqlite",
    "spark",   "beam",    "dask",     "torch",    "stats",    "bio",     "astro",   "quantum"};

constexpr std::array<std::string_view, 20> kPrefixes = {
    "python", "py",     "django",  "flask",   "sphinx",    "read",  "open",
    "go",     "rust",   "node",    "react",   "vue",       "jupyter", "sphinxcontrib",
    "pytest", "ansible", "terraform", "awesome", "libre", "apache"};

constexpr std::array<std::string_view, 14> kSuffixes = {"py",   "lib",  "kit",  "js",    "io",
                                                        "db",   "hub",  "lab",  "ify",   "tools",
                                                        "core", "docs", "api",  "utils"};

constexpr std::array<std::string_view, 20> kSections = {
    "docs",     "api",      "guide",   "tutorial", "reference",     "howto",   "user",
    "dev",      "config",   "examples", "topics",  "ref",           "intro",   "advanced",
    "faq",      "modules",  "_modules", "cookbook", "release-notes", "internals"};

constexpr std::array<std::string_view, 56> kPages = {
    "index",        "install",    "installation", "quickstart",  "getting-started", "usage",
    "configuration", "settings",  "changelog",    "faq",         "contributing",    "license",
    "api",          "overview",   "tutorial",     "examples",    "troubleshooting", "migration",
    "upgrading",    "deployment", "security",     "testing",     "cli",             "commands",
    "models",       "views",      "templates",    "forms",       "plugins",         "extensions",
    "internals",    "architecture", "glossary",   "search",      "genindex",        "py-modindex",
    "authors",      "history",    "roadmap",      "performance", "logging",         "caching",
    "database",     "permissions", "signals",     "middleware",  "routing",         "serializers",
    "client",       "server",     "events",       "hooks",       "errors",          "reference",
    "concepts",     "changes"};

// (language, weight among non-English projects)
constexpr std::array<std::string_view, 8> kOtherLanguages = {"es", "ja", "zh-cn", "fr",
                                                             "de", "pt-br", "ru", "ko"};

struct Version {
  int32_t id;
  std::string slug;
};

struct Project {
  int32_t id = 0;
  std::string slug;
  std::string language;
  std::vector<Version> versions;  // [0] is "latest", [1] "stable" when present
  std::vector<std::string> paths;  // in popularity order; [0] is "/index.html"
  AliasTable path_dist;
};

template <size_t N>
std::string_view Pick(Rng& rng, const std::array<std::string_view, N>& words) {
  return words[rng.Below(static_cast<uint32_t>(N))];
}

// Two different nouns (no "robot-robot").
std::pair<std::string_view, std::string_view> TwoNouns(Rng& rng) {
  const std::string_view a = Pick(rng, kNouns);
  std::string_view b = Pick(rng, kNouns);
  while (b == a) b = Pick(rng, kNouns);
  return {a, b};
}

std::string MakeSlugCandidate(Rng& rng) {
  const uint32_t pattern = rng.Below(10);
  if (pattern == 0) return std::string(Pick(rng, kNouns));
  if (pattern <= 3) return fmt::format("{}-{}", Pick(rng, kPrefixes), Pick(rng, kNouns));
  if (pattern <= 5) {
    const auto [a, b] = TwoNouns(rng);
    return fmt::format("{}-{}", a, b);
  }
  if (pattern <= 7) return fmt::format("{}{}", Pick(rng, kNouns), Pick(rng, kSuffixes));
  const auto [a, b] = TwoNouns(rng);
  return fmt::format("{}-{}-{}", Pick(rng, kPrefixes), a, b);
}

std::string MakeUniqueSlug(Rng& rng, std::unordered_set<std::string>& used) {
  for (int attempt = 0; attempt < 16; ++attempt) {
    std::string slug = MakeSlugCandidate(rng);
    if (used.insert(slug).second) return slug;
  }
  for (int n = 2;; ++n) {
    std::string slug = fmt::format("{}-{}", MakeSlugCandidate(rng), n);
    if (used.insert(slug).second) return slug;
  }
}

std::string MakePathCandidate(Rng& rng) {
  switch (rng.Below(4)) {
    case 0:
      return fmt::format("/{}.html", Pick(rng, kPages));
    case 1:
      return fmt::format("/{}/{}.html", Pick(rng, kSections), Pick(rng, kPages));
    case 2:
      return fmt::format("/{}/{}.html", Pick(rng, kSections), Pick(rng, kNouns));
    default:
      return fmt::format("/{}/{}/{}.html", Pick(rng, kSections), Pick(rng, kNouns),
                         Pick(rng, kPages));
  }
}

std::vector<std::string> MakePaths(Rng& rng, size_t count) {
  std::vector<std::string> paths{"/index.html"};
  std::unordered_set<std::string> used{paths[0]};
  while (paths.size() < count) {
    std::string path = MakePathCandidate(rng);
    if (used.insert(path).second) paths.push_back(std::move(path));
  }
  return paths;
}

std::vector<Version> MakeVersions(Rng& rng, size_t rank, int32_t& next_version_id) {
  size_t count = 1 + rng.Below(4);  // 1..4
  if (rank < 100) count += rng.Below(10);  // popular projects keep more releases
  std::vector<Version> versions;
  versions.push_back({next_version_id++, "latest"});
  if (count >= 2) versions.push_back({next_version_id++, "stable"});
  const uint32_t style = rng.Below(4);
  int major = 1 + static_cast<int>(rng.Below(6));
  int minor = static_cast<int>(rng.Below(12));
  for (size_t i = 2; i < count; ++i) {
    std::string slug;
    switch (style) {
      case 0: slug = fmt::format("v{}.{}", major, minor); break;
      case 1: slug = fmt::format("{}.{}.x", major, minor); break;
      case 2: slug = fmt::format("{}.{}", major, minor); break;
      default: slug = fmt::format("release-{}.{}", major, minor); break;
    }
    versions.push_back({next_version_id++, std::move(slug)});
    if (minor > 0) {
      --minor;
    } else if (major > 0) {
      --major;
      minor = 9;
    } else {
      break;
    }
  }
  return versions;
}

// Projects in popularity order (index = Zipf rank).
std::vector<Project> MakeProjects(Rng& rng, const Options& opt) {
  const auto n = static_cast<size_t>(opt.projects);
  // Distinct, unordered project ids: the most popular project is not id 1.
  std::vector<int32_t> ids(n * 5);
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<int32_t>(i + 1);
  for (size_t i = 0; i < n; ++i) {
    const size_t j = i + rng.Below(static_cast<uint32_t>(ids.size() - i));
    std::swap(ids[i], ids[j]);
  }
  std::unordered_set<std::string> used_slugs;
  int32_t next_version_id = 100'000;
  std::vector<Project> projects(n);
  for (size_t rank = 0; rank < n; ++rank) {
    Project& p = projects[rank];
    p.id = ids[rank];
    p.slug = MakeUniqueSlug(rng, used_slugs);
    p.language = rng.Uniform() < 0.9 ? "en" : std::string(Pick(rng, kOtherLanguages));
    p.versions = MakeVersions(rng, rank, next_version_id);
    // Popular projects have bigger sites: ~1500 pages for the top one, ~20 for the tail.
    const auto path_count =
        5 + static_cast<size_t>(1500.0 * std::pow(static_cast<double>(rank + 1), -0.6));
    p.paths = MakePaths(rng, path_count);
    p.path_dist = AliasTable(ZipfWeights(p.paths.size(), opt.zipf_s));
  }
  return projects;
}

// ---------------------------------------------------------------------------------------------
// Output: one big buffer, flushed with write(2).

class Output {
 public:
  static constexpr size_t kBufferSize = 8 << 20;
  static constexpr size_t kMaxRow = 4096;  // a row is far shorter; flush before this is short

  explicit Output(int fd) : fd_(fd), buf_(new char[kBufferSize]) {}
  ~Output() { delete[] buf_; }
  Output(const Output&) = delete;
  Output& operator=(const Output&) = delete;

  // Makes room for one row; false (errno set) if flushing failed.
  [[nodiscard]] bool Reserve() { return kBufferSize - len_ >= kMaxRow || Flush(); }
  void Put(char c) { buf_[len_++] = c; }
  void Put(std::string_view s) {
    std::memcpy(buf_ + len_, s.data(), s.size());
    len_ += s.size();
  }
  template <typename Int>
  void PutInt(Int v) {
    auto [end, ec] = std::to_chars(buf_ + len_, buf_ + kBufferSize, v);
    (void)ec;  // cannot fail: Reserve() guarantees room for any integer
    len_ = static_cast<size_t>(end - buf_);
  }

  // Returns false (errno set) if a write failed.
  [[nodiscard]] bool Flush() {
    size_t off = 0;
    while (off < len_) {
      const ssize_t n = ::write(fd_, buf_ + off, len_ - off);
      if (n < 0) {
        if (errno == EINTR) continue;
        ok_ = false;
        len_ = 0;
        return false;
      }
      off += static_cast<size_t>(n);
    }
    total_ += len_;
    len_ = 0;
    return ok_;
  }

  bool ok() const { return ok_; }
  uint64_t total_bytes() const { return total_; }

 private:
  int fd_;
  char* buf_;
  size_t len_ = 0;
  uint64_t total_ = 0;
  bool ok_ = true;
};

// ---------------------------------------------------------------------------------------------
// Rows

struct Row {
  int64_t id;
  const Project* project;
  const Version* version;  // nullptr = NULL
  const std::string* path;
  int32_t view_count;
  const std::string* date;
  int16_t status;
};

void PutFullPath(Output& out, const Row& r) {
  if (r.version != nullptr) {
    out.Put('/');
    out.Put(r.project->language);
    out.Put('/');
    out.Put(r.version->slug);
  }
  out.Put(*r.path);
}

void WriteCsv(Output& out, const Row& r) {
  out.PutInt(r.id);
  out.Put(',');
  out.PutInt(r.project->id);
  out.Put(',');
  out.Put(r.project->slug);
  out.Put(',');
  if (r.version != nullptr) out.PutInt(r.version->id);
  out.Put(',');
  if (r.version != nullptr) out.Put(r.version->slug);
  out.Put(',');
  out.Put(*r.path);
  out.Put(',');
  PutFullPath(out, r);
  out.Put(',');
  out.PutInt(r.view_count);
  out.Put(',');
  out.Put(*r.date);
  out.Put(',');
  out.PutInt(r.status);
  out.Put('\n');
}

// All strings are built from [a-z0-9./_-], so none needs JSON escaping.
void WriteNdjson(Output& out, const Row& r) {
  out.Put("{\"id\":");
  out.PutInt(r.id);
  out.Put(",\"project_id\":");
  out.PutInt(r.project->id);
  out.Put(",\"project_slug\":\"");
  out.Put(r.project->slug);
  if (r.version != nullptr) {
    out.Put("\",\"version_id\":");
    out.PutInt(r.version->id);
    out.Put(",\"version_slug\":\"");
    out.Put(r.version->slug);
    out.Put("\",\"path\":\"");
  } else {
    out.Put("\",\"version_id\":null,\"version_slug\":null,\"path\":\"");
  }
  out.Put(*r.path);
  out.Put("\",\"full_path\":\"");
  PutFullPath(out, r);
  out.Put("\",\"view_count\":");
  out.PutInt(r.view_count);
  out.Put(",\"date\":\"");
  out.Put(*r.date);
  out.Put("\",\"status\":");
  out.PutInt(r.status);
  out.Put("}\n");
}

constexpr std::string_view kCsvHeader =
    "id,project_id,project_slug,version_id,version_slug,path,full_path,view_count,date,status\n";

const Version* PickVersion(Rng& rng, const Project& p) {
  const double u = rng.Uniform();
  if (u < 0.10) return nullptr;  // deleted version / unversioned page
  if (u < 0.55 || p.versions.size() == 1) return &p.versions[0];  // latest
  if (u < 0.82 || p.versions.size() == 2) return &p.versions[1];  // stable
  return &p.versions[2 + rng.Below(static_cast<uint32_t>(p.versions.size() - 2))];
}

int16_t PickStatus(Rng& rng) {
  const double u = rng.Uniform();
  if (u < 0.925) return 200;
  if (u < 0.975) return 404;
  if (u < 0.995) return 302;
  return 500;
}

// Pareto-like (alpha 1.3): mostly 1, a long tail up to 100000.
int32_t PickViewCount(Rng& rng) {
  const double u = 1.0 - rng.Uniform();  // (0, 1]
  const double v = std::floor(std::pow(u, -1.0 / 1.3));
  return v > 100000.0 ? 100000 : static_cast<int32_t>(v);
}

// Per-day weights: weekends get 60% of a weekday's traffic, with a slow upward trend.
std::vector<double> DayWeights(int64_t first_day, int days) {
  std::vector<double> w(static_cast<size_t>(days));
  for (int i = 0; i < days; ++i) {
    const int64_t dow = ((first_day + i) % 7 + 7 + 3) % 7;  // 0 = Monday (1970-01-01 was Thu)
    w[static_cast<size_t>(i)] = (dow >= 5 ? 0.6 : 1.0) * (1.0 + 0.003 * i);
  }
  return w;
}

// rows per day, summing exactly to `rows`
std::vector<int64_t> RowsPerDay(const std::vector<double>& weights, int64_t rows) {
  double total = 0;
  for (double w : weights) total += w;
  std::vector<int64_t> counts(weights.size());
  double cum = 0;
  int64_t assigned = 0;
  for (size_t i = 0; i < weights.size(); ++i) {
    cum += weights[i];
    const int64_t upto = i + 1 == weights.size()
                             ? rows
                             : static_cast<int64_t>(std::llround(static_cast<double>(rows) * cum / total));
    counts[i] = upto - assigned;
    assigned = upto;
  }
  return counts;
}

int Generate(const Options& opt) {
  int64_t end_day = 0;
  if (!ParseDate(opt.end_date, end_day)) {
    fmt::print(stderr, "pqflow-gen-pageviews: bad --end-date '{}', want YYYY-MM-DD\n", opt.end_date);
    return 2;
  }
  const auto t0 = std::chrono::steady_clock::now();
  Rng world_rng(opt.seed);
  const std::vector<Project> projects = MakeProjects(world_rng, opt);
  const AliasTable project_dist(ZipfWeights(projects.size(), opt.zipf_s));

  const int64_t first_day = end_day - (opt.days - 1);
  std::vector<std::string> dates;
  for (int i = 0; i < opt.days; ++i) dates.push_back(CivilFromDays(first_day + i));
  const std::vector<double> day_weights = DayWeights(first_day, opt.days);
  const AliasTable day_dist(day_weights);
  const std::vector<int64_t> per_day = RowsPerDay(day_weights, opt.rows);

  int fd = STDOUT_FILENO;
  if (opt.output != "-") {
    fd = ::open(opt.output.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
      fmt::print(stderr, "pqflow-gen-pageviews: cannot open {}: {}\n", opt.output, std::strerror(errno));
      return 1;
    }
  }
  Output out(fd);
  if (opt.format == Format::kCsv) out.Put(kCsvHeader);

  Rng rng(opt.seed ^ 0x5eed'0f'7075ULL);  // row stream independent of the world tables
  size_t day = 0;
  int64_t left_today = per_day.empty() ? 0 : per_day[0];
  for (int64_t id = 1; id <= opt.rows; ++id) {
    if (opt.order == Order::kByDate) {
      while (left_today == 0) left_today = per_day[++day];
      --left_today;
    } else {
      day = day_dist.Sample(rng);
    }
    const Project& p = projects[project_dist.Sample(rng)];
    const Row row{id,
                  &p,
                  PickVersion(rng, p),
                  &p.paths[p.path_dist.Sample(rng)],
                  PickViewCount(rng),
                  &dates[day],
                  PickStatus(rng)};
    if (!out.Reserve()) break;
    if (opt.format == Format::kCsv) {
      WriteCsv(out, row);
    } else {
      WriteNdjson(out, row);
    }
  }
  const bool flushed = out.Flush();
  const bool closed = fd == STDOUT_FILENO || ::close(fd) == 0;
  if (!flushed || !closed) {
    fmt::print(stderr, "pqflow-gen-pageviews: writing {}: {}\n",
               opt.output == "-" ? "stdout" : opt.output, std::strerror(errno));
    return 1;
  }
  if (!opt.quiet) {
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    fmt::print(stderr, "pqflow-gen-pageviews: {} rows, {} bytes in {:.2f} s ({:.0f} rows/s)\n",
               opt.rows, out.total_bytes(), secs, static_cast<double>(opt.rows) / secs);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  CLI::App app{"Deterministic generator of pageview-like rows (CSV or NDJSON) for benchmarks"};
  app.add_option("--rows", opt.rows, "Number of rows (ids 1..N)")->check(CLI::Range(int64_t{0}, int64_t{1} << 40));
  app.add_option("--days", opt.days, "Number of days, ending at --end-date")->check(CLI::Range(1, 100000));
  app.add_option("--end-date", opt.end_date, "Newest date (YYYY-MM-DD)");
  app.add_option("--projects", opt.projects, "Number of projects")->check(CLI::Range(1, 1000000));
  app.add_option("--seed", opt.seed, "PRNG seed; same seed and options give identical output");
  app.add_option("--zipf", opt.zipf_s, "Zipf exponent of project and path popularity")
      ->check(CLI::Range(0.0, 10.0));
  app.add_option("--format", opt.format, "csv (header line, empty field = NULL) or ndjson")
      ->transform(CLI::CheckedTransformer(
          std::map<std::string, Format>{{"csv", Format::kCsv}, {"ndjson", Format::kNdjson}}));
  app.add_option("--order", opt.order,
                 "date: ids in order with non-decreasing dates; shuffled: random date per row")
      ->transform(CLI::CheckedTransformer(
          std::map<std::string, Order>{{"date", Order::kByDate}, {"shuffled", Order::kShuffled}}));
  app.add_option("-o,--output", opt.output, "Output file, - for stdout");
  app.add_flag("-q,--quiet", opt.quiet, "No summary line on stderr");
  CLI11_PARSE(app, argc, argv);
  return Generate(opt);
}
