// Callbacks end to end: DAGs with webhook and bash callbacks run through the
// real engine (RunDriver, LocalExecutor running bash, StandardPreparer,
// WebhookSender) and a local HTTP listener receives what the callbacks
// send; a hung webhook endpoint does not hold the run.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "cli_test_util.h"
#include "dwfs/dag_loader.h"
#include "dwfs/json.h"
#include "engine.h"
#include "http_listener.h"
#include "test_util.h"

namespace dwfs {
namespace {

using std::chrono::milliseconds;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The "text" of a default (Slack) body.
std::string SlackText(const RecordedRequest& r) {
  Json body;
  Status st = ParseJson(r.body, true, &body);
  EXPECT_TRUE(st.ok()) << st.message() << ": " << r.body;
  const Json* text = body.Find("text");
  EXPECT_NE(text, nullptr) << r.body;
  EXPECT_EQ(body.members().size(), 1u) << r.body;
  return text ? text->str() : "";
}

class WebhookCallbackTest : public testing::Test {
 protected:
  // Runs `yaml`'s DAG once (manual run at 2026-01-01T00:00Z) to its end.
  std::shared_ptr<RunPlan> Run(const std::string& yaml) {
    auto dag = std::make_shared<Dag>();
    ImportError err;
    EXPECT_TRUE(ParseDagText(yaml, "notify.yaml", DagDefaults(), dag.get(), &err)) << err.ToString();
    EngineOptions eo;
    eo.log_folder = logs_.path();
    eo.process_env = {{"PATH", "/usr/bin:/bin"}};
    eo.webhooks.backoff_base = milliseconds(1);
    eo.webhooks.stop_grace = milliseconds(100);
    engine_ = std::make_unique<Engine>(config_, eo);
    RunInfo info;
    info.logical_date = Instant(Seconds(1767225600));
    info.run_id = MakeRunId(RunType::kManual, info.logical_date);
    info.data_interval = {info.logical_date, info.logical_date};
    auto plan = std::make_shared<RunPlan>(dag, info);
    RunDriver driver(engine_->io(), engine_->executor(), engine_->preparer(), clock_, engine_->slots(), nullptr,
                     &engine_->webhooks());
    driver.Add(plan);
    std::ostringstream err_out;
    engine_->RunInForeground(driver, err_out);
    EXPECT_TRUE(driver.Done());
    return plan;
  }

  std::string Url(const std::string& path) { return "'" + listener_.url(path) + "'"; }

