// DagWatcher: real files in a temp folder, inotify and polling. No sleeps:
// the io_context runs until the expected notification, with a 5 s deadline
// only as a failure guard. Absence of a notification is shown with a witness
// watcher whose debounce is longer: once the witness fired, the watcher
// under test would have fired too.
#include "dwfs/dag_watcher.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>

#include "test_util.h"

namespace dwfs {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

// Runs `io` until pred() holds; false after 5 s (the failure guard).
bool RunUntil(boost::asio::io_context& io, const std::function<bool()>& pred) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    if (io.stopped()) io.restart();
    io.run_one_for(milliseconds(50));
  }
  return true;
}

class DagWatcherTest : public ::testing::Test {
 protected:
  std::unique_ptr<DagWatcher> Watch(int* count, DagWatcherOptions options = {}) {
    if (options.folder.empty()) options.folder = dir_.path();
    auto w = std::make_unique<DagWatcher>(io_, options, [count] { ++*count; }, nullptr);
    Status st = w->Start();
    EXPECT_TRUE(st.ok()) << st.ToString();
    return w;
  }

  TempDir dir_;
  boost::asio::io_context io_;
};

TEST_F(DagWatcherTest, UsesInotifyAndNotifiesOnCreate) {
  int count = 0;
  auto w = Watch(&count);
  EXPECT_FALSE(w->polling());
  dir_.Write("a.yaml", "dag_id: a\n");
  ASSERT_TRUE(RunUntil(io_, [&] { return count >= 1; }));
}

TEST_F(DagWatcherTest, StartIsTheBaseline) {
  // Polling compares against the tree as it was at Start: files already
  // there are no change. The witness watches another folder; by the time it
  // fired, the poller had many polls to (wrongly) notify.
  dir_.Write("existing.yaml", "dag_id: e\n");
  dir_.Write("sub/nested.yaml", "dag_id: n\n");
  TempDir other;
  int count = 0, witness = 0;
  auto w = Watch(&count, {.folder = dir_.path(), .poll_interval = milliseconds(10), .force_poll = true});
  auto wit = Watch(&witness, {.folder = other.path(), .debounce = milliseconds(300)});
  other.Write("trigger.yaml", "x\n");
  ASSERT_TRUE(RunUntil(io_, [&] { return witness >= 1; }));
  EXPECT_EQ(count, 0);
  EXPECT_EQ(w->Start().code(), Status::Code::kFailedPrecondition);
}

TEST_F(DagWatcherTest, NotifiesOnModify) {
  std::string path = dir_.Write("a.yaml", "dag_id: a\n");
  int count = 0;
  auto w = Watch(&count);
  std::ofstream(path, std::ios::app) << "schedule: null\n";
  ASSERT_TRUE(RunUntil(io_, [&] { return count >= 1; }));
}

TEST_F(DagWatcherTest, NotifiesOnDeleteAndRename) {
  std::string a = dir_.Write("a.yaml", "dag_id: a\n");
  std::string b = dir_.Write("b.yaml", "dag_id: b\n");
  int count = 0;
  auto w = Watch(&count);
  fs::remove(a);
  ASSERT_TRUE(RunUntil(io_, [&] { return count >= 1; }));
  count = 0;
  fs::rename(b, dir_.path() + "/c.yaml");
  ASSERT_TRUE(RunUntil(io_, [&] { return count >= 1; }));
}

TEST_F(DagWatcherTest, WatchesSubfoldersCreatedAfterStart) {
  int count = 0;
  auto w = Watch(&count);
  fs::create_directories(dir_.path() + "/team/etl");
  ASSERT_TRUE(RunUntil(io_, [&] { return count >= 1; }));
  count = 0;
  // A file in the new, nested folder: only seen if that folder is watched.
  dir_.Write("team/etl/load.yaml", "dag_id: load\n");
  ASSERT_TRUE(RunUntil(io_, [&] { return count >= 1; }));
  // A folder moved in from outside, with a subfolder of its own.
  TempDir outside;
  outside.Write("moved/inner/x.yaml", "x\n");
  count = 0;
  fs::rename(outside.path() + "/moved", dir_.path() + "/moved");
  ASSERT_TRUE(RunUntil(io_, [&] { return count >= 1; }));
  count = 0;
  dir_.Write("moved/inner/y.yaml", "y\n");
  ASSERT_TRUE(RunUntil(io_, [&] { return count >= 1; }));
}

