// RunPlan: the state of one DAG run's task instances, and the rules that
// move them (after ninja's Plan). It decides which tasks are ready (trigger
// rules, depends_on_past, retry times), applies each try's outcome (success,
// failure, skip, timeout; retries with backoff), propagates skipped and
// upstream_failed, and derives the run's state.
//
// Pure logic: no I/O, no clock of its own (callers pass `now`), so the same
// engine serves `dags test`, `dags backfill` and the scheduler. Resource
// limits that span runs (parallelism, max_active_tasks, pools) live in
// SlotTracker. Not thread-safe: one owner drives a plan.
#ifndef DWFS_RUN_PLAN_H_
#define DWFS_RUN_PLAN_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dwfs/dag.h"
#include "dwfs/json.h"
#include "dwfs/schedule.h"
#include "dwfs/task_state.h"

namespace dwfs {

enum class RunType { kScheduled, kManual, kBackfill };
const char* RunTypeName(RunType t);  // "scheduled", "manual", "backfill"

// "scheduled__2026-01-01T00:00:00+00:00" and friends (the ISO form in UTC).
std::string MakeRunId(RunType type, Instant logical_date);

struct RunInfo {
  std::string run_id;
  RunType type = RunType::kManual;
  Instant logical_date;
  DataInterval data_interval;
  Json conf = Json::Object();
};

struct TaskInstance {
  TaskState state = TaskState::kNone;
  int try_number = 0;  // tries started so far; 1 while the first try runs
  int max_tries = 1;   // retries + 1
  std::optional<Instant> start_date;
  std::optional<Instant> end_date;
  std::optional<Instant> next_retry_at;  // while up_for_retry
  std::string reason;                    // why it failed, was skipped or retried
  std::optional<std::string> xcom;       // value pushed by the last successful try
};

// How one try ended.
struct TaskOutcome {
  enum class Kind { kSuccess, kFailed, kSkipped, kTimeout };
  Kind kind = Kind::kSuccess;
  std::string reason;               // for failures and timeouts: what happened
  std::optional<std::string> xcom;  // for successes
};

class RunPlan {
 public:
  // `dag` must outlive nothing: the plan shares ownership.
  RunPlan(std::shared_ptr<const Dag> dag, RunInfo info);

  const Dag& dag() const { return *dag_; }
  const std::shared_ptr<const Dag>& dag_ptr() const { return dag_; }
  const RunInfo& info() const { return info_; }
  size_t size() const { return tis_.size(); }
  const TaskInstance& instance(int task) const { return tis_[size_t(task)]; }
  // For restoring stored state (scheduler recovery) and for `tasks clear`.
  // The caller may change the instance at any time afterwards, so from then
  // on state() is recomputed on every call instead of cached.
  TaskInstance& mutable_instance(int task) {
    state_cacheable_ = false;
    state_cache_.reset();
    return tis_[size_t(task)];
  }

  // depends_on_past: the states of this DAG's tasks in the previous run
  // (indexed like dag().tasks; nullopt where the task did not exist). Without
  // a call, there is no previous run and depends_on_past is met. A task with
  // depends_on_past waits until its previous instance succeeded or skipped.
  void SetPreviousRun(std::vector<std::optional<TaskState>> states);

  // Restricts the run to `tasks` (backfill -t): every other task is removed
  // from this run; trigger rules ignore removed upstreams.
  void Restrict(const std::vector<bool>& keep);

  // Advances the plan at `now`: up_for_retry tasks whose time has come and
  // tasks whose trigger rule is met become scheduled; tasks whose rule can no
  // longer be met become skipped or upstream_failed. Returns the tasks whose
  // state changed, in topological order.
  std::vector<int> Update(Instant now);

  // Scheduled tasks, by effective priority (priority_weight plus that of
  // every downstream task, Airflow's default weight rule), then topological
  // order. O(tasks), no sorting: the order is fixed when the plan is made.
  std::vector<int> Runnable() const;
  int EffectivePriority(int task) const { return priority_[size_t(task)]; }

  // scheduled -> queued (handed to an executor).
  void MarkQueued(int task);
  // queued/scheduled -> running: a new try starts.
  void MarkRunning(int task, Instant now);
  // A running try ended. Returns true when the task failed for good (no
  // tries left): the moment on_failure_callback runs.
  bool Finish(int task, const TaskOutcome& outcome, Instant now);
  // A queued or running try was stopped from outside (shutdown, lost
  // process): up_for_retry now if tries remain, else failed.
  bool Interrupt(int task, const std::string& reason, Instant now);
  // A try stopped by a scheduler shutdown: up_for_retry, due at once, and
  // the try does not count against the task's retries (max_tries grows by
  // one). A queued task goes back to scheduled.
  void Requeue(int task, const std::string& reason, Instant now);

  // running until every task has finished; then success when every leaf is
  // success or skipped, failed otherwise. A run with nothing runnable, running
  // or waiting for a retry or for the past, but unfinished tasks, is failed
  // (deadlock). Cached between changes (drivers ask after every event).
  RunState state() const;
  bool finished() const {
    RunState s = state();
    return s == RunState::kSuccess || s == RunState::kFailed;
  }
  // The earliest pending retry time, if any.
  std::optional<Instant> NextRetryAt() const;
  int CountIn(TaskState s) const;

 private:
  UpstreamCounts CountUpstream(int task) const;
  bool PastAllows(int task) const;
  RunState ComputeState() const;
  void Changed() { state_cache_.reset(); }

  std::shared_ptr<const Dag> dag_;
  RunInfo info_;
  std::vector<TaskInstance> tis_;
  std::vector<int> priority_;
  std::vector<int> topo_rank_;
  std::vector<int> by_priority_;  // every task, in Runnable() order
  std::optional<std::vector<std::optional<TaskState>>> previous_;
  mutable std::optional<RunState> state_cache_;
  bool state_cacheable_ = true;  // false once mutable_instance() was called
};

// Slots shared by every run a driver executes: global parallelism, each
// DAG's max_active_tasks, and pools. Not thread-safe.
class SlotTracker {
 public:
  // Pools not in `pool_sizes` get `default_pool_size` slots.
  SlotTracker(int parallelism, int default_pool_size, std::map<std::string, int> pool_sizes = {});

  // True if `task` of `dag` may start now. A task needing more slots than
  // its pool has may start when the pool is empty.
  bool CanStart(const Dag& dag, const Task& task) const;
  void Acquire(const Dag& dag, const Task& task);
  void Release(const Dag& dag, const Task& task);
  int running() const { return running_; }
  // Global parallelism is used up: CanStart is false for every task.
  bool full() const { return running_ >= parallelism_; }

 private:
  int PoolSize(const std::string& pool) const;

  int parallelism_;
  int default_pool_size_;
  std::map<std::string, int> pool_sizes_;
  int running_ = 0;
  std::map<std::string, int> per_dag_;
  std::map<std::string, int> pool_used_;
};

}  // namespace dwfs

#endif  // DWFS_RUN_PLAN_H_
