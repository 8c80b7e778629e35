// Tests for the DAG loader (dag_loader.h): the bad-DAG corpus in
// tests/data/bad_dags (one file per import-error class, each naming the
// message and line it expects), every field of dag-files.md on good input,
// defaults and aliases, the dependency graph, schedules, the dags folder
// walk (.dwfsignore, dot-files, duplicates) and the example DAGs in dags/.
#include "dwfs/dag_loader.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace dwfs {
namespace {

namespace fs = std::filesystem;

const std::string kSourceDir = DWFS_SOURCE_DIR;
const std::string kBadDagsDir = kSourceDir + "/tests/data/bad_dags";

Instant Utc(int y, unsigned m, unsigned d, int h = 0, int mi = 0, int s = 0) {
  return Instant{std::chrono::sys_days(std::chrono::year(y) / m / d) + std::chrono::hours(h) +
                 std::chrono::minutes(mi) + std::chrono::seconds(s)};
}

// Parses `text` with `defaults`; on failure records the error and fails the test.
Dag MustParse(const std::string& text, const DagDefaults& defaults = DagDefaults()) {
  Dag dag;
  ImportError err;
  bool ok = ParseDagText(text, "inline.yaml", defaults, &dag, &err);
  EXPECT_TRUE(ok) << err.ToString();
  return dag;
}

// Parses `text`, expecting failure; returns the error.
ImportError MustFail(const std::string& text, const DagDefaults& defaults = DagDefaults()) {
  Dag dag;
  ImportError err;
  EXPECT_FALSE(ParseDagText(text, "inline.yaml", defaults, &dag, &err)) << "loaded: " << dag.dag_id;
  EXPECT_EQ(err.filepath, "inline.yaml");
  EXPECT_EQ(err.message.find('\n'), std::string::npos) << err.message;
  return err;
}

std::vector<std::string> TaskIds(const Dag& dag, const std::vector<int>& idx) {
  std::vector<std::string> out;
  for (int i : idx) out.push_back(dag.tasks.at(size_t(i)).task_id);
  return out;
}

// ---------------------------------------------------------------------------
// (a) The bad-DAG corpus: every *.yaml in tests/data/bad_dags is one case.

struct CorpusCase {
  std::string path;
  std::string name;  // test name: the file name without .yaml, non-alnum -> _
};

std::vector<CorpusCase> CorpusCases() {
  std::vector<CorpusCase> out;
  std::error_code ec;
  for (fs::directory_iterator it(kBadDagsDir, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::path& p = it->path();
    if (p.extension() != ".yaml" && p.extension() != ".yml") continue;
    std::string name = p.stem().string();
    for (char& ch : name) {
      if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
    }
    out.push_back({p.string(), name});
  }
  std::sort(out.begin(), out.end(), [](const CorpusCase& a, const CorpusCase& b) { return a.path < b.path; });
  return out;
}

struct Expectation {
  std::string expect;       // substring of the message
  std::optional<int> line;  // expected 1-based line
};

// Reads the leading "# expect: ..." and "# line: N" comment lines.
Expectation ReadExpectation(const std::string& path) {
  Expectation e;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line) && line.rfind("#", 0) == 0) {
    if (line.rfind("# expect: ", 0) == 0) {
      e.expect = line.substr(10);
    } else if (line.rfind("# line: ", 0) == 0) {
      e.line = std::stoi(line.substr(8));
    }
  }
  return e;
}

class BadDagCorpusTest : public ::testing::TestWithParam<CorpusCase> {};

TEST_P(BadDagCorpusTest, IsAnImportErrorWithTheExpectedMessage) {
  const std::string& path = GetParam().path;
  Expectation want = ReadExpectation(path);
  ASSERT_FALSE(want.expect.empty()) << path << " must start with a '# expect: <message substring>' line";

  Dag dag;
  dag.dag_id = "untouched";
  ImportError err;
  ASSERT_FALSE(LoadDagFile(path, DagDefaults(), &dag, &err)) << path << " loaded as DAG " << dag.dag_id;
  EXPECT_EQ(dag.dag_id, "untouched") << "a failed load must leave *out unchanged";
  EXPECT_EQ(err.filepath, path);
  EXPECT_NE(err.message.find(want.expect), std::string::npos)
      << "expected a message containing: " << want.expect << "\n got: " << err.ToString();
  if (want.line) {
    EXPECT_EQ(err.line, want.line) << err.ToString();
  }
  EXPECT_EQ(err.ToString().rfind(path, 0), 0u) << err.ToString();
  if (err.line) {
    EXPECT_EQ(err.ToString().rfind(path + ":" + std::to_string(*err.line) + ": ", 0), 0u) << err.ToString();
  }
  EXPECT_EQ(err.message.find('\n'), std::string::npos) << "messages are one line: " << err.message;
  EXPECT_LT(err.message.size(), 1000u);
}

INSTANTIATE_TEST_SUITE_P(BadDags, BadDagCorpusTest, ::testing::ValuesIn(CorpusCases()),
                         [](const ::testing::TestParamInfo<CorpusCase>& info) { return info.param.name; });

TEST(DagLoaderCorpus, CorpusIsPresent) {
  // Guards against the folder going missing (which would run zero cases).
  EXPECT_GE(CorpusCases().size(), 60u) << kBadDagsDir;
}

TEST(DagLoaderCorpus, WholeCorpusFolderLoadsNoDag) {
  DagBag bag = LoadDagFolder(kBadDagsDir, DagDefaults());
  EXPECT_TRUE(bag.dags.empty());
  EXPECT_EQ(bag.errors.size(), bag.files.size());
  EXPECT_EQ(bag.files.size(), CorpusCases().size());
  EXPECT_TRUE(std::is_sorted(bag.errors.begin(), bag.errors.end(),
                             [](const ImportError& a, const ImportError& b) { return a.filepath < b.filepath; }));
}

// ---------------------------------------------------------------------------
// (b) Good files.

// The example of dag-files.md, verbatim.
const char kSpecExample[] = R"(dag_id: daily_sales            # required; [A-Za-z0-9_.-]{1,250}; unique across the folder
description: Load daily sales  # optional
schedule: "0 2 * * *"          # see "Schedules"; `schedule_interval` is accepted as an alias
start_date: 2026-01-01         # required unless schedule is null; date or ISO-8601 date-time
end_date: 2026-12-31           # optional; no run whose interval starts after it
timezone: Asia/Seoul           # optional IANA zone; default: config core.default_timezone (UTC)
catchup: true                  # optional; default: config scheduler.catchup_by_default (true)
max_active_runs: 1             # optional; default: config core.max_active_runs_per_dag (16)
max_active_tasks: 16           # optional; default: config core.max_active_tasks_per_dag (16)
is_paused_upon_creation: false # optional; default: config core.dags_are_paused_at_creation (false)
tags: [sales, etl]             # optional
params:                        # optional; defaults for {{ params.x }}; dag_run conf overrides them
  region: kr
default_args:                  # optional; defaults for every task below
  owner: data-eng
  retries: 1
  retry_delay: 5m
  retry_exponential_backoff: false
  max_retry_delay: 1h
  execution_timeout: 30m
  pool: default_pool
  env: {TZ: UTC}
on_failure_callback:           # optional; runs once when a task of this DAG fails for good
  bash_command: 'echo "{{ task_id }} failed in {{ run_id }}" >> /tmp/alerts'
