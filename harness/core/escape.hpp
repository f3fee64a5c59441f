#pragma once
// Making worker-provided bytes safe for a report. Workers may print anything: invalid UTF-8,
// terminal escapes, NUL, `]]>`, `<script>`. Every function here accepts any byte sequence and
// returns valid UTF-8 that the target format cannot misread; none of them throws on content.

#include <string>
#include <string_view>

namespace harness {

// Valid UTF-8: each malformed, overlong, surrogate or truncated sequence becomes U+FFFD.
std::string sanitize_utf8(std::string_view bytes);

// sanitize_utf8, then control characters other than tab, newline and carriage return are shown
// as `\xNN` (so an ANSI colour code reads as `\x1B[31m`), and the non-characters U+FFFE/U+FFFF
// become U+FFFD. The result holds only characters XML 1.0 allows.
std::string printable_text(std::string_view bytes);

// printable_text with &, < and > escaped (and " and ' in an attribute). In an attribute, tab,
// newline and CR are written as character references so a parser's normalisation cannot change
// them; in text, CR is.
std::string xml_escape(std::string_view bytes, bool attribute = false);

// printable_text with &, <, >, " and ' escaped: safe in HTML text and quoted attributes.
std::string html_escape(std::string_view bytes);

// One Markdown table cell: printable_text on one line (newlines become spaces) with `|`
// escaped, so a cell can never break the table.
std::string markdown_cell(std::string_view bytes);

}  // namespace harness
