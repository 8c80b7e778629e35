#include "engine.h"

#include <boost/asio/signal_set.hpp>

#include <csignal>
#include <ostream>

namespace dwfs {

namespace {

std::vector<const ConnectionSource*> Sources(const ConnectionSource* env, const ConnectionSource* stored) {
  std::vector<const ConnectionSource*> v{env};
  if (stored) v.push_back(stored);
  return v;
}

}  // namespace

Engine::Engine(const Config& config, EngineOptions options)
    : env_connections_(options.process_env),
      connections_(Sources(&env_connections_, options.stored_connections)),
      preparer_([&] {
        PreparerOptions o;
        o.base_log_folder = options.log_folder;
        o.base_env = BaseTaskEnvironment(options.process_env);
        o.connections = &connections_;
        o.variables = options.variables;
        return o;
      }()),
      executor_(io_,
                [&] {
                  LocalExecutorOptions o;
                  o.kill_grace = config.core.killed_task_cleanup_time;
                  return o;
                }()),
      slots_(config.core.parallelism, config.core.default_pool_slots),
      webhooks_(options.webhooks) {}

Engine::~Engine() = default;

void Engine::RunInForeground(RunDriver& driver, std::ostream& err) {
  boost::asio::signal_set signals(io_, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    err << "\ndwfs: " << (sig == SIGINT ? "interrupted (Ctrl-C)" : "terminated") << ": stopping running tasks\n";
    interrupted_ = true;
    driver.Stop(sig == SIGINT ? "interrupted (Ctrl-C)" : "terminated (SIGTERM)");
  });
  driver.Pump();
  while (!driver.Done() && io_.run_one()) {
  }
  signals.cancel();
  // Let the cancelled wait finish so the signal set leaves no handler behind.
  io_.poll();
}

}  // namespace dwfs
