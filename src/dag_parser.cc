// ParseDagText: YAML text -> validated Dag. Internally a LoadError exception
// carries the first problem (with its line) to the top, where it becomes an
// ImportError; nothing escapes this file.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <queue>
#include <unordered_map>
#include <unordered_set>

#include "dwfs/dag_loader.h"
#include "dwfs/duration.h"
#include "yaml_tree.h"

namespace dwfs {

namespace {

struct LoadError {
  int line;  // 1-based, 0 = unknown
  std::string message;
};

int LineOf(const YamlNode& n) { return n.Line(); }

[[noreturn]] void Fail(const YamlNode& at, const std::string& msg) { throw LoadError{LineOf(at), msg}; }

// Runs `fn`, which checks the value of the mapping entry `key: value`. An
// empty value ("key:" then a newline) has no text of its own: yaml-cpp marks
// it at the next token, often on a later line. Errors about such a value
// are reported on its key's line.
template <typename Fn>
void AtKeyIfNull(const YamlNode& key, const YamlNode& value, Fn&& fn) {
  try {
    fn();
  } catch (LoadError& e) {
    if (value.IsNull() && e.line == LineOf(value)) e.line = LineOf(key);
    throw;
  }
}

// Appends `ch`, escaping control characters so messages stay on one line.
void AppendEscaped(std::string* out, char ch) {
  static const char kHex[] = "0123456789abcdef";
  auto u = static_cast<unsigned char>(ch);
  if (ch == '\n') {
    *out += "\\n";
  } else if (ch == '\r') {
    *out += "\\r";
  } else if (ch == '\t') {
    *out += "\\t";
  } else if (u < 0x20 || u == 0x7f) {
    *out += "\\x";
    *out += kHex[u >> 4];
    *out += kHex[u & 15];
  } else {
    *out += ch;
  }
}

// 's', clipped to 60 bytes, control characters escaped.
std::string Quote(std::string_view s) {
  std::string q = "'";
  size_t n = std::min<size_t>(s.size(), 60);
  for (size_t i = 0; i < n; ++i) AppendEscaped(&q, s[i]);
  if (n < s.size()) q += "...";
  return q + "'";
}

// The message as one line of bounded length (Status messages quote raw text).
std::string OneLine(const std::string& msg) {
  std::string out;
  for (char ch : msg) {
    if (out.size() >= 2000) {
      out += "...";
      break;
    }
    AppendEscaped(&out, ch);
  }
  return out;
}

bool ValidId(const std::string& id) {
  if (id.empty() || id.size() > 250) return false;
  for (char c : id) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-')) return false;
  }
  return true;
}

// Context prefix for messages: "dag 'x': task 'y': ".
struct Ctx {
  std::string prefix;
  [[noreturn]] void Fail(const YamlNode& at, const std::string& msg) const { dwfs::Fail(at, prefix + msg); }
};

std::string Scalar(const Ctx& c, const YamlNode& n, const std::string& key) {
  if (n.IsNull()) c.Fail(n, key + ": expected a value, got null");
  if (!n.IsScalar()) c.Fail(n, key + ": expected a single value, not a list or mapping");
  return std::string(n.Scalar());
}

std::string String(const Ctx& c, const YamlNode& n, const std::string& key) { return Scalar(c, n, key); }

int Int(const Ctx& c, const YamlNode& n, const std::string& key, int min, int max) {
  std::string s = Scalar(c, n, key);
  size_t p = (!s.empty() && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
  if (p == s.size() || s.find_first_not_of("0123456789", p) != std::string::npos) {
    c.Fail(n, key + ": expected an integer, got " + Quote(s));
  }
  int64_t v = 0;
  for (size_t i = p; i < s.size(); ++i) v = std::min<int64_t>(v * 10 + (s[i] - '0'), int64_t(1) << 40);  // saturate
  if (s[0] == '-') v = -v;
  if (v < min || v > max) {
    c.Fail(n, key + ": " + (s.size() > 40 ? s.substr(0, 40) + "..." : s) + " is out of range " +
                  std::to_string(min) + ".." + std::to_string(max));
  }
  return int(v);
}

bool Bool(const Ctx& c, const YamlNode& n, const std::string& key) {
  std::string s = Scalar(c, n, key);
  std::string l = s;
  for (char& ch : l) ch = char(std::tolower(static_cast<unsigned char>(ch)));
  if (l == "true" || l == "yes" || l == "on") return true;
  if (l == "false" || l == "no" || l == "off") return false;
  c.Fail(n, key + ": expected true or false, got " + Quote(s));
}

Seconds Duration(const Ctx& c, const YamlNode& n, const std::string& key) {
  std::string s = Scalar(c, n, key);
  Seconds d;
  Status st = ParseDuration(s, &d);
  if (!st.ok()) c.Fail(n, key + ": " + st.message());
  return d;
}

Instant Date(const Ctx& c, const YamlNode& n, const std::string& key, const TimeZone& tz) {
  std::string s = Scalar(c, n, key);
  Instant t;
  Status st = ParseDateTime(s, tz, &t);
  if (!st.ok()) c.Fail(n, key + ": " + st.message());
  return t;
}

std::vector<std::string> StringList(const Ctx& c, const YamlNode& n, const std::string& key) {
  std::vector<std::string> out;
  if (n.IsNull()) return out;
  if (n.IsScalar()) return {std::string(n.Scalar())};  // a single item
  if (!n.IsSequence()) c.Fail(n, key + ": expected a list");
  out.reserve(n.size());
  for (YamlNode item : n.Items()) out.push_back(Scalar(c, item, key + " item"));
  return out;
}

// YAML -> Json with bounded size (aliases cannot blow up memory).
Json ToJson(const Ctx& c, const YamlNode& n, const std::string& key, size_t* budget, int depth) {
  if (*budget == 0 || depth > 32) c.Fail(n, key + ": value too large or too deeply nested");
  --*budget;
  if (n.IsNull()) return Json();
  if (n.IsScalar()) {
    std::string_view s = n.Scalar();
    if (n.IsQuoted()) return Json(std::string(s));  // quoted: always a string
    if (s == "true" || s == "True") return Json(true);
    if (s == "false" || s == "False") return Json(false);
    // A plain decimal integer (optionally signed) becomes a number; anything
    // else ("2026-01-01", "1-2", "1.5") stays a string.
    size_t digits_from = (!s.empty() && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
    if (s.size() > digits_from && s.size() < 19 && s.find_first_not_of("0123456789", digits_from) == s.npos) {
      return Json(int64_t(std::stoll(std::string(s))));
    }
    if (*budget < s.size() / 64) c.Fail(n, key + ": value too large");
    *budget -= std::min(*budget, s.size() / 64);
    return Json(std::string(s));
  }
  if (n.IsSequence()) {
    Json a = Json::Array();
    for (YamlNode item : n.Items()) a.Push(ToJson(c, item, key, budget, depth + 1));
    return a;
  }
  Json o = Json::Object();
  for (const YamlPair& kv : n.Pairs()) {
    std::string name = Scalar(c, kv.first, key + " key");
    if (o.Find(name)) c.Fail(kv.first, "duplicate key " + Quote(name) + " in " + key);
    o.Set(name, ToJson(c, kv.second, key + "." + name, budget, depth + 1));
  }
  return o;
}

// Levenshtein distance, for "did you mean" hints (short keys only).
size_t EditDistance(std::string_view a, std::string_view b) {
  if (a.size() > 64 || b.size() > 64) return 99;
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

using FieldHandler = std::function<void(const YamlNode& value, const std::string& key)>;
using FieldHandlers = std::vector<std::pair<std::string_view, FieldHandler>>;  // names unique

// Walks a mapping: rejects duplicate and unknown keys (listing the known
// ones), calls the handler of each known key.
void ForEachKey(const Ctx& c, const YamlNode& map, const std::string& what,
                const FieldHandlers& handlers) {
  if (!map.IsMap()) c.Fail(map, what + " must be a mapping of key: value");
  // Every key seen is a distinct known key (a duplicate or unknown one
  // fails), so `seen` never outgrows `handlers`: a linear scan is fine.
  std::vector<std::string_view> seen;
  seen.reserve(std::min(map.size(), handlers.size()));
  for (const YamlPair& kv : map.Pairs()) {
    if (!kv.first.IsScalar()) c.Fail(kv.first, "keys of " + what + " must be plain names");
    std::string_view key = kv.first.Scalar();
    if (std::find(seen.begin(), seen.end(), key) != seen.end()) {
      c.Fail(kv.first, "duplicate key " + Quote(key) + " in " + what);
    }
    seen.push_back(key);
    const FieldHandler* h = nullptr;
    for (const auto& [name, fn] : handlers) {
      if (key == name) {
        h = &fn;
        break;
      }
    }
    if (!h) {
      std::string known, close;
      size_t best = 3;  // suggest only names within edit distance 2; the closest wins
      for (const auto& [name, fn] : handlers) {
        known += (known.empty() ? "" : ", ") + std::string(name);
        size_t d = EditDistance(key, name);
        if (d < best) {
          best = d;
          close = name;
        }
      }
      c.Fail(kv.first, "unknown key " + Quote(key) +
                           (close.empty() ? " (known: " + known + ")" : " (did you mean " + Quote(close) + "?)"));
    }
    AtKeyIfNull(kv.first, kv.second, [&] { (*h)(kv.second, std::string(key)); });
  }
}

// True for text that names an http or https URL with a host (a URL that is
// a template is checked when it is sent instead). The URL is a secret: error
// messages never quote it.
bool PlausibleWebhookUrl(const std::string& url) {
  if (url.find("{{") != std::string::npos) return true;
  for (const char* scheme : {"http://", "https://"}) {
    size_t n = std::char_traits<char>::length(scheme);
    if (url.size() > n && url.compare(0, n, scheme) == 0 && url[n] != '/' && url[n] != '?' && url[n] != '#') {
      return url.find_first_of(" \t\r\n") == std::string::npos;
    }
  }
  return false;
}

WebhookSpec ParseWebhook(const Ctx& c, const YamlNode& n, const std::string& key) {
  if (!n.IsMap()) c.Fail(n, key + ": expected a mapping with url (and optional headers, body, method, timeout, retries)");
  WebhookSpec w;
  bool has_url = false;
  Ctx wc{c.prefix + key + ": "};
  ForEachKey(wc, n, key, {
      {"url",
       [&](const YamlNode& v, const std::string& k) {
         w.url = String(c, v, key + "." + k);
         if (!PlausibleWebhookUrl(w.url)) c.Fail(v, key + ".url: expected an http:// or https:// URL with a host");
         has_url = true;
       }},
      {"headers",
       [&](const YamlNode& v, const std::string& k) {
         if (v.IsNull()) return;
         if (!v.IsMap()) c.Fail(v, key + "." + k + ": expected a mapping of Header-Name: value");
         for (const YamlPair& kv : v.Pairs()) {
           std::string name = Scalar(c, kv.first, key + ".headers name");
           bool token = !name.empty() && name.size() <= 200;
           for (char ch : name) {
             if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_')) token = false;
           }
           if (!token) c.Fail(kv.first, key + ".headers: invalid header name " + Quote(name));
           std::string value = kv.second.IsNull() ? "" : Scalar(c, kv.second, key + ".headers." + name);
           if (value.find_first_of("\r\n") != std::string::npos) {
             c.Fail(kv.second, key + ".headers." + name + ": a header value cannot contain a line break");
           }
           w.headers[name] = value;
         }
       }},
      {"body", [&](const YamlNode& v, const std::string& k) { w.body = String(c, v, key + "." + k); }},
      {"method",
       [&](const YamlNode& v, const std::string& k) {
         std::string m = String(c, v, key + "." + k);
         std::transform(m.begin(), m.end(), m.begin(), [](unsigned char ch) { return char(std::toupper(ch)); });
         if (m != "POST" && m != "PUT" && m != "PATCH" && m != "GET" && m != "DELETE") {
           c.Fail(v, key + ".method: unsupported method " + Quote(m) + " (use POST, PUT, PATCH, GET or DELETE)");
         }
         w.method = m;
       }},
      {"timeout",
       [&](const YamlNode& v, const std::string& k) {
         w.timeout = Duration(c, v, key + "." + k);
         if (w.timeout.count() == 0) c.Fail(v, key + ".timeout: must be longer than 0s");
       }},
      {"retries", [&](const YamlNode& v, const std::string& k) { w.retries = Int(c, v, key + "." + k, 0, 100); }},
  });
  if (!has_url) c.Fail(n, key + ": missing required key 'url'");
  return w;
}

Callback ParseCallback(const Ctx& c, const YamlNode& n, const std::string& key) {
  if (n.IsScalar()) {
    if (n.Scalar().empty()) c.Fail(n, key + ": bash_command is required");
    return Callback{std::string(n.Scalar()), std::nullopt};
  }
  Callback cb;
  Ctx kc{c.prefix + key + ": "};
  ForEachKey(kc, n, key,
             {{"bash_command", [&](const YamlNode& v, const std::string& k) { cb.bash_command = String(c, v, key + "." + k); }},
              {"webhook", [&](const YamlNode& v, const std::string& k) { cb.webhook = ParseWebhook(c, v, key + "." + k); }}});
  if (!cb.bash_command.empty() && cb.webhook) c.Fail(n, key + ": give either bash_command or webhook, not both");
  if (cb.bash_command.empty() && !cb.webhook) c.Fail(n, key + ": bash_command is required (or webhook)");
  return cb;
}

std::map<std::string, std::string> ParseEnv(const Ctx& c, const YamlNode& n, const std::string& key) {
  std::map<std::string, std::string> env;
  if (n.IsNull()) return env;
  if (!n.IsMap()) c.Fail(n, key + ": expected a mapping of NAME: value");
  // [A-Za-z_][A-Za-z0-9_]* (no std::regex: its matcher recurses per character).
  auto valid_name = [](const std::string& s) {
    if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0]))) return false;
    for (char ch : s) {
      if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '_') || static_cast<unsigned char>(ch) >= 0x80) {
        return false;
      }
    }
    return true;
  };
  for (const YamlPair& kv : n.Pairs()) {
    std::string name = Scalar(c, kv.first, key + " name");
    if (!valid_name(name)) c.Fail(kv.first, key + ": invalid environment variable name " + Quote(name));
    if (env.count(name)) c.Fail(kv.first, key + ": duplicate variable " + Quote(name));
    env[name] = kv.second.IsNull() ? "" : Scalar(c, kv.second, key + "." + name);
  }
  return env;
}

