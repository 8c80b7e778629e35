// The dwfs command line (cli.md). RunCli parses arguments with CLI11, loads
// the configuration, runs one command and returns its exit status:
// 0 success, 1 the work failed, 2 bad usage or input.
#ifndef DWFS_CLI_H_
#define DWFS_CLI_H_

#include <CLI/CLI.hpp>

#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>

#include "dwfs/clock.h"
#include "dwfs/config.h"
#include "dwfs/dag_loader.h"
#include "output.h"

namespace spdlog {
class logger;
}

namespace dwfs {

class Store;
class ConnectionSource;
struct EngineOptions;
struct DwfsMetrics;

// What a command gets to work with. Owns the loaded configuration and the
// dag bag (loaded on first use). Not thread-safe; one per invocation.
class CliContext {
 public:
  CliContext(Config config, std::map<std::string, std::string> env, std::shared_ptr<spdlog::logger> log,
             const Clock& clock, std::ostream& out, std::ostream& err);
  ~CliContext();

  const Config& config() const { return config_; }
  // The --config file as given (empty: the default); for reloading.
  const std::string& config_file() const { return config_file_; }
  void set_config_file(std::string f) { config_file_ = std::move(f); }
  // The process environment (connections, task environments).
  const std::map<std::string, std::string>& env() const { return env_; }
  spdlog::logger& log() { return *log_; }
  const Clock& clock() const { return clock_; }
  std::ostream& out() { return out_; }
  std::ostream& err() { return err_; }

  // The dags folder, loaded once.
  const DagBag& dag_bag();
  // The DAG with this id, or NotFound naming it and the folder (and hinting
  // at import errors).
  Status FindDag(const std::string& dag_id, const Dag** out);
  // The metadata store at database.url, opened on first use and owned by the
  // context. FailedPrecondition when no url is configured (naming
  // DWFS_DATABASE_URL / database.url), IOError when it is unreachable, the
  // Store::Open error when the schema is not migrated.
  Status OpenStore(Store** out);
  // Asks `question` on out() and reads the answer from std::cin: true for
  // "y" or "yes" (any case, spaces ignored); false otherwise or at EOF.
  bool Confirm(const std::string& question);
  // Points database.url at `url` (standalone, once its private cluster is
  // up); a store opened before is closed.
  void set_database_url(std::string url);
  // Adds or replaces a variable of the task environment (standalone's
  // default connections).
  void set_env(const std::string& key, std::string value) { env_[key] = std::move(value); }
  // Parses a CLI date, naive ones in `tz`; InvalidArgument quoting it.
  Status ParseDate(const std::string& text, const TimeZone& tz, Instant* out) const;

 private:
  Config config_;
  std::string config_file_;
  std::map<std::string, std::string> env_;
  std::shared_ptr<spdlog::logger> log_;
  const Clock& clock_;
  std::ostream& out_;
  std::ostream& err_;
  std::optional<DagBag> bag_;
  std::unique_ptr<Store> store_;
};

// A parsed command ready to run.
using CliAction = std::function<Status(CliContext&)>;

// Registration of each command family; each sets *action when its leaf
// command is chosen.
void AddConfigCommands(CLI::App* app, CliAction* action);
void AddDagsCommands(CLI::App* app, CliAction* action);
void AddTasksCommands(CLI::App* app, CliAction* action);
// tasks test | render, dags test (after the dags and tasks families).
void AddRunCommands(CLI::App* app, CliAction* action);
// db, connections, variables; the stored-state leaves of dags and tasks
// (pause, unpause, trigger, list-runs, state; tasks state,
// states-for-dag-run, clear, logs). src/cli_db.cc, src/cli_state.cc.
void AddDbCommands(CLI::App* app, CliAction* action);
void AddStateCommands(CLI::App* app, CliAction* action);
// users create | list | delete | set-password (src/cli_users.cc).
void AddUsersCommands(CLI::App* app, CliAction* action);
// dags backfill (src/cli_backfill.cc).
void AddBackfillCommand(CLI::App* app, CliAction* action);
// scheduler, tasks run (src/cli_scheduler.cc).
void AddSchedulerCommands(CLI::App* app, CliAction* action);
// The scheduler daemon until SIGTERM/SIGINT (or, with num_loops, until
// that many loops ran and their runs finished); `dwfs scheduler` and
// `dwfs standalone` (src/cli_scheduler.cc). Its metrics go to `metrics`
// (a process serving them elsewhere too, e.g. an API server in the same
// process, passes its own); null: a registry of its own.
Status RunScheduler(CliContext& ctx, std::optional<int> num_loops, DwfsMetrics* metrics = nullptr);
// api-server (src/cli_api.cc).
void AddApiCommand(CLI::App* app, CliAction* action);
// standalone: private cluster (when no url), migrate, scheduler (src/cli_standalone.cc).
void AddStandaloneCommand(CLI::App* app, CliAction* action);

// This host's name (for scheduler instances and task rows).
std::string Hostname();
// The engine of commands that record (scheduler, tasks run, dags backfill):
// logs under base_log_folder, connections from the environment then
// `stored_connections`, `variables` (src/cli_scheduler.cc).
EngineOptions RecordingEngine(CliContext& ctx, const ConnectionSource* stored_connections,
                              const std::map<std::string, std::string>* variables);

// Adds "-o,--output" to `cmd`; the returned value holds the choice
// (default `def`) once parsed.
std::shared_ptr<OutputFormat> AddOutputOption(CLI::App* cmd, OutputFormat def = OutputFormat::kTable);

// Runs the command line. `env` is the process environment.
int RunCli(int argc, char** argv, const std::map<std::string, std::string>& env, std::ostream& out,
           std::ostream& err);

}  // namespace dwfs

#endif  // DWFS_CLI_H_
