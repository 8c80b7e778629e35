// dwfs db, connections and variables, run in-process through RunCli against
// a private PostgreSQL database (TestDatabase).
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <iostream>
#include <pqxx/pqxx>
#include <sstream>

#include "cli_test_util.h"
#include "dwfs/migrations.h"
#include "test_database.h"
#include "test_util.h"

namespace dwfs {
namespace {

class CliDbTest : public testing::Test {
 protected:
  CliResult Run(std::vector<std::string> args) {
    return RunCliForTest(std::move(args), Env());
  }
  std::map<std::string, std::string> Env() const {
    return {{"DWFS_HOME", home_.path()}, {"DWFS__CORE__DAGS_FOLDER", home_.path() + "/dags"}, {"DWFS_DATABASE_URL", db_.url()}};
  }

  // Runs with `input` as std::cin.
  CliResult RunWithInput(std::vector<std::string> args, const std::string& input) {
    return RunCliForTestWithInput(std::move(args), Env(), input);
  }

  // Leaves the database empty, as a fresh one (no dwfs table at all).
  void EmptyDatabase() {
    pqxx::connection conn(db_.url());
    pqxx::work tx(conn);
    tx.exec("DROP SCHEMA public CASCADE");
    tx.exec("CREATE SCHEMA public");
    tx.commit();
  }

