// HealthServer: real HTTP over loopback. The server runs on the test's
// io_context; clients are blocking Beast clients on their own threads (with
// a 5 s socket timeout as a failure guard), and the io_context runs until
// they are done.
#include "dwfs/health_server.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

namespace dwfs {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using std::chrono::milliseconds;

bool RunUntil(asio::io_context& io, const std::function<bool()>& pred) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    if (io.stopped()) io.restart();
    io.run_one_for(milliseconds(20));
  }
  return true;
}

// A blocking loopback connection with 5 s receive/send timeouts.
struct Client {
  explicit Client(uint16_t port) : socket(io) {
    socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    timeval tv{5, 0};
    ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  }
  // True once the server closed the connection (EOF or reset).
  bool ReadsEof() {
    char c;
    beast::error_code ec;
    size_t n = socket.read_some(asio::buffer(&c, 1), ec);
    return n == 0 && (ec == asio::error::eof || ec == asio::error::connection_reset);
  }
  // Reads to the end; the status line the server sent before closing, or
  // "" when it closed without a word.
  std::string ReadStatusThenEof() {
    std::string all;
    char buf[4096];
    beast::error_code ec;
    while (!ec) all.append(buf, socket.read_some(asio::buffer(buf), ec));
    return all.substr(0, all.find("\r\n"));
  }
  asio::io_context io;
  tcp::socket socket;
};

struct Reply {
  int status = 0;
  std::string content_type, allow, connection, body, error;
  uint64_t content_length = 0;
};

Reply Fetch(uint16_t port, http::verb verb, const std::string& target) {
  Reply r;
  try {
    Client c(port);
    http::request<http::empty_body> req{verb, target, 11};
    req.set(http::field::host, "127.0.0.1");
    http::write(c.socket, req);
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    if (verb == http::verb::head) parser.skip(true);
    http::read(c.socket, buffer, parser);
    const auto& res = parser.get();
    r.status = res.result_int();
    r.content_type = std::string(res[http::field::content_type]);
    r.allow = std::string(res[http::field::allow]);
    r.connection = std::string(res[http::field::connection]);
    r.body = res.body();
    if (res.has_content_length()) r.content_length = std::stoull(std::string(res[http::field::content_length]));
  } catch (const std::exception& e) {
    r.error = e.what();
  }
  return r;
}

class HealthServerTest : public ::testing::Test {
 protected:
  void StartServer(milliseconds read_timeout = std::chrono::seconds(5),
                   std::function<std::string()> metrics = nullptr) {
    server_ = std::make_unique<HealthServer>(
        io_, "127.0.0.1", 0, [this] { return report_; }, nullptr, read_timeout);
    if (metrics) server_->ServeMetrics(std::move(metrics));
    Status st = server_->Start();
    ASSERT_TRUE(st.ok()) << st.ToString();
    ASSERT_NE(server_->port(), 0);
  }

  // Fetches on a thread while the io_context serves it.
  Reply Get(http::verb verb, const std::string& target) {
    std::atomic<bool> done{false};
    Reply reply;
    std::thread t([&] {
      reply = Fetch(server_->port(), verb, target);
      done = true;
    });
    bool finished = RunUntil(io_, [&] { return done.load(); });
    t.join();
    EXPECT_TRUE(finished);
    return reply;
  }

  asio::io_context io_;
  HealthReport report_;
  std::unique_ptr<HealthServer> server_;
};

TEST_F(HealthServerTest, MetricsWhenAsked) {
  int renders = 0;
  StartServer(std::chrono::seconds(5), [&] { return "dwfs_x " + std::to_string(++renders) + "\n"; });
  Reply r = Get(http::verb::get, "/metrics");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(r.body, "dwfs_x 1\n");
  EXPECT_EQ(Get(http::verb::get, "/metrics").body, "dwfs_x 2\n");  // rendered per request
  EXPECT_EQ(Get(http::verb::post, "/metrics").status, 404);
}

TEST_F(HealthServerTest, NoMetricsUnlessAsked) {
  StartServer();
  EXPECT_EQ(Get(http::verb::get, "/metrics").status, 404);
}

TEST_F(HealthServerTest, HealthyIs200WithBody) {
  report_.healthy = true;
  report_.body = Json::Object();
  report_.body.Set("status", "healthy");
  report_.body.Set("latest_scheduler_heartbeat", "2026-01-05T06:00:00Z");
  StartServer();
  Reply r = Get(http::verb::get, "/health");
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(r.connection, "close");
  EXPECT_EQ(r.body, R"({"status":"healthy","latest_scheduler_heartbeat":"2026-01-05T06:00:00Z"})");
  // A query string does not matter.
  EXPECT_EQ(Get(http::verb::get, "/health?verbose=1").status, 200);
}

TEST_F(HealthServerTest, UnhealthyIs503AndProbeSeesLatestState) {
  report_.healthy = true;
  report_.body = Json::Object();
  StartServer();
  EXPECT_EQ(Get(http::verb::get, "/health").status, 200);
  report_.healthy = false;
  report_.body.Set("status", "unhealthy");
  Reply r = Get(http::verb::get, "/health");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(r.body, R"({"status":"unhealthy"})");
}

