// The PostgreSQL Store, part three: what `dags backfill` needs beyond the
// scheduler's calls (claiming a run in its range, parking its runs when it
// is interrupted). See store.h for the contracts.
#include "dwfs/store.h"
#include "store_internal.h"

namespace dwfs::store_internal {

Status PgStore::ClaimBackfillRun(const std::string& dag_id, const RunInfo& info,
                                 const std::vector<std::string>& clear, int64_t owner, int max_active_runs,
                                 Instant now, ClaimOutcome* outcome, RunRecord* run) {
  return Transact("claim backfill run", [&](pqxx::work& tx) {
    *outcome = ClaimOutcome::kNoRoom;
    *run = RunRecord();
    // The DAG's row serializes this with the schedulers' steps for the DAG.
    if (Params().Add(dag_id).Exec(tx, "SELECT 1 FROM dag WHERE dag_id = $1 FOR UPDATE").empty()) {
      return Status::NotFound("DAG '" + dag_id + "' not found");
    }
    pqxx::result existing = Params().Add(dag_id).Add(info.logical_date).Exec(
        tx, std::string("SELECT ") + kRunColumns +
                ", (SELECT s.state FROM scheduler_instance s WHERE s.id = r.owner_id), r.id"
                " FROM dag_run r WHERE r.dag_id = $1 AND r.logical_date = to_timestamp($2::float8)");
    pqxx::result running_others = Params().Add(dag_id).Add(info.logical_date).Exec(
        tx,
        "SELECT COUNT(*) FROM dag_run WHERE dag_id = $1 AND state = 'running'"
        " AND logical_date <> to_timestamp($2::float8)");
    bool room = running_others[0][0].as<int>() < max_active_runs;

    if (existing.empty()) {
      if (!room) return Status::OK();
      Params()
          .Add(dag_id).Add(info.run_id).Add(RunTypeName(info.type)).Add(info.logical_date)
          .Add(info.data_interval.start).Add(info.data_interval.end).Add(info.conf.Dump()).Add(now).Add(owner)
          .Exec(tx,
                "INSERT INTO dag_run (dag_id, run_id, run_type, state, logical_date, data_interval_start,"
                " data_interval_end, conf, queued_at, start_date, owner_id) VALUES ($1, $2, $3, 'running',"
                " to_timestamp($4::float8), to_timestamp($5::float8), to_timestamp($6::float8), $7::jsonb,"
                " to_timestamp($8::float8), to_timestamp($8::float8), $9)");
      ReadRun(Params().Add(dag_id).Add(info.run_id).Exec(
                  tx, std::string("SELECT ") + kRunColumns + " FROM dag_run r WHERE r.dag_id = $1 AND r.run_id = $2")[0],
              run);
      *outcome = ClaimOutcome::kCreated;
      return Status::OK();
    }

    const pqxx::row& row = existing[0];
    ReadRun(row, run);
    std::string owner_state = Text(row[row.size() - 2]);
    int64_t row_id = row[row.size() - 1].as<int64_t>();
    bool finished = run->state == RunState::kSuccess || run->state == RunState::kFailed;
    if (run->owner && *run->owner != owner && owner_state == "running" && !finished) {
      *outcome = ClaimOutcome::kBusy;
      return Status::OK();
    }
    if (finished && clear.empty()) {
      *outcome = ClaimOutcome::kFinished;
      return Status::OK();
    }
    if (!room) return Status::OK();
    if (!clear.empty()) ClearInstances(tx, dag_id, run->info.run_id, clear);
    ReadRun(Params().Add(row_id).Add(owner).Add(now).Exec(
                tx, std::string("UPDATE dag_run r SET state = 'running', owner_id = $2, end_date = NULL,"
                                " start_date = COALESCE(r.start_date, to_timestamp($3::float8)) WHERE r.id = $1"
                                " RETURNING ") +
                        kRunColumns)[0],
            run);
    *outcome = ClaimOutcome::kClaimed;
    return Status::OK();
  });
}

Status PgStore::ParkRuns(int64_t owner) {
  return Transact("park runs", [&](pqxx::work& tx) {
    Params().Add(owner).Exec(tx, "UPDATE dag_run SET state = 'queued' WHERE owner_id = $1 AND state = 'running'");
    return Status::OK();
  });
}

}  // namespace dwfs::store_internal
