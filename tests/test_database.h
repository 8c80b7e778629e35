// TestDatabase: a private, migrated PostgreSQL database for one test, on the
// server of DWFS_TEST_DATABASE_URL (scripts/test starts one).
//
// The constructor runs CREATE DATABASE dwfs_t_<pid>_<counter> (from
// template0) and MigrateDatabase() on it; the destructor drops it (WITH
// (FORCE), so open Stores do not block the drop). Not thread-safe to share;
// create one per test.
//
//   TEST(Foo, Bar) {
//     TestDatabase db;
//     DWFS_REQUIRE_DB(db);  // skip without a server, fail if creation failed
//     std::unique_ptr<Store> store = db.OpenStore();
//     ASSERT_NE(store, nullptr);
//   }
#ifndef DWFS_TESTS_TEST_DATABASE_H_
#define DWFS_TESTS_TEST_DATABASE_H_

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include "dwfs/migrations.h"
#include "dwfs/store.h"

namespace dwfs {

class TestDatabase {
 public:
  TestDatabase() {
    const char* server = std::getenv("DWFS_TEST_DATABASE_URL");
    if (server == nullptr || *server == '\0') {
      error_ = "DWFS_TEST_DATABASE_URL is not set; run the tests via scripts/test, which starts a PostgreSQL test cluster";
      return;
    }
    server_url_ = server;
    static std::atomic<int> counter{0};
    name_ = "dwfs_t_" + std::to_string(getpid()) + "_" + std::to_string(counter++);
    url_ = WithDatabase(server_url_, name_);
    try {
      pqxx::connection conn(server_url_);
      pqxx::nontransaction tx(conn);
      tx.exec("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
      tx.exec("CREATE DATABASE " + name_ + " TEMPLATE template0");
    } catch (const std::exception& e) {
      error_ = std::string("cannot create the test database: ") + e.what();
      return;
    }
    created_ = true;
    Status st = MigrateDatabase(url_, nullptr, nullptr);
    if (!st.ok()) {
      error_ = "cannot migrate the test database: " + st.message();
      return;
    }
    available_ = true;
  }

  ~TestDatabase() {
    if (!created_) return;
    try {
      pqxx::connection conn(server_url_);
      pqxx::nontransaction tx(conn);
      tx.exec("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
    } catch (const std::exception&) {
      // Left behind; the throwaway cluster goes away with the test run.
    }
  }

  TestDatabase(const TestDatabase&) = delete;
  TestDatabase& operator=(const TestDatabase&) = delete;

  // False when DWFS_TEST_DATABASE_URL is unset or creation failed.
  bool available() const { return available_; }
  // Why available() is false.
  const std::string& error() const { return error_; }
  // Whether a server was configured at all.
  bool configured() const { return !server_url_.empty(); }
  // The libpq URI of the private database.
  const std::string& url() const { return url_; }
  // The private database's name.
  const std::string& name() const { return name_; }
  // Store::Open(url()); nullptr on failure (the test decides what to assert).
  std::unique_ptr<Store> OpenStore() const {
    std::unique_ptr<Store> store;
    if (!Store::Open(url_, &store).ok()) return nullptr;
    return store;
  }

  // `url` with its database name (the URI path) replaced by `database`; the
  // query (host, port, ...) is kept.
  static std::string WithDatabase(const std::string& url, const std::string& database) {
    size_t scheme = url.find("://");
    size_t authority = scheme == std::string::npos ? 0 : scheme + 3;
    size_t query = url.find('?', authority);
    size_t end_of_path = query == std::string::npos ? url.size() : query;
    size_t slash = url.find('/', authority);
    if (slash == std::string::npos || slash > end_of_path) slash = end_of_path;
    return url.substr(0, slash) + "/" + database + url.substr(end_of_path);
  }

 private:
  std::string server_url_;
  std::string name_;
  std::string url_;
  std::string error_;
  bool created_ = false;
  bool available_ = false;
};

}  // namespace dwfs

// In a test: TestDatabase db; DWFS_REQUIRE_DB(db);
// GTEST_SKIP without DWFS_TEST_DATABASE_URL, FAIL when it is set but the
// database could not be created or migrated.
#define DWFS_REQUIRE_DB(db)                                   \
  do {                                                        \
    if (!(db).available()) {                                  \
      if (!(db).configured()) GTEST_SKIP() << (db).error();   \
      FAIL() << (db).error();                                 \
    }                                                         \
  } while (false)

#endif  // DWFS_TESTS_TEST_DATABASE_H_
