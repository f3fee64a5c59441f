#include "harness/supervise/stop_policy.hpp"

#include <csignal>
#include <utility>

namespace harness {

StopPolicy default_stop_policy(std::chrono::milliseconds grace) {
  return {{SIGTERM, grace}, {SIGKILL, std::chrono::milliseconds(0)}};
}

StopSequence::StopSequence(StopPolicy policy, Clock::time_point ref)
    : policy_(std::move(policy)), due_(ref), next_due_(ref) {
  if (policy_.empty() || policy_.back().signal != SIGKILL)
    policy_.push_back({SIGKILL, std::chrono::milliseconds(0)});
}

std::optional<StopSequence::Action> StopSequence::next() {
  if (done()) return std::nullopt;
  const StopStep& step = policy_[step_++];
  due_ = next_due_;
  next_due_ = due_ + step.wait;
  last_signal_ = step.signal;
  Action a;
  a.signal = step.signal;
  a.due = due_;
  if (!done()) a.next_at = next_due_;
  return a;
}

void StopSequence::hurry(Clock::time_point now) {
  if (done()) return;
  // The last step becomes due now: the waits before it are skipped.
  step_ = policy_.size() - 1;
  next_due_ = now;
}

}  // namespace harness
