// DwfsMetrics: the one place that defines dwfs's metric families (names,
// help, labels, buckets); docs/metrics.md describes each. A process makes a
// MetricsRegistry, builds DwfsMetrics on it, and hands `DwfsMetrics*` to the
// parts it wires (null everywhere means "no metrics"):
//
//   SchedulerOptions::metrics   loop duration, runs being driven
//   RunDriver::set_metrics      executor queue depth and running tries
//   RunMetricsObserver          runs and tries by state, task duration,
//                               scheduling delay (src/run_metrics.h)
//   DagRegistry (constructor)   DAG folder parse duration, import errors
//   Store::set_metrics          database errors by operation
//   ApiServerOptions::metrics   API requests by method and status, durations
//
// and renders registry.RenderPrometheus() for GET /metrics.
//
// Durations are measured with `now` (std::chrono::steady_clock by default);
// tests replace it with a fake before sharing the struct, so that observed
// values are exact.
//
// Thread safety: the series are thread-safe (see metrics.h); `now` must be
// set before the struct is shared and must itself be thread-safe.
// Lifetime: the registry must outlive this struct.
#ifndef DWFS_DWFS_METRICS_H_
#define DWFS_DWFS_METRICS_H_

#include <chrono>
#include <functional>
#include <string>

#include "dwfs/metrics.h"

namespace dwfs {

struct DwfsMetrics {
  using TimePoint = std::chrono::steady_clock::time_point;

  // Registers every family below on `registry` (so a registry can hold one
  // DwfsMetrics only) and creates the label sets that are known in advance
  // (run and try states), so that they render as 0 before their first use.
  explicit DwfsMetrics(MetricsRegistry& registry);
  DwfsMetrics(const DwfsMetrics&) = delete;
  DwfsMetrics& operator=(const DwfsMetrics&) = delete;

  MetricsRegistry& registry() const { return registry_; }
  std::string Render() const { return registry_.RenderPrometheus(); }

  // Seconds from `start` to now() (never negative).
  double SecondsSince(TimePoint start) const;

  std::function<TimePoint()> now = [] { return std::chrono::steady_clock::now(); };

  // dwfs_build_info{version}: always 1.
  Family<Gauge>& build_info;
  // dwfs_dag_runs_finished_total{state}: runs that ended (success, failed).
  Family<Counter>& dag_runs_finished;
  // dwfs_dag_runs_running: runs this scheduler drives now.
  Gauge& dag_runs_running;
  // dwfs_task_tries_finished_total{state}: tries that ended, by the state
  // their task instance went to (success, failed, up_for_retry, skipped).
  Family<Counter>& task_tries_finished;
  // dwfs_task_duration_seconds: from handing a try to the executor to its end.
  Histogram& task_duration;
  // dwfs_task_scheduling_delay_seconds: from a task instance becoming ready
  // (scheduled; queued when it was restored already scheduled) to its process
  // running (SQL tries, which have no process: to the hand-over to a worker).
  Histogram& task_scheduling_delay;
  // dwfs_executor_queued_tasks: ready task instances waiting for a slot.
  Gauge& executor_queued_tasks;
  // dwfs_executor_running_tasks: tries handed to the executor, not finished.
  Gauge& executor_running_tasks;
  // dwfs_scheduler_loop_duration_seconds: one scheduling loop.
  Histogram& scheduler_loop_duration;
  // dwfs_dag_parse_duration_seconds: reading and parsing the dags folder once.
  Histogram& dag_parse_duration;
  // dwfs_dag_import_errors: files of the dags folder that fail to load now.
  Gauge& dag_import_errors;
  // dwfs_database_errors_total{operation,kind}: store transactions that
  // failed (kind: connection, query).
  Family<Counter>& database_errors;
  // dwfs_api_requests_total{method,status}: API requests answered.
  Family<Counter>& api_requests;
  // dwfs_api_request_duration_seconds: handling one API request (on its
  // worker thread, database included).
  Histogram& api_request_duration;

 private:
  MetricsRegistry& registry_;
};

}  // namespace dwfs

#endif  // DWFS_DWFS_METRICS_H_
