#include "dwfs/json.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

namespace dwfs {
namespace {

// Parses `text` (which must be valid) and returns its compact dump.
std::string RoundTrip(std::string_view text) {
  Json j;
  Status st = ParseJson(text, false, &j);
  EXPECT_TRUE(st.ok()) << st.message() << " for " << text;
  return j.Dump();
}

// The error message for `text`, which must be invalid.
std::string Error(std::string_view text, bool require_object = false) {
  Json j = Json("untouched");
  Status st = ParseJson(text, require_object, &j);
  EXPECT_FALSE(st.ok()) << "accepted: " << text;
  EXPECT_EQ(st.code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(j.str(), "untouched");  // out is only written on success
  EXPECT_EQ(st.message().rfind("invalid JSON: ", 0), 0u) << st.message();
  EXPECT_EQ(st.message().find('\n'), std::string::npos) << st.message();
  return st.message();
}

TEST(JsonParse, ValuesOfEveryKindRoundTrip) {
  struct {
    const char* in;
    const char* dump;
  } cases[] = {
      {"null", "null"},
      {"true", "true"},
      {"false", "false"},
      {"0", "0"},
      {"42", "42"},
      {"-7", "-7"},
      {"1.5", "1.5"},
      {"-2.25", "-2.25"},
      {"1e2", "100"},
      {"1E+2", "100"},
      {"25e-1", "2.5"},
      {"0.5e1", "5"},
      {"\"\"", "\"\""},
      {"\"hello\"", "\"hello\""},
      {"[]", "[]"},
      {"{}", "{}"},
      {"[1,\"a\",null,true,false,[],{}]", "[1,\"a\",null,true,false,[],{}]"},
      {" \t\r\n{ \"b\" : 1 , \"a\" : [ 2 , 3 ] } \n", "{\"b\":1,\"a\":[2,3]}"},
      {"{\"z\":1,\"y\":2,\"x\":3}", "{\"z\":1,\"y\":2,\"x\":3}"},  // insertion order
      {"{\"a\":{\"b\":{\"c\":[{\"d\":null}]}}}", "{\"a\":{\"b\":{\"c\":[{\"d\":null}]}}}"},
      {"\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "\"\\\"\\\\/\\b\\f\\n\\r\\t\""},
      {"\"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\"", "\"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\""},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(RoundTrip(c.in), c.dump) << c.in;
    EXPECT_EQ(RoundTrip(c.dump), c.dump) << c.dump;  // a dump parses back to itself
  }
}

TEST(JsonParse, TypesAndValues) {
  Json j;
  ASSERT_TRUE(ParseJson(R"({"i": 3, "d": 3.0, "s": "x", "b": true, "n": null, "a": [1], "o": {}})", true, &j).ok());
  EXPECT_EQ(j.type(), Json::Type::kObject);
  EXPECT_EQ(j.Find("i")->type(), Json::Type::kInt);
  EXPECT_EQ(j.Find("i")->as_int(), 3);
  EXPECT_EQ(j.Find("d")->type(), Json::Type::kDouble);
  EXPECT_EQ(j.Find("d")->as_double(), 3.0);
  EXPECT_EQ(j.Find("s")->str(), "x");
  EXPECT_TRUE(j.Find("b")->as_bool());
  EXPECT_TRUE(j.Find("n")->is_null());
  EXPECT_EQ(j.Find("a")->items().size(), 1u);
  EXPECT_EQ(j.Find("o")->type(), Json::Type::kObject);
}

TEST(JsonParse, DuplicateKeyLastValueWinsAtFirstPosition) {
  EXPECT_EQ(RoundTrip(R"({"a": 1, "b": 2, "a": 3})"), R"({"a":3,"b":2})");
  // The same past the size at which lookups switch to a hash index.
  std::string big = "{";
  for (int i = 0; i < 40; ++i) big += "\"k" + std::to_string(i) + "\": " + std::to_string(i) + ",";
  big += "\"k0\": \"last\", \"k39\": \"end\"}";
  Json j;
  ASSERT_TRUE(ParseJson(big, true, &j).ok());
  ASSERT_EQ(j.members().size(), 40u);
  EXPECT_EQ(j.members()[0].first, "k0");
  EXPECT_EQ(j.members()[0].second.str(), "last");
  EXPECT_EQ(j.members()[39].second.str(), "end");
  EXPECT_EQ(j.members()[20].second.as_int(), 20);
}

TEST(JsonParse, Numbers) {
  Json j;
  ASSERT_TRUE(ParseJson("9223372036854775807", false, &j).ok());
  EXPECT_EQ(j.type(), Json::Type::kInt);
  EXPECT_EQ(j.as_int(), std::numeric_limits<int64_t>::max());
  ASSERT_TRUE(ParseJson("-9223372036854775808", false, &j).ok());
  EXPECT_EQ(j.type(), Json::Type::kInt);
  EXPECT_EQ(j.as_int(), std::numeric_limits<int64_t>::min());
  // One past either end of int64 is a double.
  ASSERT_TRUE(ParseJson("9223372036854775808", false, &j).ok());
  EXPECT_EQ(j.type(), Json::Type::kDouble);
  EXPECT_EQ(j.as_double(), 9223372036854775808.0);
  EXPECT_EQ(j.Dump(), "9.2233720368547758e+18");
  ASSERT_TRUE(ParseJson("-9223372036854775809", false, &j).ok());
  EXPECT_EQ(j.type(), Json::Type::kDouble);
  ASSERT_TRUE(ParseJson("123456789012345678901234567890", false, &j).ok());
  EXPECT_EQ(j.type(), Json::Type::kDouble);
  EXPECT_EQ(j.Dump(), "1.2345678901234568e+29");
  // -0 keeps its sign as a double; 0 and 0.0 are plain.
  ASSERT_TRUE(ParseJson("-0", false, &j).ok());
  EXPECT_EQ(j.type(), Json::Type::kDouble);
  EXPECT_TRUE(std::signbit(j.as_double()));
  EXPECT_EQ(j.Dump(), "-0");
  EXPECT_EQ(RoundTrip("-0.0"), "-0");
  EXPECT_EQ(RoundTrip("0"), "0");
  EXPECT_EQ(RoundTrip("0.0"), "0");
  EXPECT_EQ(RoundTrip("0.1"), "0.10000000000000001");
  EXPECT_EQ(RoundTrip("1.7976931348623157e308"), "1.7976931348623157e+308");
  // Below the smallest double: zero, like strtod and Python.
  ASSERT_TRUE(ParseJson("1e-400", false, &j).ok());
  EXPECT_EQ(j.as_double(), 0.0);
  EXPECT_EQ(RoundTrip("-1e-400"), "-0");
  EXPECT_EQ(RoundTrip("0.000001e-400"), "0");
  EXPECT_EQ(RoundTrip("4.9406564584124654e-324"), "4.9406564584124654e-324");
  // Beyond the largest double: an error.
  EXPECT_EQ(Error("1e400"), "invalid JSON: number out of range at offset 0 (beyond the range of a double)");
  EXPECT_EQ(Error("[-1e400]"), "invalid JSON: number out of range at offset 1 (beyond the range of a double)");
  EXPECT_EQ(Error("1.8e308"), "invalid JSON: number out of range at offset 0 (beyond the range of a double)");
  EXPECT_EQ(Error("0.00001e314"), "invalid JSON: number out of range at offset 0 (beyond the range of a double)");
  EXPECT_EQ(Error("1" + std::string(400, '0')),
            "invalid JSON: number out of range at offset 0 (beyond the range of a double)");
  EXPECT_EQ(RoundTrip("0.00001e313"), "1e+308");
  EXPECT_EQ(Error("1e99999999999999999999"),
            "invalid JSON: number out of range at offset 0 (beyond the range of a double)");
  EXPECT_EQ(RoundTrip("1e-99999999999999999999"), "0");
}

TEST(JsonParse, NumberErrors) {
  EXPECT_EQ(Error("01"), "invalid JSON: invalid number at offset 0 (leading zeros are not allowed)");
  EXPECT_EQ(Error("[-012]"), "invalid JSON: invalid number at offset 1 (leading zeros are not allowed)");
  EXPECT_EQ(Error("+1"), "invalid JSON: invalid number at offset 0 (a leading '+' is not allowed)");
  EXPECT_EQ(Error(".5"), "invalid JSON: invalid number at offset 0 (a digit must come before '.')");
  EXPECT_EQ(Error("5."), "invalid JSON: invalid number at offset 0 (a digit must follow '.')");
  EXPECT_EQ(Error("1.e3"), "invalid JSON: invalid number at offset 0 (a digit must follow '.')");
  EXPECT_EQ(Error("1e"), "invalid JSON: invalid number at offset 0 (the exponent needs digits)");
  EXPECT_EQ(Error("1e+"), "invalid JSON: invalid number at offset 0 (the exponent needs digits)");
  EXPECT_EQ(Error("-"), "invalid JSON: invalid number at offset 0 (a digit must follow '-')");
  EXPECT_EQ(Error("- 1"), "invalid JSON: invalid number at offset 0 (a digit must follow '-')");
  EXPECT_EQ(Error("NaN"), "invalid JSON: expected a value at offset 0 (NaN and Infinity are not JSON)");
  EXPECT_EQ(Error("Infinity"), "invalid JSON: expected a value at offset 0 (NaN and Infinity are not JSON)");
  EXPECT_EQ(Error("-Infinity"), "invalid JSON: invalid number at offset 0 (NaN and Infinity are not JSON)");
  EXPECT_EQ(Error("0x10"), "invalid JSON: unexpected text after the value at offset 1 (found 'x')");
  EXPECT_EQ(Error("1_000"), "invalid JSON: unexpected text after the value at offset 1 (found '_')");
}

TEST(JsonParse, StringEscapes) {
  Json j;
  ASSERT_TRUE(ParseJson(R"("\u0041\u00e9\u20AC\ud83d\ude00")", false, &j).ok());
  EXPECT_EQ(j.str(), "A\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80");
  ASSERT_TRUE(ParseJson(R"("a\u0000b")", false, &j).ok());
  EXPECT_EQ(j.str(), std::string("a\0b", 3));
  EXPECT_EQ(j.Dump(), R"("a\u0000b")");
  ASSERT_TRUE(ParseJson(R"("\uDBFF\uDFFF")", false, &j).ok());  // U+10FFFF
  EXPECT_EQ(j.str(), "\xF4\x8F\xBF\xBF");
  ASSERT_TRUE(ParseJson(R"("\u001f\u007f")", false, &j).ok());
  EXPECT_EQ(j.Dump(), R"("\u001f\u007f")");
  EXPECT_EQ(RoundTrip(R"("\/")"), R"("/")");
}

TEST(JsonParse, StringErrors) {
  EXPECT_EQ(Error(R"("abc)"), "invalid JSON: unterminated string at offset 0 (no closing '\"')");
  EXPECT_EQ(Error(R"(["a\)"), "invalid JSON: unterminated string at offset 1 (no closing '\"')");
  EXPECT_EQ(Error("\"a\nb\""),
            "invalid JSON: control character in string at offset 2 (byte 0x0a must be written as an escape)");
  EXPECT_EQ(Error(std::string("\"a\0b\"", 5)),
            "invalid JSON: control character in string at offset 2 (byte 0x00 must be written as an escape)");
  EXPECT_EQ(Error(R"("\x41")"), "invalid JSON: invalid escape at offset 1 (use \\\" \\\\ \\/ \\b \\f \\n \\r \\t or \\uXXXX)");
  EXPECT_EQ(Error(R"("\')"), "invalid JSON: invalid escape at offset 1 (use \\\" \\\\ \\/ \\b \\f \\n \\r \\t or \\uXXXX)");
  EXPECT_EQ(Error(R"("\u12")"), "invalid JSON: invalid \\u escape at offset 1 (\\u needs 4 hex digits)");
  EXPECT_EQ(Error(R"("\u12G4")"), "invalid JSON: invalid \\u escape at offset 1 (\\u needs 4 hex digits)");
  EXPECT_EQ(Error(R"("\U0041")"), "invalid JSON: invalid escape at offset 1 (use \\\" \\\\ \\/ \\b \\f \\n \\r \\t or \\uXXXX)");
  // Lone surrogates.
  const std::string lone_high =
      "invalid JSON: lone surrogate in \\u escape at offset 2 (a high surrogate needs a \\u low one after it)";
  EXPECT_EQ(Error(R"("x\ud800")"), lone_high);
  EXPECT_EQ(Error(R"("x\ud800x")"), lone_high);
  EXPECT_EQ(Error(R"("x\ud800\n")"), lone_high);
  EXPECT_EQ(Error(R"("x\ud800\ud800")"), lone_high);
  EXPECT_EQ(Error(R"("x\ud800\u0041")"), lone_high);
  EXPECT_EQ(Error(R"("x\udbff)"), lone_high);
  EXPECT_EQ(Error(R"("x\udc00")"),
            "invalid JSON: lone surrogate in \\u escape at offset 2 (a low surrogate needs a high one before it)");
  EXPECT_EQ(Error(R"("\ude00\ud83d")"),
            "invalid JSON: lone surrogate in \\u escape at offset 1 (a low surrogate needs a high one before it)");
}

TEST(JsonParse, InvalidUtf8IsRefused) {
  struct {
    std::string text;
    size_t offset;
    const char* byte;
  } cases[] = {
      {"\"\xFF\"", 1, "0xff"},
      {"\"ab\xFE\"", 3, "0xfe"},
      {"\"\xC0\xAF\"", 1, "0xc0"},              // overlong '/'
      {"\"\xC1\xBF\"", 1, "0xc1"},              // overlong
      {"\"\xE0\x80\xAF\"", 1, "0xe0"},          // overlong, 3 bytes
      {"\"\xF0\x80\x80\xAF\"", 1, "0xf0"},      // overlong, 4 bytes
      {"\"\xED\xA0\x80\"", 1, "0xed"},          // U+D800 encoded in UTF-8
      {"\"\xED\xBF\xBF\"", 1, "0xed"},          // U+DFFF encoded in UTF-8
      {"\"\xF4\x90\x80\x80\"", 1, "0xf4"},      // above U+10FFFF
      {"\"\xF8\x88\x80\x80\x80\"", 1, "0xf8"},  // 5-byte form
      {"\"\x80\"", 1, "0x80"},                  // lone continuation byte
      {"\"\xC3\"", 1, "0xc3"},                  // truncated before the quote
      {"\"\xE2\x82\"", 1, "0xe2"},              // truncated
      {"\"\xF0\x9F\x98\"", 1, "0xf0"},          // truncated
      {"\"\xF0\x9F\x98", 1, "0xf0"},            // truncated at the end of text
      {"\"\xC3(\"", 1, "0xc3"},                 // bad continuation
      {"{\"k\xFF\": 1}", 3, "0xff"},            // in a key
  };
  for (const auto& c : cases) {
    EXPECT_EQ(Error(c.text), "invalid JSON: invalid UTF-8 in string at offset " + std::to_string(c.offset) +
                                 " (byte " + c.byte + ")");
  }
  // Two keys that differ only in invalid bytes can no longer collide in Dump().
  Error("{\"a\xFF\": 1, \"a\xFE\": 2}");
  // Outside strings a non-ASCII byte is just unexpected.
  EXPECT_EQ(Error("\xEF\xBB\xBF{}"), "invalid JSON: expected a value at offset 0 (found byte 0xef)");  // BOM
}

TEST(JsonParse, StructureErrors) {
  EXPECT_EQ(Error(""), "invalid JSON: empty text");
  EXPECT_EQ(Error(" \n\t"), "invalid JSON: empty text");
  EXPECT_EQ(Error("{\"a\": 1 \"b\": 2}"), "invalid JSON: expected ',' or '}' at offset 8 (found '\"')");
  EXPECT_EQ(Error("{\"dag_run_id\": \"x\""), "invalid JSON: expected ',' or '}' at offset 18 (unexpected end of text)");
  EXPECT_EQ(Error("[1 2]"), "invalid JSON: expected ',' or ']' at offset 3 (found '2')");
  EXPECT_EQ(Error("[1,"), "invalid JSON: expected a value at offset 3 (unexpected end of text)");
  EXPECT_EQ(Error("[1,]"), "invalid JSON: expected a value at offset 3 (found ']')");
  EXPECT_EQ(Error("{\"a\":1,}"), "invalid JSON: expected a string key at offset 7 (found '}')");
  EXPECT_EQ(Error("{\"a\" 1}"), "invalid JSON: expected ':' at offset 5 (found '1')");
  EXPECT_EQ(Error("{\"a\":}"), "invalid JSON: expected a value at offset 5 (found '}')");
  EXPECT_EQ(Error("{1: 2}"), "invalid JSON: expected a string key at offset 1 (found '1')");
  EXPECT_EQ(Error("[1]]"), "invalid JSON: unexpected text after the value at offset 3 (found ']')");
  EXPECT_EQ(Error("{} {}"), "invalid JSON: unexpected text after the value at offset 3 (found '{')");
  EXPECT_EQ(Error("1 2"), "invalid JSON: unexpected text after the value at offset 2 (found '2')");
  EXPECT_EQ(Error("]"), "invalid JSON: expected a value at offset 0 (found ']')");
  EXPECT_EQ(Error("tru"), "invalid JSON: expected a value at offset 0 (true, false and null are the only bare "
                          "words; strings need double quotes)");
  EXPECT_EQ(Error("nul"), "invalid JSON: expected a value at offset 0 (true, false and null are the only bare "
                          "words; strings need double quotes)");
  EXPECT_EQ(Error("truex"), "invalid JSON: unexpected text after the value at offset 4 (found 'x')");
  EXPECT_EQ(Error("True"), "invalid JSON: expected a value at offset 0 (strings need double quotes)");
  // Only space, tab, CR and LF are whitespace.
  EXPECT_EQ(Error("\f1"), "invalid JSON: expected a value at offset 0 (found byte 0x0c)");
  EXPECT_EQ(Error("[1,\v2]"), "invalid JSON: expected a value at offset 3 (found byte 0x0b)");
  EXPECT_EQ(Error("1\xC2\xA0"), "invalid JSON: unexpected text after the value at offset 1 (found byte 0xc2)");
}

TEST(JsonParse, YamlThatIsNotJsonIsRefused) {
  EXPECT_EQ(Error("{a: b}"), "invalid JSON: expected a string key at offset 1 (keys need double quotes)");
  EXPECT_EQ(Error("{'a': 1}"), "invalid JSON: expected a string key at offset 1 (strings need double quotes)");
  EXPECT_EQ(Error("{\"a\": 'b'}"), "invalid JSON: expected a value at offset 6 (strings need double quotes)");
  EXPECT_EQ(Error("{\"a\": b}"), "invalid JSON: expected a value at offset 6 (strings need double quotes)");
  EXPECT_EQ(Error("{\"a\": 1} # note"), "invalid JSON: unexpected text after the value at offset 9 (comments are not allowed)");
  EXPECT_EQ(Error("// note\n{}"), "invalid JSON: expected a value at offset 0 (comments are not allowed)");
  EXPECT_EQ(Error("{\"a\": /* c */ 1}"), "invalid JSON: expected a value at offset 6 (comments are not allowed)");
  EXPECT_EQ(Error("a: 1"), "invalid JSON: expected a value at offset 0 (strings need double quotes)");
  EXPECT_EQ(Error("- 1\n- 2"), "invalid JSON: invalid number at offset 0 (a digit must follow '-')");
  EXPECT_EQ(Error("{\"a\": yes}"), "invalid JSON: expected a value at offset 6 (strings need double quotes)");
  EXPECT_EQ(Error("{\"a\": ~}"), "invalid JSON: expected a value at offset 6 (found '~')");
  EXPECT_EQ(Error("[1, 2,]"), "invalid JSON: expected a value at offset 6 (found ']')");
  EXPECT_EQ(Error("!!map {}"), "invalid JSON: expected a value at offset 0 (found '!')");
  EXPECT_EQ(Error("&a [1]"), "invalid JSON: expected a value at offset 0 (found '&')");
}

TEST(JsonParse, RequireObject) {
  Json j;
  EXPECT_TRUE(ParseJson(" {} ", true, &j).ok());
  const char* const kNotObject = "invalid JSON: expected an object like {\"key\": \"value\"}";
  EXPECT_EQ(Error("[1]", true), kNotObject);
  EXPECT_EQ(Error("\"s\"", true), kNotObject);
  EXPECT_EQ(Error("1", true), kNotObject);
  EXPECT_EQ(Error("null", true), kNotObject);
  EXPECT_EQ(Error("not json", true), kNotObject);
  EXPECT_EQ(Error("", true), "invalid JSON: empty text");
  EXPECT_EQ(Error("{not json", true), "invalid JSON: expected a string key at offset 1 (keys need double quotes)");
  // Without the flag any value is fine.
  EXPECT_TRUE(ParseJson("[1]", false, &j).ok());
  EXPECT_TRUE(ParseJson("\"s\"", false, &j).ok());
}

TEST(JsonParse, BracketsInsideStringsDoNotCountAsNesting) {
  const std::string brackets = std::string(100, '{') + std::string(100, '[') + std::string(100, '}');
  Json j;
  ASSERT_TRUE(ParseJson("{\"s\": \"" + brackets + "\"}", true, &j).ok());
  EXPECT_EQ(j.Find("s")->str(), brackets);
  ASSERT_TRUE(ParseJson("[\"" + brackets + "\"]", false, &j).ok());
  EXPECT_EQ(j.items()[0].str(), brackets);
}

TEST(JsonParse, NestingLimit) {
  auto nested = [](int depth, bool objects) {
    std::string s;
    for (int i = 0; i < depth; ++i) s += objects ? "{\"k\":" : "[";
    s += "1";
    for (int i = 0; i < depth; ++i) s += objects ? "}" : "]";
    return s;
  };
  EXPECT_EQ(RoundTrip(nested(64, false)), nested(64, false));
  EXPECT_EQ(RoundTrip(nested(64, true)), nested(64, true));
  EXPECT_EQ(Error(nested(65, false)),
            "invalid JSON: nesting deeper than 64 levels at offset 64 (arrays and objects)");
  EXPECT_EQ(Error(nested(65, true)),
            "invalid JSON: nesting deeper than 64 levels at offset 320 (arrays and objects)");
  // Mixed, and the limit applies wherever the deep part is.
  std::string mixed = "[{\"a\":[]},";
  for (int i = 0; i < 63; ++i) mixed += i % 2 ? "[" : "{\"x\":";
  mixed += "[]";
  for (int i = 62; i >= 0; --i) mixed += i % 2 ? "]" : "}";
  mixed += "]";
  EXPECT_EQ(Error(mixed).rfind("invalid JSON: nesting deeper than 64 levels at offset ", 0), 0u);
}

TEST(JsonParse, HostileDepthFailsFastWithoutRecursing) {
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(Error(std::string(100000, '[')),
            "invalid JSON: nesting deeper than 64 levels at offset 64 (arrays and objects)");
  EXPECT_EQ(Error(std::string(100000, '{')), "invalid JSON: expected a string key at offset 1 (found '{')");
  std::string obj;
  for (int i = 0; i < 100000; ++i) obj += "{\"a\":";
  EXPECT_EQ(Error(obj), "invalid JSON: nesting deeper than 64 levels at offset 320 (arrays and objects)");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
}

TEST(JsonParse, LargeFlatDocumentsAreFast) {
  // Many keys: the duplicate check must not be quadratic.
  std::string big = "{";
  for (int i = 0; i < 100000; ++i) big += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":[" + std::to_string(i) + "]";
  big += "}";
  const auto start = std::chrono::steady_clock::now();
  Json j;
  ASSERT_TRUE(ParseJson(big, true, &j).ok());
  EXPECT_EQ(j.members().size(), 100000u);
  EXPECT_EQ(j.Dump(), big);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(JsonParse, ErrorMessagesDoNotEchoInput) {
  const std::string secret(1000, 's');
  std::string msg = Error("{\"password\": \"" + secret + "\" oops}");
  EXPECT_EQ(msg, "invalid JSON: expected ',' or '}' at offset 1016 (found 'o')");
  msg = Error("{\"k\": " + secret + "}");
  EXPECT_LT(msg.size(), 120u) << msg;
  EXPECT_EQ(msg.find("ss"), std::string::npos) << msg;
}

TEST(JsonParse, PostgresTagsAndConfText) {
  // What the store reads back: to_json(text[])::text and jsonb::text.
  Json j;
  ASSERT_TRUE(ParseJson(R"(["etl","daily"])", false, &j).ok());
  ASSERT_EQ(j.items().size(), 2u);
  EXPECT_EQ(j.items()[1].str(), "daily");
  ASSERT_TRUE(ParseJson(R"({"x": [1, 2], "big": 100000000000000000000, "f": 1.50})", false, &j).ok());
  EXPECT_EQ(j.Dump(), R"({"x":[1,2],"big":1e+20,"f":1.5})");
}

}  // namespace
}  // namespace dwfs
