// Schedules in time zones (DST gaps and folds), presets, durations, and the
// data-interval arithmetic the scheduler and backfill share.
#include "dwfs/schedule.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace dwfs {
namespace {

Instant At(const std::string& iso) {
  Instant t;
  Status st = ParseDateTime(iso, TimeZone(), &t);
  EXPECT_TRUE(st.ok()) << st.message();
  return t;
}

TimeZone Zone(const std::string& name) {
  TimeZone tz;
  EXPECT_TRUE(TimeZone::Find(name, &tz).ok()) << name;
  return tz;
}

Timetable Make(const std::string& schedule, const std::string& zone, const std::string& start,
               const std::string& end = "") {
  Schedule s;
  Status st = Schedule::Parse(schedule, &s);
  EXPECT_TRUE(st.ok()) << schedule << ": " << st.message();
  std::optional<Instant> e;
  if (!end.empty()) e = At(end);
  return Timetable(s, Zone(zone), At(start), e);
}

// Successive fire times, formatted in the zone.
std::vector<std::string> Fires(const Timetable& tt, const std::string& after, int n) {
  std::vector<std::string> out;
  Instant t = At(after);
  for (int i = 0; i < n; ++i) {
    std::optional<Instant> next = tt.NextFire(t);
    if (!next) break;
    out.push_back(FormatIso(*next, tt.timezone()));
    t = *next;
  }
  return out;
}

struct FireCase {
  const char* name;
  const char* schedule;
  const char* zone;
  const char* after;
  std::vector<std::string> expected;
};

class FireTest : public testing::TestWithParam<FireCase> {};

TEST_P(FireTest, SuccessiveFires) {
  const FireCase& c = GetParam();
  Timetable tt = Make(c.schedule, c.zone, "2000-01-01T00:00:00Z");
  EXPECT_EQ(Fires(tt, c.after, int(c.expected.size())), c.expected);
}

const FireCase kFireCases[] = {
    // America/New_York: 2026-03-08 02:00 EST -> 03:00 EDT (spring gap).
    {"NyDailyInGap", "30 2 * * *", "America/New_York", "2026-03-07T02:30:00-05:00",
     {"2026-03-08T03:00:00-04:00", "2026-03-09T02:30:00-04:00"}},
    {"NyHourlySpring", "0 * * * *", "America/New_York", "2026-03-08T00:30:00-05:00",
     {"2026-03-08T01:00:00-05:00", "2026-03-08T03:00:00-04:00", "2026-03-08T04:00:00-04:00"}},
    {"NyQuarterHourlySpring", "*/15 * * * *", "America/New_York", "2026-03-08T01:40:00-05:00",
     {"2026-03-08T01:45:00-05:00", "2026-03-08T03:00:00-04:00", "2026-03-08T03:15:00-04:00"}},
    // America/New_York: 2026-11-01 02:00 EDT -> 01:00 EST (fall repeat of 01:xx).
    {"NyDailyInFold", "30 1 * * *", "America/New_York", "2026-10-31T12:00:00-04:00",
     {"2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"}},
    {"NyHourlyFall", "0 * * * *", "America/New_York", "2026-11-01T00:30:00-04:00",
     {"2026-11-01T01:00:00-04:00", "2026-11-01T02:00:00-05:00", "2026-11-01T03:00:00-05:00"}},
    {"NyQuarterHourlyFall", "*/15 * * * *", "America/New_York", "2026-11-01T01:40:00-04:00",
     {"2026-11-01T01:45:00-04:00", "2026-11-01T02:00:00-05:00"}},
    {"NyFromSecondOccurrence", "*/15 * * * *", "America/New_York", "2026-11-01T01:20:00-05:00",
     {"2026-11-01T02:00:00-05:00"}},
    // Europe/London: 2026-03-29 01:00 GMT -> 02:00 BST; 2026-10-25 02:00 BST -> 01:00 GMT.
    {"LondonSpringGap", "30 1 * * *", "Europe/London", "2026-03-28T12:00:00Z",
     {"2026-03-29T02:00:00+01:00", "2026-03-30T01:30:00+01:00"}},
    {"LondonFallRepeat", "30 1 * * *", "Europe/London", "2026-10-24T12:00:00Z",
     {"2026-10-25T01:30:00+01:00", "2026-10-26T01:30:00+00:00"}},
    {"LondonMidnightAcrossSpring", "@daily", "Europe/London", "2026-03-28T00:00:00Z",
     {"2026-03-29T00:00:00+00:00", "2026-03-30T00:00:00+01:00"}},
    // Calendar corners.
    {"Feb29", "0 0 29 2 *", "UTC", "2026-01-01T00:00:00Z", {"2028-02-29T00:00:00+00:00", "2032-02-29T00:00:00+00:00"}},
    {"Day31", "0 0 31 * *", "UTC", "2026-01-31T00:00:00Z",
     {"2026-03-31T00:00:00+00:00", "2026-05-31T00:00:00+00:00", "2026-07-31T00:00:00+00:00",
      "2026-08-31T00:00:00+00:00"}},
    // Both day fields restricted: the 13th OR a Friday (Vixie).
    {"BothDayFields", "0 0 13 * 5", "UTC", "2026-02-01T00:00:00Z",
     {"2026-02-06T00:00:00+00:00", "2026-02-13T00:00:00+00:00", "2026-02-20T00:00:00+00:00",
      "2026-02-27T00:00:00+00:00", "2026-03-06T00:00:00+00:00", "2026-03-13T00:00:00+00:00"}},
    {"StepOverRange", "10-50/20 9 * * *", "UTC", "2026-01-01T00:00:00Z",
     {"2026-01-01T09:10:00+00:00", "2026-01-01T09:30:00+00:00", "2026-01-01T09:50:00+00:00",
      "2026-01-02T09:10:00+00:00"}},
    {"SundayAs7AndNames", "0 12 * JAN-FEB 7", "UTC", "2026-01-01T00:00:00Z",
     {"2026-01-04T12:00:00+00:00", "2026-01-11T12:00:00+00:00"}},
    {"Quarterly", "@quarterly", "UTC", "2026-01-15T00:00:00Z",
     {"2026-04-01T00:00:00+00:00", "2026-07-01T00:00:00+00:00", "2026-10-01T00:00:00+00:00",
      "2027-01-01T00:00:00+00:00"}},
    {"SeoulNoDst", "0 2 * * *", "Asia/Seoul", "2026-01-01T00:00:00Z",
     {"2026-01-02T02:00:00+09:00", "2026-01-03T02:00:00+09:00"}},
    // Durations are absolute: six hours stay six hours across DST.
    // (anchored at 2000-01-01T00:00Z: 00, 06, 12, 18 UTC; wall clock jumps 01:00 -> 08:00).
    {"DurationAcrossDst", "6h", "America/New_York", "2026-03-08T05:00:00Z",
     {"2026-03-08T01:00:00-05:00", "2026-03-08T08:00:00-04:00"}},
};

INSTANTIATE_TEST_SUITE_P(Schedules, FireTest, testing::ValuesIn(kFireCases),
                         [](const testing::TestParamInfo<FireCase>& i) { return std::string(i.param.name); });

TEST(ScheduleParse, Kinds) {
  Schedule s;
  ASSERT_TRUE(Schedule::Parse("@once", &s).ok());
  EXPECT_EQ(s.kind(), Schedule::Kind::kOnce);
  for (const char* p : {"@hourly", "@daily", "@midnight", "@weekly", "@monthly", "@quarterly", "@yearly", "@annually"}) {
    ASSERT_TRUE(Schedule::Parse(p, &s).ok()) << p;
    EXPECT_EQ(s.kind(), Schedule::Kind::kCron) << p;
    EXPECT_EQ(s.text(), p);
  }
  ASSERT_TRUE(Schedule::Parse("0 2 * * *", &s).ok());
  EXPECT_EQ(s.kind(), Schedule::Kind::kCron);
  ASSERT_TRUE(Schedule::Parse("1h30m", &s).ok());
  EXPECT_EQ(s.kind(), Schedule::Kind::kDuration);
  EXPECT_EQ(s.every(), Seconds(5400));
  ASSERT_TRUE(Schedule::Parse("3600", &s).ok());
  EXPECT_EQ(s.every(), Seconds(3600));
}

TEST(ScheduleParse, Errors) {
  struct {
    const char* text;
    const char* message;
  } cases[] = {
      {"@fortnightly", "unknown schedule preset"},
      {"0 0 30 2 *", "never"},
      {"0 0 * *", "cron"},
      {"1x", "invalid schedule"},
      {"0s", "at least 1s"},
      {"", "empty schedule"},
  };
  for (const auto& c : cases) {
    Schedule s;
    Status st = Schedule::Parse(c.text, &s);
    EXPECT_FALSE(st.ok()) << c.text;
    EXPECT_NE(st.message().find(c.message), std::string::npos) << c.text << " -> " << st.message();
  }
}

std::string Str(const std::optional<DataInterval>& i, const TimeZone& tz) {
  if (!i) return "none";
  return FormatIso(i->start, tz) + " .. " + FormatIso(i->end, tz);
}

TEST(Intervals, DailyFirstRunAndCatchup) {
  Timetable tt = Make("@daily", "UTC", "2026-01-01");
  TimeZone utc;
  EXPECT_EQ(Str(tt.FirstInterval(), utc), "2026-01-01T00:00:00+00:00 .. 2026-01-02T00:00:00+00:00");
  // catchup: the oldest missing interval first, whatever now is.
  EXPECT_EQ(Str(tt.NextRunInterval(std::nullopt, true, At("2026-01-05T10:00:00Z")), utc),
            "2026-01-01T00:00:00+00:00 .. 2026-01-02T00:00:00+00:00");
  DataInterval last{At("2026-01-01T00:00:00Z"), At("2026-01-02T00:00:00Z")};
  EXPECT_EQ(Str(tt.NextRunInterval(last, true, At("2026-01-05T10:00:00Z")), utc),
            "2026-01-02T00:00:00+00:00 .. 2026-01-03T00:00:00+00:00");
  // no catchup: only the most recent complete interval; no burst after a pause.
  EXPECT_EQ(Str(tt.NextRunInterval(std::nullopt, false, At("2026-01-05T10:00:00Z")), utc),
            "2026-01-04T00:00:00+00:00 .. 2026-01-05T00:00:00+00:00");
  EXPECT_EQ(Str(tt.NextRunInterval(last, false, At("2026-01-10T00:00:00Z")), utc),
            "2026-01-09T00:00:00+00:00 .. 2026-01-10T00:00:00+00:00");
  // Before the first interval ends, the next run is the first interval (not yet due).
  EXPECT_EQ(Str(tt.NextRunInterval(std::nullopt, false, At("2026-01-01T12:00:00Z")), utc),
            "2026-01-01T00:00:00+00:00 .. 2026-01-02T00:00:00+00:00");
}

TEST(Intervals, UnalignedStartDate) {
  Timetable tt = Make("0 2 * * *", "UTC", "2026-01-01T05:00:00Z");
  EXPECT_EQ(Str(tt.FirstInterval(), TimeZone()), "2026-01-02T02:00:00+00:00 .. 2026-01-03T02:00:00+00:00");
}

TEST(Intervals, ZoneDayAcrossSpringForwardIs23Hours) {
  Timetable tt = Make("@daily", "America/New_York", "2026-03-01T00:00:00-05:00");
  std::optional<DataInterval> i = tt.IntervalAtOrAfter(At("2026-03-08T05:00:00Z"));
  ASSERT_TRUE(i);
  EXPECT_EQ(i->end - i->start, Seconds(23 * 3600));
  EXPECT_EQ(Str(i, tt.timezone()), "2026-03-08T00:00:00-05:00 .. 2026-03-09T00:00:00-04:00");
}

TEST(Intervals, DurationSchedule) {
  Timetable tt = Make("6h", "UTC", "2026-01-01T00:00:00Z");
  TimeZone utc;
  EXPECT_EQ(Str(tt.FirstInterval(), utc), "2026-01-01T00:00:00+00:00 .. 2026-01-01T06:00:00+00:00");
  EXPECT_EQ(Str(tt.LatestCompleteInterval(At("2026-01-01T13:00:00Z")), utc),
            "2026-01-01T06:00:00+00:00 .. 2026-01-01T12:00:00+00:00");
  EXPECT_EQ(Str(tt.IntervalContainingOrAfter(At("2026-01-01T13:00:00Z")), utc),
            "2026-01-01T12:00:00+00:00 .. 2026-01-01T18:00:00+00:00");
  EXPECT_EQ(tt.IntervalsBetween(At("2026-01-01T00:00:00Z"), At("2026-01-02T00:00:00Z"), 100).size(), 5u);
}

TEST(Intervals, EndDateIsInclusiveOfIntervalStart) {
  Timetable tt = Make("@daily", "UTC", "2026-01-01", "2026-01-03");
  std::vector<DataInterval> all = tt.IntervalsBetween(At("2025-12-01T00:00:00Z"), At("2026-02-01T00:00:00Z"), 100);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all.back().start, At("2026-01-03T00:00:00Z"));
  DataInterval last = all.back();
  EXPECT_FALSE(tt.NextRunInterval(last, true, At("2027-01-01T00:00:00Z")));
  // With catchup false, the latest complete interval is capped at end_date.
  EXPECT_EQ(Str(tt.NextRunInterval(std::nullopt, false, At("2027-01-01T00:00:00Z")), TimeZone()),
            "2026-01-03T00:00:00+00:00 .. 2026-01-04T00:00:00+00:00");
}

