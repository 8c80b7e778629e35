// MetricsRegistry: the exact text of each metric type (golden strings),
// escaping, value formatting, a round trip through a strict parser of the
// text format, concurrent updates summing exactly, and DwfsMetrics's
// families.
#include "dwfs/metrics.h"

#include <atomic>
#include <cmath>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "dwfs/dwfs_metrics.h"
#include "prometheus_text.h"

namespace dwfs {
namespace {

PromText Parse(const std::string& text) {
  PromText parsed;
  std::string error;
  EXPECT_TRUE(ParsePrometheusText(text, &parsed, &error)) << error << "\n" << text;
  return parsed;
}

TEST(MetricsTest, CounterGolden) {
  MetricsRegistry r;
  Counter& c = r.AddCounter("dwfs_things_total", "Things done.").Get();
  EXPECT_EQ(r.RenderPrometheus(),
            "# HELP dwfs_things_total Things done.\n"
            "# TYPE dwfs_things_total counter\n"
            "dwfs_things_total 0\n");
  c.Increment();
  c.Increment(2.5);
  c.Increment(-7);  // ignored: counters only go up
  EXPECT_EQ(c.value(), 3.5);
  EXPECT_EQ(r.RenderPrometheus(),
            "# HELP dwfs_things_total Things done.\n"
            "# TYPE dwfs_things_total counter\n"
            "dwfs_things_total 3.5\n");
}

TEST(MetricsTest, GaugeWithLabelsGoldenInLabelOrder) {
  MetricsRegistry r;
  Family<Gauge>& g = r.AddGauge("dwfs_pool_slots", "Slots by pool and kind.", {"pool", "kind"});
  EXPECT_EQ(r.RenderPrometheus(),
            "# HELP dwfs_pool_slots Slots by pool and kind.\n"
            "# TYPE dwfs_pool_slots gauge\n");
  g.WithLabels({"default", "used"}).Set(3);
  g.WithLabels({"big", "used"}).Set(10);
  g.WithLabels({"default", "free"}).Add(2);
  g.WithLabels({"default", "free"}).Add(-0.5);
  EXPECT_EQ(&g.WithLabels({"big", "used"}), &g.WithLabels({"big", "used"}));  // one child per label set
  EXPECT_EQ(r.RenderPrometheus(),
            "# HELP dwfs_pool_slots Slots by pool and kind.\n"
            "# TYPE dwfs_pool_slots gauge\n"
            "dwfs_pool_slots{pool=\"big\",kind=\"used\"} 10\n"
            "dwfs_pool_slots{pool=\"default\",kind=\"free\"} 1.5\n"
            "dwfs_pool_slots{pool=\"default\",kind=\"used\"} 3\n");
}

TEST(MetricsTest, HistogramGoldenCumulativeWithInf) {
  MetricsRegistry r;
  Family<Histogram>& f = r.AddHistogram("dwfs_wait_seconds", "Waits.", {0.5, 1, 10}, {"dag"});
  Histogram& h = f.WithLabels({"d"});
  for (double v : {0.25, 0.5, 2.0, 100.0}) h.Observe(v);  // 0.5 is in le="0.5": bounds are inclusive
  EXPECT_EQ(h.count(), 4u);
  EXPECT_EQ(h.BucketCounts(), (std::vector<uint64_t>{2, 0, 1, 1}));
  EXPECT_EQ(r.RenderPrometheus(),
            "# HELP dwfs_wait_seconds Waits.\n"
            "# TYPE dwfs_wait_seconds histogram\n"
            "dwfs_wait_seconds_bucket{dag=\"d\",le=\"0.5\"} 2\n"
            "dwfs_wait_seconds_bucket{dag=\"d\",le=\"1\"} 2\n"
            "dwfs_wait_seconds_bucket{dag=\"d\",le=\"10\"} 3\n"
            "dwfs_wait_seconds_bucket{dag=\"d\",le=\"+Inf\"} 4\n"
            "dwfs_wait_seconds_sum{dag=\"d\"} 102.75\n"
            "dwfs_wait_seconds_count{dag=\"d\"} 4\n");
}

TEST(MetricsTest, HistogramWithoutLabelsStartsAtZero) {
  MetricsRegistry r;
  r.AddHistogram("dwfs_loop_seconds", "Loops.", {0.001, 0.25});
  EXPECT_EQ(r.RenderPrometheus(),
            "# HELP dwfs_loop_seconds Loops.\n"
            "# TYPE dwfs_loop_seconds histogram\n"
            "dwfs_loop_seconds_bucket{le=\"0.001\"} 0\n"
            "dwfs_loop_seconds_bucket{le=\"0.25\"} 0\n"
            "dwfs_loop_seconds_bucket{le=\"+Inf\"} 0\n"
            "dwfs_loop_seconds_sum 0\n"
            "dwfs_loop_seconds_count 0\n");
}

TEST(MetricsTest, HistogramPutsNaNInInf) {
  MetricsRegistry r;
  Histogram& h = r.AddHistogram("dwfs_n_seconds", "N.", {1}).Get();
  h.Observe(NAN);
  h.Observe(-5);  // below every bound: the first bucket
  EXPECT_EQ(h.BucketCounts(), (std::vector<uint64_t>{1, 1}));
  EXPECT_EQ(h.count(), 2u);
  EXPECT_TRUE(std::isnan(h.sum()));
}

TEST(MetricsTest, EscapesLabelValuesAndHelp) {
  MetricsRegistry r;
  r.AddCounter("dwfs_odd_total", "A \\ backslash\nand a \"quote\".", {"v"})
      .WithLabels({"a\\b\"c\nd"})
      .Increment();
  EXPECT_EQ(r.RenderPrometheus(),
            "# HELP dwfs_odd_total A \\\\ backslash\\nand a \"quote\".\n"
            "# TYPE dwfs_odd_total counter\n"
            "dwfs_odd_total{v=\"a\\\\b\\\"c\\nd\"} 1\n");
  PromText parsed = Parse(r.RenderPrometheus());
  EXPECT_EQ(parsed.help["dwfs_odd_total"], "A \\ backslash\nand a \"quote\".");
  EXPECT_EQ(parsed.Value("dwfs_odd_total", {{"v", "a\\b\"c\nd"}}), 1.0);
}

TEST(MetricsTest, FormatsValues) {
  EXPECT_EQ(FormatMetricValue(0), "0");
  EXPECT_EQ(FormatMetricValue(3), "3");
  EXPECT_EQ(FormatMetricValue(-2), "-2");
  EXPECT_EQ(FormatMetricValue(0.25), "0.25");
  EXPECT_EQ(FormatMetricValue(0.1), "0.1");
  EXPECT_EQ(FormatMetricValue(1e6), "1e+06");
  EXPECT_EQ(FormatMetricValue(123456789), "123456789");
  EXPECT_EQ(FormatMetricValue(INFINITY), "+Inf");
  EXPECT_EQ(FormatMetricValue(-INFINITY), "-Inf");
  EXPECT_EQ(FormatMetricValue(NAN), "NaN");
}

TEST(MetricsTest, WrongNumberOfLabelValuesIsPadded) {
  MetricsRegistry r;
  Family<Counter>& f = r.AddCounter("dwfs_x_total", "X.", {"a", "b"});
  f.WithLabels({"1"}).Increment();
  f.WithLabels({"1", "", "extra"}).Increment();
  EXPECT_EQ(f.WithLabels({"1", ""}).value(), 2);
}

TEST(MetricsDeathTest, MisuseAtRegistrationAborts) {
  MetricsRegistry r;
  r.AddGauge("dwfs_once", "Once.");
  EXPECT_DEATH(r.AddCounter("dwfs_once", "Twice."), "dwfs_once registered twice");
  EXPECT_DEATH(r.AddCounter("dwfs bad", "Bad."), "invalid metric name");
  EXPECT_DEATH(r.AddHistogram("dwfs_h", "H.", {1}, {"le"}), "invalid label name 'le'");
  EXPECT_DEATH(r.AddHistogram("dwfs_h", "H.", {2, 1}), "strictly increasing");
}

TEST(MetricsTest, RoundTripThroughTheParser) {
  MetricsRegistry r;
  r.AddCounter("dwfs_a_total", "A.", {"state"}).WithLabels({"success"}).Increment(7);
  r.AddGauge("dwfs_b", "B.").Get().Set(-1.25);
  Histogram& h = r.AddHistogram("dwfs_c_seconds", "C.", {0.1, 1}).Get();
  h.Observe(0.0625);
  h.Observe(3);
  std::string text = r.RenderPrometheus();
  PromText p = Parse(text);
  EXPECT_EQ(p.type, (std::map<std::string, std::string>{
                        {"dwfs_a_total", "counter"}, {"dwfs_b", "gauge"}, {"dwfs_c_seconds", "histogram"}}));
  EXPECT_EQ(p.help["dwfs_c_seconds"], "C.");
  EXPECT_EQ(p.Value("dwfs_a_total", {{"state", "success"}}), 7.0);
  EXPECT_EQ(p.Value("dwfs_b"), -1.25);
  EXPECT_EQ(p.Value("dwfs_c_seconds_bucket", {{"le", "0.1"}}), 1.0);
  EXPECT_EQ(p.Value("dwfs_c_seconds_bucket", {{"le", "1"}}), 1.0);
  EXPECT_EQ(p.Value("dwfs_c_seconds_bucket", {{"le", "+Inf"}}), 2.0);
  EXPECT_EQ(p.Value("dwfs_c_seconds_sum"), 3.0625);
  EXPECT_EQ(p.Value("dwfs_c_seconds_count"), 2.0);
  EXPECT_EQ(p.samples.size(), 7u);

  // The parser is strict: a sample of an undeclared family, or a series
  // twice, is refused.
  PromText bad;
  std::string error;
  EXPECT_FALSE(ParsePrometheusText("dwfs_z 1\n", &bad, &error));
  EXPECT_FALSE(ParsePrometheusText(text + "dwfs_b -1.25\n", &bad, &error));
  EXPECT_FALSE(ParsePrometheusText("# TYPE dwfs_q gauge\ndwfs_q{a=\"x} 1\n", &bad, &error));
}

TEST(MetricsTest, ConcurrentUpdatesSumExactly) {
  MetricsRegistry r;
  Family<Counter>& counters = r.AddCounter("dwfs_c_total", "C.", {"worker"});
  Counter& shared = r.AddCounter("dwfs_shared_total", "Shared.").Get();
  Gauge& gauge = r.AddGauge("dwfs_g", "G.").Get();
  Histogram& hist = r.AddHistogram("dwfs_h_seconds", "H.", {1, 2}).Get();
  constexpr int kThreads = 8;
  constexpr int kEach = 20000;
  std::atomic<bool> done{false};
  std::thread renderer([&] {  // renders while the others write (a data race would show under TSan/ASan)
    while (!done.load()) {
      std::string error;
      PromText p;
      EXPECT_TRUE(ParsePrometheusText(r.RenderPrometheus(), &p, &error)) << error;
    }
  });
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        counters.WithLabels({std::to_string(i % 4)}).Increment();  // label sets created concurrently
        shared.Increment();
        gauge.Add(t % 2 == 0 ? 2 : -1);
        hist.Observe(double(i % 3));  // 0, 1, 2: le="1" twice, le="2" once
      }
    });
  }
  for (std::thread& t : threads) t.join();
  done = true;
  renderer.join();
  EXPECT_EQ(shared.value(), double(kThreads * kEach));
  EXPECT_EQ(gauge.value(), double(kThreads / 2 * kEach * 2 - kThreads / 2 * kEach));
  for (int w = 0; w < 4; ++w) EXPECT_EQ(counters.WithLabels({std::to_string(w)}).value(), double(kThreads * kEach / 4));
  EXPECT_EQ(hist.count(), uint64_t(kThreads * kEach));
  PromText p = Parse(r.RenderPrometheus());
  EXPECT_EQ(p.Sum("dwfs_c_total"), double(kThreads * kEach));
  EXPECT_EQ(p.Value("dwfs_h_seconds_count"), double(kThreads * kEach));
  int zeros = 0, ones = 0, twos = 0;
  for (int i = 0; i < kEach; ++i) (i % 3 == 0 ? zeros : i % 3 == 1 ? ones : twos)++;
  EXPECT_EQ(p.Value("dwfs_h_seconds_bucket", {{"le", "1"}}), double(kThreads * (zeros + ones)));
  EXPECT_EQ(p.Value("dwfs_h_seconds_bucket", {{"le", "2"}}), double(kThreads * kEach));
  EXPECT_EQ(p.Value("dwfs_h_seconds_sum"), double(kThreads * (ones + 2 * twos)));
}

