// HealthServer: an acceptor and one short-lived Session per connection; see
// health_server.h for the contract.
#include "dwfs/health_server.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <map>
#include <utility>

namespace dwfs {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr size_t kMaxConnections = 64;
constexpr uint32_t kHeaderLimit = 8 * 1024;
constexpr uint64_t kBodyLimit = 8 * 1024;

}  // namespace

class HealthServer::Impl : public std::enable_shared_from_this<HealthServer::Impl> {
 public:
  Impl(asio::io_context& io, std::string host, uint16_t port, std::function<HealthReport()> probe,
       spdlog::logger* log, std::chrono::milliseconds read_timeout)
      : io_(io),
        host_(std::move(host)),
        requested_port_(port),
        probe_(std::move(probe)),
        log_(log),
        read_timeout_(read_timeout),
        acceptor_(io) {}

  Status Start();
  void Stop();
  uint16_t port() const { return bound_port_; }

 private:
  class Session;
  friend class Session;

  std::string Where() const {
    bool v6 = host_.find(':') != std::string::npos;
    return (v6 ? "[" + host_ + "]" : host_) + ":" + std::to_string(requested_port_);
  }
  void Accept();
  void SessionDone(uint64_t id);
  http::response<http::string_body> Respond(const http::request<http::string_body>& req);

  asio::io_context& io_;
  std::string host_;
  uint16_t requested_port_;
  std::function<HealthReport()> probe_;
  spdlog::logger* log_;
  std::chrono::milliseconds read_timeout_;
  tcp::acceptor acceptor_;
  uint16_t bound_port_ = 0;
  bool started_ = false;
  bool stopped_ = false;
  bool accepting_ = false;  // an async_accept is pending
  uint64_t next_id_ = 1;
  std::map<uint64_t, std::weak_ptr<Session>> sessions_;
};

// One connection: read one request (with a deadline), write one response,
// close. Owned by its pending handlers.
class HealthServer::Impl::Session : public std::enable_shared_from_this<Session> {
 public:
  Session(std::shared_ptr<Impl> server, uint64_t id, tcp::socket socket)
      : server_(std::move(server)), id_(id), stream_(std::move(socket)) {
    parser_.header_limit(kHeaderLimit);
    parser_.body_limit(kBodyLimit);
  }

  void Run() {
    stream_.expires_after(server_->read_timeout_);
    auto self = shared_from_this();
    http::async_read(stream_, buffer_, parser_,
                     [self](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

  void Close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.close();
  }

 private:
  void OnRead(beast::error_code ec) {
    if (ec) {
      Finish("read", ec);
      return;
    }
    response_ = server_->Respond(parser_.get());
    stream_.expires_after(server_->read_timeout_);
    auto self = shared_from_this();
    http::async_write(stream_, response_,
                      [self](beast::error_code ec, size_t) { self->Finish("write", ec); });
  }

  void Finish(const char* what, beast::error_code ec) {
    if (ec && ec != asio::error::operation_aborted && server_->log_ != nullptr) {
      server_->log_->debug("health server: {} failed: {}", what, ec.message());
    }
    if (!ec) {
      beast::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    }
    stream_.close();
    server_->SessionDone(id_);
  }

  std::shared_ptr<Impl> server_;
  uint64_t id_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_{kHeaderLimit + kBodyLimit};
  http::request_parser<http::string_body> parser_;
  http::response<http::string_body> response_;
};

Status HealthServer::Impl::Start() {
  if (started_) return Status::FailedPrecondition("health server on " + Where() + " already started");
  started_ = true;
  boost::system::error_code ec;
  tcp::resolver resolver(io_);
  auto results = resolver.resolve(host_, std::to_string(requested_port_),
                                  tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec || results.empty()) {
    return Status::IOError("health server: cannot resolve " + Where() + ": " +
                           (ec ? ec.message() : std::string("no address")));
  }
  tcp::endpoint endpoint = results.begin()->endpoint();
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    return Status::IOError("health server: cannot listen on " + Where() + ": " + ec.message());
  }
  bound_port_ = acceptor_.local_endpoint(ec).port();
  if (log_ != nullptr) log_->info("health server listening on {}:{}", host_, bound_port_);
  Accept();
  return Status::OK();
}

void HealthServer::Impl::Accept() {
  if (stopped_ || accepting_ || sessions_.size() >= kMaxConnections) return;
  accepting_ = true;
  auto self = shared_from_this();
  acceptor_.async_accept([self](beast::error_code ec, tcp::socket socket) {
    self->accepting_ = false;
    if (self->stopped_) return;
    if (ec) {
      // EMFILE, ECONNABORTED...: this connection only; keep accepting.
      if (self->log_ != nullptr) self->log_->debug("health server: accept failed: {}", ec.message());
    } else {
      uint64_t id = self->next_id_++;
      auto session = std::make_shared<Session>(self, id, std::move(socket));
      self->sessions_.emplace(id, session);
      session->Run();
    }
    self->Accept();
  });
}

void HealthServer::Impl::SessionDone(uint64_t id) {
  sessions_.erase(id);
  Accept();  // resumes accepting when the limit was reached
}

void HealthServer::Impl::Stop() {
  if (stopped_) return;
  stopped_ = true;
  boost::system::error_code ec;
  acceptor_.close(ec);
  auto sessions = std::move(sessions_);
  sessions_.clear();
  for (auto& [id, weak] : sessions) {
    if (auto s = weak.lock()) s->Close();
  }
}

http::response<http::string_body> HealthServer::Impl::Respond(
    const http::request<http::string_body>& req) {
  http::response<http::string_body> res;
  res.version(req.version());
  res.keep_alive(false);
  res.set(http::field::server, "dwfs");
  res.set(http::field::content_type, "application/json");
  res.set(http::field::cache_control, "no-store");

  std::string_view target(req.target().data(), req.target().size());
  target = target.substr(0, target.find('?'));
  bool head = req.method() == http::verb::head;
  std::string body;
  if (target != "/health") {
    res.result(http::status::not_found);
    body = R"({"error":"not found"})";
  } else if (req.method() != http::verb::get && !head) {
    res.result(http::status::method_not_allowed);
    res.set(http::field::allow, "GET, HEAD");
    body = R"({"error":"method not allowed"})";
  } else {
    HealthReport report;
    try {
      report = probe_();
    } catch (const std::exception& e) {
      report.healthy = false;
      report.body = Json::Object();
      report.body.Set("status", "unhealthy");
      report.body.Set("error", std::string("health probe failed: ") + e.what());
    }
    res.result(report.healthy ? http::status::ok : http::status::service_unavailable);
    body = report.body.Dump();
  }
  res.content_length(body.size());
  if (!head) res.body() = std::move(body);
  return res;
}

HealthServer::HealthServer(asio::io_context& io, std::string host, uint16_t port,
                           std::function<HealthReport()> probe, spdlog::logger* log,
                           std::chrono::milliseconds read_timeout)
    : impl_(std::make_shared<Impl>(io, std::move(host), port, std::move(probe), log, read_timeout)) {}

HealthServer::~HealthServer() { impl_->Stop(); }

Status HealthServer::Start() { return impl_->Start(); }

uint16_t HealthServer::port() const { return impl_->port(); }

void HealthServer::Stop() { impl_->Stop(); }

}  // namespace dwfs
