#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <yaml-cpp/yaml.h>

#include <sstream>

#include "dwfs/json.h"
#include "dwfs/logging.h"
#include "output.h"

namespace dwfs {
namespace {

TEST(Json, DumpEscapesAndKeepsOrder) {
  Json o = Json::Object();
  o.Set("b", 1);
  o.Set("a", "x\"y\\z\n\t\x01");
  o.Set("n", Json());
  o.Set("t", true);
  o.Set("arr", Json::StringArray({"p", "q"}));
  EXPECT_EQ(o.Dump(), R"({"b":1,"a":"x\"y\\z\n\t\u0001","n":null,"t":true,"arr":["p","q"]})");
  o.Set("b", 2);
  EXPECT_EQ(o.Find("b")->as_int(), 2);
}

TEST(Json, InvalidUtf8BecomesReplacementChar) {
  EXPECT_EQ(Json(std::string("a\xff" "b")).Dump(), "\"a\xEF\xBF\xBD" "b\"");
  EXPECT_EQ(Json("h\xC3\xA9").Dump(), "\"h\xC3\xA9\"");  // valid UTF-8 kept
}

TEST(Output, FormatsFromOneRecordList) {
  Json recs = Json::Array();
  Json r = Json::Object();
  r.Set("dag_id", "a");
  r.Set("tags", Json::StringArray({"x", "y"}));
  r.Set("next", Json());
  recs.Push(r);
  std::ostringstream table, plain, json;
  PrintRecords(recs, {"dag_id", "tags", "next"}, OutputFormat::kTable, table);
  PrintRecords(recs, {"dag_id", "tags", "next"}, OutputFormat::kPlain, plain);
  PrintRecords(recs, {"dag_id"}, OutputFormat::kJson, json);
  EXPECT_EQ(table.str(), "dag_id | tags | next\n=======+======+=====\na      | x, y | None\n");
  EXPECT_EQ(plain.str(), "a\tx, y\tNone\n");
  EXPECT_EQ(json.str(), "[{\"dag_id\":\"a\",\"tags\":[\"x\",\"y\"],\"next\":null}]\n");
}

TEST(Logging, JsonFormatIsOneObjectPerLine) {
  std::ostringstream out;
  Config::Logging lc;
  lc.format = "json";
  auto log = MakeLoggerWithSink(lc, "test", std::make_shared<spdlog::sinks::ostream_sink_mt>(out));
  log->info("hello \"{}\"\nsecond", "world");
  log->debug("hidden at info level");
  std::string text = out.str();
  ASSERT_EQ(std::count(text.begin(), text.end(), '\n'), 1) << text;
  YAML::Node n = YAML::Load(text);  // JSON is YAML: parse it back
  EXPECT_EQ(n["level"].as<std::string>(), "info");
  EXPECT_EQ(n["logger"].as<std::string>(), "test");
  EXPECT_EQ(n["msg"].as<std::string>(), "hello \"world\"\nsecond");
  EXPECT_EQ(n["ts"].as<std::string>().size(), 24u);
}

TEST(Logging, TextFormatAndLevel) {
  std::ostringstream out;
  Config::Logging lc;
  lc.level = "warning";
  auto log = MakeLoggerWithSink(lc, "sched", std::make_shared<spdlog::sinks::ostream_sink_mt>(out));
  log->info("not shown");
  log->warn("shown");
  EXPECT_EQ(out.str().find("not shown"), std::string::npos);
  EXPECT_NE(out.str().find("[sched] shown"), std::string::npos);
}

}  // namespace
}  // namespace dwfs
