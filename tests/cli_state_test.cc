// The stored-state leaves of dags and tasks (pause, unpause, trigger,
// list-runs, state; tasks state, states-for-dag-run, clear, logs), run
// in-process through RunCli against a private PostgreSQL database. Task
// instances are written with Store::Apply, as the scheduler would.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <iostream>
#include <sstream>

#include "cli_test_util.h"
#include "dwfs/store.h"
#include "test_database.h"
#include "test_util.h"

namespace dwfs {
namespace {

// extract -> transform -> load; report on its own.
const char* kEtl =
    "dag_id: etl\nschedule: '@daily'\nstart_date: 2026-01-01\ntimezone: Europe/Paris\ntasks:\n"
    "  - task_id: extract\n    bash_command: 'true'\n"
    "  - task_id: transform\n    bash_command: 'true'\n    upstream: [extract]\n"
    "  - task_id: load\n    bash_command: 'true'\n    upstream: [transform]\n"
    "  - task_id: report\n    bash_command: 'true'\n";

class CliStateTest : public testing::Test {
 protected:
  void SetUp() override { dags_.Write("etl.yaml", kEtl); }

  CliResult Run(std::vector<std::string> args) {
    return RunCliForTest(std::move(args), Env());
  }
  std::map<std::string, std::string> Env() const {
    return {{"DWFS_HOME", home_.path()}, {"DWFS__CORE__DAGS_FOLDER", dags_.path()}, {"DWFS_DATABASE_URL", db_.url()}};
  }

  CliResult RunWithInput(std::vector<std::string> args, const std::string& input) {
    return RunCliForTestWithInput(std::move(args), Env(), input);
  }

  static Instant At(const std::string& iso) {
    Instant t;
    EXPECT_TRUE(ParseDateTime(iso, TimeZone(), &t).ok()) << iso;
    return t;
  }

  // Triggers run `run_id` at 2026-01-05 (Paris) and writes, as a scheduler
  // would, extract success (two tries, with logs), transform failed, load
  // upstream_failed, report success; the run failed.
  void FailedRun(const std::string& run_id) {
    CliResult r = Run({"dags", "trigger", "etl", "-e", "2026-01-05", "-r", run_id});
    ASSERT_EQ(r.code, 0) << r.err;
    std::unique_ptr<Store> store = db_.OpenStore();
    ASSERT_NE(store, nullptr);
    StoreBatch batch;
    auto ti = [&](const std::string& task, TaskState state, int tries) {
      TaskInstanceRecord t;
      t.dag_id = "etl";
      t.run_id = run_id;
      t.task_id = task;
      t.ti.state = state;
      t.ti.try_number = tries;
      t.ti.max_tries = 2;
      if (tries > 0) {
        t.ti.start_date = At("2026-01-06T01:00:00Z");
        t.ti.end_date = At("2026-01-06T01:00:30Z");
        t.duration = 30.0;
        t.hostname = "worker-1";
        t.pid = 4242;
      }
      batch.instances.push_back(t);
    };
    ti("extract", TaskState::kSuccess, 2);
    ti("transform", TaskState::kFailed, 1);
    ti("load", TaskState::kUpstreamFailed, 0);
    ti("report", TaskState::kSuccess, 1);
    for (int n : {1, 2}) {
      TryRecord t;
      t.dag_id = "etl";
      t.run_id = run_id;
      t.task_id = "extract";
      t.try_number = n;
      t.state = n == 1 ? TaskState::kUpForRetry : TaskState::kSuccess;
      t.start_date = At("2026-01-06T01:00:00Z");
      t.end_date = At("2026-01-06T01:00:30Z");
      t.log_path = logs_.Write("extract/" + std::to_string(n) + ".log",
                               "try " + std::to_string(n) + " line one\n\ttabbed line\n");
      batch.tries.push_back(t);
    }
    RunRecord run;
    ASSERT_TRUE(store->GetRun("etl", run_id, &run).ok());
    run.state = RunState::kFailed;
    run.start_date = At("2026-01-06T01:00:00Z");
    run.end_date = At("2026-01-06T01:01:00Z");
    batch.runs.push_back(run);
    std::set<std::string> lost;
    Status st = store->Apply(batch, std::nullopt, &lost);
    ASSERT_TRUE(st.ok()) << st.message();
    EXPECT_TRUE(lost.empty());
  }

