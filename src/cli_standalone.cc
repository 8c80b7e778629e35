// dwfs standalone [-n NUM_LOOPS]: everything for a first try on one machine
// (docs/standalone.md). Without a configured database url it runs a
// private PostgreSQL cluster under DWFS_HOME (LocalCluster); then it
// migrates the metadata database, points the command's context and the
// example DAGs' default connections at it, prints where everything lives,
// and runs the scheduler in the foreground (RunScheduler). When the
// scheduler returns (SIGINT/SIGTERM, -n loops done, or an error), the
// cluster is stopped; the LocalCluster destructor stops it on any other
// exit path (early errors, exceptions).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/random.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <csignal>
#include <filesystem>
#include <memory>
#include <thread>

#include "cli.h"
#include "dwfs/connection.h"
#include "dwfs/local_cluster.h"
#include "dwfs/migrations.h"
#include "dwfs/password.h"
#include "dwfs/store.h"
#include "api_thread.h"

namespace dwfs {

namespace {

// The metadata database's name in the private cluster.
constexpr const char* kMetadataDatabase = "dwfs";

// The connections the example DAGs use, and the database of the private
// cluster each gets when it is defined nowhere else (Airflow's standalone
// creates default connections likewise).
struct DefaultConnection {
  const char* conn_id;
  const char* database;
};
constexpr DefaultConnection kDefaultConnections[] = {
    {"dwfs_metadata", kMetadataDatabase},  // dags/metadata_backup.yaml: pg_dump of the metadata
    {"warehouse", "warehouse"},            // dags/daily_sales_etl.yaml: its tables, apart from the metadata
};

// ---------------------------------------------------------------------------
// Stop requests outside RunScheduler.
//
// RunScheduler installs its own SIGINT/SIGTERM handling (Asio) when it
// starts and removes it when it returns. Around it, StopSignals records a
// stop request instead of letting the default action kill dwfs while the
// cluster starts or stops (which would leave the server running). A request
// recorded after HandOver() and before RunScheduler's handler is in place
// (while it opens the store and loads the DAGs) is re-sent to this process
// once that handler is in place, so it is never lost.

volatile sig_atomic_t g_stop_signal = 0;
int g_wake_fd = -1;  // write end of StopSignals' pipe

extern "C" void RecordStopSignal(int sig) {
  int saved = errno;
  g_stop_signal = sig;
  if (g_wake_fd >= 0) {
    char c = 1;
    [[maybe_unused]] ssize_t n = ::write(g_wake_fd, &c, 1);
  }
  errno = saved;
}

class StopSignals {
 public:
  StopSignals() {
    if (::pipe2(pipe_, O_CLOEXEC | O_NONBLOCK) != 0) pipe_[0] = pipe_[1] = -1;
    g_stop_signal = 0;
    g_wake_fd = pipe_[1];
    struct sigaction sa {};
    sa.sa_handler = RecordStopSignal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    ::sigaction(SIGINT, &sa, &old_int_);
    ::sigaction(SIGTERM, &sa, &old_term_);
  }
  ~StopSignals() {
    TakeBack();
    ::sigaction(SIGINT, &old_int_, nullptr);
    ::sigaction(SIGTERM, &old_term_, nullptr);
    g_wake_fd = -1;
    for (int fd : pipe_) {
      if (fd >= 0) ::close(fd);
    }
  }
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  // The signal that asked to stop (outside RunScheduler), or 0.
  int received() const { return g_stop_signal; }

  // Before RunScheduler: forward a request that arrives before its handler
  // is installed.
  void HandOver() {
    if (pipe_[0] < 0 || forwarder_.joinable()) return;
    quit_ = false;
    forwarder_ = std::thread([this] { Forward(); });
  }

  // After RunScheduler: requests are recorded again (a Ctrl-C while the
  // cluster stops does not interrupt that).
  void TakeBack() {
    if (forwarder_.joinable()) {
      quit_ = true;
      char c = 0;
      [[maybe_unused]] ssize_t n = ::write(pipe_[1], &c, 1);
      forwarder_.join();
    }
    struct sigaction sa {};
    sa.sa_handler = RecordStopSignal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    ::sigaction(SIGINT, &sa, nullptr);
    ::sigaction(SIGTERM, &sa, nullptr);
  }

 private:
  // Waits `ms` (or forever, -1) for a write to the pipe, then empties it.
  void Wait(int ms) {
    pollfd p{pipe_[0], POLLIN, 0};
    ::poll(&p, 1, ms);
    char buf[64];
    while (::read(pipe_[0], buf, sizeof buf) > 0) {
    }
  }

