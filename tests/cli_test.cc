// The command line, run in-process through RunCli with a fixed environment.
#include "cli.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <cstdio>
#include <sstream>

#include "cli_test_util.h"
#include "test_util.h"

namespace dwfs {
namespace {

using Result = CliResult;

class CliTest : public testing::Test {
 protected:
  void SetUp() override {
    dags_.Write("tutorial.yaml",
                "dag_id: tutorial\nschedule: '@daily'\nstart_date: 2026-01-01\ntimezone: America/New_York\n"
                "tags: [example, x]\ntasks:\n  - task_id: print_date\n    bash_command: date\n"
                "  - task_id: sleep\n    bash_command: sleep 5\n    upstream: [print_date]\n"
                "  - task_id: templated\n    bash_command: ls\n    depends_on: [print_date]\n"
                "    trigger_rule: all_done\n");
    dags_.Write("sub/manual.yml", "dag_id: manual\nschedule: null\ntasks:\n  - task_id: a\n    bash_command: 'true'\n");
    dags_.Write("sub/broken.yaml", "dag_id: broken\nschedule: '@daily'\ntasks:\n  - task_id: a\n    bash_command: x\n");
  }

  Result Run(std::vector<std::string> args, std::map<std::string, std::string> env = {}) {
    env["DWFS_HOME"] = home_.path();
    env["DWFS__CORE__DAGS_FOLDER"] = dags_.path();
    return RunCliForTest(std::move(args), env);
  }

