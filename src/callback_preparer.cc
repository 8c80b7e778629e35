// StandardPreparer::PrepareCallback and DefaultWebhookBody
// (task_preparer.h): callbacks rendered into a process request or a webhook.
#include "dwfs/json.h"
#include "dwfs/task_preparer.h"
#include "dwfs/template.h"
#include "log_file.h"

namespace dwfs {

namespace {

// A scope that adds a few names in front of another scope (`exception`).
class ExtraScope : public TemplateScope {
 public:
  ExtraScope(const TemplateScope& base, std::map<std::string, std::string> extra)
      : base_(base), extra_(std::move(extra)) {}
  std::optional<std::string> Lookup(std::string_view name) const override {
    auto it = extra_.find(std::string(name));
    if (it != extra_.end()) return it->second;
    return base_.Lookup(name);
  }
  std::optional<std::string> XcomPull(std::string_view task_id) const override { return base_.XcomPull(task_id); }
  Status Resolve(std::string_view name, std::optional<std::string>* out) const override {
    auto it = extra_.find(std::string(name));
    if (it != extra_.end()) {
      *out = it->second;
      return Status::OK();
    }
    return base_.Resolve(name, out);
  }

 private:
  const TemplateScope& base_;
  std::map<std::string, std::string> extra_;
};

// The state a callback reports: the task's, or the run's.
std::string EventState(const RunPlan& plan, CallbackEvent event, int task) {
  if (IsRunEvent(event)) return RunStateName(plan.state());
  return TaskStateName(plan.instance(task).state);
}

// Renders the webhook's url, header values and body into *out.
Status RenderWebhook(const WebhookSpec& spec, const TemplateScope& scope, const std::string& key,
                     const std::string& default_body, WebhookRequest* out) {
  DWFS_RETURN_IF_ERROR(RenderTemplate(spec.url, scope, key + ".webhook.url", &out->url));
  WebhookUrl parsed;
  DWFS_RETURN_IF_ERROR(ParseWebhookUrl(out->url, &parsed));
  for (const auto& [name, value] : spec.headers) {
    DWFS_RETURN_IF_ERROR(RenderTemplate(value, scope, key + ".webhook.headers." + name, &out->headers[name]));
  }
  if (spec.body) {
    DWFS_RETURN_IF_ERROR(RenderTemplate(*spec.body, scope, key + ".webhook.body", &out->body));
  } else {
    out->body = default_body;
  }
  out->method = spec.method;
  out->timeout = std::chrono::duration_cast<std::chrono::milliseconds>(spec.timeout);
  out->retries = spec.retries;
  return Status::OK();
}

}  // namespace

std::string DefaultWebhookBody(const RunPlan& plan, CallbackEvent event, int task, const std::string& reason,
                               const std::string& log_path) {
  const Dag& dag = plan.dag();
  std::string text;
  if (IsRunEvent(event)) {
    bool ok = event == CallbackEvent::kRunSuccess;
    text = std::string(ok ? ":white_check_mark:" : ":x:") + " dwfs: run " + plan.info().run_id + " of DAG " +
           dag.dag_id + (ok ? " succeeded" : " failed");
  } else {
    const TaskInstance& ti = plan.instance(task);
    std::string what = event == CallbackEvent::kTaskSuccess ? " succeeded"
                       : event == CallbackEvent::kTaskRetry ? " failed, will be retried"
                                                            : " failed";
    const char* icon = event == CallbackEvent::kTaskSuccess ? ":white_check_mark:"
                       : event == CallbackEvent::kTaskRetry ? ":warning:"
                                                            : ":x:";
    text = std::string(icon) + " dwfs: task " + dag.tasks[size_t(task)].task_id + " of DAG " + dag.dag_id + what +
           "\nrun: " + plan.info().run_id + "\ntry: " + std::to_string(std::max(1, ti.try_number)) + " of " +
           std::to_string(ti.max_tries);
  }
  if (IsRunEvent(event)) text += "\nrun: " + plan.info().run_id;
  text += "\nlogical date: " + FormatIso(plan.info().logical_date, dag.timezone);
  text += "\nstate: " + EventState(plan, event, task);
  if (!log_path.empty()) text += "\nlog: " + log_path;
  if (!reason.empty()) text += "\nreason: " + reason;
  Json body = Json::Object();
  body.Set("text", Json(text));
  return body.Dump();
}

bool StandardPreparer::PrepareCallback(const RunPlan& plan, CallbackEvent event, int task, const std::string& reason,
                                       PreparedCallback* out) {
  const Callback* cb = plan.dag().CallbackFor(event, task);
  if (!cb) return false;
  const bool run_event = IsRunEvent(event);
  const std::string key = CallbackKey(event);
  const Dag& dag = plan.dag();
  TemplateInputs in;
  if (run_event) {
    in.dag = &dag;
    in.run = &plan.info();
    in.variables = options_.variables;
    in.env = &options_.base_env;
    in.connections = options_.connections;
  } else {
    in = Inputs(plan, task);
  }
  std::string run_dir = options_.base_log_folder + "/dag_id=" + dag.dag_id + "/run_id=" + plan.info().run_id;
  std::string own_log = run_event ? run_dir + "/" + key + ".log"
                                  : run_dir + "/task_id=" + dag.tasks[size_t(task)].task_id + "/" + key + ".log";
  std::string try_log =
      run_event ? "" : TaskLogPath(options_.base_log_folder, dag.dag_id, plan.info().run_id, in.task->task_id, in.try_number);
  StandardScope base(in);
  std::string state = EventState(plan, event, task);
  ExtraScope scope(base, {{"exception", reason}, {"state", state}, {"log_path", try_log}});
  std::string label = dag.dag_id + (run_event ? "" : "." + in.task->task_id) + " " + key;

  PreparedCallback prepared;
  if (cb->webhook) {
    prepared.kind = PreparedCallback::Kind::kWebhook;
    WebhookRequest& w = prepared.webhook;
    w.label = label + " (" + plan.info().run_id + ")";
    Status st = RenderWebhook(*cb->webhook, scope, key, DefaultWebhookBody(plan, event, task, reason, try_log), &w);
    if (!st.ok()) {
      // The message names the field, never the rendered URL.
      LogFile log(own_log);
      log.Write(LogLine("dwfs: cannot send the " + key + " webhook: " + st.message(), base.rendered_secrets()));
      return false;
    }
    *out = std::move(prepared);
    return true;
  }
  TaskRequest& req = prepared.process;
  req.label = label;
  req.log_path = own_log;
  Status st = RenderTemplate(cb->bash_command, scope, key, &req.command);
  req.env = options_.base_env;
  if (!st.ok()) {
    req.env["DWFS_CALLBACK_ERROR"] = st.message();
    req.command = "echo \"dwfs: cannot render " + key + ": $DWFS_CALLBACK_ERROR\" >&2; exit 1";
  }
  for (auto& [k, v] : TaskEnvironment(in)) req.env[k] = v;
  req.env["DWFS_EXCEPTION"] = reason;
  req.env["DWFS_STATE"] = state;
  req.timeout = Seconds(300);
  req.do_xcom_push = false;
  req.secrets = base.rendered_secrets();
  *out = std::move(prepared);
  return true;
}

}  // namespace dwfs
