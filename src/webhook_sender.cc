#include "dwfs/webhook_sender.h"

#include <openssl/ssl.h>
#include <spdlog/logger.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>

namespace dwfs {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;

namespace {

struct Job {
  WebhookRequest req;
  WebhookUrl url;
  int attempts = 0;
  std::string last_error;
};

// One HTTP exchange over a fresh connection, bounded by the request's
// timeout. `done` is called exactly once, on the io thread, with "" on a 2xx
// answer and the reason otherwise (never the URL).
class Attempt : public std::enable_shared_from_this<Attempt> {
 public:
  using Done = std::function<void(std::string error)>;
  Attempt(asio::io_context& io, ssl::context& tls, const Job& job, Done done)
      : job_(job), resolver_(io), timer_(io), done_(std::move(done)) {
    if (job.url.tls) {
      tls_.emplace(io, tls);
    } else {
      plain_.emplace(io);
    }
  }

  void Start() {
    auto self = shared_from_this();
    timer_.expires_after(job_.req.timeout);
    timer_.async_wait([self](const boost::system::error_code& ec) {
      if (!ec) self->Finish("timed out after " + std::to_string(self->job_.req.timeout.count()) + " ms");
    });
    resolver_.async_resolve(job_.url.host, job_.url.port,
                            [self](const boost::system::error_code& ec, const tcp::resolver::results_type& r) {
                              if (ec) return self->Finish("cannot resolve the host: " + ec.message());
                              self->Connect(r);
                            });
  }

 private:
  tcp::socket& Lowest() { return tls_ ? tls_->next_layer() : *plain_; }

  void Connect(const tcp::resolver::results_type& endpoints) {
    auto self = shared_from_this();
    asio::async_connect(Lowest(), endpoints, [self](const boost::system::error_code& ec, const tcp::endpoint&) {
      if (ec) return self->Finish("cannot connect: " + ec.message());
      if (!self->tls_) return self->Write();
      self->Handshake();
    });
  }

  void Handshake() {
    const std::string& host = job_.url.host;
    // SNI, then verify the peer's chain (system CA paths) and its name.
    if (!SSL_set_tlsext_host_name(tls_->native_handle(), host.c_str())) return Finish("cannot set the TLS server name");
    tls_->set_verify_mode(ssl::verify_peer);
    tls_->set_verify_callback(ssl::host_name_verification(host));
    auto self = shared_from_this();
    tls_->async_handshake(ssl::stream_base::client, [self](const boost::system::error_code& ec) {
      if (ec) return self->Finish("TLS handshake failed: " + ec.message());
      self->Write();
    });
  }

  void Write() {
    const WebhookRequest& r = job_.req;
    http::verb verb = http::string_to_verb(r.method);
    request_ = http::request<http::string_body>(verb == http::verb::unknown ? http::verb::post : verb,
                                                job_.url.target, 11);
    std::string host = job_.url.host.find(':') != std::string::npos ? "[" + job_.url.host + "]" : job_.url.host;
    bool default_port = job_.url.port == (job_.url.tls ? "443" : "80");
    request_.set(http::field::host, default_port ? host : host + ":" + job_.url.port);
    request_.set(http::field::user_agent, "dwfs/" DWFS_VERSION);
    request_.set(http::field::content_type, "application/json");
    request_.set(http::field::connection, "close");
    for (const auto& [name, value] : r.headers) request_.set(name, value);
    request_.body() = r.body;
    request_.prepare_payload();
    auto self = shared_from_this();
    auto on_written = [self](const boost::system::error_code& ec, size_t) {
      if (ec) return self->Finish("cannot send the request: " + ec.message());
      self->Read();
    };
    if (tls_) {
      http::async_write(*tls_, request_, on_written);
    } else {
      http::async_write(*plain_, request_, on_written);
    }
  }

  void Read() {
    parser_.body_limit(1 << 20);
    auto self = shared_from_this();
    auto on_read = [self](const boost::system::error_code& ec, size_t) {
      if (ec) return self->Finish("no valid answer: " + ec.message());
      unsigned status = self->parser_.get().result_int();
      if (status < 200 || status > 299) return self->Finish("HTTP status " + std::to_string(status));
      self->Finish("");
    };
    if (tls_) {
      http::async_read(*tls_, buffer_, parser_, on_read);
    } else {
      http::async_read(*plain_, buffer_, parser_, on_read);
    }
  }

  void Finish(const std::string& error) {
    if (finished_) return;
    finished_ = true;
    timer_.cancel();
    resolver_.cancel();
    boost::system::error_code ignored;
    Lowest().shutdown(tcp::socket::shutdown_both, ignored);
    Lowest().close(ignored);
    done_(error);
  }

  const Job& job_;
  tcp::resolver resolver_;
  asio::steady_timer timer_;
  std::optional<tcp::socket> plain_;
  std::optional<ssl::stream<tcp::socket>> tls_;
  boost::beast::flat_buffer buffer_;
  http::request<http::string_body> request_;
  http::response_parser<http::string_body> parser_;
  Done done_;
  bool finished_ = false;
};

}  // namespace

class WebhookSender::Impl {
 public:
  explicit Impl(WebhookSenderOptions options)
      : options_(std::move(options)),
        own_log_(options_.log ? nullptr : std::make_shared<spdlog::logger>("webhooks")),  // no sinks: silent
        log_(options_.log ? options_.log : own_log_.get()),
        tls_(ssl::context::tls_client),
        work_(asio::make_work_guard(io_)) {
    boost::system::error_code ec;
    tls_.set_default_verify_paths(ec);
    if (ec) log_->warn("webhooks: cannot load the system's CA certificates: {}", ec.message());
    if (!options_.extra_ca_file.empty()) {
      tls_.load_verify_file(options_.extra_ca_file, ec);
      if (ec) log_->warn("webhooks: cannot load CA certificates from {}: {}", options_.extra_ca_file, ec.message());
    }
    tls_.set_verify_mode(ssl::verify_peer);
    thread_ = std::thread([this] { io_.run(); });
  }

