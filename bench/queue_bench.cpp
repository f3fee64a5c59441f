// The broker's share of a queued job (harness/queue/): a private redis-server (AOF on,
// appendfsync always, as queue mode runs it) on a unix socket and on loopback TCP.
// - BM_Ping: one command's round trip, the floor of everything below.
// - BM_JobThroughBroker: what the broker adds to one no-op job, one client per side in one
//   thread: the coordinator XADDs the job, the agent XREADGROUPs it and answers with the result
//   and its XACK in one pipelined MULTI, the coordinator XREADs the result. Four round trips,
//   two of them fsynced writes.
// - BM_JobThroughBrokerBlocking: the same with the agent on its own thread blocked in
//   XREADGROUP BLOCK and the coordinator blocked in XREAD BLOCK for the result, so the figure
//   includes the wakeups, as between processes. Target p50 under 1 ms.
// The counters hold nearest-rank p50 and p99 of the iterations, in microseconds.
//
//   build/bench/queue_bench --benchmark_out=/tmp/queue.json --benchmark_out_format=json

#include <benchmark/benchmark.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "harness/queue/redis_client.hpp"
#include "harness/queue/redis_server.hpp"

namespace {

using std::chrono::milliseconds;
namespace fs = std::filesystem;

std::unique_ptr<harness::PrivateRedis> g_unix, g_tcp;

harness::RedisEndpoint endpoint(int which) {
  return which == 0 ? g_unix->endpoint() : g_tcp->endpoint();
}

struct Percentiles {
  std::vector<double> us;
  void add(std::chrono::steady_clock::duration d) {
    us.push_back(std::chrono::duration<double, std::micro>(d).count());
  }
  void report(benchmark::State& state) {
    if (us.empty()) return;
    std::sort(us.begin(), us.end());
    auto rank = [&](double p) {
      const auto i = static_cast<std::size_t>(std::ceil(p / 100 * static_cast<double>(us.size())));
      return us[std::min(us.size() - 1, i == 0 ? 0 : i - 1)];
    };
    state.counters["p50_us"] = rank(50);
    state.counters["p99_us"] = rank(99);
  }
};

void BM_Ping(benchmark::State& state) {
  harness::RedisClient c(endpoint(static_cast<int>(state.range(0))), milliseconds{1000},
                         milliseconds{1000});
  Percentiles p;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    benchmark::DoNotOptimize(c.command({"PING"}));
    p.add(std::chrono::steady_clock::now() - t0);
  }
  p.report(state);
  state.SetLabel(state.range(0) == 0 ? "unix" : "tcp");
}
BENCHMARK(BM_Ping)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

// A fresh stream and group per run, so runs do not see each other's entries.
std::string fresh(harness::RedisClient& c, const char* what) {
  static std::atomic<int> n{0};
  const std::string s = std::string(what) + std::to_string(n++);
  c.command({"XGROUP", "CREATE", s + ":jobs", "agents", "$", "MKSTREAM"});
  return s;
}

void BM_JobThroughBroker(benchmark::State& state) {
  const auto ep = endpoint(static_cast<int>(state.range(0)));
  harness::RedisClient coord(ep, milliseconds{1000}, milliseconds{1000});
  harness::RedisClient agent(ep, milliseconds{1000}, milliseconds{1000});
  const std::string run = fresh(coord, "sync");
  const std::string jobs = run + ":jobs", results = run + ":results";
  std::string last = "0";
  Percentiles p;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    coord.command({"XADD", jobs, "*", "job", "{\"id\":1}"});
    const auto got =
        agent.command({"XREADGROUP", "GROUP", "agents", "a1", "COUNT", "1", "STREAMS", jobs, ">"});
    const std::string id = got.at(0).at(1).at(0).at(0).text();
    agent.pipeline({{"MULTI"},
                    {"XADD", results, "*", "job", "1", "status", "success"},
                    {"XACK", jobs, "agents", id},
                    {"EXEC"}});
    const auto res = coord.command({"XREAD", "COUNT", "1", "STREAMS", results, last});
    last = res.at(0).at(1).at(0).at(0).text();
    p.add(std::chrono::steady_clock::now() - t0);
  }
  p.report(state);
  state.SetLabel(state.range(0) == 0 ? "unix" : "tcp");
}
BENCHMARK(BM_JobThroughBroker)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

void BM_JobThroughBrokerBlocking(benchmark::State& state) {
  const auto ep = endpoint(static_cast<int>(state.range(0)));
  harness::RedisClient coord(ep, milliseconds{1000}, milliseconds{0});
  const std::string run = fresh(coord, "blocking");
  const std::string jobs = run + ":jobs", results = run + ":results";
  std::atomic<bool> stop{false};
  std::thread agent_thread([&] {
    harness::RedisClient agent(ep, milliseconds{1000}, milliseconds{0});
    while (!stop.load()) {
      const auto got = agent.command({"XREADGROUP", "GROUP", "agents", "a1", "COUNT", "1", "BLOCK",
                                      "100", "STREAMS", jobs, ">"});
      if (got.is_nil()) continue;
      const std::string id = got.at(0).at(1).at(0).at(0).text();
      agent.pipeline({{"MULTI"},
                      {"XADD", results, "*", "job", "1", "status", "success"},
                      {"XACK", jobs, "agents", id},
                      {"EXEC"}});
    }
  });
  std::string last = "0";
  Percentiles p;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    coord.command({"XADD", jobs, "*", "job", "{\"id\":1}"});
    const auto res =
        coord.command({"XREAD", "COUNT", "1", "BLOCK", "5000", "STREAMS", results, last});
    if (res.is_nil()) {
      state.SkipWithError("no result within 5 s");
      break;
    }
    last = res.at(0).at(1).at(0).at(0).text();
    p.add(std::chrono::steady_clock::now() - t0);
  }
  stop = true;
  agent_thread.join();
  p.report(state);
  state.SetLabel(state.range(0) == 0 ? "unix" : "tcp");
}
BENCHMARK(BM_JobThroughBrokerBlocking)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  const fs::path dir = fs::temp_directory_path() / ("queue_bench-" + std::to_string(::getpid()));
  harness::PrivateRedisOptions unix_opts, tcp_opts;
  unix_opts.dir = (dir / "unix").string();
  tcp_opts.dir = (dir / "tcp").string();
  tcp_opts.tcp = true;
  g_unix = std::make_unique<harness::PrivateRedis>(unix_opts);
  g_tcp = std::make_unique<harness::PrivateRedis>(tcp_opts);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  g_unix.reset();
  g_tcp.reset();
  std::error_code ec;
  fs::remove_all(dir, ec);
  return 0;
}
