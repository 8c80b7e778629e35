// Fixtures of the API server tests (api_server_test.cc, api_ui_test.cc): a
// server on loopback over a real PostgreSQL with three users (admin, op,
// viewer; password "pw-<name>") and two DAGs; ApiRunTest adds a run r1 of
// api_etl with extract succeeded and transform failed.
#ifndef DWFS_TESTS_API_TEST_FIXTURE_H_
#define DWFS_TESTS_API_TEST_FIXTURE_H_

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <fstream>
#include <sstream>

#include "api_thread.h"
#include "dwfs/api_server.h"
#include "dwfs/dag_loader.h"
#include "dwfs/dwfs_metrics.h"
#include "dwfs/password.h"
#include "dwfs/store.h"
#include "http_test_client.h"
#include "test_database.h"
#include "test_util.h"

namespace dwfs {
namespace testing {

// A user `name` with password "pw-<name>".
inline void AddUser(Store& store, const std::string& name, Role role) {
  UserRecord u;
  u.username = name;
  u.role = role;
  ASSERT_TRUE(HashPassword("pw-" + name, &u.password_hash).ok());
  ASSERT_TRUE(store.CreateUser(u, Instant()).ok());
}

using testing::Fetch;
using testing::HttpCall;
using testing::HttpResult;

constexpr const char* kEtl = R"(dag_id: api_etl
description: "Load <b>sales</b>"
schedule: "@daily"
start_date: 2026-01-01
tags: [etl, daily]
tasks:
  - task_id: extract
    bash_command: echo extract
  - task_id: transform
    bash_command: echo transform
    upstream: [extract]
  - task_id: load
    bash_command: echo load
    upstream: [transform]
)";

constexpr const char* kManual = R"(dag_id: api_manual
tags: [adhoc]
tasks:
  - task_id: only
    bash_command: "true"
)";

class ApiServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    DWFS_REQUIRE_DB(db_);
    store_ = db_.OpenStore();
    ASSERT_NE(store_, nullptr);
    clock_.Set(ParseTime("2026-03-01T12:00:00Z"));
    for (auto [name, role] : {std::pair{"admin", Role::kAdmin}, {"op", Role::kOp}, {"viewer", Role::kViewer}}) {
      AddUser(*store_, name, role);
    }
    AddDag(kEtl, false);
    AddDag(kManual, true);
    log_ = std::make_shared<spdlog::logger>("api_test", std::make_shared<spdlog::sinks::ostream_sink_mt>(log_text_));
    log_->set_level(spdlog::level::debug);
    StartServer();
  }

  void StartServer(ApiServerOptions o = ApiServerOptions()) {
    o.http.host = "127.0.0.1";
    o.http.port = 0;
    o.http.request_timeout = std::chrono::milliseconds(500);
    o.database_url = db_.url();
    o.worker_threads = 2;
    o.metrics = &metrics_;
    api_.reset();
    api_ = std::make_unique<ApiThread>(o, clock_, *log_);
    Status st = api_->Start();
    ASSERT_TRUE(st.ok()) << st.ToString();
    port_ = api_->port();
  }

  void TearDown() override { api_.reset(); }

  void AddDag(const char* yaml, bool paused) {
    Dag dag;
    ImportError error;
    ASSERT_TRUE(ParseDagText(yaml, "/dags/x.yaml", DagDefaults(), &dag, &error)) << error.ToString();
    bool changed = false;
    ASSERT_TRUE(store_->SyncDag(dag, yaml, paused, clock_.Now(), &changed).ok());
  }

  static Instant ParseTime(const char* text) {
    Instant t;
    EXPECT_TRUE(ParseDateTime(text, TimeZone(), &t).ok());
    return t;
  }

  HttpResult As(const std::string& who, HttpCall call) {
    if (!who.empty()) call.Auth(who, "pw-" + who);
    return Fetch(port_, call);
  }
  HttpResult GetAs(const std::string& who, const std::string& target) {
    HttpCall c;
    c.target = target;
    return As(who, c);
  }
  HttpResult Send(const std::string& who, const std::string& method, const std::string& target,
                  const std::string& body) {
    HttpCall c;
    c.method = method;
    c.target = target;
    c.body = body;
    return As(who, c);
  }
  static std::string Detail(const HttpResult& r) {
    Json j = r.JsonBody();
    const Json* d = j.Find("detail");
    return d ? d->str() : "";
  }

  TestDatabase db_;
  std::unique_ptr<Store> store_;
  FakeClock clock_{Instant()};
  std::ostringstream log_text_;
  std::shared_ptr<spdlog::logger> log_;
  MetricsRegistry registry_;
  DwfsMetrics metrics_{registry_};
  std::unique_ptr<ApiThread> api_;
  uint16_t port_ = 0;
};

// A run with stored task instances and tries (as a scheduler writes them).
class ApiRunTest : public ApiServerTest {
 protected:
  void SetUp() override {
    ApiServerTest::SetUp();
    if (HasFatalFailure() || IsSkipped()) return;
    dir_ = tmp_.path();
    Dag dag;
    ImportError error;
    ASSERT_TRUE(ParseDagText(kEtl, "/dags/x.yaml", DagDefaults(), &dag, &error));
    RunInfo info;
    info.run_id = "r1";
    info.type = RunType::kScheduled;
    info.logical_date = ParseTime("2026-02-01T00:00:00Z");
    info.data_interval = {info.logical_date, info.logical_date + Seconds(86400)};
    ASSERT_TRUE(store_->CreateRun("api_etl", info, RunState::kRunning, clock_.Now(), std::nullopt).ok());
    log_path_ = dir_ + "/extract.1.log";
    std::ofstream(log_path_) << "0123456789abcdefghij";
    StoreBatch batch;
    auto add = [&](const std::string& task, TaskState state, int try_number) {
      TaskInstanceRecord t;
      t.dag_id = "api_etl";
      t.run_id = "r1";
      t.task_id = task;
      t.ti.state = state;
      t.ti.try_number = try_number;
      t.ti.max_tries = 1;
      t.ti.start_date = clock_.Now();
      t.ti.end_date = clock_.Now() + Seconds(2);
      t.duration = 2;
      t.hostname = "h1";
      t.log_path = log_path_;
      batch.instances.push_back(t);
      TryRecord tr;
      tr.dag_id = "api_etl";
      tr.run_id = "r1";
      tr.task_id = task;
      tr.try_number = try_number;
      tr.state = state;
      tr.log_path = task == "extract" ? log_path_ : dir_ + "/missing.log";
      batch.tries.push_back(tr);
    };
    add("extract", TaskState::kSuccess, 1);
    add("transform", TaskState::kFailed, 1);
    ASSERT_TRUE(store_->Apply(batch, std::nullopt, nullptr).ok());
  }
  TempDir tmp_;
  std::string dir_, log_path_;
};

}  // namespace testing
}  // namespace dwfs

#endif  // DWFS_TESTS_API_TEST_FIXTURE_H_
