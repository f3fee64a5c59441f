#include "harness/core/yaml_text.hpp"

#include <yaml.h>

#include <cstdio>
#include <cstring>
#include <optional>

#include "harness/core/utf8.hpp"

namespace harness {
namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";

std::string hex_byte(unsigned char c) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%02X", c);
  return buf;
}

// Why the character `c` (valid UTF-8) may not appear in a YAML file; empty when it may. Tab,
// line breaks and a byte order mark at the start are the caller's.
std::string refused_character(char32_t c) {
  if ((c >= 0x20 && c < 0x7F) || (c >= 0xA0 && c < 0x2028)) return {};  // the common case, fast
  const std::string name = code_point_name(c);
  const std::string escape_hint =
      "; remove it, or write it as an escape (\\u" + name.substr(2) + ") in a double-quoted string";
  if (c == 0)
    return "a NUL byte; a scenario is UTF-8 text (is this file UTF-16, UTF-32 or binary?)";
  if (c < 0x20 || c == 0x7F || (c >= 0x80 && c <= 0x9F && c != 0x85))
    return "control character " + name + " is not allowed in YAML" + escape_hint;
  if (c == 0x85 || c == 0x2028 || c == 0x2029)
    return name +
           " is read as a line break by YAML 1.1 and as a character by YAML 1.2, so parsers "
           "disagree about the lines" +
           escape_hint;
  if (c == 0xFEFF)
    return "a byte order mark (U+FEFF) inside the file; only the first bytes may hold one";
  if (c == 0xFFFE || c == 0xFFFF) return "non-character " + name + " is not allowed in YAML";
  return {};
}

