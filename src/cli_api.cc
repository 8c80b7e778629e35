// dwfs api-server [-p PORT] [-H HOST] [-w THREADS]: the REST API
// (docs/api.md) in the foreground until SIGINT/SIGTERM; and ApiThread, the
// same server on a thread of its own inside `dwfs standalone`.
#include <boost/asio/signal_set.hpp>

#include <csignal>
#include <iostream>

#include <boost/asio/post.hpp>

#include "cli.h"
#include "api_thread.h"

namespace dwfs {

ApiServerOptions ApiOptionsFromConfig(const Config& config) {
  ApiServerOptions o;
  o.http.host = config.api.host;
  o.http.port = uint16_t(config.api.port);
  o.http.tls_cert = config.api.tls_cert;
  o.http.tls_key = config.api.tls_key;
  o.database_url = config.database.url;
  o.auth = config.api.auth;
  o.dag_defaults = DagDefaults::FromConfig(config);
  // Six missed heartbeats, as Airflow's scheduler_health_check_threshold (30 s at 5 s).
  o.scheduler_health_threshold = config.scheduler.heartbeat * 6;
  return o;
}

ApiThread::ApiThread(ApiServerOptions options, const Clock& clock, spdlog::logger& log)
    : server_(io_, std::move(options), clock, log) {}

ApiThread::~ApiThread() { Stop(); }

Status ApiThread::Start() {
  DWFS_RETURN_IF_ERROR(server_.Start());
  thread_ = std::thread([this] { io_.run(); });
  return Status::OK();
}

void ApiThread::Stop() {
  if (!thread_.joinable()) return;
  boost::asio::post(io_, [this] { server_.Stop(); });
  io_.stop();
  thread_.join();
  server_.Stop();
}

namespace {

struct ApiArgs {
  int port = -1;
  std::string host;
  int threads = 0;
};

Status RunApiServer(CliContext& ctx, const ApiArgs& a) {
  if (ctx.config().database.url.empty()) {
    return Status::InvalidArgument("no database configured: set database.url or DWFS_DATABASE_URL");
  }
  ApiServerOptions o = ApiOptionsFromConfig(ctx.config());
  if (a.port >= 0) o.http.port = uint16_t(a.port);
  if (!a.host.empty()) o.http.host = a.host;
  if (a.threads > 0) o.worker_threads = a.threads;
  MetricsRegistry registry;
  DwfsMetrics metrics(registry);
  o.metrics = &metrics;
  boost::asio::io_context io;
  ApiServer server(io, o, ctx.clock(), ctx.log());
  DWFS_RETURN_IF_ERROR(server.Start());
  ctx.out() << "dwfs api server on " << (o.http.tls_cert.empty() ? "http" : "https") << "://" << o.http.host << ":"
            << server.port() << "/api/v1 (auth: " << o.auth << "); web UI at /" << std::endl;
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    ctx.log().info("{} received: stopping the api server", sig == SIGINT ? "SIGINT" : "SIGTERM");
    server.Stop();
    io.stop();
  });
  io.run();
  server.Stop();
  return Status::OK();
}

}  // namespace

void AddApiCommand(CLI::App* app, CliAction* action) {
  CLI::App* cmd = app->add_subcommand("api-server", "the REST API (docs/api.md) until SIGTERM/SIGINT");
  auto a = std::make_shared<ApiArgs>();
  cmd->add_option("-p,--port", a->port, "port (default api.port)")->check(CLI::Range(0, 65535));
  cmd->add_option("-H,--hostname", a->host, "address to bind (default api.host)");
  cmd->add_option("-w,--workers", a->threads, "request threads, each with a database connection (default 4)")
      ->check(CLI::Range(1, 256));
  cmd->final_callback([action, a] { *action = [a](CliContext& ctx) { return RunApiServer(ctx, *a); }; });
}

}  // namespace dwfs
