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

// A webhook callback: an HTTP(S) request sent asynchronously by the
// WebhookSender (webhook_sender.h). `url`, header values and `body` are
// templates rendered like bash_command callbacks.
struct WebhookSpec {
  std::string url;                            // http:// or https:// (checked at load unless templated)
  std::map<std::string, std::string> headers; // sent as given; values never logged
  std::optional<std::string> body;            // none: a Slack incoming-webhook body {"text": ...}
  std::string method = "POST";
  Seconds timeout{10};                        // per attempt
  int retries = 3;                            // attempts after the first
};

// A callback (on_failure_callback and the others): exactly one of a bash
// command (run as a process, logged next to the task's tries) or a webhook.
struct Callback {
  std::string bash_command;
  std::optional<WebhookSpec> webhook;
};

// When a callback fires (dag-files.md, "Callbacks").
enum class CallbackEvent {
  kTaskFailure,  // on_failure_callback: a task failed for good
  kTaskRetry,    // on_retry_callback: a try failed and the task will be retried
  kTaskSuccess,  // on_success_callback: a task succeeded
  kRunFailure,   // on_run_failure_callback: a run ended failed
  kRunSuccess,   // on_run_success_callback: a run ended succeeded
};
// The DAG file key of the event's callback ("on_failure_callback", ...).
const char* CallbackKey(CallbackEvent event);
bool IsRunEvent(CallbackEvent event);

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
  std::optional<Callback> on_retry_callback;
  std::optional<Callback> on_success_callback;
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
  // Task callbacks' defaults (a task's own, if set, wins).
  std::optional<Callback> on_failure_callback;
  std::optional<Callback> on_retry_callback;
  std::optional<Callback> on_success_callback;
  // Run callbacks: once when a run ends failed / succeeded.
  std::optional<Callback> on_run_failure_callback;
  std::optional<Callback> on_run_success_callback;
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
  // The one rule for which callback fires: for a task event, the task's own
  // callback, else the DAG's; for a run event (task ignored), the DAG's.
  // Null when there is none.
  const Callback* CallbackFor(CallbackEvent event, int task) const;
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
