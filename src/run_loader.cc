#include "run_loader.h"

#include <signal.h>
#include <spdlog/spdlog.h>

#include <fstream>
#include <map>
#include <optional>

#include "run_recorder.h"

namespace dwfs {

bool ProcessAlive(int pid) {
  if (pid <= 0 || ::kill(pid, 0) != 0) return false;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return true;  // no /proc: kill(0) said yes
  size_t close = line.rfind(')');
  return close == std::string::npos || close + 2 >= line.size() || line[close + 2] != 'Z';
}

Status DeclareDeadOnThisHost(Store& store, int64_t self, const std::string& hostname, int pid,
                             spdlog::logger& log) {
  std::vector<SchedulerRecord> all;
  DWFS_RETURN_IF_ERROR(store.ListSchedulers(&all));
  for (const SchedulerRecord& s : all) {
    if (s.id == self || s.state != "running" || s.hostname != hostname) continue;
    if (s.pid != pid && ProcessAlive(s.pid)) continue;
    log.warn("{} {} (pid {}) on this host is gone: its runs can be taken over", s.kind, s.id, s.pid);
    DWFS_RETURN_IF_ERROR(store.StopScheduler(s.id));
  }
  return Status::OK();
}

Status LoadStoredRun(Store& store, std::shared_ptr<const Dag> dag, const RunRecord& run, const std::string& hostname,
                     int pid, Instant now, spdlog::logger& log, LoadedRun* out) {
  *out = LoadedRun();
  std::vector<TaskInstanceRecord> rows;
  DWFS_RETURN_IF_ERROR(store.ListTaskInstances(run.dag_id, run.info.run_id, &rows));
  auto plan = std::make_shared<RunPlan>(dag, run.info);
  for (const TaskInstanceRecord& r : rows) {
    int i = dag->TaskIndex(r.task_id);
    if (i < 0) continue;
    TaskInstance& ti = plan->mutable_instance(i);
    ti = r.ti;
    if (ti.state != TaskState::kRunning && ti.state != TaskState::kQueued) continue;
    if (ti.state == TaskState::kRunning && r.pid && r.hostname == hostname && *r.pid != pid && ProcessAlive(*r.pid)) {
      // An orphan of a dead scheduler or backfill of this host: its group goes first.
      ::kill(-*r.pid, SIGKILL);
      log.warn("killed the orphaned process group {} of {}.{} ({})", *r.pid, run.dag_id, r.task_id, run.info.run_id);
    }
    out->lost.push_back(i);
  }
  for (int i : out->lost) {
    if (plan->instance(i).state == TaskState::kRunning) out->lost_tries.insert(i);
    plan->Interrupt(i, "the process running this try is gone", now);
    log.warn("{}.{} ({}): try {} lost with the process running it; now {}", run.dag_id,
             dag->tasks[size_t(i)].task_id, run.info.run_id, plan->instance(i).try_number,
             TaskStateName(plan->instance(i).state));
  }
  DWFS_RETURN_IF_ERROR(LoadPreviousRun(store, *plan));
  out->plan = std::move(plan);
  return Status::OK();
}

Status LoadPreviousRun(Store& store, RunPlan& plan) {
  std::map<std::string, TaskState> past;
  DWFS_RETURN_IF_ERROR(store.PreviousRunStates(plan.dag().dag_id, plan.info().logical_date, &past));
  if (past.empty()) return Status::OK();
  std::vector<std::optional<TaskState>> states(plan.size());
  for (size_t i = 0; i < plan.size(); ++i) {
    auto it = past.find(plan.dag().tasks[i].task_id);
    if (it != past.end()) states[i] = it->second;
  }
  plan.SetPreviousRun(std::move(states));
  return Status::OK();
}

void RecordLoadedRun(RunRecorder& recorder, const LoadedRun& loaded) {
  const RunPlan& plan = *loaded.plan;
  recorder.RecordRunState(plan);
  for (int i : loaded.lost) {
    if (!loaded.lost_tries.count(i)) {
      recorder.OnTaskState(plan, i);
      continue;
    }
    TaskResult ended;
    ended.outcome.kind = TaskOutcome::Kind::kFailed;
    ended.outcome.reason = plan.instance(i).reason;
    recorder.OnTryFinished(plan, i, ended);
  }
}

}  // namespace dwfs
