// Process-level tests of `dwfs scheduler`: the real binary (built next to
// this test binary) runs as a child process in its own process group,
// against a private TestDatabase and a temporary dags folder, and is driven
// from outside as systemd and an operator would: $NOTIFY_SOCKET, GET
// /health, files dropped in the dags folder, SIGHUP, SIGTERM, kill -9 and a
// restart, dropped database connections.
//
// No timing assertions: every wait polls a condition (store rows, files,
// datagrams, the log) with a short pause, under a generous deadline that
// only guards against hanging.
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "dwfs/json.h"
#include "dwfs/migrations.h"
#include "dwfs/store.h"
#include "dwfs/task_state.h"
#include "dwfs_process.h"
#include "test_database.h"
#include "test_util.h"

extern char** environ;

namespace dwfs {
namespace {

using namespace std::chrono_literals;

// A TCP port free at the time of the call (bound to 0, then released).
int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  ::close(fd);
  return port;
}

// GET `path` on 127.0.0.1:`port` over a plain socket (HTTP/1.1,
// Connection: close); the whole response, or "" when the connection fails.
std::string HttpGet(int port, const std::string& path) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(uint16_t(port));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return "";
  }
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string req = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) != ssize_t(req.size())) {
    ::close(fd);
    return "";
  }
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, size_t(n));
  }
  ::close(fd);
  return out;
}

// `dwfs scheduler` as a child process (tests/dwfs_process.h).
class SchedulerProcess : public DwfsProcess {
 public:
  SchedulerProcess(const std::map<std::string, std::string>& env, const std::string& log_path)
      : DwfsProcess({"scheduler"}, env, log_path) {}
};

// Kills a task's process group left behind by a failing test.
struct GroupReaper {
  std::vector<pid_t> pids;
  ~GroupReaper() {
    for (pid_t p : pids) {
      if (p > 0) ::kill(-p, SIGKILL);
    }
  }
};

// The shared setup: a database, a home with dags/ and logs/, a notify
// socket, a free health port, and the environment of a scheduler with short
// timings.
class SchedulerProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!db_.available()) return;
    std::filesystem::create_directories(dags());
    store_ = db_.OpenStore();
    port_ = FreePort();
    notify_ = std::make_unique<NotifySocket>(home_.path() + "/notify.sock");
  }

  std::string dags() const { return home_.path() + "/dags"; }

  std::map<std::string, std::string> Env() const {
    std::map<std::string, std::string> env;
    const char* path = std::getenv("PATH");
    env["PATH"] = path ? path : "/usr/bin:/bin";
    env["HOME"] = home_.path();
    env["DWFS_HOME"] = home_.path();
    env["DWFS_DATABASE_URL"] = db_.url();
    env["DWFS__CORE__DAGS_FOLDER"] = dags();
    env["DWFS__LOGGING__BASE_LOG_FOLDER"] = home_.path() + "/logs";
    env["DWFS__SCHEDULER__HEARTBEAT"] = "1s";
    env["DWFS__SCHEDULER__GRACEFUL_SHUTDOWN_TIMEOUT"] = "2s";
    env["DWFS__CORE__KILLED_TASK_CLEANUP_TIME"] = "2s";
    env["DWFS__SCHEDULER__HEALTH_CHECK_PORT"] = std::to_string(port_);
    env["NOTIFY_SOCKET"] = notify_->path();
    return env;
  }

  // Starts a scheduler and waits for its READY=1 (signal handlers are set
  // by then). The log goes to home/scheduler-<n>.log.
  std::unique_ptr<SchedulerProcess> Start(std::map<std::string, std::string> env) {
    std::string log = home_.path() + "/scheduler-" + std::to_string(started_++) + ".log";
    auto p = std::make_unique<SchedulerProcess>(env, log);
    EXPECT_TRUE(p->started()) << "cannot spawn " << DwfsBinary();
    bool ready = WaitFor([&] { return notify_->Received("READY=1") || p->Exited(); });
    EXPECT_TRUE(ready && !p->Exited()) << "no READY=1 from the scheduler; log:\n" << p->Log();
    return p;
  }
  std::unique_ptr<SchedulerProcess> Start() { return Start(Env()); }

  // Writes a DAG file atomically (a hidden temporary file renamed), so the
  // watcher never sees half a file.
  void WriteDag(const std::string& name, const std::string& text) {
    std::string tmp = dags() + "/." + name + ".tmp";
    std::ofstream(tmp, std::ios::binary) << text;
    std::filesystem::rename(tmp, dags() + "/" + name);
  }

  // An @once DAG whose task `first` touches `started`, then waits (up to a
  // minute, polling in bash) until `go` exists; `second` follows it.
  void WriteWaitingDag(const std::string& dag_id, const std::string& started, const std::string& go) {
    WriteDag(dag_id + ".yaml",
             "dag_id: " + dag_id + "\n"
             "schedule: \"@once\"\n"
             "start_date: 2026-01-01\n"
             "tasks:\n"
             "  - task_id: first\n"
             "    bash_command: |\n"
             "      touch " + started + "\n"
             "      for i in $(seq 600); do [ -e " + go + " ] && exit 0; sleep 0.1; done; exit 1\n"
             "  - task_id: second\n"
             "    upstream: [first]\n"
             "    bash_command: echo after the wait\n");
  }

  std::vector<TaskInstanceRecord> Instances(const std::string& dag_id, const std::string& run_id) {
    std::vector<TaskInstanceRecord> rows;
    store_->ListTaskInstances(dag_id, run_id, &rows);
    return rows;
  }
  // The only run of `dag_id`, once there is one.
  bool OnlyRun(const std::string& dag_id, RunRecord* out) {
    std::vector<RunRecord> runs;
    if (!store_->ListRuns(dag_id, std::nullopt, &runs).ok() || runs.size() != 1) return false;
    *out = runs[0];
    return true;
  }
  // The stored instance of `task_id` in the DAG's only run.
  bool Instance(const std::string& dag_id, const std::string& task_id, TaskInstanceRecord* out) {
    RunRecord run;
    if (!OnlyRun(dag_id, &run)) return false;
    for (const TaskInstanceRecord& r : Instances(dag_id, run.info.run_id)) {
      if (r.task_id == task_id) {
        *out = r;
        return true;
      }
    }
    return false;
  }

  TestDatabase db_;
  TempDir home_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<NotifySocket> notify_;
  int port_ = 0;
  int started_ = 0;
};

