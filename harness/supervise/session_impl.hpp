#pragma once
// Internals of Session (supervisor.hpp), shared by session.cpp (lifecycle: start, stop, exit,
// finish) and session_io.cpp (output, stdin, events, memory). Not for use outside supervise.

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/readable_pipe.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/writable_pipe.hpp>

#include "harness/supervise/event_store.hpp"
#include "harness/supervise/instance_cpu.hpp"
#include "harness/supervise/instance_memory.hpp"
#include "harness/supervise/output_capture.hpp"
#include "harness/supervise/process_tree.hpp"
#include "harness/supervise/sampler.hpp"
#include "harness/supervise/stop_policy.hpp"
#include "harness/supervise/supervisor.hpp"

namespace harness {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

inline double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

// Where an instance is in its life. The pipes have their own open/closed state and the stop its
// own sequence; everything else follows from the phase.
enum class Phase {
  waiting,   // the start timer is pending
  running,   // the root process is alive
  reaped,    // the root was reaped; its tree or its pipes are not done yet
  finished,  // the result is final and was handed to the observer
};

struct Instance {
  Instance(asio::io_context& ioc, int handle, const ProcessSpec& spec, std::string token,
           ProcessObserver* observer, std::function<void()> on_descendant_death);
  ~Instance();

  int handle;
  ProcessSpec spec;
  std::string token;
  ProcessObserver* observer;
  ProcessResult res;
  Phase phase = Phase::waiting;
  int pid = -1;
  Clock::time_point spawn_time;
  std::int64_t maxrss_kib = -1;
  double root_user_ms = -1, root_system_ms = -1;  // the root's rusage from wait4

  asio::steady_timer start_timer, deadline_timer, stop_timer, drain_timer, sample_timer;
  asio::readable_pipe out, err;
  asio::writable_pipe in;
  std::unique_ptr<asio::posix::stream_descriptor> root_watch;  // owns the root's pidfd
  ProcessTree tree;
  bool tree_gone = false;
  std::optional<StopSequence> stopping;

  OutputCapture capture;
  std::unique_ptr<InstanceLog> log;  // when the spec asks for one
  EventStore events;
  InstanceMemory memory;
  InstanceCpu cpu;
  SmapsPacer pacer;             // when the next PSS/USS read is due (sampler.hpp), ms since spawn
  bool result_sampled = false;  // the first `result` event's sample (with PSS/USS) was taken

  std::deque<std::string> stdin_queue;
  std::size_t stdin_bytes = 0;
  bool stdin_writing = false;
  bool stdin_close_after = false;  // close once the queue is written

  static constexpr std::size_t kReadChunk = 64 * 1024;
  // Uninitialised and below malloc's mmap threshold: no memset, no fresh pages per launch.
  std::unique_ptr<char[]> out_buf{new char[kReadChunk]}, err_buf{new char[kReadChunk]};
};

struct Session::Impl {
  explicit Impl(Supervisor& supervisor);
  ~Impl();

  Instance& at(int handle) const;

  // session.cpp: lifecycle
  int add(const ProcessSpec& spec, ProcessObserver* observer);
  void start(Instance& in);
  void arm_wake();
  void on_wake();
  void watch_hurry();
  void begin_stop(Instance& in, Clock::time_point ref);
  void step_stop(Instance& in);
  void signal_tree(Instance& in, int sig);
  void adopt_orphans();
  void on_root_exit(Instance& in);
  void check_tree_gone(Instance& in, bool just_scanned = false);
  void maybe_finish(Instance& in);
  void finish(Instance& in);

  // session_io.cpp: output, stdin, events, memory
  void read_stream(Instance& in, bool is_out);
  void stream_closed(Instance& in, bool is_out);
  void on_event(Instance& in, Event ev);
  bool queue_stdin(Instance& in, std::string text);
  void write_next(Instance& in);
  void close_stdin(Instance& in);
  void schedule_sample(Instance& in);
  MemorySample take_sample(Instance& in, bool with_smaps);
  void schedule_poll(Instance& in);

  // The loop borrowed from the supervisor; declared before every asio object below, so it is
  // destroyed (or given back) after them. Given back only when no handler can be pending on it.
  struct LoopLease {
    Supervisor& sup;
    std::unique_ptr<asio::io_context> loop;
    bool clean = true;
    explicit LoopLease(Supervisor& s) : sup(s), loop(s.take_loop()) {}
    ~LoopLease() {
      if (clean) sup.return_loop(std::move(loop));
    }
  };

  Supervisor& sup;
  std::unique_ptr<MemorySampler> sampler;
  unsigned seq;
  Clock::time_point start_time;
  LoopLease lease;
  asio::io_context& ioc;
  asio::posix::stream_descriptor wake;
  asio::steady_timer hurry_timer;
  bool cancel_seen = false;
  std::function<void()> cancel_hook;
  std::size_t unfinished = 0;
  std::uint64_t next_timer = 1;
  std::map<std::uint64_t, std::unique_ptr<asio::steady_timer>> timers;
  std::vector<std::unique_ptr<Instance>> insts;
};

}  // namespace harness
