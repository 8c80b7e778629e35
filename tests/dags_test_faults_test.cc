// Faults seen through `dwfs dags test`: each ends its task with a clear reason
// in the task's log and in the command's output, and nothing else is affected
// (an independent sibling task still succeeds). In-process CLI with real
// processes; the SQL cases use the test PostgreSQL (DWFS_TEST_DATABASE_URL).
// Nothing sleeps to wait: each run ends when its processes do.
#include <signal.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "cli_test_util.h"
#include "test_util.h"

namespace dwfs {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::string Trim(std::string s) {
  while (!s.empty() && s.back() == ' ') s.pop_back();
  while (!s.empty() && s.front() == ' ') s.erase(0, 1);
  return s;
}

// One `dags test` and what it printed.
struct DagsTestRun {
  CliResult r;

  // A task's cells in the summary table: task_id, state, try, duration, reason.
  std::vector<std::string> Row(const std::string& task) const {
    std::vector<std::string> row = FindRow(task);
    if (row.empty()) {
      ADD_FAILURE() << "no summary row for " << task << " in:\n" << r.out;
      row.resize(5);
    }
    return row;
  }
  bool Has(const std::string& task) const { return !FindRow(task).empty(); }
  std::vector<std::string> FindRow(const std::string& task) const {
    for (const std::string& line : Lines(r.out)) {
      std::vector<std::string> cells;
      size_t start = 0;
      for (size_t bar; cells.size() < 4 && (bar = line.find(" | ", start)) != std::string::npos; start = bar + 3) {
        cells.push_back(Trim(line.substr(start, bar - start)));
      }
      cells.push_back(Trim(line.substr(start)));
      if (cells.size() == 5 && cells[0] == task) return cells;
    }
    return {};
  }
  std::string State(const std::string& task) const { return Row(task)[1]; }
  std::string Reason(const std::string& task) const { return Row(task)[4]; }

  // The task's progress line at the end of its try ("[hh:mm:ss] task  state  detail").
  std::string EndLine(const std::string& task, const std::string& state) const {
    std::string prefix = task + std::string(task.size() < 30 ? 31 - task.size() : 1, ' ') + state;
    for (const std::string& line : Lines(r.out)) {
      if (line.size() > 11 && line[0] == '[' && line.compare(11, prefix.size(), prefix) == 0) return line;
    }
    return "";
  }

  // The lines of the task's log that `dags test` prints after a failed try.
  std::string LogTail(const std::string& task) const {
    std::string head = "  last lines of the log of " + task + ", try 1:\n";
    size_t p = r.out.find(head);
    if (p == std::string::npos) return "";
    std::string tail;
    for (p += head.size(); r.out.compare(p, 4, "    ") == 0;) {
      size_t nl = r.out.find('\n', p);
      tail += r.out.substr(p + 4, nl - p - 3);
      p = nl + 1;
    }
    return tail;
  }
};

class DagsTestFaults : public testing::Test {
 protected:
  // Dag ids carry the pid: CollectLogs finds a run's scratch log folder by it.
  static std::string Id(const std::string& name) { return name + "_" + std::to_string(getpid()); }

  // Writes a @daily DAG with `body` (params, tasks, ...) and runs `dags test` on 2026-01-05.
  DagsTestRun Test(const std::string& dag_id, const std::string& body,
                   const std::map<std::string, std::string>& extra_env = {}) {
    dags_.Write(dag_id + ".yaml", "dag_id: " + dag_id + "\nschedule: '@daily'\nstart_date: 2026-01-01\n" + body);
    std::map<std::string, std::string> env = {{"DWFS_HOME", home_.path()},
                                              {"DWFS__CORE__DAGS_FOLDER", dags_.path()},
                                              {"PATH", "/usr/local/bin:/usr/bin:/bin"}};
    for (const auto& [k, v] : extra_env) env[k] = v;
    return {RunCliForTest({"dags", "test", dag_id, "2026-01-05"}, env)};
  }

