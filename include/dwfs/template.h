// Templates: rendering `{{ name }}` in task fields before a run
// (dag-files.md, "Templates").
//
// The language is deliberately tiny, a subset of Jinja that renders the same
// under Airflow:
//   {{ name }}                     a dotted path: ds, params.region,
//                                  dag_run.conf.key, var.value.key,
//                                  conn.warehouse.host ([A-Za-z0-9_.-]+)
//   {{ ti.xcom_pull('task') }}     the XCom value of a task of the same run;
//                                  "task" or task_ids='task' also accepted
//   {{ '{{' }}                     a quoted string literal, output as is (the
//                                  way to write a literal "{{"); no escapes;
//                                  it may contain "}}"
// Whitespace (spaces, tabs, newlines) is optional around the expression.
// Everything outside `{{ ... }}` is copied verbatim: `{%`, `{#`, single braces
// and a lone `}}` are plain text. Anything else inside `{{ }}` (filters,
// operators) is an error, as are an unclosed `{{` and an unknown name.
//
// Rendering is a single left-to-right pass (linear in the input plus the
// output) and the output is capped at kMaxRenderedBytes.
#ifndef DWFS_TEMPLATE_H_
#define DWFS_TEMPLATE_H_

#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dwfs/connection.h"
#include "dwfs/dag.h"
#include "dwfs/run_plan.h"
#include "dwfs/status.h"

namespace dwfs {

// Largest rendered field.
constexpr size_t kMaxRenderedBytes = size_t(16) << 20;

// The values a render can see.
class TemplateScope {
 public:
  virtual ~TemplateScope() = default;
  // The value of the dotted name, or nullopt if the name is unknown.
  virtual std::optional<std::string> Lookup(std::string_view name) const = 0;
  // The XCom value pushed by `task_id` in this run, or nullopt if none.
  virtual std::optional<std::string> XcomPull(std::string_view task_id) const = 0;
  // What RenderTemplate calls. *out = nullopt for an unknown name; a non-OK
  // status for a name that is known but cannot be resolved (a connection that
  // is missing or does not parse). The default wraps Lookup().
  virtual Status Resolve(std::string_view name, std::optional<std::string>* out) const {
    *out = Lookup(name);
    return Status::OK();
  }
};

// Renders `text` into *out. `field` names the field being rendered
// ("bash_command", "env.TZ") for error messages, which are InvalidArgument
// (a failed Resolve keeps its own code, e.g. NotFound):
//   unknown template variable 'params.regoin' in bash_command
//   unclosed '{{' in bash_command (line 3)
//   unsupported template expression 'ds | upper' in bash_command (line 1)
//   empty '{{ }}' in bash_command (line 1)
//   cannot render 'conn.wh.host' in sql: connection 'wh' not found (...)
//   rendered bash_command exceeds 16 MiB
// A missing XCom (ti.xcom_pull of a task that pushed nothing) renders as the
// empty string. On error *out is unchanged.
Status RenderTemplate(std::string_view text, const TemplateScope& scope, std::string_view field, std::string* out);

// What the standard scope of one task try is built from. Every pointer must
// outlive the scope. `dag` and `run` are required; `task` may be null (then
// task_id is unknown), as may the optional sources.
struct TemplateInputs {
  const Dag* dag = nullptr;
  const Task* task = nullptr;
  const RunInfo* run = nullptr;
  int try_number = 1;
  // var.value.<key>: this map first, then env DWFS_VAR_<KEY> (see VariableEnvVar).
  const std::map<std::string, std::string>* variables = nullptr;
  const std::map<std::string, std::string>* env = nullptr;
  // conn.<id>.host|port|login|password|schema|uri.
  const ConnectionSource* connections = nullptr;
  // ti.xcom_pull('<task_id>'); unset means no XCom values.
  std::function<std::optional<std::string>(std::string_view task_id)> xcom;
};

// The environment variable a variable falls back to: "DWFS_VAR_" + the key
// upper-cased with every character other than [A-Za-z0-9_] replaced by '_'.
std::string VariableEnvVar(std::string_view key);

// The spec's variables for one task try. Dates are in the DAG's timezone:
//   ds, ds_nodash, ts, ts_nodash, logical_date, execution_date (= ts),
//   data_interval_start, data_interval_end (ISO-8601 with offset),
//   prev_ds, next_ds (the logical dates before and after this one on the
//     DAG's timetable; "None" for unscheduled DAGs or when there is none),
//   yesterday_ds, tomorrow_ds (ds -/+ one calendar day),
//   dag_id, task_id, run_id, try_number,
//   params[.<key>...]          DAG params updated with the run's conf (a conf
//                              key replaces the param of that name and keys
//                              only in conf are added, as in Airflow); nested
//                              objects and arrays are indexed by further
//                              segments (params.list.0); `params` alone is the
//                              whole object as JSON,
//   dag_run.conf[.<key>...]    the run's conf,
//   var.value.<key>            (the key is everything after "var.value."),
//   conn.<id>.<field>          host, port ("" if absent), login, password,
//                              schema, uri (as given), conn_type.
// JSON values render as: strings raw, null as "null", numbers and booleans
// as JSON text ("3", "true"), objects and arrays as compact JSON.
//
// Not thread-safe: rendering records secrets (see rendered_secrets()).
class StandardScope : public TemplateScope {
 public:
  explicit StandardScope(TemplateInputs in);

  // nullopt also when a connection cannot be resolved (Resolve says why).
  std::optional<std::string> Lookup(std::string_view name) const override;
  std::optional<std::string> XcomPull(std::string_view task_id) const override;
  Status Resolve(std::string_view name, std::optional<std::string>* out) const override;

  // Every secret this scope has handed out so far, without duplicates, in
  // first-use order: the password of each connection whose password or uri
  // was rendered (decoded, and as written in the URI when that differs), and
  // the value of a "password" query parameter of such a URI. For masking
  // rendered text in logs.
  const std::vector<std::string>& rendered_secrets() const { return secrets_; }

 private:
  Status ResolveConn(std::string_view rest, std::optional<std::string>* out) const;
  void RecordSecret(const std::string& s) const;

  TemplateInputs in_;
  std::map<std::string, std::string> fixed_;         // ds, ts, dag_id...
  Json params_ = Json::Object();                     // DAG params with the conf applied
  Json conf_ = Json::Object();                       // the run's conf
  mutable std::map<std::string, Connection> conns_;  // connections resolved so far
  mutable std::vector<std::string> secrets_;
};

// The DWFS_* environment of a bash task try, the same values as the
// templates: DWFS_DS, DWFS_TS, DWFS_LOGICAL_DATE (= DWFS_TS), DWFS_DAG_ID,
// DWFS_TASK_ID, DWFS_RUN_ID, DWFS_TRY_NUMBER, DWFS_DATA_INTERVAL_START,
// DWFS_DATA_INTERVAL_END. Same requirements on `in` as StandardScope
// (DWFS_TASK_ID is omitted when in.task is null).
std::map<std::string, std::string> TaskEnvironment(const TemplateInputs& in);

}  // namespace dwfs

#endif  // DWFS_TEMPLATE_H_
