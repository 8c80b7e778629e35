// dwfs tasks test | tasks render | dags test: run work in the foreground
// through the run engine, driver and local executor, recording nothing.
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <deque>
#include <thread>
#include <vector>

#include "cli.h"
#include "dwfs/dag_actions.h"
#include "dwfs/local_executor.h"
#include "dwfs/run_driver.h"
#include "dwfs/task_preparer.h"
#include "engine.h"

namespace asio = boost::asio;

namespace dwfs {

namespace {

// Removes `root` and everything under it. Freeing a directory can take
// milliseconds (ext4 with online discard on a busy disk), and a run leaves
// one per task, so the folders of each level go on a few threads.
void RemoveTree(const std::string& root) {
  namespace fs = std::filesystem;
  std::error_code ec;
  std::vector<std::vector<fs::path>> levels;  // directories by depth below root
  for (fs::recursive_directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_directory(ec) || it->is_symlink(ec)) continue;  // symlinks are not followed
    size_t depth = size_t(it.depth());
    if (levels.size() <= depth) levels.resize(depth + 1);
    levels[depth].push_back(it->path());
  }
  for (size_t d = levels.size(); d-- > 0;) {  // deepest first: a folder's subfolders are gone
    const std::vector<fs::path>& dirs = levels[d];
    std::atomic<size_t> next{0};
    auto work = [&] {
      for (size_t i; (i = next.fetch_add(1)) < dirs.size();) {
        std::error_code e;
        fs::remove_all(dirs[i], e);
      }
    };
    size_t n = std::min<size_t>(8, dirs.size() / 8);
    std::vector<std::thread> threads;
    for (size_t t = 1; t < n; ++t) threads.emplace_back(work);
    work();
    for (std::thread& t : threads) t.join();
  }
  fs::remove_all(root, ec);
}

// A private folder for the logs of foreground runs (they record nothing).
class ScratchDir {
 public:
  ScratchDir() {
    std::string t = (std::filesystem::temp_directory_path() / "dwfs-test-run-XXXXXX").string();
    if (::mkdtemp(t.data())) path_ = t;
  }
  ~ScratchDir() {
    if (!path_.empty()) RemoveTree(path_);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string LastLines(const std::string& path, size_t n) {
  std::ifstream in(path, std::ios::binary);
  std::deque<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    if (line.size() > 2000) line = line.substr(0, 2000) + "...";
    lines.push_back(line);
    if (lines.size() > n) lines.pop_front();
  }
  std::string out;
  for (const auto& l : lines) out += "    " + l + "\n";
  return out;
}

std::string Secs(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2fs", s);
  return buf;
}

// Prints `dags test` progress: one line per start and end, the log tail of
// a failed try.
class ConsoleObserver : public RunObserver {
 public:
  ConsoleObserver(std::ostream& out, std::string log_folder) : out_(out), log_folder_(std::move(log_folder)) {}

  void OnTaskState(const RunPlan& plan, int task) override {
    const TaskInstance& ti = plan.instance(task);
    const Task& t = plan.dag().tasks[size_t(task)];
    switch (ti.state) {
      case TaskState::kRunning:
        started_[task] = std::chrono::steady_clock::now();
        Line(t.task_id, "running", "try " + std::to_string(ti.try_number) + "/" + std::to_string(ti.max_tries));
        break;
      case TaskState::kSkipped:
      case TaskState::kUpstreamFailed:
        if (!started_.count(task)) Line(t.task_id, TaskStateName(ti.state), ti.reason);
        break;
      default:
        break;
    }
  }

  void OnTryFinished(const RunPlan& plan, int task, const TaskResult& result) override {
    const TaskInstance& ti = plan.instance(task);
    const Task& t = plan.dag().tasks[size_t(task)];
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_[task]).count();
    durations_[task] = secs;
    std::string detail = Secs(secs) + ", try " + std::to_string(ti.try_number) + "/" + std::to_string(ti.max_tries);
    if (!result.outcome.reason.empty()) detail += ": " + result.outcome.reason;
    if (ti.state == TaskState::kUpForRetry) detail += "; retry at " + FormatIso(*ti.next_retry_at, plan.dag().timezone);
    Line(t.task_id, TaskStateName(ti.state), detail);
    if (ti.state == TaskState::kFailed || ti.state == TaskState::kUpForRetry) {
      std::string log = TaskLogPath(log_folder_, plan.dag().dag_id, plan.info().run_id, t.task_id, ti.try_number);
      out_ << "  last lines of the log of " << t.task_id << ", try " << ti.try_number << ":\n"
           << LastLines(log, 20);
    }
  }

