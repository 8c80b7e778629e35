#include "run_recorder.h"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "dwfs/task_preparer.h"

namespace dwfs {

namespace {

using std::chrono::milliseconds;

double DurationSeconds(const TaskInstance& ti) {
  if (!ti.start_date || !ti.end_date) return 0;
  return std::chrono::duration<double>(*ti.end_date - *ti.start_date).count();
}

// The try row of an instance's current try.
TryRecord TryOf(const TaskInstanceRecord& r) {
  TryRecord t;
  t.dag_id = r.dag_id;
  t.run_id = r.run_id;
  t.task_id = r.task_id;
  t.try_number = r.ti.try_number;
  t.state = r.ti.state;
  t.start_date = r.ti.start_date;
  t.hostname = r.hostname;
  t.pid = r.pid;
  t.log_path = r.log_path;
  return t;
}

}  // namespace

RunRecorder::RunRecorder(boost::asio::io_context& io, std::unique_ptr<Store> store, const Clock& clock,
                         RunRecorderOptions options, spdlog::logger& log)
    : io_(io),
      store_(std::move(store)),
      clock_(clock),
      options_(std::move(options)),
      log_(log),
      writer_([this] { WriterLoop(); }) {}

RunRecorder::~RunRecorder() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  writer_.join();
}

TaskInstanceRecord RunRecorder::InstanceRecord(const RunPlan& plan, int task) const {
  const Task& t = plan.dag().tasks[size_t(task)];
  const TaskInstance& ti = plan.instance(task);
  TaskInstanceRecord r;
  r.dag_id = plan.dag().dag_id;
  r.run_id = plan.info().run_id;
  r.task_id = t.task_id;
  r.ti = ti;
  r.pool = t.pool;
  if (ti.try_number > 0) {
    r.hostname = options_.hostname;
    r.log_path = TaskLogPath(options_.log_folder, r.dag_id, r.run_id, r.task_id, ti.try_number);
    auto it = pids_.find({r.dag_id, r.run_id, r.task_id});
    if (it != pids_.end()) r.pid = it->second;
  }
  if (IsFinished(ti.state) && ti.start_date && ti.end_date) r.duration = DurationSeconds(ti);
  return r;
}

void RunRecorder::Queue(std::function<void()> add) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    add();
    ++queued_seq_;
  }
  wake_.notify_one();
}

void RunRecorder::OnTaskState(const RunPlan& plan, int task) {
  TaskInstanceRecord r = InstanceRecord(plan, task);
  std::optional<TryRecord> attempt;
  if (r.ti.state == TaskState::kRunning) {
    pids_.erase({r.dag_id, r.run_id, r.task_id});
    r.pid.reset();
    attempt = TryOf(r);
  }
  Queue([&] {
    if (attempt) tries_[{attempt->dag_id, attempt->run_id, attempt->task_id, attempt->try_number}] = *attempt;
    instances_[{r.dag_id, r.run_id, r.task_id}] = std::move(r);
  });
}

void RunRecorder::OnTryStarted(const RunPlan& plan, int task, int pid) {
  const std::string& task_id = plan.dag().tasks[size_t(task)].task_id;
  pids_[{plan.dag().dag_id, plan.info().run_id, task_id}] = pid;
  TaskInstanceRecord r = InstanceRecord(plan, task);
  Queue([&] {
    TryKey key{r.dag_id, r.run_id, r.task_id, r.ti.try_number};
    auto it = tries_.find(key);
    if (it != tries_.end()) {
      it->second.pid = pid;
    } else {
      tries_[key] = TryOf(r);  // r carries the pid now
    }
    instances_[{r.dag_id, r.run_id, r.task_id}] = std::move(r);
  });
}

void RunRecorder::OnTryFinished(const RunPlan& plan, int task, const TaskResult& result) {
  TaskInstanceRecord r = InstanceRecord(plan, task);
  TryRecord t = TryOf(r);
  t.end_date = r.ti.end_date ? r.ti.end_date : std::optional<Instant>(clock_.Now());
  t.reason = result.outcome.reason;
  pids_.erase({r.dag_id, r.run_id, r.task_id});
  Queue([&] {
    tries_[{t.dag_id, t.run_id, t.task_id, t.try_number}] = std::move(t);
    instances_[{r.dag_id, r.run_id, r.task_id}] = std::move(r);
  });
}

