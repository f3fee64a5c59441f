#pragma once
// A regular expression of an expectation, searched line by line like grep: '^' and '$' anchor
// lines, a pattern cannot span lines, and a trailing '\r' is not part of a line.

#include <yaml-cpp/yaml.h>

#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

namespace harness {

class YamlReader;
struct YamlEntry;

struct Pattern {
  std::string source;
  std::shared_ptr<const std::regex> re;
  bool search(std::string_view text) const;  // any line of text matches
  // The first line of `text` that matches, as captured (with a trailing '\r' if it had one).
  std::optional<std::string_view> first_match(std::string_view text) const;
};

// Compiles an ECMAScript regex; throws std::regex_error.
Pattern make_pattern(const std::string& source);

// A pattern from `node` (the value of `e`, or one item of it); problems are reported at their
// position and give nullopt.
std::optional<Pattern> read_pattern(YamlReader& reader, const YamlEntry& e, const YAML::Node& node);
// One pattern or a list of them; the bad ones are reported and left out.
std::vector<Pattern> read_patterns(YamlReader& reader, const YamlEntry& e);

}  // namespace harness
