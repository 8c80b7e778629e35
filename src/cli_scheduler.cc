// dwfs scheduler [-n NUM_LOOPS] and dwfs tasks run: the commands that drive
// runs recorded in the metadata store. This file only wires the parts
// (Engine, Store, RunRecorder, DagRegistry, Scheduler, DagWatcher,
// HealthServer, sd_notify); the logic lives in them.
#include <unistd.h>

#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/spdlog.h>

#include <csignal>

#include "cli.h"
#include "dwfs/dag_registry.h"
#include "dwfs/dag_watcher.h"
#include "dwfs/dwfs_metrics.h"
#include "dwfs/health_server.h"
#include "dwfs/scheduler.h"
#include "dwfs/sd_notify.h"
#include "dwfs/store.h"
#include "engine.h"
#include "observer_tee.h"
#include "run_metrics.h"
#include "run_recorder.h"
#include "wake_listener.h"

namespace dwfs {

namespace {

// The scheduler's health for GET /health (Airflow's shape): healthy when
// the database answers and the latest heartbeat is recent.
HealthReport Health(const Scheduler& s, const Clock& clock, Seconds heartbeat) {
  HealthReport r;
  Json body = Json::Object();
  Json db = Json::Object();
  db.Set("status", s.database_ok() ? "healthy" : "unhealthy");
  Json sched = Json::Object();
  bool fresh = s.last_heartbeat() && clock.Now() - *s.last_heartbeat() <= heartbeat * 3;
  sched.Set("status", fresh ? "healthy" : "unhealthy");
  sched.Set("latest_scheduler_heartbeat",
            s.last_heartbeat() ? Json(FormatIso(*s.last_heartbeat(), TimeZone())) : Json());
  body.Set("metadatabase", std::move(db));
  body.Set("scheduler", std::move(sched));
  r.healthy = s.database_ok() && fresh;
  r.body = std::move(body);
  return r;
}


}  // namespace

std::string Hostname() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "localhost";
  return buf;
}

EngineOptions RecordingEngine(CliContext& ctx, const ConnectionSource* stored_connections,
                              const std::map<std::string, std::string>* variables) {
  EngineOptions eo;
  eo.log_folder = ctx.config().logging.base_log_folder;
  eo.process_env = ctx.env();
  eo.stored_connections = stored_connections;
  eo.variables = variables;
  eo.webhooks.log = &ctx.log();
  return eo;
}

