// The PostgreSQL Store against a real server (TestDatabase): DAG sync,
// runs and the scheduling step, task instances, tries and XCom, scheduler
// instances, connections and variables, and its error messages.
#include "dwfs/store.h"

#include <gtest/gtest.h>

#include <pqxx/pqxx>

#include "dwfs/clock.h"
#include "test_database.h"

namespace dwfs {
namespace {

Instant At(const char* text) {
  Instant t;
  EXPECT_TRUE(ParseDateTime(text, TimeZone(), &t).ok()) << text;
  return t;
}

Dag MakeDag(const std::string& id, const std::string& schedule = "@daily") {
  Dag dag;
  dag.dag_id = id;
  dag.fileloc = "/dags/" + id + ".yaml";
  if (!schedule.empty()) {
    EXPECT_TRUE(Schedule::Parse(schedule, &dag.schedule).ok());
  }
  dag.tags = {"etl", "daily"};
  return dag;
}

RunInfo MakeRun(RunType type, const char* date) {
  RunInfo info;
  info.type = type;
  info.logical_date = At(date);
  info.data_interval = {info.logical_date, info.logical_date + Seconds(86400)};
  info.run_id = MakeRunId(type, info.logical_date);
  return info;
}

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!db_.available()) {
      if (!db_.configured()) GTEST_SKIP() << db_.error();
      FAIL() << db_.error();
    }
    store_ = db_.OpenStore();
    ASSERT_NE(store_, nullptr);
  }

  // Stores DAG `id` and returns it.
  Dag AddDag(const std::string& id, bool paused = false) {
    Dag dag = MakeDag(id);
    EXPECT_TRUE(store_->SyncDag(dag, "dag_id: " + id + "\n", paused, t0_, nullptr).ok());
    return dag;
  }

  TestDatabase db_;
  std::unique_ptr<Store> store_;
  Instant t0_ = At("2026-01-10T00:00:00Z");
};

TEST_F(StoreTest, SyncDagNewUnchangedChanged) {
  Dag dag = MakeDag("etl");
  bool changed = false;
  ASSERT_TRUE(store_->SyncDag(dag, "v1", false, t0_, &changed).ok());
  EXPECT_TRUE(changed);
  DagRecord rec;
  ASSERT_TRUE(store_->GetDag("etl", &rec).ok());
  EXPECT_EQ(rec.fileloc, "/dags/etl.yaml");
  EXPECT_EQ(rec.source, "v1");
  EXPECT_EQ(rec.source_hash.size(), 16u);
  EXPECT_EQ(rec.schedule, "@daily");
  EXPECT_EQ(rec.timezone, "UTC");
  EXPECT_EQ(rec.tags, (std::vector<std::string>{"etl", "daily"}));
  EXPECT_TRUE(rec.is_active);
  EXPECT_FALSE(rec.is_paused);
  EXPECT_EQ(rec.next_dagrun_check, t0_);
  EXPECT_EQ(rec.last_parsed, t0_);
  const std::string hash1 = rec.source_hash;

  // The scheduler moved the check; an unchanged reload keeps it.
  std::vector<RunRecord> started;
  bool locked = false;
  int64_t sched = 0;
  ASSERT_TRUE(store_->RegisterScheduler("h", 1, "scheduler", t0_, &sched).ok());
  ASSERT_TRUE(store_->ScheduleDag("etl", sched, 16, t0_, [&](const ScheduleView&) {
    SchedulePlan p;
    p.next_check = t0_ + Seconds(3600);
    return p;
  }, &locked, &started).ok());
  ASSERT_TRUE(locked);

  Instant t1 = t0_ + Seconds(60);
  ASSERT_TRUE(store_->SyncDag(dag, "v1", true, t1, &changed).ok());
  EXPECT_FALSE(changed);
  ASSERT_TRUE(store_->GetDag("etl", &rec).ok());
  EXPECT_EQ(rec.next_dagrun_check, t0_ + Seconds(3600));
  EXPECT_EQ(rec.last_parsed, t1);
  EXPECT_FALSE(rec.is_paused);  // paused_at_creation only applies to new DAGs

  Instant t2 = t0_ + Seconds(120);
  dag.tags = {"etl"};
  ASSERT_TRUE(store_->SyncDag(dag, "v2", false, t2, &changed).ok());
  EXPECT_TRUE(changed);
  ASSERT_TRUE(store_->GetDag("etl", &rec).ok());
  EXPECT_EQ(rec.source, "v2");
  EXPECT_NE(rec.source_hash, hash1);
  EXPECT_EQ(rec.next_dagrun_check, t2);
  EXPECT_EQ(rec.tags, std::vector<std::string>{"etl"});

  DagRecord missing;
  EXPECT_EQ(store_->GetDag("nope", &missing).code(), Status::Code::kNotFound);
}

