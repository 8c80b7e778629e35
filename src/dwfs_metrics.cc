#include "dwfs/dwfs_metrics.h"

#include <algorithm>

#include "dwfs/task_state.h"

namespace dwfs {

namespace {

// Bucket upper bounds, in seconds.
const std::vector<double> kFastBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                          0.25,  0.5,    1,     2.5,  5,     10,   30};
const std::vector<double> kTaskBuckets = {0.1, 0.5, 1, 5, 10, 30, 60, 300, 600, 1800, 3600, 10800, 43200};

}  // namespace

DwfsMetrics::DwfsMetrics(MetricsRegistry& registry)
    : build_info(registry.AddGauge("dwfs_build_info", "The dwfs version of this process (always 1).", {"version"})),
      dag_runs_finished(registry.AddCounter("dwfs_dag_runs_finished_total",
                                            "DAG runs that ended, by final state.", {"state"})),
      dag_runs_running(
          registry.AddGauge("dwfs_dag_runs_running", "DAG runs this scheduler is driving now.").Get()),
      task_tries_finished(registry.AddCounter(
          "dwfs_task_tries_finished_total",
          "Task tries that ended, by the state their task instance went to.", {"state"})),
      task_duration(registry
                        .AddHistogram("dwfs_task_duration_seconds",
                                      "Run time of a task try, from its hand-over to the executor to its end.",
                                      kTaskBuckets)
                        .Get()),
      task_scheduling_delay(registry
                                .AddHistogram("dwfs_task_scheduling_delay_seconds",
                                              "From a task instance becoming ready to its process running.",
                                              kFastBuckets)
                                .Get()),
      executor_queued_tasks(
          registry.AddGauge("dwfs_executor_queued_tasks", "Ready task instances waiting for an executor slot.")
              .Get()),
      executor_running_tasks(
          registry.AddGauge("dwfs_executor_running_tasks", "Task tries running on the executor.").Get()),
      scheduler_loop_duration(registry
                                  .AddHistogram("dwfs_scheduler_loop_duration_seconds",
                                                "Duration of one scheduling loop.", kFastBuckets)
                                  .Get()),
      dag_parse_duration(registry
                             .AddHistogram("dwfs_dag_parse_duration_seconds",
                                           "Duration of reading and parsing the dags folder once.", kFastBuckets)
                             .Get()),
      dag_import_errors(
          registry.AddGauge("dwfs_dag_import_errors", "Files of the dags folder that fail to load.").Get()),
      database_errors(registry.AddCounter("dwfs_database_errors_total",
                                          "Metadata database transactions that failed, by operation and kind.",
                                          {"operation", "kind"})),
      api_requests(registry.AddCounter("dwfs_api_requests_total", "API requests answered, by method and status.",
                                       {"method", "status"})),
      api_request_duration(registry
                               .AddHistogram("dwfs_api_request_duration_seconds",
                                             "Duration of handling one API request.", kFastBuckets)
                               .Get()),
      registry_(registry) {
  build_info.WithLabels({DWFS_VERSION}).Set(1);
  for (RunState s : {RunState::kSuccess, RunState::kFailed}) dag_runs_finished.WithLabels({RunStateName(s)});
  for (TaskState s : {TaskState::kSuccess, TaskState::kFailed, TaskState::kUpForRetry, TaskState::kSkipped}) {
    task_tries_finished.WithLabels({TaskStateName(s)});
  }
}

double DwfsMetrics::SecondsSince(TimePoint start) const {
  return std::max(0.0, std::chrono::duration<double>(now() - start).count());
}

}  // namespace dwfs
