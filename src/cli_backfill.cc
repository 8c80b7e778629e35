// dwfs dags backfill DAG -s START -e END [...]: wires the parts (Store,
// Engine, RunRecorder, RunDriver, Backfill, BackfillReporter); the logic
// lives in them (include/dwfs/backfill.h).
#include <unistd.h>

#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/spdlog.h>

#include <csignal>
#include <iostream>

#include "backfill_reporter.h"
#include "cli.h"
#include "dwfs/dag_registry.h"
#include "dwfs/backfill.h"
#include "dwfs/store.h"
#include "engine.h"
#include "observer_tee.h"
#include "run_recorder.h"

namespace dwfs {

namespace {

struct BackfillArgs {
  std::string dag_id, start, end, regex, conf;
  bool reset = false, rerun_failed = false, dry_run = false, yes = false, backwards = false;
  bool ignore_dependencies = false, ignore_first_depends_on_past = false;
};

// --dry-run: the runs of the range and each selected task's rendered
// fields; touches neither the store nor any process.
Status DryRun(CliContext& ctx, const Dag& dag, const BackfillOptions& options) {
  std::vector<BackfillRun> runs;
  DWFS_RETURN_IF_ERROR(PlanBackfill(dag, options, {}, &runs));
  EnvConnectionSource connections(ctx.env());
  PreparerOptions po;
  po.base_env = BaseTaskEnvironment(ctx.env());
  po.connections = &connections;
  StandardPreparer preparer(po);
  ctx.out() << "dwfs: dry run of the backfill of DAG " << dag.dag_id << ": " << runs.size()
            << " run(s); nothing is run or recorded\n";
  for (const BackfillRun& r : runs) {
    ctx.out() << "\n== run " << r.info.run_id << ": data interval " << FormatIso(r.interval.start, dag.timezone)
              << " to " << FormatIso(r.interval.end, dag.timezone) << "\n";
    RunPlan plan(ctx.dag_bag().Shared(dag.dag_id), r.info);
    for (int i : dag.topo_order) {
      if (!options.selected.empty() && !options.selected[size_t(i)]) continue;
      std::vector<std::pair<std::string, std::string>> fields;
      Status st = preparer.Render(plan, i, &fields);
      ctx.out() << "-- task " << dag.tasks[size_t(i)].task_id << "\n";
      if (!st.ok()) {
        ctx.out() << "   (cannot render: " << st.message() << ")\n";
        continue;
      }
      for (const auto& [name, value] : fields) {
        if (value.empty()) continue;
        ctx.out() << "   " << name << ": " << value << (value.back() == '\n' ? "" : "\n");
      }
    }
  }
  return Status::OK();
}

Status DagsBackfill(CliContext& ctx, const BackfillArgs& a) {
  const Dag* dag;
  DWFS_RETURN_IF_ERROR(ctx.FindDag(a.dag_id, &dag));
  if (a.reset && a.rerun_failed) {
    return Status::InvalidArgument("--reset-dagruns and --rerun-failed-tasks: use one of them");
  }
  if (a.ignore_dependencies && a.regex.empty()) {
    return Status::InvalidArgument("-i/--ignore-dependencies only works with -t/--task-regex");
  }
  BackfillOptions o;
  DWFS_RETURN_IF_ERROR(ctx.ParseDate(a.start, dag->timezone, &o.start).WithPrefix("-s/--start-date"));
  DWFS_RETURN_IF_ERROR(ctx.ParseDate(a.end, dag->timezone, &o.end).WithPrefix("-e/--end-date"));
  if (o.end < o.start) return Status::InvalidArgument("-e/--end-date is before -s/--start-date");
  o.reset_dagruns = a.reset;
  o.rerun_failed_tasks = a.rerun_failed;
  o.run_backwards = a.backwards;
  o.ignore_first_depends_on_past = a.ignore_first_depends_on_past;
  if (!a.regex.empty()) {
    DWFS_RETURN_IF_ERROR(SelectTasks(*dag, a.regex, !a.ignore_dependencies, false, &o.selected));
    if (std::find(o.selected.begin(), o.selected.end(), true) == o.selected.end()) {
      return Status::NotFound("no task of DAG '" + a.dag_id + "' matches -t '" + a.regex + "'");
    }
  }
  if (!a.conf.empty()) DWFS_RETURN_IF_ERROR(ParseJson(a.conf, true, &o.conf).WithPrefix("-c/--conf"));
  const Config& config = ctx.config();
  o.hostname = Hostname();
  o.pid = int(::getpid());
  o.heartbeat = config.scheduler.heartbeat;
  o.zombie_threshold = config.scheduler.zombie_threshold;
  if (a.dry_run) return DryRun(ctx, *dag, o);

  Store* store;
  DWFS_RETURN_IF_ERROR(ctx.OpenStore(&store));
  Instant now = ctx.clock().Now();
  DWFS_RETURN_IF_ERROR(StoreDagIfNew(*store, *dag, now));
  std::map<Instant, ExistingRun> existing;
  DWFS_RETURN_IF_ERROR(ReadExistingRuns(*store, a.dag_id, o.start, o.end, &existing));
  std::vector<BackfillRun> runs;
  DWFS_RETURN_IF_ERROR(PlanBackfill(*dag, o, existing, &runs));
  if (runs.empty()) {
    ctx.out() << "dwfs: no logical date of DAG " << a.dag_id << " falls in the range (its schedule starts "
              << (dag->start_date ? FormatIso(*dag->start_date, dag->timezone) : std::string("never")) << ")\n";
    return Status::OK();
  }
  size_t to_clear = 0, runs_to_clear = 0;
  for (const BackfillRun& r : runs) {
    if (r.existing && !r.clear.empty()) to_clear += r.clear.size(), ++runs_to_clear;
  }
  if (to_clear > 0 && !a.yes &&
      !ctx.Confirm("This clears " + std::to_string(to_clear) + " task instance(s) in " +
                   std::to_string(runs_to_clear) + " existing run(s) of DAG " + a.dag_id +
                   " and runs them again. Continue?")) {
    return Status::Failed("backfill cancelled: nothing was changed");
  }

  std::unique_ptr<Store> recorder_store;
  DWFS_RETURN_IF_ERROR(Store::Open(config.database.url, &recorder_store));
  StoreConnectionSource stored_connections(store);
  std::map<std::string, std::string> variables;
  DWFS_RETURN_IF_ERROR(store->ListVariables(&variables));
  Engine engine(config, RecordingEngine(ctx, &stored_connections, &variables));
  RunRecorderOptions ro;
  ro.hostname = o.hostname;
  ro.log_folder = config.logging.base_log_folder;
  RunRecorder recorder(engine.io(), std::move(recorder_store), ctx.clock(), ro, ctx.log());
  RunDriver* driver_ptr = nullptr;
  bool tty = &ctx.out() == &std::cout && ::isatty(STDOUT_FILENO);
  BackfillReporter reporter(ctx.out(), tty, *dag, [&] { return driver_ptr ? driver_ptr->running() : 0; });
  ObserverTee observers({&recorder, &reporter});
  RunDriver driver(engine.io(), engine.executor(), engine.preparer(), ctx.clock(), engine.slots(), &observers,
                   &engine.webhooks());
  driver_ptr = &driver;
  Backfill backfill(engine.io(), *store, ctx.dag_bag().Shared(a.dag_id), driver, recorder, ctx.clock(), o, ctx.log(),
                    &reporter);
  recorder.set_on_lost([&](const std::string& d, const std::string& r) { backfill.RunLost(d, r); });
  recorder.set_on_run_recorded([&](const std::string& d, const std::string& r) { backfill.RunRecorded(d, r); });

  reporter.Begin(runs);
  DWFS_RETURN_IF_ERROR(backfill.Start(std::move(runs)));
  boost::asio::signal_set signals(engine.io(), SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    ctx.err() << "\ndwfs: " << (sig == SIGINT ? "interrupted (Ctrl-C)" : "terminated")
              << ": stopping running tasks; run the same command again to resume\n";
    backfill.Stop();
  });
  boost::asio::steady_timer refresh(engine.io());
  std::function<void()> redraw = [&] {
    reporter.Refresh();
    refresh.expires_after(std::chrono::seconds(1));
    refresh.async_wait([&](const boost::system::error_code& ec) {
      if (!ec) redraw();
    });
  };
  if (tty) redraw();
  backfill.Poll();
  while (!backfill.finished() && engine.io().run_one()) backfill.Poll();
  signals.cancel();
  refresh.cancel();
  engine.io().poll();
  reporter.End(backfill.runs(), backfill.stopped());
  if (backfill.stopped()) return Status::Failed("backfill interrupted: run the same command again to resume");
  if (!backfill.AllSucceeded()) return Status::Failed("backfill of DAG " + a.dag_id + ": not every run succeeded");
  return Status::OK();
}

}  // namespace

