// Password hashing for the API's users: crypt(3) SHA-512 ("$6$", 100,000
// rounds, a 16-byte salt from getrandom(2)) through libxcrypt's crypt_r,
// the slow salted hash the issue asks for. Hashes are self-describing, so
// verification also accepts any other scheme libxcrypt knows (yescrypt
// "$y$", bcrypt "$2b$") should the default change.
//
// Thread-safe: no shared state (crypt_r with a caller-owned buffer).
#ifndef DWFS_PASSWORD_H_
#define DWFS_PASSWORD_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "dwfs/status.h"

namespace dwfs {

// Hashes `password` with a fresh random salt. InvalidArgument for an empty
// password or one with a NUL byte; Internal when no random bytes or no
// hash could be had (the message never contains the password).
Status HashPassword(std::string_view password, std::string* hash);

// Whether `password` matches `hash` (made by HashPassword). Compares in
// constant time; false for a malformed hash.
bool VerifyPassword(std::string_view password, const std::string& hash);

// Fills out[0, n) from getrandom(2) (retrying when interrupted); false when
// the kernel gives none.
bool RandomBytes(char* out, size_t n);

// Compares two strings in time that depends only on their lengths.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace dwfs

#endif  // DWFS_PASSWORD_H_
