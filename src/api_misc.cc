// /health, /api/v1/health, /api/v1/version, /metrics, importErrors,
// variables and connections.
#include <cctype>

#include "api_internal.h"

namespace dwfs {
namespace api {

namespace {

// Airflow's health shape. 200 when the database answers (the scheduler's
// state is in the body), 503 when it does not.
HttpResponse Health(Call& call) {
  Json db = Json::Object();
  Json sched = Json::Object();
  std::vector<SchedulerRecord> schedulers;
  Status st = call.store ? call.store->ListSchedulers(&schedulers) : Status::IOError("no connection");
  std::optional<Instant> latest;
  for (const SchedulerRecord& s : schedulers) {
    if (s.kind != "scheduler" || s.state != "running" || !s.latest_heartbeat) continue;
    if (!latest || *s.latest_heartbeat > *latest) latest = s.latest_heartbeat;
  }
  db.Set("status", st.ok() ? "healthy" : "unhealthy");
  bool fresh = latest && call.now - *latest <= call.options.scheduler_health_threshold;
  sched.Set("status", fresh ? "healthy" : "unhealthy");
  sched.Set("latest_scheduler_heartbeat", Time(latest));
  Json body = Json::Object();
  body.Set("metadatabase", std::move(db));
  body.Set("scheduler", std::move(sched));
  HttpResponse r = HttpResponse::JsonBody(body, st.ok() ? 200 : 503);
  r.Set("Cache-Control", "max-age=1");
  return r;
}

HttpResponse Version(Call&) {
  Json body = Json::Object();
  body.Set("version", DWFS_VERSION);
  body.Set("git_version", Json());
  return HttpResponse::JsonBody(body);
}

HttpResponse Metrics(Call& call) {
  if (!call.options.metrics) return HttpResponse::Problem(404, "metrics are not enabled in this process");
  HttpResponse r;
  r.body = call.options.metrics->Render();
  r.Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
  return r;
}

HttpResponse ImportErrors(Call& call) {
  Page page;
  API_RETURN_IF_ERROR(ParsePage(call, &page));
  std::vector<ImportErrorRecord> errors;
  API_RETURN_IF_ERROR(call.store->ListImportErrors(&errors));
  return PagedList("import_errors", errors, page, [](const ImportErrorRecord& e, size_t i) {
    Json j = Json::Object();
    j.Set("import_error_id", int64_t(i + 1));
    j.Set("timestamp", Time(e.timestamp));
    j.Set("filename", e.filepath);
    j.Set("line", e.line);
    j.Set("stack_trace", e.error);
    return j;
  });
}

Json VariableJson(const std::string& key, const std::string& value) {
  Json j = Json::Object();
  j.Set("key", key);
  j.Set("value", value);
  j.Set("description", Json());
  return j;
}

HttpResponse ListVariables(Call& call) {
  Page page;
  API_RETURN_IF_ERROR(ParsePage(call, &page));
  std::map<std::string, std::string> vars;
  API_RETURN_IF_ERROR(call.store->ListVariables(&vars));
  std::vector<std::pair<std::string, std::string>> items(vars.begin(), vars.end());
  return PagedList("variables", items, page,
                   [](const std::pair<std::string, std::string>& kv, size_t) { return VariableJson(kv.first, kv.second); });
}

HttpResponse GetVariable(Call& call) {
  const std::string& key = call.Param("variable_key");
  std::string value;
  Status st = call.store->GetVariable(key, &value);
  if (st.code() == Status::Code::kNotFound) return HttpResponse::Problem(404, "variable '" + key + "' not found");
  API_RETURN_IF_ERROR(st);
  return HttpResponse::JsonBody(VariableJson(key, value));
}

// POST /variables and PATCH /variables/{key}: {"key", "value"}.
HttpResponse SetVariable(Call& call) {
  Json body;
  API_RETURN_IF_ERROR(ParseBody(call.req, &body));
  API_RETURN_IF_ERROR(CheckKeys(body, {"key", "value", "description"}));
  std::optional<std::string> key, value, description;
  API_RETURN_IF_ERROR(GetString(body, "key", &key));
  API_RETURN_IF_ERROR(GetString(body, "value", &value));
  API_RETURN_IF_ERROR(GetString(body, "description", &description));
  auto param = call.params.find("variable_key");
  if (param != call.params.end()) {
    if (key && *key != param->second) return HttpResponse::Problem(400, "'key' differs from the path's key");
    key = param->second;
    std::string old;
    Status st = call.store->GetVariable(*key, &old);
    if (st.code() == Status::Code::kNotFound) return HttpResponse::Problem(404, "variable '" + *key + "' not found");
    API_RETURN_IF_ERROR(st);
  }
  if (!key || key->empty() || key->size() > 250) return HttpResponse::Problem(400, "'key' must be 1-250 characters");
  if (!value) return HttpResponse::Problem(400, "the body needs 'value' (a string)");
  API_RETURN_IF_ERROR(call.store->SetVariable(*key, *value));
  call.log.info("api: {} set variable {}", call.user.empty() ? "-" : call.user, *key);
  return HttpResponse::JsonBody(VariableJson(*key, *value));
}

HttpResponse DeleteVariable(Call& call) {
  const std::string& key = call.Param("variable_key");
  Status st = call.store->DeleteVariable(key);
  if (st.code() == Status::Code::kNotFound) return HttpResponse::Problem(404, "variable '" + key + "' not found");
  API_RETURN_IF_ERROR(st);
  call.log.info("api: {} deleted variable {}", call.user.empty() ? "-" : call.user, key);
  HttpResponse r;
  r.status = 204;
  return r;
}

// A connection without its password, or anything that may hold one.
Json ConnectionJson(const Connection& c) {
  Json j = Json::Object();
  j.Set("connection_id", c.conn_id);
  j.Set("conn_type", c.conn_type);
  j.Set("host", c.host);
  j.Set("login", c.login);
  j.Set("schema", c.schema);
  j.Set("port", c.port);
  j.Set("description", Json());
  Json extra = Json::Object();
  for (const auto& [k, v] : c.extra) {
    std::string lower;
    for (char ch : k) lower.push_back(char(std::tolower(static_cast<unsigned char>(ch))));
    bool secret = false;
    for (const char* word : {"pass", "secret", "token", "key", "auth", "credential"}) {
      secret = secret || lower.find(word) != std::string::npos;
    }
    extra.Set(k, secret ? Json("***") : Json(v));
  }
  j.Set("extra", std::move(extra));
  return j;
}

HttpResponse ListConnections(Call& call) {
  Page page;
  API_RETURN_IF_ERROR(ParsePage(call, &page));
  std::vector<Connection> conns;
  API_RETURN_IF_ERROR(call.store->ListConnections(&conns));
  return PagedList("connections", conns, page, [](const Connection& c, size_t) { return ConnectionJson(c); });
}

HttpResponse GetConnection(Call& call) {
  const std::string& id = call.Param("connection_id");
  Connection c;
  Status st = call.store->GetConnection(id, &c);
  if (st.code() == Status::Code::kNotFound) return HttpResponse::Problem(404, "connection '" + id + "' not found");
  API_RETURN_IF_ERROR(st);
  return HttpResponse::JsonBody(ConnectionJson(c));
}

}  // namespace

void AddMiscRoutes(std::vector<Route>* routes) {
  // Health is read at most once a second, whatever the request rate.
  routes->push_back({"GET", "/health", Access::kPublic, Health, std::chrono::seconds(1)});
  routes->push_back({"GET", "/api/v1/health", Access::kPublic, Health, std::chrono::seconds(1)});
  routes->push_back({"GET", "/api/v1/version", Access::kPublic, Version});
  routes->push_back({"GET", "/metrics", Access::kViewer, Metrics});
  routes->push_back({"GET", "/api/v1/importErrors", Access::kViewer, ImportErrors});
  routes->push_back({"GET", "/api/v1/variables", Access::kViewer, ListVariables});
  routes->push_back({"POST", "/api/v1/variables", Access::kAdmin, SetVariable});
  routes->push_back({"GET", "/api/v1/variables/{variable_key}", Access::kViewer, GetVariable});
  routes->push_back({"PATCH", "/api/v1/variables/{variable_key}", Access::kAdmin, SetVariable});
  routes->push_back({"DELETE", "/api/v1/variables/{variable_key}", Access::kAdmin, DeleteVariable});
  routes->push_back({"GET", "/api/v1/connections", Access::kViewer, ListConnections});
  routes->push_back({"GET", "/api/v1/connections/{connection_id}", Access::kViewer, GetConnection});
}

}  // namespace api
}  // namespace dwfs
