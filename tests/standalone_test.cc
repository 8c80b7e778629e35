// Process tests of `dwfs standalone`: the real binary (DWFS_BINARY) runs as
// a child process from an empty DWFS_HOME under /tmp, with no database url,
// against a dags folder holding one small scheduled DAG with catchup. They
// check what an operator sees: the runs succeed and are kept in the private
// cluster, a second start reuses the cluster (no second initdb), every way
// of stopping (-n done, SIGTERM) stops the server too, a standalone killed
// with SIGKILL leaves a server that the next start adopts and stops, a
// second standalone on the same home is refused, and a configured url
// starts no cluster.
//
// No timing assertions: waits poll a condition (the process's exit, a
// datagram on $NOTIFY_SOCKET) under a generous deadline that only guards
// against hanging.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "dwfs/local_cluster.h"
#include "dwfs/store.h"
#include "dwfs/task_state.h"
#include "local_cluster_test_util.h"
#include "test_database.h"
#include "test_util.h"

namespace dwfs {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr auto kDeadline = 180s;  // failure guard only (initdb, catchup runs)

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool WaitFor(const std::function<bool()>& cond, std::chrono::seconds deadline = kDeadline) {
  auto end = std::chrono::steady_clock::now() + deadline;
  while (!cond()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

// An AF_UNIX datagram socket standing in for systemd's $NOTIFY_SOCKET: the
// scheduler sends READY=1 once its signal handlers are in place.
class NotifySocket {
 public:
  explicit NotifySocket(std::string path) : path_(std::move(path)) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, path_.c_str(), sizeof a.sun_path - 1);
    ::unlink(path_.c_str());
    bound_ = ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  ~NotifySocket() {
    ::close(fd_);
    ::unlink(path_.c_str());
  }
  bool bound() const { return bound_; }
  const std::string& path() const { return path_; }
  // Whether some datagram so far had the line `line`.
  bool Received(const std::string& line) {
    char buf[4096];
    for (ssize_t n; (n = ::recv(fd_, buf, sizeof buf, 0)) >= 0;) received_.append(buf, size_t(n)).push_back('\n');
    std::istringstream in(received_);
    for (std::string l; std::getline(in, l);) {
      if (l == line) return true;
    }
    return false;
  }

 private:
  std::string path_;
  int fd_ = -1;
  bool bound_ = false;
  std::string received_;
};

// `dwfs ARGS...` as a child in its own process group, stdout and stderr to
// a file. The destructor SIGKILLs the group if it still runs (the server,
// in a session of its own, is ClusterHome's to stop).
class Dwfs {
 public:
  Dwfs(const std::vector<std::string>& args, const std::map<std::string, std::string>& env, std::string log)
      : log_(std::move(log)) {
    std::vector<std::string> argv_s = {DWFS_BINARY};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<std::string> env_s;
    for (const auto& [k, v] : env) env_s.push_back(k + "=" + v);
    std::vector<char*> argv, envp;
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (auto& e : env_s) envp.push_back(e.data());
    envp.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setpgroup(&attr, 0);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    pid_t pid = 0;
    if (posix_spawn(&pid, argv[0], &fa, &attr, argv.data(), envp.data()) == 0) pid_ = pid;
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
  }
  ~Dwfs() {
    if (pid_ > 0 && !exited_) {
      ::kill(-pid_, SIGKILL);
      int status;
      ::waitpid(pid_, &status, 0);
    }
  }
  Dwfs(const Dwfs&) = delete;
  Dwfs& operator=(const Dwfs&) = delete;

  bool started() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  void Signal(int sig) const { ::kill(pid_, sig); }
  std::string Output() const { return ReadAll(log_); }
  bool Exited() {
    if (exited_ || pid_ <= 0) return true;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      exited_ = true;
      status_ = status;
    }
    return exited_;
  }
  // Waits for the exit; its exit status, or -1 (timeout, or killed).
  int Wait() {
    if (!WaitFor([&] { return Exited(); })) return -1;
    return WIFEXITED(status_) ? WEXITSTATUS(status_) : -1;
  }

 private:
  std::string log_;
  pid_t pid_ = -1;
  bool exited_ = false;
  int status_ = 0;
};

// YYYY-MM-DD of `days_ago` days before today (UTC).
std::string DaysAgo(int days_ago) {
  std::time_t t = std::time(nullptr) - std::time_t(days_ago) * 86400;
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

class StandaloneTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(dags());
    // Daily since two days ago, with catchup: two runs of one bash task.
    std::ofstream(dags() + "/probe.yaml") << "dag_id: probe\n"
                                             "schedule: \"@daily\"\n"
                                             "start_date: " << DaysAgo(2) << "\n"
                                             "catchup: true\n"
                                             "tasks:\n"
                                             "  - task_id: hello\n"
                                             "    bash_command: echo hello for {{ ds }}\n";
  }