tasks:                         # required, non-empty list
  - task_id: extract           # required; [A-Za-z0-9_.-]{1,250}; unique in the DAG
    operator: bash             # bash | sql | (later: sensor, trigger_dag, ...)
    bash_command: |            # bash: run by /bin/bash -c in its own process group
      echo "extracting {{ ds }}"
  - task_id: load
    operator: sql
    conn_id: warehouse         # sql: a connection id (see "Connections")
    sql: |                     # the whole text runs in ONE transaction; any error rolls it all back
      DELETE FROM sales WHERE day = '{{ ds }}';
      INSERT INTO sales SELECT * FROM staging_sales WHERE day = '{{ ds }}';
    upstream: [extract]        # task ids this task depends on (`depends_on` is an alias)
    trigger_rule: all_success  # see "Trigger rules"
    retries: 3                 # task fields override default_args
)";

TEST(DagParserTest, SpecExampleParsesEveryField) {
  Dag dag = MustParse(kSpecExample);
  EXPECT_EQ(dag.dag_id, "daily_sales");
  EXPECT_EQ(dag.description, "Load daily sales");
  EXPECT_EQ(dag.fileloc, "inline.yaml");
  EXPECT_EQ(dag.schedule.kind(), Schedule::Kind::kCron);
  EXPECT_EQ(dag.schedule.text(), "0 2 * * *");
  EXPECT_EQ(dag.ScheduleText(), "0 2 * * *");
  EXPECT_EQ(dag.timezone.name(), "Asia/Seoul");
  ASSERT_TRUE(dag.start_date);
  EXPECT_EQ(*dag.start_date, Utc(2025, 12, 31, 15));  // midnight in Seoul (+09:00)
  ASSERT_TRUE(dag.end_date);
  EXPECT_EQ(*dag.end_date, Utc(2026, 12, 30, 15));
  EXPECT_TRUE(dag.catchup);
  EXPECT_EQ(dag.max_active_runs, 1);
  EXPECT_EQ(dag.max_active_tasks, 16);
  EXPECT_FALSE(dag.is_paused_upon_creation);
  EXPECT_EQ(dag.tags, (std::vector<std::string>{"sales", "etl"}));
  ASSERT_EQ(dag.params.type(), Json::Type::kObject);
  ASSERT_NE(dag.params.Find("region"), nullptr);
  EXPECT_EQ(dag.params.Find("region")->str(), "kr");
  ASSERT_TRUE(dag.on_failure_callback);
  EXPECT_EQ(dag.on_failure_callback->bash_command, R"(echo "{{ task_id }} failed in {{ run_id }}" >> /tmp/alerts)");
  ASSERT_EQ(dag.source_hash.size(), 16u);
  EXPECT_EQ(dag.source_hash.find_first_not_of("0123456789abcdef"), std::string::npos);

  ASSERT_EQ(dag.tasks.size(), 2u);
  const Task& extract = dag.tasks[0];
  EXPECT_EQ(extract.task_id, "extract");
  EXPECT_EQ(extract.operator_name, "bash");
  EXPECT_EQ(extract.bash_command, "echo \"extracting {{ ds }}\"\n");
  EXPECT_EQ(extract.line, 26);
  EXPECT_EQ(extract.owner, "data-eng");
  EXPECT_EQ(extract.retries, 1);
  EXPECT_EQ(extract.retry_delay, Seconds(300));
  EXPECT_FALSE(extract.retry_exponential_backoff);
  EXPECT_EQ(extract.max_retry_delay, Seconds(3600));
  EXPECT_EQ(extract.execution_timeout, Seconds(1800));
  EXPECT_EQ(extract.pool, "default_pool");
  EXPECT_EQ(extract.env, (std::map<std::string, std::string>{{"TZ", "UTC"}}));
  EXPECT_TRUE(extract.upstream.empty());
  EXPECT_EQ(extract.trigger_rule, TriggerRule::kAllSuccess);

  const Task& load = dag.tasks[1];
  EXPECT_EQ(load.task_id, "load");
  EXPECT_EQ(load.operator_name, "sql");
  EXPECT_EQ(load.conn_id, "warehouse");
  EXPECT_EQ(load.sql,
            "DELETE FROM sales WHERE day = '{{ ds }}';\n"
            "INSERT INTO sales SELECT * FROM staging_sales WHERE day = '{{ ds }}';\n");
  EXPECT_TRUE(load.bash_command.empty());
  EXPECT_EQ(load.upstream, (std::vector<std::string>{"extract"}));
  EXPECT_EQ(load.trigger_rule, TriggerRule::kAllSuccess);
  EXPECT_EQ(load.retries, 3);
  EXPECT_EQ(load.owner, "data-eng");
  EXPECT_EQ(load.line, 30);

  EXPECT_EQ(dag.topo_order, (std::vector<int>{0, 1}));
  EXPECT_EQ(extract.downstream_idx, (std::vector<int>{1}));
  EXPECT_EQ(load.upstream_idx, (std::vector<int>{0}));
  EXPECT_TRUE(load.downstream_idx.empty());
  EXPECT_EQ(dag.TaskIndex("load"), 1);
  EXPECT_EQ(dag.TaskIndex("nope"), -1);
  EXPECT_EQ(dag.FindTask("extract"), &dag.tasks[0]);
}

TEST(DagParserTest, SameTextSameHashDifferentTextDifferentHash) {
  Dag a = MustParse(kSpecExample);
  Dag b = MustParse(kSpecExample);
  Dag c = MustParse(std::string(kSpecExample) + "# a comment\n");
  EXPECT_EQ(a.source_hash, b.source_hash);
  EXPECT_NE(a.source_hash, c.source_hash);
}