#define DWFS_REQUIRE_SETUP()                       \
  DWFS_REQUIRE_DB(db_);                            \
  ASSERT_NE(store_, nullptr);                      \
  ASSERT_TRUE(notify_->bound()) << notify_->path(); \
  ASSERT_GT(port_, 0)

TEST_F(SchedulerProcessTest, SendsReadyAndFeedsTheWatchdog) {
  DWFS_REQUIRE_SETUP();
  auto env = Env();
  env["WATCHDOG_USEC"] = "200000";
  auto s = Start(env);
  EXPECT_TRUE(notify_->Received("READY=1"));
  EXPECT_TRUE(WaitFor([&] { return notify_->Received("WATCHDOG=1") || s->Exited(); }) &&
              notify_->Received("WATCHDOG=1"))
      << s->Log();
  EXPECT_FALSE(s->Exited()) << s->Log();
  // And a clean stop still says STOPPING=1 and exits 0.
  s->Signal(SIGTERM);
  ASSERT_TRUE(s->WaitExit());
  EXPECT_TRUE(notify_->Received("STOPPING=1"));
  EXPECT_TRUE(WIFEXITED(s->wait_status()) && WEXITSTATUS(s->wait_status()) == 0) << s->Log();
}

TEST_F(SchedulerProcessTest, HealthEndpointReportsHealthy) {
  DWFS_REQUIRE_SETUP();
  auto s = Start();
  std::string response;
  ASSERT_TRUE(WaitFor([&] {
    response = HttpGet(port_, "/health");
    return response.rfind("HTTP/1.1 200", 0) == 0 || s->Exited();
  })) << response;
  EXPECT_EQ(response.rfind("HTTP/1.1 200", 0), 0u) << response << "\nlog:\n" << s->Log();
  size_t body = response.find("\r\n\r\n");
  ASSERT_NE(body, std::string::npos) << response;
  Json j;
  Status st = ParseJson(response.substr(body + 4), /*require_object=*/true, &j);
  ASSERT_TRUE(st.ok()) << st.message() << ": " << response;
  auto field = [&](const char* part, const char* key) -> std::string {
    const Json* p = j.Find(part);
    const Json* v = p ? p->Find(key) : nullptr;
    return v ? (v->is_null() ? "null" : v->str()) : "(missing)";
  };
  EXPECT_EQ(field("metadatabase", "status"), "healthy") << response;
  EXPECT_EQ(field("scheduler", "status"), "healthy") << response;
  EXPECT_NE(field("scheduler", "latest_scheduler_heartbeat"), "null") << response;
  EXPECT_NE(field("scheduler", "latest_scheduler_heartbeat"), "(missing)") << response;
  EXPECT_EQ(HttpGet(port_, "/nothing").rfind("HTTP/1.1 404", 0), 0u);
}

