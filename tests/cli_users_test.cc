// dwfs users create | list | delete | set-password against a private
// PostgreSQL database: stored hashes verify, nothing prints a password or a
// hash, bad input is one clear line.
#include <gtest/gtest.h>

#include <cstdlib>

#include "cli_test_util.h"
#include "dwfs/password.h"
#include "dwfs/store.h"
#include "test_database.h"
#include "test_util.h"

namespace dwfs {
namespace {

class CliUsersTest : public testing::Test {
 protected:
  std::map<std::string, std::string> Env() {
    const char* path = std::getenv("PATH");
    return {{"DWFS_HOME", home_.path()}, {"DWFS_DATABASE_URL", db_.url()}, {"PATH", path ? path : "/usr/bin:/bin"}};
  }
  CliResult Run(std::vector<std::string> args) { return RunCliForTest(std::move(args), Env()); }
  UserRecord User(const std::string& name) {
    if (!store_) store_ = db_.OpenStore();
    UserRecord u;
    EXPECT_TRUE(store_->GetUser(name, &u).ok()) << name;
    return u;
  }

  TestDatabase db_;
  TempDir home_;
  std::unique_ptr<Store> store_;
};

TEST_F(CliUsersTest, CreateListSetPasswordDelete) {
  DWFS_REQUIRE_DB(db_);
  CliResult r = Run({"users", "create", "--username", "ada", "--password", "s3cret-Pw", "--role", "Admin", "--email",
                     "ada@example.com", "--firstname", "Ada", "--lastname", "Lovelace"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "user ada created with role Admin\n");
  UserRecord ada = User("ada");
  EXPECT_EQ(ada.role, Role::kAdmin);
  EXPECT_EQ(ada.email, "ada@example.com");
  EXPECT_TRUE(VerifyPassword("s3cret-Pw", ada.password_hash));

  // Without -p the password comes from stdin.
  r = RunCliForTestWithInput({"users", "create", "-u", "vic", "-r", "viewer", "-e", "v@example.com", "-f", "Vic",
                              "-l", "Tor"},
                             Env(), "from-stdin\n");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(VerifyPassword("from-stdin", User("vic").password_hash));
  EXPECT_EQ(User("vic").role, Role::kViewer);

  r = Run({"users", "list", "-o", "json"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("\"username\":\"ada\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"role\":\"Viewer\""), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("s3cret"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("$6$"), std::string::npos) << r.out;

  r = Run({"users", "set-password", "-u", "ada", "-p", "n3w-Pw"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(VerifyPassword("n3w-Pw", User("ada").password_hash));
  EXPECT_FALSE(VerifyPassword("s3cret-Pw", User("ada").password_hash));

  r = Run({"users", "delete", "-u", "vic"});
  ASSERT_EQ(r.code, 0) << r.err;
  UserRecord gone;
  EXPECT_EQ(store_->GetUser("vic", &gone).code(), Status::Code::kNotFound);
}

TEST_F(CliUsersTest, BadInputIsOneClearLine) {
  DWFS_REQUIRE_DB(db_);
  std::vector<std::string> base = {"users", "create", "-u", "ada", "-p", "pw", "-e", "a@x", "-f", "A", "-l", "L"};
  auto with_role = [&](const std::string& role) {
    std::vector<std::string> args = base;
    args.insert(args.end(), {"-r", role});
    return Run(args);
  };
  CliResult r = with_role("root");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("-r/--role 'root': use Admin, Op or Viewer"), std::string::npos) << r.err;
  ASSERT_EQ(with_role("Op").code, 0);
  r = with_role("Op");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("user 'ada' already exists"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("pw"), std::string::npos) << r.err;
  r = Run({"users", "delete", "-u", "nobody"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("user 'nobody' not found"), std::string::npos) << r.err;
  r = Run({"users", "set-password", "-u", "nobody", "-p", "x"});
  EXPECT_EQ(r.code, 2);
  r = RunCliForTestWithInput({"users", "set-password", "-u", "ada"}, Env(), "");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("no password given"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace dwfs
