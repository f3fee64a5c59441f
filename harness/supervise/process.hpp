#pragma once
// Process supervision: runs a batch of worker processes concurrently on one event loop (Asio,
// Boost.Process v2 launcher), captures their output, samples their memory, enforces timeouts
// and makes sure no process of any worker's tree outlives the batch.
//
// Contract:
// - Each worker runs in its own process group; its environment carries
//   HARNESS_INSTANCE_TOKEN so descendants that leave the group (setsid, double fork) can still be
//   attributed to it once they are reparented to the harness, which is a child subreaper
//   (PR_SET_CHILD_SUBREAPER, set by Supervisor's constructor).
// - run() returns only when every process of every tree has exited and been reaped (when the
//   harness is its parent). A grandchild holding a pipe open does not keep run() waiting: once
//   the tree is gone, what is left in the pipes is drained without blocking and they are closed.
// - Timeout / cancel: SIGTERM to the process group and to every known descendant, after `grace`
//   SIGKILL to all still alive. kill_latency_ms runs from the deadline (or the cancel) to the last
//   process of the tree gone; when the grace period ran out and SIGKILL was needed, from the end
//   of the grace period instead, so it measures the harness, not the worker's shutdown.
// - leftover_processes: descendants still alive after the root was reaped that had not already
//   been sent SIGKILL; they are killed with SIGKILL at once.
// - Memory: RSS of the whole tree every sample_interval; PSS/USS (smaps_rollup, ~1000x dearer)
//   every smaps_interval, at the `ready` event and at the `result` event (the worker is nearly
//   always still alive then, so the final figures are real). VmHWM of the root is read with
//   PSS/USS; ru_maxrss comes from wait4() of the root, exact however short the worker lived.
// - While a Supervisor exists SIGPIPE is ignored in the harness (a worker closing its stdin must
//   not kill us); workers get the default disposition back before exec.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "harness/core/result.hpp"

namespace harness {

class MemorySampler;

struct ProcessSpec {
  std::vector<std::string> argv;             // argv[0]: a path, or a bare name looked up on PATH
  std::map<std::string, std::string> env;    // added to / overriding the inherited environment
  std::string cwd;                           // empty: inherit
  std::optional<std::string> stdin_data;     // nullopt: stdin is /dev/null; else fed, then closed
  std::chrono::milliseconds timeout{0};      // 0: none
  std::chrono::milliseconds grace{2000};     // SIGTERM -> SIGKILL
  std::chrono::milliseconds start_delay{0};  // relative to the batch start
  std::chrono::milliseconds sample_interval{10};
  // 1 s: a PSS/USS read costs ~3.6 ms for a 300 MiB worker, so this keeps it near 0.4 % of a
  // core, while RSS every 10 ms (~30 us per process) adds ~0.3 %. 0 disables periodic reads.
  std::chrono::milliseconds smaps_interval{1000};
  std::size_t tail_bytes = 64 * 1024;  // per stream
};

// Stdout lines longer than this are counted and kept in the tail but not parsed: a line that
// looks like an event becomes a protocol violation, anything else is log text.
inline constexpr std::size_t kMaxLineBytes = 1 << 20;

// Progress callbacks, called on the thread that runs Supervisor::run().
class ProcessObserver {
 public:
  virtual ~ProcessObserver() = default;
  virtual void on_start(int /*index*/, int /*pid*/) {}
  virtual void on_event(int /*index*/, const Event&) {}
  virtual void on_exit(int /*index*/, const ProcessResult&) {}
};

class Supervisor {
 public:
  Supervisor();
  ~Supervisor();
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;

  // Runs all specs concurrently; result i belongs to spec i (index = i). Never throws for a
  // worker's failure: a program that cannot start gets spawn_error. Several threads may call
  // run() at the same time (`harness run --jobs`): each batch has its own event loop and sampler,
  // an orphan goes to the batch whose token or process group it carries, and cancel() stops all.
  std::vector<ProcessResult> run(const std::vector<ProcessSpec>& specs,
                                 ProcessObserver* observer = nullptr);

  // Async-signal-safe and thread-safe. Stops every running worker like a timeout (without the
  // wait) and marks it cancelled; instances not yet started are not started. Sticky: later
  // run() calls start nothing.
  void cancel() noexcept;
  bool cancelled() const noexcept { return cancelled_.load(); }

 private:
  std::atomic<bool> cancelled_{false};
  int wake_fd_ = -1;  // eventfd: cancel() -> the event loop
  int old_subreaper_ = 0;
  struct SavedSigpipe;
  std::unique_ptr<SavedSigpipe> saved_sigpipe_;
  std::mutex samplers_mutex_;
  std::vector<std::unique_ptr<MemorySampler>> samplers_;  // idle ones; setup reads /proc
};

// SIGINT and SIGTERM to the harness call supervisor.cancel(). One supervisor at a time;
// remove_cancel_signals() restores the default dispositions.
void install_cancel_signals(Supervisor& supervisor);
void remove_cancel_signals();

}  // namespace harness
