// Internals of the API server shared by its route files (api_dags.cc,
// api_runs.cc, api_misc.cc) and the server (api_server.cc): the per-request
// context, the route table entry, the stored-DAG cache and JSON helpers.
#ifndef DWFS_API_INTERNAL_H_
#define DWFS_API_INTERNAL_H_

#include <spdlog/logger.h>

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "dwfs/api_server.h"
#include "dwfs/dag.h"
#include "dwfs/http.h"
#include "dwfs/json.h"
#include "dwfs/store.h"
#include "dwfs/users.h"

namespace dwfs {
namespace api {

class Authenticator;  // api_auth.h

// Stored DAG sources parsed once per content hash. Thread-safe.
class DagCache {
 public:
  explicit DagCache(DagDefaults defaults) : defaults_(std::move(defaults)) {}
  // The DAG as the scheduler last stored it; null when the stored source
  // is empty or does not parse any more (then *error says why). A record
  // without its source (Store::ListDagSummaries) is read again from `store`
  // when its hash is not cached yet.
  std::shared_ptr<const Dag> Get(Store& store, const DagRecord& rec, std::string* error);

 private:
  DagDefaults defaults_;
  std::mutex mu_;
  struct Entry {
    std::string hash;
    std::shared_ptr<const Dag> dag;
    std::string error;
  };
  std::map<std::string, Entry> entries_;  // by dag_id; GUARDED_BY(mu_)
};

// Everything a route handler gets. Handlers run on a worker thread.
struct Call {
  const HttpRequest& req;
  std::map<std::string, std::string> params;  // {name} segments of the route, decoded
  Store* store;  // never null, except for public routes when the database is unavailable
  Instant now;
  DagCache& dags;
  const ApiServerOptions& options;
  spdlog::logger& log;
  std::string user;  // who is calling ("" with auth none), for logs
  Role role;         // the caller's role (Admin with auth none)
  std::string csrf_token;  // the caller's session's, "" without a session
  Authenticator& auth;

  const std::string& Param(const std::string& name) const { return params.at(name); }
};

using Handler = HttpResponse (*)(Call&);

// Who may call a route: nobody needs credentials (kPublic), or at least
// this role (Admin > Op > Viewer).
enum class Access { kPublic, kViewer, kOp, kAdmin };

struct Route {
  const char* method;
  const char* pattern;  // "/api/v1/dags/{dag_id}"
  Access access;
  Handler handler;
  // A 200 answer is reused for this long. Public routes: per path,
  // answered on the io thread without a worker or the database. Others:
  // per target (path and query), after the caller's credentials and role
  // are checked, for every caller allowed (so only for answers that do not
  // depend on who asks); any successful change through this server drops
  // them.
  std::chrono::milliseconds cache_for{0};
  // A browser page: without valid credentials, a redirect to /login
  // instead of a 401.
  bool page = false;
};

// The web UI's session cookie (HttpOnly, SameSite=Strict).
inline constexpr const char* kSessionCookie = "dwfs_session";
// 303 See Other to `location`.
HttpResponse Redirect(const std::string& location);

void AddDagRoutes(std::vector<Route>* routes);   // api_dags.cc
void AddRunRoutes(std::vector<Route>* routes);   // api_runs.cc
void AddMiscRoutes(std::vector<Route>* routes);  // api_misc.cc
void AddUiRoutes(std::vector<Route>* routes);    // api_ui.cc: the web UI's pages and data

// A Status as a problem response: InvalidArgument 400, NotFound 404,
// AlreadyExists and FailedPrecondition 409, IOError 503 (database), others
// 500.
HttpResponse StatusResponse(const Status& st);

#define API_RETURN_IF_ERROR(expr)                          \
  do {                                                     \
    ::dwfs::Status _api_st = (expr);                       \
    if (!_api_st.ok()) return ::dwfs::api::StatusResponse(_api_st); \
  } while (0)

// The request body as a JSON object (InvalidArgument naming the problem).
Status ParseBody(const HttpRequest& req, Json* out);
// Checks that every key of `body` is one of `allowed` (InvalidArgument
// naming the first unknown one).
Status CheckKeys(const Json& body, const std::vector<std::string>& allowed);
// Optional typed members; InvalidArgument naming the key for a wrong type.
Status GetBool(const Json& body, const std::string& key, std::optional<bool>* out);
Status GetString(const Json& body, const std::string& key, std::optional<std::string>* out);
// An ISO-8601 date-time with an offset (naive ones are read as UTC).
Status GetTime(const Json& body, const std::string& key, std::optional<Instant>* out);
Status GetStringList(const Json& body, const std::string& key, std::optional<std::vector<std::string>>* out);

// limit (default 100, at most options.max_page_limit) and offset (default 0).
struct Page {
  size_t limit = 100;
  size_t offset = 0;
};
Status ParsePage(const Call& call, Page* out);
// A non-negative integer query parameter, capped to `max`; *out unchanged
// when absent; InvalidArgument when not a number.
Status QuerySize(const Call& call, const std::string& name, size_t max, size_t* out);
// {"<key>": list, "total_entries": total}: Airflow's shape of a list.
HttpResponse ListBody(const char* key, Json list, size_t total);
// The page of `items` as a ListBody of to_json(item, index)s.
template <class T, class F>
HttpResponse PagedList(const char* key, const std::vector<T>& items, const Page& page, F to_json) {
  Json list = Json::Array();
  for (size_t i = page.offset; i < items.size() && i - page.offset < page.limit; ++i) list.Push(to_json(items[i], i));
  return ListBody(key, std::move(list), items.size());
}
// A query parameter as a boolean ("true"/"false"); InvalidArgument otherwise.
Status QueryBool(const Call& call, const std::string& name, std::optional<bool>* out);

// ISO-8601 in UTC with "+00:00", Airflow's form; null when absent.
Json Time(const std::optional<Instant>& t);

// The stored DAG `dag_id` (404 when unknown) and, when its source parses,
// its definition (null otherwise).
Status LoadDag(Call& call, const std::string& dag_id, DagRecord* rec, std::shared_ptr<const Dag>* dag);

// The stored run (404 naming DAG and run when absent). api_runs.cc
Status LoadRun(Call& call, const std::string& dag_id, const std::string& run_id, RunRecord* run);

// Shapes shared by several routes.
Json DagJson(const DagRecord& rec, const Dag* dag);
Json RunJson(const RunRecord& run);
// A task instance of `run` (`task` and `t` may be null: not in the DAG any
// more, or no row yet). api_runs.cc
Json InstanceJson(const RunRecord& run, const std::string& task_id, const Task* task, const TaskInstanceRecord* t);

}  // namespace api
}  // namespace dwfs

#endif  // DWFS_API_INTERNAL_H_
