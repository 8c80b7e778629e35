// The web UI's routes: its pages and embedded files, the login form and
// session, and the few JSON views the pages need beyond /api/v1 (recent
// runs of many DAGs, a DAG's grid, its source, one task instance in
// detail). The pages are static: every piece of data reaches them as JSON
// and is put into the page as text by its scripts (src/ui/*.js).
#include <cstdio>
#include <functional>
#include <string_view>

#include "api_auth.h"
#include "api_internal.h"
#include "dwfs/password.h"
#include "dwfs/task_preparer.h"
#include "ui_assets.h"

namespace dwfs {
namespace api {

namespace {

// What every page and file of the UI is sent with: no inline script or
// style can run (so injected markup stays inert), no framing, no referrer.
// Files are revalidated on each use (no-cache) against their ETag, a hash
// of their content: a page load after the first costs 304s.
HttpResponse Asset(const Call& call, const std::string& path) {
  const UiAsset* a = FindUiAsset(path);
  if (a == nullptr) return HttpResponse::Problem(404, "no such file: " + path);
  char etag[32];
  std::snprintf(etag, sizeof etag, "\"%016zx\"", std::hash<std::string_view>()(a->body));
  HttpResponse res;
  if (call.req.Header("if-none-match") == etag) {
    res.status = 304;
  } else {
    res.body.assign(a->body);
  }
  res.Set("ETag", etag);
  res.Set("Content-Type", std::string(a->content_type));
  res.Set("Cache-Control", "no-cache");
  res.Set("Content-Security-Policy",
          "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none';"
          " base-uri 'none'; form-action 'self'; frame-ancestors 'none'");
  res.Set("X-Frame-Options", "DENY");
  res.Set("Referrer-Policy", "same-origin");
  return res;
}

HttpResponse IndexPage(Call& call) { return Asset(call, "/ui/index.html"); }
HttpResponse LoginPage(Call& call) { return Asset(call, "/ui/login.html"); }
HttpResponse UiFile(Call& call) { return Asset(call, "/ui/" + call.Param("file")); }

std::string SessionCookie(const std::string& value, bool secure, bool expire) {
  std::string c = std::string(kSessionCookie) + "=" + value + "; Path=/; HttpOnly; SameSite=Strict";
  if (secure) c += "; Secure";
  if (expire) c += "; Max-Age=0";
  return c;
}

bool Secure(const Call& call) { return !call.options.http.tls_cert.empty(); }

// POST /login with a form (username, password): a session cookie and 303
// to the UI, or 303 back to the form with ?error=1.
HttpResponse Login(Call& call) {
  // A cross-site form must not log the browser in as someone else.
  const std::string& origin = call.req.Header("origin");
  if (!origin.empty() && origin != "null") {
    std::string host = call.req.Header("host");
    if (origin != "http://" + host && origin != "https://" + host) {
      return HttpResponse::Problem(403, "login from another site (Origin " + origin.substr(0, 100) + ") refused");
    }
  }
  std::vector<std::pair<std::string, std::string>> form;
  if (!ParseQueryString(call.req.body, &form)) return HttpResponse::Problem(400, "malformed form body");
  std::string name, password;
  for (const auto& [k, v] : form) {
    if (k == "username") name = v;
    if (k == "password") password = v;
  }
  if (call.options.auth != "basic") {
    name = "admin";
  } else {
    if (call.store == nullptr) return HttpResponse::Problem(503, "the metadata database is unavailable");
    UserRecord user;
    Status st = call.auth.CheckPassword(*call.store, name, password, call.req.remote, &user);
    if (st.code() == Status::Code::kFailed) return Redirect("/login?error=1");
    API_RETURN_IF_ERROR(st);
  }
  std::string csrf;
  std::string token = call.auth.CreateSession(name, call.now, &csrf);
  call.log.info("api: user '{}' logged in to the web UI from {}", name, call.req.remote);
  return Redirect("/").Set("Set-Cookie", SessionCookie(token, Secure(call), false));
}

HttpResponse Logout(Call& call) {
  if (std::optional<std::string> token = CookieValue(call.req.Header("cookie"), kSessionCookie)) {
    call.auth.EndSession(*token);
  }
  HttpResponse res = Redirect("/login");
  res.Set("Set-Cookie", SessionCookie("", Secure(call), true));
  return res;
}

HttpResponse Session(Call& call) {
  Json j = Json::Object();
  j.Set("user", call.user.empty() ? "admin" : call.user);
  j.Set("role", RoleName(call.role));
  j.Set("csrf_token", call.csrf_token);
  j.Set("version", DWFS_VERSION);
  return HttpResponse::JsonBody(j);
}

Json RunBrief(const RunRecord& r) {
  Json j = Json::Object();
  j.Set("dag_run_id", r.info.run_id);
  j.Set("state", RunStateName(r.state));
  j.Set("logical_date", FormatIso(r.info.logical_date, TimeZone()));
  return j;
}

// A count query parameter in [1, max] (default `def`); InvalidArgument
// otherwise.
Status QueryCount(const Call& call, const char* name, int def, int max, int* out) {
  size_t n = size_t(def);
  DWFS_RETURN_IF_ERROR(QuerySize(call, name, SIZE_MAX, &n));
  if (n < 1 || n > size_t(max)) {
    return Status::InvalidArgument(std::string("query parameter '") + name + "' must be from 1 to " +
                                   std::to_string(max));
  }
  *out = int(n);
  return Status::OK();
}

// {dag_id: [latest runs, newest first]} for ?dag_id=A&dag_id=B&limit=N.
HttpResponse RecentRuns(Call& call) {
  int limit;
  API_RETURN_IF_ERROR(QueryCount(call, "limit", 5, 100, &limit));
  std::vector<std::string> ids = call.req.QueryAll("dag_id");
  if (ids.size() > 1000) return HttpResponse::Problem(400, "at most 1000 dag_id parameters");
  std::map<std::string, std::vector<RunRecord>> runs;
  API_RETURN_IF_ERROR(call.store->ListLatestRuns(ids, limit, &runs));
  Json out = Json::Object();
  for (const auto& [dag_id, list] : runs) {
    Json items = Json::Array();
    for (const RunRecord& r : list) items.Push(RunBrief(r));
    out.Set(dag_id, std::move(items));
  }
  return HttpResponse::JsonBody(out);
}

// The grid view: the DAG's tasks (dependency order) and its latest runs
// (oldest first), each with its instances by task id.
HttpResponse Grid(Call& call) {
  int limit;
  API_RETURN_IF_ERROR(QueryCount(call, "limit", 25, 365, &limit));
  DagRecord rec;
  std::shared_ptr<const Dag> dag;
  API_RETURN_IF_ERROR(LoadDag(call, call.Param("dag_id"), &rec, &dag));
  std::map<std::string, std::vector<RunRecord>> latest;
  API_RETURN_IF_ERROR(call.store->ListLatestRuns({rec.dag_id}, limit, &latest));
  std::vector<RunRecord>& runs = latest[rec.dag_id];
  std::vector<std::string> run_ids;
  for (const RunRecord& r : runs) run_ids.push_back(r.info.run_id);
  std::vector<TaskInstanceRecord> tis;
  API_RETURN_IF_ERROR(call.store->ListTaskInstancesOfRuns(rec.dag_id, run_ids, &tis));
  std::map<std::string, Json> by_run;
  for (const TaskInstanceRecord& t : tis) {
    Json& m = by_run[t.run_id];
    if (m.is_null()) m = Json::Object();
    // Only what a cell shows: 200 tasks x 50 runs stay small (the task
    // instance page has the rest).
    Json j = Json::Object();
    j.Set("state", t.ti.state == TaskState::kNone ? Json() : Json(TaskStateName(t.ti.state)));
    j.Set("try_number", t.ti.try_number);
    m.Set(t.task_id, std::move(j));
  }
  Json tasks = Json::Array();
  if (dag) {
    for (int i : dag->topo_order) {
      const Task& t = dag->tasks[size_t(i)];
      Json j = Json::Object();
      j.Set("task_id", t.task_id);
      j.Set("upstream_task_ids", Json::StringArray(t.upstream));
      j.Set("operator_name", t.operator_name);
      tasks.Push(std::move(j));
    }
  }
  Json list = Json::Array();
  for (auto it = runs.rbegin(); it != runs.rend(); ++it) {
    Json j = RunJson(*it);
    auto found = by_run.find(it->info.run_id);
    j.Set("task_instances", found == by_run.end() ? Json::Object() : std::move(found->second));
    list.Push(std::move(j));
  }
  Json out = Json::Object();
  out.Set("dag_id", rec.dag_id);
  out.Set("tasks", std::move(tasks));
  out.Set("runs", std::move(list));
  return HttpResponse::JsonBody(out);
}

HttpResponse Source(Call& call) {
  DagRecord rec;
  Status st = call.store->GetDag(call.Param("dag_id"), &rec);
  API_RETURN_IF_ERROR(st);
  Json j = Json::Object();
  j.Set("fileloc", rec.fileloc);
  j.Set("content", rec.source);
  return HttpResponse::JsonBody(j);
}

// One task instance with its tries, rendered fields and XCom value.
HttpResponse TaskDetail(Call& call) {
  RunRecord run;
  API_RETURN_IF_ERROR(LoadRun(call, call.Param("dag_id"), call.Param("run_id"), &run));
  const std::string& task_id = call.Param("task_id");
  DagRecord rec;
  std::shared_ptr<const Dag> dag;
  API_RETURN_IF_ERROR(LoadDag(call, run.dag_id, &rec, &dag));
  int index = dag ? dag->TaskIndex(task_id) : -1;
  std::vector<TaskInstanceRecord> tis;
  API_RETURN_IF_ERROR(call.store->ListTaskInstances(run.dag_id, run.info.run_id, &tis));
  const TaskInstanceRecord* ti = nullptr;
  for (const TaskInstanceRecord& t : tis) {
    if (t.task_id == task_id) ti = &t;
  }
  if (index < 0 && ti == nullptr) {
    return HttpResponse::Problem(404, "task '" + task_id + "' not found in run '" + run.info.run_id + "'");
  }
  Json j = InstanceJson(run, task_id, index >= 0 ? &dag->tasks[size_t(index)] : nullptr, ti);
  // Rendered as the task would run, without connections or variables: a
  // secret is never put into the page (a template needing one says so).
  Json rendered, render_error;
  if (index >= 0) {
    EnvConnectionSource no_connections({});
    PreparerOptions o;
    o.connections = &no_connections;
    StandardPreparer preparer(o);
    RunPlan plan(dag, run.info);
    std::vector<std::pair<std::string, std::string>> fields;
    Status st = preparer.Render(plan, index, &fields);
    if (st.ok()) {
      rendered = Json::Object();
      for (const auto& [name, value] : fields) rendered.Set(name, value);
    } else {
      render_error = st.message();
    }
  }
  j.Set("rendered", std::move(rendered));
  j.Set("render_error", std::move(render_error));
  Json xcom;
  if (ti && ti->ti.xcom) {
    if (!ParseJson(*ti->ti.xcom, false, &xcom).ok()) xcom = Json(*ti->ti.xcom);
  }
  j.Set("xcom", std::move(xcom));
  std::vector<TryRecord> tries;
  API_RETURN_IF_ERROR(call.store->ListTries(run.dag_id, run.info.run_id, task_id, &tries));
  Json list = Json::Array();
  for (const TryRecord& t : tries) {
    Json tj = Json::Object();
    tj.Set("try_number", t.try_number);
    tj.Set("state", TaskStateName(t.state));
    tj.Set("start_date", Time(t.start_date));
    tj.Set("end_date", Time(t.end_date));
    tj.Set("duration", t.start_date && t.end_date ? Json(std::chrono::duration<double>(*t.end_date - *t.start_date).count())
                                                  : Json());
    tj.Set("hostname", t.hostname);
    list.Push(std::move(tj));
  }
  j.Set("tries", std::move(list));
  return HttpResponse::JsonBody(j);
}

}  // namespace

void AddUiRoutes(std::vector<Route>* routes) {
  Route index{"GET", "/", Access::kViewer, IndexPage};
  index.page = true;
  routes->push_back(index);
  routes->push_back({"GET", "/login", Access::kPublic, LoginPage});
  routes->push_back({"POST", "/login", Access::kPublic, Login});
  routes->push_back({"POST", "/logout", Access::kViewer, Logout});
  routes->push_back({"GET", "/ui/{file}", Access::kPublic, UiFile});
  routes->push_back({"GET", "/ui/api/session", Access::kViewer, Session});
  routes->push_back({"GET", "/ui/api/recent_runs", Access::kViewer, RecentRuns});
  routes->push_back({"GET", "/ui/api/grid/{dag_id}", Access::kViewer, Grid});
  routes->push_back({"GET", "/ui/api/source/{dag_id}", Access::kViewer, Source});
  routes->push_back({"GET", "/ui/api/task/{dag_id}/{run_id}/{task_id}", Access::kViewer, TaskDetail});
}

}  // namespace api
}  // namespace dwfs
