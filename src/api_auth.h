// Authenticator: HTTP Basic credentials against the users in the store
// (users.h), for the API server. Thread-safe.
//
// A password verified against a user's stored hash is remembered as
// HMAC-SHA256 under a key drawn at construction (never in clear), next to
// that stored hash: the next request with the same password costs one
// HMAC, and a changed or deleted user is seen at once because the stored
// row is read on every request. An unknown user costs a full hash too, so
// timing does not tell which user names exist. Failures are logged (user
// name and peer, never the password) at warning level.
#ifndef DWFS_API_AUTH_H_
#define DWFS_API_AUTH_H_

#include <spdlog/logger.h>

#include <map>
#include <mutex>
#include <string>

#include "dwfs/http.h"
#include "dwfs/status.h"
#include "dwfs/store.h"
#include "dwfs/users.h"

namespace dwfs {
namespace api {

class Authenticator {
 public:
  explicit Authenticator(spdlog::logger& log);

  // OK and *user (without its hash) for valid Basic credentials in `req`.
  // NotFound-free: every failure is Status::Failed("...") for a 401;
  // IOError when the store cannot be read (503).
  Status Check(Store& store, const HttpRequest& req, UserRecord* user);
  // The same for a name and password (the login form); `remote` for logs.
  Status CheckPassword(Store& store, const std::string& name, const std::string& password, const std::string& remote,
                       UserRecord* user);

  // --- browser sessions (the web UI's login) ---
  // A new session for `user`: returns its token (64 hex digits, for the
  // cookie) and sets *csrf (64 hex digits, sent back by the page in the
  // X-CSRF-Token header). Sessions live in this process only; one unused
  // for `idle` ends. At most kMaxSessions: the least recently used goes.
  std::string CreateSession(const std::string& user, Instant now, std::string* csrf);
  // OK with the session's user (read again from the store: a deleted user
  // or a changed role is seen at once) and CSRF token; Failed when the
  // token is unknown or expired (or its user is gone).
  Status CheckSession(Store& store, const std::string& token, Instant now, UserRecord* user, std::string* csrf);
  void EndSession(const std::string& token);

  static constexpr size_t kMaxSessions = 10000;
  Seconds idle{12 * 3600};

 private:
  std::string Digest(const std::string& password) const;

  spdlog::logger& log_;
  std::string key_;  // 32 random bytes
  std::string dummy_hash_;  // verified against for unknown users
  std::mutex mu_;
  struct Entry {
    std::string stored_hash;
    std::string digest;
  };
  std::map<std::string, Entry> verified_;  // by user name; GUARDED_BY(mu_)
  struct Session {
    std::string user;
    std::string csrf;
    Instant last_used;
  };
  std::map<std::string, Session> sessions_;  // by Digest(token), never the token; GUARDED_BY(mu_)
};

}  // namespace api
}  // namespace dwfs

#endif  // DWFS_API_AUTH_H_