void AddBackfillCommand(CLI::App* app, CliAction* action) {
  CLI::App* dags = app->get_subcommand("dags");
  auto o = std::make_shared<BackfillArgs>();
  CLI::App* b = dags->add_subcommand(
      "backfill", "create and run, in the foreground, one run per schedule interval in [START, END]");
  b->add_option("DAG", o->dag_id, "dag_id")->required();
  b->add_option("-s,--start-date", o->start, "first logical date (inclusive)")->required();
  b->add_option("-e,--end-date", o->end, "last logical date (inclusive)")->required();
  b->add_flag("--reset-dagruns", o->reset, "clear the existing runs of the range and run them again");
  b->add_flag("--rerun-failed-tasks", o->rerun_failed, "rerun the failed tasks of existing runs");
  b->add_option("-t,--task-regex", o->regex, "only the tasks whose id matches (search), with their upstream");
  b->add_flag("-i,--ignore-dependencies", o->ignore_dependencies, "with -t: not the upstream of the matches");
  b->add_flag("-I,--ignore-first-depends-on-past", o->ignore_first_depends_on_past,
              "the first run ignores depends_on_past");
  b->add_flag("--dry-run", o->dry_run, "list the runs and render each task's command; run nothing");
  b->add_flag("-y,--yes", o->yes, "do not ask for confirmation");
  b->add_flag("-B,--run-backwards", o->backwards, "newest run first");
  b->add_option("-c,--conf", o->conf, "JSON conf of the runs it creates");
  b->final_callback([action, o] {
    *action = [o](CliContext& ctx) { return DagsBackfill(ctx, *o); };
  });
}

}  // namespace dwfs
