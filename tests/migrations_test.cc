// Migrations against a real PostgreSQL (TestDatabase): idempotence,
// concurrent migration, version reporting, reset, and the Store's version
// check.
#include "dwfs/migrations.h"

#include <gtest/gtest.h>

#include <pqxx/pqxx>
#include <thread>

#include "dwfs/store.h"
#include "test_database.h"

namespace dwfs {
namespace {

TEST(MigrationsTest, MigrateTwiceIsIdempotent) {
  TestDatabase db;
  DWFS_REQUIRE_DB(db);
  int from = -1, to = -1;
  ASSERT_TRUE(MigrateDatabase(db.url(), &from, &to).ok());
  EXPECT_EQ(from, SchemaVersion());
  EXPECT_EQ(to, SchemaVersion());
  ASSERT_TRUE(MigrateDatabase(db.url(), &from, &to).ok());
  EXPECT_EQ(from, SchemaVersion());
  int version = -1;
  ASSERT_TRUE(DatabaseSchemaVersion(db.url(), &version).ok());
  EXPECT_EQ(version, SchemaVersion());
  pqxx::connection conn(db.url());
  pqxx::read_transaction tx(conn);
  EXPECT_EQ(tx.exec1("SELECT count(*) FROM dwfs_schema")[0].as<int>(), SchemaVersion());
}

TEST(MigrationsTest, EmptyDatabaseIsVersionZeroAndTwoThreadsMigrateItOnce) {
  TestDatabase db;
  DWFS_REQUIRE_DB(db);
  ASSERT_TRUE(ResetDatabase(db.url()).ok());
  {
    pqxx::connection conn(db.url());
    pqxx::work tx(conn);
    tx.exec("DROP TABLE dwfs_user, xcom, task_try, task_instance, dag_run, dag, scheduler_instance, import_error, "
            "connection, variable, dwfs_schema");
    tx.commit();
  }
  int version = -1;
  ASSERT_TRUE(DatabaseSchemaVersion(db.url(), &version).ok());
  EXPECT_EQ(version, 0);

  Status a, b;
  int from_a = -1, from_b = -1;
  std::thread t1([&] { a = MigrateDatabase(db.url(), &from_a, nullptr); });
  std::thread t2([&] { b = MigrateDatabase(db.url(), &from_b, nullptr); });
  t1.join();
  t2.join();
  ASSERT_TRUE(a.ok()) << a.message();
  ASSERT_TRUE(b.ok()) << b.message();
  // One of them did the work, the other found the schema current.
  EXPECT_EQ(std::min(from_a, from_b), 0);
  EXPECT_EQ(std::max(from_a, from_b), SchemaVersion());
  ASSERT_TRUE(DatabaseSchemaVersion(db.url(), &version).ok());
  EXPECT_EQ(version, SchemaVersion());
}

TEST(MigrationsTest, ResetDropsEveryRow) {
  TestDatabase db;
  DWFS_REQUIRE_DB(db);
  {
    pqxx::connection conn(db.url());
    pqxx::work tx(conn);
    tx.exec("INSERT INTO variable (key, value) VALUES ('k', 'v')");
    tx.commit();
  }
  ASSERT_TRUE(ResetDatabase(db.url()).ok());
  pqxx::connection conn(db.url());
  pqxx::read_transaction tx(conn);
  EXPECT_EQ(tx.exec1("SELECT count(*) FROM variable")[0].as<int>(), 0);
  EXPECT_EQ(tx.exec1("SELECT max(version) FROM dwfs_schema")[0].as<int>(), SchemaVersion());
}

TEST(MigrationsTest, UnreachableDatabaseIsAnIOError) {
  int version = 0;
  Status st = DatabaseSchemaVersion("postgresql://u:hunter2pw@/nodb?host=/nonexistent-dwfs-dir&port=1", &version);
  EXPECT_EQ(st.code(), Status::Code::kIOError);
  EXPECT_NE(st.message().find("cannot connect to the metadata database"), std::string::npos) << st.message();
  EXPECT_EQ(st.message().find("hunter2pw"), std::string::npos) << st.message();
}

TEST(MigrationsTest, StoreOpenOnAnUnmigratedDatabaseAsksForMigrate) {
  TestDatabase db;
  DWFS_REQUIRE_DB(db);
  {
    pqxx::connection conn(db.url());
    pqxx::work tx(conn);
    tx.exec("DELETE FROM dwfs_schema");
    tx.commit();
  }
  std::unique_ptr<Store> store;
  Status st = Store::Open(db.url(), &store);
  EXPECT_EQ(st.code(), Status::Code::kFailedPrecondition);
  EXPECT_NE(st.message().find("database schema is at version 0, this dwfs needs " + std::to_string(SchemaVersion())),
            std::string::npos)
      << st.message();
  EXPECT_NE(st.message().find("dwfs db migrate"), std::string::npos) << st.message();
  EXPECT_EQ(store, nullptr);
}

TEST(MigrationsTest, WithDatabaseKeepsTheQuery) {
  EXPECT_EQ(TestDatabase::WithDatabase("postgresql://postgres@/dwfs_test?host=/tmp/x&port=5432", "d1"),
            "postgresql://postgres@/d1?host=/tmp/x&port=5432");
  EXPECT_EQ(TestDatabase::WithDatabase("postgresql://u:p@h:5432?sslmode=disable", "d2"),
            "postgresql://u:p@h:5432/d2?sslmode=disable");
  EXPECT_EQ(TestDatabase::WithDatabase("postgresql://h/db", "d3"), "postgresql://h/d3");
}

}  // namespace
}  // namespace dwfs
