// /api/v1/dags and /api/v1/dags/{dag_id}[/tasks]: list, get, pause.
#include "api_internal.h"

namespace dwfs {
namespace api {

namespace {

HttpResponse ListDags(Call& call) {
  Page page;
  API_RETURN_IF_ERROR(ParsePage(call, &page));
  DagFilter filter;
  filter.limit = page.limit;
  filter.offset = page.offset;
  std::optional<bool> only_active;
  API_RETURN_IF_ERROR(QueryBool(call, "paused", &filter.paused));
  API_RETURN_IF_ERROR(QueryBool(call, "only_active", &only_active));
  filter.only_active = only_active.value_or(true);
  filter.tags_any = call.req.QueryAll("tags");
  filter.dag_id_contains = call.req.Query("dag_id_pattern").value_or("");
  std::string order = call.req.Query("order_by").value_or("dag_id");
  if (order != "dag_id" && order != "-dag_id") {
    return HttpResponse::Problem(400, "order_by '" + order.substr(0, 100) + "': use dag_id or -dag_id");
  }
  filter.descending = order == "-dag_id";
  std::vector<DagRecord> dags;
  size_t total = 0;
  API_RETURN_IF_ERROR(call.store->ListDagSummaries(filter, &dags, &total));
  Json list = Json::Array();
  for (const DagRecord& d : dags) {
    std::string error;
    std::shared_ptr<const Dag> dag = call.dags.Get(*call.store, d, &error);
    list.Push(DagJson(d, dag.get()));
  }
  return ListBody("dags", std::move(list), total);
}

HttpResponse GetDag(Call& call) {
  DagRecord rec;
  std::shared_ptr<const Dag> dag;
  API_RETURN_IF_ERROR(LoadDag(call, call.Param("dag_id"), &rec, &dag));
  Json j = DagJson(rec, dag.get());
  if (dag) j.Set("params", dag->params);  // as Airflow's DAG details: the trigger form's defaults
  return HttpResponse::JsonBody(j);
}

HttpResponse PatchDag(Call& call) {
  const std::string& dag_id = call.Param("dag_id");
  if (std::optional<std::string> mask = call.req.Query("update_mask"); mask && *mask != "is_paused") {
    return HttpResponse::Problem(400, "update_mask '" + mask->substr(0, 100) + "': only is_paused can be updated");
  }
  Json body;
  API_RETURN_IF_ERROR(ParseBody(call.req, &body));
  API_RETURN_IF_ERROR(CheckKeys(body, {"is_paused"}));
  std::optional<bool> paused;
  API_RETURN_IF_ERROR(GetBool(body, "is_paused", &paused));
  if (!paused) return HttpResponse::Problem(400, "the body needs 'is_paused' (true or false)");
  Status st = call.store->SetPaused(dag_id, *paused, call.now);
  if (st.code() == Status::Code::kNotFound) return HttpResponse::Problem(404, "DAG '" + dag_id + "' not found");
  API_RETURN_IF_ERROR(st);
  call.log.info("api: {} {} DAG {}", call.user.empty() ? "-" : call.user, *paused ? "paused" : "unpaused", dag_id);
  DagRecord rec;
  std::shared_ptr<const Dag> dag;
  API_RETURN_IF_ERROR(LoadDag(call, dag_id, &rec, &dag));
  return HttpResponse::JsonBody(DagJson(rec, dag.get()));
}

Json TimeDelta(Seconds s) {
  Json j = Json::Object();
  j.Set("__type", "TimeDelta");
  j.Set("days", int64_t(s.count() / 86400));
  j.Set("seconds", int64_t(s.count() % 86400));
  j.Set("microseconds", 0);
  return j;
}

HttpResponse ListTasks(Call& call) {
  DagRecord rec;
  std::shared_ptr<const Dag> dag;
  API_RETURN_IF_ERROR(LoadDag(call, call.Param("dag_id"), &rec, &dag));
  if (!dag) return HttpResponse::Problem(404, "DAG '" + rec.dag_id + "' has no loadable definition stored");
  Json tasks = Json::Array();
  for (int i : dag->topo_order) {
    const Task& t = dag->tasks[size_t(i)];
    Json j = Json::Object();
    j.Set("task_id", t.task_id);
    j.Set("operator_name", t.operator_name);
    Json down = Json::Array();
    for (int d : t.downstream_idx) down.Push(dag->tasks[size_t(d)].task_id);
    j.Set("downstream_task_ids", std::move(down));
    j.Set("upstream_task_ids", Json::StringArray(t.upstream));
    j.Set("trigger_rule", TriggerRuleName(t.trigger_rule));
    j.Set("owner", t.owner);
    j.Set("retries", t.retries);
    j.Set("retry_delay", TimeDelta(t.retry_delay));
    j.Set("execution_timeout", t.execution_timeout ? TimeDelta(*t.execution_timeout) : Json());
    j.Set("pool", t.pool);
    j.Set("pool_slots", t.pool_slots);
    j.Set("priority_weight", t.priority_weight);
    j.Set("depends_on_past", t.depends_on_past);
    j.Set("doc_md", t.doc.empty() ? Json() : Json(t.doc));
    tasks.Push(std::move(j));
  }
  return ListBody("tasks", std::move(tasks), dag->tasks.size());
}

}  // namespace

void AddDagRoutes(std::vector<Route>* routes) {
  // The DAG list changes rarely and is polled by dashboards: an answer is
  // shared for a second.
  routes->push_back({"GET", "/api/v1/dags", Access::kViewer, ListDags, std::chrono::milliseconds(1000)});
  routes->push_back({"GET", "/api/v1/dags/{dag_id}", Access::kViewer, GetDag});
  routes->push_back({"PATCH", "/api/v1/dags/{dag_id}", Access::kOp, PatchDag});
  routes->push_back({"GET", "/api/v1/dags/{dag_id}/tasks", Access::kViewer, ListTasks});
}

}  // namespace api
}  // namespace dwfs
