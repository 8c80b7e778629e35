#include "dwfs/local_executor.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <random>
#include <thread>
#include <utility>
#include <vector>

#include "dwfs/subprocess.h"
#include "log_file.h"

namespace asio = boost::asio;
namespace fs = std::filesystem;

namespace dwfs {

std::string MaskAll(std::string text, const std::vector<std::string>& secrets) {
  for (const std::string& s : secrets) {
    if (s.empty()) continue;
    for (size_t pos = text.find(s); pos != std::string::npos; pos = text.find(s, pos + 3)) {
      text.replace(pos, s.size(), "***");
    }
  }
  return text;
}

std::string LogLine(std::string_view text, const std::vector<std::string>& secrets) {
  auto now = std::chrono::system_clock::now();
  auto secs = std::chrono::floor<std::chrono::seconds>(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now - secs).count();
  std::string ts = FormatIso(Instant(secs.time_since_epoch()), TimeZone());
  char msbuf[8];
  std::snprintf(msbuf, sizeof msbuf, ".%03d", int(ms));
  ts.insert(19, msbuf);  // 2026-01-01T00:00:00.123+00:00
  return "[" + ts + "] " + MaskAll(std::string(text), secrets) + "\n";
}

namespace {

constexpr size_t kMaxLine = 1 << 20;  // longer lines are written in pieces

// Removes a directory and its contents now.
void RemoveDirNow(const std::string& path) {
  // Usually empty: one rmdir instead of remove_all's walk.
  if (::rmdir(path.c_str()) != 0 && errno != ENOENT) {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
}

// An fd closed on destruction unless released (handlers that never run).
class UniqueFd {
 public:
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&&) = delete;
  ~UniqueFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

}  // namespace

// The file-system chores of bash tries, off the io thread's path. Creating a
// folder or a file, and above all removing a folder, costs from 0.1 to
// several milliseconds on a busy disk (ext4 with online discard, no
// journal: inode allocation scans the recently freed ones), time that would
// otherwise sit between one task's exit and the start of the task it
// unblocks. So:
// - each try's log (folders and file) is opened on a helper thread and its
//   fd handed back on the io context; the try keeps its first lines in
//   memory meanwhile, and reports its result only once they are written;
// - temp dirs come from a small pool, refilled by the helper. A used temp
//   dir that is provably untouched (same inode, mode, owner, mtime and
//   ctime as when it was handed out: nothing was ever created, removed or
//   renamed in it) is renamed to a new random name and goes back to the
//   pool: as good as new, without deleting and creating a directory;
// - any other used temp dir is renamed into a private trash folder at once
//   (its name is gone when the try is reported) and deleted by the helper.
// Methods are for the io thread. The destructor finishes the logs asked
// for, deletes every temp dir left and joins the helper.
class LocalExecutor::FileChores {
 public:
  using LogOpened = std::function<void(int fd, std::string error)>;

  FileChores(asio::io_context& io, std::string temp_root)
      : io_(io), root_(std::move(temp_root)), random_(std::random_device{}()), helper_([this] { Loop(); }) {}

  ~FileChores() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    wake_.notify_all();
    helper_.join();
    for (const TempDir& d : pool_) RemoveDirNow(d.path);
    if (!trash_.empty()) RemoveDirNow(trash_);
  }

