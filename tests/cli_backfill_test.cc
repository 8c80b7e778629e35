// dwfs dags backfill through the command line, in process, against a
// private PostgreSQL database: exit statuses, the flags that decide what
// happens to existing runs (--reset-dagruns, --rerun-failed-tasks, -t, -i,
// -y), the dry run, and errors.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "cli_test_util.h"
#include "dwfs/store.h"
#include "test_database.h"
#include "test_util.h"

namespace dwfs {
namespace {

class CliBackfillTest : public testing::Test {
 protected:
  void SetUp() override {
    marker_ = home_.path() + "/fixed";
    // `load` fails until the marker exists; `report` follows it.
    home_.Write("dags/etl.yaml",
                "dag_id: etl\nschedule: \"@daily\"\nstart_date: 2026-01-01\nmax_active_runs: 2\ntasks:\n"
                "  - task_id: extract\n    bash_command: echo extracting {{ ds }}\n"
                "  - task_id: load\n    upstream: [extract]\n    bash_command: test -f " + marker_ + "\n"
                "  - task_id: report\n    upstream: [load]\n    bash_command: echo report\n"
                "  - task_id: other\n    bash_command: echo other\n");
    home_.Write("dags/manual.yaml", "dag_id: manual\nschedule: null\nstart_date: 2026-01-01\ntasks:\n"
                                    "  - task_id: a\n    bash_command: \"true\"\n");
  }

  std::map<std::string, std::string> Env() {
    const char* path = std::getenv("PATH");
    return {{"DWFS_HOME", home_.path()},
            {"DWFS__CORE__DAGS_FOLDER", home_.path() + "/dags"},
            {"DWFS__LOGGING__BASE_LOG_FOLDER", home_.path() + "/logs"},
            {"DWFS_DATABASE_URL", db_.url()},
            {"PATH", path ? path : "/usr/bin:/bin"}};
  }
  CliResult Run(std::vector<std::string> args) { return RunCliForTest(std::move(args), Env()); }

  void Fix() { std::ofstream(marker_) << "ok"; }

  std::map<std::string, TaskInstanceRecord> Instances(const std::string& run_id) {
    if (!store_) store_ = db_.OpenStore();
    std::vector<TaskInstanceRecord> rows;
    EXPECT_TRUE(store_->ListTaskInstances("etl", run_id, &rows).ok());
    std::map<std::string, TaskInstanceRecord> out;
    for (auto& r : rows) out[r.task_id] = r;
    return out;
  }
  std::vector<RunRecord> Runs() {
    if (!store_) store_ = db_.OpenStore();
    std::vector<RunRecord> runs;
    EXPECT_TRUE(store_->ListRuns("etl", std::nullopt, &runs).ok());
    return runs;
  }

