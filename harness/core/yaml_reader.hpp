#pragma once
// Strict, typed reading of a parsed YAML document that collects every problem instead of
// stopping at the first. Scenario and expectation loaders share it so that all of a file's
// errors come out together, each with its 1-based file:line:col and a hint how to fix it.
//
// Hostile input: yaml-cpp shares the node of an alias between its uses, so a "billion laughs"
// document loads in microseconds but would take forever to walk. Readers only descend into keys
// they know, and the one generic walk (to_json, for values kept "as written") is bounded by a
// node budget and a depth limit shared by the whole document.

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/core/diagnostic.hpp"

namespace harness {

// One `key: value` of a map; `path` is the dotted name used in messages ("worker.timeout").
struct YamlEntry {
  std::string path;
  YAML::Node key;
  YAML::Node value;
};

class YamlReader {
 public:
  YamlReader(std::string file, std::size_t node_budget, int max_depth);

  const std::string& file() const { return file_; }
  const std::vector<Diagnostic>& diagnostics() const { return diagnostics_; }

  void error(const YAML::Mark& mark, std::string message);
  void error(const YamlEntry& entry, std::string message);  // at the value, else at the key

  // The entries of `map`, in file order. Unknown keys are reported with a "did you mean" among
  // `allowed` (or a pointer to the section where the key belongs, from `elsewhere`: pairs of
  // key and section); duplicates are reported and dropped. A non-map reports and returns none.
  std::vector<YamlEntry> entries(
      const YAML::Node& map, const YAML::Mark& where, const std::string& section,
      const std::vector<std::string>& allowed,
      const std::vector<std::pair<std::string, std::string>>& elsewhere = {});

  // Typed values; each reports a problem and returns nullopt.
  std::optional<std::string> scalar(const YamlEntry& e);  // any scalar, as text
  std::optional<std::string> string(const YamlEntry& e);  // a scalar that is not a number/bool
  std::optional<std::int64_t> integer(const YamlEntry& e, std::int64_t min, std::int64_t max);
  std::optional<double> number(const YamlEntry& e);
  std::optional<bool> boolean(const YamlEntry& e);
  std::optional<std::chrono::milliseconds> duration(const YamlEntry& e,
                                                    std::chrono::milliseconds min,
                                                    std::chrono::milliseconds max);
  std::optional<std::int64_t> size(const YamlEntry& e);  // bytes; a bare integer is bytes
  // A percentage written with its sign ("150%"), in [0, max]; the number without the sign.
  std::optional<double> percent(const YamlEntry& e, double max);
  // A list of scalars; a single scalar is accepted as a one-entry list when `allow_single`.
  std::optional<std::vector<std::string>> string_list(const YamlEntry& e, bool allow_single);

  // The value as JSON (plain scalars typed: 3 -> 3, true -> true, quoted "3" -> "3"), spending
  // the shared node budget; null after reporting when the budget or depth is exceeded.
  nlohmann::json to_json(const YAML::Node& node);
  static nlohmann::json scalar_to_json(const YAML::Node& node);

  static std::string describe(const YAML::Node& node);  // "the list [...]" for "got ..." parts

 private:
  nlohmann::json to_json(const YAML::Node& node, int depth);

  std::string file_;
  std::size_t budget_;
  int max_depth_;
  bool budget_reported_ = false;
  std::vector<Diagnostic> diagnostics_;
};

YAML::Mark mark_of(const YamlEntry& e);  // the value's position, else the key's

}  // namespace harness
