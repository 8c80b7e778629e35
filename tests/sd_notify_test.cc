// sd_notify: datagrams reach a real AF_UNIX socket (path and abstract), an
// unset NOTIFY_SOCKET is a no-op, and WATCHDOG_USEC/WATCHDOG_PID parsing.
#include "dwfs/sd_notify.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>
#include <string>

#include "test_util.h"

namespace dwfs {
namespace {

// A bound AF_UNIX datagram socket; `name` starting with '@' is abstract.
class Receiver {
 public:
  explicit Receiver(const std::string& name) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    EXPECT_GE(fd_, 0);
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::memcpy(sa.sun_path, name.data(), name.size());
    socklen_t len = socklen_t(offsetof(sockaddr_un, sun_path) + name.size());
    if (name[0] == '@') {
      sa.sun_path[0] = '\0';
    } else {
      len += 1;
    }
    bound_ = ::bind(fd_, reinterpret_cast<sockaddr*>(&sa), len) == 0;
    EXPECT_TRUE(bound_) << std::strerror(errno);
  }
  ~Receiver() {
    if (fd_ >= 0) ::close(fd_);
  }
  // The next datagram; the message was sent before this is called, so the
  // non-blocking receive finds it queued.
  std::string Receive() {
    char buf[4096];
    ssize_t n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
    if (n < 0) return "<nothing: " + std::string(std::strerror(errno)) + ">";
    return std::string(buf, size_t(n));
  }

 private:
  int fd_ = -1;
  bool bound_ = false;
};

TEST(SdNotifyTest, SendsToPathSocket) {
  TempDir dir;
  std::string path = dir.path() + "/notify.sock";
  Receiver r(path);
  ASSERT_TRUE(SdNotify({{"NOTIFY_SOCKET", path}}, "READY=1").ok());
  EXPECT_EQ(r.Receive(), "READY=1");
  Status st = SdNotify({{"NOTIFY_SOCKET", path}}, "STATUS=scheduling 3 dags\nWATCHDOG=1");
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(r.Receive(), "STATUS=scheduling 3 dags\nWATCHDOG=1");
}

TEST(SdNotifyTest, SendsToAbstractSocket) {
  std::string name = "@dwfs-sd-notify-test-" + std::to_string(getpid());
  Receiver r(name);
  Status st = SdNotify({{"NOTIFY_SOCKET", name}}, "STOPPING=1");
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(r.Receive(), "STOPPING=1");
}

TEST(SdNotifyTest, UnsetOrEmptySocketIsANoOp) {
  EXPECT_TRUE(SdNotify({}, "READY=1").ok());
  EXPECT_TRUE(SdNotify({{"HOME", "/root"}}, "READY=1").ok());
  EXPECT_TRUE(SdNotify({{"NOTIFY_SOCKET", ""}}, "READY=1").ok());
}

TEST(SdNotifyTest, BadOrDeadSocketIsAnError) {
  Status relative = SdNotify({{"NOTIFY_SOCKET", "relative.sock"}}, "READY=1");
  EXPECT_EQ(relative.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(relative.message().find("relative.sock"), std::string::npos);

  EXPECT_EQ(SdNotify({{"NOTIFY_SOCKET", "/" + std::string(200, 'x')}}, "READY=1").code(),
            Status::Code::kInvalidArgument);

  TempDir dir;
  std::string missing = dir.path() + "/nobody.sock";
  Status dead = SdNotify({{"NOTIFY_SOCKET", missing}}, "READY=1");
  EXPECT_EQ(dead.code(), Status::Code::kIOError);
  EXPECT_NE(dead.message().find(missing), std::string::npos) << dead.message();
}

TEST(SdNotifyTest, WatchdogInterval) {
  using std::chrono::microseconds;
  EXPECT_FALSE(WatchdogInterval({}).has_value());
  EXPECT_EQ(WatchdogInterval({{"WATCHDOG_USEC", "60000000"}}), microseconds(60000000));
  std::string me = std::to_string(getpid());
  EXPECT_EQ(WatchdogInterval({{"WATCHDOG_USEC", "30000000"}, {"WATCHDOG_PID", me}}),
            microseconds(30000000));
  // Inherited from another process: not ours.
  EXPECT_FALSE(WatchdogInterval({{"WATCHDOG_USEC", "30000000"},
                                 {"WATCHDOG_PID", std::to_string(getpid() + 1)}})
                   .has_value());
  EXPECT_FALSE(WatchdogInterval({{"WATCHDOG_USEC", "30000000"}, {"WATCHDOG_PID", "abc"}})
                   .has_value());
  for (const char* bad : {"", "0", "-5", "12x", " 12", "99999999999999999999999"}) {
    EXPECT_FALSE(WatchdogInterval({{"WATCHDOG_USEC", bad}}).has_value()) << bad;
  }
}

TEST(SdNotifyTest, ProcessEnvironmentSeesEnviron) {
  std::map<std::string, std::string> env = ProcessEnvironment();
  const char* path = std::getenv("PATH");
  if (path == nullptr) GTEST_SKIP() << "PATH is unset";
  EXPECT_EQ(env["PATH"], path);
}

}  // namespace
}  // namespace dwfs
