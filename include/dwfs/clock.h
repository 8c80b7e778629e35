// Clock: the source of "now" for everything that schedules. Production code
// uses SystemClock; tests use FakeClock and move time by hand, so no test
// sleeps. Implementations must be thread-safe.
#ifndef DWFS_CLOCK_H_
#define DWFS_CLOCK_H_

#include <atomic>

#include "dwfs/time_util.h"

namespace dwfs {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual Instant Now() const = 0;
};

class SystemClock : public Clock {
 public:
  Instant Now() const override { return SystemNow(); }
};

class FakeClock : public Clock {
 public:
  explicit FakeClock(Instant start) : now_(start.time_since_epoch().count()) {}
  Instant Now() const override { return Instant(Seconds(now_.load())); }
  void Set(Instant t) { now_ = t.time_since_epoch().count(); }
  void Advance(Seconds d) { now_ += d.count(); }

 private:
  std::atomic<long long> now_;
};

}  // namespace dwfs

#endif  // DWFS_CLOCK_H_
