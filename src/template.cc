#include "dwfs/template.h"

#include <chrono>
#include <cstdio>
#include <utility>

namespace dwfs {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || IsDigit(c) || c == '_' || c == '.' || c == '-';
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

bool ConsumePrefix(std::string_view* s, std::string_view prefix) {
  if (s->substr(0, prefix.size()) != prefix) return false;
  s->remove_prefix(prefix.size());
  return true;
}

void SkipSpace(std::string_view* s) {
  while (!s->empty() && IsSpace(s->front())) s->remove_prefix(1);
}

// A quoted string literal 'x' or "x" (no escapes, no quote of its kind
// inside): sets *value to its content.
bool ParseStringLiteral(std::string_view s, std::string_view* value) {
  if (s.size() < 2 || (s[0] != '\'' && s[0] != '"') || s.back() != s[0]) return false;
  std::string_view inner = s.substr(1, s.size() - 2);
  if (inner.find(s[0]) != std::string_view::npos) return false;
  *value = inner;
  return true;
}

// ti.xcom_pull('id'), ti.xcom_pull("id") or ti.xcom_pull(task_ids='id'),
// spaces allowed between the tokens: sets *task_id.
bool ParseXcomPull(std::string_view s, std::string_view* task_id) {
  if (!ConsumePrefix(&s, "ti.xcom_pull")) return false;
  SkipSpace(&s);
  if (!ConsumePrefix(&s, "(")) return false;
  SkipSpace(&s);
  if (ConsumePrefix(&s, "task_ids")) {
    SkipSpace(&s);
    if (!ConsumePrefix(&s, "=")) return false;
    SkipSpace(&s);
  }
  if (s.empty() || (s[0] != '\'' && s[0] != '"')) return false;
  size_t close = s.find(s[0], 1);
  if (close == std::string_view::npos) return false;
  std::string_view id = s.substr(1, close - 1);
  if (id.empty()) return false;
  for (char c : id) {
    if (!IsNameChar(c)) return false;
  }
  s.remove_prefix(close + 1);
  SkipSpace(&s);
  if (s != ")") return false;
  *task_id = id;
  return true;
}

bool IsName(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!IsNameChar(c)) return false;
  }
  return true;
}

// 1-based line of offset `pos` in `text`.
int LineAt(std::string_view text, size_t pos) {
  int line = 1;
  for (size_t i = 0; i < pos && i < text.size(); ++i) {
    if (text[i] == '\n') ++line;
  }
  return line;
}

// `s` for an error message: one line, at most 80 characters.
std::string Excerpt(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 80)) out.push_back(c == '\n' || c == '\r' || c == '\t' ? ' ' : c);
  if (s.size() > 80) out += "...";
  return out;
}

// Template text of a JSON value.
std::string JsonText(const Json& v) {
  switch (v.type()) {
    case Json::Type::kString: return v.str();
    default: return v.Dump();
  }
}

// Follows the dotted `path` ("a.b.0") from `v`: members of objects, indices
// of arrays. nullptr when a segment does not exist or is empty.
const Json* Walk(const Json* v, std::string_view path) {
  if (path.empty()) return nullptr;
  while (!path.empty()) {
    size_t dot = path.find('.');
    std::string_view seg = path.substr(0, dot);
    if (seg.empty()) return nullptr;
    if (v->type() == Json::Type::kObject) {
      v = v->Find(std::string(seg));
    } else if (v->type() == Json::Type::kArray) {
      if (seg.size() > 9) return nullptr;
      size_t idx = 0;
      for (char c : seg) {
        if (!IsDigit(c)) return nullptr;
        idx = idx * 10 + size_t(c - '0');
      }
      if (idx >= v->items().size()) return nullptr;
      v = &v->items()[idx];
    } else {
      return nullptr;
    }
    if (v == nullptr) return nullptr;
    if (dot == std::string_view::npos) break;
    path.remove_prefix(dot + 1);
    if (path.empty()) return nullptr;  // trailing '.'
  }
  return v;
}

std::string FormatYmd(std::chrono::year_month_day ymd) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", int(ymd.year()), unsigned(ymd.month()), unsigned(ymd.day()));
  return buf;
}

// The ds of the calendar day `delta_days` from t's day in tz.
std::string ShiftedDs(Instant t, const TimeZone& tz, int delta_days) {
  auto day = std::chrono::floor<std::chrono::days>(tz.ToLocal(t).time_since_epoch());
  return FormatYmd(std::chrono::year_month_day(std::chrono::sys_days(day + std::chrono::days(delta_days))));
}

std::string RemoveDashes(std::string s) {
  std::erase(s, '-');
  return s;
}

