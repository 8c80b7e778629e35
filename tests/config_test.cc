#include "dwfs/config.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>

#include "test_util.h"

namespace dwfs {
namespace {

Status Load(const std::map<std::string, std::string>& env, Config* c, const std::string& file = "") {
  ConfigLoadOptions o;
  o.env = env;
  o.config_file = file;
  return LoadConfig(o, c);
}

TEST(Config, DefaultsWithoutFile) {
  TempDir home;
  Config c;
  ASSERT_TRUE(Load({{"DWFS_HOME", home.path()}}, &c).ok());
  EXPECT_EQ(c.core.dags_folder, home.path() + "/dags");
  EXPECT_EQ(c.logging.base_log_folder, home.path() + "/logs");
  EXPECT_EQ(c.core.parallelism, 32);
  EXPECT_EQ(c.core.max_active_tasks_per_dag, 16);
  EXPECT_EQ(c.core.max_active_runs_per_dag, 16);
  EXPECT_FALSE(c.core.dags_are_paused_at_creation);
  EXPECT_EQ(c.core.default_timezone, "UTC");
  EXPECT_TRUE(c.scheduler.catchup_by_default);
  EXPECT_EQ(c.logging.format, "text");
  EXPECT_TRUE(c.source_file.empty());
}

TEST(Config, HomeDefaultsToTildeDwfs) {
  Config c;
  ASSERT_TRUE(Load({{"HOME", "/home/ann"}}, &c).ok());
  EXPECT_EQ(c.home, "/home/ann/dwfs");
  EXPECT_EQ(c.core.dags_folder, "/home/ann/dwfs/dags");
}

TEST(Config, DefaultFileInHomeIsRead) {
  TempDir home;
  home.Write("dwfs.yaml", "core:\n  parallelism: 7\n  dags_folder: ~/my/dags\n");
  Config c;
  ASSERT_TRUE(Load({{"DWFS_HOME", home.path()}, {"HOME", "/home/bob"}}, &c).ok());
  EXPECT_EQ(c.core.parallelism, 7);
  EXPECT_EQ(c.core.dags_folder, "/home/bob/my/dags");
  EXPECT_EQ(c.source_file, home.path() + "/dwfs.yaml");
}

TEST(Config, PrecedenceFileThenDatabaseUrlThenEnvKeys) {
  TempDir dir;
  std::string file = dir.Write("c.yaml",
                               "core:\n  parallelism: 8\nscheduler:\n  heartbeat: 10s\ndatabase:\n"
                               "  url: postgresql://a@file/db\n");
  Config c;
  ASSERT_TRUE(Load({{"DWFS_HOME", dir.path()}, {"DWFS__CORE__PARALLELISM", "4"}, {"DWFS_DATABASE_URL", "postgresql://a@env/db"}},
                   &c, file)
                  .ok());
  EXPECT_EQ(c.core.parallelism, 4);
  EXPECT_EQ(c.scheduler.heartbeat, Seconds(10));
  EXPECT_EQ(c.database.url, "postgresql://a@env/db");
  ASSERT_TRUE(Load({{"DWFS_HOME", dir.path()},
                    {"DWFS_DATABASE_URL", "postgresql://a@env/db"},
                    {"DWFS__DATABASE__URL", "postgresql://a@key/db"}},
                   &c, file)
                  .ok());
  EXPECT_EQ(c.database.url, "postgresql://a@key/db");
}

TEST(Config, EnvOverrideTypes) {
  Config c;
  ASSERT_TRUE(Load({{"DWFS__SCHEDULER__CATCHUP_BY_DEFAULT", "false"},
                    {"DWFS__SCHEDULER__ZOMBIE_THRESHOLD", "2m"},
                    {"DWFS__LOGGING__FORMAT", "json"},
                    {"DWFS__CORE__DEFAULT_TIMEZONE", "Asia/Seoul"}},
                   &c)
                  .ok());
  EXPECT_FALSE(c.scheduler.catchup_by_default);
  EXPECT_EQ(c.scheduler.zombie_threshold, Seconds(120));
  EXPECT_EQ(c.logging.format, "json");
  EXPECT_EQ(c.core.default_timezone, "Asia/Seoul");
}

TEST(Config, Errors) {
  TempDir dir;
  struct {
    std::string file_text;
    std::map<std::string, std::string> env;
    std::string message;
  } cases[] = {
      {"core:\n  paralelism: 3\n", {}, ":2: unknown configuration key core.paralelism"},
      {"nosuch:\n  x: 1\n", {}, ":2: unknown configuration key nosuch.x"},
      {"core:\n  parallelism: many\n", {}, "core.parallelism: expected a non-negative integer"},
      {"core:\n  parallelism: [1]\n", {}, "expected a single value"},
      {"core: [\n", {}, "invalid YAML"},
      {"scheduler:\n  heartbeat: 5 minutes\n", {}, "scheduler.heartbeat: invalid duration"},
      {"logging:\n  format: xml\n", {}, "logging.format: expected text or json"},
      {"core:\n  default_timezone: Mars/Olympus\n", {}, "core.default_timezone: unknown timezone"},
      {"", {{"DWFS__CORE__NOPE", "1"}}, "environment variable DWFS__CORE__NOPE: unknown configuration key"},
      {"", {{"DWFS__CORE__PARALLELISM", "0"}}, "core.parallelism: must be at least 1"},
      {"", {{"DWFS__API__AUTH", "magic"}}, "api.auth"},
  };
  for (const auto& c : cases) {
    std::string file = dir.Write("bad.yaml", c.file_text);
    Config cfg;
    Status st = Load(c.env, &cfg, file);
    EXPECT_FALSE(st.ok()) << c.file_text;
    EXPECT_NE(st.message().find(c.message), std::string::npos) << st.message();
    EXPECT_EQ(st.ExitCode(), 2);
  }
}

TEST(Config, MissingExplicitFileIsAnError) {
  Config c;
  Status st = Load({}, &c, "/nonexistent/dwfs.yaml");
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("/nonexistent/dwfs.yaml"), std::string::npos);
}

TEST(Config, GetValueMasksSecrets) {
  Config c;
  ASSERT_TRUE(Load({{"DWFS_DATABASE_URL", "postgresql://dwfs:s3cr%40t@db.example:5432/dwfs"}}, &c).ok());
  std::string v;
  ASSERT_TRUE(GetConfigValue(c, "database", "url", true, &v).ok());
  EXPECT_EQ(v, "postgresql://dwfs:***@db.example:5432/dwfs");
  ASSERT_TRUE(GetConfigValue(c, "database", "url", false, &v).ok());
  EXPECT_NE(v.find("s3cr"), std::string::npos);
  ASSERT_TRUE(GetConfigValue(c, "core", "dag_file_processing_interval", true, &v).ok());
  EXPECT_EQ(v, "30s");
  EXPECT_EQ(GetConfigValue(c, "core", "nope", true, &v).code(), Status::Code::kNotFound);
}

TEST(Config, MaskSecrets) {
  EXPECT_EQ(MaskSecrets("postgresql://u:pw@h/db"), "postgresql://u:***@h/db");
  EXPECT_EQ(MaskSecrets("postgres://u@h/db"), "postgres://u@h/db");
  EXPECT_EQ(MaskSecrets("host=h password=pw dbname=x"), "host=h password=*** dbname=x");
  EXPECT_EQ(MaskSecrets("postgresql:///db?host=/tmp&password=pw&port=5"), "postgresql:///db?host=/tmp&password=***&port=5");
  EXPECT_EQ(MaskSecrets("a http://x:y@z b https://p:q@r"), "a http://x:***@z b https://p:***@r");
}

// The shipped config/dwfs.yaml lists every key, with its default, and nothing else.
TEST(Config, ShippedFileHasEveryKeyWithItsDefault) {
  std::string path = std::string(DWFS_SOURCE_DIR) + "/config/dwfs.yaml";
  YAML::Node root = YAML::LoadFile(path);
  Config defaults;
  size_t seen = 0;
  for (const ConfigKey& k : ConfigKeys()) {
    YAML::Node v = root[k.section][k.key];
    ASSERT_TRUE(v.IsDefined()) << k.section << "." << k.key << " missing from config/dwfs.yaml";
    std::string def;
    ASSERT_TRUE(GetConfigValue(defaults, k.section, k.key, false, &def).ok());
    EXPECT_EQ(v.Scalar(), def) << k.section << "." << k.key;
    ++seen;
  }
  size_t in_file = 0;
  for (const auto& sec : root) in_file += sec.second.size();
  EXPECT_EQ(in_file, seen);
  // And it loads as-is.
  Config c;
  EXPECT_TRUE(Load({{"DWFS_HOME", "/srv/dwfs"}}, &c, path).ok());
  EXPECT_EQ(c.core.dags_folder, "/srv/dwfs/dags");
}

TEST(Config, HomeContainingVariableTextDoesNotLoop) {
  Config c;
  ASSERT_TRUE(Load({{"DWFS_HOME", "/x/$DWFS_HOME"}}, &c).ok());
  EXPECT_NE(c.core.dags_folder.find("/dags"), std::string::npos);
}

}  // namespace
}  // namespace dwfs
