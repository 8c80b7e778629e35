#include "dwfs/json.h"

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <cstdio>

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

namespace {

// YAML is a superset of JSON: yaml-cpp parses, this converts. Quoted scalars
// (tag "!") are strings; plain ones are null, booleans, numbers.
bool FromYaml(const YAML::Node& n, int depth, Json* out, std::string* err) {
  if (depth > 64) {
    *err = "nesting deeper than 64 levels";
    return false;
  }
  if (n.IsNull()) {
    *out = Json();
  } else if (n.IsScalar()) {
    const std::string& s = n.Scalar();
    if (n.Tag() == "!") {
      *out = Json(s);
    } else if (s == "true" || s == "false") {
      *out = Json(s == "true");
    } else if (s == "null") {
      *out = Json();
    } else {
      char* end = nullptr;
      errno = 0;
      long long i = std::strtoll(s.c_str(), &end, 10);
      if (!s.empty() && *end == 0 && errno == 0) {
        *out = Json(int64_t(i));
      } else {
        double d = std::strtod(s.c_str(), &end);
        if (s.empty() || *end != 0) {
          *err = "unexpected text '" + s.substr(0, 40) + "' (strings need double quotes)";
          return false;
        }
        *out = Json(d);
      }
    }
  } else if (n.IsSequence()) {
    *out = Json::Array();
    for (const auto& item : n) {
      Json v;
      if (!FromYaml(item, depth + 1, &v, err)) return false;
      out->Push(std::move(v));
    }
  } else if (n.IsMap()) {
    *out = Json::Object();
    for (const auto& kv : n) {
      Json v;
      if (!FromYaml(kv.second, depth + 1, &v, err)) return false;
      out->Set(kv.first.Scalar(), std::move(v));
    }
  }
  return true;
}

}  // namespace

Status ParseJson(std::string_view text, bool require_object, Json* out) {
  std::string t(text);
  size_t depth = 0, max_depth = 0;
  for (char c : t) {  // bound recursion before yaml-cpp sees the text
    if (c == '[' || c == '{') max_depth = std::max(max_depth, ++depth);
    if ((c == ']' || c == '}') && depth > 0) --depth;
  }
  if (max_depth > 64) return Status::InvalidArgument("invalid JSON: nesting deeper than 64 levels");
  size_t first = t.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return Status::InvalidArgument("invalid JSON: empty text");
  if (t[first] != '{' && t[first] != '[' && require_object) {
    return Status::InvalidArgument("invalid JSON: expected an object like {\"key\": \"value\"}");
  }
  YAML::Node n;
  try {
    n = YAML::Load(t);
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument("invalid JSON: " + e.msg);
  }
  Json v;
  std::string err;
  if (!FromYaml(n, 0, &v, &err)) return Status::InvalidArgument("invalid JSON: " + err);
  if (require_object && v.type() != Json::Type::kObject) {
    return Status::InvalidArgument("invalid JSON: expected an object like {\"key\": \"value\"}");
  }
  *out = std::move(v);
  return Status::OK();
}

}  // namespace dwfs
