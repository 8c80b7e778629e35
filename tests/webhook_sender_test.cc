// WebhookSender against a real HTTP listener on 127.0.0.1 (http_listener.h):
// what is sent, retries after 500s and timeouts, giving up, the bounded
// queue, Stop with a hung endpoint, and URLs kept out of the logs.
#include "dwfs/webhook_sender.h"

#include <gtest/gtest.h>
#include <openssl/ssl.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/ostream_sink.h>
#include <sys/socket.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <cstdlib>
#include <sstream>

#include "http_listener.h"
#include "test_util.h"

namespace dwfs {
namespace {

using std::chrono::milliseconds;

// A logger whose lines (level and message) land in a string.
class CapturedLog {
 public:
  CapturedLog() : sink_(std::make_shared<spdlog::sinks::ostream_sink_mt>(out_)) {
    sink_->set_pattern("%l %v");
    log_ = std::make_shared<spdlog::logger>("webhooks", sink_);
    log_->set_level(spdlog::level::debug);
  }
  spdlog::logger* get() { return log_.get(); }
  std::string text() {
    log_->flush();
    return out_.str();
  }
  int Count(const std::string& needle) {
    std::string t = text();
    int n = 0;
    for (size_t p = t.find(needle); p != std::string::npos; p = t.find(needle, p + 1)) ++n;
    return n;
  }

 private:
  std::ostringstream out_;
  std::shared_ptr<spdlog::sinks::ostream_sink_mt> sink_;
  std::shared_ptr<spdlog::logger> log_;
};

class WebhookSenderTest : public testing::Test {
 protected:
  WebhookSenderOptions Options() {
    WebhookSenderOptions o;
    o.log = log_.get();
    o.backoff_base = milliseconds(1);
    o.stop_grace = milliseconds(100);
    return o;
  }
  WebhookRequest Request(const std::string& path) {
    WebhookRequest r;
    r.url = listener_.url(path);
    r.body = R"({"text": "hello"})";
    r.label = "d.t on_failure_callback";
    return r;
  }

  HttpListener listener_;
  CapturedLog log_;
};

TEST_F(WebhookSenderTest, DeliversMethodTargetHeadersAndBody) {
  WebhookSender sender(Options());
  WebhookRequest r = Request("/hooks/T0KEN?channel=ops");
  r.method = "PUT";
  r.headers = {{"Authorization", "Bearer s3cret-value"}, {"X-Dwfs", "yes"}};
  ASSERT_TRUE(sender.Send(r));
  std::vector<RecordedRequest> got = listener_.WaitFor(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].method, "PUT");
  EXPECT_EQ(got[0].target, "/hooks/T0KEN?channel=ops");
  EXPECT_EQ(got[0].headers["content-type"], "application/json");
  EXPECT_EQ(got[0].headers["authorization"], "Bearer s3cret-value");
  EXPECT_EQ(got[0].headers["x-dwfs"], "yes");
  EXPECT_EQ(got[0].headers["host"], "127.0.0.1:" + std::to_string(listener_.port()));
  EXPECT_EQ(got[0].headers["content-length"], "17");
  EXPECT_EQ(got[0].body, R"({"text": "hello"})");
  ASSERT_TRUE(sender.WaitIdle(milliseconds(30000)));
  WebhookStats s = sender.stats();
  EXPECT_EQ(s.delivered, 1u);
  EXPECT_EQ(s.attempts, 1u);
  EXPECT_EQ(s.failed, 0u);
  EXPECT_EQ(log_.Count("warning"), 0) << log_.text();
}

TEST_F(WebhookSenderTest, ContentTypeMayBeOverridden) {
  WebhookSender sender(Options());
  WebhookRequest r = Request("/form");
  r.headers = {{"Content-Type", "text/plain"}};
  ASSERT_TRUE(sender.Send(r));
  std::vector<RecordedRequest> got = listener_.WaitFor(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].method, "POST");
  EXPECT_EQ(got[0].headers["content-type"], "text/plain");
}

TEST_F(WebhookSenderTest, RetriesAfter500UntilSuccess) {
  listener_.FailFirst(2, 500);
  WebhookSender sender(Options());
  WebhookRequest r = Request("/retry");
  r.retries = 3;
  ASSERT_TRUE(sender.Send(r));
  ASSERT_TRUE(sender.WaitIdle(milliseconds(30000)));
  EXPECT_EQ(listener_.requests().size(), 3u);
  WebhookStats s = sender.stats();
  EXPECT_EQ(s.delivered, 1u);
  EXPECT_EQ(s.failed, 0u);
  EXPECT_EQ(s.attempts, 3u);
  EXPECT_EQ(log_.Count("debug webhook d.t on_failure_callback to http://127.0.0.1:"), 2) << log_.text();
  EXPECT_EQ(log_.Count("HTTP status 500"), 2) << log_.text();
  EXPECT_EQ(log_.Count("warning"), 0) << log_.text();
}

