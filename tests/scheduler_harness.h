// A `dwfs scheduler` wired in process for tests (the wiring of
// cli_scheduler.cc: Engine, Store, RunRecorder, RunDriver, DagRegistry,
// Scheduler) and a fixture with a private database, a temporary dags folder
// and a FakeClock. Everything runs on the test's thread; the harness steps
// the io_context until a condition read back from the store holds.
#ifndef DWFS_TESTS_SCHEDULER_HARNESS_H_
#define DWFS_TESTS_SCHEDULER_HARNESS_H_

#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include "dwfs/dag_loader.h"
#include "dwfs/dag_registry.h"
#include "dwfs/scheduler.h"
#include "dwfs/store.h"
#include "engine.h"
#include "observer_tee.h"
#include "run_metrics.h"
#include "run_recorder.h"
#include "test_database.h"
#include "test_util.h"

namespace dwfs {
namespace scheduler_test {


inline Instant At(const std::string& iso) {
  Instant t;
  Status st = ParseDateTime(iso, TimeZone(), &t);
  EXPECT_TRUE(st.ok()) << st.message();
  return t;
}

inline std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline std::shared_ptr<spdlog::logger> QuietLogger() {
  return std::make_shared<spdlog::logger>("scheduler_test", std::make_shared<spdlog::sinks::null_sink_mt>());
}

// A DAG file: dag_id, then the top-level keys in `head`, then the `tasks`
// list (YAML text, each item indented by two spaces).
inline std::string DagYaml(const std::string& dag_id, const std::string& head, const std::string& tasks) {
  return "dag_id: " + dag_id + "\n" + head + "tasks:\n" + tasks;
}

inline constexpr char kTwoTasks[] =
    "  - task_id: a\n"
    "    bash_command: \"true\"\n"
    "  - task_id: b\n"
    "    upstream: [a]\n"
    "    bash_command: \"true\"\n";

// One step of an in-process daemon (scheduler or backfill): at most one
// handler of `io` (or `wait`), then `poll`.
inline void StepIo(boost::asio::io_context& io, const std::function<void()>& poll,
                   std::chrono::milliseconds wait = std::chrono::milliseconds(50)) {
  io.run_one_for(wait);
  poll();
}

// Steps until `done` holds; false after `deadline` (a failure guard only).
inline bool StepUntil(boost::asio::io_context& io, const std::function<void()>& poll,
                      const std::function<bool()>& done, std::chrono::seconds deadline = std::chrono::seconds(60)) {
  auto end = std::chrono::steady_clock::now() + deadline;
  while (!done()) {
    if (std::chrono::steady_clock::now() > end) return false;
    StepIo(io, poll);
  }
  return true;
}

// One complete `dwfs scheduler` in process: the wiring of cli_scheduler.cc.
// Everything runs on the caller's thread through io(). With `metrics`, it is
// wired as in cli_scheduler.cc (stores, driver, observer, registry, scheduler).
class Harness {
 public:
  Harness(const std::string& db_url, const std::string& dags_folder, const std::string& log_folder,
          const Clock& clock, const std::string& hostname, int max_dagruns_per_loop = 10,
          DwfsMetrics* metrics = nullptr)
      : log_(QuietLogger()) {
    config_.database.url = db_url;
    config_.core.dags_folder = dags_folder;
    config_.logging.base_log_folder = log_folder;
    config_.scheduler.max_dagruns_to_create_per_loop = max_dagruns_per_loop;
    ok_ = Store::Open(db_url, &store_).ok();
    std::unique_ptr<Store> recorder_store;
    ok_ = ok_ && Store::Open(db_url, &recorder_store).ok();
    if (!ok_) return;
    store_->set_metrics(metrics);
    recorder_store->set_metrics(metrics);
    connections_ = std::make_unique<StoreConnectionSource>(store_.get());
    EngineOptions eo;
    eo.log_folder = log_folder;
    eo.process_env = {{"PATH", "/usr/bin:/bin"}};
    eo.stored_connections = connections_.get();
    eo.variables = &variables_;
    engine_ = std::make_unique<Engine>(config_, eo);
    RunRecorderOptions ro;
    ro.hostname = hostname;
    ro.log_folder = log_folder;
    recorder_ = std::make_unique<RunRecorder>(engine_->io(), std::move(recorder_store), clock, ro, *log_);
    RunObserver* observer = recorder_.get();
    if (metrics) {
      run_metrics_ = std::make_unique<RunMetricsObserver>(*metrics);
      tee_ = std::make_unique<ObserverTee>(std::vector<RunObserver*>{recorder_.get(), run_metrics_.get()});
      observer = tee_.get();
    }
    driver_ = std::make_unique<RunDriver>(engine_->io(), engine_->executor(), engine_->preparer(), clock,
                                          engine_->slots(), observer, &engine_->webhooks());
    driver_->set_metrics(metrics);
    registry_ =
        std::make_unique<DagRegistry>(*store_, dags_folder, DagDefaults::FromConfig(config_), false, metrics);
    SchedulerOptions so;
    so.hostname = hostname;
    so.pid = int(::getpid());
    so.heartbeat = config_.scheduler.heartbeat;
    so.zombie_threshold = config_.scheduler.zombie_threshold;
    so.max_dagruns_per_loop = max_dagruns_per_loop;
    so.graceful_shutdown_timeout = Seconds(5);
    so.metrics = metrics;
    scheduler_ = std::make_unique<Scheduler>(engine_->io(), *store_, *registry_, *driver_, *recorder_, clock, so,
                                             *log_, &variables_);
    recorder_->set_on_lost([this](const std::string& d, const std::string& r) { scheduler_->RunLost(d, r); });
    recorder_->set_on_run_recorded(
        [this](const std::string& d, const std::string& r) { scheduler_->RunRecorded(d, r); });
  }