TEST(DagParserTest, EveryTaskField) {
  Dag dag = MustParse(R"(dag_id: all.task-fields_1
doc: The DAG's doc
tasks:
  - task_id: first
    bash_command: echo first
  - task_id: all
    operator: bash
    bash_command: echo all
    upstream: [first]
    trigger_rule: none_failed_min_one_success
    retries: 4
    retry_delay: 1h30m
    retry_exponential_backoff: true
    max_retry_delay: 2d
    execution_timeout: 90
    pool: etl.pool-1
    pool_slots: 3
    priority_weight: -5
    depends_on_past: yes
    env: {A: "1", B_2: two, EMPTY: ~}
    cwd: /tmp/work
    owner: alice
    do_xcom_push: false
    on_failure_callback: echo task failed
    doc: Does everything
  - task_id: cb_map
    bash_command: echo x
    on_failure_callback:
      bash_command: echo mapped
    retry_delay: 1w
)");
  EXPECT_EQ(dag.dag_id, "all.task-fields_1");
  EXPECT_EQ(dag.doc, "The DAG's doc");
  EXPECT_EQ(dag.schedule.kind(), Schedule::Kind::kNone);
  EXPECT_EQ(dag.ScheduleText(), "None");
  EXPECT_FALSE(dag.start_date);
  ASSERT_EQ(dag.tasks.size(), 3u);
  const Task& t = dag.tasks[1];
  EXPECT_EQ(t.operator_name, "bash");
  EXPECT_EQ(t.bash_command, "echo all");
  EXPECT_EQ(t.upstream, (std::vector<std::string>{"first"}));
  EXPECT_EQ(t.trigger_rule, TriggerRule::kNoneFailedMinOneSuccess);
  EXPECT_EQ(t.retries, 4);
  EXPECT_EQ(t.retry_delay, Seconds(5400));
  EXPECT_TRUE(t.retry_exponential_backoff);
  EXPECT_EQ(t.max_retry_delay, Seconds(2 * 86400));
  EXPECT_EQ(t.execution_timeout, Seconds(90));
  EXPECT_EQ(t.pool, "etl.pool-1");
  EXPECT_EQ(t.pool_slots, 3);
  EXPECT_EQ(t.priority_weight, -5);
  EXPECT_TRUE(t.depends_on_past);
  EXPECT_EQ(t.env, (std::map<std::string, std::string>{{"A", "1"}, {"B_2", "two"}, {"EMPTY", ""}}));
  EXPECT_EQ(t.cwd, "/tmp/work");
  EXPECT_EQ(t.owner, "alice");
  EXPECT_FALSE(t.do_xcom_push);
  ASSERT_TRUE(t.on_failure_callback);
  EXPECT_EQ(t.on_failure_callback->bash_command, "echo task failed");
  EXPECT_EQ(t.doc, "Does everything");
  EXPECT_EQ(t.line, 6);

  const Task& first = dag.tasks[0];  // defaults of Task and DagDefaults
  EXPECT_EQ(first.operator_name, "bash");
  EXPECT_EQ(first.trigger_rule, TriggerRule::kAllSuccess);
  EXPECT_EQ(first.retries, 0);
  EXPECT_EQ(first.retry_delay, Seconds(300));
  EXPECT_FALSE(first.retry_exponential_backoff);
  EXPECT_FALSE(first.max_retry_delay);
  EXPECT_FALSE(first.execution_timeout);
  EXPECT_EQ(first.pool, "default_pool");
  EXPECT_EQ(first.pool_slots, 1);
  EXPECT_EQ(first.priority_weight, 1);
  EXPECT_FALSE(first.depends_on_past);
  EXPECT_TRUE(first.env.empty());
  EXPECT_FALSE(first.cwd);
  EXPECT_EQ(first.owner, "dwfs");
  EXPECT_TRUE(first.do_xcom_push);
  EXPECT_FALSE(first.on_failure_callback);

  ASSERT_TRUE(dag.tasks[2].on_failure_callback);
  EXPECT_EQ(dag.tasks[2].on_failure_callback->bash_command, "echo mapped");
  EXPECT_EQ(dag.tasks[2].retry_delay, Seconds(7 * 86400));
}

TEST(DagParserTest, EveryTriggerRuleName) {
  for (TriggerRule rule : AllTriggerRules()) {
    std::string name = TriggerRuleName(rule);
    Dag dag = MustParse("dag_id: rules\ntasks:\n  - task_id: a\n    bash_command: x\n    trigger_rule: " + name +
                        "\n");
    ASSERT_EQ(dag.tasks.size(), 1u) << name;
    EXPECT_EQ(dag.tasks[0].trigger_rule, rule) << name;
  }
  EXPECT_EQ(AllTriggerRules().size(), 11u);
}

TEST(DagParserTest, DefaultArgsMergeUnderTaskFields) {
  Dag dag = MustParse(R"(dag_id: merge
default_args:
  owner: team
  retries: 2
  retry_delay: 30s
  execution_timeout: 10m
  pool: shared
  depends_on_past: true
  env:
    A: from_defaults
    B: from_defaults
  do_xcom_push: false
  on_failure_callback: echo default cb
  trigger_rule: all_done
tasks:
  - task_id: inherits
    bash_command: echo 1
  - task_id: overrides
    bash_command: echo 2
    owner: me
    retries: 0
    execution_timeout: null
    on_failure_callback: null
    env:
      B: from_task
      C: from_task
    trigger_rule: always
)");
  ASSERT_EQ(dag.tasks.size(), 2u);
  const Task& a = dag.tasks[0];
  EXPECT_EQ(a.owner, "team");
  EXPECT_EQ(a.retries, 2);
  EXPECT_EQ(a.retry_delay, Seconds(30));
  EXPECT_EQ(a.execution_timeout, Seconds(600));
  EXPECT_EQ(a.pool, "shared");
  EXPECT_TRUE(a.depends_on_past);
  EXPECT_FALSE(a.do_xcom_push);
  EXPECT_EQ(a.trigger_rule, TriggerRule::kAllDone);
  EXPECT_EQ(a.env, (std::map<std::string, std::string>{{"A", "from_defaults"}, {"B", "from_defaults"}}));
  ASSERT_TRUE(a.on_failure_callback);
  EXPECT_EQ(a.on_failure_callback->bash_command, "echo default cb");

  const Task& b = dag.tasks[1];
  EXPECT_EQ(b.owner, "me");
  EXPECT_EQ(b.retries, 0);
  EXPECT_EQ(b.retry_delay, Seconds(30));
  EXPECT_FALSE(b.execution_timeout);
  EXPECT_FALSE(b.on_failure_callback);
  EXPECT_EQ(b.trigger_rule, TriggerRule::kAlways);
  EXPECT_EQ(b.env, (std::map<std::string, std::string>{
                       {"A", "from_defaults"}, {"B", "from_task"}, {"C", "from_task"}}));
}

TEST(DagParserTest, DefaultArgsOperatorAndDates) {
  Dag dag = MustParse(R"(dag_id: sql_defaults
schedule: "@daily"
default_args:
  operator: sql
  conn_id: warehouse
  start_date: 2026-03-01
  end_date: 2026-04-01
tasks:
  - task_id: q1
    sql: SELECT 1
  - task_id: q2
    sql: SELECT 2
    conn_id: other
)");
  ASSERT_EQ(dag.tasks.size(), 2u);
  EXPECT_EQ(dag.tasks[0].operator_name, "sql");
  EXPECT_EQ(dag.tasks[0].conn_id, "warehouse");
  EXPECT_EQ(dag.tasks[1].conn_id, "other");
  EXPECT_EQ(dag.start_date, Utc(2026, 3, 1));
  EXPECT_EQ(dag.end_date, Utc(2026, 4, 1));

  // The DAG's own dates win over default_args.
  Dag own = MustParse(R"(dag_id: own_dates
schedule: "@daily"
start_date: 2026-05-01
default_args:
  start_date: 2026-03-01
tasks:
  - task_id: a
    bash_command: x
)");
  EXPECT_EQ(own.start_date, Utc(2026, 5, 1));

  // A bad default_args date is an error even when the DAG sets its own.
  ImportError err = MustFail(R"(dag_id: bad_default_date
schedule: "@daily"
start_date: 2026-05-01
default_args:
  start_date: someday
tasks:
  - task_id: a
    bash_command: x
)");
  EXPECT_NE(err.message.find("default_args.start_date: invalid date"), std::string::npos) << err.message;
  EXPECT_EQ(err.line, 5);
}

TEST(DagParserTest, AliasesScheduleIntervalAndDependsOn) {
  Dag dag = MustParse(R"(dag_id: aliases
schedule_interval: "@hourly"
start_date: 2026-01-01
tasks:
  - task_id: a
    bash_command: echo a
  - task_id: b
    bash_command: echo b
    depends_on: [a]
  - task_id: c
    bash_command: echo c
    depends_on: b
)");
  EXPECT_EQ(dag.schedule.kind(), Schedule::Kind::kCron);
  EXPECT_EQ(dag.schedule.text(), "@hourly");
  ASSERT_EQ(dag.tasks.size(), 3u);
  EXPECT_EQ(dag.tasks[1].upstream, (std::vector<std::string>{"a"}));
  EXPECT_EQ(dag.tasks[2].upstream, (std::vector<std::string>{"b"}));
  EXPECT_EQ(dag.topo_order, (std::vector<int>{0, 1, 2}));
}

