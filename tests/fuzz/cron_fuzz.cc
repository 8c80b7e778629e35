// libFuzzer target for CronExpr::Parse and the calendar search.
//
// Every input is parsed as a cron expression. Rejections must be one-line
// InvalidArgument messages; accepted expressions are searched from a few
// fixed wall-clock times and the results checked against the contracts of
// NextAfter, PrevBefore and Matches. Any violation aborts.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string_view>

#include "dwfs/cron.h"
#include "fuzz_check.h"

namespace {

using dwfs::LocalTime;
using std::chrono::minutes;


LocalTime T(int y, unsigned m, unsigned d, int h, int mi, int s) {
  return LocalTime{std::chrono::local_days(std::chrono::year(y) / m / d) +
                   std::chrono::hours(h) + minutes(mi) +
                   std::chrono::seconds(s)};
}

bool OnMinute(LocalTime t) { return t == std::chrono::floor<minutes>(t); }

// Checks the search contracts of `expr` around `x`.
void CheckAround(const dwfs::CronExpr& expr, LocalTime x) {
  const LocalTime x_minute = std::chrono::floor<minutes>(x);
  // Every accepted expression fires at least every 40 years or so (Feb 29
  // on a given weekday is the rarest), well inside the 50-year bound.
  const std::optional<LocalTime> next = expr.NextAfter(x);
  FUZZ_CHECK(next.has_value());
  FUZZ_CHECK(*next > x);
  FUZZ_CHECK(OnMinute(*next));
  FUZZ_CHECK(expr.Matches(*next));
  FUZZ_CHECK(expr.NextAfter(*next - minutes(1)) == next);
  FUZZ_CHECK(expr.PrevBefore(*next + minutes(1)) == next);
  // Nothing matches strictly between x's minute and `next`.
  if (const auto back = expr.PrevBefore(*next)) FUZZ_CHECK(*back <= x_minute);

  const std::optional<LocalTime> prev = expr.PrevBefore(x);
  FUZZ_CHECK(prev.has_value());
  FUZZ_CHECK(*prev < x);
  FUZZ_CHECK(OnMinute(*prev));
  FUZZ_CHECK(expr.Matches(*prev));
  FUZZ_CHECK(expr.NextAfter(*prev - minutes(1)) == prev);
  // Nothing matches strictly between `prev` and x.
  if (const auto fwd = expr.NextAfter(*prev)) FUZZ_CHECK(*fwd >= x);

  // Matches agrees with the searches on x's own minute.
  const bool hit = expr.NextAfter(x_minute - minutes(1)) == x_minute;
  FUZZ_CHECK(expr.Matches(x) == hit);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  dwfs::CronExpr expr;
  const dwfs::Status st = dwfs::CronExpr::Parse(text, &expr);
  if (!st.ok()) {
    FUZZ_CHECK(st.code() == dwfs::Status::Code::kInvalidArgument);
    const std::string& msg = st.message();
    FUZZ_CHECK(msg.rfind("invalid cron expression \"", 0) == 0);
    FUZZ_CHECK(msg.find('\n') == std::string::npos);
    FUZZ_CHECK(msg.size() < 400);
    FUZZ_CHECK(expr.text().empty());  // out untouched
    return 0;
  }
  FUZZ_CHECK(expr.text() == text);
  static const LocalTime kStarts[] = {
      T(2026, 1, 1, 0, 0, 0),     T(2026, 3, 8, 2, 30, 15),
      T(2096, 2, 28, 23, 59, 59), T(2099, 12, 31, 23, 59, 0),
      T(1970, 1, 1, 0, 0, 0),     T(2000, 2, 29, 12, 0, 1),
  };
  for (const LocalTime x : kStarts) CheckAround(expr, x);
  return 0;
}
