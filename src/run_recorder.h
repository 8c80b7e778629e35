// RunRecorder: persists what the run engine does. A RunObserver that turns
// task-state changes, try starts and ends, and run ends into Store rows,
// written by a writer thread on its own Store (connection) so that the io
// thread never waits for the database: changes that arrive while a batch is
// being written form the next batch (group commit).
//
// Failure: when a write fails (database down), the pending changes are kept
// (newer states of a row replace older ones) and retried with backoff (1 s
// doubling to 30 s); the outage and the recovery are logged once each.
// Nothing is dropped while the recorder lives.
//
// Ownership: with an owner id, rows of runs the store says belong to
// another scheduler are not written; on_lost hears of those runs.
//
// Thread safety: observer methods, Flush and the callbacks run on the io
// thread; the writer thread only touches the Store and the queue (under mu_).
#ifndef DWFS_RUN_RECORDER_H_
#define DWFS_RUN_RECORDER_H_

#include <boost/asio/io_context.hpp>

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <tuple>

#include "dwfs/clock.h"
#include "dwfs/run_driver.h"
#include "dwfs/store.h"

namespace spdlog {
class logger;
}

namespace dwfs {

struct RunRecorderOptions {
  std::string hostname;
  std::optional<int64_t> owner;  // the scheduler instance; none = no ownership check
  std::string log_folder;        // for the tries' log paths
  // Whether run states are written (the scheduler and backfill: yes; `tasks
  // run` of one task: no, the run's state is the scheduler's business).
  bool record_run_state = true;
};

class RunRecorder : public RunObserver {
 public:
  // Takes ownership of `store` (used by the writer thread only).
  RunRecorder(boost::asio::io_context& io, std::unique_ptr<Store> store, const Clock& clock,
              RunRecorderOptions options, spdlog::logger& log);
  // Writes what is pending (one last attempt) and joins the writer.
  ~RunRecorder() override;

  // Sets the owner (the scheduler instance id, known once registered);
  // call before anything is recorded.
  void set_owner(int64_t owner) {
    std::lock_guard<std::mutex> lock(mu_);
    options_.owner = owner;
  }
  // Runs (dag_id, run_id) that another scheduler owns now.
  void set_on_lost(std::function<void(const std::string&, const std::string&)> f) { on_lost_ = std::move(f); }
  // A finished run's final state (and every task row before it) is stored.
  void set_on_run_recorded(std::function<void(const std::string&, const std::string&)> f) {
    on_recorded_ = std::move(f);
  }

  void OnTaskState(const RunPlan& plan, int task) override;
  void OnTryStarted(const RunPlan& plan, int task, int pid) override;
  void OnTryFinished(const RunPlan& plan, int task, const TaskResult& result) override;
  void OnRunFinished(const RunPlan& plan) override;
  // Records the run's current state and start date (a run just started).
  void RecordRunState(const RunPlan& plan);
  // Writes every instance of the plan (a freshly loaded run).
  void RecordAll(const RunPlan& plan);

  // Blocks until everything queued so far is written or `timeout` passes;
  // true when written. For shutdown and tests.
  bool WaitWritten(std::chrono::milliseconds timeout);
  // Whether the last write failed (the database is unreachable).
  bool failing() const;

 private:
  using TaskKey = std::tuple<std::string, std::string, std::string>;
  using TryKey = std::tuple<std::string, std::string, std::string, int>;
  using RunKey = std::pair<std::string, std::string>;

  TaskInstanceRecord InstanceRecord(const RunPlan& plan, int task) const;
  void Queue(std::function<void()> add);
  void WriterLoop();

  boost::asio::io_context& io_;
  std::unique_ptr<Store> store_;
  const Clock& clock_;
  RunRecorderOptions options_;  // owner GUARDED_BY(mu_)
  spdlog::logger& log_;
  std::function<void(const std::string&, const std::string&)> on_lost_;
  std::function<void(const std::string&, const std::string&)> on_recorded_;
  std::map<TaskKey, int> pids_;  // io thread: pid of each running try

  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::condition_variable written_;
  std::map<TaskKey, TaskInstanceRecord> instances_;  // GUARDED_BY(mu_)
  std::map<TryKey, TryRecord> tries_;                // GUARDED_BY(mu_)
  std::map<RunKey, RunRecord> runs_;                 // GUARDED_BY(mu_)
  uint64_t queued_seq_ = 0;                          // GUARDED_BY(mu_): changes queued so far
  uint64_t written_seq_ = 0;                         // GUARDED_BY(mu_): changes known written
  bool failing_ = false;                             // GUARDED_BY(mu_)
  bool stop_ = false;                                // GUARDED_BY(mu_)
  std::thread writer_;                               // last: starts once the rest is built
};

}  // namespace dwfs

#endif  // DWFS_RUN_RECORDER_H_
