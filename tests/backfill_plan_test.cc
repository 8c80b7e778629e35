// PlanBackfill: which runs a backfill makes of a range (inclusive ends for
// cron, preset and duration schedules, DST), and what it does with the runs
// already stored (skip, resume, clear and rerun). Pure: no database.
#include <gtest/gtest.h>

#include "dwfs/backfill.h"
#include "dwfs/dag_loader.h"

namespace dwfs {
namespace {

Instant At(const std::string& iso, const std::string& zone = "UTC") {
  TimeZone tz;
  EXPECT_TRUE(TimeZone::Find(zone, &tz).ok());
  Instant t;
  Status st = ParseDateTime(iso, tz, &t);
  EXPECT_TRUE(st.ok()) << st.message();
  return t;
}

Dag Parse(const std::string& head, const std::string& tasks =
                                       "  - task_id: a\n    bash_command: \"true\"\n"
                                       "  - task_id: b\n    upstream: [a]\n    bash_command: \"true\"\n"
                                       "  - task_id: c\n    upstream: [b]\n    bash_command: \"true\"\n") {
  Dag dag;
  ImportError error;
  EXPECT_TRUE(ParseDagText("dag_id: d\n" + head + "tasks:\n" + tasks, "d.yaml", DagDefaults(), &dag, &error))
      << error.ToString();
  return dag;
}

std::vector<std::string> Dates(const std::vector<BackfillRun>& runs, const TimeZone& tz = TimeZone()) {
  std::vector<std::string> out;
  for (const BackfillRun& r : runs) out.push_back(FormatIso(r.info.logical_date, tz));
  return out;
}

std::vector<BackfillRun> Plan(const Dag& dag, BackfillOptions o, const std::map<Instant, ExistingRun>& existing = {}) {
  std::vector<BackfillRun> runs;
  Status st = PlanBackfill(dag, o, existing, &runs);
  EXPECT_TRUE(st.ok()) << st.message();
  return runs;
}

BackfillOptions Range(Instant s, Instant e) {
  BackfillOptions o;
  o.start = s;
  o.end = e;
  return o;
}

TEST(BackfillPlan, CronRangeIncludesBothEnds) {
  Dag dag = Parse("schedule: \"0 6 * * *\"\nstart_date: 2026-01-01\n");
  auto runs = Plan(dag, Range(At("2026-01-02T06:00:00"), At("2026-01-04T06:00:00")));
  EXPECT_EQ(Dates(runs), (std::vector<std::string>{"2026-01-02T06:00:00+00:00", "2026-01-03T06:00:00+00:00",
                                                    "2026-01-04T06:00:00+00:00"}));
  // One second later at the start, one second earlier at the end: both ends drop out.
  runs = Plan(dag, Range(At("2026-01-02T06:00:01"), At("2026-01-04T05:59:59")));
  EXPECT_EQ(Dates(runs), (std::vector<std::string>{"2026-01-03T06:00:00+00:00"}));
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].info.run_id, "backfill__2026-01-03T06:00:00+00:00");
  EXPECT_EQ(runs[0].info.type, RunType::kBackfill);
  EXPECT_EQ(runs[0].action, BackfillRun::Action::kCreate);
  EXPECT_EQ(runs[0].info.data_interval.end, At("2026-01-04T06:00:00"));
}

TEST(BackfillPlan, PresetAndDurationSchedules) {
  Dag weekly = Parse("schedule: \"@weekly\"\nstart_date: 2026-01-01\n");  // Sundays at midnight
  EXPECT_EQ(Dates(Plan(weekly, Range(At("2026-01-04"), At("2026-01-18")))),
            (std::vector<std::string>{"2026-01-04T00:00:00+00:00", "2026-01-11T00:00:00+00:00",
                                      "2026-01-18T00:00:00+00:00"}));
  // A duration counts from start_date: 10:00, 16:00, 22:00, 04:00...
  Dag every6h = Parse("schedule: 6h\nstart_date: 2026-01-01T10:00:00\n");
  EXPECT_EQ(Dates(Plan(every6h, Range(At("2026-01-01T12:00:00"), At("2026-01-02T04:00:00")))),
            (std::vector<std::string>{"2026-01-01T16:00:00+00:00", "2026-01-01T22:00:00+00:00",
                                      "2026-01-02T04:00:00+00:00"}));
  // Before start_date there is nothing to backfill.
  EXPECT_TRUE(Plan(every6h, Range(At("2025-12-01"), At("2026-01-01T09:00:00"))).empty());
}