TEST_F(StoreTest, PausedAtCreationSetPausedAndDueDags) {
  AddDag("a");
  AddDag("b", /*paused=*/true);
  DagRecord rec;
  ASSERT_TRUE(store_->GetDag("b", &rec).ok());
  EXPECT_TRUE(rec.is_paused);

  std::vector<std::string> due;
  ASSERT_TRUE(store_->DueDags(t0_, &due).ok());
  EXPECT_EQ(due, std::vector<std::string>{"a"});
  ASSERT_TRUE(store_->DueDags(t0_ - Seconds(1), &due).ok());
  EXPECT_TRUE(due.empty());
  std::optional<Instant> next;
  ASSERT_TRUE(store_->NextDueTime(&next).ok());
  EXPECT_EQ(next, t0_);

  Instant later = t0_ + Seconds(500);
  ASSERT_TRUE(store_->SetPaused("b", false, later).ok());
  ASSERT_TRUE(store_->GetDag("b", &rec).ok());
  EXPECT_FALSE(rec.is_paused);
  EXPECT_EQ(rec.next_dagrun_check, later);
  ASSERT_TRUE(store_->DueDags(later, &due).ok());
  EXPECT_EQ(due, (std::vector<std::string>{"a", "b"}));

  ASSERT_TRUE(store_->SetPaused("a", true, later).ok());
  ASSERT_TRUE(store_->DueDags(later, &due).ok());
  EXPECT_EQ(due, std::vector<std::string>{"b"});
  ASSERT_TRUE(store_->NextDueTime(&next).ok());
  EXPECT_EQ(next, later);
  EXPECT_EQ(store_->SetPaused("nope", true, later).code(), Status::Code::kNotFound);
}

TEST_F(StoreTest, DeactivateMissingKeepsHistoryAndReactivates) {
  Dag a = AddDag("a");
  AddDag("b");
  ASSERT_TRUE(store_->DeactivateMissing({"a"}).ok());
  std::vector<DagRecord> dags;
  ASSERT_TRUE(store_->ListDags(&dags).ok());
  ASSERT_EQ(dags.size(), 2u);
  EXPECT_EQ(dags[0].dag_id, "a");
  EXPECT_TRUE(dags[0].is_active);
  EXPECT_EQ(dags[1].dag_id, "b");
  EXPECT_FALSE(dags[1].is_active);
  std::vector<std::string> due;
  ASSERT_TRUE(store_->DueDags(t0_, &due).ok());
  EXPECT_EQ(due, std::vector<std::string>{"a"});

  bool changed = false;
  ASSERT_TRUE(store_->SyncDag(MakeDag("b"), "dag_id: b\n", false, t0_, &changed).ok());
  EXPECT_TRUE(changed);  // back from inactive
  ASSERT_TRUE(store_->DeactivateMissing({}).ok());
  ASSERT_TRUE(store_->ListDags(&dags).ok());
  EXPECT_FALSE(dags[0].is_active);
  EXPECT_FALSE(dags[1].is_active);
}

TEST_F(StoreTest, ImportErrorsAreReplaced) {
  ASSERT_TRUE(store_->ReplaceImportErrors({{"/dags/x.yaml", 3, "bad key", t0_}, {"/dags/a.yaml", std::nullopt, "unreadable", t0_}}).ok());
  std::vector<ImportErrorRecord> errors;
  ASSERT_TRUE(store_->ListImportErrors(&errors).ok());
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].filepath, "/dags/a.yaml");
  EXPECT_FALSE(errors[0].line.has_value());
  EXPECT_EQ(errors[1].line, 3);
  EXPECT_EQ(errors[1].error, "bad key");
  EXPECT_EQ(errors[1].timestamp, t0_);
  ASSERT_TRUE(store_->ReplaceImportErrors({{"/dags/y.yaml", 1, "cycle", t0_}}).ok());
  ASSERT_TRUE(store_->ListImportErrors(&errors).ok());
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].filepath, "/dags/y.yaml");
  ASSERT_TRUE(store_->ReplaceImportErrors({}).ok());
  ASSERT_TRUE(store_->ListImportErrors(&errors).ok());
  EXPECT_TRUE(errors.empty());
}

