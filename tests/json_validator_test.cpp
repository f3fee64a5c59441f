// The streaming JSON validator (core/json_validator.hpp) against nlohmann::json::accept, the
// parser it stands in for: the same verdict on every case below, fed whole and byte by byte.
// The fuzz target fuzz_json_validator runs the same comparison on generated inputs.
#include "harness/core/json_validator.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace harness {
namespace {

bool fed_byte_by_byte(const std::string& text) {
  JsonValidator v;
  for (char c : text) {
    if (!v.feed(std::string_view(&c, 1))) return false;
  }
  return v.finish();
}

const std::vector<std::string> kCases{
    // valid
    "0", "-0", "1", "-12", "1.5", "-0.0e+1", "1E5", "1e-5", "123456789012345678901234567890",
    "true", "false", "null", "\"\"", "\"a\"", "[]", "{}", "[1,2,3]", "{\"a\":1,\"b\":[true,null]}",
    " \t\r\n[ 1 , { \"x\" : \"y\" } ]\n ", "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "\"\\u00e9\\u0000\"",
    "\"\\ud83d\\ude00\"", "\"caf\xC3\xA9 \xF0\x9F\x98\x80 \xEF\xBF\xBF\"", "\xEF\xBB\xBF{}",
    "[[[[[[[[[[]]]]]]]]]]", "{\"\":{\"\":{}}}", "\"\xF4\x8F\xBF\xBF\"",
    // invalid
    "", " ", "\xEF\xBB", "\xEF\xBB\xBE{}", " \xEF\xBB\xBF{}", "01", "-", "-a", "1.", ".5", "1e",
    "1e+", "+1", "0x10", "tru", "truex", "nul", "True", "[1,]", "[,1]", "{\"a\"}", "{\"a\":}",
    "{,}", "{\"a\":1,}", "{1:2}", "[1 2]", "[1}", "{\"a\":1]", "]", "}", "[", "{", "\"abc",
    "\"\\x\"", "\"\\u12\"", "\"\\u12G4\"", "\"\\ud800\"", "\"\\ud800\\u0041\"", "\"\\udc00\"",
    "\"\\ud800x\"", "\"a\x01\"", "\"a\n\"", "\"\x80\"", "\"\xC0\xAF\"", "\"\xE0\x80\x80\"",
    "\"\xED\xA0\x80\"", "\"\xF4\x90\x80\x80\"", "\"\xF5\x80\x80\x80\"", "\"\xC3\"", "\"\xE2\x82\"",
    "1 2", "{} {}", "[]x", std::string("[\0]", 3), "\xC3\xA9", "NaN", "Infinity", "'a'",
    "/* c */ 1", "[1]\x01"};

TEST(json_validator_test, agrees_with_nlohmann_accept_fed_whole_and_byte_by_byte) {
  for (const std::string& text : kCases) {
    const bool expected = nlohmann::json::accept(text);
    EXPECT_EQ(is_valid_json(text), expected) << ::testing::PrintToString(text);
    EXPECT_EQ(fed_byte_by_byte(text), expected) << ::testing::PrintToString(text);
  }
}

TEST(json_validator_test, numbers_beyond_a_double_are_valid_json) {
  // The grammar allows them; nlohmann refuses them as "number overflow", which is not a
  // verdict on the JSON.
  for (const std::string& text :
       std::vector<std::string>{"1e999", "-1e999", "[1e400]", std::string(5000, '9')}) {
    EXPECT_TRUE(is_valid_json(text)) << text.substr(0, 20);
    EXPECT_FALSE(nlohmann::json::accept(text)) << text.substr(0, 20);
  }
}

TEST(json_validator_test, nesting_past_the_limit_is_refused_and_says_so) {
  JsonValidator v(3);
  EXPECT_FALSE(v.feed("[[[[1]]]]"));
  EXPECT_EQ(v.error(), "at byte 3: nesting deeper than the limit");
  EXPECT_TRUE(is_valid_json("[[[1]]]", 3));
  // The default limit costs a bit per level: 10000 levels are fine, one more is not.
  EXPECT_TRUE(is_valid_json(std::string(10000, '[') + std::string(10000, ']')));
  EXPECT_FALSE(is_valid_json(std::string(10001, '[') + std::string(10001, ']')));
}

TEST(json_validator_test, errors_name_the_byte) {
  JsonValidator v;
  EXPECT_FALSE(v.feed("{\"a\": tru}"));
  EXPECT_EQ(v.error(), "at byte 9: not true, false or null");
  JsonValidator w;
  EXPECT_TRUE(w.feed("[1, 2"));
  EXPECT_FALSE(w.finish());
  EXPECT_EQ(w.error(), "at byte 5: the text ends inside a JSON value");
}

TEST(json_validator_test, a_failed_validator_stays_failed) {
  JsonValidator v;
  EXPECT_FALSE(v.feed("]"));
  EXPECT_FALSE(v.feed("[]"));
  EXPECT_FALSE(v.finish());
  EXPECT_EQ(v.error(), "at byte 0: not the start of a value");
}

}  // namespace
}  // namespace harness
