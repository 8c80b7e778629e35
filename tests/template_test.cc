// Templates: the syntax (spacing, plain text, errors, limits) against a map
// scope, then every variable of the standard scope for a fixed run of a
// @daily DAG in America/New_York whose logical date is the day DST starts,
// params and conf, variables, connections, XCom, secrets and the DWFS_*
// task environment.
#include "dwfs/template.h"

#include <gtest/gtest.h>

#include <chrono>

#include "dwfs/dag_loader.h"

namespace dwfs {
namespace {

// --- Syntax, against a plain map scope --------------------------------------

class MapScope : public TemplateScope {
 public:
  explicit MapScope(std::map<std::string, std::string, std::less<>> values,
                    std::map<std::string, std::string, std::less<>> xcoms = {})
      : values_(std::move(values)), xcoms_(std::move(xcoms)) {}
  std::optional<std::string> Lookup(std::string_view name) const override {
    auto it = values_.find(name);
    if (it == values_.end()) return std::nullopt;
    return it->second;
  }
  std::optional<std::string> XcomPull(std::string_view task_id) const override {
    auto it = xcoms_.find(task_id);
    if (it == xcoms_.end()) return std::nullopt;
    return it->second;
  }

 private:
  std::map<std::string, std::string, std::less<>> values_;
  std::map<std::string, std::string, std::less<>> xcoms_;
};

const MapScope& Scope() {
  static const MapScope* scope =
      new MapScope({{"ds", "2026-03-08"}, {"params.region", "kr"}, {"a-b.c_d", "x"}, {"empty", ""}},
                   {{"extract", "42"}, {"other.task-1", "v"}});
  return *scope;
}

std::string Render(std::string_view text, const TemplateScope& scope = Scope()) {
  std::string out;
  Status st = RenderTemplate(text, scope, "bash_command", &out);
  EXPECT_TRUE(st.ok()) << text << ": " << st.ToString();
  return out;
}

std::string RenderError(std::string_view text, const TemplateScope& scope = Scope(),
                        std::string_view field = "bash_command") {
  std::string out = "unchanged";
  Status st = RenderTemplate(text, scope, field, &out);
  EXPECT_FALSE(st.ok()) << text;
  EXPECT_EQ(out, "unchanged") << text;
  return st.message();
}

TEST(TemplateSyntax, Renders) {
  struct {
    const char* text;
    const char* want;
  } cases[] = {
      {"", ""},
      {"plain text", "plain text"},
      {"{{ds}}", "2026-03-08"},
      {"{{ ds }}", "2026-03-08"},
      {"{{   ds  }}", "2026-03-08"},
      {"{{\tds\n}}", "2026-03-08"},
      {"day={{ ds }}/region={{params.region}} again {{ ds }}", "day=2026-03-08/region=kr again 2026-03-08"},
      {"{{ ds }}{{ ds }}", "2026-03-082026-03-08"},
      {"line1 {{ ds }}\nline2 {{ params.region }}\n", "line1 2026-03-08\nline2 kr\n"},
      {"{{ a-b.c_d }}", "x"},
      {"[{{ empty }}]", "[]"},
      // Everything but {{ }} is plain text.
      {"${HOME} {a} { {ds} } {% if x %} {# note #} }} done", "${HOME} {a} { {ds} } {% if x %} {# note #} }} done"},
      {"awk '{print $1}' | jq '{a: .b}'", "awk '{print $1}' | jq '{a: .b}'"},
      {"{{ ds }}}", "2026-03-08}"},
      {"}}{{ ds }}", "}}2026-03-08"},
      // String literals: the way to write a literal "{{".
      {"{{ '{{' }} ds }}", "{{ ds }}"},
      {"{{ \"{{ds}}\" }}", "{{ds}}"},
      {"{{ '' }}", ""},
      {"{{ '}}' }}", "}}"},
      {"{{ \"a}}b{{c\" }}{{ ds }}", "a}}b{{c2026-03-08"},
      // XCom.
      {"{{ ti.xcom_pull('extract') }}", "42"},
      {"{{ti.xcom_pull(\"extract\")}}", "42"},
      {"{{ ti.xcom_pull( 'extract' ) }}", "42"},
      {"{{ ti.xcom_pull ('extract') }}", "42"},
      {"{{ ti.xcom_pull(task_ids='extract') }}", "42"},
      {"{{ ti.xcom_pull(task_ids = \"other.task-1\") }}", "v"},
      // A missing XCom renders as the empty string.
      {"[{{ ti.xcom_pull('nothing') }}]", "[]"},
      // Non-ASCII text passes through.
      {"héllo {{ ds }} ✓", "héllo 2026-03-08 ✓"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    EXPECT_EQ(Render(c.text), c.want);
  }
}

TEST(TemplateSyntax, Errors) {
  struct {
    const char* text;
    const char* message;
  } cases[] = {
      {"{{ params.regoin }}", "unknown template variable 'params.regoin' in bash_command"},
      {"echo {{ ds }} {{ nope }}", "unknown template variable 'nope' in bash_command"},
      {"{{ DS }}", "unknown template variable 'DS' in bash_command"},
      {"{{ ti }}", "unknown template variable 'ti' in bash_command"},
      {"echo {{ ds", "unclosed '{{' in bash_command (line 1)"},
      {"a\nb\nc {{ ds }} {{ ds } d\n", "unclosed '{{' in bash_command (line 3)"},
      {"{{", "unclosed '{{' in bash_command (line 1)"},
      {"{{}}", "empty '{{ }}' in bash_command (line 1)"},
      {"x\n{{   }}", "empty '{{ }}' in bash_command (line 2)"},
      {"{{ ds | upper }}", "unsupported template expression 'ds | upper' in bash_command (line 1)"},
      {"{{ ds + 1 }}", "unsupported template expression 'ds + 1' in bash_command (line 1)"},
      {"{{ {{ ds }}", "unsupported template expression '{{ ds' in bash_command (line 1)"},
      {"{{{ ds }}}", "unsupported template expression '{ ds' in bash_command (line 1)"},
      {"{{ params['region'] }}", "unsupported template expression 'params['region']' in bash_command (line 1)"},
      {"{{ ti.xcom_pull('extract' }}",
       "unsupported template expression 'ti.xcom_pull('extract'' in bash_command (line 1)"},
      {"{{ ti.xcom_pull('extract\") }}",
       "unsupported template expression 'ti.xcom_pull('extract\")' in bash_command (line 1)"},
      {"{{ ti.xcom_pull('') }}", "unsupported template expression 'ti.xcom_pull('')' in bash_command (line 1)"},
      {"{{ ti.xcom_pull(key='x') }}",
       "unsupported template expression 'ti.xcom_pull(key='x')' in bash_command (line 1)"},
      {"{{ 'it's' }}", "unsupported template expression ''it's'' in bash_command (line 1)"},
      {"{{ 'open }}", "unsupported template expression ''open' in bash_command (line 1)"},
      {"{{ 'a' }", "unclosed '{{' in bash_command (line 1)"},
      {"{{ ds\n| x }}", "unsupported template expression 'ds | x' in bash_command (line 1)"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    EXPECT_EQ(RenderError(c.text), c.message);
  }
  EXPECT_EQ(RenderError("{{ x }}", Scope(), "env.TZ"), "unknown template variable 'x' in env.TZ");
  // Long expressions are cut in messages.
  std::string long_expr = "{{ " + std::string(200, 'a') + " b }}";
  EXPECT_EQ(RenderError(long_expr),
            "unsupported template expression '" + std::string(80, 'a') + "...' in bash_command (line 1)");
}

TEST(TemplateSyntax, OutputCap) {
  // Plain text at the cap renders; one byte more does not.
  std::string at_cap(kMaxRenderedBytes, 'x');
  EXPECT_EQ(Render(at_cap).size(), kMaxRenderedBytes);
  EXPECT_EQ(RenderError(at_cap + "y"), "rendered bash_command exceeds 16 MiB");

  // Expansion past the cap: 17 references to a 1 MiB value.
  MapScope big({{"big", std::string(1 << 20, 'b')}}, {{"t", std::string(1 << 20, 't')}});
  std::string text;
  for (int i = 0; i < 17; ++i) text += "{{ big }}";
  EXPECT_EQ(RenderError(text, big), "rendered bash_command exceeds 16 MiB");
  std::string xcom_text;
  for (int i = 0; i < 17; ++i) xcom_text += "{{ ti.xcom_pull('t') }}";
  EXPECT_EQ(RenderError(xcom_text, big), "rendered bash_command exceeds 16 MiB");
}

TEST(TemplateSyntax, LinearTime) {
  // Inputs that would be quadratic for a naive scanner finish quickly.
  auto start = std::chrono::steady_clock::now();
  std::string many_opens(4 << 20, '{');
  EXPECT_EQ(RenderError(many_opens), "unclosed '{{' in bash_command (line 1)");
  std::string many_closes(4 << 20, '}');
  EXPECT_EQ(Render(many_closes).size(), many_closes.size());
  std::string many_vars;
  for (int i = 0; i < 200000; ++i) many_vars += "{{ds}}";
  EXPECT_EQ(Render(many_vars).size(), 200000u * 10);
  std::string open_then_text = "{{" + std::string(4 << 20, ' ');
  EXPECT_EQ(RenderError(open_then_text), "unclosed '{{' in bash_command (line 1)");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

// --- The standard scope ------------------------------------------------------

const char kDagYaml[] = R"(
dag_id: tmpl_dag
schedule: "@daily"
start_date: 2026-01-01
timezone: America/New_York
params:
  region: kr
  limit: 10
  enabled: true
  nothing: null
  quoted: "007"
  nested:
    a: {b: deep}
    list: [1, two]
tasks:
  - task_id: extract
    bash_command: echo
  - task_id: load
    operator: sql
    conn_id: warehouse
    sql: SELECT 1
    upstream: [extract]
)";

Dag LoadDag(const std::string& yaml) {
  Dag dag;
  ImportError err;
  EXPECT_TRUE(ParseDagText(yaml, "test.yaml", DagDefaults(), &dag, &err)) << err.ToString();
  return dag;
}

Instant At(const char* iso) {
  Instant t;
  EXPECT_TRUE(ParseDateTime(iso, TimeZone(), &t).ok()) << iso;
  return t;
}

// A scheduled run: logical date 2026-03-08T00:00 New York (EST, -05:00),
// interval end 2026-03-09T00:00 New York (EDT, -04:00).
RunInfo DstRun() {
  RunInfo run;
  run.type = RunType::kScheduled;
  run.logical_date = At("2026-03-08T00:00:00-05:00");
  run.data_interval = {run.logical_date, At("2026-03-09T00:00:00-04:00")};
  run.run_id = MakeRunId(RunType::kScheduled, run.logical_date);
  run.conf = Json::Object();
  return run;
}

class TemplateStandardScopeTest : public ::testing::Test {
 protected:
  TemplateStandardScopeTest()
      : dag_(LoadDag(kDagYaml)),
        run_(DstRun()),
        variables_({{"region", "eu"}, {"greeting", "hello world"}}),
        env_({{"DWFS_VAR_BUCKET", "s3://bucket"},
              {"DWFS_VAR_REGION", "env-region"},
              {"DWFS_VAR_MY_KEY_V2", "dashed"},
              {"DWFS_CONN_WAREHOUSE", "postgres://etl:hun%40ter2@db.internal:5432/dw%20main?sslmode=require"},
              {"DWFS_CONN_MY_DB", "postgresql://reader@replica/ro"},
              {"DWFS_CONN_BROKEN", "postgres://etl:hunter2@db:port/dw"}}),
        connections_(env_) {}

  TemplateInputs Inputs(const char* task_id = "load") {
    TemplateInputs in;
    in.dag = &dag_;
    in.task = task_id ? dag_.FindTask(task_id) : nullptr;
    in.run = &run_;
    in.try_number = 2;
    in.variables = &variables_;
    in.env = &env_;
    in.connections = &connections_;
    in.xcom = [](std::string_view task_id) -> std::optional<std::string> {
      if (task_id == "extract") return "rows=42";
      return std::nullopt;
    };
    return in;
  }

  std::string RenderStd(std::string_view text, StandardScope* scope = nullptr) {
    StandardScope local(Inputs());
    std::string out;
    Status st = RenderTemplate(text, scope ? *scope : local, "sql", &out);
    EXPECT_TRUE(st.ok()) << text << ": " << st.ToString();
    return out;
  }

  Status RenderStdError(std::string_view text, StandardScope* scope = nullptr) {
    StandardScope local(Inputs());
    std::string out;
    Status st = RenderTemplate(text, scope ? *scope : local, "sql", &out);
    EXPECT_FALSE(st.ok()) << text;
    return st;
  }

  Dag dag_;
  RunInfo run_;
  std::map<std::string, std::string> variables_;
  std::map<std::string, std::string> env_;
  EnvConnectionSource connections_;
};

TEST_F(TemplateStandardScopeTest, EveryVariable) {
  struct {
    const char* name;
    const char* want;
  } cases[] = {
      {"ds", "2026-03-08"},
      {"ds_nodash", "20260308"},
      {"ts", "2026-03-08T00:00:00-05:00"},
      {"ts_nodash", "20260308T000000"},
      {"logical_date", "2026-03-08T00:00:00-05:00"},
      {"execution_date", "2026-03-08T00:00:00-05:00"},
      {"data_interval_start", "2026-03-08T00:00:00-05:00"},
      {"data_interval_end", "2026-03-09T00:00:00-04:00"},
      {"prev_ds", "2026-03-07"},
      {"next_ds", "2026-03-09"},
      {"yesterday_ds", "2026-03-07"},
      {"tomorrow_ds", "2026-03-09"},
      {"dag_id", "tmpl_dag"},
      {"task_id", "load"},
      {"run_id", "scheduled__2026-03-08T05:00:00+00:00"},
      {"try_number", "2"},
      // params, with no conf.
      {"params.region", "kr"},
      {"params.limit", "10"},
      {"params.enabled", "true"},
      {"params.nothing", "null"},
      {"params.quoted", "007"},
      {"params.nested.a.b", "deep"},
      {"params.nested.a", R"({"b":"deep"})"},
      {"params.nested.list", R"([1,"two"])"},
      {"params.nested.list.0", "1"},
      {"params.nested.list.1", "two"},
      {"params",
       R"({"region":"kr","limit":10,"enabled":true,"nothing":null,"quoted":"007",)"
       R"("nested":{"a":{"b":"deep"},"list":[1,"two"]}})"},
      {"dag_run.conf", "{}"},
      // Variables: the map first, then DWFS_VAR_<KEY>.
      {"var.value.region", "eu"},
      {"var.value.greeting", "hello world"},
      {"var.value.bucket", "s3://bucket"},
      {"var.value.my-key.v2", "dashed"},
      // Connections, percent-decoded.
      {"conn.warehouse.host", "db.internal"},
      {"conn.warehouse.port", "5432"},
      {"conn.warehouse.login", "etl"},
      {"conn.warehouse.password", "hun@ter2"},
      {"conn.warehouse.schema", "dw main"},
      {"conn.warehouse.uri", "postgres://etl:hun%40ter2@db.internal:5432/dw%20main?sslmode=require"},
      {"conn.warehouse.conn_type", "postgres"},
      {"conn.my.db.host", "replica"},
      {"conn.my.db.port", ""},
      {"conn.my.db.password", ""},
      {"conn.my.db.login", "reader"},
  };
  StandardScope scope(Inputs());
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(RenderStd(std::string("{{ ") + c.name + " }}", &scope), c.want);
    EXPECT_EQ(scope.Lookup(c.name), c.want);
  }
}

TEST_F(TemplateStandardScopeTest, UnknownNames) {
  const char* names[] = {
      "params.regoin",
      "params.region.x",
      "params.nested.list.2",
      "params.nested.list.x",
      "params.nested..a",
      "params.nested.a.",
      "params.",
      "dag_run.conf.region",
      "dag_run.conf.",
      "dag_run",
      "var.value.",
      "var.value.nope",
      "var.region",
      "conn.warehouse.bogus",
      "conn.warehouse",
      "conn..host",
      "conn.host",
      "ti",
      "next_ds_nodash",
      "macros.ds_add",
  };
  StandardScope scope(Inputs());
  for (const char* name : names) {
    SCOPED_TRACE(name);
    EXPECT_EQ(RenderStdError(std::string("{{ ") + name + " }}", &scope).message(),
              std::string("unknown template variable '") + name + "' in sql");
    EXPECT_EQ(scope.Lookup(name), std::nullopt);
  }
  // Without a task, task_id is unknown.
  StandardScope no_task(Inputs(nullptr));
  EXPECT_EQ(RenderStdError("{{ task_id }}", &no_task).message(), "unknown template variable 'task_id' in sql");
  EXPECT_EQ(RenderStd("{{ dag_id }}", &no_task), "tmpl_dag");
}

TEST_F(TemplateStandardScopeTest, ConfOverridesParams) {
  Json conf = Json::Object();
  conf.Set("region", "us");
  conf.Set("limit", Json(int64_t(500)));
  conf.Set("only_in_conf", Json(true));
  Json nested = Json::Object();
  nested.Set("k", "v");
  conf.Set("nested", nested);
  run_.conf = conf;
  StandardScope scope(Inputs());
  struct {
    const char* text;
    const char* want;
  } cases[] = {
      {"{{ params.region }}", "us"},
      {"{{ params.limit }}", "500"},
      {"{{ params.enabled }}", "true"},  // not in conf: the DAG's value
      {"{{ params.only_in_conf }}", "true"},
      {"{{ params.nested.k }}", "v"},  // conf replaces the whole value
      {"{{ dag_run.conf.region }}", "us"},
      {"{{ dag_run.conf.nested.k }}", "v"},
      {"{{ dag_run.conf.nested }}", R"({"k":"v"})"},
      {"{{ dag_run.conf }}", R"({"region":"us","limit":500,"only_in_conf":true,"nested":{"k":"v"}})"},
      {"{{ params }}",
       R"({"region":"us","limit":500,"enabled":true,"nothing":null,"quoted":"007",)"
       R"("nested":{"k":"v"},"only_in_conf":true})"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    EXPECT_EQ(RenderStd(c.text, &scope), c.want);
  }
  EXPECT_EQ(RenderStdError("{{ params.nested.a.b }}", &scope).message(),
            "unknown template variable 'params.nested.a.b' in sql");
  EXPECT_EQ(RenderStdError("{{ dag_run.conf.enabled }}", &scope).message(),
            "unknown template variable 'dag_run.conf.enabled' in sql");

  // A conf that is not an object is ignored.
  run_.conf = Json("not an object");
  StandardScope odd(Inputs());
  EXPECT_EQ(RenderStd("{{ params.region }} {{ dag_run.conf }}", &odd), "kr {}");
}

TEST_F(TemplateStandardScopeTest, XcomPull) {
  EXPECT_EQ(RenderStd("{{ ti.xcom_pull('extract') }}|{{ ti.xcom_pull(\"extract\") }}"), "rows=42|rows=42");
  EXPECT_EQ(RenderStd("[{{ ti.xcom_pull('load') }}]"), "[]");
  TemplateInputs in = Inputs();
  in.xcom = nullptr;
  StandardScope no_xcom(in);
  EXPECT_EQ(RenderStd("[{{ ti.xcom_pull('extract') }}]", &no_xcom), "[]");
}

TEST_F(TemplateStandardScopeTest, ConnectionErrorsNameTheConnectionNotThePassword) {
  Status st = RenderStdError("SELECT '{{ conn.nope.host }}'");
  EXPECT_EQ(st.code(), Status::Code::kNotFound);
  EXPECT_EQ(st.message(),
            "cannot render 'conn.nope.host' in sql: connection 'nope' not found "
            "(set DWFS_CONN_NOPE or add it with dwfs connections add)");

  st = RenderStdError("{{ conn.broken.password }}");
  EXPECT_EQ(st.message(),
            "cannot render 'conn.broken.password' in sql: connection 'broken': invalid port "
            "(percent-encode special characters such as '/', ':' or '@' in the password)");

  TemplateInputs in = Inputs();
  in.connections = nullptr;
  StandardScope no_source(in);
  EXPECT_EQ(RenderStdError("{{ conn.warehouse.host }}", &no_source).message(),
            "cannot render 'conn.warehouse.host' in sql: connection 'warehouse' not found (no connection source)");
}

TEST_F(TemplateStandardScopeTest, PasswordNeverInErrors) {
  // Every failing render, with a scope that knows a password.
  const char* texts[] = {
      "{{ conn.warehouse.bogus }}",
      "{{ conn.broken.host }}",
      "{{ conn.broken.uri }}",
      "{{ conn.nope.password }}",
      "{{ conn.warehouse.password | x }}",
      "{{ conn.warehouse.password",
      "{{ params.x }}",
      "{{ var.value.x }}",
  };
  StandardScope scope(Inputs());
  RenderStd("{{ conn.warehouse.password }}", &scope);
  for (const char* text : texts) {
    SCOPED_TRACE(text);
    Status st = RenderStdError(text, &scope);
    EXPECT_EQ(st.message().find("hunter2"), std::string::npos) << st.message();
    EXPECT_EQ(st.message().find("hun@ter2"), std::string::npos) << st.message();
    EXPECT_EQ(st.message().find("hun%40ter2"), std::string::npos) << st.message();
  }
}

TEST_F(TemplateStandardScopeTest, RecordsRenderedSecrets) {
  StandardScope scope(Inputs());
  RenderStd("{{ conn.warehouse.host }} {{ conn.warehouse.login }} {{ conn.my.db.uri }}", &scope);
  EXPECT_TRUE(scope.rendered_secrets().empty());
  RenderStd("{{ conn.warehouse.password }}", &scope);
  EXPECT_EQ(scope.rendered_secrets(), (std::vector<std::string>{"hun@ter2", "hun%40ter2"}));
  RenderStd("{{ conn.warehouse.uri }} {{ conn.warehouse.password }}", &scope);
  EXPECT_EQ(scope.rendered_secrets(), (std::vector<std::string>{"hun@ter2", "hun%40ter2"}));

  StandardScope uri_only(Inputs());
  RenderStd("{{ conn.warehouse.uri }}", &uri_only);
  EXPECT_EQ(uri_only.rendered_secrets(), (std::vector<std::string>{"hun@ter2", "hun%40ter2"}));
}

TEST_F(TemplateStandardScopeTest, DatesFollowTheTimezoneAndTimetable) {
  struct {
    const char* yaml_schedule;  // the schedule line of the DAG
    const char* timezone;
    const char* logical;  // the run's logical date
    const char* ds;
    const char* ts;
    const char* prev_ds;
    const char* next_ds;
    const char* yesterday_ds;
    const char* tomorrow_ds;
  } cases[] = {
      // Month and year boundaries.
      {"\"@daily\"", "UTC", "2026-03-01T00:00:00Z", "2026-03-01", "2026-03-01T00:00:00+00:00", "2026-02-28",
       "2026-03-02", "2026-02-28", "2026-03-02"},
      {"\"@daily\"", "UTC", "2027-01-01T00:00:00Z", "2027-01-01", "2027-01-01T00:00:00+00:00", "2026-12-31",
       "2027-01-02", "2026-12-31", "2027-01-02"},
      {"\"@daily\"", "UTC", "2028-02-29T00:00:00Z", "2028-02-29", "2028-02-29T00:00:00+00:00", "2028-02-28",
       "2028-03-01", "2028-02-28", "2028-03-01"},
      // The zone decides the date: 03:00Z is the previous evening in New York.
      {"\"0 22 * * *\"", "America/New_York", "2026-06-10T02:00:00Z", "2026-06-09", "2026-06-09T22:00:00-04:00",
       "2026-06-08", "2026-06-10", "2026-06-08", "2026-06-10"},
      {"\"@daily\"", "Asia/Seoul", "2026-05-31T15:00:00Z", "2026-06-01", "2026-06-01T00:00:00+09:00", "2026-05-31",
       "2026-06-02", "2026-05-31", "2026-06-02"},
      // Weekly: prev/next follow the timetable, yesterday/tomorrow the calendar.
      {"\"@weekly\"", "UTC", "2026-03-08T00:00:00Z", "2026-03-08", "2026-03-08T00:00:00+00:00", "2026-03-01",
       "2026-03-15", "2026-03-07", "2026-03-09"},
      // A manual run off the schedule: the fires around it.
      {"\"@daily\"", "UTC", "2026-03-08T10:37:00Z", "2026-03-08", "2026-03-08T10:37:00+00:00", "2026-03-08",
       "2026-03-09", "2026-03-07", "2026-03-09"},
      // Fixed durations from start_date; nothing before start_date.
      {"6h", "UTC", "2026-01-01T06:00:00Z", "2026-01-01", "2026-01-01T06:00:00+00:00", "2026-01-01", "2026-01-01",
       "2025-12-31", "2026-01-02"},
      {"1d", "UTC", "2026-01-01T00:00:00Z", "2026-01-01", "2026-01-01T00:00:00+00:00", "None", "2026-01-02",
       "2025-12-31", "2026-01-02"},
      // No timetable: None.
      {"null", "UTC", "2026-03-08T12:00:00Z", "2026-03-08", "2026-03-08T12:00:00+00:00", "None", "None", "2026-03-07",
       "2026-03-09"},
      {"\"@once\"", "UTC", "2026-01-01T00:00:00Z", "2026-01-01", "2026-01-01T00:00:00+00:00", "None", "None",
       "2025-12-31", "2026-01-02"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.yaml_schedule) + " " + c.timezone + " " + c.logical);
    Dag dag = LoadDag(std::string("dag_id: d\nschedule: ") + c.yaml_schedule + "\nstart_date: 2026-01-01\ntimezone: " +
                      c.timezone + "\ntasks:\n  - task_id: t\n    bash_command: echo\n");
    RunInfo run;
    run.logical_date = At(c.logical);
    run.data_interval = {run.logical_date, run.logical_date};
    run.run_id = MakeRunId(RunType::kManual, run.logical_date);
    TemplateInputs in;
    in.dag = &dag;
    in.task = &dag.tasks[0];
    in.run = &run;
    StandardScope scope(in);
    EXPECT_EQ(RenderStd("{{ ds }} {{ ts }} {{ prev_ds }} {{ next_ds }} {{ yesterday_ds }} {{ tomorrow_ds }}", &scope),
              std::string(c.ds) + " " + c.ts + " " + c.prev_ds + " " + c.next_ds + " " + c.yesterday_ds + " " +
                  c.tomorrow_ds);
    EXPECT_EQ(scope.Lookup("try_number"), "1");
  }
}

TEST_F(TemplateStandardScopeTest, RealisticFields) {
  EXPECT_EQ(RenderStd("DELETE FROM sales WHERE day = '{{ ds }}' AND region = '{{ params.region }}';\n"
                      "INSERT INTO sales SELECT * FROM staging WHERE day BETWEEN '{{ data_interval_start }}' "
                      "AND '{{ data_interval_end }}';"),
            "DELETE FROM sales WHERE day = '2026-03-08' AND region = 'kr';\n"
            "INSERT INTO sales SELECT * FROM staging WHERE day BETWEEN '2026-03-08T00:00:00-05:00' "
            "AND '2026-03-09T00:00:00-04:00';");
  EXPECT_EQ(RenderStd("echo \"{{ task_id }} failed in {{ run_id }}\" >> /tmp/alerts"),
            "echo \"load failed in scheduled__2026-03-08T05:00:00+00:00\" >> /tmp/alerts");
  EXPECT_EQ(RenderStd("psql -h {{conn.warehouse.host}} -p {{conn.warehouse.port}} -U {{conn.warehouse.login}} "
                      "{{conn.warehouse.schema}}"),
            "psql -h db.internal -p 5432 -U etl dw main");
}

TEST_F(TemplateStandardScopeTest, TaskEnvironment) {
  std::map<std::string, std::string> want = {
      {"DWFS_DS", "2026-03-08"},
      {"DWFS_TS", "2026-03-08T00:00:00-05:00"},
      {"DWFS_LOGICAL_DATE", "2026-03-08T00:00:00-05:00"},
      {"DWFS_DAG_ID", "tmpl_dag"},
      {"DWFS_TASK_ID", "load"},
      {"DWFS_RUN_ID", "scheduled__2026-03-08T05:00:00+00:00"},
      {"DWFS_TRY_NUMBER", "2"},
      {"DWFS_DATA_INTERVAL_START", "2026-03-08T00:00:00-05:00"},
      {"DWFS_DATA_INTERVAL_END", "2026-03-09T00:00:00-04:00"},
  };
  EXPECT_EQ(TaskEnvironment(Inputs()), want);
  want.erase("DWFS_TASK_ID");
  EXPECT_EQ(TaskEnvironment(Inputs(nullptr)), want);
}

TEST(TemplateVariables, EnvVarNames) {
  EXPECT_EQ(VariableEnvVar("bucket"), "DWFS_VAR_BUCKET");
  EXPECT_EQ(VariableEnvVar("my-key.v2"), "DWFS_VAR_MY_KEY_V2");
  EXPECT_EQ(VariableEnvVar("Mixed_Case"), "DWFS_VAR_MIXED_CASE");
}

}  // namespace
}  // namespace dwfs
