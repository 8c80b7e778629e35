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

class StandardPreparer : public TaskPreparer {
 public:
  explicit StandardPreparer(PreparerOptions options) : options_(std::move(options)) {}

  Status Prepare(const RunPlan& plan, int task, TaskRequest* out) override;
  // The task's on_failure_callback, else the DAG's; rendered with the same
  // templates plus `exception` (the failure reason). Logged next to the
  // task's tries as on_failure_callback.log.
  bool PrepareFailureCallback(const RunPlan& plan, int task, const std::string& reason, TaskRequest* out) override;

  // Renders every templated field of a task without running it (`tasks
  // render`): field name -> rendered text, in a stable order.
  Status Render(const RunPlan& plan, int task, std::vector<std::pair<std::string, std::string>>* out) const;

 private:
  TemplateInputs Inputs(const RunPlan& plan, int task) const;

  PreparerOptions options_;
};

}  // namespace dwfs

#endif  // DWFS_TASK_PREPARER_H_
