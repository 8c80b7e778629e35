// dwfs users create | list | delete | set-password: the API's basic-auth
// users (Airflow's `airflow users` flags). Passwords are hashed before they
// reach the store (password.h); neither a password nor a hash is printed.
// Without -p/--password the password is read from stdin: on a terminal
// twice, without echo.
#include <termios.h>
#include <unistd.h>

#include <iostream>

#include "cli.h"
#include "dwfs/password.h"
#include "dwfs/store.h"
#include "dwfs/users.h"

namespace dwfs {

namespace {

struct UserArgs {
  std::string username, password, role, email, firstname, lastname;
  bool password_given = false;
};

// Reads a line from std::cin with the terminal's echo off (when stdin is
// one); false at EOF.
bool ReadSecretLine(CliContext& ctx, const std::string& prompt, std::string* out) {
  bool tty = ::isatty(STDIN_FILENO) != 0;
  termios saved{};
  if (tty && ::tcgetattr(STDIN_FILENO, &saved) == 0) {
    termios quiet = saved;
    quiet.c_lflag &= ~tcflag_t(ECHO);
    ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  } else {
    tty = false;
  }
  ctx.out() << prompt << std::flush;
  bool ok = static_cast<bool>(std::getline(std::cin, *out));
  if (tty) {
    ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
    ctx.out() << "\n";
  }
  return ok;
}

// The password of -p, or read from stdin (twice on a terminal).
Status Password(CliContext& ctx, const UserArgs& a, std::string* out) {
  if (a.password_given) {
    *out = a.password;
    return Status::OK();
  }
  if (!ReadSecretLine(ctx, "Password: ", out)) return Status::InvalidArgument("no password given (-p or stdin)");
  if (::isatty(STDIN_FILENO)) {
    std::string again;
    if (!ReadSecretLine(ctx, "Repeat for confirmation: ", &again) || again != *out) {
      return Status::InvalidArgument("the passwords do not match");
    }
  }
  return Status::OK();
}

Status UsersCreate(CliContext& ctx, const UserArgs& a) {
  UserRecord u;
  u.username = a.username;
  if (u.username.empty()) return Status::InvalidArgument("-u/--username is empty");
  if (!ParseRole(a.role, &u.role)) {
    return Status::InvalidArgument("-r/--role '" + a.role + "': use Admin, Op or Viewer");
  }
  u.email = a.email;
  u.first_name = a.firstname;
  u.last_name = a.lastname;
  Store* store;
  DWFS_RETURN_IF_ERROR(ctx.OpenStore(&store));
  std::string password;
  DWFS_RETURN_IF_ERROR(Password(ctx, a, &password));
  DWFS_RETURN_IF_ERROR(HashPassword(password, &u.password_hash).WithPrefix("user '" + u.username + "'"));
  DWFS_RETURN_IF_ERROR(store->CreateUser(u, ctx.clock().Now()));
  ctx.out() << "user " << u.username << " created with role " << RoleName(u.role) << "\n";
  return Status::OK();
}

Status UsersList(CliContext& ctx, OutputFormat format) {
  Store* store;
  DWFS_RETURN_IF_ERROR(ctx.OpenStore(&store));
  std::vector<UserRecord> users;
  DWFS_RETURN_IF_ERROR(store->ListUsers(&users));
  Json rows = Json::Array();
  for (const UserRecord& u : users) {
    Json r = Json::Object();
    r.Set("id", std::to_string(u.id));
    r.Set("username", u.username);
    r.Set("email", u.email);
    r.Set("first_name", u.first_name);
    r.Set("last_name", u.last_name);
    r.Set("role", RoleName(u.role));
    rows.Push(std::move(r));
  }
  PrintRecords(rows, {"id", "username", "email", "first_name", "last_name", "role"}, format, ctx.out());
  return Status::OK();
}

Status UsersDelete(CliContext& ctx, const std::string& username) {
  Store* store;
  DWFS_RETURN_IF_ERROR(ctx.OpenStore(&store));
  DWFS_RETURN_IF_ERROR(store->DeleteUser(username));
  ctx.out() << "user " << username << " deleted\n";
  return Status::OK();
}

Status UsersSetPassword(CliContext& ctx, const UserArgs& a) {
  Store* store;
  DWFS_RETURN_IF_ERROR(ctx.OpenStore(&store));
  UserRecord u;
  DWFS_RETURN_IF_ERROR(store->GetUser(a.username, &u));  // before asking for a password
  std::string password, hash;
  DWFS_RETURN_IF_ERROR(Password(ctx, a, &password));
  DWFS_RETURN_IF_ERROR(HashPassword(password, &hash).WithPrefix("user '" + a.username + "'"));
  DWFS_RETURN_IF_ERROR(store->SetUserPassword(a.username, hash));
  ctx.out() << "password of user " << a.username << " set\n";
  return Status::OK();
}

void AddPasswordOption(CLI::App* cmd, const std::shared_ptr<UserArgs>& a) {
  cmd->add_option_function<std::string>(
      "-p,--password",
      [a](const std::string& v) {
        a->password = v;
        a->password_given = true;
      },
      "the password (asked on stdin when omitted)");
}

}  // namespace

void AddUsersCommands(CLI::App* app, CliAction* action) {
  CLI::App* users = app->add_subcommand("users", "the API's users: create, list, delete, set-password");
  users->require_subcommand(1);

  auto c = std::make_shared<UserArgs>();
  CLI::App* create = users->add_subcommand("create", "create a user (Airflow's flags)");
  create->add_option("-u,--username", c->username, "login name")->required();
  create->add_option("-r,--role", c->role, "Admin, Op or Viewer")->required();
  create->add_option("-e,--email", c->email, "e-mail address")->required();
  create->add_option("-f,--firstname", c->firstname, "first name")->required();
  create->add_option("-l,--lastname", c->lastname, "last name")->required();
  AddPasswordOption(create, c);
  create->final_callback([action, c] { *action = [c](CliContext& ctx) { return UsersCreate(ctx, *c); }; });

  CLI::App* list = users->add_subcommand("list", "id, username, email, names, role (never a password)");
  auto format = AddOutputOption(list);
  list->final_callback([action, format] { *action = [format](CliContext& ctx) { return UsersList(ctx, *format); }; });

  auto d = std::make_shared<std::string>();
  CLI::App* del = users->add_subcommand("delete", "delete a user");
  del->add_option("-u,--username", *d, "login name")->required();
  del->final_callback([action, d] { *action = [d](CliContext& ctx) { return UsersDelete(ctx, *d); }; });

  auto s = std::make_shared<UserArgs>();
  CLI::App* set = users->add_subcommand("set-password", "set a user's password (alias: reset-password)");
  set->alias("reset-password");
  set->add_option("-u,--username", s->username, "login name")->required();
  AddPasswordOption(set, s);
  set->final_callback([action, s] { *action = [s](CliContext& ctx) { return UsersSetPassword(ctx, *s); }; });
}

}  // namespace dwfs
