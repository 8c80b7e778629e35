// Loading DAG files: one file into a Dag, or a whole dags folder into a
// DagBag with the import errors of the files that failed.
//
// A file that fails to load yields an ImportError and no Dag: nothing is
// half-loaded. Loading never aborts on bad input: the YAML is size- and
// depth-checked before parsing. Thread-safe (no shared state).
#ifndef DWFS_DAG_LOADER_H_
#define DWFS_DAG_LOADER_H_

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dwfs/config.h"
#include "dwfs/dag.h"
#include "dwfs/status.h"

namespace dwfs {

// Defaults that DAG files inherit from the configuration.
struct DagDefaults {
  std::string default_timezone = "UTC";
  bool catchup = true;
  int max_active_runs = 16;
  int max_active_tasks = 16;
  bool is_paused_upon_creation = false;
  std::string owner = "dwfs";
  int retries = 0;
  Seconds retry_delay{300};

  static DagDefaults FromConfig(const Config& config);
};

struct ImportError {
  std::string filepath;
  std::optional<int> line;  // 1-based; nullopt when YAML gives none
  std::string message;      // names the DAG and task at fault where known

  // "path:line: message" (or "path: message").
  std::string ToString() const;
};

// Largest DAG file accepted.
constexpr size_t kMaxDagFileBytes = 8 << 20;

// Parses the text of one DAG file. On failure returns false, fills *error
// and leaves *out unchanged.
bool ParseDagText(std::string_view text, const std::string& filepath, const DagDefaults& defaults, Dag* out,
                  ImportError* error);

// The content hash of a DAG file's text (Dag::source_hash): FNV-1a 64, as 16
// lower-case hex digits.
std::string SourceHash(std::string_view text);

// Reads a DAG file's text (at most kMaxDagFileBytes). On failure returns
// false and fills *error (file, no line).
bool ReadDagSource(const std::string& path, std::string* text, ImportError* error);

// Reads and parses one file.
bool LoadDagFile(const std::string& path, const DagDefaults& defaults, Dag* out, ImportError* error);

struct DagBag {
  std::vector<std::shared_ptr<const Dag>> dags;  // sorted by dag_id
  std::vector<ImportError> errors;               // sorted by filepath
  std::vector<std::string> files;                // every DAG file considered

  const Dag* Find(std::string_view dag_id) const;
  // The shared DAG with this id, or null.
  std::shared_ptr<const Dag> Shared(std::string_view dag_id) const;
};

// Every DAG file under `folder` (recursive; names starting with '.' skipped;
// .dwfsignore globs honoured), sorted. A missing folder gives an empty list.
std::vector<std::string> ListDagFiles(const std::string& folder);

// Loads every DAG file under `folder`. Two files with one dag_id are both
// import errors naming each other.
DagBag LoadDagFolder(const std::string& folder, const DagDefaults& defaults);

}  // namespace dwfs

#endif  // DWFS_DAG_LOADER_H_
