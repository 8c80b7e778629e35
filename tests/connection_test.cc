// Connections: URI parsing with percent-decoding, the libpq and masked
// forms, environment and chained sources, and the rule that no error
// message ever contains the password.
#include "dwfs/connection.h"

#include <gtest/gtest.h>

namespace dwfs {
namespace {

Connection MustParse(const std::string& uri, const std::string& id = "c") {
  Connection c;
  Status st = ParseConnectionUri(id, uri, &c);
  EXPECT_TRUE(st.ok()) << uri << ": " << st.ToString();
  return c;
}

TEST(ConnectionUri, Components) {
  struct {
    const char* uri;
    const char* type;
    const char* login;
    const char* password;
    const char* host;
    std::optional<int> port;
    const char* schema;
  } cases[] = {
      {"postgresql://user:pass@db.example.com:5432/sales", "postgresql", "user", "pass", "db.example.com", 5432,
       "sales"},
      {"postgres://user:pass@localhost/db", "postgres", "user", "pass", "localhost", std::nullopt, "db"},
      {"POSTGRES://u@h", "postgres", "u", "", "h", std::nullopt, ""},
      {"http://example.com", "http", "", "", "example.com", std::nullopt, ""},
      {"http://example.com:8080/", "http", "", "", "example.com", 8080, ""},
      {"postgresql://", "postgresql", "", "", "", std::nullopt, ""},
      {"postgresql:///db", "postgresql", "", "", "", std::nullopt, "db"},
      {"postgresql://h:/db", "postgresql", "", "", "h", std::nullopt, "db"},
      {"postgresql://:secret@h/db", "postgresql", "", "secret", "h", std::nullopt, "db"},
      {"postgresql://u:@h/db", "postgresql", "u", "", "h", std::nullopt, "db"},
      {"postgresql://[::1]:6543/db", "postgresql", "", "", "::1", 6543, "db"},
      {"postgresql://u:p@[2001:db8::2]/db", "postgresql", "u", "p", "2001:db8::2", std::nullopt, "db"},
      // Percent-decoding of every component.
      {"postgresql://us%40er:p%40ss%3Aw%2Frd%25@h%2Dx:5432/my%20db", "postgresql", "us@er", "p@ss:w/rd%", "h-x", 5432,
       "my db"},
      {"postgresql://%2Fvar%2Frun%2Fpostgresql/db", "postgresql", "", "", "/var/run/postgresql", std::nullopt, "db"},
      // A raw '@' in the password: the userinfo ends at the last '@'.
      {"postgresql://u:p@ss@h/db", "postgresql", "u", "p@ss", "h", std::nullopt, "db"},
      // A raw ':' in the password: the password is everything after the first ':'.
      {"postgresql://u:a:b@h/db", "postgresql", "u", "a:b", "h", std::nullopt, "db"},
      // '+' is a literal plus (RFC 3986, like libpq).
      {"postgresql://u:a+b@h/db", "postgresql", "u", "a+b", "h", std::nullopt, "db"},
      // Surrounding whitespace (a trailing newline in an env file) is trimmed.
      {"  postgresql://u:p@h/db\n", "postgresql", "u", "p", "h", std::nullopt, "db"},
      {"postgresql://h:65535", "postgresql", "", "", "h", 65535, ""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.uri);
    Connection conn = MustParse(c.uri, "wh");
    EXPECT_EQ(conn.conn_id, "wh");
    EXPECT_EQ(conn.conn_type, c.type);
    EXPECT_EQ(conn.login, c.login);
    EXPECT_EQ(conn.password, c.password);
    EXPECT_EQ(conn.host, c.host);
    EXPECT_EQ(conn.port, c.port);
    EXPECT_EQ(conn.schema, c.schema);
  }
}

TEST(ConnectionUri, KeepsTheUriAsGiven) {
  EXPECT_EQ(MustParse("postgres://u:p%40@h/db?sslmode=require").uri, "postgres://u:p%40@h/db?sslmode=require");
  EXPECT_EQ(MustParse(" postgres://h \n").uri, "postgres://h");
}

TEST(ConnectionUri, QueryParameters) {
  Connection c = MustParse("postgresql://h/db?sslmode=require&application_name=dw%20fs&flag&&k%3D=v%26w&x=1&x=2");
  std::map<std::string, std::string> want = {
      {"sslmode", "require"}, {"application_name", "dw fs"}, {"flag", ""}, {"k=", "v&w"}, {"x", "2"}};
  EXPECT_EQ(c.extra, want);
  EXPECT_EQ(c.schema, "db");

  Connection no_path = MustParse("http://h:80?a=b");
  EXPECT_EQ(no_path.host, "h");
  EXPECT_EQ(no_path.port, 80);
  EXPECT_EQ(no_path.schema, "");
  EXPECT_EQ(no_path.extra.at("a"), "b");
}

TEST(ConnectionUri, Errors) {
  struct {
    const char* uri;
    const char* message;
  } cases[] = {
      {"", "connection 'wh': empty URI"},
      {"   ", "connection 'wh': empty URI"},
      {"user:hunter2@host/db", "connection 'wh': not a URI: expected scheme://[login[:password]@]host[:port][/schema]"},
      {"://u:hunter2@h", "connection 'wh': invalid URI scheme"},
      {"1pg://u:hunter2@h", "connection 'wh': invalid URI scheme"},
      {"p_g://u:hunter2@h", "connection 'wh': invalid URI scheme"},
      {"postgresql://u:hun ter2@h", "connection 'wh': URI contains a space or control character (percent-encode it)"},
      {"postgresql://u:hunter2\x01@h",
       "connection 'wh': URI contains a space or control character (percent-encode it)"},
      {"postgresql://u:hunter2%zz@h", "connection 'wh': invalid percent-encoding in the password"},
      {"postgresql://u:hunter2%4@h", "connection 'wh': invalid percent-encoding in the password"},
      {"postgresql://u%g1:hunter2@h", "connection 'wh': invalid percent-encoding in the login"},
      {"postgresql://u:hunter2@h%/db", "connection 'wh': invalid percent-encoding in the host"},
      {"postgresql://u:hunter2@h/d%b", "connection 'wh': invalid percent-encoding in the schema"},
      {"postgresql://u:hunter2@h/d?a=%", "connection 'wh': invalid percent-encoding in the query parameter value"},
      {"postgresql://u:hunter2@h/d?%=1", "connection 'wh': invalid percent-encoding in the query parameter name"},
      {"postgresql://u:hunter2@h/d?=1", "connection 'wh': empty query parameter name"},
      {"postgresql://u:hunter2@h:0/db", "connection 'wh': port out of range 1..65535"},
      {"postgresql://u:hunter2@h:65536/db", "connection 'wh': port out of range 1..65535"},
      {"postgresql://u:hunter2@h:99999999999999999999/db", "connection 'wh': port out of range 1..65535"},
      {"postgresql://u:hunter2@h:54x/db",
       "connection 'wh': invalid port (percent-encode special characters such as '/', ':' or '@' in the password)"},
      // A raw '/' in the password cuts the authority short: "u" is taken as
      // the host and "hunter2" as the port. The message must not echo it.
      {"postgresql://u:hunter2/x@h/db",
       "connection 'wh': invalid port (percent-encode special characters such as '/', ':' or '@' in the password)"},
      {"postgresql://u:hunter2@[::1/db", "connection 'wh': unterminated '[' in the host"},
      {"postgresql://u:hunter2@[::1]x/db", "connection 'wh': unexpected text after ']' in the host"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.uri);
    Connection conn;
    conn.host = "unchanged";
    Status st = ParseConnectionUri("wh", c.uri, &conn);
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.code(), Status::Code::kInvalidArgument);
    EXPECT_EQ(st.message(), c.message);
    EXPECT_EQ(st.message().find("hunter2"), std::string::npos);
    EXPECT_EQ(conn.host, "unchanged");
  }
}

TEST(ConnectionUri, LibpqUri) {
  struct {
    const char* uri;
    const char* libpq;
  } cases[] = {
      {"postgres://user:pass@h:5432/db", "postgresql://user:pass@h:5432/db"},
      {"postgresql://user:pass@h:5432/db", "postgresql://user:pass@h:5432/db"},
      {"POSTGRES://u@h", "postgresql://u@h"},
      {"postgres://h", "postgresql://h"},
      {"postgres://", "postgresql://"},
      {"postgres://:pw@h", "postgresql://:pw@h"},
      {"postgres://u:p%40ss%2Fw@h/my%20db", "postgresql://u:p%40ss%2Fw@h/my%20db"},
      {"postgres://u:p@ss@h/db", "postgresql://u:p%40ss@h/db"},
      {"postgres://[::1]:5433/db", "postgresql://[::1]:5433/db"},
      {"postgres://%2Ftmp/db", "postgresql://%2Ftmp/db"},
      {"postgres://h/db?sslmode=require&application_name=a%20b",
       "postgresql://h/db?application_name=a%20b&sslmode=require"},
      {"http://u:p@example.com:8080/v1", "http://u:p@example.com:8080/v1"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.uri);
    Connection conn = MustParse(c.uri);
    EXPECT_EQ(conn.LibpqUri(), c.libpq);
    // The libpq form parses back to the same fields.
    Connection again = MustParse(conn.LibpqUri());
    EXPECT_EQ(again.login, conn.login);
    EXPECT_EQ(again.password, conn.password);
    EXPECT_EQ(again.host, conn.host);
    EXPECT_EQ(again.port, conn.port);
    EXPECT_EQ(again.schema, conn.schema);
    EXPECT_EQ(again.extra, conn.extra);
  }
}

TEST(ConnectionUri, MaskedUri) {
  struct {
    const char* uri;
    const char* masked;
  } cases[] = {
      {"postgres://user:hunter2@h:5432/db", "postgres://user:***@h:5432/db"},
      {"postgres://user:hun%40ter2@h/db", "postgres://user:***@h/db"},
      {"postgres://user:hun@ter2@h/db", "postgres://user:***@h/db"},
      {"postgres://user@h/db", "postgres://user@h/db"},
      {"postgres://user:@h/db", "postgres://user:@h/db"},
      {"postgres://h/db?password=hunter2&sslmode=require", "postgres://h/db?password=***&sslmode=require"},
      {"postgres://u:hunter2@h/db?PassWord=hunter2&a=1&password=x",
       "postgres://u:***@h/db?PassWord=***&a=1&password=***"},
      {" postgres://u:hunter2@h \n", "postgres://u:***@h"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.uri);
    Connection conn = MustParse(c.uri);
    EXPECT_EQ(conn.MaskedUri(), c.masked);
  }

  // A connection built from fields (a store row) has no URI.
  Connection built;
  built.conn_type = "postgres";
  built.login = "u";
  built.password = "hunter2";
  built.host = "h";
  built.port = 5432;
  built.schema = "db";
  built.extra = {{"password", "hunter2"}, {"sslmode", "disable"}};
  EXPECT_EQ(built.MaskedUri(), "postgres://u:***@h:5432/db?password=***&sslmode=disable");
  EXPECT_EQ(built.LibpqUri(), "postgresql://u:hunter2@h:5432/db?password=hunter2&sslmode=disable");
}

TEST(ConnectionUri, Secrets) {
  EXPECT_EQ(ConnectionSecrets(MustParse("postgres://u:p%40ss@h/db?password=x%20y&Password=x%20y")),
            (std::vector<std::string>{"p@ss", "x y", "p%40ss", "x%20y"}));
  EXPECT_EQ(ConnectionSecrets(MustParse("postgres://u:plain@h/db")), (std::vector<std::string>{"plain"}));
  EXPECT_TRUE(ConnectionSecrets(MustParse("postgres://u@h/db")).empty());
}

TEST(ConnectionEnv, VariableNames) {
  EXPECT_EQ(ConnectionEnvVar("warehouse"), "DWFS_CONN_WAREHOUSE");
  EXPECT_EQ(ConnectionEnvVar("my-db.eu_1"), "DWFS_CONN_MY_DB_EU_1");
  EXPECT_EQ(ConnectionEnvVar("MixedCase"), "DWFS_CONN_MIXEDCASE");
}

TEST(ConnectionEnv, Get) {
  EnvConnectionSource source({
      {"DWFS_CONN_WAREHOUSE", "postgres://etl:hunter2@db:5432/dw"},
      {"DWFS_CONN_MY_DB_EU", "postgresql://h/eu"},
      {"DWFS_CONN_BROKEN", "postgres://etl:hunter2@db:port/dw"},
      {"DWFS_CONN_EMPTY", ""},
      {"warehouse", "postgres://wrong"},
  });
  Connection c;
  ASSERT_TRUE(source.Get("warehouse", &c).ok());
  EXPECT_EQ(c.conn_id, "warehouse");
  EXPECT_EQ(c.host, "db");
  EXPECT_EQ(c.password, "hunter2");
  EXPECT_EQ(c.LibpqUri(), "postgresql://etl:hunter2@db:5432/dw");

  ASSERT_TRUE(source.Get("my-db.eu", &c).ok());
  EXPECT_EQ(c.conn_id, "my-db.eu");
  EXPECT_EQ(c.schema, "eu");

  Status st = source.Get("missing", &c);
  EXPECT_EQ(st.code(), Status::Code::kNotFound);
  EXPECT_EQ(st.message(), "connection 'missing' not found (set DWFS_CONN_MISSING or add it with dwfs connections add)");

  st = source.Get("empty", &c);
  EXPECT_EQ(st.code(), Status::Code::kNotFound);

  st = source.Get("broken", &c);
  EXPECT_EQ(st.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(st.message().find("connection 'broken'"), std::string::npos);
  EXPECT_EQ(st.message().find("hunter2"), std::string::npos);

  EXPECT_EQ(source.Get("", &c).code(), Status::Code::kInvalidArgument);
}

TEST(ConnectionChain, FirstAnswerWins) {
  EnvConnectionSource env({{"DWFS_CONN_A", "postgres://env-a"}, {"DWFS_CONN_BAD", "nope"}});
  EnvConnectionSource store({{"DWFS_CONN_A", "postgres://store-a"},
                             {"DWFS_CONN_B", "postgres://store-b"},
                             {"DWFS_CONN_BAD", "postgres://store-bad"}});
  ChainedConnectionSource chain({&env, &store});
  Connection c;
  ASSERT_TRUE(chain.Get("a", &c).ok());
  EXPECT_EQ(c.host, "env-a");
  ASSERT_TRUE(chain.Get("b", &c).ok());
  EXPECT_EQ(c.host, "store-b");
  // A broken higher-priority definition is reported, not skipped.
  EXPECT_EQ(chain.Get("bad", &c).code(), Status::Code::kInvalidArgument);
  Status st = chain.Get("zzz", &c);
  EXPECT_EQ(st.code(), Status::Code::kNotFound);
  EXPECT_EQ(st.message(), "connection 'zzz' not found (set DWFS_CONN_ZZZ or add it with dwfs connections add)");

  ChainedConnectionSource none({});
  EXPECT_EQ(none.Get("a", &c).code(), Status::Code::kNotFound);
}

}  // namespace
}  // namespace dwfs
