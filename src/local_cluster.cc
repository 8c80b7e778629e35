// LocalCluster: see include/dwfs/local_cluster.h for the layout and the
// contracts. This file holds the child-process runner, the file system
// steps and the pg_ctl/initdb calls.
#include "dwfs/local_cluster.h"

#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pqxx/pqxx>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "dwfs/subprocess.h"

namespace dwfs {

namespace fs = std::filesystem;

namespace {

constexpr const char* kSuperuser = "postgres";
constexpr const char* kSettingsFile = "dwfs.conf";
constexpr const char* kIncludeLine = "include_if_exists = 'dwfs.conf'  # dwfs standalone's settings";
// sizeof(sockaddr_un::sun_path) - 1.
constexpr size_t kMaxSocketPath = 107;
constexpr size_t kMaxOutput = 64 * 1024;

bool IsExecutable(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

std::string Get(const std::map<std::string, std::string>& env, const std::string& key) {
  auto it = env.find(key);
  return it == env.end() ? std::string() : it->second;
}

std::vector<std::string> SplitPath(const std::string& path) {
  std::vector<std::string> dirs;
  std::stringstream ss(path);
  std::string d;
  while (std::getline(ss, d, ':')) {
    if (!d.empty()) dirs.push_back(d);
  }
  return dirs;
}

// The first executable `name` in `dirs`, or "".
std::string FindProgram(const std::string& name, const std::vector<std::string>& dirs) {
  for (const std::string& d : dirs) {
    if (IsExecutable(d + "/" + name)) return d + "/" + name;
  }
  return "";
}

bool CompleteBinDir(const std::string& dir) {
  return IsExecutable(dir + "/initdb") && IsExecutable(dir + "/pg_ctl") && IsExecutable(dir + "/postgres");
}

// The last `n` non-empty lines of `text`, joined with " | " (one line).
std::string Tail(const std::string& text, size_t n = 3) {
  std::vector<std::string> lines;
  std::stringstream ss(text);
  std::string l;
  while (std::getline(ss, l)) {
    while (!l.empty() && (l.back() == '\r' || l.back() == ' ' || l.back() == '\t')) l.pop_back();
    if (!l.empty()) lines.push_back(l);
  }
  std::string out;
  for (size_t i = lines.size() > n ? lines.size() - n : 0; i < lines.size(); ++i) {
    out += (out.empty() ? "" : " | ") + lines[i];
  }
  if (out.size() > 600) out = "..." + out.substr(out.size() - 600);
  return out.empty() ? "(no output)" : out;
}

std::string ReadTail(const std::string& path, size_t bytes = 8192) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  in.seekg(0, std::ios::end);
  std::streamoff size = in.tellg();
  in.seekg(size > std::streamoff(bytes) ? size - std::streamoff(bytes) : 0);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  size_t i = 0;
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  return s.substr(i);
}

std::string ReadSmallFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Percent-encodes a URL query value, keeping '/' readable.
std::string EncodeQueryValue(const std::string& v) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : v) {
    auto b = static_cast<unsigned char>(c);
    if (std::isalnum(b) || c == '-' || c == '.' || c == '_' || c == '~' || c == '/') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[b >> 4]);
      out.push_back(kHex[b & 15]);
    }
  }
  return out;
}

Status Errno(const std::string& what) { return Status::IOError(what + ": " + std::strerror(errno)); }

// Creates `dir` and its missing parents with mode 0755 (whatever the umask:
// a directory created here must not keep the server's user out).
Status MakeDirs(const std::string& dir) {
  fs::path p(dir);
  fs::path cur;
  for (const fs::path& part : p) {
    cur /= part;
    struct stat st {};
    if (::stat(cur.c_str(), &st) == 0) {
      if (!S_ISDIR(st.st_mode)) return Status::IOError(cur.string() + " exists and is not a directory");
      continue;
    }
    if (::mkdir(cur.c_str(), 0755) != 0 && errno != EEXIST) return Errno("cannot create " + cur.string());
    if (::chmod(cur.c_str(), 0755) != 0) return Errno("cannot chmod " + cur.string());
  }
  return Status::OK();
}

// What a finished child did.
struct ChildResult {
  int exit_status = -1;  // -1 when killed by a signal
  int term_signal = 0;
  std::string output;  // stdout and stderr, interleaved as read; the last 64 KiB
};

