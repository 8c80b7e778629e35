// dwfs version, dwfs config list | get-value.
#include <CLI/Version.hpp>
#include <boost/version.hpp>
#include <pqxx/version.hxx>
#include <spdlog/version.h>

#include "cli.h"

namespace dwfs {

namespace {

Status ConfigList(CliContext& ctx, OutputFormat format) {
  if (format == OutputFormat::kTable) {
    // YAML-shaped, like the shipped config file.
    std::string section;
    for (const ConfigKey& k : ConfigKeys()) {
      if (section != k.section) {
        section = k.section;
        ctx.out() << (section == "core" ? "" : "\n") << section << ":\n";
      }
      std::string v;
      DWFS_RETURN_IF_ERROR(GetConfigValue(ctx.config(), k.section, k.key, true, &v));
      ctx.out() << "  " << k.key << ": " << (v.empty() ? "\"\"" : v) << "\n";
    }
    return Status::OK();
  }
  Json records = Json::Array();
  for (const ConfigKey& k : ConfigKeys()) {
    std::string v;
    DWFS_RETURN_IF_ERROR(GetConfigValue(ctx.config(), k.section, k.key, true, &v));
    Json r = Json::Object();
    r.Set("section", k.section);
    r.Set("key", k.key);
    r.Set("value", v);
    r.Set("description", k.comment);
    records.Push(std::move(r));
  }
  PrintRecords(records, {}, format, ctx.out());
  return Status::OK();
}

}  // namespace

void AddConfigCommands(CLI::App* app, CliAction* action) {
  CLI::App* version = app->add_subcommand("version", "version, build type, library versions");
  version->final_callback([action] {
    *action = [](CliContext& ctx) {
      ctx.out() << "dwfs " << DWFS_VERSION << " (" << DWFS_BUILD_TYPE << ")\n"
                << "libpqxx " << PQXX_VERSION << ", spdlog " << SPDLOG_VER_MAJOR << "." << SPDLOG_VER_MINOR << "."
                << SPDLOG_VER_PATCH << ", boost " << BOOST_VERSION / 100000 << "." << BOOST_VERSION / 100 % 1000
                << "." << BOOST_VERSION % 100 << ", CLI11 " << CLI11_VERSION << ", yaml-cpp 0.7, date/tz (OS tzdb)"
                << "\n";
      return Status::OK();
    };
  });

  CLI::App* config = app->add_subcommand("config", "show the effective configuration");
  config->require_subcommand(1);
  // Option storage shared by the parser and the action it produces.
  struct Opts {
    std::string section, key;
  };
  auto o = std::make_shared<Opts>();
  CLI::App* list = config->add_subcommand("list", "every key with its effective value (secrets masked)");
  auto format = AddOutputOption(list);
  list->final_callback([action, format] { *action = [format](CliContext& ctx) { return ConfigList(ctx, *format); }; });

  CLI::App* get = config->add_subcommand("get-value", "one key's effective value (secrets masked)");
  get->add_option("SECTION", o->section, "section, e.g. core")->required();
  get->add_option("KEY", o->key, "key, e.g. dags_folder")->required();
  get->final_callback([action, o] {
    *action = [o](CliContext& ctx) {
      std::string v;
      DWFS_RETURN_IF_ERROR(GetConfigValue(ctx.config(), o->section, o->key, true, &v));
      ctx.out() << v << "\n";
      return Status::OK();
    };
  });
}

}  // namespace dwfs