TEST(DagParserTest, DagDefaultsAppliedWhenAbsent) {
  DagDefaults d;
  d.default_timezone = "America/New_York";
  d.catchup = false;
  d.max_active_runs = 3;
  d.max_active_tasks = 7;
  d.is_paused_upon_creation = true;
  d.owner = "ops";
  d.retries = 2;
  d.retry_delay = Seconds(60);
  const std::string body = "tasks:\n  - task_id: a\n    bash_command: x\n";

  Dag dag = MustParse("dag_id: defaults\nschedule: '@daily'\nstart_date: 2026-01-01\n" + body, d);
  EXPECT_EQ(dag.timezone.name(), "America/New_York");
  EXPECT_EQ(dag.start_date, Utc(2026, 1, 1, 5));  // EST is -05:00
  EXPECT_FALSE(dag.catchup);
  EXPECT_EQ(dag.max_active_runs, 3);
  EXPECT_EQ(dag.max_active_tasks, 7);
  EXPECT_TRUE(dag.is_paused_upon_creation);
  ASSERT_EQ(dag.tasks.size(), 1u);
  EXPECT_EQ(dag.tasks[0].owner, "ops");
  EXPECT_EQ(dag.tasks[0].retries, 2);
  EXPECT_EQ(dag.tasks[0].retry_delay, Seconds(60));

  Dag own = MustParse(R"(dag_id: explicit
schedule: '@daily'
start_date: 2026-01-01
timezone: UTC
catchup: true
max_active_runs: 1
max_active_tasks: 2
is_paused_upon_creation: false
default_args: {owner: me, retries: 5, retry_delay: 1s}
)" + body,
                      d);
  EXPECT_EQ(own.timezone.name(), "UTC");
  EXPECT_EQ(own.start_date, Utc(2026, 1, 1));
  EXPECT_TRUE(own.catchup);
  EXPECT_EQ(own.max_active_runs, 1);
  EXPECT_EQ(own.max_active_tasks, 2);
  EXPECT_FALSE(own.is_paused_upon_creation);
  EXPECT_EQ(own.tasks[0].owner, "me");
  EXPECT_EQ(own.tasks[0].retries, 5);
  EXPECT_EQ(own.tasks[0].retry_delay, Seconds(1));

  // `timezone: null` keeps the default zone.
  Dag null_tz = MustParse("dag_id: null_tz\ntimezone: ~\n" + body, d);
  EXPECT_EQ(null_tz.timezone.name(), "America/New_York");

  // An unknown configured default zone is an import error, not a crash.
  d.default_timezone = "Nowhere/Land";
  ImportError err = MustFail("dag_id: bad_default_tz\n" + body, d);
  EXPECT_NE(err.message.find("Nowhere/Land"), std::string::npos) << err.message;
}

TEST(DagParserTest, StartDateNaiveInDagZoneVersusExplicitOffset) {
  auto start = [](const std::string& tz, const std::string& date) {
    Dag dag = MustParse("dag_id: d\nschedule: '@daily'\ntimezone: " + tz + "\nstart_date: " + date +
                        "\ntasks:\n  - task_id: a\n    bash_command: x\n");
    return dag.start_date.value_or(Instant{});
  };
  EXPECT_EQ(start("Asia/Seoul", "2026-01-01"), Utc(2025, 12, 31, 15));
  EXPECT_EQ(start("Asia/Seoul", "2026-01-01T09:30"), Utc(2026, 1, 1, 0, 30));
  EXPECT_EQ(start("Asia/Seoul", "'2026-01-01 09:30:15'"), Utc(2026, 1, 1, 0, 30, 15));
  EXPECT_EQ(start("Asia/Seoul", "2026-01-01T00:00:00Z"), Utc(2026, 1, 1));
  EXPECT_EQ(start("Asia/Seoul", "2026-01-01T00:00:00+00:00"), Utc(2026, 1, 1));
  EXPECT_EQ(start("America/New_York", "2026-01-01T00:00:00+09:00"), Utc(2025, 12, 31, 15));
  EXPECT_EQ(start("America/New_York", "2026-07-01"), Utc(2026, 7, 1, 4));  // EDT is -04:00
  EXPECT_EQ(start("UTC", "2026-07-01"), Utc(2026, 7, 1));
}

TEST(DagParserTest, TopoOrderDownstreamAndDedupedUpstream) {
  // File order differs from dependency order: topo_order follows the
  // dependencies and breaks ties by file order.
  Dag dag = MustParse(R"(dag_id: diamond
tasks:
  - task_id: d
    bash_command: x
    upstream: [b, c, b]
  - task_id: c
    bash_command: x
    upstream: a
  - task_id: b
    bash_command: x
    upstream: [a, a]
  - task_id: a
    bash_command: x
  - task_id: lone
    bash_command: x
)");
  ASSERT_EQ(dag.tasks.size(), 5u);
  EXPECT_EQ(TaskIds(dag, dag.topo_order), (std::vector<std::string>{"a", "c", "b", "d", "lone"}));
  EXPECT_EQ(dag.tasks[0].upstream, (std::vector<std::string>{"b", "c"}));
  EXPECT_EQ(dag.tasks[2].upstream, (std::vector<std::string>{"a"}));
  EXPECT_EQ(TaskIds(dag, dag.tasks[0].upstream_idx), (std::vector<std::string>{"b", "c"}));
  EXPECT_EQ(TaskIds(dag, dag.tasks[3].downstream_idx), (std::vector<std::string>{"c", "b"}));
  EXPECT_EQ(TaskIds(dag, dag.tasks[2].downstream_idx), (std::vector<std::string>{"d"}));
  EXPECT_EQ(TaskIds(dag, dag.tasks[1].downstream_idx), (std::vector<std::string>{"d"}));
  EXPECT_TRUE(dag.tasks[0].downstream_idx.empty());
  EXPECT_TRUE(dag.tasks[4].upstream_idx.empty());
  EXPECT_TRUE(dag.tasks[4].downstream_idx.empty());
}

TEST(DagParserTest, TopoOrderOfAWideAndDeepGraph) {
  // A chain of 300 tasks written last-first, plus fan-out: every task comes
  // after all its upstreams in topo_order.
  std::string text = "dag_id: chain\ntasks:\n";
  const int n = 300;
  for (int i = n - 1; i >= 0; --i) {
    text += "  - task_id: t" + std::to_string(i) + "\n    bash_command: x\n";
    if (i > 0) text += "    upstream: [t" + std::to_string(i - 1) + (i > 1 ? ", t0" : "") + "]\n";
  }
  Dag dag = MustParse(text);
  ASSERT_EQ(dag.topo_order.size(), size_t(n));
  std::vector<int> pos(size_t(n), -1);
  for (size_t k = 0; k < dag.topo_order.size(); ++k) pos[size_t(dag.topo_order[k])] = int(k);
  for (size_t i = 0; i < dag.tasks.size(); ++i) {
    for (int u : dag.tasks[i].upstream_idx) EXPECT_LT(pos[size_t(u)], pos[i]);
  }
  EXPECT_EQ(dag.tasks[size_t(dag.topo_order.front())].task_id, "t0");
  EXPECT_EQ(dag.tasks[size_t(dag.topo_order.back())].task_id, "t299");
}

