// LocalExecutor's SQL tries: libpqxx on a worker thread per try, results
// posted back to the io_context.
#include <boost/asio/post.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/steady_timer.hpp>
#include <pqxx/pqxx>

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <thread>

#include "dwfs/config.h"
#include "dwfs/local_executor.h"
#include "log_file.h"

namespace asio = boost::asio;

namespace dwfs {

class LocalExecutor::SqlTry : public std::enable_shared_from_this<SqlTry> {
 public:
  SqlTry(LocalExecutor* owner, uint64_t id, TaskRequest req, Callback done)
      : owner_(owner),
        id_(id),
        req_(std::move(req)),
        done_(std::move(done)),
        timer_(owner->io_),
        work_(asio::make_work_guard(owner->io_)),
        log_(req_.log_path) {
    secrets_ = req_.secrets;
    secrets_.push_back(req_.conn_uri);
  }

  void Start() {
    auto self = shared_from_this();
    if (req_.timeout) {
      timer_.expires_after(std::chrono::seconds(req_.timeout->count()));
      timer_.async_wait([self](const boost::system::error_code& ec) {
        if (!ec) self->Cancel(true, "");
      });
    }
    thread_ = std::thread([self] { self->Run(); });
  }

  // Cancels the running query on the server (thread-safe via PQcancel).
  void Cancel(bool timeout, const std::string& reason) {
    std::lock_guard<std::mutex> lock(mu_);
    if (timeout) timed_out_ = true;
    if (!reason.empty() && interrupt_reason_.empty()) interrupt_reason_ = reason;
    if (conn_) {
      try {
        conn_->cancel_query();
      } catch (const std::exception&) {
      }
    }
    cancel_requested_ = true;
  }

  // For the executor's destructor: cancel and wait for the worker.
  void Abandon() {
    Cancel(false, "executor shut down");
    if (thread_.joinable()) thread_.join();
  }

 private:
  void Log(const std::string& text) {
    std::string line = LogLine(text, secrets_);
    std::lock_guard<std::mutex> lock(log_mu_);
    log_.Write(line);
    if (req_.on_line) {
      // on_line is called from the worker thread only through the io_context.
      auto cb = req_.on_line;
      std::string l = line.substr(0, line.size() - 1);
      asio::post(owner_->io_, [cb, l] { cb(l); });
    }
  }

