#pragma once
// How many jobs a tail percentile needs before it means something. With n jobs, the observed
// p-th percentile bounds the true one at `confidence` only when at most one job in n being over
// it is unlikely: P(Binomial(n, 1 - p/100) <= 1) <= 1 - confidence. At 99 % that is 64 jobs for
// p90 and 662 for p99, as MLPerf LoadGen's early-stopping criterion. In core because the
// scenario loader refuses a peak search whose runs could never be valid, and the job statistics
// judge each run by it.

#include <cstddef>

namespace harness {

// The fewest jobs for which the observed p-th percentile (p in (0, 100)) is a bound at
// `confidence`; 0 for p outside (0, 100).
std::size_t jobs_needed_for(double percentile, double confidence = 0.99);

// The one-sided lower confidence bound of a share seen as `hits` in `trials` (Clopper-Pearson,
// exact): the true share is at least this with probability `confidence`. 0 when hits is 0.
// The job statistics call a run's late share over 1 % only when this bound is, so one late job
// in 80 (1.25 %, well inside a 1 % machine's chance) does not void a run.
double share_lower_bound(std::size_t hits, std::size_t trials, double confidence = 0.95);

}  // namespace harness
