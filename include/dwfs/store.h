// Store: the PostgreSQL metadata database (DAGs, runs, task instances and
// their tries, XCom, import errors, connections, variables, scheduler
// instances). Everything the scheduler, `dags backfill` and the state
// commands persist goes through this interface.
//
// Contracts:
// - Every method is one transaction (committed before it returns) unless
//   said otherwise. A broken connection is reopened and the transaction
//   retried once; after that the method returns Status::IOError naming the
//   operation ("store: save task instances: connection lost ..."). The
//   database URL (which may hold a password) never appears in a message.
// - Times are timestamptz; Instants in, Instants out (UTC).
// - Not thread-safe: one Store (one connection) per thread. Several Stores,
//   in one process or several, may use one database at once: uniqueness is
//   enforced by constraints and the scheduling transactions lock rows.
// - NotFound for a missing DAG, run, task instance, connection or variable;
//   AlreadyExists for a duplicate run id or logical date.
#ifndef DWFS_STORE_H_
#define DWFS_STORE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "dwfs/connection.h"
#include "dwfs/dag.h"
#include "dwfs/json.h"
#include "dwfs/run_plan.h"
#include "dwfs/status.h"
#include "dwfs/time_util.h"
#include "dwfs/users.h"

namespace dwfs {

// One row of the dag table.
struct DagRecord {
  std::string dag_id;
  std::string fileloc;      // the file it was loaded from
  std::string source;       // the file's text when last loaded without error
  std::string source_hash;  // hex digest of `source`
  std::string schedule;     // as written ("@daily", "0 2 * * *", "" for none)
  std::string timezone;
  std::vector<std::string> tags;
  bool is_paused = false;
  bool is_active = true;  // false once its file is gone (history kept)
  std::optional<Instant> last_parsed;
  // When the scheduler should next look at this DAG (create runs): set to
  // now when the DAG is new or changed or unpaused, else by the scheduler.
  std::optional<Instant> next_dagrun_check;
  // The logical date of the next run the schedule will create (for `dags list`).
  std::optional<Instant> next_logical_date;
};

struct RunRecord {
  std::string dag_id;
  RunInfo info;  // run_id, type, logical date, data interval, conf
  RunState state = RunState::kQueued;
  std::optional<Instant> queued_at;
  std::optional<Instant> start_date;
  std::optional<Instant> end_date;
  // The scheduler instance that drives this run (null: none; a backfill
  // process also registers as an instance).
  std::optional<int64_t> owner;
};

struct TaskInstanceRecord {
  std::string dag_id;
  std::string run_id;
  std::string task_id;
  TaskInstance ti;  // state, try_number, max_tries, dates, next retry, reason, xcom
  std::string hostname;
  std::optional<int> pid;
  std::string pool;
  std::string log_path;
  std::optional<double> duration;  // seconds, when finished
};

// One row per try (history). A try is written when it starts and updated
// when it ends.
struct TryRecord {
  std::string dag_id;
  std::string run_id;
  std::string task_id;
  int try_number = 0;
  TaskState state = TaskState::kRunning;  // running, success, failed, up_for_retry, skipped
  std::optional<Instant> start_date;
  std::optional<Instant> end_date;
  std::string hostname;
  std::optional<int> pid;
  std::string log_path;
  std::string reason;
};

struct ImportErrorRecord {
  std::string filepath;
  std::optional<int> line;
  std::string error;
  std::optional<Instant> timestamp;
};

struct SchedulerRecord {
  int64_t id = 0;
  std::string hostname;
  int pid = 0;
  std::optional<Instant> started;
  std::optional<Instant> latest_heartbeat;
  std::string state;  // "running", "stopped", "dead"
  std::string kind;   // "scheduler", "backfill", "tasks_run"
};

// What ScheduleDag's planner sees and decides.
struct ScheduleView {
  const DagRecord* dag = nullptr;
  // The latest logical date of any scheduled run of this DAG (any state).
  std::optional<Instant> latest_scheduled;
  int active_runs = 0;  // queued + running
};
struct SchedulePlan {
  std::vector<RunInfo> create;                // new scheduled runs, oldest first (queued)
  std::optional<Instant> next_check;          // when to look at this DAG again (null: never)
  std::optional<Instant> next_logical_date;   // for `dags list`
};
using SchedulePlanner = std::function<SchedulePlan(const ScheduleView&)>;

// A batch of task-instance and try changes written together (group commit).
struct StoreBatch {
  std::vector<TaskInstanceRecord> instances;  // upserted by (dag_id, run_id, task_id)
  std::vector<TryRecord> tries;               // upserted by (dag_id, run_id, task_id, try_number)
  std::vector<RunRecord> runs;                // state/start/end updated (not created)
};

struct DwfsMetrics;

// What Store::ListDagSummaries selects (Airflow's GET /dags filters).
struct DagFilter {
  bool only_active = true;           // inactive (deleted file) DAGs left out
  std::optional<bool> paused;        // unset: paused and unpaused
  std::string dag_id_contains;       // case-insensitive substring; "" = any
  std::vector<std::string> tags_any; // at least one of these tags; empty = any
  bool descending = false;           // by dag_id
  size_t limit = 100;
  size_t offset = 0;
};

class Store {
 public:
  // Connects to `url` and checks that the schema is at this binary's version
  // (FailedPrecondition "database schema is at version N, this dwfs needs M:
  // run dwfs db migrate" otherwise).
  static Status Open(const std::string& url, std::unique_ptr<Store>* out);
  virtual ~Store() = default;

