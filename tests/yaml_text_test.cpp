// The byte-level and libyaml checks that run before yaml-cpp (core/yaml_text.hpp), and the
// escaping every diagnostic goes through. Positions are worked out from how each input is
// built: a prefix of known length, then the offending bytes.
#include "harness/core/yaml_text.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "harness/core/diagnostic.hpp"
#include "harness/core/utf8.hpp"

namespace harness {
namespace {

std::vector<Diagnostic> check(const std::string& text, int max_depth = 32) {
  return check_yaml_text(text, "x.yaml", max_depth);
}

// "description: " is 13 bytes, so a bad byte right after it sits at line 2, column 14.
const std::string kLine1 = "name: t\n";
const std::string kPrefix = "description: ";

void expect_one_at(const std::string& text, int line, int column, const std::string& words) {
  const auto d = check(text);
  ASSERT_EQ(d.size(), 1u) << ::testing::PrintToString(text);
  EXPECT_EQ(d[0].line, line) << d[0].str();
  EXPECT_EQ(d[0].column, column) << d[0].str();
  EXPECT_NE(d[0].message.find(words), std::string::npos) << d[0].str();
}

TEST(yaml_text_test, each_kind_of_invalid_utf8_is_refused_at_its_byte) {
  const std::vector<std::pair<std::string, std::string>> cases{
      {"\x80", "continuation byte"}, {"\xC0\xAF", "never occurs"},
      {"\xFF", "never occurs"},      {"\xC3(", "cut short"},
      {"\xE2\x82", "cut short"},  // then a newline
      {"\xE0\x80\x80", "overlong"},  {"\xF0\x80\x80\x80", "overlong"},
      {"\xED\xA0\x80", "surrogate"}, {"\xF4\x90\x80\x80", "above U+10FFFF"},
  };
  for (const auto& [bytes, words] : cases) {
    SCOPED_TRACE(::testing::PrintToString(bytes));
    expect_one_at(kLine1 + kPrefix + "ab" + bytes + "\n", 2, 16, words);
  }
}

TEST(yaml_text_test, control_characters_are_refused_and_named) {
  const std::vector<std::pair<std::string, std::string>> cases{
      {std::string(1, '\0'), "NUL byte"},
      {"\x01", "U+0001"},
      {"\x07", "U+0007"},
      {"\x1B[31m", "U+001B"},
      {"\x7F", "U+007F"},
      {"\xC2\x80", "U+0080"},
      {"\xC2\x9F", "U+009F"},
      {"\xC2\x85", "U+0085"},
      {"\xE2\x80\xA8", "U+2028"},
      {"\xE2\x80\xA9", "U+2029"},
      {"\xEF\xBF\xBE", "U+FFFE"},
      {"\xEF\xBF\xBF", "U+FFFF"},
      {"\xEF\xBB\xBF", "byte order mark"},
  };
  for (const auto& [bytes, words] : cases) {
    SCOPED_TRACE(::testing::PrintToString(bytes));
    expect_one_at(kLine1 + kPrefix + bytes + "\n", 2, 14, words);
  }
}

TEST(yaml_text_test, what_yaml_allows_passes) {
  for (const std::string text :
       {"a: b\n", "a:\tb\n", "a: \"x\ty\"\n", "a: b\r\nc: d\r\n", "a: b\rc: d\r",
        "\xEF\xBB\xBF"
        "a: b\n",
        "a: caf\xC3\xA9 \xF0\x9F\x98\x80 \xE2\x82\xAC\n", "a: \"\\t\\n\\x41\\u00e9\"\n",
        "a: [1,\n\t2]\n", "a: |\n  line\n  \tindented tab\n", "a: \xEE\x80\x80 \xEF\xBF\xBD\n"}) {
    EXPECT_TRUE(check(text).empty())
        << ::testing::PrintToString(text) << " " << ::testing::PrintToString(check(text));
  }
}

TEST(yaml_text_test, line_breaks_lf_cr_and_crlf_count_one_line_each) {
  expect_one_at("a: 1\r\nb: 2\rc: 3\nd: \x01\n", 4, 4, "U+0001");
}

TEST(yaml_text_test, columns_count_bytes_as_yaml_cpp_does_without_the_bom) {
  // "é" is two bytes: the control character after "é: " is at byte column 5.
  expect_one_at("\xC3\xA9: \x02\n", 1, 5, "U+0002");
  expect_one_at(
      "\xEF\xBB\xBF"
      "ab: \x02\n",
      1, 5, "U+0002");
  // libyaml counts characters; its marks are turned into byte columns too ('@' is byte 11).
  expect_one_at("\xC3\xA9\xC3\xA9: [1, @]\n", 1, 11, "cannot start any token");
}

TEST(yaml_text_test, first_problem_of_each_line_only_and_at_most_a_bounded_number) {
  std::string text;
  for (int i = 0; i < 100; ++i) text += "a: \x01\x02\xFF\n";
  const auto d = check(text);
  ASSERT_EQ(d.size(), kMaxTextProblems + 1);
  for (std::size_t i = 0; i < kMaxTextProblems; ++i) {
    EXPECT_EQ(d[i].line, static_cast<int>(i + 1));
    EXPECT_EQ(d[i].column, 4);
  }
  EXPECT_NE(d.back().message.find(std::to_string(100 - kMaxTextProblems) + " more lines"),
            std::string::npos)
      << d.back().str();
}

TEST(yaml_text_test, tabs_as_indentation_are_refused_with_a_fix) {
  // yaml-cpp accepts each of these; libyaml (and PyYAML, yq) refuse them.
  const std::vector<std::tuple<std::string, int, int>> cases{
      {"labels:\n -\tx\n", 2, 3},
      {"worker:\n\t\n  command: [p]\n", 2, 1},
      {"a: 1 # c\n\t\n", 2, 1},
  };
  for (const auto& [text, line, column] : cases) {
    SCOPED_TRACE(::testing::PrintToString(text));
    expect_one_at(text, line, column, "replace it with spaces");
  }
}

TEST(yaml_text_test, malformed_yaml_that_yaml_cpp_accepts_is_refused) {
  const std::vector<std::tuple<std::string, int, int>> cases{
      {"a: x\nb: \"unterminated\n", 3, 1},
      {"a: 'x''\n", 2, 1},
      {"a: [1,,2]\n", 1, 7},
      {",a: 1\n", 1, 1},
      {"%FOO bar\n---\na: 1\n", 1, 5},
  };
  for (const auto& [text, line, column] : cases) {
    SCOPED_TRACE(::testing::PrintToString(text));
    expect_one_at(text, line, column, "invalid YAML");
  }
}

TEST(yaml_text_test, nul_written_as_an_escape_is_refused_at_its_string) {
  for (const std::string nul : {"\\0", "\\x00", "\\u0000", "\\U00000000"}) {
    SCOPED_TRACE(nul);
    expect_one_at("a: ok\ncommand: [p, \"abc" + nul + "def\"]\n", 2, 14, "NUL");
    expect_one_at("\"k" + nul + "\": 1\n", 1, 1, "NUL");
  }
}

TEST(yaml_text_test, nesting_past_the_limit_stops_the_parse) {
  const auto d = check("a:\n  b: [[[[x]]]]\n", 4);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].line, 2);
  EXPECT_EQ(d[0].column, 8);  // map, map, [, [ are four levels: the third [ is the fifth
  EXPECT_NE(d[0].message.find("nesting deeper than 4 levels"), std::string::npos);
  EXPECT_TRUE(check("a:\n  b: [[x]]\n", 4).empty());
}

