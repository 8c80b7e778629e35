// Scheduler: the daemon's loop (after Icinga 2's checker: everything is
// scheduled by its next due time). It does not own the parts it drives:
//
//   DagRegistry  the dags folder and the DAG rows (reloaded when the
//                watcher says the folder changed)
//   Store        runs: ScheduleDag creates them (row-locked, so several
//                schedulers never create one twice) and hands this
//                instance the runs it may drive
//   RunDriver    the one run engine (ready tasks, retries, run state)
//   RunRecorder  persists what the driver does
//
// One loop: reload the folder if it changed; heartbeat when due (and find
// dead schedulers, adopt their runs); ScheduleDag for every due DAG; load
// the runs it started into the driver. Then sleep until the earliest of:
// the next heartbeat, the next due DAG, a folder change, a finished run.
// A task's completion never waits for the loop: the driver starts its
// successors in the same handler.
//
// Crash safety: a run is driven only by its owner. A scheduler whose
// heartbeat is older than zombie_threshold (or, on this host, whose process
// is gone) is dead; its running runs are adopted, their running tries'
// process groups (on this host) killed, and those tries end as failed,
// retried per the task's retries. Nothing runs twice at once; nothing is
// lost.
//
// Thread safety: all methods on the io_context's thread.
#ifndef DWFS_SCHEDULER_H_
#define DWFS_SCHEDULER_H_

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "dwfs/clock.h"
#include "dwfs/dag_registry.h"
#include "dwfs/run_driver.h"
#include "dwfs/store.h"

namespace spdlog {
class logger;
}

namespace dwfs {

struct DwfsMetrics;
class RunRecorder;

struct SchedulerOptions {
  std::string hostname;
  int pid = 0;
  Seconds heartbeat{5};            // scheduler.heartbeat
  Seconds zombie_threshold{300};   // scheduler.zombie_threshold
  int max_dagruns_per_loop = 10;   // scheduler.max_dagruns_to_create_per_loop (per DAG)
  Seconds graceful_shutdown_timeout{60};
  // -n: after this many loops, create no more runs; exit once the loaded
  // runs are finished. None: run until Shutdown.
  std::optional<int> num_loops;
  // Loop durations and the number of runs driven go here; null: none. Must
  // outlive the scheduler.
  DwfsMetrics* metrics = nullptr;
};

class Scheduler {
 public:
  // Every reference must outlive the scheduler. `variables` (may be null)
  // is refreshed from the store before runs are loaded (the preparer reads it).
  Scheduler(boost::asio::io_context& io, Store& store, DagRegistry& registry, RunDriver& driver,
            RunRecorder& recorder, const Clock& clock, SchedulerOptions options, spdlog::logger& log,
            std::map<std::string, std::string>* variables);
  ~Scheduler();

  // Registers this instance, loads the folder, resumes and adopts runs, and
  // runs the first loop. Fails only when the store cannot be reached.
  Status Start();
  // The dags folder changed: reload it in a moment (coalesced).
  void FolderChanged();
  // Something changed in the store (a trigger, an unpause, a clear from
  // another process): run a loop soon (coalesced).
  void Wake() { PostLoop(); }
  // Graceful stop: create and start nothing more; let running tries finish
  // for graceful_shutdown_timeout, then terminate them (up_for_retry); write
  // everything, release this instance's runs. `done` runs when finished.
  void Shutdown(std::function<void()> done);
  // Runs the recorder told us about (RunRecorder callbacks).
  void RunRecorded(const std::string& dag_id, const std::string& run_id);
  void RunLost(const std::string& dag_id, const std::string& run_id);
  // One loop now (the timer calls it; tests call it after moving a fake
  // clock).
  void RunOnce();
  // Checks whether a shutdown (or the last of num_loops) can complete; the
  // caller's io loop calls it after every handler.
  void Poll();

  // True once Shutdown finished or, with num_loops, once every loop ran and
  // every loaded run finished.
  bool finished() const { return finished_; }
  int64_t id() const { return id_; }
  int loops() const { return loops_; }
  // For the health endpoint: the last successful heartbeat, whether the last
  // database access worked.
  std::optional<Instant> last_heartbeat() const { return last_heartbeat_; }
  bool database_ok() const { return database_ok_; }
  size_t active_runs() const { return plans_.size(); }
  // SchedulerOptions::metrics (may be null): for GET /metrics,
  // metrics()->Render().
  DwfsMetrics* metrics() const { return options_.metrics; }

 private:
  using RunKey = std::pair<std::string, std::string>;

  void ArmTimer(std::optional<Instant> next_due);
  void ReloadFolder(Instant now);
  void Heartbeat(Instant now);
  void ScheduleDag(const std::string& dag_id, Instant now);
  SchedulePlan PlanRuns(const ScheduleView& view, Instant now) const;
  void LoadRun(const RunRecord& run, Instant now);
  void RemoveDeletedTasks(const std::string& dag_id);
  void DeclareDeadOnThisHost();
  void Note(const Status& st, const char* what);
  void CompleteShutdown();
  void PostLoop();
  void CountRuns();  // the runs-driven gauge

  boost::asio::io_context& io_;
  Store& store_;
  DagRegistry& registry_;
  RunDriver& driver_;
  RunRecorder& recorder_;
  const Clock& clock_;
  SchedulerOptions options_;
  spdlog::logger& log_;
  std::map<std::string, std::string>* variables_;
  boost::asio::steady_timer timer_;
  boost::asio::steady_timer grace_timer_;
  int64_t id_ = 0;
  int loops_ = 0;
  bool folder_dirty_ = true;
  bool loop_posted_ = false;
  bool stopping_ = false;
  bool finished_ = false;
  bool database_ok_ = false;
  bool variables_fresh_ = false;  // refreshed in this loop
  bool unloaded_runs_ = false;    // a run we own could not be loaded yet
  std::optional<Instant> last_heartbeat_;
  std::set<std::string> recheck_;  // DAGs to look at in the next loop
  std::map<RunKey, std::shared_ptr<RunPlan>> plans_;
  std::function<void()> on_shutdown_;
};

}  // namespace dwfs

#endif  // DWFS_SCHEDULER_H_
