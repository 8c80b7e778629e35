// The web UI end to end in headless Chromium: real `dwfs scheduler` and
// `dwfs api-server` processes over the test PostgreSQL, driven through
// chromedriver (webdriver.h). Logs in, sees the DAG list and the import
// errors banner, unpauses a DAG, triggers a run with conf, watches its cells
// turn green (and one red), follows a running task's log live, opens the
// graph and the source, reaches the failing task by keyboard, reads its
// log, clears it and sees its second try, marks it success (and another
// task failed); a Viewer is refused and logs out; hostile text
// (DAG description, tags, log lines, import errors) stays text; the
// list at a phone's width. Screenshots of each page go to
// ArtifactDir("screenshots") (printed).
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "api_test_fixture.h"
#include "dwfs/password.h"
#include "dwfs/store.h"
#include "dwfs_process.h"
#include "test_database.h"
#include "test_util.h"
#include "webdriver.h"

namespace dwfs {
namespace {

using testing::AddUser;
using testing::ArtifactDir;
using testing::Browser;
using testing::ChromeDriver;
using std::chrono::milliseconds;

constexpr const char* kXss = "<script>window.__xss = 1</script><img src=x onerror=\"window.__xss = 2\">";

class BrowserTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string missing = testing::MissingBrowserDeps();
    ASSERT_EQ(missing, "");
    DWFS_REQUIRE_DB(db_);
    store_ = db_.OpenStore();
    ASSERT_NE(store_, nullptr);
    AddUser(*store_, "op", Role::kOp);
    AddUser(*store_, "viewer", Role::kViewer);
    std::string dags = home_.path() + "/dags";
    std::filesystem::create_directories(dags);
    std::ofstream(dags + "/ui_demo.yaml") << "dag_id: ui_demo\n"
                                             "description: 'Demo " << kXss << " \"quoted\"'\n"
                                             "tags: [demo, '<b>bold</b>']\n"
                                             "schedule: null\n"
                                             "params: {who: '" << kXss << "'}\n"
                                             "tasks:\n"
                                             "  - task_id: hello\n"
                                             "    bash_command: echo \"hello {{ dag_run.conf.who }}\"\n"
                                             "  - task_id: side\n"
                                             "    bash_command: \"true\"\n"
                                             "  - task_id: tail_me\n"
                                             "    bash_command: |\n"
                                             "      echo \"line $((0+1))\"\n"
                                             "      while [ ! -e " << Marker() << " ]; do sleep 0.05; done\n"
                                             "      echo \"line $((1+1))\"\n"
                                             "  - task_id: fail_me\n"
                                             "    upstream: [hello]\n"
                                             "    bash_command: |\n"
                                             "      echo '" << kXss << "'\n"
                                             "      echo about to fail\n"
                                             "      exit 3\n";
    std::ofstream(dags + "/broken.yaml") << "dag_id: \"bad<script>window.__xss = 3</script>\"\ntasks: []\n";
    std::map<std::string, std::string> env = {{"DWFS_HOME", home_.path()},
                                              {"DWFS_DATABASE_URL", db_.url()},
                                              {"PATH", "/usr/bin:/bin"},
                                              {"DWFS__CORE__DAGS_ARE_PAUSED_AT_CREATION", "true"},
                                              {"DWFS__SCHEDULER__HEALTH_CHECK_PORT", "0"},
                                              {"DWFS__SCHEDULER__HEARTBEAT", "1s"}};
    scheduler_ = std::make_unique<DwfsProcess>(std::vector<std::string>{"scheduler"}, env,
                                               home_.path() + "/scheduler.log");
    ASSERT_TRUE(scheduler_->started());
    // The UI as shipped: the dwfs binary's api-server with its embedded files.
    api_ = std::make_unique<DwfsProcess>(std::vector<std::string>{"api-server", "-p", "0", "-H", "127.0.0.1"}, env,
                                         home_.path() + "/api.log");
    ASSERT_TRUE(api_->started());
    std::vector<std::string> line = api_->WaitForLine("api server on http://127\\.0\\.0\\.1:([0-9]+)/");
    ASSERT_FALSE(line.empty()) << api_->Log();
    port_ = uint16_t(std::stoi(line[1]));
    base_ = "http://127.0.0.1:" + std::to_string(port_);
    ASSERT_TRUE(WaitFor([&] {
      DagRecord rec;
      return store_->GetDag("ui_demo", &rec).ok() || scheduler_->Exited();
    })) << scheduler_->Log();
    driver_ = std::make_unique<ChromeDriver>(ArtifactDir("logs"));
    browser_ = std::make_unique<Browser>(*driver_);
  }

