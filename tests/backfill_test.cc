// Backfill against a real PostgreSQL and real processes, in process: runs
// overlap up to max_active_runs, an interrupted backfill parks its runs
// (no scheduler starts them) and the same backfill resumes them, and a
// backfill next to a running scheduler never runs a task twice.
#include <gtest/gtest.h>

#include "backfill_reporter.h"
#include "dwfs/backfill.h"
#include "observer_tee.h"
#include "scheduler_harness.h"

namespace dwfs {
namespace scheduler_test {
namespace {

// The most runs a backfill had unfinished at once (counted in the driver
// whenever one starts; a run counts until its last task ends).
class Concurrency : public BackfillListener {
 public:
  void set_driver(const RunDriver* d) { driver_ = d; }
  void OnRunStarted(const BackfillRun&) override {
    int unfinished = 0;
    for (const auto& plan : driver_->plans()) unfinished += !plan->finished();
    peak_ = std::max(peak_, unfinished);
  }
  int peak() const { return peak_; }

 private:
  const RunDriver* driver_ = nullptr;
  int peak_ = 0;
};

// `dwfs dags backfill` in process: the wiring of cli_backfill.cc.
class BackfillHarness {
 public:
  BackfillHarness(const std::string& db_url, const std::string& dags_folder, const std::string& log_folder,
                  const Clock& clock, const std::string& dag_id, BackfillOptions options)
      : log_(QuietLogger()) {
    config_.logging.base_log_folder = log_folder;
    bag_ = LoadDagFolder(dags_folder, DagDefaults());
    dag_ = bag_.Shared(dag_id);
    std::unique_ptr<Store> recorder_store;
    ok_ = dag_ && Store::Open(db_url, &store_).ok() && Store::Open(db_url, &recorder_store).ok();
    if (!ok_) return;
    ok_ = StoreDagIfNew(*store_, *dag_, clock.Now()).ok();
    EngineOptions eo;
    eo.log_folder = log_folder;
    eo.process_env = {{"PATH", "/usr/bin:/bin"}};
    engine_ = std::make_unique<Engine>(config_, eo);
    RunRecorderOptions ro;
    ro.hostname = "host-b";
    ro.log_folder = log_folder;
    recorder_ = std::make_unique<RunRecorder>(engine_->io(), std::move(recorder_store), clock, ro, *log_);
    tee_ = std::make_unique<ObserverTee>(std::vector<RunObserver*>{recorder_.get()});
    driver_ = std::make_unique<RunDriver>(engine_->io(), engine_->executor(), engine_->preparer(), clock,
                                          engine_->slots(), tee_.get(), &engine_->webhooks());
    concurrency_.set_driver(driver_.get());
    options.hostname = "host-b";
    options.pid = int(::getpid());
    options.heartbeat = Seconds(1);
    backfill_ = std::make_unique<Backfill>(engine_->io(), *store_, dag_, *driver_, *recorder_, clock, options, *log_,
                                           &concurrency_);
    recorder_->set_on_lost([this](const std::string& d, const std::string& r) { backfill_->RunLost(d, r); });
    recorder_->set_on_run_recorded(
        [this](const std::string& d, const std::string& r) { backfill_->RunRecorded(d, r); });
  }
  ~BackfillHarness() {
    backfill_.reset();
    driver_.reset();
    recorder_.reset();
  }

  bool ok() const { return ok_; }
  Backfill& backfill() { return *backfill_; }
  RunDriver& driver() { return *driver_; }
  const Concurrency& concurrency() const { return concurrency_; }

  // Plans the range against what is stored and starts.
  Status Start(const BackfillOptions& options) {
    std::map<Instant, ExistingRun> existing;
    DWFS_RETURN_IF_ERROR(ReadExistingRuns(*store_, dag_->dag_id, options.start, options.end, &existing));
    std::vector<BackfillRun> plan;
    DWFS_RETURN_IF_ERROR(PlanBackfill(*dag_, options, existing, &plan));
    return backfill_->Start(std::move(plan));
  }

  void Step(std::chrono::milliseconds wait = std::chrono::milliseconds(50)) {
    StepIo(engine_->io(), [this] { backfill_->Poll(); }, wait);
  }
  bool RunUntil(const std::function<bool()>& done) {
    return StepUntil(engine_->io(), [this] { backfill_->Poll(); }, done);
  }

