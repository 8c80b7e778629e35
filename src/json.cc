#include "dwfs/json.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string_view>
#include <system_error>
#include <unordered_map>

#include "dwfs/status.h"

namespace dwfs {

Json Json::StringArray(const std::vector<std::string>& items) {
  Json a = Array();
  for (const auto& s : items) a.Push(Json(s));
  return a;
}

Json& Json::Push(Json v) {
  items_.push_back(std::move(v));
  return items_.back();
}

Json& Json::Set(const std::string& key, Json v) {
  for (auto& m : members_) {
    if (m.first == key) {
      m.second = std::move(v);
      return m.second;
    }
  }
  members_.emplace_back(key, std::move(v));
  return members_.back().second;
}

const Json* Json::Find(const std::string& key) const {
  if (type_ != Type::kObject) return nullptr;
  for (const auto& m : members_) {
    if (m.first == key) return &m.second;
  }
  return nullptr;
}

namespace {

// Length of the valid UTF-8 sequence at s[i], or 0 if invalid.
size_t Utf8Len(std::string_view s, size_t i) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  size_t n;
  uint32_t cp;
  if (c < 0x80) return 1;
  if ((c & 0xE0) == 0xC0) {
    n = 2;
    cp = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    n = 3;
    cp = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    n = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    unsigned char cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (cc & 0x3F);
  }
  if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
      (cp >= 0xD800 && cp <= 0xDFFF)) {
    return 0;
  }
  return n;
}

}  // namespace

void AppendJsonString(std::string* out, std::string_view s) {
  out->push_back('"');
  for (size_t i = 0; i < s.size();) {
    size_t plain = i;  // a run of printable ASCII needing no escape, appended at once
    while (plain < s.size() && s[plain] >= 0x20 && s[plain] < 0x7F && s[plain] != '"' && s[plain] != '\\') ++plain;
    if (plain > i) {
      out->append(s.data() + i, plain - i);
      i = plain;
      continue;
    }
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      size_t n = Utf8Len(s, i);
      if (n == 0) {
        out->append("\xEF\xBF\xBD");
        ++i;
      } else {
        out->append(s.substr(i, n));
        i += n;
      }
      continue;
    }
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      case '\b': out->append("\\b"); break;
      case '\f': out->append("\\f"); break;
      default:
        if (c < 0x20 || c == 0x7F) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out->append(buf);
        } else {
          out->push_back(char(c));
        }
    }
    ++i;
  }
  out->push_back('"');
}

std::string Json::Dump(int indent) const {
  std::string out;
  DumpTo(&out, indent, 0);
  return out;
}

void Json::DumpTo(std::string* out, int indent, int depth) const {
  auto newline = [&](int d) {
    if (indent > 0) {
      out->push_back('\n');
      out->append(size_t(indent * d), ' ');
    }
  };
  switch (type_) {
    case Type::kNull: out->append("null"); break;
    case Type::kBool: out->append(int_ ? "true" : "false"); break;
    case Type::kInt: out->append(std::to_string(int_)); break;
    case Type::kDouble: {
      if (!std::isfinite(double_)) {
        out->append("null");
        break;
      }
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.17g", double_);
      out->append(buf);
      break;
    }
    case Type::kString: AppendJsonString(out, str_); break;
    case Type::kArray: {
      out->push_back('[');
      for (size_t i = 0; i < items_.size(); ++i) {
        if (i) out->push_back(',');
        newline(depth + 1);
        items_[i].DumpTo(out, indent, depth + 1);
      }
      if (!items_.empty()) newline(depth);
      out->push_back(']');
      break;
    }
    case Type::kObject: {
      out->push_back('{');
      for (size_t i = 0; i < members_.size(); ++i) {
        if (i) out->push_back(',');
        newline(depth + 1);
        AppendJsonString(out, members_[i].first);
        out->append(indent > 0 ? ": " : ":");
        members_[i].second.DumpTo(out, indent, depth + 1);
      }
      if (!members_.empty()) newline(depth);
      out->push_back('}');
      break;
    }
  }
}

// A strict RFC 8259 parser. Recursion is bounded by kMaxDepth (every nested
// value is one frame), so hostile input cannot overflow the stack.
class JsonParser {
 public:
  static constexpr int kMaxDepth = 64;

  explicit JsonParser(std::string_view text) : t_(text) {}

  Status Parse(bool require_object, Json* out) {
    SkipSpace();
    if (p_ == t_.size()) return Status::InvalidArgument("invalid JSON: empty text");
    if (require_object && t_[p_] != '{') {
      return Status::InvalidArgument("invalid JSON: expected an object like {\"key\": \"value\"}");
    }
    Json v;
    if (!ParseValue(&v, 0)) return Status::InvalidArgument(std::move(err_));
    SkipSpace();
    if (p_ != t_.size()) {
      Fail(p_, "unexpected text after the value");
      return Status::InvalidArgument(std::move(err_));
    }
    *out = std::move(v);
    return Status::OK();
  }

