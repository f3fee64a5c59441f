#pragma once
// The release regression gate: did this build get slower or fatter than the baseline?
//
// compare() matches two report.json files scenario by name and run by params (repeats of the
// same params are pooled; warmup runs ignored) and compares, per run, these metrics of the
// mean over repeats:
//   wall_s (time), throughput_fps (throughput: higher is better), ready_ms_p50 (time),
//   memory_added_kib (memory: ready RSS - baseline RSS), peak_rss_kib (memory: sum of the run's
//   workers' peak RSS).
// compare_benchmarks() does the same for two Google Benchmark JSON files, per benchmark run
// name: real_time and cpu_time (time), in ns. Where the file holds repetitions' aggregates
// (mean, stddev) they are used; otherwise repeated iteration entries of one name are pooled.
//
// change = (new mean - base mean) / base mean, signed so that a positive `worse_pct` is always
// worse (time or memory up, throughput down). A metric is a
//   regression  when worse_pct  > threshold AND it is outside the noise band,
//   improvement when -worse_pct > threshold AND it is outside the noise band,
//   noise       when it passes the threshold but lies inside the noise band,
//   ok          otherwise (within threshold), n/a when either side lacks the value or the base
//               mean is 0.
// Noise band: with repeats, spread = max(sample standard deviation of base repeats, of new
// repeats); the change is outside the band when |new mean - base mean| > noise_k x spread
// (default k = 2, about a 95 % band for normal noise). A side with one value contributes no
// spread; with one value on both sides the band is empty and the threshold alone decides.
//
// Thresholds come from a small YAML (or JSON, which YAML reads) file:
//   time: 10%          # wall_s, ready_ms_p50, real_time, cpu_time   (default 10 %)
//   throughput: 10%    # throughput_fps                              (default: time's value)
//   memory: 5%         # memory_added_kib, peak_rss_kib              (default 5 %)
//   noise_k: 2
//   per_metric: {ready_ms_p50: 25%}   # by metric name, overrides the class value
//   per_run: {"BM_SampleSmaps/1": 100%, "instances=4 model=n": 50%}
//                      # by run (a benchmark's name or a run's params), overrides both above
// Percentages are written "10%" or as a plain number of percent (10). Unknown keys are errors.
//
// Scenarios, runs or benchmarks present in only one file are listed, not errors.

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace harness {

struct Thresholds {
  double time = 0.10;
  std::optional<double> throughput;  // defaults to `time`
  double memory = 0.05;
  double noise_k = 2.0;
  std::map<std::string, double> per_metric;
  std::map<std::string, double> per_run;  // benchmark name or "instances=4 model=n"
};

// Throw std::runtime_error naming the source (file:line:col where yaml-cpp knows it).
Thresholds parse_thresholds(std::string_view text, std::string_view source = "thresholds");
Thresholds load_thresholds(const std::filesystem::path& path);

enum class ChangeStatus { ok, regression, improvement, noise, not_available };
std::string_view to_string(ChangeStatus status);

struct MetricChange {
  std::string scenario;  // scenario name, or the benchmark file's "benchmarks"
  std::string run;       // params label ("instances=3 model=n") or benchmark run name
  std::string metric;
  std::string unit;  // "s", "ms", "fps", "KiB", "ns"
  bool higher_is_better = false;
  double base_mean = 0;
  double new_mean = 0;
  double base_sd = 0;  // 0 when fewer than 2 values
  double new_sd = 0;
  int base_n = 0;
  int new_n = 0;
  double change_pct = 0;  // (new - base) / base x 100, signed as measured
  double worse_pct = 0;   // change_pct with the sign flipped for higher-is-better metrics
  double threshold_pct = 0;
  double noise_band = 0;  // noise_k x spread, in the metric's unit
  ChangeStatus status = ChangeStatus::ok;
};

struct Comparison {
  std::vector<MetricChange> changes;
  std::vector<std::string> only_in_base;  // scenarios / benchmarks
  std::vector<std::string> only_in_new;
  std::vector<std::string> unmatched_runs;  // "scenario: params (only in base|new)"
  bool regressed = false;
};

Comparison compare(const nlohmann::json& base, const nlohmann::json& candidate,
                   const Thresholds& thresholds);
Comparison compare_benchmarks(const nlohmann::json& base, const nlohmann::json& candidate,
                              const Thresholds& thresholds);

// Reads both files and picks compare() or compare_benchmarks() by their content; throws when
// they are of different kinds or neither.
Comparison compare_files(const std::filesystem::path& base, const std::filesystem::path& candidate,
                         const Thresholds& thresholds);

// A summary line, then a table of every metric that is not `ok` (plus the lists of unmatched
// names). Meant for a CI job summary or a release note.
std::string format_compare_markdown(const Comparison& comparison);
nlohmann::json comparison_to_json(const Comparison& comparison);

}  // namespace harness