TEST(Intervals, BackfillRangeIsInclusive) {
  Timetable tt = Make("@daily", "UTC", "2026-01-01");
  std::vector<DataInterval> r = tt.IntervalsBetween(At("2026-01-02T00:00:00Z"), At("2026-01-04T00:00:00Z"), 100);
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r.front().start, At("2026-01-02T00:00:00Z"));
  EXPECT_EQ(r.back().start, At("2026-01-04T00:00:00Z"));
  // The limit bounds the work for huge ranges.
  EXPECT_EQ(tt.IntervalsBetween(At("2026-01-01T00:00:00Z"), At("2036-01-01T00:00:00Z"), 10).size(), 10u);
}

TEST(Intervals, Once) {
  Timetable tt = Make("@once", "UTC", "2026-01-01T10:00:00Z");
  std::optional<DataInterval> first = tt.FirstInterval();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->start, At("2026-01-01T10:00:00Z"));
  EXPECT_EQ(first->end, first->start);
  EXPECT_FALSE(tt.NextInterval(*first));
  EXPECT_FALSE(tt.NextRunInterval(*first, true, At("2027-01-01T00:00:00Z")));
  EXPECT_TRUE(tt.NextRunInterval(std::nullopt, false, At("2027-01-01T00:00:00Z")));
}

