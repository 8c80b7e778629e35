// End-to-end smoke test of the browser-test kit (webdriver.h): the project's
// HttpServer serves a small page on a loopback port, headless Chromium
// (through chromedriver) loads it, types, clicks and waits for the page to
// react, and checks that untrusted text containing markup shows as text.
//
// Chromium and chromedriver are required, not optional: when they are
// missing the test fails and says to run scripts/install-deps.
//
// Screenshots go to $DWFS_TEST_ARTIFACTS/screenshots, or to
// <build dir>/test-artifacts/screenshots; each path is printed to stdout.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <string>
#include <thread>

#include "dwfs/http_server.h"
#include "webdriver.h"

namespace dwfs {
namespace {

using testing::ArtifactDir;
using testing::Browser;
using testing::ChromeDriver;

// Shown with textContent, so it must render as these characters: no script
// runs, no <img> is created, no alert opens.
constexpr const char* kUntrusted =
    "<script>window.__pwned = 1; alert('pwned')</script><img src=x onerror=\"window.__pwned = 2\">";

constexpr const char* kPage = R"(<!doctype html>
<html><head><meta charset="utf-8"><title>dwfs browser smoke</title><link rel="icon" href="data:,"></head>
<body>
  <label>Name <input id="name" type="text"></label>
  <button id="greet" type="button">Greet</button>
  <p id="greeting">not clicked</p>
  <p id="untrusted"></p>
  <script>
    document.getElementById('greet').addEventListener('click', () => {
      document.getElementById('greeting').textContent = 'Hello, ' + document.getElementById('name').value + '!';
    });
    fetch('/api/untrusted').then(r => r.json()).then(j => {
      document.getElementById('untrusted').textContent = j.text;
      console.log('smoke page ready');
    });
  </script>
</body></html>
)";

// The page server: HttpServer on 127.0.0.1:<ephemeral> with its io_context
// on a thread of its own.
class PageServer {
 public:
  PageServer() {
    HttpServerOptions o;
    o.name = "browser smoke server";
    server_ = std::make_unique<HttpServer>(io_, o, Handle, nullptr);
    Status st = server_->Start();
    if (!st.ok()) throw std::runtime_error(st.ToString());
    port_ = server_->port();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~PageServer() {
    boost::asio::post(io_, [this] {
      server_->Stop();
      io_.stop();
    });
    thread_.join();
  }
  std::string Url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port_) + path; }

 private:
  static void Handle(HttpRequest req, HttpReply reply) {
    if (req.path == "/") {
      HttpResponse r;
      r.body = kPage;
      r.Set("Content-Type", "text/html; charset=utf-8");
      r.Set("Set-Cookie", "smoke_session=abc123; Path=/; HttpOnly; SameSite=Strict");
      reply(std::move(r));
    } else if (req.path == "/api/untrusted") {
      Json j = Json::Object();
      j.Set("text", kUntrusted);
      reply(HttpResponse::JsonBody(j));
    } else {
      reply(HttpResponse::Problem(404, "no such page"));
    }
  }

  boost::asio::io_context io_;
  std::unique_ptr<HttpServer> server_;
  uint16_t port_ = 0;
  std::thread thread_;
};

TEST(BrowserSmokeTest, TypesClicksAndShowsMarkupAsText) {
  if (std::string missing = testing::MissingBrowserDeps(); !missing.empty()) FAIL() << missing;

  PageServer server;
  ChromeDriver driver(ArtifactDir("logs"));
  Browser browser(driver);

  browser.Navigate(server.Url("/"));
  EXPECT_EQ(browser.Title(), "dwfs browser smoke");
  EXPECT_EQ(browser.CurrentUrl(), server.Url("/"));

  // Typing and clicking change the page.
  browser.Type("#name", "dwfs");
  browser.Click("#greet");
  browser.WaitFor("document.getElementById('greeting').textContent === 'Hello, dwfs!'");
  EXPECT_EQ(browser.Text("#greeting"), "Hello, dwfs!");
  browser.Clear("#name");
  browser.Type("#name", "again");
  EXPECT_EQ(browser.Property(browser.Find("#name"), "value").str(), "again");
  browser.Click("#greet");
  browser.WaitFor("greeting says again", [&] { return browser.Text("#greeting") == "Hello, again!"; });

  // Markup from the server shows as text; nothing of it runs or renders.
  browser.WaitFor("document.getElementById('untrusted').textContent !== ''");
  EXPECT_EQ(browser.Text("#untrusted"), kUntrusted);
  EXPECT_FALSE(browser.Exists("#untrusted *"));
  EXPECT_EQ(browser.FindAll("script").size(), 1u);
  EXPECT_FALSE(browser.Exists("img"));
  EXPECT_TRUE(browser.ExecuteScript("return window.__pwned === undefined;").as_bool());
  EXPECT_EQ(browser.AlertText(), std::nullopt);

  // The session cookie is HttpOnly (invisible to scripts) and SameSite=Strict.
  std::optional<testing::Cookie> cookie = browser.FindCookie("smoke_session");
  ASSERT_TRUE(cookie.has_value());
  EXPECT_TRUE(cookie->http_only);
  EXPECT_EQ(cookie->same_site, "Strict");
  EXPECT_EQ(browser.ExecuteScript("return document.cookie;").str(), "");

  bool logged = false;
  for (const std::string& line : browser.BrowserLogs()) logged |= line.find("smoke page ready") != std::string::npos;
  EXPECT_TRUE(logged) << "console.log from the page not in the browser log";

  // Failures name the command and what went wrong.
  auto error_of = [](const std::function<void()>& f) -> std::string {
    try {
      f();
    } catch (const testing::WebDriverError& e) {
      return e.what();
    }
    return "(no error)";
  };
  EXPECT_EQ(error_of([&] { browser.Find("#missing", std::chrono::milliseconds(100)); }),
            "Find(#missing): no such element after 100 ms");
  std::string script_error = error_of([&] { browser.ExecuteScript("throw new Error('boom');"); });
  EXPECT_EQ(script_error.rfind("ExecuteScript: POST /session/", 0), 0u) << script_error;
  EXPECT_NE(script_error.find("/execute/sync: javascript error: "), std::string::npos) << script_error;
  EXPECT_NE(script_error.find("boom"), std::string::npos) << script_error;
  EXPECT_EQ(error_of([&] { browser.WaitFor("false", std::chrono::milliseconds(100)); }),
            "timed out after 100 ms waiting for: false");

  browser.SetWindowSize(800, 600);
  EXPECT_EQ(browser.ExecuteScript("return window.outerWidth;").as_int(), 800);

  std::string shot = ArtifactDir("screenshots") + "/BrowserSmokeTest.TypesClicksAndShowsMarkupAsText.png";
  browser.Screenshot(shot);
  std::cout << "screenshot: " << shot << std::endl;
  std::ifstream png(shot, std::ios::binary);
  std::string head(8, '\0');
  png.read(head.data(), 8);
  EXPECT_EQ(head, std::string("\x89PNG\r\n\x1a\n", 8)) << shot << " is not a PNG";
}

}  // namespace
}  // namespace dwfs