  // From now on, every method whose transaction fails with a connection or
  // database error (IOError, Internal; not NotFound or AlreadyExists)
  // counts one in metrics->database_errors{operation, kind}. Null: none.
  // `metrics` must outlive the store; call before using the store.
  virtual void set_metrics(DwfsMetrics* metrics) = 0;

  // --- DAGs ---
  // Inserts or updates the DAG's row from a successful load (marks it
  // active, sets last_parsed). A new DAG gets is_paused = paused_at_creation
  // and next_dagrun_check = now; a changed source sets next_dagrun_check =
  // now. *changed (optional) tells whether anything but last_parsed changed.
  virtual Status SyncDag(const Dag& dag, const std::string& source, bool paused_at_creation, Instant now,
                         bool* changed) = 0;
  // Every active DAG whose id is not in `present` becomes inactive.
  virtual Status DeactivateMissing(const std::set<std::string>& present) = 0;
  virtual Status ListDags(std::vector<DagRecord>* out) = 0;  // by dag_id
  // One page of the DAGs that `filter` selects, without their source texts
  // (DagRecord::source empty; its hash is there), filtered, ordered and paged
  // by the database; *total is how many the filter selects in all.
  virtual Status ListDagSummaries(const DagFilter& filter, std::vector<DagRecord>* out, size_t* total) = 0;
  virtual Status GetDag(const std::string& dag_id, DagRecord* out) = 0;
  // Unpausing sets next_dagrun_check = now.
  virtual Status SetPaused(const std::string& dag_id, bool paused, Instant now) = 0;
  // Active, unpaused DAGs whose next_dagrun_check <= now.
  virtual Status DueDags(Instant now, std::vector<std::string>* dag_ids) = 0;
  // The earliest next_dagrun_check of any active, unpaused DAG.
  virtual Status NextDueTime(std::optional<Instant>* out) = 0;

  // --- import errors ---
  // Replaces every stored import error with `errors`.
  virtual Status ReplaceImportErrors(const std::vector<ImportErrorRecord>& errors) = 0;
  virtual Status ListImportErrors(std::vector<ImportErrorRecord>* out) = 0;

