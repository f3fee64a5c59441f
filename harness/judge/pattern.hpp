#pragma once
// A regular expression of an expectation, in RE2 syntax and matched by RE2, whose time is linear
// in the text whatever the pattern (no backtracking: `^(a+)+b` on a long line costs what `a` does;
// the price is no backreferences and no lookaround). Text is matched as bytes (RE2's Latin-1
// mode): '.' is one byte, so lines that are not valid UTF-8 still match, and a non-ASCII literal
// matches its UTF-8 bytes. Searched line by line like grep: '^' and '$' anchor lines, a pattern
// cannot span lines, and a trailing '\r' is not part of a line.

#include <yaml-cpp/yaml.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace re2 {
class RE2;
}

namespace harness {

class YamlReader;
struct YamlEntry;

struct Pattern {
  std::string source;
  std::shared_ptr<const re2::RE2> re;        // compiled once, shared by copies
  bool search(std::string_view text) const;  // any line of text matches
  // The first line of `text` that matches, as captured (with a trailing '\r' if it had one).
  std::optional<std::string_view> first_match(std::string_view text) const;
};

// Compiles `source`; throws std::invalid_argument with RE2's reason when it is not valid RE2.
Pattern make_pattern(const std::string& source);

// A pattern from `node` (the value of `e`, or one item of it); problems are reported at their
// position and give nullopt.
std::optional<Pattern> read_pattern(YamlReader& reader, const YamlEntry& e, const YAML::Node& node);
// One pattern or a list of them; the bad ones are reported and left out.
std::vector<Pattern> read_patterns(YamlReader& reader, const YamlEntry& e);

}  // namespace harness