// Task fields settable both in default_args and on a task.
struct TaskFieldSetter {
  const Ctx& c;
  Task* t;
  bool* exp_backoff_set;

  // A task callback field; null clears a default.
  FieldHandler CallbackField(std::optional<Callback> Task::*field) {
    return [this, field](const YamlNode& v, const std::string& k) {
      if (v.IsNull()) (t->*field).reset(); else t->*field = ParseCallback(c, v, k);
    };
  }

  // The handlers work on *t: re-point t to reuse them for another task.
  FieldHandlers Handlers() {
    return {
        {"operator", [this](const YamlNode& v, const std::string& k) { t->operator_name = String(c, v, k); }},
        {"bash_command", [this](const YamlNode& v, const std::string& k) { t->bash_command = String(c, v, k); }},
        {"sql", [this](const YamlNode& v, const std::string& k) { t->sql = String(c, v, k); }},
        {"conn_id", [this](const YamlNode& v, const std::string& k) { t->conn_id = String(c, v, k); }},
        {"trigger_rule",
         [this](const YamlNode& v, const std::string& k) {
           std::string s = String(c, v, k);
           if (!ParseTriggerRule(s, &t->trigger_rule)) {
             std::string all;
             for (TriggerRule r : AllTriggerRules()) all += (all.empty() ? "" : ", ") + std::string(TriggerRuleName(r));
             c.Fail(v, k + ": unknown trigger rule " + Quote(s) + " (use " + all + ")");
           }
         }},
        {"retries", [this](const YamlNode& v, const std::string& k) { t->retries = Int(c, v, k, 0, 1000); }},
        {"retry_delay", [this](const YamlNode& v, const std::string& k) { t->retry_delay = Duration(c, v, k); }},
        {"retry_exponential_backoff",
         [this](const YamlNode& v, const std::string& k) { t->retry_exponential_backoff = Bool(c, v, k); }},
        {"max_retry_delay",
         [this](const YamlNode& v, const std::string& k) {
           if (v.IsNull()) t->max_retry_delay.reset(); else t->max_retry_delay = Duration(c, v, k);
         }},
        {"execution_timeout",
         [this](const YamlNode& v, const std::string& k) {
           if (v.IsNull()) {
             t->execution_timeout.reset();
             return;
           }
           Seconds d = Duration(c, v, k);
           if (d.count() == 0) c.Fail(v, k + ": must be longer than 0s (use null for none)");
           t->execution_timeout = d;
         }},
        {"pool",
         [this](const YamlNode& v, const std::string& k) {
           t->pool = String(c, v, k);
           if (!ValidId(t->pool)) c.Fail(v, k + ": invalid pool name " + Quote(t->pool));
         }},
        {"pool_slots", [this](const YamlNode& v, const std::string& k) { t->pool_slots = Int(c, v, k, 1, 1000000); }},
        {"priority_weight",
         [this](const YamlNode& v, const std::string& k) { t->priority_weight = Int(c, v, k, -1000000, 1000000); }},
        {"depends_on_past", [this](const YamlNode& v, const std::string& k) { t->depends_on_past = Bool(c, v, k); }},
        {"env",
         [this](const YamlNode& v, const std::string& k) {
           for (auto& [name, value] : ParseEnv(c, v, k)) t->env[name] = value;  // merged over defaults
         }},
        {"cwd", [this](const YamlNode& v, const std::string& k) { t->cwd = String(c, v, k); }},
        {"owner", [this](const YamlNode& v, const std::string& k) { t->owner = String(c, v, k); }},
        {"do_xcom_push", [this](const YamlNode& v, const std::string& k) { t->do_xcom_push = Bool(c, v, k); }},
        {"on_failure_callback", CallbackField(&Task::on_failure_callback)},
        {"on_retry_callback", CallbackField(&Task::on_retry_callback)},
        {"on_success_callback", CallbackField(&Task::on_success_callback)},
        {"doc", [this](const YamlNode& v, const std::string& k) { t->doc = String(c, v, k); }},
    };
  }
};