struct ScheduleCase {
  std::string text;  // as written after "schedule: "
  Schedule::Kind kind;
  std::string stored;  // schedule.text()
  Seconds every{0};
};

TEST(DagParserTest, ScheduleKinds) {
  const std::vector<ScheduleCase> cases = {
      {"null", Schedule::Kind::kNone, ""},
      {"~", Schedule::Kind::kNone, ""},
      {"'@once'", Schedule::Kind::kOnce, "@once"},
      {"'@hourly'", Schedule::Kind::kCron, "@hourly"},
      {"'@daily'", Schedule::Kind::kCron, "@daily"},
      {"'@midnight'", Schedule::Kind::kCron, "@midnight"},
      {"'@weekly'", Schedule::Kind::kCron, "@weekly"},
      {"'@monthly'", Schedule::Kind::kCron, "@monthly"},
      {"'@quarterly'", Schedule::Kind::kCron, "@quarterly"},
      {"'@yearly'", Schedule::Kind::kCron, "@yearly"},
      {"'@annually'", Schedule::Kind::kCron, "@annually"},
      {"'*/15 9-17 * * MON-FRI'", Schedule::Kind::kCron, "*/15 9-17 * * MON-FRI"},
      {"0 0 1,15 JAN-JUN 7", Schedule::Kind::kCron, "0 0 1,15 JAN-JUN 7"},
      {"1d", Schedule::Kind::kDuration, "1d", Seconds(86400)},
      {"6h", Schedule::Kind::kDuration, "6h", Seconds(6 * 3600)},
      {"90m", Schedule::Kind::kDuration, "90m", Seconds(90 * 60)},
      {"1h30m", Schedule::Kind::kDuration, "1h30m", Seconds(5400)},
      {"3600", Schedule::Kind::kDuration, "3600", Seconds(3600)},
  };
  for (const ScheduleCase& c : cases) {
    SCOPED_TRACE(c.text);
    Dag dag = MustParse("dag_id: s\nschedule: " + c.text +
                        "\nstart_date: 2026-01-01\ntasks:\n  - task_id: a\n    bash_command: x\n");
    EXPECT_EQ(dag.schedule.kind(), c.kind);
    EXPECT_EQ(dag.schedule.text(), c.stored);
    if (c.kind == Schedule::Kind::kDuration) {
      EXPECT_EQ(dag.schedule.every(), c.every);
    }
  }
  // Absent: no schedule, and start_date is optional.
  Dag absent = MustParse("dag_id: s\ntasks:\n  - task_id: a\n    bash_command: x\n");
  EXPECT_EQ(absent.schedule.kind(), Schedule::Kind::kNone);
  EXPECT_FALSE(absent.start_date);
  EXPECT_FALSE(absent.timetable().NextRunInterval(std::nullopt, true, Utc(2030, 1, 1)));
}

TEST(DagParserTest, TimetablesOfParsedSchedules) {
  auto first = [](const std::string& schedule) {
    Dag dag = MustParse("dag_id: s\nschedule: " + schedule +
                        "\nstart_date: 2026-01-01\ntasks:\n  - task_id: a\n    bash_command: x\n");
    return dag.timetable().FirstInterval();
  };
  EXPECT_EQ(first("'@daily'"), (DataInterval{Utc(2026, 1, 1), Utc(2026, 1, 2)}));
  EXPECT_EQ(first("'@once'"), (DataInterval{Utc(2026, 1, 1), Utc(2026, 1, 1)}));
  EXPECT_EQ(first("6h"), (DataInterval{Utc(2026, 1, 1), Utc(2026, 1, 1, 6)}));
  EXPECT_EQ(first("'30 2 * * *'"), (DataInterval{Utc(2026, 1, 1, 2, 30), Utc(2026, 1, 2, 2, 30)}));
}

TEST(DagParserTest, ParamsKeepYamlTypes) {
  Dag dag = MustParse(R"(dag_id: params
params:
  region: kr
  n: 3
  neg: -2
  flag: true
  off: false
  day: 2026-01-01
  range: 1-2
  ratio: 1.5
  quoted: "5"
  nothing: ~
  list: [1, a]
  nested: {x: y, deeper: {z: 1}}
tasks:
  - task_id: a
    bash_command: x
)");
  const Json& p = dag.params;
  ASSERT_EQ(p.type(), Json::Type::kObject);
  auto get = [&](const char* k) -> const Json& {
    const Json* v = p.Find(k);
    EXPECT_NE(v, nullptr) << k;
    static const Json kNull;
    return v ? *v : kNull;
  };
  EXPECT_EQ(get("region").str(), "kr");
  EXPECT_EQ(get("n").type(), Json::Type::kInt);
  EXPECT_EQ(get("n").as_int(), 3);
  EXPECT_EQ(get("neg").as_int(), -2);
  EXPECT_EQ(get("flag").type(), Json::Type::kBool);
  EXPECT_TRUE(get("flag").as_bool());
  EXPECT_FALSE(get("off").as_bool());
  // Regression: "2026-01-01" and "1-2" were read as the integers 2026 and 1.
  EXPECT_EQ(get("day").type(), Json::Type::kString);
  EXPECT_EQ(get("day").str(), "2026-01-01");
  EXPECT_EQ(get("range").type(), Json::Type::kString);
  EXPECT_EQ(get("range").str(), "1-2");
  EXPECT_EQ(get("quoted").type(), Json::Type::kString);
  EXPECT_EQ(get("quoted").str(), "5");
  EXPECT_TRUE(get("nothing").is_null());
  EXPECT_EQ(get("list").type(), Json::Type::kArray);
  EXPECT_EQ(get("list").items().size(), 2u);
  EXPECT_EQ(get("nested").type(), Json::Type::kObject);
  ASSERT_NE(get("nested").Find("deeper"), nullptr);
  EXPECT_EQ(get("nested").Find("deeper")->Find("z")->as_int(), 1);
}

TEST(DagParserTest, YamlAnchorsAndAliasesWithinLimits) {
  Dag dag = MustParse(R"(dag_id: anchors
tasks:
  - task_id: a
    bash_command: &cmd echo shared
    env: &env {A: "1", B: "2"}
  - task_id: b
    bash_command: *cmd
    env: *env
    upstream: [a]
)");
  ASSERT_EQ(dag.tasks.size(), 2u);
  EXPECT_EQ(dag.tasks[1].bash_command, "echo shared");
  EXPECT_EQ(dag.tasks[1].env, dag.tasks[0].env);
}

TEST(DagParserTest, DocumentMarkersAndEmptyTrailingDocument) {
  const std::string body = "dag_id: markers\ntasks:\n  - task_id: a\n    bash_command: x\n";
  EXPECT_EQ(MustParse("---\n" + body).dag_id, "markers");
  EXPECT_EQ(MustParse("---\n" + body + "...\n").dag_id, "markers");
  EXPECT_EQ(MustParse(body + "---\n").dag_id, "markers");  // an empty second document is harmless
  ImportError err = MustFail(body + "---\ndag_id: other\n");
  EXPECT_NE(err.message.find("one DAG per file"), std::string::npos) << err.message;
  EXPECT_EQ(err.line, 5);
}

