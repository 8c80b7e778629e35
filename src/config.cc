#include "dwfs/config.h"

#include <yaml-cpp/yaml.h>

#include <cctype>
#include <climits>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "dwfs/duration.h"

extern char** environ;

namespace dwfs {

namespace {

#define DWFS_KEY(sec, name, comment, secret, path) \
  ConfigKey { #sec, #name, comment, secret, path, [](Config* c) -> ConfigKey::Field { return &c->sec.name; } }

}  // namespace

const std::vector<ConfigKey>& ConfigKeys() {
  static const std::vector<ConfigKey> kKeys = {
      DWFS_KEY(core, dags_folder, "folder of YAML DAG files, scanned recursively", false, true),
      DWFS_KEY(core, default_timezone, "IANA zone for DAGs without timezone: and for naive CLI dates", false, false),
      DWFS_KEY(core, parallelism, "task instances running at once across the scheduler", false, false),
      DWFS_KEY(core, max_active_tasks_per_dag, "default max_active_tasks of a DAG", false, false),
      DWFS_KEY(core, max_active_runs_per_dag, "default max_active_runs of a DAG", false, false),
      DWFS_KEY(core, dags_are_paused_at_creation, "default is_paused_upon_creation of a DAG", false, false),
      DWFS_KEY(core, dag_file_processing_interval, "dags folder rescan interval when inotify is unavailable", false,
               false),
      DWFS_KEY(core, default_owner, "default owner of a task", false, false),
      DWFS_KEY(core, default_task_retries, "default retries of a task", false, false),
      DWFS_KEY(core, default_task_retry_delay, "default retry_delay of a task", false, false),
      DWFS_KEY(core, default_pool_slots, "slots of default_pool", false, false),
      DWFS_KEY(core, killed_task_cleanup_time, "grace between SIGTERM and SIGKILL of a stopped task's group", false,
               false),
      DWFS_KEY(database, url, "PostgreSQL URI of the metadata database (DWFS_DATABASE_URL also works)", true,
               false),
      DWFS_KEY(database, connect_timeout, "connection attempt timeout", false, false),
      DWFS_KEY(scheduler, catchup_by_default, "default catchup of a DAG", false, false),
      DWFS_KEY(scheduler, heartbeat, "interval between scheduler heartbeats", false, false),
      DWFS_KEY(scheduler, zombie_threshold, "a running task whose scheduler is silent this long is a zombie", false,
               false),
      DWFS_KEY(scheduler, max_dagruns_to_create_per_loop, "runs created per DAG per loop (fair catchup)", false,
               false),
      DWFS_KEY(scheduler, health_check_port, "port of GET /health; 0 disables it", false, false),
      DWFS_KEY(scheduler, graceful_shutdown_timeout, "on SIGTERM, time running tasks get to finish", false, false),
      DWFS_KEY(logging, base_log_folder, "root folder of task logs", false, true),
      DWFS_KEY(logging, level, "trace, debug, info, warning, error, critical or off", false, false),
      DWFS_KEY(logging, format, "text, or json for one JSON object per line", false, false),
      DWFS_KEY(api, host, "address the API server binds", false, false),
      DWFS_KEY(api, port, "port of the API server", false, false),
      DWFS_KEY(api, auth, "basic (users in the database) or none", false, false),
      DWFS_KEY(api, tls_cert, "TLS certificate (PEM) path; empty = plain HTTP", false, true),
      DWFS_KEY(api, tls_key, "TLS private key (PEM) path", false, true),
  };
  return kKeys;
}

#undef DWFS_KEY

std::map<std::string, std::string> EnvironmentMap() {
  std::map<std::string, std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string kv(*e);
    size_t eq = kv.find('=');
    if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return env;
}

namespace {

std::string Upper(std::string s) {
  for (char& c : s) c = char(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// Sets one field from text; `where` names the source for errors.
Status SetValue(const ConfigKey& k, Config* c, const std::string& text, const std::string& where) {
  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument(where + ": " + k.section + "." + k.key + ": " + why);
  };
  ConfigKey::Field f = k.field(c);
  if (auto* s = std::get_if<std::string*>(&f)) {
    **s = text;
  } else if (auto* i = std::get_if<int*>(&f)) {
    try {
      size_t used = 0;
      long v = std::stol(text, &used);
      if (used != text.size() || v < 0 || v > INT_MAX) return bad("expected a non-negative integer, got \"" + text + "\"");
      **i = int(v);
    } catch (const std::exception&) {
      return bad("expected a non-negative integer, got \"" + text + "\"");
    }
  } else if (auto* b = std::get_if<bool*>(&f)) {
    std::string l = text;
    for (char& ch : l) ch = char(std::tolower(static_cast<unsigned char>(ch)));
    if (l == "true" || l == "yes" || l == "on" || l == "1") {
      **b = true;
    } else if (l == "false" || l == "no" || l == "off" || l == "0") {
      **b = false;
    } else {
      return bad("expected true or false, got \"" + text + "\"");
    }
  } else if (auto* d = std::get_if<Seconds*>(&f)) {
    Seconds v;
    Status st = ParseDuration(text, &v);
    if (!st.ok()) return bad(st.message());
    **d = v;
  }
  return Status::OK();
}

std::string ExpandPath(const std::string& v, const std::string& home, const std::string& user_home) {
  std::string out = v;
  if (out.rfind("~/", 0) == 0 || out == "~") out = user_home + out.substr(1);
  for (std::string var : {"${DWFS_HOME}", "$DWFS_HOME"}) {
    // Scan forward: `home` may itself contain the variable's text.
    for (size_t pos = out.find(var); pos != std::string::npos; pos = out.find(var, pos + home.size())) {
      out.replace(pos, var.size(), home);
    }
  }
  return out;
}

Status Validate(const Config& c) {
  auto one_of = [](const std::string& v, std::initializer_list<const char*> allowed) {
    for (const char* a : allowed) {
      if (v == a) return true;
    }
    return false;
  };
  if (!one_of(c.logging.level, {"trace", "debug", "info", "warning", "warn", "error", "critical", "off"})) {
    return Status::InvalidArgument("logging.level: unknown level \"" + c.logging.level + "\"");
  }
  if (!one_of(c.logging.format, {"text", "json"})) {
    return Status::InvalidArgument("logging.format: expected text or json, got \"" + c.logging.format + "\"");
  }
  if (!one_of(c.api.auth, {"basic", "none"})) {
    return Status::InvalidArgument("api.auth: expected basic or none, got \"" + c.api.auth + "\"");
  }
  if (c.core.parallelism < 1) return Status::InvalidArgument("core.parallelism: must be at least 1");
  if (c.core.max_active_tasks_per_dag < 1) {
    return Status::InvalidArgument("core.max_active_tasks_per_dag: must be at least 1");
  }
  if (c.core.max_active_runs_per_dag < 1) {
    return Status::InvalidArgument("core.max_active_runs_per_dag: must be at least 1");
  }
  if (c.api.port > 65535 || c.scheduler.health_check_port > 65535) {
    return Status::InvalidArgument("port numbers must be at most 65535");
  }
  TimeZone tz;
  Status st = TimeZone::Find(c.core.default_timezone, &tz);
  if (!st.ok()) return st.WithPrefix("core.default_timezone");
  return Status::OK();
}

const ConfigKey* FindKey(const std::string& section, const std::string& key) {
  for (const ConfigKey& k : ConfigKeys()) {
    if (section == k.section && key == k.key) return &k;
  }
  return nullptr;
}

Status LoadFile(const std::string& path, Config* c) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    return Status::InvalidArgument(path + ": cannot read configuration file");
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(path + ":" + std::to_string(e.mark.line + 1) + ": invalid YAML: " + e.msg);
  }
  if (root.IsNull()) return Status::OK();
  if (!root.IsMap()) return Status::InvalidArgument(path + ": expected a mapping of sections");
  for (const auto& sec : root) {
    std::string section = sec.first.Scalar();
    std::string where = path + ":" + std::to_string(sec.first.Mark().line + 1);
    if (sec.second.IsNull()) continue;
    if (!sec.second.IsMap()) return Status::InvalidArgument(where + ": section " + section + " must be a mapping");
    for (const auto& kv : sec.second) {
      std::string key = kv.first.Scalar();
      std::string kwhere = path + ":" + std::to_string(kv.first.Mark().line + 1);
      const ConfigKey* k = FindKey(section, key);
      if (!k) return Status::InvalidArgument(kwhere + ": unknown configuration key " + section + "." + key);
      if (!kv.second.IsScalar() && !kv.second.IsNull()) {
        return Status::InvalidArgument(kwhere + ": " + section + "." + key + ": expected a single value");
      }
      DWFS_RETURN_IF_ERROR(SetValue(*k, c, kv.second.IsNull() ? "" : kv.second.Scalar(), kwhere));
    }
  }
  return Status::OK();
}

}  // namespace

Status LoadConfig(const ConfigLoadOptions& options, Config* out) {
  Config c;
  const auto& env = options.env;
  auto get = [&](const char* name) -> std::string {
    auto it = env.find(name);
    return it == env.end() ? std::string() : it->second;
  };
  std::string user_home = get("HOME");
  if (user_home.empty()) user_home = "/root";
  std::string home = get("DWFS_HOME");
  if (home.empty()) home = user_home + "/dwfs";
  home = ExpandPath(home, home, user_home);
  std::error_code ec;
  std::filesystem::path abs = std::filesystem::absolute(home, ec);
  if (!ec) home = abs.lexically_normal().string();
  if (home.size() > 1 && home.back() == '/') home.pop_back();
  c.home = home;

  if (!options.config_file.empty()) {
    if (!std::filesystem::exists(options.config_file, ec)) {
      return Status::InvalidArgument(options.config_file + ": configuration file not found");
    }
    DWFS_RETURN_IF_ERROR(LoadFile(options.config_file, &c));
    c.source_file = options.config_file;
  } else {
    std::string def = home + "/dwfs.yaml";
    if (std::filesystem::exists(def, ec)) {
      DWFS_RETURN_IF_ERROR(LoadFile(def, &c));
      c.source_file = def;
    }
  }
  if (std::string url = get("DWFS_DATABASE_URL"); !url.empty()) c.database.url = url;
  for (const auto& [name, value] : env) {
    if (name.rfind("DWFS__", 0) != 0) continue;
    std::string rest = name.substr(6);
    size_t sep = rest.find("__");
    const ConfigKey* k = nullptr;
    if (sep != std::string::npos) {
      for (const ConfigKey& cand : ConfigKeys()) {
        if (Upper(cand.section) == rest.substr(0, sep) && Upper(cand.key) == rest.substr(sep + 2)) k = &cand;
      }
    }
    if (!k) return Status::InvalidArgument("environment variable " + name + ": unknown configuration key");
    DWFS_RETURN_IF_ERROR(SetValue(*k, &c, value, "environment variable " + name));
  }
  for (const ConfigKey& k : ConfigKeys()) {
    if (!k.is_path) continue;
    std::string* s = std::get<std::string*>(k.field(&c));
    *s = ExpandPath(*s, home, user_home);
  }
  DWFS_RETURN_IF_ERROR(Validate(c));
  *out = std::move(c);
  return Status::OK();
}

Status GetConfigValue(const Config& config, const std::string& section, const std::string& key, bool mask,
                      std::string* out) {
  const ConfigKey* k = FindKey(section, key);
  if (!k) return Status::NotFound("unknown configuration key " + section + "." + key);
  ConfigKey::Field f = k->field(const_cast<Config*>(&config));
  std::string v;
  if (auto* s = std::get_if<std::string*>(&f)) v = **s;
  if (auto* i = std::get_if<int*>(&f)) v = std::to_string(**i);
  if (auto* b = std::get_if<bool*>(&f)) v = **b ? "true" : "false";
  if (auto* d = std::get_if<Seconds*>(&f)) v = FormatDuration(**d);
  *out = mask && k->secret ? MaskSecrets(v) : v;
  return Status::OK();
}

std::string MaskSecrets(const std::string& text) {
  // scheme://user:password@  -> scheme://user:***@
  static const std::regex kUri(R"(([A-Za-z][A-Za-z0-9+.-]*://[^:/@\s]*:)[^@\s]*@)");
  // password=... in conninfo strings and URI query parameters.
  static const std::regex kParam(R"((password\s*=\s*)('[^']*'|[^\s&]*))", std::regex::icase);
  std::string s = std::regex_replace(text, kUri, "$1***@");
  return std::regex_replace(s, kParam, "$1***");
}

}  // namespace dwfs
