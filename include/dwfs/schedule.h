// Schedule and Timetable: when a DAG runs, and which data intervals its runs
// cover (dag-files.md, "Schedules" and "Data intervals").
//
// Schedule is the parsed `schedule:` value. Timetable binds it to the DAG's
// zone and start/end dates and does the interval arithmetic the scheduler,
// backfill and `dags next-execution` share. Both are immutable values,
// thread-safe to share. Every search is bounded: no method loops forever.
#ifndef DWFS_SCHEDULE_H_
#define DWFS_SCHEDULE_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dwfs/cron.h"
#include "dwfs/status.h"
#include "dwfs/time_util.h"

namespace dwfs {

class Schedule {
 public:
  enum class Kind {
    kNone,      // null: manual triggers and backfills only
    kOnce,      // @once
    kCron,      // 5-field cron or a preset
    kDuration,  // fixed length from start_date, absolute time
  };

  Schedule() = default;  // kNone

  // Parses a non-null schedule text: a preset (@hourly, @daily, @midnight,
  // @weekly, @monthly, @quarterly, @yearly, @annually), @once, a 5-field cron
  // expression, or a duration ("1d", "6h", "90m", or integer seconds).
  static Status Parse(std::string_view text, Schedule* out);

  Kind kind() const { return kind_; }
  // The text as written ("" for kNone).
  const std::string& text() const { return text_; }
  const CronExpr& cron() const { return cron_; }
  Seconds every() const { return every_; }

 private:
  Kind kind_ = Kind::kNone;
  std::string text_;
  CronExpr cron_;
  Seconds every_{0};
};

// A run's data interval [start, end); start is the logical date.
struct DataInterval {
  Instant start;
  Instant end;
  bool operator==(const DataInterval& o) const { return start == o.start && end == o.end; }
};

class Timetable {
 public:
  // `start_date` is required for every kind but kNone (the DAG loader
  // enforces it); without it the timetable produces nothing.
  Timetable(Schedule schedule, TimeZone tz, std::optional<Instant> start_date, std::optional<Instant> end_date);

  const Schedule& schedule() const { return schedule_; }
  const TimeZone& timezone() const { return tz_; }

  // The first fire time strictly after t (cron in the zone, DST rules of the
  // spec; durations every `every` from start_date). nullopt for kNone/kOnce
  // or when the expression has no fire within 50 years.
  std::optional<Instant> NextFire(Instant t) const;
  // The last fire time at or before t.
  std::optional<Instant> PrevFireAtOrBefore(Instant t) const;

  // The first interval: logical date = the first fire at or after
  // start_date (@once: [start_date, start_date]).
  std::optional<DataInterval> FirstInterval() const;
  // The interval after `prev`; nullopt after @once or past end_date.
  std::optional<DataInterval> NextInterval(const DataInterval& prev) const;
  // The first interval whose logical date is >= t.
  std::optional<DataInterval> IntervalAtOrAfter(Instant t) const;
  // The interval containing t, or the first one after t if none contains it.
  std::optional<DataInterval> IntervalContainingOrAfter(Instant t) const;
  // The latest interval that has ended at `now` (end <= now).
  std::optional<DataInterval> LatestCompleteInterval(Instant now) const;

  // The scheduler's choice (Airflow's next_dagrun_info): the next interval to
  // create a run for after `last` (the newest scheduled interval, if any).
  // With catchup false it skips ahead to the latest complete interval. The
  // result may not have ended yet; the caller creates the run when
  // end <= now. nullopt when the schedule produces no more runs.
  std::optional<DataInterval> NextRunInterval(const std::optional<DataInterval>& last, bool catchup,
                                              Instant now) const;

  // Every interval whose logical date is in [from, to], oldest first, at
  // most `limit` of them.
  std::vector<DataInterval> IntervalsBetween(Instant from, Instant to, size_t limit) const;

  // The next `n` logical dates strictly after `after`.
  std::vector<Instant> NextLogicalDates(Instant after, int n) const;

 private:
  bool PastEnd(const DataInterval& i) const { return end_date_ && i.start > *end_date_; }
  std::optional<DataInterval> Bounded(std::optional<DataInterval> i) const;

  Schedule schedule_;
  TimeZone tz_;
  std::optional<Instant> start_date_;
  std::optional<Instant> end_date_;
};

}  // namespace dwfs

#endif  // DWFS_SCHEDULE_H_