  TestDatabase db_;
  TempDir home_;
  std::string marker_;
  std::unique_ptr<Store> store_;
};

const char kRun2[] = "backfill__2026-01-02T00:00:00+00:00";

TEST_F(CliBackfillTest, FailuresExitOneAndRerunFailedTasksRerunsOnlyThose) {
  DWFS_REQUIRE_DB(db_);
  CliResult r = Run({"dags", "backfill", "etl", "-s", "2026-01-01", "-e", "2026-01-03"});
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("0 succeeded, 3 failed"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("task load of run " + std::string(kRun2) + " failed"), std::string::npos) << r.out;
  ASSERT_EQ(Runs().size(), 3u);
  for (const RunRecord& run : Runs()) EXPECT_EQ(run.state, RunState::kFailed);

  // Again without flags: the failed runs are left alone, still exit 1.
  r = Run({"dags", "backfill", "etl", "-s", "2026-01-01", "-e", "2026-01-03"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("failed earlier"), std::string::npos) << r.out;
  EXPECT_EQ(Instances(kRun2)["load"].ti.try_number, 1);

  Fix();
  r = Run({"dags", "backfill", "etl", "-s", "2026-01-01", "-e", "2026-01-03", "--rerun-failed-tasks", "-y"});
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  auto tis = Instances(kRun2);
  EXPECT_EQ(tis["extract"].ti.try_number, 1);  // succeeded before: not rerun
  EXPECT_EQ(tis["other"].ti.try_number, 1);
  EXPECT_EQ(tis["load"].ti.try_number, 2);
  EXPECT_EQ(tis["report"].ti.state, TaskState::kSuccess);  // was upstream_failed
  for (const RunRecord& run : Runs()) EXPECT_EQ(run.state, RunState::kSuccess);
}

TEST_F(CliBackfillTest, SucceededRunsAreSkippedUnlessResetWhichAsksFirst) {
  DWFS_REQUIRE_DB(db_);
  Fix();
  ASSERT_EQ(Run({"dags", "backfill", "etl", "-s", "2026-01-02", "-e", "2026-01-02"}).code, 0);
  CliResult r = Run({"dags", "backfill", "etl", "-s", "2026-01-01", "-e", "2026-01-02"});
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("1 to create, 0 to resume, 0 to clear and rerun, 1 left alone"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("already succeeded"), std::string::npos) << r.out;
  EXPECT_EQ(Instances(kRun2)["load"].ti.try_number, 1);

  // --reset-dagruns asks; "n" changes nothing.
  r = RunCliForTestWithInput({"dags", "backfill", "etl", "-s", "2026-01-02", "-e", "2026-01-02", "--reset-dagruns"},
                             Env(), "n\n");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("This clears 4 task instance(s) in 1 existing run(s)"), std::string::npos) << r.out;
  EXPECT_EQ(Instances(kRun2)["load"].ti.try_number, 1);

  // -t load with its upstream, -y: extract and load run again, the rest not.
  r = Run({"dags", "backfill", "etl", "-s", "2026-01-02", "-e", "2026-01-02", "--reset-dagruns", "-y", "-t", "^load$"});
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  auto tis = Instances(kRun2);
  EXPECT_EQ(tis["extract"].ti.try_number, 2);
  EXPECT_EQ(tis["load"].ti.try_number, 2);
  EXPECT_EQ(tis["report"].ti.try_number, 1);
  EXPECT_EQ(tis["other"].ti.try_number, 1);

  // -i: the match only.
  r = Run({"dags", "backfill", "etl", "-s", "2026-01-02", "-e", "2026-01-02", "--reset-dagruns", "-y", "-t", "^load$",
           "-i"});
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  tis = Instances(kRun2);
  EXPECT_EQ(tis["extract"].ti.try_number, 2);
  EXPECT_EQ(tis["load"].ti.try_number, 3);
}

TEST_F(CliBackfillTest, ANewRangeWithTaskRegexRunsOnlyTheSelection) {
  DWFS_REQUIRE_DB(db_);
  CliResult r = Run({"dags", "backfill", "etl", "-s", "2026-01-02", "-e", "2026-01-02", "-t", "other"});
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  auto tis = Instances(kRun2);
  EXPECT_EQ(tis.size(), 1u);  // only `other` ran (the failing chain was not selected)
  EXPECT_EQ(tis["other"].ti.state, TaskState::kSuccess);
}

TEST_F(CliBackfillTest, DryRunRendersEveryTaskOfEveryRunAndRecordsNothing) {
  DWFS_REQUIRE_DB(db_);
  CliResult r = Run({"dags", "backfill", "etl", "-s", "2026-01-01", "-e", "2026-01-02", "--dry-run", "-t", "extract"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("echo extracting 2026-01-01"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("echo extracting 2026-01-02"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("-- task load"), std::string::npos) << r.out;  // not selected
  EXPECT_TRUE(Runs().empty());
}

TEST_F(CliBackfillTest, ConfReachesTheRunsItCreates) {
  DWFS_REQUIRE_DB(db_);
  Fix();
  CliResult r = Run({"dags", "backfill", "etl", "-s", "2026-01-02", "-e", "2026-01-02", "-c", "{\"full\": true}"});
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  std::vector<RunRecord> runs = Runs();
  ASSERT_EQ(runs.size(), 1u);
  const Json* full = runs[0].info.conf.Find("full");
  ASSERT_NE(full, nullptr) << runs[0].info.conf.Dump();
  EXPECT_TRUE(full->as_bool());
}

TEST_F(CliBackfillTest, BadInputIsOneClearLine) {
  DWFS_REQUIRE_DB(db_);
  CliResult r = Run({"dags", "backfill", "manual", "-s", "2026-01-01", "-e", "2026-01-02"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("no schedule"), std::string::npos) << r.err;
  r = Run({"dags", "backfill", "etl", "-s", "2026-01-05", "-e", "2026-01-01"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("before -s"), std::string::npos) << r.err;
  r = Run({"dags", "backfill", "etl", "-s", "2026-01-01", "-e", "2026-01-02", "-t", "nothing"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("no task of DAG 'etl' matches"), std::string::npos) << r.err;
  r = Run({"dags", "backfill", "nope", "-s", "2026-01-01", "-e", "2026-01-02"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("'nope' not found"), std::string::npos) << r.err;
  r = Run({"dags", "backfill", "etl", "-s", "yesterday", "-e", "2026-01-02"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("-s/--start-date"), std::string::npos) << r.err;
  EXPECT_TRUE(Runs().empty());
}

}  // namespace
}  // namespace dwfs
