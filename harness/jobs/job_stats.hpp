#pragma once
// What a job stream's records add up to: counts, throughput, latency percentiles and the
// VALID/INVALID verdict.
//
// Percentiles are nearest-rank (the value at rank ceil(p/100 * n) of the sorted sample), so each
// is a latency some job really had. Latency runs from a job's scheduled time, not its dispatch:
// a design that cannot keep up shows its queue in the tail instead of hiding it (coordinated
// omission). The tail needs enough jobs to mean something: with n jobs, the observed p-th
// percentile bounds the true one at 99 % confidence only when at most one job in n being over
// it is unlikely, P(Binomial(n, 1 - p) <= 1) <= 1 %. That gives 64 jobs for p90 and 662 for
// p99, as MLPerf LoadGen's early-stopping criterion.
//
// The late share is judged the same way: a run is INVALID for lateness only when more than 1 %
// of its jobs are late at 95 % confidence (the Clopper-Pearson lower bound of the share is over
// 1 %), so a single late job in 80, which a machine late 1 time in 100 gives in half the runs,
// does not void it while 3 in 80 do.

#include <cstddef>
#include <vector>

#include "harness/core/result.hpp"
#include "harness/core/tail_bound.hpp"  // jobs_needed_for, share_lower_bound

namespace harness {

// Nearest-rank percentile of an ascending `sorted` sample; p in (0, 100]. 0 for none.
double nearest_rank(const std::vector<double>& sorted, double p);
JobPercentiles percentiles(std::vector<double> values);

struct VerdictRules {
  std::size_t min_jobs = 0;
  double min_duration_s = 0;
  double tail_percentile = 0;  // the highest percentile an expectation judges; 0: none
  double late_after_ms = 1;    // a job submitted later than this after its time is late
};

// Counts, percentiles, throughput and verdict of `r.records` (the rest of `r` as the stream
// left it: mode, workers, arrival, duration_s, harness_cpu_s, retries, restarts, duplicates).
void summarise(JobsResult& r, const VerdictRules& rules);

}  // namespace harness
