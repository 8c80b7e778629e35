// The dags folder: finding DAG files (.dwfsignore, dot-files) and loading
// them all into a DagBag.
#include <fnmatch.h>

#include <algorithm>
#include <atomic>
#include <exception>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <system_error>
#include <thread>

#include "dwfs/dag_loader.h"

namespace fs = std::filesystem;

namespace dwfs {

namespace {

struct IgnoreRule {
  fs::path base;  // folder holding the .dwfsignore
  std::string pattern;
  bool dir_only;
  bool anchored;
};

void ReadIgnoreFile(const fs::path& dir, std::vector<IgnoreRule>* rules) {
  std::ifstream in(dir / ".dwfsignore");
  std::string line;
  while (std::getline(in, line)) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.pop_back();
    size_t b = line.find_first_not_of(" \t");
    if (b == std::string::npos || line[b] == '#') continue;
    line = line.substr(b);
    IgnoreRule r{dir, line, false, false};
    if (r.pattern.size() > 1 && r.pattern.back() == '/') {
      r.dir_only = true;
      r.pattern.pop_back();
    }
    if (r.pattern.front() == '/') {
      r.anchored = true;
      r.pattern.erase(0, 1);
    }
    if (r.pattern.rfind("./", 0) == 0) {
      r.anchored = true;
      r.pattern.erase(0, 2);
    }
    rules->push_back(std::move(r));
  }
}

bool Ignored(const std::vector<IgnoreRule>& rules, const fs::path& p, bool is_dir) {
  for (const IgnoreRule& r : rules) {
    if (r.dir_only && !is_dir) continue;
    std::string rel = p.lexically_relative(r.base).generic_string();
    if (rel.empty() || rel.rfind("..", 0) == 0) continue;
    bool has_slash = r.pattern.find('/') != std::string::npos;
    if (has_slash || r.anchored) {
      // As in .gitignore, a wildcard in a path pattern stays within one folder.
      if (fnmatch(r.pattern.c_str(), rel.c_str(), FNM_PATHNAME) == 0) return true;
    } else if (fnmatch(r.pattern.c_str(), p.filename().c_str(), 0) == 0) {
      return true;
    }
  }
  return false;
}

bool IsDagFileName(const fs::path& p) {
  std::string ext = p.extension().string();
  return ext == ".yaml" || ext == ".yml";
}

// `visited` holds the canonical path of every folder walked so far: symlinked
// folders are followed, but a folder reached twice (a symlink loop, or two
// links to one folder) is walked once, so the walk stays finite and no file
// is listed twice.
void Walk(const fs::path& dir, std::vector<IgnoreRule> rules, int depth, std::set<fs::path>* visited,
          std::vector<std::string>* out) {
  if (depth > 64) return;
  std::error_code ec;
  fs::path real = fs::canonical(dir, ec);
  if (ec || !visited->insert(real).second) return;
  if (fs::exists(dir / ".dwfsignore", ec)) ReadIgnoreFile(dir, &rules);
  std::vector<fs::directory_entry> entries;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) entries.push_back(*it);
  std::sort(entries.begin(), entries.end(),
            [](const fs::directory_entry& a, const fs::directory_entry& b) { return a.path() < b.path(); });
  for (const fs::directory_entry& e : entries) {
    const fs::path& p = e.path();
    if (p.filename().string().rfind('.', 0) == 0) continue;  // dot-files and dot-folders
    bool is_dir = e.is_directory(ec);
    if (Ignored(rules, p, is_dir)) continue;
    if (is_dir) {
      Walk(p, rules, depth + 1, visited, out);
    } else if (IsDagFileName(p) && e.is_regular_file(ec)) {
      out->push_back(p.string());
    }
  }
}

}  // namespace

std::vector<std::string> ListDagFiles(const std::string& folder) {
  std::vector<std::string> out;
  std::error_code ec;
  if (!fs::is_directory(folder, ec)) return out;
  std::set<fs::path> visited;
  Walk(fs::path(folder), {}, 0, &visited, &out);
  std::sort(out.begin(), out.end());
  return out;
}

