#include "dwfs/local_executor.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>

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

}  // namespace

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
        log_(req_.log_path) {}

  void Start() {
    std::string cwd;
    if (req_.cwd) {
      cwd = *req_.cwd;
      std::error_code ec;
      if (!fs::is_directory(cwd, ec)) return FailToStart("cwd " + cwd + " is not a directory");
    } else {
      std::string tmpl = owner_->options_.temp_root + "/dwfs-task-XXXXXX";
      if (!::mkdtemp(tmpl.data())) return FailToStart(std::string("cannot create a temp dir: ") + std::strerror(errno));
      temp_dir_ = cwd = tmpl;
    }
    SpawnOptions so;
    so.argv = {"/bin/bash", "-c", req_.command};
    so.env = req_.env;
    so.cwd = cwd;
    Write("dwfs: starting " + req_.label + " in " + cwd);
    Status st = Subprocess::Spawn(so, &proc_);
    if (!st.ok()) return FailToStart(st.message());
    Write("dwfs: pid " + std::to_string(proc_.pid()) + ", command: " + OneLine(req_.command));
    out_.assign(proc_.ReleaseStdout());
    err_.assign(proc_.ReleaseStderr());
    int xfd = proc_.ReleaseExitFd();
    if (xfd >= 0) exit_.assign(xfd);
    started_ = std::chrono::steady_clock::now();
    auto self = shared_from_this();
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
    proc_.SignalGroup(SIGKILL);
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
    if (finished_ || !exited_ || !out_eof_ || !err_eof_) return;
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
    RemoveTempDir();
    Complete(std::move(r));
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
    std::error_code ec;
    fs::remove_all(temp_dir_, ec);
    temp_dir_.clear();
  }

  void Complete(TaskResult r) {
    finished_ = true;
    auto self = shared_from_this();
    LocalExecutor* owner = owner_;
    uint64_t id = id_;
    // Report from a fresh handler: never re-enter the caller from Start().
    asio::post(owner->io_, [owner, id, self, r = std::move(r)]() mutable {
      owner->bash_.erase(id);
      self->done_(std::move(r));
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
};

LocalExecutor::LocalExecutor(asio::io_context& io, LocalExecutorOptions options)
    : io_(io), options_(std::move(options)) {}

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
