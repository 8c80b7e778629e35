// libFuzzer target for ParseDagText (the DAG file loader).
//
// Every input is parsed as a DAG file with default DagDefaults. A rejection
// must be a one-line ImportError naming the file that leaves the output
// untouched; an accepted DAG must satisfy the loader's invariants (unique
// valid ids, a complete topological order consistent with the upstream and
// downstream lists, start_date present for a real schedule), and its
// timetable is exercised from a fixed `now`. Any violation aborts.
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "dwfs/dag_loader.h"
#include "fuzz_check.h"

namespace {


using dwfs::DataInterval;
using dwfs::Instant;
using dwfs::Schedule;

Instant Utc(int y, unsigned m, unsigned d, int h, int mi, int s) {
  return Instant{std::chrono::sys_days(std::chrono::year(y) / m / d) + std::chrono::hours(h) +
                 std::chrono::minutes(mi) + std::chrono::seconds(s)};
}

bool ValidId(const std::string& id) {
  if (id.empty() || id.size() > 250) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                    c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

void CheckInterval(const dwfs::Dag& dag, const DataInterval& i) {
  if (dag.schedule.kind() == Schedule::Kind::kOnce) {
    FUZZ_CHECK(i.start == i.end);
    FUZZ_CHECK(dag.start_date && i.start == *dag.start_date);
  } else {
    FUZZ_CHECK(i.start < i.end);
  }
  FUZZ_CHECK(dag.start_date && i.start >= *dag.start_date);
  if (dag.end_date) FUZZ_CHECK(i.start <= *dag.end_date);
}

void CheckGraph(const dwfs::Dag& dag) {
  const size_t n = dag.tasks.size();
  FUZZ_CHECK(n > 0);
  std::set<std::string> ids;
  for (size_t i = 0; i < n; ++i) {
    const dwfs::Task& t = dag.tasks[i];
    FUZZ_CHECK(ValidId(t.task_id));
    FUZZ_CHECK(ids.insert(t.task_id).second);
    FUZZ_CHECK(dag.TaskIndex(t.task_id) == int(i));
    FUZZ_CHECK(t.line >= 1);
    FUZZ_CHECK(t.operator_name == "bash" || t.operator_name == "sql");
    if (t.operator_name == "bash") FUZZ_CHECK(!t.bash_command.empty());
    if (t.operator_name == "sql") FUZZ_CHECK(!t.sql.empty() && !t.conn_id.empty());
    FUZZ_CHECK(t.upstream.size() == t.upstream_idx.size());
    for (size_t u = 0; u < t.upstream_idx.size(); ++u) {
      const int up = t.upstream_idx[u];
      FUZZ_CHECK(up >= 0 && size_t(up) < n && size_t(up) != i);
      FUZZ_CHECK(dag.tasks[size_t(up)].task_id == t.upstream[u]);
      const auto& down = dag.tasks[size_t(up)].downstream_idx;
      FUZZ_CHECK(std::find(down.begin(), down.end(), int(i)) != down.end());
    }
    FUZZ_CHECK(std::set<std::string>(t.upstream.begin(), t.upstream.end()).size() == t.upstream.size());
  }
  // topo_order: a permutation in which every task follows its upstreams.
  FUZZ_CHECK(dag.topo_order.size() == n);
  std::vector<int> pos(n, -1);
  for (size_t k = 0; k < n; ++k) {
    const int i = dag.topo_order[k];
    FUZZ_CHECK(i >= 0 && size_t(i) < n && pos[size_t(i)] < 0);
    pos[size_t(i)] = int(k);
  }
  for (size_t i = 0; i < n; ++i) {
    for (int up : dag.tasks[i].upstream_idx) FUZZ_CHECK(pos[size_t(up)] < pos[i]);
  }
}

void CheckTimetable(const dwfs::Dag& dag) {
  if (dag.schedule.kind() != Schedule::Kind::kNone) FUZZ_CHECK(dag.start_date.has_value());
  if (dag.start_date && dag.end_date) FUZZ_CHECK(*dag.start_date <= *dag.end_date);
  const dwfs::Timetable tt = dag.timetable();
  static const Instant kNow = Utc(2026, 6, 15, 12, 34, 56);

  std::optional<DataInterval> first = tt.NextRunInterval(std::nullopt, true, kNow);
  if (dag.schedule.kind() == Schedule::Kind::kNone) FUZZ_CHECK(!first);
  if (first) {
    CheckInterval(dag, *first);
    std::optional<DataInterval> next = tt.NextRunInterval(first, dag.catchup, kNow);
    if (next) {
      CheckInterval(dag, *next);
      FUZZ_CHECK(next->start >= first->end);
    }
    if (dag.schedule.kind() == Schedule::Kind::kOnce) FUZZ_CHECK(!next);
  }
  std::optional<DataInterval> latest = tt.NextRunInterval(std::nullopt, false, kNow);
  if (latest) CheckInterval(dag, *latest);

  const Instant from = dag.start_date ? *dag.start_date : kNow - std::chrono::hours(24 * 30);
  const std::vector<DataInterval> some = tt.IntervalsBetween(from, kNow, 5);
  FUZZ_CHECK(some.size() <= 5);
  for (size_t k = 0; k < some.size(); ++k) {
    CheckInterval(dag, some[k]);
    FUZZ_CHECK(some[k].start >= from && some[k].start <= kNow);
    if (k > 0) FUZZ_CHECK(some[k].start == some[k - 1].end);
  }
  const std::vector<Instant> dates = tt.NextLogicalDates(kNow, 3);
  FUZZ_CHECK(dates.size() <= 3);
  for (size_t k = 0; k < dates.size(); ++k) {
    FUZZ_CHECK(dates[k] > kNow);
    if (k > 0) FUZZ_CHECK(dates[k] > dates[k - 1]);
  }
  (void)dag.ScheduleText();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  static const dwfs::DagDefaults kDefaults;
  dwfs::Dag dag;
  dag.dag_id = "untouched";
  dwfs::ImportError err;
  if (!dwfs::ParseDagText(text, "fuzz.yaml", kDefaults, &dag, &err)) {
    FUZZ_CHECK(dag.dag_id == "untouched" && dag.tasks.empty());  // *out left unchanged
    FUZZ_CHECK(err.filepath == "fuzz.yaml");
    FUZZ_CHECK(!err.message.empty());
    FUZZ_CHECK(err.message.find('\n') == std::string::npos);
    FUZZ_CHECK(err.message.find('\r') == std::string::npos);
    FUZZ_CHECK(err.message.size() < 4000);
    FUZZ_CHECK(!err.line || *err.line >= 1);
    FUZZ_CHECK(err.ToString().rfind("fuzz.yaml:", 0) == 0);
    return 0;
  }
  FUZZ_CHECK(ValidId(dag.dag_id));
  FUZZ_CHECK(dag.fileloc == "fuzz.yaml");
  FUZZ_CHECK(dag.source_hash.size() == 16);
  FUZZ_CHECK(dag.max_active_runs >= 1 && dag.max_active_tasks >= 1);
  FUZZ_CHECK(dag.params.type() == dwfs::Json::Type::kObject);
  CheckGraph(dag);
  CheckTimetable(dag);
  return 0;
}
