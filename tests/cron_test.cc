// Tests for CronExpr: parse errors, field forms, the Vixie day rule, the
// NextAfter/PrevBefore contracts, and a randomized cross-check against a
// brute-force search driven by independently computed value sets.
#include "dwfs/cron.h"

#include <gtest/gtest.h>

#include <bitset>
#include <chrono>
#include <cstdio>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace dwfs {
namespace {

using std::chrono::days;
using std::chrono::local_days;
using std::chrono::minutes;
using std::chrono::seconds;

LocalTime T(int y, unsigned m, unsigned d, int h = 0, int mi = 0, int s = 0) {
  return LocalTime{local_days(std::chrono::year(y) / m / d) +
                   std::chrono::hours(h) + minutes(mi) + seconds(s)};
}

// "2026-01-02 03:04" (seconds shown only when nonzero), or "none".
std::string Fmt(std::optional<LocalTime> t) {
  if (!t) return "none";
  const local_days day = std::chrono::floor<days>(*t);
  const std::chrono::year_month_day ymd(day);
  const long s = (*t - day).count();
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02u-%02u %02ld:%02ld",
                static_cast<int>(ymd.year()), unsigned{ymd.month()},
                unsigned{ymd.day()}, s / 3600, s / 60 % 60);
  std::string out = buf;
  if (s % 60 != 0) out += ":" + std::to_string(s % 60);
  return out;
}

CronExpr MustParse(const std::string& text) {
  CronExpr expr;
  const Status st = CronExpr::Parse(text, &expr);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return expr;
}

// The next `n` firings after `start`, formatted.
std::vector<std::string> NextN(const std::string& text, LocalTime start,
                               int n) {
  const CronExpr expr = MustParse(text);
  std::vector<std::string> out;
  std::optional<LocalTime> t = start;
  for (int i = 0; i < n && t; ++i) {
    t = expr.NextAfter(*t);
    out.push_back(Fmt(t));
  }
  return out;
}

// The previous `n` firings before `start`, formatted.
std::vector<std::string> PrevN(const std::string& text, LocalTime start,
                               int n) {
  const CronExpr expr = MustParse(text);
  std::vector<std::string> out;
  std::optional<LocalTime> t = start;
  for (int i = 0; i < n && t; ++i) {
    t = expr.PrevBefore(*t);
    out.push_back(Fmt(t));
  }
  return out;
}

