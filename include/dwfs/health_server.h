// HealthServer: the scheduler's GET /health endpoint
// (scheduler.health_check_port), for load balancers, systemd-less
// supervisors and `curl`. Boost.Beast over the scheduler's io_context.
//
// GET /metrics -> the Prometheus text, when ServeMetrics was called.
// GET /health -> 200 when the probe says healthy, 503 otherwise, with
// Content-Type application/json and the probe's body. HEAD /health is
// answered like GET without the body. Another method on /health -> 405 with
// "Allow: GET, HEAD"; any other path -> 404 {"error": "not found"}. A query
// string is ignored.
//
// The probe runs on the io_context thread for every request and must be
// cheap and non-blocking (the scheduler hands out a cached status); an
// exception from it gives a 503.
//
// Limits: one request per connection (Connection: close); a client has
// `read_timeout` (5 s) to send its request, and as long again to take the
// response, or it is dropped; request headers are limited to 8 KiB and
// bodies to 8 KiB; at most 64 connections are served at once (further ones
// wait in the listen backlog). A failure on one connection (reset, garbage,
// timeout) closes that connection only and is logged at debug level.
//
// Thread safety: every method must be called on the io_context thread.
// Lifetime: Stop() (or destruction) closes the listening socket and every
// open connection; handlers still queued hold only internal state, so the
// server may be destroyed while the io_context keeps running.
#ifndef DWFS_HEALTH_SERVER_H_
#define DWFS_HEALTH_SERVER_H_

#include <boost/asio/io_context.hpp>
#include <spdlog/logger.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "dwfs/json.h"
#include "dwfs/status.h"

namespace dwfs {

struct HealthReport {
  bool healthy = false;
  Json body;  // serialized as the response body (null -> "null")
};

class HealthServer {
 public:
  // `host` is an address or name to bind ("127.0.0.1", "0.0.0.0", "::",
  // "localhost"); `port` 0 picks an ephemeral port (see port()). `log` may be
  // null; it must outlive the server. `read_timeout` is the deadline for a
  // client to send its request (tests shorten it).
  HealthServer(boost::asio::io_context& io, std::string host, uint16_t port,
               std::function<HealthReport()> probe, spdlog::logger* log,
               std::chrono::milliseconds read_timeout = std::chrono::seconds(5));
  ~HealthServer();
  HealthServer(const HealthServer&) = delete;
  HealthServer& operator=(const HealthServer&) = delete;

  // Also serve GET /metrics (Prometheus text from `render`, called on the
  // io_context thread). Call before Start().
  void ServeMetrics(std::function<std::string()> render);
  // Binds and listens, then accepts on the io_context. IOError naming
  // host:port when the address cannot be resolved or bound (port in use,
  // permission denied); FailedPrecondition when already started.
  Status Start();
  // The bound port (the ephemeral one when constructed with 0); 0 before Start.
  uint16_t port() const;
  // Stops accepting and closes every connection. Idempotent.
  void Stop();

 private:
  class Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace dwfs

#endif  // DWFS_HEALTH_SERVER_H_
