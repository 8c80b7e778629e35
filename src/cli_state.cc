// The stored-state leaves of `dags` and `tasks` (cli.md): dags pause |
// unpause | trigger | list-runs | state, tasks state | states-for-dag-run |
// clear | logs. They read and write the metadata store through
// CliContext::OpenStore; the dags folder gives each DAG's timezone (dates
// are read and printed in it) and, for trigger and clear, its definition.
// A DAG no longer in the folder but still stored is read in its stored
// timezone.
#include <algorithm>
#include <cctype>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

#include "cli.h"
#include "dwfs/dag_actions.h"
#include "dwfs/store.h"

namespace dwfs {

namespace {

std::string NotSeenMessage(const std::string& dag_id) {
  return "DAG '" + dag_id +
         "' is not in the metadata database yet: it has not been seen by a scheduler (start dwfs scheduler)";
}

Json When(const std::optional<Instant>& t, const TimeZone& tz) {
  return t ? Json(FormatIso(*t, tz)) : Json();
}

// The zone of `dag_id`: the DAG file's when it is in the dags folder, else
// the stored DAG's. NotFound when it is in neither.
Status DagZone(CliContext& ctx, Store* store, const std::string& dag_id, TimeZone* tz) {
  if (const Dag* d = ctx.dag_bag().Find(dag_id)) {
    *tz = d->timezone;
    return Status::OK();
  }
  DagRecord rec;
  Status st = store->GetDag(dag_id, &rec);
  if (st.code() == Status::Code::kNotFound) {
    return Status::NotFound("DAG '" + dag_id + "' not found in " + ctx.config().core.dags_folder +
                            " nor in the metadata database");
  }
  DWFS_RETURN_IF_ERROR(st);
  if (rec.timezone.empty()) {
    *tz = TimeZone();
    return Status::OK();
  }
  return TimeZone::Find(rec.timezone, tz);
}

// The run of `dag_id` at the date `date` (read in the DAG's zone).
Status RunAt(CliContext& ctx, Store* store, const std::string& dag_id, const std::string& date, TimeZone* tz,
             RunRecord* run) {
  DWFS_RETURN_IF_ERROR(DagZone(ctx, store, dag_id, tz));
  Instant logical;
  DWFS_RETURN_IF_ERROR(ctx.ParseDate(date, *tz, &logical));
  Status st = store->FindRunAt(dag_id, logical, run);
  if (st.code() == Status::Code::kNotFound) {
    return Status::NotFound("DAG '" + dag_id + "' has no run at " + FormatIso(logical, *tz));
  }
  return st;
}

Status DagsPause(CliContext& ctx, const std::string& dag_id, bool paused) {
  Store* store;
  DWFS_RETURN_IF_ERROR(ctx.OpenStore(&store));
  Status st = store->SetPaused(dag_id, paused, ctx.clock().Now());
  if (st.code() == Status::Code::kNotFound) return Status::NotFound(NotSeenMessage(dag_id));
  DWFS_RETURN_IF_ERROR(st);
  ctx.out() << "DAG " << dag_id << (paused ? " paused" : " unpaused") << "\n";
  return Status::OK();
}

struct TriggerArgs {
  std::string dag_id, date, conf, run_id;
};

Status DagsTrigger(CliContext& ctx, const TriggerArgs& a) {
  const Dag* dag;
  DWFS_RETURN_IF_ERROR(ctx.FindDag(a.dag_id, &dag));
  Store* store;
  DWFS_RETURN_IF_ERROR(ctx.OpenStore(&store));
  Instant now = ctx.clock().Now();
  Instant logical = now;
  if (!a.date.empty()) DWFS_RETURN_IF_ERROR(ctx.ParseDate(a.date, dag->timezone, &logical));
  Json conf = Json::Object();
  if (!a.conf.empty()) DWFS_RETURN_IF_ERROR(ParseJson(a.conf, true, &conf).WithPrefix("-c/--conf"));
  RunInfo info = ManualRunInfo(*dag, logical, a.run_id, std::move(conf));
  DWFS_RETURN_IF_ERROR(TriggerRun(*store, *dag, info, now));
  ctx.out() << info.run_id << "\n";
  return Status::OK();
}

Json RunJson(const RunRecord& r, const TimeZone& tz) {
  Json j = Json::Object();
  j.Set("dag_id", r.dag_id);
  j.Set("run_id", r.info.run_id);
  j.Set("run_type", RunTypeName(r.info.type));
  j.Set("state", RunStateName(r.state));
  j.Set("logical_date", FormatIso(r.info.logical_date, tz));
  j.Set("data_interval_start", FormatIso(r.info.data_interval.start, tz));
  j.Set("data_interval_end", FormatIso(r.info.data_interval.end, tz));
  j.Set("start_date", When(r.start_date, tz));
  j.Set("end_date", When(r.end_date, tz));
  j.Set("conf", r.info.conf);
  return j;
}

Status DagsListRuns(CliContext& ctx, const std::string& dag_id, const std::string& state, OutputFormat format) {
  std::optional<RunState> filter;
  if (!state.empty()) {
    RunState s;
    if (!ParseRunState(state, &s)) {
      return Status::InvalidArgument("--state '" + state + "': use queued, running, success or failed");
    }
    filter = s;
  }
  Store* store;
  DWFS_RETURN_IF_ERROR(ctx.OpenStore(&store));
  TimeZone tz;
  DWFS_RETURN_IF_ERROR(DagZone(ctx, store, dag_id, &tz));
  std::vector<RunRecord> runs;
  DWFS_RETURN_IF_ERROR(store->ListRuns(dag_id, filter, &runs));
  Json records = Json::Array();
  for (const RunRecord& r : runs) records.Push(RunJson(r, tz));
  if (format == OutputFormat::kTable && runs.empty()) {
    ctx.out() << "No runs of DAG " << dag_id << (state.empty() ? "" : " in state " + state) << ".\n";
    return Status::OK();
  }
  PrintRecords(records, {"dag_id", "run_id", "run_type", "state", "logical_date", "start_date", "end_date"}, format,
               ctx.out());
  return Status::OK();
}

Status DagsState(CliContext& ctx, const std::string& dag_id, const std::string& date) {
  Store* store;
  DWFS_RETURN_IF_ERROR(ctx.OpenStore(&store));
  TimeZone tz;
  RunRecord run;
  DWFS_RETURN_IF_ERROR(RunAt(ctx, store, dag_id, date, &tz, &run));
  ctx.out() << RunStateName(run.state) << "\n";
  return Status::OK();
}

Status TasksState(CliContext& ctx, const std::string& dag_id, const std::string& task_id, const std::string& date) {
  Store* store;
  DWFS_RETURN_IF_ERROR(ctx.OpenStore(&store));
  TimeZone tz;
  RunRecord run;
  DWFS_RETURN_IF_ERROR(RunAt(ctx, store, dag_id, date, &tz, &run));
  std::vector<TaskInstanceRecord> tis;
  DWFS_RETURN_IF_ERROR(store->ListTaskInstances(dag_id, run.info.run_id, &tis));
  for (const TaskInstanceRecord& t : tis) {
    if (t.task_id == task_id) {
      ctx.out() << TaskStateName(t.ti.state) << "\n";
      return Status::OK();
    }
  }
  const Dag* dag = ctx.dag_bag().Find(dag_id);
  if (dag && !dag->FindTask(task_id)) {
    return Status::NotFound("task '" + task_id + "' not found in DAG '" + dag_id + "'");
  }
  ctx.out() << TaskStateName(TaskState::kNone) << "\n";
  return Status::OK();
}

Json InstanceJson(const std::string& dag_id, const std::string& run_id, const std::string& task_id,
                  const TaskInstanceRecord* t, const TimeZone& tz) {
  Json j = Json::Object();
  j.Set("dag_id", dag_id);
  j.Set("run_id", run_id);
  j.Set("task_id", task_id);
  j.Set("state", TaskStateName(t ? t->ti.state : TaskState::kNone));
  j.Set("try_number", t ? t->ti.try_number : 0);
  j.Set("start_date", t ? When(t->ti.start_date, tz) : Json());
  j.Set("end_date", t ? When(t->ti.end_date, tz) : Json());
  j.Set("duration", t && t->duration ? Json(*t->duration) : Json());
  j.Set("hostname", t && !t->hostname.empty() ? Json(t->hostname) : Json());
  j.Set("pid", t && t->pid ? Json(*t->pid) : Json());
  return j;
}

Status TasksStatesForDagRun(CliContext& ctx, const std::string& dag_id, const std::string& run_id,
                            OutputFormat format) {
  Store* store;
  DWFS_RETURN_IF_ERROR(ctx.OpenStore(&store));
  TimeZone tz;
  DWFS_RETURN_IF_ERROR(DagZone(ctx, store, dag_id, &tz));
  RunRecord run;
  Status st = store->GetRun(dag_id, run_id, &run);
  if (st.code() == Status::Code::kNotFound) {
    return Status::NotFound("DAG '" + dag_id + "' has no run '" + run_id + "'");
  }
  DWFS_RETURN_IF_ERROR(st);
  std::vector<TaskInstanceRecord> tis;
  DWFS_RETURN_IF_ERROR(store->ListTaskInstances(dag_id, run_id, &tis));
  std::map<std::string, const TaskInstanceRecord*> by_id;
  for (const TaskInstanceRecord& t : tis) by_id[t.task_id] = &t;
  Json records = Json::Array();
  // The DAG's tasks in dependency order (none for those without a row),
  // then stored rows of tasks no longer in the DAG.
  if (const Dag* dag = ctx.dag_bag().Find(dag_id)) {
    for (int i : dag->topo_order) {
      const std::string& id = dag->tasks[size_t(i)].task_id;
      auto it = by_id.find(id);
      records.Push(InstanceJson(dag_id, run_id, id, it == by_id.end() ? nullptr : it->second, tz));
      if (it != by_id.end()) by_id.erase(it);
    }
  }
  for (const TaskInstanceRecord& t : tis) {
    if (by_id.count(t.task_id)) records.Push(InstanceJson(dag_id, run_id, t.task_id, &t, tz));
  }
  PrintRecords(records, {"dag_id", "run_id", "task_id", "state", "try_number", "start_date", "end_date", "duration",
                         "hostname", "pid"},
               format, ctx.out());
  return Status::OK();
}

struct ClearArgs {
  std::string dag_id, regex, start, end;
  bool only_failed = false, downstream = false, upstream = false, yes = false;
};

Status TasksClear(CliContext& ctx, const ClearArgs& a) {
  const Dag* dag;
  DWFS_RETURN_IF_ERROR(ctx.FindDag(a.dag_id, &dag));
  std::optional<Instant> from, to;
  if (!a.start.empty()) {
    Instant t;
    DWFS_RETURN_IF_ERROR(ctx.ParseDate(a.start, dag->timezone, &t).WithPrefix("-s/--start-date"));
    from = t;
  }
  if (!a.end.empty()) {
    Instant t;
    DWFS_RETURN_IF_ERROR(ctx.ParseDate(a.end, dag->timezone, &t).WithPrefix("-e/--end-date"));
    to = t;
  }
  std::vector<bool> selected;
  DWFS_RETURN_IF_ERROR(SelectTasks(*dag, a.regex, a.upstream, a.downstream, &selected));
  std::set<std::string> task_ids;
  for (size_t i = 0; i < selected.size(); ++i) {
    if (selected[i]) task_ids.insert(dag->tasks[i].task_id);
  }

  ClearSelection selection;
  selection.task_ids = std::move(task_ids);
  selection.from = from;
  selection.to = to;
  selection.only_failed = a.only_failed;
  Store* store;
  DWFS_RETURN_IF_ERROR(ctx.OpenStore(&store));
  std::vector<ClearItem> items;
  DWFS_RETURN_IF_ERROR(FindInstancesToClear(*store, a.dag_id, selection, &items));
  size_t total = items.size();
  if (total == 0) {
    ctx.out() << "No task instances to clear.\n";
    return Status::OK();
  }
  if (!a.yes) {
    Json listing = Json::Array();
    for (const ClearItem& item : items) {
      Json j = Json::Object();
      j.Set("run_id", item.run.info.run_id);
      j.Set("logical_date", FormatIso(item.run.info.logical_date, dag->timezone));
      j.Set("task_id", item.instance.task_id);
      j.Set("state", TaskStateName(item.instance.ti.state));
      listing.Push(std::move(j));
    }
    PrintRecords(listing, {}, OutputFormat::kTable, ctx.out());
    if (!ctx.Confirm("Clear these " + std::to_string(total) + " task instance(s)?")) {
      return Status::Failed("aborted: nothing cleared");
    }
  }
  size_t run_count = 0;
  DWFS_RETURN_IF_ERROR(ClearItems(*store, a.dag_id, items, ctx.clock().Now(), &run_count));
  ctx.out() << "Cleared " << total << " task instance(s) in " << run_count << " run(s) of DAG " << a.dag_id << "\n";
  return Status::OK();
}

struct LogsArgs {
  std::string dag_id, task_id, date;
  int try_number = 0;  // 0: the latest
};

Status TasksLogs(CliContext& ctx, const LogsArgs& a) {
  Store* store;
  DWFS_RETURN_IF_ERROR(ctx.OpenStore(&store));
  TimeZone tz;
  RunRecord run;
  DWFS_RETURN_IF_ERROR(RunAt(ctx, store, a.dag_id, a.date, &tz, &run));
  std::vector<TryRecord> tries;
  DWFS_RETURN_IF_ERROR(store->ListTries(a.dag_id, run.info.run_id, a.task_id, &tries));
  const TryRecord* pick = nullptr;
  for (const TryRecord& t : tries) {
    if (a.try_number > 0 ? t.try_number == a.try_number : (!pick || t.try_number > pick->try_number)) pick = &t;
  }
  std::string what = "task '" + a.task_id + "' of DAG '" + a.dag_id + "' run '" + run.info.run_id + "'";
  if (!pick) {
    if (a.try_number > 0) return Status::NotFound(what + " has no try " + std::to_string(a.try_number));
    return Status::NotFound(what + " has not run yet (no tries)");
  }
  if (pick->log_path.empty()) {
    return Status::NotFound(what + " try " + std::to_string(pick->try_number) + " has no log file");
  }
  std::ifstream in(pick->log_path, std::ios::binary);
  if (!in) {
    return Status::NotFound("log file " + pick->log_path + " of " + what + " try " +
                            std::to_string(pick->try_number) + " cannot be read");
  }
  ctx.out() << in.rdbuf();
  return Status::OK();
}

}  // namespace

void AddStateCommands(CLI::App* app, CliAction* action) {
  CLI::App* dags = app->get_subcommand("dags");
  CLI::App* tasks = app->get_subcommand("tasks");
  struct Opts {
    std::string dag_id, task_id, date, run_id, state;
    TriggerArgs trigger;
    ClearArgs clear;
    LogsArgs logs;
  };
  auto o = std::make_shared<Opts>();

  for (bool paused : {true, false}) {
    CLI::App* p = dags->add_subcommand(paused ? "pause" : "unpause", paused ? "stop scheduling a DAG"
                                                                           : "resume scheduling a DAG");
    p->add_option("DAG", o->dag_id, "dag_id")->required();
    p->final_callback(
        [action, o, paused] { *action = [o, paused](CliContext& ctx) { return DagsPause(ctx, o->dag_id, paused); }; });
  }

  CLI::App* trigger = dags->add_subcommand("trigger", "create a manual run (queued for the scheduler)");
  trigger->add_option("DAG", o->trigger.dag_id, "dag_id")->required();
  trigger->add_option("-e,--exec-date,--logical-date", o->trigger.date, "logical date (default now)")
      ->type_name("DATE");
  trigger->add_option("-c,--conf", o->trigger.conf, "JSON conf of the run (an object)")->type_name("JSON");
  trigger->add_option("-r,--run-id", o->trigger.run_id, "run id (default manual__<date>)");
  trigger->final_callback([action, o] { *action = [o](CliContext& ctx) { return DagsTrigger(ctx, o->trigger); }; });

  CLI::App* runs = dags->add_subcommand("list-runs", "runs with state, logical date, start, end");
  runs->add_option("DAG", o->dag_id, "dag_id")->required();
  runs->add_option("--state", o->state, "only runs in this state (queued, running, success, failed)");
  auto runs_format = AddOutputOption(runs);
  runs->final_callback([action, o, runs_format] {
    *action = [o, runs_format](CliContext& ctx) { return DagsListRuns(ctx, o->dag_id, o->state, *runs_format); };
  });

  CLI::App* dstate = dags->add_subcommand("state", "the state of the run at a logical date");
  dstate->add_option("DAG", o->dag_id, "dag_id")->required();
  dstate->add_option("DATE", o->date, "logical date")->required();
  dstate->final_callback(
      [action, o] { *action = [o](CliContext& ctx) { return DagsState(ctx, o->dag_id, o->date); }; });

  CLI::App* tstate = tasks->add_subcommand("state", "the state of a task instance");
  tstate->add_option("DAG", o->dag_id, "dag_id")->required();
  tstate->add_option("TASK", o->task_id, "task_id")->required();
  tstate->add_option("DATE", o->date, "logical date")->required();
  tstate->final_callback([action, o] {
    *action = [o](CliContext& ctx) { return TasksState(ctx, o->dag_id, o->task_id, o->date); };
  });

  CLI::App* sfr = tasks->add_subcommand("states-for-dag-run", "every task of a run with state, try, start, end");
  sfr->add_option("DAG", o->dag_id, "dag_id")->required();
  sfr->add_option("RUN_ID", o->run_id, "run_id")->required();
  auto sfr_format = AddOutputOption(sfr);
  sfr->final_callback([action, o, sfr_format] {
    *action = [o, sfr_format](CliContext& ctx) {
      return TasksStatesForDagRun(ctx, o->dag_id, o->run_id, *sfr_format);
    };
  });

  CLI::App* clear = tasks->add_subcommand("clear", "reset task instances so the scheduler runs them again");
  clear->add_option("DAG", o->clear.dag_id, "dag_id")->required();
  clear->add_option("-t,--task-regex", o->clear.regex, "only tasks whose id matches (search)");
  clear->add_option("-s,--start-date", o->clear.start, "only runs at or after this logical date")->type_name("DATE");
  clear->add_option("-e,--end-date", o->clear.end, "only runs at or before this logical date")->type_name("DATE");
  clear->add_flag("-f,--only-failed", o->clear.only_failed, "only failed and upstream_failed instances");
  clear->add_flag("-d,--downstream", o->clear.downstream, "also the tasks downstream of the matches");
  clear->add_flag("-u,--upstream", o->clear.upstream, "also the tasks upstream of the matches");
  clear->add_flag("-y,--yes", o->clear.yes, "do not ask for confirmation");
  clear->final_callback([action, o] { *action = [o](CliContext& ctx) { return TasksClear(ctx, o->clear); }; });

  CLI::App* logs = tasks->add_subcommand("logs", "print a task try's log");
  logs->add_option("DAG", o->logs.dag_id, "dag_id")->required();
  logs->add_option("TASK", o->logs.task_id, "task_id")->required();
  logs->add_option("DATE", o->logs.date, "logical date")->required();
  logs->add_option("--try", o->logs.try_number, "try number (default the latest)");
  logs->final_callback([action, o] { *action = [o](CliContext& ctx) { return TasksLogs(ctx, o->logs); }; });
}

}  // namespace dwfs