TEST(CronParseTest, Errors) {
  const std::string long_text = "0 0 * * *" + std::string(200, ' ');
  struct Case {
    std::string text;
    std::string want;  // substring of the message
  };
  const std::vector<Case> cases = {
      {"0 0 32 * *",
       "invalid cron expression \"0 0 32 * *\": day-of-month value 32 out of "
       "range 1-31"},
      // Field count.
      {"", "expected 5 fields (minute hour day-of-month month day-of-week), "
           "got 0"},
      {"   ", "got 0"},
      {"* * * *", "got 4"},
      {"* * * * * *", "got 6"},
      {"0 0 1 1 *\n0", "got 6"},
      // Out of range.
      {"60 * * * *", "minute value 60 out of range 0-59"},
      {"* 24 * * *", "hour value 24 out of range 0-23"},
      {"* * 0 * *", "day-of-month value 0 out of range 1-31"},
      {"* * * 13 *", "month value 13 out of range 1-12"},
      {"* * * 0 *", "month value 0 out of range 1-12"},
      {"* * * * 8", "day-of-week value 8 out of range 0-7"},
      {"99999999999999999999 * * * *", "minute value 99999999999999999999 out"},
      {"1-60 * * * *", "minute value 60 out of range 0-59"},
      // Reversed ranges.
      {"5-3 * * * *", "minute range \"5-3\" is reversed"},
      {"* * * * FRI-MON", "day-of-week range \"FRI-MON\" is reversed"},
      {"* * * DEC-JAN *", "month range \"DEC-JAN\" is reversed"},
      // Steps.
      {"*/0 * * * *", "minute step 0 in \"*/0\" out of range 1-60"},
      {"*/61 * * * *", "minute step 61 in \"*/61\" out of range 1-60"},
      {"* */25 * * *", "hour step 25 in \"*/25\" out of range 1-24"},
      {"* * */32 * *", "day-of-month step 32 in \"*/32\" out of range 1-31"},
      {"* * * 1/13 *", "month step 13 in \"1/13\" out of range 1-12"},
      {"* * * * */8", "day-of-week step 8 in \"*/8\" out of range 1-7"},
      {"*/ * * * *", "minute step \"\" in \"*/\" is not a number"},
      {"*/x * * * *", "minute step \"x\" in \"*/x\" is not a number"},
      {"*/2/3 * * * *", "minute step \"2/3\" in \"*/2/3\" is not a number"},
      // Empty list items.
      {"1,,2 * * * *", "minute has an empty list item in \"1,,2\""},
      {"1, * * * *", "minute has an empty list item in \"1,\""},
      {"* * * * ,1", "day-of-week has an empty list item in \",1\""},
      // Trailing garbage and bad tokens.
      {"5x * * * *", "minute value \"5x\" is not a number"},
      {"1-2-3 * * * *", "minute value \"2-3\" is not a number"},
      {"** * * * *", "minute value \"**\" is not a number"},
      {"-5 * * * *", "minute item \"-5\" is missing a value"},
      {"/5 * * * *", "minute item \"/5\" is missing a value"},
      {"1- * * * *", "minute item \"1-\" is missing a value"},
      {"jan * * * *", "minute value \"jan\" is not a number"},
      {"* * * FOO *", "month value \"FOO\" is not a number or month name"},
      {"* * * JANUARY *", "month value \"JANUARY\" is not a number or month"},
      {"* * * JAN-* *", "month value \"*\" is not a number or month name"},
      {"* * * * MONDAY", "day-of-week value \"MONDAY\" is not a number or "
                         "weekday name"},
      {"* * * * JAN", "day-of-week value \"JAN\" is not a number or weekday"},
      {"0\x01 0 * * *", "minute value \"0\\x01\" is not a number"},
      {"0 \"0 * * *", "hour value \"\\\"0\" is not a number"},
      // Non-ASCII and overlong input.
      {"0 0 * * 1\xC3\xA9", "non-ASCII byte 0xC3 at offset 9"},
      {long_text, "expression is 209 characters long, the limit is 200"},
      // Never fires.
      {"0 0 30 2 *", "day-of-month \"30\" never occurs in month \"2\", so the "
                     "expression never fires"},
      {"0 0 31 4,6,9,11 *", "never fires"},
      {"0 0 30,31 FEB *", "never fires"},
      {"0 0 31 2 */2", "never fires"},  // */2 is a star: the AND rule
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    CronExpr expr = MustParse("1 2 3 4 5");
    const Status st = CronExpr::Parse(c.text, &expr);
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.code(), Status::Code::kInvalidArgument);
    EXPECT_NE(st.message().find(c.want), std::string::npos) << st.message();
    EXPECT_EQ(st.message().find('\n'), std::string::npos) << st.message();
    EXPECT_EQ(expr.text(), "1 2 3 4 5");  // untouched on failure
  }
}

TEST(CronParseTest, OverlongMessageIsTruncated) {
  CronExpr expr;
  const Status st = CronExpr::Parse(std::string(300, '1'), &expr);
  ASSERT_FALSE(st.ok());
  EXPECT_LT(st.message().size(), 200u) << st.message();
}

// Inputs found by tests/fuzz/cron_fuzz.cc.
TEST(CronParseTest, FuzzRegressions) {
  struct Case {
    std::string text;
    std::string want;
  };
  const std::vector<Case> cases = {
      // Signed overflow while reading a step with NUL bytes; the escaped
      // text also made the message too long.
      {std::string("0 0 1 3/") + std::string(28, '\0') + "3 *",
       "month step \"\\x00\\x00"},
  };
  for (const Case& c : cases) {
    CronExpr expr;
    const Status st = CronExpr::Parse(c.text, &expr);
    ASSERT_FALSE(st.ok());
    EXPECT_NE(st.message().find(c.want), std::string::npos) << st.message();
    EXPECT_LT(st.message().size(), 400u) << st.message();
  }
}

