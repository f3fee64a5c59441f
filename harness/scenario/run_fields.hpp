#pragma once
// The `run:` fields of a scenario, one row each: name, documentation, reader (with its bounds)
// and how a matrix value sets it. `run:` and the matrix read fields through the same rows, the
// `run` table of docs/scenarios.md is checked against them, and a new field is one new row.

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace harness {

class YamlReader;
struct YamlEntry;

struct RunSpec {
  int instances = 1;                     // started together
  int repeat = 1;                        // judged runs, one after another
  int warmup = 0;                        // runs before those, reported but not judged
  std::chrono::milliseconds stagger{0};  // delay between two instances' starts
  std::chrono::milliseconds sample_interval{10};
};

struct RunField {
  std::string name;
  std::string type;      // docs "type" column, from the bounds: "1–256", "duration, 0ms–10m"
  std::string fallback;  // docs "default" column: the value in a default RunSpec
  std::string meaning;   // docs "meaning" column
  // Reads `e` into `run` within the bounds; false after reporting the problem through `reader`.
  std::function<bool(YamlReader& reader, const YamlEntry& e, RunSpec& run)> read;
  // Sets the field to a matrix value that read() accepted.
  std::function<void(const nlohmann::json& value, RunSpec& run)> apply;
};

const std::vector<RunField>& run_fields();
const std::vector<std::string>& run_field_names();
const RunField* find_run_field(const std::string& name);

}  // namespace harness