  // Opens `path` (LogFile::Open) on the helper; `done` runs on the io
  // context with the fd (now the caller's) or the error. Keeps the io
  // context busy until then.
  void OpenLog(std::string path, LogOpened done) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      logs_.push_back({std::move(path), std::move(done), asio::make_work_guard(io_)});
    }
    wake_.notify_one();
  }

  // A new (or as good as new) empty directory, private to the user (0700).
  Status TakeTempDir(std::string* path) {
    TempDir d;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!pool_.empty()) {
        d = std::move(pool_.back());
        pool_.pop_back();
      }
      want_spare_ = pool_.empty();
    }
    wake_.notify_one();
    if (d.path.empty()) DWFS_RETURN_IF_ERROR(MakeTempDir(&d));  // none ready (a burst of starts)
    *path = d.path;
    out_.emplace(d.path, d.stamp);
    return Status::OK();
  }

  // `path` (from TakeTempDir) disappears now: recycled, or deleted later.
  void ReleaseTempDir(const std::string& path) {
    struct stat was {};
    auto it = out_.find(path);
    bool known = it != out_.end();
    if (known) {
      was = it->second;
      out_.erase(it);
    }
    if (known && Recycle(path, was)) return;
    std::string trash;
    {
      std::lock_guard<std::mutex> lock(mu_);
      trash = trash_;
    }
    std::string moved = trash + "/" + fs::path(path).filename().string();
    if (trash.empty() || ::rename(path.c_str(), moved.c_str()) != 0) return RemoveDirNow(path);
    {
      std::lock_guard<std::mutex> lock(mu_);
      doomed_.push_back(std::move(moved));
    }
    wake_.notify_one();
  }

 private:
  static constexpr size_t kMaxPool = 8;

  struct LogJob {
    std::string path;
    LogOpened done;
    asio::executor_work_guard<asio::io_context::executor_type> busy;
  };
  struct TempDir {
    std::string path;
    struct stat stamp {};  // lstat when made or recycled
  };

  Status MakeTempDir(TempDir* d) const {
    std::string tmpl = root_ + "/dwfs-task-XXXXXX";
    if (!::mkdtemp(tmpl.data())) return Status::IOError(std::string("cannot create a temp dir: ") + std::strerror(errno));
    if (::lstat(tmpl.c_str(), &d->stamp) != 0) d->stamp = {};  // never matches: not recycled
    d->path = std::move(tmpl);
    return Status::OK();
  }

  static bool SameTime(const timespec& a, const timespec& b) { return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec; }

  // Puts `path` back into the pool under a new name if it is untouched.
  bool Recycle(const std::string& path, const struct stat& was) {
    struct stat now {};
    if (was.st_ino == 0 || ::lstat(path.c_str(), &now) != 0) return false;
    if (now.st_dev != was.st_dev || now.st_ino != was.st_ino || !S_ISDIR(now.st_mode) ||
        (now.st_mode & 07777) != 0700 || now.st_uid != ::geteuid() || now.st_nlink != 2 ||
        !SameTime(now.st_mtim, was.st_mtim) || !SameTime(now.st_ctim, was.st_ctim)) {
      return false;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (pool_.size() >= kMaxPool) return false;
    }
    static constexpr char kChars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    for (int attempt = 0; attempt < 8; ++attempt) {
      TempDir d;
      d.path = root_ + "/dwfs-task-";
      for (int i = 0; i < 6; ++i) d.path += kChars[random_() % (sizeof kChars - 1)];
      if (::renameat2(AT_FDCWD, path.c_str(), AT_FDCWD, d.path.c_str(), RENAME_NOREPLACE) != 0) {
        if (errno == EEXIST) continue;
        return false;
      }
      if (::lstat(d.path.c_str(), &d.stamp) != 0) d.stamp = {};
      std::lock_guard<std::mutex> lock(mu_);
      pool_.push_back(std::move(d));
      return true;
    }
    return false;
  }

  // One chore at a time, the most urgent first: a log (a try waits for it
  // to report), a temp dir for an empty pool (the next start may want it),
  // deletions.
  void Loop() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      wake_.wait(lock, [this] {
        return stop_ || !logs_.empty() || !doomed_.empty() || (want_spare_ && pool_.empty());
      });
      if (!logs_.empty()) {
        LogJob job = std::move(logs_.front());
        logs_.pop_front();
        lock.unlock();
        std::string error;
        UniqueFd fd(LogFile::Open(job.path, &error));
        asio::post(io_, [done = std::move(job.done), fd = std::move(fd), error = std::move(error),
                         busy = std::move(job.busy)]() mutable { done(fd.release(), std::move(error)); });
        lock.lock();
      } else if (want_spare_ && pool_.empty() && !stop_) {
        lock.unlock();
        TempDir d;
        bool made = MakeTempDir(&d).ok();
        if (made && !trash_ready_) {  // the trash comes with the first temp dir
          std::string trash = root_ + "/dwfs-trash-XXXXXX";
          if (::mkdtemp(trash.data())) {
            std::lock_guard<std::mutex> relock(mu_);
            trash_ = trash;
          }
          trash_ready_ = true;
        }
        lock.lock();
        want_spare_ = false;  // on failure too: TakeTempDir makes its own and reports the error
        if (made) pool_.push_back(std::move(d));
      } else if (!doomed_.empty()) {
        std::string dir = std::move(doomed_.front());
        doomed_.pop_front();
        lock.unlock();
        RemoveDirNow(dir);
        lock.lock();
      } else if (stop_) {
        return;
      }
    }
  }

  asio::io_context& io_;
  const std::string root_;
  std::map<std::string, struct stat> out_;  // io thread: temp dirs handed out, with their stamps
  std::minstd_rand random_;                 // io thread: names of recycled temp dirs
  std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;               // GUARDED_BY(mu_)
  std::deque<LogJob> logs_;         // GUARDED_BY(mu_)
  bool want_spare_ = false;         // GUARDED_BY(mu_): the pool ran dry
  std::vector<TempDir> pool_;       // GUARDED_BY(mu_): unused temp dirs
  std::string trash_;               // GUARDED_BY(mu_): set once, with the first temp dir
  std::deque<std::string> doomed_;  // GUARDED_BY(mu_): in the trash, to delete
  bool trash_ready_ = false;        // helper thread only
  std::thread helper_;              // last: starts once the rest is built
};

