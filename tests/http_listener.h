// HttpListener: a tiny HTTP/1.1 server on 127.0.0.1 for tests. It accepts
// connections on its own threads and records each request (method, target,
// headers with lower-cased names, body). It answers 200, or `status` for the
// first N requests (FailFirst), or accepts and reads the first N requests
// and never answers (HangFirst; the connection stays open until the
// listener stops). One request per connection; every answer closes it; a
// connection that does not start like HTTP (a TLS handshake) is closed.
#ifndef DWFS_TESTS_HTTP_LISTENER_H_
#define DWFS_TESTS_HTTP_LISTENER_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace dwfs {

struct RecordedRequest {
  std::string method;
  std::string target;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
};

class HttpListener {
 public:
  HttpListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd_, 64) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      return;
    }
    port_ = ntohs(addr.sin_port);
    accept_thread_ = std::thread([this] { AcceptLoop(); });
  }
  ~HttpListener() { Stop(); }
  HttpListener(const HttpListener&) = delete;
  HttpListener& operator=(const HttpListener&) = delete;

  int port() const { return port_; }
  // "http://127.0.0.1:<port><path>"
  std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port_) + path; }

  void FailFirst(int n, int status = 500) {
    std::lock_guard lock(mu_);
    fail_left_ = n;
    fail_status_ = status;
  }
  void HangFirst(int n) {
    std::lock_guard lock(mu_);
    hang_left_ = n;
  }

  // Waits until at least `n` requests arrived (or `timeout`); all of them.
  std::vector<RecordedRequest> WaitFor(size_t n, std::chrono::seconds timeout = std::chrono::seconds(30)) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, timeout, [&] { return requests_.size() >= n; });
    return requests_;
  }
  std::vector<RecordedRequest> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }
  // Connections accepted, including those that sent no valid request.
  int connections() const {
    std::lock_guard lock(mu_);
    return connections_;
  }

  void Stop() {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
      stopping_ = true;
      for (int c : open_) ::shutdown(c, SHUT_RDWR);
    }
    cv_.notify_all();
    if (fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);
    if (accept_thread_.joinable()) accept_thread_.join();
    for (std::thread& t : workers_) t.join();
    if (fd_ >= 0) ::close(fd_);
  }

 private:
  void AcceptLoop() {
    for (;;) {
      int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      std::lock_guard lock(mu_);
      if (c < 0 || stopping_) {
        if (c >= 0) ::close(c);
        return;
      }
      ++connections_;
      open_.push_back(c);
      workers_.emplace_back([this, c] { Serve(c); });
    }
  }

  // Reads one request; false on EOF or garbage.
  static bool ReadRequest(int c, RecordedRequest* out) {
    std::string data;
    char buf[4096];
    size_t head_end;
    while ((head_end = data.find("\r\n\r\n")) == std::string::npos) {
      ssize_t n = ::read(c, buf, sizeof buf);
      if (n <= 0 || data.size() > (1 << 20)) return false;
      data.append(buf, size_t(n));
      if (data[0] < 'A' || data[0] > 'Z') return false;  // not HTTP (e.g. a TLS ClientHello): close
    }
    std::string head = data.substr(0, head_end);
    size_t line_end = head.find("\r\n");
    std::string first = head.substr(0, line_end);
    size_t sp1 = first.find(' '), sp2 = first.rfind(' ');
    if (sp1 == std::string::npos || sp2 <= sp1 || first.compare(sp2 + 1, 5, "HTTP/") != 0) return false;
    out->method = first.substr(0, sp1);
    out->target = first.substr(sp1 + 1, sp2 - sp1 - 1);
    size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
    while (pos < head.size()) {
      size_t e = head.find("\r\n", pos);
      if (e == std::string::npos) e = head.size();
      std::string line = head.substr(pos, e - pos);
      size_t colon = line.find(':');
      if (colon != std::string::npos) {
        std::string name = line.substr(0, colon);
        std::transform(name.begin(), name.end(), name.begin(), [](unsigned char ch) { return char(std::tolower(ch)); });
        size_t v = line.find_first_not_of(' ', colon + 1);
        out->headers[name] = v == std::string::npos ? "" : line.substr(v);
      }
      pos = e + 2;
    }
    size_t length = out->headers.count("content-length") ? std::stoul(out->headers["content-length"]) : 0;
    out->body = data.substr(head_end + 4);
    while (out->body.size() < length) {
      ssize_t n = ::read(c, buf, sizeof buf);
      if (n <= 0) return false;
      out->body.append(buf, size_t(n));
    }
    return true;
  }

  void Serve(int c) {
    RecordedRequest req;
    bool ok = ReadRequest(c, &req);
    std::unique_lock lock(mu_);
    if (ok) {
      requests_.push_back(req);
      cv_.notify_all();
      if (hang_left_ > 0) {
        --hang_left_;
        cv_.wait(lock, [this] { return stopping_; });
      } else {
        int status = 200;
        if (fail_left_ > 0) {
          --fail_left_;
          status = fail_status_;
        }
        lock.unlock();
        std::string answer = "HTTP/1.1 " + std::to_string(status) + (status == 200 ? " OK" : " Error") +
                             "\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
        (void)!::write(c, answer.data(), answer.size());
        lock.lock();
      }
    }
    open_.erase(std::find(open_.begin(), open_.end(), c));
    ::close(c);
  }

  int fd_ = -1;
  int port_ = 0;
  std::thread accept_thread_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::thread> workers_;   // guarded by mu_ until Stop joins them
  std::vector<int> open_;              // guarded by mu_
  std::vector<RecordedRequest> requests_;  // guarded by mu_
  int connections_ = 0;
  int fail_left_ = 0, fail_status_ = 500, hang_left_ = 0;
  bool stopping_ = false;
};

}  // namespace dwfs

#endif  // DWFS_TESTS_HTTP_LISTENER_H_
