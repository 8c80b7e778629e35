// DagRegistry: the scheduler's view of the dags folder. Loads the folder,
// keeps each DAG's last good definition, and syncs DAG rows, active flags
// and import errors into the Store.
//
// - A new or changed file (by content hash) is written with Store::SyncDag;
//   an unchanged one costs no database write.
// - A file that fails to load keeps the DAGs it defined before (last good
//   definition, also across restarts: restored from the source stored with
//   the DAG) and its import error is stored.
// - A DAG whose file is gone (or no longer defines it) becomes inactive;
//   its history stays.
//
// Thread safety: one thread. The store must outlive the registry.
#ifndef DWFS_DAG_REGISTRY_H_
#define DWFS_DAG_REGISTRY_H_

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "dwfs/dag_loader.h"
#include "dwfs/store.h"

namespace dwfs {

struct DwfsMetrics;

struct RegistryChange {
  std::vector<std::string> changed;  // new or changed definitions
  std::vector<std::string> removed;  // no longer defined by any file
};

class DagRegistry {
 public:
  // `metrics` (may be null; must outlive the registry) gets each folder
  // parse's duration and the number of import errors.
  DagRegistry(Store& store, std::string dags_folder, DagDefaults defaults, bool paused_at_creation,
              DwfsMetrics* metrics = nullptr);

  // Loads the folder and syncs the store. On a store error, the in-memory
  // view is still updated and the error returned (the next Reload retries
  // every write, as nothing is marked synced).
  Status Reload(Instant now, RegistryChange* change);

  // The current definition, or null.
  std::shared_ptr<const Dag> Get(const std::string& dag_id) const;
  const std::map<std::string, std::shared_ptr<const Dag>>& dags() const { return dags_; }
  const std::vector<ImportError>& errors() const { return errors_; }
  void set_defaults(DagDefaults d) { defaults_ = std::move(d); }

 private:
  // DAGs that a broken file defined in the store (a restart with a broken
  // file), parsed from their stored source.
  void RestoreFromStore(const std::string& file, std::map<std::string, std::shared_ptr<const Dag>>* into);

  Store& store_;
  std::string folder_;
  DagDefaults defaults_;
  bool paused_at_creation_;
  DwfsMetrics* metrics_;
  std::map<std::string, std::shared_ptr<const Dag>> dags_;
  std::map<std::string, std::string> synced_hash_;  // dag_id -> hash written to the store
  std::vector<ImportError> errors_;
  bool errors_synced_ = false;
  std::set<std::string> present_synced_;
  bool present_ever_synced_ = false;
  bool restored_ = false;  // the stored DAGs were read once
  std::vector<DagRecord> stored_;
};

// For commands that create runs without a scheduler (`dags trigger`, `dags
// backfill`): stores `dag` from its file when the store does not know it
// yet (a scheduler has not seen it). IOError naming the file when it cannot
// be read; the store's errors otherwise.
Status StoreDagIfNew(Store& store, const Dag& dag, Instant now);

}  // namespace dwfs

#endif  // DWFS_DAG_REGISTRY_H_
