#pragma once
// Checks output against a stored expected file with placeholders (benchmark's output_test.h,
// hyperfine's snapshot tests), so expected files pin the layout and the words while measured
// figures may vary. In an expected line:
//   {{NUM}}   a number: -?digits with an optional .digits
//   {{TIME}}  an ISO 8601 date-time: digits and - : T Z . +
//   {{ANY}}   any text inside the line, possibly none
// Everything else must match exactly, and the number of lines must be equal.

#include <cctype>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace harness::testing {

namespace detail {

inline bool match_line(std::string_view pat, std::string_view text) {
  if (pat.empty()) return text.empty();
  if (pat.substr(0, 2) == "{{") {
    const auto close = pat.find("}}");
    const std::string_view name = pat.substr(2, close - 2);
    const std::string_view rest = pat.substr(close + 2);
    if (name == "ANY") {
      for (std::size_t n = 0; n <= text.size(); ++n) {
        if (match_line(rest, text.substr(n))) return true;
      }
      return false;
    }
    // Longest candidate run of the placeholder's characters; then try each valid length.
    std::size_t n = 0;
    auto ok = [&](char c) {
      if (name == "NUM") return std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == '-';
      return std::isdigit(static_cast<unsigned char>(c)) ||
             std::string_view("-:TZ.+").find(c) != std::string_view::npos;
    };
    while (n < text.size() && ok(text[n])) ++n;
    for (; n > 0; --n) {
      const std::string_view token = text.substr(0, n);
      if (name == "NUM") {
        std::size_t i = token[0] == '-' ? 1 : 0, digits = 0, dots = 0;
        bool valid = i < token.size();
        for (; valid && i < token.size(); ++i) {
          if (token[i] == '.') {
            valid = digits > 0 && ++dots == 1 && i + 1 < token.size();
          } else if (std::isdigit(static_cast<unsigned char>(token[i]))) {
            ++digits;
          } else {
            valid = false;
          }
        }
        if (!valid) continue;
      } else if (n < 10) {
        continue;
      }
      if (match_line(rest, text.substr(n))) return true;
    }
    return false;
  }
  const auto next = pat.find("{{");
  const std::string_view literal = pat.substr(0, next);
  if (text.substr(0, literal.size()) != literal) return false;
  return match_line(pat.substr(literal.size()), text.substr(literal.size()));
}

inline std::vector<std::string_view> split_lines(std::string_view s) {
  std::vector<std::string_view> out;
  while (!s.empty()) {
    const auto nl = s.find('\n');
    out.push_back(s.substr(0, nl));
    if (nl == std::string_view::npos) break;
    s.remove_prefix(nl + 1);
  }
  return out;
}

}  // namespace detail

// "" when `actual` matches `expected`; else where and how it differs, and the whole output.
inline std::string match_output(std::string_view expected, std::string_view actual) {
  const auto want = detail::split_lines(expected);
  const auto got = detail::split_lines(actual);
  for (std::size_t i = 0; i < want.size() || i < got.size(); ++i) {
    const std::string_view w = i < want.size() ? want[i] : "<end of expected>";
    const std::string_view g = i < got.size() ? got[i] : "<end of output>";
    if (i >= want.size() || i >= got.size() || !detail::match_line(w, g)) {
      std::ostringstream msg;
      msg << "line " << (i + 1) << " differs\n  expected: " << w << "\n  actual:   " << g
          << "\n--- whole output ---\n"
          << actual;
      return msg.str();
    }
  }
  return "";
}

inline std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace harness::testing
