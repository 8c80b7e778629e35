#include "backfill_reporter.h"

#include <ctime>
#include <ostream>

#include "output.h"

namespace dwfs {

namespace {

std::string Duration(double secs) {
  long s = long(secs + 0.5);
  char buf[32];
  if (s >= 3600) {
    std::snprintf(buf, sizeof buf, "%ldh%02ldm%02lds", s / 3600, s / 60 % 60, s % 60);
  } else if (s >= 60) {
    std::snprintf(buf, sizeof buf, "%ldm%02lds", s / 60, s % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%lds", s);
  }
  return buf;
}

std::string WallClockTime() {
  std::time_t tt = std::time(nullptr);
  std::tm tm{};
  localtime_r(&tt, &tm);
  char ts[16];
  std::strftime(ts, sizeof ts, "%H:%M:%S", &tm);
  return ts;
}

}  // namespace

BackfillReporter::BackfillReporter(std::ostream& out, bool tty, const Dag& dag, std::function<int()> running_tasks)
    : out_(out), tty_(tty), dag_(dag), running_tasks_(std::move(running_tasks)) {}

std::string BackfillReporter::Date(const BackfillRun& run) const {
  return FormatIso(run.info.logical_date, dag_.timezone);
}

void BackfillReporter::Begin(const std::vector<BackfillRun>& runs) {
  total_ = runs.size();
  size_t create = 0, resume = 0, clear = 0;
  for (const BackfillRun& r : runs) {
    switch (r.action) {
      case BackfillRun::Action::kCreate: ++create; break;
      case BackfillRun::Action::kResume: ++resume; break;
      case BackfillRun::Action::kClear: ++clear; break;
      case BackfillRun::Action::kSkip:
        ++done_, ++done_before_;
        (r.result == RunState::kSuccess ? succeeded_ : failed_)++;
        break;
    }
  }
  out_ << "dwfs: backfill of DAG " << dag_.dag_id << ": " << total_ << " run(s) in the range: " << create
       << " to create, " << resume << " to resume, " << clear << " to clear and rerun, " << done_before_
       << " left alone\n";
  for (const BackfillRun& r : runs) {
    if (r.action == BackfillRun::Action::kSkip) out_ << "  skipped " << Date(r) << " (" << r.info.run_id << "): " << r.note << "\n";
  }
  out_ << std::flush;
}

std::string BackfillReporter::Progress() const {
  std::string s = std::to_string(done_) + "/" + std::to_string(total_) + " runs done";
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin_).count();
  s += ", elapsed " + Duration(elapsed);
  size_t here = done_ - done_before_;
  if (here > 0 && done_ < total_) s += ", ETA " + Duration(elapsed / double(here) * double(total_ - done_));
  return s;
}

std::string BackfillReporter::Status() const {
  return "[backfill " + dag_.dag_id + "] " + Progress() + " (" + std::to_string(succeeded_) + " succeeded, " +
         std::to_string(failed_) + " failed) | " + std::to_string(running_runs_) + " run(s), " +
         std::to_string(running_tasks_()) + " task(s) running | " + std::to_string(task_failures_) +
         " task failure(s)";
}

void BackfillReporter::Line(const std::string& text) {
  if (tty_) out_ << "\r\033[K";
  out_ << "[" << WallClockTime() << "] " << text << "\n";
  if (tty_) out_ << Status();
  status_shown_ = tty_;
  out_ << std::flush;
}

void BackfillReporter::Refresh() {
  if (!tty_) return;
  out_ << "\r\033[K" << Status() << std::flush;
  status_shown_ = true;
}

void BackfillReporter::OnRunStarted(const BackfillRun& run) {
  ++running_runs_;
  Line("run " + run.info.run_id + " started (" + Date(run) + ")");
}

void BackfillReporter::OnRunDone(const BackfillRun& run) {
  if (running_runs_ > 0 && run.note != "finished by another process") --running_runs_;
  ++done_;
  (run.result == RunState::kSuccess ? succeeded_ : failed_)++;
  std::string state = run.result ? RunStateName(*run.result) : "unknown";
  Line("run " + run.info.run_id + " " + state + (run.note.empty() ? "" : " (" + run.note + ")") + "; " +
       Progress());
}

void BackfillReporter::OnRunWaiting(const BackfillRun& run) {
  Line("run " + run.info.run_id + " waits: " + run.note);
}

void BackfillReporter::OnTryFinished(const RunPlan& plan, int task, const TaskResult& result) {
  const TaskInstance& ti = plan.instance(task);
  if (ti.state != TaskState::kFailed && ti.state != TaskState::kUpForRetry) return;
  ++task_failures_;
  Line("task " + plan.dag().tasks[size_t(task)].task_id + " of run " + plan.info().run_id + " " +
       TaskStateName(ti.state) + " (try " + std::to_string(ti.try_number) + "/" + std::to_string(ti.max_tries) +
       ")" + (result.outcome.reason.empty() ? "" : ": " + result.outcome.reason));
}

void BackfillReporter::End(const std::vector<BackfillRun>& runs, bool interrupted) {
  if (status_shown_) out_ << "\r\033[K";
  Json rows = Json::Array();
  size_t shown = 0;
  for (const BackfillRun& r : runs) {
    bool ok = r.phase == BackfillRun::Phase::kDone && r.result == RunState::kSuccess;
    if (runs.size() > 31 && ok) continue;  // long ranges: only what needs a look
    Json row = Json::Object();
    row.Set("logical_date", Date(r));
    row.Set("run_id", r.info.run_id);
    row.Set("state", r.phase == BackfillRun::Phase::kDone && r.result ? RunStateName(*r.result)
                                                                       : (interrupted ? "interrupted" : "not run"));
    row.Set("note", r.note);
    rows.Push(std::move(row));
    ++shown;
  }
  if (shown > 0) {
    out_ << "\n";
    PrintRecords(rows, {"logical_date", "run_id", "state", "note"}, OutputFormat::kTable, out_);
  }
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin_).count();
  out_ << "dwfs: backfill of DAG " << dag_.dag_id << (interrupted ? " interrupted" : " done") << ": " << succeeded_
       << " succeeded, " << failed_ << " failed, " << (total_ - done_) << " not finished, of " << total_
       << " run(s) in " << Duration(elapsed) << "\n"
       << std::flush;
}

}  // namespace dwfs
