#include "run_metrics.h"

#include <algorithm>
#include <chrono>

namespace dwfs {

void RunMetricsObserver::OnTaskState(const RunPlan& plan, int task) {
  Key key{&plan, task};
  DwfsMetrics::TimePoint now = metrics_.now();
  switch (plan.instance(task).state) {
    case TaskState::kScheduled:
      times_[key] = Times{now, std::nullopt, false};  // also after a requeue
      return;
    case TaskState::kQueued: {
      Times& t = times_[key];
      if (!t.ready) t.ready = now;
      return;
    }
    case TaskState::kRunning:
      times_[key].handed = now;
      return;
    default: {
      // Ended without a try (skipped, upstream_failed, removed), or a try's
      // end that OnTryFinished handles next.
      auto it = times_.find(key);
      if (it != times_.end() && !it->second.handed) times_.erase(it);
      return;
    }
  }
}

void RunMetricsObserver::OnTryStarted(const RunPlan& plan, int task, int /*pid*/) {
  auto it = times_.find({&plan, task});
  if (it == times_.end() || !it->second.ready || it->second.delay_observed) return;
  metrics_.task_scheduling_delay.Observe(metrics_.SecondsSince(*it->second.ready));
  it->second.delay_observed = true;
}

void RunMetricsObserver::OnTryFinished(const RunPlan& plan, int task, const TaskResult& /*result*/) {
  metrics_.task_tries_finished.WithLabels({TaskStateName(plan.instance(task).state)}).Increment();
  auto it = times_.find({&plan, task});
  if (it == times_.end()) return;
  const Times& t = it->second;
  if (t.handed) {
    metrics_.task_duration.Observe(metrics_.SecondsSince(*t.handed));
    bool sql = plan.dag().tasks[size_t(task)].operator_name == "sql";
    if (sql && t.ready && !t.delay_observed) {
      double delay = std::chrono::duration<double>(*t.handed - *t.ready).count();
      metrics_.task_scheduling_delay.Observe(std::max(0.0, delay));
    }
  }
  times_.erase(it);
}

void RunMetricsObserver::OnRunFinished(const RunPlan& plan) {
  metrics_.dag_runs_finished.WithLabels({RunStateName(plan.state())}).Increment();
  auto it = times_.lower_bound({&plan, -1});
  while (it != times_.end() && it->first.first == &plan) it = times_.erase(it);
}

void RecordDriverLoad(DwfsMetrics& metrics, const RunDriver& driver) {
  int queued = 0;
  for (const auto& plan : driver.plans()) {
    if (!plan->finished()) queued += plan->CountIn(TaskState::kScheduled);
  }
  metrics.executor_queued_tasks.Set(queued);
  metrics.executor_running_tasks.Set(driver.running());
}

}  // namespace dwfs
