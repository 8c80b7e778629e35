// Helpers shared by the API's route files; see api_internal.h.
#include <charconv>

#include "api_internal.h"

namespace dwfs {
namespace api {

std::shared_ptr<const Dag> DagCache::Get(Store& store, const DagRecord& rec, std::string* error) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(rec.dag_id);
    if (it != entries_.end() && it->second.hash == rec.source_hash) {
      *error = it->second.error;
      return it->second.dag;
    }
  }
  if (rec.source.empty() && !rec.source_hash.empty()) {
    DagRecord full;
    Status st = store.GetDag(rec.dag_id, &full);
    if (!st.ok()) {
      *error = st.message();
      return nullptr;
    }
    if (!full.source.empty()) return Get(store, full, error);
  }
  Entry e;
  e.hash = rec.source_hash;
  if (rec.source.empty()) {
    e.error = "the DAG's source is not stored";
  } else {
    auto dag = std::make_shared<Dag>();
    ImportError ie;
    if (ParseDagText(rec.source, rec.fileloc, defaults_, dag.get(), &ie)) {
      e.dag = std::move(dag);
    } else {
      e.error = ie.ToString();
    }
  }
  *error = e.error;
  std::shared_ptr<const Dag> out = e.dag;
  std::lock_guard<std::mutex> lock(mu_);
  entries_[rec.dag_id] = std::move(e);
  return out;
}

HttpResponse StatusResponse(const Status& st) {
  switch (st.code()) {
    case Status::Code::kOk: return HttpResponse::JsonBody(Json::Object());
    case Status::Code::kInvalidArgument: return HttpResponse::Problem(400, st.message());
    case Status::Code::kNotFound: return HttpResponse::Problem(404, st.message());
    case Status::Code::kAlreadyExists:
    case Status::Code::kFailedPrecondition: return HttpResponse::Problem(409, st.message());
    case Status::Code::kIOError: return HttpResponse::Problem(503, st.message());
    default: return HttpResponse::Problem(500, st.message());
  }
}

Status ParseBody(const HttpRequest& req, Json* out) {
  if (req.body.empty()) return Status::InvalidArgument("the request needs a JSON object body");
  const std::string& type = req.Header("content-type");
  if (!type.empty() && type.find("json") == std::string::npos) {
    return Status::InvalidArgument("Content-Type '" + type.substr(0, 100) + "': send application/json");
  }
  return ParseJson(req.body, true, out).WithPrefix("request body");
}

Status CheckKeys(const Json& body, const std::vector<std::string>& allowed) {
  for (const auto& [k, v] : body.members()) {
    bool known = false;
    for (const std::string& a : allowed) known = known || a == k;
    if (!known) return Status::InvalidArgument("unknown field '" + k.substr(0, 100) + "' in the request body");
  }
  return Status::OK();
}

Status GetBool(const Json& body, const std::string& key, std::optional<bool>* out) {
  const Json* v = body.Find(key);
  if (v == nullptr || v->is_null()) return Status::OK();
  if (v->type() != Json::Type::kBool) return Status::InvalidArgument("'" + key + "' must be true or false");
  *out = v->as_bool();
  return Status::OK();
}

Status GetString(const Json& body, const std::string& key, std::optional<std::string>* out) {
  const Json* v = body.Find(key);
  if (v == nullptr || v->is_null()) return Status::OK();
  if (v->type() != Json::Type::kString) return Status::InvalidArgument("'" + key + "' must be a string");
  *out = v->str();
  return Status::OK();
}

Status GetTime(const Json& body, const std::string& key, std::optional<Instant>* out) {
  std::optional<std::string> text;
  DWFS_RETURN_IF_ERROR(GetString(body, key, &text));
  if (!text) return Status::OK();
  Instant t;
  DWFS_RETURN_IF_ERROR(ParseDateTime(*text, TimeZone(), &t).WithPrefix("'" + key + "'"));
  *out = t;
  return Status::OK();
}

Status GetStringList(const Json& body, const std::string& key, std::optional<std::vector<std::string>>* out) {
  const Json* v = body.Find(key);
  if (v == nullptr || v->is_null()) return Status::OK();
  if (v->type() != Json::Type::kArray) return Status::InvalidArgument("'" + key + "' must be an array of strings");
  std::vector<std::string> items;
  for (const Json& item : v->items()) {
    if (item.type() != Json::Type::kString) return Status::InvalidArgument("'" + key + "' must be an array of strings");
    items.push_back(item.str());
  }
  *out = std::move(items);
  return Status::OK();
}

Status QuerySize(const Call& call, const std::string& name, size_t max, size_t* out) {
  std::optional<std::string> v = call.req.Query(name);
  if (!v) return Status::OK();
  size_t n = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (v->empty() || ec != std::errc() || p != v->data() + v->size()) {
    return Status::InvalidArgument("query parameter '" + name + "' must be a non-negative integer");
  }
  *out = std::min(n, max);
  return Status::OK();
}

