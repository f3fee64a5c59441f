#pragma once
// The peak search of `arrival: {poisson: find_peak, latency_p99_max: 2s}`: the highest arrival
// rate at which a design still meets a latency bound.
//
// Each point is one job stream of `count` jobs at one rate, judged like any run: it meets the
// bound when every job succeeded, the run is VALID and the bounded percentile of latency (from
// the scheduled time, so a design that falls behind shows its queue) is at most the bound. The
// search starts at `from` and doubles the rate until a point does not meet the bound or `to` is
// reached; then it tries the geometric middle of the bracket [highest meeting, lowest failing]
// until the bracket's high / low is at most 1 + precision, or `points` runs were made. Rates are
// rounded to three significant digits, so the series reads as the rates that were asked for.
//
// A point that met the bound but is INVALID (too few jobs, a late load generator, an interrupt)
// ends the search there: its figure cannot be trusted either way, and the outcome says why. The
// peak is then the highest rate that met the bound with a valid run. Not monotone in practice
// (a point above the peak may pass by luck): the search trusts each point once, as a user would
// with a sweep, and the series shows every point so a surprise can be seen.

#include <optional>
#include <string>

#include "harness/core/result.hpp"
#include "harness/scenario/jobs_spec.hpp"

namespace harness {

class PeakSearch {
 public:
  explicit PeakSearch(const PeakSearchSpec& spec);

  // The next rate to run, or nullopt when the search is over.
  std::optional<double> next_rate() const;
  // The summarised run at `rate` (the last next_rate()), the run's index in the scenario.
  void record(double rate, const JobsResult& run, std::size_t run_index);
  // Stopped from outside (SIGINT): no more points; the outcome says so.
  void interrupt();

  const PeakResult& result() const { return result_; }

 private:
  void conclude();

  PeakSearchSpec spec_;
  PeakResult result_;
  bool stopped_ = false;  // an invalid point, an interrupt, or no rate met the bound
  std::string stop_reason_;
};

// The bounded percentile of a run's latency: p99 for 99, p999 for 99.9.
double latency_percentile(const JobsResult& run, double percentile);

}  // namespace harness
