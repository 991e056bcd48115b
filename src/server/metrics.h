// A tiny Prometheus registry: counters, gauges and histograms rendered in the text exposition
// format 0.0.4 (https://prometheus.io/docs/instrumenting/exposition_formats/) for GET /metrics.
//
// Metrics are registered once at startup and then updated on hot paths from many threads, so
// updates are single relaxed atomic operations and never take a lock; only registration and
// rendering lock the registry. A scrape may see one histogram's sum and buckets a few
// observations apart, which Prometheus tolerates.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace pqflow::server {

// The Content-Type of RenderPrometheus() output.
inline constexpr std::string_view kPrometheusContentType = "text/plain; version=0.0.4; charset=utf-8";

// Label pairs, rendered in the given order, e.g. {{"stream", "events"}}. Two label lists are
// the same series only when they are equal pair by pair, in order.
using Labels = std::vector<std::pair<std::string, std::string>>;

// A count that only goes up (requests, rows, bytes).
class Counter {
 public:
  void Inc(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

// A value that goes up and down (queue depth, open connections). Held as a double, so
// integers are exact up to 2^53; one type for both keeps Set(3) unambiguous.
class Gauge {
 public:
  void Set(double value) { value_.store(value, std::memory_order_relaxed); }
  void Add(double delta) { value_.fetch_add(delta, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

// Counts observations into buckets with fixed upper bounds (inclusive, as Prometheus's `le`).
class Histogram {
 public:
  // `upper_bounds` must be finite and strictly increasing; the +Inf bucket is implicit.
  // Anything else is a programming error and aborts with a message.
  explicit Histogram(std::vector<double> upper_bounds);

  // Lock-free: one atomic add on the bucket, one on the sum. NaN lands in the +Inf bucket
  // (and makes the sum NaN), as in the Go client.
  void Observe(double value);

  struct Snapshot {
    std::vector<uint64_t> cumulative_counts;  // one per upper bound, then +Inf (== count)
    double sum = 0;
    uint64_t count = 0;
  };
  Snapshot TakeSnapshot() const;
  const std::vector<double>& upper_bounds() const { return upper_bounds_; }

 private:
  std::vector<double> upper_bounds_;
  std::vector<std::atomic<uint64_t>> bucket_counts_;  // per bucket, not cumulative; last is +Inf
  std::atomic<double> sum_{0.0};
};

// Request latency buckets in seconds, 0.5 ms to 10 s:
// {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}.
std::vector<double> LatencySecondsBuckets();

// Owns every metric of a process. The Add* calls return references that stay valid as long
// as the registry lives. Adding a name and label set that is already registered returns the
// existing metric, so a handler may look its metric up again.
//
// Names are used as given (callers add the "pqflow_" prefix). Misuse — an invalid metric or
// label name, a name reused with another type or help text, a histogram label named "le", a
// histogram re-added with other bounds, a callback gauge added twice — is a programming error
// that the first test run would hit, so it aborts with a message instead of returning one.
class MetricsRegistry {
 public:
  MetricsRegistry() = default;
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  Counter& AddCounter(std::string_view name, std::string_view help, Labels labels = {});
  Gauge& AddGauge(std::string_view name, std::string_view help, Labels labels = {});
  Histogram& AddHistogram(std::string_view name, std::string_view help, std::vector<double> upper_bounds,
                          Labels labels = {});
  // A gauge whose value is read at scrape time (WAL bytes on disk, uptime). `read` runs
  // under the registry lock on the scraping thread: it must be thread-safe and must not call
  // back into the registry.
  void AddCallbackGauge(std::string_view name, std::string_view help, std::function<double()> read,
                        Labels labels = {});

  // Every metric in registration order: one # HELP and # TYPE per name, then its series in
  // the order their label sets were first added.
  std::string RenderPrometheus() const;

 private:
  enum class MetricType { kCounter, kGauge, kHistogram };
  // Metrics live on the heap so the references Add* returns survive vector growth.
  using SeriesValue = std::variant<std::monostate, std::unique_ptr<Counter>, std::unique_ptr<Gauge>,
                                   std::unique_ptr<Histogram>, std::function<double()>>;
  struct Series {
    Labels labels;
    SeriesValue value;  // monostate only between creation and the Add* call filling it
  };
  struct Family {
    std::string name;
    std::string help;
    MetricType type;
    std::vector<Series> series;
  };

  // The series for (name, labels), created empty if new. Requires mu_.
  Series& SeriesFor(std::string_view name, std::string_view help, MetricType type, Labels labels);
  void RenderFamily(const Family& family, std::string& out) const;

  mutable std::mutex mu_;
  std::vector<Family> families_;  // registration order
};

}  // namespace pqflow::server
