// DagWatcher: inotify on every folder of the dags tree, or polling a tree
// signature; see dag_watcher.h for the contract.
#include "dwfs/dag_watcher.h"

#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>
#include <utility>
#include <vector>

namespace dwfs {

namespace fs = std::filesystem;
namespace asio = boost::asio;

namespace {

constexpr uint32_t kDirMask = IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE |
                              IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR;

// FNV-1a, 64 bit: the poll signature of the tree.
class Fnv {
 public:
  void Add(const void* data, size_t n) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (size_t i = 0; i < n; ++i) h_ = (h_ ^ p[i]) * 1099511628211ull;
  }
  void Add(const std::string& s) { Add(s.data(), s.size() + 1); }
  template <typename T>
  void AddValue(T v) { Add(&v, sizeof v); }
  uint64_t value() const { return h_; }

 private:
  uint64_t h_ = 14695981039346656037ull;
};

// Walks the folders of the tree under `root` (following symlinked folders,
// each folder once by device and inode), calling dir(path) for each folder
// and file(path, stat) for every other entry. Unreadable entries are
// skipped. Returns false when `root` is not a folder.
template <typename DirFn, typename FileFn>
bool WalkTree(const std::string& root, DirFn dir, FileFn file) {
  struct stat st;
  if (::stat(root.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return false;
  std::set<std::pair<dev_t, ino_t>> visited{{st.st_dev, st.st_ino}};
  std::vector<std::string> pending{root};
  while (!pending.empty()) {
    std::string path = std::move(pending.back());
    pending.pop_back();
    if (!dir(path)) continue;
    std::error_code ec;
    std::vector<std::string> names;
    for (fs::directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
      names.push_back(it->path().filename().string());
    }
    std::sort(names.begin(), names.end());  // a stable order for the signature
    for (const std::string& name : names) {
      std::string child = path + "/" + name;
      if (::stat(child.c_str(), &st) != 0) continue;  // gone, or a dangling symlink
      if (S_ISDIR(st.st_mode)) {
        if (visited.insert({st.st_dev, st.st_ino}).second) pending.push_back(child);
      } else {
        file(child, st);
      }
    }
  }
  return true;
}

}  // namespace

class DagWatcher::Impl : public std::enable_shared_from_this<DagWatcher::Impl> {
 public:
  Impl(asio::io_context& io, DagWatcherOptions options, std::function<void()> on_change,
       spdlog::logger* log)
      : options_(std::move(options)),
        on_change_(std::move(on_change)),
        log_(log),
        inotify_(io),
        debounce_timer_(io),
        poll_timer_(io) {}

  Status Start() {
    if (state_ != State::kNew) return Status::FailedPrecondition("dags folder watcher already started");
    state_ = State::kRunning;
    if (options_.force_poll) {
      StartPolling();
      return Status::OK();
    }
    int fd = ::inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    if (fd < 0) {
      Warn(std::string("inotify unavailable (") + std::strerror(errno) + ")");
      StartPolling();
      return Status::OK();
    }
    inotify_.assign(fd);
    if (!Rewalk()) return Status::OK();  // fell back to polling
    Read();
    return Status::OK();
  }

  void Stop() {
    if (state_ == State::kStopped) return;
    state_ = State::kStopped;
    debounce_timer_.cancel();
    poll_timer_.cancel();
    boost::system::error_code ec;
    inotify_.close(ec);  // drops every watch with the fd
    watches_.clear();
  }

  bool polling() const { return polling_; }

 private:
  enum class State { kNew, kRunning, kStopped };

  void Warn(const std::string& why) {
    if (log_ != nullptr) {
      log_->warn("dags folder {}: {}; polling every {} ms instead", options_.folder, why,
                 options_.poll_interval.count());
    }
  }

  // ---- inotify ----

  // Makes the watch set match the tree: adds a watch on every folder
  // (inotify_add_watch returns the existing descriptor for a folder already
  // watched) and removes watches on folders no longer in it. Arms the
  // existence check when the folder is missing. Returns false after
  // falling back to polling (watch limit).
  bool Rewalk() {
    std::map<int, std::string> seen;
    bool limit = false;
    bool exists = WalkTree(
        options_.folder,
        [&](const std::string& dir) {
          if (limit) return false;
          int wd = ::inotify_add_watch(inotify_.native_handle(), dir.c_str(), kDirMask);
          if (wd < 0) {
            if (errno == ENOSPC || errno == ENOMEM) limit = true;
            return false;  // gone meanwhile, or unreadable: skip its subtree
          }
          return seen.emplace(wd, dir).second;  // a folder reached twice: walk it once
        },
        [](const std::string&, const struct stat&) {});
    if (limit) {
      FallBackToPolling("the inotify watch limit was reached (fs.inotify.max_user_watches)");
      return false;
    }
    for (const auto& [wd, path] : watches_) {
      if (seen.count(wd) == 0) ::inotify_rm_watch(inotify_.native_handle(), wd);
    }
    watches_ = std::move(seen);
    if (!exists) ArmExistenceCheck();
    return true;
  }

  void Read() {
    auto self = shared_from_this();
    inotify_.async_read_some(asio::buffer(buffer_),
                             [self](const boost::system::error_code& ec, size_t n) {
                               self->OnRead(ec, n);
                             });
  }

  void OnRead(const boost::system::error_code& ec, size_t n) {
    if (state_ != State::kRunning || polling_) return;
    if (ec) {
      FallBackToPolling("reading inotify events failed (" + ec.message() + ")");
      return;
    }
    bool changed = false;
    bool rewalk = false;
    for (size_t off = 0; off + sizeof(inotify_event) <= n && !polling_;) {
      const auto* ev = reinterpret_cast<const inotify_event*>(buffer_.data() + off);
      off += sizeof(inotify_event) + ev->len;
      if (ev->mask & IN_Q_OVERFLOW) {
        changed = rewalk = true;
        continue;
      }
      if (ev->mask & IN_IGNORED) {
        watches_.erase(ev->wd);
        continue;
      }
      changed = true;
      if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF)) rewalk = true;
      if ((ev->mask & IN_ISDIR) && (ev->mask & (IN_MOVED_FROM | IN_MOVED_TO))) rewalk = true;
      if ((ev->mask & IN_ISDIR) && (ev->mask & IN_CREATE) && ev->len > 0) {
        // Watch the new folder now so files written into it right away are seen.
        auto parent = watches_.find(ev->wd);
        if (parent != watches_.end()) AddTree(parent->second + "/" + ev->name);
      }
    }
    if (rewalk) rewalk_pending_ = true;
    if (changed) Changed();
    if (state_ == State::kRunning && !polling_) Read();
  }

