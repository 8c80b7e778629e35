// A small, strict parser of the Prometheus text exposition format 0.0.4, for
// tests that check what /metrics (MetricsRegistry::RenderPrometheus) says:
// HELP and TYPE lines, samples with optional labels (escaped values) and an
// optional timestamp. Strict where a scraper would be: every sample must
// belong to a family whose TYPE came before it (histograms: name_bucket,
// name_sum, name_count), a family's TYPE appears once, and a series appears
// once.
#ifndef DWFS_TESTS_PROMETHEUS_TEXT_H_
#define DWFS_TESTS_PROMETHEUS_TEXT_H_

#include <cmath>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace dwfs {

using PromLabels = std::map<std::string, std::string>;

struct PromSample {
  std::string name;  // as written (with _bucket, _sum, _count)
  PromLabels labels;
  double value = 0;
};

struct PromText {
  std::map<std::string, std::string> help;  // family -> unescaped help
  std::map<std::string, std::string> type;  // family -> counter, gauge, histogram, ...
  std::vector<PromSample> samples;          // in text order

  // The value of the series `name{labels}` (labels compared as a set).
  std::optional<double> Value(const std::string& name, const PromLabels& labels = {}) const {
    for (const PromSample& s : samples) {
      if (s.name == name && s.labels == labels) return s.value;
    }
    return std::nullopt;
  }
  // The sum over every series named `name`.
  double Sum(const std::string& name) const {
    double total = 0;
    for (const PromSample& s : samples) {
      if (s.name == name) total += s.value;
    }
    return total;
  }
};

namespace prom_internal {

inline bool NameChar(char c, bool first) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' || (!first && c >= '0' && c <= '9');
}

inline bool ParseValue(const std::string& s, double* out) {
  if (s == "+Inf") {
    *out = INFINITY;
  } else if (s == "-Inf") {
    *out = -INFINITY;
  } else if (s == "NaN") {
    *out = NAN;
  } else {
    if (s.empty()) return false;
    char* end = nullptr;
    *out = std::strtod(s.c_str(), &end);
    if (end != s.c_str() + s.size()) return false;
  }
  return true;
}

// The family a sample name belongs to, given the TYPEs seen so far.
inline std::optional<std::string> FamilyOf(const std::string& name, const std::map<std::string, std::string>& types) {
  if (types.count(name)) return name;
  for (const char* suffix : {"_bucket", "_sum", "_count"}) {
    std::string sfx = suffix;
    if (name.size() > sfx.size() && name.compare(name.size() - sfx.size(), sfx.size(), sfx) == 0) {
      std::string base = name.substr(0, name.size() - sfx.size());
      auto it = types.find(base);
      if (it != types.end() && (it->second == "histogram" || it->second == "summary")) return base;
    }
  }
  return std::nullopt;
}

}  // namespace prom_internal

// Parses `text`; false with `*error` naming the line on any violation.
inline bool ParsePrometheusText(const std::string& text, PromText* out, std::string* error) {
  using namespace prom_internal;
  *out = PromText();
  std::set<std::pair<std::string, PromLabels>> seen;
  std::istringstream in(text);
  std::string line;
  int n = 0;
  auto fail = [&](const std::string& why) {
    *error = "line " + std::to_string(n) + ": " + why + ": " + line;
    return false;
  };
  if (!text.empty() && text.back() != '\n') {
    *error = "text does not end with a newline";
    return false;
  }
  while (std::getline(in, line)) {
    ++n;
    if (line.empty()) continue;
    if (line[0] == '#') {
      std::istringstream words(line.substr(1));
      std::string kind, name;
      words >> kind >> name;
      if (kind != "HELP" && kind != "TYPE") continue;  // a comment
      if (name.empty()) return fail("no metric name");
      size_t at = line.find(name, 1 + kind.size()) + name.size();
      std::string rest = at < line.size() ? line.substr(at + 1) : "";
      if (kind == "TYPE") {
        if (out->type.count(name)) return fail("second TYPE");
        if (rest != "counter" && rest != "gauge" && rest != "histogram" && rest != "summary" && rest != "untyped") {
          return fail("unknown type");
        }
        out->type[name] = rest;
      } else {
        std::string help;
        for (size_t i = 0; i < rest.size(); ++i) {
          if (rest[i] == '\\' && i + 1 < rest.size() && (rest[i + 1] == '\\' || rest[i + 1] == 'n')) {
            help += rest[++i] == 'n' ? '\n' : '\\';
          } else {
            help += rest[i];
          }
        }
        out->help[name] = help;
      }
      continue;
    }
    PromSample s;
    size_t i = 0;
    while (i < line.size() && NameChar(line[i], i == 0)) ++i;
    if (i == 0) return fail("bad metric name");
    s.name = line.substr(0, i);
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (i < line.size() && line[i] != '}') {
        size_t start = i;
        while (i < line.size() && NameChar(line[i], i == start) && line[i] != ':') ++i;
        if (i == start || i + 1 >= line.size() || line[i] != '=' || line[i + 1] != '"') return fail("bad label");
        std::string label = line.substr(start, i - start);
        i += 2;
        std::string value;
        for (;; ++i) {
          if (i >= line.size()) return fail("unterminated label value");
          char c = line[i];
          if (c == '"') break;
          if (c == '\\') {
            if (++i >= line.size()) return fail("bad escape");
            char e = line[i];
            if (e == 'n') {
              value += '\n';
            } else if (e == '\\' || e == '"') {
              value += e;
            } else {
              return fail("bad escape");
            }
          } else {
            value += c;
          }
        }
        ++i;  // the closing quote
        if (!s.labels.emplace(label, value).second) return fail("label twice");
        if (i < line.size() && line[i] == ',') ++i;
      }
      if (i >= line.size()) return fail("unterminated labels");
      ++i;  // '}'
    }
    if (i >= line.size() || line[i] != ' ') return fail("no value");
    std::istringstream fields(line.substr(i + 1));
    std::string value, timestamp, extra;
    fields >> value >> timestamp >> extra;
    if (!ParseValue(value, &s.value)) return fail("bad value");
    if (!extra.empty()) return fail("trailing text");
    if (!timestamp.empty() && timestamp.find_first_not_of("-0123456789") != std::string::npos) {
      return fail("bad timestamp");
    }
    if (!FamilyOf(s.name, out->type)) return fail("sample without a TYPE before it");
    if (!seen.insert({s.name, s.labels}).second) return fail("series twice");
    out->samples.push_back(std::move(s));
  }
  return true;
}

}  // namespace dwfs

#endif  // DWFS_TESTS_PROMETHEUS_TEXT_H_