TEST(DagParserTest, UnbalancedBracketsInsideStringsAreNotNesting) {
  // Regression: a text pre-scan counted '[' inside block scalars and
  // comments as nesting and rejected valid files.
  std::string cmd;
  for (int i = 0; i < 100; ++i) cmd += "      echo '[' \"{\" [[ x\n";
  Dag dag = MustParse("dag_id: brackets  # [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\n"
                      "tasks:\n  - task_id: a\n    bash_command: |\n" +
                      cmd);
  ASSERT_EQ(dag.tasks.size(), 1u);
  EXPECT_EQ(dag.tasks[0].bash_command.size(), cmd.size() - 100 * 6);
}

TEST(DagParserTest, ParamsNestedUpToTheLimit) {
  std::string deep = "x";
  for (int i = 0; i < 30; ++i) deep = "[" + deep + "]";
  Dag dag = MustParse("dag_id: deep_ok\nparams: {v: " + deep + "}\ntasks:\n  - task_id: a\n    bash_command: x\n");
  ASSERT_NE(dag.params.Find("v"), nullptr);
}

TEST(DagParserTest, FailureLeavesOutputUntouched) {
  Dag dag = MustParse(kSpecExample);
  ImportError err;
  EXPECT_FALSE(ParseDagText("dag_id: [", "x.yaml", DagDefaults(), &dag, &err));
  EXPECT_EQ(dag.dag_id, "daily_sales");
  EXPECT_EQ(dag.tasks.size(), 2u);
  EXPECT_EQ(err.filepath, "x.yaml");
  EXPECT_EQ(err.ToString().rfind("x.yaml:", 0), 0u) << err.ToString();
}

TEST(DagParserTest, ImportErrorToString) {
  EXPECT_EQ((ImportError{"dags/a.yaml", 3, "boom"}.ToString()), "dags/a.yaml:3: boom");
  EXPECT_EQ((ImportError{"dags/a.yaml", std::nullopt, "boom"}.ToString()), "dags/a.yaml: boom");
}

TEST(DagParserTest, MessagesNameTheDagAndTask) {
  ImportError err = MustFail(R"(dag_id: named
tasks:
  - task_id: t1
    bash_command: x
    retries: lots
)");
  EXPECT_EQ(err.message, "dag 'named': task 't1': retries: expected an integer, got 'lots'");
  EXPECT_EQ(err.line, 5);
}

// Hostile inputs: each must be a clean import error (no crash, no hang).

TEST(DagParserTest, DeepBlockNestingIsAnError) {
  // "- - - - ..." nests block sequences without any bracket.
  std::string text = "dag_id: deep\nparams:\n  x: \n    ";
  for (int i = 0; i < 100000; ++i) text += "- ";
  text += "x\ntasks:\n  - task_id: a\n    bash_command: x\n";
  ImportError err = MustFail(text);
  EXPECT_NE(err.message.find("nesting deeper than 64 levels"), std::string::npos) << err.message;
  EXPECT_EQ(err.line, 4);
}

TEST(DagParserTest, DeepIndentedMappingsAreAnError) {
  std::string text = "dag_id: deep\nparams:\n";
  for (int i = 1; i < 200; ++i) text += std::string(size_t(i) * 2, ' ') + "k" + std::to_string(i) + ":\n";
  text += "tasks:\n  - task_id: a\n    bash_command: x\n";
  ImportError err = MustFail(text);
  EXPECT_NE(err.message.find("nesting deeper than 64 levels"), std::string::npos) << err.message;
}

TEST(DagParserTest, DeepFlowNestingAfterAnApostropheIsAnError) {
  // Regression: a text pre-scan took the apostrophe in `a'b` for a quote and
  // skipped the brackets after it, letting 100000 levels reach the parser.
  std::string text = "dag_id: deep\nparams: {x: [a'b, ";
  text += std::string(100000, '[') + std::string(100000, ']') + "]}\ntasks:\n  - task_id: a\n    bash_command: x\n";
  ImportError err = MustFail(text);
  EXPECT_NE(err.message.find("nesting deeper than 64 levels"), std::string::npos) << err.message;
  EXPECT_EQ(err.line, 2);
}

TEST(DagParserTest, DeepNestingInsideQuotesIsFine) {
  std::string text = "dag_id: quoted\ndescription: \"" + std::string(5000, '[') + "\"\n" +
                     "tasks:\n  - task_id: a\n    bash_command: x\n";
  EXPECT_EQ(MustParse(text).description, std::string(5000, '['));
}

TEST(DagParserTest, LongEnvironmentVariableNameIsAnErrorNotACrash) {
  // Regression: std::regex_match recursed once per character of the name.
  // Explicit "? key" syntax: YAML limits implicit keys to 1024 characters.
  std::string text = "dag_id: env\ntasks:\n  - task_id: a\n    bash_command: x\n    env:\n      ? " +
                     std::string(300000, 'A') + "-\n      : x\n";
  ImportError err = MustFail(text);
  EXPECT_NE(err.message.find("invalid environment variable name 'AAAA"), std::string::npos) << err.message;
  std::string ok = "dag_id: env\ntasks:\n  - task_id: a\n    bash_command: x\n    env:\n      ? " +
                   std::string(300000, 'B') + "\n      : x\n";
  EXPECT_EQ(MustParse(ok).tasks.at(0).env.size(), 1u);
}

TEST(DagParserTest, LongUpstreamListIsNotQuadratic) {
  // Regression: deduplicating upstream ids was quadratic (200000 ids took
  // minutes). The first id does not exist: an error naming it.
  std::string text = "dag_id: wide\ntasks:\n  - task_id: a\n    bash_command: x\n    upstream: [";
  for (int i = 0; i < 200000; ++i) text += (i ? ", u" : "u") + std::to_string(i);
  text += "]\n";
  ImportError err = MustFail(text);
  EXPECT_NE(err.message.find("upstream task 'u0' does not exist"), std::string::npos) << err.message;
  EXPECT_EQ(err.line, 5);
}

TEST(DagParserTest, TooManyNodesIsAnError) {
  std::string text = "dag_id: big\ntags: [";
  for (int i = 0; i < 1100000; ++i) text += "x,";
  text += "x]\ntasks:\n  - task_id: a\n    bash_command: x\n";
  ImportError err = MustFail(text);
  EXPECT_NE(err.message.find("YAML too large"), std::string::npos) << err.message;
}

TEST(DagParserTest, AliasExpansionIsBounded) {
  // Each level multiplies by 10: 10^12 nodes if expanded.
  std::string text = "dag_id: laughs\nparams:\n  l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i <= 12; ++i) {
    std::string prev = "*l" + std::to_string(i - 1);
    text += "  l" + std::to_string(i) + ": &l" + std::to_string(i) + " [";
    for (int k = 0; k < 10; ++k) text += (k ? ", " : "") + prev;
    text += "]\n";
  }
  text += "tasks:\n  - task_id: a\n    bash_command: x\n    env: {}\n";
  ImportError err = MustFail(text);
  EXPECT_NE(err.message.find("aliases"), std::string::npos) << err.message;
}

TEST(DagParserTest, RecursiveAliasIsAnError) {
  // yaml-cpp lets an alias refer to the node being defined: a cycle.
  ImportError err = MustFail("dag_id: loop\nparams: &p {self: *p}\ntasks:\n  - task_id: a\n    bash_command: x\n");
  EXPECT_NE(err.message.find("params"), std::string::npos) << err.message;
  err = MustFail("dag_id: loop\ntasks: &t [*t]\n");
  EXPECT_NE(err.message.find("task"), std::string::npos) << err.message;
}

