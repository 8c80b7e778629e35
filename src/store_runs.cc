// The PostgreSQL Store, part two: runs, the scheduling step, task
// instances, tries and XCom. See store.h for the contracts and store.cc
// for the transaction helper.
#include <algorithm>
#include <set>
#include <tuple>
#include <utility>

#include "dwfs/store.h"
#include "store_internal.h"

namespace dwfs::store_internal {

const char* const kRunColumns =
    "r.dag_id, r.run_id, r.run_type, r.state, " DWFS_EPOCH("r.logical_date") ", " DWFS_EPOCH(
        "r.data_interval_start") ", " DWFS_EPOCH("r.data_interval_end") ", r.conf::text, " DWFS_EPOCH("r.queued_at") ", " DWFS_EPOCH("r.start_date") ", " DWFS_EPOCH("r.end_date") ", r.owner_id";

namespace {

RunType ParseRunType(const std::string& s) {
  if (s == "scheduled") return RunType::kScheduled;
  if (s == "backfill") return RunType::kBackfill;
  return RunType::kManual;
}

std::vector<RunRecord> ReadRuns(const pqxx::result& r) {
  std::vector<RunRecord> runs;
  for (const pqxx::row& row : r) {
    runs.emplace_back();
    ReadRun(row, &runs.back());
  }
  return runs;
}

void SortByLogicalDate(std::vector<RunRecord>* runs) {
  std::sort(runs->begin(), runs->end(), [](const RunRecord& a, const RunRecord& b) {
    return std::tie(a.info.logical_date, a.dag_id) < std::tie(b.info.logical_date, b.dag_id);
  });
}

TaskState StateOf(const pqxx::field& f) {
  TaskState s = TaskState::kNone;
  ParseTaskState(Text(f), &s);
  return s;
}

std::optional<int> OptInt32(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return f.as<int>();
}

Status RunNotFound(const std::string& dag_id, const std::string& run_id) {
  return Status::NotFound("run '" + run_id + "' of DAG '" + dag_id + "' not found");
}

const char* const kInstanceColumns =
    "t.dag_id, t.run_id, t.task_id, t.state, t.try_number, t.max_tries, t.hostname, t.pid, " DWFS_EPOCH(
        "t.start_date") ", " DWFS_EPOCH("t.end_date") ", t.duration, " DWFS_EPOCH("t.next_retry_at") ", t.pool,"
    " t.log_path, t.reason, (SELECT x.value FROM xcom x WHERE x.dag_id = t.dag_id AND x.run_id = t.run_id"
    " AND x.task_id = t.task_id ORDER BY x.try_number DESC LIMIT 1)";

TaskInstanceRecord ReadInstance(const pqxx::row& r) {
  TaskInstanceRecord t;
  t.dag_id = Text(r[0]);
  t.run_id = Text(r[1]);
  t.task_id = Text(r[2]);
  t.ti.state = StateOf(r[3]);
  t.ti.try_number = r[4].as<int>();
  t.ti.max_tries = r[5].as<int>();
  t.hostname = Text(r[6]);
  t.pid = OptInt32(r[7]);
  t.ti.start_date = Time(r[8]);
  t.ti.end_date = Time(r[9]);
  if (!r[10].is_null()) t.duration = r[10].as<double>();
  t.ti.next_retry_at = Time(r[11]);
  t.pool = Text(r[12]);
  t.log_path = Text(r[13]);
  t.ti.reason = Text(r[14]);
  if (!r[15].is_null()) t.ti.xcom = Text(r[15]);
  return t;
}

}  // namespace

void ReadRun(const pqxx::row& r, RunRecord* out) {
  out->dag_id = Text(r[0]);
  out->info.run_id = Text(r[1]);
  out->info.type = ParseRunType(Text(r[2]));
  RunState state = RunState::kQueued;
  ParseRunState(Text(r[3]), &state);
  out->state = state;
  out->info.logical_date = *Time(r[4]);
  out->info.data_interval.start = *Time(r[5]);
  out->info.data_interval.end = *Time(r[6]);
  Json conf;
  out->info.conf = ParseJson(Text(r[7]), false, &conf).ok() ? conf : Json::Object();
  out->queued_at = Time(r[8]);
  out->start_date = Time(r[9]);
  out->end_date = Time(r[10]);
  out->owner = OptInt(r[11]);
}

// --- runs ---

Status PgStore::CreateRun(const std::string& dag_id, const RunInfo& info, RunState state, Instant now,
                          std::optional<int64_t> owner) {
  return Transact("create run", [&](pqxx::work& tx) {
    if (Params().Add(dag_id).Exec(tx, "SELECT 1 FROM dag WHERE dag_id = $1").empty()) {
      return Status::NotFound("DAG '" + dag_id + "' not found");
    }
    pqxx::result taken = Params().Add(dag_id).Add(info.run_id).Add(info.logical_date).Exec(
        tx,
        "SELECT run_id, run_id = $2 FROM dag_run WHERE dag_id = $1"
        " AND (run_id = $2 OR logical_date = to_timestamp($3::float8)) ORDER BY 2 DESC LIMIT 1");
    if (!taken.empty()) {
      if (taken[0][1].as<bool>()) {
        return Status::AlreadyExists("DAG '" + dag_id + "' already has a run '" + info.run_id + "'");
      }
      return Status::AlreadyExists("DAG '" + dag_id + "' already has a run at " +
                                   FormatIso(info.logical_date, TimeZone()) + " ('" + Text(taken[0][0]) + "')");
    }
    std::optional<Instant> start;
    if (state != RunState::kQueued) start = now;
    Params()
        .Add(dag_id).Add(info.run_id).Add(RunTypeName(info.type)).Add(RunStateName(state)).Add(info.logical_date)
        .Add(info.data_interval.start).Add(info.data_interval.end).Add(info.conf.Dump()).Add(now).Add(start)
        .Add(owner)
        .Exec(tx,
              "INSERT INTO dag_run (dag_id, run_id, run_type, state, logical_date, data_interval_start,"
              " data_interval_end, conf, queued_at, start_date, owner_id) VALUES ($1, $2, $3, $4,"
              " to_timestamp($5::float8), to_timestamp($6::float8), to_timestamp($7::float8), $8::jsonb,"
              " to_timestamp($9::float8), to_timestamp($10::float8), $11)");
    WakeSchedulers(tx, dag_id, now);
    return Status::OK();
  });
}

Status PgStore::GetRun(const std::string& dag_id, const std::string& run_id, RunRecord* out) {
  return Transact("get run", [&](pqxx::work& tx) {
    pqxx::result r = Params().Add(dag_id).Add(run_id).Exec(
        tx, std::string("SELECT ") + kRunColumns + " FROM dag_run r WHERE r.dag_id = $1 AND r.run_id = $2");
    if (r.empty()) return RunNotFound(dag_id, run_id);
    ReadRun(r[0], out);
    return Status::OK();
  });
}

Status PgStore::FindRunAt(const std::string& dag_id, Instant logical_date, RunRecord* out) {
  return Transact("find run", [&](pqxx::work& tx) {
    pqxx::result r = Params().Add(dag_id).Add(logical_date).Exec(
        tx, std::string("SELECT ") + kRunColumns +
                " FROM dag_run r WHERE r.dag_id = $1 AND r.logical_date = to_timestamp($2::float8)");
    if (r.empty()) {
      return Status::NotFound("DAG '" + dag_id + "' has no run at " + FormatIso(logical_date, TimeZone()));
    }
    ReadRun(r[0], out);
    return Status::OK();
  });
}

Status PgStore::ListRuns(const std::string& dag_id, std::optional<RunState> state, std::vector<RunRecord>* out) {
  std::optional<std::string> state_name;
  if (state) state_name = RunStateName(*state);
  return Transact("list runs", [&](pqxx::work& tx) {
    *out = ReadRuns(Params().Add(dag_id).Add(state_name).Exec(
        tx, std::string("SELECT ") + kRunColumns +
                " FROM dag_run r WHERE r.dag_id = $1 AND ($2::text IS NULL OR r.state = $2)"
                " ORDER BY r.logical_date DESC"));
    return Status::OK();
  });
}

Status PgStore::ListLatestRuns(const std::vector<std::string>& dag_ids, int per_dag,
                              std::map<std::string, std::vector<RunRecord>>* out) {
  return Transact("list latest runs", [&](pqxx::work& tx) {
    out->clear();
    std::vector<RunRecord> runs = ReadRuns(Params().Add(TextArrayLiteral(dag_ids)).Add(per_dag).Exec(
        tx, std::string("SELECT ") + kRunColumns +
                " FROM (SELECT *, row_number() OVER (PARTITION BY dag_id ORDER BY logical_date DESC) AS n"
                " FROM dag_run WHERE dag_id = ANY ($1::text[])) r WHERE r.n <= $2 ORDER BY r.dag_id, r.logical_date DESC"));
    for (RunRecord& run : runs) (*out)[run.dag_id].push_back(std::move(run));
    return Status::OK();
  });
}

Status PgStore::PreviousRunStates(const std::string& dag_id, Instant logical_date,
                                  std::map<std::string, TaskState>* out) {
  return Transact("read previous run", [&](pqxx::work& tx) {
    out->clear();
    pqxx::result r = Params().Add(dag_id).Add(logical_date).Exec(
        tx,
        "SELECT t.task_id, t.state FROM task_instance t WHERE t.dag_id = $1 AND t.run_id = ("
        " SELECT run_id FROM dag_run WHERE dag_id = $1 AND logical_date < to_timestamp($2::float8)"
        " ORDER BY logical_date DESC LIMIT 1)");
    for (const pqxx::row& row : r) (*out)[Text(row[0])] = StateOf(row[1]);
    return Status::OK();
  });
}

Status PgStore::ScheduleDag(const std::string& dag_id, int64_t owner, int max_active_runs, Instant now,
                            const SchedulePlanner& planner, bool* locked, std::vector<RunRecord>* started) {
  return Transact("schedule DAG", [&](pqxx::work& tx) {
    *locked = false;
    started->clear();
    pqxx::result dag_row = Params().Add(dag_id).Exec(
        tx, std::string("SELECT dag_id, fileloc, source, source_hash, schedule, timezone, to_json(tags)::text,"
                        " is_paused, is_active, " DWFS_EPOCH("last_parsed") ", " DWFS_EPOCH("next_dagrun_check") ", "
                        DWFS_EPOCH("next_logical_date") " FROM dag WHERE dag_id = $1 FOR UPDATE SKIP LOCKED"));
    if (dag_row.empty()) {
      if (Params().Add(dag_id).Exec(tx, "SELECT 1 FROM dag WHERE dag_id = $1").empty()) {
        return Status::NotFound("DAG '" + dag_id + "' not found");
      }
      return Status::OK();  // another scheduler holds it
    }
    *locked = true;
    DagRecord dag;
    dag.dag_id = Text(dag_row[0][0]);
    dag.fileloc = Text(dag_row[0][1]);
    dag.source = Text(dag_row[0][2]);
    dag.source_hash = Text(dag_row[0][3]);
    dag.schedule = Text(dag_row[0][4]);
    dag.timezone = Text(dag_row[0][5]);
    Json tags;
    if (ParseJson(Text(dag_row[0][6]), false, &tags).ok()) {
      for (const Json& t : tags.items()) dag.tags.push_back(t.str());
    }
    dag.is_paused = dag_row[0][7].as<bool>();
    dag.is_active = dag_row[0][8].as<bool>();
    dag.last_parsed = Time(dag_row[0][9]);
    dag.next_dagrun_check = Time(dag_row[0][10]);
    dag.next_logical_date = Time(dag_row[0][11]);

    pqxx::row stats = Params().Add(dag_id).Exec(
        tx,
        "SELECT " DWFS_EPOCH("MAX(logical_date) FILTER (WHERE run_type = 'scheduled')")
        ", COUNT(*) FILTER (WHERE state IN ('queued', 'running')) FROM dag_run WHERE dag_id = $1")[0];
    ScheduleView view;
    view.dag = &dag;
    view.latest_scheduled = Time(stats[0]);
    view.active_runs = stats[1].as<int>();
    SchedulePlan plan = planner(view);

    for (const RunInfo& info : plan.create) {
      Params()
          .Add(dag_id).Add(info.run_id).Add(RunTypeName(info.type)).Add(info.logical_date)
          .Add(info.data_interval.start).Add(info.data_interval.end).Add(info.conf.Dump()).Add(now)
          .Exec(tx,
                "INSERT INTO dag_run (dag_id, run_id, run_type, state, logical_date, data_interval_start,"
                " data_interval_end, conf, queued_at) VALUES ($1, $2, $3, 'queued', to_timestamp($4::float8),"
                " to_timestamp($5::float8), to_timestamp($6::float8), $7::jsonb, to_timestamp($8::float8))"
                " ON CONFLICT DO NOTHING");
    }
    Params().Add(dag_id).Add(plan.next_check).Add(plan.next_logical_date).Exec(
        tx,
        "UPDATE dag SET next_dagrun_check = to_timestamp($2::float8), next_logical_date = to_timestamp($3::float8)"
        " WHERE dag_id = $1");

    // Running runs nobody drives (released or reopened) are claimed first.
    *started = ReadRuns(Params().Add(dag_id).Add(owner).Exec(
        tx, std::string("UPDATE dag_run r SET owner_id = $2 WHERE r.dag_id = $1 AND r.state = 'running'"
                        " AND r.owner_id IS NULL RETURNING ") +
                kRunColumns));
    int running = Params().Add(dag_id).Exec(
        tx, "SELECT COUNT(*) FROM dag_run WHERE dag_id = $1 AND state = 'running'")[0][0].as<int>();
    if (running < max_active_runs) {
      std::vector<RunRecord> promoted = ReadRuns(Params().Add(dag_id).Add(owner).Add(now).Add(max_active_runs - running).Exec(
          tx, std::string("UPDATE dag_run r SET state = 'running', start_date = to_timestamp($3::float8),"
                          " owner_id = $2 WHERE r.id IN (SELECT id FROM dag_run WHERE dag_id = $1"
                          " AND state = 'queued' AND (run_type <> 'backfill' OR owner_id IS NULL)"
                          " ORDER BY logical_date LIMIT $4 FOR UPDATE) RETURNING ") +
                  kRunColumns));
      for (RunRecord& r : promoted) started->push_back(std::move(r));
    }
    SortByLogicalDate(started);
    return Status::OK();
  });
}

Status PgStore::OwnedRuns(int64_t owner, std::vector<RunRecord>* out) {
  return Transact("list owned runs", [&](pqxx::work& tx) {
    *out = ReadRuns(Params().Add(owner).Exec(
        tx, std::string("SELECT ") + kRunColumns +
                " FROM dag_run r WHERE r.owner_id = $1 AND r.state = 'running' ORDER BY r.logical_date, r.dag_id"));
    return Status::OK();
  });
}

Status PgStore::AdoptRuns(int64_t owner, std::vector<RunRecord>* out) {
  return Transact("adopt runs", [&](pqxx::work& tx) {
    *out = ReadRuns(Params().Add(owner).Exec(
        tx, std::string("UPDATE dag_run r SET owner_id = $1 WHERE r.state = 'running' AND (r.owner_id IS NULL"
                        " OR (r.run_type <> 'backfill' AND r.owner_id IN (SELECT id FROM scheduler_instance"
                        " WHERE state IN ('dead', 'stopped') AND id <> $1))) RETURNING ") +
                kRunColumns));
    SortByLogicalDate(out);
    return Status::OK();
  });
}

Status PgStore::ReleaseRuns(int64_t owner) {
  return Transact("release runs", [&](pqxx::work& tx) {
    Params().Add(owner).Exec(tx, "UPDATE dag_run SET owner_id = NULL WHERE owner_id = $1");
    return Status::OK();
  });
}

// --- task instances ---

Status PgStore::ReadInstances(const std::string& dag_id, const std::vector<std::string>& run_ids, bool with_xcom,
                              std::vector<TaskInstanceRecord>* out) {
  std::string columns = kInstanceColumns;
  if (!with_xcom) columns = columns.substr(0, columns.find("(SELECT x.value")) + "NULL";
  return Transact("list task instances", [&](pqxx::work& tx) {
    out->clear();
    pqxx::result r = Params().Add(dag_id).Add(TextArrayLiteral(run_ids)).Exec(
        tx, "SELECT " + columns +
                " FROM task_instance t WHERE t.dag_id = $1 AND t.run_id = ANY ($2::text[]) ORDER BY t.run_id, t.task_id");
    for (const pqxx::row& row : r) out->push_back(ReadInstance(row));
    return Status::OK();
  });
}

Status PgStore::ListTaskInstances(const std::string& dag_id, const std::string& run_id,
                                  std::vector<TaskInstanceRecord>* out) {
  return ReadInstances(dag_id, {run_id}, true, out);
}

Status PgStore::ListTaskInstancesOfRuns(const std::string& dag_id, const std::vector<std::string>& run_ids,
                                        std::vector<TaskInstanceRecord>* out) {
  return ReadInstances(dag_id, run_ids, false, out);
}

Status PgStore::Apply(const StoreBatch& batch, std::optional<int64_t> owner, std::set<std::string>* lost) {
  // Every run the batch touches, sorted: rows are locked in this order, so
  // two writers cannot deadlock.
  std::set<std::pair<std::string, std::string>> runs;
  for (const auto& t : batch.instances) runs.emplace(t.dag_id, t.run_id);
  for (const auto& t : batch.tries) runs.emplace(t.dag_id, t.run_id);
  for (const auto& r : batch.runs) runs.emplace(r.dag_id, r.info.run_id);
  std::set<std::pair<std::string, std::string>> skipped;
  Status st = Transact("save task instances", [&](pqxx::work& tx) {
    skipped.clear();
    for (const auto& [dag_id, run_id] : runs) {
      pqxx::result r = Params().Add(dag_id).Add(run_id).Exec(
          tx, "SELECT owner_id FROM dag_run WHERE dag_id = $1 AND run_id = $2 FOR UPDATE");
      if (r.empty() || (owner && OptInt(r[0][0]) != owner)) skipped.emplace(dag_id, run_id);
    }
    auto keep = [&](const std::string& dag_id, const std::string& run_id) {
      return skipped.count({dag_id, run_id}) == 0;
    };
    for (const TaskInstanceRecord& t : batch.instances) {
      if (!keep(t.dag_id, t.run_id)) continue;
      Params()
          .Add(t.dag_id).Add(t.run_id).Add(t.task_id).Add(TaskStateName(t.ti.state)).Add(t.ti.try_number)
          .Add(t.ti.max_tries).Add(t.hostname).Add(t.pid).Add(t.ti.start_date).Add(t.ti.end_date).Add(t.duration)
          .Add(t.ti.next_retry_at).Add(t.pool).Add(t.log_path).Add(t.ti.reason)
          .Exec(tx,
                "INSERT INTO task_instance (dag_id, run_id, task_id, state, try_number, max_tries, hostname, pid,"
                " start_date, end_date, duration, next_retry_at, pool, log_path, reason) VALUES ($1, $2, $3, $4,"
                " $5, $6, $7, $8, to_timestamp($9::float8), to_timestamp($10::float8), $11,"
                " to_timestamp($12::float8), $13, $14, $15) ON CONFLICT (dag_id, run_id, task_id) DO UPDATE SET"
                " state = EXCLUDED.state, try_number = EXCLUDED.try_number, max_tries = EXCLUDED.max_tries,"
                " hostname = EXCLUDED.hostname, pid = EXCLUDED.pid, start_date = EXCLUDED.start_date,"
                " end_date = EXCLUDED.end_date, duration = EXCLUDED.duration,"
                " next_retry_at = EXCLUDED.next_retry_at, pool = EXCLUDED.pool, log_path = EXCLUDED.log_path,"
                " reason = EXCLUDED.reason");
      if (t.ti.state == TaskState::kSuccess && t.ti.xcom) {
        Params().Add(t.dag_id).Add(t.run_id).Add(t.task_id).Add(t.ti.try_number).Add(*t.ti.xcom).Exec(
            tx,
            "INSERT INTO xcom (dag_id, run_id, task_id, try_number, value, timestamp) VALUES ($1, $2, $3, $4, $5,"
            " now()) ON CONFLICT (dag_id, run_id, task_id, try_number) DO UPDATE SET value = EXCLUDED.value,"
            " timestamp = now()");
      }
    }
    for (const TryRecord& t : batch.tries) {
      if (!keep(t.dag_id, t.run_id)) continue;
      Params()
          .Add(t.dag_id).Add(t.run_id).Add(t.task_id).Add(t.try_number).Add(TaskStateName(t.state))
          .Add(t.start_date).Add(t.end_date).Add(t.hostname).Add(t.pid).Add(t.log_path).Add(t.reason)
          .Exec(tx,
                "INSERT INTO task_try (dag_id, run_id, task_id, try_number, state, start_date, end_date, hostname,"
                " pid, log_path, reason) VALUES ($1, $2, $3, $4, $5, to_timestamp($6::float8),"
                " to_timestamp($7::float8), $8, $9, $10, $11) ON CONFLICT (dag_id, run_id, task_id, try_number)"
                " DO UPDATE SET state = EXCLUDED.state, start_date = EXCLUDED.start_date,"
                " end_date = EXCLUDED.end_date, hostname = EXCLUDED.hostname, pid = EXCLUDED.pid,"
                " log_path = EXCLUDED.log_path, reason = EXCLUDED.reason");
    }
    for (const RunRecord& r : batch.runs) {
      if (!keep(r.dag_id, r.info.run_id)) continue;
      Params()
          .Add(r.dag_id).Add(r.info.run_id).Add(RunStateName(r.state)).Add(r.start_date).Add(r.end_date)
          .Exec(tx,
                "UPDATE dag_run SET state = $3, start_date = COALESCE(to_timestamp($4::float8), start_date),"
                " end_date = to_timestamp($5::float8) WHERE dag_id = $1 AND run_id = $2");
    }
    return Status::OK();
  });
  if (st.ok() && lost != nullptr) {
    lost->clear();
    for (const auto& key : skipped) lost->insert(key.second);
  }
  return st;
}

Status PgStore::ListTries(const std::string& dag_id, const std::string& run_id, const std::string& task_id,
                          std::vector<TryRecord>* out) {
  return Transact("list tries", [&](pqxx::work& tx) {
    out->clear();
    pqxx::result r = Params().Add(dag_id).Add(run_id).Add(task_id).Exec(
        tx, "SELECT try_number, state, " DWFS_EPOCH("start_date") ", " DWFS_EPOCH("end_date")
            ", hostname, pid, log_path, reason FROM task_try WHERE dag_id = $1 AND run_id = $2 AND task_id = $3"
            " ORDER BY try_number");
    for (const pqxx::row& row : r) {
      TryRecord t;
      t.dag_id = dag_id;
      t.run_id = run_id;
      t.task_id = task_id;
      t.try_number = row[0].as<int>();
      t.state = StateOf(row[1]);
      t.start_date = Time(row[2]);
      t.end_date = Time(row[3]);
      t.hostname = Text(row[4]);
      t.pid = OptInt32(row[5]);
      t.log_path = Text(row[6]);
      t.reason = Text(row[7]);
      out->push_back(std::move(t));
    }
    return Status::OK();
  });
}

void ClearInstances(pqxx::transaction_base& tx, const std::string& dag_id, const std::string& run_id,
                    const std::vector<std::string>& task_ids) {
  // max_tries grows by the tries used, so each instance gets its retries again.
  Params().Add(dag_id).Add(run_id).Add(TextArrayLiteral(task_ids)).Add(TaskStateName(TaskState::kNone)).Exec(
      tx,
      "UPDATE task_instance SET state = $4, max_tries = max_tries + try_number, next_retry_at = NULL,"
      " end_date = NULL, duration = NULL, reason = '' WHERE dag_id = $1 AND run_id = $2"
      " AND task_id = ANY ($3::text[])");
}

// Reopens a run for a scheduler to carry on (queued, no owner); false when
// it does not exist.
bool ReopenRun(pqxx::transaction_base& tx, const std::string& dag_id, const std::string& run_id, Instant now) {
  return !Params()
              .Add(dag_id)
              .Add(run_id)
              .Add(now)
              .Exec(tx,
                    "UPDATE dag_run SET state = 'queued', end_date = NULL, owner_id = NULL, cleared_at = "
                    "to_timestamp($3::float8) WHERE dag_id = $1 AND run_id = $2 RETURNING id")
              .empty();
}

Status PgStore::ClearTaskInstances(const std::string& dag_id, const std::string& run_id,
                                   const std::vector<std::string>& task_ids, Instant now) {
  return Transact("clear task instances", [&](pqxx::work& tx) {
    if (!ReopenRun(tx, dag_id, run_id, now)) return RunNotFound(dag_id, run_id);
    ClearInstances(tx, dag_id, run_id, task_ids);
    WakeSchedulers(tx, dag_id, now);
    return Status::OK();
  });
}

Status PgStore::MarkTaskInstances(const std::string& dag_id, const std::string& run_id,
                                  const std::vector<std::string>& task_ids, TaskState state, Instant now) {
  return Transact("mark task instances", [&](pqxx::work& tx) {
    // Locks the run, then its rows, in the order Apply uses.
    if (!ReopenRun(tx, dag_id, run_id, now)) return RunNotFound(dag_id, run_id);
    pqxx::result rows = Params().Add(dag_id).Add(run_id).Add(TextArrayLiteral(task_ids)).Exec(
        tx, "SELECT task_id, state FROM task_instance WHERE dag_id = $1 AND run_id = $2 AND task_id = ANY ($3::text[])"
            " ORDER BY task_id FOR UPDATE");
    std::set<std::string> found;
    for (const pqxx::row& r : rows) {
      TaskState current = StateOf(r[1]);
      if (current == TaskState::kRunning || current == TaskState::kQueued) {
        return Status::FailedPrecondition("task '" + Text(r[0]) + "' of run '" + run_id + "' is " +
                                          TaskStateName(current) + ": wait for it to end (or clear it)");
      }
      found.insert(Text(r[0]));
    }
    for (const std::string& t : task_ids) {
      if (!found.count(t)) {
        return Status::NotFound("task '" + t + "' has no instance in run '" + run_id + "' yet");
      }
    }
    Params().Add(dag_id).Add(run_id).Add(TextArrayLiteral(task_ids)).Add(TaskStateName(state)).Add(now).Exec(
        tx,
        "UPDATE task_instance SET state = $4, next_retry_at = NULL, end_date = coalesce(end_date, to_timestamp($5::float8)),"
        " reason = 'marked ' || $4 WHERE dag_id = $1 AND run_id = $2 AND task_id = ANY ($3::text[])");
    WakeSchedulers(tx, dag_id, now);
    return Status::OK();
  });
}

Status PgStore::GetXcom(const std::string& dag_id, const std::string& run_id, const std::string& task_id,
                        std::optional<std::string>* out) {
  return Transact("get XCom", [&](pqxx::work& tx) {
    out->reset();
    pqxx::result r = Params().Add(dag_id).Add(run_id).Add(task_id).Exec(
        tx,
        "SELECT value FROM xcom WHERE dag_id = $1 AND run_id = $2 AND task_id = $3 ORDER BY try_number DESC LIMIT 1");
    if (!r.empty()) *out = Text(r[0][0]);
    return Status::OK();
  });
}

}  // namespace dwfs::store_internal