  Config config_;
  SystemClock clock_;
  TempDir logs_;
  HttpListener listener_;
  std::unique_ptr<Engine> engine_;
};

TEST_F(WebhookCallbackTest, FailureRetrySuccessAndRunCallbacksReachTheListener) {
  std::string marker = logs_.path() + "/bash_callbacks.txt";
  auto plan = Run("dag_id: notify\n"
                  "on_run_failure_callback:\n"
                  "  webhook:\n"
                  "    url: " + Url("/run-failed?token=T") + "\n"
                  "    body: '{\"run\": \"{{ run_id }}\", \"why\": \"{{ exception }}\", \"state\": \"{{ state }}\"}'\n"
                  "on_run_success_callback: {webhook: {url: " + Url("/run-ok") + "}}\n"
                  "tasks:\n"
                  "  - task_id: good\n"
                  "    bash_command: 'true'\n"
                  "    on_success_callback: {webhook: {url: " + Url("/success") + ", method: PUT}}\n"
                  "  - task_id: flaky\n"
                  "    bash_command: 'exit 3'\n"
                  "    retries: 1\n"
                  "    retry_delay: 0\n"
                  "    on_retry_callback:\n"
                  "      webhook:\n"
                  "        url: " + Url("/retry") + "\n"
                  "        headers: {X-Try: '{{ try_number }}', Authorization: 'Bearer abc'}\n"
                  "    on_failure_callback: {webhook: {url: " + Url("/failure") + "}}\n"
                  "  - task_id: after\n"
                  "    bash_command: 'true'\n"
                  "    upstream: [flaky]\n"
                  "    on_failure_callback: {bash_command: 'echo after {{ state }} >> " + marker + "'}\n");
  EXPECT_EQ(plan->state(), RunState::kFailed);
  ASSERT_TRUE(engine_->webhooks().WaitIdle(milliseconds(30000)));
  std::vector<RecordedRequest> got = listener_.requests();
  ASSERT_EQ(got.size(), 4u);
  std::sort(got.begin(), got.end(), [](const auto& a, const auto& b) { return a.target < b.target; });
  const std::string run_id = plan->info().run_id;

  EXPECT_EQ(got[0].target, "/failure");
  EXPECT_EQ(got[0].method, "POST");
  EXPECT_EQ(got[0].headers["content-type"], "application/json");
  std::string text = SlackText(got[0]);
  EXPECT_EQ(text, ":x: dwfs: task flaky of DAG notify failed\nrun: " + run_id +
                      "\ntry: 2 of 2\nlogical date: 2026-01-01T00:00:00+00:00\nstate: failed\nlog: " +
                      TaskLogPath(logs_.path(), "notify", run_id, "flaky", 2) + "\nreason: bash exit status 3");

  EXPECT_EQ(got[1].target, "/retry");
  EXPECT_EQ(got[1].headers["x-try"], "1");
  EXPECT_EQ(got[1].headers["authorization"], "Bearer abc");
  EXPECT_EQ(SlackText(got[1]), ":warning: dwfs: task flaky of DAG notify failed, will be retried\nrun: " + run_id +
                                   "\ntry: 1 of 2\nlogical date: 2026-01-01T00:00:00+00:00\nstate: up_for_retry\nlog: " +
                                   TaskLogPath(logs_.path(), "notify", run_id, "flaky", 1) +
                                   "\nreason: bash exit status 3");

  EXPECT_EQ(got[2].target, "/run-failed?token=T");
  EXPECT_EQ(got[2].body, "{\"run\": \"" + run_id + "\", \"why\": \"run failed: flaky failed, after upstream_failed\", "
                         "\"state\": \"failed\"}");

  EXPECT_EQ(got[3].target, "/success");
  EXPECT_EQ(got[3].method, "PUT");
  EXPECT_EQ(SlackText(got[3]), ":white_check_mark: dwfs: task good of DAG notify succeeded\nrun: " + run_id +
                                   "\ntry: 1 of 1\nlogical date: 2026-01-01T00:00:00+00:00\nstate: success\nlog: " +
                                   TaskLogPath(logs_.path(), "notify", run_id, "good", 1));
  // upstream_failed is not a failure of the task itself: no callback.
  EXPECT_EQ(ReadFile(marker), "");
  WebhookStats s = engine_->webhooks().stats();
  EXPECT_EQ(s.delivered, 4u);
  EXPECT_EQ(s.failed, 0u);
}

TEST_F(WebhookCallbackTest, RunSuccessCallbackAndBashRunCallback) {
  std::string marker = logs_.path() + "/run_ok.txt";
  auto plan = Run("dag_id: notify\n"
                  "on_run_success_callback:\n"
                  "  webhook: {url: " + Url("/run-ok") + "}\n"
                  "on_run_failure_callback: {webhook: {url: " + Url("/run-failed") + "}}\n"
                  "tasks:\n"
                  "  - task_id: a\n"
                  "    bash_command: 'true'\n");
  EXPECT_EQ(plan->state(), RunState::kSuccess);
  ASSERT_TRUE(engine_->webhooks().WaitIdle(milliseconds(30000)));
  std::vector<RecordedRequest> got = listener_.requests();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].target, "/run-ok");
  EXPECT_EQ(SlackText(got[0]), ":white_check_mark: dwfs: run " + plan->info().run_id +
                                   " of DAG notify succeeded\nrun: " + plan->info().run_id +
                                   "\nlogical date: 2026-01-01T00:00:00+00:00\nstate: success");

  // A bash run callback runs as a process, logged in the run's folder.
  auto bash_plan = Run("dag_id: notify2\n"
                       "on_run_failure_callback: {bash_command: 'echo \"{{ dag_id }} {{ state }} {{ exception }}\" > " +
                       marker + "; echo logged'}\n"
                       "tasks:\n"
                       "  - task_id: a\n"
                       "    bash_command: 'exit 1'\n");
  EXPECT_EQ(bash_plan->state(), RunState::kFailed);
  EXPECT_EQ(ReadFile(marker), "notify2 failed run failed: a failed\n");
  std::string log = ReadFile(logs_.path() + "/dag_id=notify2/run_id=" + bash_plan->info().run_id +
                             "/on_run_failure_callback.log");
  EXPECT_NE(log.find("logged"), std::string::npos) << log;
}

