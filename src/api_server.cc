// ApiServer: routing, authentication, roles and the worker pool around the
// route handlers; see api_server.h.
#include "dwfs/api_server.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>
#include <optional>
#include <utility>

#include "api_auth.h"
#include "api_internal.h"
#include "dwfs/password.h"

namespace dwfs {

namespace {

// Database connections for the workers: one per request in flight.
class StorePool {
 public:
  StorePool(std::string url, DwfsMetrics* metrics) : url_(std::move(url)), metrics_(metrics) {}

  Status Acquire(std::unique_ptr<Store>* out) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!free_.empty()) {
        *out = std::move(free_.back());
        free_.pop_back();
        return Status::OK();
      }
    }
    if (url_.empty()) return Status::IOError("no database configured (database.url)");
    DWFS_RETURN_IF_ERROR(Store::Open(url_, out));
    (*out)->set_metrics(metrics_);  // its database errors count
    return Status::OK();
  }
  void Release(std::unique_ptr<Store> store) {
    std::lock_guard<std::mutex> lock(mu_);
    free_.push_back(std::move(store));
  }

 private:
  const std::string url_;
  DwfsMetrics* const metrics_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Store>> free_;  // GUARDED_BY(mu_)
};

bool Allowed(api::Access access, Role role) {
  switch (access) {
    case api::Access::kPublic:
    case api::Access::kViewer: return true;
    case api::Access::kOp: return role == Role::kOp || role == Role::kAdmin;
    case api::Access::kAdmin: return role == Role::kAdmin;
  }
  return false;
}

// Lowers the calling thread's priority by `nice` (setpriority on its thread
// id); a failure is logged and otherwise ignored.
bool LowerThreadPriority(int nice, spdlog::logger& log) {
  if (nice == 0) return true;
  errno = 0;
  int current = getpriority(PRIO_PROCESS, 0);
  pid_t tid = pid_t(syscall(SYS_gettid));
  if (setpriority(PRIO_PROCESS, id_t(tid), std::min(19, current + nice)) != 0) {
    log.warn("api server: cannot lower a worker's priority: {}", std::strerror(errno));
  }
  return true;
}

// Matches `path` against a route pattern, filling {name} parameters.
bool Match(const std::vector<std::string>& pattern, const std::vector<std::string>& path,
           std::map<std::string, std::string>* params) {
  if (pattern.size() != path.size()) return false;
  params->clear();
  for (size_t i = 0; i < pattern.size(); ++i) {
    const std::string& p = pattern[i];
    if (p.size() > 2 && p.front() == '{' && p.back() == '}') {
      (*params)[p.substr(1, p.size() - 2)] = path[i];
    } else if (p != path[i]) {
      return false;
    }
  }
  return true;
}

}  // namespace

class ApiServer::Impl : public std::enable_shared_from_this<ApiServer::Impl> {
 public:
  Impl(boost::asio::io_context& io, ApiServerOptions options, const Clock& clock, spdlog::logger& log)
      : options_(std::move(options)),
        clock_(clock),
        log_(log),
        stores_(options_.database_url, options_.metrics),
        dags_(options_.dag_defaults),
        auth_(log),
        workers_(size_t(std::max(1, options_.worker_threads))) {
    api::AddDagRoutes(&routes_);
    api::AddRunRoutes(&routes_);
    api::AddMiscRoutes(&routes_);
    api::AddUiRoutes(&routes_);
    for (const api::Route& r : routes_) patterns_.push_back(PathSegments(r.pattern));
    options_.http.name = "api server";
    server_ = std::make_unique<HttpServer>(
        io, options_.http, [this](HttpRequest req, HttpReply reply) { Dispatch(std::move(req), std::move(reply)); },
        &log_);
  }

  Status Start() {
    if (options_.auth != "basic" && options_.auth != "none") {
      return Status::InvalidArgument("api.auth '" + options_.auth + "': use basic or none");
    }
    if (options_.auth == "none") {
      log_.warn("api server: api.auth is none: every client is treated as Admin");
    }
    return server_->Start();
  }
  void Stop() {
    server_->Stop();
    workers_.join();
  }
  uint16_t port() const { return server_->port(); }