TEST_F(SchedulerProcessTest, NewDagFileIsStoredAndRun) {
  DWFS_REQUIRE_SETUP();
  auto s = Start();
  DagRecord missing;
  EXPECT_EQ(store_->GetDag("dropped", &missing).code(), Status::Code::kNotFound);
  WriteDag("dropped.yaml",
           "dag_id: dropped\n"
           "schedule: \"@once\"\n"
           "start_date: 2026-01-01\n"
           "tasks:\n"
           "  - task_id: hello\n"
           "    bash_command: echo hello from {{ dag_id }}\n");
  DagRecord dag;
  ASSERT_TRUE(WaitFor([&] { return store_->GetDag("dropped", &dag).ok() || s->Exited(); }) && !s->Exited())
      << s->Log();
  EXPECT_EQ(dag.fileloc, dags() + "/dropped.yaml");
  EXPECT_TRUE(dag.is_active);
  RunRecord run;
  ASSERT_TRUE(WaitFor([&] { return (OnlyRun("dropped", &run) && run.state == RunState::kSuccess) || s->Exited(); }))
      << s->Log();
  EXPECT_EQ(run.state, RunState::kSuccess) << s->Log();
  EXPECT_EQ(run.info.run_id.rfind("scheduled__2026-01-01", 0), 0u) << run.info.run_id;
  TaskInstanceRecord ti;
  ASSERT_TRUE(Instance("dropped", "hello", &ti));
  EXPECT_EQ(ti.ti.state, TaskState::kSuccess);
  EXPECT_EQ(ti.ti.try_number, 1);
}

// A trigger from another process (here: the test's own store connection)
// reaches the scheduler through LISTEN/NOTIFY: with a heartbeat of an hour,
// nothing else could wake it, yet the run starts and finishes.
TEST_F(SchedulerProcessTest, TriggerFromAnotherProcessWakesTheScheduler) {
  DWFS_REQUIRE_SETUP();
  WriteDag("manual.yaml",
           "dag_id: manual\n"
           "schedule: null\n"
           "start_date: 2026-01-01\n"
           "tasks:\n"
           "  - task_id: hello\n"
           "    bash_command: echo hello\n");
  std::map<std::string, std::string> env = Env();
  env["DWFS__SCHEDULER__HEARTBEAT"] = "1h";
  auto s = Start(env);
  DagRecord dag;
  ASSERT_TRUE(WaitFor([&] { return store_->GetDag("manual", &dag).ok() || s->Exited(); }) && !s->Exited())
      << s->Log();
  RunInfo info;
  info.type = RunType::kManual;
  info.logical_date = Instant(std::chrono::seconds(1767225600));  // 2026-01-01
  info.data_interval = {info.logical_date, info.logical_date};
  info.run_id = "manual__wake";
  ASSERT_TRUE(store_->CreateRun("manual", info, RunState::kQueued, info.logical_date, std::nullopt).ok());
  RunRecord run;
  ASSERT_TRUE(WaitFor([&] { return (OnlyRun("manual", &run) && run.state == RunState::kSuccess) || s->Exited(); }))
      << s->Log();
  EXPECT_EQ(run.info.run_id, "manual__wake");
  TaskInstanceRecord ti;
  ASSERT_TRUE(Instance("manual", "hello", &ti));
  EXPECT_EQ(ti.ti.state, TaskState::kSuccess);
}

