#pragma once
// The Redis keys of one queue (docs/queue.md). Every key of a queue starts with
// "harness:<queue>:", so one Redis can hold several runs' queues side by side.
//
//   jobs     stream of jobs; consumer group "agents", one consumer per agent (its --name).
//            Entry fields: id (the job id, for reading), job (JSON: {"id", "input", "argv"?,
//            "timeout_ms"?, "line"?}), deliveries (set when a job was handed back: the
//            deliveries it had before)
//   events   stream the agents write and the coordinator reads: fields job, agent, type,
//            entry (the job's entry id), deliveries, t_ms (since the agent picked the job),
//            body (JSON). Types: picked, the worker's events (started, ready, progress,
//            result, error), end (the terminal one: status, failure, error, the process's
//            figures)
//   dead     stream of dead-lettered jobs: entry, job, deliveries, reason
//   cancel:ID  a key whose existence cancels job ID
//   cancel     a pub/sub channel: a message ID cancels job ID at once (the key stays the record,
//              for agents that were not subscribed when it was published)

#include <string>

namespace harness {

struct QueueKeys {
  explicit QueueKeys(const std::string& queue)
      : jobs("harness:" + queue + ":jobs"),
        events("harness:" + queue + ":events"),
        dead("harness:" + queue + ":dead"),
        cancel_prefix("harness:" + queue + ":cancel:"),
        cancel_channel("harness:" + queue + ":cancel") {}
  std::string jobs, events, dead, cancel_prefix, cancel_channel;
  std::string group = "agents";
  std::string cancel(const std::string& id) const { return cancel_prefix + id; }
};

}  // namespace harness
