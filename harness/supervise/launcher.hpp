#pragma once
// Starting one worker process: the program looked up on PATH as execvp does, the environment
// (the harness's own, the spec's additions, the instance token), pipes for stdout and stderr,
// stdin from /dev/null or a pipe, its own process group, default signal dispositions, the working
// directory, and a pidfd on the new process. vfork + execve with nothing but system calls in the
// child, which is what keeps a launch as cheap as posix_spawn.
//
// The child also gets PR_SET_PDEATHSIG(SIGKILL): when the thread that launched it dies (the
// harness was SIGKILLed), the kernel kills the worker's root at once.

#include <chrono>
#include <map>
#include <string>

#include "harness/supervise/fd.hpp"

namespace harness {

struct ProcessSpec;

// The environment variable every worker and its descendants carry, so processes that leave the
// process group (setsid, double fork) are still attributed to their instance.
inline constexpr const char* kTokenVar = "HARNESS_INSTANCE_TOKEN";
// A harness run under another (the agents of a queue run) gives its workers the enclosing
// harnesses' tokens too, as "HARNESS_INSTANCE_TOKEN=<pid>.<n> ..." in this variable: the
// watchdog matches its token anywhere in a process's environment, so each enclosing harness's
// watchdog still finds them when the harnesses in between (and their watchdogs) died first.
inline constexpr const char* kOuterTokensVar = "HARNESS_OUTER_TOKENS";

struct Launched {
  int pid = -1;
  Fd pidfd;
  Fd stdin_w;  // valid when the spec feeds or keeps stdin open
  Fd stdout_r, stderr_r;
  std::chrono::steady_clock::time_point spawn_time;
};

// Returns "" and fills `out`, or says why the program could not be started (by name, with the
// cause and how to fix it). Never leaves a process behind on failure.
std::string launch(const ProcessSpec& spec, const std::string& token, Launched& out);

// A bare name is looked up on PATH like execvp; "" when not found (`err`: ENOENT or EACCES).
std::string resolve_program(const std::string& name, const std::string& path_var, int* err);

}  // namespace harness
