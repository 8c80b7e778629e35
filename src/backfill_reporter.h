// BackfillReporter: what `dags backfill` shows while it works. On a
// terminal, a status line redrawn in place (runs done/total, runs and tasks
// running, task failures, elapsed, ETA) with events printed above it; when
// output is not a terminal, one plain line per event (run started, run
// finished with done/total and ETA, task try failed) and no redrawing.
// Then a summary of every run.
//
// Elapsed and ETA are wall-clock figures for people (steady_clock); nothing
// decides anything by them. Not thread-safe: the io thread only.
#ifndef DWFS_BACKFILL_REPORTER_H_
#define DWFS_BACKFILL_REPORTER_H_

#include <chrono>
#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include "dwfs/backfill.h"
#include "dwfs/run_driver.h"

namespace dwfs {

class BackfillReporter : public BackfillListener, public RunObserver {
 public:
  // `running_tasks` tells how many tries run now (the driver's count).
  BackfillReporter(std::ostream& out, bool tty, const Dag& dag, std::function<int()> running_tasks);

  // The plan: how many runs, how many left alone and why.
  void Begin(const std::vector<BackfillRun>& runs);
  // Redraws the status line (a terminal only; a timer calls it).
  void Refresh();
  // Clears the status line and prints the summary of `runs`.
  void End(const std::vector<BackfillRun>& runs, bool interrupted);

  void OnRunStarted(const BackfillRun& run) override;
  void OnRunDone(const BackfillRun& run) override;
  void OnRunWaiting(const BackfillRun& run) override;
  void OnTryFinished(const RunPlan& plan, int task, const TaskResult& result) override;

 private:
  void Line(const std::string& text);  // an event line (above the status line)
  std::string Status() const;
  std::string Progress() const;  // "12/365 runs done, ETA 1m02s"
  std::string Date(const BackfillRun& run) const;

  std::ostream& out_;
  bool tty_;
  const Dag& dag_;
  std::function<int()> running_tasks_;
  std::chrono::steady_clock::time_point begin_ = std::chrono::steady_clock::now();
  size_t total_ = 0;
  size_t done_ = 0;
  size_t done_before_ = 0;  // left alone from the start (they do not feed the ETA)
  size_t succeeded_ = 0;
  size_t failed_ = 0;
  size_t running_runs_ = 0;
  size_t task_failures_ = 0;
  bool status_shown_ = false;
};

}  // namespace dwfs

#endif  // DWFS_BACKFILL_REPORTER_H_
