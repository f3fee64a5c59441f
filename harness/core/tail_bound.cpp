#include "harness/core/tail_bound.hpp"

#include <boost/math/distributions/binomial.hpp>

namespace harness {

std::size_t jobs_needed_for(double percentile, double confidence) {
  const double over = 1.0 - percentile / 100.0;  // chance that one job is over the percentile
  if (over <= 0 || over >= 1) return 0;
  const double alpha = 1.0 - confidence;
  // The CDF falls with n: find a bracket by doubling, then the first n by bisection.
  auto ok = [&](std::size_t n) {
    boost::math::binomial_distribution<double> b(static_cast<double>(n), over);
    return boost::math::cdf(b, 1.0) <= alpha;
  };
  std::size_t hi = 2;
  while (!ok(hi)) {
    if (hi > (std::size_t{1} << 40)) return hi;
    hi *= 2;
  }
  std::size_t lo = hi / 2;  // !ok(lo) or lo < 2
  while (hi - lo > 1) {
    const std::size_t mid = lo + (hi - lo) / 2;
    (ok(mid) ? hi : lo) = mid;
  }
  return hi;
}

double share_lower_bound(std::size_t hits, std::size_t trials, double confidence) {
  if (hits == 0 || trials == 0) return 0;
  using B = boost::math::binomial_distribution<double>;
  return B::find_lower_bound_on_p(static_cast<double>(trials), static_cast<double>(hits),
                                  1.0 - confidence, B::clopper_pearson_exact_interval);
}

}  // namespace harness
