// CronExpr: a parsed 5-field cron expression evaluated on wall-clock time.
//
// Fields: minute hour day-of-month month day-of-week, each `*`, a number, a
// list `a,b`, a range `a-b`, a step `*/n` or `a-b/n` (and `a/n` = `a-max/n`),
// month names JAN..DEC and weekday names SUN..SAT (case-insensitive), with
// `7` = Sunday. When both day fields are restricted (neither starts with
// `*`), a day matches if either matches (Vixie cron rule). Presets (@daily
// ...) are expanded by Schedule, not here.
//
// CronExpr knows nothing about time zones: it walks LocalTime (wall clock).
// The schedule layer maps wall clock to instants with the DST rules.
// Thread-safe after construction (const methods only).
#ifndef DWFS_CRON_H_
#define DWFS_CRON_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "dwfs/status.h"
#include "dwfs/time_util.h"

namespace dwfs {

class CronExpr {
 public:
  CronExpr() = default;

  // Parses `text`. Rejects, with a one-line message naming the field and the
  // bad part: wrong field count, out-of-range values, bad names, zero or
  // oversized steps, reversed ranges, and expressions that can never fire
  // (e.g. "0 0 30 2 *", "0 0 31 4,6,9,11 *").
  static Status Parse(std::string_view text, CronExpr* out);

  // The first matching minute strictly after `after` (seconds ignored), or
  // nullopt if none within 50 years. Never loops unboundedly.
  std::optional<LocalTime> NextAfter(LocalTime after) const;
  // The last matching minute strictly before `before`, or nullopt if none
  // within 50 years.
  std::optional<LocalTime> PrevBefore(LocalTime before) const;
  // True if the minute containing `t` matches.
  bool Matches(LocalTime t) const;

  const std::string& text() const { return text_; }

 private:
  std::string text_;
  uint64_t minutes_ = 0;   // bit m set: minute m (0-59) matches
  uint32_t hours_ = 0;     // bit h: hour h (0-23)
  uint32_t mdays_ = 0;     // bit d: day of month d (1-31)
  uint16_t months_ = 0;    // bit m: month m (1-12)
  uint8_t wdays_ = 0;      // bit w: weekday w (0=Sunday .. 6)
  bool mday_star_ = true;  // day-of-month field starts with '*'
  bool wday_star_ = true;  // day-of-week field starts with '*'
};

}  // namespace dwfs

#endif  // DWFS_CRON_H_
