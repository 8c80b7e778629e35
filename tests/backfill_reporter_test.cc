// BackfillReporter: the status line redrawn in place on a terminal, plain
// event lines otherwise, and the summary.
#include <gtest/gtest.h>

#include <sstream>

#include "backfill_reporter.h"
#include "dwfs/dag_loader.h"

namespace dwfs {
namespace {

Dag TwoTasks() {
  Dag dag;
  ImportError error;
  EXPECT_TRUE(ParseDagText("dag_id: d\nschedule: \"@daily\"\nstart_date: 2026-01-01\ntasks:\n"
                           "  - task_id: a\n    bash_command: \"true\"\n",
                           "d.yaml", DagDefaults(), &dag, &error));
  return dag;
}

std::vector<BackfillRun> ThreeRuns(const Dag& dag) {
  std::vector<BackfillRun> runs;
  BackfillOptions o;
  EXPECT_TRUE(ParseDateTime("2026-01-01", TimeZone(), &o.start).ok());
  EXPECT_TRUE(ParseDateTime("2026-01-03", TimeZone(), &o.end).ok());
  EXPECT_TRUE(PlanBackfill(dag, o, {}, &runs).ok());
  return runs;
}

TEST(BackfillReporter, PlainOutputHasOneLinePerEventAndNoRedrawing) {
  Dag dag = TwoTasks();
  std::vector<BackfillRun> runs = ThreeRuns(dag);
  std::ostringstream out;
  BackfillReporter r(out, /*tty=*/false, dag, [] { return 1; });
  r.Begin(runs);
  r.OnRunStarted(runs[0]);
  runs[0].phase = BackfillRun::Phase::kDone;
  runs[0].result = RunState::kSuccess;
  r.OnRunDone(runs[0]);
  r.Refresh();  // nothing on a pipe
  r.End(runs, false);
  std::string s = out.str();
  EXPECT_EQ(s.find('\r'), std::string::npos) << s;
  EXPECT_NE(s.find("3 run(s) in the range: 3 to create"), std::string::npos) << s;
  EXPECT_NE(s.find("run backfill__2026-01-01T00:00:00+00:00 started"), std::string::npos) << s;
  EXPECT_NE(s.find("run backfill__2026-01-01T00:00:00+00:00 success; 1/3 runs done"), std::string::npos) << s;
  EXPECT_NE(s.find("1 succeeded, 0 failed, 2 not finished, of 3 run(s)"), std::string::npos) << s;
}

TEST(BackfillReporter, TerminalOutputRedrawsAStatusLine) {
  Dag dag = TwoTasks();
  std::vector<BackfillRun> runs = ThreeRuns(dag);
  std::ostringstream out;
  int tasks = 2;
  BackfillReporter r(out, /*tty=*/true, dag, [&] { return tasks; });
  r.Begin(runs);
  r.OnRunStarted(runs[0]);
  r.OnRunStarted(runs[1]);
  r.Refresh();
  std::string s = out.str();
  std::string status = "\r\033[K[backfill d] 0/3 runs done";
  ASSERT_NE(s.rfind(status), std::string::npos) << s;
  EXPECT_NE(s.find("2 run(s), 2 task(s) running | 0 task failure(s)", s.rfind(status)), std::string::npos) << s;
  r.End(runs, true);
  EXPECT_NE(out.str().find("interrupted: 0 succeeded"), std::string::npos) << out.str();
}

}  // namespace
}  // namespace dwfs
