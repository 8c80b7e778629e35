// Metrics: counters, gauges and histograms kept in memory and rendered in
// the Prometheus text exposition format 0.0.4 (after the Prometheus client
// libraries, much reduced). No globals: a MetricsRegistry object owns every
// family registered on it, and whoever needs a metric is handed the
// registry (or a struct of families built on it, see dwfs_metrics.h).
//
//   MetricsRegistry registry;
//   Family<Counter>& tries = registry.AddCounter("dwfs_x_total", "Help.", {"state"});
//   tries.WithLabels({"success"}).Increment();
//   std::string text = registry.RenderPrometheus();
//
// A family has a name, a help text, a type and label names; each distinct
// tuple of label values is one child series, created on first use and kept
// for the registry's lifetime. A family without label names has exactly one
// child, made at registration (so it renders as 0 before its first use).
//
// Thread safety: everything here may be used from any number of threads at
// once (the scheduler's loop, executor worker threads, HTTP server threads).
// Updating a series is lock-free (atomics). WithLabels takes a shared lock to
// find an existing child and an exclusive one only to create a new label set;
// callers on hot paths may keep the returned reference instead. Rendering
// takes the shared locks; a value updated while rendering shows either its
// old or its new value, and a histogram's _count always equals its +Inf
// bucket.
//
// Lifetime: references returned by Add* and WithLabels stay valid as long as
// the registry.
#ifndef DWFS_METRICS_H_
#define DWFS_METRICS_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <vector>

namespace dwfs {

// A value that only goes up (restarts at 0 with the process).
class Counter {
 public:
  // `v` must be >= 0 (a negative `v` is ignored).
  void Increment(double v = 1);
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// A value that goes up and down.
class Gauge {
 public:
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Add(double v) { value_.fetch_add(v, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Observations counted in fixed buckets (upper bounds, inclusive, strictly
// increasing, given at registration; +Inf is implicit), with their sum.
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);

  void Observe(double v);

  const std::vector<double>& bounds() const { return bounds_; }
  // Per-bucket (not cumulative) counts, bounds().size() + 1 of them (the
  // last is the +Inf bucket).
  std::vector<uint64_t> BucketCounts() const;
  uint64_t count() const;  // the sum of BucketCounts()
  double sum() const { return sum_.load(std::memory_order_relaxed); }

 private:
  const std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;  // bounds_.size() + 1
  std::atomic<double> sum_{0};
};

using LabelValues = std::vector<std::string>;

enum class MetricType { kCounter, kGauge, kHistogram };

// The type-independent part of a family, for rendering.
class FamilyBase {
 public:
  FamilyBase(std::string name, std::string help, MetricType type, std::vector<std::string> label_names);
  virtual ~FamilyBase() = default;
  FamilyBase(const FamilyBase&) = delete;
  FamilyBase& operator=(const FamilyBase&) = delete;

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  MetricType type() const { return type_; }
  const std::vector<std::string>& label_names() const { return label_names_; }

  // Appends this family's HELP, TYPE and sample lines to `out`, children in
  // ascending order of their label values.
  virtual void Render(std::string* out) const = 0;

 private:
  const std::string name_;
  const std::string help_;
  const MetricType type_;
  const std::vector<std::string> label_names_;
};

// The children of one family, by label values. T is Counter, Gauge or
// Histogram.
template <typename T>
class Family : public FamilyBase {
 public:
  // Children of a histogram family share `bounds` (ignored for others).
  Family(std::string name, std::string help, MetricType type, std::vector<std::string> label_names,
         std::vector<double> bounds = {});

  // The child for `values` (one per label name, in the same order), created
  // on first use. A wrong number of values is a programming error: it gets
  // the child whose values are padded with "" or truncated.
  T& WithLabels(const LabelValues& values);
  // The child of a family without labels.
  T& Get() { return WithLabels({}); }

  void Render(std::string* out) const override;

 private:
  std::unique_ptr<T> Make() const;

  const std::vector<double> bounds_;
  mutable std::shared_mutex mu_;
  std::map<LabelValues, std::unique_ptr<T>> children_;  // GUARDED_BY(mu_); values never move
};

template <>
std::unique_ptr<Histogram> Family<Histogram>::Make() const;
template <>
void Family<Histogram>::Render(std::string* out) const;
extern template class Family<Counter>;
extern template class Family<Gauge>;
extern template class Family<Histogram>;

class MetricsRegistry {
 public:
  MetricsRegistry() = default;
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  // Registers a family. Names must match [a-zA-Z_:][a-zA-Z0-9_:]*, label
  // names [a-zA-Z_][a-zA-Z0-9_]* (not "le" for histograms), and a name may be
  // registered once: registration happens once, at start-up, from code, so a
  // violation is a programming error and aborts the process with a message.
  // Histogram bounds must be finite and strictly increasing (likewise).
  Family<Counter>& AddCounter(const std::string& name, const std::string& help,
                              std::vector<std::string> label_names = {});
  Family<Gauge>& AddGauge(const std::string& name, const std::string& help,
                          std::vector<std::string> label_names = {});
  Family<Histogram>& AddHistogram(const std::string& name, const std::string& help, std::vector<double> bounds,
                                  std::vector<std::string> label_names = {});

  // Every family in registration order, in the Prometheus text format
  // 0.0.4 (Content-Type: text/plain; version=0.0.4; charset=utf-8).
  std::string RenderPrometheus() const;

 private:
  // Aborts on an invalid name or label name.
  void Check(const std::string& name, const std::vector<std::string>& label_names, bool histogram) const;
  // Adds `family`; aborts when its name is taken.
  template <typename T>
  Family<T>& Register(std::unique_ptr<Family<T>> family);

  mutable std::shared_mutex mu_;
  std::vector<std::unique_ptr<FamilyBase>> families_;  // GUARDED_BY(mu_)
};

// Text format helpers (exposed for tests and for other renderers).
// A sample value or bucket bound: shortest round-trip decimal ("3", "0.25",
// "1e+06"), "+Inf", "-Inf" or "NaN".
std::string FormatMetricValue(double v);
// A label value with \ " and newline escaped as \\ \" \n.
std::string EscapeLabelValue(const std::string& v);
// A HELP text with \ and newline escaped as \\ \n.
std::string EscapeHelp(const std::string& v);

}  // namespace dwfs

#endif  // DWFS_METRICS_H_