TEST(Intervals, NoSchedule) {
  Timetable tt(Schedule(), TimeZone(), std::nullopt, std::nullopt);
  EXPECT_FALSE(tt.NextRunInterval(std::nullopt, true, At("2027-01-01T00:00:00Z")));
  EXPECT_TRUE(tt.NextLogicalDates(At("2027-01-01T00:00:00Z"), 3).empty());
}

TEST(Intervals, NextLogicalDatesAreStrictlyAfter) {
  Timetable tt = Make("@daily", "America/New_York", "2026-01-01T00:00:00-05:00");
  std::vector<Instant> d = tt.NextLogicalDates(At("2026-03-07T00:00:00-05:00"), 3);
  ASSERT_EQ(d.size(), 3u);
  EXPECT_EQ(FormatIso(d[0], tt.timezone()), "2026-03-08T00:00:00-05:00");
  EXPECT_EQ(FormatIso(d[1], tt.timezone()), "2026-03-09T00:00:00-04:00");
  // Before start_date: the first is start_date itself.
  d = tt.NextLogicalDates(At("2025-06-01T00:00:00Z"), 1);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(FormatIso(d[0], tt.timezone()), "2026-01-01T00:00:00-05:00");
}

TEST(Intervals, WeeklyCatchupWindow) {
  Timetable tt = Make("@weekly", "UTC", "2026-01-01");
  // 2026-01-04 is the first Sunday on or after start_date.
  std::vector<DataInterval> r = tt.IntervalsBetween(At("2026-01-01T00:00:00Z"), At("2026-02-01T00:00:00Z"), 100);
  ASSERT_EQ(r.size(), 5u);
  EXPECT_EQ(r.front().start, At("2026-01-04T00:00:00Z"));
  EXPECT_EQ(r.front().end, At("2026-01-11T00:00:00Z"));
  EXPECT_EQ(r.back().start, At("2026-02-01T00:00:00Z"));
}

}  // namespace
}  // namespace dwfs
