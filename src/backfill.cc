#include "dwfs/backfill.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "run_loader.h"
#include "run_recorder.h"

namespace dwfs {

namespace {

bool IsFinishedRun(RunState s) { return s == RunState::kSuccess || s == RunState::kFailed; }

std::string NoRoom(const Dag& dag) {
  return "max_active_runs (" + std::to_string(dag.max_active_runs) + ") runs of the DAG are running";
}

}  // namespace

Status ReadExistingRuns(Store& store, const std::string& dag_id, Instant from, Instant to,
                        std::map<Instant, ExistingRun>* out) {
  out->clear();
  std::vector<RunRecord> runs;
  DWFS_RETURN_IF_ERROR(store.ListRuns(dag_id, std::nullopt, &runs));
  for (RunRecord& r : runs) {
    if (r.info.logical_date < from || r.info.logical_date > to) continue;
    ExistingRun e;
    std::vector<TaskInstanceRecord> rows;
    DWFS_RETURN_IF_ERROR(store.ListTaskInstances(dag_id, r.info.run_id, &rows));
    for (const TaskInstanceRecord& t : rows) e.states[t.task_id] = t.ti.state;
    e.run = std::move(r);
    (*out)[e.run.info.logical_date] = std::move(e);
  }
  return Status::OK();
}

Status PlanBackfill(const Dag& dag, const BackfillOptions& options, const std::map<Instant, ExistingRun>& existing,
                    std::vector<BackfillRun>* out) {
  out->clear();
  Timetable tt = dag.timetable();
  if (tt.schedule().kind() == Schedule::Kind::kNone) {
    return Status::InvalidArgument("DAG '" + dag.dag_id +
                                   "' has no schedule (schedule: null), so there are no intervals to backfill;"
                                   " create runs with dwfs dags trigger " + dag.dag_id + " -e DATE");
  }
  if (options.run_backwards) {
    for (const Task& t : dag.tasks) {
      if (t.depends_on_past) {
        return Status::InvalidArgument("--run-backwards: task '" + t.task_id + "' of DAG '" + dag.dag_id +
                                       "' depends_on_past, so its runs must go oldest first");
      }
    }
  }
  std::vector<DataInterval> intervals = tt.IntervalsBetween(options.start, options.end, options.max_runs + 1);
  if (intervals.size() > options.max_runs) {
    return Status::InvalidArgument("the range holds more than " + std::to_string(options.max_runs) +
                                   " runs of DAG '" + dag.dag_id + "': backfill it in parts");
  }
  std::vector<std::string> selected;
  for (size_t i = 0; i < dag.tasks.size(); ++i) {
    if (options.selected.empty() || options.selected[i]) selected.push_back(dag.tasks[i].task_id);
  }
  for (const DataInterval& interval : intervals) {
    BackfillRun r;
    r.interval = interval;
    auto it = existing.find(interval.start);
    if (it == existing.end()) {
      r.action = BackfillRun::Action::kCreate;
      r.info.type = RunType::kBackfill;
      r.info.logical_date = interval.start;
      r.info.data_interval = interval;
      r.info.run_id = MakeRunId(RunType::kBackfill, interval.start);
      r.info.conf = options.conf;
      out->push_back(std::move(r));
      continue;
    }
    const ExistingRun& e = it->second;
    r.info = e.run.info;
    r.existing = e.run.state;
    bool finished = IsFinishedRun(e.run.state);
    for (const std::string& id : selected) {
      auto s = e.states.find(id);
      bool ran = s != e.states.end() && s->second != TaskState::kNone;
      bool failed = ran && (s->second == TaskState::kFailed || s->second == TaskState::kUpstreamFailed);
      // A finished run that never ran a selected task (an earlier -t) runs it now.
      if (options.reset_dagruns || (options.rerun_failed_tasks && failed) || (finished && !ran)) {
        r.clear.push_back(id);
      }
    }
    if (!finished) {
      r.action = BackfillRun::Action::kResume;
    } else if (!r.clear.empty()) {
      r.action = BackfillRun::Action::kClear;
    } else {
      r.action = BackfillRun::Action::kSkip;
      r.phase = BackfillRun::Phase::kDone;
      r.result = e.run.state;
      if (e.run.state == RunState::kSuccess) {
        r.note = "already succeeded";
      } else if (options.rerun_failed_tasks) {
        r.note = "failed; none of its failed tasks is selected";
      } else {
        r.note = "failed earlier; --rerun-failed-tasks or --reset-dagruns runs it again";
      }
    }
    out->push_back(std::move(r));
  }
  if (options.run_backwards) std::reverse(out->begin(), out->end());
  return Status::OK();
}

Backfill::Backfill(boost::asio::io_context& io, Store& store, std::shared_ptr<const Dag> dag, RunDriver& driver,
                   RunRecorder& recorder, const Clock& clock, BackfillOptions options, spdlog::logger& log,
                   BackfillListener* listener)
    : io_(io),
      store_(store),
      dag_(std::move(dag)),
      driver_(driver),
      recorder_(recorder),
      clock_(clock),
      options_(std::move(options)),
      log_(log),
      listener_(listener),
      tick_(io) {
  for (const Task& t : dag_->tasks) depends_on_past_ = depends_on_past_ || t.depends_on_past;
}

Backfill::~Backfill() = default;

Status Backfill::Start(std::vector<BackfillRun> runs) {
  runs_ = std::move(runs);
  Instant now = clock_.Now();
  DWFS_RETURN_IF_ERROR(store_.RegisterScheduler(options_.hostname, options_.pid, "backfill", now, &id_));
  last_heartbeat_ = now;
  recorder_.set_owner(id_);
  log_.info("backfill {} of DAG {} started on {} (pid {}): {} run(s)", id_, dag_->dag_id, options_.hostname,
            options_.pid, runs_.size());
  Status st = DeclareDeadOnThisHost(store_, id_, options_.hostname, options_.pid, log_);
  if (st.ok()) {
    std::vector<SchedulerRecord> dead;
    st = store_.MarkDeadSchedulers(now, options_.zombie_threshold, &dead);
  }
  if (!st.ok()) log_.error("finding dead instances: {}", st.message());
  Pump();
  ArmTick();
  return Status::OK();
}

BackfillRun* Backfill::FindRunning(const std::string& run_id) {
  for (BackfillRun& r : runs_) {
    if (r.phase == BackfillRun::Phase::kRunning && r.info.run_id == run_id) return &r;
  }
  return nullptr;
}

void Backfill::Waiting(BackfillRun& run, const std::string& why) {
  if (run.note == why) return;
  run.note = why;
  log_.info("run {} of DAG {} waits: {}", run.info.run_id, dag_->dag_id, why);
  if (listener_) listener_->OnRunWaiting(run);
}

bool Backfill::Claim(BackfillRun& run, Instant now) {
  Store::ClaimOutcome outcome;
  RunRecord rec;
  Status st = store_.ClaimBackfillRun(dag_->dag_id, run.info, run.clear, id_, dag_->max_active_runs, now, &outcome,
                                      &rec);
  if (!st.ok()) {
    log_.error("starting run {} of DAG {}: {} (retrying)", run.info.run_id, dag_->dag_id, st.message());
    return false;
  }
  switch (outcome) {
    case Store::ClaimOutcome::kNoRoom:
      Waiting(run, NoRoom(*dag_));
      return false;
    case Store::ClaimOutcome::kBusy:
      Waiting(run, "another process (instance " + std::to_string(rec.owner.value_or(0)) + ") is running it");
      // depends_on_past: later runs need this one's outcome first.
      return !depends_on_past_;
    case Store::ClaimOutcome::kFinished:
      run.phase = BackfillRun::Phase::kDone;
      run.result = rec.state;
      run.note = "finished by another process";
      if (listener_) listener_->OnRunDone(run);
      return true;
    case Store::ClaimOutcome::kCreated:
    case Store::ClaimOutcome::kClaimed:
      break;
  }
  run.clear.clear();  // done, in the claim's transaction
  run.info = rec.info;
  LoadedRun loaded;
  bool created = outcome == Store::ClaimOutcome::kCreated;
  if (created) {
    // Nothing stored to read back; the run row says running already. The
    // previous run matters only to depends_on_past (and the driver feeds
    // it when it drives that run too).
    loaded.plan = std::make_shared<RunPlan>(dag_, rec.info);
    st = depends_on_past_ ? LoadPreviousRun(store_, *loaded.plan) : Status::OK();
  } else {
    st = LoadStoredRun(store_, dag_, rec, options_.hostname, options_.pid, now, log_, &loaded);
  }
  if (!st.ok()) {
    log_.error("loading run {} of DAG {}: {} (retrying)", run.info.run_id, dag_->dag_id, st.message());
    return false;
  }
  RunPlan& plan = *loaded.plan;
  if (!options_.selected.empty()) {
    // -t: the other tasks stay as they are; the unfinished ones are left out.
    std::vector<bool> keep(plan.size());
    for (size_t i = 0; i < plan.size(); ++i) keep[i] = options_.selected[i] || IsFinished(plan.instance(int(i)).state);
    plan.Restrict(keep);
  }
  if (options_.ignore_first_depends_on_past && !first_started_) plan.SetPreviousRun({});
  first_started_ = true;
  run.note.clear();
  run.plan = loaded.plan;
  run.phase = BackfillRun::Phase::kRunning;
  driver_.Add(loaded.plan);
  if (!created) RecordLoadedRun(recorder_, loaded);
  if (listener_) listener_->OnRunStarted(run);
  driver_.Pump();  // its first tasks start now, while the next runs are claimed
  return true;
}

void Backfill::Pump() {
  if (stopping_ || finished_) return;
  Instant now = clock_.Now();
  int running = 0;
  for (const BackfillRun& run : runs_) running += run.phase == BackfillRun::Phase::kRunning;
  for (BackfillRun& run : runs_) {
    if (run.phase != BackfillRun::Phase::kPending) continue;
    if (running >= dag_->max_active_runs) {
      // Our own runs fill max_active_runs: no need to ask the database.
      Waiting(run, NoRoom(*dag_));
      break;
    }
    if (!Claim(run, now)) break;
    running += run.phase == BackfillRun::Phase::kRunning;
  }
  driver_.Pump();
}

void Backfill::Tick() {
  Instant now = clock_.Now();
  Status st = store_.Heartbeat(id_, now);
  if (st.ok()) {
    last_heartbeat_ = now;
    std::vector<SchedulerRecord> dead;
    st = store_.MarkDeadSchedulers(now, options_.zombie_threshold, &dead);
  }
  if (!st.ok()) log_.error("heartbeat: {}", st.message());
  Pump();
  ArmTick();
}

void Backfill::ArmTick() {
  if (stopping_ || finished_) return;
  tick_.expires_after(std::chrono::seconds(options_.heartbeat.count()));
  tick_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) Tick();
  });
}

