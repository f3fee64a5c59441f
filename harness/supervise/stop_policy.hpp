#pragma once
// How the harness stops a worker's process tree: a list of steps, each a signal sent to the
// whole tree and the time to wait for the tree to be gone before the next step (reproc's stop
// actions). The default is SIGTERM, wait `grace`, SIGKILL. One loop runs any policy: it asks a
// StopSequence what to send and when the next step is due, so the policy is data and the
// sequence is tested without processes.

#include <chrono>
#include <cstddef>
#include <optional>
#include <vector>

namespace harness {

struct StopStep {
  int signal = 0;
  std::chrono::milliseconds wait{0};  // after sending, before the next step (last: ignored)
};
using StopPolicy = std::vector<StopStep>;

// SIGTERM, `grace`, SIGKILL.
StopPolicy default_stop_policy(std::chrono::milliseconds grace);

// Progress through one policy from a reference time (the deadline that passed, or the moment of
// a cancel). Steps are due at ref, ref + wait0, ref + wait0 + wait1, ...; a policy whose last
// step is not SIGKILL gets one appended, so a sequence always ends with the tree killed.
class StopSequence {
 public:
  using Clock = std::chrono::steady_clock;

  StopSequence(StopPolicy policy, Clock::time_point ref);

  struct Action {
    int signal = 0;
    Clock::time_point due;                     // when this step was due (kill latency runs from it)
    std::optional<Clock::time_point> next_at;  // when the next step is due; none after the last
  };
  // The next step to take; nullopt once every step was taken.
  std::optional<Action> next();
  // Skips the waits: the next step taken is the last one (SIGKILL), due now. Used when the user
  // interrupts a second time and does not want to wait out the grace.
  void hurry(Clock::time_point now);

  bool done() const { return step_ >= policy_.size(); }
  // The signal of the last step taken; 0 before the first.
  int last_signal() const { return last_signal_; }
  // When the last step taken was due.
  Clock::time_point last_due() const { return due_; }

 private:
  StopPolicy policy_;
  std::size_t step_ = 0;
  Clock::time_point due_;       // of the last step taken
  Clock::time_point next_due_;  // of the next step
  int last_signal_ = 0;
};

}  // namespace harness