TEST(MetricsTest, DwfsFamiliesRenderWithKnownLabelsAtZero) {
  MetricsRegistry r;
  DwfsMetrics m(r);
  EXPECT_EQ(&m.registry(), &r);
  PromText p = Parse(m.Render());
  std::map<std::string, std::string> want = {
      {"dwfs_build_info", "gauge"},
      {"dwfs_dag_runs_finished_total", "counter"},
      {"dwfs_dag_runs_running", "gauge"},
      {"dwfs_task_tries_finished_total", "counter"},
      {"dwfs_task_duration_seconds", "histogram"},
      {"dwfs_task_scheduling_delay_seconds", "histogram"},
      {"dwfs_executor_queued_tasks", "gauge"},
      {"dwfs_executor_running_tasks", "gauge"},
      {"dwfs_scheduler_loop_duration_seconds", "histogram"},
      {"dwfs_dag_parse_duration_seconds", "histogram"},
      {"dwfs_dag_import_errors", "gauge"},
      {"dwfs_database_errors_total", "counter"},
      {"dwfs_api_requests_total", "counter"},
      {"dwfs_api_request_duration_seconds", "histogram"},
  };
  EXPECT_EQ(p.type, want);
  EXPECT_EQ(p.Value("dwfs_build_info", {{"version", DWFS_VERSION}}), 1.0);
  for (const char* s : {"success", "failed"}) EXPECT_EQ(p.Value("dwfs_dag_runs_finished_total", {{"state", s}}), 0.0);
  for (const char* s : {"success", "failed", "up_for_retry", "skipped"}) {
    EXPECT_EQ(p.Value("dwfs_task_tries_finished_total", {{"state", s}}), 0.0) << s;
  }
  EXPECT_EQ(p.Value("dwfs_task_duration_seconds_count"), 0.0);
  EXPECT_EQ(p.Sum("dwfs_database_errors_total"), 0.0);
  for (const auto& [name, help] : p.help) EXPECT_FALSE(help.empty()) << name;
}

}  // namespace
}  // namespace dwfs