void Backfill::RunRecorded(const std::string& /*dag_id*/, const std::string& run_id) {
  BackfillRun* run = FindRunning(run_id);
  if (!run || !run->plan->finished()) return;
  run->phase = BackfillRun::Phase::kDone;
  run->result = run->plan->state();
  driver_.Remove(run->plan.get());
  run->plan.reset();
  log_.info("run {} of DAG {} {}", run_id, dag_->dag_id, RunStateName(*run->result));
  if (listener_) listener_->OnRunDone(*run);
  Pump();
}

void Backfill::RunLost(const std::string& /*dag_id*/, const std::string& run_id) {
  BackfillRun* run = FindRunning(run_id);
  if (!run) return;
  log_.warn("run {} of DAG {} was taken over elsewhere (cleared?): waiting for it", run_id, dag_->dag_id);
  driver_.Remove(run->plan.get());
  run->plan.reset();
  run->phase = BackfillRun::Phase::kPending;
}

void Backfill::Stop() {
  if (stopping_ || finished_) return;
  stopping_ = true;
  tick_.cancel();
  log_.info("backfill {} interrupted: stopping {} running task(s)", id_, driver_.running());
  driver_.Stop("the backfill was interrupted", /*requeue=*/true);
  Poll();
}

void Backfill::Poll() {
  if (finished_) return;
  if (stopping_) {
    if (driver_.Done()) Complete();
    return;
  }
  for (const BackfillRun& r : runs_) {
    if (r.phase != BackfillRun::Phase::kDone) return;
  }
  Complete();
}

void Backfill::Complete() {
  tick_.cancel();
  if (!recorder_.WaitWritten(std::chrono::seconds(30))) {
    log_.error("some task states could not be recorded before exiting (database unreachable)");
  }
  if (stopping_) {
    Status st = store_.ParkRuns(id_);
    if (!st.ok()) log_.error("parking the unfinished runs: {}", st.message());
  }
  Status st = store_.StopScheduler(id_);
  if (!st.ok()) log_.error("deregistering backfill {}: {}", id_, st.message());
  finished_ = true;
}

bool Backfill::AllSucceeded() const {
  for (const BackfillRun& r : runs_) {
    if (r.phase != BackfillRun::Phase::kDone || r.result != RunState::kSuccess) return false;
  }
  return true;
}

}  // namespace dwfs
