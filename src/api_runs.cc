// /api/v1/dags/{dag_id}/dagRuns..., taskInstances, logs and
// clearTaskInstances.
#include <sys/stat.h>

#include <algorithm>
#include <fstream>

#include "api_internal.h"
#include "dwfs/dag_actions.h"

namespace dwfs {
namespace api {

// The stored run (404 naming DAG and run when absent).
Status LoadRun(Call& call, const std::string& dag_id, const std::string& run_id, RunRecord* run) {
  Status st = call.store->GetRun(dag_id, run_id, run);
  if (st.code() == Status::Code::kNotFound) {
    DagRecord rec;
    if (call.store->GetDag(dag_id, &rec).code() == Status::Code::kNotFound) {
      return Status::NotFound("DAG '" + dag_id + "' not found");
    }
    return Status::NotFound("DAG '" + dag_id + "' has no run '" + run_id + "'");
  }
  return st;
}

Json InstanceJson(const RunRecord& run, const std::string& task_id, const Task* task, const TaskInstanceRecord* t) {
  Json j = Json::Object();
  j.Set("task_id", task_id);
  j.Set("dag_id", run.dag_id);
  j.Set("dag_run_id", run.info.run_id);
  j.Set("execution_date", FormatIso(run.info.logical_date, TimeZone()));
  j.Set("start_date", t ? Time(t->ti.start_date) : Json());
  j.Set("end_date", t ? Time(t->ti.end_date) : Json());
  j.Set("duration", t && t->duration ? Json(*t->duration) : Json());
  j.Set("state", t && t->ti.state != TaskState::kNone ? Json(TaskStateName(t->ti.state)) : Json());
  j.Set("try_number", t ? t->ti.try_number : 0);
  j.Set("max_tries", t ? t->ti.max_tries : task ? task->retries + 1 : 1);
  j.Set("hostname", t ? t->hostname : "");
  j.Set("pid", t && t->pid ? Json(*t->pid) : Json());
  j.Set("pool", t && !t->pool.empty() ? t->pool : task ? task->pool : "default_pool");
  j.Set("pool_slots", task ? task->pool_slots : 1);
  j.Set("priority_weight", task ? task->priority_weight : 1);
  j.Set("operator", task ? Json(task->operator_name) : Json());
  j.Set("note", t && !t->ti.reason.empty() ? Json(t->ti.reason) : Json());
  return j;
}

namespace {

HttpResponse ListRuns(Call& call) {
  const std::string& dag_id = call.Param("dag_id");
  Page page;
  API_RETURN_IF_ERROR(ParsePage(call, &page));
  std::vector<RunState> states;
  for (const std::string& s : call.req.QueryAll("state")) {
    RunState rs;
    if (!ParseRunState(s, &rs)) {
      return HttpResponse::Problem(400, "state '" + s.substr(0, 50) + "': use queued, running, success or failed");
    }
    states.push_back(rs);
  }
  std::string order = call.req.Query("order_by").value_or("logical_date");
  if (order != "logical_date" && order != "-logical_date") {
    return HttpResponse::Problem(400, "order_by '" + order.substr(0, 100) + "': use logical_date or -logical_date");
  }
  DagRecord rec;
  Status st = call.store->GetDag(dag_id, &rec);
  if (st.code() == Status::Code::kNotFound) return HttpResponse::Problem(404, "DAG '" + dag_id + "' not found");
  API_RETURN_IF_ERROR(st);
  std::vector<RunRecord> runs;
  API_RETURN_IF_ERROR(call.store->ListRuns(dag_id, std::nullopt, &runs));  // newest first
  if (order == "logical_date") std::reverse(runs.begin(), runs.end());
  std::vector<const RunRecord*> picked;
  for (const RunRecord& r : runs) {
    if (states.empty() || std::find(states.begin(), states.end(), r.state) != states.end()) picked.push_back(&r);
  }
  return PagedList("dag_runs", picked, page, [](const RunRecord* r, size_t) { return RunJson(*r); });
}

HttpResponse TriggerRunRoute(Call& call) {
  const std::string& dag_id = call.Param("dag_id");
  Json body;
  if (call.req.body.empty()) {
    body = Json::Object();
  } else {
    API_RETURN_IF_ERROR(ParseBody(call.req, &body));
  }
  API_RETURN_IF_ERROR(CheckKeys(body, {"dag_run_id", "logical_date", "execution_date", "conf", "note"}));
  std::optional<std::string> run_id;
  std::optional<Instant> logical, execution;
  API_RETURN_IF_ERROR(GetString(body, "dag_run_id", &run_id));
  API_RETURN_IF_ERROR(GetTime(body, "logical_date", &logical));
  API_RETURN_IF_ERROR(GetTime(body, "execution_date", &execution));
  Json conf = Json::Object();
  if (const Json* c = body.Find("conf"); c != nullptr && !c->is_null()) {
    if (c->type() != Json::Type::kObject) return HttpResponse::Problem(400, "'conf' must be a JSON object");
    conf = *c;
  }
  if (logical && execution && *logical != *execution) {
    return HttpResponse::Problem(400, "'logical_date' and 'execution_date' differ: send one");
  }
  DagRecord rec;
  std::shared_ptr<const Dag> dag;
  API_RETURN_IF_ERROR(LoadDag(call, dag_id, &rec, &dag));
  if (!dag) return HttpResponse::Problem(409, "DAG '" + dag_id + "' has no loadable definition stored");
  RunInfo info = ManualRunInfo(*dag, logical ? *logical : execution.value_or(call.now), run_id.value_or(""),
                               std::move(conf));
  API_RETURN_IF_ERROR(TriggerRun(*call.store, *dag, info, call.now));
  call.log.info("api: {} triggered run {} of DAG {}", call.user.empty() ? "-" : call.user, info.run_id, dag_id);
  RunRecord run;
  API_RETURN_IF_ERROR(call.store->GetRun(dag_id, info.run_id, &run));
  return HttpResponse::JsonBody(RunJson(run));
}

HttpResponse GetRun(Call& call) {
  RunRecord run;
  API_RETURN_IF_ERROR(LoadRun(call, call.Param("dag_id"), call.Param("dag_run_id"), &run));
  return HttpResponse::JsonBody(RunJson(run));
}

// Every task of the run: the DAG's tasks in dependency order (those with
// no row yet have state null), then stored rows of tasks no longer in it.
Status RunInstances(Call& call, const RunRecord& run, std::vector<Json>* out) {
  std::vector<TaskInstanceRecord> tis;
  DWFS_RETURN_IF_ERROR(call.store->ListTaskInstances(run.dag_id, run.info.run_id, &tis));
  std::map<std::string, const TaskInstanceRecord*> by_id;
  for (const TaskInstanceRecord& t : tis) by_id[t.task_id] = &t;
  DagRecord rec;
  std::shared_ptr<const Dag> dag;
  DWFS_RETURN_IF_ERROR(LoadDag(call, run.dag_id, &rec, &dag));
  if (dag) {
    for (int i : dag->topo_order) {
      const Task& task = dag->tasks[size_t(i)];
      auto it = by_id.find(task.task_id);
      out->push_back(InstanceJson(run, task.task_id, &task, it == by_id.end() ? nullptr : it->second));
      if (it != by_id.end()) by_id.erase(it);
    }
  }
  for (const TaskInstanceRecord& t : tis) {
    if (by_id.count(t.task_id)) out->push_back(InstanceJson(run, t.task_id, nullptr, &t));
  }
  return Status::OK();
}

HttpResponse ListInstances(Call& call) {
  Page page;
  API_RETURN_IF_ERROR(ParsePage(call, &page));
  RunRecord run;
  API_RETURN_IF_ERROR(LoadRun(call, call.Param("dag_id"), call.Param("dag_run_id"), &run));
  std::vector<Json> all;
  API_RETURN_IF_ERROR(RunInstances(call, run, &all));
  return PagedList("task_instances", all, page, [](const Json& j, size_t) { return j; });
}

HttpResponse GetInstance(Call& call) {
  RunRecord run;
  API_RETURN_IF_ERROR(LoadRun(call, call.Param("dag_id"), call.Param("dag_run_id"), &run));
  std::vector<Json> all;
  API_RETURN_IF_ERROR(RunInstances(call, run, &all));
  const std::string& task_id = call.Param("task_id");
  for (Json& j : all) {
    if (j.Find("task_id")->str() == task_id) return HttpResponse::JsonBody(j);
  }
  return HttpResponse::Problem(404, "task '" + task_id + "' not found in run '" + run.info.run_id + "' of DAG '" +
                                        run.dag_id + "'");
}

HttpResponse GetLog(Call& call) {
  const std::string& dag_id = call.Param("dag_id");
  const std::string& task_id = call.Param("task_id");
  const std::string& try_text = call.Param("task_try_number");
  int try_number = 0;
  if (try_text.empty() || try_text.size() > 6 ||
      !std::all_of(try_text.begin(), try_text.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
      (try_number = std::stoi(try_text)) < 1) {
    return HttpResponse::Problem(400, "try number '" + try_text.substr(0, 20) + "' must be a positive integer");
  }
  RunRecord run;
  API_RETURN_IF_ERROR(LoadRun(call, dag_id, call.Param("dag_run_id"), &run));
  std::vector<TryRecord> tries;
  API_RETURN_IF_ERROR(call.store->ListTries(dag_id, run.info.run_id, task_id, &tries));
  const TryRecord* pick = nullptr;
  for (const TryRecord& t : tries) {
    if (t.try_number == try_number) pick = &t;
  }
  std::string what = "task '" + task_id + "' of run '" + run.info.run_id + "' of DAG '" + dag_id + "'";
  if (!pick) return HttpResponse::Problem(404, what + " has no try " + try_text);
  struct stat sb;
  if (pick->log_path.empty() || ::stat(pick->log_path.c_str(), &sb) != 0 || !S_ISREG(sb.st_mode)) {
    return HttpResponse::Problem(404, what + " try " + try_text + " has no log file");
  }
  uint64_t size = uint64_t(sb.st_size);
  ByteRange range{0, size};
  RangeResult rr = ParseRange(call.req.Header("range"), size, &range);
  if (rr == RangeResult::kUnsatisfiable) {
    return HttpResponse::Problem(416, "the log has " + std::to_string(size) + " bytes")
        .Set("Content-Range", "bytes */" + std::to_string(size));
  }
  if (rr != RangeResult::kSatisfiable) range = {0, size};
  HttpResponse res;
  if (call.req.Header("accept").find("application/json") != std::string::npos) {
    constexpr uint64_t kJsonLimit = 4 << 20;
    uint64_t n = std::min(range.length, kJsonLimit);
    std::string content(n, '\0');
    std::ifstream in(pick->log_path, std::ios::binary);
    in.seekg(std::streamoff(range.offset));
    in.read(content.data(), std::streamsize(n));
    content.resize(size_t(in.gcount()));
    Json body = Json::Object();
    body.Set("content", content);
    body.Set("offset", int64_t(range.offset));
    body.Set("size", int64_t(size));
    body.Set("truncated", n < range.length);
    body.Set("continuation_token", Json());
    res = HttpResponse::JsonBody(body);
  } else {
    res.Set("Content-Type", "text/plain; charset=utf-8");
    res.file_path = pick->log_path;
    res.file_offset = range.offset;
    res.file_length = range.length;
  }
  res.Set("Accept-Ranges", "bytes");
  if (rr == RangeResult::kSatisfiable) {
    res.status = 206;
    res.Set("Content-Range", "bytes " + std::to_string(range.offset) + "-" +
                                 std::to_string(range.offset + range.length - 1) + "/" + std::to_string(size));
  }
  return res;
}

// The task set of a clear: `task_ids` (every task when absent) plus their
// upstream/downstream tasks.
Status ClearTasks(const Dag& dag, const std::optional<std::vector<std::string>>& task_ids, bool upstream,
                  bool downstream, std::set<std::string>* out) {
  std::string regex;
  if (task_ids) {
    for (const std::string& id : *task_ids) {
      if (!dag.FindTask(id)) return Status::NotFound("task '" + id.substr(0, 250) + "' not found in DAG '" + dag.dag_id + "'");
      std::string escaped;
      for (char c : id) {
        if (c == '.' || c == '-') escaped.push_back('\\');
        escaped.push_back(c);
      }
      regex += (regex.empty() ? "^(" : "|") + escaped;
    }
    if (task_ids->empty()) return Status::InvalidArgument("'task_ids' is empty");
    regex += ")$";
  }
  std::vector<bool> selected;
  DWFS_RETURN_IF_ERROR(SelectTasks(dag, regex, upstream, downstream, &selected));
  for (size_t i = 0; i < selected.size(); ++i) {
    if (selected[i]) out->insert(dag.tasks[i].task_id);
  }
  return Status::OK();
}

HttpResponse ClearInstances(Call& call) {
  const std::string& dag_id = call.Param("dag_id");
  Json body;
  API_RETURN_IF_ERROR(ParseBody(call.req, &body));
  API_RETURN_IF_ERROR(CheckKeys(body, {"dry_run", "task_ids", "start_date", "end_date", "only_failed", "only_running",
                                       "include_upstream", "include_downstream", "dag_run_id", "reset_dag_runs",
                                       "include_subdags", "include_parentdag"}));
  std::optional<bool> dry_run, only_failed, only_running, upstream, downstream, ignored;
  std::optional<std::vector<std::string>> task_ids;
  std::optional<std::string> run_id;
  ClearSelection sel;
  API_RETURN_IF_ERROR(GetBool(body, "dry_run", &dry_run));
  API_RETURN_IF_ERROR(GetBool(body, "only_failed", &only_failed));
  API_RETURN_IF_ERROR(GetBool(body, "only_running", &only_running));
  API_RETURN_IF_ERROR(GetBool(body, "include_upstream", &upstream));
  API_RETURN_IF_ERROR(GetBool(body, "include_downstream", &downstream));
  for (const char* k : {"reset_dag_runs", "include_subdags", "include_parentdag"}) {
    API_RETURN_IF_ERROR(GetBool(body, k, &ignored));
  }
  API_RETURN_IF_ERROR(GetStringList(body, "task_ids", &task_ids));
  API_RETURN_IF_ERROR(GetString(body, "dag_run_id", &run_id));
  API_RETURN_IF_ERROR(GetTime(body, "start_date", &sel.from));
  API_RETURN_IF_ERROR(GetTime(body, "end_date", &sel.to));
  DagRecord rec;
  std::shared_ptr<const Dag> dag;
  API_RETURN_IF_ERROR(LoadDag(call, dag_id, &rec, &dag));
  if (!dag) return HttpResponse::Problem(409, "DAG '" + dag_id + "' has no loadable definition stored");
  API_RETURN_IF_ERROR(ClearTasks(*dag, task_ids, upstream.value_or(false), downstream.value_or(false),
                                 &sel.task_ids));
  sel.run_id = run_id;
  sel.only_failed = only_failed.value_or(true);  // Airflow's defaults
  sel.only_running = only_running.value_or(false);
  std::vector<ClearItem> items;
  API_RETURN_IF_ERROR(FindInstancesToClear(*call.store, dag_id, sel, &items));
  if (!dry_run.value_or(true)) {
    size_t runs = 0;
    API_RETURN_IF_ERROR(ClearItems(*call.store, dag_id, items, call.now, &runs));
    call.log.info("api: {} cleared {} task instance(s) in {} run(s) of DAG {}", call.user.empty() ? "-" : call.user,
                  items.size(), runs, dag_id);
  }
  Json list = Json::Array();
  for (const ClearItem& item : items) {
    Json j = Json::Object();
    j.Set("dag_id", dag_id);
    j.Set("dag_run_id", item.run.info.run_id);
    j.Set("execution_date", FormatIso(item.run.info.logical_date, TimeZone()));
    j.Set("task_id", item.instance.task_id);
    j.Set("state", TaskStateName(item.instance.ti.state));
    list.Push(std::move(j));
  }
  Json out = Json::Object();
  out.Set("task_instances", std::move(list));
  return HttpResponse::JsonBody(out);
}

// Airflow's "mark success/failed" of one task instance: body {"new_state":
// "success"|"failed", "dry_run": bool (default false)}.
HttpResponse MarkInstance(Call& call) {
  Json body;
  API_RETURN_IF_ERROR(ParseBody(call.req, &body));
  API_RETURN_IF_ERROR(CheckKeys(body, {"new_state", "dry_run"}));
  std::optional<std::string> new_state;
  std::optional<bool> dry_run;
  API_RETURN_IF_ERROR(GetString(body, "new_state", &new_state));
  API_RETURN_IF_ERROR(GetBool(body, "dry_run", &dry_run));
  if (!new_state || (*new_state != "success" && *new_state != "failed")) {
    return HttpResponse::Problem(400, "new_state must be \"success\" or \"failed\"");
  }
  RunRecord run;
  API_RETURN_IF_ERROR(LoadRun(call, call.Param("dag_id"), call.Param("dag_run_id"), &run));
  const std::string& task_id = call.Param("task_id");
  if (!dry_run.value_or(false)) {
    TaskState state = *new_state == "success" ? TaskState::kSuccess : TaskState::kFailed;
    API_RETURN_IF_ERROR(call.store->MarkTaskInstances(run.dag_id, run.info.run_id, {task_id}, state, call.now));
    call.log.info("api: {} marked {} of run {} of DAG {} {}", call.user.empty() ? "-" : call.user, task_id,
                  run.info.run_id, run.dag_id, *new_state);
  }
  std::vector<Json> all;
  API_RETURN_IF_ERROR(RunInstances(call, run, &all));
  for (Json& j : all) {
    if (j.Find("task_id")->str() == task_id) return HttpResponse::JsonBody(j);
  }
  return HttpResponse::Problem(404, "task '" + task_id + "' not found in run '" + run.info.run_id + "'");
}

}  // namespace

void AddRunRoutes(std::vector<Route>* routes) {
  const char* runs = "/api/v1/dags/{dag_id}/dagRuns";
  routes->push_back({"GET", runs, Access::kViewer, ListRuns});
  routes->push_back({"POST", runs, Access::kOp, TriggerRunRoute});
  routes->push_back({"GET", "/api/v1/dags/{dag_id}/dagRuns/{dag_run_id}", Access::kViewer, GetRun});
  routes->push_back({"GET", "/api/v1/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances", Access::kViewer,
                     ListInstances});
  routes->push_back({"GET", "/api/v1/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}", Access::kViewer,
                     GetInstance});
  routes->push_back({"GET",
                     "/api/v1/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}/logs/{task_try_number}",
                     Access::kViewer, GetLog});
  routes->push_back({"PATCH", "/api/v1/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances/{task_id}", Access::kOp,
                     MarkInstance});
  routes->push_back({"POST", "/api/v1/dags/{dag_id}/clearTaskInstances", Access::kOp, ClearInstances});
}

}  // namespace api
}  // namespace dwfs
