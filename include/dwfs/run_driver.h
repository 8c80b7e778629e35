// RunDriver: drives RunPlans through a TaskExecutor (after ninja's Builder).
// The one run loop behind `dags test`, `dags backfill` and the scheduler.
//
// Event-driven on an io_context: each try's completion is applied to its
// plan at once and the freed slot is refilled in the same handler, so a
// finished task's downstream starts without any polling delay. Retries wake
// on a timer at their retry time. Resource limits (parallelism,
// max_active_tasks, pools) are shared across all plans via SlotTracker.
//
// Thread safety: all methods on the io_context's thread.
#ifndef DWFS_RUN_DRIVER_H_
#define DWFS_RUN_DRIVER_H_

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <map>
#include <memory>
#include <vector>

#include "dwfs/clock.h"
#include "dwfs/executor.h"
#include "dwfs/run_plan.h"
#include "dwfs/webhook_sender.h"

namespace dwfs {

struct DwfsMetrics;
// What a fired callback does: run a bash command as a process (through the
// executor, like a task) or send a webhook (through the WebhookSender).
struct PreparedCallback {
  enum class Kind { kProcess, kWebhook };
  Kind kind = Kind::kProcess;
  TaskRequest process;     // kProcess
  WebhookRequest webhook;  // kWebhook
};

// Turns a task instance into a fully rendered request (templates, env, log
// path). A failed Prepare fails that try with the returned message (e.g. an
// unknown template variable) without running anything.
class TaskPreparer {
 public:
  virtual ~TaskPreparer() = default;
  virtual Status Prepare(const RunPlan& plan, int task, TaskRequest* out) = 0;
  // The callback of `event` (Dag::CallbackFor) ready to run, or false when
  // there is none (or it cannot be prepared; the preparer says why in the
  // callback's log). `task` is -1 for run events. `reason`: the failure
  // (the template's `exception`), "" for successes.
  virtual bool PrepareCallback(const RunPlan& plan, CallbackEvent event, int task, const std::string& reason,
                               PreparedCallback* out) = 0;
};

// Hears about progress (printing, persistence). Every method is optional.
class RunObserver {
 public:
  virtual ~RunObserver() = default;
  // A task changed state (scheduled, skipped, upstream_failed, queued,
  // running, up_for_retry, success, failed).
  virtual void OnTaskState(const RunPlan& /*plan*/, int /*task*/) {}
  // A try's process started (`pid` leads its process group); the scheduler
  // records it so that a successor can find an orphan after a crash.
  virtual void OnTryStarted(const RunPlan& /*plan*/, int /*task*/, int /*pid*/) {}
  // A try ended (after OnTaskState).
  virtual void OnTryFinished(const RunPlan& /*plan*/, int /*task*/, const TaskResult& /*result*/) {}
  virtual void OnRunFinished(const RunPlan& /*plan*/) {}
};

class RunDriver {
 public:
  // References must outlive the driver. `webhooks` (may be null: webhook
  // callbacks are then skipped) sends webhook callbacks; the driver never
  // waits for them.
  RunDriver(boost::asio::io_context& io, TaskExecutor& executor, TaskPreparer& preparer, const Clock& clock,
            SlotTracker& slots, RunObserver* observer, WebhookSender* webhooks);
  ~RunDriver();

  // Adds a run. Plans of one DAG feed depends_on_past of their successor by
  // logical date.
  void Add(std::shared_ptr<RunPlan> plan);
  // Applies trigger rules and retry times and starts whatever may start.
  // Called after every event; safe to call any time.
  void Pump();
  // Stops starting tries; asks the executor to terminate running ones
  // (they finish as interrupted: up_for_retry if tries remain, else failed).
  // With `requeue`, interrupted tries become up_for_retry without using a
  // retry (RunPlan::Requeue): the scheduler's shutdown, not the task, failed.
  void Stop(const std::string& reason, bool requeue = false);
  // Stops starting tries but lets running ones finish (graceful shutdown,
  // before Stop).
  void Drain();
  // Forgets a plan (finished and recorded, or taken over elsewhere). Its
  // running tries, if any, still report, to no plan's effect but their slot.
  void Remove(const RunPlan* plan);

  // After every Pump, sets the executor gauges of `metrics` (queued and
  // running tasks). Null (the default): none. Must outlive the driver.
  void set_metrics(DwfsMetrics* metrics) { metrics_ = metrics; }

  bool stopping() const { return stopping_; }
  bool draining() const { return draining_; }
  // Nothing running and every plan finished (or stopped/draining with
  // nothing running).
  bool Done() const;
  int running() const { return running_; }
  const std::vector<std::shared_ptr<RunPlan>>& plans() const { return plans_; }

 private:
  void StartTry(const std::shared_ptr<RunPlan>& plan, int task);
  void OnResult(const std::shared_ptr<RunPlan>& plan, int task, TaskResult result);
  void ApplyUpdate(RunPlan& plan);
  void FeedPast(RunPlan& plan);
  void ArmRetryTimer();
  // After a try's result: on_failure (failed for good), on_retry or
  // on_success callback, by the task's new state.
  void TaskCallback(const RunPlan& plan, int task, bool failed_for_good, const std::string& reason);
  // A plan just finished: on_run_success or on_run_failure callback.
  void RunFinishedCallback(const RunPlan& plan);
  // Fires the callback of `event`, if any: the one place callbacks start.
  // Process callbacks count in Done(); webhooks go to the sender.
  void FireCallback(const RunPlan& plan, CallbackEvent event, int task, const std::string& reason);

  boost::asio::io_context& io_;
  TaskExecutor& executor_;
  TaskPreparer& preparer_;
  const Clock& clock_;
  SlotTracker& slots_;
  RunObserver* observer_;
  DwfsMetrics* metrics_ = nullptr;
  WebhookSender* webhooks_;
  std::vector<std::shared_ptr<RunPlan>> plans_;
  std::vector<bool> reported_finished_;
  boost::asio::steady_timer retry_timer_;
  int running_ = 0;
  int callbacks_running_ = 0;
  bool stopping_ = false;
  bool draining_ = false;
  bool requeue_ = false;
  bool pumping_ = false;
  uint64_t next_key_ = 1;
};

}  // namespace dwfs

#endif  // DWFS_RUN_DRIVER_H_
