#include "server/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace pqflow::server {

namespace {

// Registration mistakes are bugs in pqflow, not conditions a caller can handle.
[[noreturn]] void DieOnMisuse(const std::string& what) {
  std::fprintf(stderr, "pqflow: metrics registry misuse: %s\n", what.c_str());
  std::abort();
}

bool IsAsciiLetterOrUnderscore(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsAsciiDigit(char c) { return c >= '0' && c <= '9'; }

// [a-zA-Z_:][a-zA-Z0-9_:]*
bool IsValidMetricName(std::string_view name) {
  if (name.empty() || IsAsciiDigit(name[0])) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return IsAsciiLetterOrUnderscore(c) || IsAsciiDigit(c) || c == ':'; });
}

// [a-zA-Z_][a-zA-Z0-9_]*, and names starting with "__" are reserved for Prometheus itself.
bool IsValidLabelName(std::string_view name) {
  if (name.empty() || IsAsciiDigit(name[0]) || name.starts_with("__")) return false;
  return std::all_of(name.begin(), name.end(), [](char c) { return IsAsciiLetterOrUnderscore(c) || IsAsciiDigit(c); });
}

void CheckLabels(std::string_view metric, const Labels& labels, bool is_histogram) {
  for (size_t i = 0; i < labels.size(); ++i) {
    const std::string& key = labels[i].first;
    std::string where = std::string(metric) + ": label \"" + key + "\"";
    if (!IsValidLabelName(key)) DieOnMisuse(where + " is not a valid label name");
    if (is_histogram && key == "le") DieOnMisuse(where + " is reserved for histogram buckets");
    for (size_t j = 0; j < i; ++j) {
      if (labels[j].first == key) DieOnMisuse(where + " appears twice");
    }
  }
}

// HELP text escapes backslash and newline; label values also escape the double quote.
std::string Escape(std::string_view text, bool escape_quote) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && escape_quote) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
  return out;
}

// Shortest text that parses back to the same double; plain decimals in the usual range
// ("0.0005", "2.5", "10") so `le` values read as people write them.
std::string FormatDouble(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  double magnitude = std::fabs(value);
  bool plain = magnitude == 0 || (magnitude >= 1e-4 && magnitude < 1e15);
  char text[64];
  auto result = std::to_chars(text, text + sizeof(text), value,
                              plain ? std::chars_format::fixed : std::chars_format::scientific);
  return std::string(text, result.ptr);
}

// `{k="v",...}`, with an optional extra pair appended (the histogram's `le`); empty when
// there are no pairs at all.
std::string LabelText(const Labels& labels, std::string_view extra_key = {}, std::string_view extra_value = {}) {
  if (labels.empty() && extra_key.empty()) return "";
  std::string out = "{";
  auto append = [&out](std::string_view key, std::string_view value) {
    if (out.size() > 1) out += ',';
    out.append(key);
    out += "=\"";
    out += Escape(value, /*escape_quote=*/true);
    out += '"';
  };
  for (const auto& [key, value] : labels) append(key, value);
  if (!extra_key.empty()) append(extra_key, extra_value);
  return out + "}";
}

void RenderHistogram(const std::string& name, const Labels& labels, const Histogram& histogram, std::string& out) {
  Histogram::Snapshot snapshot = histogram.TakeSnapshot();
  const std::vector<double>& bounds = histogram.upper_bounds();
  for (size_t i = 0; i < snapshot.cumulative_counts.size(); ++i) {
    std::string le = i < bounds.size() ? FormatDouble(bounds[i]) : "+Inf";
    out += name + "_bucket" + LabelText(labels, "le", le) + " " + std::to_string(snapshot.cumulative_counts[i]) + "\n";
  }
  out += name + "_sum" + LabelText(labels) + " " + FormatDouble(snapshot.sum) + "\n";
  out += name + "_count" + LabelText(labels) + " " + std::to_string(snapshot.count) + "\n";
}

}  // namespace

Histogram::Histogram(std::vector<double> upper_bounds)
    : upper_bounds_(std::move(upper_bounds)), bucket_counts_(upper_bounds_.size() + 1) {
  for (size_t i = 0; i < upper_bounds_.size(); ++i) {
    if (!std::isfinite(upper_bounds_[i])) DieOnMisuse("histogram upper bound " + std::to_string(i) + " is not finite");
    if (i > 0 && !(upper_bounds_[i - 1] < upper_bounds_[i])) {
      DieOnMisuse("histogram upper bounds are not strictly increasing at index " + std::to_string(i));
    }
  }
}