TEST(CronParseTest, AcceptsValidForms) {
  for (const char* text :
       {"* * * * *", "0 0 1 1 0", "59 23 31 12 7", " \t0 0 * * *\n",
        "0 0 29 2 *", "0 0 31 1-12/2 *", "*/60 */24 */31 */12 */7",
        "0-59/59 0-23 1-31 JAN-DEC SUN-SAT", "0 0 * jan,Feb,MAR mon-fri",
        "5/20 1/6 2/10 3/4 1/2", "0 0 * * 0-7", "0 0 * * 7/1", "00 05 01 01 *",
        "1,2,3-5,*/30 * * * *", "0 0 31 4,6,9,11 1"}) {
    SCOPED_TRACE(text);
    CronExpr expr;
    const Status st = CronExpr::Parse(text, &expr);
    EXPECT_TRUE(st.ok()) << st.ToString();
    EXPECT_EQ(expr.text(), text);
  }
}

struct SeqCase {
  const char* text;
  LocalTime start;
  std::vector<std::string> want;
};

TEST(CronNextAfterTest, Table) {
  const std::vector<SeqCase> cases = {
      {"*/15 * * * *", T(2026, 1, 1, 23, 20),
       {"2026-01-01 23:30", "2026-01-01 23:45", "2026-01-02 00:00",
        "2026-01-02 00:15"}},
      {"10-50/20 * * * *", T(2026, 1, 1),
       {"2026-01-01 00:10", "2026-01-01 00:30", "2026-01-01 00:50",
        "2026-01-01 01:10"}},
      {"5/20 * * * *", T(2026, 1, 1),
       {"2026-01-01 00:05", "2026-01-01 00:25", "2026-01-01 00:45",
        "2026-01-01 01:05"}},
      {"1,2,40-41 3 * * *", T(2026, 1, 1),
       {"2026-01-01 03:01", "2026-01-01 03:02", "2026-01-01 03:40",
        "2026-01-01 03:41", "2026-01-02 03:01"}},
      {"0 0 29 2 *", T(2026, 1, 1),
       {"2028-02-29 00:00", "2032-02-29 00:00", "2036-02-29 00:00"}},
      {"0 0 29 2 *", T(2096, 3, 1), {"2104-02-29 00:00", "2108-02-29 00:00"}},
      {"0 0 29 2 */7", T(2026, 1, 1),  // AND rule: Feb 29 on a Sunday
       {"2032-02-29 00:00", "2060-02-29 00:00", "2088-02-29 00:00",
        "2128-02-29 00:00"}},
      {"0 0 31 * *", T(2026, 1, 1),
       {"2026-01-31 00:00", "2026-03-31 00:00", "2026-05-31 00:00",
        "2026-07-31 00:00", "2026-08-31 00:00", "2026-10-31 00:00"}},
      {"0 0 13 * 5", T(2026, 1, 1),  // both restricted: 13th OR Friday
       {"2026-01-02 00:00", "2026-01-09 00:00", "2026-01-13 00:00",
        "2026-01-16 00:00", "2026-01-23 00:00", "2026-01-30 00:00",
        "2026-02-06 00:00", "2026-02-13 00:00", "2026-02-20 00:00"}},
      {"0 0 */2 * 1", T(2026, 1, 1),  // */2 counts as a star: odd AND Monday
       {"2026-01-05 00:00", "2026-01-19 00:00", "2026-02-09 00:00",
        "2026-02-23 00:00"}},
      {"0 9 * * MON-FRI", T(2026, 1, 2, 10),  // a Friday
       {"2026-01-05 09:00", "2026-01-06 09:00"}},
      {"0 0 * * 7", T(2026, 1, 1), {"2026-01-04 00:00", "2026-01-11 00:00"}},
      {"0 0 * * 0", T(2026, 1, 1), {"2026-01-04 00:00", "2026-01-11 00:00"}},
      {"0 0 * * sun", T(2026, 1, 1), {"2026-01-04 00:00", "2026-01-11 00:00"}},
      {"0 0 * * 6-7", T(2026, 1, 1),
       {"2026-01-03 00:00", "2026-01-04 00:00", "2026-01-10 00:00"}},
      {"30 12 1 jan,Jul *", T(2026, 2, 1),
       {"2026-07-01 12:30", "2027-01-01 12:30", "2027-07-01 12:30"}},
      {"0 0 1 */3 *", T(2026, 1, 1),
       {"2026-04-01 00:00", "2026-07-01 00:00", "2026-10-01 00:00",
        "2027-01-01 00:00"}},
      {"59 23 31 12 *", T(2026, 12, 31, 23, 59),  // year rollover
       {"2027-12-31 23:59", "2028-12-31 23:59"}},
      {"0 0 1 1 *", T(2026, 12, 31, 23, 59, 59), {"2027-01-01 00:00"}},
      {"* * * * *", T(2026, 12, 31, 23, 59, 30),
       {"2027-01-01 00:00", "2027-01-01 00:01"}},
      // Strictly after; seconds ignored.
      {"0 2 * * *", T(2026, 1, 1, 2, 0), {"2026-01-02 02:00"}},
      {"0 2 * * *", T(2026, 1, 1, 2, 0, 30), {"2026-01-02 02:00"}},
      {"0 2 * * *", T(2026, 1, 1, 1, 59, 59), {"2026-01-01 02:00"}},
      {"0 0 31 4,6,9,11 1", T(2026, 4, 1),  // OR rule: just the Mondays
       {"2026-04-06 00:00", "2026-04-13 00:00"}},
      {"* * * * *", T(1969, 12, 31, 23, 59), {"1970-01-01 00:00"}},
  };
  for (const SeqCase& c : cases) {
    SCOPED_TRACE(std::string(c.text) + " after " + Fmt(c.start));
    EXPECT_EQ(NextN(c.text, c.start, static_cast<int>(c.want.size())), c.want);
  }
}