  void TearDown() override {
    browser_.reset();
    driver_.reset();
    for (DwfsProcess* p : {api_.get(), scheduler_.get()}) {
      if (p == nullptr) continue;
      p->Signal(SIGTERM);
      EXPECT_EQ(p->Wait(), 0) << p->Log();
    }
  }

  // The file tail_me waits for before its second line.
  std::string Marker() const { return home_.path() + "/go"; }

  void Shot(const std::string& name) {
    std::filesystem::create_directories(ArtifactDir("screenshots"));
    std::string path = ArtifactDir("screenshots") + "/BrowserTest." + name + ".png";
    browser_->Screenshot(path);
    std::cout << "screenshot: " << path << std::endl;
  }

  void LogIn(const std::string& user) {
    browser_->Navigate(base_ + "/");
    browser_->Find("#username");  // redirected to the login form
    EXPECT_NE(browser_->CurrentUrl().find("/login"), std::string::npos);
    browser_->Type("#username", user);
    browser_->Type("#password", "pw-" + user);
    browser_->Click("#login-submit");
    browser_->Find("#dag-list tr[data-dag-id=\"ui_demo\"]", milliseconds(20000));
  }

  // No injected markup ran or was created anywhere on the page.
  void ExpectNoInjection() {
    Json r = browser_->ExecuteScript(
        "return [window.__xss === undefined, document.querySelectorAll('img[src=x]').length,"
        " Array.from(document.scripts).filter(s => !s.src).length];");
    EXPECT_EQ(r.Dump(), "[true,0,0]");
    EXPECT_FALSE(browser_->AlertText().has_value());
  }

  std::string TaskState(const std::string& run_id, const std::string& task_id, int* tries = nullptr) {
    std::vector<TaskInstanceRecord> tis;
    if (!store_->ListTaskInstances("ui_demo", run_id, &tis).ok()) return "";
    for (const auto& t : tis) {
      if (t.task_id != task_id) continue;
      if (tries) *tries = t.ti.try_number;
      return TaskStateName(t.ti.state);
    }
    return "";
  }

  TestDatabase db_;
  std::unique_ptr<Store> store_;
  TempDir home_;
  std::unique_ptr<DwfsProcess> scheduler_;
  std::unique_ptr<DwfsProcess> api_;
  uint16_t port_ = 0;
  std::string base_;
  std::unique_ptr<ChromeDriver> driver_;
  std::unique_ptr<Browser> browser_;
};

