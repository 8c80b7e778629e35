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

  // OK and *user (without its hash) for valid credentials. NotFound-free:
  // every failure is Status::Failed("...") for a 401; IOError when the
  // store cannot be read (503).
  Status Check(Store& store, const HttpRequest& req, UserRecord* user);

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
};

}  // namespace api
}  // namespace dwfs

#endif  // DWFS_API_AUTH_H_
