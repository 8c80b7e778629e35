// `dwfs api-server` as a real process, and the API over TLS.
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <signal.h>

#include <boost/asio/ssl.hpp>
#include <boost/beast/ssl.hpp>
#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "api_test_fixture.h"
#include "api_thread.h"
#include "dwfs/password.h"
#include "dwfs/store.h"
#include "dwfs_process.h"
#include "http_test_client.h"
#include "test_database.h"
#include "test_util.h"

namespace dwfs {
namespace {

using testing::AddUser;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;

TEST(ApiProcessTest, ServesUntilSigterm) {
  TestDatabase db;
  DWFS_REQUIRE_DB(db);
  std::unique_ptr<Store> store = db.OpenStore();
  ASSERT_NE(store, nullptr);
  AddUser(*store, "viewer", Role::kViewer);
  TempDir home;
  DwfsProcess d({"api-server", "-p", "0", "-w", "2"},
                {{"DWFS_HOME", home.path()}, {"DWFS_DATABASE_URL", db.url()}, {"PATH", "/usr/bin:/bin"}},
                home.path() + "/api.log");
  ASSERT_TRUE(d.started());
  std::vector<std::string> line = d.WaitForLine("api server on http://127\\.0\\.0\\.1:([0-9]+)/api/v1 \\(auth: basic\\)");
  ASSERT_FALSE(line.empty()) << d.Log();
  uint16_t port = uint16_t(std::stoi(line[1]));
  EXPECT_EQ(testing::Get(port, "/api/v1/version").status, 200);
  EXPECT_EQ(testing::Get(port, "/api/v1/dags").status, 401);
  testing::HttpResult dags = testing::Get(port, "/api/v1/dags", "viewer", "pw-viewer");
  EXPECT_EQ(dags.status, 200) << dags.body;
  EXPECT_EQ(dags.body, R"({"dags":[],"total_entries":0})");
  d.Signal(SIGTERM);
  EXPECT_EQ(d.Wait(), 0) << d.Log();
  EXPECT_NE(d.Log().find("SIGTERM received: stopping the api server"), std::string::npos) << d.Log();
}

// End to end: a real scheduler process, the API in this process. A run
// triggered through the API is run by the scheduler; the API then shows
// its success, its task instances and the task's log; a second trigger of
// the same id is a 409; the scheduler's heartbeat makes /health healthy.
TEST(ApiProcessTest, TriggeredRunIsRunByTheSchedulerAndItsLogServed) {
  TestDatabase db;
  DWFS_REQUIRE_DB(db);
  std::unique_ptr<Store> store = db.OpenStore();
  ASSERT_NE(store, nullptr);
  AddUser(*store, "op", Role::kOp);
  TempDir home;
  std::filesystem::create_directories(home.path() + "/dags");
  std::ofstream(home.path() + "/dags/e2e.yaml") << "dag_id: e2e\n"
                                                 "tasks:\n"
                                                 "  - task_id: greet\n"
                                                 "    bash_command: echo \"hello {{ dag_run.conf.who }}\"\n";
  std::map<std::string, std::string> env = {{"DWFS_HOME", home.path()},
                                            {"DWFS_DATABASE_URL", db.url()},
                                            {"PATH", "/usr/bin:/bin"},
                                            {"DWFS__SCHEDULER__HEALTH_CHECK_PORT", "0"},
                                            {"DWFS__SCHEDULER__HEARTBEAT", "1s"}};
  DwfsProcess scheduler({"scheduler"}, env, home.path() + "/scheduler.log");
  ASSERT_TRUE(scheduler.started());
  auto log = std::make_shared<spdlog::logger>("e2e", std::make_shared<spdlog::sinks::null_sink_mt>());
  SystemClock clock;
  ApiServerOptions o;
  o.http.port = 0;
  o.database_url = db.url();
  ApiThread api(o, clock, *log);
  ASSERT_TRUE(api.Start().ok());
  auto get = [&](const std::string& target) { return testing::Get(api.port(), target, "op", "pw-op"); };
  ASSERT_TRUE(WaitFor([&] { return get("/api/v1/dags/e2e").status == 200 || scheduler.Exited(); }))
      << scheduler.Log();
  testing::HttpCall trigger;
  trigger.method = "POST";
  trigger.target = "/api/v1/dags/e2e/dagRuns";
  trigger.body = R"({"dag_run_id": "api_1", "conf": {"who": "world"}})";
  trigger.Auth("op", "pw-op");
  testing::HttpResult t = testing::Fetch(api.port(), trigger);
  ASSERT_EQ(t.status, 200) << t.body;
  std::string state;
  ASSERT_TRUE(WaitFor([&] {
    Json run = get("/api/v1/dags/e2e/dagRuns/api_1").JsonBody();
    state = run.Find("state") ? run.Find("state")->str() : "";
    return state == "success" || state == "failed" || scheduler.Exited();
  })) << scheduler.Log();
  EXPECT_EQ(state, "success") << scheduler.Log();
  Json tis = get("/api/v1/dags/e2e/dagRuns/api_1/taskInstances").JsonBody();
  EXPECT_EQ(tis.Find("task_instances")->items()[0].Find("state")->str(), "success");
  testing::HttpResult logs = get("/api/v1/dags/e2e/dagRuns/api_1/taskInstances/greet/logs/1");
  EXPECT_EQ(logs.status, 200);
  EXPECT_NE(logs.body.find("hello world"), std::string::npos) << logs.body;
  EXPECT_EQ(testing::Fetch(api.port(), trigger).status, 409);
  Json health = testing::Get(api.port(), "/health").JsonBody();
  EXPECT_EQ(health.Find("scheduler")->Find("status")->str(), "healthy") << health.Dump();
  scheduler.Signal(SIGTERM);
  EXPECT_EQ(scheduler.Wait(), 0) << scheduler.Log();
}

TEST(ApiProcessTest, NoDatabaseIsAClearError) {
  TempDir home;
  DwfsProcess d({"api-server", "-p", "0"}, {{"DWFS_HOME", home.path()}, {"PATH", "/usr/bin:/bin"}},
                home.path() + "/api.log");
  EXPECT_EQ(d.Wait(), 2);
  EXPECT_NE(d.Log().find("no database configured: set database.url or DWFS_DATABASE_URL"), std::string::npos)
      << d.Log();
}

// A self-signed P-256 certificate for 127.0.0.1, written as PEM files.
void MakeCertificate(const std::string& cert_path, const std::string& key_path) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  ASSERT_NE(key, nullptr);
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), -60);
  X509_gmtime_adj(X509_getm_notAfter(x), 3600);
  X509_set_pubkey(x, key);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("127.0.0.1"), -1, -1, 0);
  X509_set_issuer_name(x, name);
  ASSERT_GT(X509_sign(x, key, EVP_sha256()), 0);
  FILE* c = std::fopen(cert_path.c_str(), "w");
  FILE* k = std::fopen(key_path.c_str(), "w");
  ASSERT_TRUE(c && k);
  PEM_write_X509(c, x);
  PEM_write_PrivateKey(k, key, nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(c);
  std::fclose(k);
  X509_free(x);
  EVP_PKEY_free(key);
}

