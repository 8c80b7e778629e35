// CronExpr: parsing of 5-field cron expressions and the calendar search.
//
// Parsing expands every field into a bitmask. The search never walks minute
// by minute: it finds the next (or previous) matching month, then day, then
// hour, then minute with bit scans on the masks, resetting the lower fields
// whenever a higher one moves, so a call costs a handful of bit operations
// plus one weekday computation per month visited.
#include "dwfs/cron.h"

#include <algorithm>
#include <array>
#include <bit>
#include <chrono>
#include <cstdio>
#include <string>
#include <utility>

namespace dwfs {
namespace {

using std::chrono::days;
using std::chrono::hours;
using std::chrono::local_days;
using std::chrono::minutes;
using std::chrono::year_month_day;

constexpr size_t kMaxTextLength = 200;
// How far NextAfter/PrevBefore look: to the end (start) of the calendar year
// this many years after (before) the starting point.
constexpr int kSearchYears = 50;
// Times outside these years are refused (nullopt / no match), which keeps all
// calendar arithmetic far away from overflow.
constexpr int kMinYear = 1;
constexpr int kMaxYear = 9999;

constexpr std::array<std::string_view, 12> kMonthNames = {
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN",
    "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
constexpr std::array<std::string_view, 7> kWeekdayNames = {
    "SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};
// The longest each month can be (February counts 29 days).
constexpr std::array<int, 13> kMaxMonthDays = {0,  31, 29, 31, 30, 31, 30,
                                               31, 31, 30, 31, 30, 31};

// The shape of one of the five fields.
struct FieldSpec {
  const char* name;  // as used in error messages
  int min;
  int max;       // the largest value accepted (7 for day-of-week)
  int wild_max;  // the upper end of `*` and `a/n` (6 for day-of-week)
  const std::string_view* names;  // 3-letter names or nullptr
  int name_count;
  int name_base;          // the value of names[0]
  const char* name_kind;  // "month name" / "weekday name"
};

constexpr FieldSpec kFields[5] = {
    {"minute", 0, 59, 59, nullptr, 0, 0, nullptr},
    {"hour", 0, 23, 23, nullptr, 0, 0, nullptr},
    {"day-of-month", 1, 31, 31, nullptr, 0, 0, nullptr},
    {"month", 1, 12, 12, kMonthNames.data(), 12, 1, "month name"},
    {"day-of-week", 0, 7, 6, kWeekdayNames.data(), 7, 0, "weekday name"},
};

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
         c == '\f';
}

// `s` quoted and made safe for a one-line message: `"` and `\` escaped,
// bytes outside printable ASCII written as \xNN, and cut with "..." once the
// quoted text passes about `limit` characters.
std::string Quote(std::string_view s, size_t limit = 40) {
  std::string out = "\"";
  size_t i = 0;
  for (; i < s.size() && out.size() <= limit; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c >= 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02X", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (i < s.size()) out += "...";
  out += '"';
  return out;
}

// A run of digits for a message, cut to 20 characters.
std::string Clip(std::string_view digits) {
  return digits.size() <= 20 ? std::string(digits)
                             : std::string(digits.substr(0, 20)) + "...";
}

char ToUpper(char c) { return (c >= 'a' && c <= 'z') ? c - 'a' + 'A' : c; }

// Parses one value of `f`: a decimal number or, if the field has them, a
// 3-letter name. `item` is the list item it came from (for messages).
Status ParseValue(const FieldSpec& f, std::string_view tok,
                  std::string_view item, int* out) {
  if (tok.empty()) {
    return Status::InvalidArgument(std::string(f.name) + " item " +
                                   Quote(item) + " is missing a value");
  }
  if (tok[0] >= '0' && tok[0] <= '9') {
    long value = 0;
    for (char c : tok) {
      if (c < '0' || c > '9') {
        return Status::InvalidArgument(std::string(f.name) + " value " +
                                       Quote(tok) + " is not a number");
      }
      value = std::min(value * 10 + (c - '0'), 1000000L);  // saturate
    }
    if (value < f.min || value > f.max) {
      return Status::InvalidArgument(
          std::string(f.name) + " value " + Clip(tok) + " out of range " +
          std::to_string(f.min) + "-" + std::to_string(f.max));
    }
    *out = static_cast<int>(value);
    return Status::OK();
  }
  if (f.names != nullptr && tok.size() == 3) {
    for (int i = 0; i < f.name_count; ++i) {
      const std::string_view name = f.names[i];
      if (ToUpper(tok[0]) == name[0] && ToUpper(tok[1]) == name[1] &&
          ToUpper(tok[2]) == name[2]) {
        *out = f.name_base + i;
        return Status::OK();
      }
    }
  }
  return Status::InvalidArgument(
      std::string(f.name) + " value " + Quote(tok) + " is not a number" +
      (f.names != nullptr ? std::string(" or ") + f.name_kind : ""));
}

// Parses one list item (`*`, `v`, `a-b`, each optionally `/step`) of `f`
// and sets its values in `bits`.
Status ParseItem(const FieldSpec& f, std::string_view item, uint64_t* bits) {
  std::string_view base = item;
  int step = 1;
  const size_t slash = item.find('/');
  const bool has_step = slash != std::string_view::npos;
  if (has_step) {
    base = item.substr(0, slash);
    const std::string_view step_text = item.substr(slash + 1);
    const int step_max = f.wild_max - f.min + 1;
    long value = 0;
    bool numeric = !step_text.empty();
    for (char c : step_text) {
      if (c < '0' || c > '9') {
        numeric = false;
        break;
      }
      value = std::min(value * 10 + (c - '0'), 1000000L);  // saturate
    }
    if (!numeric) {
      return Status::InvalidArgument(std::string(f.name) + " step " +
                                     Quote(step_text) + " in " + Quote(item) +
                                     " is not a number");
    }
    if (value < 1 || value > step_max) {
      return Status::InvalidArgument(
          std::string(f.name) + " step " + Clip(step_text) + " in " +
          Quote(item) + " out of range 1-" + std::to_string(step_max));
    }
    step = static_cast<int>(value);
  }
  int lo = 0;
  int hi = 0;
  if (base == "*") {
    lo = f.min;
    hi = f.wild_max;
  } else if (const size_t dash = base.find('-');
             dash != std::string_view::npos) {
    DWFS_RETURN_IF_ERROR(ParseValue(f, base.substr(0, dash), item, &lo));
    DWFS_RETURN_IF_ERROR(ParseValue(f, base.substr(dash + 1), item, &hi));
    if (lo > hi) {
      return Status::InvalidArgument(std::string(f.name) + " range " +
                                     Quote(base) + " is reversed");
    }
  } else {
    DWFS_RETURN_IF_ERROR(ParseValue(f, base, item, &lo));
    hi = has_step ? std::max(lo, f.wild_max) : lo;  // `a/n` runs to the max
  }
  for (int v = lo; v <= hi; v += step) *bits |= uint64_t{1} << v;
  return Status::OK();
}

// Parses a whole field (a comma-separated list of items) into `bits`.
Status ParseField(const FieldSpec& f, std::string_view text, uint64_t* bits) {
  *bits = 0;
  size_t start = 0;
  while (true) {
    const size_t comma = text.find(',', start);
    const std::string_view item = text.substr(
        start, comma == std::string_view::npos ? comma : comma - start);
    if (item.empty()) {
      return Status::InvalidArgument(
          std::string(f.name) + " has an empty list item in " + Quote(text));
    }
    DWFS_RETURN_IF_ERROR(ParseItem(f, item, bits));
    if (comma == std::string_view::npos) return Status::OK();
    start = comma + 1;
  }
}

bool IsLeap(int y) { return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0); }

int DaysInMonth(int y, int m) {
  return m == 2 ? (IsLeap(y) ? 29 : 28) : kMaxMonthDays[m];
}

// The days (bit d for day d) of month `m` of year `y` that match the day
// fields: dom OR dow when `or_rule` (both fields restricted), else dom AND
// dow. As in Vixie cron the AND uses the expanded sets, so "*/2" in one day
// field still filters the other ("0 0 */2 * 1": odd-numbered Mondays).
uint32_t DayMask(uint32_t mdays, uint8_t wdays, bool or_rule, int y, int m) {
  const unsigned first =  // weekday of the 1st, 0 = Sunday
      std::chrono::weekday(
          local_days(std::chrono::year(y) / static_cast<unsigned>(m) / 1))
          .c_encoding();
  // Rotate so that bit k means "day k+1 of the month", then repeat the
  // 7-day pattern over days 1..35.
  const uint64_t week =
      ((uint64_t{wdays} >> first) | (uint64_t{wdays} << (7 - first))) & 0x7f;
  const auto by_wday =
      static_cast<uint32_t>((week * 0x10204081ull) << 1);  // copies at 0,7,..
  const uint32_t valid =
      static_cast<uint32_t>(((uint64_t{1} << DaysInMonth(y, m)) - 1) << 1);
  return (or_rule ? (mdays | by_wday) : (mdays & by_wday)) & valid;
}

// A wall-clock minute broken into calendar fields.
struct Civil {
  int y;
  int m;   // 1-12
  int d;   // 1-31
  int h;   // 0-23
  int mi;  // 0-59
};

// The supported span of wall-clock times: years kMinYear..kMaxYear.
constexpr LocalTime kMinTime{
    local_days(std::chrono::year(kMinYear) / std::chrono::January / 1)};
constexpr LocalTime kEndTime{
    local_days(std::chrono::year(kMaxYear + 1) / std::chrono::January / 1)};

// True if `t` lies in the supported years; checked before any arithmetic on
// caller-supplied times so that it cannot overflow.
bool InRange(LocalTime t) { return t >= kMinTime && t < kEndTime; }

// Splits the minute containing `t` into fields; `t` must be InRange (or at
// most a minute outside it).
Civil ToCivil(LocalTime t) {
  const local_days day = std::chrono::floor<days>(t);
  const year_month_day ymd(day);
  const auto mins = std::chrono::floor<minutes>(t - day).count();
  return {static_cast<int>(ymd.year()), static_cast<int>(unsigned{ymd.month()}),
          static_cast<int>(unsigned{ymd.day()}), static_cast<int>(mins / 60),
          static_cast<int>(mins % 60)};
}

LocalTime FromCivil(const Civil& c) {
  return LocalTime{
      local_days(std::chrono::year(c.y) / static_cast<unsigned>(c.m) /
                 static_cast<unsigned>(c.d)) +
      hours(c.h) + minutes(c.mi)};
}

// The lowest set bit of `mask`; mask must be nonzero.
int Low(uint64_t mask) { return std::countr_zero(mask); }
// The highest set bit of `mask`; mask must be nonzero.
int High(uint64_t mask) { return 63 - std::countl_zero(mask); }
// Bits >= n (n in 0..63) / bits <= n (n in 0..62).
uint64_t AtLeast(int n) { return ~uint64_t{0} << n; }
uint64_t AtMost(int n) { return (uint64_t{2} << n) - 1; }

}  // namespace

Status CronExpr::Parse(std::string_view text, CronExpr* out) {
  const auto fail = [text](const std::string& detail) {
    return Status::InvalidArgument("invalid cron expression " +
                                   Quote(text, 80) + ": " + detail);
  };
  if (text.size() > kMaxTextLength) {
    return fail("expression is " + std::to_string(text.size()) +
                " characters long, the limit is " +
                std::to_string(kMaxTextLength));
  }
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      char buf[64];
      std::snprintf(buf, sizeof(buf), "non-ASCII byte 0x%02X at offset %zu", c,
                    i);
      return fail(buf);
    }
  }
  std::array<std::string_view, 5> fields;
  size_t count = 0;
  for (size_t i = 0; i < text.size();) {
    if (IsSpace(text[i])) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < text.size() && !IsSpace(text[j])) ++j;
    if (count < fields.size()) fields[count] = text.substr(i, j - i);
    ++count;
    i = j;
  }
  if (count != fields.size()) {
    return fail(
        "expected 5 fields (minute hour day-of-month month day-of-week), got " +
        std::to_string(count));
  }

  CronExpr expr;
  std::array<uint64_t, 5> bits{};
  for (size_t i = 0; i < fields.size(); ++i) {
    const Status st = ParseField(kFields[i], fields[i], &bits[i]);
    if (!st.ok()) return fail(st.message());
  }
  if (bits[4] & (uint64_t{1} << 7)) bits[4] = (bits[4] | 1) & 0x7f;  // 7=SUN
  expr.text_ = std::string(text);
  expr.minutes_ = bits[0];
  expr.hours_ = static_cast<uint32_t>(bits[1]);
  expr.mdays_ = static_cast<uint32_t>(bits[2]);
  expr.months_ = static_cast<uint16_t>(bits[3]);
  expr.wdays_ = static_cast<uint8_t>(bits[4]);
  expr.mday_star_ = fields[2][0] == '*';
  expr.wday_star_ = fields[4][0] == '*';

  // With the AND rule a day must be in the day-of-month set (and the
  // weekday set, but every month/day pair falls on every weekday within a
  // few decades). With the OR rule every week has matching days.
  if (expr.mday_star_ || expr.wday_star_) {
    bool possible = false;
    for (int m = 1; m <= 12; ++m) {
      if ((expr.months_ >> m & 1) &&
          (expr.mdays_ & static_cast<uint32_t>(AtMost(kMaxMonthDays[m])))) {
        possible = true;
      }
    }
    if (!possible) {
      return fail("day-of-month " + Quote(fields[2]) +
                  " never occurs in month " + Quote(fields[3]) +
                  ", so the expression never fires");
    }
  }
  *out = std::move(expr);
  return Status::OK();
}

