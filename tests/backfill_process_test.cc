// `dwfs dags backfill` as a real process: Ctrl-C (SIGINT) terminates the
// running tasks' process groups, marks them, parks the runs and exits 1;
// the same command again resumes and succeeds. Every wait polls the store
// or the process under a failure-guard deadline.
#include <gtest/gtest.h>

#include <cstdlib>

#include "dwfs/store.h"
#include "dwfs_process.h"
#include "test_database.h"
#include "test_util.h"

namespace dwfs {
namespace {

TEST(BackfillProcess, CtrlCStopsCleanlyAndTheSameCommandResumes) {
  TestDatabase db;
  DWFS_REQUIRE_DB(db);
  TempDir home;
  std::string marker = home.path() + "/go";
  std::string pids = home.path() + "/pids";
  // `wait` records its pid (it leads its process group), then blocks until the marker exists.
  home.Write("dags/slow.yaml", "dag_id: slow\nschedule: \"@daily\"\nstart_date: 2026-01-01\nmax_active_runs: 2\n"
                               "tasks:\n  - task_id: wait\n    bash_command: echo $$ >> " + pids +
                               "; while ! test -f " + marker + "; do sleep 0.05; done\n");
  const char* path = std::getenv("PATH");
  std::map<std::string, std::string> env = {{"DWFS_HOME", home.path()},
                                            {"DWFS__CORE__DAGS_FOLDER", home.path() + "/dags"},
                                            {"DWFS__LOGGING__BASE_LOG_FOLDER", home.path() + "/logs"},
                                            {"DWFS_DATABASE_URL", db.url()},
                                            {"PATH", path ? path : "/usr/bin:/bin"}};
  std::vector<std::string> args = {"dags", "backfill", "slow", "-s", "2026-01-01", "-e", "2026-01-03"};
  std::unique_ptr<Store> store = db.OpenStore();
  ASSERT_NE(store, nullptr);
  auto running = [&] {
    int n = 0;
    std::vector<RunRecord> runs;
    if (!store->ListRuns("slow", std::nullopt, &runs).ok()) return 0;
    for (const RunRecord& r : runs) {
      std::vector<TaskInstanceRecord> rows;
      if (!store->ListTaskInstances("slow", r.info.run_id, &rows).ok()) continue;
      for (const TaskInstanceRecord& t : rows) n += t.ti.state == TaskState::kRunning && t.pid.has_value();
    }
    return n;
  };
  {
    DwfsProcess first(args, env, home.path() + "/first.log");
    ASSERT_TRUE(first.started());
    std::vector<pid_t> tasks;
    auto read_pids = [&] {
      tasks.clear();
      for (std::istringstream in(ReadFile(pids)); in;) {
        pid_t p = 0;
        if (in >> p) tasks.push_back(p);
      }
      return tasks.size();
    };
    ASSERT_TRUE(WaitFor([&] { return (running() == 2 && read_pids() == 2) || first.Exited(); })) << first.Log();
    ASSERT_FALSE(first.Exited()) << first.Log();
    first.Signal(SIGINT);
    ASSERT_TRUE(first.WaitExit());
    EXPECT_EQ(first.exit_code(), 1) << first.Log();
    EXPECT_NE(first.Log().find("run the same command again to resume"), std::string::npos) << first.Log();
    for (pid_t p : tasks) EXPECT_TRUE(WaitFor([&] { return !GroupAlive(p); })) << "task group " << p << " survived";
  }
  std::vector<RunRecord> parked;
  ASSERT_TRUE(store->ListRuns("slow", std::nullopt, &parked).ok());
  ASSERT_EQ(parked.size(), 2u);
  for (const RunRecord& r : parked) EXPECT_EQ(r.state, RunState::kQueued) << r.info.run_id;
  EXPECT_EQ(running(), 0);

  { std::ofstream(marker) << "go"; }
  DwfsProcess again(args, env, home.path() + "/again.log");
  ASSERT_TRUE(again.WaitExit());
  EXPECT_EQ(again.exit_code(), 0) << again.Log();
  EXPECT_NE(again.Log().find("1 to create, 2 to resume"), std::string::npos) << again.Log();
  std::vector<RunRecord> runs;
  ASSERT_TRUE(store->ListRuns("slow", std::nullopt, &runs).ok());
  ASSERT_EQ(runs.size(), 3u);
  for (const RunRecord& r : runs) EXPECT_EQ(r.state, RunState::kSuccess) << r.info.run_id;
}

}  // namespace
}  // namespace dwfs