TEST(CronPrevBeforeTest, Table) {
  const std::vector<SeqCase> cases = {
      {"*/15 * * * *", T(2026, 1, 2, 0, 10),
       {"2026-01-02 00:00", "2026-01-01 23:45", "2026-01-01 23:30"}},
      {"10-50/20 * * * *", T(2026, 1, 1, 1),
       {"2026-01-01 00:50", "2026-01-01 00:30", "2026-01-01 00:10",
        "2025-12-31 23:50"}},
      {"0 0 29 2 *", T(2104, 1, 1), {"2096-02-29 00:00", "2092-02-29 00:00"}},
      {"0 0 29 2 */7", T(2128, 1, 1), {"2088-02-29 00:00", "2060-02-29 00:00"}},
      {"0 0 31 * *", T(2026, 5, 1), {"2026-03-31 00:00", "2026-01-31 00:00",
                                     "2025-12-31 00:00"}},
      {"0 0 13 * 5", T(2027, 1, 1),
       {"2026-12-25 00:00", "2026-12-18 00:00", "2026-12-13 00:00",
        "2026-12-11 00:00", "2026-12-04 00:00", "2026-11-27 00:00"}},
      {"0 0 */2 * 1", T(2026, 3, 1), {"2026-02-23 00:00", "2026-02-09 00:00",
                                      "2026-01-19 00:00"}},
      {"0 0 1 1 *", T(2027, 1, 1), {"2026-01-01 00:00", "2025-01-01 00:00"}},
      {"59 23 31 12 *", T(2027, 1, 1), {"2026-12-31 23:59"}},
      {"* * * * *", T(2027, 1, 1), {"2026-12-31 23:59", "2026-12-31 23:58"}},
      {"0 0 1 */3 *", T(2026, 1, 1), {"2025-10-01 00:00", "2025-07-01 00:00"}},
      // Strictly before: the minute containing `before` counts only when
      // `before` is past its start.
      {"0 2 * * *", T(2026, 1, 2, 2, 0), {"2026-01-01 02:00"}},
      {"0 2 * * *", T(2026, 1, 2, 2, 0, 30), {"2026-01-02 02:00"}},
      {"0 2 * * *", T(2026, 1, 2, 2, 1), {"2026-01-02 02:00"}},
      {"0 0 * * 7", T(2026, 1, 10), {"2026-01-04 00:00", "2025-12-28 00:00"}},
      {"* * * * *", T(1970, 1, 1), {"1969-12-31 23:59"}},
  };
  for (const SeqCase& c : cases) {
    SCOPED_TRACE(std::string(c.text) + " before " + Fmt(c.start));
    EXPECT_EQ(PrevN(c.text, c.start, static_cast<int>(c.want.size())), c.want);
  }
}