 private:
  void Dispatch(HttpRequest req, HttpReply reply) {
    std::vector<std::string> path = PathSegments(req.path);
    std::map<std::string, std::string> params;
    std::string allow;
    const api::Route* route = nullptr;
    std::string method = req.method == "HEAD" ? "GET" : req.method;
    for (size_t i = 0; i < routes_.size(); ++i) {
      if (!Match(patterns_[i], path, &params)) continue;
      if (method == routes_[i].method) {
        route = &routes_[i];
        break;
      }
      allow += (allow.empty() ? "" : ", ") + std::string(routes_[i].method);
    }
    if (route == nullptr) {
      if (!allow.empty()) {
        reply(HttpResponse::Problem(405, "method " + req.method + " is not allowed here").Set("Allow", allow));
      } else {
        reply(HttpResponse::Problem(404, "no such endpoint: " + req.path));
      }
      return;
    }
    bool cached = route->access == api::Access::kPublic && route->cache_for.count() > 0;
    if (cached && ServeCached(req.path, route->cache_for, reply)) return;
    auto self = shared_from_this();
    boost::asio::post(workers_, [self, route, cached, params = std::move(params), req = std::move(req),
                                 reply = std::move(reply)]() mutable {
      // Once per worker thread, on its first request.
      static thread_local bool niced = LowerThreadPriority(self->options_.worker_nice, self->log_);
      (void)niced;
      auto started = std::chrono::steady_clock::now();
      std::string who;
      HttpResponse res = self->Handle(*route, req, std::move(params), &who);
      if (cached) self->StoreCached(req.path, res);
      auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
      if (DwfsMetrics* m = self->options_.metrics) {
        m->api_requests.WithLabels({req.method, std::to_string(res.status)}).Increment();
        m->api_request_duration.Observe(ms / 1000);
      }
      self->log_.debug("api: {} {} {} -> {} ({:.1f} ms)", who.empty() ? "-" : who, req.method, req.target, res.status,
                       ms);
      res.Set("X-Content-Type-Options", "nosniff");
      reply(std::move(res));
    });
  }

  // A cached answer for `path` when it is younger than `max_age`, or a
  // stale one while another request refreshes it; false: refresh now (the
  // caller becomes the refresher).
  bool ServeCached(const std::string& path, std::chrono::milliseconds max_age, const HttpReply& reply) {
    std::unique_lock<std::mutex> lock(cache_mu_);
    auto it = cache_.find(path);
    if (it == cache_.end()) {
      cache_[path].refreshing = true;
      return false;
    }
    CacheEntry& e = it->second;
    bool fresh = e.response && std::chrono::steady_clock::now() - e.at < max_age;
    if (!fresh && !e.refreshing) {
      e.refreshing = true;
      return false;
    }
    if (!e.response) return false;  // the first answer is still being made
    HttpResponse copy = *e.response;
    lock.unlock();
    reply(std::move(copy));
    return true;
  }
  void StoreCached(const std::string& path, const HttpResponse& res) {
    std::lock_guard<std::mutex> lock(cache_mu_);
    CacheEntry& e = cache_[path];
    e.response = res;
    e.at = std::chrono::steady_clock::now();
    e.refreshing = false;
  }