  TempDir home_, dags_;
};

TEST_F(CliTest, DagsListJson) {
  Result r = Run({"dags", "list", "-o", "json"});
  ASSERT_EQ(r.code, 0) << r.err;
  YAML::Node j = YAML::Load(r.out);
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[0]["dag_id"].as<std::string>(), "manual");
  YAML::Node t = j[1];
  for (const char* key : {"dag_id", "fileloc", "schedule", "timezone", "is_paused", "tags", "next_logical_date"}) {
    EXPECT_TRUE(t[key].IsDefined()) << key;
  }
  EXPECT_EQ(t["schedule"].as<std::string>(), "@daily");
  EXPECT_EQ(t["timezone"].as<std::string>(), "America/New_York");
  EXPECT_EQ(t["is_paused"].as<bool>(), false);
  EXPECT_EQ(t["tags"].size(), 2u);
  EXPECT_EQ(t["fileloc"].as<std::string>(), dags_.path() + "/tutorial.yaml");
  EXPECT_TRUE(j[0]["schedule"].IsNull());
  EXPECT_TRUE(j[0]["next_logical_date"].IsNull());
}

TEST_F(CliTest, DagsListTableWarnsAboutImportErrors) {
  Result r = Run({"dags", "list"});
  ASSERT_EQ(r.code, 0);
  EXPECT_EQ(r.out.rfind("dag_id", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("tutorial"), std::string::npos);
  EXPECT_NE(r.err.find("1 DAG file(s) failed to load"), std::string::npos) << r.err;
}

TEST_F(CliTest, ListImportErrorsJson) {
  Result r = Run({"dags", "list-import-errors", "-o", "json"});
  ASSERT_EQ(r.code, 0);
  YAML::Node j = YAML::Load(r.out);
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["filepath"].as<std::string>(), dags_.path() + "/sub/broken.yaml");
  EXPECT_EQ(j[0]["line"].as<int>(), 2);
  EXPECT_NE(j[0]["error"].as<std::string>().find("start_date"), std::string::npos);
}

TEST_F(CliTest, NextExecutionPlainByDefault) {
  Result r = Run({"dags", "next-execution", "tutorial", "-n", "3", "--after", "2026-03-07"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "2026-03-08T00:00:00-05:00\n2026-03-09T00:00:00-04:00\n2026-03-10T00:00:00-04:00\n");
  r = Run({"dags", "next-execution", "tutorial", "--after", "2026-03-07", "-o", "json"});
  EXPECT_EQ(r.out, "[{\"logical_date\":\"2026-03-08T00:00:00-05:00\"}]\n");
}

TEST_F(CliTest, TasksListJsonAndTree) {
  Result r = Run({"tasks", "list", "tutorial", "-o", "json"});
  ASSERT_EQ(r.code, 0);
  YAML::Node j = YAML::Load(r.out);
  ASSERT_EQ(j.size(), 3u);
  EXPECT_EQ(j[0]["task_id"].as<std::string>(), "print_date");
  EXPECT_EQ(j[0]["operator"].as<std::string>(), "bash");
  EXPECT_EQ(j[2]["upstream"][0].as<std::string>(), "print_date");
  EXPECT_EQ(j[2]["trigger_rule"].as<std::string>(), "all_done");
  r = Run({"tasks", "list", "tutorial", "--tree"});
  EXPECT_EQ(r.out, "<Task(bash): print_date>\n    <Task(bash): sleep>\n    <Task(bash): templated>\n");
}

TEST_F(CliTest, DagsShowTextAndDot) {
  Result r = Run({"dags", "show", "tutorial", "--dot"});
  ASSERT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("digraph \"tutorial\""), std::string::npos);
  EXPECT_NE(r.out.find("\"print_date\" -> \"sleep\";"), std::string::npos);
  EXPECT_NE(r.out.find("\"print_date\" -> \"templated\" [label=\"all_done\"];"), std::string::npos);
  r = Run({"dags", "show", "tutorial"});
  EXPECT_NE(r.out.find("sleep"), std::string::npos);
  EXPECT_NE(r.out.find("<- print_date"), std::string::npos);
}

TEST_F(CliTest, ExitStatusTwoForBadInput) {
  struct {
    std::vector<std::string> args;
    std::string err;
  } cases[] = {
      {{"dags", "show", "nope"}, "DAG 'nope' not found"},
      {{"dags", "next-execution", "tutorial", "--after", "2026-02-30"}, "--after: invalid date"},
      {{"dags", "list", "-o", "xml"}, "use table, json or plain"},
      {{"dags", "frobnicate"}, "dwfs dags: unknown command 'frobnicate'"},
      {{"config", "get-value", "core", "nope"}, "unknown configuration key core.nope"},
      {{"--config", "/nonexistent.yaml", "dags", "list"}, "/nonexistent.yaml: configuration file not found"},
      {{"dags", "list", "--config", "/nonexistent.yaml"}, "configuration file not found"},
  };
  for (const auto& c : cases) {
    Result r = Run(c.args);
    EXPECT_EQ(r.code, 2) << c.args[1];
    EXPECT_NE(r.err.find(c.err), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one line: " << r.err;
  }
}

TEST_F(CliTest, HelpExitsZero) {
  Result r = Run({"--help"});
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("dags"), std::string::npos);
  r = Run({"dags", "next-execution", "--help"});
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("--after"), std::string::npos);
}

TEST_F(CliTest, ConfigCommandsMaskSecrets) {
  std::map<std::string, std::string> env = {{"DWFS_DATABASE_URL", "postgresql://dwfs:hunter2@db/dwfs"}};
  Result r = Run({"config", "get-value", "database", "url"}, env);
  EXPECT_EQ(r.out, "postgresql://dwfs:***@db/dwfs\n");
  r = Run({"config", "list"}, env);
  EXPECT_EQ(r.out.find("hunter2"), std::string::npos);
  EXPECT_NE(r.out.find("parallelism: 32"), std::string::npos);
  r = Run({"config", "list", "-o", "json"}, env);
  EXPECT_EQ(r.out.find("hunter2"), std::string::npos);
  r = Run({"config", "get-value", "core", "parallelism"}, {{"DWFS__CORE__PARALLELISM", "3"}});
  EXPECT_EQ(r.out, "3\n");
}

// The real binary links and runs.
TEST(CliBinary, Version) {
  FILE* p = popen(DWFS_BINARY " version", "r");
  ASSERT_NE(p, nullptr);
  char buf[256] = {};
  size_t n = fread(buf, 1, sizeof buf - 1, p);
  EXPECT_EQ(pclose(p), 0);
  EXPECT_EQ(std::string(buf, n).rfind("dwfs 0.", 0), 0u);
}

}  // namespace
}  // namespace dwfs
