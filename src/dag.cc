#include "dwfs/dag.h"

namespace dwfs {

namespace {

struct RuleName {
  TriggerRule rule;
  const char* name;
};
constexpr RuleName kRules[] = {
    {TriggerRule::kAllSuccess, "all_success"},
    {TriggerRule::kAllFailed, "all_failed"},
    {TriggerRule::kAllDone, "all_done"},
    {TriggerRule::kAllSkipped, "all_skipped"},
    {TriggerRule::kOneSuccess, "one_success"},
    {TriggerRule::kOneFailed, "one_failed"},
    {TriggerRule::kOneDone, "one_done"},
    {TriggerRule::kNoneFailed, "none_failed"},
    {TriggerRule::kNoneFailedMinOneSuccess, "none_failed_min_one_success"},
    {TriggerRule::kNoneSkipped, "none_skipped"},
    {TriggerRule::kAlways, "always"},
};

}  // namespace

const char* TriggerRuleName(TriggerRule rule) {
  for (const auto& r : kRules) {
    if (r.rule == rule) return r.name;
  }
  return "?";
}

bool ParseTriggerRule(std::string_view name, TriggerRule* out) {
  for (const auto& r : kRules) {
    if (name == r.name) {
      *out = r.rule;
      return true;
    }
  }
  return false;
}

const std::vector<TriggerRule>& AllTriggerRules() {
  static const std::vector<TriggerRule> kAll = [] {
    std::vector<TriggerRule> v;
    for (const auto& r : kRules) v.push_back(r.rule);
    return v;
  }();
  return kAll;
}

int Dag::TaskIndex(std::string_view task_id) const {
  for (size_t i = 0; i < tasks.size(); ++i) {
    if (tasks[i].task_id == task_id) return int(i);
  }
  return -1;
}

}  // namespace dwfs
