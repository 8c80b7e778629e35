// Basic authentication for the API; see api_auth.h.
#include "api_auth.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sys/random.h>

#include "dwfs/password.h"

namespace dwfs {
namespace api {

namespace {

// The user name as it may appear in a log line: printable ASCII, at most 64.
std::string ForLog(const std::string& name) {
  std::string out;
  for (char c : name.substr(0, 64)) out.push_back(c >= 0x20 && c < 0x7f ? c : '?');
  return out;
}

}  // namespace

Authenticator::Authenticator(spdlog::logger& log) : log_(log), key_(32, '\0') {
  size_t got = 0;
  while (got < key_.size()) {
    ssize_t n = getrandom(key_.data() + got, key_.size() - got, 0);
    if (n > 0) got += size_t(n);
  }
  // A real hash of a random password: unknown users cost what known ones do.
  std::string random(16, '\0');
  for (size_t i = 0; i < random.size(); ++i) random[i] = char('a' + (uint8_t(key_[i]) % 26));
  if (!HashPassword(random, &dummy_hash_).ok()) dummy_hash_.clear();
}

std::string Authenticator::Digest(const std::string& password) const {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key_.data(), int(key_.size()), reinterpret_cast<const unsigned char*>(password.data()),
       password.size(), md, &len);
  return std::string(reinterpret_cast<char*>(md), len);
}

Status Authenticator::Check(Store& store, const HttpRequest& req, UserRecord* user) {
  const std::string& header = req.Header("authorization");
  std::string name, password;
  if (header.empty()) return Status::Failed("authentication required (HTTP Basic)");
  if (!ParseBasicAuth(header, &name, &password)) {
    log_.warn("api: malformed credentials from {}", req.remote);
    return Status::Failed("malformed credentials (HTTP Basic expected)");
  }
  UserRecord rec;
  Status st = store.GetUser(name, &rec);
  if (!st.ok() && st.code() != Status::Code::kNotFound) return st;
  bool known = st.ok();
  bool ok = false;
  std::string digest = Digest(password);
  if (known) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = verified_.find(name);
    ok = it != verified_.end() && it->second.stored_hash == rec.password_hash &&
         ConstantTimeEquals(it->second.digest, digest);
  }
  if (!ok) {
    ok = VerifyPassword(password, known ? rec.password_hash : dummy_hash_) && known;
    if (ok) {
      std::lock_guard<std::mutex> lock(mu_);
      verified_[name] = {rec.password_hash, digest};
    }
  }
  if (!ok) {
    log_.warn("api: failed login for user '{}' from {}", ForLog(name), req.remote);
    return Status::Failed("invalid user name or password");
  }
  *user = std::move(rec);
  user->password_hash.clear();
  return Status::OK();
}

}  // namespace api
}  // namespace dwfs
