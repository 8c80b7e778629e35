// dwfs dags list | list-import-errors | show | next-execution, and
// dwfs tasks list. They read the dags folder; `dags list` takes is_paused
// and next_logical_date from the metadata store when one is configured.
#include <functional>
#include <set>

#include "cli.h"
#include "dwfs/store.h"

namespace dwfs {

namespace {

std::optional<std::string> NextLogicalDate(const Dag& dag, Instant now) {
  std::optional<DataInterval> next = dag.timetable().NextRunInterval(std::nullopt, dag.catchup, now);
  if (!next) return std::nullopt;
  return FormatIso(next->start, dag.timezone);
}

// The stored DAGs by id, when a database is configured and can be opened
// (is_paused and next_logical_date come from there); empty otherwise.
std::map<std::string, DagRecord> StoredDags(CliContext& ctx) {
  std::map<std::string, DagRecord> out;
  if (ctx.config().database.url.empty()) return out;
  Store* store;
  std::vector<DagRecord> dags;
  Status st = ctx.OpenStore(&store);
  if (st.ok()) st = store->ListDags(&dags);
  if (!st.ok()) {
    ctx.err() << "dwfs: is_paused shown from the DAG files: " << st.message() << "\n";
    return out;
  }
  for (DagRecord& d : dags) out.emplace(d.dag_id, std::move(d));
  return out;
}

Status DagsList(CliContext& ctx, OutputFormat format) {
  const DagBag& bag = ctx.dag_bag();
  Json records = Json::Array();
  Instant now = ctx.clock().Now();
  std::map<std::string, DagRecord> stored = StoredDags(ctx);
  for (const auto& dag : bag.dags) {
    auto rec = stored.find(dag->dag_id);
    Json r = Json::Object();
    r.Set("dag_id", dag->dag_id);
    r.Set("fileloc", dag->fileloc);
    r.Set("schedule", dag->schedule.kind() == Schedule::Kind::kNone ? Json() : Json(dag->schedule.text()));
    r.Set("timezone", dag->timezone.name());
    r.Set("is_paused", rec != stored.end() ? rec->second.is_paused : dag->is_paused_upon_creation);
    r.Set("tags", Json::StringArray(dag->tags));
    if (rec != stored.end() && rec->second.next_logical_date) {
      r.Set("next_logical_date", FormatIso(*rec->second.next_logical_date, dag->timezone));
    } else {
      r.Set("next_logical_date", NextLogicalDate(*dag, now));
    }
    r.Set("description", dag->description);
    records.Push(std::move(r));
  }
  PrintRecords(records, {"dag_id", "fileloc", "schedule", "is_paused", "next_logical_date", "tags"}, format,
               ctx.out());
  if (!bag.errors.empty() && format != OutputFormat::kJson) {
    ctx.err() << "dwfs: " << bag.errors.size()
              << " DAG file(s) failed to load; see dwfs dags list-import-errors\n";
  }
  return Status::OK();
}

Status DagsListImportErrors(CliContext& ctx, OutputFormat format) {
  Json records = Json::Array();
  for (const ImportError& e : ctx.dag_bag().errors) {
    Json r = Json::Object();
    r.Set("filepath", e.filepath);
    r.Set("line", e.line ? Json(*e.line) : Json());
    r.Set("error", e.message);
    records.Push(std::move(r));
  }
  if (format == OutputFormat::kTable && records.items().empty()) {
    ctx.out() << "No import errors.\n";
    return Status::OK();
  }
  PrintRecords(records, {"filepath", "line", "error"}, format, ctx.out());
  return Status::OK();
}

Status DagsShow(CliContext& ctx, const std::string& dag_id, bool dot) {
  const Dag* dag;
  DWFS_RETURN_IF_ERROR(ctx.FindDag(dag_id, &dag));
  std::ostream& out = ctx.out();
  if (dot) {
    out << "digraph \"" << dag->dag_id << "\" {\n  rankdir=LR;\n  node [shape=box, style=rounded];\n";
    for (int i : dag->topo_order) {
      const Task& t = dag->tasks[size_t(i)];
      out << "  \"" << t.task_id << "\" [label=\"" << t.task_id << "\\n(" << t.operator_name << ")\"];\n";
    }
    for (int i : dag->topo_order) {
      const Task& t = dag->tasks[size_t(i)];
      for (int d : t.downstream_idx) {
        const Task& down = dag->tasks[size_t(d)];
        out << "  \"" << t.task_id << "\" -> \"" << down.task_id << "\"";
        if (down.trigger_rule != TriggerRule::kAllSuccess) {
          out << " [label=\"" << TriggerRuleName(down.trigger_rule) << "\"]";
        }
        out << ";\n";
      }
    }
    out << "}\n";
    return Status::OK();
  }
  out << "DAG " << dag->dag_id << "\n";
  if (!dag->description.empty()) out << "  description: " << dag->description << "\n";
  out << "  file:        " << dag->fileloc << "\n"
      << "  schedule:    " << dag->ScheduleText() << " (" << dag->timezone.name() << ")\n";
  if (dag->start_date) out << "  start_date:  " << FormatIso(*dag->start_date, dag->timezone) << "\n";
  if (dag->end_date) out << "  end_date:    " << FormatIso(*dag->end_date, dag->timezone) << "\n";
  out << "  catchup:     " << (dag->catchup ? "true" : "false") << ", max_active_runs: " << dag->max_active_runs
      << ", max_active_tasks: " << dag->max_active_tasks << "\n"
      << "tasks (dependency order):\n";
  size_t w = 0;
  for (const Task& t : dag->tasks) w = std::max(w, t.task_id.size());
  for (int i : dag->topo_order) {
    const Task& t = dag->tasks[size_t(i)];
    std::string line = "  " + t.task_id + std::string(w - t.task_id.size(), ' ') + "  [" + t.operator_name + "]";
    if (!t.upstream.empty()) {
      line += " <- ";
      for (size_t u = 0; u < t.upstream.size(); ++u) line += (u ? ", " : "") + t.upstream[u];
      if (t.trigger_rule != TriggerRule::kAllSuccess) line += std::string(" (") + TriggerRuleName(t.trigger_rule) + ")";
    }
    out << line << "\n";
  }
  return Status::OK();
}

Status DagsNextExecution(CliContext& ctx, const std::string& dag_id, int n, const std::string& after,
                         OutputFormat format) {
  const Dag* dag;
  DWFS_RETURN_IF_ERROR(ctx.FindDag(dag_id, &dag));
  if (n < 1) return Status::InvalidArgument("-n must be at least 1");
  Instant from = ctx.clock().Now();
  if (!after.empty()) DWFS_RETURN_IF_ERROR(ctx.ParseDate(after, dag->timezone, &from).WithPrefix("--after"));
  if (dag->schedule.kind() == Schedule::Kind::kNone) {
    ctx.err() << "dwfs: DAG '" << dag_id << "' has no schedule (schedule: null); it runs only when triggered\n";
    return Status::OK();
  }
  std::vector<Instant> dates = dag->timetable().NextLogicalDates(from, n);
  Json records = Json::Array();
  for (Instant t : dates) {
    Json r = Json::Object();
    r.Set("logical_date", FormatIso(t, dag->timezone));
    records.Push(std::move(r));
  }
  PrintRecords(records, {"logical_date"}, format, ctx.out());
  return Status::OK();
}

void PrintTree(CliContext& ctx, const Dag& dag, int i, int depth, std::set<int>* on_path) {
  const Task& t = dag.tasks[size_t(i)];
  ctx.out() << std::string(size_t(depth) * 4, ' ') << "<Task(" << t.operator_name << "): " << t.task_id << ">\n";
  if (depth > 200 || !on_path->insert(i).second) return;
  for (int d : t.downstream_idx) PrintTree(ctx, dag, d, depth + 1, on_path);
  on_path->erase(i);
}

Status TasksList(CliContext& ctx, const std::string& dag_id, bool tree, OutputFormat format) {
  const Dag* dag;
  DWFS_RETURN_IF_ERROR(ctx.FindDag(dag_id, &dag));
  if (tree) {
    std::set<int> on_path;
    for (int i : dag->topo_order) {
      if (dag->tasks[size_t(i)].upstream_idx.empty()) PrintTree(ctx, *dag, i, 0, &on_path);
    }
    return Status::OK();
  }
  Json records = Json::Array();
  for (int i : dag->topo_order) {
    const Task& t = dag->tasks[size_t(i)];
    Json r = Json::Object();
    r.Set("task_id", t.task_id);
    r.Set("operator", t.operator_name);
    r.Set("upstream", Json::StringArray(t.upstream));
    r.Set("trigger_rule", TriggerRuleName(t.trigger_rule));
    records.Push(std::move(r));
  }
  PrintRecords(records, {"task_id", "operator", "upstream", "trigger_rule"}, format, ctx.out());
  return Status::OK();
}

}  // namespace

void AddDagsCommands(CLI::App* app, CliAction* action) {
  CLI::App* dags = app->add_subcommand("dags", "list, inspect and schedule DAGs");
  dags->require_subcommand(1);
  struct Opts {
    std::string dag_id, after;
    bool dot = false;
    int n = 1;
  };
  auto o = std::make_shared<Opts>();

  CLI::App* list = dags->add_subcommand("list", "dag_id, file, schedule, paused, next run, tags");
  auto list_format = AddOutputOption(list);
  list->final_callback([action, list_format] {
    *action = [list_format](CliContext& ctx) { return DagsList(ctx, *list_format); };
  });

  CLI::App* errors = dags->add_subcommand("list-import-errors", "file, line, message of each DAG file that fails");
  auto errors_format = AddOutputOption(errors);
  errors->final_callback([action, errors_format] {
    *action = [errors_format](CliContext& ctx) { return DagsListImportErrors(ctx, *errors_format); };
  });

  CLI::App* show = dags->add_subcommand("show", "the task graph as text, or --dot for Graphviz");
  show->add_option("DAG", o->dag_id, "dag_id")->required();
  show->add_flag("--dot", o->dot, "print Graphviz DOT");
  show->final_callback([action, o] { *action = [o](CliContext& ctx) { return DagsShow(ctx, o->dag_id, o->dot); }; });

  CLI::App* next = dags->add_subcommand("next-execution", "the next N logical dates after DATE (default now)");
  next->add_option("DAG", o->dag_id, "dag_id")->required();
  next->add_option("-n,--num-executions", o->n, "how many (default 1)");
  next->add_option("--after", o->after, "start after this date (default now)")->type_name("DATE");
  auto next_format = AddOutputOption(next, OutputFormat::kPlain);
  next->final_callback([action, o, next_format] {
    *action = [o, next_format](CliContext& ctx) {
      return DagsNextExecution(ctx, o->dag_id, o->n, o->after, *next_format);
    };
  });
}

void AddTasksCommands(CLI::App* app, CliAction* action) {
  CLI::App* tasks = app->add_subcommand("tasks", "inspect and run tasks");
  tasks->require_subcommand(1);
  struct Opts {
    std::string dag_id;
    bool tree = false;
  };
  auto o = std::make_shared<Opts>();
  CLI::App* list = tasks->add_subcommand("list", "the tasks of a DAG, in dependency order");
  list->add_option("DAG", o->dag_id, "dag_id")->required();
  list->add_flag("--tree", o->tree, "print the downstream tree");
  auto format = AddOutputOption(list);
  list->final_callback([action, o, format] {
    *action = [o, format](CliContext& ctx) { return TasksList(ctx, o->dag_id, o->tree, *format); };
  });
}

}  // namespace dwfs
