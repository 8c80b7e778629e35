// A blocking W3C WebDriver client for browser tests: ChromeDriver runs
// /usr/bin/chromedriver as a child process, Browser is one session in
// headless Chromium. Commands go over loopback HTTP (http_test_client.h).
// Every failure (a WebDriver error, no answer, a wait that timed out) throws
// WebDriverError naming the command, which GoogleTest reports as a failure
// of the test. Not thread-safe: use a Browser from one thread.
//
// Both binaries come from Debian's chromium and chromium-driver packages
// (scripts/install-deps); MissingBrowserDeps() says which one is absent.
#ifndef DWFS_TESTS_WEBDRIVER_H_
#define DWFS_TESTS_WEBDRIVER_H_

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "dwfs/json.h"
#include "http_test_client.h"

namespace dwfs {
namespace testing {

inline constexpr const char* kChromiumPath = "/usr/bin/chromium";
inline constexpr const char* kChromeDriverPath = "/usr/bin/chromedriver";

// Where browser tests put what they leave for people to look at:
// <$DWFS_TEST_ARTIFACTS or <build dir>/test-artifacts>/<sub> (screenshots,
// logs).
inline std::string ArtifactDir(const std::string& sub) {
  const char* env = std::getenv("DWFS_TEST_ARTIFACTS");
  std::string root = env != nullptr && *env != '\0' ? env : std::string(DWFS_BINARY_DIR) + "/test-artifacts";
  return root + "/" + sub;
}

class WebDriverError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// "" when chromium and chromedriver are installed; else a message naming the
// missing binary and how to install it.
inline std::string MissingBrowserDeps() {
  for (const char* path : {kChromiumPath, kChromeDriverPath}) {
    if (::access(path, X_OK) != 0) {
      return std::string(path) + " not found: run scripts/install-deps (as root) to install the Debian packages "
                                  "chromium and chromium-driver; CI installs them";
    }
  }
  return "";
}

namespace webdriver_internal {

using Clock = std::chrono::steady_clock;

inline Json Object(std::initializer_list<std::pair<std::string, Json>> members) {
  Json j = Json::Object();
  for (const auto& [k, v] : members) j.Set(k, v);
  return j;
}

// Decodes standard padded base64 (what WebDriver screenshots are). Throws on
// malformed input.
inline std::string Base64Decode(const std::string& in) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
  };
  if (in.size() % 4 != 0) throw WebDriverError("base64: length not a multiple of 4");
  std::string out;
  out.reserve(in.size() / 4 * 3);
  for (size_t i = 0; i < in.size(); i += 4) {
    uint32_t n = 0;
    int pad = 0;
    for (size_t k = 0; k < 4; ++k) {
      char c = in[i + k];
      int v = (c == '=' && i + 4 == in.size() && k >= 2) ? (++pad, 0) : (pad ? -1 : value(c));
      if (v < 0) throw WebDriverError("base64: bad character at offset " + std::to_string(i + k));
      n = n << 6 | uint32_t(v);
    }
    out.push_back(char(n >> 16));
    if (pad < 2) out.push_back(char(n >> 8 & 0xff));
    if (pad < 1) out.push_back(char(n & 0xff));
  }
  return out;
}

// A port that was free on 127.0.0.1 a moment ago (bound, then closed).
inline uint16_t PickFreePort() {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor a(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();
}

}  // namespace webdriver_internal

// A chromedriver child process on a loopback port, in its own process group
// (so the browsers it starts are killed with it). The constructor returns
// once GET /status says ready (20 s at most, else WebDriverError); its
// stdout and stderr go to <log_dir>/chromedriver-<port>.log. The destructor
// sends SIGTERM to the group, SIGKILL after 5 s, and reaps the process.
class ChromeDriver {
 public:
  explicit ChromeDriver(const std::string& log_dir) {
    if (std::string missing = MissingBrowserDeps(); !missing.empty()) throw WebDriverError(missing);
    std::filesystem::create_directories(log_dir);
    std::string last_error;
    for (int attempt = 0; attempt < 3; ++attempt) {  // the free port may be taken before chromedriver binds it
      port_ = webdriver_internal::PickFreePort();
      log_path_ = log_dir + "/chromedriver-" + std::to_string(port_) + ".log";
      if (Spawn(&last_error) && WaitReady(&last_error)) return;
      Kill();
    }
    throw WebDriverError("chromedriver did not start: " + last_error + " (log: " + log_path_ + ")");
  }
  ~ChromeDriver() { Kill(); }
  ChromeDriver(const ChromeDriver&) = delete;
  ChromeDriver& operator=(const ChromeDriver&) = delete;