// Step 1 of the header: the first problem of each line, at most kMaxTextProblems of them.
void scan_characters(std::string_view text, const std::string& file, std::vector<Diagnostic>& out) {
  int line = 1, problem_line = 0;
  std::size_t line_start = 0;
  std::size_t more = 0;
  auto report = [&](std::size_t at, std::string message) {
    if (problem_line == line) return;
    problem_line = line;
    if (out.size() >= kMaxTextProblems) {
      ++more;
      return;
    }
    out.push_back({file, line, static_cast<int>(at - line_start + 1), std::move(message)});
  };
  if (text.substr(0, 3) == kBom) line_start = 3;  // not counted in columns, as by yaml-cpp
  for (std::size_t i = line_start; i < text.size();) {
    const char b = text[i];
    if (b == '\n' || b == '\r') {
      i += (b == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ? 2 : 1;
      ++line;
      line_start = i;
      continue;
    }
    const Utf8Char ch = decode_utf8(text, i);
    if (ch.error != Utf8Error::kNone) {
      report(i, "invalid UTF-8: " + describe_utf8_error(ch.error) + " (byte " +
                    hex_byte(static_cast<unsigned char>(b)) +
                    "); a scenario is UTF-8 text: save the file as UTF-8");
    } else if (b != '\t') {
      if (std::string why = refused_character(ch.code); !why.empty()) report(i, why);
    }
    i += ch.length;
  }
  if (more > 0)
    out.push_back({file, 0, 0,
                   std::to_string(more) + " more lines with such problems; fix the ones above "
                                          "first"});
}

// libyaml's marks count characters; ours count bytes. The text is valid UTF-8 and its only
// line breaks are LF, CR and CRLF by now (step 1), so both agree on the lines. Returns the
// byte offset of the mark and sets `column` to its 1-based byte column.
std::size_t offset_of(std::string_view text, const yaml_mark_t& mark, int& column) {
  std::size_t i = 0;
  for (std::size_t line = 0; line < mark.line && i < text.size(); ++i) {
    if (text[i] == '\n' || (text[i] == '\r' && (i + 1 >= text.size() || text[i + 1] != '\n')))
      ++line;
  }
  // Neither parser counts a byte order mark in the columns.
  if (i == 0 && text.substr(0, 3) == kBom) i = 3;
  const std::size_t start = i;
  for (std::size_t col = 0; col < mark.column && i < text.size(); ++col)
    i += decode_utf8(text, i).length;
  column = static_cast<int>(i - start + 1);
  return i;
}

// Owns the libyaml parser and the current event, so every way out frees them.
class LibyamlParser {
 public:
  explicit LibyamlParser(std::string_view text) {
    ok_ = yaml_parser_initialize(&parser_) != 0;
    if (!ok_) return;
    yaml_parser_set_input_string(&parser_, reinterpret_cast<const unsigned char*>(text.data()),
                                 text.size());
    yaml_parser_set_encoding(&parser_, YAML_UTF8_ENCODING);
  }
  ~LibyamlParser() {
    if (has_event_) yaml_event_delete(&event_);
    if (ok_) yaml_parser_delete(&parser_);
  }
  LibyamlParser(const LibyamlParser&) = delete;
  LibyamlParser& operator=(const LibyamlParser&) = delete;

  bool initialized() const { return ok_; }
  // The next event, or nullptr on a parse error (then parser() holds the problem).
  const yaml_event_t* next() {
    if (has_event_) yaml_event_delete(&event_);
    has_event_ = yaml_parser_parse(&parser_, &event_) != 0;
    return has_event_ ? &event_ : nullptr;
  }
  const yaml_parser_t& parser() const { return parser_; }

 private:
  yaml_parser_t parser_{};
  yaml_event_t event_{};
  bool ok_ = false;
  bool has_event_ = false;
};

Diagnostic parse_problem(std::string_view text, const std::string& file, const yaml_parser_t& p) {
  std::string message = "invalid YAML: ";
  message += p.problem ? p.problem : "libyaml refused it";
  if (p.context) message += std::string(" (") + p.context + ")";
  if (p.error == YAML_READER_ERROR) {
    // Step 1 refuses what libyaml's reader does; this only keeps the position if it ever differs.
    int line = 1;
    std::size_t line_start = 0;
    for (std::size_t i = 0; i < p.problem_offset && i < text.size(); ++i) {
      if (text[i] == '\n') {
        ++line;
        line_start = i + 1;
      }
    }
    return {file, line, static_cast<int>(p.problem_offset - line_start + 1), message};
  }
  int column = 0;
  const std::size_t at = offset_of(text, p.problem_mark, column);
  if (at < text.size() && text[at] == '\t') {
    message +=
        "; a tab where YAML expects indentation or a value: YAML indents with spaces only "
        "(libyaml, PyYAML and yq refuse a tab at the start of a line or right after '-'), "
        "replace it with spaces";
  } else {
    message += "; check indentation, quotes and brackets";
  }
  return {file, static_cast<int>(p.problem_mark.line + 1), column, message};
}

// Step 2 of the header.
void parse_events(std::string_view text, const std::string& file, int max_depth,
                  std::vector<Diagnostic>& out) {
  LibyamlParser parser(text);
  if (!parser.initialized()) {
    out.push_back({file, 0, 0, "cannot start libyaml's parser (out of memory?)"});
    return;
  }
  int depth = 0;
  std::size_t nul_scalars = 0;
  for (;;) {
    const yaml_event_t* e = parser.next();
    if (!e) {
      out.push_back(parse_problem(text, file, parser.parser()));
      return;
    }
    int column = 0;
    switch (e->type) {
      case YAML_SEQUENCE_START_EVENT:
      case YAML_MAPPING_START_EVENT:
        if (++depth > max_depth) {
          const std::size_t line = e->start_mark.line + 1;
          offset_of(text, e->start_mark, column);
          out.push_back({file, static_cast<int>(line), column,
                         "nesting deeper than " + std::to_string(max_depth) +
                             " levels; a scenario needs only a few"});
          return;
        }
        break;
      case YAML_SEQUENCE_END_EVENT:
      case YAML_MAPPING_END_EVENT: --depth; break;
      case YAML_SCALAR_EVENT:
        if (e->data.scalar.length > 0 &&
            std::memchr(e->data.scalar.value, 0, e->data.scalar.length) != nullptr &&
            nul_scalars++ < kMaxTextProblems) {
          offset_of(text, e->start_mark, column);
          out.push_back({file, static_cast<int>(e->start_mark.line + 1), column,
                         "a NUL character (an escape such as \\0 or \\x00) in a string: "
                         "argv, environment and paths end at a NUL, so the worker would get a "
                         "cut value; remove it"});
        }
        break;
      case YAML_STREAM_END_EVENT: return;
      default: break;
    }
  }
}

}  // namespace

std::vector<Diagnostic> check_yaml_text(std::string_view text, const std::string& file,
                                        int max_depth) {
  std::vector<Diagnostic> out;
  scan_characters(text, file, out);
  if (out.empty()) parse_events(text, file, max_depth, out);
  return out;
}

}  // namespace harness
