// The API server against a real PostgreSQL over loopback HTTP: every
// endpoint's success and error shapes, roles, limits and hostile input.
#include "dwfs/api_server.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "api_test_fixture.h"
#include "api_thread.h"
#include "dwfs/dag_loader.h"
#include "dwfs/dwfs_metrics.h"
#include "dwfs/password.h"
#include "dwfs/store.h"
#include "http_test_client.h"
#include "test_database.h"
#include "test_util.h"

namespace dwfs {
namespace {

using testing::ApiRunTest;
using testing::ApiServerTest;
using testing::Fetch;
using testing::HttpCall;
using testing::HttpResult;

TEST_F(ApiServerTest, HealthAndVersionNeedNoCredentials) {
  HttpResult h = GetAs("", "/health");
  ASSERT_EQ(h.status, 200) << h.error << h.body;
  EXPECT_EQ(h.Header("content-type"), "application/json");
  EXPECT_EQ(h.body, R"({"metadatabase":{"status":"healthy"},"scheduler":{"status":"unhealthy",)"
                    R"("latest_scheduler_heartbeat":null}})");
  int64_t id = 0;
  ASSERT_TRUE(store_->RegisterScheduler("host", 42, "scheduler", clock_.Now() - Seconds(10), &id).ok());
  HttpResult h2 = GetAs("", "/api/v1/health");
  EXPECT_EQ(h2.body, R"({"metadatabase":{"status":"healthy"},"scheduler":{"status":"healthy",)"
                     R"("latest_scheduler_heartbeat":"2026-03-01T11:59:50+00:00"}})");
  HttpResult v = GetAs("", "/api/v1/version");
  EXPECT_EQ(v.status, 200);
  EXPECT_EQ(v.JsonBody().Find("version")->str(), DWFS_VERSION);
}

TEST_F(ApiServerTest, EverythingElseNeedsValidCredentials) {
  for (const char* target : {"/api/v1/dags", "/api/v1/dags/api_etl", "/api/v1/importErrors", "/api/v1/variables",
                             "/api/v1/connections", "/metrics", "/api/v1/dags/api_etl/dagRuns"}) {
    HttpResult r = GetAs("", target);
    EXPECT_EQ(r.status, 401) << target;
    EXPECT_EQ(r.Header("content-type"), "application/problem+json");
    EXPECT_NE(r.Header("www-authenticate").find("Basic"), std::string::npos);
    HttpCall wrong;
    wrong.target = target;
    wrong.Auth("viewer", "not-the-password");
    EXPECT_EQ(Fetch(port_, wrong).status, 401) << target;
    HttpCall nobody;
    nobody.target = target;
    nobody.Auth("nobody", "pw-nobody");
    EXPECT_EQ(Fetch(port_, nobody).status, 401) << target;
    HttpCall garbage;
    garbage.target = target;
    garbage.headers["Authorization"] = "Basic !!!";
    EXPECT_EQ(Fetch(port_, garbage).status, 401) << target;
  }
  std::string logs = log_text_.str();
  EXPECT_NE(logs.find("failed login for user 'viewer' from 127.0.0.1"), std::string::npos) << logs;
  EXPECT_NE(logs.find("failed login for user 'nobody'"), std::string::npos);
  EXPECT_EQ(logs.find("not-the-password"), std::string::npos);
  EXPECT_EQ(logs.find("pw-nobody"), std::string::npos);
}

TEST_F(ApiServerTest, RolesDecideWhoMayAct) {
  const std::string pause = R"({"is_paused": true})";
  const std::string trigger = R"({"dag_run_id": "by_role"})";
  const std::string clear = R"({"dry_run": true})";
  const std::string var = R"({"key": "k", "value": "v"})";
  struct Case {
    std::string method, target, body;
    bool viewer, op;  // admin may always
  } cases[] = {
      {"PATCH", "/api/v1/dags/api_etl", pause, false, true},
      {"POST", "/api/v1/dags/api_manual/dagRuns", trigger, false, true},
      {"POST", "/api/v1/dags/api_etl/clearTaskInstances", clear, false, true},
      {"POST", "/api/v1/variables", var, false, false},
      {"DELETE", "/api/v1/variables/k", "", false, false},
  };
  for (const Case& c : cases) {
    HttpResult v = Send("viewer", c.method, c.target, c.body);
    EXPECT_EQ(v.status, c.viewer ? 200 : 403) << c.method << " " << c.target << " " << v.body;
    if (!c.viewer) {
      EXPECT_NE(Detail(v).find("role Viewer"), std::string::npos) << v.body;
    }
    HttpResult o = Send("op", c.method, c.target, c.body);
    EXPECT_EQ(o.status, c.op ? 200 : 403) << c.method << " " << c.target << " " << o.body;
    HttpResult a = Send("admin", c.method, c.target, c.body);
    EXPECT_TRUE(a.status == 200 || a.status == 204 || a.status == 409) << c.method << " " << c.target << a.body;
  }
  // A viewer's failed actions changed nothing; admin's did.
  std::string value;
  EXPECT_EQ(store_->GetVariable("k", &value).code(), Status::Code::kNotFound);  // admin deleted it again
  RunRecord run;
  EXPECT_TRUE(store_->GetRun("api_manual", "by_role", &run).ok());
}

TEST_F(ApiServerTest, ListDagsWithFiltersAndPaging) {
  HttpResult r = GetAs("viewer", "/api/v1/dags");
  ASSERT_EQ(r.status, 200) << r.body;
  Json j = r.JsonBody();
  EXPECT_EQ(j.Find("total_entries")->as_int(), 2);
  const Json& first = j.Find("dags")->items()[0];
  EXPECT_EQ(first.Find("dag_id")->str(), "api_etl");
  EXPECT_EQ(first.Find("description")->str(), "Load <b>sales</b>");
  EXPECT_EQ(first.Find("is_paused")->as_bool(), false);
  EXPECT_EQ(first.Find("tags")->Dump(), R"([{"name":"etl"},{"name":"daily"}])");
  EXPECT_EQ(first.Find("schedule_interval")->Dump(), R"({"__type":"CronExpression","value":"@daily"})");
  EXPECT_EQ(first.Find("owners")->Dump(), R"(["dwfs"])");
  EXPECT_EQ(j.Find("dags")->items()[1].Find("schedule_interval")->is_null(), true);

  auto ids = [&](const std::string& target) {
    HttpResult res = GetAs("viewer", target);
    EXPECT_EQ(res.status, 200) << target << res.body;
    std::string out;
    Json body = res.JsonBody();
    for (const Json& d : body.Find("dags")->items()) out += d.Find("dag_id")->str() + ",";
    return out + std::to_string(body.Find("total_entries")->as_int());
  };
  EXPECT_EQ(ids("/api/v1/dags?tags=adhoc"), "api_manual,1");
  EXPECT_EQ(ids("/api/v1/dags?tags=etl&tags=adhoc"), "api_etl,api_manual,2");
  EXPECT_EQ(ids("/api/v1/dags?paused=true"), "api_manual,1");
  EXPECT_EQ(ids("/api/v1/dags?paused=false"), "api_etl,1");
  EXPECT_EQ(ids("/api/v1/dags?limit=1"), "api_etl,2");
  EXPECT_EQ(ids("/api/v1/dags?limit=1&offset=1"), "api_manual,2");
  EXPECT_EQ(ids("/api/v1/dags?offset=5"), "2");
  EXPECT_EQ(ids("/api/v1/dags?order_by=-dag_id"), "api_manual,api_etl,2");
  EXPECT_EQ(ids("/api/v1/dags?dag_id_pattern=man"), "api_manual,1");
  EXPECT_EQ(ids("/api/v1/dags?dag_id_pattern=MAN"), "api_manual,1");  // Airflow's ilike
  EXPECT_EQ(ids("/api/v1/dags?dag_id_pattern=api%25"), "0");           // % and _ are not wildcards
  EXPECT_EQ(ids("/api/v1/dags?dag_id_pattern=api_&limit=1&offset=1&order_by=-dag_id"), "api_etl,2");
  EXPECT_EQ(ids("/api/v1/dags?tags=etl&offset=1"), "1");  // past the end, still counted
  // SQL metacharacters are data, never SQL.
  EXPECT_EQ(ids("/api/v1/dags?dag_id_pattern=%27%3B%20DROP%20TABLE%20dag%3B--"), "0");
  EXPECT_EQ(ids("/api/v1/dags?tags=%27%20OR%201%3D1--"), "0");
  for (const char* bad : {"/api/v1/dags?limit=-1", "/api/v1/dags?limit=x", "/api/v1/dags?paused=maybe",
                          "/api/v1/dags?order_by=fileloc;drop"}) {
    HttpResult res = GetAs("viewer", bad);
    EXPECT_EQ(res.status, 400) << bad;
    EXPECT_EQ(res.Header("content-type"), "application/problem+json");
  }
}

TEST_F(ApiServerTest, GetAndPatchDag) {
  HttpResult r = GetAs("viewer", "/api/v1/dags/api_etl");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.JsonBody().Find("next_dagrun")->is_null(), true);
  EXPECT_EQ(r.JsonBody().Find("params")->Dump(), "{}");
  HttpResult missing = GetAs("viewer", "/api/v1/dags/nope");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(Detail(missing), "DAG 'nope' not found");
  // The list's answer is shared for a second, but a change made through
  // the server is seen at once.
  auto listed_paused = [&] {
    return GetAs("viewer", "/api/v1/dags?dag_id_pattern=etl").JsonBody().Find("dags")->items()[0].Find("is_paused")->as_bool();
  };
  EXPECT_FALSE(listed_paused());
  HttpResult p = Send("op", "PATCH", "/api/v1/dags/api_etl", R"({"is_paused": true})");
  ASSERT_EQ(p.status, 200) << p.body;
  EXPECT_EQ(p.JsonBody().Find("is_paused")->as_bool(), true);
  EXPECT_TRUE(listed_paused());
  DagRecord rec;
  ASSERT_TRUE(store_->GetDag("api_etl", &rec).ok());
  EXPECT_TRUE(rec.is_paused);
  EXPECT_EQ(Send("op", "PATCH", "/api/v1/dags/api_etl?update_mask=is_paused", R"({"is_paused": false})").status, 200);
  ASSERT_TRUE(store_->GetDag("api_etl", &rec).ok());
  EXPECT_FALSE(rec.is_paused);
  EXPECT_EQ(Send("op", "PATCH", "/api/v1/dags/nope", R"({"is_paused": true})").status, 404);
  for (const char* bad : {R"({"is_paused": "yes"})", R"({})", R"({"is_paused": true, "owner": "x"})", "[1]",
                          R"({"is_paused": tru)", ""}) {
    HttpResult b = Send("op", "PATCH", "/api/v1/dags/api_etl", bad);
    EXPECT_EQ(b.status, 400) << bad << " " << b.body;
  }
  HttpResult tasks = GetAs("viewer", "/api/v1/dags/api_etl/tasks");
  ASSERT_EQ(tasks.status, 200);
  std::string order;
  Json tasks_body = tasks.JsonBody();
  for (const Json& t : tasks_body.Find("tasks")->items()) order += t.Find("task_id")->str() + ",";
  EXPECT_EQ(order, "extract,transform,load,");
  EXPECT_EQ(tasks.JsonBody().Find("tasks")->items()[0].Find("downstream_task_ids")->Dump(), R"(["transform"])");
}

TEST_F(ApiServerTest, TriggerGetAndListRuns) {
  HttpResult t = Send("op", "POST", "/api/v1/dags/api_etl/dagRuns",
                      R"({"dag_run_id": "r1", "logical_date": "2026-02-01T00:00:00Z", "conf": {"region": "kr"}})");
  ASSERT_EQ(t.status, 200) << t.body;
  Json run = t.JsonBody();
  EXPECT_EQ(run.Find("dag_run_id")->str(), "r1");
  EXPECT_EQ(run.Find("state")->str(), "queued");
  EXPECT_EQ(run.Find("run_type")->str(), "manual");
  EXPECT_EQ(run.Find("logical_date")->str(), "2026-02-01T00:00:00+00:00");
  EXPECT_EQ(run.Find("data_interval_end")->str(), "2026-02-02T00:00:00+00:00");  // the @daily interval
  EXPECT_EQ(run.Find("conf")->Dump(), R"({"region":"kr"})");
  // Duplicate id, duplicate date -> 409.
  HttpResult dup = Send("op", "POST", "/api/v1/dags/api_etl/dagRuns", R"({"dag_run_id": "r1"})");
  EXPECT_EQ(dup.status, 409) << dup.body;
  EXPECT_NE(Detail(dup).find("already has run 'r1'"), std::string::npos);
  EXPECT_EQ(Send("op", "POST", "/api/v1/dags/api_etl/dagRuns", R"({"logical_date": "2026-02-01T00:00:00+00:00"})")
                .status,
            409);
  // Defaults: now, manual__<now>.
  HttpResult now = Send("op", "POST", "/api/v1/dags/api_etl/dagRuns", "");
  ASSERT_EQ(now.status, 200) << now.body;
  EXPECT_EQ(now.JsonBody().Find("dag_run_id")->str(), "manual__2026-03-01T12:00:00+00:00");
  // Bad input.
  for (const char* bad : {R"({"dag_run_id": "../../etc"})", R"({"dag_run_id": "a/b"})", R"({"dag_run_id": 5})",
                          R"({"logical_date": "yesterday"})", R"({"conf": [1]})", R"({"state": "success"})",
                          R"({"dag_run_id": "x'; DROP TABLE dag_run;--"})", "{",
                          R"({"conf": {"a": "nul \u0000 inside"}})", R"({"conf": {"k\u0000": 1}})"}) {
    HttpResult b = Send("op", "POST", "/api/v1/dags/api_etl/dagRuns", bad);
    EXPECT_EQ(b.status, 400) << bad << " " << b.body;
  }
  EXPECT_EQ(Send("op", "POST", "/api/v1/dags/nope/dagRuns", "{}").status, 404);

  HttpResult list = GetAs("viewer", "/api/v1/dags/api_etl/dagRuns");
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(list.JsonBody().Find("total_entries")->as_int(), 2);
  EXPECT_EQ(list.JsonBody().Find("dag_runs")->items()[0].Find("dag_run_id")->str(), "r1");  // oldest first
  HttpResult newest = GetAs("viewer", "/api/v1/dags/api_etl/dagRuns?order_by=-logical_date&limit=1");
  EXPECT_EQ(newest.JsonBody().Find("dag_runs")->items().size(), 1u);
  EXPECT_EQ(newest.JsonBody().Find("dag_runs")->items()[0].Find("dag_run_id")->str(),
            "manual__2026-03-01T12:00:00+00:00");
  EXPECT_EQ(GetAs("viewer", "/api/v1/dags/api_etl/dagRuns?state=success").JsonBody().Find("total_entries")->as_int(),
            0);
  EXPECT_EQ(GetAs("viewer", "/api/v1/dags/api_etl/dagRuns?state=bogus").status, 400);
  EXPECT_EQ(GetAs("viewer", "/api/v1/dags/nope/dagRuns").status, 404);

  HttpResult one = GetAs("viewer", "/api/v1/dags/api_etl/dagRuns/r1");
  ASSERT_EQ(one.status, 200);
  EXPECT_EQ(one.JsonBody().Find("conf")->Dump(), R"({"region":"kr"})");
  // A run id with '+' and ':' in the path.
  EXPECT_EQ(GetAs("viewer", "/api/v1/dags/api_etl/dagRuns/manual__2026-03-01T12:00:00+00:00").status, 200);
  HttpResult gone = GetAs("viewer", "/api/v1/dags/api_etl/dagRuns/r9");
  EXPECT_EQ(gone.status, 404);
  EXPECT_EQ(Detail(gone), "DAG 'api_etl' has no run 'r9'");
}

TEST_F(ApiRunTest, TaskInstancesInDependencyOrder) {
  HttpResult r = GetAs("viewer", "/api/v1/dags/api_etl/dagRuns/r1/taskInstances");
  ASSERT_EQ(r.status, 200) << r.body;
  Json body = r.JsonBody();
  const auto& items = body.Find("task_instances")->items();
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[0].Find("task_id")->str(), "extract");
  EXPECT_EQ(items[0].Find("state")->str(), "success");
  EXPECT_EQ(items[0].Find("duration")->as_double(), 2.0);
  EXPECT_EQ(items[0].Find("hostname")->str(), "h1");
  EXPECT_EQ(items[1].Find("state")->str(), "failed");
  EXPECT_TRUE(items[2].Find("state")->is_null());  // load has not run
  EXPECT_EQ(items[2].Find("operator")->str(), "bash");
  HttpResult one = GetAs("viewer", "/api/v1/dags/api_etl/dagRuns/r1/taskInstances/transform");
  EXPECT_EQ(one.JsonBody().Find("state")->str(), "failed");
  EXPECT_EQ(GetAs("viewer", "/api/v1/dags/api_etl/dagRuns/r1/taskInstances/nope").status, 404);
  EXPECT_EQ(GetAs("viewer", "/api/v1/dags/api_etl/dagRuns/r2/taskInstances").status, 404);
}

