#pragma once
// `expect: jobs: {...}`: what a job stream's run must show (docs/scenarios.md, "Job streams").
// One expectation row (`jobs`, judged on the run); each of its keys is one line of failure.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace harness {

struct PeakResult;

struct JobsExpect {
  // succeeded: all | N | "P%"
  bool succeeded_all = false;
  std::optional<std::int64_t> succeeded_count;
  std::optional<double> succeeded_share;  // 0..1
  std::optional<std::int64_t> failed_max, lost_max, duplicates_max, retries_max, cancelled;
  std::optional<std::int64_t> dead_letters;  // queue: jobs failed as dead_letter, exactly
  std::optional<double> reclaim_max_ms;      // queue: the slowest takeover after a kill_agent
  // "latency_p99_max" -> limit in ms; the figure named by the key before "_max".
  std::map<std::string, double> percentile_max;
  std::optional<double> throughput_min;  // succeeded jobs per second
  std::optional<bool> valid;
  std::optional<double> peak_min;  // a find_peak search's peak, jobs per second

  // The highest percentile a key judges (99.9 for latency_p999_max), 0 for none: the run needs
  // enough jobs for it to be VALID.
  double tail_percentile() const;
};

// The keys of `expect.jobs`, in the order they are checked.
const std::vector<std::string>& jobs_expect_keys();

// `peak_min` on a peak search: a one-line failure, or nullopt when met or not asked.
std::optional<std::string> check_peak_min(const JobsExpect& expect, const PeakResult& peak);

}  // namespace harness
