// docker/: the image is never built on the development machine (no Docker
// engine), so these tests prove its parts another way:
//  - docker/check-runtime passes against the built binary (Dockerfile
//    structure; every library of the binary's ldd closure comes from a
//    package of debian:12-slim or of docker/runtime-packages.txt) and fails,
//    naming the problem, on broken copies of the Dockerfile and package list;
//  - as root, the same script stages the runtime image's package set in a
//    directory and runs the binary, a bash task and the healthcheck there
//    under chroot as the image's user;
//  - docker/healthcheck answers 0 only for a 200 from a real HealthServer;
//  - docker/compose.yaml wires postgres, migrate and scheduler together
//    without a literal password.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <boost/asio/io_context.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "dwfs/health_server.h"
#include "dwfs/json.h"
#include "test_util.h"

namespace dwfs {
namespace {

const std::string kSource = DWFS_SOURCE_DIR;
const std::string kScript = kSource + "/docker/check-runtime";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

struct CmdResult {
  int code = -1;
  std::string output;  // stdout and stderr
};

// Runs a shell command, capturing its output and exit status.
CmdResult Shell(const std::string& cmd) {
  CmdResult r;
  FILE* pipe = ::popen((cmd + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) r.output.append(buf, n);
  int status = ::pclose(pipe);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

CmdResult CheckRuntime(const std::string& args = "") {
  return Shell(Quote(kScript) + " --binary " + Quote(DWFS_BINARY) + " " + args);
}

bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

class DockerRuntimeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* tool : {"ldd", "dpkg-query", "dpkg"}) {
      if (!OnPath(tool)) GTEST_SKIP() << tool << " is not installed: the check needs a Debian system";
    }
  }
};

TEST_F(DockerRuntimeTest, CheckRuntimePassesForTheBuiltBinary) {
  CmdResult r = CheckRuntime();
  if (r.code == 77) GTEST_SKIP() << r.output;
  EXPECT_EQ(r.code, 0) << r.output;
  for (const char* want : {
           "ok    build stage: FROM debian:12 AS build",
           "ok    runtime stage: FROM debian:12-slim AS runtime, the last stage",
           "ok    runtime stage installs exactly runtime-packages.txt",
           "ok    runtime stage runs as non-root USER 10001:10001",
           "ok    ENTRYPOINT [\"dwfs\"]",
           "ok    CMD [\"scheduler\"]",
           "ok    VOLUME /opt/dwfs/dags",
           "ok    VOLUME /opt/dwfs/logs",
           "ok    EXPOSE 8974",
           "ok    HEALTHCHECK runs /usr/local/bin/dwfs-healthcheck",
           "ok    every library of the ldd closure",
           "ok    tzdata is in the image",
           "check-runtime: all checks passed",
       }) {
    EXPECT_TRUE(Contains(r.output, want)) << "missing: " << want << "\n" << r.output;
  }
  // The libraries the binary links directly come from the listed packages.
  for (const char* pkg : {"libpqxx-6.4", "libyaml-cpp0.7", "libspdlog1.10", "libfmt9", "libdate-tz3"}) {
    std::regex row(std::string(R"(\n +lib\S+ +direct +\S+ +)") + pkg + R"( +listed in runtime-packages.txt\n)");
    EXPECT_TRUE(std::regex_search(r.output, row)) << pkg << "\n" << r.output;
  }
}

TEST_F(DockerRuntimeTest, CheckRuntimeNamesEachProblemOfBrokenCopies) {
  TempDir dir;
  // A package list without libpqxx-6.4 (so libpq5, libssl3 ... are missing
  // too) and without libfmt9 (linked directly, but it would only arrive as a
  // dependency of libspdlog1.10), with a -dev package.
  std::string list = dir.Write("runtime-packages.txt",
                               "# broken on purpose\nlibyaml-cpp0.7\nlibspdlog1.10\nlibdate-tz3\n"
                               "tzdata\nca-certificates\nlibyaml-cpp-dev  # not at run time\n");
  // A Dockerfile running as root, without the dags volume, another
  // entrypoint, and an apt-get install besides the list.
  std::string text = ReadFile(kSource + "/docker/Dockerfile");
  ASSERT_FALSE(text.empty());
  auto replace = [&text](const std::string& from, const std::string& to) {
    size_t at = text.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    text.replace(at, from.size(), to);
  };
  replace("USER 10001:10001", "USER root");
  replace("VOLUME [\"/opt/dwfs/dags\", \"/opt/dwfs/logs\"]", "VOLUME [\"/opt/dwfs/logs\"]");
  replace("ENTRYPOINT [\"dwfs\"]", "ENTRYPOINT [\"/bin/sh\", \"-c\"]");
  replace("COPY --from=build", "RUN apt-get update && apt-get install -y curl\nCOPY --from=build");
  std::string dockerfile = dir.Write("Dockerfile", text);

  CmdResult r = CheckRuntime("--packages " + Quote(list) + " --dockerfile " + Quote(dockerfile));
  if (r.code == 77) GTEST_SKIP() << r.output;
  EXPECT_EQ(r.code, 1) << r.output;
  for (const char* want : {
           "FAIL  runtime stage runs as root (USER root)",
           "FAIL  no VOLUME for the dags folder (/opt/dwfs/dags",
           "FAIL  runtime stage needs ENTRYPOINT [\"dwfs\"]",
           "FAIL  runtime stage must install packages only with one 'xargs apt-get install",
           "FAIL  libyaml-cpp-dev is a development/debug/doc package",
           "FAIL  libpqxx-6.4.so: package libpqxx-6.4 is not in the image",
           "FAIL  libpq.so.5: package libpq5 is not in the image",
           "FAIL  libfmt.so.9 is linked directly but its package libfmt9 only arrives as a dependency of libspdlog1.10",
       }) {
    EXPECT_TRUE(Contains(r.output, want)) << "missing: " << want << "\n" << r.output;
  }
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.output, m, std::regex("FAIL  missing runtime packages: ([^\n]*)"))) << r.output;
  // (libssl3 is not among them: ca-certificates brings it through openssl.)
  for (const char* pkg : {"libpqxx-6.4", "libpq5", "libgssapi-krb5-2", "libldap-2.5-0", "libkrb5-3"}) {
    EXPECT_TRUE(Contains(" " + m[1].str() + " ", std::string(" ") + pkg + " ")) << pkg << " in: " << m[1];
  }
  // Only the broken parts fail.
  EXPECT_TRUE(Contains(r.output, "ok    CMD [\"scheduler\"]")) << r.output;
  EXPECT_TRUE(Contains(r.output, "ok    VOLUME /opt/dwfs/logs")) << r.output;
}

