// A blocking HTTP/1.1 client for tests (Boost.Beast over loopback): one
// request per connection, or raw bytes for malformed-request tests.
#ifndef DWFS_TESTS_HTTP_TEST_CLIENT_H_
#define DWFS_TESTS_HTTP_TEST_CLIENT_H_

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <map>
#include <string>

#include "dwfs/http.h"
#include "dwfs/json.h"

namespace dwfs {
namespace testing {

struct HttpResult {
  int status = 0;  // 0: no response (error says why)
  std::map<std::string, std::string> headers;  // lower-cased names
  std::string body;
  std::string error;

  const std::string& Header(const std::string& name) const {
    static const std::string kEmpty;
    auto it = headers.find(name);
    return it == headers.end() ? kEmpty : it->second;
  }
  // The body as JSON (null when it is not JSON).
  Json JsonBody() const {
    Json j;
    if (!ParseJson(body, false, &j).ok()) return Json();
    return j;
  }
};

struct HttpCall {
  std::string method = "GET";
  std::string target = "/";
  std::string body;
  std::map<std::string, std::string> headers;
  std::string user, password;  // Basic credentials when user is set

  HttpCall& Auth(std::string u, std::string p) {
    user = std::move(u);
    password = std::move(p);
    return *this;
  }
};

inline HttpResult Fetch(uint16_t port, const HttpCall& call) {
  namespace asio = boost::asio;
  namespace beast = boost::beast;
  namespace http = beast::http;
  HttpResult out;
  try {
    asio::io_context io;
    beast::tcp_stream stream(io);
    stream.expires_after(std::chrono::seconds(30));
    stream.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    http::request<http::string_body> req(http::string_to_verb(call.method), call.target, 11);
    req.set(http::field::host, "127.0.0.1");
    if (req.method() == http::verb::unknown) req.method_string(call.method);
    for (const auto& [k, v] : call.headers) req.set(k, v);
    if (!call.user.empty()) req.set(http::field::authorization, "Basic " + Base64Encode(call.user + ":" + call.password));
    if (!call.body.empty()) {
      if (!call.headers.count("Content-Type")) req.set(http::field::content_type, "application/json");
      req.body() = call.body;
    }
    req.prepare_payload();
    http::write(stream, req);
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(1ull << 32);
    if (req.method() == http::verb::head) parser.skip(true);
    http::read(stream, buffer, parser);
    auto& res = parser.get();
    out.status = int(res.result_int());
    for (const auto& f : res) {
      std::string name(f.name_string());
      std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return char(std::tolower(c)); });
      out.headers[name] = std::string(f.value());
    }
    out.body = res.body();
  } catch (const std::exception& e) {
    out.error = e.what();
  }
  return out;
}

inline HttpResult Get(uint16_t port, const std::string& target, const std::string& user = "",
                      const std::string& password = "") {
  HttpCall c;
  c.target = target;
  c.user = user;
  c.password = password;
  return Fetch(port, c);
}

// Sends `bytes` as they are, then reads until the server closes (or 10 s):
// for malformed requests. Returns what came back.
inline std::string RawExchange(uint16_t port, const std::string& bytes) {
  namespace asio = boost::asio;
  std::string out;
  try {
    asio::io_context io;
    asio::ip::tcp::socket s(io);
    s.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    asio::write(s, asio::buffer(bytes));
    boost::system::error_code ec;
    char buf[4096];
    for (;;) {
      size_t n = s.read_some(asio::buffer(buf), ec);
      if (ec) break;
      out.append(buf, n);
    }
  } catch (const std::exception&) {
  }
  return out;
}

}  // namespace testing
}  // namespace dwfs

#endif  // DWFS_TESTS_HTTP_TEST_CLIENT_H_
