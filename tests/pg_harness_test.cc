// Checks the test PostgreSQL harness: scripts/test starts a throwaway cluster
// (scripts/pg-test-cluster) and exports its URL as DWFS_TEST_DATABASE_URL.
#include <gtest/gtest.h>

#include <cstdlib>
#include <pqxx/pqxx>
#include <string>

namespace {

// The URL of the test database, or an empty string when it is not set.
std::string TestDatabaseUrl() {
  const char* url = std::getenv("DWFS_TEST_DATABASE_URL");
  return url == nullptr ? std::string{} : std::string{url};
}

#define DWFS_REQUIRE_TEST_DATABASE(url)                                      \
  do {                                                                       \
    if ((url).empty()) {                                                     \
      GTEST_SKIP() << "DWFS_TEST_DATABASE_URL is not set; run the tests via " \
                      "scripts/test, which starts a PostgreSQL test cluster"; \
    }                                                                        \
  } while (false)

TEST(PgHarnessTest, ServerIsPostgres15OrNewer) {
  const std::string url = TestDatabaseUrl();
  DWFS_REQUIRE_TEST_DATABASE(url);

  pqxx::connection conn{url};
  pqxx::read_transaction tx{conn};
  const pqxx::row row = tx.exec1("SHOW server_version_num");
  EXPECT_GE(row[0].as<int>(), 150000);
}

TEST(PgHarnessTest, ParameterizedInsertIsReadBackAfterCommit) {
  const std::string url = TestDatabaseUrl();
  DWFS_REQUIRE_TEST_DATABASE(url);

  pqxx::connection conn{url};
  // A temporary table is private to this session, so concurrent test
  // processes sharing the database do not interfere.
  {
    pqxx::work tx{conn};
    tx.exec0("CREATE TEMP TABLE harness_check (id integer PRIMARY KEY, name text NOT NULL)");
    tx.exec_params0("INSERT INTO harness_check (id, name) VALUES ($1, $2)", 42,
                    std::string{"it's \"quoted\" \\ and unicode: \xc3\xa9"});
    tx.commit();
  }
  {
    pqxx::work tx{conn};
    const pqxx::result rows = tx.exec_params("SELECT id, name FROM harness_check WHERE id = $1", 42);
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0][0].as<int>(), 42);
    EXPECT_EQ(rows[0][1].as<std::string>(), "it's \"quoted\" \\ and unicode: \xc3\xa9");
    tx.commit();
  }
}

TEST(PgHarnessTest, ConnectsToTheTestDatabase) {
  const std::string url = TestDatabaseUrl();
  DWFS_REQUIRE_TEST_DATABASE(url);

  pqxx::connection conn{url};
  pqxx::read_transaction tx{conn};
  EXPECT_EQ(tx.exec1("SELECT current_database()")[0].as<std::string>(), "dwfs_test");
  EXPECT_EQ(tx.exec1("SELECT 1 + 1")[0].as<int>(), 2);
}

}  // namespace
