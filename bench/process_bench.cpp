// Costs of process supervision:
// - launch overhead: /bin/true through Supervisor::run (pipes, protocol parsing, memory
//   sampling, tree tracking all on) against a bare posix_spawn + waitpid loop. Target ratio
//   <= 1.15.
// - kill latency: a tree of 1 or 10 processes that ignore SIGTERM, timed out; the time from the
//   end of the grace period to the last process gone (the runner's kill_latency_ms). Target
//   median <= 2 ms.

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "harness/supervise/supervisor.hpp"

extern char** environ;

namespace {

using namespace std::chrono_literals;

void BM_raw_posix_spawn_true(benchmark::State& state) {
  char arg0[] = "/bin/true";
  char* argv[] = {arg0, nullptr};
  for (auto _ : state) {
    pid_t pid;
    if (posix_spawn(&pid, "/bin/true", nullptr, nullptr, argv, environ) != 0) {
      state.SkipWithError("posix_spawn /bin/true failed");
      break;
    }
    int status;
    waitpid(pid, &status, 0);
    benchmark::DoNotOptimize(status);
  }
}
BENCHMARK(BM_raw_posix_spawn_true)->Unit(benchmark::kMicrosecond)->UseRealTime();

void BM_supervisor_true(benchmark::State& state) {
  harness::Supervisor sup;
  harness::ProcessSpec spec;
  spec.argv = {"/bin/true"};  // defaults: capture, 10 ms RSS sampling, PSS at ready/result
  spec.timeout = 10s;
  for (auto _ : state) {
    auto rs = sup.run({spec});
    if (!rs[0].exit_code || *rs[0].exit_code != 0) {
      state.SkipWithError(("/bin/true failed: " + rs[0].spawn_error).c_str());
      break;
    }
  }
}
BENCHMARK(BM_supervisor_true)->Unit(benchmark::kMicrosecond)->UseRealTime();

// Manual time = kill_latency_ms of each run; the median is also a counter.
void BM_kill_latency_after_grace(benchmark::State& state) {
  const int tree = static_cast<int>(state.range(0));
  harness::Supervisor sup;
  harness::ProcessSpec spec;
  spec.argv = {FAULT_WORKER, "--mode", "ignore-term", "--children", std::to_string(tree - 1)};
  spec.timeout = 150ms;
  spec.grace = 50ms;
  std::vector<double> lat;
  for (auto _ : state) {
    auto rs = sup.run({spec});
    const auto& r = rs[0];
    if (!r.timed_out || r.kill_signal != "SIGKILL" || !r.kill_latency_ms) {
      state.SkipWithError("the tree was not killed by SIGKILL after the grace period");
      break;
    }
    lat.push_back(*r.kill_latency_ms);
    state.SetIterationTime(*r.kill_latency_ms / 1000.0);
  }
  if (!lat.empty()) {
    std::sort(lat.begin(), lat.end());
    state.counters["median_ms"] = lat[lat.size() / 2];
    state.counters["max_ms"] = lat.back();
  }
}
BENCHMARK(BM_kill_latency_after_grace)
    ->Arg(1)
    ->Arg(10)
    ->Iterations(30)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

// Same with a worker that stops on SIGTERM: latency from the deadline.
void BM_kill_latency_sigterm(benchmark::State& state) {
  harness::Supervisor sup;
  harness::ProcessSpec spec;
  spec.argv = {FAULT_WORKER, "--mode", "hang"};
  spec.timeout = 100ms;
  std::vector<double> lat;
  for (auto _ : state) {
    auto rs = sup.run({spec});
    if (!rs[0].kill_latency_ms) {
      state.SkipWithError("no kill latency recorded");
      break;
    }
    lat.push_back(*rs[0].kill_latency_ms);
    state.SetIterationTime(*rs[0].kill_latency_ms / 1000.0);
  }
  if (!lat.empty()) {
    std::sort(lat.begin(), lat.end());
    state.counters["median_ms"] = lat[lat.size() / 2];
  }
}
BENCHMARK(BM_kill_latency_sigterm)->Iterations(30)->UseManualTime()->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
