#include "dwfs/subprocess.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
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
  // The child's ends must block like ordinary stdout/stderr.
  fcntl(out_pipe[1], F_SETFL, fcntl(out_pipe[1], F_GETFL) & ~O_NONBLOCK);
  fcntl(err_pipe[1], F_SETFL, fcntl(err_pipe[1], F_GETFL) & ~O_NONBLOCK);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);  // only 0, 1, 2 are inherited
  if (!options.cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions, options.cwd.c_str());

  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  sigdelset(&all, SIGKILL);
  sigdelset(&all, SIGSTOP);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  std::vector<char*> argv;
  for (const std::string& a : options.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<std::string> env_strings;
  env_strings.reserve(options.env.size());
  for (const auto& [k, v] : options.env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (std::string& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);

  pid_t pid = -1;
  int rc = posix_spawn(&pid, argv[0], &actions, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  if (rc != 0) {
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    return Errno("cannot start " + options.argv[0], rc);
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
