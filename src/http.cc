// Pure HTTP helpers; see http.h.
#include "dwfs/http.h"

#include <cctype>
#include <charconv>

namespace dwfs {

namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool ParseU64(std::string_view s, uint64_t* out) {
  if (s.empty() || s.size() > 19) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

constexpr char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

bool Base64Decode(std::string_view in, std::string* out) {
  out->clear();
  if (in.size() % 4 != 0) return false;
  for (size_t i = 0; i < in.size(); i += 4) {
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      char c = in[i + size_t(k)];
      if (c == '=' && i + 4 == in.size() && k >= 2) {
        v[k] = 0;
        ++pad;
      } else if (pad > 0 || (v[k] = Base64Value(c)) < 0) {
        return false;
      }
    }
    uint32_t n = uint32_t(v[0]) << 18 | uint32_t(v[1]) << 12 | uint32_t(v[2]) << 6 | uint32_t(v[3]);
    out->push_back(char(n >> 16));
    if (pad < 2) out->push_back(char(n >> 8 & 0xff));
    if (pad < 1) out->push_back(char(n & 0xff));
  }
  return true;
}

}  // namespace

const std::string& HttpRequest::Header(const std::string& name) const {
  static const std::string kEmpty;
  auto it = headers.find(name);
  return it == headers.end() ? kEmpty : it->second;
}

std::optional<std::string> HttpRequest::Query(std::string_view name) const {
  for (const auto& [k, v] : query) {
    if (k == name) return v;
  }
  return std::nullopt;
}

std::vector<std::string> HttpRequest::QueryAll(std::string_view name) const {
  std::vector<std::string> out;
  for (const auto& [k, v] : query) {
    if (k == name) out.push_back(v);
  }
  return out;
}

HttpResponse& HttpResponse::Set(std::string name, std::string value) {
  headers.emplace_back(std::move(name), std::move(value));
  return *this;
}

HttpResponse HttpResponse::JsonBody(const Json& body, int status) {
  HttpResponse r;
  r.status = status;
  r.body = body.Dump();
  r.Set("Content-Type", "application/json");
  return r;
}

HttpResponse HttpResponse::Problem(int status, const std::string& detail) {
  Json j = Json::Object();
  j.Set("type", "about:blank");
  j.Set("title", HttpReason(status));
  j.Set("status", status);
  j.Set("detail", detail);
  HttpResponse r;
  r.status = status;
  r.body = j.Dump();
  r.Set("Content-Type", "application/problem+json");
  return r;
}

const char* HttpReason(int status) {
  switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 416: return "Range Not Satisfiable";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Unknown";
  }
}

bool PercentDecode(std::string_view in, bool plus_is_space, std::string* out) {
  out->clear();
  out->reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return false;
      int hi = HexValue(in[i + 1]), lo = HexValue(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      c = char(hi * 16 + lo);
      if (c == '\0') return false;
      i += 2;
    } else if (c == '+' && plus_is_space) {
      c = ' ';
    } else if (c == '\0') {
      return false;
    }
    out->push_back(c);
  }
  return true;
}

bool ParseTarget(std::string_view target, std::string* path,
                 std::vector<std::pair<std::string, std::string>>* query) {
  path->clear();
  query->clear();
  if (target.empty() || target[0] != '/') return false;
  size_t q = target.find('?');
  std::string_view raw_path = target.substr(0, q);
  // Decode segment by segment so that an encoded "/" (%2F) cannot make new
  // segments and "." / ".." are refused whatever their spelling.
  size_t start = 1;
  while (start <= raw_path.size()) {
    size_t end = raw_path.find('/', start);
    if (end == std::string_view::npos) end = raw_path.size();
    std::string seg;
    if (!PercentDecode(raw_path.substr(start, end - start), false, &seg)) return false;
    if (seg == "." || seg == ".." || seg.find('/') != std::string::npos) return false;
    path->push_back('/');
    path->append(seg);
    start = end + 1;
  }
  if (q == std::string_view::npos) return true;
  return ParseQueryString(target.substr(q + 1), query);
}

