// The run driver with a fake executor and a fake clock: event-driven starts,
// limits, retries at their time, prepare failures, failure callbacks,
// depends_on_past across runs, and stopping.
#include "dwfs/run_driver.h"

#include <boost/asio/post.hpp>
#include <gtest/gtest.h>

#include "dwfs/dag_loader.h"

namespace dwfs {
namespace {

class FakeExecutor : public TaskExecutor {
 public:
  struct Pending {
    TaskRequest req;
    Callback done;
  };
  void Start(TaskRequest request, Callback done) override {
    started.push_back(request.label);
    pending.push_back({std::move(request), std::move(done)});
  }
  void TerminateAll(const std::string& reason) override {
    terminated_with = reason;
    auto all = std::move(pending);
    pending.clear();
    for (auto& p : all) p.done(TaskResult{p.req.key, {TaskOutcome::Kind::kFailed, reason, std::nullopt}, -1});
  }
  size_t running() const override { return pending.size(); }

  // Completes the oldest pending try whose label is `label`.
  void Finish(const std::string& label, TaskOutcome::Kind kind) {
    for (size_t i = 0; i < pending.size(); ++i) {
      if (pending[i].req.label != label) continue;
      Pending p = std::move(pending[i]);
      pending.erase(pending.begin() + long(i));
      p.done(TaskResult{p.req.key, {kind, kind == TaskOutcome::Kind::kFailed ? "exit status 1" : "", std::nullopt},
                        kind == TaskOutcome::Kind::kSuccess ? 0 : 1});
      return;
    }
    ADD_FAILURE() << "no pending try " << label;
  }
  std::vector<std::string> Running() const {
    std::vector<std::string> out;
    for (const auto& p : pending) out.push_back(p.req.label);
    return out;
  }

  std::vector<Pending> pending;
  std::vector<std::string> started;
  std::string terminated_with;
};

// Labels requests "run_id/task_id"; fails preparation for tasks named bad_*.
class FakePreparer : public TaskPreparer {
 public:
  Status Prepare(const RunPlan& plan, int task, TaskRequest* out) override {
    const Task& t = plan.dag().tasks[size_t(task)];
    if (t.task_id.rfind("bad_", 0) == 0) return Status::InvalidArgument("unknown template variable 'nope' in bash_command");
    out->label = plan.info().run_id + "/" + t.task_id;
    return Status::OK();
  }
  bool PrepareCallback(const RunPlan& plan, CallbackEvent event, int task, const std::string& reason,
                       PreparedCallback* out) override {
    if (event != CallbackEvent::kTaskFailure) return false;
    const Task& t = plan.dag().tasks[size_t(task)];
    if (!t.on_failure_callback) return false;
    out->process.label = "callback/" + t.task_id + ": " + reason;
    return true;
  }
};

const Instant kT0 = Instant(Seconds(1767225600));

std::shared_ptr<RunPlan> Plan(const std::string& yaml, Instant logical = kT0) {
  auto dag = std::make_shared<Dag>();
  ImportError err;
  EXPECT_TRUE(ParseDagText(yaml, "t.yaml", DagDefaults(), dag.get(), &err)) << err.ToString();
  RunInfo info;
  info.run_id = MakeRunId(RunType::kManual, logical);
  info.logical_date = logical;
  info.data_interval = {logical, logical};
  return std::make_shared<RunPlan>(dag, info);
}

class DriverTest : public testing::Test {
 protected:
  DriverTest() : clock_(kT0) {}
  void Make(int parallelism) {
    slots_ = std::make_unique<SlotTracker>(parallelism, 128);
    driver_ = std::make_unique<RunDriver>(io_, exec_, prep_, clock_, *slots_, nullptr, nullptr);
  }
  std::string L(const RunPlan& p, const std::string& task) { return p.info().run_id + "/" + task; }

