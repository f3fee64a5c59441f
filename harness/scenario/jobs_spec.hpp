#pragma once
// The `jobs:` section of a scenario (docs/scenarios.md, "Job streams"): a stream of jobs served
// by a fresh process per job (`spawn`) or by persistent `--serve` workers fed one JSON line per
// job (`pool`), arriving closed-loop or open-loop (constant or Poisson), with a per-job timeout,
// retries and cancellations, or through a Redis stream served by `harness agent` processes
// (`queue`, docs/queue.md).

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace YAML {
class Mark;
}

namespace harness {

class YamlReader;
struct YamlEntry;

// `arrival: {poisson: find_peak, latency_p99_max: 2s}`: run the stream at one rate after another
// and report the highest whose run met the bound (jobs/peak_search.hpp says how).
struct PeakSearchSpec {
  std::string key = "latency_p99_max";
  double percentile = 99;  // of latency, which the bound caps
  double bound_ms = 0;
  double from = 1;         // jobs per second: the first rate tried
  double to = 1000;        // the highest rate tried
  double precision = 0.1;  // the search ends when the bracket's high / low <= 1 + precision
  int max_points = 12;     // and after this many runs in any case
};

struct ArrivalSpec {
  enum class Kind { closed, constant, poisson };
  Kind kind = Kind::closed;
  int in_flight = 1;       // closed: jobs kept in flight
  double rate = 0;         // constant, poisson: jobs per second (find_peak: `peak->from`)
  std::uint64_t seed = 1;  // poisson: the gaps are the same for the same seed
  std::optional<PeakSearchSpec> peak;  // constant or poisson: find_peak
};

struct RetrySpec {
  int max = 0;                                      // retries after the first attempt
  std::vector<std::string> on{"crash", "timeout"};  // failures that are retried
  std::chrono::milliseconds backoff{0};             // before each retry
};

struct CancelSpec {
  std::vector<std::int64_t> jobs;        // ids to cancel once they run
  std::chrono::milliseconds after{100};  // after their dispatch
};

// `jobs.queue`: the broker and the agents of queue mode.
struct QueueSpec {
  std::string redis = "auto";  // auto: a private redis-server in the run's folder; else a URL
  // The queue's keys harness:NAME:...; empty: a fresh name per stream (run<pid>-<n>). Needed
  // with `workers: 0`, so that agents started elsewhere know which queue to serve.
  std::string name;
  // How the run's agents serve: spawn (a process per job, the job's command) or pool (each
  // agent keeps a persistent worker, worker.command, fed the job's line as in pool mode).
  std::string agent_mode = "spawn";
  std::chrono::milliseconds lease{10000};  // agents take over a job idle this long
  int max_deliveries = 3;                  // deliveries before a job is dead-lettered
};

// One fault of `jobs.faults`, done `at` after the stream's start.
//   kill_agent: N | any   queue: SIGKILL of agent N's process (its jobs die with it); the run
//                          starts it again, and its jobs are taken over once their lease ran out
//   kill_worker: N | any  SIGKILL of a running job's process (spawn: the job's root, pool: the
//                          worker of slot N, queue: the job of agent N); N: a slot, any: the first
//   restart_broker: true | D  queue, redis: auto: SIGKILL of the redis-server, started again from
//                          its AOF at once or D later
struct FaultStep {
  enum class Kind { kill_agent, kill_worker, restart_broker };
  std::chrono::milliseconds at{0};
  Kind kind = Kind::kill_agent;
  int target = -1;                    // kill_*: the slot; -1: any
  std::chrono::milliseconds down{0};  // restart_broker: how long it stays down
};
const char* fault_kind_name(FaultStep::Kind kind);

struct JobsSpec {
  std::string mode = "pool";  // spawn | pool | queue
  int workers = 1;  // spawn: processes at once; pool: workers; queue: agents of 1 slot (0:
                    // agents started elsewhere, by hand or on other hosts)
  int count = 0;    // jobs in all; 0: as many as fit in `duration`
  std::chrono::milliseconds duration{0};                    // 0: `count` decides
  std::vector<std::string> inputs;                          // paths or globs, cycled; ${INPUT}
  nlohmann::json line_template = nlohmann::json::object();  // pool: the job line (+ "id")
  std::vector<std::string> spawn_command;  // spawn: argv per job; empty: worker.command
  ArrivalSpec arrival;
  std::chrono::milliseconds timeout{60000};  // per attempt
  RetrySpec retry;
  CancelSpec cancel;
  // Submitted later than this after its scheduled time, a job is late; more than 1 % late jobs (at
  // 95 % confidence) make the run INVALID (the load generator may be the bottleneck).
  std::chrono::milliseconds late_after{1};
  int min_jobs = 0;                           // fewer: the run is INVALID
  std::chrono::milliseconds min_duration{0};  // shorter: the run is INVALID
  QueueSpec queue;
  std::vector<FaultStep> faults;  // in the order written
};

// The failures `retry.on` may name.
const std::vector<std::string>& job_failure_kinds();
const std::vector<std::string>& jobs_keys();

// Reads `jobs:`; problems go to the reader. Every text that may hold ${...} is passed to
// `templated(text, what, mark)` for the loader's variable check.
JobsSpec read_jobs(YamlReader& reader, const YamlEntry& entry,
                   const std::function<void(const std::string&, const std::string&,
                                            const YAML::Mark&)>& templated);

// A matrix value for `mode` or `workers` applied to the spec; false (with `why`) when refused.
bool apply_jobs_param(JobsSpec& spec, const std::string& key, const nlohmann::json& value,
                      std::string& why);

// The percentile a latency key bounds: "latency_p99_max" -> 99, "latency_p999_max" -> 99.9;
// nullopt for another key. The keys a peak search may bound by.
std::optional<double> peak_bound_percentile(const std::string& key);

// "poisson 4/s seed 7", "constant 2/s", "closed 2", "poisson find_peak p99 <= 2000 ms".
std::string describe_arrival(const ArrivalSpec& arrival);

}  // namespace harness