bool ParseQueryString(std::string_view qs, std::vector<std::pair<std::string, std::string>>* query) {
  query->clear();
  while (!qs.empty()) {
    size_t amp = qs.find('&');
    std::string_view part = qs.substr(0, amp);
    qs = amp == std::string_view::npos ? std::string_view() : qs.substr(amp + 1);
    if (part.empty()) continue;
    size_t eq = part.find('=');
    std::string k, v;
    if (!PercentDecode(part.substr(0, eq), true, &k)) return false;
    if (eq != std::string_view::npos && !PercentDecode(part.substr(eq + 1), true, &v)) return false;
    query->emplace_back(std::move(k), std::move(v));
  }
  return true;
}

std::optional<std::string> CookieValue(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    size_t semi = header.find(';');
    std::string_view part = header.substr(0, semi);
    header = semi == std::string_view::npos ? std::string_view() : header.substr(semi + 1);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    while (!part.empty() && part.back() == ' ') part.remove_suffix(1);
    size_t eq = part.find('=');
    if (eq == std::string_view::npos || part.substr(0, eq) != name) continue;
    std::string_view value = part.substr(eq + 1);
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
    return std::string(value);
  }
  return std::nullopt;
}

std::vector<std::string> PathSegments(std::string_view path) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    if (end > start) out.emplace_back(path.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

RangeResult ParseRange(std::string_view header, uint64_t size, ByteRange* out) {
  if (header.empty()) return RangeResult::kNone;
  constexpr std::string_view kPrefix = "bytes=";
  if (header.substr(0, kPrefix.size()) != kPrefix) return RangeResult::kInvalid;
  std::string_view spec = header.substr(kPrefix.size());
  if (spec.find(',') != std::string_view::npos) return RangeResult::kInvalid;
  size_t dash = spec.find('-');
  if (dash == std::string_view::npos) return RangeResult::kInvalid;
  std::string_view first = spec.substr(0, dash), last = spec.substr(dash + 1);
  uint64_t a = 0, b = 0;
  if (first.empty()) {  // suffix: the last N bytes
    if (!ParseU64(last, &b)) return RangeResult::kInvalid;
    if (b == 0 || size == 0) return RangeResult::kUnsatisfiable;
    uint64_t n = b < size ? b : size;
    *out = {size - n, n};
    return RangeResult::kSatisfiable;
  }
  if (!ParseU64(first, &a)) return RangeResult::kInvalid;
  if (!last.empty() && (!ParseU64(last, &b) || b < a)) return RangeResult::kInvalid;
  if (a >= size) return RangeResult::kUnsatisfiable;
  uint64_t end = last.empty() || b >= size ? size - 1 : b;
  *out = {a, end - a + 1};
  return RangeResult::kSatisfiable;
}

bool ParseBasicAuth(std::string_view header, std::string* user, std::string* password) {
  constexpr std::string_view kScheme = "Basic ";
  if (header.size() < kScheme.size()) return false;
  for (size_t i = 0; i + 1 < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(header[i])) != std::tolower(static_cast<unsigned char>(kScheme[i]))) {
      return false;
    }
  }
  if (header[kScheme.size() - 1] != ' ') return false;
  std::string_view b64 = header.substr(kScheme.size());
  while (!b64.empty() && b64.front() == ' ') b64.remove_prefix(1);
  while (!b64.empty() && b64.back() == ' ') b64.remove_suffix(1);
  std::string decoded;
  if (!Base64Decode(b64, &decoded)) return false;
  size_t colon = decoded.find(':');
  if (colon == std::string::npos) return false;
  *user = decoded.substr(0, colon);
  *password = decoded.substr(colon + 1);
  return true;
}

std::string Base64Encode(std::string_view in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  for (size_t i = 0; i < in.size(); i += 3) {
    uint32_t n = uint32_t(uint8_t(in[i])) << 16;
    if (i + 1 < in.size()) n |= uint32_t(uint8_t(in[i + 1])) << 8;
    if (i + 2 < in.size()) n |= uint32_t(uint8_t(in[i + 2]));
    out.push_back(kBase64[n >> 18 & 63]);
    out.push_back(kBase64[n >> 12 & 63]);
    out.push_back(i + 1 < in.size() ? kBase64[n >> 6 & 63] : '=');
    out.push_back(i + 2 < in.size() ? kBase64[n & 63] : '=');
  }
  return out;
}

}  // namespace dwfs
