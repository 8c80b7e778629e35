// Connections: named endpoints (a database, an HTTP service) that tasks and
// templates refer to by id (dag-files.md, "Connections").
//
// A connection is given as a URI,
//   scheme://[login[:password]@][host][:port][/schema][?key=value&...]
// and resolves, in order, from the environment variable DWFS_CONN_<ID> and
// then (later) from the connection store. Passwords are secrets: no error
// message of this module ever contains one (nor any other part of the URI,
// which could hold a mis-parsed password), and MaskedUri() is the form for
// logs and listings.
//
// Everything here is pure: no I/O, no global state. Connection is a value
// type; the sources are immutable after construction and thread-safe.
#ifndef DWFS_CONNECTION_H_
#define DWFS_CONNECTION_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "dwfs/status.h"

namespace dwfs {

struct Connection {
  std::string conn_id;
  std::string conn_type;  // the URI scheme, lower-cased: "postgresql", "postgres", "http"...
  std::string host;       // decoded; IPv6 addresses without their brackets
  std::string login;      // decoded
  std::string password;   // decoded; a secret
  std::string schema;     // decoded path without its leading '/' ("db")
  std::optional<int> port;
  std::map<std::string, std::string> extra;  // decoded query parameters
  std::string uri;                           // the full URI as given (surrounding whitespace trimmed)

  // A libpq-compatible URI built from the fields: scheme "postgresql" for
  // conn_type "postgres" or "postgresql" (any other type keeps its scheme),
  // every component percent-encoded as needed, extras as sorted query
  // parameters. For pqxx::connection. Contains the password.
  std::string LibpqUri() const;

  // `uri` with the password, and the value of any "password" query
  // parameter, replaced by "***"; the rest is kept as given. When `uri` is
  // empty (a connection built from fields), the same form as LibpqUri() but
  // with the type's own scheme and the password masked. Never contains the
  // password.
  std::string MaskedUri() const;
};

// Parses `uri` (see the top of this file) into *out, with conn_id set.
// Percent-decoding (RFC 3986; '+' is a literal plus) applies to the login,
// password, host, schema and query keys and values. The userinfo ends at the
// last '@' before the first '/', so a raw '@' in a password is accepted; a
// raw '/' is not (percent-encode it as %2F). A repeated query key keeps its
// last value; "?flag" gives flag = "". The port, if given, is 1..65535.
// Leading and trailing whitespace is trimmed; whitespace or control
// characters inside are an error.
//
// Errors are InvalidArgument: "connection 'x': <what is wrong>". They name
// the connection id and the faulty component but never quote the URI.
// On error *out is unchanged.
Status ParseConnectionUri(const std::string& conn_id, const std::string& uri, Connection* out);

// The secret strings of `c`, for masking text that may contain them (logs of
// rendered templates): the password, decoded and as written in `uri` when
// that differs, and likewise the value of any "password" query parameter
// (any case). Empty strings are left out; no duplicates.
std::vector<std::string> ConnectionSecrets(const Connection& c);

// The environment variable that holds connection `conn_id`:
// "DWFS_CONN_" + the id upper-cased, with every character other than
// [A-Za-z0-9_] ('.', '-') replaced by '_'. "my-db.eu" -> DWFS_CONN_MY_DB_EU.
std::string ConnectionEnvVar(const std::string& conn_id);

// A source of connections by id.
class ConnectionSource {
 public:
  virtual ~ConnectionSource() = default;
  // Fills *out. NotFound when the source has no such connection;
  // InvalidArgument when it has one that does not parse.
  virtual Status Get(const std::string& conn_id, Connection* out) const = 0;
};

// Connections from DWFS_CONN_<ID> variables of an environment map (pass the
// process environment, or a fixed map in tests). A variable that is set but
// empty counts as unset.
class EnvConnectionSource : public ConnectionSource {
 public:
  explicit EnvConnectionSource(std::map<std::string, std::string> env);
  // NotFound: "connection 'x' not found (set DWFS_CONN_X or add it with
  // dwfs connections add)".
  Status Get(const std::string& conn_id, Connection* out) const override;

 private:
  std::map<std::string, std::string> env_;
};

// Asks each source in order and returns the first answer that is not
// NotFound (a connection, or a parse error: a broken higher-priority
// definition is reported, not skipped). When every source says NotFound,
// returns the first source's NotFound. The sources must outlive this object.
class ChainedConnectionSource : public ConnectionSource {
 public:
  explicit ChainedConnectionSource(std::vector<const ConnectionSource*> sources);
  Status Get(const std::string& conn_id, Connection* out) const override;

 private:
  std::vector<const ConnectionSource*> sources_;
};

}  // namespace dwfs

#endif  // DWFS_CONNECTION_H_