  // --- runs ---
  // Creates a run (state `state`, queued_at now) and sets the DAG's
  // next_dagrun_check to now if it was later (so a scheduler looks at it at
  // once). AlreadyExists when the run id or the logical date is taken for
  // this DAG; NotFound when the DAG is not stored.
  virtual Status CreateRun(const std::string& dag_id, const RunInfo& info, RunState state, Instant now,
                           std::optional<int64_t> owner) = 0;
  virtual Status GetRun(const std::string& dag_id, const std::string& run_id, RunRecord* out) = 0;
  virtual Status FindRunAt(const std::string& dag_id, Instant logical_date, RunRecord* out) = 0;
  // By logical date, newest first; `state` filters when set.
  virtual Status ListRuns(const std::string& dag_id, std::optional<RunState> state, std::vector<RunRecord>* out) = 0;
  // The latest `per_dag` runs (by logical date, newest first) of each DAG in
  // `dag_ids`; DAGs without runs are absent from *out.
  virtual Status ListLatestRuns(const std::vector<std::string>& dag_ids, int per_dag,
                                std::map<std::string, std::vector<RunRecord>>* out) = 0;
  // depends_on_past: the task states of the run before `logical_date`
  // (task_id -> state); empty map when there is none.
  virtual Status PreviousRunStates(const std::string& dag_id, Instant logical_date,
                                   std::map<std::string, TaskState>* out) = 0;
  // One scheduling step for a DAG, in one transaction: locks the DAG's row
  // (FOR UPDATE SKIP LOCKED; *locked = false and nothing else happens when
  // another scheduler holds it), calls `planner`, inserts the runs it asks
  // for (skipping logical dates already taken), stores next_check and
  // next_logical_date, then moves queued runs to running, oldest first,
  // while fewer than `max_active_runs` are running, setting their
  // start_date and owner = `owner`. *started gets the runs made running.
  virtual Status ScheduleDag(const std::string& dag_id, int64_t owner, int max_active_runs, Instant now,
                             const SchedulePlanner& planner, bool* locked, std::vector<RunRecord>* started) = 0;
  // Runs in state running whose owner is `owner` (to resume) .
  virtual Status OwnedRuns(int64_t owner, std::vector<RunRecord>* out) = 0;
  // Gives every running run owned by a dead scheduler (one marked dead, see
  // MarkDeadSchedulers) to `owner`; returns them.
  virtual Status AdoptRuns(int64_t owner, std::vector<RunRecord>* out) = 0;
  // Clears the owner of `owner`'s runs (graceful shutdown: another
  // scheduler may take them at once).
  virtual Status ReleaseRuns(int64_t owner) = 0;
  // Runs of type backfill that have an owner belong to the `dags backfill`
  // process that owns them (alive or not): ScheduleDag and AdoptRuns never
  // take them; only ClaimBackfillRun does. A cleared backfill run (owner
  // null) is the scheduler's like any other.

  // --- backfill ---
  enum class ClaimOutcome {
    kCreated,   // there was no run: it was inserted, running and owned by `owner`
    kClaimed,   // the existing run is running and owned by `owner` now
    kNoRoom,    // max_active_runs runs of the DAG are running
    kBusy,      // another live instance (a scheduler, a backfill) drives it
    kFinished,  // it has finished (success or failed) and nothing was to clear
  };
  // `dags backfill`: takes the run of `dag_id` at info.logical_date for the
  // backfill instance `owner`, in one transaction that locks the DAG's row
  // (waiting for a scheduling step that holds it):
  // - no run at that date: inserts one from `info` (its run id, type,
  //   interval, conf), running and owned by `owner`, when fewer than
  //   max_active_runs runs of the DAG are running (kCreated; else kNoRoom);
  // - a run owned by another instance in state running: kBusy;
  // - a finished run with `clear` empty: kFinished;
  // - otherwise (finished with tasks to clear, or queued or running with no
  //   owner, or owned by `owner`, or by a stopped or dead instance): when
  //   room (the run itself not counted), the task instances named in `clear`
  //   are cleared (as ClearTaskInstances does) and the run is made running,
  //   owned by `owner`, end_date null, start_date kept or set; else kNoRoom.
  // *run is the run after the call (unset for kNoRoom on a missing run).
  virtual Status ClaimBackfillRun(const std::string& dag_id, const RunInfo& info,
                                  const std::vector<std::string>& clear, int64_t owner, int max_active_runs,
                                  Instant now, ClaimOutcome* outcome, RunRecord* run) = 0;
  // An interrupted backfill: `owner`'s unfinished runs go back to queued and
  // stay owned by it (a stopped instance), so that no scheduler starts them
  // and the same backfill command resumes them.
  virtual Status ParkRuns(int64_t owner) = 0;

