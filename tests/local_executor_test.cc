// The local executor with real processes (and the test PostgreSQL for SQL
// tries). Nothing here sleeps to wait: each test runs the io_context until
// the executor reports.
#include "dwfs/local_executor.h"

#include <dirent.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include <fstream>
#include <sstream>

#include "test_util.h"

namespace dwfs {
namespace {

class ExecutorTest : public testing::Test {
 protected:
  ExecutorTest() : exec_(io_, Options()) {}

  static LocalExecutorOptions Options() {
    LocalExecutorOptions o;
    o.kill_grace = Seconds(1);
    o.drain_timeout = Seconds(1);
    return o;
  }

  TaskRequest Bash(const std::string& command) {
    TaskRequest r;
    r.key = ++keys_;
    r.label = "test.task";
    r.command = command;
    r.env = {{"PATH", "/usr/local/bin:/usr/bin:/bin"}, {"HOME", dir_.path()}};
    r.log_path = dir_.path() + "/logs/attempt=" + std::to_string(r.key) + ".log";
    return r;
  }

  TaskResult Run(TaskRequest r) {
    std::optional<TaskResult> out;
    exec_.Start(std::move(r), [&](TaskResult res) { out = std::move(res); });
    io_.restart();
    while (!out && io_.run_one()) {
    }
    EXPECT_TRUE(out.has_value());
    return out.value_or(TaskResult{});
  }