  bool OthersHandle(int sig) {
    struct sigaction cur {};
    ::sigaction(sig, nullptr, &cur);
    return cur.sa_handler != RecordStopSignal && cur.sa_handler != SIG_DFL && cur.sa_handler != SIG_IGN;
  }

  void Forward() {
    for (;;) {
      Wait(-1);
      if (quit_) return;
      int sig = g_stop_signal;
      if (sig == 0) continue;
      // RunScheduler installs its handler within moments (after opening the
      // store and loading the DAGs): check for it every few milliseconds.
      while (!quit_ && !OthersHandle(sig)) Wait(5);
      if (quit_) return;
      ::kill(::getpid(), sig);
      return;
    }
  }

  int pipe_[2] = {-1, -1};
  struct sigaction old_int_ {};
  struct sigaction old_term_ {};
  std::atomic<bool> quit_{false};
  std::thread forwarder_;
};

// ---------------------------------------------------------------------------

// DWFS_CONN_<ID> of each default connection that neither the environment
// nor the store defines, pointed at its database of the private cluster.
// `*summary` gets "id -> database" items.
Status SetDefaultConnections(CliContext& ctx, LocalCluster& cluster, std::string* summary) {
  Store* store;
  DWFS_RETURN_IF_ERROR(ctx.OpenStore(&store));
  StoreConnectionSource stored(store);
  for (const DefaultConnection& d : kDefaultConnections) {
    std::string var = ConnectionEnvVar(d.conn_id);
    auto it = ctx.env().find(var);
    if (it != ctx.env().end() && !it->second.empty()) continue;
    Connection c;
    if (stored.Get(d.conn_id, &c).code() != Status::Code::kNotFound) continue;  // stored (or broken: tasks say so)
    DWFS_RETURN_IF_ERROR(cluster.EnsureDatabase(d.database));
    ctx.set_env(var, cluster.Url(d.database));
    *summary += std::string(summary->empty() ? "" : ", ") + d.conn_id + " -> database " + d.database;
  }
  return Status::OK();
}

Status MakeFolder(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::IOError("cannot create " + dir + ": " + ec.message());
  return Status::OK();
}

// Whether a stop was requested before the scheduler started (then logged).
bool StoppedEarly(CliContext& ctx, const StopSignals& signals) {
  int sig = signals.received();
  if (sig == 0) return false;
  ctx.log().info("{} received before the scheduler started: stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
  return true;
}

// Airflow's standalone: when the database has no users, an Admin "admin"
// with a random password, written to DWFS_HOME/standalone_admin_password.txt
// (mode 0600; never printed). *note tells where.
Status EnsureAdminUser(CliContext& ctx, const std::string& home, std::string* note) {
  Store* store;
  DWFS_RETURN_IF_ERROR(ctx.OpenStore(&store));
  std::vector<UserRecord> users;
  DWFS_RETURN_IF_ERROR(store->ListUsers(&users));
  std::string file = home + "/standalone_admin_password.txt";
  if (!users.empty()) {
    if (std::filesystem::exists(file)) *note = " (user admin, password in " + file + ")";
    return Status::OK();
  }
  std::string password(20, '\0');
  static constexpr char kAlphabet[] = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  for (char& c : password) {
    unsigned char b = 0;
    while (getrandom(&b, 1, 0) != 1) {
    }
    c = kAlphabet[b % (sizeof(kAlphabet) - 1)];
  }
  UserRecord admin;
  admin.username = "admin";
  admin.role = Role::kAdmin;
  admin.first_name = "Admin";
  DWFS_RETURN_IF_ERROR(HashPassword(password, &admin.password_hash));
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Status::IOError("cannot write " + file + ": " + std::strerror(errno));
  std::string line = password + "\n";
  bool written = ::write(fd, line.data(), line.size()) == ssize_t(line.size());
  ::close(fd);
  if (!written) return Status::IOError("cannot write " + file + ": " + std::strerror(errno));
  DWFS_RETURN_IF_ERROR(store->CreateUser(admin, ctx.clock().Now()));
  *note = " (user admin, password in " + file + ")";
  return Status::OK();
}

// Everything up to the scheduler's return; `*cluster` is set once a private
// cluster is in use (the caller stops it).
Status RunStandalone(CliContext& ctx, std::optional<int> num_loops, StopSignals& signals,
                     std::unique_ptr<LocalCluster>* cluster) {
  const Config& config = ctx.config();
  std::string url = config.database.url;
  std::string cluster_line, connections;
  if (url.empty()) {
    LocalClusterOptions o;
    o.home = config.home;
    o.env = ctx.env();
    *cluster = std::make_unique<LocalCluster>(std::move(o), &ctx.log());
    LocalCluster& c = **cluster;
    DWFS_RETURN_IF_ERROR(c.Init());
    if (StoppedEarly(ctx, signals)) return Status::OK();
    DWFS_RETURN_IF_ERROR(c.Start());
    if (StoppedEarly(ctx, signals)) return Status::OK();
    DWFS_RETURN_IF_ERROR(c.EnsureDatabase(kMetadataDatabase));
    url = c.Url(kMetadataDatabase);
    ctx.set_database_url(url);
    cluster_line = c.data_dir() + " (PostgreSQL " + c.server_version() + ", " +
                   (c.initialized_now() ? "created now" : c.adopted() ? "reused, was running" : "reused") +
                   ", run by " + c.server_user() + ", server log " + c.server_log() + ")";
  }
  int from = 0, to = 0;
  Status st = MigrateDatabase(url, &from, &to);
  if (!st.ok()) return st.WithPrefix("migrating the metadata database");
  if (from != to) ctx.log().info("metadata database migrated from schema version {} to {}", from, to);
  if (*cluster) DWFS_RETURN_IF_ERROR(SetDefaultConnections(ctx, **cluster, &connections));
  DWFS_RETURN_IF_ERROR(MakeFolder(config.core.dags_folder));
  DWFS_RETURN_IF_ERROR(MakeFolder(config.logging.base_log_folder));

  std::ostream& out = ctx.out();
  out << "dwfs standalone\n"
      << "  dags folder: " << config.core.dags_folder << "\n"
      << "  logs:        " << config.logging.base_log_folder << "\n"
      << "  database:    " << MaskSecrets(url) << "\n";
  if (*cluster) {
    out << "  cluster:     " << cluster_line << "\n";
    if (!connections.empty()) out << "  connections: " << connections << " (of the cluster)\n";
    out << "  other shells: export DWFS_DATABASE_URL='" << url << "' (while this runs)\n";
  }
  out << (num_loops ? "  scheduler:   " + std::to_string(*num_loops) + " loop(s), then exit\n"
                    : std::string("  Ctrl-C stops the scheduler") + (*cluster ? ", then the cluster" : "") + "\n");
  out.flush();
  if (StoppedEarly(ctx, signals)) return Status::OK();

  // One registry: GET /metrics of the API shows the scheduler's metrics.
  MetricsRegistry registry;
  DwfsMetrics metrics(registry);
  ApiServerOptions api_options = ApiOptionsFromConfig(config);
  api_options.database_url = url;
  api_options.metrics = &metrics;
  ApiThread api(api_options, ctx.clock(), ctx.log());
  std::string admin_note;
  if (config.api.auth == "basic") DWFS_RETURN_IF_ERROR(EnsureAdminUser(ctx, config.home, &admin_note));
  st = api.Start();
  if (!st.ok()) {
    ctx.log().error("{} (continuing without the API)", st.message());
  } else {
    std::string base = std::string(api_options.http.tls_cert.empty() ? "http" : "https") + "://" +
                       api_options.http.host + ":" + std::to_string(api.port());
    out << "  api:         " << base << "/api/v1" << admin_note << "\n";
    out << "  web ui:      " << base << "/ (same users)\n";
    out.flush();
  }

  signals.HandOver();
  st = RunScheduler(ctx, num_loops, &metrics);
  signals.TakeBack();
  api.Stop();
  return st;
}

Status Standalone(CliContext& ctx, std::optional<int> num_loops) {
  StopSignals signals;  // declared first: in place until the cluster is stopped
  // Its destructor stops the server on every path, exceptions included.
  std::unique_ptr<LocalCluster> cluster;
  Status st = RunStandalone(ctx, num_loops, signals, &cluster);
  if (cluster) {
    ctx.set_database_url(ctx.config().database.url);  // closes the context's store before the server goes
    Status stop = cluster->Stop();
    if (st.ok()) {
      st = stop;
    } else if (!stop.ok()) {
      ctx.log().error("{}", stop.message());
    }
  }
  return st;
}

}  // namespace

void AddStandaloneCommand(CLI::App* app, CliAction* action) {
  CLI::App* cmd = app->add_subcommand(
      "standalone",
      "everything for a first try on one machine: a private PostgreSQL cluster under DWFS_HOME when no database url "
      "is set, migrate, then the scheduler and the API");
  auto loops = std::make_shared<int>(-1);
  cmd->add_option("-n,--num-runs", *loops, "run this many scheduling loops, finish their runs, then exit");
  cmd->final_callback([action, loops] {
    *action = [loops](CliContext& ctx) {
      std::optional<int> n;
      if (*loops >= 0) n = *loops;
      return Standalone(ctx, n);
    };
  });
}

}  // namespace dwfs
