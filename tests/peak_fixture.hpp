#pragma once
// A made-up peak search for the report tests: two rates over a pool, 10/s meets a p90 bound of
// 150 ms, 20/s exceeds it. Its outcome holds markup, which every report must escape.

#include "harness/core/result.hpp"

namespace harness::test {

inline PeakResult two_rate_peak() {
  PeakResult p;
  p.params = {{"workers", 2}};
  p.key = "latency_p90_max";
  p.percentile = 90;
  p.bound_ms = 150;
  p.from = 10;
  p.to = 80;
  p.precision = 0.15;
  p.peak_rate = 10;
  p.failed_rate = 20;
  p.outcome = "peak 10/s (p90 41ms <= 150ms); 20/s exceeds <a>";
  p.points.push_back({10, 0, 41, 9.8, "meets", "p90 41ms <= 150ms"});
  p.points.push_back({20, 1, 301, 12.5, "exceeds", "p90 301ms > 150ms"});
  return p;
}

}  // namespace harness::test