// Resolves upstream ids, fills downstream lists, computes the topological
// order; fails on a missing upstream or a cycle (naming the tasks in it).
void ResolveGraph(const Ctx& c, Dag* dag, const std::vector<YamlNode>& task_nodes) {
  std::unordered_map<std::string, int> index;
  for (size_t i = 0; i < dag->tasks.size(); ++i) index[dag->tasks[i].task_id] = int(i);
  for (size_t i = 0; i < dag->tasks.size(); ++i) {
    Task& t = dag->tasks[i];
    for (size_t u = 0; u < t.upstream.size(); ++u) {
      auto it = index.find(t.upstream[u]);
      if (it == index.end()) {
        // t.upstream is deduplicated: find the offending list item by value.
        const YamlNode& tn = task_nodes[i];
        YamlNode up = tn["upstream"].IsDefined() ? tn["upstream"] : tn["depends_on"];
        std::string msg = "task " + Quote(t.task_id) + ": upstream task " + Quote(t.upstream[u]) + " does not exist";
        if (up.IsSequence()) {
          for (YamlNode item : up.Items()) {
            if (item.IsScalar() && item.Scalar() == t.upstream[u]) c.Fail(item, msg);
          }
        }
        c.Fail(up, msg);
      }
      t.upstream_idx.push_back(it->second);
      dag->tasks[size_t(it->second)].downstream_idx.push_back(int(i));
    }
  }
  // Kahn's algorithm, smallest file index first.
  std::vector<int> indeg(dag->tasks.size());
  for (size_t i = 0; i < dag->tasks.size(); ++i) indeg[i] = int(dag->tasks[i].upstream_idx.size());
  std::priority_queue<int, std::vector<int>, std::greater<int>> ready;
  for (size_t i = 0; i < indeg.size(); ++i) {
    if (indeg[i] == 0) ready.push(int(i));
  }
  dag->topo_order.clear();
  while (!ready.empty()) {
    int i = ready.top();
    ready.pop();
    dag->topo_order.push_back(i);
    for (int d : dag->tasks[size_t(i)].downstream_idx) {
      if (--indeg[size_t(d)] == 0) ready.push(d);
    }
  }
  if (dag->topo_order.size() == dag->tasks.size()) return;
  // A cycle: walk upstream edges among unfinished tasks until one repeats.
  int start = 0;
  for (size_t i = 0; i < indeg.size(); ++i) {
    if (indeg[i] > 0) {
      start = int(i);
      break;
    }
  }
  std::vector<int> path;
  std::vector<int> pos(dag->tasks.size(), -1);
  int cur = start;
  while (pos[size_t(cur)] < 0) {
    pos[size_t(cur)] = int(path.size());
    path.push_back(cur);
    for (int u : dag->tasks[size_t(cur)].upstream_idx) {
      if (indeg[size_t(u)] > 0) {
        cur = u;
        break;
      }
    }
  }
  // path[pos[cur]..] is the cycle, in upstream direction; print downstream-wise.
  std::vector<int> cycle(path.begin() + pos[size_t(cur)], path.end());
  std::reverse(cycle.begin(), cycle.end());
  std::rotate(cycle.begin(), std::min_element(cycle.begin(), cycle.end()), cycle.end());  // first in file order
  std::string text;
  for (int i : cycle) text += dag->tasks[size_t(i)].task_id + " -> ";
  text += dag->tasks[size_t(cycle.front())].task_id;
  c.Fail(task_nodes[size_t(cycle.front())], "dependency cycle: " + text);
}