 private:
  std::shared_ptr<spdlog::logger> log_;
  Config config_;
  DagBag bag_;
  std::shared_ptr<const Dag> dag_;
  bool ok_ = false;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<RunRecorder> recorder_;
  std::unique_ptr<ObserverTee> tee_;
  std::unique_ptr<RunDriver> driver_;
  Concurrency concurrency_;
  std::unique_ptr<Backfill> backfill_;
};

class BackfillTest : public SchedulerTest {
 protected:
  BackfillOptions Range(const std::string& from, const std::string& to) {
    BackfillOptions o;
    o.start = At(from);
    o.end = At(to);
    return o;
  }

  std::unique_ptr<BackfillHarness> MakeBackfill(const std::string& dag_id, const BackfillOptions& o) {
    std::filesystem::create_directories(DagsFolder());
    auto b = std::make_unique<BackfillHarness>(db_.url(), DagsFolder(), LogFolder(), clock_, dag_id, o);
    EXPECT_TRUE(b->ok());
    return b;
  }
};

TEST_F(BackfillTest, RunsOverlapUpToMaxActiveRunsAndAllSucceedOnce) {
  WriteDag("six.yaml", DagYaml("six", "schedule: \"@daily\"\nstart_date: 2025-12-01\nmax_active_runs: 2\n", kTwoTasks));
  BackfillOptions o = Range("2025-12-01", "2025-12-06");
  auto b = MakeBackfill("six", o);
  ASSERT_TRUE(b->Start(o).ok());
  ASSERT_TRUE(b->RunUntil([&] { return b->backfill().finished(); }));
  EXPECT_TRUE(b->backfill().AllSucceeded());
  EXPECT_EQ(b->concurrency().peak(), 2);  // overlapping, never beyond the limit
  EXPECT_EQ(LogicalDates("six"),
            (std::vector<std::string>{"2025-12-01T00:00:00+00:00", "2025-12-02T00:00:00+00:00",
                                      "2025-12-03T00:00:00+00:00", "2025-12-04T00:00:00+00:00",
                                      "2025-12-05T00:00:00+00:00", "2025-12-06T00:00:00+00:00"}));
  for (const RunRecord& r : Runs("six")) {
    EXPECT_EQ(r.info.type, RunType::kBackfill);
    EXPECT_EQ(r.info.run_id, "backfill__" + FormatIso(r.info.logical_date, TimeZone()));
  }
  ExpectAllSucceededOnce("six", {"a", "b"});
  // The instance is stopped when done.
  EXPECT_EQ(Count("SELECT COUNT(*) FROM scheduler_instance WHERE kind = 'backfill' AND state = 'running'"), 0);
}

TEST_F(BackfillTest, DependsOnPastRunsInOrderWithinOverlap) {
  WriteDag("past.yaml", DagYaml("past", "schedule: \"@daily\"\nstart_date: 2025-12-01\nmax_active_runs: 3\n",
                                "  - task_id: a\n    depends_on_past: true\n    bash_command: \"true\"\n"));
  BackfillOptions o = Range("2025-12-01", "2025-12-05");
  auto b = MakeBackfill("past", o);
  ASSERT_TRUE(b->Start(o).ok());
  ASSERT_TRUE(b->RunUntil([&] { return b->backfill().finished(); }));
  EXPECT_TRUE(b->backfill().AllSucceeded());
  // Each run's `a` started after the previous run's `a` ended.
  std::vector<RunRecord> runs = Runs("past");
  std::reverse(runs.begin(), runs.end());  // oldest first
  ASSERT_EQ(runs.size(), 5u);
  for (size_t i = 1; i < runs.size(); ++i) {
    auto prev = Instances("past", runs[i - 1].info.run_id)["a"];
    auto cur = Instances("past", runs[i].info.run_id)["a"];
    ASSERT_TRUE(prev.ti.end_date && cur.ti.start_date);
    EXPECT_LE(*prev.ti.end_date, *cur.ti.start_date) << runs[i].info.run_id;
  }
}

TEST_F(BackfillTest, AnInterruptedBackfillParksItsRunsAndTheSameBackfillResumesThem) {
  std::string marker = dags_.path() + "/go";
  WriteDag("slow.yaml",
           DagYaml("slow", "schedule: \"@daily\"\nstart_date: 2025-12-01\nmax_active_runs: 2\n",
                   "  - task_id: a\n    bash_command: \"true\"\n"
                   "  - task_id: wait\n    upstream: [a]\n    bash_command: \"test -f " + marker + " || sleep 60\"\n"));
  BackfillOptions o = Range("2025-12-01", "2025-12-03");
  {
    auto b = MakeBackfill("slow", o);
    ASSERT_TRUE(b->Start(o).ok());
    // Both runs' `wait` (task 1) running.
    ASSERT_TRUE(b->RunUntil([&] {
      int waiting = 0;
      for (const auto& plan : b->driver().plans()) waiting += plan->instance(1).state == TaskState::kRunning;
      return waiting == 2;
    }));
    b->backfill().Stop();
    ASSERT_TRUE(b->RunUntil([&] { return b->backfill().finished(); }));
    EXPECT_FALSE(b->backfill().AllSucceeded());
  }
  // Parked: queued, still owned by the stopped backfill instance.
  std::vector<RunRecord> parked = Runs("slow");
  ASSERT_EQ(parked.size(), 2u);  // the third never started
  for (const RunRecord& r : parked) {
    EXPECT_EQ(r.state, RunState::kQueued) << r.info.run_id;
    EXPECT_TRUE(r.owner.has_value()) << r.info.run_id;
    EXPECT_EQ(Instances("slow", r.info.run_id)["wait"].ti.try_number, 1);
  }
  // A scheduler leaves them alone.
  auto s = MakeHarness();
  ASSERT_TRUE(s->scheduler().Start().ok());
  for (int i = 0; i < 3; ++i) s->scheduler().RunOnce();
  for (const RunRecord& r : Runs("slow")) {
    if (r.info.type == RunType::kBackfill) {
      EXPECT_EQ(r.state, RunState::kQueued) << r.info.run_id;
    }
  }
  EXPECT_EQ(s->scheduler().active_runs(), size_t(Count("SELECT COUNT(*) FROM dag_run WHERE run_type <> 'backfill'"
                                                      " AND state = 'running'")));
  s.reset();
  // The same backfill again resumes them (and makes the third).
  { std::ofstream(marker) << "go"; }
  auto again = MakeBackfill("slow", o);
  ASSERT_TRUE(again->Start(o).ok());
  ASSERT_TRUE(again->RunUntil([&] { return again->backfill().finished(); }));
  EXPECT_TRUE(again->backfill().AllSucceeded());
  for (const char* date : {"2025-12-01T00:00:00+00:00", "2025-12-02T00:00:00+00:00"}) {
    std::string run_id = std::string("backfill__") + date;
    auto tis = Instances("slow", run_id);
    EXPECT_EQ(tis["a"].ti.try_number, 1) << run_id;  // done before the interruption: not rerun
    EXPECT_EQ(tis["wait"].ti.state, TaskState::kSuccess) << run_id;
    std::vector<TryRecord> tries = Tries("slow", run_id, "wait");
    ASSERT_EQ(tries.size(), 2u) << run_id;  // the interrupted try, then the one that finished
    EXPECT_NE(tries[0].state, TaskState::kRunning);
    EXPECT_EQ(tries[1].state, TaskState::kSuccess);
  }
}

TEST_F(BackfillTest, NextToARunningSchedulerNoTaskRunsTwice) {
  // The scheduler catches up 2026-01-01..01-04 (the fake now is 01-05 12:00)
  // while a backfill covers 2025-12-29..2026-01-06 of the same DAG.
  WriteDag("both.yaml", DagYaml("both", "schedule: \"@daily\"\nstart_date: 2025-12-29\nmax_active_runs: 4\n",
                                kTwoTasks));
  clock_.Set(At("2026-01-05T12:00:00"));
  auto s = MakeHarness();
  BackfillOptions o = Range("2025-12-29", "2026-01-06");
  auto b = MakeBackfill("both", o);
  ASSERT_TRUE(s->scheduler().Start().ok());
  ASSERT_TRUE(b->Start(o).ok());
  auto end = std::chrono::steady_clock::now() + std::chrono::seconds(90);
  while (!(b->backfill().finished() && Finished("both", 9))) {
    ASSERT_LT(std::chrono::steady_clock::now(), end) << "timed out";
    s->Step(std::chrono::milliseconds(10));
    b->Step(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(b->backfill().AllSucceeded());
  // One run per logical date, each task once.
  EXPECT_EQ(LogicalDates("both").size(), 9u);
  ExpectAllSucceededOnce("both", {"a", "b"});
  EXPECT_EQ(Count("SELECT COUNT(*) FROM task_try WHERE dag_id = 'both'"), 18);
}

}  // namespace
}  // namespace scheduler_test
}  // namespace dwfs