  TestDatabase db_;
  TempDir home_;
};

TEST_F(CliDbTest, MigrateFreshDatabaseThenAgain) {
  DWFS_REQUIRE_DB(db_);
  EmptyDatabase();
  CliResult r = Run({"db", "migrate"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "database migrated from version 0 to " + std::to_string(SchemaVersion()) + "\n");
  r = Run({"db", "migrate"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "database already at version " + std::to_string(SchemaVersion()) + "\n");
}

TEST_F(CliDbTest, CheckPassesOnMigratedAndFailsOnEmptyDatabase) {
  DWFS_REQUIRE_DB(db_);
  CliResult r = Run({"db", "check"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("version " + std::to_string(SchemaVersion())), std::string::npos) << r.out;

  EmptyDatabase();
  r = Run({"db", "check"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "dwfs: database schema is at version 0, this dwfs needs " + std::to_string(SchemaVersion()) +
                       ": run dwfs db migrate\n");
  // Commands that need the store refuse an unmigrated database.
  r = Run({"variables", "list"});
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.err.find("db migrate"), std::string::npos) << r.err;
}

TEST_F(CliDbTest, CheckUnreachableDatabaseFailsWithoutQuotingThePassword) {
  std::map<std::string, std::string> env = {{"DWFS_HOME", home_.path()},
                                            {"DWFS_DATABASE_URL", "postgresql://u:s3cr3t-pw@127.0.0.1:1/x"}};
  CliResult r = RunCliForTest({"db", "check"}, env);
  EXPECT_EQ(r.code, 1);
  EXPECT_FALSE(r.err.empty());
  EXPECT_EQ(r.err.find("s3cr3t-pw"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST_F(CliDbTest, NoDatabaseConfigured) {
  CliResult r = RunCliForTest({"db", "check"}, {{"DWFS_HOME", home_.path()}});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("DWFS_DATABASE_URL"), std::string::npos) << r.err;
}

TEST_F(CliDbTest, ResetWithYesEmptiesTheDatabase) {
  DWFS_REQUIRE_DB(db_);
  ASSERT_EQ(Run({"variables", "set", "k", "v"}).code, 0);
  CliResult r = Run({"db", "reset", "-y"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "database reset to schema version " + std::to_string(SchemaVersion()) + "\n");
  r = Run({"variables", "get", "k"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "dwfs: variable 'k' not found\n");
  EXPECT_EQ(Run({"db", "check"}).code, 0);
}

TEST_F(CliDbTest, ResetAsksAndAbortsUnlessYes) {
  DWFS_REQUIRE_DB(db_);
  ASSERT_EQ(Run({"variables", "set", "k", "v"}).code, 0);
  CliResult r = RunWithInput({"db", "reset"}, "n\n");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("Reset the metadata database? This deletes every run and task state. [y/N]"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.err.find("aborted"), std::string::npos) << r.err;
  EXPECT_EQ(Run({"variables", "get", "k"}).out, "v\n");

  r = RunWithInput({"db", "reset"}, "");  // end of input: no
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(Run({"variables", "get", "k"}).out, "v\n");

  r = RunWithInput({"db", "reset"}, "YES\n");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(Run({"variables", "get", "k"}).code, 2);
}

TEST_F(CliDbTest, ConnectionsNeverShowThePassword) {
  DWFS_REQUIRE_DB(db_);
  const std::string secret = "Pa55-w0rd-xyz";
  CliResult r = Run({"connections", "add", "warehouse", "--conn-uri",
                     "postgresql://etl:" + secret + "@db.example.com:5433/analytics"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.find(secret), std::string::npos) << r.out;
  ASSERT_EQ(Run({"connections", "add", "api", "--conn-uri", "http://svc.local/v1"}).code, 0);

  std::vector<CliResult> outputs;
  for (const char* format : {"table", "json", "plain"}) {
    outputs.push_back(Run({"connections", "list", "-o", format}));
    outputs.push_back(Run({"connections", "get", "warehouse", "-o", format}));
  }
  for (const CliResult& o : outputs) {
    EXPECT_EQ(o.code, 0) << o.err;
    EXPECT_EQ(o.out.find(secret), std::string::npos) << o.out;
    EXPECT_EQ(o.err.find(secret), std::string::npos) << o.err;
    EXPECT_NE(o.out.find("db.example.com"), std::string::npos) << o.out;
  }
  YAML::Node j = YAML::Load(Run({"connections", "list", "-o", "json"}).out);
  ASSERT_EQ(j.size(), 2u);
  YAML::Node w = j[0]["conn_id"].as<std::string>() == "warehouse" ? j[0] : j[1];
  for (const char* key : {"conn_id", "conn_type", "host", "port", "login", "schema", "uri"}) {
    EXPECT_TRUE(w[key].IsDefined()) << key;
  }
  EXPECT_FALSE(w["password"].IsDefined());
  EXPECT_EQ(w["conn_type"].as<std::string>(), "postgresql");
  EXPECT_EQ(w["host"].as<std::string>(), "db.example.com");
  EXPECT_EQ(w["port"].as<int>(), 5433);
  EXPECT_EQ(w["login"].as<std::string>(), "etl");
  EXPECT_EQ(w["schema"].as<std::string>(), "analytics");
  EXPECT_EQ(w["uri"].as<std::string>(), "postgresql://etl:***@db.example.com:5433/analytics");

  r = Run({"connections", "delete", "warehouse"});
  ASSERT_EQ(r.code, 0) << r.err;
  r = Run({"connections", "get", "warehouse"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "dwfs: connection 'warehouse' not found\n");
  r = Run({"connections", "delete", "warehouse"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("warehouse"), std::string::npos);
  j = YAML::Load(Run({"connections", "list", "-o", "json"}).out);
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["conn_id"].as<std::string>(), "api");
}

TEST_F(CliDbTest, BadConnectionUriIsRejectedWithoutQuotingIt) {
  DWFS_REQUIRE_DB(db_);
  const std::string uri = "postgresql://etl:hunter2-secret@db:99999/x";  // port out of range
  CliResult r = Run({"connections", "add", "bad", "--conn-uri", uri});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("bad"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("hunter2-secret"), std::string::npos) << r.err;
  EXPECT_EQ(r.out.find("hunter2-secret"), std::string::npos) << r.out;
  EXPECT_EQ(Run({"connections", "get", "bad"}).code, 2);
}

TEST_F(CliDbTest, VariablesCrud) {
  DWFS_REQUIRE_DB(db_);
  ASSERT_EQ(Run({"variables", "set", "region", "eu-west-1"}).code, 0);
  ASSERT_EQ(Run({"variables", "set", "limits", "{\"max\": 3}"}).code, 0);
  CliResult r = Run({"variables", "get", "region"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "eu-west-1\n");
  ASSERT_EQ(Run({"variables", "set", "region", "us-east-2"}).code, 0);  // overwrite
  EXPECT_EQ(Run({"variables", "get", "region"}).out, "us-east-2\n");

  r = Run({"variables", "list", "-o", "json"});
  ASSERT_EQ(r.code, 0) << r.err;
  YAML::Node j = YAML::Load(r.out);
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[0]["key"].as<std::string>(), "limits");
  EXPECT_EQ(j[0]["value"].as<std::string>(), "{\"max\": 3}");
  EXPECT_EQ(j[1]["key"].as<std::string>(), "region");
  EXPECT_EQ(Run({"variables", "list", "-o", "plain"}).out, "limits\t{\"max\": 3}\nregion\tus-east-2\n");

  ASSERT_EQ(Run({"variables", "delete", "region"}).code, 0);
  r = Run({"variables", "get", "region"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "dwfs: variable 'region' not found\n");
  r = Run({"variables", "delete", "region"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "dwfs: variable 'region' not found\n");
  EXPECT_EQ(YAML::Load(Run({"variables", "list", "-o", "json"}).out).size(), 1u);
}

}  // namespace
}  // namespace dwfs