TEST_F(DagWatcherTest, BurstIsCoalesced) {
  int count = 0, witness = 0;
  auto w = Watch(&count);
  for (int i = 0; i < 50; ++i) dir_.Write("burst" + std::to_string(i % 7) + ".yaml", std::to_string(i));
  auto wit = Watch(&witness, {.folder = dir_.path(), .debounce = milliseconds(300)});
  dir_.Write("last.yaml", "x\n");
  ASSERT_TRUE(RunUntil(io_, [&] { return witness >= 1; }));
  EXPECT_GE(count, 1);
  EXPECT_LT(count, 5);
}

TEST_F(DagWatcherTest, PollingDetectsChanges) {
  int count = 0;
  auto w = Watch(&count, {.folder = dir_.path(), .poll_interval = milliseconds(20), .force_poll = true});
  EXPECT_TRUE(w->polling());
  std::string path = dir_.Write("a.yaml", "dag_id: a\n");
  ASSERT_TRUE(RunUntil(io_, [&] { return count >= 1; }));
  count = 0;
  std::ofstream(path, std::ios::app) << "more\n";  // the size changes
  ASSERT_TRUE(RunUntil(io_, [&] { return count >= 1; }));
  count = 0;
  dir_.Write("sub/b.yaml", "b\n");
  ASSERT_TRUE(RunUntil(io_, [&] { return count >= 1; }));
  count = 0;
  fs::remove(path);
  ASSERT_TRUE(RunUntil(io_, [&] { return count >= 1; }));
}

TEST_F(DagWatcherTest, StopStopsNotifications) {
  int count = 0, polled = 0, witness = 0;
  auto w = Watch(&count);
  auto p = Watch(&polled, {.folder = dir_.path(), .poll_interval = milliseconds(20), .force_poll = true});
  w->Stop();
  p->Stop();
  w->Stop();  // idempotent
  auto wit = Watch(&witness, {.folder = dir_.path(), .debounce = milliseconds(300)});
  dir_.Write("a.yaml", "dag_id: a\n");
  ASSERT_TRUE(RunUntil(io_, [&] { return witness >= 1; }));
  EXPECT_EQ(count, 0);
  EXPECT_EQ(polled, 0);
}

TEST_F(DagWatcherTest, DestroyedWhileHandlersPending) {
  int count = 0, witness = 0;
  auto w = Watch(&count);
  auto wit = Watch(&witness, {.folder = dir_.path(), .debounce = milliseconds(300)});
  dir_.Write("a.yaml", "x\n");
  io_.poll();   // the read completes and the debounce timer is armed
  w.reset();    // its handlers are still queued
  ASSERT_TRUE(RunUntil(io_, [&] { return witness >= 1; }));
  EXPECT_EQ(count, 0);
}

TEST_F(DagWatcherTest, MissingFolderIsWatchedOnceItAppears) {
  std::string folder = dir_.path() + "/dags";
  int count = 0;
  auto w = Watch(&count, {.folder = folder, .poll_interval = milliseconds(20)});
  EXPECT_FALSE(w->polling());
  fs::create_directories(folder);
  ASSERT_TRUE(RunUntil(io_, [&] { return count >= 1; }));
  count = 0;
  dir_.Write("dags/a.yaml", "a\n");  // seen through inotify now
  ASSERT_TRUE(RunUntil(io_, [&] { return count >= 1; }));
  // The folder goes away and comes back.
  count = 0;
  fs::remove_all(folder);
  ASSERT_TRUE(RunUntil(io_, [&] { return count >= 1; }));
  count = 0;
  dir_.Write("dags/b.yaml", "b\n");
  ASSERT_TRUE(RunUntil(io_, [&] { return count >= 1; }));
  count = 0;
  dir_.Write("dags/c.yaml", "c\n");
  ASSERT_TRUE(RunUntil(io_, [&] { return count >= 1; }));
}

}  // namespace
}  // namespace dwfs