TEST_F(StoreTest, CreateRunRejectsDuplicatesAndWakesTheScheduler) {
  Dag dag = MakeDag("m", "");
  ASSERT_TRUE(store_->SyncDag(dag, "x", false, t0_, nullptr).ok());
  int64_t sched = 0;
  ASSERT_TRUE(store_->RegisterScheduler("h", 1, "scheduler", t0_, &sched).ok());
  bool locked = false;
  std::vector<RunRecord> started;
  ASSERT_TRUE(store_->ScheduleDag("m", sched, 16, t0_, [](const ScheduleView&) { return SchedulePlan{}; }, &locked,
                                  &started).ok());
  DagRecord rec;
  ASSERT_TRUE(store_->GetDag("m", &rec).ok());
  EXPECT_FALSE(rec.next_dagrun_check.has_value());

  RunInfo info = MakeRun(RunType::kManual, "2026-01-05");
  info.conf.Set("k", "v");
  Instant now = t0_ + Seconds(10);
  ASSERT_TRUE(store_->CreateRun("m", info, RunState::kQueued, now, std::nullopt).ok());
  ASSERT_TRUE(store_->GetDag("m", &rec).ok());
  EXPECT_EQ(rec.next_dagrun_check, now);

  RunRecord run;
  ASSERT_TRUE(store_->GetRun("m", info.run_id, &run).ok());
  EXPECT_EQ(run.info.type, RunType::kManual);
  EXPECT_EQ(run.state, RunState::kQueued);
  EXPECT_EQ(run.info.logical_date, info.logical_date);
  EXPECT_EQ(run.info.data_interval, info.data_interval);
  EXPECT_EQ(run.info.conf.Dump(), "{\"k\":\"v\"}");
  EXPECT_EQ(run.queued_at, now);
  EXPECT_FALSE(run.owner.has_value());

  Status st = store_->CreateRun("m", info, RunState::kQueued, now, std::nullopt);
  EXPECT_EQ(st.code(), Status::Code::kAlreadyExists);
  EXPECT_NE(st.message().find(info.run_id), std::string::npos) << st.message();
  RunInfo same_date = info;
  same_date.run_id = "manual_other";
  st = store_->CreateRun("m", same_date, RunState::kQueued, now, std::nullopt);
  EXPECT_EQ(st.code(), Status::Code::kAlreadyExists);
  EXPECT_NE(st.message().find("2026-01-05T00:00:00+00:00"), std::string::npos) << st.message();
  EXPECT_EQ(store_->CreateRun("nope", info, RunState::kQueued, now, std::nullopt).code(), Status::Code::kNotFound);
  EXPECT_EQ(store_->GetRun("m", "nope", &run).code(), Status::Code::kNotFound);
}

TEST_F(StoreTest, ListRunsNewestFirstWithFilter) {
  AddDag("d");
  ASSERT_TRUE(store_->CreateRun("d", MakeRun(RunType::kManual, "2026-01-02"), RunState::kQueued, t0_, std::nullopt).ok());
  ASSERT_TRUE(store_->CreateRun("d", MakeRun(RunType::kBackfill, "2026-01-03"), RunState::kRunning, t0_, std::nullopt).ok());
  ASSERT_TRUE(store_->CreateRun("d", MakeRun(RunType::kManual, "2026-01-01"), RunState::kQueued, t0_, std::nullopt).ok());
  std::vector<RunRecord> runs;
  ASSERT_TRUE(store_->ListRuns("d", std::nullopt, &runs).ok());
  ASSERT_EQ(runs.size(), 3u);
  EXPECT_EQ(runs[0].info.logical_date, At("2026-01-03"));
  EXPECT_EQ(runs[0].info.type, RunType::kBackfill);
  EXPECT_EQ(runs[0].start_date, t0_);
  EXPECT_EQ(runs[1].info.logical_date, At("2026-01-02"));
  EXPECT_EQ(runs[2].info.logical_date, At("2026-01-01"));
  ASSERT_TRUE(store_->ListRuns("d", RunState::kQueued, &runs).ok());
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0].info.logical_date, At("2026-01-02"));
  RunRecord run;
  ASSERT_TRUE(store_->FindRunAt("d", At("2026-01-01"), &run).ok());
  EXPECT_EQ(run.info.run_id, MakeRunId(RunType::kManual, At("2026-01-01")));
  EXPECT_EQ(store_->FindRunAt("d", At("2026-01-09"), &run).code(), Status::Code::kNotFound);
}

SchedulePlan ThreeRuns(const ScheduleView& view) {
  SchedulePlan plan;
  for (const char* d : {"2026-01-01", "2026-01-02", "2026-01-03"}) plan.create.push_back(MakeRun(RunType::kScheduled, d));
  plan.next_check = At("2026-01-11");
  plan.next_logical_date = At("2026-01-04");
  EXPECT_EQ(view.dag->dag_id, "s");
  return plan;
}