  HttpResponse Handle(const api::Route& route, const HttpRequest& req, std::map<std::string, std::string> params,
                      std::string* who) {
    std::unique_ptr<Store> store;
    Status st = stores_.Acquire(&store);
    if (!st.ok() && route.access != api::Access::kPublic) {
      log_.error("api: database unavailable: {}", st.message());
      return HttpResponse::Problem(503, "the metadata database is unavailable");
    }
    Role role = Role::kAdmin;  // auth none: everyone
    std::string csrf;
    if (route.access != api::Access::kPublic && options_.auth == "basic") {
      UserRecord user;
      std::optional<std::string> session = CookieValue(req.Header("cookie"), api::kSessionCookie);
      bool by_session = session && req.Header("authorization").empty();
      Status a = by_session ? auth_.CheckSession(*store, *session, clock_.Now(), &user, &csrf)
                            : auth_.Check(*store, req, &user);
      if (a.ok() && by_session && req.method != "GET" && req.method != "HEAD" &&
          !ConstantTimeEquals(req.Header("x-csrf-token"), csrf)) {
        log_.warn("api: {} {} from {} with a session but without its CSRF token: refused", req.method, req.path,
                  req.remote);
        stores_.Release(std::move(store));
        return HttpResponse::Problem(403, "the request lacks the session's X-CSRF-Token header");
      }
      if (!a.ok()) {
        stores_.Release(std::move(store));
        if (a.code() != Status::Code::kFailed) return api::StatusResponse(a);
        if (route.page) return api::Redirect("/login");
        HttpResponse res = HttpResponse::Problem(401, a.message());
        // No Basic challenge for the browser UI: a browser would pop up its
        // own login dialog instead of letting the page go to /login.
        if (!session && req.path.rfind("/ui/", 0) != 0) res.Set("WWW-Authenticate", "Basic realm=\"dwfs\", charset=\"UTF-8\"");
        return res;
      }
      *who = user.username;
      role = user.role;
      if (!Allowed(route.access, user.role)) {
        stores_.Release(std::move(store));
        return HttpResponse::Problem(403, std::string("user '") + user.username + "' (role " + RoleName(user.role) +
                                              ") may not " + route.method + " " + req.path);
      }
    }
    bool shared = route.access != api::Access::kPublic && route.cache_for.count() > 0;
    if (shared) {
      if (std::optional<HttpResponse> hit = SharedCached(req.target, route.cache_for)) {
        stores_.Release(std::move(store));
        return *hit;
      }
    }
    HttpResponse res;
    {
      api::Call call{req, std::move(params), store.get(), clock_.Now(), dags_, options_, log_, *who, role, csrf, auth_};
      try {
        res = route.handler(call);
      } catch (const std::exception& e) {
        log_.error("api: {} {}: {}", req.method, req.target, e.what());
        res = HttpResponse::Problem(500, "internal error");
      }
    }
    if (store) stores_.Release(std::move(store));
    if (shared && res.status == 200) {
      std::lock_guard<std::mutex> lock(cache_mu_);
      if (shared_.size() >= 256) shared_.clear();
      shared_[req.target] = {res, std::chrono::steady_clock::now(), false};
    } else if (req.method != "GET" && req.method != "HEAD" && res.status < 400) {
      std::lock_guard<std::mutex> lock(cache_mu_);
      shared_.clear();  // something changed: no shared answer may be older than that
    }
    return res;
  }

  // A shared answer for `target` younger than `max_age`, or nullopt.
  std::optional<HttpResponse> SharedCached(const std::string& target, std::chrono::milliseconds max_age) {
    std::lock_guard<std::mutex> lock(cache_mu_);
    auto it = shared_.find(target);
    if (it == shared_.end() || std::chrono::steady_clock::now() - it->second.at >= max_age) return std::nullopt;
    return it->second.response;
  }

  ApiServerOptions options_;
  const Clock& clock_;
  spdlog::logger& log_;
  StorePool stores_;
  api::DagCache dags_;
  api::Authenticator auth_;
  struct CacheEntry {
    std::optional<HttpResponse> response;
    std::chrono::steady_clock::time_point at;
    bool refreshing = false;
  };
  std::mutex cache_mu_;
  std::map<std::string, CacheEntry> cache_;  // by path; GUARDED_BY(cache_mu_)
  // Authenticated routes' answers (Route::cache_for), by target; emptied by
  // every successful change made through this server. GUARDED_BY(cache_mu_)
  std::map<std::string, CacheEntry> shared_;
  std::vector<api::Route> routes_;
  std::vector<std::vector<std::string>> patterns_;
  boost::asio::thread_pool workers_;
  std::unique_ptr<HttpServer> server_;
};

ApiServer::ApiServer(boost::asio::io_context& io, ApiServerOptions options, const Clock& clock,
                     spdlog::logger& log)
    : impl_(std::make_shared<Impl>(io, std::move(options), clock, log)) {}

ApiServer::~ApiServer() { impl_->Stop(); }

Status ApiServer::Start() { return impl_->Start(); }

uint16_t ApiServer::port() const { return impl_->port(); }

void ApiServer::Stop() { impl_->Stop(); }

}  // namespace dwfs
