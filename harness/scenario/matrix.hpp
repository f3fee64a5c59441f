#pragma once
// The `matrix:` of a scenario: keys with lists of values, run once per combination. A key that
// names a run field (run_fields()) sets that field; any other key is a ${variable}.

#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/scenario/run_fields.hpp"
#include "harness/scenario/variables.hpp"

namespace harness {

class YamlReader;
struct YamlEntry;

struct MatrixAxis {
  std::string key;
  std::vector<nlohmann::json> values;  // typed as written: 3, "n", true
};

// One combination of matrix values (cartesian product, first key outermost, values in file
// order); a single point with empty params when there is no matrix.
struct RunPoint {
  nlohmann::json params = nlohmann::json::object();  // {"instances": 2, "model": "n"}
  RunSpec run;     // the scenario's run with this point's run fields applied
  Variables vars;  // matrix variables of this point plus SCENARIO_DIR
};

// Reads the `matrix:` entry `me` into axes (file order); run-field values are checked like the
// field. Problems go to the reader's diagnostics; at most `max_points` combinations.
std::vector<MatrixAxis> read_matrix(YamlReader& reader, const YamlEntry& me,
                                    std::size_t max_points);

// Every point of `axes` applied to `run`, with ${SCENARIO_DIR} set to `scenario_dir`.
std::vector<RunPoint> expand_matrix(const RunSpec& run, const std::vector<MatrixAxis>& axes,
                                    const std::string& scenario_dir);

}  // namespace harness
