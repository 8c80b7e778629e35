// The callback fields of DAG files (dag-files.md, "Callbacks"): every form
// the parser accepts (bash_command or webhook, task, default_args and DAG
// level, run callbacks), which callback Dag::CallbackFor picks, and the
// one-line errors (file, line, DAG, task) of every invalid form.
#include <gtest/gtest.h>

#include <string>

#include "dwfs/dag_loader.h"

namespace dwfs {
namespace {

Dag MustParse(const std::string& text) {
  Dag dag;
  ImportError err;
  EXPECT_TRUE(ParseDagText(text, "cb.yaml", DagDefaults(), &dag, &err)) << err.ToString();
  return dag;
}

// "path:line: message" of a text that must not load.
std::string ErrorOf(const std::string& text) {
  Dag dag;
  ImportError err;
  EXPECT_FALSE(ParseDagText(text, "cb.yaml", DagDefaults(), &dag, &err)) << "loaded: " << dag.dag_id;
  EXPECT_EQ(err.ToString().find('\n'), std::string::npos) << err.ToString();
  return err.ToString();
}

const char kAllForms[] = R"(dag_id: notify
default_args:
  on_success_callback:
    webhook: {url: "https://hooks.slack.com/services/T/B/X"}
on_failure_callback: echo dag failure
on_retry_callback:
  webhook:
    url: http://alerts.internal:8080/retry
    method: put
    timeout: 30s
    retries: 0
    headers:
      Authorization: "Bearer {{ var.value.token }}"
      X-Run: "{{ run_id }}"
    body: '{"task": "{{ task_id }}", "try": {{ try_number }}}'
on_run_failure_callback:
  bash_command: echo run failed
on_run_success_callback:
  webhook:
    url: "{{ var.value.slack_url }}"
tasks:
  - task_id: a
    bash_command: "true"
    on_retry_callback: {bash_command: echo own retry}
    on_success_callback: null
  - task_id: b
    bash_command: "true"
    on_failure_callback:
      webhook: {url: "http://127.0.0.1:9/f"}
)";

TEST(CallbackParserTest, EveryFormAndLevel) {
  Dag dag = MustParse(kAllForms);
  ASSERT_EQ(dag.tasks.size(), 2u);
  const Task& a = dag.tasks[0];
  const Task& b = dag.tasks[1];

  // default_args: a task default, cleared by a's null.
  EXPECT_FALSE(a.on_success_callback);
  ASSERT_TRUE(b.on_success_callback && b.on_success_callback->webhook);
  const WebhookSpec& slack = *b.on_success_callback->webhook;
  EXPECT_EQ(slack.url, "https://hooks.slack.com/services/T/B/X");
  EXPECT_EQ(slack.method, "POST");
  EXPECT_EQ(slack.timeout, Seconds(10));
  EXPECT_EQ(slack.retries, 3);
  EXPECT_TRUE(slack.headers.empty());
  EXPECT_FALSE(slack.body);
  EXPECT_TRUE(b.on_success_callback->bash_command.empty());

  ASSERT_TRUE(dag.on_retry_callback && dag.on_retry_callback->webhook);
  const WebhookSpec& retry = *dag.on_retry_callback->webhook;
  EXPECT_EQ(retry.url, "http://alerts.internal:8080/retry");
  EXPECT_EQ(retry.method, "PUT");
  EXPECT_EQ(retry.timeout, Seconds(30));
  EXPECT_EQ(retry.retries, 0);
  EXPECT_EQ(retry.headers, (std::map<std::string, std::string>{{"Authorization", "Bearer {{ var.value.token }}"},
                                                               {"X-Run", "{{ run_id }}"}}));
  EXPECT_EQ(retry.body, std::optional<std::string>(R"({"task": "{{ task_id }}", "try": {{ try_number }}})"));

  ASSERT_TRUE(a.on_retry_callback);
  EXPECT_EQ(a.on_retry_callback->bash_command, "echo own retry");
  EXPECT_FALSE(a.on_retry_callback->webhook);
  ASSERT_TRUE(dag.on_failure_callback);
  EXPECT_EQ(dag.on_failure_callback->bash_command, "echo dag failure");
  ASSERT_TRUE(dag.on_run_failure_callback);
  EXPECT_EQ(dag.on_run_failure_callback->bash_command, "echo run failed");
  ASSERT_TRUE(dag.on_run_success_callback && dag.on_run_success_callback->webhook);
  EXPECT_EQ(dag.on_run_success_callback->webhook->url, "{{ var.value.slack_url }}");  // checked when sent
}

TEST(CallbackParserTest, CallbackForPrefersTheTasksOwn) {
  Dag dag = MustParse(kAllForms);
  auto bash = [](const Callback* cb) { return cb ? cb->bash_command : std::string("(none)"); };
  auto url = [](const Callback* cb) { return cb && cb->webhook ? cb->webhook->url : std::string("(none)"); };
  EXPECT_EQ(bash(dag.CallbackFor(CallbackEvent::kTaskFailure, 0)), "echo dag failure");
  EXPECT_EQ(url(dag.CallbackFor(CallbackEvent::kTaskFailure, 1)), "http://127.0.0.1:9/f");
  EXPECT_EQ(bash(dag.CallbackFor(CallbackEvent::kTaskRetry, 0)), "echo own retry");
  EXPECT_EQ(url(dag.CallbackFor(CallbackEvent::kTaskRetry, 1)), "http://alerts.internal:8080/retry");
  // a's null cleared the default_args one; the DAG has no on_success_callback of its own.
  EXPECT_EQ(dag.CallbackFor(CallbackEvent::kTaskSuccess, 0), nullptr);
  EXPECT_EQ(url(dag.CallbackFor(CallbackEvent::kTaskSuccess, 1)), "https://hooks.slack.com/services/T/B/X");
  EXPECT_EQ(bash(dag.CallbackFor(CallbackEvent::kRunFailure, -1)), "echo run failed");
  EXPECT_EQ(url(dag.CallbackFor(CallbackEvent::kRunSuccess, -1)), "{{ var.value.slack_url }}");
  EXPECT_STREQ(CallbackKey(CallbackEvent::kRunSuccess), "on_run_success_callback");
  EXPECT_TRUE(IsRunEvent(CallbackEvent::kRunFailure));
  EXPECT_FALSE(IsRunEvent(CallbackEvent::kTaskRetry));
}

TEST(CallbackParserTest, DagLevelSuccessCallbackIsATaskDefault) {
  Dag dag = MustParse(R"(dag_id: d
on_success_callback: echo ok
tasks:
  - task_id: a
    bash_command: "true"
)");
  const Callback* cb = dag.CallbackFor(CallbackEvent::kTaskSuccess, 0);
  ASSERT_NE(cb, nullptr);
  EXPECT_EQ(cb->bash_command, "echo ok");
  EXPECT_EQ(dag.CallbackFor(CallbackEvent::kRunSuccess, -1), nullptr);
}

// A DAG whose task `a` has `callback` (indented 4) as its on_failure_callback.
std::string TaskWith(const std::string& callback) {
  return "dag_id: d\ntasks:\n  - task_id: a\n    bash_command: 'true'\n    on_failure_callback:\n" + callback;
}

TEST(CallbackParserTest, OneLineErrors) {
  const std::pair<std::string, std::string> cases[] = {
      {TaskWith("      bash_command: echo x\n      webhook: {url: 'http://h/x'}\n"),
       "cb.yaml:6: dag 'd': task 'a': on_failure_callback: give either bash_command or webhook, not both"},
      {TaskWith("      webhook: {method: POST}\n"),
       "cb.yaml:6: dag 'd': task 'a': on_failure_callback.webhook: missing required key 'url'"},
      {TaskWith("      webhook: {url: 'ftp://h/SECRET'}\n"),
       "cb.yaml:6: dag 'd': task 'a': on_failure_callback.webhook.url: expected an http:// or https:// URL with a "
       "host"},
      {TaskWith("      webhook: {url: 'https:///x'}\n"),
       "cb.yaml:6: dag 'd': task 'a': on_failure_callback.webhook.url: expected an http:// or https:// URL with a "
       "host"},
      {TaskWith("      webhook: {url: 'http://h/x', verb: POST}\n"),
       "cb.yaml:6: dag 'd': task 'a': on_failure_callback.webhook: unknown key 'verb' (known: url, headers, body, "
       "method, timeout, retries)"},
      {TaskWith("      webhook: {url: 'http://h/x', method: TRACE}\n"),
       "cb.yaml:6: dag 'd': task 'a': on_failure_callback.webhook.method: unsupported method 'TRACE' (use POST, "
       "PUT, PATCH, GET or DELETE)"},
      {TaskWith("      webhook: {url: 'http://h/x', timeout: 0}\n"),
       "cb.yaml:6: dag 'd': task 'a': on_failure_callback.webhook.timeout: must be longer than 0s"},
      {TaskWith("      webhook: {url: 'http://h/x', timeout: soon}\n"),
       "cb.yaml:6: dag 'd': task 'a': on_failure_callback.webhook.timeout: "},
      {TaskWith("      webhook: {url: 'http://h/x', retries: -1}\n"),
       "cb.yaml:6: dag 'd': task 'a': on_failure_callback.webhook.retries: -1 is out of range 0..100"},
      {TaskWith("      webhook: {url: 'http://h/x', headers: [a, b]}\n"),
       "cb.yaml:6: dag 'd': task 'a': on_failure_callback.webhook.headers: expected a mapping of Header-Name: "
       "value"},
      {TaskWith("      webhook: {url: 'http://h/x', headers: {'Bad Name': v}}\n"),
       "cb.yaml:6: dag 'd': task 'a': on_failure_callback.webhook.headers: invalid header name 'Bad Name'"},
      {TaskWith("      webhook: {url: 'http://h/x', headers: {X-A: \"a\\nb\"}}\n"),
       "cb.yaml:6: dag 'd': task 'a': on_failure_callback.webhook.headers.X-A: a header value cannot contain a "
       "line break"},
      {TaskWith("      webhook: http://h/x\n"),
       "cb.yaml:6: dag 'd': task 'a': on_failure_callback.webhook: expected a mapping with url (and optional "
       "headers, body, method, timeout, retries)"},
      {TaskWith("      webhook: {url: 'http://h/x', body: {text: hi}}\n"),
       "cb.yaml:6: dag 'd': task 'a': on_failure_callback.webhook.body: expected a single value, not a list or "
       "mapping"},
      {"dag_id: d\non_run_failure_callback: {}\ntasks:\n  - task_id: a\n    bash_command: 'true'\n",
       "cb.yaml:2: dag 'd': on_run_failure_callback: bash_command is required (or webhook)"},
      {"dag_id: d\non_run_success_callback:\n  webhook: {url: 'mailto:x'}\ntasks:\n  - task_id: a\n"
       "    bash_command: 'true'\n",
       "cb.yaml:3: dag 'd': on_run_success_callback.webhook.url: expected an http:// or https:// URL with a host"},
      {"dag_id: d\ndefault_args:\n  on_retry_callback: {webhok: {url: 'http://h'}}\ntasks:\n  - task_id: a\n"
       "    bash_command: 'true'\n",
       "cb.yaml:3: dag 'd': default_args: on_retry_callback: unknown key 'webhok' (did you mean 'webhook'?)"},
  };
  for (const auto& [text, want] : cases) {
    std::string got = ErrorOf(text);
    EXPECT_EQ(got.substr(0, want.size()), want) << text;
    EXPECT_EQ(got.find("SECRET"), std::string::npos) << got;
  }
}

TEST(CallbackParserTest, TaskLevelRunCallbacksAreUnknownKeys) {
  std::string got = ErrorOf(
      "dag_id: d\ntasks:\n  - task_id: a\n    bash_command: 'true'\n    on_run_failure_callback: echo x\n");
  EXPECT_EQ(got.rfind("cb.yaml:5: dag 'd': task 'a': unknown key 'on_run_failure_callback'", 0), 0u) << got;
}

}  // namespace
}  // namespace dwfs
