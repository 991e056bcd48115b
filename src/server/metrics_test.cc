#include "server/metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <thread>
#include <vector>

namespace pqflow::server {
namespace {

TEST(MetricsTest, EmptyRegistryRendersNothing) {
  MetricsRegistry registry;
  EXPECT_EQ(registry.RenderPrometheus(), "");
}

TEST(MetricsTest, Counter) {
  MetricsRegistry registry;
  Counter& requests = registry.AddCounter("pqflow_http_requests_total", "HTTP requests served.");
  requests.Inc();
  requests.Inc(41);
  EXPECT_EQ(requests.value(), 42u);
  EXPECT_EQ(registry.RenderPrometheus(),
            "# HELP pqflow_http_requests_total HTTP requests served.\n"
            "# TYPE pqflow_http_requests_total counter\n"
            "pqflow_http_requests_total 42\n");
}

TEST(MetricsTest, LabeledCounterFamilySharesOneHelpAndType) {
  MetricsRegistry registry;
  Counter& events = registry.AddCounter("pqflow_rows_written_total", "Rows written.", {{"stream", "events"}});
  Counter& logs = registry.AddCounter("pqflow_rows_written_total", "Rows written.", {{"stream", "logs"}});
  Counter& two_labels = registry.AddCounter("pqflow_rows_written_total", "Rows written.",
                                            {{"stream", "events"}, {"workspace", "42"}});
  events.Inc(10);
  logs.Inc(3);
  two_labels.Inc(7);
  // Adding an existing name and label set returns the same counter.
  Counter& events_again = registry.AddCounter("pqflow_rows_written_total", "Rows written.", {{"stream", "events"}});
  EXPECT_EQ(&events_again, &events);
  events_again.Inc();
  EXPECT_EQ(registry.RenderPrometheus(),
            "# HELP pqflow_rows_written_total Rows written.\n"
            "# TYPE pqflow_rows_written_total counter\n"
            "pqflow_rows_written_total{stream=\"events\"} 11\n"
            "pqflow_rows_written_total{stream=\"logs\"} 3\n"
            "pqflow_rows_written_total{stream=\"events\",workspace=\"42\"} 7\n");
}

TEST(MetricsTest, Gauge) {
  MetricsRegistry registry;
  Gauge& depth = registry.AddGauge("pqflow_queue_depth", "Batches waiting.");
  Gauge& ratio = registry.AddGauge("pqflow_ratio", "A ratio.", {{"kind", "a"}});
  Gauge& big = registry.AddGauge("pqflow_ratio", "A ratio.", {{"kind", "big"}});
  Gauge& tiny = registry.AddGauge("pqflow_ratio", "A ratio.", {{"kind", "tiny"}});
  depth.Set(5);
  depth.Add(-2);
  ratio.Set(0.25);
  ratio.Add(-1.5);
  big.Set(1e20);
  tiny.Set(1.5e-7);
  EXPECT_EQ(depth.value(), 3.0);
  EXPECT_EQ(registry.RenderPrometheus(),
            "# HELP pqflow_queue_depth Batches waiting.\n"
            "# TYPE pqflow_queue_depth gauge\n"
            "pqflow_queue_depth 3\n"
            "# HELP pqflow_ratio A ratio.\n"
            "# TYPE pqflow_ratio gauge\n"
            "pqflow_ratio{kind=\"a\"} -1.25\n"
            "pqflow_ratio{kind=\"big\"} 1e+20\n"
            "pqflow_ratio{kind=\"tiny\"} 1.5e-07\n");
}

TEST(MetricsTest, GaugeSpecialValues) {
  MetricsRegistry registry;
  registry.AddGauge("g", "h", {{"v", "nan"}}).Set(std::numeric_limits<double>::quiet_NaN());
  registry.AddGauge("g", "h", {{"v", "inf"}}).Set(std::numeric_limits<double>::infinity());
  registry.AddGauge("g", "h", {{"v", "-inf"}}).Set(-std::numeric_limits<double>::infinity());
  registry.AddGauge("g", "h", {{"v", "zero"}});
  EXPECT_EQ(registry.RenderPrometheus(),
            "# HELP g h\n"
            "# TYPE g gauge\n"
            "g{v=\"nan\"} NaN\n"
            "g{v=\"inf\"} +Inf\n"
            "g{v=\"-inf\"} -Inf\n"
            "g{v=\"zero\"} 0\n");
}

TEST(MetricsTest, CallbackGaugeIsReadAtEachScrape) {
  MetricsRegistry registry;
  double wal_bytes = 1024;
  registry.AddCallbackGauge("pqflow_wal_bytes", "Bytes in the write-ahead log.", [&wal_bytes] { return wal_bytes; });
  registry.AddCallbackGauge("pqflow_stream_lag_seconds", "Lag.", [] { return 0.5; }, {{"stream", "events"}});
  EXPECT_EQ(registry.RenderPrometheus(),
            "# HELP pqflow_wal_bytes Bytes in the write-ahead log.\n"
            "# TYPE pqflow_wal_bytes gauge\n"
            "pqflow_wal_bytes 1024\n"
            "# HELP pqflow_stream_lag_seconds Lag.\n"
            "# TYPE pqflow_stream_lag_seconds gauge\n"
            "pqflow_stream_lag_seconds{stream=\"events\"} 0.5\n");
  wal_bytes = 4096;
  EXPECT_NE(registry.RenderPrometheus().find("pqflow_wal_bytes 4096\n"), std::string::npos);
}

TEST(MetricsTest, HistogramBucketsAreCumulativeWithInfSumAndCount) {
  MetricsRegistry registry;
  Histogram& latency = registry.AddHistogram("pqflow_latency_seconds", "Latency.", {0.125, 0.5, 1});
  // 0.125 sits exactly on a bound: buckets are inclusive ("le").
  for (double v : {0.0625, 0.125, 0.25, 0.75, 2.0, 4.0}) latency.Observe(v);
  EXPECT_EQ(registry.RenderPrometheus(),
            "# HELP pqflow_latency_seconds Latency.\n"
            "# TYPE pqflow_latency_seconds histogram\n"
            "pqflow_latency_seconds_bucket{le=\"0.125\"} 2\n"
            "pqflow_latency_seconds_bucket{le=\"0.5\"} 3\n"
            "pqflow_latency_seconds_bucket{le=\"1\"} 4\n"
            "pqflow_latency_seconds_bucket{le=\"+Inf\"} 6\n"
            "pqflow_latency_seconds_sum 7.1875\n"
            "pqflow_latency_seconds_count 6\n");
  Histogram::Snapshot snapshot = latency.TakeSnapshot();
  EXPECT_EQ(snapshot.cumulative_counts, (std::vector<uint64_t>{2, 3, 4, 6}));
  EXPECT_EQ(snapshot.count, 6u);
  EXPECT_EQ(snapshot.sum, 7.1875);
}

TEST(MetricsTest, LabeledHistogramWithLatencyBuckets) {
  MetricsRegistry registry;
  Histogram& ingest = registry.AddHistogram("pqflow_request_seconds", "Request latency.", LatencySecondsBuckets(),
                                            {{"route", "/v1/ingest"}});
  registry.AddHistogram("pqflow_request_seconds", "Request latency.", LatencySecondsBuckets(), {{"route", "/v1/query"}});
  ingest.Observe(0.003);
  EXPECT_EQ(registry.RenderPrometheus(),
            "# HELP pqflow_request_seconds Request latency.\n"
            "# TYPE pqflow_request_seconds histogram\n"
            "pqflow_request_seconds_bucket{route=\"/v1/ingest\",le=\"0.0005\"} 0\n"
            "pqflow_request_seconds_bucket{route=\"/v1/ingest\",le=\"0.001\"} 0\n"
            "pqflow_request_seconds_bucket{route=\"/v1/ingest\",le=\"0.0025\"} 0\n"
            "pqflow_request_seconds_bucket{route=\"/v1/ingest\",le=\"0.005\"} 1\n"
            "pqflow_request_seconds_bucket{route=\"/v1/ingest\",le=\"0.01\"} 1\n"
            "pqflow_request_seconds_bucket{route=\"/v1/ingest\",le=\"0.025\"} 1\n"
            "pqflow_request_seconds_bucket{route=\"/v1/ingest\",le=\"0.05\"} 1\n"
            "pqflow_request_seconds_bucket{route=\"/v1/ingest\",le=\"0.1\"} 1\n"
            "pqflow_request_seconds_bucket{route=\"/v1/ingest\",le=\"0.25\"} 1\n"
            "pqflow_request_seconds_bucket{route=\"/v1/ingest\",le=\"0.5\"} 1\n"
            "pqflow_request_seconds_bucket{route=\"/v1/ingest\",le=\"1\"} 1\n"
            "pqflow_request_seconds_bucket{route=\"/v1/ingest\",le=\"2.5\"} 1\n"
            "pqflow_request_seconds_bucket{route=\"/v1/ingest\",le=\"5\"} 1\n"
            "pqflow_request_seconds_bucket{route=\"/v1/ingest\",le=\"10\"} 1\n"
            "pqflow_request_seconds_bucket{route=\"/v1/ingest\",le=\"+Inf\"} 1\n"
            "pqflow_request_seconds_sum{route=\"/v1/ingest\"} 0.003\n"
            "pqflow_request_seconds_count{route=\"/v1/ingest\"} 1\n"
            "pqflow_request_seconds_bucket{route=\"/v1/query\",le=\"0.0005\"} 0\n"
            "pqflow_request_seconds_bucket{route=\"/v1/query\",le=\"0.001\"} 0\n"
            "pqflow_request_seconds_bucket{route=\"/v1/query\",le=\"0.0025\"} 0\n"
            "pqflow_request_seconds_bucket{route=\"/v1/query\",le=\"0.005\"} 0\n"
            "pqflow_request_seconds_bucket{route=\"/v1/query\",le=\"0.01\"} 0\n"
            "pqflow_request_seconds_bucket{route=\"/v1/query\",le=\"0.025\"} 0\n"
            "pqflow_request_seconds_bucket{route=\"/v1/query\",le=\"0.05\"} 0\n"
            "pqflow_request_seconds_bucket{route=\"/v1/query\",le=\"0.1\"} 0\n"
            "pqflow_request_seconds_bucket{route=\"/v1/query\",le=\"0.25\"} 0\n"
            "pqflow_request_seconds_bucket{route=\"/v1/query\",le=\"0.5\"} 0\n"
            "pqflow_request_seconds_bucket{route=\"/v1/query\",le=\"1\"} 0\n"
            "pqflow_request_seconds_bucket{route=\"/v1/query\",le=\"2.5\"} 0\n"
            "pqflow_request_seconds_bucket{route=\"/v1/query\",le=\"5\"} 0\n"
            "pqflow_request_seconds_bucket{route=\"/v1/query\",le=\"10\"} 0\n"
            "pqflow_request_seconds_bucket{route=\"/v1/query\",le=\"+Inf\"} 0\n"
            "pqflow_request_seconds_sum{route=\"/v1/query\"} 0\n"
            "pqflow_request_seconds_count{route=\"/v1/query\"} 0\n");
}

TEST(MetricsTest, HistogramNanGoesToInfBucket) {
  Histogram histogram({1});
  histogram.Observe(0.5);
  histogram.Observe(std::numeric_limits<double>::quiet_NaN());
  Histogram::Snapshot snapshot = histogram.TakeSnapshot();
  EXPECT_EQ(snapshot.cumulative_counts, (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(snapshot.count, 2u);
  EXPECT_TRUE(std::isnan(snapshot.sum));
}

TEST(MetricsTest, EscapesLabelValuesAndHelp) {
  MetricsRegistry registry;
  registry.AddCounter("pqflow_errors_total", "Errors by path \\ reason.\nSecond line \"quoted\".",
                      {{"path", "C:\\data\\x"}, {"reason", "say \"no\"\nthen stop"}})
      .Inc();
  EXPECT_EQ(registry.RenderPrometheus(),
            "# HELP pqflow_errors_total Errors by path \\\\ reason.\\nSecond line \"quoted\".\n"
            "# TYPE pqflow_errors_total counter\n"
            "pqflow_errors_total{path=\"C:\\\\data\\\\x\",reason=\"say \\\"no\\\"\\nthen stop\"} 1\n");
}

TEST(MetricsTest, FamiliesRenderInRegistrationOrder) {
  MetricsRegistry registry;
  registry.AddGauge("zeta", "Z.");
  registry.AddCounter("alpha_total", "A.", {{"k", "2"}});
  registry.AddCounter("alpha_total", "A.", {{"k", "1"}});
  registry.AddGauge("mid", "M.");
  EXPECT_EQ(registry.RenderPrometheus(),
            "# HELP zeta Z.\n# TYPE zeta gauge\nzeta 0\n"
            "# HELP alpha_total A.\n# TYPE alpha_total counter\n"
            "alpha_total{k=\"2\"} 0\nalpha_total{k=\"1\"} 0\n"
            "# HELP mid M.\n# TYPE mid gauge\nmid 0\n");
}

TEST(MetricsTest, ConcurrentUpdatesAddUpExactly) {
  MetricsRegistry registry;
  Counter& counter = registry.AddCounter("c_total", "C.");
  Gauge& gauge = registry.AddGauge("g", "G.");
  Histogram& histogram = registry.AddHistogram("h", "H.", {1, 2});
  constexpr int kThreads = 8;
  constexpr int kIterations = 50000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kIterations; ++i) {
        counter.Inc();
        counter.Inc(2);
        gauge.Add(1);
        histogram.Observe(t % 2 == 0 ? 0.5 : 1.5);
        if (i % 10000 == 0) registry.RenderPrometheus();  // scrapes race with updates
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  constexpr uint64_t kTotal = uint64_t{kThreads} * kIterations;
  EXPECT_EQ(counter.value(), 3 * kTotal);
  EXPECT_EQ(gauge.value(), static_cast<double>(kTotal));
  Histogram::Snapshot snapshot = histogram.TakeSnapshot();
  EXPECT_EQ(snapshot.cumulative_counts, (std::vector<uint64_t>{kTotal / 2, kTotal, kTotal}));
  EXPECT_EQ(snapshot.count, kTotal);
  EXPECT_EQ(snapshot.sum, 0.5 * (kTotal / 2) + 1.5 * (kTotal / 2));
}

using MetricsDeathTest = ::testing::Test;

TEST_F(MetricsDeathTest, MisuseAbortsWithAMessage) {
  ::testing::FLAGS_gtest_death_test_style = "threadsafe";
  EXPECT_DEATH(MetricsRegistry().AddCounter("2xx_total", "h"), "\"2xx_total\" is not a valid metric name");
  EXPECT_DEATH(MetricsRegistry().AddCounter("bad-name", "h"), "not a valid metric name");
  EXPECT_DEATH(MetricsRegistry().AddCounter("c", "h", {{"bad-label", "v"}}), "label \"bad-label\" is not a valid");
  EXPECT_DEATH(MetricsRegistry().AddCounter("c", "h", {{"__name__", "v"}}), "is not a valid label name");
  EXPECT_DEATH(MetricsRegistry().AddCounter("c", "h", {{"k", "1"}, {"k", "2"}}), "label \"k\" appears twice");
  EXPECT_DEATH(MetricsRegistry().AddHistogram("h", "h", {1}, {{"le", "1"}}), "reserved for histogram buckets");
  EXPECT_DEATH(Histogram({1, 1}), "not strictly increasing at index 1");
  EXPECT_DEATH(Histogram({1, std::numeric_limits<double>::infinity()}), "upper bound 1 is not finite");
  EXPECT_DEATH(
      {
        MetricsRegistry registry;
        registry.AddCounter("x", "h");
        registry.AddGauge("x", "h");
      },
      "x is already registered as another metric type");
  EXPECT_DEATH(
      {
        MetricsRegistry registry;
        registry.AddCounter("x", "one");
        registry.AddCounter("x", "two", {{"k", "v"}});
      },
      "x is already registered with other help text");
  EXPECT_DEATH(
      {
        MetricsRegistry registry;
        registry.AddHistogram("x", "h", {1, 2});
        registry.AddHistogram("x", "h", {1, 3});
      },
      "x is already registered with other bucket bounds");
  EXPECT_DEATH(
      {
        MetricsRegistry registry;
        registry.AddCallbackGauge("x", "h", [] { return 1.0; });
        registry.AddGauge("x", "h");
      },
      "already a callback gauge");
  EXPECT_DEATH(
      {
        MetricsRegistry registry;
        registry.AddGauge("x", "h");
        registry.AddCallbackGauge("x", "h", [] { return 1.0; });
      },
      "this label set is already registered");
}

}  // namespace
}  // namespace pqflow::server
