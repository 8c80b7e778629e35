// The schema steps and the migration runner: see migrations.h.
#include "dwfs/migrations.h"

#include <memory>
#include <string>
#include <vector>

#include <pqxx/pqxx>

#include "store_internal.h"

namespace dwfs {
namespace {

using store_internal::Connect;
using store_internal::MaskUrlSecrets;
using store_internal::OneLine;

// The key of the session-level advisory lock held while migrating ("dwfs").
constexpr long long kMigrationLockKey = 0x64776673;

// Step i + 1 of the schema. Never edit a released step: add a new one.
const char* const kMigrations[] = {
    // 1: the initial schema.
    R"SQL(
CREATE TABLE dag (
  dag_id text PRIMARY KEY,
  fileloc text NOT NULL DEFAULT '',
  source text NOT NULL DEFAULT '',
  source_hash text NOT NULL DEFAULT '',
  schedule text NOT NULL DEFAULT '',
  timezone text NOT NULL DEFAULT 'UTC',
  tags text[] NOT NULL DEFAULT '{}',
  is_paused boolean NOT NULL DEFAULT false,
  is_active boolean NOT NULL DEFAULT true,
  last_parsed timestamptz,
  next_dagrun_check timestamptz,
  next_logical_date timestamptz
);
CREATE INDEX dag_due_idx ON dag (next_dagrun_check) WHERE is_active AND NOT is_paused;

CREATE TABLE scheduler_instance (
  id bigserial PRIMARY KEY,
  hostname text NOT NULL DEFAULT '',
  pid integer NOT NULL DEFAULT 0,
  kind text NOT NULL DEFAULT 'scheduler',
  state text NOT NULL DEFAULT 'running'
    CHECK (state IN ('running', 'stopped', 'dead')),
  started timestamptz,
  latest_heartbeat timestamptz
);

CREATE TABLE dag_run (
  id bigserial PRIMARY KEY,
  dag_id text NOT NULL REFERENCES dag (dag_id) ON DELETE CASCADE,
  run_id text NOT NULL,
  run_type text NOT NULL CHECK (run_type IN ('scheduled', 'manual', 'backfill')),
  state text NOT NULL CHECK (state IN ('queued', 'running', 'success', 'failed')),
  logical_date timestamptz NOT NULL,
  data_interval_start timestamptz NOT NULL,
  data_interval_end timestamptz NOT NULL,
  conf jsonb NOT NULL DEFAULT '{}',
  queued_at timestamptz,
  start_date timestamptz,
  end_date timestamptz,
  owner_id bigint REFERENCES scheduler_instance (id) ON DELETE SET NULL,
  cleared_at timestamptz,
  CONSTRAINT dag_run_dag_id_run_id_key UNIQUE (dag_id, run_id),
  CONSTRAINT dag_run_dag_id_logical_date_key UNIQUE (dag_id, logical_date)
);
CREATE INDEX dag_run_state_idx ON dag_run (dag_id, state);
CREATE INDEX dag_run_owner_idx ON dag_run (owner_id) WHERE state = 'running';

CREATE TABLE task_instance (
  dag_id text NOT NULL,
  run_id text NOT NULL,
  task_id text NOT NULL,
  state text NOT NULL DEFAULT 'none',
  try_number integer NOT NULL DEFAULT 0,
  max_tries integer NOT NULL DEFAULT 1,
  hostname text NOT NULL DEFAULT '',
  pid integer,
  start_date timestamptz,
  end_date timestamptz,
  duration double precision,
  next_retry_at timestamptz,
  pool text NOT NULL DEFAULT 'default_pool',
  log_path text NOT NULL DEFAULT '',
  reason text NOT NULL DEFAULT '',
  PRIMARY KEY (dag_id, run_id, task_id),
  FOREIGN KEY (dag_id, run_id) REFERENCES dag_run (dag_id, run_id) ON DELETE CASCADE
);

CREATE TABLE task_try (
  dag_id text NOT NULL,
  run_id text NOT NULL,
  task_id text NOT NULL,
  try_number integer NOT NULL,
  state text NOT NULL,
  start_date timestamptz,
  end_date timestamptz,
  hostname text NOT NULL DEFAULT '',
  pid integer,
  log_path text NOT NULL DEFAULT '',
  reason text NOT NULL DEFAULT '',
  PRIMARY KEY (dag_id, run_id, task_id, try_number),
  FOREIGN KEY (dag_id, run_id) REFERENCES dag_run (dag_id, run_id) ON DELETE CASCADE
);

CREATE TABLE xcom (
  dag_id text NOT NULL,
  run_id text NOT NULL,
  task_id text NOT NULL,
  try_number integer NOT NULL,
  value text NOT NULL,
  timestamp timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (dag_id, run_id, task_id, try_number),
  FOREIGN KEY (dag_id, run_id) REFERENCES dag_run (dag_id, run_id) ON DELETE CASCADE
);

CREATE TABLE import_error (
  id serial PRIMARY KEY,
  filepath text NOT NULL,
  line integer,
  error text NOT NULL,
  timestamp timestamptz
);

CREATE TABLE connection (
  conn_id text PRIMARY KEY,
  uri text NOT NULL
);

CREATE TABLE variable (
  key text PRIMARY KEY,
  value text NOT NULL
);
)SQL",
    // 2: the API's users.
    R"SQL(
CREATE TABLE dwfs_user (
  id bigserial PRIMARY KEY,
  username text NOT NULL UNIQUE,
  email text NOT NULL DEFAULT '',
  first_name text NOT NULL DEFAULT '',
  last_name text NOT NULL DEFAULT '',
  role text NOT NULL CHECK (role IN ('Admin', 'Op', 'Viewer')),
  password_hash text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
)SQL",
};

// Every table the steps create, dependents first (for ResetDatabase).
const char* const kTables[] = {"dwfs_user", "xcom",   "task_try",           "task_instance", "dag_run",  "dag",
                               "scheduler_instance", "import_error", "connection", "variable", "dwfs_schema"};

// The recorded version, 0 without a version table. Runs in `tx`.
int ReadVersion(pqxx::transaction_base& tx) {
  pqxx::row exists = tx.exec1("SELECT to_regclass('dwfs_schema') IS NOT NULL");
  if (!exists[0].as<bool>()) return 0;
  return tx.exec1("SELECT COALESCE(MAX(version), 0) FROM dwfs_schema")[0].as<int>();
}

// Holds the migration advisory lock of one connection for its lifetime.
class MigrationLock {
 public:
  explicit MigrationLock(pqxx::connection* conn) : conn_(conn) {
    pqxx::nontransaction tx(*conn_);
    tx.exec_params("SELECT pg_advisory_lock($1)", kMigrationLockKey);
  }
  ~MigrationLock() {
    try {
      pqxx::nontransaction tx(*conn_);
      tx.exec_params("SELECT pg_advisory_unlock($1)", kMigrationLockKey);
    } catch (const std::exception&) {
      // The session ends with the connection, and the lock with it.
    }
  }
  MigrationLock(const MigrationLock&) = delete;
  MigrationLock& operator=(const MigrationLock&) = delete;

