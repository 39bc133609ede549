// JsonWriter: exact output for every value kind, nesting and escaping.
#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <string>

#include "tradingbot/http/json_writer.hpp"

using tb::http::JsonWriter;

TEST_CASE("JsonWriter writes nested objects and arrays with commas in the right places", "[http][json]") {
  std::string out;
  JsonWriter w(out);
  w.begin_object();
  w.member("symbol", "BTCUSDT");
  w.member("last_update_id", std::uint64_t{50093});
  w.key("bids").begin_array();
  w.begin_array().value("61837.63").value("3.78826").end_array();
  w.begin_array().value("61837.62").value("0.1").end_array();
  w.end_array();
  w.key("asks").begin_array().end_array();
  w.key("empty").begin_object().end_object();
  w.end_object();
  CHECK(out ==
        R"({"symbol":"BTCUSDT","last_update_id":50093,"bids":[["61837.63","3.78826"],["61837.62","0.1"]],"asks":[],"empty":{}})");
  CHECK(w.complete());
  CHECK(w.ok());
}

TEST_CASE("JsonWriter writes integers, booleans and null exactly", "[http][json]") {
  std::string out;
  JsonWriter w(out);
  w.begin_array()
      .value(std::numeric_limits<std::int64_t>::min())
      .value(std::numeric_limits<std::int64_t>::max())
      .value(std::numeric_limits<std::uint64_t>::max())
      .value(0)
      .value(-1)
      .value(std::int8_t{-5})
      .value(std::uint8_t{200})
      .value(true)
      .value(false)
      .null()
      .end_array();
  CHECK(out == "[-9223372036854775808,9223372036854775807,18446744073709551615,0,-1,-5,200,true,false,null]");
}

TEST_CASE("JsonWriter escapes quotes, backslashes and every control character", "[http][json]") {
  std::string out;
  JsonWriter w(out);
  const std::string text = std::string("a\"b\\c/d\b\f\n\r\t") + '\0' + "\x01\x1f\x7f";
  w.value(text);
  CHECK(out == "\"a\\\"b\\\\c/d\\b\\f\\n\\r\\t\\u0000\\u0001\\u001f\x7f\"");
}

TEST_CASE("JsonWriter passes UTF-8 through untouched", "[http][json]") {
  std::string out;
  JsonWriter w(out);
  w.begin_object().member("név", "€ 数据 🚀").end_object();
  CHECK(out == "{\"név\":\"€ 数据 🚀\"}");
}

TEST_CASE("JsonWriter escapes keys too", "[http][json]") {
  std::string out;
  JsonWriter(out).begin_object().member("a\"\n", 1).end_object();
  CHECK(out == "{\"a\\\"\\n\":1}");
}

TEST_CASE("JsonWriter raw_number emits pre-formatted decimals exactly and refuses non-numbers", "[http][json]") {
  std::string out;
  JsonWriter w(out);
  w.begin_array().raw_number("61837.63").raw_number("-0.00000001").raw_number("0").raw_number("1e-7").end_array();
  CHECK(out == "[61837.63,-0.00000001,0,1e-7]");
  CHECK(w.ok());

  for (const char* bad : {"", "-", "01", "1.", ".5", "1e", "NaN", "1,5", "1 ", "0x10", "+1"}) {
    std::string rejected;
    JsonWriter bad_writer(rejected);
    bad_writer.raw_number(bad);
    CHECK(rejected == "null");
    CHECK_FALSE(bad_writer.ok());
  }
}

TEST_CASE("JsonWriter appends to existing content", "[http][json]") {
  std::string out = "prefix:";
  JsonWriter(out).begin_object().member("ok", true).end_object();
  CHECK(out == "prefix:{\"ok\":true}");
}

TEST_CASE("JsonWriter handles deep nesting", "[http][json]") {
  std::string out;
  JsonWriter w(out);
  for (int i = 0; i < 64; ++i) w.begin_array();
  w.value(1).value(2);
  for (int i = 0; i < 64; ++i) w.end_array();
  CHECK(out == std::string(64, '[') + "1,2" + std::string(64, ']'));
  CHECK(w.complete());
}
