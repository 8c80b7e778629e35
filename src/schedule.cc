#include "dwfs/schedule.h"

#include <utility>

#include "dwfs/duration.h"

namespace dwfs {

namespace {

struct Preset {
  const char* name;
  const char* cron;
};
constexpr Preset kPresets[] = {
    {"@hourly", "0 * * * *"},     {"@daily", "0 0 * * *"},        {"@midnight", "0 0 * * *"},
    {"@weekly", "0 0 * * 0"},     {"@monthly", "0 0 1 * *"},      {"@quarterly", "0 0 1 */3 *"},
    {"@yearly", "0 0 1 1 *"},     {"@annually", "0 0 1 1 *"},
};

// Bound on fold/gap retries when mapping wall-clock candidates to instants.
constexpr int kMaxDstSteps = 64;

}  // namespace

Status Schedule::Parse(std::string_view text, Schedule* out) {
  std::string t(text);
  while (!t.empty() && t.back() == ' ') t.pop_back();
  while (!t.empty() && t.front() == ' ') t.erase(t.begin());
  Schedule s;
  s.text_ = t;
  if (t.empty()) return Status::InvalidArgument("empty schedule; use null for no schedule");
  if (t == "@once") {
    s.kind_ = Kind::kOnce;
  } else if (t[0] == '@') {
    const char* cron = nullptr;
    for (const Preset& p : kPresets) {
      if (t == p.name) cron = p.cron;
    }
    if (!cron) {
      return Status::InvalidArgument("unknown schedule preset \"" + t.substr(0, 40) +
                                     "\" (use @once, @hourly, @daily, @weekly, @monthly, @quarterly or @yearly)");
    }
    s.kind_ = Kind::kCron;
    DWFS_RETURN_IF_ERROR(CronExpr::Parse(cron, &s.cron_));
  } else if (t.find(' ') != std::string::npos || t.find('\t') != std::string::npos || t.find('*') != std::string::npos) {
    s.kind_ = Kind::kCron;
    DWFS_RETURN_IF_ERROR(CronExpr::Parse(t, &s.cron_));
  } else {
    s.kind_ = Kind::kDuration;
    Status st = ParseDuration(t, &s.every_);
    if (!st.ok()) {
      return Status::InvalidArgument("invalid schedule \"" + t.substr(0, 80) +
                                     "\": expected a cron expression, a preset, @once, null or a duration");
    }
    if (s.every_ < Seconds(1)) {
      return Status::InvalidArgument("invalid schedule \"" + t + "\": a duration schedule must be at least 1s");
    }
  }
  *out = std::move(s);
  return Status::OK();
}

Timetable::Timetable(Schedule schedule, TimeZone tz, std::optional<Instant> start_date,
                     std::optional<Instant> end_date)
    : schedule_(std::move(schedule)), tz_(std::move(tz)), start_date_(start_date), end_date_(end_date) {}

std::optional<Instant> Timetable::NextFire(Instant t) const {
  switch (schedule_.kind()) {
    case Schedule::Kind::kCron: {
      LocalTime lt = tz_.ToLocal(t);
      for (int i = 0; i < kMaxDstSteps; ++i) {
        std::optional<LocalTime> cand = schedule_.cron().NextAfter(lt);
        if (!cand) return std::nullopt;
        Instant inst = tz_.FromLocal(*cand);
        if (inst > t) return inst;
        lt = *cand;  // inside a fold or gap already passed: keep walking
      }
      return std::nullopt;
    }
    case Schedule::Kind::kDuration: {
      if (!start_date_) return std::nullopt;
      if (t < *start_date_) return *start_date_;
      auto n = (t - *start_date_) / schedule_.every();
      return *start_date_ + (n + 1) * schedule_.every();
    }
    default:
      return std::nullopt;
  }
}

std::optional<Instant> Timetable::PrevFireAtOrBefore(Instant t) const {
  switch (schedule_.kind()) {
    case Schedule::Kind::kCron: {
      LocalTime lt = tz_.ToLocal(t) + Seconds(1);
      for (int i = 0; i < kMaxDstSteps; ++i) {
        std::optional<LocalTime> cand = schedule_.cron().PrevBefore(lt);
        if (!cand) return std::nullopt;
        Instant inst = tz_.FromLocal(*cand);
        if (inst <= t) return inst;
        lt = *cand;
      }
      return std::nullopt;
    }
    case Schedule::Kind::kDuration: {
      if (!start_date_ || t < *start_date_) return std::nullopt;
      auto n = (t - *start_date_) / schedule_.every();
      return *start_date_ + n * schedule_.every();
    }
    default:
      return std::nullopt;
  }
}

std::optional<DataInterval> Timetable::Bounded(std::optional<DataInterval> i) const {
  if (i && PastEnd(*i)) return std::nullopt;
  return i;
}

std::optional<DataInterval> Timetable::FirstInterval() const {
  if (!start_date_) return std::nullopt;
  return IntervalAtOrAfter(*start_date_);
}

std::optional<DataInterval> Timetable::NextInterval(const DataInterval& prev) const {
  if (schedule_.kind() == Schedule::Kind::kOnce) return std::nullopt;
  std::optional<Instant> end = NextFire(prev.end);
  if (!end) return std::nullopt;
  return Bounded(DataInterval{prev.end, *end});
}

std::optional<DataInterval> Timetable::IntervalAtOrAfter(Instant t) const {
  if (!start_date_) return std::nullopt;
  if (t < *start_date_) t = *start_date_;
  switch (schedule_.kind()) {
    case Schedule::Kind::kOnce:
      if (t > *start_date_) return std::nullopt;
      return Bounded(DataInterval{*start_date_, *start_date_});
    case Schedule::Kind::kCron:
    case Schedule::Kind::kDuration: {
      std::optional<Instant> start = NextFire(t - Seconds(1));
      if (!start) return std::nullopt;
      std::optional<Instant> end = NextFire(*start);
      if (!end) return std::nullopt;
      return Bounded(DataInterval{*start, *end});
    }
    default:
      return std::nullopt;
  }
}

std::optional<DataInterval> Timetable::IntervalContainingOrAfter(Instant t) const {
  if (schedule_.kind() == Schedule::Kind::kCron || schedule_.kind() == Schedule::Kind::kDuration) {
    std::optional<Instant> start = PrevFireAtOrBefore(t);
    if (start && start_date_ && *start >= *start_date_) {
      std::optional<Instant> end = NextFire(*start);
      if (end) return Bounded(DataInterval{*start, *end});
    }
  }
  return IntervalAtOrAfter(t);
}

std::optional<DataInterval> Timetable::LatestCompleteInterval(Instant now) const {
  if (!start_date_) return std::nullopt;
  if (schedule_.kind() == Schedule::Kind::kOnce) {
    if (now < *start_date_) return std::nullopt;
    return Bounded(DataInterval{*start_date_, *start_date_});
  }
  std::optional<Instant> end = PrevFireAtOrBefore(now);
  if (!end) return std::nullopt;
  std::optional<Instant> start = PrevFireAtOrBefore(*end - Seconds(1));
  if (!start || *start < *start_date_) return std::nullopt;
  DataInterval i{*start, *end};
  if (PastEnd(i)) {
    // The last interval that starts by end_date.
    std::optional<Instant> last = PrevFireAtOrBefore(*end_date_);
    if (!last || *last < *start_date_) return std::nullopt;
    std::optional<Instant> last_end = NextFire(*last);
    if (!last_end) return std::nullopt;
    return DataInterval{*last, *last_end};
  }
  return i;
}

std::optional<DataInterval> Timetable::NextRunInterval(const std::optional<DataInterval>& last, bool catchup,
                                                       Instant now) const {
  if (schedule_.kind() == Schedule::Kind::kNone) return std::nullopt;
  std::optional<DataInterval> cand = last ? NextInterval(*last) : FirstInterval();
  if (!cand) return std::nullopt;
  if (!catchup && schedule_.kind() != Schedule::Kind::kOnce) {
    std::optional<DataInterval> latest = LatestCompleteInterval(now);
    if (latest && latest->start > cand->start) cand = latest;
  }
  return cand;
}

std::vector<DataInterval> Timetable::IntervalsBetween(Instant from, Instant to, size_t limit) const {
  std::vector<DataInterval> out;
  std::optional<DataInterval> i = IntervalAtOrAfter(from);
  while (i && i->start <= to && out.size() < limit) {
    out.push_back(*i);
    i = NextInterval(*i);
  }
  return out;
}

std::vector<Instant> Timetable::NextLogicalDates(Instant after, int n) const {
  std::vector<Instant> out;
  std::optional<DataInterval> i = IntervalAtOrAfter(after + Seconds(1));
  while (i && int(out.size()) < n) {
    out.push_back(i->start);
    i = NextInterval(*i);
  }
  return out;
}

}  // namespace dwfs
