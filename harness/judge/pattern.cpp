// GCC 12 reports a false "may be used uninitialized" inside libstdc++'s regex compiler at -O2
// with sanitizers (GCC bug 105562); the code is std::regex's own, not ours.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include "harness/judge/pattern.hpp"

#include "harness/core/yaml_reader.hpp"

namespace harness {
namespace {

// libstdc++'s regex matcher recurses per character; bounded windows keep its stack bounded
// whatever a worker printed on one line.
constexpr std::size_t kWindow = 1024;
constexpr std::size_t kOverlap = 128;
constexpr std::size_t kMaxPatternLength = 1000;

bool search_line(const std::regex& re, std::string_view line) {
  for (std::size_t pos = 0;; pos += kWindow - kOverlap) {
    std::string_view window = line.substr(pos, kWindow);
    auto flags =
        pos == 0 ? std::regex_constants::match_default : std::regex_constants::match_not_bol;
    if (pos + kWindow < line.size()) flags |= std::regex_constants::match_not_eol;
    if (std::regex_search(window.begin(), window.end(), re, flags)) return true;
    if (pos + kWindow >= line.size()) return false;
  }
}

}  // namespace

Pattern make_pattern(const std::string& source) {
  return Pattern{source, std::make_shared<const std::regex>(source, std::regex::ECMAScript)};
}

std::optional<std::string_view> Pattern::first_match(std::string_view text) const {
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view raw = text.substr(start, end - start);
    std::string_view line = raw;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (search_line(*re, line)) return raw;
    if (end == text.size()) break;
    start = end + 1;
  }
  return std::nullopt;
}

bool Pattern::search(std::string_view text) const {
  return first_match(text).has_value();
}

std::optional<Pattern> read_pattern(YamlReader& r, const YamlEntry& e, const YAML::Node& node) {
  if (!node.IsScalar() || node.IsNull()) {
    r.error(
        node.Mark().line >= 0 ? node.Mark() : mark_of(e),
        "'" + e.path + "' must be a regular expression string, got " + YamlReader::describe(node));
    return std::nullopt;
  }
  const std::string& src = node.Scalar();
  if (src.size() > kMaxPatternLength) {
    r.error(node.Mark(), "'" + e.path + "' is a regular expression of " +
                             std::to_string(src.size()) + " characters; keep it under " +
                             std::to_string(kMaxPatternLength));
    return std::nullopt;
  }
  try {
    return make_pattern(src);
  } catch (const std::regex_error& ex) {
    r.error(node.Mark(), "'" + e.path + "' is not a valid ECMAScript regular expression '" + src +
                             "': " + ex.what() +
                             " (escape special characters such as ( [ . * with a backslash)");
    return std::nullopt;
  }
}

std::vector<Pattern> read_patterns(YamlReader& r, const YamlEntry& e) {
  std::vector<Pattern> out;
  if (e.value.IsSequence()) {
    for (const auto& item : e.value)
      if (auto p = read_pattern(r, e, item)) out.push_back(std::move(*p));
  } else if (auto p = read_pattern(r, e, e.value)) {
    out.push_back(std::move(*p));
  }
  return out;
}

}  // namespace harness
