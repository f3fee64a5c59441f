#include "harness/jobs/job_stats.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include <fmt/format.h>
#include <boost/math/distributions/binomial.hpp>

namespace harness {

double nearest_rank(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const double n = static_cast<double>(sorted.size());
  // A hair below the product so that 99.0 * 100 / 100 is rank 99, not 100 from rounding.
  auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * n - 1e-9));
  rank = std::clamp<std::size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

JobPercentiles percentiles(std::vector<double> v) {
  JobPercentiles out;
  out.n = v.size();
  if (v.empty()) return out;
  std::sort(v.begin(), v.end());
  out.p50 = nearest_rank(v, 50);
  out.p90 = nearest_rank(v, 90);
  out.p95 = nearest_rank(v, 95);
  out.p99 = nearest_rank(v, 99);
  out.p999 = nearest_rank(v, 99.9);
  out.max = v.back();
  out.mean = std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
  return out;
}

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

void summarise(JobsResult& r, const VerdictRules& rules) {
  r.scheduled = r.records.size();
  r.succeeded = r.failed = r.cancelled = r.lost = r.interrupted = r.not_run = r.late = 0;
  std::vector<double> latency, wait, service;
  double last_end = 0;
  for (const JobRecord& j : r.records) {
    if (j.status == "success") {
      ++r.succeeded;
      latency.push_back(j.ended_ms - j.scheduled_ms);
      wait.push_back(j.dispatched_ms - j.scheduled_ms);
      service.push_back(j.ended_ms - j.dispatched_ms);
    } else if (j.status == "failed") {
      ++r.failed;
    } else if (j.status == "cancelled") {
      ++r.cancelled;
    } else if (j.status == "interrupted") {
      ++r.interrupted;
    } else if (j.status == "not_run") {
      ++r.not_run;
    } else {
      ++r.lost;
    }
    if (j.submitted_ms >= 0 && j.submitted_ms - j.scheduled_ms > 1.0) ++r.late;
    last_end = std::max(last_end, j.ended_ms);
  }
  r.latency = percentiles(std::move(latency));
  r.queue_wait = percentiles(std::move(wait));
  r.service = percentiles(std::move(service));
  r.late_share = r.scheduled ? static_cast<double>(r.late) / static_cast<double>(r.scheduled) : 0;
  r.throughput_per_s = r.duration_s > 0 ? static_cast<double>(r.succeeded) / r.duration_s : 0;
  r.harness_cpu_share = r.duration_s > 0 ? r.harness_cpu_s / r.duration_s : 0;
  r.generator_limited = r.late_share > 0.01 || r.harness_cpu_share > 0.9;

  r.invalid_reasons.clear();
  r.tail_percentile = rules.tail_percentile;
  r.jobs_needed = rules.tail_percentile > 0 ? jobs_needed_for(rules.tail_percentile) : 0;
  const std::size_t have = r.succeeded;
  if (r.jobs_needed > have)
    r.invalid_reasons.push_back(fmt::format(
        "p{:g} needs at least {} succeeded jobs at 99 % confidence, the run has {}: {} more",
        rules.tail_percentile, r.jobs_needed, have, r.jobs_needed - have));
  if (rules.min_jobs > r.scheduled)
    r.invalid_reasons.push_back(fmt::format("min_jobs {} not reached: {} jobs were scheduled",
                                            rules.min_jobs, r.scheduled));
  if (rules.min_duration_s > r.duration_s)
    r.invalid_reasons.push_back(
        fmt::format("min_duration {:g} s not reached: the run took {:.3f} s", rules.min_duration_s,
                    r.duration_s));
  if (r.generator_limited)
    r.invalid_reasons.push_back(fmt::format(
        "the load generator may be the bottleneck: {:.1f} % of jobs were submitted more than 1 ms "
        "late, the harness used {:.0f} % of a core{}",
        100 * r.late_share, 100 * r.harness_cpu_share,
        r.harness_cpu_share > 0.9 ? ""
                                  : " (so it waited for a CPU: the workers leave it none; run "
                                    "fewer workers than cores to measure the tail)"));
  if (r.interrupted + r.not_run > 0)
    r.invalid_reasons.push_back(
        fmt::format("interrupted: {} jobs running, {} not run", r.interrupted, r.not_run));
  r.valid = r.invalid_reasons.empty();
}

}  // namespace harness