 private:
  pqxx::connection* conn_;
};

Status MigrateLocked(pqxx::connection& conn, int* from, int* to) {
  int current = 0;
  {
    pqxx::work tx(conn);
    tx.exec(
        "CREATE TABLE IF NOT EXISTS dwfs_schema ("
        " version integer PRIMARY KEY,"
        " applied_at timestamptz NOT NULL DEFAULT now())");
    current = ReadVersion(tx);
    tx.commit();
  }
  if (from != nullptr) *from = current;
  if (current > SchemaVersion()) {
    return Status::FailedPrecondition("database schema is at version " + std::to_string(current) +
                                      ", newer than this dwfs (" + std::to_string(SchemaVersion()) +
                                      "): upgrade dwfs");
  }
  for (int v = current + 1; v <= SchemaVersion(); ++v) {
    try {
      pqxx::work tx(conn);
      tx.exec(kMigrations[v - 1]);
      tx.exec_params("INSERT INTO dwfs_schema (version, applied_at) VALUES ($1, now())", v);
      tx.commit();
    } catch (const pqxx::broken_connection& e) {
      return Status::IOError("migration " + std::to_string(v) + ": connection lost: " + OneLine(e.what()));
    } catch (const std::exception& e) {
      return Status::Internal("migration " + std::to_string(v) + " failed: " + OneLine(e.what()));
    }
  }
  if (to != nullptr) *to = SchemaVersion();
  return Status::OK();
}

}  // namespace

int SchemaVersion() { return static_cast<int>(sizeof kMigrations / sizeof kMigrations[0]); }

Status MigrateDatabase(const std::string& url, int* from, int* to) {
  std::unique_ptr<pqxx::connection> conn;
  DWFS_RETURN_IF_ERROR(Connect(url, &conn));
  try {
    MigrationLock lock(conn.get());
    return MigrateLocked(*conn, from, to);
  } catch (const pqxx::broken_connection& e) {
    return Status::IOError("migrate: connection lost: " + MaskUrlSecrets(OneLine(e.what()), url));
  } catch (const std::exception& e) {
    return Status::Internal("migrate: " + MaskUrlSecrets(OneLine(e.what()), url));
  }
}

Status DatabaseSchemaVersion(const std::string& url, int* version) {
  std::unique_ptr<pqxx::connection> conn;
  DWFS_RETURN_IF_ERROR(Connect(url, &conn));
  try {
    pqxx::read_transaction tx(*conn);
    *version = ReadVersion(tx);
    return Status::OK();
  } catch (const pqxx::broken_connection& e) {
    return Status::IOError("schema version: connection lost: " + MaskUrlSecrets(OneLine(e.what()), url));
  } catch (const std::exception& e) {
    return Status::Internal("schema version: " + MaskUrlSecrets(OneLine(e.what()), url));
  }
}

Status ResetDatabase(const std::string& url) {
  std::unique_ptr<pqxx::connection> conn;
  DWFS_RETURN_IF_ERROR(Connect(url, &conn));
  try {
    MigrationLock lock(conn.get());
    {
      pqxx::work tx(*conn);
      for (const char* table : kTables) tx.exec(std::string("DROP TABLE IF EXISTS ") + table + " CASCADE");
      tx.commit();
    }
    return MigrateLocked(*conn, nullptr, nullptr);
  } catch (const pqxx::broken_connection& e) {
    return Status::IOError("reset: connection lost: " + MaskUrlSecrets(OneLine(e.what()), url));
  } catch (const std::exception& e) {
    return Status::Internal("reset: " + MaskUrlSecrets(OneLine(e.what()), url));
  }
}

}  // namespace dwfs
