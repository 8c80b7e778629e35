// The scheduler's metrics, end to end: two manual runs (one succeeds; one
// fails after a skip and a retry) through the real scheduler, driver, local
// executor, DAG registry and store, wired with DwfsMetrics as `dwfs
// scheduler` wires it, then /metrics's text parsed back. The metrics' clock
// is a fixed fake, so every duration is exactly 0: counts, sums and buckets
// are exact, and nothing depends on timing.
#include <chrono>

#include "dwfs/dwfs_metrics.h"
#include "prometheus_text.h"
#include "scheduler_harness.h"

namespace dwfs {
namespace scheduler_test {
namespace {

class SchedulerMetricsTest : public SchedulerTest {
 protected:
  SchedulerMetricsTest() {
    metrics_.now = [] { return DwfsMetrics::TimePoint(std::chrono::seconds(1000)); };
  }

  PromText Scrape() {
    PromText p;
    std::string error;
    EXPECT_TRUE(ParsePrometheusText(metrics_.Render(), &p, &error)) << error;
    return p;
  }

  MetricsRegistry registry_;
  DwfsMetrics metrics_{registry_};
};

TEST_F(SchedulerMetricsTest, RunsTriesDurationsDelaysAndGauges) {
  WriteDag("s.yaml", DagYaml("s", "schedule: null\n", kTwoTasks));
  WriteDag("m.yaml", DagYaml("m", "schedule: null\n",
                             "  - task_id: ok\n"
                             "    bash_command: \"true\"\n"
                             "  - task_id: skip\n"
                             "    upstream: [ok]\n"
                             "    bash_command: \"exit 99\"\n"
                             "  - task_id: bad\n"
                             "    bash_command: \"exit 1\"\n"
                             "    retries: 1\n"
                             "    retry_delay: 0s\n"));
  WriteDag("broken.yaml", "dag_id: [unclosed\n");
  auto h = MakeHarness("host-a", 10, &metrics_);
  ASSERT_TRUE(h->scheduler().Start().ok());
  EXPECT_EQ(h->scheduler().metrics(), &metrics_);
  CreateManualRun("s");
  CreateManualRun("m");
  h->scheduler().RunOnce();
  ASSERT_TRUE(h->RunUntil([&] { return Finished("s", 1) && Finished("m", 1) && h->scheduler().active_runs() == 0; }));
  ASSERT_EQ(Runs("s")[0].state, RunState::kSuccess);
  ASSERT_EQ(Runs("m")[0].state, RunState::kFailed);

  PromText p = Scrape();
  EXPECT_EQ(p.Value("dwfs_dag_runs_finished_total", {{"state", "success"}}), 1.0);
  EXPECT_EQ(p.Value("dwfs_dag_runs_finished_total", {{"state", "failed"}}), 1.0);
  EXPECT_EQ(p.Value("dwfs_dag_runs_running"), 0.0);
  // s: a, b; m: ok, skip (exit 99), bad (up_for_retry, then failed).
  EXPECT_EQ(p.Value("dwfs_task_tries_finished_total", {{"state", "success"}}), 3.0);
  EXPECT_EQ(p.Value("dwfs_task_tries_finished_total", {{"state", "skipped"}}), 1.0);
  EXPECT_EQ(p.Value("dwfs_task_tries_finished_total", {{"state", "up_for_retry"}}), 1.0);
  EXPECT_EQ(p.Value("dwfs_task_tries_finished_total", {{"state", "failed"}}), 1.0);
  EXPECT_EQ(p.Sum("dwfs_task_tries_finished_total"), 6.0);
  // Every try had a duration and a scheduling delay (every one a process),
  // all 0 on the fixed clock: in the lowest bucket.
  for (const char* name : {"dwfs_task_duration_seconds", "dwfs_task_scheduling_delay_seconds"}) {
    EXPECT_EQ(p.Value(std::string(name) + "_count"), 6.0) << name;
    EXPECT_EQ(p.Value(std::string(name) + "_sum"), 0.0) << name;
    EXPECT_EQ(p.Value(std::string(name) + "_bucket", {{"le", "+Inf"}}), 6.0) << name;
  }
  EXPECT_EQ(p.Value("dwfs_task_duration_seconds_bucket", {{"le", "0.1"}}), 6.0);
  EXPECT_EQ(p.Value("dwfs_task_scheduling_delay_seconds_bucket", {{"le", "0.001"}}), 6.0);
  EXPECT_EQ(p.Value("dwfs_executor_queued_tasks"), 0.0);
  EXPECT_EQ(p.Value("dwfs_executor_running_tasks"), 0.0);
  // One loop per RunOnce; the folder was parsed once (no watcher here).
  EXPECT_EQ(p.Value("dwfs_scheduler_loop_duration_seconds_count"), double(h->scheduler().loops()));
  EXPECT_GE(h->scheduler().loops(), 2);
  EXPECT_EQ(p.Value("dwfs_dag_parse_duration_seconds_count"), 1.0);
  EXPECT_EQ(p.Value("dwfs_dag_import_errors"), 1.0);
  EXPECT_EQ(p.Sum("dwfs_database_errors_total"), 0.0);
}

TEST_F(SchedulerMetricsTest, GaugesWhileTasksWaitForASlot) {
  // parallelism comes from the config's default (32); max_active_tasks 1
  // keeps one of the two independent tasks waiting for a slot.
  WriteDag("w.yaml", DagYaml("w", "schedule: null\nmax_active_tasks: 1\n",
                             "  - task_id: first\n"
                             "    bash_command: \"true\"\n"
                             "  - task_id: second\n"
                             "    bash_command: \"true\"\n"));
  auto h = MakeHarness("host-a", 10, &metrics_);
  ASSERT_TRUE(h->scheduler().Start().ok());
  CreateManualRun("w");
  h->scheduler().RunOnce();  // loads the run and starts one try
  PromText p = Scrape();
  EXPECT_EQ(p.Value("dwfs_dag_runs_running"), 1.0);
  EXPECT_EQ(p.Value("dwfs_executor_running_tasks"), 1.0);
  EXPECT_EQ(p.Value("dwfs_executor_queued_tasks"), 1.0);
  ASSERT_TRUE(h->RunUntil([&] { return Finished("w", 1) && h->scheduler().active_runs() == 0; }));
  p = Scrape();
  EXPECT_EQ(p.Value("dwfs_dag_runs_running"), 0.0);
  EXPECT_EQ(p.Value("dwfs_executor_running_tasks"), 0.0);
  EXPECT_EQ(p.Value("dwfs_executor_queued_tasks"), 0.0);
  EXPECT_EQ(p.Value("dwfs_task_tries_finished_total", {{"state", "success"}}), 2.0);
  EXPECT_EQ(p.Value("dwfs_task_scheduling_delay_seconds_count"), 2.0);
}

}  // namespace
}  // namespace scheduler_test
}  // namespace dwfs