TEST_F(WebhookSenderTest, GivesUpAfterRetriesWithOneWarningAndNoSecrets) {
  listener_.FailFirst(100, 503);
  WebhookSender sender(Options());
  WebhookRequest r = Request("/services/T000/B000/XXXXSECRETPATH?token=QUERYSECRET");
  r.headers = {{"Authorization", "Bearer HEADERSECRET"}};
  r.retries = 2;
  ASSERT_TRUE(sender.Send(r));
  ASSERT_TRUE(sender.WaitIdle(milliseconds(30000)));
  EXPECT_EQ(listener_.requests().size(), 3u);
  WebhookStats s = sender.stats();
  EXPECT_EQ(s.delivered, 0u);
  EXPECT_EQ(s.failed, 1u);
  EXPECT_EQ(s.attempts, 3u);
  std::string text = log_.text();
  std::string host = "http://127.0.0.1:" + std::to_string(listener_.port());
  EXPECT_EQ(log_.Count("warning"), 1) << text;
  EXPECT_EQ(log_.Count("warning webhook d.t on_failure_callback to " + host +
                       " failed after 3 attempt(s): HTTP status 503"),
            1)
      << text;
  for (const char* secret : {"XXXXSECRETPATH", "QUERYSECRET", "HEADERSECRET", "/services"}) {
    EXPECT_EQ(text.find(secret), std::string::npos) << secret << " in:\n" << text;
  }
}

TEST_F(WebhookSenderTest, TimeoutThenRetrySucceeds) {
  listener_.HangFirst(1);
  WebhookSender sender(Options());
  WebhookRequest r = Request("/slow");
  r.timeout = milliseconds(200);
  r.retries = 1;
  ASSERT_TRUE(sender.Send(r));
  ASSERT_TRUE(sender.WaitIdle(milliseconds(30000)));
  EXPECT_EQ(listener_.requests().size(), 2u);
  WebhookStats s = sender.stats();
  EXPECT_EQ(s.delivered, 1u);
  EXPECT_EQ(s.attempts, 2u);
  EXPECT_EQ(log_.Count("attempt 1 failed: timed out after 200 ms"), 1) << log_.text();
}

TEST_F(WebhookSenderTest, DownEndpointFailsAfterRetries) {
  int port;
  {
    HttpListener gone;  // a port that was just free: nothing listens there now
    port = gone.port();
  }
  WebhookSender sender(Options());
  WebhookRequest r;
  r.url = "http://127.0.0.1:" + std::to_string(port) + "/x";
  r.retries = 1;
  r.label = "down";
  ASSERT_TRUE(sender.Send(r));
  ASSERT_TRUE(sender.WaitIdle(milliseconds(30000)));
  EXPECT_EQ(sender.stats().failed, 1u);
  EXPECT_EQ(sender.stats().attempts, 2u);
  EXPECT_EQ(log_.Count("failed after 2 attempt(s): cannot connect: "), 1) << log_.text();
}

TEST_F(WebhookSenderTest, StopWithAHungEndpointAbandonsIt) {
  listener_.HangFirst(1000);
  WebhookSender sender(Options());
  WebhookRequest r = Request("/hang");
  r.timeout = std::chrono::hours(1);
  ASSERT_TRUE(sender.Send(r));
  ASSERT_EQ(listener_.WaitFor(1).size(), 1u);  // in flight, never answered
  sender.Stop();                               // returns after the 100 ms grace
  WebhookStats s = sender.stats();
  EXPECT_EQ(s.abandoned, 1u);
  EXPECT_EQ(s.delivered, 0u);
  EXPECT_EQ(log_.Count("warning webhooks: 1 request(s) abandoned at shutdown after a 100 ms grace"), 1)
      << log_.text();
  EXPECT_FALSE(sender.Send(Request("/after")));
  EXPECT_EQ(sender.stats().dropped, 1u);
  sender.Stop();  // idempotent
}

