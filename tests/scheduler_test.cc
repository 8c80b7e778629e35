// The scheduler in process, wired as `dwfs scheduler` wires it (Engine,
// Store, RunRecorder, RunDriver, DagRegistry), on a private PostgreSQL
// database, a temporary dags folder and a FakeClock: catchup, end_date,
// max_active_runs, pausing, manual runs with conf, folder changes and
// retries (scheduler_recovery_test.cc: several schedulers, adoption, tasks
// removed from a live run). Tasks are real bash processes.
//
// No test sleeps: each drives the io_context until a condition read back
// from the store holds, with a generous deadline only as a failure guard.
#include "scheduler_harness.h"

namespace dwfs {
namespace scheduler_test {
namespace {

const char kDailyCatchup[] = "schedule: \"@daily\"\nstart_date: 2026-01-01\ncatchup: true\n";

TEST_F(SchedulerTest, CatchupCreatesEveryMissedInterval) {
  WriteDag("d.yaml", DagYaml("d", kDailyCatchup, kTwoTasks));
  auto h = MakeHarness();
  ASSERT_TRUE(h->scheduler().Start().ok());
  ASSERT_TRUE(h->RunUntil([&] { return Finished("d", 4); })) << Runs("d").size() << " runs";
  EXPECT_EQ(LogicalDates("d"), (std::vector<std::string>{"2026-01-01T00:00:00+00:00", "2026-01-02T00:00:00+00:00",
                                                         "2026-01-03T00:00:00+00:00", "2026-01-04T00:00:00+00:00"}));
  for (const RunRecord& r : Runs("d")) {
    EXPECT_EQ(r.info.run_id, MakeRunId(RunType::kScheduled, r.info.logical_date));
    EXPECT_EQ(r.info.run_id.rfind("scheduled__", 0), 0u) << r.info.run_id;
    EXPECT_EQ(r.info.type, RunType::kScheduled);
  }
  ExpectAllSucceededOnce("d", {"a", "b"});
  // Nothing more is due until 2026-01-06: more loops create nothing.
  h->scheduler().RunOnce();
  h->RunUntil([&] { return h->scheduler().active_runs() == 0; });
  EXPECT_EQ(Runs("d").size(), 4u);
}

TEST_F(SchedulerTest, CatchupWithFewRunsPerLoopStillCreatesAll) {
  WriteDag("d.yaml", DagYaml("d", kDailyCatchup, kTwoTasks));
  auto h = MakeHarness("host-a", /*max_dagruns_per_loop=*/2);
  ASSERT_TRUE(h->scheduler().Start().ok());
  EXPECT_LE(Runs("d").size(), 2u);  // the first loop made at most two
  ASSERT_TRUE(h->RunUntil([&] { return Finished("d", 4); })) << Runs("d").size() << " runs";
  EXPECT_GE(h->scheduler().loops(), 2);
  ExpectAllSucceededOnce("d", {"a", "b"});
}

TEST_F(SchedulerTest, NoCatchupRunsOnlyTheLatestInterval) {
  WriteDag("d.yaml", DagYaml("d", "schedule: \"@daily\"\nstart_date: 2026-01-01\ncatchup: false\n", kTwoTasks));
  auto h = MakeHarness();
  ASSERT_TRUE(h->scheduler().Start().ok());
  ASSERT_TRUE(h->RunUntil([&] { return Finished("d", 1); }));
  h->scheduler().RunOnce();
  h->RunUntil([&] { return h->scheduler().active_runs() == 0; });
  EXPECT_EQ(LogicalDates("d"), (std::vector<std::string>{"2026-01-04T00:00:00+00:00"}));
  ExpectAllSucceededOnce("d", {"a", "b"});
}

TEST_F(SchedulerTest, EndDateStopsTheSchedule) {
  WriteDag("d.yaml", DagYaml("d", std::string(kDailyCatchup) + "end_date: 2026-01-02\n", kTwoTasks));
  auto h = MakeHarness();
  ASSERT_TRUE(h->scheduler().Start().ok());
  ASSERT_TRUE(h->RunUntil([&] { return Finished("d", 2); }));
  h->scheduler().RunOnce();
  h->RunUntil([&] { return h->scheduler().active_runs() == 0; });
  EXPECT_EQ(LogicalDates("d"), (std::vector<std::string>{"2026-01-01T00:00:00+00:00", "2026-01-02T00:00:00+00:00"}));
  ExpectAllSucceededOnce("d", {"a", "b"});
  DagRecord rec;
  ASSERT_TRUE(check_->GetDag("d", &rec).ok());
  EXPECT_FALSE(rec.next_dagrun_check.has_value());  // never again
}

TEST_F(SchedulerTest, MaxActiveRunsOneRunsOneAtATime) {
  WriteDag("d.yaml", DagYaml("d", std::string(kDailyCatchup) + "max_active_runs: 1\n", kTwoTasks));
  auto h = MakeHarness();
  ASSERT_TRUE(h->scheduler().Start().ok());
  size_t max_running = 0;
  size_t max_active = 0;
  ASSERT_TRUE(h->RunUntil([&] {
    size_t running = Runs("d", RunState::kRunning).size();
    max_running = std::max(max_running, running);
    max_active = std::max(max_active, running + Runs("d", RunState::kQueued).size());
    return Finished("d", 4);
  }));
  EXPECT_EQ(max_running, 1u);
  EXPECT_EQ(max_active, 1u);
  ExpectAllSucceededOnce("d", {"a", "b"});
}

TEST_F(SchedulerTest, PausedDagGetsNoRunsAndUnpausingDoesNotBurst) {
  WriteDag("d.yaml", DagYaml("d",
                             "schedule: \"@daily\"\nstart_date: 2026-01-01\ncatchup: false\n"
                             "is_paused_upon_creation: true\n",
                             kTwoTasks));
  auto h = MakeHarness();
  ASSERT_TRUE(h->scheduler().Start().ok());
  for (int i = 0; i < 3; ++i) {
    h->scheduler().RunOnce();
    h->io().poll();
  }
  DagRecord rec;
  ASSERT_TRUE(check_->GetDag("d", &rec).ok());
  EXPECT_TRUE(rec.is_paused);
  EXPECT_TRUE(Runs("d").empty());

  clock_.Advance(Seconds(10 * 86400));  // 2026-01-15T12:00
  ASSERT_TRUE(check_->SetPaused("d", false, clock_.Now()).ok());
  h->scheduler().RunOnce();
  ASSERT_TRUE(h->RunUntil([&] { return Finished("d", 1); }));
  h->scheduler().RunOnce();
  h->RunUntil([&] { return h->scheduler().active_runs() == 0; });
  EXPECT_EQ(LogicalDates("d"), (std::vector<std::string>{"2026-01-14T00:00:00+00:00"}));
  ExpectAllSucceededOnce("d", {"a", "b"});
}

TEST_F(SchedulerTest, ManualRunWithConf) {
  WriteDag("m.yaml", DagYaml("m", "schedule: null\n",
                             "  - task_id: say\n"
                             "    bash_command: \"echo value={{ dag_run.conf.x }}\"\n"));
  auto h = MakeHarness();
  ASSERT_TRUE(h->scheduler().Start().ok());
  EXPECT_TRUE(Runs("m").empty());
  Json conf = Json::Object();
  conf.Set("x", Json("42"));
  RunInfo info = CreateManualRun("m", conf);
  h->scheduler().RunOnce();
  ASSERT_TRUE(h->RunUntil([&] { return Finished("m", 1); }));
  RunRecord run = Runs("m")[0];
  EXPECT_EQ(run.state, RunState::kSuccess);
  EXPECT_EQ(run.info.run_id, info.run_id);
  std::vector<TryRecord> tries = Tries("m", info.run_id, "say");
  ASSERT_EQ(tries.size(), 1u);
  EXPECT_EQ(tries[0].state, TaskState::kSuccess);
  ASSERT_FALSE(tries[0].log_path.empty());
  EXPECT_NE(ReadText(tries[0].log_path).find("value=42"), std::string::npos) << ReadText(tries[0].log_path);
}

TEST_F(SchedulerTest, FolderChangesWhileRunning) {
  const std::string catchup_head = std::string(kDailyCatchup);
  WriteDag("a.yaml", DagYaml("a", "schedule: null\n", kTwoTasks));
  auto h = MakeHarness();
  ASSERT_TRUE(h->scheduler().Start().ok());
  DagRecord rec;
  EXPECT_EQ(check_->GetDag("b", &rec).code(), Status::Code::kNotFound);

  // A new file: stored, and its runs made.
  std::string b_yaml = DagYaml("b", catchup_head, kTwoTasks);
  std::string b_path = WriteDag("b.yaml", b_yaml);
  h->scheduler().FolderChanged();
  h->scheduler().RunOnce();
  ASSERT_TRUE(h->RunUntil([&] { return Finished("b", 4); }));
  ExpectAllSucceededOnce("b", {"a", "b"});

  // Broken: an import error; the last good definition stays.
  WriteDag("b.yaml", "dag_id: b\ntasks: [unclosed\n");
  h->scheduler().FolderChanged();
  h->scheduler().RunOnce();
  std::vector<ImportErrorRecord> errors;
  ASSERT_TRUE(check_->ListImportErrors(&errors).ok());
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].filepath, b_path);
  ASSERT_TRUE(check_->GetDag("b", &rec).ok());
  EXPECT_TRUE(rec.is_active);
  EXPECT_EQ(rec.source, b_yaml);
  // Still scheduled from its last good definition.
  clock_.Advance(Seconds(86400));
  h->scheduler().RunOnce();
  ASSERT_TRUE(h->RunUntil([&] { return Finished("b", 5); }));

