#include "dwfs/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <mutex>

namespace dwfs {

namespace {

[[noreturn]] void Misuse(const std::string& what) {
  std::fprintf(stderr, "dwfs: metrics registry misuse: %s\n", what.c_str());
  std::abort();
}

bool ValidName(const std::string& s, bool colon) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':') ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

// \ and newline escaped (and ", with `quote`).
std::string Escape(const std::string& v, bool quote) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\' || (quote && c == '"')) {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

const char* TypeName(MetricType t) {
  switch (t) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
  }
  return "untyped";
}

// `{a="x",b="y"` (no closing brace; "" when there are no labels).
std::string OpenLabels(const std::vector<std::string>& names, const LabelValues& values) {
  std::string s;
  for (size_t i = 0; i < names.size(); ++i) {
    s += i == 0 ? "{" : ",";
    s += names[i] + "=\"" + EscapeLabelValue(values[i]) + "\"";
  }
  return s;
}

std::string CloseLabels(const std::string& open) { return open.empty() ? "" : open + "}"; }

void Sample(std::string* out, const std::string& name, const std::string& labels, double v) {
  *out += name;
  *out += labels;
  *out += ' ';
  *out += FormatMetricValue(v);
  *out += '\n';
}

void Header(std::string* out, const FamilyBase& f) {
  *out += "# HELP " + f.name() + " " + EscapeHelp(f.help()) + "\n";
  *out += "# TYPE " + f.name() + " " + TypeName(f.type()) + "\n";
}

}  // namespace

std::string FormatMetricValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  if (ec != std::errc()) return "NaN";  // cannot happen with 64 bytes
  return std::string(buf, end);
}

std::string EscapeLabelValue(const std::string& v) { return Escape(v, /*quote=*/true); }

std::string EscapeHelp(const std::string& v) { return Escape(v, /*quote=*/false); }

// --- Series ---

void Counter::Increment(double v) {
  if (!(v >= 0)) return;
  value_.fetch_add(v, std::memory_order_relaxed);
}

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(new std::atomic<uint64_t>[bounds_.size() + 1]) {
  for (size_t i = 0; i <= bounds_.size(); ++i) counts_[i].store(0, std::memory_order_relaxed);
}

void Histogram::Observe(double v) {
  // The first bucket whose upper bound is >= v (le is inclusive); NaN lands in +Inf.
  size_t i = std::isnan(v) ? bounds_.size()
                           : size_t(std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin());
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
}

std::vector<uint64_t> Histogram::BucketCounts() const {
  std::vector<uint64_t> out(bounds_.size() + 1);
  for (size_t i = 0; i < out.size(); ++i) out[i] = counts_[i].load(std::memory_order_relaxed);
  return out;
}

uint64_t Histogram::count() const {
  uint64_t n = 0;
  for (uint64_t c : BucketCounts()) n += c;
  return n;
}

// --- Families ---

FamilyBase::FamilyBase(std::string name, std::string help, MetricType type, std::vector<std::string> label_names)
    : name_(std::move(name)), help_(std::move(help)), type_(type), label_names_(std::move(label_names)) {}

template <typename T>
Family<T>::Family(std::string name, std::string help, MetricType type, std::vector<std::string> label_names,
                  std::vector<double> bounds)
    : FamilyBase(std::move(name), std::move(help), type, std::move(label_names)), bounds_(std::move(bounds)) {
  if (FamilyBase::label_names().empty()) children_[LabelValues()] = Make();
}

template <>
std::unique_ptr<Histogram> Family<Histogram>::Make() const {
  return std::make_unique<Histogram>(bounds_);
}

template <typename T>
std::unique_ptr<T> Family<T>::Make() const {
  return std::make_unique<T>();
}

