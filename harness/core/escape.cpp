#include "harness/core/escape.hpp"

#include <array>
#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <utility>

#include "harness/core/utf8.hpp"

namespace harness {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// Length of the valid UTF-8 sequence starting at s[i], or 0 when it is not valid (RFC 3629:
// no overlongs, no surrogates, nothing above U+10FFFF).
std::size_t valid_sequence_length(std::string_view s, std::size_t i) {
  const Utf8Char ch = decode_utf8(s, i);
  return ch.error == Utf8Error::kNone ? ch.length : 0;
}

// Calls emit(sequence) for each valid sequence and emit(kReplacement) for each invalid byte.
template <typename Emit>
void for_each_sequence(std::string_view s, Emit&& emit) {
  std::size_t i = 0;
  while (i < s.size()) {
    const std::size_t len = valid_sequence_length(s, i);
    if (len == 0) {
      emit(kReplacement);
      ++i;
    } else {
      emit(s.substr(i, len));
      i += len;
    }
  }
}

void append_hex_escape(std::string& out, unsigned char c) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "\\x%02X", c);
  out += buf;
}

// The printable_text rules for one valid sequence.
void append_printable(std::string& out, std::string_view seq) {
  if (seq.size() == 1) {
    const auto c = static_cast<unsigned char>(seq[0]);
    if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F) {
      append_hex_escape(out, c);
      return;
    }
  }
  if (seq == "\xEF\xBF\xBE" || seq == "\xEF\xBF\xBF") {  // U+FFFE, U+FFFF
    out += kReplacement;
    return;
  }
  out += seq;
}

}  // namespace

std::string sanitize_utf8(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  for_each_sequence(bytes, [&](std::string_view seq) { out += seq; });
  return out;
}

std::string printable_text(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  for_each_sequence(bytes, [&](std::string_view seq) { append_printable(out, seq); });
  return out;
}

namespace {

// Replacements for ASCII characters (null: the character stays); one table per target format,
// one loop for all of them.
using EscapeTable = std::array<const char*, 128>;

EscapeTable table(std::initializer_list<std::pair<char, const char*>> entries) {
  EscapeTable t{};
  for (const auto& [c, text] : entries) t[static_cast<unsigned char>(c)] = text;
  return t;
}

std::string escape_with(std::string_view bytes, const EscapeTable& t) {
  const std::string text = printable_text(bytes);
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    const char* r = u < 128 ? t[u] : nullptr;
    if (r)
      out += r;
    else
      out += c;
  }
  return out;
}

const EscapeTable kXmlText = table({{'&', "&amp;"}, {'<', "&lt;"}, {'>', "&gt;"}, {'\r', "&#13;"}});
const EscapeTable kXmlAttribute = table({{'&', "&amp;"},
                                         {'<', "&lt;"},
                                         {'>', "&gt;"},
                                         {'"', "&quot;"},
                                         {'\'', "&apos;"},
                                         {'\r', "&#13;"},
                                         {'\n', "&#10;"},
                                         {'\t', "&#9;"}});
const EscapeTable kHtml =
    table({{'&', "&amp;"}, {'<', "&lt;"}, {'>', "&gt;"}, {'"', "&quot;"}, {'\'', "&#39;"}});
const EscapeTable kMarkdownCell = table({{'|', "\\|"}, {'\n', " "}, {'\r', " "}, {'\t', " "}});

}  // namespace

std::string xml_escape(std::string_view bytes, bool attribute) {
  return escape_with(bytes, attribute ? kXmlAttribute : kXmlText);
}

std::string html_escape(std::string_view bytes) {
  return escape_with(bytes, kHtml);
}

std::string markdown_cell(std::string_view bytes) {
  return escape_with(bytes, kMarkdownCell);
}

}  // namespace harness