  uint16_t port() const { return port_; }
  const std::string& log_path() const { return log_path_; }

  // Sends one command and returns the response's "value". Throws
  // WebDriverError "<what>: <METHOD> <path>: <error>: <message>" when the
  // answer is not 200 or not JSON. POST bodies default to {}.
  Json Command(const std::string& what, const std::string& method, const std::string& path,
               const Json& body = Json::Object()) const {
    HttpCall call;
    call.method = method;
    call.target = path;
    if (method == "POST") call.body = body.Dump();
    HttpResult r = Fetch(port_, call);
    std::string where = what + ": " + method + " " + path + ": ";
    if (r.status == 0) throw WebDriverError(where + "no answer from chromedriver (" + r.error + ")");
    Json j = r.JsonBody();
    const Json* value = j.Find("value");
    if (value == nullptr) throw WebDriverError(where + "HTTP " + std::to_string(r.status) + ", not WebDriver JSON");
    if (r.status != 200) {
      const Json* error = value->Find("error");
      const Json* message = value->Find("message");
      std::string m = message ? message->str() : "";
      throw WebDriverError(where + (error ? error->str() : "HTTP " + std::to_string(r.status)) + ": " +
                           m.substr(0, m.find('\n')));
    }
    return *value;
  }

 private:
  bool Spawn(std::string* error) {
    posix_spawn_file_actions_t files;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&files);
    posix_spawn_file_actions_addopen(&files, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&files, 1, log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&files, 1, 2);
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&attr, 0);
    std::string port_arg = "--port=" + std::to_string(port_);
    char* argv[] = {const_cast<char*>(kChromeDriverPath), port_arg.data(), nullptr};
    int rc = posix_spawn(&pid_, kChromeDriverPath, &files, &attr, argv, environ);
    posix_spawn_file_actions_destroy(&files);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) {
      pid_ = -1;
      *error = std::string("posix_spawn: ") + std::strerror(rc);
      return false;
    }
    return true;
  }

  // Polls GET /status until value.ready; false when the process exits or
  // 20 s pass.
  bool WaitReady(std::string* error) {
    auto deadline = webdriver_internal::Clock::now() + std::chrono::seconds(20);
    while (webdriver_internal::Clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        *error = "exited with status " + std::to_string(status) + " on port " + std::to_string(port_);
        return false;
      }
      HttpResult r = Get(port_, "/status");
      const Json* value = r.JsonBody().Find("value");
      const Json* ready = value ? value->Find("ready") : nullptr;
      if (r.status == 200 && ready && ready->as_bool()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    *error = "GET /status not ready after 20 s";
    return false;
  }

  void Kill() {
    if (pid_ <= 0) return;
    ::kill(-pid_, SIGTERM);
    auto deadline = webdriver_internal::Clock::now() + std::chrono::seconds(5);
    int status = 0;
    while (::waitpid(pid_, &status, WNOHANG) == 0 && webdriver_internal::Clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ::kill(-pid_, SIGKILL);  // stragglers in the group, and chromedriver if still running
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  pid_t pid_ = -1;
  uint16_t port_ = 0;
  std::string log_path_;
};

// An element reference from Find/FindAll.
struct Element {
  std::string id;
};

// A cookie as the browser holds it (for checking HttpOnly and SameSite).
struct Cookie {
  std::string name, value, path, domain, same_site;  // same_site: "Strict", "Lax", "None" (or "")
  bool http_only = false;
  bool secure = false;
};

struct BrowserOptions {
  std::string user_data_dir;  // "": a fresh temp dir, removed by ~Browser
  int width = 1280;
  int height = 800;
  std::chrono::milliseconds implicit_wait{10000};  // how long Find waits for an element
};

// One WebDriver session in headless Chromium. The constructor creates the
// session (throws WebDriverError when it cannot); the destructor deletes it,
// which closes the browser. `driver` must outlive the Browser.
class Browser {
 public:
  static constexpr const char* kElementKey = "element-6066-11e4-a52e-4f735466cecf";
  using Millis = std::chrono::milliseconds;

  explicit Browser(const ChromeDriver& driver, BrowserOptions options = BrowserOptions())
      : driver_(driver), options_(std::move(options)) {
    if (options_.user_data_dir.empty()) {
      std::string tmpl = (std::filesystem::temp_directory_path() / "dwfs-chromium-XXXXXX").string();
      if (::mkdtemp(tmpl.data()) == nullptr) throw WebDriverError("mkdtemp failed for " + tmpl);
      options_.user_data_dir = owned_dir_ = tmpl;
    }
    Json args = Json::Array();
    for (std::string a : {"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                          "--disable-background-networking", "--disable-component-update", "--disable-sync",
                          "--disable-dev-shm-usage"}) {
      args.Push(a);
    }
    args.Push("--user-data-dir=" + options_.user_data_dir);
    args.Push("--window-size=" + std::to_string(options_.width) + "," + std::to_string(options_.height));
    using webdriver_internal::Object;
    Json caps = Object({{"browserName", "chrome"},
                        {"goog:chromeOptions", Object({{"binary", kChromiumPath}, {"args", args}})},
                        {"goog:loggingPrefs", Object({{"browser", "ALL"}})},
                        {"timeouts", Object({{"pageLoad", 20000}, {"script", 20000}, {"implicit", 0}})}});
    try {
      Json value = driver_.Command("new session", "POST", "/session",
                                   Object({{"capabilities", Object({{"alwaysMatch", caps}})}}));
      const Json* id = value.Find("sessionId");
      if (id == nullptr || id->str().empty()) throw WebDriverError("new session: no sessionId in " + value.Dump());
      session_ = "/session/" + id->str();
    } catch (...) {
      RemoveOwnedDir();
      throw;
    }
  }
  ~Browser() {
    try {
      driver_.Command("quit", "DELETE", session_);
    } catch (const std::exception&) {
      // The driver's destructor kills what is left.
    }
    RemoveOwnedDir();
  }
  Browser(const Browser&) = delete;
  Browser& operator=(const Browser&) = delete;

  // Loads `url` and returns once the page has loaded (20 s at most).
  void Navigate(const std::string& url) { Cmd("Navigate(" + url + ")", "POST", "/url", Obj({{"url", url}})); }
  std::string CurrentUrl() { return Cmd("CurrentUrl", "GET", "/url").str(); }
  std::string Title() { return Cmd("Title", "GET", "/title").str(); }

  // The first element matching `css`, retried until it exists or `timeout`
  // (default: options.implicit_wait) passes; then WebDriverError.
  Element Find(const std::string& css, std::optional<Millis> timeout = std::nullopt) {
    auto deadline = webdriver_internal::Clock::now() + timeout.value_or(options_.implicit_wait);
    for (;;) {
      std::vector<Element> found = FindAll(css);
      if (!found.empty()) return found.front();
      if (webdriver_internal::Clock::now() >= deadline) {
        throw WebDriverError("Find(" + css + "): no such element after " +
                             std::to_string(timeout.value_or(options_.implicit_wait).count()) + " ms");
      }
      std::this_thread::sleep_for(Millis(50));
    }
  }
  // Every element matching `css` now (no waiting).
  std::vector<Element> FindAll(const std::string& css) {
    Json v = Cmd("FindAll(" + css + ")", "POST", "/elements", Obj({{"using", "css selector"}, {"value", css}}));
    std::vector<Element> out;
    for (const Json& e : v.items()) {
      if (const Json* id = e.Find(kElementKey)) out.push_back(Element{id->str()});
    }
    return out;
  }
  bool Exists(const std::string& css) { return !FindAll(css).empty(); }
  // The focused element (document.activeElement).
  Element Active() {
    Json v = Cmd("Active", "GET", "/element/active");
    const Json* id = v.Find(kElementKey);
    if (id == nullptr) throw WebDriverError("Active: no element has the focus");
    return Element{id->str()};
  }
  // Key strokes to the focused element (W3C key codes, e.g. kEnter).
  void PressKeys(const std::string& keys) { Type(Active(), keys); }
  static constexpr const char* kEnter = "\uE007";
  static constexpr const char* kArrowUp = "\uE013";
  static constexpr const char* kArrowDown = "\uE015";
  static constexpr const char* kTab = "\uE004";

  void Click(const Element& el) { Cmd("Click", "POST", Path(el) + "/click"); }
  // The css forms find the element and act on it; when the page replaced it
  // in between (a live page re-rendering: "stale element"), they find it
  // again, a few times.
  void Click(const std::string& css) { OnFresh(css, [&](const Element& el) { Click(el); }); }
  // Sends `text` as key strokes to the element (appending to its value).
  void Type(const Element& el, const std::string& text) {
    Cmd("Type", "POST", Path(el) + "/value", Obj({{"text", text}}));
  }
  void Type(const std::string& css, const std::string& text) {
    OnFresh(css, [&](const Element& el) { Type(el, text); });
  }
  void Clear(const Element& el) { Cmd("Clear", "POST", Path(el) + "/clear"); }
  void Clear(const std::string& css) { OnFresh(css, [&](const Element& el) { Clear(el); }); }
  // The rendered text (innerText-like: hidden elements give "").
  std::string Text(const Element& el) { return Cmd("Text", "GET", Path(el) + "/text").str(); }
  std::string Text(const std::string& css) {
    std::string out;
    OnFresh(css, [&](const Element& el) { out = Text(el); });
    return out;
  }
  // The HTML attribute, or nullopt when the element does not have it.
  std::optional<std::string> Attribute(const Element& el, const std::string& name) {
    Json v = Cmd("Attribute(" + name + ")", "GET", Path(el) + "/attribute/" + name);
    return v.is_null() ? std::nullopt : std::optional<std::string>(v.str());
  }
  std::optional<std::string> Attribute(const std::string& css, const std::string& name) {
    std::optional<std::string> out;
    OnFresh(css, [&](const Element& el) { out = Attribute(el, name); });
    return out;
  }
  // The DOM property (`value`, `checked`, ...) as JSON.
  Json Property(const Element& el, const std::string& name) {
    return Cmd("Property(" + name + ")", "GET", Path(el) + "/property/" + name);
  }

  // Runs `js` as a function body (use `return`; arguments[i] are `args`, an
  // array; pass elements as Ref(el)) and returns its result.
  Json ExecuteScript(const std::string& js, const Json& args = Json::Array()) {
    return Cmd("ExecuteScript", "POST", "/execute/sync", Obj({{"script", js}, {"args", args}}));
  }
  static Json Ref(const Element& el) { return Obj({{kElementKey, el.id}}); }

  // Polls the JavaScript expression `js` (every 50 ms) until it is truthy;
  // WebDriverError "timed out after N ms waiting for: <js>" otherwise (a
  // script error fails at once).
  void WaitFor(const std::string& js, Millis timeout = Millis(10000)) {
    WaitFor(js, [&] { return ExecuteScript("return !!(" + js + ");").as_bool(); }, timeout);
  }
  // Polls `condition` until true; the error names `description`.
  void WaitFor(const std::string& description, const std::function<bool()>& condition,
               Millis timeout = Millis(10000)) {
    auto deadline = webdriver_internal::Clock::now() + timeout;
    while (!condition()) {
      if (webdriver_internal::Clock::now() >= deadline) {
        throw WebDriverError("timed out after " + std::to_string(timeout.count()) + " ms waiting for: " + description);
      }
      std::this_thread::sleep_for(Millis(50));
    }
  }

  // Writes a PNG of the viewport to `path` (creating its directory).
  void Screenshot(const std::string& path) {
    std::string png = webdriver_internal::Base64Decode(Cmd("Screenshot", "GET", "/screenshot").str());
    std::filesystem::path p(path);
    if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path());
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(png.data(), std::streamsize(png.size()));
    if (!out.flush()) throw WebDriverError("Screenshot: cannot write " + path);
  }
  void SetWindowSize(int width, int height) {
    Cmd("SetWindowSize", "POST", "/window/rect", Obj({{"width", width}, {"height", height}}));
  }

  // The cookies visible to the current page, HttpOnly ones included.
  std::vector<Cookie> Cookies() {
    std::vector<Cookie> out;
    Json cookies = Cmd("Cookies", "GET", "/cookie");
    for (const Json& c : cookies.items()) {
      auto str = [&](const char* k) { const Json* v = c.Find(k); return v ? v->str() : std::string(); };
      auto flag = [&](const char* k) { const Json* v = c.Find(k); return v && v->as_bool(); };
      out.push_back(Cookie{str("name"), str("value"), str("path"), str("domain"), str("sameSite"),
                           flag("httpOnly"), flag("secure")});
    }
    return out;
  }
  std::optional<Cookie> FindCookie(const std::string& name) {
    for (Cookie& c : Cookies()) {
      if (c.name == name) return c;
    }
    return std::nullopt;
  }

  // The text of an open alert/confirm/prompt, or nullopt when none is open.
  std::optional<std::string> AlertText() {
    try {
      return Cmd("AlertText", "GET", "/alert/text").str();
    } catch (const WebDriverError& e) {
      if (std::string(e.what()).find("no such alert") != std::string::npos) return std::nullopt;
      throw;
    }
  }

  // Console messages since the last call, as "LEVEL message" lines
  // (chromedriver's goog:loggingPrefs extension).
  std::vector<std::string> BrowserLogs() {
    std::vector<std::string> out;
    Json entries = Cmd("BrowserLogs", "POST", "/se/log", Obj({{"type", "browser"}}));
    for (const Json& e : entries.items()) {
      const Json* level = e.Find("level");
      const Json* message = e.Find("message");
      out.push_back((level ? level->str() : "") + " " + (message ? message->str() : ""));
    }
    return out;
  }

 private:
  template <class F>
  void OnFresh(const std::string& css, F act) {
    for (int attempt = 0;; ++attempt) {
      try {
        act(Find(css));
        return;
      } catch (const WebDriverError& e) {
        if (attempt >= 4 || std::string(e.what()).find("stale element") == std::string::npos) throw;
      }
    }
  }

  static Json Obj(std::initializer_list<std::pair<std::string, Json>> m) { return webdriver_internal::Object(m); }
  std::string Path(const Element& el) const { return "/element/" + el.id; }
  void RemoveOwnedDir() {
    std::error_code ec;
    if (!owned_dir_.empty()) std::filesystem::remove_all(owned_dir_, ec);
  }
  Json Cmd(const std::string& what, const std::string& method, const std::string& path,
           const Json& body = Json::Object()) {
    return driver_.Command(what, method, session_ + path, body);
  }

  const ChromeDriver& driver_;
  BrowserOptions options_;
  std::string owned_dir_;
  std::string session_;  // "/session/<id>"
};

}  // namespace testing
}  // namespace dwfs

#endif  // DWFS_TESTS_WEBDRIVER_H_