TEST_F(StoreTest, ScheduleDagCreatesRunsAndStartsUpToMaxActiveRuns) {
  AddDag("s");
  int64_t sched = 0;
  ASSERT_TRUE(store_->RegisterScheduler("h", 1, "scheduler", t0_, &sched).ok());
  bool locked = false;
  std::vector<RunRecord> started;
  ScheduleView seen;
  auto planner = [&](const ScheduleView& v) {
    seen = v;
    return ThreeRuns(v);
  };
  ASSERT_TRUE(store_->ScheduleDag("s", sched, 2, t0_, planner, &locked, &started).ok());
  EXPECT_TRUE(locked);
  EXPECT_FALSE(seen.latest_scheduled.has_value());
  EXPECT_EQ(seen.active_runs, 0);
  ASSERT_EQ(started.size(), 2u);
  EXPECT_EQ(started[0].info.logical_date, At("2026-01-01"));
  EXPECT_EQ(started[1].info.logical_date, At("2026-01-02"));
  EXPECT_EQ(started[0].state, RunState::kRunning);
  EXPECT_EQ(started[0].owner, sched);
  EXPECT_EQ(started[0].start_date, t0_);
  std::vector<RunRecord> queued;
  ASSERT_TRUE(store_->ListRuns("s", RunState::kQueued, &queued).ok());
  ASSERT_EQ(queued.size(), 1u);
  EXPECT_EQ(queued[0].info.logical_date, At("2026-01-03"));
  DagRecord rec;
  ASSERT_TRUE(store_->GetDag("s", &rec).ok());
  EXPECT_EQ(rec.next_dagrun_check, At("2026-01-11"));
  EXPECT_EQ(rec.next_logical_date, At("2026-01-04"));

  // Again: the same dates are skipped, nothing more starts.
  ASSERT_TRUE(store_->ScheduleDag("s", sched, 2, t0_, planner, &locked, &started).ok());
  EXPECT_TRUE(started.empty());
  EXPECT_EQ(seen.latest_scheduled, At("2026-01-03"));
  EXPECT_EQ(seen.active_runs, 3);
  std::vector<RunRecord> all;
  ASSERT_TRUE(store_->ListRuns("s", std::nullopt, &all).ok());
  EXPECT_EQ(all.size(), 3u);

  // The oldest finishes: the queued one starts.
  RunRecord done = all[2];
  done.state = RunState::kSuccess;
  done.end_date = t0_ + Seconds(5);
  std::set<std::string> lost;
  ASSERT_TRUE(store_->Apply(StoreBatch{{}, {}, {done}}, sched, &lost).ok());
  EXPECT_TRUE(lost.empty());
  ASSERT_TRUE(store_->ScheduleDag("s", sched, 2, t0_, planner, &locked, &started).ok());
  ASSERT_EQ(started.size(), 1u);
  EXPECT_EQ(started[0].info.logical_date, At("2026-01-03"));

  // Released runs are claimed by the next scheduler that looks.
  int64_t other = 0;
  ASSERT_TRUE(store_->RegisterScheduler("h2", 2, "scheduler", t0_, &other).ok());
  ASSERT_TRUE(store_->ReleaseRuns(sched).ok());
  ASSERT_TRUE(store_->ScheduleDag("s", other, 2, t0_, planner, &locked, &started).ok());
  ASSERT_EQ(started.size(), 2u);
  EXPECT_EQ(started[0].owner, other);
  std::vector<RunRecord> owned;
  ASSERT_TRUE(store_->OwnedRuns(other, &owned).ok());
  EXPECT_EQ(owned.size(), 2u);
  ASSERT_TRUE(store_->OwnedRuns(sched, &owned).ok());
  EXPECT_TRUE(owned.empty());
}

TEST_F(StoreTest, ScheduleDagSkipsADagLockedByAnotherScheduler) {
  AddDag("s");
  pqxx::connection holder(db_.url());
  pqxx::work tx(holder);
  tx.exec("SELECT dag_id FROM dag WHERE dag_id = 's' FOR UPDATE");
  bool called = false;
  bool locked = true;
  std::vector<RunRecord> started;
  ASSERT_TRUE(store_->ScheduleDag("s", 1, 2, t0_, [&](const ScheduleView& v) {
    called = true;
    return ThreeRuns(v);
  }, &locked, &started).ok());
  EXPECT_FALSE(locked);
  EXPECT_FALSE(called);
  EXPECT_TRUE(started.empty());
  tx.abort();
  std::vector<RunRecord> runs;
  ASSERT_TRUE(store_->ListRuns("s", std::nullopt, &runs).ok());
  EXPECT_TRUE(runs.empty());
  EXPECT_EQ(store_->ScheduleDag("nope", 1, 2, t0_, ThreeRuns, &locked, &started).code(), Status::Code::kNotFound);
}

TaskInstanceRecord Ti(const std::string& run_id, const std::string& task_id, TaskState state, int try_number) {
  TaskInstanceRecord t;
  t.dag_id = "s";
  t.run_id = run_id;
  t.task_id = task_id;
  t.ti.state = state;
  t.ti.try_number = try_number;
  t.ti.max_tries = 3;
  t.hostname = "host1";
  t.pid = 4242;
  t.pool = "default_pool";
  t.log_path = "/logs/" + task_id + ".log";
  return t;
}

