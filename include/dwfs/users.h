// The API's users and roles (Airflow's basic-auth users): who may read and
// who may act. Stored by the Store (dwfs_user table), managed by
// `dwfs users create|list|delete|set-password`, passwords hashed by
// password.h.
#ifndef DWFS_USERS_H_
#define DWFS_USERS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "dwfs/time_util.h"

namespace dwfs {

// Admin: everything (users, connections, variables too). Op: also
// trigger, pause, clear, mark. Viewer: read only.
enum class Role { kAdmin, kOp, kViewer };
const char* RoleName(Role r);  // "Admin", "Op", "Viewer"
// Case-insensitive; false for anything else.
bool ParseRole(std::string_view name, Role* out);

struct UserRecord {
  int64_t id = 0;
  std::string username;
  std::string email;
  std::string first_name;
  std::string last_name;
  Role role = Role::kViewer;
  std::string password_hash;  // crypt(3) form; never printed
  std::optional<Instant> created;
};

}  // namespace dwfs

#endif  // DWFS_USERS_H_
