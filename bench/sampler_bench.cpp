// Cost of the memory and CPU sampler: one RSS tick (from /proc/PID/stat, which also gives the CPU
// time and thread count, or from statm or libproc2 for comparison), one PSS/USS (smaps_rollup)
// read with and without the per-process rows, and the tree walk, for a small process, one that
// has touched 500 MiB and a tree of ten. The figures decide the default PSS/USS rate documented
// in harness/sampler.hpp; `core_pct_at_10ms` is the share of one core a tick every 10 ms (the
// default sample_interval) costs.
//
//   build/bench/sampler_bench --benchmark_out=/tmp/sampler.json --benchmark_out_format=json

#include <benchmark/benchmark.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <time.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "harness/supervise/sampler.hpp"

extern char** environ;

namespace {

// Processes measured by the benchmarks, started once in main and killed at the end.
int g_small = -1;               // /bin/sleep: a small exec'd process (~1-2 MiB RSS)
int g_big = -1;                 // a fork that has touched 500 MiB of private memory
std::vector<int> g_tree_ten;    // a root with 9 children: a worker with helper processes
std::vector<int> g_tree_large;  // the same, each process with 100 MiB of its own

int spawn_sleep() {
  char arg0[] = "sleep";
  char arg1[] = "100000";
  char* argv[] = {arg0, arg1, nullptr};
  pid_t pid = -1;
  if (posix_spawn(&pid, "/bin/sleep", nullptr, nullptr, argv, environ) != 0) return -1;
  return pid;
}

// A child that maps and touches `mib` MiB, reports through a pipe, then waits to be killed.
int fork_toucher(std::size_t mib) {
  int fds[2];
  if (::pipe(fds) != 0) return -1;
  int pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    std::size_t bytes = mib << 20;
    void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) ::_exit(1);
    std::memset(p, 0x5a, bytes);
    char ok = 1;
    if (::write(fds[1], &ok, 1) != 1) ::_exit(1);
    for (;;) ::pause();
  }
  ::close(fds[1]);
  char ok = 0;
  if (pid < 0 || ::read(fds[0], &ok, 1) != 1) pid = -1;
  ::close(fds[0]);
  return pid;
}

// A root whose 9 children are sleepers forked from it, so the tree walk sees 10 processes; each
// touches `mib` MiB of its own.
void touch(std::size_t mib) {
  if (mib == 0) return;
  const std::size_t bytes = mib << 20;
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) ::_exit(1);
  std::memset(p, 0x5a, bytes);
}

int fork_tree_of_ten(std::size_t mib = 0) {
  int fds[2];
  if (::pipe(fds) != 0) return -1;
  int pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    for (int i = 0; i < 9; ++i) {
      if (::fork() == 0) {
        touch(mib);
        for (;;) ::pause();
      }
    }
    touch(mib);
    char ok = 1;
    if (::write(fds[1], &ok, 1) != 1) ::_exit(1);
    for (;;) ::pause();
  }
  ::close(fds[1]);
  char ok = 0;
  if (pid < 0 || ::read(fds[0], &ok, 1) != 1) pid = -1;
  ::close(fds[0]);
  return pid;
}

int target(int which) {
  return which == 0 ? g_small : g_big;
}
const char* target_name(int which) {
  return which == 0 ? "small" : "500MiB";
}

double thread_cpu_s() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// The share of one core (in %) that one iteration every 10 ms costs, from the CPU time the loop
// took since `start_s` (thread_cpu_s() before it).
double core_pct_at_10ms(const benchmark::State& state, double start_s) {
  const double per_iteration_s =
      (thread_cpu_s() - start_s) / static_cast<double>(state.iterations());
  return per_iteration_s / 0.010 * 100.0;
}

// Args: target (0 small, 1 500 MiB), RSS source (0 stat: RSS, CPU and threads; 1 statm: RSS
// only; 2 libproc2).
void BM_SampleRss(benchmark::State& state) {
  int pid = target(static_cast<int>(state.range(0)));
  static const harness::RssSource sources[] = {harness::RssSource::stat, harness::RssSource::statm,
                                               harness::RssSource::libproc2};
  static const char* const names[] = {" stat", " statm", " libproc2"};
  state.SetLabel(std::string(target_name(static_cast<int>(state.range(0)))) +
                 names[state.range(1)]);
  harness::MemorySampler sampler(sources[state.range(1)]);
  const std::vector<int> pids{pid};
  std::int64_t rss = 0;
  for (auto _ : state) {
    harness::MemorySample s = sampler.sample(pids, false);
    rss = s.rss_kib;
    benchmark::DoNotOptimize(s);
  }
  state.counters["rss_kib"] = static_cast<double>(rss);
}
BENCHMARK(BM_SampleRss)->ArgsProduct({{0, 1}, {0, 1, 2}})->Unit(benchmark::kMicrosecond);

void BM_SampleSmaps(benchmark::State& state) {
  int pid = target(static_cast<int>(state.range(0)));
  state.SetLabel(target_name(static_cast<int>(state.range(0))));
  harness::MemorySampler sampler;
  const std::vector<int> pids{pid};
  std::int64_t pss = 0;
  for (auto _ : state) {
    harness::MemorySample s = sampler.sample(pids, true);
    pss = s.pss_kib;
    benchmark::DoNotOptimize(s);
  }
  state.counters["pss_kib"] = static_cast<double>(pss);
}
BENCHMARK(BM_SampleSmaps)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