void RunRecorder::RecordRunState(const RunPlan& plan) {
  if (!options_.record_run_state) return;
  RunRecord run;
  run.dag_id = plan.dag().dag_id;
  run.info = plan.info();
  run.state = plan.state();
  if (run.state == RunState::kQueued) run.state = RunState::kRunning;  // a driven run is running
  if (run.state == RunState::kSuccess || run.state == RunState::kFailed) run.end_date = clock_.Now();
  Queue([&] { runs_[{run.dag_id, run.info.run_id}] = std::move(run); });
}

void RunRecorder::OnRunFinished(const RunPlan& plan) { RecordRunState(plan); }

void RunRecorder::RecordAll(const RunPlan& plan) {
  for (size_t i = 0; i < plan.size(); ++i) {
    TaskInstanceRecord r = InstanceRecord(plan, int(i));
    Queue([&] { instances_[{r.dag_id, r.run_id, r.task_id}] = std::move(r); });
  }
}

bool RunRecorder::WaitWritten(milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  uint64_t target = queued_seq_;
  return written_.wait_for(lock, timeout, [&] { return written_seq_ >= target; });
}

bool RunRecorder::failing() const {
  std::lock_guard<std::mutex> lock(mu_);
  return failing_;
}

void RunRecorder::WriterLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  milliseconds backoff(1000);
  for (;;) {
    wake_.wait(lock, [&] { return stop_ || queued_seq_ != written_seq_; });
    if (queued_seq_ == written_seq_) return;  // stopping with nothing left
    StoreBatch batch;
    for (auto& [k, v] : instances_) batch.instances.push_back(std::move(v));
    for (auto& [k, v] : tries_) batch.tries.push_back(std::move(v));
    for (auto& [k, v] : runs_) batch.runs.push_back(std::move(v));
    instances_.clear();
    tries_.clear();
    runs_.clear();
    uint64_t seq = queued_seq_;
    bool stopping = stop_;
    std::optional<int64_t> owner = options_.owner;
    lock.unlock();

    std::set<std::string> lost;
    Status st = store_->Apply(batch, owner, &lost);

    lock.lock();
    if (!st.ok()) {
      // Keep the batch, under whatever newer changes arrived meanwhile.
      size_t n = batch.instances.size() + batch.tries.size() + batch.runs.size();
      for (auto& r : batch.instances) instances_.try_emplace({r.dag_id, r.run_id, r.task_id}, std::move(r));
      for (auto& t : batch.tries) tries_.try_emplace({t.dag_id, t.run_id, t.task_id, t.try_number}, std::move(t));
      for (auto& r : batch.runs) runs_.try_emplace({r.dag_id, r.info.run_id}, std::move(r));
      if (stopping) {
        log_.error("could not record {} change(s) before exiting: {}", n, st.message());
        return;
      }
      if (!failing_) {
        log_.error("metadata database unreachable, {} change(s) wait to be recorded (retrying): {}", n,
                   st.message());
      }
      failing_ = true;
      wake_.wait_for(lock, backoff, [&] { return stop_; });
      backoff = std::min(backoff * 2, milliseconds(30000));
      continue;
    }
    if (failing_) log_.info("metadata database reachable again: recorded the waiting changes");
    failing_ = false;
    backoff = milliseconds(1000);
    written_seq_ = seq;
    written_.notify_all();
    std::vector<std::pair<std::string, std::string>> lost_runs, finished;
    std::set<std::pair<std::string, std::string>> seen;
    auto note_lost = [&](const std::string& dag_id, const std::string& run_id) {
      if (lost.count(run_id) && seen.insert({dag_id, run_id}).second) lost_runs.emplace_back(dag_id, run_id);
    };
    for (const auto& r : batch.instances) note_lost(r.dag_id, r.run_id);
    for (const auto& r : batch.runs) {
      note_lost(r.dag_id, r.info.run_id);
      if (!lost.count(r.info.run_id) && (r.state == RunState::kSuccess || r.state == RunState::kFailed)) {
        finished.emplace_back(r.dag_id, r.info.run_id);
      }
    }
    if (!lost_runs.empty() || !finished.empty()) {
      boost::asio::post(io_, [this, lost_runs = std::move(lost_runs), finished = std::move(finished)] {
        for (const auto& [d, r] : lost_runs) {
          if (on_lost_) on_lost_(d, r);
        }
        for (const auto& [d, r] : finished) {
          if (on_recorded_) on_recorded_(d, r);
        }
      });
    }
  }
}

}  // namespace dwfs
