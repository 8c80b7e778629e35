// Logging: spdlog loggers writing to stderr (journald-friendly), as text or
// as one JSON object per line (logging.format). Loggers are passed to the
// components that log; there is no global logger in the core.
#ifndef DWFS_LOGGING_H_
#define DWFS_LOGGING_H_

#include <spdlog/spdlog.h>

#include <memory>
#include <string>

#include "dwfs/config.h"

namespace dwfs {

// A logger named `name` writing to stderr in the configured format and
// level. `verbose` forces debug level. Thread-safe (spdlog _mt sink).
std::shared_ptr<spdlog::logger> MakeLogger(const Config::Logging& config, const std::string& name,
                                           bool verbose = false);

// A logger writing to an arbitrary sink (tests capture lines this way).
std::shared_ptr<spdlog::logger> MakeLoggerWithSink(const Config::Logging& config, const std::string& name,
                                                   spdlog::sink_ptr sink);

}  // namespace dwfs

#endif  // DWFS_LOGGING_H_