TEST(BackfillPlan, DaylightSavingTimeDaysKeepTheirLocalTime) {
  // Europe/London springs forward on 2026-03-29 (01:00 -> 02:00) and falls
  // back on 2026-10-25: a daily 03:00 run stays at 03:00 local time, so
  // those intervals are 23 and 25 hours long.
  Dag dag = Parse("schedule: \"0 3 * * *\"\nstart_date: 2026-01-01\ntimezone: Europe/London\n");
  TimeZone london;
  ASSERT_TRUE(TimeZone::Find("Europe/London", &london).ok());
  auto spring = Plan(dag, Range(At("2026-03-28", "Europe/London"), At("2026-03-30T03:00:00", "Europe/London")));
  EXPECT_EQ(Dates(spring, london), (std::vector<std::string>{"2026-03-28T03:00:00+00:00", "2026-03-29T03:00:00+01:00",
                                                              "2026-03-30T03:00:00+01:00"}));
  ASSERT_EQ(spring.size(), 3u);
  EXPECT_EQ(spring[0].interval.end - spring[0].interval.start, Seconds(23 * 3600));
  auto autumn = Plan(dag, Range(At("2026-10-24T03:00:00", "Europe/London"), At("2026-10-25T03:00:00", "Europe/London")));
  ASSERT_EQ(autumn.size(), 2u);
  EXPECT_EQ(autumn[0].interval.end - autumn[0].interval.start, Seconds(25 * 3600));
}

