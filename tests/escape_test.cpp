#include "harness/core/escape.hpp"

#include <gtest/gtest.h>

namespace harness {
namespace {

TEST(escape_test, valid_utf8_is_unchanged) {
  const std::string s = "plain, caf\xC3\xA9, \xE2\x82\xAC, \xF0\x9F\x98\x80";
  EXPECT_EQ(sanitize_utf8(s), s);
}

TEST(escape_test, each_invalid_byte_becomes_a_replacement_character) {
  EXPECT_EQ(sanitize_utf8("a\xFF"
                          "b"),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(sanitize_utf8("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");  // overlong '/'
  EXPECT_EQ(sanitize_utf8("\xED\xA0\x80"),
            "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");                   // UTF-16 surrogate
  EXPECT_EQ(sanitize_utf8("x\xE2\x82"), "x\xEF\xBF\xBD\xEF\xBF\xBD");  // truncated at the end
  EXPECT_EQ(sanitize_utf8("\xF4\x90\x80\x80").substr(0, 3), "\xEF\xBF\xBD");  // > U+10FFFF
}

TEST(escape_test, control_characters_are_shown_not_kept) {
  EXPECT_EQ(printable_text(std::string("a\0b", 3)), "a\\x00b");
  EXPECT_EQ(printable_text("\x1B[31mred"), "\\x1B[31mred");
  EXPECT_EQ(printable_text("tab\tnl\ncr\r"), "tab\tnl\ncr\r");
  EXPECT_EQ(printable_text("\xEF\xBF\xBF"), "\xEF\xBF\xBD");  // U+FFFF is not an XML character
}

TEST(escape_test, xml_text_and_attributes) {
  EXPECT_EQ(xml_escape("<a href=\"x\">]]>&'"), "&lt;a href=\"x\"&gt;]]&gt;&amp;'");
  EXPECT_EQ(xml_escape("\"'", true), "&quot;&apos;");
  EXPECT_EQ(xml_escape("l1\nl2\r"), "l1\nl2&#13;");
  EXPECT_EQ(xml_escape("l1\nl2\t", true), "l1&#10;l2&#9;");
}

TEST(escape_test, html) {
  EXPECT_EQ(html_escape("<script>alert('x')</script>"),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;");
}

TEST(escape_test, markdown_cell_is_one_line_without_bare_pipes) {
  EXPECT_EQ(markdown_cell("a|b\nc"), "a\\|b c");
}

}  // namespace
}  // namespace harness