std::optional<LocalTime> CronExpr::NextAfter(LocalTime after) const {
  if (minutes_ == 0 || !InRange(after)) return std::nullopt;
  Civil c = ToCivil(std::chrono::floor<minutes>(after) + minutes(1));
  const bool or_rule = !mday_star_ && !wday_star_;
  const int last_year = c.y + kSearchYears;
  // Invariant: (y, m, d, h, mi) is the earliest candidate not yet excluded;
  // d may exceed the month's length, h may be 24 (no candidate left there).
  while (c.y <= last_year) {
    const uint64_t mon = months_ & AtLeast(c.m);
    if (mon == 0) {
      c = {c.y + 1, 1, 1, 0, 0};
      continue;
    }
    if (Low(mon) != c.m) c = {c.y, Low(mon), 1, 0, 0};
    const uint64_t day =
        DayMask(mdays_, wdays_, or_rule, c.y, c.m) & AtLeast(c.d);
    if (day == 0) {
      c = {c.y, c.m + 1, 1, 0, 0};  // m 13 finds no month: next year
      continue;
    }
    if (Low(day) != c.d) c = {c.y, c.m, Low(day), 0, 0};
    const uint64_t hour = hours_ & AtLeast(c.h);
    if (hour == 0) {
      c = {c.y, c.m, c.d + 1, 0, 0};
      continue;
    }
    if (Low(hour) != c.h) c = {c.y, c.m, c.d, Low(hour), 0};
    const uint64_t minute = minutes_ & AtLeast(c.mi);
    if (minute == 0) {
      c = {c.y, c.m, c.d, c.h + 1, 0};
      continue;
    }
    c.mi = Low(minute);
    return FromCivil(c);
  }
  return std::nullopt;
}

