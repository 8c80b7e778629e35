// The real `dwfs` binary (built next to the test binary) as a child
// process, for process-level tests: its own process group, stdin from
// /dev/null, stdout and stderr to a log file, default signal dispositions.
// Waits poll a condition under a generous deadline that only guards
// against hanging (no timing assertions).
#ifndef DWFS_TESTS_DWFS_PROCESS_H_
#define DWFS_TESTS_DWFS_PROCESS_H_

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace dwfs {

inline std::string DwfsBinary() {
  return (std::filesystem::read_symlink("/proc/self/exe").parent_path() / "dwfs").string();
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Polls `cond` every 20 ms until it holds or `deadline` passes.
inline bool WaitFor(const std::function<bool()>& cond, std::chrono::seconds deadline = std::chrono::seconds(60)) {
  auto end = std::chrono::steady_clock::now() + deadline;
  while (!cond()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

// An AF_UNIX datagram socket bound at a path: what systemd listens on for
// $NOTIFY_SOCKET. Collects every datagram received.
class NotifySocket {
 public:
  explicit NotifySocket(const std::string& path) : path_(path) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
    ::unlink(path.c_str());
    bound_ = ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  ~NotifySocket() {
    ::close(fd_);
    ::unlink(path_.c_str());
  }
  bool bound() const { return bound_; }
  const std::string& path() const { return path_; }
  // Reads what has arrived; true when some datagram so far contains `line`.
  bool Received(const std::string& line) {
    char buf[4096];
    for (;;) {
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n < 0) break;
      messages_.emplace_back(buf, size_t(n));
    }
    for (const std::string& m : messages_) {
      std::istringstream in(m);
      std::string l;
      while (std::getline(in, l)) {
        if (l == line) return true;
      }
    }
    return false;
  }

 private:
  std::string path_;
  int fd_ = -1;
  bool bound_ = false;
  std::vector<std::string> messages_;
};

// Whether any process of group `pgid` runs (zombies waiting for their
// reaper do not count).
inline bool GroupAlive(pid_t pgid) {
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    std::ifstream in(entry.path() / "stat");
    std::string line;
    if (!std::getline(in, line)) continue;
    size_t close = line.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(line.substr(close + 2));
    char state = 0;
    long ppid = 0, pgrp = 0;
    if (rest >> state >> ppid >> pgrp && pgrp == pgid && state != 'Z') return true;
  }
  return false;
}

// `dwfs args...` with exactly `env`. The destructor SIGKILLs its process
// group (if still running) and reaps it. Task processes are in their own
// sessions: tests kill those.
class DwfsProcess {
 public:
  DwfsProcess(const std::vector<std::string>& args, const std::map<std::string, std::string>& env,
              const std::string& log_path)
      : log_path_(log_path) {
    std::vector<std::string> all = {DwfsBinary()};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<std::string> envs;
    for (const auto& [k, v] : env) envs.push_back(k + "=" + v);
    std::vector<char*> argv, envp;
    for (auto& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (auto& e : envs) envp.push_back(e.data());
    envp.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setpgroup(&attr, 0);
    sigset_t none, all_signals;
    sigemptyset(&none);
    sigfillset(&all_signals);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all_signals);
    pid_t pid = 0;
    if (posix_spawn(&pid, argv[0], &fa, &attr, argv.data(), envp.data()) == 0) pid_ = pid;
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
  }
  ~DwfsProcess() {
    if (pid_ > 0 && !exited_) {
      ::kill(-pid_, SIGKILL);
      int status;
      ::waitpid(pid_, &status, 0);
    }
  }
  DwfsProcess(const DwfsProcess&) = delete;
  DwfsProcess& operator=(const DwfsProcess&) = delete;

  pid_t pid() const { return pid_; }
  bool started() const { return pid_ > 0; }
  void Signal(int sig) const { ::kill(pid_, sig); }
  std::string Log() const { return ReadFile(log_path_); }
  // Waits (polling, under the failure-guard deadline) until the log has a
  // match of `pattern`; its groups ([0] the whole match), or empty when the
  // process exited first or the deadline passed.
  std::vector<std::string> WaitForLine(const std::string& pattern) {
    std::regex re(pattern);
    std::vector<std::string> groups;
    WaitFor([&] {
      std::string out = Log();
      std::smatch m;
      if (std::regex_search(out, m, re)) {
        for (const auto& g : m) groups.push_back(g.str());
        return true;
      }
      return Exited();
    });
    return groups;
  }
  // Non-blocking: whether the process has exited (reaping it once).
  bool Exited() {
    if (exited_ || pid_ <= 0) return true;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      exited_ = true;
      status_ = status;
    }
    return exited_;
  }
  // Waits (polling, under the failure-guard deadline) for the exit.
  bool WaitExit(std::chrono::seconds deadline = std::chrono::seconds(60)) {
    return WaitFor([&] { return Exited(); }, deadline);
  }
  // Waits for the exit; its exit code, or -1 (timeout, or killed by a signal).
  int Wait(std::chrono::seconds deadline = std::chrono::seconds(60)) {
    if (!WaitExit(deadline)) return -1;
    return exit_code();
  }
  int wait_status() const { return status_; }
  // The exit code, or -1 when it did not exit normally.
  int exit_code() const { return WIFEXITED(status_) ? WEXITSTATUS(status_) : -1; }

 private:
  std::string log_path_;
  pid_t pid_ = -1;
  bool exited_ = false;
  int status_ = 0;
};

}  // namespace dwfs

#endif  // DWFS_TESTS_DWFS_PROCESS_H_
