// Password hashing (crypt SHA-512, salted) and roles.
#include <gtest/gtest.h>

#include "dwfs/password.h"
#include "dwfs/users.h"

namespace dwfs {
namespace {

TEST(Password, HashesAreSaltedSlowSha512AndVerify) {
  std::string a, b;
  ASSERT_TRUE(HashPassword("correct horse", &a).ok());
  ASSERT_TRUE(HashPassword("correct horse", &b).ok());
  EXPECT_NE(a, b);  // a fresh salt each time
  EXPECT_EQ(a.rfind("$6$rounds=100000$", 0), 0u) << a;
  EXPECT_EQ(a.find("correct horse"), std::string::npos);
  EXPECT_TRUE(VerifyPassword("correct horse", a));
  EXPECT_TRUE(VerifyPassword("correct horse", b));
  EXPECT_FALSE(VerifyPassword("correct horsE", a));
  EXPECT_FALSE(VerifyPassword("", a));
  EXPECT_FALSE(VerifyPassword(std::string("correct horse\0x", 15), a));
}

TEST(Password, BadInputIsRefusedWithoutEchoingIt) {
  std::string h;
  EXPECT_EQ(HashPassword("", &h).code(), Status::Code::kInvalidArgument);
  Status st = HashPassword(std::string("se\0cret", 7), &h);
  EXPECT_EQ(st.code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(st.message().find("cret"), std::string::npos);
  EXPECT_FALSE(VerifyPassword("x", ""));
  EXPECT_FALSE(VerifyPassword("x", "not a hash"));
  EXPECT_FALSE(VerifyPassword("x", "$6$"));
}

TEST(Password, ConstantTimeEqualsComparesWholeStrings) {
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "ab"));
  EXPECT_TRUE(ConstantTimeEquals("", ""));
}

TEST(Roles, ParseIsCaseInsensitiveAndNamesRoundTrip) {
  Role r;
  for (Role want : {Role::kAdmin, Role::kOp, Role::kViewer}) {
    ASSERT_TRUE(ParseRole(RoleName(want), &r));
    EXPECT_EQ(r, want);
  }
  ASSERT_TRUE(ParseRole("ADMIN", &r));
  EXPECT_EQ(r, Role::kAdmin);
  EXPECT_FALSE(ParseRole("root", &r));
  EXPECT_FALSE(ParseRole("", &r));
}

}  // namespace
}  // namespace dwfs