// The values that depend only on the run and the task try.
std::map<std::string, std::string> FixedValues(const TemplateInputs& in) {
  const Dag& dag = *in.dag;
  const RunInfo& run = *in.run;
  const TimeZone& tz = dag.timezone;
  std::map<std::string, std::string> v;
  v["ds"] = FormatDate(run.logical_date, tz);
  v["ds_nodash"] = RemoveDashes(v["ds"]);
  v["ts"] = FormatIso(run.logical_date, tz);
  v["ts_nodash"] = FormatIsoNoDash(run.logical_date, tz);
  v["logical_date"] = v["ts"];
  v["execution_date"] = v["ts"];
  v["data_interval_start"] = FormatIso(run.data_interval.start, tz);
  v["data_interval_end"] = FormatIso(run.data_interval.end, tz);
  std::optional<Instant> prev, next;
  if (dag.schedule.kind() != Schedule::Kind::kNone) {
    Timetable tt = dag.timetable();
    prev = tt.PrevFireAtOrBefore(run.logical_date - Seconds(1));
    next = tt.NextFire(run.logical_date);
  }
  v["prev_ds"] = prev ? FormatDate(*prev, tz) : "None";
  v["next_ds"] = next ? FormatDate(*next, tz) : "None";
  v["yesterday_ds"] = ShiftedDs(run.logical_date, tz, -1);
  v["tomorrow_ds"] = ShiftedDs(run.logical_date, tz, 1);
  v["dag_id"] = dag.dag_id;
  if (in.task != nullptr) v["task_id"] = in.task->task_id;
  v["run_id"] = run.run_id;
  v["try_number"] = std::to_string(in.try_number);
  return v;
}

}  // namespace

Status RenderTemplate(std::string_view text, const TemplateScope& scope, std::string_view field, std::string* out) {
  const std::string where = " in " + std::string(field);
  auto too_big = [&] {
    return Status::InvalidArgument("rendered " + std::string(field) + " exceeds " +
                                   std::to_string(kMaxRenderedBytes >> 20) + " MiB");
  };
  std::string result;
  auto append = [&](std::string_view s) {
    if (s.size() > kMaxRenderedBytes - result.size()) return false;
    result.append(s);
    return true;
  };

  size_t pos = 0;
  while (true) {
    size_t open = text.find("{{", pos);
    if (!append(text.substr(pos, open == std::string_view::npos ? std::string_view::npos : open - pos))) {
      return too_big();
    }
    if (open == std::string_view::npos) break;
    // The first "}}" closes, except inside a leading string literal
    // ({{ '}}' }}).
    size_t scan = open + 2;
    while (scan < text.size() && IsSpace(text[scan])) ++scan;
    size_t close_from = open + 2;
    if (scan < text.size() && (text[scan] == '\'' || text[scan] == '"')) {
      size_t quote = text.find(text[scan], scan + 1);
      if (quote != std::string_view::npos) close_from = quote + 1;
    }
    size_t close = text.find("}}", close_from);
    if (close == std::string_view::npos) {
      return Status::InvalidArgument("unclosed '{{'" + where + " (line " + std::to_string(LineAt(text, open)) + ")");
    }
    std::string_view expr = Trim(text.substr(open + 2, close - open - 2));
    pos = close + 2;

    std::string_view literal, task_id;
    if (expr.empty()) {
      return Status::InvalidArgument("empty '{{ }}'" + where + " (line " + std::to_string(LineAt(text, open)) + ")");
    }
    if (ParseStringLiteral(expr, &literal)) {
      if (!append(literal)) return too_big();
    } else if (ParseXcomPull(expr, &task_id)) {
      std::optional<std::string> value = scope.XcomPull(task_id);
      if (value && !append(*value)) return too_big();
    } else if (IsName(expr)) {
      std::optional<std::string> value;
      Status st = scope.Resolve(expr, &value);
      if (!st.ok()) return st.WithPrefix("cannot render '" + Excerpt(expr) + "'" + where);
      if (!value) return Status::InvalidArgument("unknown template variable '" + Excerpt(expr) + "'" + where);
      if (!append(*value)) return too_big();
    } else {
      return Status::InvalidArgument("unsupported template expression '" + Excerpt(expr) + "'" + where + " (line " +
                                     std::to_string(LineAt(text, open)) + ")");
    }
  }
  *out = std::move(result);
  return Status::OK();
}

std::string VariableEnvVar(std::string_view key) {
  std::string name = "DWFS_VAR_";
  for (char c : key) {
    if (c >= 'a' && c <= 'z') {
      name.push_back(char(c - 'a' + 'A'));
    } else if ((c >= 'A' && c <= 'Z') || IsDigit(c) || c == '_') {
      name.push_back(c);
    } else {
      name.push_back('_');
    }
  }
  return name;
}

