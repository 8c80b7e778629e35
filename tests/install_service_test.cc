// scripts/install-service, staged with DESTDIR: every file lands where the
// unit expects it, secrets are private, an existing configuration is kept,
// and the installed configuration loads and sends logs to /var/log/dwfs.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "cli_test_util.h"
#include "test_util.h"

namespace dwfs {
namespace {

std::string BuildDir() { return std::filesystem::canonical("/proc/self/exe").parent_path().string(); }

int Install(const std::string& dest) {
  std::string cmd = "DESTDIR=" + dest + " DWFS_BUILD_DIR=" + BuildDir() + " " + DWFS_SOURCE_DIR +
                    "/scripts/install-service >/dev/null 2>&1";
  return std::system(cmd.c_str());
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(InstallServiceTest, StagesEveryFileWithTheRightModes) {
  TempDir dest;
  ASSERT_EQ(Install(dest.path()), 0);
  const std::string d = dest.path();
  for (const char* f : {"/usr/local/bin/dwfs", "/etc/dwfs/dwfs.yaml", "/etc/dwfs/dwfs.env",
                        "/etc/systemd/system/dwfs-scheduler.service"}) {
    EXPECT_TRUE(std::filesystem::is_regular_file(d + f)) << f;
  }
  EXPECT_TRUE(std::filesystem::is_directory(d + "/var/lib/dwfs/dags"));
  EXPECT_TRUE(std::filesystem::is_directory(d + "/var/log/dwfs"));
  struct stat st {};
  ASSERT_EQ(::stat((d + "/etc/dwfs/dwfs.env").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u) << "the env file holds secrets";
  ASSERT_EQ(::stat((d + "/usr/local/bin/dwfs").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0755u);
  EXPECT_EQ(Slurp(d + "/etc/systemd/system/dwfs-scheduler.service"),
            Slurp(std::string(DWFS_SOURCE_DIR) + "/config/dwfs-scheduler.service"));

  // The installed configuration loads, with logs where the unit allows writes.
  CliResult r = RunCliForTest({"--config", d + "/etc/dwfs/dwfs.yaml", "config", "get-value", "logging",
                               "base_log_folder"},
                              {{"DWFS_HOME", d + "/var/lib/dwfs"}});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "/var/log/dwfs\n");
}

TEST(InstallServiceTest, KeepsAnExistingConfigurationAndEnvFile) {
  TempDir dest;
  dest.Write("etc/dwfs/dwfs.yaml", "core:\n  parallelism: 7\n");
  dest.Write("etc/dwfs/dwfs.env", "DWFS_DATABASE_URL=postgresql://dwfs:mine@db/dwfs\n");
  ASSERT_EQ(Install(dest.path()), 0);
  EXPECT_EQ(Slurp(dest.path() + "/etc/dwfs/dwfs.yaml"), "core:\n  parallelism: 7\n");
  EXPECT_EQ(Slurp(dest.path() + "/etc/dwfs/dwfs.env"), "DWFS_DATABASE_URL=postgresql://dwfs:mine@db/dwfs\n");
  EXPECT_TRUE(std::filesystem::is_regular_file(dest.path() + "/usr/local/bin/dwfs"));
}

}  // namespace
}  // namespace dwfs