TEST_F(StoreTest, ApplyWritesInstancesTriesAndXcomForOwnedRunsOnly) {
  AddDag("s");
  int64_t a = 0, b = 0;
  ASSERT_TRUE(store_->RegisterScheduler("h", 1, "scheduler", t0_, &a).ok());
  ASSERT_TRUE(store_->RegisterScheduler("h", 2, "scheduler", t0_, &b).ok());
  RunInfo r1 = MakeRun(RunType::kManual, "2026-01-01");
  RunInfo r2 = MakeRun(RunType::kManual, "2026-01-02");
  ASSERT_TRUE(store_->CreateRun("s", r1, RunState::kRunning, t0_, a).ok());
  ASSERT_TRUE(store_->CreateRun("s", r2, RunState::kRunning, t0_, b).ok());

  StoreBatch batch;
  batch.instances.push_back(Ti(r1.run_id, "extract", TaskState::kRunning, 1));
  batch.instances.push_back(Ti(r2.run_id, "extract", TaskState::kRunning, 1));
  TryRecord try1{"s", r1.run_id, "extract", 1, TaskState::kRunning, t0_, std::nullopt, "host1", 4242, "/l", ""};
  batch.tries.push_back(try1);
  std::set<std::string> lost;
  ASSERT_TRUE(store_->Apply(batch, a, &lost).ok());
  EXPECT_EQ(lost, std::set<std::string>{r2.run_id});
  std::vector<TaskInstanceRecord> tis;
  ASSERT_TRUE(store_->ListTaskInstances("s", r2.run_id, &tis).ok());
  EXPECT_TRUE(tis.empty());
  ASSERT_TRUE(store_->ListTaskInstances("s", r1.run_id, &tis).ok());
  ASSERT_EQ(tis.size(), 1u);
  EXPECT_EQ(tis[0].ti.state, TaskState::kRunning);
  EXPECT_EQ(tis[0].pid, 4242);
  EXPECT_EQ(tis[0].log_path, "/logs/extract.log");
  EXPECT_FALSE(tis[0].ti.xcom.has_value());

  // The try ends: instance and try are updated in place, the XCom saved.
  StoreBatch end;
  TaskInstanceRecord ti = Ti(r1.run_id, "extract", TaskState::kSuccess, 1);
  ti.ti.start_date = t0_;
  ti.ti.end_date = t0_ + Seconds(7);
  ti.duration = 7.5;
  ti.ti.xcom = "42";
  end.instances.push_back(ti);
  try1.state = TaskState::kSuccess;
  try1.end_date = t0_ + Seconds(7);
  end.tries.push_back(try1);
  ASSERT_TRUE(store_->Apply(end, a, &lost).ok());
  EXPECT_TRUE(lost.empty());
  ASSERT_TRUE(store_->ListTaskInstances("s", r1.run_id, &tis).ok());
  ASSERT_EQ(tis.size(), 1u);
  EXPECT_EQ(tis[0].ti.state, TaskState::kSuccess);
  EXPECT_EQ(tis[0].ti.end_date, t0_ + Seconds(7));
  EXPECT_EQ(tis[0].duration, 7.5);
  EXPECT_EQ(tis[0].ti.xcom, "42");
  std::vector<TryRecord> tries;
  ASSERT_TRUE(store_->ListTries("s", r1.run_id, "extract", &tries).ok());
  ASSERT_EQ(tries.size(), 1u);
  EXPECT_EQ(tries[0].state, TaskState::kSuccess);
  EXPECT_EQ(tries[0].end_date, t0_ + Seconds(7));
  std::optional<std::string> xcom;
  ASSERT_TRUE(store_->GetXcom("s", r1.run_id, "extract", &xcom).ok());
  EXPECT_EQ(xcom, "42");
  ASSERT_TRUE(store_->GetXcom("s", r1.run_id, "load", &xcom).ok());
  EXPECT_FALSE(xcom.has_value());

  // Without an owner every existing run is written; a missing run is lost.
  StoreBatch any;
  any.instances.push_back(Ti(r2.run_id, "extract", TaskState::kQueued, 0));
  any.instances.push_back(Ti("no_such_run", "extract", TaskState::kQueued, 0));
  ASSERT_TRUE(store_->Apply(any, std::nullopt, &lost).ok());
  EXPECT_EQ(lost, std::set<std::string>{"no_such_run"});
  ASSERT_TRUE(store_->ListTaskInstances("s", r2.run_id, &tis).ok());
  EXPECT_EQ(tis.size(), 1u);
}

