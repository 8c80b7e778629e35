// sd_notify: the systemd readiness / watchdog protocol without libsystemd.
//
// A service started with Type=notify gets $NOTIFY_SOCKET, the address of an
// AF_UNIX datagram socket (a file-system path, or an abstract name written
// "@name"), and reports its state as newline-separated VAR=VALUE datagrams:
// "READY=1" once serving, "WATCHDOG=1" at least every half WatchdogSec,
// "STOPPING=1" when shutting down, "STATUS=..." as free text.
//
// Functions here take the environment as a map (tests pass their own; the
// scheduler passes a snapshot of environ), keep no state and are
// thread-safe. They never log: callers decide whether a failure matters
// (systemd tolerates a missed READY only until TimeoutStartSec).
#ifndef DWFS_SD_NOTIFY_H_
#define DWFS_SD_NOTIFY_H_

#include <chrono>
#include <map>
#include <optional>
#include <string>

#include "dwfs/status.h"

namespace dwfs {

// Sends `state` ("READY=1", "WATCHDOG=1", "STOPPING=1", "STATUS=...") to
// $NOTIFY_SOCKET as one datagram. OK and nothing sent when NOTIFY_SOCKET is
// unset or empty. InvalidArgument when the address is not absolute, not
// abstract or too long for sockaddr_un; IOError naming the socket when the
// send fails (e.g. nobody is listening). Never blocks: the socket is
// non-blocking and a full receive queue is an error.
Status SdNotify(const std::map<std::string, std::string>& env, const std::string& state);

// The watchdog period from WATCHDOG_USEC, nullopt when unset, not a
// positive decimal integer, or when WATCHDOG_PID is set and is not this
// process's pid (the variable was inherited from a parent service).
// Callers should ping at half this period.
std::optional<std::chrono::microseconds> WatchdogInterval(
    const std::map<std::string, std::string>& env);

// A snapshot of this process's environment (environ) as a map; later
// entries are ignored on duplicate names, as getenv does. Not thread-safe
// against setenv.
std::map<std::string, std::string> ProcessEnvironment();

}  // namespace dwfs

#endif  // DWFS_SD_NOTIFY_H_
