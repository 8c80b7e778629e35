// HttpServer: an acceptor and one Session per connection (plain or TLS),
// reading requests with Beast's parser and writing string or file-range
// responses; see http_server.h for the contract.
#include "dwfs/http_server.h"

#include <fcntl.h>
#include <unistd.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <map>
#include <optional>
#include <utility>

namespace dwfs {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

namespace {

// A byte range of an open file as a Beast body, read with pread in 64 KiB
// pieces while the response is written.
struct FileRangeBody {
  struct value_type {
    std::shared_ptr<int> fd;  // closed when the last copy goes
    uint64_t offset = 0;
    uint64_t length = 0;
  };
  static uint64_t size(const value_type& v) { return v.length; }

  class writer {
   public:
    using const_buffers_type = asio::const_buffer;
    template <bool isRequest, class Fields>
    writer(http::header<isRequest, Fields>&, const value_type& body)
        : body_(body), pos_(body.offset), remain_(body.length) {}
    void init(beast::error_code& ec) { ec = {}; }
    boost::optional<std::pair<const_buffers_type, bool>> get(beast::error_code& ec) {
      ec = {};
      if (remain_ == 0) return boost::none;
      size_t want = size_t(std::min<uint64_t>(sizeof(buf_), remain_));
      ssize_t n;
      do {
        n = ::pread(*body_.fd, buf_, want, off_t(pos_));
      } while (n < 0 && errno == EINTR);
      if (n <= 0) {  // an error, or the file shrank under us
        ec = n < 0 ? beast::error_code(errno, beast::system_category())
                   : beast::error_code(EIO, beast::system_category());
        return boost::none;
      }
      pos_ += uint64_t(n);
      remain_ -= uint64_t(n);
      return {{const_buffers_type(buf_, size_t(n)), remain_ > 0}};
    }

   private:
    const value_type& body_;
    uint64_t pos_;
    uint64_t remain_;
    char buf_[64 * 1024];
  };
};

}  // namespace

class HttpServer::Impl : public std::enable_shared_from_this<HttpServer::Impl> {
 public:
  Impl(asio::io_context& io, HttpServerOptions options, HttpHandler handler, spdlog::logger* log)
      : io_(io), options_(std::move(options)), handler_(std::move(handler)), log_(log), acceptor_(io) {}

  Status Start();
  void Stop();
  uint16_t port() const { return bound_port_; }

 private:
  template <class Stream>
  class Session;
  class Closable {
   public:
    virtual ~Closable() = default;
    virtual void Close() = 0;
  };

  std::string Where() const {
    bool v6 = options_.host.find(':') != std::string::npos;
    return (v6 ? "[" + options_.host + "]" : options_.host) + ":" + std::to_string(options_.port);
  }
  void Accept();
  void SessionDone(uint64_t id);

  asio::io_context& io_;
  HttpServerOptions options_;
  HttpHandler handler_;
  spdlog::logger* log_;
  tcp::acceptor acceptor_;
  std::optional<ssl::context> tls_;
  uint16_t bound_port_ = 0;
  bool started_ = false;
  bool stopped_ = false;
  bool accepting_ = false;  // an async_accept is pending
  uint64_t next_id_ = 1;
  std::map<uint64_t, std::weak_ptr<Closable>> sessions_;
};

// One connection: [TLS handshake], then read a request, hand it to the
// handler, write its reply, and again while the client keeps it alive.
// Owned by its pending handlers; every step runs on the io_context thread.
template <class Stream>
class HttpServer::Impl::Session : public HttpServer::Impl::Closable,
                                  public std::enable_shared_from_this<Session<Stream>> {
 public:
  template <class... Args>
  Session(std::shared_ptr<Impl> server, uint64_t id, std::string remote, Args&&... args)
      : server_(std::move(server)), id_(id), remote_(std::move(remote)), stream_(std::forward<Args>(args)...) {}

  void Run() {
    if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
      Read();
    } else {
      auto self = this->shared_from_this();
      Lowest().expires_after(server_->options_.request_timeout);
      stream_.async_handshake(ssl::stream_base::server, [self](beast::error_code ec) {
        if (ec) return self->Finish("TLS handshake", ec);
        self->Read();
      });
    }
  }

  void Close() override {
    beast::error_code ec;
    Lowest().socket().shutdown(tcp::socket::shutdown_both, ec);
    Lowest().close();
  }

 private:
  beast::tcp_stream& Lowest() { return beast::get_lowest_layer(stream_); }