  // `dags test` keeps its logs in a scratch folder under the temp dir and
  // removes it at the end. This task (YAML for a `tasks:` list) runs after the
  // tasks of `files` ("task/attempt=1.log", "task/on_failure_callback.log")
  // and copies each file to out_/logs/ (see CollectedLog) once it holds
  // `until` (a callback may still be running).
  std::string CollectLogs(const std::string& dag_id, const std::vector<std::string>& files,
                          const std::string& until = "dwfs: ") const {
    std::string root = std::filesystem::temp_directory_path().string() + "/*/dag_id=" + dag_id + "/run_id=*/task_id=";
    std::string script, up;
    for (const std::string& f : files) {
      std::string task = f.substr(0, f.find('/'));
      if (up.find(" " + task + ",") == std::string::npos) up += " " + task + ",";
      script += "      f=$(ls -d " + root + f + ") || exit 1\n" +  //
                "      until grep -q '" + until + "' \"$f\"; do :; done\n" +
                "      mkdir -p " + out_.path() + "/logs/" + task + "\n" +
                "      cp \"$f\" " + out_.path() + "/logs/" + f + "\n";
    }
    up.pop_back();
    return "  - task_id: collect_logs\n"
           "    trigger_rule: all_done\n"
           "    execution_timeout: 60s\n"
           "    upstream: [" + up + " ]\n"
           "    bash_command: |\n" + script;
  }
  std::string CollectedLog(const std::string& file) const { return ReadFile(out_.path() + "/logs/" + file); }

  // The fault's task ended `state` with `reason` in the summary, its progress
  // line and its log tail; the sibling succeeded; the run failed (exit 1),
  // unless collect_logs is there: as a leaf that succeeds whatever its
  // upstreams did (all_done), it makes the run succeed.
  static void ExpectContained(const DagsTestRun& run, const std::string& task, const std::string& reason,
                              const std::string& state = "failed") {
    bool collected = run.Has("collect_logs");
    EXPECT_EQ(run.r.code, collected ? 0 : 1) << run.r.out << run.r.err;
    EXPECT_EQ(run.State(task), state) << run.r.out;
    EXPECT_NE(run.Reason(task).find(reason), std::string::npos) << run.Reason(task);
    EXPECT_NE(run.EndLine(task, state).find(reason), std::string::npos) << run.r.out;
    EXPECT_NE(run.LogTail(task).find(reason), std::string::npos) << "log tail of " << task << ":\n"
                                                                 << run.LogTail(task);
    EXPECT_EQ(run.State("sibling"), "success") << run.r.out;
    std::string end = std::string("run manual__2026-01-05T00:00:00+00:00 ") + (collected ? "succeeded" : "failed");
    EXPECT_NE(run.r.out.find(end), std::string::npos) << run.r.out;
    if (collected) {
      EXPECT_EQ(run.State("collect_logs"), "success") << run.r.out;
    }
  }

  static constexpr const char* kSibling = "  - {task_id: sibling, bash_command: 'echo sibling ok'}\n";