// One running bash try. Owned by the executor's map; async handlers hold a
// shared_ptr so the object outlives its last pending operation.
class LocalExecutor::BashTry : public std::enable_shared_from_this<BashTry> {
 public:
  BashTry(LocalExecutor* owner, uint64_t id, TaskRequest req, Callback done)
      : owner_(owner),
        id_(id),
        req_(std::move(req)),
        done_(std::move(done)),
        out_(owner->io_),
        err_(owner->io_),
        exit_(owner->io_),
        timeout_timer_(owner->io_),
        kill_timer_(owner->io_),
        drain_timer_(owner->io_),
        log_(LogFile::Deferred{}) {}
  // A try abandoned with the executor (its report never ran) still cleans
  // up, without the executor (it may be gone).
  ~BashTry() {
    if (!temp_dir_.empty()) RemoveDirNow(temp_dir_);
  }

  void Start() {
    auto self = shared_from_this();
    owner_->chores().OpenLog(req_.log_path, [self](int fd, std::string error) {
      self->log_.Adopt(fd, std::move(error));
      if (self->start_failure_) return self->Complete(std::move(*self->start_failure_));
      self->MaybeFinish();
    });
    std::string cwd;
    if (req_.cwd) {
      cwd = *req_.cwd;
      std::error_code ec;
      if (!fs::is_directory(cwd, ec)) return FailToStart("cwd " + cwd + " is not a directory");
    } else {
      Status st = owner_->chores().TakeTempDir(&cwd);
      if (!st.ok()) return FailToStart(st.message());
      temp_dir_ = cwd;
    }
    SpawnOptions so;
    so.argv = {"/bin/bash", "-c", req_.command};
    so.env = req_.env;
    so.cwd = cwd;
    Write("dwfs: starting " + req_.label + " in " + cwd);
    Status st = Subprocess::Spawn(so, &proc_);
    if (!st.ok()) return FailToStart(st.message());
    Write("dwfs: pid " + std::to_string(proc_.pid()) + ", command: " + OneLine(req_.command));
    if (req_.on_start) req_.on_start(proc_.pid());
    out_.assign(proc_.ReleaseStdout());
    err_.assign(proc_.ReleaseStderr());
    int xfd = proc_.ReleaseExitFd();
    if (xfd >= 0) exit_.assign(xfd);
    started_ = std::chrono::steady_clock::now();
    ReadLoop(&out_, &out_buf_, true);
    ReadLoop(&err_, &err_buf_, false);
    WaitExit();
    if (req_.timeout) {
      timeout_timer_.expires_after(std::chrono::seconds(req_.timeout->count()));
      timeout_timer_.async_wait([self](const boost::system::error_code& ec) {
        if (!ec) self->OnTimeout();
      });
    }
  }

