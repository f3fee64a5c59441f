#include "harness/jobs/job_stream.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <deque>
#include <map>
#include <optional>
#include <set>

#include <fmt/format.h>

#include "harness/jobs/arrival.hpp"
#include "harness/judge/failure_text.hpp"

namespace harness {
namespace {

using Clock = Session::Clock;
using ms = std::chrono::milliseconds;

constexpr std::size_t kErrorBytes = 300;
constexpr int kStartFailuresPerSlot = 3;
constexpr std::size_t kMaxJobs = 100000;

double thread_cpu_s() {
  rusage u{};
  ::getrusage(RUSAGE_THREAD, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

std::string bounded(std::string s) {
  if (s.size() > kErrorBytes) s = s.substr(0, kErrorBytes) + "...";
  return s;
}

std::string describe_end(const ProcessResult& r) {
  if (!r.spawn_error.empty()) return r.spawn_error;
  if (r.signal) return "killed by " + signal_name(*r.signal);
  if (r.exit_code) return "exit " + std::to_string(*r.exit_code);
  return "ended";
}

// An error event's "type: message".
std::string error_text(const Event& ev) {
  std::string type = ev.body.value("type", std::string());
  std::string message = ev.body.contains("message") && ev.body["message"].is_string()
                            ? ev.body["message"].get<std::string>()
                            : "";
  return bounded(type.empty() ? message : message.empty() ? type : type + ": " + message);
}

class JobStream final : public ProcessObserver {
 public:
  JobStream(Supervisor& supervisor, const JobPlan& plan, ProcessObserver* relay)
      : session_(supervisor), plan_(plan), spec_(plan.spec), relay_(relay) {
    const double duration = static_cast<double>(spec_.duration.count());
    if (spec_.arrival.kind != ArrivalSpec::Kind::closed)
      offsets_ = arrival_offsets_ms(spec_.arrival, static_cast<std::size_t>(spec_.count), duration);
    cancel_ids_.insert(spec_.cancel.jobs.begin(), spec_.cancel.jobs.end());
  }

  JobStreamOutcome run() {
    t0_ = Clock::now();
    session_.on_cancel([this] { interrupt(); });
    if (spec_.mode == "pool") {
      slots_.resize(static_cast<std::size_t>(spec_.workers));
      for (std::size_t s = 0; s < slots_.size(); ++s) start_worker(static_cast<int>(s));
      begin_if_workers_ready();
    } else {
      begin_arrivals();
    }
    const double cpu0 = thread_cpu_s();
    session_.run();
    JobStreamOutcome out;
    out.jobs.harness_cpu_s = thread_cpu_s() - cpu0;
    out.wall_s = std::chrono::duration<double>(Clock::now() - t0_).count();
    // Jobs the interrupt kept from being submitted are part of the stream too: the rest of an
    // open schedule at their times, the rest of a closed loop's count at the interrupt.
    const bool closed = spec_.arrival.kind == ArrivalSpec::Kind::closed;
    const std::size_t planned =
        closed ? static_cast<std::size_t>(std::max(0, spec_.count)) : offsets_.size();
    for (std::size_t i = closed ? records_.size() : next_offset_; interrupted_ && i < planned;
         ++i) {
      JobRecord r;
      r.id = static_cast<std::int64_t>(records_.size() + 1);
      r.input = input_of(r.id);
      r.scheduled_ms = closed ? interrupted_ms_ : offsets_[i];
      r.status = "not_run";
      records_.push_back(std::move(r));
    }
    double end = 0;
    for (const auto& r : records_) end = std::max(end, r.ended_ms);
    out.jobs.mode = spec_.mode;
    out.jobs.workers = spec_.workers;
    out.jobs.arrival = describe_arrival(spec_.arrival);
    out.jobs.duration_s = end / 1000.0;
    out.jobs.duplicates = duplicates_;
    out.jobs.stray = stray_;
    out.jobs.retries = retries_;
    out.jobs.worker_restarts = restarts_;
    out.jobs.records = std::move(records_);
    for (std::size_t h = 0; h < session_.size(); ++h) {
      ProcessResult p = session_.take_result(static_cast<int>(h));
      p.index = static_cast<int>(h);
      out.processes.push_back(std::move(p));
    }
    return out;
  }

  void on_start(int handle, int pid) override {
    if (auto it = handle_job_.find(handle); it != handle_job_.end()) records_[it->second].pid = pid;
    if (relay_) relay_->on_start(handle, pid);
  }

  void on_event(int handle, const Event& ev) override {
    if (relay_) relay_->on_event(handle, ev);
    if (spec_.mode == "pool")
      pool_event(handle, ev);
    else
      spawn_event(handle, ev);
  }

  void on_exit(int handle, const ProcessResult& res) override {
    if (relay_) relay_->on_exit(handle, res);
    if (spec_.mode == "pool")
      pool_exit(handle, res);
    else
      spawn_exit(handle, res);
    try_dispatch();
    maybe_finish();
  }

 private:
  // What only the running attempt of a job needs.
  struct Live {
    int handle = -1;  // spawn: its process
    int slot = -1;    // pool: its worker
    std::uint64_t timeout_timer = 0, cancel_timer = 0;
    bool cancelling = false;  // stopped (or asked to stop) because jobs.cancel named it
    std::string answer;       // spawn: "error: ..." or a result's non-success status
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

  double now_ms() const {
    return std::chrono::duration<double, std::milli>(Clock::now() - t0_).count();
  }

  std::string input_of(std::int64_t id) const {
    if (plan_.inputs.empty()) return "";
    return plan_.inputs[static_cast<std::size_t>(id - 1) % plan_.inputs.size()];
  }

  // --- arrivals ---

  // The stream's clock starts here: for a pool once every worker is ready (or given up), so
  // the jobs measure the design's steady state; its start-up is each worker's ready_ms.
  void begin_arrivals() {
    if (arrivals_begun_ || interrupted_) return;
    arrivals_begun_ = true;
    t0_ = Clock::now();
    if (spec_.duration.count() > 0)
      end_timer_ = session_.call_at(t0_ + spec_.duration, [this] {
        end_timer_ = 0;
        schedule_over_ = true;
        maybe_finish();
      });
    if (spec_.arrival.kind == ArrivalSpec::Kind::closed) {
      for (int i = 0; i < spec_.arrival.in_flight && may_submit_closed(); ++i) submit(now_ms());
    } else {
      schedule_next();
    }
    maybe_finish();
  }

  void begin_if_workers_ready() {
    if (std::all_of(slots_.begin(), slots_.end(),
                    [](const Slot& s) { return s.dead || (s.handle >= 0 && s.ready); }))
      begin_arrivals();
  }

  bool may_submit_closed() const {
    if (interrupted_ || schedule_over_) return false;
    // A duration-bound closed loop of instant jobs stops at the same 100000 jobs as a schedule.
    if (records_.size() >= kMaxJobs) return false;
    return spec_.count == 0 || records_.size() < static_cast<std::size_t>(spec_.count);
  }

  void schedule_next() {
    if (next_offset_ >= offsets_.size() || interrupted_) return;
    const double at = offsets_[next_offset_];
    arrival_timer_ = session_.call_at(t0_ + std::chrono::duration_cast<Clock::duration>(
                                                std::chrono::duration<double, std::milli>(at)),
                                      [this, at] {
                                        arrival_timer_ = 0;
                                        ++next_offset_;
                                        submit(at);
                                        schedule_next();
                                        maybe_finish();
                                      });
  }

  void submit(double scheduled_ms) {
    JobRecord r;
    r.id = static_cast<std::int64_t>(records_.size() + 1);
    r.input = input_of(r.id);
    r.scheduled_ms = scheduled_ms;
    r.submitted_ms = now_ms();
    records_.push_back(std::move(r));
    live_.emplace_back();
    pending_.push_back(records_.size() - 1);
    try_dispatch();
  }

  // --- dispatch ---

  void try_dispatch() {
    if (dispatching_) return;  // a job failing at once re-enters here: the loop below takes it
    dispatching_ = true;
    dispatch_pending();
    dispatching_ = false;
  }

  void dispatch_pending() {
    if (no_worker_) fail_if_no_worker();
    while (!pending_.empty() && !interrupted_) {
      if (spec_.mode == "spawn") {
        if (running_ >= spec_.workers) return;
        const std::size_t j = pending_.front();
        pending_.pop_front();
        launch(j);
      } else {
        const int s = idle_slot();
        if (s < 0) return;
        const std::size_t j = pending_.front();
        pending_.pop_front();
        send(j, s);
      }
    }
  }

  void begin_attempt(std::size_t j) {
    JobRecord& r = records_[j];
    ++r.attempts;
    r.dispatched_ms = now_ms();
    if (r.attempts == 1 && cancel_ids_.count(r.id))
      live_[j].cancel_timer =
          session_.call_at(Clock::now() + spec_.cancel.after, [this, j] { cancel_job(j); });
  }

  void launch(std::size_t j) {
    begin_attempt(j);
    ProcessSpec ps;
    try {
      ps = plan_.spawn_process(records_[j]);
    } catch (const std::exception& e) {
      fail(j, "spawn", bounded(e.what()));
      return;
    }
    ps.timeout = spec_.timeout;
    ++running_;
    const int h = session_.add(ps, this);
    live_[j].handle = h;
    handle_job_[h] = j;
    records_[j].worker = h;
  }

  int idle_slot() const {
    int best = -1;
    for (std::size_t s = 0; s < slots_.size(); ++s) {
      const Slot& sl = slots_[s];
      if (sl.handle < 0 || !sl.ready || sl.retiring || sl.job) continue;
      // The one idle longest: work spreads over the workers instead of piling on the first.
      if (best < 0 || sl.idle_since < slots_[static_cast<std::size_t>(best)].idle_since)
        best = static_cast<int>(s);
    }
    return best;
  }

  void send(std::size_t j, int s) {
    Slot& sl = slots_[static_cast<std::size_t>(s)];
    begin_attempt(j);
    sl.job = j;
    live_[j].slot = s;
    records_[j].worker = s;
    records_[j].pid = session_.pid(sl.handle);
    const unsigned attempt = static_cast<unsigned>(records_[j].attempts);
    live_[j].timeout_timer = session_.call_at(Clock::now() + spec_.timeout, [this, j, attempt] {
      live_[j].timeout_timer = 0;
      if (records_[j].attempts != static_cast<int>(attempt) || live_[j].slot < 0) return;
      // Retired first: a job that fails for good lets the closed loop submit the next one,
      // which must not go to this worker.
      retire(live_[j].slot);
      fail(j, "timeout", fmt::format("no answer within {} ms", spec_.timeout.count()));
      try_dispatch();
      maybe_finish();
    });
    std::string line;
    try {
      line = plan_.pool_line(records_[j]);
    } catch (const std::exception& e) {
      fail(j, "spawn", bounded(e.what()));
      return;
    }
    // A worker that closed its stdin cannot take the job; its exit fails it as a crash.
    session_.write_line(sl.handle, line);
  }

  void cancel_job(std::size_t j) {
    live_[j].cancel_timer = 0;
    if (!records_[j].status.empty()) return;
    records_[j].cancel_sent = true;
    if (spec_.mode == "spawn") {
      if (live_[j].handle < 0 || !session_.running(live_[j].handle)) return;
      live_[j].cancelling = true;
      session_.stop(live_[j].handle);
      return;
    }
    const int s = live_[j].slot;
    if (s < 0) return;
    session_.write_line(slots_[static_cast<std::size_t>(s)].handle,
                        nlohmann::json{{"cancel", records_[j].id}}.dump());
    const std::int64_t id = records_[j].id;
    live_[j].cancel_timer = session_.call_at(Clock::now() + plan_.cancel_grace, [this, j, s, id] {
      live_[j].cancel_timer = 0;
      if (!records_[j].status.empty() || records_[j].id != id || live_[j].slot != s) return;
      live_[j].cancelling = true;
      retire(s);
      finish(j, "cancelled");
      records_[j].error = "the worker did not answer the cancel within the grace; stopped";
      try_dispatch();
      maybe_finish();
    });
  }

  // --- pool workers ---

  void start_worker(int s) {
    Slot& sl = slots_[static_cast<std::size_t>(s)];
    if (interrupted_ || finishing_) return;
    ProcessSpec ps;
    try {
      ps = plan_.pool_process(s);
    } catch (const std::exception& e) {
      sl.dead = true;
      dead_reason_ = bounded(e.what());
      if (std::all_of(slots_.begin(), slots_.end(), [](const Slot& x) { return x.dead; }))
        no_worker_ = true;
      return;
    }
    ps.stdin_open = true;
    ps.stdin_data.reset();
    ps.timeout = ms{0};  // it lives for the stream; jobs have their own timeout
    sl = Slot{-1, false, false, std::nullopt, sl.start_failures, false, 0, now_ms()};
    sl.handle = session_.add(ps, this);
    handle_slot_[sl.handle] = s;
    sl.ready_timer = session_.call_at(Clock::now() + plan_.ready_timeout, [this, s] {
      Slot& w = slots_[static_cast<std::size_t>(s)];
      w.ready_timer = 0;
      if (!w.ready && w.handle >= 0) retire(s);
    });
  }

  void retire(int s) {
    Slot& sl = slots_[static_cast<std::size_t>(s)];
    if (sl.handle < 0 || sl.retiring) return;
    sl.retiring = true;
    session_.stop(sl.handle);
  }

  void pool_event(int handle, const Event& ev) {
    const auto it = handle_slot_.find(handle);
    if (it == handle_slot_.end()) return;
    const int s = it->second;
    Slot& sl = slots_[static_cast<std::size_t>(s)];
    if (ev.type == "ready" && sl.handle == handle && !sl.ready) {
      sl.ready = true;
      sl.start_failures = 0;
      sl.idle_since = now_ms();
      if (sl.ready_timer) session_.cancel_timer(std::exchange(sl.ready_timer, 0));
      begin_if_workers_ready();
      try_dispatch();
      return;
    }
    if (!ev.body.contains("job")) return;
    const bool terminal = ev.type == "result" || ev.type == "error";
    const std::optional<std::size_t> j = job_of(ev.body["job"]);
    if (!j || !(sl.job && *sl.job == *j)) {
      if (terminal) {
        if (j && !records_[*j].status.empty())
          ++duplicates_;
        else
          ++stray_;
      }
      return;
    }
    JobRecord& r = records_[*j];
    if (r.first_event_ms < 0) r.first_event_ms = now_ms();
    if (ev.type == "progress") ++r.progress;
    if (ev.type == "error") {
      fail(*j, "error", error_text(ev));
    } else if (ev.type == "result") {
      const std::string status = ev.body.value("status", std::string("success"));
      if (status == "success")
        finish(*j, "success");
      else if (status == "cancelled")
        finish(*j, "cancelled");
      else
        fail(*j, "error", bounded("result status " + status));
    }
    try_dispatch();
    maybe_finish();
  }

  void pool_exit(int handle, const ProcessResult& res) {
    const auto it = handle_slot_.find(handle);
    if (it == handle_slot_.end()) return;
    const int s = it->second;
    Slot& sl = slots_[static_cast<std::size_t>(s)];
    if (sl.handle != handle) return;
    if (sl.ready_timer) session_.cancel_timer(std::exchange(sl.ready_timer, 0));
    // The slot has no worker from here on: ending the job below may dispatch the next one.
    const bool started = sl.ready;
    sl.handle = -1;
    sl.ready = false;
    if (sl.job) {
      const std::size_t j = *sl.job;
      sl.job.reset();
      live_[j].slot = -1;
      if (res.cancelled)
        finish(j, "interrupted");
      else if (live_[j].cancelling)
        finish(j, "cancelled");
      else
        fail(j, "crash",
             bounded("the worker " + describe_end(res) + " while serving it" +
                     (res.err.tail.empty() ? "" : " (stderr: " + last_line(res.err.tail) + ")")));
    }
    if (interrupted_ || finishing_) return;
    if (!started && ++sl.start_failures >= kStartFailuresPerSlot) {
      sl.dead = true;
      dead_reason_ = bounded(
          "it " + describe_end(res) + " before `ready` " + std::to_string(sl.start_failures) +
          " times" + (res.err.tail.empty() ? "" : " (stderr: " + last_line(res.err.tail) + ")"));
      if (std::all_of(slots_.begin(), slots_.end(), [](const Slot& x) { return x.dead; }))
        no_worker_ = true;
      begin_if_workers_ready();
      return;
    }
    ++restarts_;
    start_worker(s);
  }

  // Every slot was given up: what waits for a worker fails.
  void fail_if_no_worker() {
    while (!pending_.empty()) {
      const std::size_t j = pending_.front();
      pending_.pop_front();
      records_[j].failure = "spawn";
      records_[j].error = "no pool worker could start: " + dead_reason_;
      finish(j, "failed");
    }
  }

  std::optional<std::size_t> job_of(const nlohmann::json& id) const {
    if (!id.is_number_integer()) return std::nullopt;
    const auto v = id.get<std::int64_t>();
    if (v < 1 || static_cast<std::size_t>(v) > records_.size()) return std::nullopt;
    return static_cast<std::size_t>(v - 1);
  }

  // --- spawned jobs ---

  void spawn_event(int handle, const Event& ev) {
    const auto it = handle_job_.find(handle);
    if (it == handle_job_.end()) return;
    const std::size_t j = it->second;
    JobRecord& r = records_[j];
    if (r.first_event_ms < 0) r.first_event_ms = now_ms();
    if (ev.type == "progress") ++r.progress;
    if (ev.type == "error" && live_[j].answer.empty()) live_[j].answer = "error: " + error_text(ev);
    if (ev.type == "result") {
      const std::string status = ev.body.value("status", std::string("success"));
      if (status != "success" && live_[j].answer.empty()) live_[j].answer = status;
    }
  }

  void spawn_exit(int handle, const ProcessResult& res) {
    const auto it = handle_job_.find(handle);
    if (it == handle_job_.end()) return;
    const std::size_t j = it->second;
    handle_job_.erase(it);
    --running_;
    Live& l = live_[j];
    l.handle = -1;
    const std::string answer = std::exchange(l.answer, std::string());
    if (res.cancelled) {
      finish(j, "interrupted");
    } else if (l.cancelling || answer == "cancelled") {
      finish(j, "cancelled");
    } else if (!res.spawn_error.empty()) {
      fail(j, "spawn", bounded(res.spawn_error));
    } else if (res.timed_out) {
      fail(j, "timeout", fmt::format("still running after {} ms", spec_.timeout.count()));
    } else if (res.signal) {
      fail(j, "crash", "killed by " + signal_name(*res.signal));
    } else if (answer.rfind("error: ", 0) == 0) {
      fail(j, "error", answer.substr(7));
    } else if (res.exit_code.value_or(-1) != 0) {
      const std::string err = last_line(res.err.tail);
      fail(j, "exit", bounded(describe_end(res) + (err.empty() ? "" : ": " + err)));
    } else if (!answer.empty()) {
      fail(j, "error", bounded("result status " + answer));
    } else {
      finish(j, "success");
    }
  }

  // --- endings ---

  void stop_timers(std::size_t j) {
    Live& l = live_[j];
    if (l.timeout_timer) session_.cancel_timer(std::exchange(l.timeout_timer, 0));
    if (l.cancel_timer) session_.cancel_timer(std::exchange(l.cancel_timer, 0));
  }

  void release_slot(std::size_t j) {
    const int s = live_[j].slot;
    if (s < 0) return;
    Slot& sl = slots_[static_cast<std::size_t>(s)];
    if (sl.job && *sl.job == j) {
      sl.job.reset();
      sl.idle_since = now_ms();
    }
    live_[j].slot = -1;
  }

  void fail(std::size_t j, const std::string& kind, std::string message) {
    stop_timers(j);
    release_slot(j);
    JobRecord& r = records_[j];
    r.failure = kind;
    r.error = std::move(message);
    const bool retried =
        std::find(spec_.retry.on.begin(), spec_.retry.on.end(), kind) != spec_.retry.on.end();
    if (!retried || r.attempts > spec_.retry.max || interrupted_ || no_worker_) {
      finish(j, "failed");
      return;
    }
    ++retries_;
    if (spec_.retry.backoff.count() == 0) {
      pending_.push_front(j);
      return;
    }
    ++backing_off_;
    session_.call_at(Clock::now() + spec_.retry.backoff, [this, j] {
      --backing_off_;
      if (interrupted_) {
        finish(j, "not_run");
      } else if (no_worker_) {
        finish(j, "failed");
      } else {
        pending_.push_front(j);
        try_dispatch();
      }
      maybe_finish();
    });
  }

  void finish(std::size_t j, const std::string& status) {
    stop_timers(j);
    release_slot(j);
    JobRecord& r = records_[j];
    if (!r.status.empty()) return;
    r.status = status;
    r.ended_ms = now_ms();  // failure and error stay: a retried job's earlier attempt failed so
    ++ended_;
    if (spec_.arrival.kind == ArrivalSpec::Kind::closed && may_submit_closed()) submit(now_ms());
  }

  void maybe_finish() {
    if (finishing_ || (!arrivals_begun_ && !interrupted_)) return;
    if (no_worker_) fail_if_no_worker();
    const bool arrivals_done = spec_.arrival.kind == ArrivalSpec::Kind::closed
                                   ? !may_submit_closed()
                                   : next_offset_ >= offsets_.size();
    if (!interrupted_ && (!arrivals_done || ended_ < records_.size() || backing_off_ > 0)) return;
    if (interrupted_ && running_jobs() > 0) return;
    finishing_ = true;
    if (end_timer_) session_.cancel_timer(std::exchange(end_timer_, 0));
    if (arrival_timer_) session_.cancel_timer(std::exchange(arrival_timer_, 0));
    for (Slot& sl : slots_) {
      if (sl.ready_timer) session_.cancel_timer(std::exchange(sl.ready_timer, 0));
      if (sl.handle >= 0) session_.close_stdin(sl.handle);  // EOF: a pool worker exits
    }
  }

  std::size_t running_jobs() const {
    std::size_t n = 0;
    for (std::size_t j = 0; j < records_.size(); ++j)
      n += records_[j].status.empty() && (live_[j].handle >= 0 || live_[j].slot >= 0);
    return n;
  }

  void interrupt() {
    interrupted_ = true;
    interrupted_ms_ = now_ms();
    if (arrival_timer_) session_.cancel_timer(std::exchange(arrival_timer_, 0));
    while (!pending_.empty()) {
      finish(pending_.front(), "not_run");
      pending_.pop_front();
    }
    maybe_finish();
  }

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
};

}  // namespace

JobStreamOutcome run_job_stream(Supervisor& supervisor, const JobPlan& plan,
                                ProcessObserver* relay) {
  return JobStream(supervisor, plan, relay).run();
}

}  // namespace harness
