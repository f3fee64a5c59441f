#pragma once
// How large a change of a metric must be to matter, and the level of the significance test
// (docs/regression.md). Read from a small YAML (or JSON, which YAML reads) file:
//   time: 3%           # wall_s, ready_ms_p50, real_time, cpu_time      (default 3 %)
//   throughput: 3%     # throughput_fps                                 (default: time's value)
//   memory: 2%         # memory_added_kib, peak_rss_kib                 (default 2 %)
//   alpha: 0.01        # two-sided level of the test, or 1%; the interval is at 1 - alpha
//   per_metric: {ready_ms_p50: 10%}   # by metric name, overrides the class value
//   per_run: {"BM_SampleSmaps/1": 100%, "instances=4 model=n": 50%}
//                      # by run (a benchmark's name or a run's params), overrides both above
// Percentages are written "10%" or as a plain number of percent (10). Problems are reported
// all at once as file:line:col with a hint (unknown keys and metric names with "did you mean"),
// through ScenarioError, whose what() holds one line per problem.

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace harness {

struct Thresholds {
  double time = 0.03;
  std::optional<double> throughput;  // defaults to `time`
  double memory = 0.02;
  double alpha = 0.01;
  std::map<std::string, double> per_metric;
  std::map<std::string, double> per_run;  // benchmark name or "instances=4 model=n"
};

Thresholds parse_thresholds(std::string_view text, std::string_view source = "thresholds");
Thresholds load_thresholds(const std::filesystem::path& path);

// The metric names per_metric accepts: those of reports and of benchmark files.
const std::vector<std::string>& compared_metric_names();

}  // namespace harness