Status RunScheduler(CliContext& ctx, std::optional<int> num_loops, DwfsMetrics* shared_metrics) {
  const Config& config = ctx.config();
  // This process's metrics: GET /metrics renders metrics.Render() (also
  // reachable as scheduler.metrics()->Render()).
  MetricsRegistry own_registry;
  std::optional<DwfsMetrics> own_metrics;
  DwfsMetrics& metrics = shared_metrics ? *shared_metrics : own_metrics.emplace(own_registry);
  Store* store;
  DWFS_RETURN_IF_ERROR(ctx.OpenStore(&store));
  store->set_metrics(&metrics);
  struct Unset {  // ctx's store outlives `metrics`
    Store* store;
    ~Unset() { store->set_metrics(nullptr); }
  } unset{store};
  std::unique_ptr<Store> recorder_store;
  DWFS_RETURN_IF_ERROR(Store::Open(config.database.url, &recorder_store));
  recorder_store->set_metrics(&metrics);
  StoreConnectionSource stored_connections(store);
  std::map<std::string, std::string> variables;
  Engine engine(config, RecordingEngine(ctx, &stored_connections, &variables));
  const Clock& clock = ctx.clock();
  spdlog::logger& log = ctx.log();
  std::string hostname = Hostname();

  RunRecorderOptions ro;
  ro.hostname = hostname;
  ro.log_folder = config.logging.base_log_folder;
  RunRecorder recorder(engine.io(), std::move(recorder_store), clock, ro, log);
  RunMetricsObserver run_metrics(metrics);
  ObserverTee observers({&recorder, &run_metrics});
  RunDriver driver(engine.io(), engine.executor(), engine.preparer(), clock, engine.slots(), &observers,
                   &engine.webhooks());
  driver.set_metrics(&metrics);
  DagRegistry registry(*store, config.core.dags_folder, DagDefaults::FromConfig(config),
                       config.core.dags_are_paused_at_creation, &metrics);
  SchedulerOptions so;
  so.hostname = hostname;
  so.pid = int(::getpid());
  so.heartbeat = config.scheduler.heartbeat;
  so.zombie_threshold = config.scheduler.zombie_threshold;
  so.max_dagruns_per_loop = config.scheduler.max_dagruns_to_create_per_loop;
  so.graceful_shutdown_timeout = config.scheduler.graceful_shutdown_timeout;
  so.num_loops = num_loops;
  so.metrics = &metrics;
  Scheduler scheduler(engine.io(), *store, registry, driver, recorder, clock, so, log, &variables);
  recorder.set_on_lost([&](const std::string& d, const std::string& r) { scheduler.RunLost(d, r); });
  recorder.set_on_run_recorded([&](const std::string& d, const std::string& r) { scheduler.RunRecorded(d, r); });

  log.info("dags folder {}, logs {}, database {}", config.core.dags_folder, config.logging.base_log_folder,
           MaskSecrets(config.database.url));
  DWFS_RETURN_IF_ERROR(scheduler.Start());
  WakeListener wake(engine.io(), config.database.url, [&](const std::string&) { scheduler.Wake(); }, log);
  wake.Start();  // on failure it retries by itself; heartbeats find due DAGs meanwhile

  DagWatcherOptions wo;
  wo.folder = config.core.dags_folder;
  wo.poll_interval = std::chrono::duration_cast<std::chrono::milliseconds>(config.core.dag_file_processing_interval);
  DagWatcher watcher(engine.io(), wo, [&] { scheduler.FolderChanged(); }, &log);
  Status st = watcher.Start();
  if (!st.ok()) log.error("watching {}: {} (the folder is re-read at each heartbeat)", wo.folder, st.message());

  std::unique_ptr<HealthServer> health;
  if (config.scheduler.health_check_port > 0) {
    health = std::make_unique<HealthServer>(
        engine.io(), "0.0.0.0", uint16_t(config.scheduler.health_check_port),
        [&] { return Health(scheduler, clock, config.scheduler.heartbeat); }, &log);
    health->ServeMetrics([&metrics] { return metrics.Render(); });
    st = health->Start();
    if (!st.ok()) {
      log.error("health check server: {} (continuing without it)", st.message());
      health.reset();
    }
  }

  bool stop_requested = false;
  boost::asio::signal_set stop_signals(engine.io(), SIGINT, SIGTERM);
  std::function<void()> wait_stop = [&] {
    stop_signals.async_wait([&](const boost::system::error_code& ec, int sig) {
      if (ec) return;
      if (stop_requested) {
        log.warn("{} again: stopping running tasks now", sig == SIGINT ? "SIGINT" : "SIGTERM");
        driver.Stop("the scheduler is shutting down", /*requeue=*/true);
      } else {
        stop_requested = true;
        log.info("{} received: shutting down gracefully", sig == SIGINT ? "SIGINT" : "SIGTERM");
        SdNotify(ctx.env(), "STOPPING=1");
        watcher.Stop();
        scheduler.Shutdown(nullptr);
      }
      wait_stop();
    });
  };
  wait_stop();
  boost::asio::signal_set hup(engine.io(), SIGHUP);
  std::function<void()> wait_hup = [&] {
    hup.async_wait([&](const boost::system::error_code& ec, int) {
      if (ec) return;
      ConfigLoadOptions load;
      load.config_file = ctx.config_file();
      load.env = ctx.env();
      Config fresh;
      Status s = LoadConfig(load, &fresh);
      if (!s.ok()) {
        log.error("SIGHUP: configuration not reloaded: {}", s.message());
      } else {
        log.set_level(spdlog::level::from_str(fresh.logging.level));
        registry.set_defaults(DagDefaults::FromConfig(fresh));
        scheduler.FolderChanged();
        log.info("SIGHUP: configuration reloaded (logging level {}, DAG defaults; other keys apply at restart)",
                 fresh.logging.level);
      }
      wait_hup();
    });
  };
  wait_hup();

  // systemd: ready once the first loop ran; the watchdog is fed from the
  // loop's own timer, so a stuck loop is restarted.
  SdNotify(ctx.env(), "READY=1\nSTATUS=scheduling");
  boost::asio::steady_timer watchdog(engine.io());
  std::optional<std::chrono::microseconds> wd = WatchdogInterval(ctx.env());
  std::function<void()> feed = [&] {
    watchdog.expires_after(*wd / 2);
    watchdog.async_wait([&](const boost::system::error_code& ec) {
      if (ec) return;
      SdNotify(ctx.env(), "WATCHDOG=1");
      feed();
    });
  };
  if (wd) feed();

  scheduler.Poll();
  while (!scheduler.finished() && engine.io().run_one()) scheduler.Poll();
  watcher.Stop();
  if (health) health->Stop();
  stop_signals.cancel();
  hup.cancel();
  watchdog.cancel();
  engine.io().poll();
  return Status::OK();
}