TEST(yaml_text_test, aliases_are_events_not_copies) {
  std::string bomb = "x0: &x0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n";
  for (int level = 1; level < 10; ++level) {
    bomb += "x" + std::to_string(level) + ": &x" + std::to_string(level) + " [";
    for (int i = 0; i < 9; ++i) bomb += (i ? ", *x" : "*x") + std::to_string(level - 1);
    bomb += "]\n";
  }
  EXPECT_TRUE(check(bomb).empty());  // linear: the bomb is the tree walk's problem, not ours
}

TEST(escape_controls_test, controls_separators_overrides_and_bad_bytes_are_shown_escaped) {
  EXPECT_EQ(escape_controls("a\nb\tc\rd"), "a\\nb\\tc\\rd");
  EXPECT_EQ(escape_controls(std::string("x\0y", 3)), "x\\x00y");
  EXPECT_EQ(escape_controls("\x1B[31mred"), "\\x1B[31mred");
  EXPECT_EQ(escape_controls("\x7F"), "\\x7F");
  EXPECT_EQ(escape_controls("\xC2\x85"), "\\u0085");
  EXPECT_EQ(escape_controls("\xE2\x80\xA8"), "\\u2028");
  EXPECT_EQ(escape_controls("\xE2\x80\xAE"
                            "abc"),
            "\\u202Eabc");
  EXPECT_EQ(escape_controls("\xFF\xC3"), "\\xFF\\xC3");
  EXPECT_EQ(escape_controls("caf\xC3\xA9 \xE2\x82\xAC"), "caf\xC3\xA9 \xE2\x82\xAC");
}

TEST(escape_controls_test, a_diagnostic_is_one_line_whatever_it_quotes) {
  Diagnostic d{"dir\n/x.yaml", 3, 4, "unknown key 'a\nb\x1B]0;title\x07'"};
  const std::string s = d.str();
  EXPECT_EQ(s, "dir\\n/x.yaml:3:4: error: unknown key 'a\\nb\\x1B]0;title\\x07'");
}

TEST(utf8_test, decodes_valid_characters_with_their_length) {
  EXPECT_EQ(decode_utf8("A", 0).code, U'A');
  const Utf8Char e = decode_utf8("\xC3\xA9", 0);
  EXPECT_EQ(e.code, U'\u00E9');
  EXPECT_EQ(e.length, 2u);
  const Utf8Char emoji = decode_utf8("\xF0\x9F\x98\x80", 0);
  EXPECT_EQ(emoji.code, U'\U0001F600');
  EXPECT_EQ(emoji.length, 4u);
  EXPECT_EQ(decode_utf8("\xF4\x8F\xBF\xBF", 0).code, U'\U0010FFFF');
  EXPECT_EQ(decode_utf8("\xED\x9F\xBF", 0).code, U'\uD7FF');
}

}  // namespace
}  // namespace harness
