#include "dwfs/duration.h"

#include <cstdint>

namespace dwfs {

namespace {
constexpr int64_t kMaxSeconds = int64_t(100) * 366 * 86400;
}

Status ParseDuration(std::string_view text, Seconds* out) {
  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument("invalid duration \"" + std::string(text.substr(0, 80)) + "\": " + why);
  };
  std::string_view s = text;
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  if (s.empty()) return bad("empty; expected e.g. 30s, 5m, 1h30m, 2d or an integer number of seconds");
  int64_t total = 0;
  size_t p = 0;
  bool any_unit = false;
  while (p < s.size()) {
    size_t start = p;
    int64_t n = 0;
    while (p < s.size() && s[p] >= '0' && s[p] <= '9') {
      n = n * 10 + (s[p] - '0');
      if (n > kMaxSeconds) return bad("too long (over 100 years)");
      ++p;
    }
    if (p == start) return bad("expected a number at \"" + std::string(s.substr(p, 10)) + "\"");
    if (p == s.size()) {
      if (any_unit) return bad("missing unit after the last number (s, m, h, d or w)");
      total = n;  // bare integer: seconds
      break;
    }
    int64_t mult;
    switch (s[p]) {
      case 's': mult = 1; break;
      case 'm': mult = 60; break;
      case 'h': mult = 3600; break;
      case 'd': mult = 86400; break;
      case 'w': mult = 7 * 86400; break;
      default:
        return bad("unknown unit \"" + std::string(1, s[p]) + "\" (use s, m, h, d or w)");
    }
    ++p;
    any_unit = true;
    total += n * mult;
    if (total > kMaxSeconds) return bad("too long (over 100 years)");
  }
  *out = Seconds(total);
  return Status::OK();
}

std::string FormatDuration(Seconds d) {
  int64_t v = d.count();
  if (v == 0) return "0s";
  std::string s;
  if (v < 0) {
    s = "-";
    v = -v;
  }
  static const struct {
    int64_t secs;
    char unit;
  } kUnits[] = {{86400, 'd'}, {3600, 'h'}, {60, 'm'}, {1, 's'}};
  for (const auto& u : kUnits) {
    if (v >= u.secs) {
      s += std::to_string(v / u.secs);
      s += u.unit;
      v %= u.secs;
    }
  }
  return s;
}

}  // namespace dwfs
