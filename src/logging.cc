#include "dwfs/logging.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <chrono>
#include <cstdio>
#include <ctime>

#include "dwfs/json.h"

namespace dwfs {

namespace {

// Formats each record as {"ts": ..., "level": ..., "logger": ..., "msg": ...}.
class JsonFormatter : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    std::string line = "{\"ts\":";
    auto t = msg.time;
    auto secs = std::chrono::floor<std::chrono::seconds>(t);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t - secs).count();
    std::time_t tt = std::chrono::system_clock::to_time_t(secs);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, int(ms));
    AppendJsonString(&line, buf);
    line += ",\"level\":";
    auto lv = spdlog::level::to_string_view(msg.level);
    AppendJsonString(&line, std::string_view(lv.data(), lv.size()));
    line += ",\"logger\":";
    AppendJsonString(&line, std::string_view(msg.logger_name.data(), msg.logger_name.size()));
    line += ",\"msg\":";
    AppendJsonString(&line, std::string_view(msg.payload.data(), msg.payload.size()));
    line += "}\n";
    dest.append(line.data(), line.data() + line.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<JsonFormatter>(); }
};

spdlog::level::level_enum ParseLevel(const std::string& s) {
  if (s == "warning") return spdlog::level::warn;
  return spdlog::level::from_str(s);
}

}  // namespace

std::shared_ptr<spdlog::logger> MakeLoggerWithSink(const Config::Logging& config, const std::string& name,
                                                   spdlog::sink_ptr sink) {
  auto logger = std::make_shared<spdlog::logger>(name, std::move(sink));
  if (config.format == "json") {
    logger->set_formatter(std::make_unique<JsonFormatter>());
  } else {
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%-5l%$ [%n] %v");
  }
  logger->set_level(ParseLevel(config.level));
  logger->flush_on(spdlog::level::trace);
  return logger;
}

std::shared_ptr<spdlog::logger> MakeLogger(const Config::Logging& config, const std::string& name, bool verbose) {
  auto logger = MakeLoggerWithSink(config, name, std::make_shared<spdlog::sinks::stderr_sink_mt>());
  if (verbose) logger->set_level(spdlog::level::debug);
  return logger;
}

}  // namespace dwfs
