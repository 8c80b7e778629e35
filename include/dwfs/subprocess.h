// Subprocess: the OS layer for running one task command (after ninja's
// SubprocessSet). vfork + exec into a new session and process group (so the
// whole tree can be signalled with a negative pid), stdin from /dev/null,
// stdout and stderr to two pipes, every other descriptor closed in the child,
// signal dispositions reset to default and the signal mask cleared. Exit is
// observed through a pidfd, so no SIGCHLD handler is needed.
//
// Why vfork rather than posix_spawn: glibc's posix_spawn maps a fresh stack
// for the child and unmaps it after each spawn; in a multi-threaded process
// that munmap is a TLB shootdown (an inter-processor interrupt, costly in a
// VM) per task. vfork borrows the caller's stack: nothing to map or unmap.
// The child only makes async-signal-safe calls on data built before vfork.
#ifndef DWFS_SUBPROCESS_H_
#define DWFS_SUBPROCESS_H_

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "dwfs/status.h"

namespace dwfs {

struct SpawnOptions {
  std::vector<std::string> argv;           // argv[0] is the program path
  std::map<std::string, std::string> env;  // the complete environment
  std::string cwd;                         // must exist
};

// A spawned process. Owns its descriptors (closed in the destructor);
// movable, not copyable. Not thread-safe.
class Subprocess {
 public:
  Subprocess() = default;
  ~Subprocess();
  Subprocess(Subprocess&& o) noexcept;
  Subprocess& operator=(Subprocess&& o) noexcept;
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  // Starts the process. Fails (IOError with errno text) if the pipes or the
  // spawn fail; a program that cannot be executed is reported by spawn.
  static Status Spawn(const SpawnOptions& options, Subprocess* out);

  pid_t pid() const { return pid_; }
  // Read ends of the pipes (non-blocking, close-on-exec); -1 once released.
  int stdout_fd() const { return out_fd_; }
  int stderr_fd() const { return err_fd_; }
  // Readable once the process has exited (pidfd); -1 if unavailable.
  int exit_fd() const { return pid_fd_; }
  // Hands a descriptor's ownership to the caller (e.g. an Asio descriptor).
  int ReleaseStdout();
  int ReleaseStderr();
  int ReleaseExitFd();

  // Sends `sig` to the whole process group. Safe after the leader exited
  // (other group members may live on); no-op once reaped and the group is
  // empty. Returns whether the group had a member to signal (with sig 0:
  // whether anything of it is left, zombies not yet reaped included).
  bool SignalGroup(int sig) const;

  // Reaps the process without blocking (retrying on EINTR). Returns true
  // once it has exited; then exit_status() / term_signal() are valid.
  bool TryReap();
  bool reaped() const { return reaped_; }
  // Exit status, or -1 if killed by a signal.
  int exit_status() const { return exit_status_; }
  int term_signal() const { return term_signal_; }

 private:
  void CloseAll();

  pid_t pid_ = -1;
  int out_fd_ = -1;
  int err_fd_ = -1;
  int pid_fd_ = -1;
  bool reaped_ = false;
  int exit_status_ = -1;
  int term_signal_ = 0;
};

}  // namespace dwfs

#endif  // DWFS_SUBPROCESS_H_