TEST(CronMatchesTest, Table) {
  struct Case {
    const char* text;
    LocalTime t;
    bool want;
  };
  const std::vector<Case> cases = {
      {"0 2 * * *", T(2026, 1, 1, 2, 0), true},
      {"0 2 * * *", T(2026, 1, 1, 2, 0, 59), true},
      {"0 2 * * *", T(2026, 1, 1, 2, 1), false},
      {"0 0 13 * 5", T(2026, 1, 13), true},   // Tuesday the 13th
      {"0 0 13 * 5", T(2026, 1, 16), true},   // Friday the 16th
      {"0 0 13 * 5", T(2026, 1, 14), false},  // Wednesday the 14th
      {"0 0 */2 * 1", T(2026, 1, 12), false},  // Monday, even day
      {"0 0 */2 * 1", T(2026, 1, 19), true},
      {"0 0 29 2 *", T(2028, 2, 29), true},
      {"* * * * *", T(10000, 1, 1), false},  // outside the supported years
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.text) + " at " + Fmt(c.t));
    EXPECT_EQ(MustParse(c.text).Matches(c.t), c.want);
  }
}

TEST(CronTest, DefaultAndOutOfRange) {
  const CronExpr none;
  EXPECT_EQ(none.NextAfter(T(2026, 1, 1)), std::nullopt);
  EXPECT_EQ(none.PrevBefore(T(2026, 1, 1)), std::nullopt);
  EXPECT_FALSE(none.Matches(T(2026, 1, 1)));
  const CronExpr every = MustParse("* * * * *");
  EXPECT_EQ(every.NextAfter(LocalTime::max()), std::nullopt);
  EXPECT_EQ(every.PrevBefore(LocalTime::min()), std::nullopt);
  EXPECT_FALSE(every.Matches(LocalTime::max()));
  EXPECT_EQ(Fmt(every.NextAfter(T(9999, 12, 31, 23, 58))), "9999-12-31 23:59");
}

// ---- Randomized cross-check against a brute-force search. ----

struct FieldShape {
  int min, max, wild_max;
  std::vector<std::string> names;  // index = value - min (if any)
};

// A random expression plus the value sets it should expand to, computed
// independently of the parser.
struct RandomExpr {
  std::string text;
  std::bitset<64> sets[5];
  bool mday_star = false, wday_star = false;
};

uint64_t Uniform(std::mt19937_64& rng, uint64_t lo, uint64_t hi) {
  return lo + rng() % (hi - lo + 1);
}

std::string ValueText(std::mt19937_64& rng, const FieldShape& f, int v) {
  const int idx = v - f.min;
  if (!f.names.empty() && idx < static_cast<int>(f.names.size()) &&
      Uniform(rng, 0, 2) == 0) {
    std::string name = f.names[idx];
    if (Uniform(rng, 0, 1)) name[1] = static_cast<char>(name[1] - 'A' + 'a');
    return name;
  }
  return std::to_string(v);
}

