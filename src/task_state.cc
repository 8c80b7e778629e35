#include "dwfs/task_state.h"

#include <algorithm>

namespace dwfs {

namespace {

struct StateName {
  TaskState state;
  const char* name;
};
constexpr StateName kStates[] = {
    {TaskState::kNone, "none"},
    {TaskState::kScheduled, "scheduled"},
    {TaskState::kQueued, "queued"},
    {TaskState::kRunning, "running"},
    {TaskState::kSuccess, "success"},
    {TaskState::kFailed, "failed"},
    {TaskState::kUpForRetry, "up_for_retry"},
    {TaskState::kSkipped, "skipped"},
    {TaskState::kUpstreamFailed, "upstream_failed"},
    {TaskState::kRemoved, "removed"},
};

constexpr const char* kRunStates[] = {"queued", "running", "success", "failed"};

}  // namespace

const char* TaskStateName(TaskState s) {
  for (const auto& n : kStates) {
    if (n.state == s) return n.name;
  }
  return "?";
}

bool ParseTaskState(std::string_view name, TaskState* out) {
  for (const auto& n : kStates) {
    if (name == n.name) {
      *out = n.state;
      return true;
    }
  }
  return false;
}

bool IsFinished(TaskState s) {
  switch (s) {
    case TaskState::kSuccess:
    case TaskState::kFailed:
    case TaskState::kSkipped:
    case TaskState::kUpstreamFailed:
    case TaskState::kRemoved:
      return true;
    default:
      return false;
  }
}

const char* RunStateName(RunState s) { return kRunStates[static_cast<int>(s)]; }

bool ParseRunState(std::string_view name, RunState* out) {
  for (int i = 0; i < 4; ++i) {
    if (name == kRunStates[i]) {
      *out = static_cast<RunState>(i);
      return true;
    }
  }
  return false;
}

TriggerDecision DecideTrigger(TriggerRule rule, const UpstreamCounts& c) {
  using D = TriggerDecision;
  if (c.total == 0) return D::kRun;
  const bool all_done = c.done() >= c.total;
  const int failures = c.failed + c.upstream_failed;
  switch (rule) {
    case TriggerRule::kAllSuccess:
      if (failures > 0) return D::kUpstreamFailed;
      if (c.skipped > 0) return D::kSkip;
      return c.success == c.total ? D::kRun : D::kWait;
    case TriggerRule::kAllFailed:
      if (c.success + c.skipped > 0) return D::kSkip;
      return failures == c.total ? D::kRun : D::kWait;
    case TriggerRule::kAllDone:
      return all_done ? D::kRun : D::kWait;
    case TriggerRule::kAllSkipped:
      if (c.success + failures > 0) return D::kSkip;
      return c.skipped == c.total ? D::kRun : D::kWait;
    case TriggerRule::kOneSuccess:
      if (c.success > 0) return D::kRun;
      if (!all_done) return D::kWait;
      return c.skipped == c.total ? D::kSkip : D::kUpstreamFailed;
    case TriggerRule::kOneFailed:
      if (failures > 0) return D::kRun;
      return all_done ? D::kSkip : D::kWait;
    case TriggerRule::kOneDone:
      if (c.success + c.failed > 0) return D::kRun;
      return all_done ? D::kSkip : D::kWait;
    case TriggerRule::kNoneFailed:
      if (failures > 0) return D::kUpstreamFailed;
      return all_done ? D::kRun : D::kWait;
    case TriggerRule::kNoneFailedMinOneSuccess:
      if (failures > 0) return D::kUpstreamFailed;
      if (!all_done) return D::kWait;
      return c.success > 0 ? D::kRun : D::kSkip;
    case TriggerRule::kNoneSkipped:
      if (c.skipped > 0) return D::kSkip;
      return all_done ? D::kRun : D::kWait;
    case TriggerRule::kAlways:
      return D::kRun;
  }
  return D::kWait;
}

Seconds RetryDelay(const Task& task, int try_number) {
  Seconds delay = task.retry_delay;
  if (task.retry_exponential_backoff) {
    int shift = std::clamp(try_number - 1, 0, 40);
    long long secs = delay.count();
    // Saturate instead of overflowing; the cap below applies anyway.
    for (int i = 0; i < shift && secs < (1LL << 40); ++i) secs *= 2;
    delay = Seconds(secs);
  }
  if (task.max_retry_delay && delay > *task.max_retry_delay) delay = *task.max_retry_delay;
  // Airflow caps every retry delay at 24 hours when none is given.
  if (!task.max_retry_delay && task.retry_exponential_backoff && delay > Seconds(86400)) delay = Seconds(86400);
  return delay;
}

}  // namespace dwfs
