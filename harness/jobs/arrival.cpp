#include "harness/jobs/arrival.hpp"

#include <cmath>
#include <random>

namespace harness {

std::vector<double> arrival_offsets_ms(const ArrivalSpec& arrival, std::size_t count,
                                       double duration_ms, std::size_t cap) {
  std::vector<double> out;
  if (arrival.kind == ArrivalSpec::Kind::closed || arrival.rate <= 0) return out;
  const double mean_gap_ms = 1000.0 / arrival.rate;
  std::mt19937_64 gen(arrival.seed);
  double t = 0;
  const std::size_t limit = count > 0 ? std::min(count, cap) : cap;
  while (out.size() < limit) {
    if (arrival.kind == ArrivalSpec::Kind::constant) {
      t = mean_gap_ms * static_cast<double>(out.size());
    } else {
      // u in (0, 1]: 53 random bits, never 0, so -log(u) is finite.
      const double u = (static_cast<double>(gen() >> 11) + 1.0) * 0x1.0p-53;
      // The first job also waits a gap: a Poisson process has no arrival at time 0.
      t += -std::log(u) * mean_gap_ms;
    }
    if (count == 0 && t >= duration_ms) break;
    out.push_back(t);
  }
  return out;
}

}  // namespace harness