Dag ParseDag(std::string_view text, const std::string& filepath, const DagDefaults& defaults) {
  if (text.size() > kMaxDagFileBytes) {
    throw LoadError{0, "file larger than " + std::to_string(kMaxDagFileBytes >> 20) + " MiB"};
  }
  YamlTree tree;
  {
    LoadError e{0, {}};
    if (!tree.Parse(text, &e.line, &e.message)) throw e;
  }
  const YamlNode root = tree.root();
  Ctx c;
  if (!root.IsDefined() || root.IsNull()) throw LoadError{0, "empty file: a DAG file needs dag_id and tasks"};
  if (!root.IsMap()) c.Fail(root, "a DAG file must be a mapping with dag_id and tasks");

  Dag dag;
  dag.fileloc = filepath;
  dag.source_hash = SourceHash(text);
  dag.catchup = defaults.catchup;
  dag.max_active_runs = defaults.max_active_runs;
  dag.max_active_tasks = defaults.max_active_tasks;
  dag.is_paused_upon_creation = defaults.is_paused_upon_creation;

  // dag_id and timezone first: later messages name the DAG, dates need the zone.
  YamlNode id = root["dag_id"];
  if (!id.IsDefined()) c.Fail(root, "missing required key 'dag_id'");
  for (const YamlPair& kv : root.Pairs()) {
    if (kv.first.IsScalar() && kv.first.Scalar() == "dag_id") {
      AtKeyIfNull(kv.first, kv.second, [&] { dag.dag_id = Scalar(c, kv.second, "dag_id"); });
      break;
    }
  }
  if (!ValidId(dag.dag_id)) {
    c.Fail(id, "invalid dag_id " + Quote(dag.dag_id) + ": use 1-250 characters of A-Z a-z 0-9 _ . -");
  }
  c.prefix = "dag " + Quote(dag.dag_id) + ": ";
  std::string tzname = defaults.default_timezone;
  YamlNode tzn = root["timezone"];
  if (tzn.IsDefined() && !tzn.IsNull()) tzname = Scalar(c, tzn, "timezone");
  Status st = TimeZone::Find(tzname, &dag.timezone);
  if (!st.ok()) c.Fail(tzn.IsDefined() ? tzn : root, "timezone: " + st.message());

  Task defaults_task;
  defaults_task.owner = defaults.owner;
  defaults_task.retries = defaults.retries;
  defaults_task.retry_delay = defaults.retry_delay;
  YamlNode schedule_node, tasks_node, default_start, default_end;  // undefined until their key is met
  bool exp_unused = false;
  bool has_schedule = false;

  auto schedule_handler = [&](const YamlNode& v, const std::string& k) {
    if (has_schedule) c.Fail(v, "give either schedule or schedule_interval, not both");
    has_schedule = true;
    schedule_node = v;
    if (v.IsNull()) return;
    Status s = Schedule::Parse(Scalar(c, v, k), &dag.schedule);
    if (!s.ok()) c.Fail(v, k + ": " + s.message());
  };
  auto dag_callback = [&](std::optional<Callback> Dag::*field) -> FieldHandler {
    return [&, field](const YamlNode& v, const std::string& k) {
      if (!v.IsNull()) dag.*field = ParseCallback(c, v, k);
    };
  };
  ForEachKey(c, root, "the DAG", {
      {"dag_id", [](const YamlNode&, const std::string&) {}},
      {"timezone", [](const YamlNode&, const std::string&) {}},
      {"description", [&](const YamlNode& v, const std::string& k) { dag.description = v.IsNull() ? "" : String(c, v, k); }},
      {"doc", [&](const YamlNode& v, const std::string& k) { dag.doc = String(c, v, k); }},
      {"schedule", schedule_handler},
      {"schedule_interval", schedule_handler},
      {"start_date", [&](const YamlNode& v, const std::string& k) { if (!v.IsNull()) dag.start_date = Date(c, v, k, dag.timezone); }},
      {"end_date", [&](const YamlNode& v, const std::string& k) { if (!v.IsNull()) dag.end_date = Date(c, v, k, dag.timezone); }},
      {"catchup", [&](const YamlNode& v, const std::string& k) { dag.catchup = Bool(c, v, k); }},
      {"max_active_runs", [&](const YamlNode& v, const std::string& k) { dag.max_active_runs = Int(c, v, k, 1, 100000); }},
      {"max_active_tasks", [&](const YamlNode& v, const std::string& k) { dag.max_active_tasks = Int(c, v, k, 1, 100000); }},
      {"is_paused_upon_creation", [&](const YamlNode& v, const std::string& k) { dag.is_paused_upon_creation = Bool(c, v, k); }},
      {"tags", [&](const YamlNode& v, const std::string& k) { dag.tags = StringList(c, v, k); }},
      {"params",
       [&](const YamlNode& v, const std::string& k) {
         if (v.IsNull()) return;
         if (!v.IsMap()) c.Fail(v, "params: expected a mapping of name: value");
         size_t budget = 100000;
         dag.params = ToJson(c, v, k, &budget, 0);
       }},
      {"default_args",
       [&](const YamlNode& v, const std::string& k) {
         if (v.IsNull()) return;
         Ctx dc{c.prefix + "default_args: "};
         TaskFieldSetter setter{dc, &defaults_task, &exp_unused};
         auto handlers = setter.Handlers();
         handlers.push_back({"start_date", [&](const YamlNode& d, const std::string&) { default_start = d; }});
         handlers.push_back({"end_date", [&](const YamlNode& d, const std::string&) { default_end = d; }});
         ForEachKey(dc, v, k, handlers);
       }},
      {"on_failure_callback", dag_callback(&Dag::on_failure_callback)},
      {"on_retry_callback", dag_callback(&Dag::on_retry_callback)},
      {"on_success_callback", dag_callback(&Dag::on_success_callback)},
      {"on_run_failure_callback", dag_callback(&Dag::on_run_failure_callback)},
      {"on_run_success_callback", dag_callback(&Dag::on_run_success_callback)},
      {"tasks",
       [&](const YamlNode& v, const std::string&) {
         if (!v.IsSequence() || v.size() == 0) c.Fail(v, "tasks: expected a non-empty list of tasks");
         tasks_node = v;
       }},
  });
  // default_args dates are always checked; they apply when the DAG sets none.
  if (default_start.IsDefined() && !default_start.IsNull()) {
    Instant t = Date(c, default_start, "default_args.start_date", dag.timezone);
    if (!dag.start_date) dag.start_date = t;
  }
  if (default_end.IsDefined() && !default_end.IsNull()) {
    Instant t = Date(c, default_end, "default_args.end_date", dag.timezone);
    if (!dag.end_date) dag.end_date = t;
  }
  if (dag.schedule.kind() != Schedule::Kind::kNone && !dag.start_date) {
    c.Fail(schedule_node.IsDefined() ? schedule_node : root,
           "missing required key 'start_date' (required unless schedule is null)");
  }
  if (dag.start_date && dag.end_date && *dag.end_date < *dag.start_date) {
    c.Fail(root["end_date"].IsDefined() ? root["end_date"] : root, "end_date is before start_date");
  }
  if (dag.schedule.kind() == Schedule::Kind::kCron && dag.start_date &&
      !dag.timetable().NextFire(*dag.start_date - Seconds(1))) {
    c.Fail(schedule_node, "schedule " + Quote(dag.schedule.text()) + " never fires after start_date");
  }

  if (!tasks_node.IsDefined()) c.Fail(root, "missing required key 'tasks'");
  std::vector<YamlNode> task_nodes;
  // Capped: a huge list of bad items fails at the first one.
  task_nodes.reserve(std::min<size_t>(tasks_node.size(), 1024));
  dag.tasks.reserve(std::min<size_t>(tasks_node.size(), 1024));
  std::unordered_map<std::string, int> task_lines;
  // One handler table for all tasks, working on the task being read (`cur`).
  Ctx tc;
  TaskFieldSetter setter{tc, nullptr, &exp_unused};
  FieldHandlers handlers = setter.Handlers();
  bool has_upstream = false;
  auto upstream_handler = [&](const YamlNode& v, const std::string& k) {
    if (has_upstream) tc.Fail(v, "give either upstream or depends_on, not both");
    has_upstream = true;
    std::vector<std::string>& ups = setter.t->upstream;
    ups.clear();
    std::vector<std::string> list = StringList(tc, v, k);
    if (list.size() <= 16) {  // deduplicated, first occurrences kept
      for (std::string& u : list) {
        if (std::find(ups.begin(), ups.end(), u) == ups.end()) ups.push_back(std::move(u));
      }
    } else {
      std::unordered_set<std::string> seen;  // a set: long lists must not be quadratic
      for (std::string& u : list) {
        if (seen.insert(u).second) ups.push_back(std::move(u));
      }
    }
  };
  handlers.push_back({"task_id", [](const YamlNode&, const std::string&) {}});
  handlers.push_back({"upstream", upstream_handler});
  handlers.push_back({"depends_on", upstream_handler});
  for (YamlNode tn : tasks_node.Items()) {
    Task t = defaults_task;
    t.line = tn.Line();
    if (!tn.IsMap()) c.Fail(tn, "each task must be a mapping with task_id");
    YamlNode tid = tn["task_id"];
    if (!tid.IsDefined()) c.Fail(tn, "a task is missing required key 'task_id'");
    t.task_id = Scalar(c, tid, "task_id");
    if (!ValidId(t.task_id)) {
      c.Fail(tid, "invalid task_id " + Quote(t.task_id) + ": use 1-250 characters of A-Z a-z 0-9 _ . -");
    }
    if (auto it = task_lines.find(t.task_id); it != task_lines.end()) {
      c.Fail(tid, "duplicate task_id " + Quote(t.task_id) + " (first defined on line " + std::to_string(it->second) + ")");
    }
    task_lines[t.task_id] = t.line;
    tc.prefix = c.prefix + "task " + Quote(t.task_id) + ": ";
    setter.t = &t;
    has_upstream = false;
    ForEachKey(tc, tn, "the task", handlers);
    if (t.operator_name == "bash") {
      if (t.bash_command.empty()) tc.Fail(tn, "bash task needs a non-empty bash_command");
      if (tn["sql"].IsDefined()) tc.Fail(tn["sql"], "sql is a field of sql tasks; this task's operator is bash");
    } else if (t.operator_name == "sql") {
      if (t.sql.empty()) tc.Fail(tn, "sql task needs a non-empty sql");
      if (t.conn_id.empty()) tc.Fail(tn, "sql task needs conn_id");
      if (tn["bash_command"].IsDefined()) {
        tc.Fail(tn["bash_command"], "bash_command is a field of bash tasks; this task's operator is sql");
      }
    } else {
      tc.Fail(tn["operator"].IsDefined() ? tn["operator"] : tn,
              "unknown operator " + Quote(t.operator_name) + " (use bash or sql)");
    }
    if (!t.conn_id.empty() && !ValidId(t.conn_id)) tc.Fail(tn, "invalid conn_id " + Quote(t.conn_id));
    if (t.max_retry_delay && *t.max_retry_delay < t.retry_delay && t.retry_exponential_backoff) {
      tc.Fail(tn, "max_retry_delay is shorter than retry_delay");
    }
    dag.tasks.push_back(std::move(t));
    task_nodes.push_back(tn);
  }
  ResolveGraph(c, &dag, task_nodes);
  return dag;
}

}  // namespace

