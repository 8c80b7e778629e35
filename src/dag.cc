#include "dwfs/dag.h"

#include <regex>

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

const char* CallbackKey(CallbackEvent event) {
  switch (event) {
    case CallbackEvent::kTaskFailure: return "on_failure_callback";
    case CallbackEvent::kTaskRetry: return "on_retry_callback";
    case CallbackEvent::kTaskSuccess: return "on_success_callback";
    case CallbackEvent::kRunFailure: return "on_run_failure_callback";
    case CallbackEvent::kRunSuccess: return "on_run_success_callback";
  }
  return "?";
}

bool IsRunEvent(CallbackEvent event) {
  return event == CallbackEvent::kRunFailure || event == CallbackEvent::kRunSuccess;
}

const Callback* Dag::CallbackFor(CallbackEvent event, int task) const {
  const Task* t = (task >= 0 && size_t(task) < tasks.size()) ? &tasks[size_t(task)] : nullptr;
  const std::optional<Callback>* own = nullptr;
  const std::optional<Callback>* dag = nullptr;
  switch (event) {
    case CallbackEvent::kTaskFailure:
      own = t ? &t->on_failure_callback : nullptr;
      dag = &on_failure_callback;
      break;
    case CallbackEvent::kTaskRetry:
      own = t ? &t->on_retry_callback : nullptr;
      dag = &on_retry_callback;
      break;
    case CallbackEvent::kTaskSuccess:
      own = t ? &t->on_success_callback : nullptr;
      dag = &on_success_callback;
      break;
    case CallbackEvent::kRunFailure:
      dag = &on_run_failure_callback;
      break;
    case CallbackEvent::kRunSuccess:
      dag = &on_run_success_callback;
      break;
  }
  if (own && *own) return &**own;
  return dag && *dag ? &**dag : nullptr;
}

namespace {

// Adds to *keep every task reachable from a kept one, downstream or upstream.
void Closure(const Dag& dag, bool downstream, std::vector<bool>* keep) {
  std::vector<int> stack;
  for (size_t i = 0; i < keep->size(); ++i) {
    if ((*keep)[i]) stack.push_back(int(i));
  }
  while (!stack.empty()) {
    int i = stack.back();
    stack.pop_back();
    const Task& t = dag.tasks[size_t(i)];
    for (int n : downstream ? t.downstream_idx : t.upstream_idx) {
      if (!(*keep)[size_t(n)]) {
        (*keep)[size_t(n)] = true;
        stack.push_back(n);
      }
    }
  }
}

}  // namespace

Status SelectTasks(const Dag& dag, const std::string& regex, bool upstream, bool downstream, std::vector<bool>* out) {
  out->assign(dag.tasks.size(), regex.empty());
  if (regex.empty()) return Status::OK();
  try {
    std::regex re(regex);
    for (size_t i = 0; i < dag.tasks.size(); ++i) (*out)[i] = std::regex_search(dag.tasks[i].task_id, re);
  } catch (const std::regex_error& e) {
    return Status::InvalidArgument("-t/--task-regex '" + regex + "': " + e.what());
  }
  if (downstream) Closure(dag, true, out);
  if (upstream) Closure(dag, false, out);
  return Status::OK();
}

}  // namespace dwfs