bool ReadDagSource(const std::string& path, std::string* text, ImportError* error) {
  std::error_code ec;
  auto size = fs::file_size(path, ec);
  if (ec) {
    *error = ImportError{path, std::nullopt, "cannot read: " + ec.message()};
    return false;
  }
  if (size > kMaxDagFileBytes) {
    *error = ImportError{path, std::nullopt, "file larger than " + std::to_string(kMaxDagFileBytes >> 20) + " MiB"};
    return false;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = ImportError{path, std::nullopt, "cannot open file"};
    return false;
  }
  text->resize(size_t(size));
  in.read(text->data(), std::streamsize(size));
  text->resize(size_t(in.gcount()));
  return true;
}

bool LoadDagFile(const std::string& path, const DagDefaults& defaults, Dag* out, ImportError* error) {
  std::string text;
  return ReadDagSource(path, &text, error) && ParseDagText(text, path, defaults, out, error);
}

const Dag* DagBag::Find(std::string_view dag_id) const {
  auto it = std::lower_bound(dags.begin(), dags.end(), dag_id,
                             [](const std::shared_ptr<const Dag>& d, std::string_view id) { return d->dag_id < id; });
  return it != dags.end() && (*it)->dag_id == dag_id ? it->get() : nullptr;
}

namespace {

// The outcome of loading one file: `dag` when it loaded, else `error`; or
// `exception` when one escaped the loader (std::bad_alloc, say).
struct FileResult {
  std::shared_ptr<Dag> dag;
  ImportError error;
  std::exception_ptr exception;
};

// Loads files[i] into result i, on up to hardware_concurrency threads (the
// caller's included) taking the next unclaimed file as they go. Each result
// is written by one thread only, so the results are the same as a sequential
// loop's whatever the thread count or finishing order. If a thread cannot be
// started, the ones running (at least the caller's) do all the work.
std::vector<FileResult> LoadFiles(const std::vector<std::string>& files, const DagDefaults& defaults) {
  std::vector<FileResult> results(files.size());
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i = next++; i < files.size(); i = next++) {
      FileResult& r = results[i];
      try {
        auto dag = std::make_shared<Dag>();
        if (LoadDagFile(files[i], defaults, dag.get(), &r.error)) r.dag = std::move(dag);
      } catch (...) {
        r.exception = std::current_exception();
      }
    }
  };
  const size_t threads = std::min<size_t>(std::max(1u, std::thread::hardware_concurrency()), files.size());
  std::vector<std::thread> workers;
  for (size_t t = 1; t < threads; ++t) {
    try {
      workers.emplace_back(work);
    } catch (const std::system_error&) {
      break;
    }
  }
  work();
  for (std::thread& w : workers) w.join();
  return results;
}

}  // namespace

std::shared_ptr<const Dag> DagBag::Shared(std::string_view dag_id) const {
  auto it = std::lower_bound(dags.begin(), dags.end(), dag_id,
                             [](const std::shared_ptr<const Dag>& d, std::string_view id) { return d->dag_id < id; });
  return it != dags.end() && (*it)->dag_id == dag_id ? *it : nullptr;
}

DagBag LoadDagFolder(const std::string& folder, const DagDefaults& defaults) {
  DagBag bag;
  bag.files = ListDagFiles(folder);
  std::vector<FileResult> results = LoadFiles(bag.files, defaults);
  // Merged in file order, as a sequential load would: the first exception
  // (in file order) propagates.
  std::map<std::string, std::vector<std::shared_ptr<Dag>>> by_id;
  for (FileResult& r : results) {
    if (r.exception) std::rethrow_exception(r.exception);
    if (r.dag) {
      std::string id = r.dag->dag_id;
      by_id[id].push_back(std::move(r.dag));
    } else {
      bag.errors.push_back(std::move(r.error));
    }
  }
  for (auto& [id, dags] : by_id) {
    if (dags.size() == 1) {
      bag.dags.push_back(std::move(dags.front()));
      continue;
    }
    for (const auto& d : dags) {
      std::string others;
      for (const auto& o : dags) {
        if (o != d) others += (others.empty() ? "" : ", ") + o->fileloc;
      }
      bag.errors.push_back(ImportError{d->fileloc, std::nullopt,
                                       "duplicate dag_id '" + id + "': also defined in " + others});
    }
  }
  std::sort(bag.errors.begin(), bag.errors.end(),
            [](const ImportError& a, const ImportError& b) { return a.filepath < b.filepath; });
  return bag;
}

}  // namespace dwfs