  // Watches `dir` and the folders under it (a folder just created).
  void AddTree(const std::string& dir) {
    bool limit = false;
    WalkTree(
        dir,
        [&](const std::string& d) {
          if (limit) return false;
          int wd = ::inotify_add_watch(inotify_.native_handle(), d.c_str(), kDirMask);
          if (wd < 0) {
            if (errno == ENOSPC || errno == ENOMEM) limit = true;
            return false;
          }
          return watches_.insert_or_assign(wd, d).second;
        },
        [](const std::string&, const struct stat&) {});
    if (limit) FallBackToPolling("the inotify watch limit was reached (fs.inotify.max_user_watches)");
  }

  // The folder is missing: check for it every poll_interval.
  void ArmExistenceCheck() {
    poll_timer_.expires_after(options_.poll_interval);
    auto self = shared_from_this();
    poll_timer_.async_wait([self](const boost::system::error_code& ec) {
      if (ec || self->state_ != State::kRunning || self->polling_) return;
      struct stat st;
      if (::stat(self->options_.folder.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
        if (self->Rewalk()) self->Changed();
      } else {
        self->ArmExistenceCheck();
      }
    });
  }

  // Something changed: call on_change once `debounce` after the first event.
  void Changed() {
    if (debounce_armed_ || state_ != State::kRunning) return;
    debounce_armed_ = true;
    debounce_timer_.expires_after(options_.debounce);
    auto self = shared_from_this();
    debounce_timer_.async_wait([self](const boost::system::error_code& ec) {
      self->debounce_armed_ = false;
      if (ec || self->state_ != State::kRunning) return;
      if (self->rewalk_pending_ && !self->polling_) {
        self->rewalk_pending_ = false;
        self->Rewalk();
      }
      self->on_change_();
    });
  }

  // ---- polling ----

  void FallBackToPolling(const std::string& why) {
    Warn(why);
    boost::system::error_code ec;
    inotify_.close(ec);
    watches_.clear();
    poll_timer_.cancel();
    StartPolling();
    Changed();  // events may have been missed
  }

  void StartPolling() {
    polling_ = true;
    signature_ = Signature();
    ArmPoll();
  }

  void ArmPoll() {
    poll_timer_.expires_after(options_.poll_interval);
    auto self = shared_from_this();
    poll_timer_.async_wait([self](const boost::system::error_code& ec) {
      if (ec || self->state_ != State::kRunning) return;
      uint64_t now = self->Signature();
      if (now != self->signature_) {
        self->signature_ = now;
        self->on_change_();
        if (self->state_ != State::kRunning) return;  // on_change stopped us
      }
      self->ArmPoll();
    });
  }

  // A hash of every path, type, size and mtime under the folder; 0 when the
  // folder is missing.
  uint64_t Signature() const {
    Fnv h;
    bool exists = WalkTree(
        options_.folder,
        [&](const std::string& dir) {
          h.Add(dir);
          return true;
        },
        [&](const std::string& path, const struct stat& st) {
          h.Add(path);
          h.AddValue(uint32_t(st.st_mode));
          h.AddValue(int64_t(st.st_size));
          h.AddValue(int64_t(st.st_mtim.tv_sec));
          h.AddValue(int64_t(st.st_mtim.tv_nsec));
          h.AddValue(uint64_t(st.st_ino));
        });
    return exists ? (h.value() | 1) : 0;
  }

  DagWatcherOptions options_;
  std::function<void()> on_change_;
  spdlog::logger* log_;
  State state_ = State::kNew;
  bool polling_ = false;
  bool debounce_armed_ = false;
  bool rewalk_pending_ = false;
  uint64_t signature_ = 0;
  asio::posix::stream_descriptor inotify_;
  asio::steady_timer debounce_timer_;
  asio::steady_timer poll_timer_;  // polling, or the check for a missing folder
  std::map<int, std::string> watches_;  // watch descriptor -> folder path
  alignas(inotify_event) std::array<char, 64 * 1024> buffer_;
};

DagWatcher::DagWatcher(asio::io_context& io, DagWatcherOptions options,
                       std::function<void()> on_change, spdlog::logger* log)
    : impl_(std::make_shared<Impl>(io, std::move(options), std::move(on_change), log)) {}

DagWatcher::~DagWatcher() { impl_->Stop(); }

Status DagWatcher::Start() { return impl_->Start(); }

void DagWatcher::Stop() { impl_->Stop(); }

bool DagWatcher::polling() const { return impl_->polling(); }

}  // namespace dwfs
