#include "dwfs/subprocess.h"

#include <fcntl.h>
#include <signal.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace dwfs {

namespace {

Status Errno(const std::string& what, int err) { return Status::IOError(what + ": " + std::strerror(err)); }

void CloseFd(int* fd) {
  if (*fd >= 0) {
    ::close(*fd);
    *fd = -1;
  }
}

// What the child does between vfork and exec, prepared by the parent: the
// child shares the parent's memory and may neither allocate nor touch
// anything else. It reports a failure through `error` (the parent reads it
// once the child has exec'd or exited).
struct ChildPlan {
  const char* path = nullptr;
  char* const* argv = nullptr;
  char* const* envp = nullptr;
  const char* cwd = nullptr;  // null: stay
  int out_fd = -1;
  int err_fd = -1;
  int max_fd = 65536;  // fallback bound when close_range is unavailable
  volatile int error = 0;
};

// The child after vfork: only async-signal-safe calls. Runs with every
// signal blocked (the parent blocked them before vfork).
[[noreturn]] void RunChild(ChildPlan* p) {
  // Every handler back to default (a caught signal must not run the
  // parent's handler in this shared memory; an ignored one must not stay
  // ignored in the task), before signals are unblocked.
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    struct sigaction cur {};
    if (::sigaction(sig, nullptr, &cur) == 0 && cur.sa_handler != SIG_DFL) ::sigaction(sig, &dfl, nullptr);
  }
  int null_fd = -1;
  if (::setsid() < 0 || (null_fd = ::open("/dev/null", O_RDONLY)) < 0 || (null_fd != 0 && ::dup2(null_fd, 0) < 0) ||
      ::dup2(p->out_fd, 1) < 0 || ::dup2(p->err_fd, 2) < 0) {
    p->error = errno;
    ::_exit(127);
  }
  // Only 0, 1 and 2 are inherited.
  if (::close_range(3, ~0U, 0) != 0) {
    for (int fd = 3; fd < p->max_fd; ++fd) ::close(fd);
  }
  if (p->cwd && ::chdir(p->cwd) != 0) {
    p->error = errno;
    ::_exit(127);
  }
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::execve(p->path, p->argv, p->envp);
  p->error = errno;
  ::_exit(127);
}

// Moves a descriptor that is one of 0, 1, 2 above them (close-on-exec).
void MoveAbove2(int* fd) {
  if (*fd > 2) return;
  int moved = fcntl(*fd, F_DUPFD_CLOEXEC, 3);
  if (moved < 0) return;
  ::close(*fd);
  *fd = moved;
}

}  // namespace

Subprocess::~Subprocess() { CloseAll(); }

Subprocess::Subprocess(Subprocess&& o) noexcept { *this = std::move(o); }

Subprocess& Subprocess::operator=(Subprocess&& o) noexcept {
  if (this != &o) {
    CloseAll();
    pid_ = std::exchange(o.pid_, -1);
    out_fd_ = std::exchange(o.out_fd_, -1);
    err_fd_ = std::exchange(o.err_fd_, -1);
    pid_fd_ = std::exchange(o.pid_fd_, -1);
    reaped_ = o.reaped_;
    exit_status_ = o.exit_status_;
    term_signal_ = o.term_signal_;
  }
  return *this;
}

void Subprocess::CloseAll() {
  CloseFd(&out_fd_);
  CloseFd(&err_fd_);
  CloseFd(&pid_fd_);
}

int Subprocess::ReleaseStdout() { return std::exchange(out_fd_, -1); }
int Subprocess::ReleaseStderr() { return std::exchange(err_fd_, -1); }
int Subprocess::ReleaseExitFd() { return std::exchange(pid_fd_, -1); }

Status Subprocess::Spawn(const SpawnOptions& options, Subprocess* out) {
  if (options.argv.empty()) return Status::InvalidArgument("empty command");
  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC | O_NONBLOCK) != 0) return Errno("pipe", errno);
  if (pipe2(err_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
    int e = errno;
    ::close(out_pipe[0]);
    ::close(out_pipe[1]);
    return Errno("pipe", e);
  }
  // The child's ends must block like ordinary stdout/stderr, and sit above
  // 0-2 (a parent started with a standard descriptor closed) so that setting
  // up 0, 1 and 2 in the child cannot clobber them.
  fcntl(out_pipe[1], F_SETFL, fcntl(out_pipe[1], F_GETFL) & ~O_NONBLOCK);
  fcntl(err_pipe[1], F_SETFL, fcntl(err_pipe[1], F_GETFL) & ~O_NONBLOCK);
  MoveAbove2(&out_pipe[1]);
  MoveAbove2(&err_pipe[1]);

  // Everything the child needs is built here: after vfork it may not allocate.
  std::vector<char*> argv;
  argv.reserve(options.argv.size() + 1);
  for (const std::string& a : options.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::string env_block;  // "k=v\0k=v\0...", one allocation
  size_t env_bytes = 0;
  for (const auto& [k, v] : options.env) env_bytes += k.size() + v.size() + 2;
  env_block.reserve(env_bytes);
  for (const auto& [k, v] : options.env) {
    env_block.append(k).push_back('=');
    env_block.append(v).push_back('\0');
  }
  std::vector<char*> envp;
  envp.reserve(options.env.size() + 1);
  for (size_t pos = 0; pos < env_block.size(); pos += std::strlen(env_block.data() + pos) + 1) {
    envp.push_back(env_block.data() + pos);
  }
  envp.push_back(nullptr);

  ChildPlan plan;
  plan.path = argv[0];
  plan.argv = argv.data();
  plan.envp = envp.data();
  plan.cwd = options.cwd.empty() ? nullptr : options.cwd.c_str();
  plan.out_fd = out_pipe[1];
  plan.err_fd = err_pipe[1];
  struct rlimit rl {};
  plan.max_fd = (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < 65536)
                    ? int(rl.rlim_cur)
                    : 65536;

  // No handler may run in the child while it shares our memory: block every
  // signal across the vfork (the child unblocks them just before exec).
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pid_t pid = ::vfork();
  if (pid == 0) RunChild(&plan);  // never returns
  int spawn_errno = pid < 0 ? errno : plan.error;
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  if (pid > 0 && spawn_errno != 0) {  // exec failed: the child exited with 127
    int status;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
  if (pid < 0 || spawn_errno != 0) {
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    return Errno("cannot start " + options.argv[0], spawn_errno);
  }
  Subprocess p;
  p.pid_ = pid;
  p.out_fd_ = out_pipe[0];
  p.err_fd_ = err_pipe[0];
  // Through syscall(): glibc 2.36's <sys/pidfd.h> lacks extern "C" for C++.
  p.pid_fd_ = int(::syscall(SYS_pidfd_open, pid, 0));
  if (p.pid_fd_ >= 0) fcntl(p.pid_fd_, F_SETFD, FD_CLOEXEC);
  *out = std::move(p);
  return Status::OK();
}

bool Subprocess::SignalGroup(int sig) const { return pid_ > 0 && ::kill(-pid_, sig) == 0; }

bool Subprocess::TryReap() {
  if (reaped_) return true;
  if (pid_ <= 0) return false;
  int status = 0;
  pid_t r;
  do {
    r = ::waitpid(pid_, &status, WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r == 0) return false;
  reaped_ = true;
  if (r < 0) {  // not our child any more (should not happen): treat as lost
    exit_status_ = -1;
    return true;
  }
  if (WIFEXITED(status)) {
    exit_status_ = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    exit_status_ = -1;
    term_signal_ = WTERMSIG(status);
  }
  return true;
}

}  // namespace dwfs
