#pragma once
// How a job run as a process of its own ended, from its events and its exit: shared by the job
// stream's spawn mode (job_spawn.cpp) and the queue's agent (agent/agent.cpp), so a job means
// the same in both.

#include <chrono>
#include <string>

#include "harness/core/result.hpp"

namespace harness {

// What a job's process said on its way: the first error event ("error: type: message") or the
// first result whose status is not success (that status). Empty when it said neither.
void note_spawned_event(const Event& ev, std::string& answer);

struct SpawnVerdict {
  std::string status;   // success, failed, cancelled or interrupted
  std::string failure;  // when failed: spawn, timeout, crash, error or exit
  std::string error;    // when failed: one bounded line
};

// Exit 0 without an error event (and without a result whose status is not success) is a
// success; otherwise the failure is timeout (`timeout` ran out), crash (a signal), spawn (it
// could not start), error (an error event) or exit (another exit status). `cancelling`: the
// caller stopped it because the job was cancelled. An interrupted harness gives `interrupted`.
SpawnVerdict judge_spawned(const ProcessResult& res, const std::string& answer, bool cancelling,
                           std::chrono::milliseconds timeout);

}  // namespace harness
