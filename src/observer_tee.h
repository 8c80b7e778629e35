// ObserverTee: hands every RunObserver event to several observers in turn
// (the backfill's recorder, then its console view). Holds no ownership;
// the observers must outlive the tee. Not thread-safe (like the driver).
#ifndef DWFS_OBSERVER_TEE_H_
#define DWFS_OBSERVER_TEE_H_

#include <utility>
#include <vector>

#include "dwfs/run_driver.h"

namespace dwfs {

class ObserverTee : public RunObserver {
 public:
  explicit ObserverTee(std::vector<RunObserver*> observers) : observers_(std::move(observers)) {}

  void OnTaskState(const RunPlan& plan, int task) override {
    for (RunObserver* o : observers_) o->OnTaskState(plan, task);
  }
  void OnTryStarted(const RunPlan& plan, int task, int pid) override {
    for (RunObserver* o : observers_) o->OnTryStarted(plan, task, pid);
  }
  void OnTryFinished(const RunPlan& plan, int task, const TaskResult& result) override {
    for (RunObserver* o : observers_) o->OnTryFinished(plan, task, result);
  }
  void OnRunFinished(const RunPlan& plan) override {
    for (RunObserver* o : observers_) o->OnRunFinished(plan);
  }

 private:
  std::vector<RunObserver*> observers_;
};

}  // namespace dwfs

#endif  // DWFS_OBSERVER_TEE_H_