Status ParsePage(const Call& call, Page* out) {
  *out = Page();
  out->limit = std::min(out->limit, size_t(call.options.max_page_limit));
  DWFS_RETURN_IF_ERROR(QuerySize(call, "limit", size_t(call.options.max_page_limit), &out->limit));
  return QuerySize(call, "offset", SIZE_MAX, &out->offset);
}

Status QueryBool(const Call& call, const std::string& name, std::optional<bool>* out) {
  std::optional<std::string> v = call.req.Query(name);
  if (!v) return Status::OK();
  if (*v == "true") {
    *out = true;
  } else if (*v == "false") {
    *out = false;
  } else {
    return Status::InvalidArgument("query parameter '" + name + "' must be true or false");
  }
  return Status::OK();
}

Json Time(const std::optional<Instant>& t) { return t ? Json(FormatIso(*t, TimeZone())) : Json(); }

Status LoadDag(Call& call, const std::string& dag_id, DagRecord* rec, std::shared_ptr<const Dag>* dag) {
  Status st = call.store->GetDag(dag_id, rec);
  if (st.code() == Status::Code::kNotFound) return Status::NotFound("DAG '" + dag_id + "' not found");
  DWFS_RETURN_IF_ERROR(st);
  std::string error;
  *dag = call.dags.Get(*call.store, *rec, &error);
  return Status::OK();
}

HttpResponse Redirect(const std::string& location) {
  HttpResponse res;
  res.status = 303;
  res.Set("Location", location);
  res.Set("Cache-Control", "no-store");
  return res;
}

HttpResponse ListBody(const char* key, Json list, size_t total) {
  Json body = Json::Object();
  body.Set(key, std::move(list));
  body.Set("total_entries", int64_t(total));
  return HttpResponse::JsonBody(body);
}

Json DagJson(const DagRecord& rec, const Dag* dag) {
  Json j = Json::Object();
  j.Set("dag_id", rec.dag_id);
  j.Set("description", dag && !dag->description.empty() ? Json(dag->description) : Json());
  j.Set("fileloc", rec.fileloc);
  j.Set("file_token", rec.source_hash);
  j.Set("is_paused", rec.is_paused);
  j.Set("is_active", rec.is_active);
  Json tags = Json::Array();
  for (const std::string& t : rec.tags) {
    Json tag = Json::Object();
    tag.Set("name", t);
    tags.Push(std::move(tag));
  }
  j.Set("tags", std::move(tags));
  if (rec.schedule.empty()) {
    j.Set("schedule_interval", Json());
  } else {
    Json s = Json::Object();
    s.Set("__type", "CronExpression");
    s.Set("value", rec.schedule);
    j.Set("schedule_interval", std::move(s));
  }
  j.Set("timezone", rec.timezone.empty() ? "UTC" : rec.timezone);
  j.Set("next_dagrun", Time(rec.next_logical_date));
  j.Set("last_parsed_time", Time(rec.last_parsed));
  if (dag) {
    std::vector<std::string> owners;
    for (const Task& t : dag->tasks) {
      bool seen = false;
      for (const std::string& o : owners) seen = seen || o == t.owner;
      if (!seen) owners.push_back(t.owner);
    }
    j.Set("owners", Json::StringArray(owners));
    j.Set("max_active_runs", dag->max_active_runs);
    j.Set("max_active_tasks", dag->max_active_tasks);
    j.Set("catchup", dag->catchup);
    j.Set("start_date", Time(dag->start_date));
    j.Set("doc_md", dag->doc.empty() ? Json() : Json(dag->doc));
  }
  return j;
}

Json RunJson(const RunRecord& r) {
  Json j = Json::Object();
  j.Set("dag_id", r.dag_id);
  j.Set("dag_run_id", r.info.run_id);
  j.Set("run_type", RunTypeName(r.info.type));
  j.Set("state", RunStateName(r.state));
  j.Set("logical_date", FormatIso(r.info.logical_date, TimeZone()));
  j.Set("execution_date", FormatIso(r.info.logical_date, TimeZone()));
  j.Set("data_interval_start", FormatIso(r.info.data_interval.start, TimeZone()));
  j.Set("data_interval_end", FormatIso(r.info.data_interval.end, TimeZone()));
  j.Set("queued_at", Time(r.queued_at));
  j.Set("start_date", Time(r.start_date));
  j.Set("end_date", Time(r.end_date));
  j.Set("external_trigger", r.info.type == RunType::kManual);
  j.Set("conf", r.info.conf);
  return j;
}

}  // namespace api
}  // namespace dwfs
