// The API server as `dwfs api-server` and `dwfs standalone` run it
// (src/cli_api.cc).
#ifndef DWFS_API_THREAD_H_
#define DWFS_API_THREAD_H_

#include <boost/asio/io_context.hpp>

#include <thread>

#include "dwfs/api_server.h"
#include "dwfs/config.h"

namespace dwfs {

// The API server's options from the configuration's api section.
ApiServerOptions ApiOptionsFromConfig(const Config& config);

// An ApiServer with an io_context and a thread of its own (standalone).
// Start() binds (its error when that fails) and starts the thread; Stop()
// (and destruction) stops the server and joins. Not thread-safe.
class ApiThread {
 public:
  ApiThread(ApiServerOptions options, const Clock& clock, spdlog::logger& log);
  ~ApiThread();
  ApiThread(const ApiThread&) = delete;
  ApiThread& operator=(const ApiThread&) = delete;
  Status Start();
  void Stop();
  uint16_t port() const { return server_.port(); }

 private:
  boost::asio::io_context io_;
  ApiServer server_;
  std::thread thread_;
};

}  // namespace dwfs

#endif  // DWFS_API_THREAD_H_
