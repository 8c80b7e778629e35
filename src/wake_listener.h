// WakeListener: hears the schedulers' wake-ups (PostgreSQL LISTEN on the
// channel that Store::CreateRun, an unpause and a clear notify on commit),
// so a `dwfs dags trigger` from another process starts its run at once
// instead of at the next heartbeat.
//
// Its own connection, watched on the io_context (no thread, no polling).
// When the connection fails it logs once and reconnects every 5 s; wake-ups
// missed meanwhile are not lost work, only late: the scheduler's heartbeat
// loop finds due DAGs anyway.
//
// Thread safety: io_context thread only.
#ifndef DWFS_WAKE_LISTENER_H_
#define DWFS_WAKE_LISTENER_H_

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <pqxx/connection>

#include <functional>
#include <memory>
#include <string>

#include "dwfs/status.h"

namespace spdlog {
class logger;
}

namespace dwfs {

class WakeListener {
 public:
  // `on_wake` gets the dag_id of each notification. `log` must outlive this.
  WakeListener(boost::asio::io_context& io, std::string url, std::function<void(const std::string&)> on_wake,
               spdlog::logger& log);
  ~WakeListener();

  // Connects and listens. On failure the error is returned and retried
  // in the background.
  Status Start();

 private:
  class Receiver;
  Status Connect();
  void Wait();
  void Drop(const std::string& why);

  boost::asio::io_context& io_;
  std::string url_;
  std::function<void(const std::string&)> on_wake_;
  spdlog::logger& log_;
  boost::asio::steady_timer retry_;
  std::unique_ptr<pqxx::connection> conn_;
  std::unique_ptr<Receiver> receiver_;
  std::unique_ptr<boost::asio::posix::stream_descriptor> socket_;  // borrows conn_'s fd
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  bool failing_ = false;
};

}  // namespace dwfs

#endif  // DWFS_WAKE_LISTENER_H_
