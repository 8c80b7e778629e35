// Store::set_metrics: failed transactions counted in
// dwfs_database_errors_total{operation, kind} on a real, private PostgreSQL
// database: a server error (a missing table) is a query error; a database
// that refuses connections is a connection error; answers (a duplicate
// run, a missing DAG) are not errors.
#include <cstdlib>

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include "dwfs/dwfs_metrics.h"
#include "dwfs/store.h"
#include "prometheus_text.h"
#include "test_database.h"

namespace dwfs {
namespace {

double Errors(DwfsMetrics& m, const std::string& operation, const std::string& kind) {
  return m.database_errors.WithLabels({operation, kind}).value();
}

void Exec(const std::string& url, const std::string& sql) {
  pqxx::connection conn(url);
  pqxx::nontransaction tx(conn);
  tx.exec(sql);
}

TEST(StoreMetricsTest, CountsQueryAndConnectionErrorsOnly) {
  TestDatabase db;
  DWFS_REQUIRE_DB(db);
  std::unique_ptr<Store> store = db.OpenStore();
  ASSERT_NE(store, nullptr);
  MetricsRegistry registry;
  DwfsMetrics m(registry);
  store->set_metrics(&m);

  std::map<std::string, std::string> vars;
  ASSERT_TRUE(store->ListVariables(&vars).ok());
  DagRecord dag;
  EXPECT_EQ(store->GetDag("nope", &dag).code(), Status::Code::kNotFound);  // an answer, not an error
  RunInfo info;
  info.run_id = "manual__x";
  info.logical_date = Instant(Seconds(1767225600));
  info.data_interval = {info.logical_date, info.logical_date};
  EXPECT_FALSE(store->CreateRun("nope", info, RunState::kQueued, info.logical_date, std::nullopt).ok());
  EXPECT_EQ(registry.RenderPrometheus().find("dwfs_database_errors_total{"), std::string::npos)
      << registry.RenderPrometheus();

  Exec(db.url(), "ALTER TABLE variable RENAME TO variable_gone");
  EXPECT_EQ(store->ListVariables(&vars).code(), Status::Code::kInternal);
  EXPECT_EQ(store->ListVariables(&vars).code(), Status::Code::kInternal);
  EXPECT_EQ(Errors(m, "list_variables", "query"), 2);
  EXPECT_NE(registry.RenderPrometheus().find(
                "dwfs_database_errors_total{operation=\"list_variables\",kind=\"query\"} 2\n"),
            std::string::npos)
      << registry.RenderPrometheus();
  Exec(db.url(), "ALTER TABLE variable_gone RENAME TO variable");

  // No new connections, and ours is gone: the one reconnect fails.
  const char* server = std::getenv("DWFS_TEST_DATABASE_URL");
  ASSERT_NE(server, nullptr);
  Exec(server, "ALTER DATABASE " + db.name() + " ALLOW_CONNECTIONS false");
  Exec(server, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + db.name() + "'");
  EXPECT_EQ(store->ListVariables(&vars).code(), Status::Code::kIOError);
  EXPECT_EQ(Errors(m, "list_variables", "connection"), 1);
  Exec(server, "ALTER DATABASE " + db.name() + " ALLOW_CONNECTIONS true");
  EXPECT_TRUE(store->ListVariables(&vars).ok());
  EXPECT_EQ(Errors(m, "list_variables", "connection"), 1);
  EXPECT_EQ(Errors(m, "list_variables", "query"), 2);
  // Nothing else failed.
  PromText p;
  std::string error;
  ASSERT_TRUE(ParsePrometheusText(registry.RenderPrometheus(), &p, &error)) << error;
  EXPECT_EQ(p.Sum("dwfs_database_errors_total"), 3);
  store->set_metrics(nullptr);
  EXPECT_EQ(store->GetDag("x", &dag).code(), Status::Code::kNotFound);
}

}  // namespace
}  // namespace dwfs