  std::string ReadLog(uint64_t key) {
    std::ifstream in(dir_.path() + "/logs/attempt=" + std::to_string(key) + ".log", std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  TempDir dir_;
  boost::asio::io_context io_;
  LocalExecutor exec_;
  uint64_t keys_ = 0;
};

TEST_F(ExecutorTest, SuccessWithXcomAndTimestampedLog) {
  TaskResult r = Run(Bash("echo first; echo 'the value'; echo oops >&2; echo '   '"));
  EXPECT_EQ(r.outcome.kind, TaskOutcome::Kind::kSuccess);
  EXPECT_EQ(r.exit_code, 0);
  ASSERT_TRUE(r.outcome.xcom);
  EXPECT_EQ(*r.outcome.xcom, "the value");
  std::string log = ReadLog(r.key);
  EXPECT_NE(log.find("] first\n"), std::string::npos) << log;
  EXPECT_NE(log.find("] [stderr] oops\n"), std::string::npos) << log;
  EXPECT_EQ(log.rfind("[20", 0), 0u);  // every line starts with a timestamp
  EXPECT_NE(log.find("exit status 0"), std::string::npos);
}

TEST_F(ExecutorTest, ExitCodesMapToOutcomes) {
  EXPECT_EQ(Run(Bash("exit 99")).outcome.kind, TaskOutcome::Kind::kSkipped);
  TaskResult r = Run(Bash("exit 3"));
  EXPECT_EQ(r.outcome.kind, TaskOutcome::Kind::kFailed);
  EXPECT_EQ(r.outcome.reason, "bash exit status 3");
  r = Run(Bash("no_such_command_xyz"));
  EXPECT_EQ(r.exit_code, 127);
  EXPECT_NE(ReadLog(r.key).find("command not found"), std::string::npos);
  TaskRequest off = Bash("echo value");
  off.do_xcom_push = false;
  EXPECT_FALSE(Run(off).outcome.xcom);
}

TEST_F(ExecutorTest, EnvironmentStdinAndFreshTempCwd) {
  TaskRequest req = Bash("echo \"$DWFS_DS\"; cat; pwd; touch here");
  req.env["DWFS_DS"] = "2026-01-01";
  TaskResult r = Run(req);
  ASSERT_EQ(r.outcome.kind, TaskOutcome::Kind::kSuccess) << r.outcome.reason;
  std::string log = ReadLog(r.key);
  EXPECT_NE(log.find("] 2026-01-01\n"), std::string::npos);
  size_t p = log.find("dwfs-task-");
  ASSERT_NE(p, std::string::npos);
  std::string cwd = log.substr(log.rfind(' ', p) + 1, log.find('\n', p) - log.rfind(' ', p) - 1);
  EXPECT_FALSE(std::filesystem::exists(cwd)) << cwd << " should have been removed";
  TaskRequest given = Bash("pwd");
  given.cwd = dir_.path();
  EXPECT_EQ(*Run(given).outcome.xcom, dir_.path());
}

TEST_F(ExecutorTest, OnlyStandardFdsAreInherited) {
  TaskResult r = Run(Bash("ls /proc/self/fd | sort -n | tr '\\n' ' '"));
  // 0, 1, 2, and the fd ls uses to read the directory.
  EXPECT_EQ(*r.outcome.xcom, "0 1 2 3 ");
}

TEST_F(ExecutorTest, CannotStartIsAFailureWithAReason) {
  TaskRequest req = Bash("true");
  req.cwd = dir_.path() + "/missing";
  TaskResult r = Run(req);
  EXPECT_EQ(r.outcome.kind, TaskOutcome::Kind::kFailed);
  EXPECT_NE(r.outcome.reason.find("could not start"), std::string::npos);
}

TEST_F(ExecutorTest, TimeoutEscalatesToSigkillForTasksIgnoringSigterm) {
  TaskRequest req = Bash("trap '' TERM; echo started; while true; do sleep 0.05; done");
  req.timeout = Seconds(1);
  TaskResult r = Run(req);
  EXPECT_EQ(r.outcome.kind, TaskOutcome::Kind::kTimeout);
  std::string log = ReadLog(r.key);
  EXPECT_NE(log.find("execution_timeout of 1s reached: sending SIGTERM"), std::string::npos) << log;
  EXPECT_NE(log.find("sending SIGKILL"), std::string::npos) << log;
}

TEST_F(ExecutorTest, ChildrenOutlivingBashAreKilledWithTheGroup) {
  TaskResult r = Run(Bash("sleep 300 & echo $!"));
  ASSERT_EQ(r.outcome.kind, TaskOutcome::Kind::kSuccess);
  pid_t child = std::stoi(*r.outcome.xcom);
  // The child held the output pipe, so the try could only complete once the
  // group kill had ended it.
  EXPECT_FALSE(Alive(child));
}

TEST_F(ExecutorTest, DaemonThatLeavesTheGroupDoesNotBlockCompletion) {
  // The daemon keeps the output pipe; bash exits only once it has its own
  // session, so the group kill cannot reach it.
  TaskResult r = Run(Bash("setsid sleep 301 & p=$!; "
                          "until [ \"$(ps -o sid= -p $p | tr -d ' ')\" = \"$p\" ]; do :; done; echo $p"));
  EXPECT_EQ(r.outcome.kind, TaskOutcome::Kind::kSuccess);
  std::string log = ReadLog(r.key);
  EXPECT_NE(log.find("output still open"), std::string::npos) << log;
  pid_t daemon = std::stoi(*r.outcome.xcom);
  EXPECT_TRUE(Alive(daemon));
  ::kill(daemon, SIGKILL);
}

TEST_F(ExecutorTest, HugeAndBinaryOutputIsStreamed) {
  // 1 GiB on one endless line, written in 1 MiB pieces; memory stays bounded.
  TaskResult r = Run(Bash("head -c 1073741824 /dev/zero | tr '\\0' x; echo; echo done"));
  EXPECT_EQ(r.outcome.kind, TaskOutcome::Kind::kSuccess);
  EXPECT_EQ(*r.outcome.xcom, "done");
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  EXPECT_LT(ru.ru_maxrss, 200 * 1024) << "peak RSS in KiB";
  std::string path = dir_.path() + "/logs/attempt=" + std::to_string(r.key) + ".log";
  EXPECT_GT(std::filesystem::file_size(path), 1073741824u);
  std::filesystem::remove(path);
  r = Run(Bash("head -c 200000 /dev/urandom"));
  EXPECT_EQ(r.outcome.kind, TaskOutcome::Kind::kSuccess);
}

TEST_F(ExecutorTest, XcomOverLimitFailsTheTask) {
  TaskResult r = Run(Bash("head -c 70000 /dev/zero | tr '\\0' x; echo"));
  EXPECT_EQ(r.outcome.kind, TaskOutcome::Kind::kFailed);
  EXPECT_NE(r.outcome.reason.find("64 KiB"), std::string::npos);
}

TEST_F(ExecutorTest, SecretsAreMaskedInTheLog) {
  TaskRequest req = Bash("echo connecting with hunter2");
  req.secrets = {"hunter2"};
  TaskResult r = Run(req);
  std::string log = ReadLog(r.key);
  EXPECT_EQ(log.find("hunter2"), std::string::npos);
  EXPECT_NE(log.find("connecting with ***"), std::string::npos);
}

TEST_F(ExecutorTest, TerminateAllStopsRunningGroups) {
  std::optional<TaskResult> out;
  TaskRequest req = Bash("echo up; sleep 300");
  req.on_line = [&](std::string_view line) {
    if (line.find("] up") != std::string_view::npos) exec_.TerminateAll("scheduler shutting down");
  };
  exec_.Start(req, [&](TaskResult r) { out = r; });
  while (!out && io_.run_one()) {
  }
  ASSERT_TRUE(out);
  EXPECT_EQ(out->outcome.kind, TaskOutcome::Kind::kFailed);
  EXPECT_EQ(out->outcome.reason, "scheduler shutting down");
}

int CountFds() {
  int n = 0;
  DIR* d = opendir("/proc/self/fd");
  while (readdir(d)) ++n;
  closedir(d);
  return n;
}

TEST_F(ExecutorTest, ThousandTasksLeaveNoFdsOrZombies) {
  // Warm up (lazy allocations), then measure.
  Run(Bash("true"));
  int fds_before = CountFds();
  int done = 0, started = 0, failed = 0;
  std::function<void()> start_one = [&] {
    TaskRequest req = Bash("true");
    req.log_path = dir_.path() + "/logs/many.log";
    ++started;
    exec_.Start(req, [&](TaskResult r) {
      ++done;
      if (r.outcome.kind != TaskOutcome::Kind::kSuccess) ++failed;
      if (started < 1000) start_one();
    });
  };
  for (int i = 0; i < 32; ++i) start_one();
  io_.restart();
  while (done < 1000 && io_.run_one()) {
  }
  EXPECT_EQ(done, 1000);
  EXPECT_EQ(failed, 0);
  EXPECT_EQ(exec_.running(), 0u);
  EXPECT_EQ(CountFds(), fds_before);
  // No child left to reap: every process was waited for.
  errno = 0;
  EXPECT_EQ(waitpid(-1, nullptr, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD);
}

// --- SQL --------------------------------------------------------------------

class SqlExecutorTest : public ExecutorTest {
 protected:
  void SetUp() override {
    const char* url = std::getenv("DWFS_TEST_DATABASE_URL");
    if (!url) GTEST_SKIP() << "DWFS_TEST_DATABASE_URL not set; run through scripts/test";
    url_ = url;
  }
  TaskRequest Sql(const std::string& sql) {
    TaskRequest r = Bash("");
    r.kind = TaskRequest::Kind::kSql;
    r.command = sql;
    r.conn_uri = url_;
    return r;
  }
  std::string url_;
};

TEST_F(SqlExecutorTest, OneTransactionWithXcomFromLastStatement) {
  TaskResult r = Run(Sql("CREATE TABLE IF NOT EXISTS exec_t (v int); DELETE FROM exec_t;"
                         "INSERT INTO exec_t VALUES (1), (2); SELECT sum(v) FROM exec_t;"));
  ASSERT_EQ(r.outcome.kind, TaskOutcome::Kind::kSuccess) << r.outcome.reason;
  EXPECT_EQ(*r.outcome.xcom, "3");
}

TEST_F(SqlExecutorTest, ErrorRollsBackEverythingAndReportsSqlstate) {
  Run(Sql("CREATE TABLE IF NOT EXISTS exec_rb (v int); DELETE FROM exec_rb;"));
  TaskResult r = Run(Sql("INSERT INTO exec_rb VALUES (1); SELEC 1;"));
  EXPECT_EQ(r.outcome.kind, TaskOutcome::Kind::kFailed);
  EXPECT_NE(r.outcome.reason.find("42601"), std::string::npos) << r.outcome.reason;
  EXPECT_NE(ReadLog(r.key).find("SQLSTATE 42601"), std::string::npos);
  EXPECT_EQ(*Run(Sql("SELECT count(*) FROM exec_rb")).outcome.xcom, "0");
}

TEST_F(SqlExecutorTest, TimeoutCancelsOnTheServerAndOthersKeepRunning) {
  TaskRequest slow = Sql("SELECT pg_sleep(30)");
  slow.timeout = Seconds(1);
  std::optional<TaskResult> slow_result, quick_result;
  exec_.Start(slow, [&](TaskResult r) { slow_result = r; });
  exec_.Start(Sql("SELECT 'quick'"), [&](TaskResult r) { quick_result = r; });
  while (!slow_result && io_.run_one()) {
  }
  ASSERT_TRUE(quick_result) << "the quick query finished before the slow one timed out";
  EXPECT_EQ(*quick_result->outcome.xcom, "quick");
  EXPECT_EQ(slow_result->outcome.kind, TaskOutcome::Kind::kTimeout) << slow_result->outcome.reason;
}

TEST_F(SqlExecutorTest, DroppedConnectionFailsTheTask) {
  TaskResult r = Run(Sql("SELECT pg_terminate_backend(pg_backend_pid())"));
  EXPECT_EQ(r.outcome.kind, TaskOutcome::Kind::kFailed);
  EXPECT_FALSE(r.outcome.reason.empty());
}

TEST_F(SqlExecutorTest, PasswordNeverReachesTheLog) {
  // Trust authentication ignores the password, so it can be any secret.
  std::string with_pw = url_;
  with_pw.replace(with_pw.find("postgres@"), 9, "postgres:s3cretpw@");
  TaskRequest req = Sql("SELECT 1 FROM nosuchtable");
  req.conn_uri = with_pw;
  TaskResult r = Run(req);
  EXPECT_EQ(r.outcome.kind, TaskOutcome::Kind::kFailed);
  EXPECT_EQ(ReadLog(r.key).find("s3cretpw"), std::string::npos);
  EXPECT_EQ(r.outcome.reason.find("s3cretpw"), std::string::npos);
}

TEST_F(SqlExecutorTest, UnreachableServerFailsWithoutBlocking) {
  TaskRequest req = Sql("SELECT 1");
  req.conn_uri = "postgresql://nobody@/x?host=/nonexistent-socket-dir&connect_timeout=2";
  TaskResult r = Run(req);
  EXPECT_EQ(r.outcome.kind, TaskOutcome::Kind::kFailed);
}

}  // namespace
}  // namespace dwfs