std::optional<LocalTime> CronExpr::PrevBefore(LocalTime before) const {
  // The last whole minute that starts strictly before `before`.
  if (minutes_ == 0 || !InRange(before)) return std::nullopt;
  Civil c = ToCivil(before - std::chrono::seconds(1));
  const bool or_rule = !mday_star_ && !wday_star_;
  const int first_year = c.y - kSearchYears;
  // Invariant: (y, m, d, h, mi) is the latest candidate not yet excluded;
  // m or d may be 0 (no candidate left there) and d may exceed the month's
  // length (it is clipped by the day mask).
  while (c.y >= first_year) {
    const uint64_t mon = months_ & AtMost(c.m);
    if (mon == 0) {
      c = {c.y - 1, 12, 31, 23, 59};
      continue;
    }
    if (High(mon) != c.m) c = {c.y, High(mon), 31, 23, 59};
    const uint64_t day =
        DayMask(mdays_, wdays_, or_rule, c.y, c.m) & AtMost(c.d);
    if (day == 0) {
      c = {c.y, c.m - 1, 31, 23, 59};  // m 0 finds no month: previous year
      continue;
    }
    if (High(day) != c.d) c = {c.y, c.m, High(day), 23, 59};
    const uint64_t hour = hours_ & AtMost(c.h);
    if (hour == 0) {
      c = {c.y, c.m, c.d - 1, 23, 59};  // d 0 finds no day: previous month
      continue;
    }
    if (High(hour) != c.h) c = {c.y, c.m, c.d, High(hour), 59};
    const uint64_t minute = minutes_ & AtMost(c.mi);
    if (minute == 0) {
      c = c.h == 0 ? Civil{c.y, c.m, c.d - 1, 23, 59}
                   : Civil{c.y, c.m, c.d, c.h - 1, 59};
      continue;
    }
    c.mi = High(minute);
    return FromCivil(c);
  }
  return std::nullopt;
}

bool CronExpr::Matches(LocalTime t) const {
  if (minutes_ == 0 || !InRange(t)) return false;
  const Civil c = ToCivil(t);
  const bool or_rule = !mday_star_ && !wday_star_;
  return (minutes_ >> c.mi & 1) && (hours_ >> c.h & 1) &&
         (months_ >> c.m & 1) &&
         (DayMask(mdays_, wdays_, or_rule, c.y, c.m) >> c.d & 1);
}

}  // namespace dwfs
