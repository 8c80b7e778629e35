// The web UI's server side over loopback HTTP and a real PostgreSQL: the
// login form and its session cookie, CSRF, pages and embedded files with
// their security headers, and the UI's JSON views; mark success/failed.
// (The pages in a browser: browser_test.cc.)
#include <gtest/gtest.h>

#include "api_test_fixture.h"

namespace dwfs {
namespace {

using testing::ApiRunTest;
using testing::ApiServerTest;
using testing::Fetch;
using testing::HttpCall;
using testing::HttpResult;

// The session cookie's value from a Set-Cookie header ("" when absent).
std::string CookieOf(const HttpResult& r) {
  const std::string& c = r.Header("set-cookie");
  std::string prefix = "dwfs_session=";
  if (c.rfind(prefix, 0) != 0) return "";
  return c.substr(prefix.size(), c.find(';') - prefix.size());
}

class UiTest : public ApiRunTest {
 protected:
  HttpResult Login(const std::string& user, const std::string& password, const std::string& origin = "") {
    HttpCall c;
    c.method = "POST";
    c.target = "/login";
    c.headers["Content-Type"] = "application/x-www-form-urlencoded";
    if (!origin.empty()) c.headers["Origin"] = origin;
    c.body = "username=" + user + "&password=" + password;
    return Fetch(port_, c);
  }
  // Logs in and returns the cookie and CSRF token.
  void Session(const std::string& user, std::string* cookie, std::string* csrf) {
    HttpResult r = Login(user, "pw-" + user);
    ASSERT_EQ(r.status, 303) << r.body;
    *cookie = CookieOf(r);
    ASSERT_EQ(cookie->size(), 64u);
    HttpResult s = WithCookie(*cookie, "GET", "/ui/api/session", "", "");
    ASSERT_EQ(s.status, 200) << s.body;
    *csrf = s.JsonBody().Find("csrf_token")->str();
    ASSERT_EQ(csrf->size(), 64u);
  }
  HttpResult WithCookie(const std::string& cookie, const std::string& method, const std::string& target,
                        const std::string& body, const std::string& csrf) {
    HttpCall c;
    c.method = method;
    c.target = target;
    c.body = body;
    c.headers["Cookie"] = "other=1; dwfs_session=" + cookie;
    if (!csrf.empty()) c.headers["X-CSRF-Token"] = csrf;
    return Fetch(port_, c);
  }
};

TEST_F(UiTest, LoginSetsAStrictHttpOnlyCookieAndWrongPasswordsGoBack) {
  HttpResult bad = Login("viewer", "nope");
  EXPECT_EQ(bad.status, 303);
  EXPECT_EQ(bad.Header("location"), "/login?error=1");
  EXPECT_EQ(bad.Header("set-cookie"), "");
  EXPECT_EQ(log_text_.str().find("nope"), std::string::npos);  // the password is never logged

  HttpResult ok = Login("viewer", "pw-viewer");
  ASSERT_EQ(ok.status, 303);
  EXPECT_EQ(ok.Header("location"), "/");
  const std::string& cookie = ok.Header("set-cookie");
  EXPECT_NE(cookie.find("; HttpOnly"), std::string::npos) << cookie;
  EXPECT_NE(cookie.find("; SameSite=Strict"), std::string::npos) << cookie;
  EXPECT_NE(cookie.find("; Path=/"), std::string::npos) << cookie;

  HttpResult cross = Login("viewer", "pw-viewer", "http://evil.example");
  EXPECT_EQ(cross.status, 403);
  EXPECT_EQ(cross.Header("set-cookie"), "");
}

TEST_F(UiTest, PagesNeedASessionAndCarrySecurityHeaders) {
  HttpCall page;
  page.target = "/";
  HttpResult anonymous = Fetch(port_, page);
  EXPECT_EQ(anonymous.status, 303);
  EXPECT_EQ(anonymous.Header("location"), "/login");

  HttpCall login;
  login.target = "/login";
  HttpResult form = Fetch(port_, login);
  ASSERT_EQ(form.status, 200);
  EXPECT_EQ(form.Header("content-type"), "text/html; charset=utf-8");
  EXPECT_NE(form.Header("content-security-policy").find("script-src 'self'"), std::string::npos);
  EXPECT_EQ(form.Header("x-frame-options"), "DENY");
  EXPECT_EQ(form.Header("x-content-type-options"), "nosniff");
  EXPECT_NE(form.body.find("id=\"username\""), std::string::npos);
  EXPECT_NE(form.body.find("id=\"password\""), std::string::npos);

  std::string cookie, csrf;
  Session("viewer", &cookie, &csrf);
  HttpResult index = WithCookie(cookie, "GET", "/", "", "");
  ASSERT_EQ(index.status, 200);
  EXPECT_NE(index.body.find("<script type=\"module\" src=\"/ui/main.js\">"), std::string::npos);
  HttpCall js;
  js.target = "/ui/main.js";
  HttpResult script = Fetch(port_, js);
  EXPECT_EQ(script.status, 200);
  EXPECT_EQ(script.Header("content-type"), "text/javascript; charset=utf-8");
  EXPECT_GT(script.body.size(), 1000u);
  // Revalidated by ETag: unchanged files cost a 304 without a body.
  ASSERT_NE(script.Header("etag"), "");
  js.headers["If-None-Match"] = script.Header("etag");
  HttpResult again = Fetch(port_, js);
  EXPECT_EQ(again.status, 304);
  EXPECT_EQ(again.body, "");
  js.headers.clear();
  js.target = "/ui/nothing.js";
  EXPECT_EQ(Fetch(port_, js).status, 404);
  js.target = "/ui/..%2Fapi_server.cc";
  EXPECT_EQ(Fetch(port_, js).status, 400);

  // UI calls without a session get 401 without a Basic challenge (no
  // browser dialog); API calls keep theirs.
  HttpCall data;
  data.target = "/ui/api/session";
  HttpResult no = Fetch(port_, data);
  EXPECT_EQ(no.status, 401);
  EXPECT_EQ(no.Header("www-authenticate"), "");
  data.target = "/api/v1/dags";
  EXPECT_NE(Fetch(port_, data).Header("www-authenticate"), "");
}

TEST_F(UiTest, StateChangesWithASessionNeedItsCsrfToken) {
  std::string cookie, csrf;
  Session("op", &cookie, &csrf);
  EXPECT_EQ(WithCookie(cookie, "GET", "/api/v1/dags/api_manual", "", "").status, 200);
  HttpResult no_token = WithCookie(cookie, "PATCH", "/api/v1/dags/api_manual", R"({"is_paused": false})", "");
  EXPECT_EQ(no_token.status, 403) << no_token.body;
  HttpResult wrong = WithCookie(cookie, "PATCH", "/api/v1/dags/api_manual", R"({"is_paused": false})",
                                std::string(64, 'a'));
  EXPECT_EQ(wrong.status, 403);
  DagRecord rec;
  ASSERT_TRUE(store_->GetDag("api_manual", &rec).ok());
  EXPECT_TRUE(rec.is_paused);  // refused requests changed nothing
  HttpResult right = WithCookie(cookie, "PATCH", "/api/v1/dags/api_manual", R"({"is_paused": false})", csrf);
  EXPECT_EQ(right.status, 200) << right.body;
  ASSERT_TRUE(store_->GetDag("api_manual", &rec).ok());
  EXPECT_FALSE(rec.is_paused);

  // A viewer's session may read but not act, CSRF token or not.
  std::string vcookie, vcsrf;
  Session("viewer", &vcookie, &vcsrf);
  EXPECT_NE(vcsrf, csrf);
  EXPECT_EQ(WithCookie(vcookie, "PATCH", "/api/v1/dags/api_manual", R"({"is_paused": true})", vcsrf).status, 403);
  // The session's user is read on every request: a deleted user is out.
  ASSERT_TRUE(store_->DeleteUser("viewer").ok());
  EXPECT_EQ(WithCookie(vcookie, "GET", "/ui/api/session", "", "").status, 401);

  // Logout ends the session (it needs the token too).
  EXPECT_EQ(WithCookie(cookie, "POST", "/logout", "", "").status, 403);
  HttpResult out = WithCookie(cookie, "POST", "/logout", "", csrf);
  EXPECT_EQ(out.status, 303);
  EXPECT_NE(out.Header("set-cookie").find("Max-Age=0"), std::string::npos);
  EXPECT_EQ(WithCookie(cookie, "GET", "/ui/api/session", "", "").status, 401);
  EXPECT_EQ(WithCookie(std::string(64, '0'), "GET", "/", "", "").status, 303);
}

TEST_F(UiTest, SessionsExpireWhenIdle) {
  std::string cookie, csrf;
  Session("viewer", &cookie, &csrf);
  clock_.Advance(Seconds(11 * 3600));
  EXPECT_EQ(WithCookie(cookie, "GET", "/ui/api/session", "", "").status, 200);  // used: idle time restarts
  clock_.Advance(Seconds(13 * 3600));
  EXPECT_EQ(WithCookie(cookie, "GET", "/ui/api/session", "", "").status, 401);
}

TEST_F(UiTest, GridRecentRunsSourceAndTaskDetail) {
  HttpResult grid = GetAs("viewer", "/ui/api/grid/api_etl?limit=5");
  ASSERT_EQ(grid.status, 200) << grid.body;
  Json g = grid.JsonBody();
  std::string tasks;
  for (const Json& t : g.Find("tasks")->items()) tasks += t.Find("task_id")->str() + ",";
  EXPECT_EQ(tasks, "extract,transform,load,");
  ASSERT_EQ(g.Find("runs")->items().size(), 1u);
  const Json& run = g.Find("runs")->items()[0];
  EXPECT_EQ(run.Find("dag_run_id")->str(), "r1");
  EXPECT_EQ(run.Find("task_instances")->Find("extract")->Find("state")->str(), "success");
  EXPECT_EQ(run.Find("task_instances")->Find("transform")->Find("state")->str(), "failed");
  EXPECT_EQ(run.Find("task_instances")->Find("load"), nullptr);
  EXPECT_EQ(GetAs("viewer", "/ui/api/grid/nope").status, 404);
  EXPECT_EQ(GetAs("viewer", "/ui/api/grid/api_etl?limit=0").status, 400);
  EXPECT_EQ(GetAs("viewer", "/ui/api/grid/api_etl?limit=x").status, 400);
  EXPECT_EQ(GetAs("viewer", "/ui/api/recent_runs?dag_id=api_etl&limit=101").status, 400);

  HttpResult recent = GetAs("viewer", "/ui/api/recent_runs?dag_id=api_etl&dag_id=api_manual&dag_id=%27;--");
  ASSERT_EQ(recent.status, 200);
  EXPECT_EQ(recent.JsonBody().Dump(),
            R"({"api_etl":[{"dag_run_id":"r1","state":"running","logical_date":"2026-02-01T00:00:00+00:00"}]})");

  HttpResult source = GetAs("viewer", "/ui/api/source/api_etl");
  ASSERT_EQ(source.status, 200);
  EXPECT_EQ(source.JsonBody().Find("content")->str(), testing::kEtl);

  HttpResult detail = GetAs("viewer", "/ui/api/task/api_etl/r1/extract");
  ASSERT_EQ(detail.status, 200) << detail.body;
  Json d = detail.JsonBody();
  EXPECT_EQ(d.Find("state")->str(), "success");
  EXPECT_EQ(d.Find("rendered")->Find("bash_command")->str(), "echo extract");
  EXPECT_EQ(d.Find("tries")->items().size(), 1u);
  EXPECT_EQ(GetAs("viewer", "/ui/api/task/api_etl/r1/nope").status, 404);
  EXPECT_EQ(GetAs("viewer", "/ui/api/task/api_etl/r9/extract").status, 404);
}

TEST_F(UiTest, MarkSuccessOrFailedReopensTheRun) {
  const std::string url = "/api/v1/dags/api_etl/dagRuns/r1/taskInstances/transform";
  EXPECT_EQ(Send("viewer", "PATCH", url, R"({"new_state": "success"})").status, 403);
  EXPECT_EQ(Send("op", "PATCH", url, R"({"new_state": "running"})").status, 400);
  EXPECT_EQ(Send("op", "PATCH", url, R"({"new_state": "success", "bogus": 1})").status, 400);
  HttpResult dry = Send("op", "PATCH", url, R"({"new_state": "success", "dry_run": true})");
  EXPECT_EQ(dry.status, 200);
  EXPECT_EQ(dry.JsonBody().Find("state")->str(), "failed");

  HttpResult ok = Send("op", "PATCH", url, R"({"new_state": "success"})");
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(ok.JsonBody().Find("state")->str(), "success");
  EXPECT_EQ(ok.JsonBody().Find("note")->str(), "marked success");
  RunRecord run;
  ASSERT_TRUE(store_->GetRun("api_etl", "r1", &run).ok());
  EXPECT_EQ(run.state, RunState::kQueued);  // a scheduler carries on from there

  // No instance yet, or a running one: refused, nothing changed.
  EXPECT_EQ(Send("op", "PATCH", "/api/v1/dags/api_etl/dagRuns/r1/taskInstances/load", R"({"new_state": "failed"})")
                .status,
            404);
  StoreBatch batch;
  TaskInstanceRecord t;
  t.dag_id = "api_etl";
  t.run_id = "r1";
  t.task_id = "extract";
  t.ti.state = TaskState::kRunning;
  t.ti.try_number = 2;
  t.ti.max_tries = 2;
  batch.instances.push_back(t);
  ASSERT_TRUE(store_->Apply(batch, std::nullopt, nullptr).ok());
  HttpResult busy =
      Send("op", "PATCH", "/api/v1/dags/api_etl/dagRuns/r1/taskInstances/extract", R"({"new_state": "failed"})");
  EXPECT_EQ(busy.status, 409) << busy.body;
  std::vector<TaskInstanceRecord> tis;
  ASSERT_TRUE(store_->ListTaskInstances("api_etl", "r1", &tis).ok());
  for (const auto& ti : tis) {
    if (ti.task_id == "extract") {
      EXPECT_EQ(ti.ti.state, TaskState::kRunning);
    }
  }
}

}  // namespace
}  // namespace dwfs
