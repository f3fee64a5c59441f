#pragma once
// `harness agent`: serves a queue's jobs (queue_keys.hpp) with worker processes on this host,
// through the same supervisor as local runs (memory, CPU, timeout, tree kill).
//
// Each job is read with XREADGROUP as consumer `name` of the group "agents", run as a process of
// its own (spawn mode: the job's "argv", else the agent's worker command with ${INPUT}, ${JOB}
// and ${AGENT} expanded), and ends with its `end` event and its XACK in one MULTI, so a job is
// acknowledged exactly when its result is stored. While a job runs its lease is renewed
// (XCLAIM ... JUSTID, only while this agent still owns the entry: a Lua check and claim in one
// step). A job whose agent stopped renewing for `lease` is taken over by another agent
// (XAUTOCLAIM), and one delivered more than `max_deliveries` times (its agent kept dying) goes
// to the dead-letter stream instead of running again. A message ID on the cancel channel (or,
// for one published while the agent was away, a `cancel:ID` key) stops the job's tree.
//
// The agent keeps going while Redis is away: what it has to write waits in order (bounded: past
// kMaxQueuedEvents only terminal records are kept) and it reconnects every tick, so a broker
// restarted from its AOF loses nothing that was acknowledged.
//
// Pool mode (`pool`): each slot is a persistent worker speaking the protocol; a job is its JSON
// line, ended by the worker's `result` or `error` carrying the job's id, a timeout (the worker
// is stopped and started again), a crash of the worker, or a cancel ({"cancel": id}, then the
// worker is stopped after `grace` if it did not answer).
//
// SIGTERM or SIGINT: no new job is read, running ones finish, then the agent exits 0. A second
// one: running jobs are stopped (tree kill) and handed back (re-added to the stream with their
// delivery count, then acknowledged, in one MULTI), and the agent exits 0.

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "harness/core/redis_url.hpp"

namespace harness {

struct AgentOptions {
  RedisEndpoint redis;
  std::string queue = "default";
  std::string name;
  int slots = 1;
  // spawn: a process per job; pool: `slots` persistent workers started from `worker` (${AGENT},
  // ${SLOT}) and fed one JSON line per job (the job's "line", else {"id", "input"}), restarted
  // when they die; the agent is ready once they all are.
  bool pool = false;
  std::chrono::milliseconds ready_timeout{120000};  // pool: a worker's start up to `ready`
  std::vector<std::string> worker;                  // argv; spawn: a job's own "argv" replaces it
  std::chrono::milliseconds timeout{600000};        // per job, unless the job says timeout_ms
  std::chrono::milliseconds grace{2000};            // SIGTERM -> SIGKILL of a stopped job
  std::chrono::milliseconds lease{10000};           // idle this long: another agent may take it
  int max_deliveries = 3;                           // past it, a job goes to the dead letters
  std::chrono::milliseconds poll{5};                // the longest the loop waits on Redis
  std::chrono::milliseconds connect_timeout{2000};
  std::size_t max_events_per_job = 1000;  // progress events published per job; counted past
};

struct AgentSummary {
  int jobs = 0;       // jobs that ended here (their end event written)
  int reclaimed = 0;  // of them, taken over from another agent
  int dead_lettered = 0;
  int handed_back = 0;
  int cancelled = 0;
  int worker_restarts = 0;  // pool: workers started again after they died
  bool no_worker = false;   // pool: every worker failed to start (the agent stopped)
};

// Runs until stopped by a signal (SIGTERM, SIGINT). Throws
// RedisError when Redis cannot be reached at the start, std::invalid_argument for bad options.
// `log`: one line per job and per connection change.
AgentSummary run_agent(const AgentOptions& options, std::FILE* log);

constexpr std::size_t kMaxQueuedEvents = 100000;
constexpr std::size_t kMaxJobBytes = 64 * 1024;  // a job entry's JSON; larger ones are dead letters

}  // namespace harness
