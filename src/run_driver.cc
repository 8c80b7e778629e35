#include "dwfs/run_driver.h"

#include <boost/asio/post.hpp>

#include <algorithm>

#include "run_metrics.h"

namespace dwfs {

RunDriver::RunDriver(boost::asio::io_context& io, TaskExecutor& executor, TaskPreparer& preparer,
                     const Clock& clock, SlotTracker& slots, RunObserver* observer, WebhookSender* webhooks)
    : io_(io),
      executor_(executor),
      preparer_(preparer),
      clock_(clock),
      slots_(slots),
      observer_(observer),
      webhooks_(webhooks),
      retry_timer_(io) {}

RunDriver::~RunDriver() = default;

void RunDriver::Add(std::shared_ptr<RunPlan> plan) {
  plans_.push_back(std::move(plan));
  reported_finished_.push_back(false);
}

void RunDriver::FeedPast(RunPlan& plan) {
  // The newest plan of the same DAG with an earlier logical date.
  const RunPlan* prev = nullptr;
  for (const auto& p : plans_) {
    if (p.get() == &plan || p->dag().dag_id != plan.dag().dag_id) continue;
    if (p->info().logical_date >= plan.info().logical_date) continue;
    if (!prev || p->info().logical_date > prev->info().logical_date) prev = p.get();
  }
  if (!prev) return;
  std::vector<std::optional<TaskState>> states(plan.size());
  for (size_t i = 0; i < plan.size(); ++i) {
    int j = prev->dag().TaskIndex(plan.dag().tasks[i].task_id);
    if (j >= 0) states[i] = prev->instance(j).state;
  }
  plan.SetPreviousRun(std::move(states));
}

void RunDriver::ApplyUpdate(RunPlan& plan) {
  FeedPast(plan);
  for (int t : plan.Update(clock_.Now())) {
    if (observer_) observer_->OnTaskState(plan, t);
  }
}

void RunDriver::Pump() {
  if (pumping_) return;  // re-entered from a synchronous report
  pumping_ = true;
  // Settle every plan first, then start tries by priority across plans.
  // Cheap when nothing can start (every slot taken): called after each event.
  struct Candidate {
    size_t plan;
    int task;
    int priority;
  };
  std::vector<Candidate> ready;
  size_t plans_with_ready = 0;
  for (size_t i = 0; i < plans_.size(); ++i) {
    RunPlan& plan = *plans_[i];
    if (plan.finished()) continue;
    ApplyUpdate(plan);
    if (stopping_ || draining_ || slots_.full()) continue;
    size_t before = ready.size();
    for (int t : plan.Runnable()) ready.push_back({i, t, plan.EffectivePriority(t)});
    if (ready.size() > before) ++plans_with_ready;
  }
  // Each plan's list is already by priority; only a mix of plans needs sorting.
  if (plans_with_ready > 1) {
    std::stable_sort(ready.begin(), ready.end(),
                     [](const Candidate& a, const Candidate& b) { return a.priority > b.priority; });
  }
  for (const Candidate& c : ready) {
    if (slots_.full()) break;  // no candidate left could start
    const RunPlan& plan = *plans_[c.plan];
    if (!slots_.CanStart(plan.dag(), plan.dag().tasks[size_t(c.task)])) continue;
    std::shared_ptr<RunPlan> keep = plans_[c.plan];  // StartTry's observers may add plans
    StartTry(keep, c.task);
  }
  for (size_t i = 0; i < plans_.size(); ++i) {
    if (!reported_finished_[i] && plans_[i]->finished()) {
      reported_finished_[i] = true;
      RunFinishedCallback(*plans_[i]);
      if (observer_) observer_->OnRunFinished(*plans_[i]);
    }
  }
  ArmRetryTimer();
  if (metrics_) RecordDriverLoad(*metrics_, *this);
  pumping_ = false;
}

void RunDriver::StartTry(const std::shared_ptr<RunPlan>& plan, int task) {
  const Task& t = plan->dag().tasks[size_t(task)];
  plan->MarkQueued(task);
  if (observer_) observer_->OnTaskState(*plan, task);
  plan->MarkRunning(task, clock_.Now());
  if (observer_) observer_->OnTaskState(*plan, task);
  TaskRequest req;
  Status st = preparer_.Prepare(*plan, task, &req);
  uint64_t key = next_key_++;
  slots_.Acquire(plan->dag(), t);
  ++running_;
  if (!st.ok()) {
    // Nothing to run: fail this try with the reason, asynchronously like a real result.
    TaskResult r;
    r.key = key;
    r.outcome = {TaskOutcome::Kind::kFailed, st.message(), std::nullopt};
    boost::asio::post(io_, [this, plan, task, r]() mutable { OnResult(plan, task, std::move(r)); });
    return;
  }
  req.key = key;
  if (observer_) {
    req.on_start = [this, plan, task](int pid) {
      if (observer_) observer_->OnTryStarted(*plan, task, pid);
    };
  }
  executor_.Start(std::move(req), [this, plan, task](TaskResult r) { OnResult(plan, task, std::move(r)); });
}

void RunDriver::OnResult(const std::shared_ptr<RunPlan>& plan, int task, TaskResult result) {
  --running_;
  const Task& t = plan->dag().tasks[size_t(task)];
  slots_.Release(plan->dag(), t);
  bool failed_for_good;
  if (stopping_ && result.outcome.kind != TaskOutcome::Kind::kSuccess &&
      result.outcome.kind != TaskOutcome::Kind::kSkipped) {
    // Stopped from outside: not the task's fault, so it does not burn a try
    // beyond the one that was interrupted; retried if tries remain.
    if (requeue_) {
      plan->Requeue(task, result.outcome.reason, clock_.Now());
      failed_for_good = false;
    } else {
      failed_for_good = plan->Interrupt(task, result.outcome.reason, clock_.Now());
    }
  } else {
    failed_for_good = plan->Finish(task, result.outcome, clock_.Now());
  }
  if (observer_) {
    observer_->OnTaskState(*plan, task);
    observer_->OnTryFinished(*plan, task, result);
  }
  TaskCallback(*plan, task, failed_for_good, result.outcome.reason);
  Pump();
}

void RunDriver::TaskCallback(const RunPlan& plan, int task, bool failed_for_good, const std::string& reason) {
  TaskState state = plan.instance(task).state;
  if (failed_for_good) {
    FireCallback(plan, CallbackEvent::kTaskFailure, task, reason);
  } else if (state == TaskState::kUpForRetry && !stopping_) {
    // Not when this driver stops: the try was interrupted, not failed.
    FireCallback(plan, CallbackEvent::kTaskRetry, task, reason);
  } else if (state == TaskState::kSuccess) {
    FireCallback(plan, CallbackEvent::kTaskSuccess, task, "");
  }
}

void RunDriver::RunFinishedCallback(const RunPlan& plan) {
  if (plan.state() == RunState::kSuccess) return FireCallback(plan, CallbackEvent::kRunSuccess, -1, "");
  std::string failed;
  for (size_t i = 0; i < plan.size(); ++i) {
    TaskState s = plan.instance(int(i)).state;
    if (s == TaskState::kFailed || s == TaskState::kUpstreamFailed) {
      failed += (failed.empty() ? "" : ", ") + plan.dag().tasks[i].task_id + " " + TaskStateName(s);
    }
  }
  FireCallback(plan, CallbackEvent::kRunFailure, -1, "run failed" + (failed.empty() ? "" : ": " + failed));
}

void RunDriver::FireCallback(const RunPlan& plan, CallbackEvent event, int task, const std::string& reason) {
  PreparedCallback cb;
  if (!preparer_.PrepareCallback(plan, event, task, reason, &cb)) return;
  if (cb.kind == PreparedCallback::Kind::kWebhook) {
    // Queued, never waited for; the sender logs its failures.
    if (webhooks_) webhooks_->Send(std::move(cb.webhook));
    return;
  }
  cb.process.key = next_key_++;
  ++callbacks_running_;
  // A failing callback is logged by the executor, never fatal.
  executor_.Start(std::move(cb.process), [this](TaskResult) {
    --callbacks_running_;
    Pump();
  });
}

void RunDriver::ArmRetryTimer() {
  std::optional<Instant> next;
  for (const auto& p : plans_) {
    std::optional<Instant> r = p->NextRetryAt();
    if (r && (!next || *r < *next)) next = r;
  }
  retry_timer_.cancel();
  if (!next || stopping_ || draining_) return;
  Seconds wait = std::max(Seconds(0), *next - clock_.Now());
  retry_timer_.expires_after(std::chrono::seconds(wait.count()));
  retry_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) Pump();
  });
}

void RunDriver::Stop(const std::string& reason, bool requeue) {
  if (stopping_) return;
  stopping_ = true;
  requeue_ = requeue;
  retry_timer_.cancel();
  executor_.TerminateAll(reason);
}

void RunDriver::Drain() {
  draining_ = true;
  retry_timer_.cancel();
}

void RunDriver::Remove(const RunPlan* plan) {
  for (size_t i = 0; i < plans_.size(); ++i) {
    if (plans_[i].get() == plan) {
      plans_.erase(plans_.begin() + long(i));
      reported_finished_.erase(reported_finished_.begin() + long(i));
      return;
    }
  }
}

bool RunDriver::Done() const {
  if (running_ > 0 || callbacks_running_ > 0) return false;
  if (stopping_ || draining_) return true;
  for (const auto& p : plans_) {
    if (!p->finished()) return false;
  }
  return true;
}

}  // namespace dwfs