TEST_F(SchedulerProcessTest, SighupReloadsTheConfiguration) {
  DWFS_REQUIRE_SETUP();
  auto s = Start();
  s->Signal(SIGHUP);
  ASSERT_TRUE(WaitFor([&] { return s->Log().find("configuration reloaded") != std::string::npos || s->Exited(); }));
  EXPECT_FALSE(s->Exited()) << s->Log();
  EXPECT_NE(s->Log().find("configuration reloaded"), std::string::npos) << s->Log();
  // Still serving after the reload.
  std::vector<SchedulerRecord> all;
  ASSERT_TRUE(store_->ListSchedulers(&all).ok());
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].state, "running");
  EXPECT_EQ(all[0].pid, s->pid());
}

TEST_F(SchedulerProcessTest, SigtermRequeuesRunningTasksAfterTheGrace) {
  DWFS_REQUIRE_SETUP();
  WriteDag("slow.yaml",
           "dag_id: slow\n"
           "schedule: \"@once\"\n"
           "start_date: 2026-01-01\n"
           "tasks:\n"
           "  - task_id: nap\n"
           "    retries: 0\n"
           "    bash_command: sleep 30\n");
  auto s = Start();
  GroupReaper reaper;
  TaskInstanceRecord ti;
  ASSERT_TRUE(WaitFor([&] {
    return (Instance("slow", "nap", &ti) && ti.ti.state == TaskState::kRunning && ti.pid) || s->Exited();
  })) << s->Log();
  ASSERT_TRUE(ti.pid) << s->Log();
  pid_t task_pid = *ti.pid;
  reaper.pids.push_back(task_pid);
  ASSERT_TRUE(Alive(task_pid));

  s->Signal(SIGTERM);
  ASSERT_TRUE(s->WaitExit()) << s->Log();
  EXPECT_TRUE(WIFEXITED(s->wait_status()) && WEXITSTATUS(s->wait_status()) == 0)
      << "status " << s->wait_status() << "\n" << s->Log();
  // The task's whole group is gone (the session leader was the bash).
  EXPECT_TRUE(WaitFor([&] { return ::kill(-task_pid, 0) != 0 || !Alive(task_pid); })) << "group " << task_pid;
  EXPECT_FALSE(Alive(task_pid));

  // The try ended up_for_retry, not failed, although the task has no
  // retries: a shutdown is not the task's fault, so it keeps a try. (The
  // instance itself may already read "scheduled": a requeued task's retry
  // is due at once, and the driver settles that while draining.)
  ASSERT_TRUE(Instance("slow", "nap", &ti));
  EXPECT_TRUE(ti.ti.state == TaskState::kUpForRetry || ti.ti.state == TaskState::kScheduled)
      << TaskStateName(ti.ti.state) << "\n" << s->Log();
  EXPECT_EQ(ti.ti.try_number, 1);
  EXPECT_GT(ti.ti.max_tries, ti.ti.try_number) << "a requeued task must get another try";
  std::vector<TryRecord> tries;
  ASSERT_TRUE(store_->ListTries("slow", ti.run_id, "nap", &tries).ok());
  ASSERT_EQ(tries.size(), 1u);
  EXPECT_EQ(tries[0].state, TaskState::kUpForRetry) << TaskStateName(tries[0].state);
  EXPECT_TRUE(tries[0].end_date);
  RunRecord run;
  ASSERT_TRUE(OnlyRun("slow", &run));
  EXPECT_EQ(run.state, RunState::kRunning);
  EXPECT_FALSE(run.owner) << *run.owner;
  std::vector<SchedulerRecord> all;
  ASSERT_TRUE(store_->ListSchedulers(&all).ok());
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].state, "stopped");
}