TEST_F(StoreTest, ClearTaskInstancesReopensAFinishedRun) {
  AddDag("s");
  int64_t a = 0;
  ASSERT_TRUE(store_->RegisterScheduler("h", 1, "scheduler", t0_, &a).ok());
  RunInfo r1 = MakeRun(RunType::kManual, "2026-01-01");
  ASSERT_TRUE(store_->CreateRun("s", r1, RunState::kRunning, t0_, a).ok());
  StoreBatch batch;
  TaskInstanceRecord failed = Ti(r1.run_id, "t1", TaskState::kFailed, 3);
  failed.ti.end_date = t0_ + Seconds(30);
  failed.ti.reason = "exit 1";
  batch.instances.push_back(failed);
  batch.instances.push_back(Ti(r1.run_id, "t2", TaskState::kUpstreamFailed, 0));
  RunRecord run;
  ASSERT_TRUE(store_->GetRun("s", r1.run_id, &run).ok());
  run.state = RunState::kFailed;
  run.end_date = t0_ + Seconds(30);
  batch.runs.push_back(run);
  std::set<std::string> lost;
  ASSERT_TRUE(store_->Apply(batch, a, &lost).ok());
  ASSERT_TRUE(store_->GetRun("s", r1.run_id, &run).ok());
  EXPECT_EQ(run.state, RunState::kFailed);

  Instant now = t0_ + Seconds(100);
  ASSERT_TRUE(store_->ClearTaskInstances("s", r1.run_id, {"t1", "t2", "ghost"}, now).ok());
  ASSERT_TRUE(store_->GetRun("s", r1.run_id, &run).ok());
  EXPECT_EQ(run.state, RunState::kQueued);
  EXPECT_FALSE(run.end_date.has_value());
  EXPECT_FALSE(run.owner.has_value());
  std::vector<TaskInstanceRecord> tis;
  ASSERT_TRUE(store_->ListTaskInstances("s", r1.run_id, &tis).ok());
  ASSERT_EQ(tis.size(), 2u);
  EXPECT_EQ(tis[0].task_id, "t1");
  EXPECT_EQ(tis[0].ti.state, TaskState::kNone);
  EXPECT_EQ(tis[0].ti.try_number, 3);
  EXPECT_EQ(tis[0].ti.max_tries, 6);  // three more tries
  EXPECT_FALSE(tis[0].ti.end_date.has_value());
  EXPECT_EQ(tis[1].ti.state, TaskState::kNone);
  // The old owner's writes are now refused.
  ASSERT_TRUE(store_->Apply(batch, a, &lost).ok());
  EXPECT_EQ(lost, std::set<std::string>{r1.run_id});
  EXPECT_EQ(store_->ClearTaskInstances("s", "nope", {"t1"}, now).code(), Status::Code::kNotFound);
}

TEST_F(StoreTest, PreviousRunStates) {
  AddDag("s");
  RunInfo r1 = MakeRun(RunType::kManual, "2026-01-01");
  RunInfo r2 = MakeRun(RunType::kManual, "2026-01-02");
  ASSERT_TRUE(store_->CreateRun("s", r1, RunState::kRunning, t0_, std::nullopt).ok());
  ASSERT_TRUE(store_->CreateRun("s", r2, RunState::kRunning, t0_, std::nullopt).ok());
  StoreBatch batch;
  batch.instances.push_back(Ti(r1.run_id, "a", TaskState::kSuccess, 1));
  batch.instances.push_back(Ti(r1.run_id, "b", TaskState::kFailed, 1));
  ASSERT_TRUE(store_->Apply(batch, std::nullopt, nullptr).ok());
  std::map<std::string, TaskState> prev;
  ASSERT_TRUE(store_->PreviousRunStates("s", At("2026-01-02"), &prev).ok());
  EXPECT_EQ(prev, (std::map<std::string, TaskState>{{"a", TaskState::kSuccess}, {"b", TaskState::kFailed}}));
  ASSERT_TRUE(store_->PreviousRunStates("s", At("2026-01-01"), &prev).ok());
  EXPECT_TRUE(prev.empty());
  ASSERT_TRUE(store_->PreviousRunStates("s", At("2026-01-03"), &prev).ok());
  EXPECT_TRUE(prev.empty());  // the run before is 01-02, which has no instances yet
}

TEST_F(StoreTest, SchedulersHeartbeatDieAndTheirRunsAreAdopted) {
  AddDag("s");
  FakeClock clock(t0_);
  int64_t a = 0, b = 0;
  ASSERT_TRUE(store_->RegisterScheduler("host-a", 11, "scheduler", clock.Now(), &a).ok());
  ASSERT_TRUE(store_->RegisterScheduler("host-b", 12, "backfill", clock.Now(), &b).ok());
  EXPECT_NE(a, b);
  RunInfo r1 = MakeRun(RunType::kManual, "2026-01-01");
  ASSERT_TRUE(store_->CreateRun("s", r1, RunState::kRunning, clock.Now(), a).ok());

  clock.Advance(Seconds(20));
  ASSERT_TRUE(store_->Heartbeat(b, clock.Now()).ok());
  clock.Advance(Seconds(20));
  std::vector<SchedulerRecord> dead;
  ASSERT_TRUE(store_->MarkDeadSchedulers(clock.Now(), Seconds(30), &dead).ok());
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].id, a);
  EXPECT_EQ(dead[0].state, "dead");
  EXPECT_EQ(dead[0].hostname, "host-a");
  EXPECT_EQ(dead[0].latest_heartbeat, t0_);
  ASSERT_TRUE(store_->MarkDeadSchedulers(clock.Now(), Seconds(30), &dead).ok());
  EXPECT_TRUE(dead.empty());

  std::vector<RunRecord> adopted;
  ASSERT_TRUE(store_->AdoptRuns(b, &adopted).ok());
  ASSERT_EQ(adopted.size(), 1u);
  EXPECT_EQ(adopted[0].info.run_id, r1.run_id);
  EXPECT_EQ(adopted[0].owner, b);
  ASSERT_TRUE(store_->AdoptRuns(b, &adopted).ok());
  EXPECT_TRUE(adopted.empty());

  ASSERT_TRUE(store_->StopScheduler(b).ok());
  std::vector<SchedulerRecord> all;
  ASSERT_TRUE(store_->ListSchedulers(&all).ok());
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].state, "dead");
  EXPECT_EQ(all[1].state, "stopped");
  EXPECT_EQ(all[1].kind, "backfill");
  EXPECT_EQ(all[1].pid, 12);
  EXPECT_EQ(all[1].latest_heartbeat, t0_ + Seconds(20));
  EXPECT_EQ(store_->Heartbeat(999, clock.Now()).code(), Status::Code::kNotFound);
}

