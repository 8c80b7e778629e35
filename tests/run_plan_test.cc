// The run engine: trigger rules against every mix of upstream states,
// retries with backoff, skip and failure propagation, run state from leaves,
// priorities, depends_on_past, and slot limits. Time is passed in; no sleeps.
#include "dwfs/run_plan.h"

#include <gtest/gtest.h>

#include "dwfs/dag_loader.h"

namespace dwfs {
namespace {

std::shared_ptr<const Dag> Load(const std::string& yaml) {
  auto dag = std::make_shared<Dag>();
  ImportError err;
  EXPECT_TRUE(ParseDagText(yaml, "test.yaml", DagDefaults(), dag.get(), &err)) << err.ToString();
  return dag;
}

const Instant kT0 = Instant(Seconds(1767225600));  // 2026-01-01T00:00:00Z

RunInfo Info() {
  RunInfo info;
  info.run_id = MakeRunId(RunType::kManual, kT0);
  info.logical_date = kT0;
  info.data_interval = {kT0, kT0};
  return info;
}

// --- The trigger-rule table -------------------------------------------------

// Upstream states by letter: s success, f failed, k skipped, u
// upstream_failed, r running (not done).
TaskState FromLetter(char c) {
  switch (c) {
    case 's': return TaskState::kSuccess;
    case 'f': return TaskState::kFailed;
    case 'k': return TaskState::kSkipped;
    case 'u': return TaskState::kUpstreamFailed;
    default: return TaskState::kRunning;
  }
}

UpstreamCounts Count(const std::string& states) {
  UpstreamCounts c;
  for (char ch : states) {
    ++c.total;
    switch (FromLetter(ch)) {
      case TaskState::kSuccess: ++c.success; break;
      case TaskState::kFailed: ++c.failed; break;
      case TaskState::kSkipped: ++c.skipped; break;
      case TaskState::kUpstreamFailed: ++c.upstream_failed; break;
      default: break;
    }
  }
  return c;
}

// Decisions: R run, W wait, S skipped, U upstream_failed.
char Letter(TriggerDecision d) {
  switch (d) {
    case TriggerDecision::kRun: return 'R';
    case TriggerDecision::kWait: return 'W';
    case TriggerDecision::kSkip: return 'S';
    case TriggerDecision::kUpstreamFailed: return 'U';
  }
  return '?';
}

const char* const kMixes[] = {"ss", "sf", "sk", "su", "sr", "ff", "fk", "fu",
                              "fr", "kk", "ku", "kr", "uu", "ur", "rr"};

struct RuleRow {
  TriggerRule rule;
  const char* two_upstreams;  // one decision per entry of kMixes
  const char* one_upstream;   // for "s", "f", "k", "u", "r"
};

const RuleRow kRuleTable[] = {
    //                                        ss sf sk su sr ff fk fu fr kk ku kr uu ur rr      s f k u r
    {TriggerRule::kAllSuccess,              "RUSUWUUUUSUSUUW", "RUSUW"},
    {TriggerRule::kAllFailed,               "SSSSSRSRWSSSRWW", "SRSRW"},
    {TriggerRule::kAllDone,                 "RRRRWRRRWRRWRWW", "RRRRW"},
    {TriggerRule::kAllSkipped,              "SSSSSSSSSRSWSSW", "SSRSW"},
    {TriggerRule::kOneSuccess,              "RRRRRUUUWSUWUWW", "RUSUW"},
    {TriggerRule::kOneFailed,               "SRSRWRRRRSRWRRW", "SRSRW"},
    {TriggerRule::kOneDone,                 "RRRRRRRRRSSWSWW", "RRSSW"},
    {TriggerRule::kNoneFailed,              "RURUWUUUURUWUUW", "RURUW"},
    {TriggerRule::kNoneFailedMinOneSuccess, "RURUWUUUUSUWUUW", "RUSUW"},
    {TriggerRule::kNoneSkipped,             "RRSRWRSRWSSSRWW", "RRSRW"},
    {TriggerRule::kAlways,                  "RRRRRRRRRRRRRRR", "RRRRR"},
};

TEST(TriggerRules, TableCoversEveryRule) {
  EXPECT_EQ(std::size(kRuleTable), AllTriggerRules().size());
}

TEST(TriggerRules, EveryRuleAgainstEveryMixOfTwoUpstreams) {
  for (const RuleRow& row : kRuleTable) {
    for (size_t i = 0; i < std::size(kMixes); ++i) {
      std::string mix = kMixes[i];
      std::string reversed(mix.rbegin(), mix.rend());
      EXPECT_EQ(Letter(DecideTrigger(row.rule, Count(mix))), row.two_upstreams[i])
          << TriggerRuleName(row.rule) << " over " << mix;
      EXPECT_EQ(Letter(DecideTrigger(row.rule, Count(reversed))), row.two_upstreams[i])
          << TriggerRuleName(row.rule) << " over " << reversed;
    }
  }
}

TEST(TriggerRules, EveryRuleAgainstOneUpstream) {
  const char* singles = "sfkur";
  for (const RuleRow& row : kRuleTable) {
    for (int i = 0; i < 5; ++i) {
      EXPECT_EQ(Letter(DecideTrigger(row.rule, Count(std::string(1, singles[i])))), row.one_upstream[i])
          << TriggerRuleName(row.rule) << " over " << singles[i];
    }
  }
}

TEST(TriggerRules, NoUpstreamAlwaysRuns) {
  for (TriggerRule r : AllTriggerRules()) EXPECT_EQ(DecideTrigger(r, UpstreamCounts()), TriggerDecision::kRun);
}

// The same table, through a real plan: upstream tasks are driven to the
// states of the mix and the downstream task's resulting state is checked.
TEST(TriggerRules, PlanAppliesRulesToRealUpstreamStates) {
  for (const RuleRow& row : kRuleTable) {
    for (size_t i = 0; i < std::size(kMixes); ++i) {
      std::string mix = kMixes[i];
      auto dag = Load(std::string("dag_id: t\ntasks:\n") +
                      "  - {task_id: a, bash_command: x, retries: 0}\n"
                      "  - {task_id: b, bash_command: x, retries: 0}\n"
                      "  - {task_id: c, bash_command: x, upstream: [a, b], trigger_rule: " +
                      TriggerRuleName(row.rule) + "}\n");
      RunPlan plan(dag, Info());
      plan.Update(kT0);
      for (int t = 0; t < 2; ++t) {
        TaskInstance& ti = plan.mutable_instance(t);
        ti.state = FromLetter(mix[size_t(t)]);
      }
      plan.Update(kT0);
      TaskState c = plan.instance(2).state;
      char want = row.two_upstreams[i];
      TaskState expected = want == 'R' ? TaskState::kScheduled
                           : want == 'S' ? TaskState::kSkipped
                           : want == 'U' ? TaskState::kUpstreamFailed
                                         : TaskState::kNone;
      EXPECT_EQ(c, expected) << TriggerRuleName(row.rule) << " over " << mix << ": " << TaskStateName(c);
    }
  }
}

// --- Plans ------------------------------------------------------------------

// Runs every runnable task with the outcome chosen by `decide` until the plan
// finishes; time advances 1 s per step and jumps to retry times. Returns the
// order tasks started in.
std::vector<std::string> Drive(RunPlan* plan, const std::function<TaskOutcome(const std::string&, int)>& decide,
                               Instant* now) {
  std::vector<std::string> started;
  for (int guard = 0; guard < 1000 && !plan->finished(); ++guard) {
    plan->Update(*now);
    std::vector<int> ready = plan->Runnable();
    if (ready.empty()) {
      std::optional<Instant> retry = plan->NextRetryAt();
      if (!retry) break;
      *now = *retry;
      continue;
    }
    for (int t : ready) {
      plan->MarkQueued(t);
      plan->MarkRunning(t, *now);
      const std::string& id = plan->dag().tasks[size_t(t)].task_id;
      started.push_back(id);
      plan->Finish(t, decide(id, plan->instance(t).try_number), *now + Seconds(1));
    }
    *now += Seconds(1);
  }
  return started;
}

TaskOutcome Ok() { return {TaskOutcome::Kind::kSuccess, "", std::nullopt}; }
TaskOutcome Fail() { return {TaskOutcome::Kind::kFailed, "exit status 1", std::nullopt}; }
TaskOutcome Skip() { return {TaskOutcome::Kind::kSkipped, "exit status 99", std::nullopt}; }

TEST(RunPlan, ChainRunsInOrderAndSucceeds) {
  RunPlan plan(Load("dag_id: d\ntasks:\n  - {task_id: a, bash_command: x}\n"
                    "  - {task_id: b, bash_command: x, upstream: [a]}\n"
                    "  - {task_id: c, bash_command: x, upstream: [b]}\n"),
               Info());
  EXPECT_EQ(plan.state(), RunState::kRunning);
  Instant now = kT0;
  EXPECT_EQ(Drive(&plan, [](const std::string&, int) { return Ok(); }, &now),
            (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(plan.state(), RunState::kSuccess);
  EXPECT_EQ(plan.instance(2).try_number, 1);
}

TEST(RunPlan, FailurePropagatesUpstreamFailedAndFailsRun) {
  RunPlan plan(Load("dag_id: d\ntasks:\n  - {task_id: a, bash_command: x}\n"
                    "  - {task_id: b, bash_command: x, upstream: [a]}\n"
                    "  - {task_id: c, bash_command: x, upstream: [b]}\n"),
               Info());
  Instant now = kT0;
  Drive(&plan, [](const std::string& id, int) { return id == "a" ? Fail() : Ok(); }, &now);
  EXPECT_EQ(plan.instance(0).state, TaskState::kFailed);
  EXPECT_EQ(plan.instance(1).state, TaskState::kUpstreamFailed);
  EXPECT_EQ(plan.instance(2).state, TaskState::kUpstreamFailed);
  EXPECT_EQ(plan.state(), RunState::kFailed);
}

TEST(RunPlan, SkipPropagatesAndSkippedLeafSucceeds) {
  RunPlan plan(Load("dag_id: d\ntasks:\n  - {task_id: a, bash_command: x}\n"
                    "  - {task_id: b, bash_command: x, upstream: [a]}\n"
                    "  - {task_id: c, bash_command: x, upstream: [b]}\n"),
               Info());
  Instant now = kT0;
  Drive(&plan, [](const std::string& id, int) { return id == "a" ? Skip() : Ok(); }, &now);
  EXPECT_EQ(plan.instance(1).state, TaskState::kSkipped);
  EXPECT_EQ(plan.instance(2).state, TaskState::kSkipped);
  EXPECT_EQ(plan.state(), RunState::kSuccess);
}

TEST(RunPlan, LeavesDecideRunState) {
  // b fails but is not a leaf; d (all_done) and c succeed: the run succeeds.
  const char* yaml =
      "dag_id: d\ntasks:\n  - {task_id: a, bash_command: x}\n"
      "  - {task_id: b, bash_command: x, upstream: [a]}\n"
      "  - {task_id: c, bash_command: x, upstream: [a]}\n"
      "  - {task_id: d, bash_command: x, upstream: [b], trigger_rule: all_done}\n";
  RunPlan plan(Load(yaml), Info());
  Instant now = kT0;
  Drive(&plan, [](const std::string& id, int) { return id == "b" ? Fail() : Ok(); }, &now);
  EXPECT_EQ(plan.instance(1).state, TaskState::kFailed);
  EXPECT_EQ(plan.state(), RunState::kSuccess);
  // With c failing instead, a leaf failed: the run fails.
  RunPlan plan2(Load(yaml), Info());
  Drive(&plan2, [](const std::string& id, int) { return id == "c" ? Fail() : Ok(); }, &now);
  EXPECT_EQ(plan2.state(), RunState::kFailed);
}

TEST(RunPlan, RetriesWaitForTheirTimeWithExponentialBackoff) {
  RunPlan plan(Load("dag_id: d\ntasks:\n  - task_id: a\n    bash_command: x\n    retries: 3\n"
                    "    retry_delay: 10s\n    retry_exponential_backoff: true\n    max_retry_delay: 30s\n"),
               Info());
  Instant t = kT0;
  plan.Update(t);
  ASSERT_EQ(plan.Runnable(), std::vector<int>{0});
  plan.MarkRunning(0, t);
  EXPECT_FALSE(plan.Finish(0, Fail(), t));
  EXPECT_EQ(plan.instance(0).state, TaskState::kUpForRetry);
  EXPECT_EQ(*plan.NextRetryAt(), t + Seconds(10));  // 10 * 2^0
  plan.Update(t + Seconds(9));
  EXPECT_TRUE(plan.Runnable().empty());
  EXPECT_EQ(plan.state(), RunState::kRunning);
  plan.Update(t + Seconds(10));
  ASSERT_EQ(plan.Runnable(), std::vector<int>{0});
  t += Seconds(10);
  plan.MarkRunning(0, t);
  EXPECT_EQ(plan.instance(0).try_number, 2);
  plan.Finish(0, TaskOutcome{TaskOutcome::Kind::kTimeout, "timed out after 5s", std::nullopt}, t);
  EXPECT_EQ(*plan.NextRetryAt(), t + Seconds(20));  // 10 * 2^1
  t += Seconds(20);
  plan.Update(t);
  plan.MarkRunning(0, t);
  plan.Finish(0, Fail(), t);
  EXPECT_EQ(*plan.NextRetryAt(), t + Seconds(30));  // 10 * 2^2 = 40, capped at 30
  t += Seconds(30);
  plan.Update(t);
  plan.MarkRunning(0, t);
  EXPECT_TRUE(plan.Finish(0, Fail(), t));  // fourth try: failed for good
  EXPECT_EQ(plan.instance(0).state, TaskState::kFailed);
  EXPECT_EQ(plan.instance(0).try_number, 4);
  EXPECT_EQ(plan.state(), RunState::kFailed);
}

TEST(RunPlan, RetryDelayForms) {
  Task t;
  t.retry_delay = Seconds(60);
  EXPECT_EQ(RetryDelay(t, 1), Seconds(60));
  EXPECT_EQ(RetryDelay(t, 5), Seconds(60));
  t.retry_exponential_backoff = true;
  EXPECT_EQ(RetryDelay(t, 1), Seconds(60));
  EXPECT_EQ(RetryDelay(t, 3), Seconds(240));
  EXPECT_EQ(RetryDelay(t, 100), Seconds(86400));  // saturates at Airflow's 24 h
  t.max_retry_delay = Seconds(100);
  EXPECT_EQ(RetryDelay(t, 3), Seconds(100));
}

TEST(RunPlan, SuccessOnRetryAndXcomKept) {
  RunPlan plan(Load("dag_id: d\ntasks:\n  - {task_id: a, bash_command: x, retries: 1, retry_delay: 0}\n"), Info());
  Instant now = kT0;
  Drive(&plan,
        [](const std::string&, int try_number) {
          return try_number == 1 ? Fail() : TaskOutcome{TaskOutcome::Kind::kSuccess, "", std::string("42")};
        },
        &now);
  EXPECT_EQ(plan.state(), RunState::kSuccess);
  EXPECT_EQ(plan.instance(0).try_number, 2);
  EXPECT_EQ(*plan.instance(0).xcom, "42");
}

TEST(RunPlan, PriorityOrdersRunnableByDownstreamWeight) {
  RunPlan plan(Load("dag_id: d\ntasks:\n  - {task_id: lone, bash_command: x, priority_weight: 2}\n"
                    "  - {task_id: head, bash_command: x}\n"
                    "  - {task_id: t1, bash_command: x, upstream: [head]}\n"
                    "  - {task_id: t2, bash_command: x, upstream: [t1]}\n"
                    "  - {task_id: urgent, bash_command: x, priority_weight: 10}\n"),
               Info());
  plan.Update(kT0);
  EXPECT_EQ(plan.EffectivePriority(1), 3);  // head + t1 + t2
  std::vector<int> r = plan.Runnable();
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(plan.dag().tasks[size_t(r[0])].task_id, "urgent");
  EXPECT_EQ(plan.dag().tasks[size_t(r[1])].task_id, "head");
  EXPECT_EQ(plan.dag().tasks[size_t(r[2])].task_id, "lone");
}

TEST(RunPlan, DependsOnPast) {
  auto dag = Load("dag_id: d\ntasks:\n  - {task_id: a, bash_command: x, depends_on_past: true}\n"
                  "  - {task_id: b, bash_command: x}\n");
  RunPlan first(dag, Info());  // no previous run: allowed
  first.Update(kT0);
  EXPECT_EQ(first.instance(0).state, TaskState::kScheduled);

  RunPlan blocked(dag, Info());
  blocked.SetPreviousRun({TaskState::kFailed, TaskState::kSuccess});
  blocked.Update(kT0);
  EXPECT_EQ(blocked.instance(0).state, TaskState::kNone);
  EXPECT_EQ(blocked.instance(1).state, TaskState::kScheduled);
  EXPECT_EQ(blocked.state(), RunState::kRunning);  // waiting, not deadlocked

  blocked.SetPreviousRun({TaskState::kSkipped, TaskState::kSuccess});
  blocked.Update(kT0);
  EXPECT_EQ(blocked.instance(0).state, TaskState::kScheduled);
}

TEST(RunPlan, RestrictRemovesTasksAndRulesIgnoreThem) {
  RunPlan plan(Load("dag_id: d\ntasks:\n  - {task_id: a, bash_command: x}\n"
                    "  - {task_id: b, bash_command: x}\n"
                    "  - {task_id: c, bash_command: x, upstream: [a, b]}\n"),
               Info());
  plan.Restrict({false, true, true});
  Instant now = kT0;
  EXPECT_EQ(Drive(&plan, [](const std::string&, int) { return Ok(); }, &now), (std::vector<std::string>{"b", "c"}));
  EXPECT_EQ(plan.instance(0).state, TaskState::kRemoved);
  EXPECT_EQ(plan.state(), RunState::kSuccess);
}

TEST(RunPlan, InterruptRetriesOrFails) {
  RunPlan plan(Load("dag_id: d\ntasks:\n  - {task_id: a, bash_command: x, retries: 1}\n"
                    "  - {task_id: b, bash_command: x}\n"),
               Info());
  plan.Update(kT0);
  plan.MarkQueued(1);
  EXPECT_FALSE(plan.Interrupt(1, "shutdown", kT0));  // queued: back to scheduled, no try used
  EXPECT_EQ(plan.instance(1).state, TaskState::kScheduled);
  EXPECT_EQ(plan.instance(1).try_number, 0);
  plan.MarkRunning(0, kT0);
  EXPECT_FALSE(plan.Interrupt(0, "scheduler stopped", kT0));
  EXPECT_EQ(plan.instance(0).state, TaskState::kUpForRetry);
  plan.mutable_instance(0).state = TaskState::kScheduled;
  plan.MarkRunning(0, kT0);
  EXPECT_TRUE(plan.Interrupt(0, "process lost", kT0));
  EXPECT_EQ(plan.instance(0).state, TaskState::kFailed);
  EXPECT_EQ(plan.instance(0).reason, "process lost");
}

TEST(RunPlan, ExampleTriggerRulesDagRunsEveryTaskAndSucceeds) {
  auto dag = std::make_shared<Dag>();
  ImportError err;
  ASSERT_TRUE(LoadDagFile(std::string(DWFS_SOURCE_DIR) + "/dags/trigger_rules.yaml", DagDefaults(), dag.get(), &err))
      << err.ToString();
  RunPlan plan(dag, Info());
  Instant now = kT0;
  std::vector<std::string> started = Drive(
      &plan, [](const std::string& id, int) { return id == "fail" ? Fail() : id == "skip" ? Skip() : Ok(); }, &now);
  EXPECT_EQ(started.size(), dag->tasks.size());  // every task ran
  EXPECT_EQ(plan.state(), RunState::kSuccess);
}

TEST(SlotTracker, ParallelismMaxActiveTasksAndPools) {
  auto dag = Load("dag_id: d\nmax_active_tasks: 2\ntasks:\n  - {task_id: a, bash_command: x, pool: p, pool_slots: 2}\n"
                  "  - {task_id: b, bash_command: x, pool: p}\n  - {task_id: c, bash_command: x}\n");
  auto other = Load("dag_id: e\ntasks:\n  - {task_id: a, bash_command: x}\n");
  SlotTracker slots(3, 128, {{"p", 2}});
  const Task &a = dag->tasks[0], &b = dag->tasks[1], &c = dag->tasks[2];
  ASSERT_TRUE(slots.CanStart(*dag, a));
  slots.Acquire(*dag, a);
  EXPECT_FALSE(slots.CanStart(*dag, b));  // pool p full (2 of 2)
  EXPECT_TRUE(slots.CanStart(*dag, c));
  slots.Acquire(*dag, c);
  EXPECT_FALSE(slots.CanStart(*dag, c));  // max_active_tasks 2
  EXPECT_TRUE(slots.CanStart(*other, other->tasks[0]));
  slots.Acquire(*other, other->tasks[0]);
  EXPECT_FALSE(slots.CanStart(*other, other->tasks[0]));  // parallelism 3
  slots.Release(*dag, a);
  EXPECT_TRUE(slots.CanStart(*dag, b));
  EXPECT_EQ(slots.running(), 2);
}

TEST(RunId, Forms) {
  EXPECT_EQ(MakeRunId(RunType::kScheduled, kT0), "scheduled__2026-01-01T00:00:00+00:00");
  EXPECT_EQ(MakeRunId(RunType::kBackfill, kT0), "backfill__2026-01-01T00:00:00+00:00");
}

}  // namespace
}  // namespace dwfs