// Runs argv (argv[0] an absolute path) to completion, collecting its output.
// Fails only when it cannot be started or outlives `timeout` (then its
// process group is killed).
Status RunChild(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
                std::chrono::seconds timeout, ChildResult* r) {
  SpawnOptions so;
  so.argv = argv;
  so.env = env;
  so.cwd = "/";
  Subprocess p;
  DWFS_RETURN_IF_ERROR(Subprocess::Spawn(so, &p));
  int fds[2] = {p.stdout_fd(), p.stderr_fd()};
  bool open[2] = {true, true};
  auto drain = [&] {
    char buf[4096];
    for (int i = 0; i < 2; ++i) {
      while (open[i]) {
        ssize_t n = ::read(fds[i], buf, sizeof buf);
        if (n > 0) {
          r->output.append(buf, size_t(n));
          if (r->output.size() > 2 * kMaxOutput) r->output.erase(0, r->output.size() - kMaxOutput);
          continue;
        }
        if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) open[i] = false;
        if (n < 0 && errno == EINTR) continue;
        break;
      }
    }
  };
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!p.TryReap()) {
    if (std::chrono::steady_clock::now() > deadline) {
      p.SignalGroup(SIGKILL);
      while (!p.TryReap()) ::poll(nullptr, 0, 10);
      return Status::IOError(argv[0] + " did not finish within " + std::to_string(timeout.count()) + " s");
    }
    pollfd pfds[3];
    nfds_t n = 0;
    for (int i = 0; i < 2; ++i) {
      if (open[i]) pfds[n++] = {fds[i], POLLIN, 0};
    }
    // Without a pidfd (old kernels) the exit is polled for.
    int wait_ms = 20;
    if (p.exit_fd() >= 0) {
      pfds[n++] = {p.exit_fd(), POLLIN, 0};
      wait_ms = 1000;
    }
    if (::poll(pfds, n, wait_ms) < 0 && errno != EINTR) return Errno("poll");
    drain();
  }
  // What is left in the pipes; a grandchild that kept them open is not
  // waited for.
  drain();
  if (r->output.size() > kMaxOutput) r->output.erase(0, r->output.size() - kMaxOutput);
  r->exit_status = p.exit_status();
  r->term_signal = p.term_signal();
  return Status::OK();
}

std::string DescribeExit(const ChildResult& r) {
  if (r.term_signal) return "killed by signal " + std::to_string(r.term_signal);
  return "exit status " + std::to_string(r.exit_status);
}

}  // namespace

Status FindPostgresBinDir(const std::map<std::string, std::string>& env, std::string* dir) {
  if (std::string d = Get(env, "PG_BINDIR"); !d.empty()) {
    if (!CompleteBinDir(d)) return Status::NotFound("PG_BINDIR=" + d + " does not hold initdb, pg_ctl and postgres");
    *dir = d;
    return Status::OK();
  }
  std::string initdb = FindProgram("initdb", SplitPath(Get(env, "PATH")));
  if (!initdb.empty()) {
    std::error_code ec;
    fs::path real = fs::canonical(initdb, ec);
    if (!ec && CompleteBinDir(real.parent_path().string())) {
      *dir = real.parent_path().string();
      return Status::OK();
    }
  }
  // Debian and Ubuntu keep the server binaries off PATH.
  std::string best;
  long best_version = -1;
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    std::string name = e.path().filename().string();
    char* end = nullptr;
    long v = std::strtol(name.c_str(), &end, 10);
    if (end == name.c_str()) continue;
    std::string bin = e.path().string() + "/bin";
    if (v > best_version && CompleteBinDir(bin)) {
      best_version = v;
      best = bin;
    }
  }
  if (best.empty()) {
    return Status::NotFound(
        "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found in PG_BINDIR, on PATH or in "
        "/usr/lib/postgresql/*/bin: install PostgreSQL (scripts/install-deps), or set database.url");
  }
  *dir = best;
  return Status::OK();
}

struct LocalCluster::Result : ChildResult {};

LocalCluster::LocalCluster(LocalClusterOptions options, spdlog::logger* log)
    : options_(std::move(options)), log_(log) {
  static const char* const kNotForTheServer[] = {"NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID",
                                                 "LISTEN_FDS",    "LISTEN_PID",    "LISTEN_FDNAMES"};
  for (const auto& [k, v] : options_.env) {
    // PGDATA, PGPORT, PGHOST, ... must not redirect the server's tools, and
    // systemd's notification socket is dwfs's, not the server's (a postgres
    // built with systemd support would send READY=1 on it).
    if (k.rfind("PG", 0) == 0) continue;
    if (std::find(std::begin(kNotForTheServer), std::end(kNotForTheServer), k) != std::end(kNotForTheServer)) continue;
    child_env_[k] = v;
  }
  if (child_env_.find("PATH") == child_env_.end()) child_env_["PATH"] = "/usr/local/bin:/usr/bin:/bin";
}

