// config/dwfs-scheduler.service: the directives the scheduler relies on, and
// `systemd-analyze verify` (when installed) finds nothing wrong with it.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "test_util.h"

namespace dwfs {
namespace {

std::string UnitPath() { return std::string(DWFS_SOURCE_DIR) + "/config/dwfs-scheduler.service"; }

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The non-comment, non-blank lines of the unit, trimmed.
std::vector<std::string> Directives(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    size_t b = line.find_first_not_of(" \t");
    if (b == std::string::npos || line[b] == '#' || line[b] == ';') continue;
    size_t e = line.find_last_not_of(" \t\r");
    out.push_back(line.substr(b, e - b + 1));
  }
  return out;
}

bool Has(const std::vector<std::string>& lines, const std::string& want) {
  for (const std::string& l : lines) {
    if (l == want) return true;
  }
  return false;
}

TEST(SystemdUnitTest, HasTheDirectivesTheSchedulerReliesOn) {
  std::string text = ReadFile(UnitPath());
  ASSERT_FALSE(text.empty()) << UnitPath();
  std::vector<std::string> d = Directives(text);
  for (const char* want : {
           "[Unit]", "After=network-online.target postgresql.service", "Wants=network-online.target",
           "[Service]", "Type=notify", "NotifyAccess=main", "WatchdogSec=60", "User=dwfs", "Group=dwfs",
           "EnvironmentFile=-/etc/dwfs/dwfs.env", "Environment=DWFS_HOME=/var/lib/dwfs",
           "ExecStart=/usr/local/bin/dwfs scheduler --config /etc/dwfs/dwfs.yaml",
           "ExecReload=/bin/kill -HUP $MAINPID", "KillMode=mixed", "KillSignal=SIGTERM",
           // Longer than scheduler.graceful_shutdown_timeout (60 s).
           "TimeoutStopSec=90", "Restart=on-failure", "RestartSec=5",
           // Hardening.
           "NoNewPrivileges=yes", "ProtectSystem=full", "PrivateTmp=yes", "ProtectHome=read-only",
           "ReadWritePaths=/var/lib/dwfs /var/log/dwfs",
           "[Install]", "WantedBy=multi-user.target"}) {
    EXPECT_TRUE(Has(d, want)) << "missing: " << want;
  }
  // No secrets in the unit itself.
  EXPECT_EQ(text.find("postgresql://"), std::string::npos);
  EXPECT_EQ(text.find("password"), std::string::npos);
}

TEST(SystemdUnitTest, SystemdAnalyzeVerifyFindsNoProblem) {
  if (!OnPath("systemd-analyze")) GTEST_SKIP() << "systemd-analyze is not installed";
  // A copy whose ExecStart is an existing binary (verify checks it is executable).
  std::string text = ReadFile(UnitPath());
  const std::string exec = "ExecStart=/usr/local/bin/dwfs ";
  size_t at = text.find(exec);
  ASSERT_NE(at, std::string::npos);
  text.replace(at, exec.size(), std::string("ExecStart=") + DWFS_BINARY + " ");
  TempDir dir;
  std::string copy = dir.Write("dwfs-scheduler.service", text);

  std::string cmd = "systemd-analyze verify '" + copy + "' 2>&1";
  FILE* pipe = ::popen(cmd.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) output.append(buf, n);
  int status = ::pclose(pipe);
  ASSERT_TRUE(WIFEXITED(status)) << output;
  // Other units on the machine may draw warnings: only lines naming ours count.
  std::istringstream lines(output);
  std::string line, ours;
  while (std::getline(lines, line)) {
    if (line.find("dwfs-scheduler.service") != std::string::npos) ours += line + "\n";
  }
  EXPECT_EQ(ours, "") << "full output:\n" << output;
}

}  // namespace
}  // namespace dwfs
