#include "wake_listener.h"

#include <spdlog/spdlog.h>

#include <pqxx/pqxx>

#include "store_internal.h"

namespace dwfs {

class WakeListener::Receiver : public pqxx::notification_receiver {
 public:
  Receiver(pqxx::connection& c, WakeListener* owner)
      : pqxx::notification_receiver(c, store_internal::kWakeChannel), owner_(owner) {}
  void operator()(const std::string& payload, int) override { owner_->on_wake_(payload); }

 private:
  WakeListener* owner_;
};

WakeListener::WakeListener(boost::asio::io_context& io, std::string url,
                           std::function<void(const std::string&)> on_wake, spdlog::logger& log)
    : io_(io), url_(std::move(url)), on_wake_(std::move(on_wake)), log_(log), retry_(io) {}

WakeListener::~WakeListener() {
  *alive_ = false;
  retry_.cancel();
  if (socket_) {
    socket_->cancel();
    socket_->release();  // the fd is the connection's
  }
}

Status WakeListener::Start() {
  Status st = Connect();
  if (!st.ok()) Drop(st.message());
  return st;
}

Status WakeListener::Connect() {
  std::unique_ptr<pqxx::connection> conn;
  DWFS_RETURN_IF_ERROR(store_internal::Connect(url_, &conn));
  try {
    auto receiver = std::make_unique<Receiver>(*conn, this);  // sends LISTEN
    auto socket = std::make_unique<boost::asio::posix::stream_descriptor>(io_, conn->sock());
    conn_ = std::move(conn);
    receiver_ = std::move(receiver);
    socket_ = std::move(socket);
  } catch (const std::exception& e) {
    return Status::IOError(std::string("listening for wake-ups: ") + store_internal::OneLine(e.what()));
  }
  if (failing_) log_.info("listening for scheduler wake-ups again");
  failing_ = false;
  Wait();
  return Status::OK();
}

void WakeListener::Wait() {
  std::weak_ptr<bool> alive = alive_;
  socket_->async_wait(boost::asio::posix::stream_descriptor::wait_read,
                      [this, alive](const boost::system::error_code& ec) {
                        if (alive.expired() || !*alive.lock() || ec) return;
                        try {
                          conn_->get_notifs();  // calls the receiver for each
                        } catch (const std::exception& e) {
                          return Drop(store_internal::OneLine(e.what()));
                        }
                        if (!conn_->is_open()) return Drop("connection closed");
                        Wait();
                      });
}

void WakeListener::Drop(const std::string& why) {
  if (!failing_) {
    log_.warn("not listening for scheduler wake-ups ({}); retrying every 5 s (due DAGs are still found at each "
              "heartbeat)",
              store_internal::MaskUrlSecrets(why, url_));
  }
  failing_ = true;
  if (socket_) {
    socket_->cancel();
    socket_->release();
    socket_.reset();
  }
  receiver_.reset();
  conn_.reset();
  retry_.expires_after(std::chrono::seconds(5));
  std::weak_ptr<bool> alive = alive_;
  retry_.async_wait([this, alive](const boost::system::error_code& ec) {
    if (ec || alive.expired() || !*alive.lock()) return;
    Status st = Connect();
    if (!st.ok()) Drop(st.message());
  });
}

}  // namespace dwfs