LocalCluster::~LocalCluster() {
  Status st = Stop();
  if (!st.ok()) Log(SPDLOG_LEVEL_ERROR, st.message());
}

void LocalCluster::Log(int level, const std::string& msg) {
  if (log_) log_->log(static_cast<spdlog::level::level_enum>(level), msg);
}

Status LocalCluster::RunServerTool(const std::string& prog, const std::vector<std::string>& args, Result* out) {
  std::vector<std::string> argv;
  if (!runuser_.empty()) argv = {runuser_, "-u", user_, "--"};
  argv.push_back(prog.find('/') == std::string::npos ? bindir_ + "/" + prog : prog);
  argv.insert(argv.end(), args.begin(), args.end());
  *out = Result();
  return RunChild(argv, child_env_, std::chrono::seconds(300), out);
}

Status LocalCluster::Chown(const std::string& path) {
  if (runuser_.empty()) return Status::OK();
  if (::chown(path.c_str(), uid_, gid_) != 0) return Errno("cannot give " + path + " to user " + user_);
  return Status::OK();
}

void LocalCluster::Unlock() {
  if (lock_fd_ >= 0) {
    ::close(lock_fd_);  // releases the flock
    lock_fd_ = -1;
  }
  initialized_ = false;
}

Status LocalCluster::Init() {
  const std::string& home = options_.home;
  if (lock_fd_ >= 0) return Status::FailedPrecondition("the cluster in " + data_dir() + " is initialized already");
  initialized_now_ = false;
  adopted_ = false;
  if (home.empty() || home[0] != '/') {
    return Status::InvalidArgument("DWFS_HOME must be an absolute path, got '" + home + "'");
  }
  for (char c : home) {
    auto b = static_cast<unsigned char>(c);
    if (b < 0x20 || b == 0x7f || std::strchr("\"'\\$`,", c)) {
      return Status::InvalidArgument("DWFS_HOME " + home +
                                     " contains a character the private PostgreSQL cluster cannot use (one of \" ' \\ "
                                     "$ ` , or a control character): choose another DWFS_HOME, or set database.url");
    }
  }
  std::string socket = socket_dir() + "/.s.PGSQL." + std::to_string(options_.port);
  if (socket.size() > kMaxSocketPath) {
    return Status::InvalidArgument("DWFS_HOME " + home + " is too long for the private cluster's Unix socket (" +
                                   socket + " is " + std::to_string(socket.size()) + " bytes, at most " +
                                   std::to_string(kMaxSocketPath) +
                                   "): use a shorter DWFS_HOME, or set database.url to an existing database");
  }

  DWFS_RETURN_IF_ERROR(FindPostgresBinDir(options_.env, &bindir_));
  if (::geteuid() == 0) {
    struct passwd* pw = ::getpwnam(kSuperuser);
    if (!pw) {
      return Status::FailedPrecondition(
          "running as root, but there is no postgres user to run the private PostgreSQL cluster as (PostgreSQL "
          "refuses root): install PostgreSQL's server package, run dwfs standalone as another user, or set "
          "database.url");
    }
    user_ = pw->pw_name;
    uid_ = pw->pw_uid;
    gid_ = pw->pw_gid;
    std::vector<std::string> dirs = SplitPath(Get(child_env_, "PATH"));
    dirs.insert(dirs.end(), {"/usr/sbin", "/sbin", "/usr/bin", "/bin"});
    runuser_ = FindProgram("runuser", dirs);
    if (runuser_.empty()) {
      return Status::FailedPrecondition(
          "running as root, but runuser (util-linux) is not installed: it is needed to run the private PostgreSQL "
          "cluster as the postgres user");
    }
  } else {
    struct passwd* pw = ::getpwuid(::geteuid());
    user_ = pw ? pw->pw_name : std::to_string(::geteuid());
    uid_ = ::geteuid();
    gid_ = ::getegid();
    runuser_.clear();
  }

  // Before creating anything: HOME must be reachable by the server's user.
  DWFS_RETURN_IF_ERROR(CheckReachable());
  // The lock next: nothing below may race with another standalone.
  DWFS_RETURN_IF_ERROR(MakeDirs(home));
  int fd = ::open(lock_file().c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("cannot open " + lock_file());
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int e = errno;
    std::string holder = Trim(ReadSmallFile(lock_file()));
    ::close(fd);
    if (e != EWOULDBLOCK) return Status::IOError("cannot lock " + lock_file() + ": " + std::strerror(e));
    return Status::FailedPrecondition("another dwfs standalone" + (holder.empty() ? "" : " (pid " + holder + ")") +
                                      " is using the PostgreSQL cluster in " + data_dir() +
                                      ": stop it first, or use another DWFS_HOME");
  }
  lock_fd_ = fd;
  std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) != ssize_t(pid.size())) {
    Unlock();
    return Errno("cannot write " + lock_file());
  }
  Status st = [&]() -> Status {
    Result r;
    DWFS_RETURN_IF_ERROR(RunChild({bindir_ + "/pg_ctl", "--version"}, child_env_, std::chrono::seconds(60), &r));
    // "pg_ctl (PostgreSQL) 15.14 (Debian ...)": the major version.
    size_t paren = r.output.find(") ");
    if (r.exit_status != 0 || paren == std::string::npos) {
      return Status::IOError(bindir_ + "/pg_ctl --version failed (" + DescribeExit(r) + "): " + Tail(r.output));
    }
    version_ = r.output.substr(paren + 2);
    version_ = version_.substr(0, version_.find_first_not_of("0123456789"));

    // The socket directory: the server's, private.
    std::string run = socket_dir();
    if (::mkdir(run.c_str(), 0700) != 0 && errno != EEXIST) return Errno("cannot create " + run);
    DWFS_RETURN_IF_ERROR(Chown(run));
    if (::chmod(run.c_str(), 0700) != 0) return Errno("cannot chmod " + run);

    // The data directory: reused when it holds a cluster.
    std::string data = data_dir();
    std::string pg_version = data + "/PG_VERSION";
    struct stat dst {};
    bool exists = ::stat(data.c_str(), &dst) == 0;
    bool has_cluster = exists && ::access(pg_version.c_str(), F_OK) == 0;
    if (exists && !S_ISDIR(dst.st_mode)) return Status::IOError(data + " exists and is not a directory");
    // Someone else's cluster is not taken over (as root, an empty folder is
    // given to the server's user).
    if (exists && dst.st_uid != uid_ && (has_cluster || runuser_.empty())) {
      struct passwd* owner = ::getpwuid(dst.st_uid);
      return Status::FailedPrecondition(
          data + " belongs to " + (owner ? std::string(owner->pw_name) : "uid " + std::to_string(dst.st_uid)) +
          ", but the server would run as " + user_ + ": run dwfs standalone as that user, chown -R " + user_ + ": " +
          data + ", or use another DWFS_HOME");
    }
    if (has_cluster) {
      std::string made_by = Trim(ReadSmallFile(pg_version));
      if (!made_by.empty() && made_by != version_) {
        return Status::FailedPrecondition(data + " holds a PostgreSQL " + made_by + " cluster, but the server in " +
                                          bindir_ + " is PostgreSQL " + version_ + ": set PG_BINDIR to PostgreSQL " +
                                          made_by + "'s bin directory, upgrade the cluster (pg_upgrade), or move " +
                                          data + " away");
      }
    } else if (exists) {
      std::error_code ec;
      if (!fs::is_empty(data, ec)) {
        return Status::FailedPrecondition(data + " exists but holds no PostgreSQL cluster (no PG_VERSION; an "
                                                 "interrupted initdb?): remove it, or use another DWFS_HOME");
      }
    } else if (::mkdir(data.c_str(), 0700) != 0) {
      return Errno("cannot create " + data);
    }
    if (!has_cluster) {
      DWFS_RETURN_IF_ERROR(Chown(data));
      if (::chmod(data.c_str(), 0700) != 0) return Errno("cannot chmod " + data);
    }

    if (!has_cluster) {
      Log(SPDLOG_LEVEL_INFO,
          "creating a PostgreSQL " + version_ + " cluster in " + data + " (initdb, as " + user_ + ")");
      Result r2;
      // Trust over the socket only (its folder admits only the server's
      // user); TCP connections, were any enabled, would be rejected.
      std::vector<std::string> args = {"-D", data, "-U", kSuperuser, "--auth-local=trust", "--auth-host=reject",
                                       "-E", "UTF8", "--locale=C"};
      DWFS_RETURN_IF_ERROR(RunServerTool("initdb", args, &r2));
      if (r2.exit_status != 0) {
        return Status::IOError("initdb -D " + data + " (as " + user_ + ") failed (" + DescribeExit(r2) +
                               "): " + Tail(r2.output));
      }
      initialized_now_ = true;
    }
    return WriteSettings();
  }();
  if (!st.ok()) {
    Unlock();
    return st;
  }
  initialized_ = true;
  return Status::OK();
}

