// HttpServer: HTTP/1.1 (optionally over TLS) on Boost.Beast, serving one
// handler. The API server (api_server.h) and the scheduler's health
// endpoint (health_server.h) are built on it.
//
// Connections: keep-alive (a client may send many requests, one at a time);
// each request, header and body, must arrive within `request_timeout` of
// the previous response (or of the connection), else the connection is
// closed: slow clients (slowloris) hold a slot for that long at most. At most
// `max_connections` are served at once; further ones wait in the listen
// backlog. Limits give error responses and close the connection: a header
// over `header_limit` -> 431, a body over `body_limit` -> 413, a malformed
// request -> 400, a target that is not an origin-form path or whose path
// has "." / ".." segments or a bad escape -> 400. A failure on one
// connection closes that connection only. HEAD is answered like GET
// without the body (the handler sees "HEAD").
//
// Handlers: `handler(request, reply)` is called on the io_context thread
// for every request; it must call `reply` exactly once, from any thread, at
// any time (a handler that blocks, e.g. on the database, hands the request
// to its own threads and replies from there). An exception from the
// handler gives a 500 problem. Response bodies are strings or a byte range
// of a file (see HttpResponse), streamed in 64 KiB pieces.
//
// Thread safety: Start(), Stop() and port() must be called on the
// io_context's thread (or before it runs). `reply` may be called from any
// thread. Lifetime: Stop() (or destruction) closes the listening socket and
// every connection; a reply after Stop() is dropped.
#ifndef DWFS_HTTP_SERVER_H_
#define DWFS_HTTP_SERVER_H_

#include <boost/asio/io_context.hpp>
#include <spdlog/logger.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "dwfs/http.h"
#include "dwfs/status.h"

namespace dwfs {

struct HttpServerOptions {
  // Address or name to bind ("127.0.0.1", "0.0.0.0", "::", "localhost").
  std::string host = "127.0.0.1";
  // 0 picks an ephemeral port (see port()).
  uint16_t port = 0;
  // PEM certificate chain and private key; both set -> HTTPS only.
  std::string tls_cert;
  std::string tls_key;
  // How long a client has to send a whole request (and, on a kept-alive
  // connection, to start the next one).
  std::chrono::milliseconds request_timeout{10000};
  // How long a client has to take a whole response.
  std::chrono::milliseconds response_timeout{60000};
  // Largest request header block and body.
  uint32_t header_limit = 16 * 1024;
  uint64_t body_limit = 1024 * 1024;
  // Connections served at once.
  size_t max_connections = 256;
  // False: one request per connection (responses say Connection: close).
  bool keep_alive = true;
  // Name in log lines ("api server", "health server").
  std::string name = "http server";
};

using HttpReply = std::function<void(HttpResponse)>;
using HttpHandler = std::function<void(HttpRequest, HttpReply)>;

class HttpServer {
 public:
  // `log` may be null; it must outlive the server.
  HttpServer(boost::asio::io_context& io, HttpServerOptions options, HttpHandler handler, spdlog::logger* log);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Loads the TLS files (when set), binds and listens, then accepts on the
  // io_context. IOError naming host:port (or the TLS file) when that fails;
  // FailedPrecondition when already started.
  Status Start();
  // The bound port (the ephemeral one when constructed with 0); 0 before Start.
  uint16_t port() const;
  // Stops accepting and closes every connection. Idempotent.
  void Stop();

 private:
  class Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace dwfs

#endif  // DWFS_HTTP_SERVER_H_