void Histogram::Observe(double value) {
  // The first bucket whose bound is >= value. Every comparison with NaN is false, so NaN
  // passes all bounds and lands in +Inf.
  auto bucket = std::partition_point(upper_bounds_.begin(), upper_bounds_.end(),
                                     [value](double bound) { return !(bound >= value); });
  bucket_counts_[static_cast<size_t>(bucket - upper_bounds_.begin())].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::TakeSnapshot() const {
  Snapshot snapshot;
  snapshot.cumulative_counts.reserve(bucket_counts_.size());
  for (const std::atomic<uint64_t>& bucket : bucket_counts_) {
    snapshot.count += bucket.load(std::memory_order_relaxed);
    snapshot.cumulative_counts.push_back(snapshot.count);
  }
  snapshot.sum = sum_.load(std::memory_order_relaxed);
  return snapshot;
}

std::vector<double> LatencySecondsBuckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

MetricsRegistry::Series& MetricsRegistry::SeriesFor(std::string_view name, std::string_view help, MetricType type,
                                                    Labels labels) {
  if (!IsValidMetricName(name)) DieOnMisuse("\"" + std::string(name) + "\" is not a valid metric name");
  CheckLabels(name, labels, type == MetricType::kHistogram);
  auto family = std::find_if(families_.begin(), families_.end(), [name](const Family& f) { return f.name == name; });
  if (family == families_.end()) {
    families_.push_back(Family{std::string(name), std::string(help), type, {}});
    family = families_.end() - 1;
  } else if (family->type != type) {
    DieOnMisuse(std::string(name) + " is already registered as another metric type");
  } else if (family->help != help) {
    DieOnMisuse(std::string(name) + " is already registered with other help text");
  }
  auto series = std::find_if(family->series.begin(), family->series.end(),
                             [&labels](const Series& s) { return s.labels == labels; });
  if (series != family->series.end()) return *series;
  family->series.push_back(Series{std::move(labels), std::monostate{}});
  return family->series.back();
}

Counter& MetricsRegistry::AddCounter(std::string_view name, std::string_view help, Labels labels) {
  std::lock_guard lock(mu_);
  Series& series = SeriesFor(name, help, MetricType::kCounter, std::move(labels));
  if (std::holds_alternative<std::monostate>(series.value)) series.value = std::make_unique<Counter>();
  return *std::get<std::unique_ptr<Counter>>(series.value);
}

Gauge& MetricsRegistry::AddGauge(std::string_view name, std::string_view help, Labels labels) {
  std::lock_guard lock(mu_);
  Series& series = SeriesFor(name, help, MetricType::kGauge, std::move(labels));
  if (std::holds_alternative<std::monostate>(series.value)) series.value = std::make_unique<Gauge>();
  auto* gauge = std::get_if<std::unique_ptr<Gauge>>(&series.value);
  if (gauge == nullptr) DieOnMisuse(std::string(name) + ": this label set is already a callback gauge");
  return **gauge;
}

Histogram& MetricsRegistry::AddHistogram(std::string_view name, std::string_view help,
                                         std::vector<double> upper_bounds, Labels labels) {
  std::lock_guard lock(mu_);
  Series& series = SeriesFor(name, help, MetricType::kHistogram, std::move(labels));
  if (std::holds_alternative<std::monostate>(series.value)) {
    series.value = std::make_unique<Histogram>(std::move(upper_bounds));
  } else if (std::get<std::unique_ptr<Histogram>>(series.value)->upper_bounds() != upper_bounds) {
    DieOnMisuse(std::string(name) + " is already registered with other bucket bounds");
  }
  Histogram& histogram = *std::get<std::unique_ptr<Histogram>>(series.value);
  return histogram;
}

void MetricsRegistry::AddCallbackGauge(std::string_view name, std::string_view help, std::function<double()> read,
                                       Labels labels) {
  std::lock_guard lock(mu_);
  Series& series = SeriesFor(name, help, MetricType::kGauge, std::move(labels));
  if (!std::holds_alternative<std::monostate>(series.value)) {
    DieOnMisuse(std::string(name) + ": this label set is already registered");
  }
  series.value = std::move(read);
}

void MetricsRegistry::RenderFamily(const Family& family, std::string& out) const {
  out += "# HELP " + family.name + " " + Escape(family.help, /*escape_quote=*/false) + "\n";
  std::string_view type_name;
  switch (family.type) {
    case MetricType::kCounter: type_name = "counter"; break;
    case MetricType::kGauge: type_name = "gauge"; break;
    case MetricType::kHistogram: type_name = "histogram"; break;
  }
  out += "# TYPE " + family.name + " " + std::string(type_name) + "\n";
  for (const Series& series : family.series) {
    if (const auto* histogram = std::get_if<std::unique_ptr<Histogram>>(&series.value)) {
      RenderHistogram(family.name, series.labels, **histogram, out);
      continue;
    }
    std::string value;
    if (const auto* counter = std::get_if<std::unique_ptr<Counter>>(&series.value)) {
      value = std::to_string((*counter)->value());
    } else if (const auto* gauge = std::get_if<std::unique_ptr<Gauge>>(&series.value)) {
      value = FormatDouble((*gauge)->value());
    } else if (const auto* read = std::get_if<std::function<double()>>(&series.value)) {
      value = FormatDouble((*read)());
    }
    out += family.name + LabelText(series.labels) + " " + value + "\n";
  }
}

std::string MetricsRegistry::RenderPrometheus() const {
  std::lock_guard lock(mu_);
  std::string out;
  for (const Family& family : families_) RenderFamily(family, out);
  return out;
}

}  // namespace pqflow::server