Status LocalCluster::CheckReachable() {
  if (runuser_.empty()) return Status::OK();
  std::vector<std::string> dirs = SplitPath(Get(child_env_, "PATH"));
  dirs.insert(dirs.end(), {"/usr/bin", "/bin"});
  std::string test = FindProgram("test", dirs);
  if (test.empty()) return Status::OK();  // cannot check; initdb or pg_ctl will say
  // The directories from / to HOME that exist (the missing ones are created
  // with mode 0755).
  std::vector<fs::path> chain = {"/"};
  fs::path cur = "/";
  for (const fs::path& part : fs::path(options_.home).relative_path()) {
    cur /= part;
    std::error_code ec;
    if (!fs::is_directory(cur, ec)) break;
    chain.push_back(cur);
  }
  Result r;
  DWFS_RETURN_IF_ERROR(RunServerTool(test, {"-x", chain.back().string()}, &r));
  if (r.exit_status == 0) return Status::OK();
  // The first one on the way that the server's user cannot enter.
  for (const fs::path& d : chain) {
    Result t;
    DWFS_RETURN_IF_ERROR(RunServerTool(test, {"-x", d.string()}, &t));
    if (t.exit_status == 0) continue;
    struct stat st {};
    std::string mode;
    if (::stat(d.c_str(), &st) == 0) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "%04o", unsigned(st.st_mode & 07777));
      mode = std::string(" (mode ") + buf + ")";
    }
    return Status::FailedPrecondition(
        "the private PostgreSQL cluster runs as " + user_ + ", who cannot enter " + d.string() + mode +
        " on the way to " + options_.home + ": use a DWFS_HOME it can reach (e.g. under /var/lib or /tmp), or " +
        "allow it to search " + d.string() + " (setfacl -m u:" + user_ + ":x " + d.string() + ", or chmod o+x " +
        d.string() + "), or set database.url; dwfs changes nothing outside DWFS_HOME");
  }
  return Status::OK();
}