  // --- task instances ---
  // Every stored instance of a run (by task_id).
  virtual Status ListTaskInstances(const std::string& dag_id, const std::string& run_id,
                                   std::vector<TaskInstanceRecord>* out) = 0;
  // The same for several runs of a DAG at once (by run_id, then task_id),
  // without their XCom values (ti.xcom unset): for overviews.
  virtual Status ListTaskInstancesOfRuns(const std::string& dag_id, const std::vector<std::string>& run_ids,
                                         std::vector<TaskInstanceRecord>* out) = 0;
  // Writes a batch in one transaction, only for runs owned by `owner` (when
  // set): rows of runs owned by someone else are skipped and their run ids
  // returned in *lost (the run was adopted or cleared elsewhere).
  virtual Status Apply(const StoreBatch& batch, std::optional<int64_t> owner, std::set<std::string>* lost) = 0;
  virtual Status ListTries(const std::string& dag_id, const std::string& run_id, const std::string& task_id,
                           std::vector<TryRecord>* out) = 0;
  // `tasks clear`: resets the named instances of a run to state none with
  // try counts kept (max_tries raised so each gets its retries again), and
  // reopens the run (state queued, end_date null, owner null, cleared_at
  // now). Missing instances are ignored.
  virtual Status ClearTaskInstances(const std::string& dag_id, const std::string& run_id,
                                    const std::vector<std::string>& task_ids, Instant now) = 0;
  // "Mark success/failed": sets the named instances to `state` (success or
  // failed; end_date now when unset, note "marked <state>") and reopens the
  // run as ClearTaskInstances does, so that a scheduler carries it on from
  // there. FailedPrecondition naming the task when one of them is queued or
  // running (its process is still at work), NotFound when the run or one of
  // the instances does not exist; nothing is changed then.
  virtual Status MarkTaskInstances(const std::string& dag_id, const std::string& run_id,
                                   const std::vector<std::string>& task_ids, TaskState state, Instant now) = 0;
  // The XCom value of the latest successful try of a task in a run.
  virtual Status GetXcom(const std::string& dag_id, const std::string& run_id, const std::string& task_id,
                         std::optional<std::string>* out) = 0;

  // --- scheduler instances ---
  virtual Status RegisterScheduler(const std::string& hostname, int pid, const std::string& kind, Instant now,
                                   int64_t* id) = 0;
  virtual Status Heartbeat(int64_t id, Instant now) = 0;
  virtual Status StopScheduler(int64_t id) = 0;
  // Marks "running" instances whose heartbeat is older than now - threshold
  // as "dead"; returns them.
  virtual Status MarkDeadSchedulers(Instant now, Seconds threshold, std::vector<SchedulerRecord>* dead) = 0;
  virtual Status ListSchedulers(std::vector<SchedulerRecord>* out) = 0;

  // --- users (the API's basic auth) ---
  // AlreadyExists when the username is taken.
  virtual Status CreateUser(const UserRecord& user, Instant now) = 0;
  virtual Status GetUser(const std::string& username, UserRecord* out) = 0;
  virtual Status ListUsers(std::vector<UserRecord>* out) = 0;  // by username
  virtual Status DeleteUser(const std::string& username) = 0;
  virtual Status SetUserPassword(const std::string& username, const std::string& password_hash) = 0;

  // --- connections and variables ---
  // Stores `uri` (parsed first: InvalidArgument without quoting it).
  virtual Status AddConnection(const std::string& conn_id, const std::string& uri) = 0;
  virtual Status GetConnection(const std::string& conn_id, Connection* out) = 0;
  virtual Status ListConnections(std::vector<Connection>* out) = 0;
  virtual Status DeleteConnection(const std::string& conn_id) = 0;
  virtual Status SetVariable(const std::string& key, const std::string& value) = 0;
  virtual Status GetVariable(const std::string& key, std::string* value) = 0;
  virtual Status ListVariables(std::map<std::string, std::string>* out) = 0;
  virtual Status DeleteVariable(const std::string& key) = 0;
};

// Connections from the store (the second source after the environment).
// Reads through a Store it does not own; not thread-safe (like the Store).
class StoreConnectionSource : public ConnectionSource {
 public:
  explicit StoreConnectionSource(Store* store) : store_(store) {}
  Status Get(const std::string& conn_id, Connection* out) const override;

 private:
  Store* store_;
};

}  // namespace dwfs

#endif  // DWFS_STORE_H_
