#include "dwfs/scheduler.h"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>

#include <algorithm>

#include "dwfs/dwfs_metrics.h"
#include "run_loader.h"
#include "run_recorder.h"

namespace dwfs {

namespace {

std::chrono::milliseconds Until(Instant now, Instant when) {
  auto d = std::chrono::duration_cast<std::chrono::milliseconds>(when - now);
  return std::max(d, std::chrono::milliseconds(0));
}

}  // namespace

Scheduler::Scheduler(boost::asio::io_context& io, Store& store, DagRegistry& registry, RunDriver& driver,
                     RunRecorder& recorder, const Clock& clock, SchedulerOptions options, spdlog::logger& log,
                     std::map<std::string, std::string>* variables)
    : io_(io),
      store_(store),
      registry_(registry),
      driver_(driver),
      recorder_(recorder),
      clock_(clock),
      options_(std::move(options)),
      log_(log),
      variables_(variables),
      timer_(io),
      grace_timer_(io) {}

Scheduler::~Scheduler() = default;

void Scheduler::Note(const Status& st, const char* what) {
  if (st.ok()) {
    if (!database_ok_ && id_ != 0) log_.info("metadata database reachable");
    database_ok_ = true;
    return;
  }
  if (database_ok_) log_.error("{}: {}", what, st.message());
  database_ok_ = false;
}

Status Scheduler::Start() {
  Instant now = clock_.Now();
  DWFS_RETURN_IF_ERROR(store_.RegisterScheduler(options_.hostname, options_.pid, "scheduler", now, &id_));
  database_ok_ = true;
  last_heartbeat_ = now;
  recorder_.set_owner(id_);
  log_.info("scheduler {} started on {} (pid {})", id_, options_.hostname, options_.pid);
  DeclareDeadOnThisHost();
  RunOnce();
  return Status::OK();
}

void Scheduler::DeclareDeadOnThisHost() {
  Note(dwfs::DeclareDeadOnThisHost(store_, id_, options_.hostname, options_.pid, log_), "listing schedulers");
}

void Scheduler::FolderChanged() {
  folder_dirty_ = true;
  PostLoop();
}

void Scheduler::PostLoop() {
  if (loop_posted_ || stopping_) return;
  loop_posted_ = true;
  boost::asio::post(io_, [this] { RunOnce(); });
}

void Scheduler::RunOnce() {
  loop_posted_ = false;
  if (stopping_ || finished_) return;
  std::optional<DwfsMetrics::TimePoint> started;
  if (options_.metrics) started = options_.metrics->now();
  Instant now = clock_.Now();
  variables_fresh_ = false;
  if (folder_dirty_) ReloadFolder(now);
  if (!last_heartbeat_ || now - *last_heartbeat_ >= options_.heartbeat || loops_ == 0) Heartbeat(now);
  std::optional<Instant> next_due;
  if (!options_.num_loops || loops_ < *options_.num_loops) {
    std::vector<std::string> due;
    Status st = store_.DueDags(now, &due);
    Note(st, "finding due DAGs");
    std::set<std::string> todo(due.begin(), due.end());
    todo.insert(recheck_.begin(), recheck_.end());
    recheck_.clear();
    for (const std::string& id : todo) ScheduleDag(id, now);
    ++loops_;
    Note(store_.NextDueTime(&next_due), "finding the next due DAG");
  }
  driver_.Pump();
  ArmTimer(next_due);
  if (started) {
    options_.metrics->scheduler_loop_duration.Observe(options_.metrics->SecondsSince(*started));
    CountRuns();
  }
}

void Scheduler::CountRuns() {
  if (options_.metrics) options_.metrics->dag_runs_running.Set(double(plans_.size()));
}

void Scheduler::ArmTimer(std::optional<Instant> next_due) {
  if (options_.num_loops && loops_ >= *options_.num_loops) {
    // Only heartbeats from now on, until the loaded runs finish.
    next_due.reset();
  }
  Instant now = clock_.Now();
  Instant beat = (last_heartbeat_ ? *last_heartbeat_ : now) + options_.heartbeat;
  Instant wake = next_due ? std::min(*next_due, beat) : beat;
  if (!database_ok_) wake = std::min(wake, now + Seconds(1));
  timer_.expires_after(std::max(Until(now, wake), std::chrono::milliseconds(5)));
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) RunOnce();
  });
}