Status LocalCluster::WriteSettings() {
  std::string path = data_dir() + "/" + kSettingsFile;
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << "# Written by dwfs standalone at each start (include/dwfs/local_cluster.h); edits are overwritten.\n"
        << "# No TCP: clients connect over the Unix socket in " << socket_dir() << ".\n"
        << "listen_addresses = ''\n"
        << "port = " << options_.port << "\n"
        << "unix_socket_directories = '\"" << socket_dir() << "\"'\n"
        << "unix_socket_permissions = 0700\n";
    if (!out.flush()) return Status::IOError("cannot write " + tmp);
  }
  DWFS_RETURN_IF_ERROR(Chown(tmp));
  ::chmod(tmp.c_str(), 0600);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return Errno("cannot write " + path);
  std::string conf = data_dir() + "/postgresql.conf";
  std::string text = ReadSmallFile(conf);
  if (text.empty()) return Status::IOError(conf + " is missing or empty: " + data_dir() + " is not a usable cluster");
  if (text.find(kIncludeLine) == std::string::npos) {
    std::ofstream out(conf, std::ios::binary | std::ios::app);
    out << (text.back() == '\n' ? "" : "\n") << kIncludeLine << "\n";
    if (!out.flush()) return Status::IOError("cannot append to " + conf);
  }
  return Status::OK();
}

Status LocalCluster::ServerRunning(bool* running) {
  Result r;
  DWFS_RETURN_IF_ERROR(RunServerTool("pg_ctl", {"status", "-D", data_dir()}, &r));
  // 0: running; 3: not running; 4: no accessible data directory.
  if (r.exit_status == 0 || r.exit_status == 3) {
    *running = r.exit_status == 0;
    return Status::OK();
  }
  return Status::IOError("pg_ctl status -D " + data_dir() + " failed (" + DescribeExit(r) + "): " + Tail(r.output));
}