  void Read() {
    parser_.emplace();
    parser_->header_limit(server_->options_.header_limit);
    parser_->body_limit(server_->options_.body_limit);
    Lowest().expires_after(server_->options_.request_timeout);
    auto self = this->shared_from_this();
    http::async_read(stream_, buffer_, *parser_, [self](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

  void OnRead(beast::error_code ec) {
    if (ec == http::error::end_of_stream) return Finish("read", {});
    if (ec == http::error::body_limit) return Reject(413, "the request body is larger than the limit of " +
                                                              std::to_string(server_->options_.body_limit) + " bytes");
    if (ec == http::error::header_limit) return Reject(431, "the request header is too large");
    if (ec && &ec.category() == &http::make_error_code(http::error::bad_target).category()) {
      return Reject(400, "malformed HTTP request: " + ec.message());
    }
    if (ec) return Finish("read", ec);

    auto& req = parser_->get();
    keep_alive_ = server_->options_.keep_alive && req.keep_alive();
    head_ = req.method() == http::verb::head;
    HttpRequest r;
    r.method = std::string(req.method_string());
    r.target = std::string(req.target());
    r.remote = remote_;
    for (const auto& field : req) {
      std::string name(field.name_string());
      std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return char(std::tolower(c)); });
      auto [it, inserted] = r.headers.emplace(name, std::string(field.value()));
      if (!inserted) it->second += ", " + std::string(field.value());
    }
    r.body = std::move(req.body());
    if (!ParseTarget(r.target, &r.path, &r.query)) {
      return Write(HttpResponse::Problem(400, "invalid request target (a path, without '.' or '..' segments, "
                                              "with valid %-escapes)"));
    }
    auto self = this->shared_from_this();
    auto executor = stream_.get_executor();
    HttpReply reply = [self, executor](HttpResponse res) {
      asio::post(executor, [self, res = std::move(res)]() mutable { self->Write(std::move(res)); });
    };
    try {
      server_->handler_(std::move(r), std::move(reply));
    } catch (const std::exception& e) {
      if (server_->log_ != nullptr) server_->log_->error("{}: handler failed: {}", server_->options_.name, e.what());
      Write(HttpResponse::Problem(500, "internal error"));
    }
  }

  // An error response to a request that could not be read whole; closes.
  void Reject(int status, const std::string& detail) {
    keep_alive_ = false;
    head_ = false;
    linger_ = true;
    Write(HttpResponse::Problem(status, detail));
  }

  template <class Body>
  void Prepare(http::response<Body>& res, const HttpResponse& r) {
    res.version(11);
    res.result(unsigned(r.status));
    res.set(http::field::server, "dwfs");
    for (const auto& [k, v] : r.headers) res.insert(k, v);
    res.keep_alive(keep_alive_);
  }

  void Write(HttpResponse r) {
    if (server_->stopped_) return;
    if (r.status >= 500 || r.status == 400 || r.status == 413 || r.status == 431) keep_alive_ = false;
    Lowest().expires_after(server_->options_.response_timeout);
    auto self = this->shared_from_this();
    auto done = [self](beast::error_code ec, size_t) { self->OnWrite(ec); };
    if (!r.file_path.empty() && !head_) {
      int fd = ::open(r.file_path.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd >= 0) {
        file_res_.emplace();
        Prepare(*file_res_, r);
        file_res_->body().fd = std::shared_ptr<int>(new int(fd), [](int* p) {
          ::close(*p);
          delete p;
        });
        file_res_->body().offset = r.file_offset;
        file_res_->body().length = r.file_length;
        file_res_->prepare_payload();
        http::async_write(stream_, *file_res_, done);
        return;
      }
      r = HttpResponse::Problem(404, "the file is gone");
      keep_alive_ = false;
    }
    string_res_.emplace();
    Prepare(*string_res_, r);
    uint64_t length = r.file_path.empty() ? r.body.size() : r.file_length;
    if (!head_) string_res_->body() = std::move(r.body);
    string_res_->content_length(length);
    if (head_) {
      // Send the header only: Content-Length says what GET would send.
      serializer_.emplace(*string_res_);
      serializer_->split(true);
      http::async_write_header(stream_, *serializer_, done);
      return;
    }
    http::async_write(stream_, *string_res_, done);
  }

  void OnWrite(beast::error_code ec) {
    serializer_.reset();
    file_res_.reset();
    string_res_.reset();
    if (ec) return Finish("write", ec);
    if (linger_) return Linger();
    if (!keep_alive_) return Finish("write", {});
    Read();
  }

  // After refusing a request that was not read whole: stop sending, then
  // read and drop what the client still sends (briefly, boundedly), so that
  // closing does not reset the connection before the client reads the
  // error response.
  void Linger() {
    beast::error_code ignored;
    Lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
    Lowest().expires_after(std::chrono::seconds(1));
    auto self = this->shared_from_this();
    Lowest().async_read_some(asio::buffer(drain_), [self](beast::error_code ec, size_t n) {
      self->drained_ += n;
      if (ec || self->drained_ > (4u << 20)) return self->Finish("linger", {});
      self->Linger();
    });
  }

  void Finish(const char* what, beast::error_code ec) {
    if (ec && ec != asio::error::operation_aborted && server_->log_ != nullptr) {
      server_->log_->debug("{}: {} {} failed: {}", server_->options_.name, remote_, what, ec.message());
    }
    beast::error_code ignored;
    Lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
    Lowest().close();
    server_->SessionDone(id_);
  }

  std::shared_ptr<Impl> server_;
  uint64_t id_;
  std::string remote_;
  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::string_body>> string_res_;
  std::optional<http::response<FileRangeBody>> file_res_;
  std::optional<http::response_serializer<http::string_body>> serializer_;
  bool keep_alive_ = false;
  bool head_ = false;
  bool linger_ = false;
  size_t drained_ = 0;
  char drain_[16 * 1024];
};

Status HttpServer::Impl::Start() {
  if (started_) return Status::FailedPrecondition(options_.name + " on " + Where() + " already started");
  started_ = true;
  if (!options_.tls_cert.empty() || !options_.tls_key.empty()) {
    if (options_.tls_cert.empty() || options_.tls_key.empty()) {
      return Status::InvalidArgument(options_.name + ": TLS needs both api.tls_cert and api.tls_key");
    }
    tls_.emplace(ssl::context::tls_server);
    tls_->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                      ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    boost::system::error_code ec;
    tls_->use_certificate_chain_file(options_.tls_cert, ec);
    if (ec) return Status::IOError(options_.name + ": TLS certificate " + options_.tls_cert + ": " + ec.message());
    tls_->use_private_key_file(options_.tls_key, ssl::context::pem, ec);
    if (ec) return Status::IOError(options_.name + ": TLS key " + options_.tls_key + ": " + ec.message());
  }
  boost::system::error_code ec;
  tcp::resolver resolver(io_);
  auto results = resolver.resolve(options_.host, std::to_string(options_.port),
                                  tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec || results.empty()) {
    return Status::IOError(options_.name + ": cannot resolve " + Where() + ": " +
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
    return Status::IOError(options_.name + ": cannot listen on " + Where() + ": " + ec.message());
  }
  bound_port_ = acceptor_.local_endpoint(ec).port();
  if (log_ != nullptr) {
    log_->info("{} listening on {}://{}:{}", options_.name, tls_ ? "https" : "http", options_.host, bound_port_);
  }
  Accept();
  return Status::OK();
}

void HttpServer::Impl::Accept() {
  if (stopped_ || accepting_ || sessions_.size() >= options_.max_connections) return;
  accepting_ = true;
  auto self = shared_from_this();
  acceptor_.async_accept([self](beast::error_code ec, tcp::socket socket) {
    self->accepting_ = false;
    if (self->stopped_) return;
    if (ec) {
      // EMFILE, ECONNABORTED...: this connection only; keep accepting.
      if (self->log_ != nullptr) self->log_->debug("{}: accept failed: {}", self->options_.name, ec.message());
    } else {
      beast::error_code ignored;
      auto peer = socket.remote_endpoint(ignored);
      std::string remote = ignored ? "?" : peer.address().to_string();
      uint64_t id = self->next_id_++;
      if (self->tls_) {
        auto s = std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(self, id, remote, std::move(socket),
                                                                                  *self->tls_);
        self->sessions_.emplace(id, s);
        s->Run();
      } else {
        auto s = std::make_shared<Session<beast::tcp_stream>>(self, id, remote, std::move(socket));
        self->sessions_.emplace(id, s);
        s->Run();
      }
    }
    self->Accept();
  });
}

void HttpServer::Impl::SessionDone(uint64_t id) {
  sessions_.erase(id);
  Accept();  // resumes accepting when the limit was reached
}

void HttpServer::Impl::Stop() {
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

HttpServer::HttpServer(asio::io_context& io, HttpServerOptions options, HttpHandler handler, spdlog::logger* log)
    : impl_(std::make_shared<Impl>(io, std::move(options), std::move(handler), log)) {}

HttpServer::~HttpServer() { impl_->Stop(); }

Status HttpServer::Start() { return impl_->Start(); }

uint16_t HttpServer::port() const { return impl_->port(); }

void HttpServer::Stop() { impl_->Stop(); }

}  // namespace dwfs