void Scheduler::ReloadFolder(Instant now) {
  RegistryChange change;
  Status st = registry_.Reload(now, &change);
  Note(st, "syncing DAGs");
  folder_dirty_ = !st.ok();  // retried next loop
  for (const std::string& id : change.changed) {
    log_.info("DAG {} loaded", id);
    recheck_.insert(id);
    RemoveDeletedTasks(id);
  }
  for (const std::string& id : change.removed) log_.info("DAG {} is gone from the dags folder (inactive)", id);
  for (const ImportError& e : registry_.errors()) log_.debug("import error: {}", e.ToString());
}

void Scheduler::RemoveDeletedTasks(const std::string& dag_id) {
  std::shared_ptr<const Dag> now_def = registry_.Get(dag_id);
  if (!now_def) return;
  for (auto& [key, plan] : plans_) {
    if (key.first != dag_id) continue;
    for (size_t i = 0; i < plan->size(); ++i) {
      const std::string& task_id = plan->dag().tasks[i].task_id;
      TaskState s = plan->instance(int(i)).state;
      if (now_def->FindTask(task_id) || IsFinished(s) || s == TaskState::kRunning || s == TaskState::kQueued) {
        continue;
      }
      plan->mutable_instance(int(i)).state = TaskState::kRemoved;
      recorder_.OnTaskState(*plan, int(i));
      log_.info("task {} of run {} removed: it is no longer in DAG {}", task_id, key.second, dag_id);
    }
  }
}

void Scheduler::Heartbeat(Instant now) {
  Status st = store_.Heartbeat(id_, now);
  Note(st, "heartbeat");
  if (!st.ok()) return;
  last_heartbeat_ = now;
  std::vector<SchedulerRecord> dead;
  Note(store_.MarkDeadSchedulers(now, options_.zombie_threshold, &dead), "finding dead schedulers");
  for (const SchedulerRecord& s : dead) {
    log_.warn("scheduler {} on {} (pid {}) missed its heartbeats: adopting its runs", s.id, s.hostname, s.pid);
  }
  std::vector<RunRecord> runs;
  Note(store_.AdoptRuns(id_, &runs), "adopting runs");
  if (unloaded_runs_) {  // runs of ours whose loading failed before
    unloaded_runs_ = false;
    std::vector<RunRecord> owned;
    Status st = store_.OwnedRuns(id_, &owned);
    Note(st, "listing owned runs");
    if (!st.ok()) unloaded_runs_ = true;
    runs.insert(runs.end(), owned.begin(), owned.end());
  }
  for (const RunRecord& r : runs) LoadRun(r, now);
}

SchedulePlan Scheduler::PlanRuns(const ScheduleView& view, Instant now) const {
  SchedulePlan plan;
  std::shared_ptr<const Dag> dag = registry_.Get(view.dag->dag_id);
  if (!dag) return plan;
  if (view.dag->is_paused || !view.dag->is_active) {
    // No new runs (a DAG just loaded or finishing a run is rechecked even when
    // paused); unpausing sets next_dagrun_check to now again.
    plan.next_logical_date = view.dag->next_logical_date;
    return plan;
  }
  Timetable tt = dag->timetable();
  std::optional<DataInterval> last;
  if (view.latest_scheduled) last = tt.IntervalAtOrAfter(*view.latest_scheduled);
  int room = dag->max_active_runs - view.active_runs;
  for (int made = 0;; ++made) {
    std::optional<DataInterval> next = tt.NextRunInterval(last, dag->catchup, now);
    if (!next) return plan;  // the schedule is over (or there is none)
    plan.next_logical_date = next->start;
    if (next->end > now) {
      plan.next_check = next->end;
      return plan;
    }
    if (made >= options_.max_dagruns_per_loop) {
      plan.next_check = now;  // more to create: next loop, after the other DAGs had their turn
      return plan;
    }
    if (room <= 0) {
      // max_active_runs reached: a finished run of ours rechecks at once;
      // one of another scheduler is seen within a heartbeat.
      plan.next_check = now + options_.heartbeat;
      return plan;
    }
    RunInfo info;
    info.type = RunType::kScheduled;
    info.logical_date = next->start;
    info.data_interval = *next;
    info.run_id = MakeRunId(RunType::kScheduled, next->start);
    plan.create.push_back(std::move(info));
    last = next;
    --room;
  }
}

