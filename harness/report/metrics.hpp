#pragma once
// Benchmark figures of one scenario run, derived from what its instances reported. Pure
// functions over plain data, so they are tested with hand-made runs.
//
// Conventions:
// - A figure is std::nullopt when no instance provides the data it needs (a worker that never
//   printed a `result` event has no frames); sums and means then cover only instances where the
//   value is known (memory figures of -1 are unknown).
// - Percentiles use the nearest-rank method: the p-th percentile of n sorted values is the value
//   at rank ceil(p/100 * n) (1-based). It always returns an observed value, which is what a
//   reader checking "p95 wall time 2.1 s" against the instance table expects.

#include <cstdint>
#include <optional>
#include <vector>

#include "harness/core/result.hpp"

namespace harness {

struct Percentiles {
  double p50 = 0;
  double p95 = 0;
  double p99 = 0;
  double max = 0;
};

struct RunMetrics {
  int instances = 0;
  int succeeded = 0;  // exited with code 0
  int failed = 0;     // anything else: non-zero exit, signal, timeout, could not start
  int timed_out = 0;
  double wall_s = 0;                         // the run's own wall time, first spawn to last reap
  std::optional<std::int64_t> frames_total;  // sum of the last result event's frames_processed
  std::optional<double> throughput_fps;      // frames_total / wall_s
  std::vector<std::optional<double>> instance_fps;  // per instance: the result event's fps
  std::optional<double> mean_instance_fps;
  std::optional<Percentiles> latency_s;  // over the instances' wall_s
  std::optional<double> ready_ms_p50;
  std::optional<double> ready_ms_max;
  std::optional<std::int64_t> sum_peak_rss_kib;
  std::optional<std::int64_t> sum_peak_pss_kib;
  std::optional<double> mean_peak_uss_kib;
  std::optional<std::int64_t> max_peak_uss_kib;
  std::optional<double> mean_memory_added_kib;  // ready_rss - baseline_rss where both known
  int max_leftover = 0;
};

// Nearest-rank percentile (see above); p in (0, 100]. `values` must not be empty.
double percentile_nearest_rank(std::vector<double> values, double p);

Percentiles percentiles(const std::vector<double>& values);  // values must not be empty

// The last event of `type` an instance printed, or nullptr.
const Event* last_event(const ProcessResult& instance, std::string_view type);

// ready_rss - baseline_rss, or nullopt when either is unknown.
std::optional<std::int64_t> memory_added_kib(const MemoryStats& memory);

RunMetrics compute_metrics(const ScenarioRun& run);

}  // namespace harness