StandardScope::StandardScope(TemplateInputs in) : in_(std::move(in)), fixed_(FixedValues(in_)) {
  if (in_.run->conf.type() == Json::Type::kObject) conf_ = in_.run->conf;
  if (in_.dag->params.type() == Json::Type::kObject) params_ = in_.dag->params;
  for (const auto& [k, v] : conf_.members()) params_.Set(k, v);  // conf overrides params
}

std::optional<std::string> StandardScope::Lookup(std::string_view name) const {
  std::optional<std::string> value;
  if (!Resolve(name, &value).ok()) return std::nullopt;
  return value;
}

std::optional<std::string> StandardScope::XcomPull(std::string_view task_id) const {
  if (!in_.xcom) return std::nullopt;
  return in_.xcom(task_id);
}

Status StandardScope::Resolve(std::string_view name, std::optional<std::string>* out) const {
  *out = std::nullopt;
  if (auto it = fixed_.find(std::string(name)); it != fixed_.end()) {
    *out = it->second;
    return Status::OK();
  }
  std::string_view rest = name;
  if (rest == "params") {
    *out = params_.Dump();
    return Status::OK();
  }
  if (rest == "dag_run.conf") {
    *out = conf_.Dump();
    return Status::OK();
  }
  if (ConsumePrefix(&rest, "params.") || ConsumePrefix(&rest, "dag_run.conf.")) {
    const Json* v = Walk(name.starts_with("params.") ? &params_ : &conf_, rest);
    if (v != nullptr) *out = JsonText(*v);
    return Status::OK();
  }
  if (ConsumePrefix(&rest, "var.value.")) {
    if (rest.empty()) return Status::OK();
    std::string key(rest);
    if (in_.variables != nullptr) {
      if (auto it = in_.variables->find(key); it != in_.variables->end()) {
        *out = it->second;
        return Status::OK();
      }
    }
    if (in_.env != nullptr) {
      if (auto it = in_.env->find(VariableEnvVar(key)); it != in_.env->end()) *out = it->second;
    }
    return Status::OK();
  }
  if (ConsumePrefix(&rest, "conn.")) return ResolveConn(rest, out);
  return Status::OK();
}

Status StandardScope::ResolveConn(std::string_view rest, std::optional<std::string>* out) const {
  // <id>.<field>; the id may itself contain dots.
  size_t dot = rest.rfind('.');
  if (dot == std::string_view::npos || dot == 0) return Status::OK();
  std::string id(rest.substr(0, dot));
  std::string_view field = rest.substr(dot + 1);
  static const char* const kFields[] = {"host", "port", "login", "password", "schema", "uri", "conn_type"};
  bool known = false;
  for (const char* f : kFields) known = known || field == f;
  if (!known) return Status::OK();

  auto it = conns_.find(id);
  if (it == conns_.end()) {
    Connection c;
    if (in_.connections == nullptr) {
      return Status::NotFound("connection '" + id + "' not found (no connection source)");
    }
    DWFS_RETURN_IF_ERROR(in_.connections->Get(id, &c));
    it = conns_.emplace(id, std::move(c)).first;
  }
  const Connection& c = it->second;
  if (field == "host") {
    *out = c.host;
  } else if (field == "port") {
    *out = c.port ? std::to_string(*c.port) : "";
  } else if (field == "login") {
    *out = c.login;
  } else if (field == "schema") {
    *out = c.schema;
  } else if (field == "conn_type") {
    *out = c.conn_type;
  } else {  // password, uri
    for (const std::string& s : ConnectionSecrets(c)) RecordSecret(s);
    *out = field == "password" ? c.password : c.uri;
  }
  return Status::OK();
}

void StandardScope::RecordSecret(const std::string& s) const {
  for (const std::string& have : secrets_) {
    if (have == s) return;
  }
  secrets_.push_back(s);
}

std::map<std::string, std::string> TaskEnvironment(const TemplateInputs& in) {
  std::map<std::string, std::string> v = FixedValues(in);
  std::map<std::string, std::string> env;
  env["DWFS_DS"] = v["ds"];
  env["DWFS_TS"] = v["ts"];
  env["DWFS_LOGICAL_DATE"] = v["ts"];
  env["DWFS_DAG_ID"] = v["dag_id"];
  if (in.task != nullptr) env["DWFS_TASK_ID"] = v["task_id"];
  env["DWFS_RUN_ID"] = v["run_id"];
  env["DWFS_TRY_NUMBER"] = v["try_number"];
  env["DWFS_DATA_INTERVAL_START"] = v["data_interval_start"];
  env["DWFS_DATA_INTERVAL_END"] = v["data_interval_end"];
  return env;
}

}  // namespace dwfs