void Scheduler::ScheduleDag(const std::string& dag_id, Instant now) {
  std::shared_ptr<const Dag> dag = registry_.Get(dag_id);
  if (!dag) return;
  bool locked = false;
  std::vector<RunRecord> started;
  Status st = store_.ScheduleDag(
      dag_id, id_, dag->max_active_runs, now, [&](const ScheduleView& v) { return PlanRuns(v, now); }, &locked,
      &started);
  Note(st, "scheduling");
  if (!st.ok()) {
    recheck_.insert(dag_id);
    return;
  }
  for (const RunRecord& r : started) LoadRun(r, now);
}

void Scheduler::LoadRun(const RunRecord& run, Instant now) {
  RunKey key{run.dag_id, run.info.run_id};
  if (plans_.count(key)) return;
  std::shared_ptr<const Dag> dag = registry_.Get(run.dag_id);
  if (!dag) {
    log_.warn("run {} of DAG {}: the DAG is not loaded (import error?); it waits", run.info.run_id, run.dag_id);
    unloaded_runs_ = true;
    return;
  }
  if (variables_ && !variables_fresh_) {
    Note(store_.ListVariables(variables_), "reading variables");
    variables_fresh_ = true;
  }
  LoadedRun loaded;
  Status st = LoadStoredRun(store_, dag, run, options_.hostname, options_.pid, now, log_, &loaded);
  Note(st, "loading a run");
  if (!st.ok()) {
    unloaded_runs_ = true;  // owned: loaded at a later heartbeat
    return;
  }
  plans_[key] = loaded.plan;
  driver_.Add(loaded.plan);
  RecordLoadedRun(recorder_, loaded);
  log_.info("running {} of DAG {}", run.info.run_id, run.dag_id);
}

void Scheduler::RunRecorded(const std::string& dag_id, const std::string& run_id) {
  auto it = plans_.find({dag_id, run_id});
  if (it == plans_.end() || !it->second->finished()) return;
  log_.info("run {} of DAG {} {}", run_id, dag_id, RunStateName(it->second->state()));
  driver_.Remove(it->second.get());
  plans_.erase(it);
  CountRuns();
  recheck_.insert(dag_id);
  if (!options_.num_loops || loops_ < *options_.num_loops) PostLoop();
}

void Scheduler::RunLost(const std::string& dag_id, const std::string& run_id) {
  auto it = plans_.find({dag_id, run_id});
  if (it == plans_.end()) return;
  log_.warn("run {} of DAG {} is driven by another scheduler now (adopted or cleared): letting go", run_id, dag_id);
  driver_.Remove(it->second.get());
  plans_.erase(it);
  CountRuns();
}

void Scheduler::Shutdown(std::function<void()> done) {
  if (stopping_ || finished_) {
    if (finished_ && done) done();
    return;
  }
  stopping_ = true;
  on_shutdown_ = std::move(done);
  timer_.cancel();
  driver_.Drain();
  log_.info("shutting down: {} task(s) running, waiting up to {} s for them", driver_.running(),
            options_.graceful_shutdown_timeout.count());
  grace_timer_.expires_after(std::chrono::seconds(options_.graceful_shutdown_timeout.count()));
  grace_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    log_.warn("grace period over: terminating {} running task(s); they will be retried", driver_.running());
    driver_.Stop("the scheduler is shutting down", /*requeue=*/true);
  });
  Poll();
}

void Scheduler::Poll() {
  if (finished_) return;
  if (stopping_) {
    if (driver_.running() == 0) CompleteShutdown();
    return;
  }
  if (options_.num_loops && loops_ >= *options_.num_loops && plans_.empty()) {
    stopping_ = true;
    CompleteShutdown();
  }
}

void Scheduler::CompleteShutdown() {
  grace_timer_.cancel();
  timer_.cancel();
  if (!recorder_.WaitWritten(std::chrono::seconds(30))) {
    log_.error("some task states could not be recorded before exiting (database unreachable)");
  }
  Note(store_.ReleaseRuns(id_), "releasing runs");
  Note(store_.StopScheduler(id_), "deregistering");
  finished_ = true;
  log_.info("scheduler {} stopped", id_);
  if (on_shutdown_) on_shutdown_();
}

}  // namespace dwfs
