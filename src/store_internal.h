// Helpers shared by the PostgreSQL store and the migrations (not public):
// connecting without leaking the URL's password, turning server messages
// into one-line errors, and small value encodings.
// Pure functions apart from Connect(); thread-safe.
#ifndef DWFS_STORE_INTERNAL_H_
#define DWFS_STORE_INTERNAL_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include <pqxx/pqxx>

#include "dwfs/status.h"
#include "dwfs/store.h"

namespace dwfs::store_internal {

// `message` with every secret of `url` (its password, as written and
// decoded, and any password=... parameter) replaced by "***".
std::string MaskUrlSecrets(const std::string& message, const std::string& url);

// A server or libpq message as one line: the first non-empty line, with a
// leading "ERROR:" / "FATAL:" severity removed and surrounding blanks
// trimmed.
std::string OneLine(const std::string& message);

// Opens a connection to `url` with notices below WARNING silenced.
// IOError("cannot connect to the metadata database: <libpq message>"), the
// message masked with MaskUrlSecrets.
Status Connect(const std::string& url, std::unique_ptr<pqxx::connection>* out);


// A PostgreSQL array literal ("{\"a\",\"b\"}") for a text[] parameter.
std::string TextArrayLiteral(const std::vector<std::string>& items);

// --- The PostgreSQL Store (store.cc, store_runs.cc) ---

// Query parameters built at run time; nullopt values are SQL NULL.
// Instants are passed as epoch seconds: write `to_timestamp($n::float8)`.
class Params {
 public:
  Params& Add(const std::string& s) { return Put(s); }
  Params& Add(const char* s) { return Put(std::string(s)); }
  Params& Add(bool b) { return Put(b ? "true" : "false"); }
  Params& Add(double d) { return Put(pqxx::to_string(d)); }
  Params& Add(Instant t) { return Put(std::to_string(t.time_since_epoch().count())); }
  template <typename T>
    requires std::is_integral_v<T>
  Params& Add(T v) {
    return Put(std::to_string(v));
  }
  template <typename T>
  Params& Add(const std::optional<T>& v) {
    if (v) return Add(*v);
    values_.emplace_back();
    return *this;
  }
  pqxx::result Exec(pqxx::transaction_base& tx, const std::string& sql) const;

 private:
  Params& Put(std::string s) {
    values_.emplace_back(std::move(s));
    return *this;
  }
  std::vector<std::optional<std::string>> values_;
};

// The channel of scheduler wake-ups (LISTEN dwfs_wake): sent, on commit, by
// every change another process makes that a scheduler must act on (a
// trigger, an unpause, a clear). The payload is the dag_id.
constexpr char kWakeChannel[] = "dwfs_wake";

// In `tx`: makes the DAG due now (if it was due later) and notifies the
// schedulers on kWakeChannel.
void WakeSchedulers(pqxx::transaction_base& tx, const std::string& dag_id, Instant now);
// Resets the named task instances of a run to state none, keeping their
// try counts (max_tries grows by the tries used, so each gets its retries
// again). The run's row is the caller's business.
void ClearInstances(pqxx::transaction_base& tx, const std::string& dag_id, const std::string& run_id,
                    const std::vector<std::string>& task_ids);

// The epoch-seconds form of a timestamptz column, for reading with Time().
#define DWFS_EPOCH(col) "EXTRACT(EPOCH FROM " col ")::bigint"

std::optional<Instant> Time(const pqxx::field& f);
std::optional<int64_t> OptInt(const pqxx::field& f);
std::string Text(const pqxx::field& f);  // "" for NULL

// Column lists and their readers (the order is part of the contract).
extern const char* const kRunColumns;  // of dag_run AS r
void ReadRun(const pqxx::row& row, RunRecord* out);

class PgStore : public Store {
 public:
  PgStore(std::string url, std::unique_ptr<pqxx::connection> conn) : url_(std::move(url)), conn_(std::move(conn)) {}

  void set_metrics(DwfsMetrics* metrics) override { metrics_ = metrics; }

  Status SyncDag(const Dag& dag, const std::string& source, bool paused_at_creation, Instant now,
                 bool* changed) override;
  Status DeactivateMissing(const std::set<std::string>& present) override;
  Status ListDags(std::vector<DagRecord>* out) override;
  Status ListDagSummaries(const DagFilter& filter, std::vector<DagRecord>* out, size_t* total) override;
  Status GetDag(const std::string& dag_id, DagRecord* out) override;
  Status SetPaused(const std::string& dag_id, bool paused, Instant now) override;
  Status DueDags(Instant now, std::vector<std::string>* dag_ids) override;
  Status NextDueTime(std::optional<Instant>* out) override;

  Status ReplaceImportErrors(const std::vector<ImportErrorRecord>& errors) override;
  Status ListImportErrors(std::vector<ImportErrorRecord>* out) override;

