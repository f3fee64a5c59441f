// How long a scenario may take at most, for CTest's TIMEOUT (scenario.hpp: run_time_bound).
#include <algorithm>
#include <chrono>
#include <string>

#include "harness/scenario/scenario.hpp"

namespace harness {

using namespace std::chrono_literals;

namespace {

// Every job of every point runs into its timeout and all its retries, `workers` at a time (open
// arrivals may also be slower than that: then the schedule's length counts). Worked out in
// double seconds and capped at a year: any scenario a fuzzer writes stays a finite integer.
std::chrono::milliseconds jobs_time_bound(const Scenario& s) {
  auto seconds = [](auto d) { return std::chrono::duration<double>(d).count(); };
  double total = 0;
  for (const auto& p : expand_matrix(s)) {
    JobsSpec jobs = *s.jobs;
    std::string why;
    for (const auto& [key, value] : p.params.items()) apply_jobs_param(jobs, key, value, why);
    const double attempts = 1.0 + jobs.retry.max;
    const double per_attempt =
        seconds(jobs.timeout) + seconds(s.worker.grace) + seconds(jobs.retry.backoff) + 2;
    const bool open = jobs.arrival.kind != ArrivalSpec::Kind::closed && jobs.arrival.rate > 0;
    // A peak search runs up to max_points streams, none slower than the first (`from`).
    const double streams = jobs.arrival.peak ? jobs.arrival.peak->max_points : 1;
    double count = jobs.count;
    double schedule = seconds(jobs.duration);
    if (open && jobs.count > 0) schedule = jobs.count / jobs.arrival.rate;
    if (count == 0) count = open ? jobs.arrival.rate * seconds(jobs.duration) : 0;
    const double work = count > 0 ? count * attempts / std::max(1, jobs.workers) * per_attempt
                                  : seconds(jobs.duration) + per_attempt * attempts;
    // Pool workers and queue agents start (and may be restarted) within a worker timeout each.
    const double start = jobs.mode != "spawn" ? seconds(s.worker.timeout + s.worker.grace) : 0;
    total += (schedule + work + start + 5) * (p.run.warmup + p.run.repeat) * streams;
  }
  constexpr double kYear = 365.0 * 24 * 3600;
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::min(total, kYear) * 1000));
}

}  // namespace

std::chrono::milliseconds run_time_bound(const Scenario& s) {
  // Slack per run for spawning, killing the tree and reaping; startup slack for the harness.
  constexpr auto kRunSlack = 5s;
  constexpr auto kStartup = 10s;
  std::chrono::milliseconds total = kStartup;
  if (s.jobs) return total + jobs_time_bound(s);
  for (const auto& p : expand_matrix(s)) {
    auto one_run = s.worker.timeout + s.worker.grace + kRunSlack +
                   p.run.stagger * std::max(0, p.run.instances - 1);
    total += one_run * (p.run.warmup + p.run.repeat);
  }
  return total;
}

}  // namespace harness