  ~Harness() {
    // The scheduler goes first (its timers and callbacks refer to the rest).
    scheduler_.reset();
    driver_.reset();
    recorder_.reset();
  }

  bool ok() const { return ok_; }
  Scheduler& scheduler() { return *scheduler_; }
  boost::asio::io_context& io() { return engine_->io(); }

  // One step of the daemon's loop: at most one handler (or `wait`), then Poll.
  void Step(std::chrono::milliseconds wait = std::chrono::milliseconds(50)) {
    StepIo(io(), [this] { scheduler_->Poll(); }, wait);
  }

  // Steps until `done` holds; false after `deadline` (a failure guard only).
  bool RunUntil(const std::function<bool()>& done, std::chrono::seconds deadline = std::chrono::seconds(60)) {
    return StepUntil(io(), [this] { scheduler_->Poll(); }, done, deadline);
  }

 private:
  std::shared_ptr<spdlog::logger> log_;
  Config config_;
  bool ok_ = false;
  std::unique_ptr<Store> store_;
  std::unique_ptr<StoreConnectionSource> connections_;
  std::map<std::string, std::string> variables_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<RunRecorder> recorder_;
  std::unique_ptr<RunMetricsObserver> run_metrics_;
  std::unique_ptr<ObserverTee> tee_;
  std::unique_ptr<RunDriver> driver_;
  std::unique_ptr<DagRegistry> registry_;
  std::unique_ptr<Scheduler> scheduler_;
};

class SchedulerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!db_.available()) {
      if (!db_.configured()) GTEST_SKIP() << db_.error();
      FAIL() << db_.error();
    }
    check_ = db_.OpenStore();
    ASSERT_NE(check_, nullptr);
  }

  std::string DagsFolder() const { return dags_.path() + "/dags"; }
  std::string LogFolder() const { return dags_.path() + "/logs"; }
  std::string WriteDag(const std::string& file, const std::string& yaml) { return dags_.Write("dags/" + file, yaml); }

  std::unique_ptr<Harness> MakeHarness(const std::string& hostname = "host-a", int max_dagruns_per_loop = 10,
                                       DwfsMetrics* metrics = nullptr) {
    std::filesystem::create_directories(DagsFolder());
    auto h = std::make_unique<Harness>(db_.url(), DagsFolder(), LogFolder(), clock_, hostname, max_dagruns_per_loop,
                                       metrics);
    EXPECT_TRUE(h->ok());
    return h;
  }

  std::vector<RunRecord> Runs(const std::string& dag_id, std::optional<RunState> state = std::nullopt) {
    std::vector<RunRecord> runs;
    Status st = check_->ListRuns(dag_id, state, &runs);
    EXPECT_TRUE(st.ok()) << st.message();
    return runs;
  }

  // Whether `dag_id` has exactly `n` runs, all finished.
  bool Finished(const std::string& dag_id, size_t n) {
    std::vector<RunRecord> runs = Runs(dag_id);
    if (runs.size() != n) return false;
    for (const RunRecord& r : runs) {
      if (r.state != RunState::kSuccess && r.state != RunState::kFailed) return false;
    }
    return true;
  }

  std::map<std::string, TaskInstanceRecord> Instances(const std::string& dag_id, const std::string& run_id) {
    std::vector<TaskInstanceRecord> rows;
    Status st = check_->ListTaskInstances(dag_id, run_id, &rows);
    EXPECT_TRUE(st.ok()) << st.message();
    std::map<std::string, TaskInstanceRecord> out;
    for (auto& r : rows) out[r.task_id] = r;
    return out;
  }

  std::vector<TryRecord> Tries(const std::string& dag_id, const std::string& run_id, const std::string& task_id) {
    std::vector<TryRecord> tries;
    Status st = check_->ListTries(dag_id, run_id, task_id, &tries);
    EXPECT_TRUE(st.ok()) << st.message();
    return tries;
  }

  // Every run of `dag_id` succeeded, with one try per task.
  void ExpectAllSucceededOnce(const std::string& dag_id, const std::vector<std::string>& tasks) {
    for (const RunRecord& r : Runs(dag_id)) {
      EXPECT_EQ(r.state, RunState::kSuccess) << r.info.run_id;
      auto tis = Instances(dag_id, r.info.run_id);
      EXPECT_EQ(tis.size(), tasks.size()) << r.info.run_id;
      for (const std::string& t : tasks) {
        EXPECT_EQ(tis[t].ti.state, TaskState::kSuccess) << r.info.run_id << " " << t;
        EXPECT_EQ(tis[t].ti.try_number, 1) << r.info.run_id << " " << t;
        EXPECT_EQ(Tries(dag_id, r.info.run_id, t).size(), 1u) << r.info.run_id << " " << t;
      }
    }
  }

  std::vector<std::string> LogicalDates(const std::string& dag_id) {
    std::vector<std::string> out;
    for (const RunRecord& r : Runs(dag_id)) out.push_back(FormatIso(r.info.logical_date, TimeZone()));
    std::sort(out.begin(), out.end());
    return out;
  }

  // A manual run of `dag_id` at the fake now, queued (the scheduler starts it).
  RunInfo CreateManualRun(const std::string& dag_id, Json conf = Json::Object()) {
    RunInfo info;
    info.type = RunType::kManual;
    info.logical_date = clock_.Now();
    info.data_interval = {clock_.Now(), clock_.Now()};
    info.run_id = MakeRunId(RunType::kManual, info.logical_date);
    info.conf = std::move(conf);
    Status st = check_->CreateRun(dag_id, info, RunState::kQueued, clock_.Now(), std::nullopt);
    EXPECT_TRUE(st.ok()) << st.message();
    return info;
  }

  // The first column of the first row of `sql` on the test database.
  int64_t Count(const std::string& sql) {
    if (!sql_) sql_ = std::make_unique<pqxx::connection>(db_.url());
    pqxx::nontransaction tx(*sql_);
    return tx.exec1(sql)[0].as<int64_t>();
  }

  TestDatabase db_;
  TempDir dags_;
  FakeClock clock_{At("2026-01-05T12:00:00")};
  std::unique_ptr<Store> check_;  // the test's own connection, for reading back
  std::unique_ptr<pqxx::connection> sql_;  // for Count
};

}  // namespace scheduler_test
}  // namespace dwfs

#endif  // DWFS_TESTS_SCHEDULER_HARNESS_H_