  // Immediate SIGKILL of the group (executor destruction).
  void Kill() { proc_.SignalGroup(SIGKILL); }

  void Terminate(const std::string& reason) {
    if (finished_ || exited_) return;
    if (interrupt_reason_.empty()) interrupt_reason_ = reason;
    StopGroup("dwfs: " + reason + ": sending SIGTERM to the process group");
  }

 private:
  static std::string OneLine(std::string s) {
    for (char& c : s) {
      if (c == '\n') c = ' ';
    }
    return s.size() > 2000 ? s.substr(0, 2000) + "..." : s;
  }

  void Write(std::string_view text) {
    std::string line = LogLine(text, req_.secrets);
    log_.Write(line);
    if (req_.on_line) req_.on_line(std::string_view(line.data(), line.size() - 1));
  }

  void FailToStart(const std::string& why) {
    Write("dwfs: could not start: " + why);
    RemoveTempDir();
    TaskResult r;
    r.key = req_.key;
    r.outcome = {TaskOutcome::Kind::kFailed, "could not start: " + why, std::nullopt};
    finished_ = true;
    if (!log_.ready()) {  // reported once the log holds the reason
      start_failure_ = std::move(r);
      return;
    }
    Complete(std::move(r));
  }

  void ReadLoop(asio::posix::stream_descriptor* d, std::string* buf, bool is_stdout) {
    auto self = shared_from_this();
    d->async_read_some(asio::buffer(chunk_), [self, d, buf, is_stdout](const boost::system::error_code& ec, size_t n) {
      if (n > 0) self->Consume(buf, std::string_view(self->chunk_.data(), n), is_stdout);
      if (ec) {
        self->FlushPartial(buf, is_stdout);
        (is_stdout ? self->out_eof_ : self->err_eof_) = true;
        boost::system::error_code ignored;
        d->close(ignored);
        self->MaybeFinish();
        return;
      }
      self->ReadLoop(d, buf, is_stdout);
    });
  }

  void Consume(std::string* buf, std::string_view data, bool is_stdout) {
    size_t start = 0;
    for (size_t i = 0; i < data.size(); ++i) {
      if (data[i] != '\n') continue;
      buf->append(data.substr(start, i - start));
      EmitLine(buf, is_stdout);
      start = i + 1;
    }
    buf->append(data.substr(start));
    while (buf->size() >= kMaxLine) {  // an endless line: write it in pieces
      std::string piece = buf->substr(0, kMaxLine);
      buf->erase(0, kMaxLine);
      std::swap(piece, *buf);
      EmitLine(buf, is_stdout);
      std::swap(piece, *buf);
    }
  }

  void FlushPartial(std::string* buf, bool is_stdout) {
    if (!buf->empty()) EmitLine(buf, is_stdout);
  }

  void EmitLine(std::string* line, bool is_stdout) {
    if (!line->empty() && line->back() == '\r') line->pop_back();
    if (is_stdout && req_.do_xcom_push && line->find_first_not_of(" \t") != std::string::npos) {
      xcom_too_large_ = line->size() > kMaxXcomBytes;
      last_line_ = xcom_too_large_ ? std::string() : *line;
    }
    Write(is_stdout ? *line : "[stderr] " + *line);
    line->clear();
  }

  void WaitExit() {
    auto self = shared_from_this();
    if (!exit_.is_open()) {  // no pidfd: poll
      kill_timer_.expires_after(std::chrono::milliseconds(20));
      kill_timer_.async_wait([self](const boost::system::error_code&) { self->PollExit(); });
      return;
    }
    exit_.async_wait(asio::posix::stream_descriptor::wait_read, [self](const boost::system::error_code&) {
      if (self->proc_.TryReap()) {
        self->OnExit();
      } else {
        self->WaitExit();
      }
    });
  }

