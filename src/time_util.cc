#include "dwfs/time_util.h"

#include <date/tz.h>

#include <cstdio>
#include <cstdlib>

namespace dwfs {

Status TimeZone::Find(std::string_view name, TimeZone* out) {
  if (name == "UTC" || name == "Etc/UTC" || name == "Z") {
    *out = TimeZone();
    return Status::OK();
  }
  if (name.empty() || name.size() > 100) {
    return Status::InvalidArgument("unknown timezone \"" + std::string(name) + "\"");
  }
  try {
    const date::time_zone* tz = date::locate_zone(name);
    out->tz_ = tz;
    out->name_ = std::string(name);
    return Status::OK();
  } catch (const std::exception&) {
    return Status::InvalidArgument("unknown timezone \"" + std::string(name) + "\"");
  }
}

LocalTime TimeZone::ToLocal(Instant t) const {
  if (!tz_) return LocalTime(t.time_since_epoch());
  return LocalTime(t.time_since_epoch() + Offset(t));
}

Seconds TimeZone::Offset(Instant t) const {
  if (!tz_) return Seconds(0);
  return tz_->get_info(t).offset;
}

Instant TimeZone::FromLocal(LocalTime lt) const {
  if (!tz_) return Instant(lt.time_since_epoch());
  date::local_info info = tz_->get_info(date::local_seconds(lt.time_since_epoch()));
  switch (info.result) {
    case date::local_info::unique:
    case date::local_info::ambiguous:  // first = the earlier occurrence
      return Instant(lt.time_since_epoch() - info.first.offset);
    case date::local_info::nonexistent:
    default:
      // In the gap: the first valid instant after it is the transition.
      return info.second.begin;
  }
}

namespace {

void AppendOffset(std::string* s, Seconds off) {
  long v = off.count();
  char sign = v < 0 ? '-' : '+';
  if (v < 0) v = -v;
  char buf[48];
  std::snprintf(buf, sizeof buf, "%c%02ld:%02ld", sign, v / 3600, (v % 3600) / 60);
  s->append(buf);
}

struct Civil {
  int y;
  unsigned mo, d;
  long h, mi, s;
};

Civil ToCivil(LocalTime lt) {
  auto days = std::chrono::floor<std::chrono::days>(lt);
  std::chrono::year_month_day ymd{days};
  auto rem = (lt - days).count();
  return Civil{int(ymd.year()), unsigned(ymd.month()), unsigned(ymd.day()), rem / 3600, (rem % 3600) / 60,
               rem % 60};
}

}  // namespace

std::string FormatIso(Instant t, const TimeZone& tz) {
  Civil c = ToCivil(tz.ToLocal(t));
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02ld:%02ld:%02ld", c.y, c.mo, c.d, c.h, c.mi, c.s);
  std::string s(buf);
  AppendOffset(&s, tz.Offset(t));
  return s;
}

std::string FormatIsoNoDash(Instant t, const TimeZone& tz) {
  Civil c = ToCivil(tz.ToLocal(t));
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d%02u%02uT%02ld%02ld%02ld", c.y, c.mo, c.d, c.h, c.mi, c.s);
  return buf;
}

std::string FormatDate(Instant t, const TimeZone& tz) {
  Civil c = ToCivil(tz.ToLocal(t));
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", c.y, c.mo, c.d);
  return buf;
}

namespace {

// Reads exactly n digits at s[*pos]; advances.
bool Digits(std::string_view s, size_t* pos, int n, int* out) {
  if (*pos + n > s.size()) return false;
  int v = 0;
  for (int i = 0; i < n; ++i) {
    char c = s[*pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *pos += n;
  *out = v;
  return true;
}

bool Expect(std::string_view s, size_t* pos, char c) {
  if (*pos < s.size() && s[*pos] == c) {
    ++*pos;
    return true;
  }
  return false;
}

}  // namespace

Status ParseDateTime(std::string_view text, const TimeZone& naive_zone, Instant* out) {
  auto bad = [&](const char* why) {
    return Status::InvalidArgument("invalid date \"" + std::string(text.substr(0, 80)) + "\": " + why);
  };
  std::string_view s = text;
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  size_t p = 0;
  int y, mo, d, h = 0, mi = 0, sec = 0;
  if (!Digits(s, &p, 4, &y) || !Expect(s, &p, '-') || !Digits(s, &p, 2, &mo) || !Expect(s, &p, '-') ||
      !Digits(s, &p, 2, &d)) {
    return bad("expected YYYY-MM-DD or an ISO-8601 date-time");
  }
  std::chrono::year_month_day ymd{std::chrono::year(y), std::chrono::month(unsigned(mo)),
                                  std::chrono::day(unsigned(d))};
  if (!ymd.ok()) return bad("no such calendar date");
  bool has_offset = false;
  Seconds offset(0);
  if (p < s.size()) {
    if (s[p] != 'T' && s[p] != 't' && s[p] != ' ') return bad("unexpected text after the date");
    ++p;
    if (!Digits(s, &p, 2, &h) || !Expect(s, &p, ':') || !Digits(s, &p, 2, &mi)) {
      return bad("expected HH:MM after the date");
    }
    if (Expect(s, &p, ':')) {
      if (!Digits(s, &p, 2, &sec)) return bad("expected seconds as SS");
      if (Expect(s, &p, '.') || Expect(s, &p, ',')) {  // fraction: ignored
        size_t start = p;
        while (p < s.size() && s[p] >= '0' && s[p] <= '9') ++p;
        if (p == start) return bad("expected digits after the decimal point");
      }
    }
    if (h > 24 || mi > 59 || sec > 60 || (h == 24 && (mi || sec))) return bad("time of day out of range");
    if (p < s.size()) {
      if (s[p] == 'Z' || s[p] == 'z') {
        ++p;
        has_offset = true;
      } else if (s[p] == '+' || s[p] == '-') {
        int sign = s[p] == '-' ? -1 : 1;
        ++p;
        int oh, om = 0;
        if (!Digits(s, &p, 2, &oh)) return bad("bad UTC offset");
        if (Expect(s, &p, ':')) {
          if (!Digits(s, &p, 2, &om)) return bad("bad UTC offset");
        } else if (p < s.size()) {
          if (!Digits(s, &p, 2, &om)) return bad("bad UTC offset");
        }
        if (oh > 23 || om > 59) return bad("UTC offset out of range");
        offset = Seconds(sign * (oh * 3600 + om * 60));
        has_offset = true;
      }
    }
    if (p != s.size()) return bad("unexpected trailing text");
  }
  if (sec == 60) sec = 59;  // leap second: clamp
  LocalTime lt = std::chrono::local_days(ymd) + std::chrono::hours(h) + std::chrono::minutes(mi) + Seconds(sec);
  if (has_offset) {
    *out = Instant(lt.time_since_epoch() - offset);
  } else {
    *out = naive_zone.FromLocal(lt);
  }
  return Status::OK();
}

Instant SystemNow() {
  return std::chrono::floor<Seconds>(std::chrono::system_clock::now());
}

}  // namespace dwfs
