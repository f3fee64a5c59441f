#pragma once
// What one run of one worker process produced. The process runner fills it, expectations judge
// it, reporters write it. Plain data: no behaviour lives here.

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace harness {

// One protocol event line from a worker's stdout: a JSON object with an "event" field.
struct Event {
  double t_ms = 0;             // since spawn
  std::string type;            // value of "event"
  nlohmann::json body;         // the whole object, "event" included
  std::size_t line_bytes = 0;  // length of the line it came from (what storing it costs)
};

// A bounded capture of one output stream: the byte count is exact, the tail is the last
// `tail_bytes` bytes of the stream (raw, possibly invalid UTF-8; reporters escape it).
struct StreamCapture {
  std::uint64_t bytes = 0;
  std::uint64_t lines = 0;
  std::string tail;
  bool truncated = false;  // bytes > tail.size()
};

// One tick of the memory sampler, summed over the worker and all its live descendants.
// pss/uss are -1 on ticks where they were not read (they cost ~1000x an RSS read).
struct MemorySample {
  double t_ms = 0;  // since spawn
  std::int64_t rss_kib = 0;
  std::int64_t pss_kib = -1;
  std::int64_t uss_kib = -1;
  int processes = 0;  // how many processes the tick covered
  // User + system CPU time of the tree so far, ms: the live processes' own and their waited-for
  // children's (/proc/PID/stat), plus what the harness reaped of it. -1: not read.
  double cpu_ms = -1;
  int threads = 0;  // of all the processes the tick covered
};

struct MemoryStats {
  // At the `started` event (before the model loads); without one, the last sample before
  // `ready`; without that, the first sample.
  std::int64_t baseline_rss_kib = -1;
  std::int64_t ready_rss_kib = -1;  // sampled when `ready` arrived
  std::int64_t ready_pss_kib = -1;
  std::int64_t ready_uss_kib = -1;
  std::int64_t peak_rss_kib = -1;  // max over samples, and never below hwm/maxrss of the root
  std::int64_t peak_pss_kib = -1;
  std::int64_t peak_uss_kib = -1;
  std::int64_t hwm_kib = -1;     // kernel peak: VmHWM while running, ru_maxrss at exit
  std::int64_t maxrss_kib = -1;  // ru_maxrss of the reaped root process
  std::int64_t final_pss_kib = -1;
  std::int64_t final_uss_kib = -1;
  std::vector<MemorySample> samples;
};

// One process of a worker's tree at one PSS/USS read: a multi-process worker seen process by
// process.
struct ProcessRow {
  int pid = 0;
  int ppid = 0;
  std::string name;   // comm (the kernel keeps 15 bytes)
  std::string argv0;  // of /proc/PID/cmdline, bounded; "" for a kernel-less read (zombie)
  std::int64_t rss_kib = -1, pss_kib = -1, uss_kib = -1;
  double cpu_ms = 0;    // its own user + system time so far (not its children's)
  double cpu_pct = -1;  // of one core since the previous read of the same process; -1: first
  int threads = 0;
  // Its live threads' schedstat sums (ns): on a CPU, and runnable but waiting for one.
  std::uint64_t run_ns = 0, wait_ns = 0;
};

struct ProcessSnapshot {
  double t_ms = 0;               // since spawn
  std::vector<ProcessRow> rows;  // root first, then breadth first
};

// CPU of an instance's whole tree.
struct CpuStats {
  // Exact at exit: the root's rusage from wait4 (its own time and what it waited for, all the
  // way down) plus the rusage of every descendant the harness reaped itself (orphans). -1: never
  // reaped (could not start).
  double user_s = -1, system_s = -1;
  double utilisation_pct = -1;       // (user + system) / wall time, % of one core (200: two)
  double peak_utilisation_pct = -1;  // the busiest kCpuWindowMs of the sample timeline
  int threads_max = 0;               // the tree's largest thread count in one sample
  int processes_max = 0;             // the tree's largest process count in one sample
  // From every thread's /proc/PID/task/TID/schedstat at the PSS/USS reads: time on a CPU and
  // time runnable but waiting for one, over the span between the first and last read (-1: fewer
  // than two reads), and their sum over that span: how many threads wanted a CPU, on average.
  double run_s = -1, wait_s = -1, span_s = -1;
  double runnable_avg = -1;
  // Per process: at the PSS/USS read with the largest tree PSS, and at the last read that saw
  // as many processes as any read did (its rows are the tree at its widest, as late as possible).
  std::optional<ProcessSnapshot> at_peak, last;
};
inline constexpr double kCpuWindowMs = 1000;

// How the instance ended. Exactly one of exit_code / signal is set once the process was reaped;
// both are empty when it could not be started (then spawn_error says why).
struct ProcessResult {
  int index = 0;  // instance index within its scenario
  int pid = -1;
  std::vector<std::string> argv;
  std::string out_dir;             // ${OUT} of this instance: where it was told to write
  double spawn_offset_ms = 0;      // start time relative to the first instance of the batch
  std::optional<double> ready_ms;  // time from spawn to the `ready` event
  double wall_s = 0;               // spawn to reap of the root process
  std::optional<int> exit_code;
  std::optional<int> signal;  // terminating signal number
  bool timed_out = false;
  bool cancelled = false;  // the harness was interrupted (SIGINT/SIGTERM) while it ran
  bool stopped = false;    // its supervisor's caller stopped it (a pool replacing a stuck worker)
  std::optional<double>
      kill_latency_ms;         // deadline (+grace) to the last process of the tree reaped
  std::string kill_signal;     // "SIGTERM" or "SIGKILL": what finally ended a timed-out tree
  int leftover_processes = 0;  // descendants still alive after the root exited, killed by us
  std::string spawn_error;     // non-empty when the program could not be started
  // The events kept (bounded: the first ones, every result and error, the last ones; see
  // supervise/event_store.hpp), in the order they came.
  std::vector<Event> events;
  // Every event the worker printed, counted by type, exactly (the kept ones and the dropped).
  // Types past the 256th distinct one are counted under "".
  std::map<std::string, std::uint64_t> event_counts;
  std::uint64_t events_dropped = 0;              // counted in event_counts, not kept in `events`
  std::vector<std::string> protocol_violations;  // malformed event lines, with line excerpts
  StreamCapture out;
  StreamCapture err;
  std::string log_file;  // every line it printed, prefixed (logs/ of the report); "" for none
  MemoryStats memory;
  CpuStats cpu;
};

std::string signal_name(int sig);  // "SIGKILL"; "SIG42" for unknown numbers

}  // namespace harness

