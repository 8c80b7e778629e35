// Benchmarks for CronExpr: NextAfter on typical expressions, and Parse.
//
// The NextAfter loops walk forward from each result (t = next), so every
// iteration does a real search; they wrap back to the start after 2100.
#include <benchmark/benchmark.h>

#include <chrono>

#include "dwfs/cron.h"

namespace {

using dwfs::CronExpr;
using dwfs::LocalTime;

const LocalTime kStart{std::chrono::local_days(std::chrono::year(2026) /
                                               std::chrono::January / 1)};
const LocalTime kWrap{std::chrono::local_days(std::chrono::year(2100) /
                                              std::chrono::January / 1)};

const char* const kExprs[] = {"0 2 * * *", "*/5 * * * *", "0 0 1 */3 *",
                              "30 4 13 * 5"};

void BM_NextAfter(benchmark::State& state) {
  const char* text = kExprs[state.range(0)];
  CronExpr expr;
  if (!CronExpr::Parse(text, &expr).ok()) {
    state.SkipWithError("parse failed");
    return;
  }
  state.SetLabel(text);
  LocalTime t = kStart;
  for (auto _ : state) {
    const auto next = expr.NextAfter(t);
    benchmark::DoNotOptimize(next);
    t = (next && *next < kWrap) ? *next : kStart;
  }
}
BENCHMARK(BM_NextAfter)->DenseRange(0, 3);

void BM_PrevBefore(benchmark::State& state) {
  const char* text = kExprs[state.range(0)];
  CronExpr expr;
  if (!CronExpr::Parse(text, &expr).ok()) {
    state.SkipWithError("parse failed");
    return;
  }
  state.SetLabel(text);
  LocalTime t = kWrap;
  for (auto _ : state) {
    const auto prev = expr.PrevBefore(t);
    benchmark::DoNotOptimize(prev);
    t = (prev && *prev > kStart) ? *prev : kWrap;
  }
}
BENCHMARK(BM_PrevBefore)->DenseRange(0, 3);

void BM_Parse(benchmark::State& state) {
  const char* text = state.range(0) == 0
                         ? "30 4 13 * 5"
                         : "0,15,30,45 8-18/2 1-7,15 JAN-JUN MON-FRI";
  state.SetLabel(text);
  for (auto _ : state) {
    CronExpr expr;
    const dwfs::Status st = CronExpr::Parse(text, &expr);
    benchmark::DoNotOptimize(st);
    benchmark::DoNotOptimize(expr);
  }
}
BENCHMARK(BM_Parse)->Arg(0)->Arg(1);

}  // namespace

BENCHMARK_MAIN();
