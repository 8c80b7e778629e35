// HealthServer: GET /health on an HttpServer, answered on the io_context
// thread from the probe; see health_server.h for the contract.
#include "dwfs/health_server.h"

#include <utility>

#include "dwfs/http_server.h"

namespace dwfs {

namespace {

HttpResponse NotFound() {
  HttpResponse r = HttpResponse::JsonBody(Json(), 404);
  r.body = R"({"error":"not found"})";
  return r;
}

HttpResponse Respond(const HttpRequest& req, const std::function<HealthReport()>& probe,
                     const std::function<std::string()>& metrics) {
  if (req.path == "/metrics" && metrics && (req.method == "GET" || req.method == "HEAD")) {
    HttpResponse r;
    r.body = metrics();
    r.Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    return r;
  }
  if (req.path != "/health") return NotFound();
  if (req.method != "GET" && req.method != "HEAD") {
    HttpResponse r = HttpResponse::JsonBody(Json(), 405);
    r.body = R"({"error":"method not allowed"})";
    r.Set("Allow", "GET, HEAD");
    return r;
  }
  HealthReport report;
  try {
    report = probe();
  } catch (const std::exception& e) {
    report.healthy = false;
    report.body = Json::Object();
    report.body.Set("status", "unhealthy");
    report.body.Set("error", std::string("health probe failed: ") + e.what());
  }
  HttpResponse r = HttpResponse::JsonBody(report.body, report.healthy ? 200 : 503);
  r.Set("Cache-Control", "no-store");
  return r;
}

}  // namespace

class HealthServer::Impl {
 public:
  Impl(boost::asio::io_context& io, HttpServerOptions options, std::function<HealthReport()> probe,
       spdlog::logger* log)
      : server(io, std::move(options),
               [this, probe = std::move(probe)](HttpRequest req, HttpReply reply) {
                 reply(Respond(req, probe, metrics));
               },
               log) {}
  std::function<std::string()> metrics;  // set before Start
  HttpServer server;
};

HealthServer::HealthServer(boost::asio::io_context& io, std::string host, uint16_t port,
                           std::function<HealthReport()> probe, spdlog::logger* log,
                           std::chrono::milliseconds read_timeout) {
  HttpServerOptions o;
  o.host = std::move(host);
  o.port = port;
  o.request_timeout = read_timeout;
  o.response_timeout = read_timeout;
  o.header_limit = 8 * 1024;
  o.body_limit = 8 * 1024;
  o.max_connections = 64;
  o.keep_alive = false;
  o.name = "health server";
  impl_ = std::make_shared<Impl>(io, std::move(o), std::move(probe), log);
}

HealthServer::~HealthServer() { impl_->server.Stop(); }

void HealthServer::ServeMetrics(std::function<std::string()> render) { impl_->metrics = std::move(render); }

Status HealthServer::Start() { return impl_->server.Start(); }

uint16_t HealthServer::port() const { return impl_->server.port(); }

void HealthServer::Stop() { impl_->server.Stop(); }

}  // namespace dwfs
