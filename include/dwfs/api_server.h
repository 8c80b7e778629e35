// ApiServer: dwfs's REST API (docs/api.md), shaped like Airflow's stable
// REST API under /api/v1, on an HttpServer. Used by `dwfs api-server` and
// `dwfs standalone`.
//
// Requests are read on the io_context thread; each is then handled on one
// of `worker_threads` threads, each with its own database connection
// (opened on first use, reopened after a failure), so a slow query never
// stalls reading or the other workers. /api/v1/version is answered on the
// io thread.
//
// Authentication (`auth`): "basic" checks HTTP Basic credentials against
// the users in the database (users.h, password.h) for every endpoint but
// /health, /api/v1/health and /api/v1/version; a verified password is
// remembered (as an HMAC under a per-process random key, never in clear)
// while the user's stored hash is unchanged, so only the first request of a
// user pays the slow hash. Roles: Viewer reads; Op also triggers, pauses
// and clears; Admin also writes variables. "none" lets everyone in as Admin
// (for a loopback-only server). Failed attempts are logged with the user
// name and peer address, never the password.
//
// Thread safety: Start() and Stop() on the io_context's thread (or before
// it runs). Stop() waits for the workers' current requests to finish.
#ifndef DWFS_API_SERVER_H_
#define DWFS_API_SERVER_H_

#include <boost/asio/io_context.hpp>
#include <spdlog/logger.h>

#include <functional>
#include <memory>
#include <string>

#include "dwfs/clock.h"
#include "dwfs/dag_loader.h"
#include "dwfs/dwfs_metrics.h"
#include "dwfs/http_server.h"
#include "dwfs/status.h"

namespace dwfs {

struct ApiServerOptions {
  // Address, port, TLS and limits (from the config's api section).
  HttpServerOptions http;
  // The metadata database.
  std::string database_url;
  // "basic" (users in the database) or "none".
  std::string auth = "basic";
  // Threads (and database connections) handling requests.
  int worker_threads = 4;
  // The workers' nice value (Linux per-thread priority): API requests yield
  // the CPU to scheduling (the scheduler, its tasks, and the io thread of
  // this server, which answers /health). 0 keeps the process's priority.
  int worker_nice = 5;
  // Defaults for reading stored DAG sources (the config's).
  DagDefaults dag_defaults;
  // A scheduler whose latest heartbeat is older than this is unhealthy.
  Seconds scheduler_health_threshold{30};
  // This process's metrics: API requests are counted there and GET
  // /metrics renders them (with the scheduler's, when it shares the
  // registry, as in standalone). Null: /metrics is 404. Must outlive the
  // server.
  DwfsMetrics* metrics = nullptr;
  // Largest page a list endpoint returns (`limit` is capped to it).
  int max_page_limit = 1000;
};

class ApiServer {
 public:
  // `clock` and `log` must outlive the server.
  ApiServer(boost::asio::io_context& io, ApiServerOptions options, const Clock& clock, spdlog::logger& log);
  ~ApiServer();
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  // Validates the options (auth mode), then starts the HTTP server (see
  // HttpServer::Start). No database connection is needed to start.
  Status Start();
  uint16_t port() const;
  void Stop();

 private:
  class Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace dwfs

#endif  // DWFS_API_SERVER_H_