TEST_F(StoreTest, ConnectionsNeverShowTheirPassword) {
  Status st = store_->AddConnection("bad", "not a uri s3cr3t");
  EXPECT_EQ(st.code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(st.message().find("s3cr3t"), std::string::npos) << st.message();
  ASSERT_TRUE(store_->AddConnection("wh", "postgresql://etl:s3cr3t@db.example:5432/warehouse").ok());
  Connection c;
  ASSERT_TRUE(store_->GetConnection("wh", &c).ok());
  EXPECT_EQ(c.conn_id, "wh");
  EXPECT_EQ(c.password, "s3cr3t");
  EXPECT_EQ(c.host, "db.example");
  std::vector<Connection> all;
  ASSERT_TRUE(store_->ListConnections(&all).ok());
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].MaskedUri().find("s3cr3t"), std::string::npos) << all[0].MaskedUri();
  EXPECT_NE(all[0].MaskedUri().find("db.example"), std::string::npos) << all[0].MaskedUri();

  StoreConnectionSource source(store_.get());
  ASSERT_TRUE(source.Get("wh", &c).ok());
  st = source.Get("missing-db", &c);
  EXPECT_EQ(st.code(), Status::Code::kNotFound);
  EXPECT_EQ(st.message(), "connection 'missing-db' not found (set DWFS_CONN_MISSING_DB or add it with dwfs connections add)");
  ASSERT_TRUE(store_->DeleteConnection("wh").ok());
  EXPECT_EQ(store_->DeleteConnection("wh").code(), Status::Code::kNotFound);
  EXPECT_EQ(store_->GetConnection("wh", &c).code(), Status::Code::kNotFound);
}

TEST_F(StoreTest, VariablesCrud) {
  ASSERT_TRUE(store_->SetVariable("k", "v1").ok());
  ASSERT_TRUE(store_->SetVariable("k", "v2").ok());
  ASSERT_TRUE(store_->SetVariable("a", "it's \"quoted\"").ok());
  std::string value;
  ASSERT_TRUE(store_->GetVariable("k", &value).ok());
  EXPECT_EQ(value, "v2");
  std::map<std::string, std::string> all;
  ASSERT_TRUE(store_->ListVariables(&all).ok());
  EXPECT_EQ(all, (std::map<std::string, std::string>{{"a", "it's \"quoted\""}, {"k", "v2"}}));
  ASSERT_TRUE(store_->DeleteVariable("k").ok());
  EXPECT_EQ(store_->GetVariable("k", &value).code(), Status::Code::kNotFound);
  EXPECT_EQ(store_->DeleteVariable("k").code(), Status::Code::kNotFound);
}

TEST_F(StoreTest, ReconnectsOnceAfterTheConnectionDrops) {
  ASSERT_TRUE(store_->SetVariable("k", "v").ok());
  {
    pqxx::connection admin(db_.url());
    pqxx::nontransaction tx(admin);
    tx.exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()");
  }
  std::string value;
  Status st = store_->GetVariable("k", &value);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(value, "v");
}

TEST(StoreOpenTest, ErrorsNeverContainThePassword) {
  TestDatabase db;
  DWFS_REQUIRE_DB(db);
  // A wrong database name with a password (the test server trusts every
  // local user, so the password itself is not checked).
  std::string url = TestDatabase::WithDatabase(db.url(), "dwfs_no_such_db");
  size_t at = url.find('@');
  ASSERT_NE(at, std::string::npos);
  url.insert(at, ":Pa55w0rdXyz");
  std::unique_ptr<Store> store;
  Status st = Store::Open(url, &store);
  EXPECT_EQ(st.code(), Status::Code::kIOError);
  EXPECT_NE(st.message().find("cannot connect to the metadata database"), std::string::npos) << st.message();
  EXPECT_EQ(st.message().find("Pa55w0rdXyz"), std::string::npos) << st.message();
  EXPECT_EQ(st.message().find('\n'), std::string::npos) << st.message();

  st = Store::Open("postgresql://u:Pa55w0rdXyz@/x?host=/nonexistent-dwfs&port=1&bogus_option=Pa55w0rdXyz", &store);
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(st.message().find("Pa55w0rdXyz"), std::string::npos) << st.message();
}

