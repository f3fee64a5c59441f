#include "harness/scenario/matrix.hpp"

#include <algorithm>

#include "harness/core/yaml_reader.hpp"

namespace harness {
namespace {

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

// Whether `key` may name an axis; reports why not. `field` is its run field, if any.
bool check_key(YamlReader& r, const YAML::Node& key, const RunField* field,
               const std::vector<MatrixAxis>& axes) {
  const std::string& k = key.Scalar();
  const auto& names = run_field_names();
  if (!field && !is_variable_name(k)) {
    std::string near = closest_match(k, names);
    r.error(key.Mark(), "matrix key '" + k + "' is neither a run field (" + join(names) +
                            ") nor a variable name (letters, digits, '_')" +
                            (near.empty() ? "" : "; did you mean '" + near + "'?"));
    return false;
  }
  const auto& builtins = builtin_variables();
  if (std::find(builtins.begin(), builtins.end(), k) != builtins.end()) {
    r.error(key.Mark(),
            "matrix key '" + k + "' would hide the built-in ${" + k + "}; choose another name");
    return false;
  }
  if (std::any_of(axes.begin(), axes.end(), [&](const MatrixAxis& a) { return a.key == k; })) {
    r.error(key.Mark(), "duplicate key '" + k + "' in 'matrix'");
    return false;
  }
  if (!field) {
    std::string near = closest_match(k, names);
    if (!near.empty())
      r.error(key.Mark(), "matrix key '" + k + "' is not a run field (did you mean '" + near +
                              "'?); rename it if it is meant as a variable");
  }
  return true;
}

// The values of one axis; those a run field refuses are reported and left out.
std::vector<nlohmann::json> read_values(YamlReader& r, const YAML::Node& key,
                                        const YAML::Node& values, const RunField* field) {
  const std::string path = "matrix." + key.Scalar();
  std::vector<nlohmann::json> out;
  for (std::size_t i = 0; i < values.size(); ++i) {
    const YAML::Node v = values[i];
    YamlEntry ve{path + "[" + std::to_string(i) + "]", key, v};
    if (!v.IsScalar()) {
      r.error(v.Mark(), "'" + ve.path + "' must be a single value, got " + YamlReader::describe(v));
      continue;
    }
    RunSpec probe;
    if (field && !field->read(r, ve, probe)) continue;
    out.push_back(YamlReader::scalar_to_json(v));
  }
  return out;
}

}  // namespace

std::vector<MatrixAxis> read_matrix(YamlReader& r, const YamlEntry& me, std::size_t max_points) {
  std::vector<MatrixAxis> axes;
  if (!me.value.IsMap()) {
    r.error(me, "'matrix' must be a map of key: [values], e.g. {instances: [1, 2, 4]}, got " +
                    YamlReader::describe(me.value));
    return axes;
  }
  std::size_t points = 1;
  for (auto it = me.value.begin(); it != me.value.end(); ++it) {
    const YAML::Node key = it->first;
    const YAML::Node values = it->second;
    if (!key.IsScalar()) {
      r.error(key.Mark(), "a matrix key must be a name, got " + YamlReader::describe(key));
      continue;
    }
    const RunField* field = find_run_field(key.Scalar());
    if (!check_key(r, key, field, axes)) continue;
    if (!values.IsSequence() || values.size() == 0) {
      r.error(values.IsNull() ? key.Mark() : values.Mark(),
              "'matrix." + key.Scalar() + "' must be a non-empty list of values, e.g. [1, 2, 4], " +
                  "got " + YamlReader::describe(values));
      continue;
    }
    MatrixAxis axis{key.Scalar(), read_values(r, key, values, field)};
    points *= std::max<std::size_t>(values.size(), 1);
    if (points > max_points) {
      r.error(key.Mark(), "the matrix has more than " + std::to_string(max_points) +
                              " combinations; split the scenario or use fewer values");
      return axes;
    }
    axes.push_back(std::move(axis));
  }
  return axes;
}

std::vector<RunPoint> expand_matrix(const RunSpec& run, const std::vector<MatrixAxis>& axes,
                                    const std::string& scenario_dir) {
  std::vector<RunPoint> points(1);
  points[0].run = run;
  points[0].vars["SCENARIO_DIR"] = scenario_dir;
  for (const auto& axis : axes) {
    const RunField* field = find_run_field(axis.key);
    std::vector<RunPoint> next;
    for (const auto& base : points) {
      for (const auto& value : axis.values) {
        RunPoint p = base;
        p.params[axis.key] = value;
        if (field)
          field->apply(value, p.run);
        else
          p.vars[axis.key] = value.is_string() ? value.get<std::string>() : value.dump();
        next.push_back(std::move(p));
      }
    }
    points = std::move(next);
  }
  return points;
}

}  // namespace harness
