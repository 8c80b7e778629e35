// dwfs tasks run: one task instance of a stored run, run now through the
// same engine as the scheduler and recorded (instance and try rows, log
// file), in-process against a private PostgreSQL database.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "cli_test_util.h"
#include "dwfs/store.h"
#include "test_database.h"
#include "test_util.h"

namespace dwfs {
namespace {

const char* kDag =
    "dag_id: chores\nschedule: null\nstart_date: 2026-01-01\ntasks:\n"
    "  - task_id: sweep\n    bash_command: echo sweeping for {{ ds }}\n"
    "  - task_id: mop\n    bash_command: echo no water; exit 3\n    upstream: [sweep]\n";

class CliTasksRunTest : public testing::Test {
 protected:
  void SetUp() override { home_.Write("dags/chores.yaml", kDag); }

  CliResult Run(std::vector<std::string> args) {
    const char* path = std::getenv("PATH");
    return RunCliForTest(std::move(args), {{"DWFS_HOME", home_.path()},
                                           {"DWFS__CORE__DAGS_FOLDER", home_.path() + "/dags"},
                                           {"DWFS__LOGGING__BASE_LOG_FOLDER", home_.path() + "/logs"},
                                           {"DWFS_DATABASE_URL", db_.url()},
                                           {"PATH", path ? path : "/usr/bin:/bin"}});
  }

  // Opens the store and triggers run r1 at 2026-01-05.
  void TriggerR1() {
    store_ = db_.OpenStore();
    ASSERT_NE(store_, nullptr);
    ASSERT_EQ(Run({"dags", "trigger", "chores", "-e", "2026-01-05", "-r", "r1"}).code, 0);
  }

  // The stored instance of `task` in run r1, or state none with no row.
  TaskInstanceRecord Instance(const std::string& task) {
    std::vector<TaskInstanceRecord> rows;
    EXPECT_TRUE(store_->ListTaskInstances("chores", "r1", &rows).ok());
    for (const TaskInstanceRecord& r : rows) {
      if (r.task_id == task) return r;
    }
    return {};
  }

  TestDatabase db_;
  TempDir home_;
  std::unique_ptr<Store> store_;
};

TEST_F(CliTasksRunTest, RunsOneTaskAndRecordsEachTry) {
  DWFS_REQUIRE_DB(db_);
  ASSERT_NO_FATAL_FAILURE(TriggerR1());

  CliResult r = Run({"tasks", "run", "chores", "sweep", "2026-01-05"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("try 1: success"), std::string::npos) << r.out;
  TaskInstanceRecord sweep = Instance("sweep");
  EXPECT_EQ(sweep.ti.state, TaskState::kSuccess);
  EXPECT_EQ(sweep.ti.try_number, 1);
  EXPECT_TRUE(sweep.pid.has_value());
  EXPECT_EQ(Instance("mop").task_id, "") << "only the named task runs";

  // Again: a second try of the same instance, with its own log.
  r = Run({"tasks", "run", "chores", "sweep", "2026-01-05"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(Instance("sweep").ti.try_number, 2);
  std::vector<TryRecord> tries;
  ASSERT_TRUE(store_->ListTries("chores", "r1", "sweep", &tries).ok());
  ASSERT_EQ(tries.size(), 2u);
  for (const TryRecord& t : tries) {
    EXPECT_EQ(t.state, TaskState::kSuccess);
    std::ifstream log(t.log_path);
    std::stringstream text;
    text << log.rdbuf();
    EXPECT_NE(text.str().find("sweeping for 2026-01-05"), std::string::npos) << t.log_path;
  }
  RunRecord run;
  ASSERT_TRUE(store_->GetRun("chores", "r1", &run).ok());
  EXPECT_EQ(run.state, RunState::kQueued) << "tasks run leaves the run's state to the scheduler";
}

TEST_F(CliTasksRunTest, AFailingTaskExitsOneAndIsRecordedFailed) {
  DWFS_REQUIRE_DB(db_);
  ASSERT_NO_FATAL_FAILURE(TriggerR1());
  CliResult r = Run({"tasks", "run", "chores", "mop", "2026-01-05"});
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("task mop failed"), std::string::npos) << r.err;
  TaskInstanceRecord mop = Instance("mop");
  EXPECT_EQ(mop.ti.state, TaskState::kFailed);
  EXPECT_EQ(mop.ti.try_number, 1);
}

TEST_F(CliTasksRunTest, WithoutARunAtThatDateItSaysHowToMakeOne) {
  DWFS_REQUIRE_DB(db_);
  CliResult r = Run({"tasks", "run", "chores", "sweep", "2026-03-01"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("has no run at 2026-03-01"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("dwfs dags trigger chores"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace dwfs