 private:
  bool AtEnd() const { return p_ >= t_.size(); }
  unsigned char Peek() const { return static_cast<unsigned char>(t_[p_]); }

  void SkipSpace() {
    while (p_ < t_.size() && (t_[p_] == ' ' || t_[p_] == '\t' || t_[p_] == '\r' || t_[p_] == '\n')) ++p_;
  }

  // Sets the one-line error "invalid JSON: <what> at offset <pos> (<detail>)".
  // The detail names at most one byte of the input.
  bool Fail(size_t pos, std::string_view what, std::string_view hint = {}) {
    err_ = "invalid JSON: ";
    err_.append(what);
    err_.append(" at offset ");
    err_.append(std::to_string(pos));
    std::string detail;
    if (p_ >= t_.size() && pos >= t_.size()) {
      detail = "unexpected end of text";
    } else if (!hint.empty()) {
      detail = hint;
    } else if (pos < t_.size()) {
      unsigned char c = static_cast<unsigned char>(t_[pos]);
      if (c == '\'') {
        detail = "strings need double quotes";
      } else if (c == '/' || c == '#') {
        detail = "comments are not allowed";
      } else if (c > 0x20 && c < 0x7F) {
        detail = std::string("found '") + char(c) + "'";
      } else {
        char buf[24];
        std::snprintf(buf, sizeof buf, "found byte 0x%02x", c);
        detail = buf;
      }
    }
    if (!detail.empty()) err_ += " (" + detail + ")";
    return false;
  }

  // A hint for a bare word where a value or key should be.
  std::string_view WordHint() const {
    std::string_view rest = t_.substr(p_);
    if (rest.starts_with("NaN") || rest.starts_with("Infinity")) return "NaN and Infinity are not JSON";
    return "strings need double quotes";
  }

