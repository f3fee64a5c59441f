#pragma once
// Runs one job stream on a supervisor session: jobs arrive (closed loop or on a schedule), wait
// in one FIFO queue for a worker, and are served by a fresh process each (`spawn`, at most
// `workers` at once) or by `workers` persistent processes fed one JSON line per job (`pool`).
//
// Pool protocol: a worker is idle once it printed `ready` (within worker.timeout, else it is
// stopped and started again; a slot whose worker fails to start three times in a row is given
// up). A job line is {"id": N, ...template...}; the worker answers with events tagged "job": N:
// `progress`, then `result` (status success, or cancelled) or `error`. {"cancel": N} asks it to
// stop job N; no answer within worker.grace and the worker is stopped with its tree. A job that
// outlives jobs.timeout is failed as `timeout` and its worker stopped; a worker that exits with
// a job in flight fails it as `crash`; both workers are started again, and the job is retried
// (after the backoff, on any idle worker) when `retry.on` names the failure and attempts are
// left. At the end the workers' stdin is closed: they exit at EOF.
//
// Spawn: the job's process is its attempt; exit 0 without an error event (and without a result
// whose status is not success) is a success; otherwise the failure is timeout (jobs.timeout ran
// out), crash (a signal), spawn (it could not start), error (an error event) or exit (another
// exit status).
//
// The first terminal answer of a job counts; later ones are counted as duplicates, and answers
// for no job in flight as stray. SIGINT/SIGTERM to the harness: no job is dispatched any more,
// running ones end as `interrupted`, queued and future ones as `not_run`, and the records hold
// every job's state.

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "harness/core/result.hpp"
#include "harness/scenario/jobs_spec.hpp"
#include "harness/supervise/supervisor.hpp"

namespace harness {

struct JobPlan {
  JobsSpec spec;                    // matrix values applied
  std::vector<std::string> inputs;  // expanded and globbed; cycled over the jobs
  // The process of a spawned job, or of pool slot `slot`. May throw (a variable that cannot
  // be expanded): then the job fails as `spawn` / the slot is given up.
  std::function<ProcessSpec(const JobRecord& job)> spawn_process;
  std::function<ProcessSpec(int slot)> pool_process;
  // The pool line of a job, "id" included, without the newline.
  std::function<std::string(const JobRecord& job)> pool_line;
  // queue: agent `slot` of the run, serving `queue` on the broker at `redis_url`.
  std::function<ProcessSpec(int slot, const std::string& redis_url, const std::string& queue)>
      agent_process;
  std::string queue_dir;  // queue: the private redis-server's folder (jobs.queue.redis: auto)
  std::chrono::milliseconds ready_timeout{60000};  // pool, queue: spawn to `ready`
  std::chrono::milliseconds cancel_grace{2000};    // pool: {"cancel"} to the answer
};

struct JobStreamOutcome {
  JobsResult jobs;                       // records and the stream's own figures, not summarised
  std::vector<ProcessResult> processes;  // every process the stream ran, in start order
  double wall_s = 0;
};

// `relay` sees every process's events and exits (a progress display).
JobStreamOutcome run_job_stream(Supervisor& supervisor, const JobPlan& plan,
                                ProcessObserver* relay = nullptr);

}  // namespace harness
