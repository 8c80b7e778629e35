// Loading a stored run back into the run engine: the scheduler (resuming
// its runs, adopting a dead scheduler's) and `dags backfill` (resuming an
// interrupted backfill) share it, so that a run comes back the same way
// whoever drives it next.
//
// Also the liveness rules for the processes that own runs (schedulers and
// backfills are both "scheduler instances" in the store).
#ifndef DWFS_RUN_LOADER_H_
#define DWFS_RUN_LOADER_H_

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "dwfs/run_plan.h"
#include "dwfs/status.h"
#include "dwfs/store.h"

namespace spdlog {
class logger;
}

namespace dwfs {

class RunRecorder;

// Whether `pid` runs (neither gone nor a zombie).
bool ProcessAlive(int pid);

// Instances of this host (any kind) in state running whose process is gone
// (a crash, kill -9) are stopped now, without waiting for the zombie
// threshold, so that their runs can be taken over. `self` is never touched.
Status DeclareDeadOnThisHost(Store& store, int64_t self, const std::string& hostname, int pid,
                             spdlog::logger& log);

struct LoadedRun {
  std::shared_ptr<RunPlan> plan;
  std::vector<int> lost;     // instances that were queued or running (now interrupted)
  std::set<int> lost_tries;  // of those, the ones whose try was running (their try rows end)
};

// Builds the plan of a stored run: its task instances as stored, the
// previous run's states for depends_on_past. Instances that were queued or
// running belong to a process that is gone: a running try's process group
// on this host (`hostname`, pid other than `pid`) that still lives is an
// orphan and is killed; the instances are interrupted (up_for_retry while
// tries remain, else failed). Fails, changing nothing in the store, when the
// store cannot be read.
Status LoadStoredRun(Store& store, std::shared_ptr<const Dag> dag, const RunRecord& run, const std::string& hostname,
                     int pid, Instant now, spdlog::logger& log, LoadedRun* out);

// depends_on_past: gives `plan` the states of the run before it (by logical
// date) as stored; no call when there is none.
Status LoadPreviousRun(Store& store, RunPlan& plan);

// Tells the recorder what loading decided: the run's state and start, the
// interrupted instances, and the end of each lost try.
void RecordLoadedRun(RunRecorder& recorder, const LoadedRun& loaded);

}  // namespace dwfs

#endif  // DWFS_RUN_LOADER_H_