  bool ParseValue(Json* out, int depth) {
    if (AtEnd()) return Fail(p_, "expected a value");
    const unsigned char c = Peek();
    switch (c) {
      case '{':
      case '[':
        if (depth >= kMaxDepth) return Fail(p_, "nesting deeper than 64 levels", "arrays and objects");
        return c == '{' ? ParseObject(out, depth + 1) : ParseArray(out, depth + 1);
      case '"': {
        std::string s;
        if (!ParseString(&s)) return false;
        *out = Json(std::move(s));
        return true;
      }
      case 't': return ParseLiteral("true", Json(true), out);
      case 'f': return ParseLiteral("false", Json(false), out);
      case 'n': return ParseLiteral("null", Json(), out);
      case '+': return Fail(p_, "invalid number", "a leading '+' is not allowed");
      case '.': return Fail(p_, "invalid number", "a digit must come before '.'");
      default:
        if (c == '-' || (c >= '0' && c <= '9')) return ParseNumber(out);
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') {
          return Fail(p_, "expected a value", WordHint());
        }
        return Fail(p_, "expected a value");
    }
  }

  bool ParseLiteral(std::string_view word, Json value, Json* out) {
    if (t_.substr(p_, word.size()) != word) {
      return Fail(p_, "expected a value", "true, false and null are the only bare words; strings need double quotes");
    }
    p_ += word.size();
    *out = std::move(value);
    return true;
  }

  bool ParseArray(Json* out, int depth) {
    *out = Json::Array();
    ++p_;  // '['
    SkipSpace();
    if (!AtEnd() && Peek() == ']') {
      ++p_;
      return true;
    }
    for (;;) {
      Json v;
      if (!ParseValue(&v, depth)) return false;
      out->items_.push_back(std::move(v));
      SkipSpace();
      if (AtEnd()) return Fail(p_, "expected ',' or ']'");
      if (Peek() == ']') {
        ++p_;
        return true;
      }
      if (Peek() != ',') return Fail(p_, "expected ',' or ']'");
      ++p_;
      SkipSpace();
    }
  }

  // A duplicate key replaces the earlier value in the earlier position (as
  // Python's json.loads and JavaScript's JSON.parse do: the last one wins).
  bool ParseObject(Json* out, int depth) {
    *out = Json::Object();
    auto& members = out->members_;
    std::unordered_map<std::string, size_t> index;  // built once an object is big
    constexpr size_t kLinear = 16;
    ++p_;  // '{'
    SkipSpace();
    if (!AtEnd() && Peek() == '}') {
      ++p_;
      return true;
    }
    for (;;) {
      if (AtEnd() || Peek() != '"') {
        const bool word = !AtEnd() && (std::isalpha(Peek()) || Peek() == '_');
        return Fail(p_, "expected a string key", word ? "keys need double quotes" : "");
      }
      std::string key;
      if (!ParseString(&key)) return false;
      SkipSpace();
      if (AtEnd() || Peek() != ':') return Fail(p_, "expected ':'");
      ++p_;
      SkipSpace();
      Json v;
      if (!ParseValue(&v, depth)) return false;

      size_t found = members.size();
      if (members.size() <= kLinear) {
        for (size_t i = 0; i < members.size(); ++i) {
          if (members[i].first == key) {
            found = i;
            break;
          }
        }
      } else {
        if (index.empty()) {
          for (size_t i = 0; i < members.size(); ++i) index.emplace(members[i].first, i);
        }
        auto [it, inserted] = index.emplace(key, members.size());
        if (!inserted) found = it->second;
      }
      if (found < members.size()) {
        members[found].second = std::move(v);
      } else {
        members.emplace_back(std::move(key), std::move(v));
      }

      SkipSpace();
      if (AtEnd()) return Fail(p_, "expected ',' or '}'");
      if (Peek() == '}') {
        ++p_;
        return true;
      }
      if (Peek() != ',') return Fail(p_, "expected ',' or '}'");
      ++p_;
      SkipSpace();
    }
  }

  static int HexValue(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  // Reads the 4 hex digits after "\u" at p_ (pointing at the backslash).
  bool ReadHex4(uint32_t* cp) {
    if (p_ + 6 > t_.size()) return false;
    uint32_t v = 0;
    for (size_t k = 2; k < 6; ++k) {
      const int h = HexValue(t_[p_ + k]);
      if (h < 0) return false;
      v = (v << 4) | uint32_t(h);
    }
    *cp = v;
    return true;
  }

  static void AppendUtf8(std::string* s, uint32_t cp) {
    if (cp < 0x80) {
      s->push_back(char(cp));
    } else if (cp < 0x800) {
      s->push_back(char(0xC0 | (cp >> 6)));
      s->push_back(char(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      s->push_back(char(0xE0 | (cp >> 12)));
      s->push_back(char(0x80 | ((cp >> 6) & 0x3F)));
      s->push_back(char(0x80 | (cp & 0x3F)));
    } else {
      s->push_back(char(0xF0 | (cp >> 18)));
      s->push_back(char(0x80 | ((cp >> 12) & 0x3F)));
      s->push_back(char(0x80 | ((cp >> 6) & 0x3F)));
      s->push_back(char(0x80 | (cp & 0x3F)));
    }
  }

  // p_ is at the opening quote; leaves p_ after the closing one.
  bool ParseString(std::string* s) {
    const size_t open = p_++;
    for (;;) {
      const size_t run = p_;
      while (p_ < t_.size()) {
        const unsigned char c = Peek();
        if (c < 0x20 || c == '"' || c == '\\' || c >= 0x80) break;
        ++p_;
      }
      s->append(t_.substr(run, p_ - run));
      if (AtEnd()) return Fail(open, "unterminated string", "no closing '\"'");
      const unsigned char c = Peek();
      if (c == '"') {
        ++p_;
        return true;
      }
      if (c >= 0x80) {
        const size_t n = Utf8Len(t_, p_);
        if (n == 0) {
          char buf[24];
          std::snprintf(buf, sizeof buf, "byte 0x%02x", c);
          return Fail(p_, "invalid UTF-8 in string", buf);
        }
        s->append(t_.substr(p_, n));
        p_ += n;
        continue;
      }
      if (c < 0x20) {
        char buf[48];
        std::snprintf(buf, sizeof buf, "byte 0x%02x must be written as an escape", c);
        return Fail(p_, "control character in string", buf);
      }
      // A backslash.
      if (p_ + 1 >= t_.size()) return Fail(open, "unterminated string", "no closing '\"'");
      const char e = t_[p_ + 1];
      switch (e) {
        case '"': s->push_back('"'); break;
        case '\\': s->push_back('\\'); break;
        case '/': s->push_back('/'); break;
        case 'b': s->push_back('\b'); break;
        case 'f': s->push_back('\f'); break;
        case 'n': s->push_back('\n'); break;
        case 'r': s->push_back('\r'); break;
        case 't': s->push_back('\t'); break;
        case 'u': {
          uint32_t cp;
          if (!ReadHex4(&cp)) return Fail(p_, "invalid \\u escape", "\\u needs 4 hex digits");
          if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return Fail(p_, "lone surrogate in \\u escape", "a low surrogate needs a high one before it");
          }
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            const size_t high = p_;
            p_ += 6;
            uint32_t lo;
            if (p_ + 1 >= t_.size() || t_[p_] != '\\' || t_[p_ + 1] != 'u' || !ReadHex4(&lo) || lo < 0xDC00 ||
                lo > 0xDFFF) {
              p_ = high;
              return Fail(high, "lone surrogate in \\u escape", "a high surrogate needs a \\u low one after it");
            }
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          }
          AppendUtf8(s, cp);
          p_ += 6;
          continue;
        }
        default: return Fail(p_, "invalid escape", "use \\\" \\\\ \\/ \\b \\f \\n \\r \\t or \\uXXXX");
      }
      p_ += 2;
    }
  }

  static bool IsDigit(char c) { return c >= '0' && c <= '9'; }

  bool ParseNumber(Json* out) {
    const size_t start = p_;
    const bool negative = t_[p_] == '-';
    if (negative) ++p_;
    if (AtEnd() || !IsDigit(t_[p_])) {
      std::string_view hint = "a digit must follow '-'";
      if (!AtEnd() && (t_.substr(p_).starts_with("Infinity") || t_.substr(p_).starts_with("NaN"))) {
        hint = "NaN and Infinity are not JSON";
      }
      return Fail(start, "invalid number", hint);
    }
    const size_t int_start = p_;
    if (t_[p_] == '0') {
      ++p_;
      if (!AtEnd() && IsDigit(t_[p_])) return Fail(start, "invalid number", "leading zeros are not allowed");
    } else {
      while (!AtEnd() && IsDigit(t_[p_])) ++p_;
    }
    const size_t int_end = p_;
    bool integral = true;
    if (!AtEnd() && t_[p_] == '.') {
      integral = false;
      ++p_;
      if (AtEnd() || !IsDigit(t_[p_])) return Fail(start, "invalid number", "a digit must follow '.'");
      while (!AtEnd() && IsDigit(t_[p_])) ++p_;
    }
    int64_t exp10 = 0;  // the written exponent, saturated
    if (!AtEnd() && (t_[p_] == 'e' || t_[p_] == 'E')) {
      integral = false;
      ++p_;
      bool exp_negative = false;
      if (!AtEnd() && (t_[p_] == '+' || t_[p_] == '-')) exp_negative = t_[p_++] == '-';
      if (AtEnd() || !IsDigit(t_[p_])) return Fail(start, "invalid number", "the exponent needs digits");
      while (!AtEnd() && IsDigit(t_[p_])) {
        if (exp10 < 1000000000) exp10 = exp10 * 10 + (t_[p_] - '0');
        ++p_;
      }
      if (exp_negative) exp10 = -exp10;
    }
    if (integral) {
      // Accumulate the magnitude; fits int64 unless it overflows uint64 or
      // exceeds 2^63 - 1 (2^63 when negative).
      uint64_t mag = 0;
      bool fits = true;
      for (size_t i = int_start; i < int_end && fits; ++i) {
        const uint64_t d = uint64_t(t_[i] - '0');
        if (mag > (UINT64_MAX - d) / 10) {
          fits = false;
        } else {
          mag = mag * 10 + d;
        }
      }
      const uint64_t limit = negative ? uint64_t(INT64_MAX) + 1 : uint64_t(INT64_MAX);
      if (fits && mag <= limit) {
        if (negative && mag == 0) {
          *out = Json(-0.0);  // an int cannot carry the sign of -0
        } else {
          *out = Json(negative ? int64_t(0 - mag) : int64_t(mag));
        }
        return true;
      }
    }
    double d = 0;
    const char* first = t_.data() + start;
    const char* last = t_.data() + p_;
    const auto [ptr, ec] = std::from_chars(first, last, d);
    if (ptr != last) return Fail(start, "invalid number");
    if (ec == std::errc::result_out_of_range) {
      // Overflow or underflow? The decimal exponent of the first significant
      // digit tells.
      int64_t lead = 0;
      size_t i = int_start;
      while (i < p_ && (t_[i] == '0' || t_[i] == '.')) ++i;
      if (i < int_end) {
        lead = int64_t(int_end - i) - 1;
      } else {
        lead = -int64_t(i - int_end);  // i is in the fraction: ".00d" -> -3
      }
      if (lead + exp10 > 0) return Fail(start, "number out of range", "beyond the range of a double");
      d = negative ? -0.0 : 0.0;  // underflow: as near zero as a double gets
    } else if (ec != std::errc()) {
      return Fail(start, "invalid number");
    }
    *out = Json(d);
    return true;
  }

  std::string_view t_;
  size_t p_ = 0;
  std::string err_;
};

Status ParseJson(std::string_view text, bool require_object, Json* out) {
  return JsonParser(text).Parse(require_object, out);
}

}  // namespace dwfs