  boost::asio::io_context io_;
  FakeExecutor exec_;
  FakePreparer prep_;
  FakeClock clock_;
  std::unique_ptr<SlotTracker> slots_;
  std::unique_ptr<RunDriver> driver_;
};

TEST_F(DriverTest, DownstreamStartsInTheCompletionHandler) {
  Make(32);
  auto plan = Plan("dag_id: d\ntasks:\n  - {task_id: a, bash_command: x}\n"
                   "  - {task_id: b, bash_command: x, upstream: [a]}\n");
  driver_->Add(plan);
  driver_->Pump();
  EXPECT_EQ(exec_.Running(), std::vector<std::string>{L(*plan, "a")});
  exec_.Finish(L(*plan, "a"), TaskOutcome::Kind::kSuccess);
  // No io_context turn, no timer: b was started by a's completion.
  EXPECT_EQ(exec_.Running(), std::vector<std::string>{L(*plan, "b")});
  exec_.Finish(L(*plan, "b"), TaskOutcome::Kind::kSuccess);
  EXPECT_TRUE(driver_->Done());
  EXPECT_EQ(plan->state(), RunState::kSuccess);
}

TEST_F(DriverTest, ParallelismAndMaxActiveTasks) {
  Make(3);
  auto p1 = Plan("dag_id: d\nmax_active_tasks: 2\ntasks:\n  - {task_id: a, bash_command: x}\n"
                 "  - {task_id: b, bash_command: x}\n  - {task_id: c, bash_command: x}\n");
  auto p2 = Plan("dag_id: e\ntasks:\n  - {task_id: a, bash_command: x}\n  - {task_id: b, bash_command: x}\n");
  driver_->Add(p1);
  driver_->Add(p2);
  driver_->Pump();
  EXPECT_EQ(exec_.Running().size(), 3u);  // 2 of d (max_active_tasks) + 1 of e (parallelism 3)
  exec_.Finish(exec_.Running()[0], TaskOutcome::Kind::kSuccess);
  EXPECT_EQ(exec_.Running().size(), 3u);  // refilled at once
  while (!exec_.pending.empty()) exec_.Finish(exec_.Running()[0], TaskOutcome::Kind::kSuccess);
  EXPECT_TRUE(driver_->Done());
  EXPECT_EQ(exec_.started.size(), 5u);
}

TEST_F(DriverTest, RetryStartsOnlyAtItsTime) {
  Make(32);
  auto plan = Plan("dag_id: d\ntasks:\n  - {task_id: a, bash_command: x, retries: 1, retry_delay: 30s}\n");
  driver_->Add(plan);
  driver_->Pump();
  exec_.Finish(L(*plan, "a"), TaskOutcome::Kind::kFailed);
  EXPECT_EQ(plan->instance(0).state, TaskState::kUpForRetry);
  EXPECT_TRUE(exec_.Running().empty());
  clock_.Advance(Seconds(29));
  driver_->Pump();
  EXPECT_TRUE(exec_.Running().empty());
  clock_.Advance(Seconds(1));
  driver_->Pump();  // what the retry timer does when it fires
  EXPECT_EQ(exec_.Running().size(), 1u);
  exec_.Finish(L(*plan, "a"), TaskOutcome::Kind::kSuccess);
  EXPECT_EQ(plan->instance(0).try_number, 2);
  EXPECT_EQ(plan->state(), RunState::kSuccess);
}

TEST_F(DriverTest, PrepareFailureFailsTheTryWithItsMessage) {
  Make(32);
  auto plan = Plan("dag_id: d\ntasks:\n  - {task_id: bad_template, bash_command: x}\n"
                   "  - {task_id: other, bash_command: x}\n");
  driver_->Add(plan);
  driver_->Pump();
  io_.run();  // the failure is reported asynchronously
  EXPECT_EQ(plan->instance(0).state, TaskState::kFailed);
  EXPECT_NE(plan->instance(0).reason.find("unknown template variable 'nope'"), std::string::npos);
  EXPECT_EQ(plan->instance(1).state, TaskState::kRunning);  // the other task is unaffected
}

TEST_F(DriverTest, FailureCallbackRunsOnceWhenFailedForGood) {
  Make(32);
  auto plan = Plan("dag_id: d\ntasks:\n  - task_id: a\n    bash_command: x\n    retries: 1\n    retry_delay: 0\n"
                   "    on_failure_callback: {bash_command: 'echo failed'}\n");
  driver_->Add(plan);
  driver_->Pump();
  exec_.Finish(L(*plan, "a"), TaskOutcome::Kind::kFailed);  // retried: no callback
  driver_->Pump();
  EXPECT_EQ(exec_.Running(), std::vector<std::string>{L(*plan, "a")});
  exec_.Finish(L(*plan, "a"), TaskOutcome::Kind::kFailed);  // failed for good
  EXPECT_EQ(exec_.Running(), std::vector<std::string>{"callback/a: exit status 1"});
  EXPECT_FALSE(driver_->Done());  // waits for the callback
  exec_.Finish("callback/a: exit status 1", TaskOutcome::Kind::kFailed);  // a failing callback is not fatal
  EXPECT_TRUE(driver_->Done());
  EXPECT_EQ(plan->state(), RunState::kFailed);
}

TEST_F(DriverTest, DependsOnPastFollowsTheEarlierRun) {
  Make(32);
  const char* yaml = "dag_id: d\ntasks:\n  - {task_id: a, bash_command: x, depends_on_past: true}\n";
  auto first = Plan(yaml, kT0);
  auto second = Plan(yaml, kT0 + Seconds(86400));
  driver_->Add(second);
  driver_->Add(first);
  driver_->Pump();
  EXPECT_EQ(exec_.Running(), std::vector<std::string>{L(*first, "a")});
  exec_.Finish(L(*first, "a"), TaskOutcome::Kind::kSuccess);
  EXPECT_EQ(exec_.Running(), std::vector<std::string>{L(*second, "a")});
}

TEST_F(DriverTest, StopTerminatesRunningTriesAndStartsNothingNew) {
  Make(1);
  auto plan = Plan("dag_id: d\ntasks:\n  - {task_id: a, bash_command: x, retries: 2}\n  - {task_id: b, bash_command: x}\n");
  driver_->Add(plan);
  driver_->Pump();
  ASSERT_EQ(exec_.Running().size(), 1u);
  driver_->Stop("interrupted (Ctrl-C)");
  EXPECT_EQ(exec_.terminated_with, "interrupted (Ctrl-C)");
  EXPECT_TRUE(exec_.Running().empty());
  EXPECT_TRUE(driver_->Done());
  EXPECT_EQ(plan->instance(0).state, TaskState::kUpForRetry);
  EXPECT_EQ(exec_.started.size(), 1u);
}

}  // namespace
}  // namespace dwfs