  void PollExit() {
    if (proc_.TryReap()) return OnExit();
    WaitExit();
  }

  void OnExit() {
    exited_ = true;
    boost::system::error_code ignored;
    exit_.close(ignored);
    timeout_timer_.cancel();
    kill_timer_.cancel();
    // Whatever bash left in its group dies with it.
    group_left_ = proc_.SignalGroup(SIGKILL);
    if (!(out_eof_ && err_eof_)) {
      auto self = shared_from_this();
      drain_timer_.expires_after(std::chrono::seconds(owner_->options_.drain_timeout.count()));
      drain_timer_.async_wait([self](const boost::system::error_code& ec) {
        if (ec) return;
        // A process outside the group still holds the pipes: stop reading.
        self->Write("dwfs: output still open " + std::to_string(self->owner_->options_.drain_timeout.count()) +
                    "s after exit (a daemon left the process group?); closing it");
        boost::system::error_code e2;
        self->out_.close(e2);
        self->err_.close(e2);
      });
    }
    MaybeFinish();
  }

  // Processes bash left behind were killed with it, but a killed process
  // closes its pipes before it is quite gone: the try is reported once the
  // group is empty (checked every millisecond, for at most 200 ms: a zombie
  // nobody reaps must not hold the try).
  bool GroupGone() {
    if (!proc_.SignalGroup(0) || ++group_polls_ > 200) {
      group_left_ = false;
      return true;
    }
    if (!group_wait_armed_) {
      group_wait_armed_ = true;
      auto self = shared_from_this();
      kill_timer_.expires_after(std::chrono::milliseconds(1));
      kill_timer_.async_wait([self](const boost::system::error_code&) {
        self->group_wait_armed_ = false;
        self->MaybeFinish();
      });
    }
    return false;
  }

  void OnTimeout() {
    if (exited_) return;
    timed_out_ = true;
    StopGroup("dwfs: execution_timeout of " + std::to_string(req_.timeout->count()) +
              "s reached: sending SIGTERM to the process group");
  }

  void StopGroup(const std::string& message) {
    Write(message);
    proc_.SignalGroup(SIGTERM);
    auto self = shared_from_this();
    kill_timer_.expires_after(std::chrono::seconds(owner_->options_.kill_grace.count()));
    kill_timer_.async_wait([self](const boost::system::error_code& ec) {
      if (ec || self->exited_) return;
      self->Write("dwfs: still running " + std::to_string(self->owner_->options_.kill_grace.count()) +
                  "s after SIGTERM: sending SIGKILL");
      self->proc_.SignalGroup(SIGKILL);
    });
  }

  void MaybeFinish() {
    if (finished_ || !exited_ || !out_eof_ || !err_eof_ || !log_.ready()) return;
    if (group_left_ && !GroupGone()) return;
    drain_timer_.cancel();
    TaskResult r;
    r.key = req_.key;
    r.exit_code = proc_.exit_status();
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    std::string how = proc_.term_signal() ? "killed by signal " + std::to_string(proc_.term_signal()) + " (" +
                                                strsignal(proc_.term_signal()) + ")"
                                          : "exit status " + std::to_string(proc_.exit_status());
    if (timed_out_) {
      r.outcome = {TaskOutcome::Kind::kTimeout,
                   "timed out after " + std::to_string(req_.timeout->count()) + "s (execution_timeout)", std::nullopt};
    } else if (!interrupt_reason_.empty() && proc_.exit_status() != 0) {
      r.outcome = {TaskOutcome::Kind::kFailed, interrupt_reason_, std::nullopt};
    } else if (proc_.exit_status() == 0) {
      if (xcom_too_large_) {
        r.outcome = {TaskOutcome::Kind::kFailed,
                     "XCom value larger than " + std::to_string(kMaxXcomBytes / 1024) + " KiB", std::nullopt};
      } else {
        r.outcome = {TaskOutcome::Kind::kSuccess, "",
                     req_.do_xcom_push && !last_line_.empty() ? std::optional<std::string>(last_line_) : std::nullopt};
      }
    } else if (proc_.exit_status() == 99) {
      r.outcome = {TaskOutcome::Kind::kSkipped, "exit status 99 (skipped)", std::nullopt};
    } else {
      r.outcome = {TaskOutcome::Kind::kFailed, "bash " + how, std::nullopt};
    }
    if (!log_.error().empty() && r.outcome.kind == TaskOutcome::Kind::kSuccess) {
      r.outcome.reason = log_.error();  // the task ran; its log is incomplete
    }
    char dur[32];
    std::snprintf(dur, sizeof dur, "%.3f", secs);
    Write("dwfs: " + how + " after " + dur + "s: " + TaskStateText(r.outcome.kind) +
          (r.outcome.reason.empty() ? "" : " (" + r.outcome.reason + ")"));
    Complete(std::move(r));  // which also disposes of the temp dir
  }

