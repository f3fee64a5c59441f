#include "harness/core/diagnostic.hpp"

#include <algorithm>
#include <cstdio>
#include <numeric>

#include "harness/core/utf8.hpp"

namespace harness {
namespace {

std::string join_diagnostics(const std::vector<Diagnostic>& diagnostics) {
  std::string text;
  for (const auto& d : diagnostics) {
    if (!text.empty()) text += '\n';
    text += d.str();
  }
  return text;
}

bool shown_escaped(char32_t c) {
  return c < 0x20 || (c >= 0x7F && c <= 0x9F) || c == 0x2028 || c == 0x2029 ||
         (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069);
}

}  // namespace

std::string escape_controls(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  char buf[16];
  for (std::size_t i = 0; i < text.size();) {
    const Utf8Char ch = decode_utf8(text, i);
    if (ch.error != Utf8Error::kNone) {
      std::snprintf(buf, sizeof buf, "\\x%02X", static_cast<unsigned char>(text[i]));
      out += buf;
    } else if (ch.code == '\n') {
      out += "\\n";
    } else if (ch.code == '\t') {
      out += "\\t";
    } else if (ch.code == '\r') {
      out += "\\r";
    } else if (ch.code < 0x80 && shown_escaped(ch.code)) {
      std::snprintf(buf, sizeof buf, "\\x%02X", static_cast<unsigned>(ch.code));
      out += buf;
    } else if (shown_escaped(ch.code)) {
      std::snprintf(buf, sizeof buf, "\\u%04X", static_cast<unsigned>(ch.code));
      out += buf;
    } else {
      out.append(text.substr(i, ch.length));
    }
    i += ch.length;
  }
  return out;
}

std::string Diagnostic::str() const {
  std::string text = escape_controls(file);
  if (line > 0) {
    text += ':' + std::to_string(line);
    if (column > 0) text += ':' + std::to_string(column);
  }
  return text + ": error: " + escape_controls(message);
}

ScenarioError::ScenarioError(std::vector<Diagnostic> diagnostics)
    : std::runtime_error(join_diagnostics(diagnostics)), diagnostics_(std::move(diagnostics)) {}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  // Optimal string alignment: a swap of two neighbours ("tiemout") counts as one edit.
  const std::size_t n = a.size(), m = b.size();
  std::vector<std::vector<std::size_t>> d(n + 1, std::vector<std::size_t>(m + 1));
  for (std::size_t i = 0; i <= n; ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= m; ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= n; ++i) {
    for (std::size_t j = 1; j <= m; ++j) {
      std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[n][m];
}

std::string closest_match(std::string_view word, const std::vector<std::string>& candidates) {
  // Unknown keys can be arbitrarily long in hostile files; the quadratic table stays small.
  if (word.size() > 64) return {};
  std::string best;
  std::size_t best_distance = 3;
  for (const auto& c : candidates) {
    std::size_t dist = edit_distance(word, c);
    if (dist < best_distance && dist * 2 < std::max(word.size(), c.size())) {
      best = c;
      best_distance = dist;
    }
  }
  return best;
}

}  // namespace harness
