#include "dwfs/time_util.h"

#include <gtest/gtest.h>

#include "dwfs/duration.h"

namespace dwfs {
namespace {

TEST(ParseDateTime, Forms) {
  TimeZone seoul;
  ASSERT_TRUE(TimeZone::Find("Asia/Seoul", &seoul).ok());
  TimeZone utc;
  struct {
    const char* text;
    const TimeZone& zone;
    const char* utc_iso;
  } cases[] = {
      {"2026-01-01", utc, "2026-01-01T00:00:00+00:00"},
      {"2026-01-01", seoul, "2025-12-31T15:00:00+00:00"},
      {"2026-01-01T02:03", utc, "2026-01-01T02:03:00+00:00"},
      {"2026-01-01 02:03:04", utc, "2026-01-01T02:03:04+00:00"},
      {"2026-01-01T02:03:04.123456", utc, "2026-01-01T02:03:04+00:00"},
      {"2026-01-01T02:03:04Z", seoul, "2026-01-01T02:03:04+00:00"},
      {"2026-01-01T02:03:04+09:00", utc, "2025-12-31T17:03:04+00:00"},
      {"2026-01-01T02:03:04-0530", utc, "2026-01-01T07:33:04+00:00"},
      {"2026-01-01T02:03:04+01", utc, "2026-01-01T01:03:04+00:00"},
      {"2028-02-29", utc, "2028-02-29T00:00:00+00:00"},
  };
  for (const auto& c : cases) {
    Instant t;
    Status st = ParseDateTime(c.text, c.zone, &t);
    ASSERT_TRUE(st.ok()) << c.text << ": " << st.message();
    EXPECT_EQ(FormatIso(t, utc), c.utc_iso) << c.text;
  }
}

TEST(ParseDateTime, Errors) {
  for (const char* bad : {"", "2026", "2026-13-01", "2026-02-29", "2026-01-32", "26-01-01", "2026/01/01",
                          "2026-01-01T25:00", "2026-01-01T10", "2026-01-01T10:00+25:00", "2026-01-01x",
                          "2026-01-01T10:00:00 junk", "yesterday"}) {
    Instant t;
    Status st = ParseDateTime(bad, TimeZone(), &t);
    EXPECT_FALSE(st.ok()) << bad;
    EXPECT_NE(st.message().find("invalid date"), std::string::npos) << st.message();
  }
}

TEST(ParseDateTime, NaiveTimesInDstGapAndFold) {
  TimeZone ny;
  ASSERT_TRUE(TimeZone::Find("America/New_York", &ny).ok());
  Instant t;
  ASSERT_TRUE(ParseDateTime("2026-03-08T02:30", ny, &t).ok());  // gap -> 03:00 EDT
  EXPECT_EQ(FormatIso(t, ny), "2026-03-08T03:00:00-04:00");
  ASSERT_TRUE(ParseDateTime("2026-11-01T01:30", ny, &t).ok());  // fold -> first (EDT)
  EXPECT_EQ(FormatIso(t, ny), "2026-11-01T01:30:00-04:00");
}

TEST(TimeZone, UnknownZone) {
  TimeZone tz;
  Status st = TimeZone::Find("Mars/Olympus_Mons", &tz);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("Mars/Olympus_Mons"), std::string::npos);
}

TEST(Format, Forms) {
  TimeZone kolkata;
  ASSERT_TRUE(TimeZone::Find("Asia/Kolkata", &kolkata).ok());
  Instant t;
  ASSERT_TRUE(ParseDateTime("2026-01-01T00:00:00Z", TimeZone(), &t).ok());
  EXPECT_EQ(FormatIso(t, kolkata), "2026-01-01T05:30:00+05:30");
  EXPECT_EQ(FormatIsoNoDash(t, kolkata), "20260101T053000");
  EXPECT_EQ(FormatDate(t, kolkata), "2026-01-01");
  TimeZone la;
  ASSERT_TRUE(TimeZone::Find("America/Los_Angeles", &la).ok());
  EXPECT_EQ(FormatDate(t, la), "2025-12-31");
}

TEST(Duration, Forms) {
  struct {
    const char* text;
    long seconds;
  } cases[] = {{"0", 0},        {"45", 45},      {"30s", 30},    {"5m", 300},     {"1h", 3600},
               {"2d", 172800},  {"1w", 604800},  {"1h30m", 5400}, {"1d2h3m4s", 93784}, {" 10m ", 600},
               {"90m", 5400},   {"0s", 0}};
  for (const auto& c : cases) {
    Seconds d;
    Status st = ParseDuration(c.text, &d);
    ASSERT_TRUE(st.ok()) << c.text << ": " << st.message();
    EXPECT_EQ(d.count(), c.seconds) << c.text;
  }
}

TEST(Duration, Errors) {
  struct {
    const char* text;
    const char* message;
  } cases[] = {{"", "empty"},           {"5x", "unknown unit \"x\""}, {"-1", "expected a number"},
               {"1.5h", "unknown unit \".\""}, {"1h30", "missing unit"}, {"h", "expected a number"},
               {"abc", "expected a number"}, {"1 h", "unknown unit \" \""}, {"99999999999999d", "too long"},
               {"+5m", "expected a number"}};
  for (const auto& c : cases) {
    Seconds d;
    Status st = ParseDuration(c.text, &d);
    EXPECT_FALSE(st.ok()) << c.text;
    EXPECT_NE(st.message().find(c.message), std::string::npos) << c.text << " -> " << st.message();
  }
}

TEST(Duration, FormatRoundTrips) {
  for (long s : {0L, 1L, 59L, 60L, 90L, 3600L, 5400L, 86400L, 93784L, 604800L}) {
    Seconds back;
    ASSERT_TRUE(ParseDuration(FormatDuration(Seconds(s)), &back).ok());
    EXPECT_EQ(back.count(), s);
  }
  EXPECT_EQ(FormatDuration(Seconds(5400)), "1h30m");
}

}  // namespace
}  // namespace dwfs