  std::string dags() const { return h_.tmp() + "/dags"; }

  // No database url: DWFS_HOME is all there is.
  std::map<std::string, std::string> Env() const {
    std::map<std::string, std::string> env = ClusterToolsEnv();
    env["HOME"] = h_.tmp();
    env["DWFS_HOME"] = h_.home();
    env["DWFS__CORE__DAGS_FOLDER"] = dags();
    env["DWFS__SCHEDULER__HEALTH_CHECK_PORT"] = "0";
    env["DWFS__SCHEDULER__GRACEFUL_SHUTDOWN_TIMEOUT"] = "5s";
    return env;
  }

  std::string LogPath() { return h_.tmp() + "/dwfs-" + std::to_string(runs_++) + ".log"; }

  // `dwfs standalone -n 1` to its end; its exit status and output.
  int RunOnce(std::string* output, std::map<std::string, std::string> env) {
    Dwfs d({"standalone", "-n", "1"}, env, LogPath());
    EXPECT_TRUE(d.started());
    int code = d.Wait();
    *output = d.Output();
    return code;
  }
  int RunOnce(std::string* output) { return RunOnce(output, Env()); }

  // Starts `dwfs standalone` (no -n) and waits for the scheduler's READY=1.
  std::unique_ptr<Dwfs> StartForever(NotifySocket& notify) {
    auto env = Env();
    env["NOTIFY_SOCKET"] = notify.path();
    auto d = std::make_unique<Dwfs>(std::vector<std::string>{"standalone"}, env, LogPath());
    EXPECT_TRUE(d->started());
    bool ready = WaitFor([&] { return notify.Received("READY=1") || d->Exited(); });
    EXPECT_TRUE(ready && !d->Exited()) << "no READY=1 from dwfs standalone:\n" << d->Output();
    return d;
  }

  // The runs of DAG probe in the private cluster (started for the look and
  // stopped again); their run ids, each checked to have succeeded.
  std::vector<std::string> SucceededProbeRuns() {
    std::vector<std::string> ids;
    LocalCluster c(h_.Options(), nullptr);
    Status st = c.Init();
    EXPECT_TRUE(st.ok()) << st.message();
    if (st.ok()) st = c.Start();
    EXPECT_TRUE(st.ok()) << st.message();
    if (!st.ok()) return ids;
    {
      std::unique_ptr<Store> store;
      st = Store::Open(c.Url("dwfs"), &store);
      EXPECT_TRUE(st.ok()) << st.message();
      if (!st.ok()) return ids;
      std::vector<RunRecord> runs;
      EXPECT_TRUE(store->ListRuns("probe", std::nullopt, &runs).ok());
      for (const RunRecord& r : runs) {
        EXPECT_EQ(r.state, RunState::kSuccess) << r.info.run_id;
        std::vector<TaskInstanceRecord> tis;
        EXPECT_TRUE(store->ListTaskInstances("probe", r.info.run_id, &tis).ok());
        EXPECT_EQ(tis.size(), 1u);
        for (const TaskInstanceRecord& ti : tis) EXPECT_EQ(ti.ti.state, TaskState::kSuccess) << r.info.run_id;
        ids.push_back(r.info.run_id);
      }
    }
    st = c.Stop();
    EXPECT_TRUE(st.ok()) << st.message();
    return ids;
  }

  bool ServerStopped() const { return !fs::exists(h_.data_dir() + "/postmaster.pid"); }

  ClusterHome h_;
  int runs_ = 0;
};

struct FileId {
  ino_t ino = 0;
  long sec = 0, nsec = 0;
  bool operator==(const FileId& o) const { return ino == o.ino && sec == o.sec && nsec == o.nsec; }
};

FileId Identify(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return {};
  return {st.st_ino, long(st.st_mtim.tv_sec), long(st.st_mtim.tv_nsec)};
}

