// Run metrics: what the run engine reports to DwfsMetrics (dwfs_metrics.h).
//
// RunMetricsObserver hears a RunDriver's events (put it in an ObserverTee
// next to the recorder) and counts finished runs and tries by state, and
// observes each try's duration and scheduling delay, timed with
// DwfsMetrics::now:
//
//   ready    the task instance became scheduled (or, when it was restored
//            already scheduled, queued)
//   handed   it became running: the try was handed to the executor
//   started  OnTryStarted: its process runs (bash). SQL tries have no
//            process; their delay ends when they are handed over.
//   ended    OnTryFinished: task duration = ended - handed.
//
// RecordDriverLoad sets the executor gauges from a driver's plans; the
// driver calls it after every Pump when it has metrics.
//
// Not thread-safe: on the driver's thread, like the driver. Keyed by plan
// address: entries of a plan are dropped when it finishes (a plan removed
// unfinished, e.g. adopted by another scheduler, leaves at most one entry per
// task until a try of a new plan at the same address replaces it).
#ifndef DWFS_RUN_METRICS_H_
#define DWFS_RUN_METRICS_H_

#include <map>
#include <optional>
#include <utility>

#include "dwfs/dwfs_metrics.h"
#include "dwfs/run_driver.h"

namespace dwfs {

class RunMetricsObserver : public RunObserver {
 public:
  // `metrics` must outlive the observer.
  explicit RunMetricsObserver(DwfsMetrics& metrics) : metrics_(metrics) {}

  void OnTaskState(const RunPlan& plan, int task) override;
  void OnTryStarted(const RunPlan& plan, int task, int pid) override;
  void OnTryFinished(const RunPlan& plan, int task, const TaskResult& result) override;
  void OnRunFinished(const RunPlan& plan) override;

 private:
  using Key = std::pair<const RunPlan*, int>;
  struct Times {
    std::optional<DwfsMetrics::TimePoint> ready;
    std::optional<DwfsMetrics::TimePoint> handed;
    bool delay_observed = false;
  };

  DwfsMetrics& metrics_;
  std::map<Key, Times> times_;
};

// Sets executor_queued_tasks (scheduled instances of the driver's unfinished
// plans) and executor_running_tasks (its running tries).
void RecordDriverLoad(DwfsMetrics& metrics, const RunDriver& driver);

}  // namespace dwfs

#endif  // DWFS_RUN_METRICS_H_