  std::string TiState(const std::string& task) {
    CliResult r = Run({"tasks", "state", "etl", task, "2026-01-05"});
    EXPECT_EQ(r.code, 0) << r.err;
    return r.out;
  }

  TestDatabase db_;
  TempDir home_, dags_, logs_;
};

TEST_F(CliStateTest, TriggerWithConfAndRunIdThenListRuns) {
  DWFS_REQUIRE_DB(db_);
  CliResult r = Run({"dags", "trigger", "etl", "-e", "2026-01-05", "-r", "my_run", "-c", "{\"x\": [1, 2]}"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "my_run\n");
  r = Run({"dags", "trigger", "etl", "-e", "2026-01-07T06:00:00"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "manual__2026-01-07T05:00:00+00:00\n");

  // A duplicate run id, then a duplicate logical date.
  r = Run({"dags", "trigger", "etl", "-e", "2026-01-09", "-r", "my_run"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("my_run"), std::string::npos) << r.err;
  r = Run({"dags", "trigger", "etl", "-e", "2026-01-05", "-r", "other"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("other"), std::string::npos) << r.err;

  r = Run({"dags", "trigger", "etl", "-c", "{not json"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--conf"), std::string::npos) << r.err;
  r = Run({"dags", "trigger", "etl", "-c", "[1]"});
  EXPECT_EQ(r.code, 2);
  r = Run({"dags", "trigger", "nope"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("'nope'"), std::string::npos) << r.err;

  r = Run({"dags", "list-runs", "etl", "-o", "json"});
  ASSERT_EQ(r.code, 0) << r.err;
  YAML::Node j = YAML::Load(r.out);
  ASSERT_EQ(j.size(), 2u);  // newest first
  for (const char* key : {"dag_id", "run_id", "run_type", "state", "logical_date", "data_interval_start",
                          "data_interval_end", "start_date", "end_date", "conf"}) {
    EXPECT_TRUE(j[1][key].IsDefined()) << key;
  }
  EXPECT_EQ(j[0]["run_id"].as<std::string>(), "manual__2026-01-07T05:00:00+00:00");
  YAML::Node run = j[1];
  EXPECT_EQ(run["dag_id"].as<std::string>(), "etl");
  EXPECT_EQ(run["run_id"].as<std::string>(), "my_run");
  EXPECT_EQ(run["run_type"].as<std::string>(), "manual");
  EXPECT_EQ(run["state"].as<std::string>(), "queued");
  EXPECT_EQ(run["logical_date"].as<std::string>(), "2026-01-05T00:00:00+01:00");
  EXPECT_EQ(run["data_interval_start"].as<std::string>(), "2026-01-05T00:00:00+01:00");
  EXPECT_EQ(run["data_interval_end"].as<std::string>(), "2026-01-06T00:00:00+01:00");
  EXPECT_TRUE(run["start_date"].IsNull());
  EXPECT_TRUE(run["end_date"].IsNull());
  EXPECT_EQ(run["conf"]["x"][1].as<int>(), 2);

  EXPECT_EQ(YAML::Load(Run({"dags", "list-runs", "etl", "--state", "running", "-o", "json"}).out).size(), 0u);
  EXPECT_EQ(YAML::Load(Run({"dags", "list-runs", "etl", "--state", "queued", "-o", "json"}).out).size(), 2u);
  EXPECT_EQ(Run({"dags", "list-runs", "etl", "--state", "bogus"}).code, 2);
  r = Run({"dags", "list-runs", "etl"});
  EXPECT_EQ(r.out.rfind("dag_id", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("my_run"), std::string::npos) << r.out;
}

TEST_F(CliStateTest, DagsState) {
  DWFS_REQUIRE_DB(db_);
  ASSERT_EQ(Run({"dags", "trigger", "etl", "-e", "2026-01-05"}).code, 0);
  CliResult r = Run({"dags", "state", "etl", "2026-01-05"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "queued\n");
  r = Run({"dags", "state", "etl", "2026-01-04T23:00:00Z"});  // the same instant
  EXPECT_EQ(r.out, "queued\n");
  r = Run({"dags", "state", "etl", "2026-01-06"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "dwfs: DAG 'etl' has no run at 2026-01-06T00:00:00+01:00\n");
  EXPECT_EQ(Run({"dags", "state", "etl", "not-a-date"}).code, 2);
  EXPECT_EQ(Run({"dags", "state", "ghost", "2026-01-05"}).code, 2);
}

TEST_F(CliStateTest, PauseAndUnpauseShowInDagsList) {
  DWFS_REQUIRE_DB(db_);
  CliResult r = Run({"dags", "pause", "etl"});
  EXPECT_EQ(r.code, 2);  // not stored yet
  EXPECT_NE(r.err.find("'etl'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("not been seen by a scheduler"), std::string::npos) << r.err;

  ASSERT_EQ(Run({"dags", "trigger", "etl", "-e", "2026-01-05"}).code, 0);  // stores the DAG
  r = Run({"dags", "pause", "etl"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "DAG etl paused\n");
  YAML::Node j = YAML::Load(Run({"dags", "list", "-o", "json"}).out);
  ASSERT_EQ(j.size(), 1u);
  EXPECT_TRUE(j[0]["is_paused"].as<bool>());

  r = Run({"dags", "unpause", "etl"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "DAG etl unpaused\n");
  j = YAML::Load(Run({"dags", "list", "-o", "json"}).out);
  EXPECT_FALSE(j[0]["is_paused"].as<bool>());
}

TEST_F(CliStateTest, TaskStatesOfARun) {
  DWFS_REQUIRE_DB(db_);
  ASSERT_EQ(Run({"dags", "trigger", "etl", "-e", "2026-01-05", "-r", "r1"}).code, 0);
  EXPECT_EQ(TiState("transform"), "none\n");  // no row yet
  CliResult r = Run({"tasks", "state", "etl", "nope", "2026-01-05"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("'nope'"), std::string::npos) << r.err;
  r = Run({"tasks", "states-for-dag-run", "etl", "r1", "-o", "json"});
  ASSERT_EQ(r.code, 0) << r.err;
  YAML::Node j = YAML::Load(r.out);
  ASSERT_EQ(j.size(), 4u);
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(j[i]["state"].as<std::string>(), "none");
    EXPECT_TRUE(j[i]["start_date"].IsNull());
  }
  // Dependency order.
  EXPECT_EQ(j[0]["task_id"].as<std::string>(), "extract");
  EXPECT_EQ(j[1]["task_id"].as<std::string>(), "transform");
  EXPECT_EQ(j[3]["task_id"].as<std::string>(), "report");
}

TEST_F(CliStateTest, StatesForDagRunAfterApply) {
  DWFS_REQUIRE_DB(db_);
  ASSERT_NO_FATAL_FAILURE(FailedRun("r1"));
  EXPECT_EQ(TiState("extract"), "success\n");
  EXPECT_EQ(TiState("load"), "upstream_failed\n");
  EXPECT_EQ(Run({"dags", "state", "etl", "2026-01-05"}).out, "failed\n");

  CliResult r = Run({"tasks", "states-for-dag-run", "etl", "r1", "-o", "json"});
  ASSERT_EQ(r.code, 0) << r.err;
  YAML::Node j = YAML::Load(r.out);
  ASSERT_EQ(j.size(), 4u);
  for (const char* key : {"dag_id", "run_id", "task_id", "state", "try_number", "start_date", "end_date",
                          "duration", "hostname", "pid"}) {
    EXPECT_TRUE(j[0][key].IsDefined()) << key;
  }
  std::map<std::string, YAML::Node> by_task;
  for (size_t i = 0; i < j.size(); ++i) by_task[j[i]["task_id"].as<std::string>()] = j[i];
  EXPECT_EQ(by_task["extract"]["run_id"].as<std::string>(), "r1");
  EXPECT_EQ(by_task["extract"]["try_number"].as<int>(), 2);
  EXPECT_EQ(by_task["extract"]["start_date"].as<std::string>(), "2026-01-06T02:00:00+01:00");
  EXPECT_EQ(by_task["extract"]["duration"].as<double>(), 30.0);
  EXPECT_EQ(by_task["extract"]["hostname"].as<std::string>(), "worker-1");
  EXPECT_EQ(by_task["extract"]["pid"].as<int>(), 4242);
  EXPECT_EQ(by_task["transform"]["state"].as<std::string>(), "failed");
  EXPECT_EQ(by_task["load"]["state"].as<std::string>(), "upstream_failed");
  EXPECT_TRUE(by_task["load"]["start_date"].IsNull());
  EXPECT_EQ(by_task["report"]["state"].as<std::string>(), "success");

  r = Run({"tasks", "states-for-dag-run", "etl", "nope"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("'nope'"), std::string::npos) << r.err;
}

TEST_F(CliStateTest, ClearWithDownstreamResetsInstancesAndReopensTheRun) {
  DWFS_REQUIRE_DB(db_);
  ASSERT_NO_FATAL_FAILURE(FailedRun("r1"));

  // Asked without -y: "n" aborts and changes nothing.
  CliResult r = RunWithInput({"tasks", "clear", "etl", "-t", "^trans", "-d"}, "n\n");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("[y/N]"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("load"), std::string::npos) << r.out;  // listed
  EXPECT_EQ(TiState("transform"), "failed\n");

  r = Run({"tasks", "clear", "etl", "-t", "^trans", "-d", "-y"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("Cleared 2 task instance(s)"), std::string::npos) << r.out;
  EXPECT_EQ(TiState("transform"), "none\n");
  EXPECT_EQ(TiState("load"), "none\n");
  EXPECT_EQ(TiState("extract"), "success\n");
  EXPECT_EQ(TiState("report"), "success\n");
  EXPECT_EQ(Run({"dags", "state", "etl", "2026-01-05"}).out, "queued\n");
}

TEST_F(CliStateTest, ClearFiltersByDateUpstreamAndOnlyFailed) {
  DWFS_REQUIRE_DB(db_);
  ASSERT_NO_FATAL_FAILURE(FailedRun("r1"));
  // Outside the date range: nothing.
  CliResult r = Run({"tasks", "clear", "etl", "-s", "2026-01-06", "-y"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "No task instances to clear.\n");
  // Only failed among load and its upstreams: transform and load, not extract.
  r = Run({"tasks", "clear", "etl", "-t", "^load$", "-u", "--only-failed", "-s", "2026-01-05", "-e", "2026-01-05",
           "-y"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("Cleared 2 task instance(s)"), std::string::npos) << r.out;
  EXPECT_EQ(TiState("transform"), "none\n");
  EXPECT_EQ(TiState("load"), "none\n");
  EXPECT_EQ(TiState("extract"), "success\n");
  EXPECT_EQ(Run({"tasks", "clear", "etl", "-t", "(", "-y"}).code, 2);  // bad regex
}

TEST_F(CliStateTest, LogsPrintATrysLogFile) {
  DWFS_REQUIRE_DB(db_);
  ASSERT_NO_FATAL_FAILURE(FailedRun("r1"));
  CliResult r = Run({"tasks", "logs", "etl", "extract", "2026-01-05"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "try 2 line one\n\ttabbed line\n");
  r = Run({"tasks", "logs", "etl", "extract", "2026-01-05", "--try", "1"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "try 1 line one\n\ttabbed line\n");
  r = Run({"tasks", "logs", "etl", "extract", "2026-01-05", "--try", "3"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("no try 3"), std::string::npos) << r.err;
  r = Run({"tasks", "logs", "etl", "load", "2026-01-05"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("'load'"), std::string::npos) << r.err;
  EXPECT_EQ(Run({"tasks", "logs", "etl", "extract", "2026-01-09"}).code, 2);
}

}  // namespace
}  // namespace dwfs