  static const char* TaskStateText(TaskOutcome::Kind k) {
    switch (k) {
      case TaskOutcome::Kind::kSuccess: return "success";
      case TaskOutcome::Kind::kSkipped: return "skipped";
      case TaskOutcome::Kind::kTimeout: return "timeout";
      default: return "failed";
    }
  }

  void RemoveTempDir() {
    if (temp_dir_.empty()) return;
    owner_->chores().ReleaseTempDir(temp_dir_);
    temp_dir_.clear();
  }

  void Complete(TaskResult r) {
    finished_ = true;
    auto self = shared_from_this();
    LocalExecutor* owner = owner_;
    uint64_t id = id_;
    // Report from a fresh handler: never re-enter the caller from Start().
    // The temp dir goes in the same handler, after the report: the caller
    // starts whatever this try unblocks first.
    asio::post(owner->io_, [owner, id, self, r = std::move(r)]() mutable {
      owner->bash_.erase(id);
      self->done_(std::move(r));
      self->RemoveTempDir();
    });
  }

  LocalExecutor* owner_;
  uint64_t id_;
  TaskRequest req_;
  Callback done_;
  Subprocess proc_;
  asio::posix::stream_descriptor out_, err_, exit_;
  asio::steady_timer timeout_timer_, kill_timer_, drain_timer_;
  LogFile log_;
  std::array<char, 65536> chunk_{};
  std::string out_buf_, err_buf_, last_line_;
  std::string temp_dir_, interrupt_reason_;
  std::chrono::steady_clock::time_point started_;
  bool out_eof_ = false, err_eof_ = false, exited_ = false, finished_ = false, timed_out_ = false;
  bool xcom_too_large_ = false;
  bool group_left_ = false, group_wait_armed_ = false;  // see GroupGone
  int group_polls_ = 0;
  std::optional<TaskResult> start_failure_;  // waiting for the log
};

LocalExecutor::LocalExecutor(asio::io_context& io, LocalExecutorOptions options)
    : io_(io), options_(std::move(options)) {}

LocalExecutor::FileChores& LocalExecutor::chores() {
  if (!chores_) chores_ = std::make_unique<FileChores>(io_, options_.temp_root);
  return *chores_;
}

LocalExecutor::~LocalExecutor() {
  for (auto& [id, t] : bash_) t->Kill();
  AbandonSql();
}

void LocalExecutor::Start(TaskRequest request, Callback done) {
  if (request.kind == TaskRequest::Kind::kSql) return StartSql(std::move(request), std::move(done));
  StartBash(std::move(request), std::move(done));
}

void LocalExecutor::StartBash(TaskRequest request, Callback done) {
  uint64_t id = next_id_++;
  auto t = std::make_shared<BashTry>(this, id, std::move(request), std::move(done));
  bash_[id] = t;
  t->Start();
}

void LocalExecutor::TerminateAll(const std::string& reason) {
  for (auto& [id, t] : bash_) t->Terminate(reason);
  TerminateSql(reason);
}

}  // namespace dwfs
