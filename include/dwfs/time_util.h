// Instants, time zones, and the date/time text forms of the specs.
//
// Instants are UTC seconds (std::chrono::sys_seconds). Wall-clock times in a
// zone are LocalTime. TimeZone wraps an IANA zone from the OS tz database
// (date/tz with USE_OS_TZDB); it is a cheap value, thread-safe to share.
#ifndef DWFS_TIME_UTIL_H_
#define DWFS_TIME_UTIL_H_

#include <chrono>
#include <string>
#include <string_view>

#include "dwfs/status.h"

namespace date {
class time_zone;
}

namespace dwfs {

using Seconds = std::chrono::seconds;
using Instant = std::chrono::sys_seconds;
using LocalTime = std::chrono::local_seconds;

class TimeZone {
 public:
  // UTC.
  TimeZone() = default;
  // Looks up an IANA zone name ("Asia/Seoul", "UTC"). Fails with a message
  // naming the zone when it is unknown.
  static Status Find(std::string_view name, TimeZone* out);

  const std::string& name() const { return name_; }
  bool is_utc() const { return tz_ == nullptr; }

  LocalTime ToLocal(Instant t) const;
  // The UTC offset in effect at t.
  Seconds Offset(Instant t) const;
  // Wall clock to instant, per the spec's DST rules: a wall time inside a
  // spring-forward gap maps to the first valid instant after the gap (the
  // transition); a wall time repeated by a fall-back maps to its first
  // (earliest) occurrence.
  Instant FromLocal(LocalTime lt) const;

  bool operator==(const TimeZone& o) const { return name_ == o.name_; }

 private:
  const date::time_zone* tz_ = nullptr;  // nullptr means UTC (fast path)
  std::string name_ = "UTC";
};

// "2026-01-01T02:00:00+09:00" (offset "+00:00" for UTC).
std::string FormatIso(Instant t, const TimeZone& tz);
// "20260101T020000" (ts_nodash form, wall clock in tz).
std::string FormatIsoNoDash(Instant t, const TimeZone& tz);
// "2026-01-01" in tz.
std::string FormatDate(Instant t, const TimeZone& tz);

// Parses "YYYY-MM-DD", or an ISO-8601 date-time "YYYY-MM-DD[T ]HH:MM[:SS[.frac]]"
// with an optional "Z" or "+HH:MM"/"+HHMM"/"+HH" offset. Naive forms are read
// as wall clock in `naive_zone`. Fails with a message quoting the text.
Status ParseDateTime(std::string_view text, const TimeZone& naive_zone, Instant* out);

// The current time; real clock. Components take a Clock (clock.h) instead.
Instant SystemNow();

}  // namespace dwfs

#endif  // DWFS_TIME_UTIL_H_