// GET over TLS, trusting only `cert_path`; the status, or 0 with *error.
int TlsGet(uint16_t port, const std::string& cert_path, const std::string& target, std::string* body,
           std::string* error) {
  try {
    asio::io_context io;
    ssl::context ctx(ssl::context::tls_client);
    ctx.load_verify_file(cert_path);
    ctx.set_verify_mode(ssl::verify_peer);
    beast::ssl_stream<beast::tcp_stream> s(io, ctx);
    beast::get_lowest_layer(s).expires_after(std::chrono::seconds(20));
    beast::get_lowest_layer(s).connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    s.handshake(ssl::stream_base::client);
    http::request<http::empty_body> req(http::verb::get, target, 11);
    req.set(http::field::host, "127.0.0.1");
    req.set(http::field::authorization, "Basic " + Base64Encode("viewer:pw-viewer"));
    http::write(s, req);
    beast::flat_buffer buf;
    http::response<http::string_body> res;
    http::read(s, buf, res);
    *body = res.body();
    return int(res.result_int());
  } catch (const std::exception& e) {
    *error = e.what();
    return 0;
  }
}

TEST(ApiTlsTest, ServesHttpsOnlyWithTheConfiguredCertificate) {
  TestDatabase db;
  DWFS_REQUIRE_DB(db);
  std::unique_ptr<Store> store = db.OpenStore();
  ASSERT_NE(store, nullptr);
  AddUser(*store, "viewer", Role::kViewer);
  TempDir dir;
  std::string cert = dir.path() + "/cert.pem", key = dir.path() + "/key.pem";
  MakeCertificate(cert, key);
  auto log = std::make_shared<spdlog::logger>("tls", std::make_shared<spdlog::sinks::null_sink_mt>());
  SystemClock clock;
  ApiServerOptions o;
  o.http.port = 0;
  o.http.tls_cert = cert;
  o.http.tls_key = key;
  o.http.request_timeout = std::chrono::milliseconds(500);
  o.database_url = db.url();
  ApiThread api(o, clock, *log);
  ASSERT_TRUE(api.Start().ok());
  std::string body, error;
  EXPECT_EQ(TlsGet(api.port(), cert, "/api/v1/dags", &body, &error), 200) << error;
  EXPECT_EQ(body, R"({"dags":[],"total_entries":0})");
  // Plain HTTP to the TLS port gets no HTTP answer.
  testing::HttpResult plain = testing::Get(api.port(), "/api/v1/version");
  EXPECT_EQ(plain.status, 0);
  // Another certificate is not trusted by the client: the server's is the one served.
  std::string other_cert = dir.path() + "/other.pem", other_key = dir.path() + "/other.key";
  MakeCertificate(other_cert, other_key);
  EXPECT_EQ(TlsGet(api.port(), other_cert, "/api/v1/version", &body, &error), 0);
  EXPECT_NE(error, "");
}

TEST(ApiTlsTest, MissingCertificateIsAnErrorNamingIt) {
  auto log = std::make_shared<spdlog::logger>("tls", std::make_shared<spdlog::sinks::null_sink_mt>());
  SystemClock clock;
  ApiServerOptions o;
  o.http.tls_cert = "/nonexistent/cert.pem";
  o.http.tls_key = "/nonexistent/key.pem";
  asio::io_context io;
  ApiServer s(io, o, clock, *log);
  Status st = s.Start();
  EXPECT_EQ(st.code(), Status::Code::kIOError);
  EXPECT_NE(st.message().find("TLS certificate /nonexistent/cert.pem"), std::string::npos) << st.message();
  ApiServerOptions half;
  half.http.tls_cert = "/x.pem";
  ApiServer s2(io, half, clock, *log);
  EXPECT_NE(s2.Start().message().find("both api.tls_cert and api.tls_key"), std::string::npos);
}

}  // namespace
}  // namespace dwfs
