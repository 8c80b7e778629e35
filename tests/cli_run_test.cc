// dwfs tasks test | tasks render | dags test, in-process with real processes.
#include <gtest/gtest.h>

#include <sstream>

#include "cli_test_util.h"
#include "test_util.h"

namespace dwfs {
namespace {

using Result = CliResult;

class CliRunTest : public testing::Test {
 protected:
  void SetUp() override {
    dags_.Write("d.yaml",
                "dag_id: d\nschedule: '@daily'\nstart_date: 2026-01-01\nparams: {who: world}\ntasks:\n"
                "  - {task_id: hello, bash_command: 'echo hello {{ params.who }} {{ ds }}'}\n"
                "  - {task_id: boom, bash_command: 'echo about to fail; exit 4', upstream: [hello]}\n"
                "  - {task_id: after, bash_command: 'echo never', upstream: [boom]}\n"
                "  - {task_id: typo, bash_command: 'echo {{ params.whom }}'}\n"
                "  - {task_id: pull, bash_command: 'echo got {{ ti.xcom_pull(\"hello\") }}', upstream: [hello]}\n"
                "  - {task_id: query, operator: sql, conn_id: nowhere, sql: 'SELECT 1'}\n");
  }
  Result Run(std::vector<std::string> args) {
    std::map<std::string, std::string> env = {{"DWFS_HOME", home_.path()},
                                              {"DWFS__CORE__DAGS_FOLDER", dags_.path()},
                                              {"PATH", "/usr/local/bin:/usr/bin:/bin"}};
    return RunCliForTest(std::move(args), env);
  }
  TempDir home_, dags_;
};

TEST_F(CliRunTest, TasksTestStreamsTheLogAndExitsWithTheTaskStatus) {
  Result r = Run({"tasks", "test", "d", "hello", "2026-01-05"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("] hello world 2026-01-05\n"), std::string::npos) << r.out;
  r = Run({"tasks", "test", "d", "hello", "2026-01-05", "-t", "{\"who\": \"dwfs\"}"});
  EXPECT_NE(r.out.find("] hello dwfs 2026-01-05\n"), std::string::npos) << r.out;
  r = Run({"tasks", "test", "d", "boom", "2026-01-05"});  // dependencies ignored
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("about to fail"), std::string::npos);
  EXPECT_NE(r.err.find("bash exit status 4"), std::string::npos) << r.err;
}

TEST_F(CliRunTest, BadInputNamesTheThingAtFault) {
  Result r = Run({"tasks", "test", "d", "typo", "2026-01-05"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("unknown template variable 'params.whom' in bash_command"), std::string::npos) << r.err;
  r = Run({"tasks", "test", "d", "query", "2026-01-05"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("connection 'nowhere' not found"), std::string::npos) << r.err;
  r = Run({"tasks", "test", "d", "nope", "2026-01-05"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("task 'nope' not found in DAG 'd'"), std::string::npos);
  r = Run({"tasks", "test", "d", "hello", "2026-01-05", "-t", "{not json"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("invalid JSON"), std::string::npos) << r.err;
}

TEST_F(CliRunTest, TasksRenderPrintsRenderedFields) {
  Result r = Run({"tasks", "render", "d", "hello", "2026-01-05"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("# property: bash_command"), std::string::npos);
  EXPECT_NE(r.out.find("echo hello world 2026-01-05\n"), std::string::npos) << r.out;
}

TEST_F(CliRunTest, DagsTestRunsEveryTaskReportsAndFails) {
  Result r = Run({"dags", "test", "d", "2026-01-05"});
  EXPECT_EQ(r.code, 1);
  // Per-task lines, the failing task's log tail, the summary table.
  EXPECT_NE(r.out.find("boom                           failed"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("last lines of the log of boom, try 1"), std::string::npos);
  EXPECT_NE(r.out.find("about to fail"), std::string::npos);
  EXPECT_NE(r.out.find("after   | upstream_failed"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("pull    | success"), std::string::npos);
  EXPECT_NE(r.err.find("run failed"), std::string::npos) << r.err;
}

TEST_F(CliRunTest, ExampleTriggerRulesDagSucceeds) {
  CliResult r = RunCliForTest({"dags", "test", "trigger_rules"},
                              {{"DWFS_HOME", home_.path()},
                               {"DWFS__CORE__DAGS_FOLDER", std::string(DWFS_SOURCE_DIR) + "/dags"},
                               {"PATH", "/usr/local/bin:/usr/bin:/bin"}});
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("on_always"), std::string::npos);
  EXPECT_NE(r.out.find("succeeded"), std::string::npos);
}

}  // namespace
}  // namespace dwfs