TEST_F(ApiRunTest, LogsWholeAndByRange) {
  const std::string base = "/api/v1/dags/api_etl/dagRuns/r1/taskInstances/extract/logs/";
  HttpResult all = GetAs("viewer", base + "1");
  ASSERT_EQ(all.status, 200) << all.body;
  EXPECT_EQ(all.body, "0123456789abcdefghij");
  EXPECT_EQ(all.Header("content-type"), "text/plain; charset=utf-8");
  EXPECT_EQ(all.Header("accept-ranges"), "bytes");
  HttpCall c;
  c.target = base + "1";
  c.Auth("viewer", "pw-viewer");
  c.headers["Range"] = "bytes=10-14";
  HttpResult part = Fetch(port_, c);
  EXPECT_EQ(part.status, 206);
  EXPECT_EQ(part.body, "abcde");
  EXPECT_EQ(part.Header("content-range"), "bytes 10-14/20");
  c.headers["Range"] = "bytes=-3";
  EXPECT_EQ(Fetch(port_, c).body, "hij");
  c.headers["Range"] = "bytes=20-";
  HttpResult past = Fetch(port_, c);
  EXPECT_EQ(past.status, 416);
  EXPECT_EQ(past.Header("content-range"), "bytes */20");
  c.headers["Range"] = "bytes=5-9";
  c.headers["Accept"] = "application/json";
  HttpResult js = Fetch(port_, c);
  EXPECT_EQ(js.status, 206);
  EXPECT_EQ(js.JsonBody().Find("content")->str(), "56789");
  EXPECT_EQ(js.JsonBody().Find("size")->as_int(), 20);
  HttpCall head = c;
  head.method = "HEAD";
  head.headers.erase("Accept");
  head.headers.erase("Range");
  HttpResult h = Fetch(port_, head);
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(h.Header("content-length"), "20");
  EXPECT_EQ(h.body, "");

  EXPECT_EQ(GetAs("viewer", base + "2").status, 404);  // no such try
  EXPECT_EQ(GetAs("viewer", base + "0").status, 400);
  EXPECT_EQ(GetAs("viewer", base + "x").status, 400);
  HttpResult missing = GetAs("viewer", "/api/v1/dags/api_etl/dagRuns/r1/taskInstances/transform/logs/1");
  EXPECT_EQ(missing.status, 404);
  EXPECT_NE(Detail(missing).find("has no log file"), std::string::npos);
  // Traversal in ids never reaches the file system.
  EXPECT_EQ(GetAs("viewer", "/api/v1/dags/api_etl/dagRuns/r1/taskInstances/..%2F..%2Fetc/logs/1").status, 400);
  EXPECT_EQ(GetAs("viewer", "/api/v1/dags/api_etl/dagRuns/../../taskInstances/x/logs/1").status, 400);
}

