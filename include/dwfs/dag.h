// Dag and Task: a loaded, validated DAG file (dag-files.md). Immutable once
// loaded; shared between threads as std::shared_ptr<const Dag>.
#ifndef DWFS_DAG_H_
#define DWFS_DAG_H_

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dwfs/json.h"
#include "dwfs/schedule.h"
#include "dwfs/status.h"
#include "dwfs/time_util.h"

namespace dwfs {

enum class TriggerRule {
  kAllSuccess,
  kAllFailed,
  kAllDone,
  kAllSkipped,
  kOneSuccess,
  kOneFailed,
  kOneDone,
  kNoneFailed,
  kNoneFailedMinOneSuccess,
  kNoneSkipped,
  kAlways,
};

// "all_success" ...
const char* TriggerRuleName(TriggerRule rule);
// False when `name` is not one of the spec's rules.
bool ParseTriggerRule(std::string_view name, TriggerRule* out);
// Every rule, in spec order.
const std::vector<TriggerRule>& AllTriggerRules();

// A callback run when a task fails for good.
struct Callback {
  std::string bash_command;
};

struct Task {
  std::string task_id;
  std::string operator_name = "bash";  // "bash" or "sql"
  std::string bash_command;            // bash
  std::string sql;                     // sql
  std::string conn_id;                 // sql
  std::vector<std::string> upstream;   // task ids, as written (deduplicated)
  TriggerRule trigger_rule = TriggerRule::kAllSuccess;
  int retries = 0;
  Seconds retry_delay{300};
  bool retry_exponential_backoff = false;
  std::optional<Seconds> max_retry_delay;
  std::optional<Seconds> execution_timeout;
  std::string pool = "default_pool";
  int pool_slots = 1;
  int priority_weight = 1;
  bool depends_on_past = false;
  std::map<std::string, std::string> env;  // default_args.env merged under task env
  std::optional<std::string> cwd;
  std::string owner;
  bool do_xcom_push = true;
  std::optional<Callback> on_failure_callback;
  std::string doc;
  int line = 0;  // 1-based line of the task entry in its file

  // Resolved by the loader: indices into Dag::tasks.
  std::vector<int> upstream_idx;
  std::vector<int> downstream_idx;
};

struct Dag {
  std::string dag_id;
  std::string description;
  std::string fileloc;  // path of the file as found in the dags folder
  Schedule schedule;
  std::optional<Instant> start_date;
  std::optional<Instant> end_date;
  TimeZone timezone;
  bool catchup = true;
  int max_active_runs = 16;
  int max_active_tasks = 16;
  bool is_paused_upon_creation = false;
  std::vector<std::string> tags;
  Json params = Json::Object();  // DAG params (an object)
  std::optional<Callback> on_failure_callback;
  std::string doc;
  std::vector<Task> tasks;       // in file order
  std::vector<int> topo_order;   // dependency order; ties broken by file order
  std::string source_hash;       // 16 hex digits, FNV-1a 64 of the file's bytes

  Timetable timetable() const { return Timetable(schedule, timezone, start_date, end_date); }
  // Index into tasks, or -1.
  int TaskIndex(std::string_view task_id) const;
  const Task* FindTask(std::string_view task_id) const {
    int i = TaskIndex(task_id);
    return i < 0 ? nullptr : &tasks[size_t(i)];
  }
  // "None" for no schedule, else the text as written.
  std::string ScheduleText() const { return schedule.kind() == Schedule::Kind::kNone ? "None" : schedule.text(); }
};

// The tasks a command works on (`tasks clear -t -u -d`, `dags backfill
// -t`): those whose task_id matches `regex` (std::regex ECMAScript, searched
// anywhere in the id, like Python's re.search; empty: every task), plus
// everything upstream and/or downstream of them. *out is indexed like
// dag.tasks. InvalidArgument quoting the pattern when it does not compile.
Status SelectTasks(const Dag& dag, const std::string& regex, bool upstream, bool downstream, std::vector<bool>* out);

}  // namespace dwfs

#endif  // DWFS_DAG_H_
