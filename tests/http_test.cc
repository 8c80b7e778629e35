// The pure HTTP helpers (http.h): targets, escapes, ranges, Basic auth.
#include "dwfs/http.h"

#include <gtest/gtest.h>

namespace dwfs {
namespace {

using Query = std::vector<std::pair<std::string, std::string>>;

TEST(HttpTest, TargetDecodesPathAndQuery) {
  std::string path;
  Query q;
  ASSERT_TRUE(ParseTarget("/api/v1/dags/my%20dag/dagRuns?limit=2&tags=a&tags=b%2Bc&x=1+2&flag", &path, &q));
  EXPECT_EQ(path, "/api/v1/dags/my dag/dagRuns");
  EXPECT_EQ(q, (Query{{"limit", "2"}, {"tags", "a"}, {"tags", "b+c"}, {"x", "1 2"}, {"flag", ""}}));
  ASSERT_TRUE(ParseTarget("/a/manual__2026-01-01T00:00:00+00:00", &path, &q));
  EXPECT_EQ(path, "/a/manual__2026-01-01T00:00:00+00:00");  // '+' is literal in a path
  EXPECT_TRUE(q.empty());
}

TEST(HttpTest, TargetRefusesTraversalAndBadEscapes) {
  std::string path;
  Query q;
  for (const char* bad : {"", "api/v1", "http://x/y", "/a/../b", "/a/./b", "/a/%2e%2E/b", "/a/%2E/b", "/a/b%2Fc",
                          "/a/%", "/a/%4", "/a/%zz", "/a%00b", "/a?x=%", "/a?%00=1", "/..", "/a/.."}) {
    EXPECT_FALSE(ParseTarget(bad, &path, &q)) << bad;
  }
  // Dots inside a segment are fine (DAG ids may contain them).
  EXPECT_TRUE(ParseTarget("/dags/etl.v2..x/runs", &path, &q));
  EXPECT_EQ(path, "/dags/etl.v2..x/runs");
}

TEST(HttpTest, PathSegmentsDropEmptyOnes) {
  EXPECT_EQ(PathSegments("/api//v1/dags/"), (std::vector<std::string>{"api", "v1", "dags"}));
  EXPECT_TRUE(PathSegments("/").empty());
}

TEST(HttpTest, RangeForms) {
  ByteRange r;
  EXPECT_EQ(ParseRange("", 100, &r), RangeResult::kNone);
  ASSERT_EQ(ParseRange("bytes=0-9", 100, &r), RangeResult::kSatisfiable);
  EXPECT_EQ(r.offset, 0u);
  EXPECT_EQ(r.length, 10u);
  ASSERT_EQ(ParseRange("bytes=90-", 100, &r), RangeResult::kSatisfiable);
  EXPECT_EQ(r.offset, 90u);
  EXPECT_EQ(r.length, 10u);
  ASSERT_EQ(ParseRange("bytes=95-1000", 100, &r), RangeResult::kSatisfiable);
  EXPECT_EQ(r.length, 5u);
  ASSERT_EQ(ParseRange("bytes=-30", 100, &r), RangeResult::kSatisfiable);
  EXPECT_EQ(r.offset, 70u);
  EXPECT_EQ(r.length, 30u);
  ASSERT_EQ(ParseRange("bytes=-300", 100, &r), RangeResult::kSatisfiable);
  EXPECT_EQ(r.offset, 0u);
  EXPECT_EQ(r.length, 100u);
  EXPECT_EQ(ParseRange("bytes=100-", 100, &r), RangeResult::kUnsatisfiable);
  EXPECT_EQ(ParseRange("bytes=-0", 100, &r), RangeResult::kUnsatisfiable);
  EXPECT_EQ(ParseRange("bytes=0-", 0, &r), RangeResult::kUnsatisfiable);
  for (const char* bad : {"items=0-1", "bytes=5-1", "bytes=0-1,3-4", "bytes=x-1", "bytes=-", "bytes=1",
                          "bytes=99999999999999999999-"}) {
    EXPECT_EQ(ParseRange(bad, 100, &r), RangeResult::kInvalid) << bad;
  }
}

TEST(HttpTest, BasicAuthRoundTrip) {
  std::string user, password;
  ASSERT_TRUE(ParseBasicAuth("Basic " + Base64Encode("alice:s3cr:et"), &user, &password));
  EXPECT_EQ(user, "alice");
  EXPECT_EQ(password, "s3cr:et");  // only the first colon splits
  ASSERT_TRUE(ParseBasicAuth("basic " + Base64Encode("a:"), &user, &password));
  EXPECT_EQ(user, "a");
  EXPECT_EQ(password, "");
  EXPECT_EQ(Base64Encode("ab"), "YWI=");
  EXPECT_EQ(Base64Encode("abc"), "YWJj");
  EXPECT_EQ(Base64Encode("a"), "YQ==");
  for (const char* bad : {"", "Bearer abc", "Basic", "Basic !!!!", "Basic YWJj",  /* no colon */
                          "Basic YQ=", "Basic Y===", "Basic YQ==YQ=="}) {
    EXPECT_FALSE(ParseBasicAuth(bad, &user, &password)) << bad;
  }
}

TEST(HttpTest, ProblemShape) {
  HttpResponse r = HttpResponse::Problem(409, "run 'x' exists");
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.body, R"({"type":"about:blank","title":"Conflict","status":409,"detail":"run 'x' exists"})");
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0].second, "application/problem+json");
}

}  // namespace
}  // namespace dwfs
