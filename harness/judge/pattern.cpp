#include "harness/judge/pattern.hpp"

#include <re2/re2.h>

#include <stdexcept>

#include "harness/core/yaml_reader.hpp"

namespace harness {
namespace {

constexpr std::size_t kMaxPatternLength = 1000;

}  // namespace

Pattern make_pattern(const std::string& source) {
  RE2::Options options;
  options.set_log_errors(false);  // the error goes into the diagnostic, not to stderr
  options.set_encoding(RE2::Options::EncodingLatin1);
  auto re = std::make_shared<const RE2>(source, options);
  if (!re->ok()) throw std::invalid_argument(re->error());
  return Pattern{source, std::move(re)};
}

std::optional<std::string_view> Pattern::first_match(std::string_view text) const {
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view raw = text.substr(start, end - start);
    std::string_view line = raw;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (RE2::PartialMatch(re2::StringPiece(line.data(), line.size()), *re)) return raw;
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
  } catch (const std::invalid_argument& ex) {
    r.error(node.Mark(), "'" + e.path + "' is not a valid RE2 regular expression '" + src +
                             "': " + ex.what() +
                             " (RE2 has no lookaround and no backreferences; escape special "
                             "characters such as ( [ . * with a backslash)");
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
