#pragma once
// The job stream's engine, shared by its three files: job_stream.cpp (arrivals, dispatch, retries,
// endings, interrupts), job_pool.cpp (persistent workers: dispatch to the one idle longest,
// cancel lines, restarts) and job_spawn.cpp (a process per attempt). Private to harness/jobs.

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "harness/jobs/arrival.hpp"
#include "harness/jobs/job_stream.hpp"
#include "harness/queue/queue_keys.hpp"
#include "harness/queue/redis_client.hpp"
#include "harness/queue/redis_server.hpp"

namespace harness::detail {

using Clock = Session::Clock;

constexpr std::size_t kErrorBytes = 300;
constexpr int kStartFailuresPerSlot = 3;
constexpr std::size_t kMaxJobs = 100000;
constexpr auto kQueuePoll = std::chrono::milliseconds(2);  // queue: the events stream read

double thread_cpu_s();                             // CPU time of the calling thread
std::string bounded(std::string s);                // at most kErrorBytes, then "..."
std::string describe_end(const ProcessResult& r);  // "killed by SIGKILL", "exit 3"
std::string error_text(const Event& ev);           // an error event's "type: message"

class JobStream final : public ProcessObserver {
 public:
  JobStream(Supervisor& supervisor, const JobPlan& plan, ProcessObserver* relay)
      : session_(supervisor), plan_(plan), spec_(plan.spec), relay_(relay) {
    const double duration = static_cast<double>(spec_.duration.count());
    if (spec_.arrival.kind != ArrivalSpec::Kind::closed)
      offsets_ = arrival_offsets_ms(spec_.arrival, static_cast<std::size_t>(spec_.count), duration);
    cancel_ids_.insert(spec_.cancel.jobs.begin(), spec_.cancel.jobs.end());
  }

  JobStreamOutcome run();
  void on_start(int handle, int pid) override;
  void on_event(int handle, const Event& ev) override;
  void on_exit(int handle, const ProcessResult& res) override;

 private:
  // What only the running attempt of a job needs.
  struct Live {
    int handle = -1;  // spawn: its process
    int slot = -1;    // pool: its worker
    std::uint64_t timeout_timer = 0, cancel_timer = 0;
    bool cancelling = false;     // stopped (or asked to stop) because jobs.cancel named it
    std::string answer;          // spawn: "error: ..." or a result's non-success status
    std::string entry;           // queue: the stream entry of its attempt
    bool queued = false;         // queue: submitted, no terminal record yet
    bool picked = false;         // queue: an agent took this entry
    Clock::time_point activity;  // queue: submitted, picked or progressed last
    std::optional<Clock::time_point> reclaim_from;  // queue: its agent was killed then
  };
  struct Slot {
    int handle = -1;
    bool ready = false;
    bool retiring = false;  // being stopped: no more jobs
    std::optional<std::size_t> job;
    int start_failures = 0;
    bool dead = false;
    std::uint64_t ready_timer = 0;
    double idle_since = 0;
  };

  double now_ms() const;
  std::string input_of(std::int64_t id) const;

  // --- arrivals ---

  // The stream's clock starts here: for a pool once every worker is ready (or given up), so
  // the jobs measure the design's steady state; its start-up is each worker's ready_ms.
  void begin_arrivals();
  void begin_if_workers_ready();
  bool may_submit_closed() const;
  void schedule_next();
  void submit(double scheduled_ms);

  // --- dispatch ---

  void try_dispatch();
  void dispatch_pending();
  void begin_attempt(std::size_t j);

  // --- pool workers (job_pool.cpp) ---

  int idle_slot() const;
  void send(std::size_t j, int s);
  void cancel_job(std::size_t j);  // both modes: a cancel line, or the stop policy on its tree
  void start_worker(int s);
  void retire(int s);
  void pool_event(int handle, const Event& ev);
  void pool_exit(int handle, const ProcessResult& res);

  // Every slot was given up: what waits for a worker fails.
  void fail_if_no_worker();
  std::optional<std::size_t> job_of(const nlohmann::json& id) const;

  // --- spawned jobs (job_spawn.cpp) ---

  void launch(std::size_t j);
  void spawn_event(int handle, const Event& ev);
  void spawn_exit(int handle, const ProcessResult& res);

  // --- queue mode (job_queue.cpp): jobs through a Redis stream, served by agents ---

  void queue_start();           // the broker, the stream and its group; throws when not
  bool enqueue(std::size_t j);  // XADD of the job's attempt; false: the broker is away
  void poll_queue();            // the events stream, read every kQueuePoll
  void queue_record(const std::map<std::string, std::string>& rec);
  void queue_cancel(std::size_t j);
  void check_lost();  // jobs no agent answers for any more

  // --- jobs.faults (job_faults.cpp) ---

  void schedule_faults();
  void cancel_faults();  // those not done yet: the stream ended first
  void apply_fault(const FaultStep& f);
  void restart_broker(std::string& what);  // appends how it went to `what`
  bool agent_busy(int slot) const;         // queue: agent `slot` has a job picked

  // --- endings ---

  void stop_timers(std::size_t j);
  void release_slot(std::size_t j);
  void fail(std::size_t j, const std::string& kind, std::string message);
  void finish(std::size_t j, const std::string& status);
  void maybe_finish();
  std::size_t running_jobs() const;
  void interrupt();

  Session session_;
  const JobPlan& plan_;
  const JobsSpec& spec_;
  ProcessObserver* relay_;
  Clock::time_point t0_;
  std::vector<double> offsets_;
  std::size_t next_offset_ = 0;
  std::set<std::int64_t> cancel_ids_;
  std::vector<JobRecord> records_;
  std::deque<Live> live_;  // beside records_; a deque: references stay valid as it grows
  std::deque<std::size_t> pending_;
  std::map<int, std::size_t> handle_job_;
  std::map<int, int> handle_slot_;
  std::vector<Slot> slots_;
  int running_ = 0;  // spawn: processes of jobs
  std::size_t ended_ = 0;
  std::size_t duplicates_ = 0, stray_ = 0, retries_ = 0, restarts_ = 0;
  int backing_off_ = 0;
  std::uint64_t arrival_timer_ = 0, end_timer_ = 0;
  bool schedule_over_ = false, interrupted_ = false, finishing_ = false, no_worker_ = false;
  bool arrivals_begun_ = false, dispatching_ = false;
  double interrupted_ms_ = 0;
  std::string dead_reason_;
  // queue mode
  std::unique_ptr<PrivateRedis> broker_;
  std::unique_ptr<RedisClient> redis_;
  std::unique_ptr<QueueKeys> keys_;
  std::string redis_url_, queue_name_, events_last_ = "0";
  std::map<std::string, std::size_t> entry_job_;
  std::uint64_t poll_timer_ = 0;
  Clock::time_point queue_activity_;
  // jobs.faults
  std::vector<JobsResult::Fault> faults_done_;
  std::vector<std::uint64_t> fault_timers_;  // per jobs.faults entry; 0 once done
  std::vector<double> reclaim_ms_;
};

}  // namespace harness::detail
