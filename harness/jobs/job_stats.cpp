#include "harness/jobs/job_stats.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include <fmt/format.h>

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
    if (j.submitted_ms >= 0 && j.submitted_ms - j.scheduled_ms > rules.late_after_ms) ++r.late;
    last_end = std::max(last_end, j.ended_ms);
  }
  r.latency = percentiles(std::move(latency));
  r.queue_wait = percentiles(std::move(wait));
  r.service = percentiles(std::move(service));
  r.late_after_ms = rules.late_after_ms;
  r.late_share = r.scheduled ? static_cast<double>(r.late) / static_cast<double>(r.scheduled) : 0;
  r.throughput_per_s = r.duration_s > 0 ? static_cast<double>(r.succeeded) / r.duration_s : 0;
  r.harness_cpu_share = r.duration_s > 0 ? r.harness_cpu_s / r.duration_s : 0;
  r.late_share_low = share_lower_bound(r.late, r.scheduled);
  r.generator_limited = r.late_share_low > 0.01 || r.harness_cpu_share > 0.9;

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
        "the load generator may be the bottleneck: {} of {} jobs ({:.1f} %{}) were submitted "
        "more than {:g} ms late, the harness used {:.0f} % of a core{}",
        r.late, r.scheduled, 100 * r.late_share,
        r.late_share_low > 0.01 ? ", over 1 % at 95 % confidence" : "", rules.late_after_ms,
        100 * r.harness_cpu_share,
        r.harness_cpu_share > 0.9
            ? ""
            : " (so it was not running when they were due: CPU-bound workers left it no core, or "
              "the machine woke it late; run fewer workers than cores, or set jobs.late_after "
              "past the machine's timer jitter)"));
  if (r.interrupted + r.not_run > 0)
    r.invalid_reasons.push_back(
        fmt::format("interrupted: {} jobs running, {} not run", r.interrupted, r.not_run));
  r.valid = r.invalid_reasons.empty();
}

}  // namespace harness