TEST_F(SchedulerProcessTest, KillNineThenRestartKillsTheOrphanAndRetries) {
  DWFS_REQUIRE_SETUP();
  std::string pid_file = home_.path() + "/task.pid";
  WriteDag("crash.yaml",
           "dag_id: crash\n"
           "schedule: \"@once\"\n"
           "start_date: 2026-01-01\n"
           "tasks:\n"
           "  - task_id: work\n"
           "    retries: 1\n"
           "    retry_delay: 0\n"
           "    bash_command: |\n"
           "      if [ \"{{ try_number }}\" = \"2\" ]; then echo second try; exit 0; fi\n"
           "      echo $$ > " + pid_file + ".tmp && mv " + pid_file + ".tmp " + pid_file + "\n"
           "      exec sleep 30\n");
  GroupReaper reaper;
  pid_t orphan = 0;
  {
    auto first = Start();
    ASSERT_TRUE(WaitFor([&] { return std::filesystem::exists(pid_file) || first->Exited(); })) << first->Log();
    ASSERT_FALSE(first->Exited()) << first->Log();
    orphan = pid_t(std::stol(ReadFile(pid_file)));
    reaper.pids.push_back(orphan);
    // The try is recorded as running with its pid before the test kills.
    TaskInstanceRecord ti;
    ASSERT_TRUE(WaitFor([&] { return Instance("crash", "work", &ti) && ti.pid && *ti.pid == orphan; }))
        << first->Log();
    first->Signal(SIGKILL);
    ASSERT_TRUE(first->WaitExit());
    EXPECT_TRUE(WIFSIGNALED(first->wait_status()));
  }
  ASSERT_TRUE(Alive(orphan)) << "the task should outlive a kill -9 of its scheduler";

  auto second = Start();
  // The orphan's group is killed (it was reparented: Alive() sees a zombie
  // as gone, in case init reaps it late).
  EXPECT_TRUE(WaitFor([&] { return !Alive(orphan); })) << second->Log();
  RunRecord run;
  ASSERT_TRUE(WaitFor([&] { return (OnlyRun("crash", &run) && run.state != RunState::kRunning) || second->Exited(); }))
      << second->Log();
  EXPECT_EQ(run.state, RunState::kSuccess) << second->Log();
  std::vector<TryRecord> tries;
  ASSERT_TRUE(store_->ListTries("crash", run.info.run_id, "work", &tries).ok());
  ASSERT_EQ(tries.size(), 2u) << second->Log();
  EXPECT_EQ(tries[0].try_number, 1);
  EXPECT_NE(tries[0].state, TaskState::kRunning);
  EXPECT_NE(tries[0].state, TaskState::kSuccess);
  EXPECT_EQ(tries[1].try_number, 2);
  EXPECT_EQ(tries[1].state, TaskState::kSuccess);
  TaskInstanceRecord ti;
  ASSERT_TRUE(Instance("crash", "work", &ti));
  EXPECT_EQ(ti.ti.state, TaskState::kSuccess);
  EXPECT_EQ(ti.ti.try_number, 2);
  std::string log = second->Log();
  EXPECT_NE(log.find("on this host is gone"), std::string::npos) << log;
  EXPECT_NE(log.find("killed the orphaned process group " + std::to_string(orphan)), std::string::npos) << log;
  // The first scheduler is no longer "running"; the second is.
  std::vector<SchedulerRecord> all;
  ASSERT_TRUE(store_->ListSchedulers(&all).ok());
  ASSERT_EQ(all.size(), 2u);
  for (const SchedulerRecord& r : all) {
    if (r.pid == second->pid()) {
      EXPECT_EQ(r.state, "running");
    } else {
      EXPECT_NE(r.state, "running") << r.id;
    }
  }
}

TEST_F(SchedulerProcessTest, DroppedDatabaseConnectionsMidRunAreSurvived) {
  DWFS_REQUIRE_SETUP();
  std::string started = home_.path() + "/started";
  std::string go = home_.path() + "/go";
  WriteWaitingDag("outage", started, go);
  // A password in the URL (the test server trusts local connections, so it
  // is not checked) must never reach the log.
  auto env = Env();
  std::string url = db_.url();
  size_t at = url.find('@');
  ASSERT_NE(at, std::string::npos) << "expected user@ in the test URL";
  env["DWFS_DATABASE_URL"] = url.substr(0, at) + ":Secret-pw-4711" + url.substr(at);
  auto s = Start(env);
  ASSERT_TRUE(WaitFor([&] { return std::filesystem::exists(started) || s->Exited(); })) << s->Log();
  ASSERT_FALSE(s->Exited()) << s->Log();
  {
    pqxx::connection conn(db_.url());
    pqxx::nontransaction tx(conn);
    pqxx::result r = tx.exec(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = " + tx.quote(db_.name()) +
        " AND pid <> pg_backend_pid()");
    EXPECT_GE(r.size(), 2u) << "the scheduler holds at least two connections";
  }
  std::ofstream(go) << "go\n";
  RunRecord run;
  ASSERT_TRUE(WaitFor([&] { return (OnlyRun("outage", &run) && run.state != RunState::kRunning) || s->Exited(); }))
      << s->Log();
  EXPECT_EQ(run.state, RunState::kSuccess) << s->Log();
  for (const TaskInstanceRecord& r : Instances("outage", run.info.run_id)) {
    EXPECT_EQ(r.ti.state, TaskState::kSuccess) << r.task_id;
    EXPECT_EQ(r.ti.try_number, 1) << r.task_id;
  }
  EXPECT_FALSE(s->Exited()) << s->Log();
  std::string response = HttpGet(port_, "/health");
  EXPECT_EQ(response.rfind("HTTP/1.1 200", 0), 0u) << response;
  EXPECT_EQ(s->Log().find("Secret-pw-4711"), std::string::npos) << s->Log();
}

