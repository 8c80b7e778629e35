// Engine: the one wiring of the run engine's parts for a process — an
// io_context, the local executor, the task preparer (templates, env,
// connections, variables), global slots, the webhook sender — shared by `tasks test`, `dags
// test`, `tasks run`, `dags backfill` and the scheduler, so that they all
// run tasks the same way.
//
// Not thread-safe: everything runs on io's thread. The connection sources
// and variables passed in must outlive the engine.
#ifndef DWFS_ENGINE_H_
#define DWFS_ENGINE_H_

#include <boost/asio/io_context.hpp>

#include <iosfwd>
#include <map>
#include <memory>
#include <string>

#include "dwfs/config.h"
#include "dwfs/connection.h"
#include "dwfs/local_executor.h"
#include "dwfs/run_driver.h"
#include "dwfs/task_preparer.h"
#include "dwfs/webhook_sender.h"

namespace dwfs {

struct EngineOptions {
  std::string log_folder;                          // base of the tries' log files
  std::map<std::string, std::string> process_env;  // the environment tasks start from (filtered)
  // Where conn_id resolves after DWFS_CONN_<ID> of process_env; may be null.
  const ConnectionSource* stored_connections = nullptr;
  // var.value.*; may be null.
  const std::map<std::string, std::string>* variables = nullptr;
  // The webhook callbacks' sender (its log: where delivery failures go).
  WebhookSenderOptions webhooks;
};

class Engine {
 public:
  Engine(const Config& config, EngineOptions options);
  ~Engine();

  boost::asio::io_context& io() { return io_; }
  StandardPreparer& preparer() { return preparer_; }
  LocalExecutor& executor() { return executor_; }
  SlotTracker& slots() { return slots_; }
  // Stopped (with its grace for pending requests) when the engine goes.
  WebhookSender& webhooks() { return webhooks_; }

  // Runs `driver` in the foreground until it is done. SIGINT/SIGTERM stop
  // it (running tries are terminated and marked); then interrupted() is
  // true. A line saying so goes to `err`.
  void RunInForeground(RunDriver& driver, std::ostream& err);
  bool interrupted() const { return interrupted_; }

 private:
  boost::asio::io_context io_;
  EnvConnectionSource env_connections_;
  ChainedConnectionSource connections_;
  StandardPreparer preparer_;
  LocalExecutor executor_;
  SlotTracker slots_;
  WebhookSender webhooks_;
  bool interrupted_ = false;
};

}  // namespace dwfs

#endif  // DWFS_ENGINE_H_
