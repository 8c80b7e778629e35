// DagWatcher: tells the scheduler when the dags folder changed, so that it
// re-parses promptly instead of waiting for the next processing interval.
//
// on_change is called (on the io_context thread) after files were created,
// changed (closed after writing), moved or deleted anywhere under the folder,
// subfolders included; new subfolders are watched as they appear and
// symlinked folders are followed, as the DAG loader does. Events arriving
// within `debounce` of the first one are coalesced into one call, so a burst
// of writes (a git checkout, an rsync) gives one re-parse, not hundreds. The
// watcher says only "something changed": the caller re-scans the folder.
//
// Mechanism: inotify (a non-blocking, close-on-exec fd on the io_context).
// IN_Q_OVERFLOW (events were lost) notifies and re-walks the tree; folders
// moved or deleted are re-walked too, so watches always match the tree.
// When inotify is unavailable (inotify_init1 fails, or the per-user watch
// limit is reached) or `force_poll` is set, it polls instead: every
// `poll_interval` it walks the tree and compares a signature of (paths,
// types, sizes, mtimes), logging one warning when falling back. When the
// folder does not exist (yet, or any more), it checks every `poll_interval`
// and notifies once it appears.
//
// Errors: a folder that cannot be read is not an error (it may appear
// later); unreadable subfolders are skipped. Start fails only when already
// started. Nothing here throws.
//
// Thread safety: every method must be called on the io_context thread.
// Lifetime: after Stop() (or destruction) on_change is never called again;
// handlers still queued on the io_context hold only internal state, so the
// watcher may be destroyed while the io_context keeps running.
#ifndef DWFS_DAG_WATCHER_H_
#define DWFS_DAG_WATCHER_H_

#include <boost/asio/io_context.hpp>
#include <spdlog/logger.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "dwfs/status.h"

namespace dwfs {

struct DagWatcherOptions {
  // The dags folder (may not exist yet: then it is checked every
  // poll_interval until it does).
  std::string folder;
  // Events within this window after the first are coalesced into one call.
  std::chrono::milliseconds debounce{100};
  // Polling period when inotify is unavailable, and the period of the check
  // for a missing folder (core.dag_file_processing_interval).
  std::chrono::milliseconds poll_interval{30000};
  // Tests: poll even when inotify works.
  bool force_poll = false;
};

class DagWatcher {
 public:
  // `log` may be null (then nothing is logged); it must outlive the watcher.
  DagWatcher(boost::asio::io_context& io, DagWatcherOptions options,
             std::function<void()> on_change, spdlog::logger* log);
  // Stops watching; see Lifetime above.
  ~DagWatcher();
  DagWatcher(const DagWatcher&) = delete;
  DagWatcher& operator=(const DagWatcher&) = delete;

  // Starts watching. The current contents of the folder are the baseline:
  // Start itself never calls on_change. FailedPrecondition when already
  // started or stopped.
  Status Start();
  // Stops watching and cancels pending notifications. Idempotent.
  void Stop();
  // Whether the watcher polls (forced, or inotify unavailable).
  bool polling() const;

 private:
  class Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace dwfs

#endif  // DWFS_DAG_WATCHER_H_