TEST(DagParserTest, FileOverTheSizeLimitIsAnError) {
  std::string text = "dag_id: huge\ntasks:\n  - task_id: a\n    bash_command: x\n#";
  text += std::string(kMaxDagFileBytes, 'x');
  ImportError err = MustFail(text);
  EXPECT_NE(err.message.find("file larger than 8 MiB"), std::string::npos) << err.message;
}

TEST(DagParserTest, ControlCharactersAreEscapedInMessages) {
  ImportError err = MustFail("dag_id: ctl\nschedule: \"0 0\\n* *\"\nstart_date: 2026-01-01\n"
                             "tasks:\n  - task_id: a\n    bash_command: x\n");
  EXPECT_NE(err.message.find("invalid cron expression \"0 0\\x0A* *\""), std::string::npos) << err.message;
  err = MustFail("dag_id: ctl\ntasks:\n  - task_id: a\n    bash_command: x\n    retry_delay: \"5\\r\\n\\tm\\u0001\"\n");
  EXPECT_NE(err.message.find("\\r\\n\\t"), std::string::npos) << err.message;
  EXPECT_NE(err.message.find("\\x01"), std::string::npos) << err.message;
}

TEST(DagParserTest, BinaryGarbageIsAnError) {
  std::string text;
  for (int i = 0; i < 4096; ++i) text += char((i * 7919) & 0xff);
  Dag dag;
  ImportError err;
  EXPECT_FALSE(ParseDagText(text, "garbage.yaml", DagDefaults(), &dag, &err));
  EXPECT_FALSE(err.message.empty());
}

// ---------------------------------------------------------------------------
// (c) The dags folder.

class DagFolderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    root_ = fs::temp_directory_path() / ("dwfs_loader_test_" + std::to_string(::getpid()) + "_" +
                                         std::to_string(counter++) + "_" + info->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  std::string Path(const std::string& rel) const { return (root_ / rel).string(); }

  void Write(const std::string& rel, const std::string& text) const {
    fs::path p = root_ / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
  }

  static std::string GoodDag(const std::string& dag_id) {
    return "dag_id: " + dag_id + "\ntasks:\n  - task_id: a\n    bash_command: echo " + dag_id + "\n";
  }

  std::vector<std::string> Rel(const std::vector<std::string>& paths) const {
    std::vector<std::string> out;
    for (const std::string& p : paths) out.push_back(fs::path(p).lexically_relative(root_).generic_string());
    return out;
  }

  static std::vector<std::string> Ids(const DagBag& bag) {
    std::vector<std::string> out;
    for (const auto& d : bag.dags) out.push_back(d->dag_id);
    return out;
  }

  fs::path root_;
};

TEST_F(DagFolderTest, ScansSubfoldersAndSortsResults) {
  Write("zeta.yaml", GoodDag("zeta"));
  Write("a/alpha.yml", GoodDag("alpha"));
  Write("a/b/c/deep.yaml", GoodDag("deep"));
  Write("m.yaml", GoodDag("mid"));
  EXPECT_EQ(Rel(ListDagFiles(root_.string())),
            (std::vector<std::string>{"a/alpha.yml", "a/b/c/deep.yaml", "m.yaml", "zeta.yaml"}));
  DagBag bag = LoadDagFolder(root_.string(), DagDefaults());
  EXPECT_TRUE(bag.errors.empty());
  EXPECT_EQ(Ids(bag), (std::vector<std::string>{"alpha", "deep", "mid", "zeta"}));
  EXPECT_EQ(bag.files.size(), 4u);
  ASSERT_NE(bag.Find("deep"), nullptr);
  EXPECT_EQ(bag.Find("deep")->fileloc, Path("a/b/c/deep.yaml"));
  EXPECT_EQ(bag.Find("nope"), nullptr);
  EXPECT_EQ(bag.Find(""), nullptr);
}

TEST_F(DagFolderTest, SkipsHiddenAndNonYaml) {
  Write("keep.yaml", GoodDag("keep"));
  Write(".hidden.yaml", GoodDag("hidden_file"));
  Write(".hidden_dir/inside.yaml", GoodDag("hidden_dir"));
  Write("sub/.also_hidden.yml", GoodDag("hidden_sub"));
  Write("sub/.git/x.yaml", GoodDag("git"));
  Write("sub/kept.yml", GoodDag("kept_sub"));
  Write("notes.txt", "not a dag");
  Write("README.md", "# readme");
  Write("old.yaml.bak", GoodDag("backup"));
  Write("data.json", "{}");
  Write("yaml", "no extension");
  Write("broken.txt", "dag_id: [");
  fs::create_directories(root_ / "dir.yaml");  // a folder named like a DAG file
  EXPECT_EQ(Rel(ListDagFiles(root_.string())), (std::vector<std::string>{"keep.yaml", "sub/kept.yml"}));
  DagBag bag = LoadDagFolder(root_.string(), DagDefaults());
  EXPECT_TRUE(bag.errors.empty());
  EXPECT_EQ(Ids(bag), (std::vector<std::string>{"keep", "kept_sub"}));
}

TEST_F(DagFolderTest, DwfsIgnoreGlobs) {
  Write(".dwfsignore",
        "# a comment line\n"
        "\n"
        "skip_*.yaml\n"
        "   # an indented comment\n"
        "sub/only_here.yaml\n"
        "ignored_dir/\n"
        "trailing_space.yaml   \r\n");
  Write("keep.yaml", GoodDag("keep"));
  Write("skip_me.yaml", GoodDag("skip_me"));               // basename glob
  Write("deeper/skip_too.yaml", GoodDag("skip_too"));      // basename glob, any folder
  Write("sub/only_here.yaml", GoodDag("only_here"));       // path pattern
  Write("other/only_here.yaml", GoodDag("other_here"));    // path pattern is anchored: kept
  Write("sub/x/only_here.yaml", GoodDag("deep_here"));     // kept
  Write("ignored_dir/a.yaml", GoodDag("ignored_a"));       // directory pattern
  Write("sub/ignored_dir/b.yaml", GoodDag("ignored_b"));   // directory pattern, any depth
  Write("ignored_dir.yaml", GoodDag("not_a_dir"));         // a file: the dir pattern does not apply
  Write("trailing_space.yaml", GoodDag("trailing"));
  Write("# a comment line", GoodDag("comment_named"));  // not .yaml anyway
  EXPECT_EQ(Rel(ListDagFiles(root_.string())),
            (std::vector<std::string>{"ignored_dir.yaml", "keep.yaml", "other/only_here.yaml",
                                      "sub/x/only_here.yaml"}));
}

TEST_F(DagFolderTest, DwfsIgnoreInSubfolderAppliesBelowIt) {
  Write("local.yaml", GoodDag("top_local"));
  Write("sub2/.dwfsignore", "local.yaml\nnested/*.yaml\n/anchored.yaml\n");
  Write("sub2/local.yaml", GoodDag("sub_local"));
  Write("sub2/deeper/local.yaml", GoodDag("deeper_local"));
  Write("sub2/nested/n.yaml", GoodDag("nested_n"));
  Write("sub2/nested/deeper/n2.yaml", GoodDag("nested_deeper"));  // '*' does not cross '/'
  Write("sub2/anchored.yaml", GoodDag("anchored"));
  Write("sub2/x/anchored.yaml", GoodDag("x_anchored"));
  Write("sub2/kept.yaml", GoodDag("kept"));
  Write("anchored.yaml", GoodDag("top_anchored"));
  EXPECT_EQ(Rel(ListDagFiles(root_.string())),
            (std::vector<std::string>{"anchored.yaml", "local.yaml", "sub2/kept.yaml",
                                      "sub2/nested/deeper/n2.yaml", "sub2/x/anchored.yaml"}));
}