TEST_F(WebhookSenderTest, FullQueueDropsWithAWarning) {
  listener_.HangFirst(1000);
  WebhookSenderOptions o = Options();
  o.max_in_flight = 1;
  o.max_queued = 1;
  WebhookSender sender(o);
  WebhookRequest r = Request("/q");
  r.timeout = std::chrono::hours(1);
  ASSERT_TRUE(sender.Send(r));
  ASSERT_EQ(listener_.WaitFor(1).size(), 1u);  // the first is in flight
  EXPECT_TRUE(sender.Send(r));                 // queued
  EXPECT_FALSE(sender.Send(r));                // no room
  EXPECT_EQ(sender.stats().dropped, 1u);
  EXPECT_EQ(log_.Count("dropped: the queue is full"), 1) << log_.text();
  sender.Stop();
  EXPECT_EQ(sender.stats().abandoned, 2u);
  EXPECT_EQ(listener_.requests().size(), 1u);
}

TEST_F(WebhookSenderTest, HttpsToAPlainServerFailsTheHandshake) {
  WebhookSender sender(Options());
  WebhookRequest r;
  r.url = "https://127.0.0.1:" + std::to_string(listener_.port()) + "/tls";
  r.retries = 0;
  r.timeout = milliseconds(5000);
  r.label = "tls";
  ASSERT_TRUE(sender.Send(r));
  ASSERT_TRUE(sender.WaitIdle(milliseconds(30000)));
  EXPECT_EQ(sender.stats().failed, 1u);
  EXPECT_EQ(log_.Count("failed after 1 attempt(s): TLS handshake failed: "), 1) << log_.text();
  EXPECT_TRUE(listener_.requests().empty());  // nothing readable as HTTP arrived
}

TEST_F(WebhookSenderTest, BadUrlIsDroppedWithoutQuotingIt) {
  WebhookSender sender(Options());
  WebhookRequest r;
  r.url = "ftp://example.com/SECRETPATH";
  r.label = "bad";
  EXPECT_FALSE(sender.Send(r));
  EXPECT_EQ(sender.stats().dropped, 1u);
  EXPECT_EQ(log_.Count("warning webhook bad to (invalid url) dropped: webhook url must start with http:// or https://"),
            1)
      << log_.text();
  EXPECT_EQ(log_.text().find("SECRETPATH"), std::string::npos);
}

