#include "dwfs/connection.h"

#include <algorithm>
#include <string_view>
#include <utility>

namespace dwfs {
namespace {

// The raw (still encoded) components of a URI, as views into it.
struct UriParts {
  std::string_view scheme;
  bool has_userinfo = false;
  std::string_view login;
  bool has_password = false;
  std::string_view password;
  size_t password_pos = 0;  // offset of `password` in the URI
  std::string_view host;    // without IPv6 brackets
  std::string_view port;
  bool has_path = false;
  std::string_view path;  // after the leading '/'
  bool has_query = false;
  std::string_view query;
  size_t query_pos = 0;  // offset of `query` in the URI
};

bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsUnreserved(char c) { return IsAlpha(c) || IsDigit(c) || c == '-' || c == '.' || c == '_' || c == '~'; }

char ToLower(char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; }

std::string_view TrimSpace(std::string_view s) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// RFC 3986 percent-decoding. False on a malformed escape.
bool PercentDecode(std::string_view in, std::string* out) {
  std::string s;
  s.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      s.push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) return false;
    int hi = HexValue(in[i + 1]);
    int lo = HexValue(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    s.push_back(char(hi * 16 + lo));
    i += 2;
  }
  *out = std::move(s);
  return true;
}

// Percent-encodes every byte but the unreserved characters.
std::string PercentEncode(std::string_view in) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string s;
  s.reserve(in.size());
  for (char c : in) {
    if (IsUnreserved(c)) {
      s.push_back(c);
    } else {
      auto b = static_cast<unsigned char>(c);
      s.push_back('%');
      s.push_back(kHex[b >> 4]);
      s.push_back(kHex[b & 15]);
    }
  }
  return s;
}

// True for the query parameter libpq reads a password from (any case).
bool IsPasswordKey(std::string_view key) {
  if (key.size() != 8) return false;
  std::string lower;
  for (char c : key) lower.push_back(ToLower(c));
  return lower == "password";
}

Status UriError(const std::string& conn_id, const std::string& what) {
  return Status::InvalidArgument("connection '" + conn_id + "': " + what);
}

// Splits a trimmed URI into its raw components. Error messages never quote
// the URI.
Status SplitUri(const std::string& conn_id, std::string_view uri, UriParts* p) {
  if (uri.empty()) return UriError(conn_id, "empty URI");
  for (char c : uri) {
    auto b = static_cast<unsigned char>(c);
    if (b <= 0x20 || b == 0x7f) {
      return UriError(conn_id, "URI contains a space or control character (percent-encode it)");
    }
  }
  size_t sep = uri.find("://");
  if (sep == std::string_view::npos) {
    return UriError(conn_id, "not a URI: expected scheme://[login[:password]@]host[:port][/schema]");
  }
  p->scheme = uri.substr(0, sep);
  if (p->scheme.empty() || !IsAlpha(p->scheme[0])) return UriError(conn_id, "invalid URI scheme");
  for (char c : p->scheme) {
    if (!IsAlpha(c) && !IsDigit(c) && c != '+' && c != '-' && c != '.') return UriError(conn_id, "invalid URI scheme");
  }
  size_t pos = sep + 3;
  std::string_view rest = uri.substr(pos);

  // Userinfo: up to the last '@' before the first '/'.
  size_t slash = rest.find('/');
  size_t at = rest.substr(0, slash).rfind('@');
  if (at != std::string_view::npos) {
    p->has_userinfo = true;
    std::string_view userinfo = rest.substr(0, at);
    size_t colon = userinfo.find(':');
    p->login = userinfo.substr(0, colon);
    if (colon != std::string_view::npos) {
      p->has_password = true;
      p->password = userinfo.substr(colon + 1);
      p->password_pos = pos + colon + 1;
    }
    pos += at + 1;
    rest = uri.substr(pos);
  }

  // Host and port: up to the first '/' or '?'.
  size_t host_end = rest.find_first_of("/?");
  std::string_view hostport = rest.substr(0, host_end);
  if (!hostport.empty() && hostport[0] == '[') {
    size_t close = hostport.find(']');
    if (close == std::string_view::npos) return UriError(conn_id, "unterminated '[' in the host");
    p->host = hostport.substr(1, close - 1);
    std::string_view after = hostport.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return UriError(conn_id, "unexpected text after ']' in the host");
      p->port = after.substr(1);
    }
  } else {
    size_t colon = hostport.find(':');
    p->host = hostport.substr(0, colon);
    if (colon != std::string_view::npos) p->port = hostport.substr(colon + 1);
  }
  if (host_end == std::string_view::npos) return Status::OK();
  pos += host_end;
  rest = uri.substr(pos);

  // Path, then query.
  size_t q = rest.find('?');
  if (rest[0] == '/') {
    p->has_path = true;
    p->path = rest.substr(1, q == std::string_view::npos ? std::string_view::npos : q - 1);
  }
  if (q != std::string_view::npos) {
    p->has_query = true;
    p->query = rest.substr(q + 1);
    p->query_pos = pos + q + 1;
  }
  return Status::OK();
}