// The runtime image staged without Docker: the files of its packages in a
// directory, the Dockerfile's RUN/COPY steps replayed, the binary run there
// under chroot as uid 10001.
TEST_F(DockerRuntimeTest, StagedRuntimeRootRunsTheBinaryAndATask) {
  if (::geteuid() != 0) GTEST_SKIP() << "staging a root needs chroot, as root";
  if (!OnPath("chroot") || !OnPath("tar")) GTEST_SKIP() << "chroot and tar are needed";
  TempDir dir;
  CmdResult r = CheckRuntime("--stage-root " + Quote(dir.path() + "/root"));
  if (r.code == 77) GTEST_SKIP() << r.output;
  EXPECT_EQ(r.code, 0) << r.output;
  for (const char* want : {
           "ok    RUN groupadd --system --gid 10001 dwfs",
           "ok    COPY --from=build /out/dwfs /usr/local/bin/dwfs",
           "ok    dwfs version: dwfs ",
           "ok    id: uid=10001(dwfs)",
           "ok    time zones (tzdata): Europe/London",
           "ok    example DAGs parse: No import errors.",
           "ok    a bash task runs: dwfs: task print_date success",
           "ok    the logs volume is writable",
       }) {
    EXPECT_TRUE(Contains(r.output, want)) << "missing: " << want << "\n" << r.output;
  }
}