// A TLS server on 127.0.0.1 with a self-signed certificate for
// "localhost" (made by the openssl command): records the SNI name and target
// of each request and answers 200; counts failed handshakes.
class TlsServer {
 public:
  explicit TlsServer(const std::string& dir) : cert_(dir + "/cert.pem") {
    std::string cmd = "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost "
                      "-addext subjectAltName=DNS:localhost -keyout " + dir + "/key.pem -out " + cert_ +
                      " >/dev/null 2>&1";
    if (std::system(cmd.c_str()) != 0) return;
    ctx_.use_certificate_chain_file(cert_);
    ctx_.use_private_key_file(dir + "/key.pem", boost::asio::ssl::context::pem);
    using tcp = boost::asio::ip::tcp;
    acceptor_.open(tcp::v4());
    acceptor_.bind(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread([this] { Serve(); });
  }
  ~TlsServer() {
    if (!thread_.joinable()) return;
    ::shutdown(acceptor_.native_handle(), SHUT_RDWR);  // wakes the blocking accept
    thread_.join();
  }
  bool ok() const { return port_ != 0; }
  int port() const { return port_; }
  const std::string& cert() const { return cert_; }
  std::vector<std::string> seen() {
    std::lock_guard lock(mu_);
    return seen_;
  }

 private:
  void Serve() {
    namespace http = boost::beast::http;
    for (;;) {
      boost::asio::ip::tcp::socket socket(io_);
      boost::system::error_code ec;
      acceptor_.accept(socket, ec);
      if (ec) return;
      boost::asio::ssl::stream<boost::asio::ip::tcp::socket> tls(std::move(socket), ctx_);
      tls.handshake(boost::asio::ssl::stream_base::server, ec);
      const char* sni = SSL_get_servername(tls.native_handle(), TLSEXT_NAMETYPE_host_name);
      std::string line = std::string("sni=") + (sni ? sni : "(none)");
      if (!ec) {
        boost::beast::flat_buffer buffer;
        http::request<http::string_body> req;
        http::read(tls, buffer, req, ec);
        line += " target=" + std::string(req.target());
        http::response<http::string_body> res{http::status::ok, 11};
        res.body() = "ok";
        res.prepare_payload();
        if (!ec) http::write(tls, res, ec);
      } else {
        line += " handshake failed";
      }
      std::lock_guard lock(mu_);
      seen_.push_back(line);
    }
  }

  std::string cert_;
  boost::asio::io_context io_;
  boost::asio::ssl::context ctx_{boost::asio::ssl::context::tls_server};
  boost::asio::ip::tcp::acceptor acceptor_{io_};
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::vector<std::string> seen_;
};

TEST_F(WebhookSenderTest, HttpsVerifiesTheCertificateAndSendsSni) {
  TempDir dir;
  TlsServer server(dir.path());
  if (!server.ok()) GTEST_SKIP() << "no openssl command to make a certificate";
  WebhookRequest r;
  r.url = "https://localhost:" + std::to_string(server.port()) + "/secure?k=SECRET";
  r.retries = 0;
  r.label = "tls";
  {
    // The system's CAs do not know this certificate: refused, nothing sent.
    WebhookSender sender(Options());
    ASSERT_TRUE(sender.Send(r));
    ASSERT_TRUE(sender.WaitIdle(milliseconds(30000)));
    EXPECT_EQ(sender.stats().failed, 1u);
    EXPECT_EQ(log_.Count("failed after 1 attempt(s): TLS handshake failed: certificate verify failed"), 1)
        << log_.text();
  }
  {
    // Trusted: delivered, with SNI.
    WebhookSenderOptions o = Options();
    o.extra_ca_file = server.cert();
    WebhookSender sender(o);
    ASSERT_TRUE(sender.Send(r));
    ASSERT_TRUE(sender.WaitIdle(milliseconds(30000)));
    EXPECT_EQ(sender.stats().delivered, 1u) << log_.text();
  }
  EXPECT_EQ(server.seen(), (std::vector<std::string>{"sni=localhost handshake failed",
                                                     "sni=localhost target=/secure?k=SECRET"}));
  EXPECT_EQ(log_.text().find("SECRET"), std::string::npos) << log_.text();
}

TEST(WebhookUrlTest, ParsesHostPortAndTarget) {
  WebhookUrl u;
  ASSERT_TRUE(ParseWebhookUrl("https://hooks.slack.com/services/T/B/X", &u).ok());
  EXPECT_TRUE(u.tls);
  EXPECT_EQ(u.host, "hooks.slack.com");
  EXPECT_EQ(u.port, "443");
  EXPECT_EQ(u.target, "/services/T/B/X");
  ASSERT_TRUE(ParseWebhookUrl("HTTP://127.0.0.1:8080?a=b#frag", &u).ok());
  EXPECT_FALSE(u.tls);
  EXPECT_EQ(u.host, "127.0.0.1");
  EXPECT_EQ(u.port, "8080");
  EXPECT_EQ(u.target, "/?a=b");
  ASSERT_TRUE(ParseWebhookUrl("http://[::1]:9000/x", &u).ok());
  EXPECT_EQ(u.host, "::1");
  EXPECT_EQ(u.port, "9000");
  ASSERT_TRUE(ParseWebhookUrl("http://example.com", &u).ok());
  EXPECT_EQ(u.port, "80");
  EXPECT_EQ(u.target, "/");
}

TEST(WebhookUrlTest, ErrorsNeverQuoteTheUrl) {
  const std::pair<const char*, const char*> cases[] = {
      {"ftp://host/SECRET", "webhook url must start with http:// or https://"},
      {"http:///SECRET", "webhook url has no host"},
      {"http://user:SECRET@host/x", "webhook url: credentials in the URL are not supported (use headers)"},
      {"http://host:99999/SECRET", "webhook url has a bad port"},
      {"http://host:8x/SECRET", "webhook url has a bad port"},
      {"http://host/SE CRET", "webhook url contains a space or control character"},
  };
  for (const auto& [url, message] : cases) {
    WebhookUrl u;
    Status st = ParseWebhookUrl(url, &u);
    EXPECT_FALSE(st.ok()) << url;
    EXPECT_EQ(st.message(), message) << url;
  }
}

TEST(WebhookUrlTest, RedactKeepsSchemeHostAndPortOnly) {
  EXPECT_EQ(RedactUrl("https://hooks.slack.com/services/T/B/X"), "https://hooks.slack.com");
  EXPECT_EQ(RedactUrl("https://hooks.example.com:8443/x?token=1"), "https://hooks.example.com:8443");
  EXPECT_EQ(RedactUrl("http://127.0.0.1:80/x"), "http://127.0.0.1");
  EXPECT_EQ(RedactUrl("http://[::1]:9000/x"), "http://[::1]:9000");
  EXPECT_EQ(RedactUrl("http://user:pw@host/x"), "(invalid url)");
  EXPECT_EQ(RedactUrl("not a url"), "(invalid url)");
}

}  // namespace
}  // namespace dwfs