namespace harness {

// One job of a job stream (scenario `jobs:`): where it went and how it ended. Times are ms since
// the stream began; -1 when it did not happen.
struct JobRecord {
  std::int64_t id = 0;       // 1, 2, ... in scheduling order; ${JOB} and the pool line's "id"
  std::string input;         // ${INPUT}
  int attempts = 0;          // dispatches, retries included
  int worker = -1;           // pool: the worker slot of the last attempt; spawn: the process handle
  int pid = -1;              // the process of the last attempt
  double scheduled_ms = 0;   // when the arrival process said it arrives (latency counts from here)
  double submitted_ms = -1;  // when the harness queued it (late past 1 ms: a slow generator)
  double dispatched_ms = -1;   // the last attempt reached a worker
  double first_event_ms = -1;  // the first event of the job from a worker
  double ended_ms = -1;        // the terminal status was known
  // "success", "failed", "cancelled"; "interrupted" (running when the harness was stopped);
  // "not_run" (not dispatched before the harness was stopped); empty: never ended (lost).
  std::string status;
  std::string failure;  // of the last failed attempt: crash, timeout, exit, error, spawn, ...
  std::string error;    // its message, bounded
  int progress = 0;     // progress events of the job
  bool cancel_sent = false;
  std::string agent;   // queue: the agent of its terminal record (or that last picked it)
  int deliveries = 0;  // queue: times an agent took its last entry (a takeover adds one)
};

// Latency-like figures of a set of jobs, in ms (nearest rank); n = 0: none.
struct JobPercentiles {
  std::size_t n = 0;
  double p50 = 0, p90 = 0, p95 = 0, p99 = 0, p999 = 0, max = 0, mean = 0;
};

// A job stream's run: its records and what they add up to (jobs/job_stats.hpp computes it).
struct JobsResult {
  std::string mode;             // spawn | pool | queue
  int workers = 0;              // at most at once (spawn) or persistent processes (pool)
  std::string arrival;          // "poisson 4/s seed 7", "closed 2"
  double duration_s = 0;        // first scheduled job to the last terminal status
  double throughput_per_s = 0;  // succeeded jobs per second of duration
  std::size_t scheduled = 0, succeeded = 0, failed = 0, cancelled = 0, lost = 0;
  std::size_t interrupted = 0, not_run = 0;
  std::size_t duplicates = 0;  // terminal answers after the first for the same job
  std::size_t stray = 0;       // answers naming no job in flight (unknown or finished ids)
  std::size_t retries = 0;     // attempts past the first
  std::size_t worker_restarts = 0;
  std::size_t late = 0;  // submitted more than late_after_ms after scheduled
  double late_after_ms = 1;
  double late_share = 0;
  double late_share_low = 0;  // its lower bound at 95 % confidence, which validity judges
  JobPercentiles latency;     // scheduled -> ended, succeeded jobs
  JobPercentiles queue_wait;  // scheduled -> dispatched (last attempt), succeeded jobs
  JobPercentiles service;     // dispatched -> ended, succeeded jobs
  // VALID when the run has enough jobs and time for what it is judged on (see job_stats.hpp).
  bool valid = true;
  std::vector<std::string> invalid_reasons;
  double tail_percentile = 0;      // the highest percentile judged; 0: none
  std::size_t jobs_needed = 0;     // for that percentile at 99 % confidence
  double harness_cpu_s = 0;        // CPU time of the harness's loop thread during the stream
  double harness_cpu_share = 0;    // of one core over the duration
  bool generator_limited = false;  // late share over 1 % (at 95 %) or the harness near a full core
  std::vector<JobRecord> records;
  // jobs.faults as done: when, what, and what it hit ("agent 0, pid 4242, 1 job running") or
  // why it was skipped (applied false).
  struct Fault {
    double at_ms = 0;  // since the stream's start, as done
    std::string kind, what;
    int target = -1;
    bool applied = false;
  };
  std::vector<Fault> faults;
  // queue: for each job running on a killed agent, the kill to the job's pickup by an agent
  // (the lease running out, then a takeover), in ms.
  std::vector<double> reclaim_ms;
};

// One rate tried by a peak search (`arrival: {poisson: find_peak, ...}`).
struct PeakPoint {
  double rate = 0;              // jobs per second asked for
  std::size_t run = 0;          // index of its run in ScenarioResult::runs
  double value_ms = 0;          // the bounded latency percentile at that rate
  double throughput_per_s = 0;  // succeeded jobs per second
  std::string verdict;          // "meets" | "exceeds" | "failed" | "invalid"
  std::string why;              // for the last three: one line
};

// A peak search over one matrix point: the highest arrival rate whose run met the latency
// bound, found by doubling from `from` and then halving the bracket (jobs/peak_search.hpp).
struct PeakResult {
  nlohmann::json params = nlohmann::json::object();  // the matrix point
  std::string key;                                   // "latency_p99_max"
  double percentile = 0;                             // 99
  double bound_ms = 0;
  double from = 0, to = 0, precision = 0;
  std::optional<double> peak_rate;    // highest rate that met the bound; none: not even `from`
  std::optional<double> failed_rate;  // lowest rate that did not
  std::string outcome;                // one line saying what was found and why the search ended
  std::vector<PeakPoint> points;      // in the order they were run
  std::vector<std::string> failures;  // the search's own: no peak, expect.jobs.peak_min
};

// One execution of a scenario's instances: the single run, or one matrix point, or one repeat.
// The CPU the workers of one run wanted, measured from their threads' run-queue waits.
struct CpuDemand {
  int cores = 0;               // online CPUs of the host
  int workers = 0;             // instances measured
  double wanted_cpus = 0;      // sum of the workers' runnable_avg: CPUs they wanted at once
  double wait_share = 0;       // of their runnable time, spent waiting for a CPU
  int threads_per_worker = 0;  // the largest threads_max of them
  bool oversubscribed = false;
  std::string message;  // one line with the figures and the likely cause; "" when fine
};

struct ScenarioRun {
  nlohmann::json params = nlohmann::json::object();  // matrix values of this run: {"instances": 3}
  int repeat = 0;
  bool warmup = false;  // warmup runs are reported but not judged
  double wall_s = 0;    // first spawn to last reap
  std::vector<ProcessResult> instances;
  std::vector<std::string> failures;  // expectation failures of this run, one line each
  // A job stream (scenario `jobs:`): its jobs; `instances` are then the processes that served
  // them (pool workers, restarts included, or one process per spawned attempt).
  std::optional<JobsResult> jobs;
  // Whether the run's workers wanted more CPUs than the machine has (cpu_demand.hpp).
  std::optional<CpuDemand> cpu_demand;
};

struct ScenarioResult {
  std::string name;
  std::string file;
  std::string description;
  std::vector<std::string> labels;
  std::string status;                 // "pass" | "fail" | "error"
  std::string error;                  // when status == "error": why the scenario could not run
  std::vector<std::string> failures;  // all runs' failures, prefixed with the run's params
  nlohmann::json matrix = nullptr;    // {"instances": [1,2,3,4]} as written, or null
  nlohmann::json expect = nlohmann::json::object();  // the expectations as written, for reports
  double start_s = 0;  // since the harness run began (scenarios may overlap with --jobs)
  double duration_s = 0;
  std::vector<ScenarioRun> runs;
  std::vector<PeakResult> peaks;  // one per matrix point of a find_peak job stream
};

struct HostInfo {
  std::string hostname;
  std::string kernel;
  std::string cpu_model;
  int cpus = 0;
  std::int64_t mem_total_kib = 0;
};

// Everything one `harness run` produced; reporters turn it into report.json/junit/md/html.
struct RunReport {
  std::string harness_version;
  std::vector<std::string> command;  // the harness's own argv
  HostInfo host;
  std::string started_at;  // ISO 8601 UTC
  std::string finished_at;
  double duration_s = 0;
  bool interrupted = false;  // SIGINT/SIGTERM stopped the run; scenarios holds what ran
  // False in every write of a run but its last: a report left by a harness that was killed
  // (SIGKILL, power loss) says so instead of reading as a pass.
  bool complete = true;
  int jobs = 1;  // scenarios run at a time (memory-measuring ones always alone)
  std::int64_t harness_rss_before_kib = -1;
  std::int64_t harness_rss_after_kib = -1;
  std::int64_t harness_rss_peak_kib = -1;
  std::vector<ScenarioResult> scenarios;
};

}  // namespace harness

namespace harness {

struct StatusCounts {
  int passed = 0;
  int failed = 0;
  int errors = 0;  // "error", and anything unexpected: it is not a pass either
};
StatusCounts count_statuses(const RunReport& report);

}  // namespace harness
