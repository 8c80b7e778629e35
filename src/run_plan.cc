#include "dwfs/run_plan.h"

#include <algorithm>

namespace dwfs {

const char* RunTypeName(RunType t) {
  switch (t) {
    case RunType::kScheduled: return "scheduled";
    case RunType::kManual: return "manual";
    case RunType::kBackfill: return "backfill";
  }
  return "?";
}

std::string MakeRunId(RunType type, Instant logical_date) {
  return std::string(RunTypeName(type)) + "__" + FormatIso(logical_date, TimeZone());
}

RunPlan::RunPlan(std::shared_ptr<const Dag> dag, RunInfo info) : dag_(std::move(dag)), info_(std::move(info)) {
  const size_t n = dag_->tasks.size();
  tis_.resize(n);
  priority_.resize(n);
  topo_rank_.resize(n);
  for (size_t i = 0; i < n; ++i) tis_[i].max_tries = dag_->tasks[i].retries + 1;
  for (size_t r = 0; r < dag_->topo_order.size(); ++r) topo_rank_[size_t(dag_->topo_order[r])] = int(r);
  // Effective priority: own weight plus every distinct downstream task's.
  for (size_t i = 0; i < n; ++i) {
    std::vector<bool> seen(n, false);
    std::vector<int> stack = {int(i)};
    long long sum = 0;
    while (!stack.empty()) {
      int t = stack.back();
      stack.pop_back();
      if (seen[size_t(t)]) continue;
      seen[size_t(t)] = true;
      sum += dag_->tasks[size_t(t)].priority_weight;
      for (int d : dag_->tasks[size_t(t)].downstream_idx) stack.push_back(d);
    }
    priority_[i] = int(std::clamp<long long>(sum, -(1 << 30), 1 << 30));
  }
  by_priority_.resize(n);
  for (size_t i = 0; i < n; ++i) by_priority_[i] = int(i);
  std::sort(by_priority_.begin(), by_priority_.end(), [this](int a, int b) {
    if (priority_[size_t(a)] != priority_[size_t(b)]) return priority_[size_t(a)] > priority_[size_t(b)];
    return topo_rank_[size_t(a)] < topo_rank_[size_t(b)];
  });
}

void RunPlan::SetPreviousRun(std::vector<std::optional<TaskState>> states) {
  previous_ = std::move(states);
  Changed();
}

void RunPlan::Restrict(const std::vector<bool>& keep) {
  Changed();
  for (size_t i = 0; i < tis_.size() && i < keep.size(); ++i) {
    if (!keep[i]) tis_[i].state = TaskState::kRemoved;
  }
}

UpstreamCounts RunPlan::CountUpstream(int task) const {
  UpstreamCounts c;
  for (int u : dag_->tasks[size_t(task)].upstream_idx) {
    switch (tis_[size_t(u)].state) {
      case TaskState::kRemoved: continue;
      case TaskState::kSuccess: ++c.success; break;
      case TaskState::kSkipped: ++c.skipped; break;
      case TaskState::kFailed: ++c.failed; break;
      case TaskState::kUpstreamFailed: ++c.upstream_failed; break;
      default: break;
    }
    ++c.total;
  }
  return c;
}

bool RunPlan::PastAllows(int task) const {
  if (!dag_->tasks[size_t(task)].depends_on_past || !previous_) return true;
  if (size_t(task) >= previous_->size() || !(*previous_)[size_t(task)]) return true;
  TaskState prev = *(*previous_)[size_t(task)];
  return prev == TaskState::kSuccess || prev == TaskState::kSkipped;
}

std::vector<int> RunPlan::Update(Instant now) {
  std::vector<int> changed;
  for (int t : dag_->topo_order) {
    TaskInstance& ti = tis_[size_t(t)];
    if (ti.state == TaskState::kUpForRetry) {
      if (ti.next_retry_at && *ti.next_retry_at > now) continue;
      ti.state = TaskState::kScheduled;
      ti.next_retry_at.reset();
      changed.push_back(t);
      continue;
    }
    if (ti.state != TaskState::kNone) continue;
    switch (DecideTrigger(dag_->tasks[size_t(t)].trigger_rule, CountUpstream(t))) {
      case TriggerDecision::kWait:
        break;
      case TriggerDecision::kRun:
        if (!PastAllows(t)) break;
        ti.state = TaskState::kScheduled;
        changed.push_back(t);
        break;
      case TriggerDecision::kSkip:
        ti.state = TaskState::kSkipped;
        ti.reason = "skipped by trigger rule " + std::string(TriggerRuleName(dag_->tasks[size_t(t)].trigger_rule));
        ti.start_date = ti.end_date = now;
        changed.push_back(t);
        break;
      case TriggerDecision::kUpstreamFailed:
        ti.state = TaskState::kUpstreamFailed;
        ti.reason = "an upstream task failed (trigger rule " +
                    std::string(TriggerRuleName(dag_->tasks[size_t(t)].trigger_rule)) + ")";
        ti.start_date = ti.end_date = now;
        changed.push_back(t);
        break;
    }
  }
  if (!changed.empty()) Changed();
  return changed;
}

std::vector<int> RunPlan::Runnable() const {
  std::vector<int> out;
  for (int t : by_priority_) {
    if (tis_[size_t(t)].state == TaskState::kScheduled) out.push_back(t);
  }
  return out;
}

void RunPlan::MarkQueued(int task) {
  tis_[size_t(task)].state = TaskState::kQueued;
  Changed();
}

void RunPlan::MarkRunning(int task, Instant now) {
  Changed();
  TaskInstance& ti = tis_[size_t(task)];
  ti.state = TaskState::kRunning;
  ++ti.try_number;
  ti.start_date = now;
  ti.end_date.reset();
  ti.reason.clear();
}

bool RunPlan::Finish(int task, const TaskOutcome& outcome, Instant now) {
  Changed();
  TaskInstance& ti = tis_[size_t(task)];
  ti.end_date = now;
  ti.reason = outcome.reason;
  switch (outcome.kind) {
    case TaskOutcome::Kind::kSuccess:
      ti.state = TaskState::kSuccess;
      ti.xcom = outcome.xcom;
      return false;
    case TaskOutcome::Kind::kSkipped:
      ti.state = TaskState::kSkipped;
      return false;
    case TaskOutcome::Kind::kFailed:
    case TaskOutcome::Kind::kTimeout:
      break;
  }
  if (ti.try_number < ti.max_tries) {
    ti.state = TaskState::kUpForRetry;
    ti.next_retry_at = now + RetryDelay(dag_->tasks[size_t(task)], ti.try_number);
    return false;
  }
  ti.state = TaskState::kFailed;
  return true;
}

bool RunPlan::Interrupt(int task, const std::string& reason, Instant now) {
  Changed();
  TaskInstance& ti = tis_[size_t(task)];
  if (ti.state == TaskState::kQueued) {  // never started: no try used
    ti.state = TaskState::kScheduled;
    return false;
  }
  return Finish(task, TaskOutcome{TaskOutcome::Kind::kFailed, reason, std::nullopt}, now);
}

void RunPlan::Requeue(int task, const std::string& reason, Instant now) {
  Changed();
  TaskInstance& ti = tis_[size_t(task)];
  if (ti.state == TaskState::kQueued) {
    ti.state = TaskState::kScheduled;
    return;
  }
  ti.state = TaskState::kUpForRetry;
  ti.reason = reason;
  ti.end_date = now;
  ti.next_retry_at = now;
  ++ti.max_tries;
}

RunState RunPlan::state() const {
  if (!state_cacheable_) return ComputeState();
  if (!state_cache_) state_cache_ = ComputeState();
  return *state_cache_;
}

RunState RunPlan::ComputeState() const {
  bool all_finished = true, busy = false, waiting = false;
  for (size_t i = 0; i < tis_.size(); ++i) {
    TaskState s = tis_[i].state;
    if (IsFinished(s)) continue;
    all_finished = false;
    if (s == TaskState::kScheduled || s == TaskState::kQueued || s == TaskState::kRunning ||
        s == TaskState::kUpForRetry) {
      busy = true;
    } else if (s == TaskState::kNone && dag_->tasks[i].depends_on_past && !PastAllows(int(i))) {
      waiting = true;  // waiting for the previous run, not a deadlock
    } else if (s == TaskState::kNone) {
      // Undecided: waits for an upstream that is itself not finished.
      for (int u : dag_->tasks[i].upstream_idx) {
        if (!IsFinished(tis_[size_t(u)].state)) busy = true;
      }
      if (DecideTrigger(dag_->tasks[i].trigger_rule, CountUpstream(int(i))) != TriggerDecision::kWait) busy = true;
    }
  }
  if (!all_finished) {
    if (busy || waiting) return tis_.empty() ? RunState::kQueued : RunState::kRunning;
    return RunState::kFailed;  // deadlock: nothing can ever move
  }
  for (size_t i = 0; i < tis_.size(); ++i) {
    bool leaf = true;
    for (int d : dag_->tasks[i].downstream_idx) {
      if (tis_[size_t(d)].state != TaskState::kRemoved) leaf = false;
    }
    if (!leaf) continue;
    TaskState s = tis_[i].state;
    if (s == TaskState::kFailed || s == TaskState::kUpstreamFailed) return RunState::kFailed;
  }
  return RunState::kSuccess;
}

std::optional<Instant> RunPlan::NextRetryAt() const {
  std::optional<Instant> best;
  for (const TaskInstance& ti : tis_) {
    if (ti.state == TaskState::kUpForRetry && ti.next_retry_at && (!best || *ti.next_retry_at < *best)) {
      best = ti.next_retry_at;
    }
  }
  return best;
}

int RunPlan::CountIn(TaskState s) const {
  return int(std::count_if(tis_.begin(), tis_.end(), [s](const TaskInstance& ti) { return ti.state == s; }));
}

SlotTracker::SlotTracker(int parallelism, int default_pool_size, std::map<std::string, int> pool_sizes)
    : parallelism_(parallelism), default_pool_size_(default_pool_size), pool_sizes_(std::move(pool_sizes)) {}

int SlotTracker::PoolSize(const std::string& pool) const {
  auto it = pool_sizes_.find(pool);
  return it == pool_sizes_.end() ? default_pool_size_ : it->second;
}

bool SlotTracker::CanStart(const Dag& dag, const Task& task) const {
  if (running_ >= parallelism_) return false;
  auto d = per_dag_.find(dag.dag_id);
  if (d != per_dag_.end() && d->second >= dag.max_active_tasks) return false;
  auto p = pool_used_.find(task.pool);
  int used = p == pool_used_.end() ? 0 : p->second;
  if (used == 0) return true;
  return used + task.pool_slots <= PoolSize(task.pool);
}

void SlotTracker::Acquire(const Dag& dag, const Task& task) {
  ++running_;
  ++per_dag_[dag.dag_id];
  pool_used_[task.pool] += task.pool_slots;
}

void SlotTracker::Release(const Dag& dag, const Task& task) {
  --running_;
  if (--per_dag_[dag.dag_id] <= 0) per_dag_.erase(dag.dag_id);
  if ((pool_used_[task.pool] -= task.pool_slots) <= 0) pool_used_.erase(task.pool);
}

}  // namespace dwfs
