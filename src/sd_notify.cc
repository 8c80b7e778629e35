// sd_notify without libsystemd: one sendto() on a fresh AF_UNIX datagram socket.
#include "dwfs/sd_notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <cstddef>

extern char** environ;

namespace dwfs {

namespace {

// Closes a file descriptor at scope exit.
class FdCloser {
 public:
  explicit FdCloser(int fd) : fd_(fd) {}
  ~FdCloser() {
    if (fd_ >= 0) ::close(fd_);
  }
  FdCloser(const FdCloser&) = delete;
  FdCloser& operator=(const FdCloser&) = delete;

 private:
  int fd_;
};

// Parses a positive decimal integer without sign or trailing characters.
std::optional<uint64_t> ParsePositive(const std::string& s) {
  if (s.empty() || s.size() > 19) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + uint64_t(c - '0');
  }
  if (v == 0) return std::nullopt;
  return v;
}

}  // namespace

Status SdNotify(const std::map<std::string, std::string>& env, const std::string& state) {
  auto it = env.find("NOTIFY_SOCKET");
  if (it == env.end() || it->second.empty()) return Status::OK();
  const std::string& addr = it->second;
  if (addr[0] != '/' && addr[0] != '@') {
    return Status::InvalidArgument("NOTIFY_SOCKET '" + addr +
                                   "' is neither an absolute path nor an abstract '@name'");
  }
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  if (addr.size() >= sizeof(sa.sun_path)) {
    return Status::InvalidArgument("NOTIFY_SOCKET '" + addr + "' is longer than " +
                                   std::to_string(sizeof(sa.sun_path) - 1) + " bytes");
  }
  std::memcpy(sa.sun_path, addr.data(), addr.size());
  socklen_t len = socklen_t(offsetof(sockaddr_un, sun_path) + addr.size());
  if (addr[0] == '@') {
    sa.sun_path[0] = '\0';  // abstract namespace: no terminating NUL counted
  } else {
    len += 1;  // include the path's NUL
  }

  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    return Status::IOError("NOTIFY_SOCKET " + addr + ": socket: " + std::strerror(errno));
  }
  FdCloser closer(fd);
  ssize_t n;
  do {
    n = ::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL,
                 reinterpret_cast<const sockaddr*>(&sa), len);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    return Status::IOError("NOTIFY_SOCKET " + addr + ": send: " + std::strerror(errno));
  }
  if (size_t(n) != state.size()) {
    return Status::IOError("NOTIFY_SOCKET " + addr + ": short send");
  }
  return Status::OK();
}

std::optional<std::chrono::microseconds> WatchdogInterval(
    const std::map<std::string, std::string>& env) {
  auto usec = env.find("WATCHDOG_USEC");
  if (usec == env.end()) return std::nullopt;
  std::optional<uint64_t> us = ParsePositive(usec->second);
  if (!us) return std::nullopt;
  auto pid = env.find("WATCHDOG_PID");
  if (pid != env.end()) {
    std::optional<uint64_t> p = ParsePositive(pid->second);
    if (!p || *p != uint64_t(::getpid())) return std::nullopt;
  }
  return std::chrono::microseconds(int64_t(*us));
}

std::map<std::string, std::string> ProcessEnvironment() {
  std::map<std::string, std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    const char* eq = std::strchr(*e, '=');
    if (eq == nullptr) continue;
    env.emplace(std::string(*e, size_t(eq - *e)), std::string(eq + 1));
  }
  return env;
}

}  // namespace dwfs