// Appends one random item to `text` and its values to `set`.
void RandomItem(std::mt19937_64& rng, const FieldShape& f, bool allow_star,
                std::string* text, std::bitset<64>* set) {
  const int span = f.wild_max - f.min + 1;
  int lo = f.min, hi = f.wild_max, step = 1;
  switch (Uniform(rng, allow_star ? 0 : 2, 6)) {
    case 0:
      *text += "*";
      break;
    case 1:
      step = static_cast<int>(Uniform(rng, 1, span));
      *text += "*/" + std::to_string(step);
      break;
    case 2:
    case 3:
      lo = hi = static_cast<int>(Uniform(rng, f.min, f.max));
      *text += ValueText(rng, f, lo);
      break;
    case 4:
      lo = static_cast<int>(Uniform(rng, f.min, f.max));
      hi = static_cast<int>(Uniform(rng, lo, f.max));
      *text += ValueText(rng, f, lo) + "-" + ValueText(rng, f, hi);
      break;
    case 5:
      lo = static_cast<int>(Uniform(rng, f.min, f.max));
      hi = static_cast<int>(Uniform(rng, lo, f.max));
      step = static_cast<int>(Uniform(rng, 1, span));
      *text += ValueText(rng, f, lo) + "-" + ValueText(rng, f, hi) + "/" +
               std::to_string(step);
      break;
    default:
      lo = static_cast<int>(Uniform(rng, f.min, f.max));
      hi = std::max(lo, f.wild_max);
      step = static_cast<int>(Uniform(rng, 1, span));
      *text += ValueText(rng, f, lo) + "/" + std::to_string(step);
      break;
  }
  for (int v = lo; v <= hi; v += step) set->set(v == 7 && f.max == 7 ? 0 : v);
}

RandomExpr MakeRandomExpr(std::mt19937_64& rng) {
  static const FieldShape kShapes[5] = {
      {0, 59, 59, {}},
      {0, 23, 23, {}},
      {1, 31, 31, {}},
      {1, 12, 12, {"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG",
                   "SEP", "OCT", "NOV", "DEC"}},
      {0, 7, 6, {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}},
  };
  RandomExpr e;
  for (int i = 0; i < 5; ++i) {
    std::string field;
    if (i >= 2 && Uniform(rng, 0, 2) == 0) {
      // Plain stars are common in the day and month fields, as in crontabs.
      field = "*";
      for (int v = kShapes[i].min; v <= kShapes[i].wild_max; ++v) {
        e.sets[i].set(v);
      }
    } else {
      const int items = Uniform(rng, 0, 3) == 0 ? 2 + Uniform(rng, 0, 1) : 1;
      for (int k = 0; k < items; ++k) {
        if (k > 0) field += ",";
        RandomItem(rng, kShapes[i], i >= 2 || Uniform(rng, 0, 3) == 0, &field,
                   &e.sets[i]);
      }
    }
    if (i == 2) e.mday_star = field[0] == '*';
    if (i == 4) e.wday_star = field[0] == '*';
    e.text += (i > 0 ? " " : "") + field;
  }
  return e;
}

bool DayMatches(const RandomExpr& e, local_days day) {
  const std::chrono::year_month_day ymd(day);
  const bool dom = e.sets[2][unsigned{ymd.day()}];
  const bool dow = e.sets[4][std::chrono::weekday(day).c_encoding()];
  const bool day_ok = (!e.mday_star && !e.wday_star) ? (dom || dow)
                                                      : (dom && dow);
  return day_ok && e.sets[3][unsigned{ymd.month()}];
}

bool MinuteMatches(const RandomExpr& e, LocalTime t) {
  const local_days day = std::chrono::floor<days>(t);
  const long m = std::chrono::floor<minutes>(t - day).count();
  return DayMatches(e, day) && e.sets[1][m / 60] && e.sets[0][m % 60];
}