template <typename T>
T& Family<T>::WithLabels(const LabelValues& given) {
  const LabelValues* values = &given;
  LabelValues fixed;
  if (given.size() != label_names().size()) {
    fixed = given;
    fixed.resize(label_names().size());
    values = &fixed;
  }
  {
    std::shared_lock lock(mu_);
    auto it = children_.find(*values);
    if (it != children_.end()) return *it->second;
  }
  std::unique_lock lock(mu_);
  std::unique_ptr<T>& child = children_[*values];
  if (!child) child = Make();
  return *child;
}

template <>
void Family<Histogram>::Render(std::string* out) const {
  Header(out, *this);
  std::vector<std::string> names = label_names();
  names.push_back("le");
  std::shared_lock lock(mu_);
  for (const auto& [values, h] : children_) {
    std::vector<uint64_t> counts = h->BucketCounts();
    double sum = h->sum();
    LabelValues with_le = values;
    with_le.emplace_back();
    uint64_t cumulative = 0;
    for (size_t i = 0; i < counts.size(); ++i) {
      cumulative += counts[i];
      with_le.back() = i < bounds_.size() ? FormatMetricValue(bounds_[i]) : "+Inf";
      Sample(out, name() + "_bucket", CloseLabels(OpenLabels(names, with_le)), double(cumulative));
    }
    std::string labels = CloseLabels(OpenLabels(label_names(), values));
    Sample(out, name() + "_sum", labels, sum);
    Sample(out, name() + "_count", labels, double(cumulative));
  }
}

template <typename T>
void Family<T>::Render(std::string* out) const {
  Header(out, *this);
  std::shared_lock lock(mu_);
  for (const auto& [values, series] : children_) {
    Sample(out, name(), CloseLabels(OpenLabels(label_names(), values)), series->value());
  }
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

// --- Registry ---

void MetricsRegistry::Check(const std::string& name, const std::vector<std::string>& label_names,
                            bool histogram) const {
  if (!ValidName(name, true)) Misuse("invalid metric name '" + name + "'");
  for (const std::string& l : label_names) {
    if (!ValidName(l, false) || l.rfind("__", 0) == 0 || (histogram && l == "le")) {
      Misuse("invalid label name '" + l + "' of " + name);
    }
  }
}

template <typename T>
Family<T>& MetricsRegistry::Register(std::unique_ptr<Family<T>> family) {
  Family<T>& ref = *family;
  std::unique_lock lock(mu_);
  for (const auto& f : families_) {
    if (f->name() == family->name()) Misuse("metric " + f->name() + " registered twice");
  }
  families_.push_back(std::move(family));
  return ref;
}

Family<Counter>& MetricsRegistry::AddCounter(const std::string& name, const std::string& help,
                                             std::vector<std::string> label_names) {
  Check(name, label_names, false);
  return Register(std::make_unique<Family<Counter>>(name, help, MetricType::kCounter, std::move(label_names)));
}

Family<Gauge>& MetricsRegistry::AddGauge(const std::string& name, const std::string& help,
                                         std::vector<std::string> label_names) {
  Check(name, label_names, false);
  return Register(std::make_unique<Family<Gauge>>(name, help, MetricType::kGauge, std::move(label_names)));
}

Family<Histogram>& MetricsRegistry::AddHistogram(const std::string& name, const std::string& help,
                                                 std::vector<double> bounds, std::vector<std::string> label_names) {
  Check(name, label_names, true);
  for (size_t i = 0; i < bounds.size(); ++i) {
    if (!std::isfinite(bounds[i]) || (i > 0 && bounds[i] <= bounds[i - 1])) {
      Misuse("bucket bounds of " + name + " must be finite and strictly increasing");
    }
  }
  return Register(std::make_unique<Family<Histogram>>(name, help, MetricType::kHistogram, std::move(label_names),
                                                      std::move(bounds)));
}

std::string MetricsRegistry::RenderPrometheus() const {
  std::string out;
  std::shared_lock lock(mu_);
  for (const auto& f : families_) f->Render(&out);
  return out;
}

}  // namespace dwfs
