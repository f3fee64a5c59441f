#pragma once
// Process supervision: runs worker processes on one event loop per session (Asio), captures their
// output, samples their memory, enforces timeouts and makes sure no process of any worker's tree
// outlives the session.
//
// Contract:
// - Each worker runs in its own process group; its environment carries HARNESS_INSTANCE_TOKEN so
//   descendants that leave the group (setsid, double fork) can still be attributed to it once
//   they are reparented to the harness, which is a child subreaper (set by Supervisor).
// - A process is finished only when every process of its tree has exited and been reaped (when
//   the harness is its parent). A grandchild holding a pipe open does not keep it waiting: once
//   the tree is gone, what is left in the pipes is drained without blocking and they are closed.
// - Timeout, cancel, stop(): the spec's stop policy (default SIGTERM, `grace`, SIGKILL) is run
//   against the whole tree. kill_latency_ms runs from when the last step taken was due (the
//   deadline, the cancel, or the end of the grace when SIGKILL was needed) to the last process of
//   the tree gone, so it measures the harness, not the worker's shutdown.
// - leftover_processes: descendants still alive after the root exited on its own (no stop in
//   progress); they are killed with SIGKILL at once. When the root exits during a stop, the rest
//   of its tree already got the stop signal and is left to the remaining steps: not leftovers.
// - Memory: RSS of the whole tree every sample_interval; PSS/USS (smaps_rollup, ~1000x dearer)
//   every smaps_interval or further apart when the reads cost more (SmapsPacer), at the `ready`
//   event and at the first `result` event (the worker is nearly always still alive then, so the
//   final figures are real; later results of a long-lived worker wait for the pacer too).
//   VmHWM of the root is read with PSS/USS; ru_maxrss comes from wait4() of the root, exact
//   however short the worker lived.
// - While a Supervisor exists SIGPIPE is ignored in the harness (a worker closing its stdin must
//   not kill us); workers get the default disposition back before exec.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "harness/core/result.hpp"
#include "harness/supervise/output_log.hpp"
#include "harness/supervise/stop_policy.hpp"

namespace boost::asio {
class io_context;
}

namespace harness {

class MemorySampler;

struct ProcessSpec {
  std::vector<std::string> argv;           // argv[0]: a path, or a bare name looked up on PATH
  std::map<std::string, std::string> env;  // added to / overriding the inherited environment
  std::string cwd;                         // empty: inherit
  // nullopt: stdin is /dev/null (unless stdin_open); else fed, then closed (unless stdin_open).
  std::optional<std::string> stdin_data;
  // Keep stdin a pipe the caller writes to with Session::write_line (a long-lived worker fed
  // job lines); it is closed by Session::close_stdin or when the worker exits.
  bool stdin_open = false;
  std::chrono::milliseconds timeout{0};      // 0: none
  std::chrono::milliseconds grace{2000};     // SIGTERM -> SIGKILL, when `stop` is empty
  StopPolicy stop;                           // empty: default_stop_policy(grace)
  std::chrono::milliseconds start_delay{0};  // relative to Session::add
  std::chrono::milliseconds sample_interval{10};
  // PSS/USS reads at least this far apart, and further when they would cost the worker's
  // sampling more than 1.8 % of a core (SmapsPacer, sampler.hpp: a 500 MiB worker's read takes
  // ~10 ms). 0 disables periodic reads.
  std::chrono::milliseconds smaps_interval{1000};
  std::size_t tail_bytes = 64 * 1024;  // per stream
  LogTarget log;  // every output line to a log file and the run's log (output_log.hpp); none
};

// Callbacks on the session's loop thread. A callback may call back into the Session (write a
// line, stop a process, add one, set a timer).
class ProcessObserver {
 public:
  virtual ~ProcessObserver() = default;
  virtual void on_start(int /*handle*/, int /*pid*/) {}
  virtual void on_event(int /*handle*/, const Event&) {}
  virtual void on_exit(int /*handle*/, const ProcessResult&) {}
};

class Supervisor;

// One event loop and the processes on it: a fixed batch (Supervisor::run) or long-lived workers
// the caller feeds line by line while it receives their events (a pool). Not thread-safe: every
// call happens on the thread that runs it (from run() or from the callbacks it makes).
class Session {
 public:
  using Clock = std::chrono::steady_clock;

