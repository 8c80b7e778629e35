#include "dwfs/task_preparer.h"

#include "dwfs/template.h"
#include "log_file.h"

namespace dwfs {

namespace {

// Renders the bash command (or SQL), env values and cwd into `req`.
Status RenderFields(const Task& t, const TemplateScope& scope, TaskRequest* req, std::map<std::string, std::string>* env,
                    std::optional<std::string>* cwd) {
  const bool sql = t.operator_name == "sql";
  DWFS_RETURN_IF_ERROR(RenderTemplate(sql ? t.sql : t.bash_command, scope, sql ? "sql" : "bash_command", &req->command));
  for (const auto& [name, value] : t.env) {
    std::string rendered;
    DWFS_RETURN_IF_ERROR(RenderTemplate(value, scope, "env." + name, &rendered));
    (*env)[name] = rendered;
  }
  if (t.cwd) {
    std::string rendered;
    DWFS_RETURN_IF_ERROR(RenderTemplate(*t.cwd, scope, "cwd", &rendered));
    *cwd = rendered;
  }
  return Status::OK();
}

}  // namespace

std::map<std::string, std::string> BaseTaskEnvironment(const std::map<std::string, std::string>& process_env) {
  std::map<std::string, std::string> env;
  for (const auto& [k, v] : process_env) {
    if (k.rfind("DWFS__", 0) == 0 || k == "DWFS_DATABASE_URL" || k == "DWFS_TEST_DATABASE_URL") continue;
    env[k] = v;
  }
  if (!env.count("PATH")) env["PATH"] = "/usr/local/bin:/usr/bin:/bin";
  return env;
}

std::string TaskLogPath(const std::string& base_log_folder, const std::string& dag_id, const std::string& run_id,
                        const std::string& task_id, int try_number) {
  return base_log_folder + "/dag_id=" + dag_id + "/run_id=" + run_id + "/task_id=" + task_id +
         "/attempt=" + std::to_string(try_number) + ".log";
}

TemplateInputs StandardPreparer::Inputs(const RunPlan& plan, int task) const {
  TemplateInputs in;
  in.dag = &plan.dag();
  in.task = &plan.dag().tasks[size_t(task)];
  in.run = &plan.info();
  in.try_number = std::max(1, plan.instance(task).try_number);
  in.variables = options_.variables;
  in.env = &options_.base_env;
  in.connections = options_.connections;
  in.xcom = [&plan](std::string_view task_id) -> std::optional<std::string> {
    int i = plan.dag().TaskIndex(task_id);
    if (i < 0) return std::nullopt;
    return plan.instance(i).xcom;
  };
  return in;
}

Status StandardPreparer::Prepare(const RunPlan& plan, int task, TaskRequest* out) {
  const Task& t = plan.dag().tasks[size_t(task)];
  TemplateInputs in = Inputs(plan, task);
  StandardScope scope(in);
  TaskRequest req;
  req.label = plan.dag().dag_id + "." + t.task_id + " (" + plan.info().run_id + ", try " +
              std::to_string(in.try_number) + " of " + std::to_string(plan.instance(task).max_tries) + ")";
  req.log_path = TaskLogPath(options_.base_log_folder, plan.dag().dag_id, plan.info().run_id, t.task_id, in.try_number);
  Status st = [&]() -> Status {
    std::map<std::string, std::string> task_env;
    DWFS_RETURN_IF_ERROR(RenderFields(t, scope, &req, &task_env, &req.cwd));
    req.kind = t.operator_name == "sql" ? TaskRequest::Kind::kSql : TaskRequest::Kind::kBash;
    if (req.kind == TaskRequest::Kind::kSql) {
      Connection conn;
      DWFS_RETURN_IF_ERROR(options_.connections->Get(t.conn_id, &conn));
      req.conn_uri = conn.LibpqUri();
      if (!conn.password.empty()) req.secrets.push_back(conn.password);
    } else {
      req.env = options_.base_env;
      for (auto& [k, v] : task_env) req.env[k] = v;
      for (auto& [k, v] : TaskEnvironment(in)) req.env[k] = v;
    }
    return Status::OK();
  }();
  for (const std::string& s : scope.rendered_secrets()) req.secrets.push_back(s);
  if (!st.ok()) {
    // Nothing runs, but the try's log still says why it failed.
    LogFile log(req.log_path);
    log.Write(LogLine("dwfs: cannot run " + req.label + ": " + st.message(), req.secrets));
    return st;
  }
  req.timeout = t.execution_timeout;
  req.do_xcom_push = t.do_xcom_push;
  *out = std::move(req);
  return Status::OK();
}

Status StandardPreparer::Render(const RunPlan& plan, int task,
                                std::vector<std::pair<std::string, std::string>>* out) const {
  const Task& t = plan.dag().tasks[size_t(task)];
  StandardScope scope(Inputs(plan, task));
  TaskRequest req;
  std::map<std::string, std::string> env;
  std::optional<std::string> cwd;
  DWFS_RETURN_IF_ERROR(RenderFields(t, scope, &req, &env, &cwd));
  out->clear();
  out->emplace_back(t.operator_name == "sql" ? "sql" : "bash_command", req.command);
  for (const auto& [k, v] : env) out->emplace_back("env." + k, MaskAll(v, scope.rendered_secrets()));
  if (cwd) out->emplace_back("cwd", *cwd);
  out->front().second = MaskAll(out->front().second, scope.rendered_secrets());
  return Status::OK();
}

}  // namespace dwfs