  ~Impl() { Stop(); }

  bool Send(WebhookRequest req) {
    WebhookUrl url;
    Status st = ParseWebhookUrl(req.url, &url);
    std::unique_lock lock(mu_);
    const char* why = !st.ok() ? "bad url" : stopping_ ? "the sender is stopped" : nullptr;
    if (!why && queue_.size() >= options_.max_queued) why = "the queue is full";
    if (why) {
      ++stats_.dropped;
      lock.unlock();
      log_->warn("webhook {} to {} dropped: {}", req.label, RedactUrl(req.url),
                         st.ok() ? why : st.message());
      return false;
    }
    auto job = std::make_shared<Job>();
    job->req = std::move(req);
    job->url = std::move(url);
    queue_.push_back(std::move(job));
    lock.unlock();
    asio::post(io_, [this] { StartQueued(); });
    return true;
  }

  void Stop() {
    std::unique_lock lock(mu_);
    if (stopped_) return;
    stopping_ = true;
    idle_.wait_for(lock, options_.stop_grace, [this] { return Idle(); });
    size_t abandoned = queue_.size() + in_flight_;
    stats_.abandoned += abandoned;
    stopped_ = true;
    lock.unlock();
    if (abandoned > 0) {
      log_->warn("webhooks: {} request(s) abandoned at shutdown after a {} ms grace", abandoned,
                         options_.stop_grace.count());
    }
    // Pending handlers (and their connections) are destroyed with io_.
    work_.reset();
    io_.stop();
    thread_.join();
  }

  WebhookStats stats() const {
    std::lock_guard lock(mu_);
    return stats_;
  }

  bool WaitIdle(std::chrono::milliseconds timeout) const {
    std::unique_lock lock(mu_);
    return idle_.wait_for(lock, timeout, [this] { return Idle(); });
  }

 private:
  bool Idle() const { return queue_.empty() && in_flight_ == 0; }

  // io thread: starts queued jobs while there is room.
  void StartQueued() {
    std::vector<std::shared_ptr<Job>> start;
    {
      std::lock_guard lock(mu_);
      while (in_flight_ < options_.max_in_flight && !queue_.empty()) {
        start.push_back(std::move(queue_.front()));
        queue_.pop_front();
        ++in_flight_;
      }
    }
    for (auto& job : start) RunAttempt(job);
  }

  void RunAttempt(const std::shared_ptr<Job>& job) {
    ++job->attempts;
    {
      std::lock_guard lock(mu_);
      ++stats_.attempts;
    }
    auto attempt = std::make_shared<Attempt>(io_, tls_, *job, [this, job](std::string error) {
      // Deferred: the attempt is still on the stack.
      asio::post(io_, [this, job, error] { AttemptDone(job, error); });
    });
    attempt->Start();
  }

  void AttemptDone(const std::shared_ptr<Job>& job, const std::string& error) {
    if (error.empty()) return JobDone(job, true);
    job->last_error = error;
    log_->debug("webhook {} to {}: attempt {} failed: {}", job->req.label, RedactUrl(job->req.url),
                        job->attempts, error);
    if (job->attempts > job->req.retries) return JobDone(job, false);
    // Exponential backoff: base * 2^(retry - 1), capped.
    auto wait = options_.backoff_base;
    for (int i = 1; i < job->attempts && wait < options_.max_backoff; ++i) wait *= 2;
    wait = std::min(wait, options_.max_backoff);
    auto timer = std::make_shared<asio::steady_timer>(io_, wait);
    timer->async_wait([this, job, timer](const boost::system::error_code& ec) {
      if (!ec) RunAttempt(job);
    });
  }

  void JobDone(const std::shared_ptr<Job>& job, bool delivered) {
    if (!delivered) {
      log_->warn("webhook {} to {} failed after {} attempt(s): {}", job->req.label, RedactUrl(job->req.url),
                         job->attempts, job->last_error);
    }
    {
      std::lock_guard lock(mu_);
      --in_flight_;
      ++(delivered ? stats_.delivered : stats_.failed);
      if (Idle()) idle_.notify_all();
    }
    StartQueued();
  }

  WebhookSenderOptions options_;
  std::shared_ptr<spdlog::logger> own_log_;
  spdlog::logger* log_;
  ssl::context tls_;  // outlives io_'s handlers, which own the TLS streams
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::thread thread_;

  mutable std::mutex mu_;
  mutable std::condition_variable idle_;
  std::deque<std::shared_ptr<Job>> queue_;  // guarded by mu_
  size_t in_flight_ = 0;                    // guarded by mu_; started, not finished (backoff included)
  WebhookStats stats_;                      // guarded by mu_
  bool stopping_ = false;                   // guarded by mu_: Send refuses
  bool stopped_ = false;                    // guarded by mu_
};

WebhookSender::WebhookSender(WebhookSenderOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
WebhookSender::~WebhookSender() = default;
bool WebhookSender::Send(WebhookRequest request) { return impl_->Send(std::move(request)); }
void WebhookSender::Stop() { impl_->Stop(); }
WebhookStats WebhookSender::stats() const { return impl_->stats(); }
bool WebhookSender::WaitIdle(std::chrono::milliseconds timeout) const { return impl_->WaitIdle(timeout); }

}  // namespace dwfs