std::string SourceHash(std::string_view text) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char ch : text) {
    h ^= ch;
    h *= 1099511628211ull;
  }
  char buf[20];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

DagDefaults DagDefaults::FromConfig(const Config& config) {
  DagDefaults d;
  d.default_timezone = config.core.default_timezone;
  d.catchup = config.scheduler.catchup_by_default;
  d.max_active_runs = config.core.max_active_runs_per_dag;
  d.max_active_tasks = config.core.max_active_tasks_per_dag;
  d.is_paused_upon_creation = config.core.dags_are_paused_at_creation;
  d.owner = config.core.default_owner;
  d.retries = config.core.default_task_retries;
  d.retry_delay = config.core.default_task_retry_delay;
  return d;
}

std::string ImportError::ToString() const {
  return filepath + (line ? ":" + std::to_string(*line) : std::string()) + ": " + message;
}

bool ParseDagText(std::string_view text, const std::string& filepath, const DagDefaults& defaults, Dag* out,
                  ImportError* error) {
  try {
    *out = ParseDag(text, filepath, defaults);
    return true;
  } catch (const LoadError& e) {
    *error = ImportError{filepath, e.line > 0 ? std::optional<int>(e.line) : std::nullopt, OneLine(e.message)};
  } catch (const std::exception& e) {
    *error = ImportError{filepath, std::nullopt, OneLine(std::string("cannot load: ") + e.what())};
  }
  return false;
}

}  // namespace dwfs