TEST_F(ApiRunTest, ClearTaskInstances) {
  const std::string url = "/api/v1/dags/api_etl/clearTaskInstances";
  // Airflow's defaults: dry run, only failed.
  HttpResult dry = Send("op", "POST", url, "{}");
  ASSERT_EQ(dry.status, 200) << dry.body;
  EXPECT_EQ(dry.JsonBody().Find("task_instances")->Dump(),
            R"([{"dag_id":"api_etl","dag_run_id":"r1","execution_date":"2026-02-01T00:00:00+00:00",)"
            R"("task_id":"transform","state":"failed"}])");
  std::vector<TaskInstanceRecord> tis;
  ASSERT_TRUE(store_->ListTaskInstances("api_etl", "r1", &tis).ok());
  for (const auto& t : tis) {
    if (t.task_id == "transform") {
      EXPECT_EQ(t.ti.state, TaskState::kFailed);
    }
  }
  // Clear extract and everything downstream of it, for real.
  HttpResult real = Send("op", "POST", url,
                         R"({"dry_run": false, "only_failed": false, "task_ids": ["extract"], )"
                         R"("include_downstream": true, "dag_run_id": "r1"})");
  ASSERT_EQ(real.status, 200) << real.body;
  EXPECT_EQ(real.JsonBody().Find("task_instances")->items().size(), 2u);
  ASSERT_TRUE(store_->ListTaskInstances("api_etl", "r1", &tis).ok());
  for (const auto& t : tis) EXPECT_EQ(t.ti.state, TaskState::kNone) << t.task_id;
  for (const char* bad : {R"({"task_ids": ["nope"]})", R"({"task_ids": "extract"})", R"({"dry_run": 1})",
                          R"({"start_date": "soon"})", R"({"bogus": true})"}) {
    HttpResult b = Send("op", "POST", url, bad);
    EXPECT_TRUE(b.status == 400 || b.status == 404) << bad << " " << b.body;
  }
}