namespace {

// tasks run: one task instance of an existing run, now, ignoring its
// dependencies (Airflow's -A), recorded as a new try.
Status TasksRun(CliContext& ctx, const std::string& dag_id, const std::string& task_id, const std::string& date) {
  const Config& config = ctx.config();
  Store* store;
  DWFS_RETURN_IF_ERROR(ctx.OpenStore(&store));
  const Dag* dag;
  DWFS_RETURN_IF_ERROR(ctx.FindDag(dag_id, &dag));
  int index = dag->TaskIndex(task_id);
  if (index < 0) return Status::NotFound("task '" + task_id + "' not found in DAG '" + dag_id + "'");
  Instant logical;
  DWFS_RETURN_IF_ERROR(ctx.ParseDate(date, dag->timezone, &logical));
  RunRecord run;
  Status st = store->FindRunAt(dag_id, logical, &run);
  if (st.code() == Status::Code::kNotFound) {
    return Status::NotFound("DAG '" + dag_id + "' has no run at " + FormatIso(logical, dag->timezone) +
                            " (create one with dwfs dags trigger " + dag_id + " -e DATE)");
  }
  DWFS_RETURN_IF_ERROR(st);
  std::vector<TaskInstanceRecord> rows;
  DWFS_RETURN_IF_ERROR(store->ListTaskInstances(dag_id, run.info.run_id, &rows));
  auto plan = std::make_shared<RunPlan>(ctx.dag_bag().Shared(dag_id), run.info);
  for (const TaskInstanceRecord& r : rows) {
    if (r.task_id != task_id) continue;
    if (r.ti.state == TaskState::kRunning || r.ti.state == TaskState::kQueued) {
      return Status::FailedPrecondition("task " + task_id + " of run " + run.info.run_id + " is " +
                                        TaskStateName(r.ti.state) + " already");
    }
    TaskInstance& ti = plan->mutable_instance(index);
    ti.try_number = r.ti.try_number;
  }
  std::vector<bool> keep(dag->tasks.size(), false);
  keep[size_t(index)] = true;
  plan->Restrict(keep);
  TaskInstance& ti = plan->mutable_instance(index);
  ti.max_tries = ti.try_number + 1;  // exactly one try, now
  std::unique_ptr<Store> recorder_store;
  DWFS_RETURN_IF_ERROR(Store::Open(config.database.url, &recorder_store));
  StoreConnectionSource stored_connections(store);
  std::map<std::string, std::string> variables;
  DWFS_RETURN_IF_ERROR(store->ListVariables(&variables));
  Engine engine(config, RecordingEngine(ctx, &stored_connections, &variables));
  RunRecorderOptions ro;
  ro.hostname = Hostname();
  ro.log_folder = config.logging.base_log_folder;
  ro.record_run_state = false;
  RunRecorder recorder(engine.io(), std::move(recorder_store), ctx.clock(), ro, ctx.log());
  RunDriver driver(engine.io(), engine.executor(), engine.preparer(), ctx.clock(), engine.slots(), &recorder,
                   &engine.webhooks());
  driver.Add(plan);
  engine.RunInForeground(driver, ctx.err());
  if (!recorder.WaitWritten(std::chrono::seconds(30))) {
    return Status::IOError("task " + task_id + " ran but its state could not be recorded (database unreachable)");
  }
  const TaskInstance& done = plan->instance(index);
  ctx.out() << "dwfs: " << dag_id << "." << task_id << " (" << run.info.run_id << ") try " << done.try_number << ": "
            << TaskStateName(done.state) << "\n";
  if (done.state == TaskState::kSuccess || done.state == TaskState::kSkipped) return Status::OK();
  return Status::Failed("task " + task_id + " " + TaskStateName(done.state) +
                        (done.reason.empty() ? "" : ": " + done.reason));
}

}  // namespace

void AddSchedulerCommands(CLI::App* app, CliAction* action) {
  CLI::App* sched = app->add_subcommand("scheduler", "the daemon: watch the dags folder, create runs, run tasks");
  auto loops = std::make_shared<int>(-1);
  sched->add_option("-n,--num-runs", *loops, "run this many scheduling loops, finish their runs, then exit");
  sched->final_callback([action, loops] {
    *action = [loops](CliContext& ctx) {
      std::optional<int> n;
      if (*loops >= 0) n = *loops;
      return RunScheduler(ctx, n);
    };
  });

  CLI::App* tasks = app->get_subcommand("tasks");
  struct Opts {
    std::string dag_id, task_id, date;
  };
  auto o = std::make_shared<Opts>();
  CLI::App* run = tasks->add_subcommand("run", "run one task instance of an existing run now and record it");
  run->add_option("DAG", o->dag_id, "dag_id")->required();
  run->add_option("TASK", o->task_id, "task_id")->required();
  run->add_option("DATE", o->date, "logical date of the run")->required();
  run->final_callback([action, o] {
    *action = [o](CliContext& ctx) { return TasksRun(ctx, o->dag_id, o->task_id, o->date); };
  });
}

}  // namespace dwfs
