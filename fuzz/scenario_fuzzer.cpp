// libFuzzer target: the scenario loader (harness/scenario/scenario.hpp) on arbitrary bytes.
// parse_scenario promises either a fully validated Scenario or a ScenarioError, so any other
// exception, a crash or a sanitizer report is a finding. A scenario that loads must also be
// usable: its matrix expands, every point's worker expands with the builtin variables set, and
// what report.json keeps of it (params, expect and matrix as written) dumps as JSON.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "harness/scenario/scenario.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  harness::Scenario s;
  try {
    s = harness::parse_scenario(text, "/fuzz/scenario.yaml");
  } catch (const harness::ScenarioError& e) {
    for (const auto& d : e.diagnostics()) (void)d.str();
    return 0;
  }
  (void)harness::run_time_bound(s);
  harness::Variables builtins;
  for (const auto& name : harness::builtin_variables()) builtins[name] = "/fuzz/" + name;
  if (s.jobs) {  // a job stream's commands may name the job's own variables, as the loader allows
    builtins["JOB"] = "1";
    builtins["INPUT"] = "/fuzz/input";
  }
  for (const auto& point : harness::expand_matrix(s)) {
    harness::Variables vars = builtins;
    for (const auto& [key, value] : point.vars) vars[key] = value;
    (void)harness::expand_worker(s.worker, vars);
    (void)point.params.dump();
  }
  (void)s.expect_json.dump();
  (void)s.matrix_json.dump();
  return 0;
}