// Calls fn(item, offset) for each '&'-separated item of `query`, empty ones
// included; stops at the first error fn returns.
template <typename Fn>
Status ForEachQueryItem(std::string_view query, Fn fn) {
  size_t start = 0;
  while (true) {
    size_t amp = query.find('&', start);
    size_t len = amp == std::string_view::npos ? std::string_view::npos : amp - start;
    DWFS_RETURN_IF_ERROR(fn(query.substr(start, len), start));
    if (amp == std::string_view::npos) return Status::OK();
    start = amp + 1;
  }
}

// The scheme LibpqUri() writes for a connection type.
std::string LibpqScheme(const std::string& conn_type) {
  if (conn_type == "postgres" || conn_type == "postgresql") return "postgresql";
  return conn_type;
}

// Builds a URI from the fields; `password` is written as given (already
// encoded, or "***").
std::string BuildUri(const Connection& c, const std::string& scheme, const std::optional<std::string>& password,
                     bool mask_password_param) {
  std::string s = scheme + "://";
  if (!c.login.empty() || password) {
    s += PercentEncode(c.login);
    if (password) s += ":" + *password;
    s += "@";
  }
  if (c.host.find(':') != std::string::npos) {
    s += "[" + c.host + "]";  // IPv6
  } else {
    s += PercentEncode(c.host);
  }
  if (c.port) s += ":" + std::to_string(*c.port);
  if (!c.schema.empty()) s += "/" + PercentEncode(c.schema);
  char sep = '?';
  for (const auto& [k, v] : c.extra) {
    s += sep;
    sep = '&';
    s += PercentEncode(k) + "=";
    s += (mask_password_param && IsPasswordKey(k)) ? "***" : PercentEncode(v);
  }
  return s;
}

}  // namespace

std::string Connection::LibpqUri() const {
  std::optional<std::string> pw;
  if (!password.empty()) pw = PercentEncode(password);
  return BuildUri(*this, LibpqScheme(conn_type), pw, /*mask_password_param=*/false);
}

std::string Connection::MaskedUri() const {
  std::string_view trimmed = TrimSpace(uri);
  UriParts p;
  if (trimmed.empty() || !SplitUri(conn_id, trimmed, &p).ok()) {
    std::optional<std::string> pw;
    if (!password.empty()) pw = "***";
    return BuildUri(*this, conn_type.empty() ? "unknown" : conn_type, pw, /*mask_password_param=*/true);
  }
  // Replace spans from the back so earlier offsets stay valid.
  std::string s(trimmed);
  if (p.has_query) {
    std::vector<std::pair<size_t, size_t>> spans;  // (offset, length) of password values
    ForEachQueryItem(p.query, [&](std::string_view item, size_t offset) {
      size_t eq = item.find('=');
      std::string key;
      if (eq != std::string_view::npos && eq + 1 < item.size() && PercentDecode(item.substr(0, eq), &key) &&
          IsPasswordKey(key)) {
        spans.emplace_back(p.query_pos + offset + eq + 1, item.size() - eq - 1);
      }
      return Status::OK();
    });
    for (auto it = spans.rbegin(); it != spans.rend(); ++it) s.replace(it->first, it->second, "***");
  }
  if (p.has_password && !p.password.empty()) s.replace(p.password_pos, p.password.size(), "***");
  return s;
}

