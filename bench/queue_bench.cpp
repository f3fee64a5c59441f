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
// - BM_JobThroughAgent: the same no-op job served by a real `harness agent` process, which runs
//   it as a process (/bin/true) on its supervisor: submit -> its `end` record read, p50 and p99.
// - BM_AgentThroughput/N: N agents of one slot each, 100 no-op jobs submitted at once per
//   iteration, until their 100 ends are read; jobs_per_s.
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

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "harness/queue/queue_keys.hpp"
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

// The agent's side of a job read by XREADGROUP: its result and its XACK in one MULTI.
void answer(harness::RedisClient& agent, const harness::RedisReply& got, const std::string& jobs,
            const std::string& results) {
  const std::string id = got.at(0).at(1).at(0).at(0).text();
  agent.pipeline({{"MULTI"},
                  {"XADD", results, "*", "job", "1", "status", "success"},
                  {"XACK", jobs, "agents", id},
                  {"EXEC"}});
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
    answer(agent, got, jobs, results);
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
      answer(agent, got, jobs, results);
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

// `harness agent` processes on one queue, SIGTERMed and reaped at the end.
class Agents {
 public:
  Agents(const harness::RedisEndpoint& ep, const std::string& queue, int n) {
    for (int i = 0; i < n; ++i) {
      std::vector<std::string> args{HARNESS_BINARY, "agent", "--redis", "unix://" + ep.unix_path,
                                    "--queue",      queue,   "--name",  "a" + std::to_string(i)};
      const int pid = ::fork();
      if (pid == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        const int null = ::open("/dev/null", O_WRONLY);
        ::dup2(null, 2);
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        ::execv(argv[0], argv.data());
        ::_exit(127);
      }
      pids_.push_back(pid);
    }
  }
  ~Agents() {
    for (int pid : pids_) ::kill(pid, SIGTERM);
    for (int pid : pids_) ::waitpid(pid, nullptr, 0);
  }

 private:
  std::vector<int> pids_;
};

// Reads the events stream from `last` until `n` end records came (false after 10 s without).
bool read_ends(harness::RedisClient& c, const std::string& events, std::string& last, int n) {
  while (n > 0) {
    const auto r = c.command({"XREAD", "BLOCK", "10000", "STREAMS", events, last});
    if (r.is_nil()) return false;
    for (const auto& entry : r.at(0).at(1).elements) {
      last = entry.at(0).text();
      const auto& kv = entry.at(1).elements;
      for (std::size_t i = 0; i + 1 < kv.size(); i += 2)
        if (kv[i].str == "type" && kv[i + 1].str == "end") --n;
    }
  }
  return true;
}

const char* const kNoOpJob = R"({"id":1,"argv":["/bin/true"]})";

void BM_JobThroughAgent(benchmark::State& state) {
  static int run = 0;
  const std::string queue = "rt" + std::to_string(run++);
  const harness::QueueKeys keys(queue);
  harness::RedisClient coord(g_unix->endpoint(), milliseconds{1000}, milliseconds{0});
  const Agents agents(g_unix->endpoint(), queue, 1);
  std::string last = "0";
  // The first job waits for the agent to start: not measured.
  coord.command({"XADD", keys.jobs, "*", "id", "1", "job", kNoOpJob});
  if (!read_ends(coord, keys.events, last, 1)) {
    state.SkipWithError("the agent served nothing within 10 s");
    return;
  }
  Percentiles p;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    coord.command({"XADD", keys.jobs, "*", "id", "1", "job", kNoOpJob});
    if (!read_ends(coord, keys.events, last, 1)) {
      state.SkipWithError("no end within 10 s");
      break;
    }
    p.add(std::chrono::steady_clock::now() - t0);
  }
  p.report(state);
}
BENCHMARK(BM_JobThroughAgent)->Unit(benchmark::kMicrosecond)->Iterations(300);

void BM_AgentThroughput(benchmark::State& state) {
  static int run = 0;
  const std::string queue = "tp" + std::to_string(run++);
  const harness::QueueKeys keys(queue);
  harness::RedisClient coord(g_unix->endpoint(), milliseconds{1000}, milliseconds{0});
  const int n = static_cast<int>(state.range(0));
  const Agents agents(g_unix->endpoint(), queue, n);
  std::string last = "0";
  for (int i = 0; i < n; ++i) coord.command({"XADD", keys.jobs, "*", "id", "0", "job", kNoOpJob});
  if (!read_ends(coord, keys.events, last, n)) {
    state.SkipWithError("the agents served nothing within 10 s");
    return;
  }
  constexpr int kJobs = 100;
  for (auto _ : state) {
    std::vector<std::vector<std::string>> adds;
    for (int i = 0; i < kJobs; ++i)
      adds.push_back({"XADD", keys.jobs, "*", "id", "1", "job", kNoOpJob});
    coord.pipeline(adds);
    if (!read_ends(coord, keys.events, last, kJobs)) {
      state.SkipWithError("the jobs did not end within 10 s");
      break;
    }
  }
  state.counters["jobs_per_s"] = benchmark::Counter(static_cast<double>(state.iterations()) * kJobs,
                                                    benchmark::Counter::kIsRate);
  state.SetLabel(std::to_string(n) + " agent(s) of 1 slot");
}
BENCHMARK(BM_AgentThroughput)->Arg(1)->Arg(2)->Arg(4)->Unit(benchmark::kMillisecond)->UseRealTime();

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