// Runs a shell command; its stdout without the trailing newline, or "" when
// it fails.
std::string Capture(const std::string& command) {
  FILE* p = ::popen(command.c_str(), "r");
  if (!p) return "";
  std::string out;
  char buf[512];
  while (size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  if (::pclose(p) != 0) return "";
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

// A real database restart (pg_ctl restart -m fast of a private cluster)
// while a task runs: every connection of the scheduler is cut and refused
// for a moment. The running task is kept alive, the scheduler reconnects,
// and the run completes with each task tried once.
TEST_F(SchedulerProcessTest, DatabaseRestartMidRunIsSurvived) {
  DWFS_REQUIRE_SETUP();
  const std::string script = std::string(DWFS_SOURCE_DIR) + "/scripts/pg-test-cluster";
  std::string dir = (std::filesystem::temp_directory_path() / ("dwfs-restart-" + std::to_string(::getpid()))).string();
  struct Cluster {
    std::string stop;
    ~Cluster() { [[maybe_unused]] int rc = std::system(stop.c_str()); }
  } cluster{script + " stop " + dir + " >/dev/null 2>&1"};
  std::string url = Capture(script + " start " + dir + " 2>/dev/null");
  if (url.empty()) GTEST_SKIP() << "cannot start a private PostgreSQL cluster with " << script;
  ASSERT_TRUE(MigrateDatabase(url, nullptr, nullptr).ok());
  std::unique_ptr<Store> store;
  ASSERT_TRUE(Store::Open(url, &store).ok());

  std::string started = home_.path() + "/started";
  std::string go = home_.path() + "/go";
  WriteWaitingDag("restart", started, go);
  auto env = Env();
  env["DWFS_DATABASE_URL"] = url;
  auto s = Start(env);
  ASSERT_TRUE(WaitFor([&] { return std::filesystem::exists(started) || s->Exited(); })) << s->Log();
  ASSERT_FALSE(s->Exited()) << s->Log();
  ASSERT_EQ(std::system((script + " restart " + dir + " >/dev/null 2>&1").c_str()), 0);
  std::ofstream(go) << "go\n";

  std::vector<RunRecord> runs;
  ASSERT_TRUE(WaitFor([&] {
    runs.clear();
    return (store->ListRuns("restart", std::nullopt, &runs).ok() && runs.size() == 1 &&
            runs[0].state != RunState::kRunning) ||
           s->Exited();
  })) << s->Log();
  ASSERT_EQ(runs.size(), 1u) << s->Log();
  EXPECT_EQ(runs[0].state, RunState::kSuccess) << s->Log();
  std::vector<TaskInstanceRecord> rows;
  ASSERT_TRUE(store->ListTaskInstances("restart", runs[0].info.run_id, &rows).ok());
  ASSERT_EQ(rows.size(), 2u);
  for (const TaskInstanceRecord& r : rows) {
    EXPECT_EQ(r.ti.state, TaskState::kSuccess) << r.task_id;
    EXPECT_EQ(r.ti.try_number, 1) << r.task_id;
  }
  EXPECT_FALSE(s->Exited()) << s->Log();
  EXPECT_TRUE(WaitFor([&] { return HttpGet(port_, "/health").rfind("HTTP/1.1 200", 0) == 0; })) << s->Log();
}

}  // namespace
}  // namespace dwfs
