// LocalExecutor: runs bash tasks as local processes and SQL tasks on worker
// threads, all reporting on one Boost.Asio io_context.
//
// Bash: `/bin/bash -c <command>` in its own session and process group,
// stdin /dev/null, only fds 0-2 inherited, the request's environment, its cwd
// or a fresh temp dir (gone by the time the try is reported). stdout and
// stderr stream line by line, timestamped and secret-masked, to the try's log
// file; nothing is held whole in memory (lines over 1 MiB are split). A
// helper thread opens the log files, makes temp dirs in advance and deletes
// used ones (an untouched one is recycled under a new name instead), so
// that no file-system work sits between one task's exit and the start of
// the next. Exit 0 is success, 99 skipped, anything else
// failure. When bash exits, whatever is left of its group is killed; the
// try is reported once its log is complete and its group is gone.
// execution_timeout: SIGTERM to the group, SIGKILL after `kill_grace`,
// reported as a timeout.
//
// SQL: the rendered text runs in one transaction on a worker thread (one per
// running SQL try, so a hung query never blocks anything else); any error
// rolls everything back and fails the try with the server's message and
// SQLSTATE. execution_timeout sets statement_timeout and cancels the query on
// the server. The connection URI never reaches the log.
//
// Thread safety: every method must be called on the io_context's thread.
#ifndef DWFS_LOCAL_EXECUTOR_H_
#define DWFS_LOCAL_EXECUTOR_H_

#include <boost/asio/io_context.hpp>

#include <map>
#include <memory>

#include "dwfs/executor.h"

namespace dwfs {

struct LocalExecutorOptions {
  // Between SIGTERM and SIGKILL of a group (core.killed_task_cleanup_time).
  Seconds kill_grace{60};
  // After bash exits and its group is killed, how long to wait for the
  // output pipes to close (a daemon that left the group may hold them).
  Seconds drain_timeout{5};
  // Folder for temporary working directories.
  std::string temp_root = "/tmp";
};

class LocalExecutor : public TaskExecutor {
 public:
  LocalExecutor(boost::asio::io_context& io, LocalExecutorOptions options);
  // Kills the process groups of tries still running and waits for SQL
  // workers; their callbacks are not called.
  ~LocalExecutor() override;

  void Start(TaskRequest request, Callback done) override;
  void TerminateAll(const std::string& reason) override;
  size_t running() const override { return bash_.size() + sql_.size(); }

 private:
  class BashTry;
  class SqlTry;
  class FileChores;
  FileChores& chores();
  void StartBash(TaskRequest request, Callback done);
  void StartSql(TaskRequest request, Callback done);
  void TerminateSql(const std::string& reason);
  void AbandonSql();

  boost::asio::io_context& io_;
  LocalExecutorOptions options_;
  uint64_t next_id_ = 1;
  std::map<uint64_t, std::shared_ptr<BashTry>> bash_;
  std::map<uint64_t, std::shared_ptr<SqlTry>> sql_;
  std::unique_ptr<FileChores> chores_;  // made for the first bash try
};

}  // namespace dwfs

#endif  // DWFS_LOCAL_EXECUTOR_H_
