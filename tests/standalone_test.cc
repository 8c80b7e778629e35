// Process tests of `dwfs standalone`: the real binary (tests/dwfs_process.h) runs as
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
#include <regex>
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
#include "dwfs_process.h"
#include "http_test_client.h"
#include "test_database.h"
#include "test_util.h"

namespace dwfs {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr auto kDeadline = 180s;  // failure guard only (initdb, catchup runs)

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
    env["DWFS__API__PORT"] = "0";  // an ephemeral port: tests run side by side
    env["DWFS__SCHEDULER__GRACEFUL_SHUTDOWN_TIMEOUT"] = "5s";
    return env;
  }

  std::string LogPath() { return h_.tmp() + "/dwfs-" + std::to_string(runs_++) + ".log"; }

  // `dwfs standalone -n 1` to its end; its exit status and output.
  int RunOnce(std::string* output, std::map<std::string, std::string> env) {
    DwfsProcess d({"standalone", "-n", "1"}, env, LogPath());
    EXPECT_TRUE(d.started());
    int code = d.Wait(kDeadline);
    *output = d.Log();
    return code;
  }
  int RunOnce(std::string* output) { return RunOnce(output, Env()); }

  // Starts `dwfs standalone` (no -n) and waits for the scheduler's READY=1.
  std::unique_ptr<DwfsProcess> StartForever(NotifySocket& notify) {
    auto env = Env();
    env["NOTIFY_SOCKET"] = notify.path();
    auto d = std::make_unique<DwfsProcess>(std::vector<std::string>{"standalone"}, env, LogPath());
    EXPECT_TRUE(d->started());
    bool ready = WaitFor([&] { return notify.Received("READY=1") || d->Exited(); }, kDeadline);
    EXPECT_TRUE(ready && !d->Exited()) << "no READY=1 from dwfs standalone:\n" << d->Log();
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
  ASSERT_GT(pm, 0) << d->Log();
  EXPECT_TRUE(Alive(pm));
  d->Signal(SIGTERM);
  EXPECT_EQ(d->Wait(kDeadline), 0) << d->Log();
  std::string out = d->Log();
  EXPECT_NE(out.find("SIGTERM received"), std::string::npos) << out;
  // The scheduler stopped first, then the server.
  EXPECT_LT(out.find("scheduler 1 stopped"), out.find("stopping PostgreSQL on " + h_.data_dir())) << out;
  EXPECT_TRUE(ServerStopped()) << out;
  EXPECT_TRUE(Gone(pm));
}

// The API comes up with the scheduler, with a generated Admin whose
// password is only in a 0600 file, never in the output.
TEST_F(StandaloneTest, ServesTheApiWithAGeneratedAdmin) {
  DWFS_REQUIRE_POSTGRES_SERVER();
  NotifySocket notify(h_.tmp() + "/notify.sock");
  ASSERT_TRUE(notify.bound());
  auto d = StartForever(notify);
  std::string out = d->Log();
  std::smatch m;
  ASSERT_TRUE(std::regex_search(out, m, std::regex("  api: +http://127\\.0\\.0\\.1:([0-9]+)/api/v1 \\(user admin, "
                                                   "password in ([^)]+)\\)")))
      << out;
  uint16_t port = uint16_t(std::stoi(m[1]));
  std::string file = m[2];
  EXPECT_EQ(file, h_.home() + "/standalone_admin_password.txt");
  struct stat sb {};
  ASSERT_EQ(::stat(file.c_str(), &sb), 0);
  EXPECT_EQ(sb.st_mode & 0777, 0600u);
  std::string password = ReadFile(file);
  ASSERT_EQ(password.size(), 21u);  // 20 characters and a newline
  password.pop_back();
  EXPECT_EQ(out.find(password), std::string::npos) << "the password must not be printed";
  EXPECT_EQ(testing::Get(port, "/api/v1/dags").status, 401);
  testing::HttpResult dags = testing::Get(port, "/api/v1/dags", "admin", password);
  EXPECT_EQ(dags.status, 200) << dags.body;
  EXPECT_NE(dags.body.find("\"dag_id\":\"probe\""), std::string::npos) << dags.body;
  d->Signal(SIGTERM);
  EXPECT_EQ(d->Wait(kDeadline), 0) << d->Log();
  EXPECT_NE(testing::Get(port, "/api/v1/version").error, "") << "the API stops with standalone";
}

TEST_F(StandaloneTest, SecondStandaloneIsRefusedAndAKilledOnesServerIsAdoptedNextTime) {
  DWFS_REQUIRE_POSTGRES_SERVER();
  NotifySocket notify(h_.tmp() + "/notify.sock");
  ASSERT_TRUE(notify.bound());
  auto first = StartForever(notify);
  pid_t pm = PostmasterPid(h_.data_dir());
  ASSERT_GT(pm, 0) << first->Log();

  std::string out;
  EXPECT_EQ(RunOnce(&out), 1) << out;
  EXPECT_NE(out.find("another dwfs standalone (pid " + std::to_string(first->pid()) +
                     ") is using the PostgreSQL cluster in " + h_.data_dir()),
            std::string::npos)
      << out;
  EXPECT_TRUE(Alive(pm)) << "the refused standalone must leave the running server alone";

  // kill -9: nothing stops the server (it runs in a session of its own).
  first->Signal(SIGKILL);
  EXPECT_EQ(first->Wait(kDeadline), -1);
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