constexpr int kBruteDays = 2 * 366;

// First matching minute >= `from` (a whole minute) within kBruteDays days.
std::optional<LocalTime> BruteNext(const RandomExpr& e, LocalTime from) {
  const LocalTime end = from + days(kBruteDays);
  for (LocalTime t = from; t < end;) {
    const local_days day = std::chrono::floor<days>(t);
    if (!DayMatches(e, day)) {
      t = LocalTime{day + days(1)};
      continue;
    }
    if (MinuteMatches(e, t)) return t;
    t += minutes(1);
  }
  return std::nullopt;
}

// Last matching minute <= `from` (a whole minute) within kBruteDays days.
std::optional<LocalTime> BrutePrev(const RandomExpr& e, LocalTime from) {
  const LocalTime end = from - days(kBruteDays);
  for (LocalTime t = from; t > end;) {
    const local_days day = std::chrono::floor<days>(t);
    if (!DayMatches(e, day)) {
      t = LocalTime{day} - minutes(1);
      continue;
    }
    if (MinuteMatches(e, t)) return t;
    t -= minutes(1);
  }
  return std::nullopt;
}

bool NeverFires(const RandomExpr& e) {
  if (!e.mday_star && !e.wday_star) return false;
  static const int kMaxDays[13] = {0,  31, 29, 31, 30, 31, 30,
                                   31, 31, 30, 31, 30, 31};
  for (int m = 1; m <= 12; ++m) {
    for (int d = 1; d <= kMaxDays[m]; ++d) {
      if (e.sets[3][m] && e.sets[2][d]) return false;
    }
  }
  return true;
}

TEST(CronRandomTest, AgreesWithBruteForce) {
  std::mt19937_64 rng(20260101);
  const LocalTime lo = T(2020, 1, 1), hi = T(2040, 1, 1);
  int checked = 0, never = 0;
  while (checked < 300) {
    const RandomExpr e = MakeRandomExpr(rng);
    SCOPED_TRACE(e.text);
    CronExpr expr;
    const Status st = CronExpr::Parse(e.text, &expr);
    ASSERT_EQ(st.ok(), !NeverFires(e)) << st.ToString();
    if (!st.ok()) {
      ++never;
      continue;
    }
    ++checked;
    for (int k = 0; k < 3; ++k) {
      const LocalTime start{seconds(static_cast<long>(Uniform(
          rng, lo.time_since_epoch().count(), hi.time_since_epoch().count())))};
      SCOPED_TRACE("start " + Fmt(start));
      EXPECT_EQ(expr.Matches(start), MinuteMatches(e, start));
      // Next: from `start`, then again from the result (an exact match).
      std::optional<LocalTime> from = start;
      for (int step = 0; step < 2 && from; ++step) {
        const auto want = BruteNext(e, std::chrono::floor<minutes>(*from) +
                                           minutes(1));
        const auto got = expr.NextAfter(*from);
        if (want) {
          ASSERT_EQ(Fmt(got), Fmt(want)) << "NextAfter " << Fmt(from);
          EXPECT_TRUE(expr.Matches(*got));
        } else if (got) {
          EXPECT_GT(*got, *from + days(kBruteDays - 1));
        }
        from = got;
      }
      // Prev: from `start`, then again from the result.
      from = start;
      for (int step = 0; step < 2 && from; ++step) {
        const LocalTime last =
            std::chrono::floor<minutes>(*from - seconds(1));
        const auto want = BrutePrev(e, last);
        const auto got = expr.PrevBefore(*from);
        if (want) {
          ASSERT_EQ(Fmt(got), Fmt(want)) << "PrevBefore " << Fmt(from);
          EXPECT_TRUE(expr.Matches(*got));
        } else if (got) {
          EXPECT_LT(*got, *from - days(kBruteDays - 1));
        }
        from = got;
      }
    }
  }
  // How many generated expressions were rejected as never firing.
  RecordProperty("never_fires", never);
}

}  // namespace
}  // namespace dwfs