TEST_F(WebhookCallbackTest, AHungEndpointDoesNotHoldTheRun) {
  listener_.HangFirst(1000);
  auto plan = Run("dag_id: notify\n"
                  "on_failure_callback:\n"
                  "  webhook: {url: " + Url("/hang") + ", timeout: 1h}\n"
                  "on_run_failure_callback:\n"
                  "  webhook: {url: " + Url("/hang-run") + ", timeout: 1h}\n"
                  "tasks:\n"
                  "  - task_id: a\n"
                  "    bash_command: 'exit 1'\n"
                  "  - task_id: b\n"
                  "    bash_command: 'true'\n");
  // The run finished (and the driver was done) while both webhooks hang.
  EXPECT_EQ(plan->state(), RunState::kFailed);
  EXPECT_EQ(plan->instance(1).state, TaskState::kSuccess);
  EXPECT_EQ(listener_.WaitFor(2).size(), 2u);
  WebhookStats s = engine_->webhooks().stats();
  EXPECT_EQ(s.delivered + s.failed, 0u);
  engine_->webhooks().Stop();  // gives up after its 100 ms grace
  EXPECT_EQ(engine_->webhooks().stats().abandoned, 2u);
}

TEST_F(WebhookCallbackTest, UnrenderableWebhookIsLoggedAndNotSent) {
  auto plan = Run("dag_id: notify\n"
                  "tasks:\n"
                  "  - task_id: a\n"
                  "    bash_command: 'exit 1'\n"
                  "    on_failure_callback:\n"
                  "      webhook: {url: " + Url("/x") + ", body: '{{ params.nope }}'}\n");
  EXPECT_EQ(plan->state(), RunState::kFailed);
  ASSERT_TRUE(engine_->webhooks().WaitIdle(milliseconds(30000)));
  EXPECT_TRUE(listener_.requests().empty());
  std::string log = ReadFile(logs_.path() + "/dag_id=notify/run_id=" + plan->info().run_id +
                             "/task_id=a/on_failure_callback.log");
  EXPECT_NE(log.find("dwfs: cannot send the on_failure_callback webhook: unknown template variable 'params.nope' in "
                     "on_failure_callback.webhook.body"),
            std::string::npos)
      << log;
}

// dags test records nothing but runs every callback, and its exit waits for
// the webhooks being sent (up to the sender's grace).
TEST_F(WebhookCallbackTest, DagsTestSendsWebhooksBeforeItExits) {
  TempDir dags, home;
  dags.Write("n.yaml", "dag_id: n\n"
                       "on_run_failure_callback: {webhook: {url: " + Url("/run-failed") + "}}\n"
                       "tasks:\n"
                       "  - task_id: boom\n"
                       "    bash_command: 'exit 4'\n"
                       "    on_failure_callback:\n"
                       "      webhook: {url: " + Url("/failed") + ", body: '{\"t\": \"{{ task_id }}\"}'}\n");
  CliResult r = RunCliForTest({"dags", "test", "n", "2026-01-05"}, {{"DWFS_HOME", home.path()},
                                                                    {"DWFS__CORE__DAGS_FOLDER", dags.path()},
                                                                    {"PATH", "/usr/bin:/bin"}});
  EXPECT_EQ(r.code, 1) << r.err;
  std::vector<RecordedRequest> got = listener_.requests();  // delivered before the command returned
  ASSERT_EQ(got.size(), 2u) << r.err;
  std::sort(got.begin(), got.end(), [](const auto& a, const auto& b) { return a.target < b.target; });
  EXPECT_EQ(got[0].target, "/failed");
  EXPECT_EQ(got[0].body, R"({"t": "boom"})");
  EXPECT_EQ(got[1].target, "/run-failed");
  EXPECT_NE(SlackText(got[1]).find("dwfs: run manual__2026-01-05T00:00:00+00:00 of DAG n failed"), std::string::npos)
      << got[1].body;
}

}  // namespace
}  // namespace dwfs