TEST_F(ApiServerTest, ImportErrorsVariablesConnections) {
  ASSERT_TRUE(store_->ReplaceImportErrors({{"/dags/bad.yaml", 3, "bad.yaml:3: <script>alert(1)</script>", {}}}).ok());
  HttpResult ie = GetAs("viewer", "/api/v1/importErrors");
  ASSERT_EQ(ie.status, 200);
  EXPECT_EQ(ie.JsonBody().Find("total_entries")->as_int(), 1);
  EXPECT_EQ(ie.JsonBody().Find("import_errors")->items()[0].Find("stack_trace")->str(),
            "bad.yaml:3: <script>alert(1)</script>");

  EXPECT_EQ(Send("admin", "POST", "/api/v1/variables", R"({"key": "region", "value": "kr"})").status, 200);
  HttpResult v = GetAs("viewer", "/api/v1/variables/region");
  EXPECT_EQ(v.JsonBody().Find("value")->str(), "kr");
  EXPECT_EQ(Send("admin", "PATCH", "/api/v1/variables/region", R"({"key": "region", "value": "us"})").status, 200);
  EXPECT_EQ(GetAs("viewer", "/api/v1/variables").JsonBody().Find("variables")->Dump(),
            R"([{"key":"region","value":"us","description":null}])");
  EXPECT_EQ(Send("admin", "PATCH", "/api/v1/variables/other", R"({"value": "x"})").status, 404);
  EXPECT_EQ(Send("admin", "POST", "/api/v1/variables", R"({"value": "no key"})").status, 400);
  EXPECT_EQ(Send("admin", "DELETE", "/api/v1/variables/region", "").status, 204);
  EXPECT_EQ(GetAs("viewer", "/api/v1/variables/region").status, 404);
  EXPECT_EQ(Send("admin", "DELETE", "/api/v1/variables/region", "").status, 404);

  ASSERT_TRUE(store_->AddConnection("wh", "postgresql://etl:hunter2@db.example:5432/sales?sslmode=require&api_key=zz")
                  .ok());
  HttpResult conns = GetAs("viewer", "/api/v1/connections");
  ASSERT_EQ(conns.status, 200);
  EXPECT_EQ(conns.body.find("hunter2"), std::string::npos) << conns.body;
  EXPECT_EQ(conns.body.find("zz"), std::string::npos) << conns.body;
  Json conns_body = conns.JsonBody();
  const Json& c = conns_body.Find("connections")->items()[0];
  EXPECT_EQ(c.Find("connection_id")->str(), "wh");
  EXPECT_EQ(c.Find("host")->str(), "db.example");
  EXPECT_EQ(c.Find("login")->str(), "etl");
  EXPECT_EQ(c.Find("port")->as_int(), 5432);
  EXPECT_EQ(c.Find("password"), nullptr);
  EXPECT_EQ(c.Find("extra")->Dump(), R"({"api_key":"***","sslmode":"require"})");
  HttpResult one = GetAs("viewer", "/api/v1/connections/wh");
  EXPECT_EQ(one.body.find("hunter2"), std::string::npos);
  EXPECT_EQ(GetAs("viewer", "/api/v1/connections/none").status, 404);
}