  TempDir home_, dags_, out_;
};

TEST_F(DagsTestFaults, CommandThatCannotStart) {
  DagsTestRun run = Test(Id("cannot_start"), std::string("tasks:\n") +
                                                 "  - {task_id: nowhere, bash_command: 'echo hi', cwd: " +
                                                 out_.path() + "/missing}\n" + kSibling);
  ExpectContained(run, "nowhere", "could not start: cwd " + out_.path() + "/missing is not a directory");
  EXPECT_NE(run.LogTail("nowhere").find("dwfs: could not start"), std::string::npos);
}

TEST_F(DagsTestFaults, BinaryOutputIsLoggedAndTheExitStatusDecides) {
  std::string dag = Id("binary");
  std::string print = "      printf 'before\\0nul \\xff\\xfe\\xc3 not utf-8\\n'; echo after\n";
  DagsTestRun run = Test(dag, "tasks:\n"
                              "  - task_id: binary_ok\n    bash_command: |\n" + print + "      exit 0\n" +
                              "  - task_id: binary_fail\n    bash_command: |\n" + print + "      exit 3\n" + kSibling +
                              CollectLogs(dag, {"binary_ok/attempt=1.log", "binary_fail/attempt=1.log"}));
  ExpectContained(run, "binary_fail", "bash exit status 3");
  EXPECT_EQ(run.State("binary_ok"), "success") << run.r.out;
  EXPECT_EQ(run.State("collect_logs"), "success") << run.r.out;
  const std::string bytes = std::string("before") + '\0' + "nul \xff\xfe\xc3 not utf-8";
  for (const std::string task : {"binary_ok", "binary_fail"}) {
    std::string log = CollectedLog(task + "/attempt=1.log");
    // The bytes are kept as they are, each line whole and timestamped.
    std::vector<std::string> lines = Lines(log);
    bool found_bytes = false, found_after = false;
    for (const std::string& l : lines) {
      EXPECT_EQ(l.rfind("[20", 0), 0u) << task << ": " << l;
      found_bytes |= l.size() > 32 && l.substr(l.find("] ") + 2) == bytes;
      found_after |= l.size() > 32 && l.substr(l.find("] ") + 2) == "after";
    }
    EXPECT_TRUE(found_bytes) << task << ":\n" << log;
    EXPECT_TRUE(found_after) << task << ":\n" << log;
  }
  EXPECT_NE(CollectedLog("binary_ok/attempt=1.log").find("exit status 0"), std::string::npos);
  EXPECT_NE(run.LogTail("binary_fail").find(bytes), std::string::npos) << run.LogTail("binary_fail");
  EXPECT_NE(run.LogTail("binary_fail").find("] after\n"), std::string::npos);
}

TEST_F(DagsTestFaults, TenMegabyteLineIsSplitInTheLog) {
  std::string dag = Id("long_line");
  DagsTestRun run = Test(dag, "tasks:\n"
                              "  - task_id: long_line\n"
                              "    bash_command: head -c 10000000 /dev/zero | tr '\\0' x; echo; echo done; exit 3\n" +
                              std::string(kSibling) + CollectLogs(dag, {"long_line/attempt=1.log"}));
  ExpectContained(run, "long_line", "bash exit status 3");
  // The log holds the line in pieces of at most 1 MiB, nothing lost.
  size_t pieces = 0, total = 0;
  for (const std::string& l : Lines(CollectedLog("long_line/attempt=1.log"))) {
    std::string text = l.substr(l.find("] ") + 2);
    if (text.empty() || text.find_first_not_of('x') != std::string::npos) continue;
    ++pieces;
    total += text.size();
    EXPECT_LE(text.size(), size_t(1) << 20);
  }
  EXPECT_EQ(pieces, 10u);
  EXPECT_EQ(total, 10000000u);
  // `dags test` shows the tail with each piece cut short: its output stays small.
  EXPECT_NE(run.LogTail("long_line").find("xxxx...\n"), std::string::npos);
  EXPECT_NE(run.LogTail("long_line").find("] done\n"), std::string::npos);
  EXPECT_LT(run.r.out.size(), 64u * 1024) << "dags test output in bytes";
}

TEST_F(DagsTestFaults, DaemonInTheGroupIsKilledAndTheTaskDoesNotHang) {
  std::string dag = Id("daemon");
  std::string pidfile = out_.path() + "/daemon.pid";
  DagsTestRun run = Test(dag, "tasks:\n"
                              "  - task_id: forks_daemon\n"
                              "    bash_command: nohup sleep 1000 & echo $! > " + pidfile + "; exit 3\n" +
                              kSibling + CollectLogs(dag, {"forks_daemon/attempt=1.log"}));
  ExpectContained(run, "forks_daemon", "bash exit status 3");
  pid_t daemon = std::stoi(ReadFile(pidfile));
  // Killed with the group as bash exited: the output closed at once, nothing waited.
  EXPECT_FALSE(Alive(daemon));
  if (Alive(daemon)) ::kill(daemon, SIGKILL);
  EXPECT_EQ(CollectedLog("forks_daemon/attempt=1.log").find("output still open"), std::string::npos);
}

TEST_F(DagsTestFaults, DaemonThatLeftTheGroupDoesNotHangTheTask) {
  // setsid: out of the group's reach (it survives), but holding the output
  // pipes only delays the end of the try by the drain timeout.
  std::string pidfile = out_.path() + "/daemon.pid";
  DagsTestRun run = Test(Id("setsid_daemon"),
                         "tasks:\n"
                         "  - task_id: forks_daemon\n"
                         "    bash_command: |\n"
                         "      setsid sleep 1001 & p=$!; echo $p > " + pidfile + "\n" +
                             "      until [ \"$(ps -o sid= -p $p | tr -d ' ')\" = \"$p\" ]; do :; done\n"
                             "      exit 3\n" + kSibling);
  ExpectContained(run, "forks_daemon", "bash exit status 3");
  EXPECT_NE(run.LogTail("forks_daemon").find("output still open"), std::string::npos) << run.LogTail("forks_daemon");
  pid_t daemon = std::stoi(ReadFile(pidfile));
  if (Alive(daemon)) ::kill(daemon, SIGKILL);
}

TEST_F(DagsTestFaults, TaskIgnoringSigtermIsKilledAfterTheGrace) {
  // The grace is core.killed_task_cleanup_time, in whole seconds.
  DagsTestRun run = Test(Id("timeout"),
                         "tasks:\n"
                         "  - task_id: stubborn\n"
                         "    execution_timeout: 1s\n"
                         "    bash_command: trap '' TERM; echo started; while true; do sleep 0.05; done\n" +
                             std::string(kSibling),
                         {{"DWFS__CORE__KILLED_TASK_CLEANUP_TIME", "1s"}});
  ExpectContained(run, "stubborn", "timed out after 1s (execution_timeout)");
  std::string tail = run.LogTail("stubborn");
  EXPECT_NE(tail.find("execution_timeout of 1s reached: sending SIGTERM"), std::string::npos) << tail;
  EXPECT_NE(tail.find("still running 1s after SIGTERM: sending SIGKILL"), std::string::npos) << tail;
  EXPECT_NE(tail.find("killed by signal 9"), std::string::npos) << tail;
}

TEST_F(DagsTestFaults, MissingConnectionId) {
  DagsTestRun run = Test(Id("no_conn"), "tasks:\n"
                                        "  - {task_id: query, operator: sql, conn_id: nowhere, sql: 'SELECT 1'}\n" +
                                        std::string(kSibling));
  ExpectContained(run, "query", "connection 'nowhere' not found (set DWFS_CONN_NOWHERE");
}

TEST_F(DagsTestFaults, UnknownTemplateVariableIsNamed) {
  DagsTestRun run = Test(Id("bad_template"), "params: {who: world}\ntasks:\n"
                                             "  - {task_id: typo, bash_command: 'echo {{ params.whom }}'}\n" +
                                             std::string(kSibling));
  ExpectContained(run, "typo", "unknown template variable 'params.whom' in bash_command");
}

TEST_F(DagsTestFaults, FailureCallbacksRunWithTheReasonAndMayFail) {
  std::string dag = Id("callbacks");
  std::string record = out_.path() + "/callbacks.txt";
  DagsTestRun run =
      Test(dag, "on_failure_callback:\n"
                "  bash_command: 'echo \"dag-level {{ task_id }} try {{ try_number }}: {{ exception }}\" >> " + record +
                    "'\n"
                    "tasks:\n"
                    "  - {task_id: plain_fail, bash_command: 'exit 3'}\n"
                    "  - task_id: own_callback\n"
                    "    bash_command: 'echo {{ params.nope }}'\n"
                    "    on_failure_callback:\n"
                    "      bash_command: 'echo \"task-level {{ task_id }}: {{ exception }}\" >> " + record +
                    "; echo callback breaks >&2; exit 5'\n" +
                    kSibling +
                    CollectLogs(dag, {"plain_fail/on_failure_callback.log", "own_callback/on_failure_callback.log"},
                                "dwfs: exit status"));
  ExpectContained(run, "plain_fail", "bash exit status 3");
  ExpectContained(run, "own_callback", "unknown template variable 'params.nope' in bash_command");
  EXPECT_EQ(run.State("collect_logs"), "success") << run.r.out;
  // Each failed task ran one callback, its own in preference to the DAG's.
  std::vector<std::string> lines = Lines(ReadFile(record));
  std::sort(lines.begin(), lines.end());
  ASSERT_EQ(lines.size(), 2u) << ReadFile(record);
  EXPECT_EQ(lines[0], "dag-level plain_fail try 1: bash exit status 3");
  EXPECT_EQ(lines[1], "task-level own_callback: unknown template variable 'params.nope' in bash_command");
  // The failing callback is logged, and the run went on to its end regardless.
  std::string log = CollectedLog("own_callback/on_failure_callback.log");
  EXPECT_NE(log.find("] [stderr] callback breaks\n"), std::string::npos) << log;
  EXPECT_NE(log.find("dwfs: exit status 5"), std::string::npos) << log;
  EXPECT_NE(log.find("(bash exit status 5)"), std::string::npos) << log;
  EXPECT_NE(CollectedLog("plain_fail/on_failure_callback.log").find("dwfs: exit status 0"), std::string::npos);
}

// --- SQL --------------------------------------------------------------------

class DagsTestSqlFaults : public DagsTestFaults {
 protected:
  void SetUp() override {
    const char* url = std::getenv("DWFS_TEST_DATABASE_URL");
    if (!url) GTEST_SKIP() << "DWFS_TEST_DATABASE_URL not set; run through scripts/test";
    url_ = url;
  }
  DagsTestRun TestSql(const std::string& dag_id, const std::string& body) {
    return Test(dag_id, body, {{"DWFS_CONN_WAREHOUSE", url_}});
  }
  std::string url_;
};

TEST_F(DagsTestSqlFaults, SyntaxErrorReportsTheServerMessageAndSqlstate) {
  DagsTestRun run = TestSql(Id("sql_syntax"),
                            "tasks:\n"
                            "  - {task_id: query, operator: sql, conn_id: warehouse, sql: 'SELEC 1'}\n" +
                                std::string(kSibling));
  ExpectContained(run, "query", "SQL error 42601: ERROR:  syntax error at or near \"SELEC\"");
  EXPECT_NE(run.LogTail("query").find("(SQLSTATE 42601)"), std::string::npos) << run.LogTail("query");
}

TEST_F(DagsTestSqlFaults, ConnectionDroppedMidQuery) {
  // The sibling `killer` terminates the query's backend, found by a marker in
  // its text, as soon as it runs.
  std::string marker = "drop_me_" + std::to_string(getpid());
  DagsTestRun run = TestSql(
      Id("sql_dropped"),
      "tasks:\n"
      "  - task_id: query\n"
      "    operator: sql\n"
      "    conn_id: warehouse\n"
      "    execution_timeout: 30s\n"
      "    sql: SELECT pg_sleep(20) /* " + marker + " */\n" +
          "  - task_id: killer\n"
          "    env: {PGURL: '" + url_ + "'}\n" +
          "    bash_command: |\n"
          "      for i in $(seq 3000); do\n"
          "        n=$(psql \"$PGURL\" -XAtc \"SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity\n"
          "              WHERE pid <> pg_backend_pid() AND query LIKE '%" + marker + "%'\") || exit 1\n" +
          "        if [ \"$n\" = 1 ]; then echo terminated; exit 0; fi\n"
          "      done\n"
          "      exit 1\n" +
          kSibling);
  ExpectContained(run, "query", "SQL error: connection lost: the server closed the connection during the query");
  EXPECT_EQ(run.State("killer"), "success") << run.r.out;
  EXPECT_NE(run.LogTail("query").find("dwfs: rolled back: "), std::string::npos) << run.LogTail("query");
}

TEST_F(DagsTestSqlFaults, ExampleDailySalesEtlPasses) {
  CliResult r = RunCliForTest({"dags", "test", "daily_sales_etl", "2026-01-05"},
                              {{"DWFS_HOME", home_.path()},
                               {"DWFS__CORE__DAGS_FOLDER", std::string(DWFS_SOURCE_DIR) + "/dags"},
                               {"DWFS_CONN_WAREHOUSE", url_},
                               {"PATH", "/usr/local/bin:/usr/bin:/bin"}});
  DagsTestRun run{r};
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  for (const std::string task : {"create_tables", "extract", "load", "check", "report"}) {
    EXPECT_EQ(run.State(task), "success") << r.out;
    EXPECT_NE(run.EndLine(task, "success").find("try 1/3"), std::string::npos) << r.out;
  }
  EXPECT_NE(r.out.find("run manual__2026-01-05T00:00:00+00:00 succeeded"), std::string::npos) << r.out;
  pqxx::connection c(url_);
  pqxx::work w(c);
  EXPECT_EQ(w.exec1("SELECT count(*) FROM sales WHERE day = '2026-01-05'")[0].as<int>(), 100);
}

}  // namespace
}  // namespace dwfs
