#include "cli.h"

#include <spdlog/spdlog.h>

#include <iostream>

#include "dwfs/logging.h"
#include "dwfs/store.h"

namespace dwfs {

CliContext::CliContext(Config config, std::map<std::string, std::string> env, std::shared_ptr<spdlog::logger> log,
                       const Clock& clock, std::ostream& out, std::ostream& err)
    : config_(std::move(config)), env_(std::move(env)), log_(std::move(log)), clock_(clock), out_(out), err_(err) {}

CliContext::~CliContext() = default;

const DagBag& CliContext::dag_bag() {
  if (!bag_) {
    bag_ = LoadDagFolder(config_.core.dags_folder, DagDefaults::FromConfig(config_));
    log_->debug("loaded {} DAGs and {} import errors from {}", bag_->dags.size(), bag_->errors.size(),
                config_.core.dags_folder);
  }
  return *bag_;
}

Status CliContext::FindDag(const std::string& dag_id, const Dag** out) {
  const DagBag& bag = dag_bag();
  *out = bag.Find(dag_id);
  if (*out) return Status::OK();
  std::string msg = "DAG '" + dag_id + "' not found in " + config_.core.dags_folder;
  if (!bag.errors.empty()) {
    msg += " (" + std::to_string(bag.errors.size()) + " file(s) failed to load; see dwfs dags list-import-errors)";
  }
  return Status::NotFound(msg);
}

Status CliContext::OpenStore(Store** out) {
  if (!store_) {
    if (config_.database.url.empty()) {
      return Status::FailedPrecondition(
          "no metadata database configured: set database.url in the config file or DWFS_DATABASE_URL");
    }
    DWFS_RETURN_IF_ERROR(Store::Open(config_.database.url, &store_));
  }
  *out = store_.get();
  return Status::OK();
}

void CliContext::set_database_url(std::string url) {
  config_.database.url = std::move(url);
  store_.reset();
}

bool CliContext::Confirm(const std::string& question) {
  out_ << question << " [y/N] " << std::flush;
  std::string line;
  if (!std::getline(std::cin, line)) return false;
  std::string a;
  for (char c : line) {
    if (!std::isspace(static_cast<unsigned char>(c))) a += char(std::tolower(static_cast<unsigned char>(c)));
  }
  return a == "y" || a == "yes";
}

Status CliContext::ParseDate(const std::string& text, const TimeZone& tz, Instant* out) const {
  return ParseDateTime(text, tz, out);
}

std::shared_ptr<OutputFormat> AddOutputOption(CLI::App* cmd, OutputFormat def) {
  auto format = std::make_shared<OutputFormat>(def);
  cmd->add_option_function<std::string>(
         "-o,--output",
         [format](const std::string& v) {
           if (!ParseOutputFormat(v, format.get())) throw CLI::ValidationError("--output", "use table, json or plain");
         },
         "output format: table, json or plain")
      ->type_name("FORMAT");
  return format;
}

namespace {

// A usage error naming the command at fault: an unknown or missing command
// lists the valid ones.
std::string UsageMessage(CLI::App& app, int argc, char** argv, const CLI::ParseError& e) {
  CLI::App* cur = &app;
  std::string path = "dwfs";
  std::string next;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.size() > 1 && a[0] == '-') {
      // Skip the value of an option that takes one ("--config FILE").
      if (a.find('=') == std::string::npos) {
        for (CLI::App* c = cur; c; c = c->get_parent()) {
          const CLI::Option* opt = c->get_option_no_throw(a);
          if (opt) {
            if (opt->get_type_size() != 0) ++i;
            break;
          }
        }
      }
      continue;
    }
    CLI::App* sub = nullptr;
    for (CLI::App* s : cur->get_subcommands({})) {
      if (s->get_name() == a) sub = s;
    }
    if (!sub) {
      next = a;
      break;
    }
    cur = sub;
    path += " " + a;
  }
  std::vector<CLI::App*> subs = cur->get_subcommands({});
  if (!subs.empty() && std::string(e.what()).find("subcommand") != std::string::npos) {
    std::string names;
    for (CLI::App* s : subs) names += (names.empty() ? "" : ", ") + s->get_name();
    return (next.empty() ? path + ": missing command" : path + ": unknown command '" + next + "'") + " (one of: " +
           names + ")";
  }
  return path + ": " + e.what() + " (see " + path + " --help)";
}

}  // namespace

int RunCli(int argc, char** argv, const std::map<std::string, std::string>& env, std::ostream& out,
           std::ostream& err) {
  CLI::App app{"dwfs: a workflow scheduler for YAML DAGs (Airflow's ideas, one binary)", "dwfs"};
  app.fallthrough();
  app.require_subcommand(1);
  std::string config_file;
  bool verbose = false;
  app.add_option("--config", config_file, "configuration file (default $DWFS_HOME/dwfs.yaml)")->type_name("FILE");
  app.add_flag("-v,--verbose", verbose, "debug logging");
  CliAction action;
  AddConfigCommands(&app, &action);
  AddDagsCommands(&app, &action);
  AddTasksCommands(&app, &action);
  AddRunCommands(&app, &action);
  AddBackfillCommand(&app, &action);
  AddUsersCommands(&app, &action);
  AddDbCommands(&app, &action);
  AddStateCommands(&app, &action);
  AddSchedulerCommands(&app, &action);
  AddStandaloneCommand(&app, &action);
  AddApiCommand(&app, &action);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    out << app.help();
    return 0;
  } catch (const CLI::CallForAllHelp&) {
    out << app.help("", CLI::AppFormatMode::All);
    return 0;
  } catch (const CLI::ParseError& e) {
    // Help of a subcommand arrives as CallForHelp too; anything else is usage.
    if (e.get_exit_code() == 0) {
      app.exit(e, out, err);
      return 0;
    }
    err << UsageMessage(app, argc, argv, e) << "\n";
    return 2;
  }
  if (!action) {
    err << "dwfs: no command given (see dwfs --help)\n";
    return 2;
  }
  ConfigLoadOptions load;
  load.config_file = config_file;
  load.env = env;
  Config config;
  Status st = LoadConfig(load, &config);
  if (!st.ok()) {
    err << "dwfs: " << st.message() << "\n";
    return 2;
  }
  auto log = MakeLogger(config.logging, "dwfs", verbose);
  SystemClock clock;
  CliContext ctx(std::move(config), env, log, clock, out, err);
  ctx.set_config_file(config_file);
  try {
    st = action(ctx);
  } catch (const std::exception& e) {
    st = Status::Internal(std::string("internal error: ") + e.what());
  }
  out.flush();
  if (!st.ok()) err << "dwfs: " << st.message() << "\n";
  return st.ExitCode();
}

}  // namespace dwfs
