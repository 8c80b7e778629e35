// Basic authentication for the API; see api_auth.h.
#include "api_auth.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <stdexcept>

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

// n random bytes (password.h's RandomBytes); throws when the kernel has
// none, since a session token or key must never be guessable.
std::string Random(size_t n) {
  std::string out(n, '\0');
  if (!RandomBytes(out.data(), n)) throw std::runtime_error("api server: getrandom failed");
  return out;
}

std::string Hex(std::string_view bytes) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

}  // namespace

Authenticator::Authenticator(spdlog::logger& log) : log_(log), key_(Random(32)) {
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
  return CheckPassword(store, name, password, req.remote, user);
}

Status Authenticator::CheckPassword(Store& store, const std::string& name, const std::string& password,
                                    const std::string& remote, UserRecord* user) {
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
    log_.warn("api: failed login for user '{}' from {}", ForLog(name), remote);
    return Status::Failed("invalid user name or password");
  }
  *user = std::move(rec);
  user->password_hash.clear();
  return Status::OK();
}

std::string Authenticator::CreateSession(const std::string& user, Instant now, std::string* csrf) {
  std::string token = Hex(Random(32));
  *csrf = Hex(Random(32));
  std::string key = Digest(token);
  std::lock_guard<std::mutex> lock(mu_);
  if (sessions_.size() >= kMaxSessions) {
    auto oldest = sessions_.begin();
    for (auto it = sessions_.begin(); it != sessions_.end(); ++it) {
      if (it->second.last_used < oldest->second.last_used) oldest = it;
    }
    sessions_.erase(oldest);
  }
  sessions_[key] = {user, *csrf, now};
  return token;
}

Status Authenticator::CheckSession(Store& store, const std::string& token, Instant now, UserRecord* user,
                                   std::string* csrf) {
  std::string key = Digest(token);
  std::string name;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = sessions_.find(key);
    if (it == sessions_.end()) return Status::Failed("not logged in (no such session)");
    if (now - it->second.last_used > idle) {
      sessions_.erase(it);
      return Status::Failed("the session expired: log in again");
    }
    it->second.last_used = now;
    name = it->second.user;
    *csrf = it->second.csrf;
  }
  Status st = store.GetUser(name, user);
  if (st.code() == Status::Code::kNotFound) {
    EndSession(token);
    return Status::Failed("the session's user no longer exists");
  }
  DWFS_RETURN_IF_ERROR(st);
  user->password_hash.clear();
  return Status::OK();
}

void Authenticator::EndSession(const std::string& token) {
  std::string key = Digest(token);
  std::lock_guard<std::mutex> lock(mu_);
  sessions_.erase(key);
}

}  // namespace api
}  // namespace dwfs