  // Removed: inactive, its runs kept.
  std::filesystem::remove(b_path);
  h->scheduler().FolderChanged();
  h->scheduler().RunOnce();
  ASSERT_TRUE(check_->GetDag("b", &rec).ok());
  EXPECT_FALSE(rec.is_active);
  ASSERT_TRUE(check_->ListImportErrors(&errors).ok());
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(Runs("b").size(), 5u);
  ASSERT_TRUE(check_->GetDag("a", &rec).ok());
  EXPECT_TRUE(rec.is_active);
  clock_.Advance(Seconds(86400));
  h->scheduler().RunOnce();
  h->RunUntil([&] { return h->scheduler().active_runs() == 0; });
  EXPECT_EQ(Runs("b").size(), 5u);
}

TEST_F(SchedulerTest, RetriesThenFails) {
  WriteDag("r.yaml", DagYaml("r", "schedule: null\n",
                             "  - task_id: bad\n"
                             "    bash_command: \"exit 1\"\n"
                             "    retries: 2\n"
                             "    retry_delay: 0s\n"));
  auto h = MakeHarness();
  ASSERT_TRUE(h->scheduler().Start().ok());
  RunInfo info = CreateManualRun("r");
  h->scheduler().RunOnce();
  ASSERT_TRUE(h->RunUntil([&] { return Finished("r", 1); }));
  EXPECT_EQ(Runs("r")[0].state, RunState::kFailed);
  auto tis = Instances("r", info.run_id);
  EXPECT_EQ(tis["bad"].ti.state, TaskState::kFailed);
  EXPECT_EQ(tis["bad"].ti.try_number, 3);
  std::vector<TryRecord> tries = Tries("r", info.run_id, "bad");
  ASSERT_EQ(tries.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(tries[size_t(i)].try_number, i + 1);
    EXPECT_EQ(tries[size_t(i)].state, i < 2 ? TaskState::kUpForRetry : TaskState::kFailed) << "try " << i + 1;
  }
}

}  // namespace
}  // namespace scheduler_test
}  // namespace dwfs
