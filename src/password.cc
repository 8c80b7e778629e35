#include "dwfs/password.h"

#include "dwfs/users.h"

#include <crypt.h>
#include <sys/random.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <memory>

namespace dwfs {

namespace {

constexpr unsigned long kRounds = 100000;
constexpr size_t kSaltBytes = 16;

}  // namespace

bool RandomBytes(char* out, size_t n) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = ::getrandom(out + got, n - got, 0);
    if (r < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    got += size_t(r);
  }
  return true;
}

const char* RoleName(Role r) {
  switch (r) {
    case Role::kAdmin: return "Admin";
    case Role::kOp: return "Op";
    case Role::kViewer: return "Viewer";
  }
  return "Viewer";
}

bool ParseRole(std::string_view name, Role* out) {
  std::string lower;
  for (char c : name) lower += char(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "admin") *out = Role::kAdmin;
  else if (lower == "op") *out = Role::kOp;
  else if (lower == "viewer") *out = Role::kViewer;
  else return false;
  return true;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

Status HashPassword(std::string_view password, std::string* hash) {
  if (password.empty()) return Status::InvalidArgument("the password is empty");
  if (password.find('\0') != std::string_view::npos) return Status::InvalidArgument("the password has a NUL byte");
  char random[kSaltBytes];
  if (!RandomBytes(random, sizeof random)) {
    return Status::Internal(std::string("no random bytes for a salt: ") + std::strerror(errno));
  }
  char setting[CRYPT_GENSALT_OUTPUT_SIZE];
  if (crypt_gensalt_rn("$6$", kRounds, random, int(sizeof random), setting, int(sizeof setting)) == nullptr) {
    return Status::Internal(std::string("crypt_gensalt: ") + std::strerror(errno));
  }
  auto data = std::make_unique<crypt_data>();
  std::string pw(password);
  const char* out = crypt_r(pw.c_str(), setting, data.get());
  std::memset(pw.data(), 0, pw.size());
  if (out == nullptr || out[0] == '*') return Status::Internal("crypt failed to hash the password");
  *hash = out;
  return Status::OK();
}

bool VerifyPassword(std::string_view password, const std::string& hash) {
  if (hash.empty() || hash[0] != '$' || password.find('\0') != std::string_view::npos) return false;
  auto data = std::make_unique<crypt_data>();
  std::string pw(password);
  const char* out = crypt_r(pw.c_str(), hash.c_str(), data.get());
  std::memset(pw.data(), 0, pw.size());
  if (out == nullptr || out[0] == '*') return false;
  return ConstantTimeEquals(out, hash);
}

}  // namespace dwfs