  explicit Session(Supervisor& supervisor);
  ~Session();  // stops and reaps whatever is still running: nothing outlives a session
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Starts a process spec.start_delay from now; returns its handle (0, 1, 2, ... in order).
  // Never throws for the worker's failure: a program that cannot start gets spawn_error.
  int add(const ProcessSpec& spec, ProcessObserver* observer = nullptr);
  // Queues `line` and a newline on the worker's stdin (spec.stdin_open). False when the worker
  // is not running or its stdin is closed (it exited, or closed it: EPIPE).
  bool write_line(int handle, std::string_view line);
  std::size_t stdin_queued_bytes(int handle) const;
  void close_stdin(int handle);
  // Runs the stop policy against the process's tree now; result.stopped is set.
  void stop(int handle);
  bool running(int handle) const;  // started and not finished
  bool finished(int handle) const;
  int pid(int handle) const;  // -1 before the start
  const ProcessResult& result(int handle) const;
  ProcessResult take_result(int handle);
  std::size_t size() const;

  // Calls `fn` on the loop at `when` (at once when past); returns an id for cancel_timer.
  std::uint64_t call_at(Clock::time_point when, std::function<void()> fn);
  void cancel_timer(std::uint64_t id);
  // Called once on the loop when the supervisor is cancelled (after the processes were told).
  void on_cancel(std::function<void()> fn);

  // Runs the loop until every process has finished and no timer is pending.
  void run();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

class Supervisor {
 public:
  Supervisor();
  ~Supervisor();
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;

  // Runs all specs concurrently in one session; result i belongs to spec i (index = i). Several
  // threads may call run() at the same time (`harness run --jobs`): each call has its own
  // session, an orphan goes to the session whose token or process group it carries, and
  // cancel() stops all.
  std::vector<ProcessResult> run(const std::vector<ProcessSpec>& specs,
                                 ProcessObserver* observer = nullptr);

  // Async-signal-safe and thread-safe. The first call stops every running worker like a timeout
  // (without the wait) and marks it cancelled; processes not yet started are not started, and
  // later sessions start nothing. A second call hurries the stops: the grace is cut short and
  // SIGKILL goes out at once.
  void cancel() noexcept;
  bool cancelled() const noexcept { return cancels_.load() > 0; }
  bool hurried() const noexcept { return cancels_.load() > 1; }

  // For sessions: the eventfd cancel() writes, an idle sampler and an idle event loop (given
  // back when done). Reusing them saves a session the /proc setup of a sampler and the epoll,
  // timerfd and eventfd of a loop: about a fifth of a short worker's launch cost.
  int wake_fd() const { return wake_fd_; }
  std::unique_ptr<MemorySampler> take_sampler();
  void return_sampler(std::unique_ptr<MemorySampler> sampler);
  std::unique_ptr<boost::asio::io_context> take_loop();
  void return_loop(std::unique_ptr<boost::asio::io_context> loop);

 private:
  std::atomic<int> cancels_{0};
  int wake_fd_ = -1;
  int old_subreaper_ = 0;
  struct SavedSigpipe;
  std::unique_ptr<SavedSigpipe> saved_sigpipe_;
  std::mutex samplers_mutex_;
  std::vector<std::unique_ptr<MemorySampler>> samplers_;         // idle ones; setup reads /proc
  std::vector<std::unique_ptr<boost::asio::io_context>> loops_;  // idle, with no pending work
};

// While it lives, SIGINT and SIGTERM to the harness call supervisor.cancel() (a second one
// hurries the stop). One at a time; the destructor restores the default dispositions.
class CancelSignals {
 public:
  explicit CancelSignals(Supervisor& supervisor);
  ~CancelSignals();
  CancelSignals(const CancelSignals&) = delete;
  CancelSignals& operator=(const CancelSignals&) = delete;
};

// The old free-function form of CancelSignals.
void install_cancel_signals(Supervisor& supervisor);
void remove_cancel_signals();

}  // namespace harness
