// TaskExecutor: how a task try runs (after ninja's CommandRunner). The run
// driver hands it fully rendered requests and hears back exactly once per
// request, on the executor's io_context thread, as soon as the try ends, so
// a finished task's downstream can start at once.
#ifndef DWFS_EXECUTOR_H_
#define DWFS_EXECUTOR_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dwfs/run_plan.h"
#include "dwfs/time_util.h"

namespace dwfs {

struct TaskRequest {
  uint64_t key = 0;   // the caller's handle, echoed in the result
  std::string label;  // "dag.task (run, try N)" for messages
  enum class Kind { kBash, kSql } kind = Kind::kBash;
  std::string command;  // bash: the rendered bash_command; sql: the rendered SQL
  std::string conn_uri;  // sql: libpq URI (a secret: never logged)
  std::map<std::string, std::string> env;  // bash: the complete environment
  std::optional<std::string> cwd;          // bash: none = a fresh temp dir, removed afterwards
  std::optional<Seconds> timeout;          // execution_timeout
  std::string log_path;                    // the try's log file (appended; folders created)
  std::vector<std::string> secrets;        // replaced by *** in everything logged
  bool do_xcom_push = true;
  // Optional live copy of every log line (as written, with its timestamp).
  std::function<void(std::string_view line)> on_line;
  // Optional: called once the try's process runs (bash: the group leader's
  // pid, which is also the process group id), before any result.
  std::function<void(int pid)> on_start;
};

struct TaskResult {
  uint64_t key = 0;
  TaskOutcome outcome;
  int exit_code = -1;  // bash exit status; -1 if killed or not started
};

class TaskExecutor {
 public:
  using Callback = std::function<void(TaskResult)>;
  virtual ~TaskExecutor() = default;

  // Starts a try. `done` runs exactly once, on the io_context, also when the
  // try could not start (then with a failure naming why).
  virtual void Start(TaskRequest request, Callback done) = 0;
  // Stops every running try: SIGTERM to each process group (SQL: cancel)
  // now, SIGKILL after the grace period. Each reports a failure whose reason
  // is `reason`.
  virtual void TerminateAll(const std::string& reason) = 0;
  virtual size_t running() const = 0;
};

// Appends a secret-masked, timestamped line to a log (helpers shared by the
// bash and SQL runners). `line` may hold any bytes.
std::string LogLine(std::string_view text, const std::vector<std::string>& secrets);

// Replaces every occurrence of each non-empty secret in `text` with "***".
std::string MaskAll(std::string text, const std::vector<std::string>& secrets);

// The largest XCom value (spec: 64 KiB).
constexpr size_t kMaxXcomBytes = 64 * 1024;

}  // namespace dwfs

#endif  // DWFS_EXECUTOR_H_