  void Run() {
    TaskResult r;
    r.key = req_.key;
    auto started = std::chrono::steady_clock::now();
    Log("dwfs: starting " + req_.label + " (sql) on " + MaskSecrets(req_.conn_uri));
    for (size_t start = 0; start < req_.command.size();) {
      size_t nl = req_.command.find('\n', start);
      if (nl == std::string::npos) nl = req_.command.size();
      Log("sql> " + req_.command.substr(start, nl - start));
      start = nl + 1;
    }
    try {
      auto conn = std::make_unique<pqxx::connection>(req_.conn_uri);
      connected_ = true;
      {
        std::lock_guard<std::mutex> lock(mu_);
        conn_ = conn.get();
        if (cancel_requested_) throw std::runtime_error(timed_out_ ? "timed out before the query started"
                                                                   : "cancelled before the query started");
      }
      pqxx::work w(*conn);
      if (req_.timeout) w.exec("SET LOCAL statement_timeout = " + std::to_string(req_.timeout->count() * 1000));
      pqxx::result res = w.exec(req_.command);
      std::optional<std::string> xcom;
      if (req_.do_xcom_push && !res.empty() && res.columns() > 0 && !res[0][0].is_null()) {
        xcom = res[0][0].c_str();
      }
      w.commit();
      {
        std::lock_guard<std::mutex> lock(mu_);
        conn_ = nullptr;
      }
      Log("dwfs: committed; last statement returned " + std::to_string(res.size()) + " row(s)" +
          (res.affected_rows() ? ", affected " + std::to_string(res.affected_rows()) : ""));
      if (xcom && xcom->size() > kMaxXcomBytes) {
        r.outcome = {TaskOutcome::Kind::kFailed, "XCom value larger than 64 KiB", std::nullopt};
      } else {
        r.outcome = {TaskOutcome::Kind::kSuccess, "", xcom};
        r.exit_code = 0;
      }
    } catch (const pqxx::sql_error& e) {
      Fail(&r, std::string(e.what()), e.sqlstate());
    } catch (const pqxx::broken_connection& e) {
      std::string what = e.what();
      // libpqxx 6 reports a connection dropped during a query (backend
      // terminated, server restarted, network gone) as "Could not obtain
      // client encoding: not connected.": the server's message is lost.
      if (connected_ && what.find("client encoding") != std::string::npos) {
        what = "the server closed the connection during the query";
      }
      Fail(&r, (connected_ ? "connection lost: " : "cannot connect: ") + what, "");
    } catch (const std::exception& e) {
      Fail(&r, e.what(), "");
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      conn_ = nullptr;
    }
    // The end of the try, as the bash runner logs it.
    char dur[32];
    std::snprintf(dur, sizeof dur, "%.3f",
                  std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    Log(std::string("dwfs: ") + (connected_ ? "query ended" : "no connection") + " after " + dur +
        "s: " + OutcomeText(r.outcome.kind) + (r.outcome.reason.empty() ? "" : " (" + r.outcome.reason + ")"));
    auto self = shared_from_this();
    asio::post(owner_->io_, [self, r = std::move(r)]() mutable { self->Complete(std::move(r)); });
  }

  static const char* OutcomeText(TaskOutcome::Kind k) {
    switch (k) {
      case TaskOutcome::Kind::kSuccess: return "success";
      case TaskOutcome::Kind::kSkipped: return "skipped";
      case TaskOutcome::Kind::kTimeout: return "timeout";
      default: return "failed";
    }
  }

  void Fail(TaskResult* r, std::string message, const std::string& sqlstate) {
    while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
    for (char& c : message) {
      if (c == '\n') c = ' ';
    }
    message = MaskAll(MaskSecrets(message), secrets_);
    bool timeout;
    std::string interrupted;
    {
      std::lock_guard<std::mutex> lock(mu_);
      timeout = req_.timeout && (timed_out_ || sqlstate == "57014");
      interrupted = interrupt_reason_;
    }
    std::string reason = timeout ? "timed out after " + std::to_string(req_.timeout->count()) + "s (execution_timeout)"
                         : !interrupted.empty()
                             ? interrupted
                             : "SQL error" + (sqlstate.empty() ? std::string() : " " + sqlstate) + ": " + message;
    r->outcome = {timeout ? TaskOutcome::Kind::kTimeout : TaskOutcome::Kind::kFailed, reason, std::nullopt};
    Log((connected_ ? "dwfs: rolled back: " : "dwfs: ") + message +
        (sqlstate.empty() ? "" : " (SQLSTATE " + sqlstate + ")"));
  }

  void Complete(TaskResult r) {
    timer_.cancel();
    work_.reset();
    if (thread_.joinable()) thread_.join();
    owner_->sql_.erase(id_);
    done_(std::move(r));
  }

  LocalExecutor* owner_;
  uint64_t id_;
  TaskRequest req_;
  Callback done_;
  asio::steady_timer timer_;
  // Keeps the io_context running while the worker thread has the try.
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::thread thread_;
  bool connected_ = false;  // worker thread only
  std::vector<std::string> secrets_;
  std::mutex mu_;
  pqxx::connection* conn_ = nullptr;  // GUARDED_BY(mu_): set while a query may run
  bool timed_out_ = false;            // GUARDED_BY(mu_)
  bool cancel_requested_ = false;     // GUARDED_BY(mu_)
  std::string interrupt_reason_;      // GUARDED_BY(mu_)
  std::mutex log_mu_;
  LogFile log_;  // GUARDED_BY(log_mu_)
};

void LocalExecutor::StartSql(TaskRequest request, Callback done) {
  uint64_t id = next_id_++;
  auto t = std::make_shared<SqlTry>(this, id, std::move(request), std::move(done));
  sql_[id] = t;
  t->Start();
}

void LocalExecutor::AbandonSql() {
  for (auto& [id, t] : sql_) t->Abandon();
}

void LocalExecutor::TerminateSql(const std::string& reason) {
  for (auto& [id, t] : sql_) t->Cancel(false, reason);
}

}  // namespace dwfs