TEST(BackfillPlan, RunBackwardsReversesAndRefusesDependsOnPast) {
  Dag dag = Parse("schedule: \"@daily\"\nstart_date: 2026-01-01\n");
  BackfillOptions o = Range(At("2026-01-01"), At("2026-01-03"));
  o.run_backwards = true;
  EXPECT_EQ(Dates(Plan(dag, o)), (std::vector<std::string>{"2026-01-03T00:00:00+00:00", "2026-01-02T00:00:00+00:00",
                                                            "2026-01-01T00:00:00+00:00"}));
  Dag past = Parse("schedule: \"@daily\"\nstart_date: 2026-01-01\n",
                   "  - task_id: a\n    bash_command: \"true\"\n    depends_on_past: true\n");
  std::vector<BackfillRun> runs;
  Status st = PlanBackfill(past, o, {}, &runs);
  EXPECT_EQ(st.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(st.message().find("task 'a'"), std::string::npos) << st.message();
}

TEST(BackfillPlan, RefusesDagsWithoutScheduleAndHugeRanges) {
  std::vector<BackfillRun> runs;
  Dag manual = Parse("schedule: null\nstart_date: 2026-01-01\n");
  Status st = PlanBackfill(manual, Range(At("2026-01-01"), At("2026-02-01")), {}, &runs);
  EXPECT_EQ(st.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(st.message().find("no schedule"), std::string::npos) << st.message();
  Dag minutely = Parse("schedule: \"* * * * *\"\nstart_date: 2026-01-01\n");
  BackfillOptions o = Range(At("2026-01-01"), At("2026-12-31"));
  o.max_runs = 1000;
  st = PlanBackfill(minutely, o, {}, &runs);
  EXPECT_EQ(st.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(st.message().find("more than 1000"), std::string::npos) << st.message();
}

ExistingRun Stored(Instant logical, RunState state, std::map<std::string, TaskState> states) {
  ExistingRun e;
  e.run.dag_id = "d";
  e.run.info.run_id = "scheduled__" + FormatIso(logical, TimeZone());
  e.run.info.type = RunType::kScheduled;
  e.run.info.logical_date = logical;
  e.run.state = state;
  e.states = std::move(states);
  return e;
}

TEST(BackfillPlan, ExistingRunsAreSkippedResumedOrClearedByTheFlags) {
  Dag dag = Parse("schedule: \"@daily\"\nstart_date: 2026-01-01\n");
  using TS = TaskState;
  std::map<Instant, ExistingRun> existing;
  existing[At("2026-01-01")] = Stored(At("2026-01-01"), RunState::kSuccess, {{"a", TS::kSuccess}, {"b", TS::kSuccess}, {"c", TS::kSuccess}});
  existing[At("2026-01-02")] = Stored(At("2026-01-02"), RunState::kFailed, {{"a", TS::kSuccess}, {"b", TS::kFailed}, {"c", TS::kUpstreamFailed}});
  existing[At("2026-01-03")] = Stored(At("2026-01-03"), RunState::kQueued, {{"a", TS::kSuccess}});
  BackfillOptions o = Range(At("2026-01-01"), At("2026-01-04"));

  auto plain = Plan(dag, o, existing);
  ASSERT_EQ(plain.size(), 4u);
  EXPECT_EQ(plain[0].action, BackfillRun::Action::kSkip);
  EXPECT_EQ(plain[0].result, RunState::kSuccess);
  EXPECT_EQ(plain[0].note, "already succeeded");
  EXPECT_EQ(plain[0].info.run_id, "scheduled__2026-01-01T00:00:00+00:00");  // the stored run, not a new one
  EXPECT_EQ(plain[1].action, BackfillRun::Action::kSkip);
  EXPECT_EQ(plain[1].result, RunState::kFailed);
  EXPECT_NE(plain[1].note.find("--rerun-failed-tasks"), std::string::npos);
  EXPECT_EQ(plain[2].action, BackfillRun::Action::kResume);
  EXPECT_TRUE(plain[2].clear.empty());
  EXPECT_EQ(plain[3].action, BackfillRun::Action::kCreate);

  o.rerun_failed_tasks = true;
  auto rerun = Plan(dag, o, existing);
  EXPECT_EQ(rerun[0].action, BackfillRun::Action::kSkip);
  EXPECT_EQ(rerun[1].action, BackfillRun::Action::kClear);
  EXPECT_EQ(rerun[1].clear, (std::vector<std::string>{"b", "c"}));

  o.rerun_failed_tasks = false;
  o.reset_dagruns = true;
  auto reset = Plan(dag, o, existing);
  for (int i : {0, 1}) {
    EXPECT_EQ(reset[size_t(i)].action, BackfillRun::Action::kClear);
    EXPECT_EQ(reset[size_t(i)].clear, (std::vector<std::string>{"a", "b", "c"}));
  }
  EXPECT_EQ(reset[2].action, BackfillRun::Action::kResume);
  EXPECT_EQ(reset[2].clear, (std::vector<std::string>{"a", "b", "c"}));

  // -t b (with its upstream a): only those are cleared.
  ASSERT_TRUE(SelectTasks(dag, "^b$", true, false, &o.selected).ok());
  reset = Plan(dag, o, existing);
  EXPECT_EQ(reset[0].clear, (std::vector<std::string>{"a", "b"}));
}

TEST(BackfillPlan, AFinishedRunThatNeverRanASelectedTaskRunsIt) {
  // An earlier `-t a` backfill left b and c without instances.
  Dag dag = Parse("schedule: \"@daily\"\nstart_date: 2026-01-01\n");
  std::map<Instant, ExistingRun> existing;
  existing[At("2026-01-01")] = Stored(At("2026-01-01"), RunState::kSuccess, {{"a", TaskState::kSuccess}});
  auto runs = Plan(dag, Range(At("2026-01-01"), At("2026-01-01")), existing);
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].action, BackfillRun::Action::kClear);
  EXPECT_EQ(runs[0].clear, (std::vector<std::string>{"b", "c"}));
}

}  // namespace
}  // namespace dwfs