  void PrintSummary(const RunPlan& plan) {
    Json rows = Json::Array();
    for (int i : plan.dag().topo_order) {
      const TaskInstance& ti = plan.instance(i);
      Json r = Json::Object();
      r.Set("task_id", plan.dag().tasks[size_t(i)].task_id);
      r.Set("state", TaskStateName(ti.state));
      r.Set("try", std::to_string(ti.try_number) + "/" + std::to_string(ti.max_tries));
      r.Set("duration", durations_.count(i) ? Secs(durations_[i]) : std::string("-"));
      r.Set("reason", ti.reason);
      rows.Push(std::move(r));
    }
    out_ << "\n";
    PrintRecords(rows, {"task_id", "state", "try", "duration", "reason"}, OutputFormat::kTable, out_);
  }

 private:
  void Line(const std::string& task_id, const std::string& state, const std::string& detail) {
    auto now = std::chrono::system_clock::now();
    std::time_t tt = std::chrono::system_clock::to_time_t(now);
    std::tm tm{};
    localtime_r(&tt, &tm);
    char ts[16];
    std::strftime(ts, sizeof ts, "%H:%M:%S", &tm);
    char buf[96];
    std::snprintf(buf, sizeof buf, "[%s] %-30s %-15s ", ts, task_id.c_str(), state.c_str());
    out_ << buf << detail << "\n" << std::flush;
  }

  std::ostream& out_;
  std::string log_folder_;
  std::map<int, std::chrono::steady_clock::time_point> started_;
  std::map<int, double> durations_;
};

// Foreground commands record nothing: connections and variables come from
// the environment only.
EngineOptions ForegroundEngine(CliContext& ctx, const std::string& log_folder) {
  EngineOptions o;
  o.log_folder = log_folder;
  o.process_env = ctx.env();
  o.webhooks.log = &ctx.log();
  return o;
}

Status LoadRun(CliContext& ctx, const std::string& dag_id, const std::string& date, const std::string& conf_json,
               const Dag** dag, RunInfo* info) {
  DWFS_RETURN_IF_ERROR(ctx.FindDag(dag_id, dag));
  Instant logical = ctx.clock().Now();
  if (!date.empty()) DWFS_RETURN_IF_ERROR(ctx.ParseDate(date, (*dag)->timezone, &logical));
  Json conf = Json::Object();
  if (!conf_json.empty()) DWFS_RETURN_IF_ERROR(ParseJson(conf_json, true, &conf));
  *info = ManualRunInfo(**dag, logical, "", std::move(conf));  // as `dags trigger` makes it
  return Status::OK();
}

Status TasksTest(CliContext& ctx, const std::string& dag_id, const std::string& task_id, const std::string& date,
                 const std::string& params) {
  const Dag* dag;
  RunInfo info;
  DWFS_RETURN_IF_ERROR(LoadRun(ctx, dag_id, date, params, &dag, &info));
  int index = dag->TaskIndex(task_id);
  if (index < 0) return Status::NotFound("task '" + task_id + "' not found in DAG '" + dag_id + "'");
  ScratchDir logs;
  auto plan = std::make_shared<RunPlan>(ctx.dag_bag().Shared(dag_id), info);
  std::vector<bool> keep(dag->tasks.size(), false);
  keep[size_t(index)] = true;
  plan->Restrict(keep);
  plan->mutable_instance(index).max_tries = 1;  // one try, no retries
  Engine engine(ctx.config(), ForegroundEngine(ctx, logs.path()));
  // Stream the log to stdout as it is written.
  class Streamer : public TaskPreparer {
   public:
    Streamer(StandardPreparer& p, std::ostream& out) : p_(p), out_(out) {}
    Status Prepare(const RunPlan& plan, int task, TaskRequest* req) override {
      DWFS_RETURN_IF_ERROR(p_.Prepare(plan, task, req));
      req->on_line = [this](std::string_view line) { out_ << line << "\n" << std::flush; };
      return Status::OK();
    }
    // tasks test runs no callbacks.
    bool PrepareCallback(const RunPlan&, CallbackEvent, int, const std::string&, PreparedCallback*) override {
      return false;
    }

   private:
    StandardPreparer& p_;
    std::ostream& out_;
  } streamer(engine.preparer(), ctx.out());
  RunDriver driver(engine.io(), engine.executor(), streamer, ctx.clock(), engine.slots(), nullptr, nullptr);
  driver.Add(plan);
  engine.RunInForeground(driver, ctx.err());
  const TaskInstance& ti = plan->instance(index);
  if (ti.state == TaskState::kSuccess || ti.state == TaskState::kSkipped) {
    if (ti.xcom) ctx.out() << "dwfs: XCom value: " << ti.xcom->substr(0, 200) << "\n";
    ctx.out() << "dwfs: task " << task_id << " " << TaskStateName(ti.state) << "\n";
    return Status::OK();
  }
  return Status::Failed("task " + task_id + " " + TaskStateName(ti.state) + (ti.reason.empty() ? "" : ": " + ti.reason));
}

Status TasksRender(CliContext& ctx, const std::string& dag_id, const std::string& task_id, const std::string& date) {
  const Dag* dag;
  RunInfo info;
  DWFS_RETURN_IF_ERROR(LoadRun(ctx, dag_id, date, "", &dag, &info));
  int index = dag->TaskIndex(task_id);
  if (index < 0) return Status::NotFound("task '" + task_id + "' not found in DAG '" + dag_id + "'");
  RunPlan plan(ctx.dag_bag().Shared(dag_id), info);
  EnvConnectionSource connections(ctx.env());
  PreparerOptions o;
  o.base_env = BaseTaskEnvironment(ctx.env());
  o.connections = &connections;
  StandardPreparer preparer(o);
  std::vector<std::pair<std::string, std::string>> fields;
  DWFS_RETURN_IF_ERROR(preparer.Render(plan, index, &fields));
  for (const auto& [name, value] : fields) {
    ctx.out() << "# ----------------------------------------------------------\n# property: " << name
              << "\n# ----------------------------------------------------------\n"
              << value << (value.empty() || value.back() != '\n' ? "\n" : "") << "\n";
  }
  return Status::OK();
}

Status DagsTest(CliContext& ctx, const std::string& dag_id, const std::string& date, const std::string& conf) {
  const Dag* dag;
  RunInfo info;
  DWFS_RETURN_IF_ERROR(LoadRun(ctx, dag_id, date, conf, &dag, &info));
  ScratchDir logs;
  auto plan = std::make_shared<RunPlan>(ctx.dag_bag().Shared(dag_id), info);
  Engine engine(ctx.config(), ForegroundEngine(ctx, logs.path()));
  ConsoleObserver console(ctx.out(), logs.path());
  ctx.out() << "dwfs: testing DAG " << dag_id << ", run " << info.run_id << " (data interval "
            << FormatIso(info.data_interval.start, dag->timezone) << " to "
            << FormatIso(info.data_interval.end, dag->timezone) << "), " << dag->tasks.size() << " tasks\n";
  RunDriver driver(engine.io(), engine.executor(), engine.preparer(), ctx.clock(), engine.slots(), &console,
                   &engine.webhooks());
  driver.Add(plan);
  engine.RunInForeground(driver, ctx.err());
  console.PrintSummary(*plan);
  if (engine.interrupted()) return Status::Failed("run " + info.run_id + " interrupted");
  RunState st = plan->state();
  ctx.out() << "dwfs: run " << info.run_id << " " << (st == RunState::kSuccess ? "succeeded" : RunStateName(st)) << "\n";
  if (st != RunState::kSuccess) return Status::Failed("DAG " + dag_id + " run " + RunStateName(st));
  return Status::OK();
}

}  // namespace

