// dwfs db migrate | check | reset, connections add | list | get | delete,
// variables set | get | list | delete (cli.md).
//
// The db commands use migrations.h directly on database.url, so they work
// on an empty or outdated database (Store::Open refuses those); the others
// go through CliContext::OpenStore. Connection passwords never reach the
// output: listings show the masked URI and no password field.
#include <cctype>
#include <iostream>

#include "cli.h"
#include "dwfs/migrations.h"
#include "dwfs/store.h"

namespace dwfs {

namespace {

Status DatabaseUrl(CliContext& ctx, std::string* url) {
  *url = ctx.config().database.url;
  if (url->empty()) {
    return Status::FailedPrecondition(
        "no metadata database configured: set database.url in the config file or DWFS_DATABASE_URL");
  }
  return Status::OK();
}

Status DbMigrate(CliContext& ctx) {
  std::string url;
  DWFS_RETURN_IF_ERROR(DatabaseUrl(ctx, &url));
  int from = 0, to = 0;
  DWFS_RETURN_IF_ERROR(MigrateDatabase(url, &from, &to));
  if (from == to) {
    ctx.out() << "database already at version " << to << "\n";
  } else {
    ctx.out() << "database migrated from version " << from << " to " << to << "\n";
  }
  return Status::OK();
}

Status DbCheck(CliContext& ctx) {
  std::string url;
  DWFS_RETURN_IF_ERROR(DatabaseUrl(ctx, &url));
  int version = 0;
  DWFS_RETURN_IF_ERROR(DatabaseSchemaVersion(url, &version));
  if (version != SchemaVersion()) {
    std::string hint = version < SchemaVersion() ? "run dwfs db migrate" : "upgrade dwfs";
    return Status::FailedPrecondition("database schema is at version " + std::to_string(version) +
                                      ", this dwfs needs " + std::to_string(SchemaVersion()) + ": " + hint);
  }
  ctx.out() << "database reachable, schema at version " << version << "\n";
  return Status::OK();
}

Status DbReset(CliContext& ctx, bool yes) {
  std::string url;
  DWFS_RETURN_IF_ERROR(DatabaseUrl(ctx, &url));
  if (!yes && !ctx.Confirm("Reset the metadata database? This deletes every run and task state.")) {
    return Status::Failed("aborted: the database was not reset");
  }
  DWFS_RETURN_IF_ERROR(ResetDatabase(url));
  ctx.out() << "database reset to schema version " << SchemaVersion() << "\n";
  return Status::OK();
}

// A connection as listed: every field but the password; the URI masked.
Json ConnectionJson(const Connection& c) {
  Json j = Json::Object();
  j.Set("conn_id", c.conn_id);
  j.Set("conn_type", c.conn_type);
  j.Set("host", c.host.empty() ? Json() : Json(c.host));
  j.Set("port", c.port ? Json(*c.port) : Json());
  j.Set("login", c.login.empty() ? Json() : Json(c.login));
  j.Set("schema", c.schema.empty() ? Json() : Json(c.schema));
  j.Set("uri", c.MaskedUri());
  return j;
}

const std::vector<std::string> kConnectionColumns = {"conn_id", "conn_type", "host", "port", "login", "schema", "uri"};

Status NamedNotFound(Status st, const std::string& what) {
  return st.code() == Status::Code::kNotFound ? Status::NotFound(what + " not found") : st;
}

Status ConnectionsAdd(CliContext& ctx, const std::string& id, const std::string& uri) {
  if (uri.empty()) return Status::InvalidArgument("connection '" + id + "': --conn-uri is required");
  Store* store;
  DWFS_RETURN_IF_ERROR(ctx.OpenStore(&store));
  DWFS_RETURN_IF_ERROR(store->AddConnection(id, uri));
  Connection c;
  DWFS_RETURN_IF_ERROR(store->GetConnection(id, &c));
  ctx.out() << "connection " << id << " added: " << c.MaskedUri() << "\n";
  return Status::OK();
}

Status ConnectionsList(CliContext& ctx, OutputFormat format) {
  Store* store;
  DWFS_RETURN_IF_ERROR(ctx.OpenStore(&store));
  std::vector<Connection> conns;
  DWFS_RETURN_IF_ERROR(store->ListConnections(&conns));
  if (format == OutputFormat::kTable && conns.empty()) {
    ctx.out() << "No connections.\n";
    return Status::OK();
  }
  Json records = Json::Array();
  for (const Connection& c : conns) records.Push(ConnectionJson(c));
  PrintRecords(records, kConnectionColumns, format, ctx.out());
  return Status::OK();
}

Status ConnectionsGet(CliContext& ctx, const std::string& id, OutputFormat format) {
  Store* store;
  DWFS_RETURN_IF_ERROR(ctx.OpenStore(&store));
  Connection c;
  DWFS_RETURN_IF_ERROR(NamedNotFound(store->GetConnection(id, &c), "connection '" + id + "'"));
  Json records = Json::Array();
  records.Push(ConnectionJson(c));
  PrintRecords(records, kConnectionColumns, format, ctx.out());
  return Status::OK();
}

Status ConnectionsDelete(CliContext& ctx, const std::string& id) {
  Store* store;
  DWFS_RETURN_IF_ERROR(ctx.OpenStore(&store));
  DWFS_RETURN_IF_ERROR(NamedNotFound(store->DeleteConnection(id), "connection '" + id + "'"));
  ctx.out() << "connection " << id << " deleted\n";
  return Status::OK();
}

Status VariablesSet(CliContext& ctx, const std::string& key, const std::string& value) {
  Store* store;
  DWFS_RETURN_IF_ERROR(ctx.OpenStore(&store));
  DWFS_RETURN_IF_ERROR(store->SetVariable(key, value));
  ctx.out() << "variable " << key << " set\n";
  return Status::OK();
}

Status VariablesGet(CliContext& ctx, const std::string& key) {
  Store* store;
  DWFS_RETURN_IF_ERROR(ctx.OpenStore(&store));
  std::string value;
  DWFS_RETURN_IF_ERROR(NamedNotFound(store->GetVariable(key, &value), "variable '" + key + "'"));
  ctx.out() << value << "\n";
  return Status::OK();
}

Status VariablesList(CliContext& ctx, OutputFormat format) {
  Store* store;
  DWFS_RETURN_IF_ERROR(ctx.OpenStore(&store));
  std::map<std::string, std::string> vars;
  DWFS_RETURN_IF_ERROR(store->ListVariables(&vars));
  if (format == OutputFormat::kTable && vars.empty()) {
    ctx.out() << "No variables.\n";
    return Status::OK();
  }
  Json records = Json::Array();
  for (const auto& [k, v] : vars) {
    Json j = Json::Object();
    j.Set("key", k);
    j.Set("value", v);
    records.Push(std::move(j));
  }
  PrintRecords(records, {"key", "value"}, format, ctx.out());
  return Status::OK();
}

Status VariablesDelete(CliContext& ctx, const std::string& key) {
  Store* store;
  DWFS_RETURN_IF_ERROR(ctx.OpenStore(&store));
  DWFS_RETURN_IF_ERROR(NamedNotFound(store->DeleteVariable(key), "variable '" + key + "'"));
  ctx.out() << "variable " << key << " deleted\n";
  return Status::OK();
}

}  // namespace

void AddDbCommands(CLI::App* app, CliAction* action) {
  struct Opts {
    std::string id, uri, key, value;
    bool yes = false;
  };
  auto o = std::make_shared<Opts>();

  CLI::App* db = app->add_subcommand("db", "the metadata database: migrate, check, reset");
  db->require_subcommand(1);
  db->add_subcommand("migrate", "create or upgrade the schema to this binary's version")->final_callback([action] {
    *action = [](CliContext& ctx) { return DbMigrate(ctx); };
  });
  db->add_subcommand("check", "exit 0 when the database is reachable and at this binary's schema version")
      ->final_callback([action] { *action = [](CliContext& ctx) { return DbCheck(ctx); }; });
  CLI::App* reset = db->add_subcommand("reset", "drop and recreate every table (asks without -y)");
  reset->add_flag("-y,--yes", o->yes, "do not ask for confirmation");
  reset->final_callback([action, o] { *action = [o](CliContext& ctx) { return DbReset(ctx, o->yes); }; });

  CLI::App* conns = app->add_subcommand("connections", "stored connections (passwords masked in output)");
  conns->require_subcommand(1);
  CLI::App* add = conns->add_subcommand("add", "store a connection given as a URI");
  add->add_option("ID", o->id, "conn_id")->required();
  add->add_option("--conn-uri", o->uri, "scheme://login:password@host:port/schema?extra")->required();
  add->final_callback([action, o] { *action = [o](CliContext& ctx) { return ConnectionsAdd(ctx, o->id, o->uri); }; });
  CLI::App* clist = conns->add_subcommand("list", "every stored connection");
  auto clist_format = AddOutputOption(clist);
  clist->final_callback([action, clist_format] {
    *action = [clist_format](CliContext& ctx) { return ConnectionsList(ctx, *clist_format); };
  });
  CLI::App* cget = conns->add_subcommand("get", "one stored connection");
  cget->add_option("ID", o->id, "conn_id")->required();
  auto cget_format = AddOutputOption(cget);
  cget->final_callback([action, o, cget_format] {
    *action = [o, cget_format](CliContext& ctx) { return ConnectionsGet(ctx, o->id, *cget_format); };
  });
  CLI::App* cdel = conns->add_subcommand("delete", "delete a stored connection");
  cdel->add_option("ID", o->id, "conn_id")->required();
  cdel->final_callback([action, o] { *action = [o](CliContext& ctx) { return ConnectionsDelete(ctx, o->id); }; });

  CLI::App* vars = app->add_subcommand("variables", "stored variables");
  vars->require_subcommand(1);
  CLI::App* vset = vars->add_subcommand("set", "set a variable");
  vset->add_option("KEY", o->key, "key")->required();
  vset->add_option("VALUE", o->value, "value")->required();
  vset->final_callback(
      [action, o] { *action = [o](CliContext& ctx) { return VariablesSet(ctx, o->key, o->value); }; });
  CLI::App* vget = vars->add_subcommand("get", "print a variable's value");
  vget->add_option("KEY", o->key, "key")->required();
  vget->final_callback([action, o] { *action = [o](CliContext& ctx) { return VariablesGet(ctx, o->key); }; });
  CLI::App* vlist = vars->add_subcommand("list", "every variable");
  auto vlist_format = AddOutputOption(vlist);
  vlist->final_callback([action, vlist_format] {
    *action = [vlist_format](CliContext& ctx) { return VariablesList(ctx, *vlist_format); };
  });
  CLI::App* vdel = vars->add_subcommand("delete", "delete a variable");
  vdel->add_option("KEY", o->key, "key")->required();
  vdel->final_callback([action, o] { *action = [o](CliContext& ctx) { return VariablesDelete(ctx, o->key); }; });
}

}  // namespace dwfs
