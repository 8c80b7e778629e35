// LocalCluster: the private PostgreSQL cluster of `dwfs standalone`, kept
// under DWFS_HOME and driven with the installed server binaries (initdb,
// pg_ctl) as child processes.
//
// Layout (HOME = DWFS_HOME, absolute):
//   HOME/pgdata          the data directory (mode 0700), server log
//                        HOME/pgdata/server.log, dwfs's settings in
//                        HOME/pgdata/dwfs.conf (rewritten at each Init,
//                        included from postgresql.conf)
//   HOME/run             the Unix socket directory (mode 0700):
//                        HOME/run/.s.PGSQL.<port>
//   HOME/pgdata.lock     held (flock) by the one LocalCluster using HOME
//
// The server listens on no TCP address (listen_addresses = ''), only on the
// socket. pg_hba trusts local (socket) connections and rejects host ones;
// the socket directory and the socket are reachable only by the user that
// runs the server (and root), so "trust" admits exactly that user. The
// superuser role is `postgres` whoever runs the server.
//
// Who runs the server: as root, the `postgres` system user (PostgreSQL
// refuses root) through `runuser -u postgres --`; pgdata and run are chowned
// to it, and every directory from / to HOME must be searchable by it.
// Nothing outside HOME is changed: when an ancestor is not searchable
// (e.g. /root, mode 0700), Init fails before creating anything, with one
// line naming it and what to do. Missing directories of HOME are created
// with mode 0755. As any other user, the server runs as that user.
//
// Contracts:
// - Init() takes HOME's lock (FailedPrecondition naming the holder's pid when
//   another LocalCluster, in any process, holds it), creates what is missing,
//   and runs initdb only when HOME/pgdata has no PG_VERSION: an existing
//   cluster is reused, never initialized again.
// - Start() starts the server (pg_ctl start -w; a stale postmaster.pid left
//   by a kill -9 is handled by PostgreSQL) or, when a server is already
//   running on HOME/pgdata (left by a standalone that was killed: it cannot be
//   a live one, which would hold the lock), adopts it. Either way this object
//   then owns the server and stops it.
// - Stop() stops a server this object owns (pg_ctl stop -m fast -w, then -m
//   immediate if that fails) and releases the lock; a no-op otherwise. It
//   returns once pg_ctl saw the server remove postmaster.pid (its processes
//   end moments later). The
//   destructor calls it (errors logged), so the server is stopped on every
//   exit path of its owner.
// - Errors are one line naming the directory and the failing command with
//   the tail of its output (or of the server log).
// - Child processes get an argument vector (no shell of ours), cwd /, the
//   given environment without PG* variables and systemd's NOTIFY_SOCKET,
//   WATCHDOG_* and LISTEN_* (they are dwfs's), and their own session: a
//   terminal's Ctrl-C reaches dwfs, not the server, so dwfs decides when the
//   server stops.
// Not thread-safe; one object per HOME.
#ifndef DWFS_LOCAL_CLUSTER_H_
#define DWFS_LOCAL_CLUSTER_H_

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

#include "dwfs/status.h"

namespace spdlog {
class logger;
}

namespace dwfs {

struct LocalClusterOptions {
  // DWFS_HOME, absolute. May contain neither control characters nor any of
  // " ' \ $ ` , (they would need quoting in PostgreSQL's settings and in
  // pg_ctl's own shell command), and HOME/run/.s.PGSQL.<port> must fit a Unix
  // socket path (107 bytes).
  std::string home;
  // The environment: PG_BINDIR, then PATH, locate the server binaries
  // (else the newest /usr/lib/postgresql/*/bin); children get it too.
  std::map<std::string, std::string> env;
  // Names the socket file; the server opens no TCP port.
  int port = 5432;
};

// The directory holding initdb, pg_ctl and postgres: $PG_BINDIR if set (and
// complete), else the directory of the initdb found on PATH (symlinks
// resolved) when pg_ctl and postgres sit next to it, else the newest
// /usr/lib/postgresql/<version>/bin. NotFound with what to install
// otherwise.
Status FindPostgresBinDir(const std::map<std::string, std::string>& env, std::string* dir);

class LocalCluster {
 public:
  // `log` may be null; it must outlive this object.
  LocalCluster(LocalClusterOptions options, spdlog::logger* log);
  ~LocalCluster();
  LocalCluster(const LocalCluster&) = delete;
  LocalCluster& operator=(const LocalCluster&) = delete;

  // Locks HOME, finds the binaries and the user to run them as, creates
  // HOME, HOME/run and HOME/pgdata as needed (with ownership and modes),
  // checks that the server's user can reach them, runs initdb when there is
  // no cluster yet, and writes HOME/pgdata/dwfs.conf.
  Status Init();
  // Starts (or adopts) the server. Needs a successful Init().
  Status Start();
  // Creates database `name` (an identifier: letters, digits, _) when missing.
  // Needs a started server.
  Status EnsureDatabase(const std::string& name);
  // Stops an owned server and releases the lock (see the contracts above).
  Status Stop();

  // libpq URL of database `db` on this cluster, over the socket:
  // postgresql://postgres@/DB?host=HOME/run&port=PORT (no password).
  std::string Url(const std::string& db) const;

  const std::string& home() const { return options_.home; }
  std::string data_dir() const { return options_.home + "/pgdata"; }
  std::string socket_dir() const { return options_.home + "/run"; }
  std::string server_log() const { return data_dir() + "/server.log"; }
  std::string lock_file() const { return options_.home + "/pgdata.lock"; }
  // The OS user running the server (known after Init).
  const std::string& server_user() const { return user_; }
  // The server binaries' directory and major version (known after Init).
  const std::string& bin_dir() const { return bindir_; }
  const std::string& server_version() const { return version_; }
  // Whether Init ran initdb (false: an existing cluster was reused).
  bool initialized_now() const { return initialized_now_; }
  // Whether Start found the server running and adopted it.
  bool adopted() const { return adopted_; }
  // Whether this object owns a running server.
  bool running() const { return running_; }

 private:
  struct Result;
  // Runs the server binary `prog` of bindir_ (as server_user_ through
  // runuser when root) with `args`.
  Status RunServerTool(const std::string& prog, const std::vector<std::string>& args, Result* out);
  Status CheckReachable();
  Status WriteSettings();
  Status Chown(const std::string& path);
  void Unlock();
  // pg_ctl status: true when a server runs on data_dir().
  Status ServerRunning(bool* running);
  void Log(int level, const std::string& msg);

  LocalClusterOptions options_;
  spdlog::logger* log_;
  std::map<std::string, std::string> child_env_;
  std::string bindir_;
  std::string version_;
  std::string user_;
  std::string runuser_;  // runuser's path when the server runs as another user
  uid_t uid_ = 0;
  gid_t gid_ = 0;
  int lock_fd_ = -1;
  bool initialized_ = false;
  bool initialized_now_ = false;
  bool adopted_ = false;
  bool running_ = false;
};

}  // namespace dwfs

#endif  // DWFS_LOCAL_CLUSTER_H_