void AddRunCommands(CLI::App* app, CliAction* action) {
  CLI::App* dags = app->get_subcommand("dags");
  CLI::App* tasks = app->get_subcommand("tasks");
  struct Opts {
    std::string dag_id, task_id, date, json;
  };
  auto o = std::make_shared<Opts>();

  CLI::App* test = tasks->add_subcommand("test", "run one task now, ignoring dependencies; records nothing");
  test->add_option("DAG", o->dag_id, "dag_id")->required();
  test->add_option("TASK", o->task_id, "task_id")->required();
  test->add_option("DATE", o->date, "logical date")->required();
  test->add_option("-t,--task-params", o->json, "JSON params for the task, e.g. '{\"k\": \"v\"}'");
  test->final_callback([action, o] {
    *action = [o](CliContext& ctx) { return TasksTest(ctx, o->dag_id, o->task_id, o->date, o->json); };
  });

  CLI::App* render = tasks->add_subcommand("render", "print a task's rendered fields for a logical date");
  render->add_option("DAG", o->dag_id, "dag_id")->required();
  render->add_option("TASK", o->task_id, "task_id")->required();
  render->add_option("DATE", o->date, "logical date")->required();
  render->final_callback(
      [action, o] { *action = [o](CliContext& ctx) { return TasksRender(ctx, o->dag_id, o->task_id, o->date); }; });

  CLI::App* dtest = dags->add_subcommand("test", "run the whole DAG for a logical date in the foreground");
  dtest->add_option("DAG", o->dag_id, "dag_id")->required();
  dtest->add_option("DATE", o->date, "logical date (default now)");
  dtest->add_option("-c,--conf", o->json, "JSON conf of the run");
  dtest->final_callback(
      [action, o] { *action = [o](CliContext& ctx) { return DagsTest(ctx, o->dag_id, o->date, o->json); }; });
}

}  // namespace dwfs