TEST_F(HealthServerTest, HeadHasNoBody) {
  report_.healthy = true;
  report_.body = Json::Object();
  report_.body.Set("status", "healthy");
  StartServer();
  Reply r = Get(http::verb::head, "/health");
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "");
  EXPECT_EQ(r.content_length, std::string(R"({"status":"healthy"})").size());
}

TEST_F(HealthServerTest, UnknownPathIs404) {
  StartServer();
  for (const char* path : {"/", "/healthz", "/health/x", "/api/v1/dags"}) {
    Reply r = Get(http::verb::get, path);
    EXPECT_EQ(r.status, 404) << path;
    EXPECT_EQ(r.content_type, "application/json");
    EXPECT_EQ(r.body, R"({"error":"not found"})");
  }
}

TEST_F(HealthServerTest, OtherMethodIs405) {
  StartServer();
  for (http::verb verb : {http::verb::post, http::verb::put, http::verb::delete_}) {
    Reply r = Get(verb, "/health");
    EXPECT_EQ(r.status, 405);
    EXPECT_NE(r.allow.find("GET"), std::string::npos) << r.allow;
    EXPECT_EQ(r.content_type, "application/json");
  }
}

TEST_F(HealthServerTest, IdleClientDoesNotBlockOthers) {
  report_.healthy = true;
  StartServer();  // the default 5 s read deadline: the idle client stays open
  Client idle(server_->port());
  Reply r = Get(http::verb::get, "/health");
  EXPECT_EQ(r.status, 200);
  // The idle connection is still open: nothing to read yet.
  char c;
  beast::error_code ec;
  idle.socket.non_blocking(true);
  idle.socket.read_some(asio::buffer(&c, 1), ec);
  EXPECT_EQ(ec, asio::error::would_block);
}

TEST_F(HealthServerTest, SlowClientIsDropped) {
  report_.healthy = true;
  StartServer(milliseconds(200));
  std::atomic<bool> dropped{false};
  std::thread t([&] {
    Client idle(server_->port());
    // Half a request, then nothing.
    asio::write(idle.socket, asio::buffer(std::string("GET /health HTTP/1.1\r\nHost: x\r\n")));
    dropped = idle.ReadsEof();
  });
  bool finished = RunUntil(io_, [&] { return dropped.load(); });
  t.join();
  EXPECT_TRUE(finished);
  EXPECT_TRUE(dropped);
  // The server still serves.
  EXPECT_EQ(Get(http::verb::get, "/health").status, 200);
}

TEST_F(HealthServerTest, GarbageAndOversizedHeadersCloseOnlyThatConnection) {
  report_.healthy = true;
  StartServer();
  std::atomic<int> closed{0};
  std::thread t([&] {
    Client garbage(server_->port());
    asio::write(garbage.socket, asio::buffer(std::string("\x01\x02 not http\r\n\r\n")));
    if (garbage.ReadStatusThenEof() == "HTTP/1.1 400 Bad Request") ++closed;
    Client big(server_->port());
    std::string req = "GET /health HTTP/1.1\r\nX-Big: " + std::string(16 * 1024, 'a') + "\r\n\r\n";
    beast::error_code ec;
    asio::write(big.socket, asio::buffer(req), ec);  // may be reset midway
    std::string status = big.ReadStatusThenEof();
    if (status == "HTTP/1.1 431 Request Header Fields Too Large" || status.empty()) ++closed;
  });
  bool finished = RunUntil(io_, [&] { return closed.load() == 2; });
  t.join();
  EXPECT_TRUE(finished);
  EXPECT_EQ(Get(http::verb::get, "/health").status, 200);
}

TEST_F(HealthServerTest, ConnectionLimitWaitsInsteadOfFailing) {
  report_.healthy = true;
  StartServer(milliseconds(200));
  // 70 idle connections: 64 are served (and time out), the rest wait.
  std::vector<std::unique_ptr<Client>> idle;
  for (int i = 0; i < 70; ++i) idle.push_back(std::make_unique<Client>(server_->port()));
  Reply r = Get(http::verb::get, "/health");
  EXPECT_EQ(r.status, 200);
}

TEST_F(HealthServerTest, PortInUseIsAnErrorNamingIt) {
  StartServer();
  HealthServer second(io_, "127.0.0.1", server_->port(), [] { return HealthReport{}; }, nullptr);
  Status st = second.Start();
  EXPECT_EQ(st.code(), Status::Code::kIOError);
  EXPECT_NE(st.message().find("127.0.0.1:" + std::to_string(server_->port())), std::string::npos)
      << st.message();
  EXPECT_FALSE(server_->Start().ok());  // already started
}

TEST_F(HealthServerTest, StopClosesListenerAndConnections) {
  StartServer();
  uint16_t port = server_->port();
  Client idle(port);
  io_.poll();  // accept it
  server_->Stop();
  server_->Stop();  // idempotent
  std::atomic<bool> dropped{false};
  std::thread t([&] { dropped = idle.ReadsEof(); });
  bool finished = RunUntil(io_, [&] { return dropped.load(); });
  t.join();
  EXPECT_TRUE(finished);
  asio::io_context cio;
  tcp::socket s(cio);
  beast::error_code ec;
  s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
  EXPECT_EQ(ec, asio::error::connection_refused);
  server_.reset();
  io_.poll();  // queued handlers run after the server is gone
}

}  // namespace
}  // namespace dwfs
