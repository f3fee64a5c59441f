#pragma once
// When the jobs of an open-loop stream arrive: `constant` at exact gaps of 1/R, `poisson` at
// exponential gaps of mean 1/R drawn from a seeded generator (the same seed gives the same
// schedule on every machine: std::mt19937_64 and an inverse-CDF draw, no library distribution
// whose algorithm may differ between standard libraries). Closed-loop streams have no schedule:
// a job arrives when one in flight ends.

#include <cstdint>
#include <vector>

#include "harness/scenario/jobs_spec.hpp"

namespace harness {

// Offsets in ms from the stream's start: `count` of them, or (count 0) all before
// `duration_ms`, at most `cap` (a bound on what a typo like 1e5/s for an hour may cost).
std::vector<double> arrival_offsets_ms(const ArrivalSpec& arrival, std::size_t count,
                                       double duration_ms, std::size_t cap = 100000);

}  // namespace harness
