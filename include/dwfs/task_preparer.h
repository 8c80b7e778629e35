// StandardPreparer: the TaskPreparer of the real runs. Renders a task's
// fields (bash_command or sql, env values, cwd) with the spec's templates,
// builds its environment (base env + task env + DWFS_* variables), resolves
// its connection, and names its log file
// {base_log_folder}/dag_id=D/run_id=R/task_id=T/attempt=N.log.
#ifndef DWFS_TASK_PREPARER_H_
#define DWFS_TASK_PREPARER_H_

#include <map>
#include <string>

#include "dwfs/connection.h"
#include "dwfs/run_driver.h"
#include "dwfs/template.h"

namespace dwfs {

struct PreparerOptions {
  std::string base_log_folder;
  // The environment every bash task starts from (see BaseTaskEnvironment).
  std::map<std::string, std::string> base_env;
  // Required; must outlive the preparer.
  const ConnectionSource* connections = nullptr;
  // var.value.*; may be null.
  const std::map<std::string, std::string>* variables = nullptr;
};

// The process environment minus dwfs's own configuration and secrets
// (DWFS__*, DWFS_DATABASE_URL): what bash tasks inherit.
std::map<std::string, std::string> BaseTaskEnvironment(const std::map<std::string, std::string>& process_env);

// The log file of one try.
std::string TaskLogPath(const std::string& base_log_folder, const std::string& dag_id, const std::string& run_id,
                        const std::string& task_id, int try_number);

// The Slack incoming-webhook body of a callback without `body`: the JSON
// object {"text": message}, the message naming the event, DAG, task, run
// id, logical date, try, state, log path and reason.
std::string DefaultWebhookBody(const RunPlan& plan, CallbackEvent event, int task, const std::string& reason,
                               const std::string& log_path);

class StandardPreparer : public TaskPreparer {
 public:
  explicit StandardPreparer(PreparerOptions options) : options_(std::move(options)) {}

  Status Prepare(const RunPlan& plan, int task, TaskRequest* out) override;
  // Implemented in callback_preparer.cc. The callback Dag::CallbackFor
  // picks, rendered with the task's templates (run events: no task_id,
  // try_number 1) plus `exception` (the failure reason, "" on success),
  // `state` (the task's or run's state) and `log_path` (the try's log; ""
  // for runs). A bash callback is logged next to the task's tries as
  // <key>.log (on_failure_callback.log, ...; run callbacks in the run's
  // folder); a webhook's rendering error goes to that file too and nothing
  // is sent. A webhook without body gets DefaultWebhookBody.
  bool PrepareCallback(const RunPlan& plan, CallbackEvent event, int task, const std::string& reason,
                       PreparedCallback* out) override;

  // Renders every templated field of a task without running it (`tasks
  // render`): field name -> rendered text, in a stable order.
  Status Render(const RunPlan& plan, int task, std::vector<std::pair<std::string, std::string>>* out) const;

 private:
  TemplateInputs Inputs(const RunPlan& plan, int task) const;

  PreparerOptions options_;
};

}  // namespace dwfs

#endif  // DWFS_TASK_PREPARER_H_
