// Helpers of the tests that run a private PostgreSQL cluster (LocalCluster,
// dwfs standalone): the skip rule, a DWFS_HOME under /tmp that the server's
// user can reach, the postmaster's pid and a wait for its end.
//
// Skip rule: the tests need initdb, pg_ctl and postgres (FindPostgresBinDir).
// When they are missing the tests skip with a message, unless running as
// root: CI runs the suite as root with PostgreSQL installed, so there a
// missing server is a failure, not a silent skip.
#ifndef DWFS_TESTS_LOCAL_CLUSTER_TEST_UTIL_H_
#define DWFS_TESTS_LOCAL_CLUSTER_TEST_UTIL_H_

#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>

#include "dwfs/local_cluster.h"
#include "test_util.h"

namespace dwfs {

// The environment the cluster's tools need: PATH and PG_BINDIR.
inline std::map<std::string, std::string> ClusterToolsEnv() {
  std::map<std::string, std::string> env;
  const char* path = std::getenv("PATH");
  env["PATH"] = path ? path : "/usr/local/bin:/usr/bin:/bin";
  if (const char* b = std::getenv("PG_BINDIR"); b && *b) env["PG_BINDIR"] = b;
  return env;
}

// Empty when the tests can run; else why they cannot.
inline std::string PostgresServerMissing() {
  std::string dir;
  Status st = FindPostgresBinDir(ClusterToolsEnv(), &dir);
  return st.ok() ? "" : st.message();
}

// The postmaster's pid from DATA/postmaster.pid, or -1 when there is none.
inline pid_t PostmasterPid(const std::string& data_dir) {
  std::ifstream in(data_dir + "/postmaster.pid");
  long pid = -1;
  if (!(in >> pid)) return -1;
  return pid_t(pid);
}

// Whether process `pid` is gone (or a zombie) within 60 s, polling: pg_ctl
// stop -w returns once the server removed postmaster.pid, which it does just
// before its process exits.
inline bool Gone(pid_t pid) {
  auto end = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (Alive(pid)) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

// A temporary folder (mode 0755, whatever the umask) with `home` inside it
// not created yet: a first start creates it. The destructor stops a server
// a failed test left running on home/pgdata, then removes everything.
class ClusterHome {
 public:
  ClusterHome() {
    ::chmod(tmp_.path().c_str(), 0755);
    home_ = tmp_.path() + "/home";
  }
  ~ClusterHome() {
    if (PostmasterPid(home_ + "/pgdata") > 0) {
      LocalClusterOptions o;
      o.home = home_;
      o.env = ClusterToolsEnv();
      LocalCluster c(o, nullptr);
      if (c.Init().ok() && c.Start().ok()) c.Stop();
    }
  }
  ClusterHome(const ClusterHome&) = delete;
  ClusterHome& operator=(const ClusterHome&) = delete;

  const std::string& tmp() const { return tmp_.path(); }
  const std::string& home() const { return home_; }
  std::string data_dir() const { return home_ + "/pgdata"; }
  LocalClusterOptions Options() const {
    LocalClusterOptions o;
    o.home = home_;
    o.env = ClusterToolsEnv();
    return o;
  }
  const TempDir& dir() const { return tmp_; }

 private:
  TempDir tmp_;
  std::string home_;
};

}  // namespace dwfs

// In a test: skip (or, as root, fail) without the PostgreSQL server binaries.
#define DWFS_REQUIRE_POSTGRES_SERVER()                                                      \
  do {                                                                                      \
    std::string _missing = ::dwfs::PostgresServerMissing();                                 \
    if (!_missing.empty()) {                                                                \
      if (::geteuid() != 0) {                                                               \
        GTEST_SKIP() << "no PostgreSQL server to run a private cluster with: " << _missing; \
      }                                                                                     \
      FAIL() << "running as root (as CI does) but " << _missing;                            \
    }                                                                                       \
  } while (false)

#endif  // DWFS_TESTS_LOCAL_CLUSTER_TEST_UTIL_H_