Status LocalCluster::Start() {
  if (!initialized_) return Status::FailedPrecondition("LocalCluster::Start before a successful Init");
  if (running_) return Status::OK();
  bool up = false;
  DWFS_RETURN_IF_ERROR(ServerRunning(&up));
  if (up) {
    std::string pid = ReadSmallFile(data_dir() + "/postmaster.pid");
    pid = pid.substr(0, pid.find('\n'));
    Log(SPDLOG_LEVEL_WARN, "a PostgreSQL server (pid " + pid + ") is already running on " + data_dir() +
                               ", left by a dwfs standalone that did not stop it: using it, and stopping it at exit");
    adopted_ = true;
    running_ = true;
    return Status::OK();
  }
  Log(SPDLOG_LEVEL_INFO, "starting PostgreSQL " + version_ + " on " + data_dir() + " (socket in " + socket_dir() +
                             ", log " + server_log() + ")");
  Result r;
  DWFS_RETURN_IF_ERROR(
      RunServerTool("pg_ctl", {"start", "-D", data_dir(), "-l", server_log(), "-w", "-t", "120"}, &r));
  if (r.exit_status != 0) {
    std::string log = Tail(ReadTail(server_log()));
    // A half-started server must not be left behind.
    Result ignored;
    RunServerTool("pg_ctl", {"stop", "-D", data_dir(), "-m", "immediate"}, &ignored);
    return Status::IOError("pg_ctl start -D " + data_dir() + " (as " + user_ + ") failed (" + DescribeExit(r) +
                           "): " + Tail(r.output, 2) + "; server log " + server_log() + ": " + log);
  }
  running_ = true;
  return Status::OK();
}

Status LocalCluster::EnsureDatabase(const std::string& name) {
  bool ident = !name.empty() && !std::isdigit(static_cast<unsigned char>(name[0])) &&
               std::all_of(name.begin(), name.end(), [](char c) {
                 return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
               });
  if (!ident) return Status::InvalidArgument("invalid database name '" + name + "'");
  if (!running_) return Status::FailedPrecondition("the cluster in " + data_dir() + " is not running");
  try {
    pqxx::connection conn(Url("postgres") + "&connect_timeout=30");
    pqxx::nontransaction tx(conn);
    if (tx.exec_params("SELECT 1 FROM pg_database WHERE datname = $1", name).empty()) {
      try {
        tx.exec("CREATE DATABASE " + tx.quote_name(name));
        Log(SPDLOG_LEVEL_INFO, "created database " + name + " in " + data_dir());
      } catch (const pqxx::sql_error& e) {
        if (e.sqlstate() != "42P04") throw;  // duplicate_database: created meanwhile
      }
    }
  } catch (const std::exception& e) {
    std::string what = e.what();
    return Status::IOError("cannot create database " + name + " in the cluster " + data_dir() + ": " +
                           Tail(what, 2));
  }
  return Status::OK();
}

Status LocalCluster::Stop() {
  if (!running_) {
    Unlock();
    return Status::OK();
  }
  Log(SPDLOG_LEVEL_INFO, "stopping PostgreSQL on " + data_dir());
  Result r;
  Status st = RunServerTool("pg_ctl", {"stop", "-D", data_dir(), "-m", "fast", "-w", "-t", "120"}, &r);
  Status result;
  if (!st.ok() || r.exit_status != 0) {
    bool up = true;
    if (ServerRunning(&up).ok() && !up) {
      Log(SPDLOG_LEVEL_WARN, "PostgreSQL on " + data_dir() + " had stopped already");
    } else {
      Result r2;
      Status st2 = RunServerTool("pg_ctl", {"stop", "-D", data_dir(), "-m", "immediate", "-w", "-t", "60"}, &r2);
      std::string first = st.ok() ? DescribeExit(r) + ": " + Tail(r.output) : st.message();
      if (!st2.ok() || r2.exit_status != 0) {
        result = Status::IOError("pg_ctl stop -D " + data_dir() + " (as " + user_ + ") failed (" + first +
                                 "); the server may still be running");
      } else {
        Log(SPDLOG_LEVEL_WARN, "pg_ctl stop -m fast failed (" + first + "); stopped with -m immediate");
      }
    }
  }
  running_ = false;
  Unlock();
  return result;
}

std::string LocalCluster::Url(const std::string& db) const {
  return std::string("postgresql://") + kSuperuser + "@/" + db + "?host=" + EncodeQueryValue(socket_dir()) +
         "&port=" + std::to_string(options_.port);
}

}  // namespace dwfs