TEST_F(StandaloneTest, FirstStartCreatesTheClusterAndRunsTheDagASecondStartReusesIt) {
  DWFS_REQUIRE_POSTGRES_SERVER();
  ASSERT_FALSE(fs::exists(h_.home()));
  std::string out;
  ASSERT_EQ(RunOnce(&out), 0) << out;
  // Where everything is, before the scheduler starts.
  EXPECT_NE(out.find("  dags folder: " + dags() + "\n"), std::string::npos) << out;
  EXPECT_NE(out.find("  logs:        " + h_.home() + "/logs\n"), std::string::npos) << out;
  EXPECT_NE(out.find("  database:    postgresql://postgres@/dwfs?host=" + h_.home() + "/run&port=5432\n"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("  cluster:     " + h_.data_dir() + " (PostgreSQL "), std::string::npos) << out;
  EXPECT_NE(out.find("created now"), std::string::npos) << out;
  EXPECT_NE(out.find("  connections: dwfs_metadata -> database dwfs, warehouse -> database warehouse"),
            std::string::npos)
      << out;
  EXPECT_LT(out.find("  database:"), out.find("scheduler 1 started")) << out;
  // The server went with the scheduler.
  EXPECT_TRUE(ServerStopped()) << out;
  FileId created = Identify(h_.data_dir() + "/PG_VERSION");
  ASSERT_NE(created.ino, 0u);

  std::vector<std::string> first = SucceededProbeRuns();
  EXPECT_EQ(first.size(), 2u);

  ASSERT_EQ(RunOnce(&out), 0) << out;
  EXPECT_NE(out.find(h_.data_dir() + " (PostgreSQL "), std::string::npos) << out;
  EXPECT_NE(out.find(", reused, run by "), std::string::npos) << out;
  EXPECT_EQ(out.find("initdb"), std::string::npos) << out;
  EXPECT_TRUE(Identify(h_.data_dir() + "/PG_VERSION") == created) << "PG_VERSION changed: initdb ran again";
  EXPECT_TRUE(ServerStopped()) << out;
  std::vector<std::string> second = SucceededProbeRuns();
  for (const std::string& id : first) {
    EXPECT_NE(std::find(second.begin(), second.end(), id), second.end()) << "run " << id << " is gone";
  }
}

TEST_F(StandaloneTest, SigtermStopsTheSchedulerThenTheCluster) {
  DWFS_REQUIRE_POSTGRES_SERVER();
  NotifySocket notify(h_.tmp() + "/notify.sock");
  ASSERT_TRUE(notify.bound());
  auto d = StartForever(notify);
  pid_t pm = PostmasterPid(h_.data_dir());
  ASSERT_GT(pm, 0) << d->Output();
  EXPECT_TRUE(Alive(pm));
  d->Signal(SIGTERM);
  EXPECT_EQ(d->Wait(), 0) << d->Output();
  std::string out = d->Output();
  EXPECT_NE(out.find("SIGTERM received"), std::string::npos) << out;
  // The scheduler stopped first, then the server.
  EXPECT_LT(out.find("scheduler 1 stopped"), out.find("stopping PostgreSQL on " + h_.data_dir())) << out;
  EXPECT_TRUE(ServerStopped()) << out;
  EXPECT_TRUE(Gone(pm));
}

TEST_F(StandaloneTest, SecondStandaloneIsRefusedAndAKilledOnesServerIsAdoptedNextTime) {
  DWFS_REQUIRE_POSTGRES_SERVER();
  NotifySocket notify(h_.tmp() + "/notify.sock");
  ASSERT_TRUE(notify.bound());
  auto first = StartForever(notify);
  pid_t pm = PostmasterPid(h_.data_dir());
  ASSERT_GT(pm, 0) << first->Output();

  std::string out;
  EXPECT_EQ(RunOnce(&out), 1) << out;
  EXPECT_NE(out.find("another dwfs standalone (pid " + std::to_string(first->pid()) +
                     ") is using the PostgreSQL cluster in " + h_.data_dir()),
            std::string::npos)
      << out;
  EXPECT_TRUE(Alive(pm)) << "the refused standalone must leave the running server alone";

  // kill -9: nothing stops the server (it runs in a session of its own).
  first->Signal(SIGKILL);
  EXPECT_EQ(first->Wait(), -1);
  EXPECT_TRUE(Alive(pm));

  ASSERT_EQ(RunOnce(&out), 0) << out;
  EXPECT_NE(out.find("reused, was running"), std::string::npos) << out;
  EXPECT_TRUE(ServerStopped()) << out;
  EXPECT_TRUE(Gone(pm));
}

TEST_F(StandaloneTest, ConfiguredUrlStartsNoCluster) {
  TestDatabase db;
  DWFS_REQUIRE_DB(db);
  auto env = Env();
  env["DWFS_DATABASE_URL"] = db.url();
  std::string out;
  ASSERT_EQ(RunOnce(&out, env), 0) << out;
  EXPECT_NE(out.find("  database:    " + db.url() + "\n"), std::string::npos) << out;
  EXPECT_EQ(out.find("  cluster:"), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(h_.data_dir()));
  std::unique_ptr<Store> store = db.OpenStore();
  ASSERT_NE(store, nullptr);
  std::vector<RunRecord> runs;
  ASSERT_TRUE(store->ListRuns("probe", std::nullopt, &runs).ok());
  EXPECT_EQ(runs.size(), 2u);
  for (const RunRecord& r : runs) EXPECT_EQ(r.state, RunState::kSuccess) << r.info.run_id;
}

}  // namespace
}  // namespace dwfs
