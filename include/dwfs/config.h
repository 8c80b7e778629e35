// Config: dwfs's one configuration struct, every field with its default.
//
// Sources, later wins: built-in defaults < the YAML file (--config FILE, or
// $DWFS_HOME/dwfs.yaml when it exists) < DWFS_DATABASE_URL (database.url
// only) < DWFS__<SECTION>__<KEY> environment variables. Path values may use
// "$DWFS_HOME" and a leading "~", expanded at load. The shipped
// config/dwfs.yaml lists every key with its default (a test checks it).
#ifndef DWFS_CONFIG_H_
#define DWFS_CONFIG_H_

#include <map>
#include <string>
#include <variant>
#include <vector>

#include "dwfs/status.h"
#include "dwfs/time_util.h"

namespace dwfs {

struct Config {
  struct Core {
    // Folder of YAML DAG files (scanned recursively).
    std::string dags_folder = "$DWFS_HOME/dags";
    // IANA zone for DAGs without `timezone:` and for naive CLI dates.
    std::string default_timezone = "UTC";
    // Task instances running at once across the whole scheduler.
    int parallelism = 32;
    // Default max_active_tasks of a DAG.
    int max_active_tasks_per_dag = 16;
    // Default max_active_runs of a DAG.
    int max_active_runs_per_dag = 16;
    // Default is_paused_upon_creation of a DAG.
    bool dags_are_paused_at_creation = false;
    // Rescan interval of the dags folder when inotify is unavailable.
    Seconds dag_file_processing_interval = Seconds(30);
    // Default `owner` of a task.
    std::string default_owner = "dwfs";
    // Default `retries` of a task.
    int default_task_retries = 0;
    // Default `retry_delay` of a task.
    Seconds default_task_retry_delay = Seconds(300);
    // Slots of `default_pool`.
    int default_pool_slots = 128;
    // Grace between SIGTERM and SIGKILL when a task's group is stopped.
    Seconds killed_task_cleanup_time = Seconds(60);
  } core;

  struct Database {
    // PostgreSQL URI of the metadata database; empty = none configured.
    std::string url;
    // Connection attempt timeout.
    Seconds connect_timeout = Seconds(10);
  } database;

  struct Scheduler {
    // Default `catchup` of a DAG.
    bool catchup_by_default = true;
    // Interval between scheduler heartbeats.
    Seconds heartbeat = Seconds(5);
    // A running task whose scheduler has not heartbeated for this long is a zombie.
    Seconds zombie_threshold = Seconds(300);
    // Runs created per DAG per scheduling loop (keeps long catchups fair).
    int max_dagruns_to_create_per_loop = 10;
    // Port of the scheduler's GET /health endpoint; 0 disables it.
    int health_check_port = 8974;
    // On SIGTERM, how long running tasks may finish before they are stopped.
    Seconds graceful_shutdown_timeout = Seconds(60);
  } scheduler;

  struct Logging {
    // Root folder of task logs.
    std::string base_log_folder = "$DWFS_HOME/logs";
    // trace, debug, info, warning, error, critical or off.
    std::string level = "info";
    // text, or json for one JSON object per line.
    std::string format = "text";
  } logging;

  struct Api {
    // Address the API server binds.
    std::string host = "127.0.0.1";
    // Port of the API server.
    int port = 8080;
    // basic (users in the database) or none.
    std::string auth = "basic";
    // TLS certificate (PEM) path; empty = plain HTTP.
    std::string tls_cert;
    // TLS private key (PEM) path.
    std::string tls_key;
  } api;

  // Resolved $DWFS_HOME (absolute).
  std::string home;
  // The file that was loaded, or empty when only defaults applied.
  std::string source_file;
};

// One key of the table that drives loading, listing and the shipped file.
struct ConfigKey {
  using Field = std::variant<std::string*, int*, bool*, Seconds*>;
  const char* section;
  const char* key;
  const char* comment;  // one line
  bool secret;          // masked in output
  bool is_path;         // $DWFS_HOME and ~ expanded
  Field (*field)(Config*);
};

// Every key, in file order.
const std::vector<ConfigKey>& ConfigKeys();

struct ConfigLoadOptions {
  // --config FILE; empty = $DWFS_HOME/dwfs.yaml if present, else defaults.
  std::string config_file;
  // The process environment (DWFS_HOME, HOME, DWFS_DATABASE_URL, DWFS__*).
  std::map<std::string, std::string> env;
};

// The current process environment as a map.
std::map<std::string, std::string> EnvironmentMap();

// Loads the configuration. Fails (one line naming the file and line, or the
// variable) on a missing explicit file, invalid YAML, an unknown section or
// key, or a value of the wrong type or out of range.
Status LoadConfig(const ConfigLoadOptions& options, Config* out);

// The value of one key as text (durations as "30s" forms). When `mask` is
// true, secrets are masked. NotFound for an unknown key.
Status GetConfigValue(const Config& config, const std::string& section, const std::string& key, bool mask,
                      std::string* out);

// Replaces the password of every URI ("scheme://user:pass@host") and of
// "password=..." parameters in `text` with "***".
std::string MaskSecrets(const std::string& text);

}  // namespace dwfs

#endif  // DWFS_CONFIG_H_