TEST_F(ApiServerTest, MetricsForViewersCountRequests) {
  EXPECT_EQ(GetAs("viewer", "/api/v1/dags").status, 200);
  EXPECT_EQ(GetAs("viewer", "/api/v1/dags").status, 200);
  EXPECT_EQ(GetAs("viewer", "/api/v1/dags/nope").status, 404);
  EXPECT_EQ(GetAs("", "/metrics").status, 401);  // counted too
  HttpResult m = GetAs("viewer", "/metrics");
  ASSERT_EQ(m.status, 200);
  EXPECT_EQ(m.Header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(m.body.find("dwfs_api_requests_total{method=\"GET\",status=\"200\"} 2\n"), std::string::npos) << m.body;
  EXPECT_NE(m.body.find("dwfs_api_requests_total{method=\"GET\",status=\"404\"} 1\n"), std::string::npos) << m.body;
  EXPECT_NE(m.body.find("dwfs_api_requests_total{method=\"GET\",status=\"401\"} 1\n"), std::string::npos) << m.body;
  EXPECT_NE(m.body.find("dwfs_api_request_duration_seconds_count 4\n"), std::string::npos) << m.body;
  EXPECT_NE(m.body.find("dwfs_build_info{version=\""), std::string::npos);
}

TEST_F(ApiServerTest, UnknownPathsMethodsAndMalformedRequests) {
  HttpResult r = GetAs("viewer", "/api/v1/nothing");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.Header("content-type"), "application/problem+json");
  HttpResult m = Send("admin", "PUT", "/api/v1/dags/api_etl", "{}");
  EXPECT_EQ(m.status, 405);
  EXPECT_EQ(m.Header("allow"), "GET, PATCH");
  // Malformed HTTP, a header that never ends, a huge body: errors, and the
  // server keeps serving.
  EXPECT_NE(testing::RawExchange(port_, "NONSENSE\r\n\r\n").find("400 Bad Request"), std::string::npos);
  std::string huge_header = "GET /health HTTP/1.1\r\nX: " + std::string(64 * 1024, 'a') + "\r\n\r\n";
  EXPECT_NE(testing::RawExchange(port_, huge_header).find("431"), std::string::npos);
  HttpCall big;
  big.method = "POST";
  big.target = "/api/v1/variables";
  big.body = "{\"key\": \"k\", \"value\": \"" + std::string(2 << 20, 'x') + "\"}";
  big.Auth("admin", "pw-admin");
  HttpResult b = Fetch(port_, big);
  EXPECT_TRUE(b.status == 413 || !b.error.empty()) << b.status;  // the server may close before the client is done
  EXPECT_NE(testing::RawExchange(port_, "POST /api/v1/variables HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n")
                .find("413"),
            std::string::npos);
  // A slow client (half a request, then silence) is cut off after the
  // request timeout (500 ms here) without a response.
  EXPECT_EQ(testing::RawExchange(port_, "GET /health HTTP/1.1\r\nHost: x\r\n"), "");
  EXPECT_EQ(GetAs("", "/health").status, 200);
}