Status ParseConnectionUri(const std::string& conn_id, const std::string& uri, Connection* out) {
  std::string_view trimmed = TrimSpace(uri);
  UriParts p;
  DWFS_RETURN_IF_ERROR(SplitUri(conn_id, trimmed, &p));

  Connection c;
  c.conn_id = conn_id;
  c.uri = std::string(trimmed);
  c.conn_type.reserve(p.scheme.size());
  for (char ch : p.scheme) c.conn_type.push_back(ToLower(ch));
  auto decode = [&](std::string_view raw, const char* what, std::string* dst) -> Status {
    if (!PercentDecode(raw, dst)) return UriError(conn_id, std::string("invalid percent-encoding in the ") + what);
    return Status::OK();
  };
  DWFS_RETURN_IF_ERROR(decode(p.login, "login", &c.login));
  DWFS_RETURN_IF_ERROR(decode(p.password, "password", &c.password));
  DWFS_RETURN_IF_ERROR(decode(p.host, "host", &c.host));
  DWFS_RETURN_IF_ERROR(decode(p.path, "schema", &c.schema));
  if (!p.port.empty()) {
    int port = 0;
    for (char ch : p.port) {
      if (!IsDigit(ch)) {
        return UriError(conn_id,
                        "invalid port (percent-encode special characters such as '/', ':' or '@' in the password)");
      }
      port = std::min(port * 10 + (ch - '0'), 100000);
    }
    if (port < 1 || port > 65535) return UriError(conn_id, "port out of range 1..65535");
    c.port = port;
  }
  if (p.has_query) {
    DWFS_RETURN_IF_ERROR(ForEachQueryItem(p.query, [&](std::string_view item, size_t) -> Status {
      if (item.empty()) return Status::OK();
      size_t eq = item.find('=');
      std::string key, value;
      DWFS_RETURN_IF_ERROR(decode(item.substr(0, eq), "query parameter name", &key));
      if (eq != std::string_view::npos) {
        DWFS_RETURN_IF_ERROR(decode(item.substr(eq + 1), "query parameter value", &value));
      }
      if (key.empty()) return UriError(conn_id, "empty query parameter name");
      c.extra[key] = std::move(value);
      return Status::OK();
    }));
  }
  *out = std::move(c);
  return Status::OK();
}

std::vector<std::string> ConnectionSecrets(const Connection& c) {
  std::vector<std::string> out;
  auto add = [&out](std::string_view s) {
    if (s.empty()) return;
    for (const std::string& have : out) {
      if (have == s) return;
    }
    out.emplace_back(s);
  };
  add(c.password);
  for (const auto& [k, v] : c.extra) {
    if (IsPasswordKey(k)) add(v);
  }
  // The raw forms as written in the URI.
  std::string_view trimmed = TrimSpace(c.uri);
  UriParts p;
  if (!trimmed.empty() && SplitUri(c.conn_id, trimmed, &p).ok()) {
    add(p.password);
    if (p.has_query) {
      ForEachQueryItem(p.query, [&](std::string_view item, size_t) {
        size_t eq = item.find('=');
        std::string key;
        if (eq != std::string_view::npos && PercentDecode(item.substr(0, eq), &key) && IsPasswordKey(key)) {
          add(item.substr(eq + 1));
        }
        return Status::OK();
      });
    }
  }
  return out;
}

std::string ConnectionEnvVar(const std::string& conn_id) {
  std::string name = "DWFS_CONN_";
  for (char c : conn_id) {
    if (c >= 'a' && c <= 'z') {
      name.push_back(char(c - 'a' + 'A'));
    } else if (IsAlpha(c) || IsDigit(c) || c == '_') {
      name.push_back(c);
    } else {
      name.push_back('_');
    }
  }
  return name;
}

EnvConnectionSource::EnvConnectionSource(std::map<std::string, std::string> env) : env_(std::move(env)) {}

Status EnvConnectionSource::Get(const std::string& conn_id, Connection* out) const {
  if (conn_id.empty()) return Status::InvalidArgument("empty connection id");
  std::string var = ConnectionEnvVar(conn_id);
  auto it = env_.find(var);
  if (it == env_.end() || TrimSpace(it->second).empty()) {
    return Status::NotFound("connection '" + conn_id + "' not found (set " + var +
                            " or add it with dwfs connections add)");
  }
  return ParseConnectionUri(conn_id, it->second, out);
}

ChainedConnectionSource::ChainedConnectionSource(std::vector<const ConnectionSource*> sources)
    : sources_(std::move(sources)) {}

Status ChainedConnectionSource::Get(const std::string& conn_id, Connection* out) const {
  std::optional<Status> first_not_found;
  for (const ConnectionSource* source : sources_) {
    Status st = source->Get(conn_id, out);
    if (st.code() != Status::Code::kNotFound) return st;
    if (!first_not_found) first_not_found = st;
  }
  if (first_not_found) return *first_not_found;
  return Status::NotFound("connection '" + conn_id + "' not found");
}

}  // namespace dwfs
