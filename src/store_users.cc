// The PostgreSQL Store, users of the API (dwfs_user). See store.h and
// users.h. Password hashes are stored, never passwords, and no message
// carries a hash.
#include "dwfs/store.h"
#include "store_internal.h"

namespace dwfs::store_internal {

namespace {

constexpr const char* kUserColumns =
    "id, username, email, first_name, last_name, role, password_hash, " DWFS_EPOCH("created_at");

void ReadUser(const pqxx::row& row, UserRecord* out) {
  out->id = row[0].as<int64_t>();
  out->username = Text(row[1]);
  out->email = Text(row[2]);
  out->first_name = Text(row[3]);
  out->last_name = Text(row[4]);
  if (!ParseRole(Text(row[5]), &out->role)) out->role = Role::kViewer;
  out->password_hash = Text(row[6]);
  out->created = Time(row[7]);
}

Status UserNotFound(const std::string& username) { return Status::NotFound("user '" + username + "' not found"); }

}  // namespace

Status PgStore::CreateUser(const UserRecord& user, Instant now) {
  return Transact("create user", [&](pqxx::work& tx) {
    pqxx::result r = Params()
                         .Add(user.username).Add(user.email).Add(user.first_name).Add(user.last_name)
                         .Add(RoleName(user.role)).Add(user.password_hash).Add(now)
                         .Exec(tx,
                               "INSERT INTO dwfs_user (username, email, first_name, last_name, role, password_hash,"
                               " created_at) VALUES ($1, $2, $3, $4, $5, $6, to_timestamp($7::float8))"
                               " ON CONFLICT (username) DO NOTHING RETURNING id");
    if (r.empty()) return Status::AlreadyExists("user '" + user.username + "' already exists");
    return Status::OK();
  });
}

Status PgStore::GetUser(const std::string& username, UserRecord* out) {
  return Transact("get user", [&](pqxx::work& tx) {
    pqxx::result r = Params().Add(username).Exec(
        tx, std::string("SELECT ") + kUserColumns + " FROM dwfs_user WHERE username = $1");
    if (r.empty()) return UserNotFound(username);
    ReadUser(r[0], out);
    return Status::OK();
  });
}

Status PgStore::ListUsers(std::vector<UserRecord>* out) {
  return Transact("list users", [&](pqxx::work& tx) {
    out->clear();
    for (const pqxx::row& row : tx.exec(std::string("SELECT ") + kUserColumns + " FROM dwfs_user ORDER BY username")) {
      out->emplace_back();
      ReadUser(row, &out->back());
    }
    return Status::OK();
  });
}

Status PgStore::DeleteUser(const std::string& username) {
  return Transact("delete user", [&](pqxx::work& tx) {
    if (Params().Add(username).Exec(tx, "DELETE FROM dwfs_user WHERE username = $1 RETURNING id").empty()) {
      return UserNotFound(username);
    }
    return Status::OK();
  });
}

Status PgStore::SetUserPassword(const std::string& username, const std::string& password_hash) {
  return Transact("set user password", [&](pqxx::work& tx) {
    if (Params()
            .Add(username).Add(password_hash)
            .Exec(tx, "UPDATE dwfs_user SET password_hash = $2 WHERE username = $1 RETURNING id")
            .empty()) {
      return UserNotFound(username);
    }
    return Status::OK();
  });
}

}  // namespace dwfs::store_internal