TEST_F(DagFolderTest, DuplicateDagIdsAreBothImportErrors) {
  Write("a.yaml", GoodDag("same"));
  Write("sub/b.yaml", GoodDag("same"));
  Write("c.yaml", GoodDag("other"));
  DagBag bag = LoadDagFolder(root_.string(), DagDefaults());
  EXPECT_EQ(Ids(bag), (std::vector<std::string>{"other"}));
  EXPECT_EQ(bag.Find("same"), nullptr);
  ASSERT_EQ(bag.errors.size(), 2u);
  EXPECT_EQ(bag.errors[0].filepath, Path("a.yaml"));
  EXPECT_EQ(bag.errors[1].filepath, Path("sub/b.yaml"));
  EXPECT_NE(bag.errors[0].message.find("duplicate dag_id 'same'"), std::string::npos) << bag.errors[0].message;
  EXPECT_NE(bag.errors[0].message.find(Path("sub/b.yaml")), std::string::npos) << bag.errors[0].message;
  EXPECT_NE(bag.errors[1].message.find(Path("a.yaml")), std::string::npos) << bag.errors[1].message;
  EXPECT_EQ(bag.errors[0].ToString().rfind(Path("a.yaml"), 0), 0u);
}

TEST_F(DagFolderTest, ThreeFilesWithOneDagIdNameEachOther) {
  Write("x1.yaml", GoodDag("triple"));
  Write("x2.yaml", GoodDag("triple"));
  Write("x3.yml", GoodDag("triple"));
  DagBag bag = LoadDagFolder(root_.string(), DagDefaults());
  EXPECT_TRUE(bag.dags.empty());
  ASSERT_EQ(bag.errors.size(), 3u);
  for (const ImportError& e : bag.errors) {
    for (const char* f : {"x1.yaml", "x2.yaml", "x3.yml"}) {
      if (e.filepath == Path(f)) {
        EXPECT_EQ(e.message.find(Path(f)), std::string::npos) << "names itself: " << e.message;
      } else {
        EXPECT_NE(e.message.find(Path(f)), std::string::npos) << e.message;
      }
    }
  }
}

TEST_F(DagFolderTest, BrokenFileDoesNotStopTheOthers) {
  Write("a_good.yaml", GoodDag("good_a"));
  Write("b_broken.yaml", "dag_id: broken\ntasks: [\n");
  Write("c_invalid.yaml", "dag_id: invalid\n");
  Write("d_good.yml", GoodDag("good_d"));
  Write("e_empty.yaml", "");
  DagBag bag = LoadDagFolder(root_.string(), DagDefaults());
  EXPECT_EQ(Ids(bag), (std::vector<std::string>{"good_a", "good_d"}));
  EXPECT_EQ(bag.files.size(), 5u);
  ASSERT_EQ(bag.errors.size(), 3u);
  EXPECT_EQ(bag.errors[0].filepath, Path("b_broken.yaml"));
  EXPECT_NE(bag.errors[0].message.find("invalid YAML"), std::string::npos) << bag.errors[0].message;
  EXPECT_EQ(bag.errors[1].filepath, Path("c_invalid.yaml"));
  EXPECT_NE(bag.errors[1].message.find("missing required key 'tasks'"), std::string::npos);
  EXPECT_EQ(bag.errors[2].filepath, Path("e_empty.yaml"));
  EXPECT_NE(bag.errors[2].message.find("empty file"), std::string::npos);
}

TEST_F(DagFolderTest, DuplicateOfABrokenFileIsNotADuplicate) {
  Write("a.yaml", GoodDag("dup"));
  Write("b.yaml", "dag_id: dup\ntasks: []\n");  // fails to load: no duplicate
  DagBag bag = LoadDagFolder(root_.string(), DagDefaults());
  EXPECT_EQ(Ids(bag), (std::vector<std::string>{"dup"}));
  ASSERT_EQ(bag.errors.size(), 1u);
  EXPECT_EQ(bag.errors[0].filepath, Path("b.yaml"));
}

TEST_F(DagFolderTest, MissingFolderAndMissingFile) {
  EXPECT_TRUE(ListDagFiles(Path("does_not_exist")).empty());
  DagBag bag = LoadDagFolder(Path("does_not_exist"), DagDefaults());
  EXPECT_TRUE(bag.dags.empty());
  EXPECT_TRUE(bag.errors.empty());
  EXPECT_TRUE(bag.files.empty());

  Dag dag;
  ImportError err;
  EXPECT_FALSE(LoadDagFile(Path("nope.yaml"), DagDefaults(), &dag, &err));
  EXPECT_EQ(err.filepath, Path("nope.yaml"));
  EXPECT_EQ(err.ToString().rfind(Path("nope.yaml") + ": ", 0), 0u) << err.ToString();
}

TEST_F(DagFolderTest, LoadDagFileSetsFilelocAndHash) {
  Write("one.yaml", GoodDag("one"));
  Dag dag;
  ImportError err;
  ASSERT_TRUE(LoadDagFile(Path("one.yaml"), DagDefaults(), &dag, &err)) << err.ToString();
  EXPECT_EQ(dag.fileloc, Path("one.yaml"));
  Dag inline_dag = MustParse(GoodDag("one"));
  EXPECT_EQ(dag.source_hash, inline_dag.source_hash);
}

TEST_F(DagFolderTest, SymlinkLoopsEndAndFilesAreListedOnce) {
  Write("real/a.yaml", GoodDag("a"));
  std::error_code ec;
  fs::create_directory_symlink(root_ / "real", root_ / "link_to_real", ec);
  if (!ec) fs::create_directory_symlink(root_, root_ / "real" / "loop_up", ec);
  if (!ec) fs::create_directory_symlink(root_ / "real", root_ / "real" / "loop_self", ec);
  if (ec) GTEST_SKIP() << "cannot create symlinks here: " << ec.message();
  std::vector<std::string> files = ListDagFiles(root_.string());
  ASSERT_EQ(files.size(), 1u) << ::testing::PrintToString(files);
  DagBag bag = LoadDagFolder(root_.string(), DagDefaults());
  EXPECT_TRUE(bag.errors.empty());
  EXPECT_EQ(Ids(bag), (std::vector<std::string>{"a"}));
}

// ---------------------------------------------------------------------------
// (d) The example DAGs shipped in dags/.

TEST(DagExamplesTest, ExampleDagsLoadWithoutErrors) {
  const std::string folder = kSourceDir + "/dags";
  DagBag bag = LoadDagFolder(folder, DagDefaults());
  for (const ImportError& e : bag.errors) ADD_FAILURE() << e.ToString();
  EXPECT_TRUE(bag.errors.empty());
  EXPECT_GE(bag.dags.size(), 5u) << "expected at least 5 example DAGs in " << folder;
  for (const auto& dag : bag.dags) {
    SCOPED_TRACE(dag->fileloc);
    EXPECT_EQ(dag->topo_order.size(), dag->tasks.size());
    EXPECT_FALSE(dag->tasks.empty());
  }
}

}  // namespace
}  // namespace dwfs
