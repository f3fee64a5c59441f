#include "harness/scenario/run_fields.hpp"

#include <algorithm>

#include "harness/core/units.hpp"
#include "harness/core/yaml_reader.hpp"

namespace harness {
namespace {

using std::chrono::milliseconds;
using namespace std::chrono_literals;

RunField integer_field(std::string name, int RunSpec::*member, int min, int max,
                       std::string meaning) {
  return RunField{
      std::move(name),
      std::to_string(min) + "–" + std::to_string(max),
      std::to_string(RunSpec{}.*member),
      std::move(meaning),
      [member, min, max](YamlReader& r, const YamlEntry& e, RunSpec& run) {
        auto v = r.integer(e, min, max);
        if (v) run.*member = static_cast<int>(*v);
        return v.has_value();
      },
      [member](const nlohmann::json& value, RunSpec& run) { run.*member = value.get<int>(); },
  };
}

RunField duration_field(std::string name, milliseconds RunSpec::*member, milliseconds min,
                        milliseconds max, std::string meaning) {
  return RunField{
      std::move(name),
      "duration, " + format_duration(min) + "–" + format_duration(max),
      format_duration(RunSpec{}.*member),
      std::move(meaning),
      [member, min, max](YamlReader& r, const YamlEntry& e, RunSpec& run) {
        auto v = r.duration(e, min, max);
        if (v) run.*member = *v;
        return v.has_value();
      },
      [member](const nlohmann::json& value, RunSpec& run) {
        run.*member = parse_duration(value.is_string() ? value.get<std::string>() : value.dump());
      },
  };
}

}  // namespace

const std::vector<RunField>& run_fields() {
  static const std::vector<RunField> fields{
      integer_field("instances", &RunSpec::instances, 1, 256, "workers started together"),
      integer_field("repeat", &RunSpec::repeat, 1, 10000, "judged runs, one after another"),
      integer_field("warmup", &RunSpec::warmup, 0, 1000,
                    "runs before those; reported, never judged"),
      duration_field("stagger", &RunSpec::stagger, 0ms, 10min,
                     "delay between two instances' starts"),
      duration_field("sample_interval", &RunSpec::sample_interval, 1ms, 1min,
                     "memory sampling period"),
  };
  return fields;
}

const std::vector<std::string>& run_field_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const auto& f : run_fields()) out.push_back(f.name);
    return out;
  }();
  return names;
}

const RunField* find_run_field(const std::string& name) {
  const auto& fields = run_fields();
  auto it =
      std::find_if(fields.begin(), fields.end(), [&](const RunField& f) { return f.name == name; });
  return it == fields.end() ? nullptr : &*it;
}

}  // namespace harness