// docker/healthcheck against a real HealthServer on loopback.
class DockerRuntimeHealthcheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!OnPath("bash")) GTEST_SKIP() << "bash is not installed";
  }

  // Runs the script with the port in DWFS__SCHEDULER__HEALTH_CHECK_PORT and
  // the built dwfs on PATH, serving the io_context until it is done.
  CmdResult Probe(int port) {
    std::string bin_dir = std::filesystem::path(DWFS_BINARY).parent_path().string();
    std::string cmd = "env -i PATH=" + Quote(bin_dir + ":/usr/bin:/bin") + " DWFS_HOME=" + Quote(home_.path()) +
                      " DWFS__SCHEDULER__HEALTH_CHECK_PORT=" + std::to_string(port) + " " +
                      Quote(kSource + "/docker/healthcheck");
    std::atomic<bool> done{false};
    CmdResult run;
    std::thread t([&] {
      run = Shell(cmd);
      done = true;
    });
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!done && std::chrono::steady_clock::now() < deadline) {
      if (io_.stopped()) io_.restart();
      if (io_.run_one_for(std::chrono::milliseconds(20)) == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    t.join();
    return run;
  }

  void Serve(bool healthy) {
    report_.healthy = healthy;
    report_.body = Json::Object();
    report_.body.Set("status", healthy ? "healthy" : "unhealthy");
    if (server_) return;
    server_ = std::make_unique<HealthServer>(io_, "127.0.0.1", 0, [this] { return report_; }, nullptr);
    Status st = server_->Start();
    ASSERT_TRUE(st.ok()) << st.ToString();
  }

  TempDir home_;
  boost::asio::io_context io_;
  HealthReport report_;
  std::unique_ptr<HealthServer> server_;
};

TEST_F(DockerRuntimeHealthcheckTest, HealthyIsExitZeroWithTheBody) {
  Serve(true);
  CmdResult r = Probe(server_->port());
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_TRUE(Contains(r.output, "HTTP/1.1 200 OK")) << r.output;
  EXPECT_TRUE(Contains(r.output, "\"status\"")) << r.output;
}

TEST_F(DockerRuntimeHealthcheckTest, UnhealthyIsExitOne) {
  Serve(false);
  CmdResult r = Probe(server_->port());
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_TRUE(Contains(r.output, "503")) << r.output;
}

TEST_F(DockerRuntimeHealthcheckTest, NothingListeningIsExitOne) {
  Serve(true);
  int port = server_->port();
  server_->Stop();
  CmdResult r = Probe(port);
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_TRUE(Contains(r.output, "nothing listens on 127.0.0.1:" + std::to_string(port))) << r.output;
}

TEST_F(DockerRuntimeHealthcheckTest, DisabledHealthServerIsExitOne) {
  CmdResult r = Probe(0);
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_TRUE(Contains(r.output, "disabled")) << r.output;
}

// docker/compose.yaml. yaml-cpp keeps "<<" merge keys as plain keys: a
// service's field is its own or its "<<" map's.
YAML::Node Field(const YAML::Node& service, const std::string& key) {
  if (service[key]) return service[key];
  if (service["<<"] && service["<<"][key]) return service["<<"][key];
  return YAML::Node();
}