TEST_F(StoreTest, BackfillClaimsCreateWaitForOwnersAndPark) {
  AddDag("b");
  int64_t sched = 0, bf = 0;
  ASSERT_TRUE(store_->RegisterScheduler("host-a", 11, "scheduler", t0_, &sched).ok());
  ASSERT_TRUE(store_->RegisterScheduler("host-b", 12, "backfill", t0_, &bf).ok());
  using Outcome = Store::ClaimOutcome;
  Outcome outcome;
  RunRecord run;
  // A new date: created, running, owned by the backfill.
  RunInfo d1 = MakeRun(RunType::kBackfill, "2026-01-01");
  ASSERT_TRUE(store_->ClaimBackfillRun("b", d1, {}, bf, 2, t0_, &outcome, &run).ok());
  EXPECT_EQ(outcome, Outcome::kCreated);
  EXPECT_EQ(run.state, RunState::kRunning);
  EXPECT_EQ(run.owner, bf);
  EXPECT_EQ(run.info.type, RunType::kBackfill);
  // The same date again (its own run): claimed, not created twice.
  ASSERT_TRUE(store_->ClaimBackfillRun("b", d1, {}, bf, 2, t0_, &outcome, &run).ok());
  EXPECT_EQ(outcome, Outcome::kClaimed);
  // A scheduler's running run: busy; and it fills max_active_runs (2).
  RunInfo d2 = MakeRun(RunType::kScheduled, "2026-01-02");
  ASSERT_TRUE(store_->CreateRun("b", d2, RunState::kRunning, t0_, sched).ok());
  RunInfo d2_backfill = MakeRun(RunType::kBackfill, "2026-01-02");
  ASSERT_TRUE(store_->ClaimBackfillRun("b", d2_backfill, {}, bf, 2, t0_, &outcome, &run).ok());
  EXPECT_EQ(outcome, Outcome::kBusy);
  EXPECT_EQ(run.info.run_id, d2.run_id);
  RunInfo d3 = MakeRun(RunType::kBackfill, "2026-01-03");
  ASSERT_TRUE(store_->ClaimBackfillRun("b", d3, {}, bf, 2, t0_, &outcome, &run).ok());
  EXPECT_EQ(outcome, Outcome::kNoRoom);
  // Finished: left alone unless there is something to clear.
  StoreBatch done;
  RunRecord finished = run;
  ASSERT_TRUE(store_->GetRun("b", d2.run_id, &finished).ok());
  finished.state = RunState::kSuccess;
  finished.end_date = t0_;
  done.runs.push_back(finished);
  std::set<std::string> lost;
  ASSERT_TRUE(store_->Apply(done, sched, &lost).ok());
  ASSERT_TRUE(store_->ClaimBackfillRun("b", d2_backfill, {}, bf, 2, t0_, &outcome, &run).ok());
  EXPECT_EQ(outcome, Outcome::kFinished);
  EXPECT_EQ(run.state, RunState::kSuccess);
  ASSERT_TRUE(store_->ClaimBackfillRun("b", d2_backfill, {"t"}, bf, 2, t0_, &outcome, &run).ok());
  EXPECT_EQ(outcome, Outcome::kClaimed);
  EXPECT_EQ(run.state, RunState::kRunning);
  EXPECT_EQ(run.owner, bf);
  EXPECT_FALSE(run.end_date.has_value());

  // Interrupted: parked backfill runs stay the stopped backfill's (schedulers
  // neither promote nor adopt them); a scheduled run it had taken goes back
  // to the schedulers.
  ASSERT_TRUE(store_->ParkRuns(bf).ok());
  ASSERT_TRUE(store_->StopScheduler(bf).ok());
  ASSERT_TRUE(store_->GetRun("b", d1.run_id, &run).ok());
  EXPECT_EQ(run.state, RunState::kQueued);
  EXPECT_EQ(run.owner, bf);
  std::vector<RunRecord> adopted;
  ASSERT_TRUE(store_->AdoptRuns(sched, &adopted).ok());
  EXPECT_TRUE(adopted.empty());
  bool locked = false;
  std::vector<RunRecord> started;
  ASSERT_TRUE(store_->ScheduleDag("b", sched, 16, t0_, [](const ScheduleView&) { return SchedulePlan(); }, &locked,
                                  &started).ok());
  EXPECT_TRUE(locked);
  ASSERT_EQ(started.size(), 1u);
  EXPECT_EQ(started[0].info.run_id, d2.run_id);
  // The next backfill takes them back (their owner is stopped).
  int64_t again = 0;
  ASSERT_TRUE(store_->RegisterScheduler("host-b", 13, "backfill", t0_, &again).ok());
  ASSERT_TRUE(store_->ClaimBackfillRun("b", d1, {}, again, 2, t0_, &outcome, &run).ok());
  EXPECT_EQ(outcome, Outcome::kClaimed);
  EXPECT_EQ(run.owner, again);
}

}  // namespace
}  // namespace dwfs
