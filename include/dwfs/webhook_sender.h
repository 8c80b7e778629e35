// WebhookSender: delivers webhook callbacks (dag-files.md, "Callbacks")
// asynchronously, on its own thread and io_context, so that a slow or down
// endpoint never delays scheduling or task execution.
//
// Each request is one HTTP/1.1 exchange over a fresh connection (http, or
// https through OpenSSL with the system's default CA paths, peer and host
// name verification, and SNI). An attempt fails on a connection or TLS
// error, on its timeout, or on a non-2xx status; it is retried up to
// `retries` more times, the n-th retry after backoff_base * 2^(n-1) (capped
// at max_backoff). A request that fails for good is logged once, at warning
// level. At most max_in_flight requests run at once; up to max_queued more
// wait in a FIFO queue; beyond that Send drops the request with a warning.
//
// The URL is a secret (it often embeds a token): logs and errors name only
// its scheme and host (RedactUrl), never its path, query or credentials;
// header values are never logged.
//
// Thread safety: Send, Stop and counters may be called from any thread.
#ifndef DWFS_WEBHOOK_SENDER_H_
#define DWFS_WEBHOOK_SENDER_H_

#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "dwfs/status.h"

namespace spdlog {
class logger;
}

namespace dwfs {

// One rendered webhook, ready to send.
struct WebhookRequest {
  std::string url;  // http://host[:port]/path?query or https://...
  std::string method = "POST";
  std::map<std::string, std::string> headers;  // Content-Type defaults to application/json
  std::string body;
  std::chrono::milliseconds timeout{10000};  // per attempt
  int retries = 3;                           // attempts after the first
  std::string label;                         // for logs: "dag.task on_failure_callback"; not secret
};

// The parts of a URL the sender needs.
struct WebhookUrl {
  bool tls = false;
  std::string host;    // without brackets for IPv6 literals
  std::string port;    // "80"/"443" when absent
  std::string target;  // path and query, "/" when absent
};

// Parses an http(s) URL (userinfo is dropped). The error never quotes the
// URL.
Status ParseWebhookUrl(const std::string& url, WebhookUrl* out);

// "https://hooks.slack.com" for any URL: scheme and host only (port kept
// when given); "(invalid url)" when it does not parse.
std::string RedactUrl(const std::string& url);

struct WebhookSenderOptions {
  // Must outlive the sender; null: nothing is logged.
  spdlog::logger* log = nullptr;
  // A PEM file of CA certificates trusted besides the system's (a private
  // CA; tests). Empty: the system's only.
  std::string extra_ca_file;
  std::chrono::milliseconds backoff_base{1000};
  std::chrono::milliseconds max_backoff{60000};
  size_t max_in_flight = 8;
  size_t max_queued = 1000;
  // How long Stop waits for queued and in-flight requests before it
  // abandons them.
  std::chrono::milliseconds stop_grace{3000};
};

// What happened to the requests so far (for tests and status).
struct WebhookStats {
  uint64_t delivered = 0;  // a 2xx answer
  uint64_t failed = 0;     // gave up after its retries
  uint64_t dropped = 0;    // queue full, or sent after Stop
  uint64_t abandoned = 0;  // still pending when Stop's grace ran out
  uint64_t attempts = 0;   // every attempt, retries included
};

class WebhookSender {
 public:
  // Starts the sender's thread.
  explicit WebhookSender(WebhookSenderOptions options);
  // Stop(), if not called yet.
  ~WebhookSender();

  WebhookSender(const WebhookSender&) = delete;
  WebhookSender& operator=(const WebhookSender&) = delete;

  // Queues `request`; never blocks on the network. False (and a warning)
  // when it was dropped: the queue is full, the URL does not parse, or the
  // sender is stopped.
  bool Send(WebhookRequest request);

  // Stops accepting requests, waits up to stop_grace for the queued and
  // in-flight ones, then abandons the rest (connections closed, a warning
  // with their number) and joins the thread. Idempotent.
  void Stop();

  WebhookStats stats() const;
  // Blocks until no request is queued or in flight, or `timeout` passes.
  // True when idle. For tests and orderly shutdown.
  bool WaitIdle(std::chrono::milliseconds timeout) const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dwfs

#endif  // DWFS_WEBHOOK_SENDER_H_