TEST_F(ApiServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  std::string two = "GET /api/v1/version HTTP/1.1\r\nHost: x\r\n\r\nGET /api/v1/version HTTP/1.1\r\nHost: x\r\n"
                    "Connection: close\r\n\r\n";
  std::string out = testing::RawExchange(port_, two);
  size_t first = out.find("HTTP/1.1 200 OK");
  ASSERT_NE(first, std::string::npos) << out;
  EXPECT_NE(out.find("HTTP/1.1 200 OK", first + 1), std::string::npos) << out;
}

TEST_F(ApiServerTest, AuthNoneLetsEveryoneInAndBadModeIsRefused) {
  ApiServerOptions o;
  o.auth = "none";
  StartServer(o);
  EXPECT_EQ(GetAs("", "/api/v1/dags").status, 200);
  EXPECT_EQ(Send("", "PATCH", "/api/v1/dags/api_etl", R"({"is_paused": true})").status, 200);
  ApiServerOptions bad;
  bad.auth = "ldap";
  boost::asio::io_context io;
  ApiServer s(io, bad, clock_, *log_);
  Status st = s.Start();
  EXPECT_EQ(st.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(st.message().find("api.auth 'ldap'"), std::string::npos);
}

TEST_F(ApiServerTest, DatabaseDownGives503AndHealthSaysSo) {
  ApiServerOptions o;
  o.http.host = "127.0.0.1";
  o.http.port = 0;
  o.database_url = "postgresql://nobody:secretpw@127.0.0.1:1/none?connect_timeout=2";
  o.worker_threads = 1;
  ApiThread api(o, clock_, *log_);
  ASSERT_TRUE(api.Start().ok());
  HttpResult h = testing::Get(api.port(), "/health");
  EXPECT_EQ(h.status, 503);
  EXPECT_EQ(h.JsonBody().Find("metadatabase")->Find("status")->str(), "unhealthy");
  HttpResult d = testing::Get(api.port(), "/api/v1/dags", "admin", "pw-admin");
  EXPECT_EQ(d.status, 503);
  EXPECT_EQ(d.body.find("secretpw"), std::string::npos);
  EXPECT_EQ(log_text_.str().find("secretpw"), std::string::npos);
  EXPECT_EQ(testing::Get(api.port(), "/api/v1/version").status, 200);
}

}  // namespace
}  // namespace dwfs
