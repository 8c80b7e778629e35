// Backfill: `dwfs dags backfill DAG -s START -e END`. One run per schedule
// interval whose logical date is in [START, END], oldest first (or newest
// first with --run-backwards), driven in the foreground by the same engine
// as the scheduler (RunDriver, RunRecorder, the run loader) and recorded in
// the store with `backfill__` run ids.
//
// Two parts:
//   PlanBackfill  pure: from the DAG, the options and the runs already
//                 stored, what to do with each interval (run, resume, clear
//                 and rerun, or leave alone and why).
//   Backfill      drives that list: claims each run in the store
//                 (Store::ClaimBackfillRun: within max_active_runs, never a
//                 run another live process drives), loads it, hands it to
//                 the driver, and starts the next as runs finish.
//
// Working next to a scheduler: the backfill registers as a scheduler
// instance of kind "backfill" and heartbeats; its runs are owned by it, and
// schedulers never start or adopt backfill runs that have an owner, so no
// task runs twice at once. Runs of the range that a scheduler drives are
// waited for (and then counted by their outcome or cleared and rerun).
//
// Interruption (Stop): running tries are terminated and requeued (the try
// does not count against retries), everything is written, the unfinished
// runs are parked (queued, still owned by this stopped instance) so that no
// scheduler picks them up; running the same command again resumes them.
// After kill -9, the next backfill finds the instance's process gone (same
// host) or its heartbeat stale, kills orphaned process groups, and resumes.
//
// Thread safety: all methods on the io_context's thread.
#ifndef DWFS_BACKFILL_H_
#define DWFS_BACKFILL_H_

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dwfs/clock.h"
#include "dwfs/run_driver.h"
#include "dwfs/store.h"

namespace spdlog {
class logger;
}

namespace dwfs {

class RunRecorder;

struct BackfillOptions {
  Instant start;  // -s: first logical date (inclusive)
  Instant end;    // -e: last logical date (inclusive)
  bool reset_dagruns = false;       // clear existing runs of the range and run them again
  bool rerun_failed_tasks = false;  // rerun the failed and upstream_failed tasks of existing runs
  bool run_backwards = false;       // newest first (refused when a task depends_on_past)
  bool ignore_first_depends_on_past = false;  // -I: the first run ignores the runs before the range
  // -t: the tasks to run (indexed like dag.tasks); empty: all of them.
  std::vector<bool> selected;
  Json conf = Json::Object();  // -c: conf of the runs it creates
  // The process, for the instance row and orphan detection.
  std::string hostname;
  int pid = 0;
  Seconds heartbeat{5};           // scheduler.heartbeat: also how often waiting runs are retried
  Seconds zombie_threshold{300};  // scheduler.zombie_threshold
  size_t max_runs = 100000;       // a range producing more is refused
};

// One interval of the range and what becomes of it.
struct BackfillRun {
  enum class Action {
    kCreate,  // no run yet: create and run it
    kResume,  // an unfinished run (interrupted backfill, queued): run what is left
    kClear,   // a finished run: clear `clear` and run them again
    kSkip,    // left alone: `note` says why; `result` is its state
  };
  enum class Phase { kPending, kRunning, kDone };

  DataInterval interval;
  RunInfo info;                        // the stored run's when it exists
  std::optional<RunState> existing;    // the stored run's state when planned
  Action action = Action::kCreate;
  std::vector<std::string> clear;      // task instances to clear first
  std::string note;                    // why skipped, or what it waits for
  Phase phase = Phase::kPending;
  std::optional<RunState> result;      // once done
  std::shared_ptr<RunPlan> plan;       // while running
};

// A stored run of the range and its task instance states.
struct ExistingRun {
  RunRecord run;
  std::map<std::string, TaskState> states;  // task_id -> state
};

// The stored runs of `dag_id` whose logical date is in [from, to], by
// logical date, with their task instance states (PlanBackfill's input).
Status ReadExistingRuns(Store& store, const std::string& dag_id, Instant from, Instant to,
                        std::map<Instant, ExistingRun>* out);

// The list of runs, in the order they will be started. InvalidArgument
// when the DAG has no schedule, when --run-backwards meets depends_on_past,
// or when the range holds more than max_runs intervals; an empty range is
// not an error (an empty list).
Status PlanBackfill(const Dag& dag, const BackfillOptions& options, const std::map<Instant, ExistingRun>& existing,
                    std::vector<BackfillRun>* out);

// Hears about a backfill's progress (the console view). Optional methods.
class BackfillListener {
 public:
  virtual ~BackfillListener() = default;
  virtual void OnRunStarted(const BackfillRun& /*run*/) {}
  virtual void OnRunDone(const BackfillRun& /*run*/) {}
  // A run waits: for room under max_active_runs, or for the process that
  // drives it. Said once per reason.
  virtual void OnRunWaiting(const BackfillRun& /*run*/) {}
};

class Backfill {
 public:
  // References must outlive the backfill. `listener` may be null.
  Backfill(boost::asio::io_context& io, Store& store, std::shared_ptr<const Dag> dag, RunDriver& driver,
           RunRecorder& recorder, const Clock& clock, BackfillOptions options, spdlog::logger& log,
           BackfillListener* listener);
  ~Backfill();

  // Registers the instance, takes over from dead backfills of this host,
  // and starts the first runs. Fails only when the store cannot be reached.
  Status Start(std::vector<BackfillRun> runs);
  // Ctrl-C: stop starting, terminate running tries (requeued), then park.
  void Stop();
  // Completes a stop or the end of the list once nothing runs; the caller's
  // io loop calls it after every handler.
  void Poll();
  // RunRecorder callbacks.
  void RunRecorded(const std::string& dag_id, const std::string& run_id);
  void RunLost(const std::string& dag_id, const std::string& run_id);

  bool finished() const { return finished_; }
  bool stopped() const { return stopping_; }
  const std::vector<BackfillRun>& runs() const { return runs_; }
  int64_t id() const { return id_; }
  // True when every run ended in success (skipped ones included).
  bool AllSucceeded() const;

 private:
  void Pump();
  bool Claim(BackfillRun& run, Instant now);  // false: stop looking further
  void Tick();
  void ArmTick();
  void Complete();
  void Waiting(BackfillRun& run, const std::string& why);
  BackfillRun* FindRunning(const std::string& run_id);

  boost::asio::io_context& io_;
  Store& store_;
  std::shared_ptr<const Dag> dag_;
  RunDriver& driver_;
  RunRecorder& recorder_;
  const Clock& clock_;
  BackfillOptions options_;
  spdlog::logger& log_;
  BackfillListener* listener_;
  boost::asio::steady_timer tick_;
  std::vector<BackfillRun> runs_;
  int64_t id_ = 0;
  bool depends_on_past_ = false;
  bool stopping_ = false;
  bool finished_ = false;
  bool first_started_ = false;
  std::optional<Instant> last_heartbeat_;
};

}  // namespace dwfs

#endif  // DWFS_BACKFILL_H_
