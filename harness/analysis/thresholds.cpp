#include "harness/analysis/thresholds.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <yaml-cpp/yaml.h>

#include "harness/core/diagnostic.hpp"
#include "harness/core/units.hpp"
#include "harness/core/yaml_reader.hpp"

namespace harness {
namespace {

const std::vector<std::string> kKeys{"time",  "throughput", "memory",
                                     "alpha", "per_metric", "per_run"};

// A thresholds file is a handful of lines; these bounds only stop a hostile one.
constexpr std::size_t kNodeBudget = 100000;
constexpr int kMaxDepth = 8;

std::optional<double> percent(YamlReader& r, const YamlEntry& e) {
  const auto text = r.scalar(e);
  if (!text) return std::nullopt;
  try {
    return parse_percent(*text);
  } catch (const std::invalid_argument& ex) {
    r.error(e, "'" + e.path + "': " + ex.what());
    return std::nullopt;
  }
}

std::optional<double> level(YamlReader& r, const YamlEntry& e) {
  const auto text = r.scalar(e);
  if (!text) return std::nullopt;
  std::optional<double> v;
  if (!text->empty() && text->back() == '%') {
    try {
      v = parse_percent(*text);
    } catch (const std::invalid_argument&) {
    }
  } else {
    v = r.number(e);
    if (!v) return std::nullopt;
  }
  if (!v || !(*v > 0 && *v < 0.5)) {
    r.error(e, "'alpha' must be a level between 0 and 0.5, such as 0.01 or 1%, got " +
                   YamlReader::describe(e.value));
    return std::nullopt;
  }
  return v;
}

void read_per_metric(YamlReader& r, const YamlEntry& section, Thresholds& t) {
  for (const auto& e :
       r.entries(section.value, mark_of(section), "per_metric", compared_metric_names()))
    if (auto v = percent(r, e)) t.per_metric[e.key.Scalar()] = *v;
}

// Run names are free text (a benchmark's name, a run's params), so there is no list to check
// them against: only the shape.
void read_per_run(YamlReader& r, const YamlEntry& section, Thresholds& t) {
  if (!section.value.IsMap()) {
    r.error(section,
            "'per_run' must map benchmark names or run params to percentages, e.g. "
            "{\"BM_SampleSmaps/1\": 100%}, got " +
                YamlReader::describe(section.value));
    return;
  }
  for (auto it = section.value.begin(); it != section.value.end(); ++it) {
    if (!it->first.IsScalar()) {
      r.error(it->first.Mark(),
              "a key in 'per_run' must be a run name, got " + YamlReader::describe(it->first));
      continue;
    }
    const YamlEntry e{"per_run." + it->first.Scalar(), it->first, it->second};
    if (auto v = percent(r, e)) t.per_run[it->first.Scalar()] = *v;
  }
}

}  // namespace

Thresholds parse_thresholds(std::string_view text, std::string_view source) {
  const std::string file(source);
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    throw ScenarioError({Diagnostic{
        file, e.mark.line >= 0 ? e.mark.line + 1 : 0, e.mark.column >= 0 ? e.mark.column + 1 : 0,
        "invalid YAML: " + e.msg + " (check indentation, quotes and brackets)"}});
  }
  Thresholds t;
  if (root.IsNull()) return t;  // an empty file: the defaults
  YamlReader r(file, kNodeBudget, kMaxDepth);
  if (!root.IsMap()) {
    r.error(root.Mark(), "thresholds must be a map such as {time: 3%, memory: 2%}, got " +
                             YamlReader::describe(root));
    throw ScenarioError(r.diagnostics());
  }
  YAML::Mark top;
  top.line = 0;
  top.column = 0;
  for (const auto& e : r.entries(root, top, "", kKeys)) {
    const std::string& key = e.key.Scalar();
    if (key == "time") {
      if (auto v = percent(r, e)) t.time = *v;
    } else if (key == "throughput") {
      t.throughput = percent(r, e);
    } else if (key == "memory") {
      if (auto v = percent(r, e)) t.memory = *v;
    } else if (key == "alpha") {
      if (auto v = level(r, e)) t.alpha = *v;
    } else if (key == "per_metric") {
      read_per_metric(r, e, t);
    } else if (key == "per_run") {
      read_per_run(r, e, t);
    }
  }
  if (!r.diagnostics().empty()) throw ScenarioError(r.diagnostics());
  return t;
}

Thresholds load_thresholds(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path.string() + ": " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  return parse_thresholds(text.str(), path.string());
}

}  // namespace harness
