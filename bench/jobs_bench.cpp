// Costs of job streams (harness/jobs/):
// - round trip of a no-op job through a persistent pool worker (fault_worker serve, 0 ms of work):
//   the harness writes the job line, the worker answers progress and result, the harness reads
//   and parses them. Target p50 <= 50 us (a Python multiprocessing queue put/get is about that).
// - the same no-op job spawned as a fresh process per job (fault_worker success).
// - dispatch accuracy of the Poisson generator at 100 jobs/s on an idle pool: the share of jobs
//   submitted more than 1 ms after their scheduled time.
// Each iteration is one stream; the manual time is the mean service time of its jobs, and the
// counters hold the stream's nearest-rank percentiles (averaged over iterations).

#include <string>

#include <benchmark/benchmark.h>

#include "harness/jobs/job_stats.hpp"
#include "harness/jobs/job_stream.hpp"

namespace {

using namespace std::chrono_literals;
using harness::ArrivalSpec;
using harness::JobPlan;
using harness::JobRecord;

harness::ProcessSpec fault(std::vector<std::string> args) {
  harness::ProcessSpec s;
  s.argv = {FAULT_WORKER};
  s.argv.insert(s.argv.end(), args.begin(), args.end());
  s.timeout = 60s;
  return s;
}

JobPlan plan(const std::string& mode, int workers, int count) {
  JobPlan p;
  p.spec.mode = mode;
  p.spec.workers = workers;
  p.spec.count = count;
  p.spec.timeout = 10s;
  p.pool_process = [](int) { return fault({"--mode", "serve", "--work-ms", "0"}); };
  p.spawn_process = [](const JobRecord&) { return fault({"--mode", "success"}); };
  p.pool_line = [](const JobRecord& j) { return "{\"id\":" + std::to_string(j.id) + "}"; };
  return p;
}

void run_streams(benchmark::State& state, const JobPlan& p) {
  double p50 = 0, p99 = 0, late = 0, cpu = 0;
  for (auto _ : state) {
    harness::Supervisor sup;
    auto out = harness::run_job_stream(sup, p);
    harness::summarise(out.jobs, {});
    if (out.jobs.succeeded != out.jobs.scheduled) {
      state.SkipWithError("not every job succeeded");
      break;
    }
    state.SetIterationTime(out.jobs.service.mean / 1000.0);
    p50 += out.jobs.service.p50 * 1000;
    p99 += out.jobs.service.p99 * 1000;
    late += out.jobs.late_share;
    cpu += out.jobs.harness_cpu_s * 1e6 / static_cast<double>(out.jobs.scheduled);
  }
  const double n = static_cast<double>(state.iterations());
  if (n == 0) return;
  state.counters["service_p50_us"] = p50 / n;
  state.counters["service_p99_us"] = p99 / n;
  state.counters["late_share"] = late / n;
  state.counters["harness_cpu_us_per_job"] = cpu / n;
}

void BM_pool_round_trip_noop(benchmark::State& state) {
  run_streams(state, plan("pool", 1, 2000));
}
BENCHMARK(BM_pool_round_trip_noop)->Iterations(5)->UseManualTime()->Unit(benchmark::kMicrosecond);

void BM_spawn_per_job_noop(benchmark::State& state) {
  run_streams(state, plan("spawn", 1, 200));
}
BENCHMARK(BM_spawn_per_job_noop)->Iterations(5)->UseManualTime()->Unit(benchmark::kMicrosecond);

void BM_poisson_100_per_s_dispatch(benchmark::State& state) {
  JobPlan p = plan("pool", 2, 300);
  p.spec.arrival.kind = ArrivalSpec::Kind::poisson;
  p.spec.arrival.rate = 100;
  p.spec.arrival.seed = 7;
  run_streams(state, p);
}
BENCHMARK(BM_poisson_100_per_s_dispatch)
    ->Iterations(3)
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