TEST_F(BrowserTest, OperateADagFromLoginToClear) {
  LogIn("op");
  // The session cookie is out of the page's reach.
  std::optional<testing::Cookie> cookie = browser_->FindCookie("dwfs_session");
  ASSERT_TRUE(cookie.has_value());
  EXPECT_TRUE(cookie->http_only);
  EXPECT_EQ(cookie->same_site, "Strict");
  EXPECT_EQ(browser_->ExecuteScript("return document.cookie;").str(), "");

  // The import errors banner names the broken file; its message is text.
  browser_->WaitFor("import errors banner", [&] {
    return browser_->Exists("#import-errors .import-error") &&
           browser_->Text("#import-errors").find("bad<script>window.__xss = 3</script>") != std::string::npos;
  }, milliseconds(20000));
  EXPECT_NE(browser_->Text("#import-errors").find("broken.yaml"), std::string::npos);
  ExpectNoInjection();
  Shot("01-dag-list");

  // Unpause from the list.
  std::string toggle = "#dag-list tr[data-dag-id=\"ui_demo\"] button.pause-toggle";
  EXPECT_EQ(browser_->Attribute(toggle, "aria-pressed").value_or(""), "true");
  browser_->Click(toggle);
  browser_->WaitFor("the DAG unpaused", [&] {
    DagRecord rec;
    return store_->GetDag("ui_demo", &rec).ok() && !rec.is_paused &&
           browser_->Attribute(toggle, "aria-pressed").value_or("") == "false";
  });

  // The DAG page: description and tags as text.
  browser_->Click("#dag-list tr[data-dag-id=\"ui_demo\"] a.dag-link");
  browser_->Find("#trigger-button");
  browser_->WaitFor("the description", [&] {
    return browser_->ExecuteScript("return document.body.innerText;").str().find(kXss) != std::string::npos;
  });
  ExpectNoInjection();

  // Trigger with conf and watch the cells turn green (fail_me red).
  browser_->Click("#trigger-button");
  // The form starts from the DAG's params (as text, however hostile).
  browser_->WaitFor("the params in the form", [&] {
    return browser_->Property(browser_->Find("#trigger-conf"), "value").str().find("window.__xss = 1") !=
           std::string::npos;
  });
  browser_->Clear("#trigger-conf");
  browser_->Type("#trigger-conf", R"({"who": "browser"})");
  browser_->Click("#trigger-submit");
  std::string run_id;
  browser_->WaitFor("a run in the store", [&] {
    std::vector<RunRecord> runs;
    if (!store_->ListRuns("ui_demo", std::nullopt, &runs).ok() || runs.empty()) return false;
    run_id = runs[0].info.run_id;
    return true;
  });
  auto cell = [&](const std::string& task) {
    return "button.ti-cell[data-task-id=\"" + task + "\"][data-run-id=\"" + run_id + "\"]";
  };
  browser_->WaitFor("cells turn green and red, tail_me running", [&] {
    return browser_->Attribute(cell("hello"), "data-state").value_or("") == "success" &&
           browser_->Attribute(cell("side"), "data-state").value_or("") == "success" &&
           browser_->Attribute(cell("fail_me"), "data-state").value_or("") == "failed" &&
           browser_->Attribute(cell("tail_me"), "data-state").value_or("") == "running";
  }, milliseconds(60000));
  EXPECT_EQ(TaskState(run_id, "hello"), "success");
  Shot("02-grid");

  // A running task's log followed live: its second line ("line 2"; the
  // command, shown at the log's top, reads $((1+1))) appears without a
  // reload once the task gets to it.
  browser_->Click(cell("tail_me"));
  browser_->WaitFor("the first line", [&] {
    return browser_->Exists("#ti-log") && browser_->Text("#ti-log").find("line 1") != std::string::npos;
  }, milliseconds(20000));
  EXPECT_EQ(browser_->Text("#ti-log").find("line 2"), std::string::npos);
  browser_->ExecuteScript("window.__same_page = 1;");
  std::ofstream(Marker()) << "go\n";
  browser_->WaitFor("the second line, live", [&] {
    return browser_->Text("#ti-log").find("line 2") != std::string::npos &&
           browser_->Text("#ti-state").find("success") != std::string::npos;
  }, milliseconds(30000));
  EXPECT_EQ(browser_->ExecuteScript("return window.__same_page;").as_int(), 1);  // no reload
  Shot("03-live-log");
  browser_->Navigate(base_ + "/#/dags/ui_demo");
  browser_->Find(cell("tail_me"));

  // The graph, laid out in layers, and the source.
  browser_->Click("#tab-graph");
  browser_->WaitFor("four graph nodes", [&] { return browser_->FindAll("svg#graph g.node").size() == 4; });
  Shot("04-graph");
  browser_->Click("#tab-code");
  browser_->WaitFor("the source", [&] {
    return browser_->Exists("#dag-source") && browser_->Text("#dag-source").find("dag_id: ui_demo") != std::string::npos;
  });
  ExpectNoInjection();
  Shot("05-code");

  // Keyboard only: the grid has one cell in the tab order (the first task
  // of the newest run); arrows move it, Enter opens the task instance.
  browser_->Click("#tab-grid");
  browser_->Find(cell("fail_me"));
  browser_->ExecuteScript("document.querySelector('button.ti-cell[tabindex=\"0\"]').focus();");
  auto focused = [&] { return browser_->ExecuteScript("return document.activeElement.dataset.taskId;").str(); };
  EXPECT_EQ(focused(), "hello");
  for (int i = 0; i < 4 && focused() != "fail_me"; ++i) browser_->PressKeys(Browser::kArrowDown);
  ASSERT_EQ(focused(), "fail_me");
  browser_->PressKeys(Browser::kEnter);

  // The failing task's log: its lines are text.
  browser_->WaitFor("the failing task's log", [&] {
    return browser_->Exists("#ti-log") && browser_->Text("#ti-log").find("about to fail") != std::string::npos;
  }, milliseconds(20000));
  EXPECT_NE(browser_->Text("#ti-log").find(kXss), std::string::npos);
  EXPECT_NE(browser_->Text("#ti-state").find("failed"), std::string::npos);
  ExpectNoInjection();
  Shot("06-task-log");

  // Clear it: it runs again (try 2) and fails again.
  browser_->Click("#ti-clear");
  browser_->Click("#ti-clear-confirm");
  int tries = 0;
  browser_->WaitFor("the second try", [&] {
    return TaskState(run_id, "fail_me", &tries) == "failed" && tries == 2 &&
           browser_->FindAll("button.ti-try").size() == 2;
  }, milliseconds(60000));
  Shot("07-task-cleared");

  // Mark it success: the run is reopened and, every task now done, ends in
  // success.
  browser_->Click("#ti-mark-success");
  browser_->WaitFor("the task and run marked", [&] {
    RunRecord run;
    return TaskState(run_id, "fail_me") == "success" && store_->GetRun("ui_demo", run_id, &run).ok() &&
           run.state == RunState::kSuccess && browser_->Text("#ti-state").find("success") != std::string::npos;
  }, milliseconds(30000));
  // And another one failed: the run ends failed.
  browser_->Navigate(base_ + "/#/dags/ui_demo/runs/" + run_id + "/tasks/side");
  browser_->WaitFor("side's page", [&] {
    return browser_->Exists("#ti-state") && browser_->Text("#ti-state").find("success") != std::string::npos;
  });
  browser_->Click("#ti-mark-failed");
  browser_->WaitFor("side marked failed, the run failed", [&] {
    RunRecord run;
    return TaskState(run_id, "side") == "failed" && store_->GetRun("ui_demo", run_id, &run).ok() &&
           run.state == RunState::kFailed && browser_->Text("#ti-state").find("failed") != std::string::npos;
  }, milliseconds(30000));

  // Runs list and the run's Gantt chart.
  browser_->Navigate(base_ + "/#/dags/ui_demo/runs");
  browser_->Find("#runs");
  browser_->Navigate(base_ + "/#/dags/ui_demo/runs/" + run_id);
  browser_->Find("#gantt");
  Shot("08-gantt");

  // A phone's width: the list still fits (tables scroll inside).
  browser_->SetWindowSize(375, 800);
  browser_->Navigate(base_ + "/#/");
  browser_->Find("#dag-list tr[data-dag-id=\"ui_demo\"]");
  EXPECT_LE(browser_->ExecuteScript("return document.documentElement.scrollWidth;").as_int(), 376);
  Shot("09-phone");
}

