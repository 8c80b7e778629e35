// Trigger and clear, shared by the CLI and the API; see dag_actions.h.
#include "dwfs/dag_actions.h"

#include <algorithm>
#include <cctype>
#include <string_view>

#include "dwfs/dag_registry.h"

namespace dwfs {

RunInfo ManualRunInfo(const Dag& dag, Instant logical_date, const std::string& run_id, Json conf) {
  RunInfo info;
  info.type = RunType::kManual;
  info.logical_date = logical_date;
  info.data_interval = {logical_date, logical_date};
  std::optional<DataInterval> i = dag.timetable().IntervalAtOrAfter(logical_date);
  if (i && i->start == logical_date) info.data_interval = *i;
  info.run_id = run_id.empty() ? MakeRunId(RunType::kManual, logical_date) : run_id;
  info.conf = conf.is_null() ? Json::Object() : std::move(conf);
  return info;
}

Status CheckRunId(const std::string& run_id) {
  bool ok = !run_id.empty() && run_id.size() <= 250 && run_id != "." && run_id != "..";
  for (char c : run_id) {
    ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || std::string_view("_.~:+-").find(c) != std::string_view::npos);
  }
  if (ok) return Status::OK();
  std::string shown = run_id.substr(0, 60);
  for (char& c : shown) c = c >= 0x20 && c < 0x7f ? c : '?';
  return Status::InvalidArgument("run id '" + shown + "': use 1-250 characters of letters, digits and _.~:+-");
}

namespace {

// Whether a string or key anywhere in `j` holds a NUL character.
bool HasNul(const Json& j) {
  if (j.str().find('\0') != std::string::npos) return true;
  for (const Json& item : j.items()) {
    if (HasNul(item)) return true;
  }
  for (const auto& [key, value] : j.members()) {
    if (key.find('\0') != std::string::npos || HasNul(value)) return true;
  }
  return false;
}

}  // namespace

Status TriggerRun(Store& store, const Dag& dag, const RunInfo& info, Instant now) {
  DWFS_RETURN_IF_ERROR(CheckRunId(info.run_id));
  // Valid JSON, but PostgreSQL's jsonb cannot hold it: say so, not a
  // database error.
  if (HasNul(info.conf)) {
    return Status::InvalidArgument("conf: a NUL character (\\u0000) cannot be stored");
  }
  DWFS_RETURN_IF_ERROR(StoreDagIfNew(store, dag, now));
  Status st = store.CreateRun(dag.dag_id, info, RunState::kQueued, now, std::nullopt);
  if (st.code() == Status::Code::kAlreadyExists) {
    return Status::AlreadyExists("DAG '" + dag.dag_id + "' already has run '" + info.run_id + "' or a run at " +
                                 FormatIso(info.logical_date, dag.timezone));
  }
  return st;
}

Status FindInstancesToClear(Store& store, const std::string& dag_id, const ClearSelection& selection,
                            std::vector<ClearItem>* out) {
  out->clear();
  std::vector<RunRecord> runs;
  DWFS_RETURN_IF_ERROR(store.ListRuns(dag_id, std::nullopt, &runs));
  std::reverse(runs.begin(), runs.end());  // oldest first
  for (const RunRecord& r : runs) {
    if (selection.run_id && r.info.run_id != *selection.run_id) continue;
    if ((selection.from && r.info.logical_date < *selection.from) ||
        (selection.to && r.info.logical_date > *selection.to)) {
      continue;
    }
    std::vector<TaskInstanceRecord> tis;
    DWFS_RETURN_IF_ERROR(store.ListTaskInstances(dag_id, r.info.run_id, &tis));
    for (TaskInstanceRecord& t : tis) {
      if (!selection.task_ids.count(t.task_id)) continue;
      TaskState s = t.ti.state;
      if (selection.only_failed && s != TaskState::kFailed && s != TaskState::kUpstreamFailed) continue;
      if (selection.only_running && s != TaskState::kRunning && s != TaskState::kQueued) continue;
      out->push_back({r, std::move(t)});
    }
  }
  return Status::OK();
}

Status ClearItems(Store& store, const std::string& dag_id, const std::vector<ClearItem>& items, Instant now,
                  size_t* runs) {
  *runs = 0;
  for (size_t i = 0; i < items.size();) {
    const std::string& run_id = items[i].run.info.run_id;
    std::vector<std::string> task_ids;
    for (; i < items.size() && items[i].run.info.run_id == run_id; ++i) task_ids.push_back(items[i].instance.task_id);
    DWFS_RETURN_IF_ERROR(store.ClearTaskInstances(dag_id, run_id, task_ids, now));
    ++*runs;
  }
  return Status::OK();
}

}  // namespace dwfs
