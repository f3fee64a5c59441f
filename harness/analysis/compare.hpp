#pragma once
// The release regression gate: did the candidate get slower or fatter than the base?
// docs/regression.md is the user's guide; this is the contract.
//
// compare_reports() matches report.json files scenario by name and run by params and pools,
// per side, every non-warmup run of one (scenario, params) over all the given reports (the
// repeats of one report and the rounds of an interleaved A/B run alike). Per run it compares
//   wall_s (time), throughput_fps (throughput: higher is better), ready_ms_p50 (time),
//   memory_added_kib (memory: ready RSS - baseline RSS), peak_rss_kib (memory: sum of the run's
//   workers' peak RSS).
// compare_benchmark_sets() does the same for Google Benchmark JSON files (benchmark_json.hpp):
// per benchmark run name, real_time and cpu_time (time), in ns, one sample per repetition.
//
// Each metric is decided by decide() of statistics.hpp with the metric's threshold
// (thresholds.hpp) and level alpha: the effect is the ratio of the medians, significance the
// Mann-Whitney U test together with the bootstrap interval of that ratio. Statuses:
//   regression / improvement  past the threshold and significant
//   ok ("no change")          within the threshold
//   noise ("not significant") past the threshold, but not significant
//   not_enough_data           too few values for the test to ever reach alpha (one run a side
//                             is always this); the ratio is still shown
//   not_available             a side lacks the value, or the base median is 0
// `regressed` is true when any metric is a regression.
//
// Scenarios, runs or benchmarks present on one side only are listed, not errors.

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/analysis/statistics.hpp"
#include "harness/analysis/thresholds.hpp"

namespace harness {

enum class ChangeStatus { ok, regression, improvement, noise, not_enough_data, not_available };
std::string_view to_string(ChangeStatus status);

struct MetricChange {
  std::string scenario;  // scenario name, or the benchmark program ("benchmarks" for one file)
  std::string run;       // params label ("instances=3 model=n") or benchmark run name
  std::string metric;
  std::string unit;  // "s", "ms", "fps", "KiB", "ns"
  bool higher_is_better = false;
  double base_median = 0;
  double new_median = 0;
  int base_n = 0;
  int new_n = 0;
  double ratio = 1;            // new median / base median
  std::optional<Interval> ci;  // of the ratio, at 1 - alpha; absent without enough data
  std::optional<double> p;     // two-sided U test, or signed-rank test when pairs > 0
  int pairs = 0;               // > 0: decided on this many pairs (statistics.hpp decide_paired)
  double change_pct = 0;       // (ratio - 1) x 100, signed as measured
  double worse_pct = 0;        // change_pct, sign flipped for higher-is-better metrics
  double threshold_pct = 0;
  ChangeStatus status = ChangeStatus::ok;
};

struct Comparison {
  double alpha = 0.01;
  std::vector<MetricChange> changes;
  std::vector<std::string> only_in_base;  // scenarios / benchmarks
  std::vector<std::string> only_in_new;
  std::vector<std::string> unmatched_runs;  // "scenario: params (only in base|new)"
  bool regressed = false;
};

// paired: report i of one side is the same round and scenario file as report i of the other
// (`harness ab`'s folders): a metric whose runs line up report by report, run by run, every
// value above 0, is decided on those pairs (decide_paired); any other on the pooled values.
Comparison compare_reports(const std::vector<nlohmann::json>& base,
                           const std::vector<nlohmann::json>& candidate,
                           const Thresholds& thresholds, bool paired = false);
Comparison compare_benchmark_sets(const std::vector<nlohmann::json>& base,
                                  const std::vector<nlohmann::json>& candidate,
                                  const Thresholds& thresholds,
                                  const std::string& program = "benchmarks");

// One file a side.
Comparison compare(const nlohmann::json& base, const nlohmann::json& candidate,
                   const Thresholds& thresholds);
Comparison compare_benchmarks(const nlohmann::json& base, const nlohmann::json& candidate,
                              const Thresholds& thresholds);

// Two files: compare() or compare_benchmarks() by their content (throws when they are of
// different kinds or neither). Two folders: every report.json below each is pooled (and paired
// report by report when both folders hold the same relative paths), and every
// *.json in a folder named `bench` below it is pooled with the files of the same name on the
// other side (one comparison per benchmark program), as `harness ab` lays out its rounds.
Comparison compare_files(const std::filesystem::path& base, const std::filesystem::path& candidate,
                         const Thresholds& thresholds);

void append(Comparison& into, Comparison&& from);

// A summary line, the level, then one table row per metric (ratio with its interval, p, the
// threshold, the status) and the lists of unmatched names. For a CI summary or a release note.
std::string format_compare_markdown(const Comparison& comparison);
nlohmann::json comparison_to_json(const Comparison& comparison);

// The smallest repetitions per side (equal sides) with which the test can reach `alpha`.
int min_repetitions(double alpha);

}  // namespace harness
