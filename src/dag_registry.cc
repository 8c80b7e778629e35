#include "dwfs/dag_registry.h"

#include "dwfs/dwfs_metrics.h"

namespace dwfs {

namespace {

bool SameErrors(const std::vector<ImportError>& a, const std::vector<ImportError>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].filepath != b[i].filepath || a[i].line != b[i].line || a[i].message != b[i].message) return false;
  }
  return true;
}

}  // namespace

DagRegistry::DagRegistry(Store& store, std::string dags_folder, DagDefaults defaults, bool paused_at_creation,
                         DwfsMetrics* metrics)
    : store_(store),
      folder_(std::move(dags_folder)),
      defaults_(std::move(defaults)),
      paused_at_creation_(paused_at_creation),
      metrics_(metrics) {}

std::shared_ptr<const Dag> DagRegistry::Get(const std::string& dag_id) const {
  auto it = dags_.find(dag_id);
  return it == dags_.end() ? nullptr : it->second;
}

void DagRegistry::RestoreFromStore(const std::string& file,
                                   std::map<std::string, std::shared_ptr<const Dag>>* into) {
  for (const DagRecord& r : stored_) {
    if (r.fileloc != file || !r.is_active || into->count(r.dag_id) || r.source.empty()) continue;
    auto dag = std::make_shared<Dag>();
    ImportError ignored;
    if (ParseDagText(r.source, r.fileloc, defaults_, dag.get(), &ignored) && dag->dag_id == r.dag_id) {
      (*into)[r.dag_id] = std::move(dag);
      synced_hash_[r.dag_id] = r.source_hash;
    }
  }
}

Status DagRegistry::Reload(Instant now, RegistryChange* change) {
  std::optional<DwfsMetrics::TimePoint> parse_start;
  if (metrics_) parse_start = metrics_->now();
  DagBag bag = LoadDagFolder(folder_, defaults_);
  if (metrics_) {
    metrics_->dag_parse_duration.Observe(metrics_->SecondsSince(*parse_start));
    metrics_->dag_import_errors.Set(double(bag.errors.size()));
  }
  Status first_error;
  auto note = [&](const Status& st) {
    if (!st.ok() && first_error.ok()) first_error = st;
  };
  if (!restored_) {
    Status st = store_.ListDags(&stored_);
    note(st);
    restored_ = st.ok();
  }

  std::map<std::string, std::shared_ptr<const Dag>> next;
  for (const auto& dag : bag.dags) next[dag->dag_id] = dag;
  // A broken file keeps the DAGs it defined before.
  std::set<std::string> broken;
  for (const ImportError& e : bag.errors) broken.insert(e.filepath);
  for (const auto& [id, dag] : dags_) {
    if (!next.count(id) && broken.count(dag->fileloc)) next[id] = dag;
  }
  for (const std::string& file : broken) RestoreFromStore(file, &next);
  if (restored_) stored_.clear();

  change->changed.clear();
  change->removed.clear();
  for (const auto& [id, dag] : next) {
    auto it = synced_hash_.find(id);
    if (it != synced_hash_.end() && it->second == dag->source_hash) continue;
    std::string source;
    ImportError unread;
    if (!ReadDagSource(dag->fileloc, &source, &unread)) continue;  // vanished meanwhile: next reload sees it
    bool changed = false;
    Status st = store_.SyncDag(*dag, source, paused_at_creation_ || dag->is_paused_upon_creation, now, &changed);
    note(st.WithPrefix("DAG " + id));
    if (st.ok()) synced_hash_[id] = dag->source_hash;
    auto old = dags_.find(id);
    if (old == dags_.end() || old->second->source_hash != dag->source_hash) change->changed.push_back(id);
  }
  for (const auto& [id, dag] : dags_) {
    if (!next.count(id)) {
      change->removed.push_back(id);
      synced_hash_.erase(id);
    }
  }
  std::set<std::string> present;
  for (const auto& [id, dag] : next) present.insert(id);
  if (!present_ever_synced_ || present != present_synced_) {
    Status st = store_.DeactivateMissing(present);
    note(st);
    if (st.ok()) {
      present_synced_ = present;
      present_ever_synced_ = true;
    }
  }
  if (!errors_synced_ || !SameErrors(errors_, bag.errors)) {
    std::vector<ImportErrorRecord> records;
    for (const ImportError& e : bag.errors) records.push_back({e.filepath, e.line, e.message, now});
    Status st = store_.ReplaceImportErrors(records);
    note(st);
    errors_synced_ = st.ok();
  }
  dags_ = std::move(next);
  errors_ = std::move(bag.errors);
  return first_error;
}

Status StoreDagIfNew(Store& store, const Dag& dag, Instant now) {
  DagRecord rec;
  Status st = store.GetDag(dag.dag_id, &rec);
  if (st.code() != Status::Code::kNotFound) return st;
  std::string text;
  ImportError unread;
  if (!ReadDagSource(dag.fileloc, &text, &unread)) return Status::IOError(unread.ToString());
  return store.SyncDag(dag, text, dag.is_paused_upon_creation, now, nullptr);
}

}  // namespace dwfs
