// ParseWebhookUrl and RedactUrl (webhook_sender.h). Errors never quote the
// URL: it is a secret.
#include <algorithm>
#include <cctype>

#include "dwfs/webhook_sender.h"

namespace dwfs {

namespace {

bool StartsWithNoCase(const std::string& s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  }
  return true;
}

}  // namespace

Status ParseWebhookUrl(const std::string& url, WebhookUrl* out) {
  for (char ch : url) {
    auto u = static_cast<unsigned char>(ch);
    if (u <= 0x20 || u == 0x7f) return Status::InvalidArgument("webhook url contains a space or control character");
  }
  WebhookUrl w;
  size_t p;
  if (StartsWithNoCase(url, "https://")) {
    w.tls = true;
    p = 8;
  } else if (StartsWithNoCase(url, "http://")) {
    p = 7;
  } else {
    return Status::InvalidArgument("webhook url must start with http:// or https://");
  }
  size_t end = url.find_first_of("/?#", p);
  std::string authority = url.substr(p, end == std::string::npos ? std::string::npos : end - p);
  if (authority.find('@') != std::string::npos) {
    return Status::InvalidArgument("webhook url: credentials in the URL are not supported (use headers)");
  }
  std::string port;
  if (!authority.empty() && authority[0] == '[') {
    size_t close = authority.find(']');
    if (close == std::string::npos) return Status::InvalidArgument("webhook url: unclosed '[' in the host");
    w.host = authority.substr(1, close - 1);
    std::string rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest[0] != ':') return Status::InvalidArgument("webhook url: bad host");
      port = rest.substr(1);
    }
  } else {
    size_t colon = authority.rfind(':');
    w.host = authority.substr(0, colon);
    if (colon != std::string::npos) port = authority.substr(colon + 1);
  }
  if (w.host.empty()) return Status::InvalidArgument("webhook url has no host");
  if (port.empty()) {
    w.port = w.tls ? "443" : "80";
  } else {
    if (port.size() > 5 || !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
        std::stoi(port) < 1 || std::stoi(port) > 65535) {
      return Status::InvalidArgument("webhook url has a bad port");
    }
    w.port = port;
  }
  w.target = end == std::string::npos ? "/" : url.substr(end);
  size_t hash = w.target.find('#');
  if (hash != std::string::npos) w.target.resize(hash);
  if (w.target.empty() || w.target[0] != '/') w.target = "/" + w.target;
  *out = std::move(w);
  return Status::OK();
}

std::string RedactUrl(const std::string& url) {
  WebhookUrl w;
  if (!ParseWebhookUrl(url, &w).ok()) return "(invalid url)";
  std::string host = w.host.find(':') != std::string::npos ? "[" + w.host + "]" : w.host;
  bool default_port = w.port == (w.tls ? "443" : "80");
  return std::string(w.tls ? "https://" : "http://") + host + (default_port ? "" : ":" + w.port);
}

}  // namespace dwfs
