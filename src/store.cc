// The PostgreSQL Store: opening, the transaction helper, DAGs, import
// errors, scheduler instances, connections and variables. Runs and task
// instances are in store_runs.cc. See store.h for the contracts.
#include "dwfs/store.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <utility>

#include "dwfs/dag_loader.h"
#include "dwfs/dwfs_metrics.h"
#include "dwfs/migrations.h"
#include "store_internal.h"

namespace dwfs {

using store_internal::Connect;
using store_internal::MaskUrlSecrets;
using store_internal::OneLine;
using store_internal::Params;
using store_internal::PgStore;
using store_internal::Text;
using store_internal::Time;
using store_internal::WakeSchedulers;

Status Store::Open(const std::string& url, std::unique_ptr<Store>* out) {
  std::unique_ptr<pqxx::connection> conn;
  DWFS_RETURN_IF_ERROR(Connect(url, &conn));
  int version = 0;
  try {
    pqxx::read_transaction tx(*conn);
    pqxx::row exists = tx.exec1("SELECT to_regclass('dwfs_schema') IS NOT NULL");
    if (exists[0].as<bool>()) version = tx.exec1("SELECT COALESCE(MAX(version), 0) FROM dwfs_schema")[0].as<int>();
  } catch (const std::exception& e) {
    return Status::IOError("cannot read the metadata database's schema version: " +
                           MaskUrlSecrets(OneLine(e.what()), url));
  }
  if (version != SchemaVersion()) {
    return Status::FailedPrecondition("database schema is at version " + std::to_string(version) +
                                      ", this dwfs needs " + std::to_string(SchemaVersion()) +
                                      (version < SchemaVersion() ? ": run `dwfs db migrate`" : ": upgrade dwfs"));
  }
  *out = std::make_unique<PgStore>(url, std::move(conn));
  return Status::OK();
}

Status StoreConnectionSource::Get(const std::string& conn_id, Connection* out) const {
  Status st = store_->GetConnection(conn_id, out);
  if (st.code() == Status::Code::kNotFound) {
    return Status::NotFound("connection '" + conn_id + "' not found (set " + ConnectionEnvVar(conn_id) +
                            " or add it with dwfs connections add)");
  }
  return st;
}

namespace store_internal {
namespace {

const char* const kDagColumns =
    "dag_id, fileloc, source, source_hash, schedule, timezone, to_json(tags)::text, is_paused, is_active, " DWFS_EPOCH(
        "last_parsed") ", " DWFS_EPOCH("next_dagrun_check") ", " DWFS_EPOCH("next_logical_date");

std::vector<std::string> ParseTags(const std::string& json) {
  std::vector<std::string> tags;
  Json j;
  if (!ParseJson(json, false, &j).ok()) return tags;
  for (const Json& item : j.items()) tags.push_back(item.str());
  return tags;
}

void ReadDag(const pqxx::row& r, DagRecord* d) {
  d->dag_id = Text(r[0]);
  d->fileloc = Text(r[1]);
  d->source = Text(r[2]);
  d->source_hash = Text(r[3]);
  d->schedule = Text(r[4]);
  d->timezone = Text(r[5]);
  d->tags = ParseTags(Text(r[6]));
  d->is_paused = r[7].as<bool>();
  d->is_active = r[8].as<bool>();
  d->last_parsed = Time(r[9]);
  d->next_dagrun_check = Time(r[10]);
  d->next_logical_date = Time(r[11]);
}

const char* const kSchedulerColumns =
    "id, hostname, pid, kind, state, " DWFS_EPOCH("started") ", " DWFS_EPOCH("latest_heartbeat");

SchedulerRecord ReadScheduler(const pqxx::row& r) {
  SchedulerRecord s;
  s.id = r[0].as<int64_t>();
  s.hostname = Text(r[1]);
  s.pid = r[2].as<int>();
  s.kind = Text(r[3]);
  s.state = Text(r[4]);
  s.started = Time(r[5]);
  s.latest_heartbeat = Time(r[6]);
  return s;
}

Status DagNotFound(const std::string& dag_id) { return Status::NotFound("DAG '" + dag_id + "' not found"); }

}  // namespace

pqxx::result Params::Exec(pqxx::transaction_base& tx, const std::string& sql) const {
  std::vector<const char*> ptrs;
  ptrs.reserve(values_.size());
  for (const auto& v : values_) ptrs.push_back(v ? v->c_str() : nullptr);
  return tx.exec_params(sql, pqxx::prepare::make_dynamic_params(ptrs));
}

std::optional<Instant> Time(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return Instant(Seconds(f.as<long long>()));
}

std::optional<int64_t> OptInt(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return f.as<int64_t>();
}

std::string Text(const pqxx::field& f) { return f.is_null() ? std::string() : f.as<std::string>(); }

Status PgStore::Failed(const char* operation, const char* kind, Status st) {
  if (metrics_ != nullptr) {
    std::string label = operation;  // "sync DAG" -> "sync_dag"
    for (char& c : label) c = c == ' ' ? '_' : char(std::tolower(static_cast<unsigned char>(c)));
    metrics_->database_errors.WithLabels({label, kind}).Increment();
  }
  return st;
}

Status PgStore::Transact(const char* operation, const Body& body) {
  const std::string op = std::string("store: ") + operation + ": ";
  for (int attempt = 0;; ++attempt) {
    try {
      if (conn_ == nullptr) {
        Status st = Connect(url_, &conn_);
        if (!st.ok()) return Failed(operation, "connection", Status::IOError(op + st.message()));
      }
      pqxx::work tx(*conn_);
      Status st = body(tx);
      if (!st.ok()) return st;  // the work's destructor rolls back
      tx.commit();
      return Status::OK();
    } catch (const pqxx::broken_connection& e) {
      conn_.reset();
      if (attempt == 0) continue;
      return Failed(operation, "connection",
                    Status::IOError(op + "connection lost: " + MaskUrlSecrets(OneLine(e.what()), url_)));
    } catch (const pqxx::in_doubt_error& e) {
      conn_.reset();
      return Failed(operation, "connection",
                    Status::IOError(op + "connection lost during commit (outcome unknown): " +
                                    MaskUrlSecrets(OneLine(e.what()), url_)));
    } catch (const pqxx::unique_violation& e) {
      return Status::AlreadyExists(op + OneLine(e.what()));
    } catch (const pqxx::foreign_key_violation& e) {
      return Status::NotFound(op + OneLine(e.what()));
    } catch (const pqxx::sql_error& e) {
      return Failed(operation, "query", Status::Internal(op + OneLine(e.what())));
    } catch (const std::exception& e) {
      return Failed(operation, "query", Status::Internal(op + MaskUrlSecrets(OneLine(e.what()), url_)));
    }
  }
}

// --- DAGs ---

Status PgStore::SyncDag(const Dag& dag, const std::string& source, bool paused_at_creation, Instant now,
                        bool* changed) {
  const std::string hash = SourceHash(source);
  const std::string schedule = dag.schedule.text();
  const std::string tags = TextArrayLiteral(dag.tags);
  bool did_change = false;
  Status st = Transact("sync DAG", [&](pqxx::work& tx) {
    did_change = false;
    pqxx::result inserted =
        Params()
            .Add(dag.dag_id).Add(dag.fileloc).Add(source).Add(hash).Add(schedule).Add(dag.timezone.name())
            .Add(tags).Add(paused_at_creation).Add(now)
            .Exec(tx,
                  "INSERT INTO dag (dag_id, fileloc, source, source_hash, schedule, timezone, tags, is_paused,"
                  " is_active, last_parsed, next_dagrun_check) VALUES ($1, $2, $3, $4, $5, $6, $7::text[], $8,"
                  " true, to_timestamp($9::float8), to_timestamp($9::float8))"
                  " ON CONFLICT (dag_id) DO NOTHING RETURNING dag_id");
    if (!inserted.empty()) {
      did_change = true;
      return Status::OK();
    }
    pqxx::result old = Params().Add(dag.dag_id).Add(dag.fileloc).Add(hash).Add(schedule).Add(dag.timezone.name())
                           .Add(tags)
                           .Exec(tx,
                                 "SELECT fileloc = $2 AND source_hash = $3 AND schedule = $4 AND timezone = $5"
                                 " AND tags = $6::text[] AND is_active FROM dag WHERE dag_id = $1 FOR UPDATE");
    if (old.empty()) return DagNotFound(dag.dag_id);  // deleted meanwhile
    did_change = !old[0][0].as<bool>();
    Params()
        .Add(dag.dag_id).Add(dag.fileloc).Add(source).Add(hash).Add(schedule).Add(dag.timezone.name()).Add(tags)
        .Add(now).Add(did_change)
        .Exec(tx,
              "UPDATE dag SET fileloc = $2, source = $3, source_hash = $4, schedule = $5, timezone = $6,"
              " tags = $7::text[], is_active = true, last_parsed = to_timestamp($8::float8),"
              " next_dagrun_check = CASE WHEN $9::boolean THEN to_timestamp($8::float8) ELSE next_dagrun_check END"
              " WHERE dag_id = $1");
    return Status::OK();
  });
  if (st.ok() && changed != nullptr) *changed = did_change;
  return st;
}

Status PgStore::DeactivateMissing(const std::set<std::string>& present) {
  std::vector<std::string> ids(present.begin(), present.end());
  return Transact("deactivate missing DAGs", [&](pqxx::work& tx) {
    Params().Add(TextArrayLiteral(ids))
        .Exec(tx, "UPDATE dag SET is_active = false WHERE is_active AND NOT (dag_id = ANY ($1::text[]))");
    return Status::OK();
  });
}

Status PgStore::ListDags(std::vector<DagRecord>* out) {
  return Transact("list DAGs", [&](pqxx::work& tx) {
    out->clear();
    for (const pqxx::row& r : tx.exec(std::string("SELECT ") + kDagColumns + " FROM dag ORDER BY dag_id")) {
      out->emplace_back();
      ReadDag(r, &out->back());
    }
    return Status::OK();
  });
}

Status PgStore::ListDagSummaries(const DagFilter& filter, std::vector<DagRecord>* out, size_t* total) {
  return Transact("list DAGs", [&](pqxx::work& tx) {
    out->clear();
    *total = 0;
    std::string columns = kDagColumns;
    columns.replace(columns.find("source, "), 8, "'', ");  // keeps ReadDag's column positions
    Json tags = Json::StringArray(filter.tags_any);
    // Every value is a parameter; only the fixed direction word is spliced.
    const std::string where =
        " FROM dag WHERE (NOT $1::boolean OR is_active) AND ($2::boolean IS NULL OR is_paused = $2)"
        " AND ($3::text = '' OR strpos(lower(dag_id), lower($3)) > 0)"
        " AND ($4::json IS NULL OR tags && ARRAY(SELECT json_array_elements_text($4::json)))";
    Params params;
    params.Add(filter.only_active).Add(filter.paused).Add(filter.dag_id_contains);
    if (filter.tags_any.empty()) {
      params.Add(std::optional<std::string>());
    } else {
      params.Add(tags.Dump());
    }
    pqxx::result rows = Params(params)
                            .Add(int64_t(std::min<size_t>(filter.limit, INT64_MAX)))
                            .Add(int64_t(std::min<size_t>(filter.offset, INT64_MAX)))
                            .Exec(tx, "SELECT " + columns + ", count(*) OVER ()" + where + " ORDER BY dag_id " +
                                          (filter.descending ? "DESC" : "ASC") + " LIMIT $5 OFFSET $6");
    for (const pqxx::row& r : rows) {
      out->emplace_back();
      ReadDag(r, &out->back());
      *total = r[12].as<size_t>();
    }
    if (rows.empty() && filter.offset > 0) {  // past the end: count on its own
      *total = params.Exec(tx, "SELECT count(*)" + where)[0][0].as<size_t>();
    }
    return Status::OK();
  });
}

Status PgStore::GetDag(const std::string& dag_id, DagRecord* out) {
  return Transact("get DAG", [&](pqxx::work& tx) {
    pqxx::result r = Params().Add(dag_id).Exec(tx, std::string("SELECT ") + kDagColumns + " FROM dag WHERE dag_id = $1");
    if (r.empty()) return DagNotFound(dag_id);
    ReadDag(r[0], out);
    return Status::OK();
  });
}

Status PgStore::SetPaused(const std::string& dag_id, bool paused, Instant now) {
  return Transact("pause DAG", [&](pqxx::work& tx) {
    pqxx::result r = Params().Add(dag_id).Add(paused).Add(now).Exec(
        tx,
        "UPDATE dag SET next_dagrun_check = CASE WHEN is_paused AND NOT $2::boolean"
        " THEN to_timestamp($3::float8) ELSE next_dagrun_check END, is_paused = $2 WHERE dag_id = $1"
        " RETURNING dag_id");
    if (r.empty()) return DagNotFound(dag_id);
    if (!paused) WakeSchedulers(tx, dag_id, now);
    return Status::OK();
  });
}

Status PgStore::DueDags(Instant now, std::vector<std::string>* dag_ids) {
  return Transact("find due DAGs", [&](pqxx::work& tx) {
    dag_ids->clear();
    pqxx::result r = Params().Add(now).Exec(
        tx,
        "SELECT dag_id FROM dag WHERE is_active AND NOT is_paused AND next_dagrun_check <= to_timestamp($1::float8)"
        " ORDER BY next_dagrun_check, dag_id");
    for (const pqxx::row& row : r) dag_ids->push_back(Text(row[0]));
    return Status::OK();
  });
}

Status PgStore::NextDueTime(std::optional<Instant>* out) {
  return Transact("find next due time", [&](pqxx::work& tx) {
    *out = Time(tx.exec1("SELECT " DWFS_EPOCH("MIN(next_dagrun_check)")
                         " FROM dag WHERE is_active AND NOT is_paused")[0]);
    return Status::OK();
  });
}

// --- import errors ---

Status PgStore::ReplaceImportErrors(const std::vector<ImportErrorRecord>& errors) {
  return Transact("save import errors", [&](pqxx::work& tx) {
    tx.exec("DELETE FROM import_error");
    for (const ImportErrorRecord& e : errors) {
      Params().Add(e.filepath).Add(e.line).Add(e.error).Add(e.timestamp).Exec(
          tx, "INSERT INTO import_error (filepath, line, error, timestamp) VALUES ($1, $2, $3, to_timestamp($4::float8))");
    }
    return Status::OK();
  });
}

Status PgStore::ListImportErrors(std::vector<ImportErrorRecord>* out) {
  return Transact("list import errors", [&](pqxx::work& tx) {
    out->clear();
    pqxx::result r = tx.exec("SELECT filepath, line, error, " DWFS_EPOCH("timestamp")
                             " FROM import_error ORDER BY filepath, line NULLS FIRST, id");
    for (const pqxx::row& row : r) {
      ImportErrorRecord e;
      e.filepath = Text(row[0]);
      if (!row[1].is_null()) e.line = row[1].as<int>();
      e.error = Text(row[2]);
      e.timestamp = Time(row[3]);
      out->push_back(std::move(e));
    }
    return Status::OK();
  });
}

// --- scheduler instances ---

Status PgStore::RegisterScheduler(const std::string& hostname, int pid, const std::string& kind, Instant now,
                                  int64_t* id) {
  return Transact("register scheduler", [&](pqxx::work& tx) {
    pqxx::result r = Params().Add(hostname).Add(pid).Add(kind).Add(now).Exec(
        tx,
        "INSERT INTO scheduler_instance (hostname, pid, kind, state, started, latest_heartbeat)"
        " VALUES ($1, $2, $3, 'running', to_timestamp($4::float8), to_timestamp($4::float8)) RETURNING id");
    *id = r[0][0].as<int64_t>();
    return Status::OK();
  });
}

Status PgStore::Heartbeat(int64_t id, Instant now) {
  return Transact("heartbeat", [&](pqxx::work& tx) {
    pqxx::result r = Params().Add(id).Add(now).Exec(
        tx, "UPDATE scheduler_instance SET latest_heartbeat = to_timestamp($2::float8) WHERE id = $1 RETURNING id");
    return r.empty() ? Status::NotFound("scheduler instance " + std::to_string(id) + " not found") : Status::OK();
  });
}

Status PgStore::StopScheduler(int64_t id) {
  return Transact("stop scheduler", [&](pqxx::work& tx) {
    pqxx::result r =
        Params().Add(id).Exec(tx, "UPDATE scheduler_instance SET state = 'stopped' WHERE id = $1 RETURNING id");
    return r.empty() ? Status::NotFound("scheduler instance " + std::to_string(id) + " not found") : Status::OK();
  });
}

Status PgStore::MarkDeadSchedulers(Instant now, Seconds threshold, std::vector<SchedulerRecord>* dead) {
  return Transact("mark dead schedulers", [&](pqxx::work& tx) {
    dead->clear();
    pqxx::result r = Params().Add(now - threshold).Exec(
        tx, std::string("UPDATE scheduler_instance SET state = 'dead' WHERE state = 'running'"
                        " AND latest_heartbeat < to_timestamp($1::float8) RETURNING ") +
                kSchedulerColumns);
    for (const pqxx::row& row : r) dead->push_back(ReadScheduler(row));
    std::sort(dead->begin(), dead->end(), [](const SchedulerRecord& a, const SchedulerRecord& b) { return a.id < b.id; });
    return Status::OK();
  });
}

Status PgStore::ListSchedulers(std::vector<SchedulerRecord>* out) {
  return Transact("list schedulers", [&](pqxx::work& tx) {
    out->clear();
    for (const pqxx::row& row : tx.exec(std::string("SELECT ") + kSchedulerColumns + " FROM scheduler_instance ORDER BY id")) {
      out->push_back(ReadScheduler(row));
    }
    return Status::OK();
  });
}

// --- connections and variables ---

Status PgStore::AddConnection(const std::string& conn_id, const std::string& uri) {
  Connection c;
  DWFS_RETURN_IF_ERROR(ParseConnectionUri(conn_id, uri, &c));
  return Transact("add connection", [&](pqxx::work& tx) {
    Params().Add(conn_id).Add(c.uri).Exec(
        tx, "INSERT INTO connection (conn_id, uri) VALUES ($1, $2) ON CONFLICT (conn_id) DO UPDATE SET uri = $2");
    return Status::OK();
  });
}

Status PgStore::GetConnection(const std::string& conn_id, Connection* out) {
  std::string uri;
  Status st = Transact("get connection", [&](pqxx::work& tx) {
    pqxx::result r = Params().Add(conn_id).Exec(tx, "SELECT uri FROM connection WHERE conn_id = $1");
    if (r.empty()) return Status::NotFound("connection '" + conn_id + "' not found");
    uri = Text(r[0][0]);
    return Status::OK();
  });
  if (!st.ok()) return st;
  return ParseConnectionUri(conn_id, uri, out);
}

Status PgStore::ListConnections(std::vector<Connection>* out) {
  std::vector<std::pair<std::string, std::string>> rows;
  Status st = Transact("list connections", [&](pqxx::work& tx) {
    rows.clear();
    for (const pqxx::row& r : tx.exec("SELECT conn_id, uri FROM connection ORDER BY conn_id")) {
      rows.emplace_back(Text(r[0]), Text(r[1]));
    }
    return Status::OK();
  });
  if (!st.ok()) return st;
  out->clear();
  for (const auto& [id, uri] : rows) {
    Connection c;
    if (!ParseConnectionUri(id, uri, &c).ok()) {
      // Stored before a stricter parser: listed by id, its URI withheld.
      c = Connection();
      c.conn_id = id;
    }
    out->push_back(std::move(c));
  }
  return Status::OK();
}

Status PgStore::DeleteConnection(const std::string& conn_id) {
  return Transact("delete connection", [&](pqxx::work& tx) {
    pqxx::result r = Params().Add(conn_id).Exec(tx, "DELETE FROM connection WHERE conn_id = $1 RETURNING conn_id");
    return r.empty() ? Status::NotFound("connection '" + conn_id + "' not found") : Status::OK();
  });
}

Status PgStore::SetVariable(const std::string& key, const std::string& value) {
  return Transact("set variable", [&](pqxx::work& tx) {
    Params().Add(key).Add(value).Exec(
        tx, "INSERT INTO variable (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = $2");
    return Status::OK();
  });
}

Status PgStore::GetVariable(const std::string& key, std::string* value) {
  return Transact("get variable", [&](pqxx::work& tx) {
    pqxx::result r = Params().Add(key).Exec(tx, "SELECT value FROM variable WHERE key = $1");
    if (r.empty()) return Status::NotFound("variable '" + key + "' not found");
    *value = Text(r[0][0]);
    return Status::OK();
  });
}

Status PgStore::ListVariables(std::map<std::string, std::string>* out) {
  return Transact("list variables", [&](pqxx::work& tx) {
    out->clear();
    for (const pqxx::row& r : tx.exec("SELECT key, value FROM variable")) (*out)[Text(r[0])] = Text(r[1]);
    return Status::OK();
  });
}

Status PgStore::DeleteVariable(const std::string& key) {
  return Transact("delete variable", [&](pqxx::work& tx) {
    pqxx::result r = Params().Add(key).Exec(tx, "DELETE FROM variable WHERE key = $1 RETURNING key");
    return r.empty() ? Status::NotFound("variable '" + key + "' not found") : Status::OK();
  });
}

}  // namespace store_internal
}  // namespace dwfs