// A PSS/USS read with the per-process rows (argv[0], each thread's schedstat), as the sampler
// does at the smaps cadence. Arg: processes in the tree (1: the 500 MiB process, 10).
void BM_SmapsWithRows(benchmark::State& state) {
  int root = state.range(0) == 1 ? g_big : g_tree_ten.front();
  harness::MemorySampler sampler;
  const std::vector<int> pids = harness::process_tree(root);
  std::vector<harness::ProcessRow> rows;
  for (auto _ : state) {
    rows.clear();
    harness::MemorySample s = sampler.sample(pids, true, &rows);
    benchmark::DoNotOptimize(s);
  }
  state.counters["rows"] = static_cast<double>(rows.size());
}
BENCHMARK(BM_SmapsWithRows)->Arg(1)->Arg(10)->Unit(benchmark::kMicrosecond);

void BM_ProcessTree(benchmark::State& state) {
  int root = state.range(0) == 1 ? g_small : g_tree_ten.front();
  std::size_t n = 0;
  for (auto _ : state) {
    std::vector<int> tree = harness::process_tree(root);
    n = tree.size();
    benchmark::DoNotOptimize(tree);
  }
  state.counters["processes"] = static_cast<double>(n);
}
BENCHMARK(BM_ProcessTree)->Arg(1)->Arg(10)->Unit(benchmark::kMicrosecond);

// What one 10 ms tick costs the harness for one worker: walk the tree, then read RSS, CPU time
// and threads from each process's stat. Arg: processes in the tree (1: the 500 MiB process, 10: a
// root and 9 sleepers).
void BM_Tick(benchmark::State& state) {
  int root = state.range(0) == 1 ? g_big : g_tree_ten.front();
  harness::MemorySampler sampler;
  const double start_s = thread_cpu_s();
  for (auto _ : state) {
    harness::MemorySample s = sampler.sample(harness::process_tree(root), false);
    benchmark::DoNotOptimize(s);
  }
  state.counters["core_pct_at_10ms"] = core_pct_at_10ms(state, start_s);
}
BENCHMARK(BM_Tick)->Arg(1)->Arg(10)->Unit(benchmark::kMicrosecond);

// What sampling one worker costs in all at the defaults, with the session's own pacing: 10 s
// of 10 ms ticks (virtual time: the iterations run back to back), each walking the tree and
// reading stat, plus a PSS/USS read with per-process rows whenever SmapsPacer (min interval
// 1 s, the default smaps_interval) says one is due. core_pct is the CPU all of it took over the
// 10 s it stands for. Arg: 0 the ten small processes, 1 ten of 100 MiB, 2 one of 500 MiB.
void BM_PacedSampling(benchmark::State& state) {
  const int which = static_cast<int>(state.range(0));
  const int root = which == 0 ? g_tree_ten.front() : which == 1 ? g_tree_large.front() : g_big;
  state.SetLabel(which == 0 ? "ten small" : which == 1 ? "ten of 100 MiB" : "one of 500 MiB");
  double cpu_ms = 0, reads = 0, virtual_ms = 0;
  for (auto _ : state) {
    harness::MemorySampler sampler;
    harness::SmapsPacer pacer(1000);
    std::vector<harness::ProcessRow> rows;
    for (virtual_ms = 0; virtual_ms < 10000; virtual_ms += 10) {
      const double t0 = harness::thread_cpu_ms();
      const bool smaps = pacer.due(virtual_ms);
      rows.clear();
      harness::MemorySample s =
          sampler.sample(harness::process_tree(root), smaps, smaps ? &rows : nullptr);
      benchmark::DoNotOptimize(s);
      const double cost = harness::thread_cpu_ms() - t0;
      cpu_ms += cost;
      if (smaps) {
        pacer.record(virtual_ms, cost);
        ++reads;
      } else {
        pacer.tick(cost);
      }
    }
  }
  const double runs = static_cast<double>(state.iterations());
  state.counters["core_pct"] = cpu_ms / (runs * virtual_ms) * 100.0;
  state.counters["smaps_reads_per_10s"] = reads / runs;
}
BENCHMARK(BM_PacedSampling)->DenseRange(0, 2)->Iterations(1)->Unit(benchmark::kMillisecond);

void BM_VmHwm(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(harness::vm_hwm_kib(g_big));
}
BENCHMARK(BM_VmHwm)->Unit(benchmark::kMicrosecond);

void BM_SelfRss(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(harness::self_rss_kib());
}
BENCHMARK(BM_SelfRss)->Unit(benchmark::kMicrosecond);

void stop(int pid) {
  if (pid <= 0) return;
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  g_small = spawn_sleep();
  g_big = fork_toucher(500);
  int ten = fork_tree_of_ten();
  if (ten > 0) g_tree_ten = harness::process_tree(ten);
  int large = fork_tree_of_ten(100);
  if (large > 0) {
    // The children touch their memory after the root answered: wait until they have.
    harness::MemorySampler sampler;
    for (int i = 0; i < 500; ++i) {
      g_tree_large = harness::process_tree(large);
      if (g_tree_large.size() == 10 &&
          sampler.sample(g_tree_large, false).rss_kib >= 10 * 100 * 1024 * 95 / 100)
        break;
      ::usleep(20000);
    }
  }
  int rc = 0;
  if (g_small <= 0 || g_big <= 0 || g_tree_ten.size() != 10 || g_tree_large.size() != 10) {
    std::fprintf(stderr, "sampler_bench: cannot start the measured processes (fork/spawn)\n");
    rc = 1;
  } else {
    benchmark::RunSpecifiedBenchmarks();
  }
  benchmark::Shutdown();
  // The ten-tree's children are not ours: kill them by pid, then reap their root.
  for (std::size_t i = 1; i < g_tree_ten.size(); ++i) ::kill(g_tree_ten[i], SIGKILL);
  stop(ten);
  for (std::size_t i = 1; i < g_tree_large.size(); ++i) ::kill(g_tree_large[i], SIGKILL);
  stop(large);
  stop(g_big);
  stop(g_small);
  return rc;
}
