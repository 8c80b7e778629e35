// Task instance and DAG run states (dag-files.md, "Task states"), and the
// pure trigger-rule decision.
#ifndef DWFS_TASK_STATE_H_
#define DWFS_TASK_STATE_H_

#include <optional>
#include <string>
#include <string_view>

#include "dwfs/dag.h"
#include "dwfs/time_util.h"

namespace dwfs {

enum class TaskState {
  kNone,
  kScheduled,
  kQueued,
  kRunning,
  kSuccess,
  kFailed,
  kUpForRetry,
  kSkipped,
  kUpstreamFailed,
  kRemoved,
};

// "none", "scheduled", ..., "upstream_failed", "removed".
const char* TaskStateName(TaskState s);
bool ParseTaskState(std::string_view name, TaskState* out);
// success, failed, skipped, upstream_failed, removed.
bool IsFinished(TaskState s);

enum class RunState { kQueued, kRunning, kSuccess, kFailed };
const char* RunStateName(RunState s);
bool ParseRunState(std::string_view name, RunState* out);

// Direct upstream states of one task, counted (removed upstreams are left
// out, as if the edge did not exist).
struct UpstreamCounts {
  int total = 0;
  int success = 0;
  int skipped = 0;
  int failed = 0;
  int upstream_failed = 0;
  int done() const { return success + skipped + failed + upstream_failed; }
};

enum class TriggerDecision {
  kWait,            // not decidable yet
  kRun,             // the rule is met
  kSkip,            // becomes skipped
  kUpstreamFailed,  // becomes upstream_failed
};

// Airflow's trigger rules, decided as early as possible (a task whose rule
// can no longer be met is settled without waiting for every upstream). A
// task without upstreams always runs.
TriggerDecision DecideTrigger(TriggerRule rule, const UpstreamCounts& c);

// The delay before retry after try `try_number` (1-based) failed:
// retry_delay, or retry_delay * 2^(try_number-1) with exponential backoff,
// capped by max_retry_delay.
Seconds RetryDelay(const Task& task, int try_number);

}  // namespace dwfs

#endif  // DWFS_TASK_STATE_H_