  Status CreateRun(const std::string& dag_id, const RunInfo& info, RunState state, Instant now,
                   std::optional<int64_t> owner) override;
  Status GetRun(const std::string& dag_id, const std::string& run_id, RunRecord* out) override;
  Status FindRunAt(const std::string& dag_id, Instant logical_date, RunRecord* out) override;
  Status ListRuns(const std::string& dag_id, std::optional<RunState> state, std::vector<RunRecord>* out) override;
  Status PreviousRunStates(const std::string& dag_id, Instant logical_date,
                           std::map<std::string, TaskState>* out) override;
  Status ScheduleDag(const std::string& dag_id, int64_t owner, int max_active_runs, Instant now,
                     const SchedulePlanner& planner, bool* locked, std::vector<RunRecord>* started) override;
  Status OwnedRuns(int64_t owner, std::vector<RunRecord>* out) override;
  Status AdoptRuns(int64_t owner, std::vector<RunRecord>* out) override;
  Status ReleaseRuns(int64_t owner) override;
  Status ClaimBackfillRun(const std::string& dag_id, const RunInfo& info, const std::vector<std::string>& clear,
                          int64_t owner, int max_active_runs, Instant now, ClaimOutcome* outcome,
                          RunRecord* run) override;
  Status ParkRuns(int64_t owner) override;

  Status ListLatestRuns(const std::vector<std::string>& dag_ids, int per_dag,
                        std::map<std::string, std::vector<RunRecord>>* out) override;
  Status ListTaskInstancesOfRuns(const std::string& dag_id, const std::vector<std::string>& run_ids,
                                 std::vector<TaskInstanceRecord>* out) override;
  Status MarkTaskInstances(const std::string& dag_id, const std::string& run_id,
                           const std::vector<std::string>& task_ids, TaskState state, Instant now) override;
  Status ListTaskInstances(const std::string& dag_id, const std::string& run_id,
                           std::vector<TaskInstanceRecord>* out) override;
  Status Apply(const StoreBatch& batch, std::optional<int64_t> owner, std::set<std::string>* lost) override;
  Status ListTries(const std::string& dag_id, const std::string& run_id, const std::string& task_id,
                   std::vector<TryRecord>* out) override;
  Status ClearTaskInstances(const std::string& dag_id, const std::string& run_id,
                            const std::vector<std::string>& task_ids, Instant now) override;
  Status GetXcom(const std::string& dag_id, const std::string& run_id, const std::string& task_id,
                 std::optional<std::string>* out) override;

  Status RegisterScheduler(const std::string& hostname, int pid, const std::string& kind, Instant now,
                           int64_t* id) override;
  Status Heartbeat(int64_t id, Instant now) override;
  Status StopScheduler(int64_t id) override;
  Status MarkDeadSchedulers(Instant now, Seconds threshold, std::vector<SchedulerRecord>* dead) override;
  Status ListSchedulers(std::vector<SchedulerRecord>* out) override;

  Status CreateUser(const UserRecord& user, Instant now) override;
  Status GetUser(const std::string& username, UserRecord* out) override;
  Status ListUsers(std::vector<UserRecord>* out) override;
  Status DeleteUser(const std::string& username) override;
  Status SetUserPassword(const std::string& username, const std::string& password_hash) override;
  Status AddConnection(const std::string& conn_id, const std::string& uri) override;
  Status GetConnection(const std::string& conn_id, Connection* out) override;
  Status ListConnections(std::vector<Connection>* out) override;
  Status DeleteConnection(const std::string& conn_id) override;
  Status SetVariable(const std::string& key, const std::string& value) override;
  Status GetVariable(const std::string& key, std::string* value) override;
  Status ListVariables(std::map<std::string, std::string>* out) override;
  Status DeleteVariable(const std::string& key) override;

 private:
  using Body = std::function<Status(pqxx::work&)>;
  // Runs `body` in one transaction and commits it when it returns OK (a
  // non-OK Status rolls back and is returned). On a broken connection,
  // reconnects and runs `body` again once; bodies must therefore reset
  // their outputs first. Database errors become a Status naming
  // `operation` ("store: <operation>: <server message>").
  Status Transact(const char* operation, const Body& body);
  // Instances of runs of a DAG; their XCom values only `with_xcom` (one
  // more lookup per row).
  Status ReadInstances(const std::string& dag_id, const std::vector<std::string>& run_ids, bool with_xcom,
                       std::vector<TaskInstanceRecord>* out);
  // Counts a failed transaction in metrics_ (when set); returns `st`.
  Status Failed(const char* operation, const char* kind, Status st);

  std::string url_;  // holds the password: never in a message
  std::unique_ptr<pqxx::connection> conn_;  // null after a failed reconnect
  DwfsMetrics* metrics_ = nullptr;
};

}  // namespace dwfs::store_internal

#endif  // DWFS_STORE_INTERNAL_H_
