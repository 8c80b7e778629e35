// The scheduler in process (see scheduler_harness.h) where several parties
// meet: two schedulers on one database and one dags folder, a scheduler
// adopting the run of a dead one, and tasks deleted from the file of a live
// run. Tasks are real bash processes; no test sleeps.
#include <atomic>
#include <thread>

#include "scheduler_harness.h"

namespace dwfs {
namespace scheduler_test {
namespace {

TEST_F(SchedulerTest, TwoSchedulersRunEveryTaskExactlyOnce) {
  clock_.Set(At("2026-01-04T12:00:00"));  // three daily intervals: 01-01, 01-02, 01-03
  const int kDags = 20;
  for (int i = 0; i < kDags; ++i) {
    std::string id = "d" + std::to_string(100 + i);
    WriteDag(id + ".yaml", DagYaml(id, "schedule: \"@daily\"\nstart_date: 2026-01-01\ncatchup: true\n", kTwoTasks));
  }
  auto a = MakeHarness("host-a");
  auto b = MakeHarness("host-b");
  // b on a thread of its own, a on this one: both schedule at once.
  std::atomic<bool> stop{false};
  std::atomic<bool> b_started{false};
  std::thread other([&] {
    b_started = b->scheduler().Start().ok();
    while (!stop) b->Step(std::chrono::milliseconds(20));
  });
  ASSERT_TRUE(a->scheduler().Start().ok());
  bool done = a->RunUntil(
      [&] { return Count("SELECT count(*) FROM dag_run WHERE state IN ('success', 'failed')") == 3 * kDags; },
      std::chrono::seconds(120));
  stop = true;
  other.join();
  ASSERT_TRUE(b_started);
  ASSERT_TRUE(done) << Count("SELECT count(*) FROM dag_run") << " runs, "
                    << Count("SELECT count(*) FROM dag_run WHERE state IN ('success', 'failed')") << " finished";
  EXPECT_EQ(Count("SELECT count(*) FROM dag_run"), 3 * kDags);
  EXPECT_EQ(Count("SELECT count(*) FROM dag_run WHERE state = 'success'"), 3 * kDags);
  EXPECT_EQ(Count("SELECT count(*) FROM task_instance"), 2 * 3 * kDags);
  EXPECT_EQ(Count("SELECT count(*) FROM task_instance WHERE state = 'success'"), 2 * 3 * kDags);
  EXPECT_EQ(Count("SELECT count(*) FROM task_try"), 2 * 3 * kDags);
  EXPECT_EQ(Count("SELECT max(try_number) FROM task_instance"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM task_try WHERE try_number <> 1"), 0);
  RecordProperty("tries_by_host_b", int(Count("SELECT count(*) FROM task_try WHERE hostname = 'host-b'")));
}

TEST_F(SchedulerTest, AdoptsTheRunOfADeadScheduler) {
  const Instant now = clock_.Now();
  const Instant long_ago = now - Seconds(3600);
  std::string yaml = DagYaml("z", "schedule: null\n",
                             "  - task_id: t\n"
                             "    bash_command: \"true\"\n"
                             "    retries: 1\n"
                             "    retry_delay: 0s\n");
  std::string path = WriteDag("z.yaml", yaml);
  // What a scheduler on another host left behind when it died: a running
  // run it owns, one try running in a process there.
  Dag dag;
  ImportError err;
  ASSERT_TRUE(ParseDagText(yaml, path, DagDefaults(), &dag, &err)) << err.ToString();
  ASSERT_TRUE(check_->SyncDag(dag, yaml, false, long_ago, nullptr).ok());
  int64_t dead_id = 0;
  ASSERT_TRUE(check_->RegisterScheduler("other-host", 999999, "scheduler", long_ago, &dead_id).ok());
  RunInfo info;
  info.type = RunType::kManual;
  info.logical_date = long_ago;
  info.data_interval = {long_ago, long_ago};
  info.run_id = MakeRunId(RunType::kManual, long_ago);
  ASSERT_TRUE(check_->CreateRun("z", info, RunState::kRunning, long_ago, dead_id).ok());
  StoreBatch batch;
  TaskInstanceRecord ti;
  ti.dag_id = "z";
  ti.run_id = info.run_id;
  ti.task_id = "t";
  ti.ti.state = TaskState::kRunning;
  ti.ti.try_number = 1;
  ti.ti.max_tries = 2;
  ti.ti.start_date = long_ago;
  ti.hostname = "other-host";
  ti.pid = 999999;
  batch.instances.push_back(ti);
  TryRecord attempt;
  attempt.dag_id = "z";
  attempt.run_id = info.run_id;
  attempt.task_id = "t";
  attempt.try_number = 1;
  attempt.state = TaskState::kRunning;
  attempt.start_date = long_ago;
  attempt.hostname = "other-host";
  attempt.pid = 999999;
  batch.tries.push_back(attempt);
  std::set<std::string> lost;
  ASSERT_TRUE(check_->Apply(batch, dead_id, &lost).ok());
  ASSERT_TRUE(lost.empty());

  auto h = MakeHarness("host-a");
  ASSERT_TRUE(h->scheduler().Start().ok());
  ASSERT_TRUE(h->RunUntil([&] { return Finished("z", 1); }));

  std::vector<SchedulerRecord> schedulers;
  ASSERT_TRUE(check_->ListSchedulers(&schedulers).ok());
  for (const SchedulerRecord& s : schedulers) {
    if (s.id == dead_id) {
      EXPECT_EQ(s.state, "dead");
    }
  }
  RunRecord run;
  ASSERT_TRUE(check_->GetRun("z", info.run_id, &run).ok());
  EXPECT_EQ(run.state, RunState::kSuccess);
  EXPECT_EQ(run.owner, std::optional<int64_t>(h->scheduler().id()));
  auto tis = Instances("z", info.run_id);
  EXPECT_EQ(tis["t"].ti.state, TaskState::kSuccess);
  EXPECT_EQ(tis["t"].ti.try_number, 2);
  std::vector<TryRecord> tries = Tries("z", info.run_id, "t");
  ASSERT_EQ(tries.size(), 2u);
  EXPECT_EQ(tries[0].try_number, 1);
  EXPECT_EQ(tries[0].state, TaskState::kUpForRetry);  // the lost try counts
  EXPECT_TRUE(tries[0].end_date.has_value());
  EXPECT_EQ(tries[1].try_number, 2);
  EXPECT_EQ(tries[1].state, TaskState::kSuccess);
  EXPECT_EQ(tries[1].hostname, "host-a");
}

TEST_F(SchedulerTest, TasksDeletedFromALiveRunAreRemoved) {
  std::string release = dags_.path() + "/release";
  std::string wait_task =
      "  - task_id: wait\n"
      "    bash_command: \"while [ ! -e " + release + " ]; do sleep 0.05; done\"\n";
  const char kB[] =
      "  - task_id: b\n"
      "    upstream: [wait]\n"
      "    bash_command: \"true\"\n";
  const char kC[] =
      "  - task_id: c\n"
      "    upstream: [wait]\n"
      "    bash_command: \"true\"\n";
  WriteDag("w.yaml", DagYaml("w", "schedule: null\n", wait_task + kB + kC));
  auto h = MakeHarness();
  ASSERT_TRUE(h->scheduler().Start().ok());
  RunInfo info = CreateManualRun("w");
  h->scheduler().RunOnce();
  ASSERT_TRUE(h->RunUntil([&] { return Instances("w", info.run_id)["wait"].ti.state == TaskState::kRunning; }));

  // c leaves the file while `wait` still runs.
  WriteDag("w.yaml", DagYaml("w", "schedule: null\n", wait_task + kB));
  h->scheduler().FolderChanged();
  h->scheduler().RunOnce();
  ASSERT_TRUE(h->RunUntil([&] { return Instances("w", info.run_id)["c"].ti.state == TaskState::kRemoved; }));
  std::ofstream(release) << "go\n";
  ASSERT_TRUE(h->RunUntil([&] { return Finished("w", 1); }));

  auto tis = Instances("w", info.run_id);
  EXPECT_EQ(tis["wait"].ti.state, TaskState::kSuccess);
  EXPECT_EQ(tis["b"].ti.state, TaskState::kSuccess);
  EXPECT_EQ(tis["c"].ti.state, TaskState::kRemoved);
  EXPECT_TRUE(Tries("w", info.run_id, "c").empty());
  EXPECT_EQ(Runs("w")[0].state, RunState::kSuccess);
}

}  // namespace
}  // namespace scheduler_test
}  // namespace dwfs