TEST(DockerRuntimeComposeTest, WiresPostgresMigrateAndSchedulerWithoutALiteralPassword) {
  const std::string path = kSource + "/docker/compose.yaml";
  YAML::Node doc;
  ASSERT_NO_THROW(doc = YAML::LoadFile(path)) << path;
  YAML::Node services = doc["services"];
  ASSERT_TRUE(services && services.IsMap());

  YAML::Node pg = services["postgres"];
  ASSERT_TRUE(pg);
  EXPECT_EQ(pg["image"].as<std::string>(), "postgres:15");
  EXPECT_TRUE(Contains(pg["healthcheck"]["test"][1].as<std::string>(), "pg_isready"));
  EXPECT_EQ(pg["volumes"][0].as<std::string>(), "postgres-data:/var/lib/postgresql/data");
  EXPECT_TRUE(doc["volumes"]["postgres-data"].IsDefined());

  const std::string secret = "${POSTGRES_PASSWORD:?";
  EXPECT_EQ(pg["environment"]["POSTGRES_PASSWORD"].as<std::string>().rfind(secret, 0), 0u)
      << "the password must come from the environment";

  for (const char* name : {"migrate", "scheduler"}) {
    SCOPED_TRACE(name);
    YAML::Node s = services[name];
    ASSERT_TRUE(s);
    EXPECT_EQ(Field(s, "build")["context"].as<std::string>(), "..");
    EXPECT_EQ(Field(s, "build")["dockerfile"].as<std::string>(), "docker/Dockerfile");
    EXPECT_EQ(s["depends_on"]["postgres"]["condition"].as<std::string>(), "service_healthy");
    std::string url = Field(s, "environment")["DWFS_DATABASE_URL"].as<std::string>();
    std::smatch m;
    ASSERT_TRUE(std::regex_match(url, m, std::regex(R"(postgresql://dwfs:(.*)@postgres:5432/dwfs)"))) << url;
    EXPECT_EQ(m[1].str().rfind(secret, 0), 0u) << "literal password in " << url;
  }
  EXPECT_EQ(services["migrate"]["command"][0].as<std::string>(), "db");
  EXPECT_EQ(services["migrate"]["command"][1].as<std::string>(), "migrate");
  EXPECT_EQ(services["migrate"]["restart"].as<std::string>(), "no");

  YAML::Node sched = services["scheduler"];
  EXPECT_EQ(sched["command"][0].as<std::string>(), "scheduler");
  EXPECT_EQ(sched["depends_on"]["migrate"]["condition"].as<std::string>(), "service_completed_successfully");
  EXPECT_TRUE(sched["init"].as<bool>()) << "tini reaps the orphans of bash tasks";
  std::vector<std::string> volumes = sched["volumes"].as<std::vector<std::string>>();
  EXPECT_NE(std::find(volumes.begin(), volumes.end(), "../dags:/opt/dwfs/dags:ro"), volumes.end());
  EXPECT_NE(std::find(volumes.begin(), volumes.end(), "logs:/opt/dwfs/logs"), volumes.end());
  EXPECT_TRUE(doc["volumes"]["logs"].IsDefined());
  EXPECT_TRUE(std::filesystem::is_directory(kSource + "/dags")) << "../dags is relative to docker/";
  EXPECT_TRUE(Contains(sched["ports"][0].as<std::string>(), ":8974"));
  EXPECT_EQ(sched["stop_grace_period"].as<std::string>(), "90s") << "longer than graceful_shutdown_timeout";

  // The mount points are the image's volumes.
  std::string dockerfile = ReadFile(kSource + "/docker/Dockerfile");
  EXPECT_TRUE(Contains(dockerfile, "VOLUME [\"/opt/dwfs/dags\", \"/opt/dwfs/logs\"]"));
  // No password-looking literal anywhere in the file.
  std::string text = ReadFile(path);
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    std::smatch key;
    // A YAML key whose name holds PASSWORD gets an interpolation, never text.
    if (std::regex_search(line, key, std::regex(R"(^\s*[A-Z_]*PASSWORD[A-Z_]*:\s*(\S.*)$)"))) {
      EXPECT_EQ(key[1].str().rfind("${", 0), 0u) << line;
    }
  }
  EXPECT_FALSE(std::regex_search(text, std::regex(R"(postgresql://[^:]+:[^$])"))) << "literal password in a URL";
}

}  // namespace
}  // namespace dwfs
