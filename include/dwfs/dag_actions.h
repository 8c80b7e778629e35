// The state-changing actions that both the command line (`dags trigger`,
// `tasks clear`) and the HTTP API (POST dagRuns, clearTaskInstances) take,
// written once here so the two cannot drift.
#ifndef DWFS_DAG_ACTIONS_H_
#define DWFS_DAG_ACTIONS_H_

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "dwfs/dag.h"
#include "dwfs/json.h"
#include "dwfs/run_plan.h"
#include "dwfs/status.h"
#include "dwfs/store.h"
#include "dwfs/time_util.h"

namespace dwfs {

// The RunInfo of a manual run of `dag` at `logical_date` (Airflow's
// trigger): the schedule's interval starting there when the date is one of
// its logical dates, else an empty interval at the date; `run_id` empty ->
// "manual__<date>".
RunInfo ManualRunInfo(const Dag& dag, Instant logical_date, const std::string& run_id, Json conf);

// InvalidArgument unless `run_id` is 1-250 characters of [A-Za-z0-9_.~:+-]
// (Airflow's rule) and not "." or "..": run ids name log folders.
Status CheckRunId(const std::string& run_id);

// Creates the run queued (the scheduler starts it). The DAG is stored first
// when no scheduler has seen it yet. AlreadyExists naming the run id and
// date when the DAG has a run with that id or logical date; CheckRunId's
// error for a bad id.
Status TriggerRun(Store& store, const Dag& dag, const RunInfo& info, Instant now);

// Which task instances a clear resets.
struct ClearSelection {
  std::set<std::string> task_ids;        // the tasks (SelectTasks with -t/-u/-d)
  std::optional<Instant> from, to;       // logical dates, inclusive
  std::optional<std::string> run_id;     // only this run
  bool only_failed = false;              // failed and upstream_failed only
  bool only_running = false;             // running and queued only
};
struct ClearItem {
  RunRecord run;
  TaskInstanceRecord instance;
};

// The stored task instances `selection` picks, runs oldest first.
Status FindInstancesToClear(Store& store, const std::string& dag_id, const ClearSelection& selection,
                            std::vector<ClearItem>* out);
// Clears them (one transaction per run; see Store::ClearTaskInstances).
// *runs is set to the number of runs touched.
Status ClearItems(Store& store, const std::string& dag_id, const std::vector<ClearItem>& items, Instant now,
                  size_t* runs);

}  // namespace dwfs

#endif  // DWFS_DAG_ACTIONS_H_
