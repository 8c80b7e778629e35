// Tests of LocalCluster against the real initdb/pg_ctl/postgres: a first
// Init creates the cluster, a second one reuses it (no second initdb), the
// server listens on the socket in HOME/run only, Stop and the destructor
// stop it, a second user of the same HOME is refused, and homes the server
// cannot use fail with one clear line. As root the server runs as postgres.
#include "dwfs/local_cluster.h"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include <filesystem>
#include <string>

#include "local_cluster_test_util.h"
#include "test_util.h"

namespace dwfs {
namespace {

namespace fs = std::filesystem;

struct FileId {
  ino_t ino = 0;
  struct timespec mtime {};
  bool operator==(const FileId& o) const {
    return ino == o.ino && mtime.tv_sec == o.mtime.tv_sec && mtime.tv_nsec == o.mtime.tv_nsec;
  }
};

FileId Identify(const std::string& path) {
  struct stat st {};
  FileId id;
  if (::stat(path.c_str(), &st) == 0) {
    id.ino = st.st_ino;
    id.mtime = st.st_mtim;
  }
  return id;
}

unsigned Mode(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? unsigned(st.st_mode & 07777) : 0;
}

uid_t Owner(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? st.st_uid : uid_t(-1);
}

// Runs one statement on `url`; the first column of the first row, or the
// error text prefixed with "error: ".
std::string Query(const std::string& url, const std::string& sql) {
  try {
    pqxx::connection c(url);
    pqxx::work w(c);
    pqxx::result r = w.exec(sql);
    w.commit();
    return r.empty() || r[0][0].is_null() ? "" : r[0][0].c_str();
  } catch (const std::exception& e) {
    return std::string("error: ") + e.what();
  }
}

TEST(LocalClusterTest, CreatesThenReusesTheClusterWithoutASecondInitdb) {
  DWFS_REQUIRE_POSTGRES_SERVER();
  ClusterHome h;
  std::string pg_version = h.data_dir() + "/PG_VERSION";
  {
    LocalCluster c(h.Options(), nullptr);
    Status st = c.Init();
    ASSERT_TRUE(st.ok()) << st.message();
    EXPECT_TRUE(c.initialized_now());
    EXPECT_TRUE(fs::exists(pg_version));
    EXPECT_EQ(Mode(c.data_dir()), 0700u);
    EXPECT_EQ(Mode(c.socket_dir()), 0700u);
    if (::geteuid() == 0) {
      EXPECT_EQ(c.server_user(), "postgres");
      struct passwd* pg = ::getpwnam("postgres");
      ASSERT_NE(pg, nullptr);
      EXPECT_EQ(Owner(c.data_dir()), pg->pw_uid);
      EXPECT_EQ(Owner(c.socket_dir()), pg->pw_uid);
    }
    EXPECT_EQ(c.Url("probe"), "postgresql://postgres@/probe?host=" + h.home() + "/run&port=5432");
    st = c.Start();
    ASSERT_TRUE(st.ok()) << st.message();
    EXPECT_FALSE(c.adopted());
    pid_t pm = PostmasterPid(c.data_dir());
    EXPECT_GT(pm, 0);
    EXPECT_TRUE(fs::exists(c.socket_dir() + "/.s.PGSQL.5432"));
    st = c.EnsureDatabase("probe");
    ASSERT_TRUE(st.ok()) << st.message();
    ASSERT_TRUE(c.EnsureDatabase("probe").ok());  // idempotent
    EXPECT_EQ(Query(c.Url("probe"), "CREATE TABLE kept (v int); INSERT INTO kept VALUES (42); SELECT 'ok'"), "ok");
    // No TCP listener: listen_addresses is empty.
    EXPECT_EQ(Query(c.Url("probe"), "SHOW listen_addresses"), "");
    st = c.Stop();
    ASSERT_TRUE(st.ok()) << st.message();
    EXPECT_FALSE(c.running());
    EXPECT_FALSE(fs::exists(c.data_dir() + "/postmaster.pid"));
    EXPECT_TRUE(Gone(pm));
  }
  FileId before = Identify(pg_version);
  ASSERT_NE(before.ino, 0u);

  LocalCluster again(h.Options(), nullptr);
  Status st = again.Init();
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_FALSE(again.initialized_now());
  EXPECT_TRUE(Identify(pg_version) == before) << "PG_VERSION was rewritten: initdb ran again";
  st = again.Start();
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(Query(again.Url("probe"), "SELECT v FROM kept"), "42");
  ASSERT_TRUE(again.Stop().ok());
  EXPECT_FALSE(fs::exists(h.data_dir() + "/postmaster.pid"));
}

TEST(LocalClusterTest, DestructorStopsTheServer) {
  DWFS_REQUIRE_POSTGRES_SERVER();
  ClusterHome h;
  pid_t pm = -1;
  {
    LocalCluster c(h.Options(), nullptr);
    ASSERT_TRUE(c.Init().ok());
    Status st = c.Start();
    ASSERT_TRUE(st.ok()) << st.message();
    pm = PostmasterPid(c.data_dir());
    ASSERT_GT(pm, 0);
    EXPECT_TRUE(Alive(pm));
  }
  EXPECT_FALSE(fs::exists(h.data_dir() + "/postmaster.pid"));
  EXPECT_TRUE(Gone(pm));
}

TEST(LocalClusterTest, SecondUserOfTheHomeIsRefusedUntilTheFirstStops) {
  DWFS_REQUIRE_POSTGRES_SERVER();
  ClusterHome h;
  LocalCluster first(h.Options(), nullptr);
  ASSERT_TRUE(first.Init().ok());
  ASSERT_TRUE(first.Start().ok());
  LocalCluster second(h.Options(), nullptr);
  Status st = second.Init();
  EXPECT_EQ(st.code(), Status::Code::kFailedPrecondition);
  EXPECT_NE(st.message().find("another dwfs standalone (pid " + std::to_string(::getpid()) + ")"), std::string::npos)
      << st.message();
  EXPECT_NE(st.message().find(h.data_dir()), std::string::npos) << st.message();
  EXPECT_TRUE(first.running());
  ASSERT_TRUE(first.Stop().ok());
  st = second.Init();
  EXPECT_TRUE(st.ok()) << st.message();
  EXPECT_FALSE(second.initialized_now());
}

TEST(LocalClusterTest, TooLongHomeFailsBeforeTouchingAnything) {
  ClusterHome h;
  LocalClusterOptions o = h.Options();
  o.home = h.tmp() + "/" + std::string(100, 'x');
  LocalCluster c(o, nullptr);
  Status st = c.Init();
  EXPECT_EQ(st.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(st.message().find("too long for the private cluster's Unix socket"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find(o.home), std::string::npos) << st.message();
  EXPECT_EQ(st.message().find('\n'), std::string::npos);
  EXPECT_FALSE(fs::exists(o.home));
}

TEST(LocalClusterTest, ADataDirectoryWithoutAClusterIsNotOverwritten) {
  DWFS_REQUIRE_POSTGRES_SERVER();
  ClusterHome h;
  fs::create_directories(h.data_dir());
  std::ofstream(h.data_dir() + "/precious.txt") << "not a cluster\n";
  LocalCluster c(h.Options(), nullptr);
  Status st = c.Init();
  EXPECT_EQ(st.code(), Status::Code::kFailedPrecondition);
  EXPECT_NE(st.message().find(h.data_dir() + " exists but holds no PostgreSQL cluster"), std::string::npos)
      << st.message();
  EXPECT_TRUE(fs::exists(h.data_dir() + "/precious.txt"));
}

// As root the server runs as postgres, which must be able to reach HOME.
// Nothing outside HOME is changed: the error names the blocking folder.
TEST(LocalClusterTest, AsRootAHomeThePostgresUserCannotReachFailsClearly) {
  DWFS_REQUIRE_POSTGRES_SERVER();
  if (::geteuid() != 0) GTEST_SKIP() << "only as root does the server run as another user";
  ClusterHome h;
  std::string locked = h.tmp() + "/locked";
  fs::create_directories(locked);
  ::chmod(locked.c_str(), 0700);
  LocalClusterOptions o = h.Options();
  o.home = locked + "/home";
  LocalCluster c(o, nullptr);
  Status st = c.Init();
  EXPECT_EQ(st.code(), Status::Code::kFailedPrecondition);
  EXPECT_NE(st.message().find("postgres, who cannot enter " + locked + " (mode 0700)"), std::string::npos)
      << st.message();
  EXPECT_EQ(st.message().find('\n'), std::string::npos);
  EXPECT_EQ(Mode(locked), 0700u) << "dwfs must not change folders outside DWFS_HOME";
  EXPECT_FALSE(fs::exists(o.home)) << "nothing is created when the server cannot reach it";
}

}  // namespace
}  // namespace dwfs