TEST_F(BrowserTest, ViewersSeeButCannotAct) {
  LogIn("viewer");
  browser_->Click("#dag-list tr[data-dag-id=\"ui_demo\"] a.dag-link");
  browser_->Find("#tab-grid");
  // Hidden or disabled in the page; refused by the server whatever the page does.
  Json trigger = browser_->ExecuteScript(
      "const b = document.querySelector('#trigger-button');"
      "return b === null || b.disabled || b.hidden || b.offsetParent === null;");
  EXPECT_TRUE(trigger.as_bool());
  Json status = browser_->ExecuteScript(
      "return fetch('/api/v1/dags/ui_demo', {method: 'PATCH', credentials: 'same-origin',"
      " headers: {'Content-Type': 'application/json'}, body: '{\"is_paused\": false}'}).then(r => r.status);");
  EXPECT_EQ(status.as_int(), 403);
  DagRecord rec;
  ASSERT_TRUE(store_->GetDag("ui_demo", &rec).ok());
  EXPECT_TRUE(rec.is_paused);
  Shot("10-viewer");

  // Logging out ends the session: back at the form, and the old cookie
  // opens nothing.
  std::optional<testing::Cookie> cookie = browser_->FindCookie("dwfs_session");
  ASSERT_TRUE(cookie.has_value());
  browser_->Click("#logout");
  browser_->Find("#login-form");
  testing::HttpCall call;
  call.target = "/ui/api/session";
  call.headers["Cookie"] = "dwfs_session=" + cookie->value;
  EXPECT_EQ(testing::Fetch(port_, call).status, 401);
  browser_->Navigate(base_ + "/");
  browser_->Find("#login-form");
}

}  // namespace
}  // namespace dwfs
