#include <sys/resource.h>

#include <algorithm>

#include <fmt/format.h>

#include "harness/jobs/job_stream_impl.hpp"
#include "harness/judge/failure_text.hpp"

namespace harness {
namespace detail {

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

JobStreamOutcome JobStream::run() {
  t0_ = Clock::now();
  session_.on_cancel([this] { interrupt(); });
  if (spec_.workers < 1 &&
      (spec_.mode != "queue" || spec_.queue.redis == "auto" || spec_.queue.name.empty()))
    throw std::invalid_argument(
        "jobs.workers: 0 (agents started elsewhere) needs mode queue, a jobs.queue.redis URL and "
        "a jobs.queue.name; mode is " +
        spec_.mode);
  if (spec_.mode == "queue") queue_start();
  if (spec_.mode != "spawn") {
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
  for (std::size_t i = closed ? records_.size() : next_offset_; interrupted_ && i < planned; ++i) {
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
  out.jobs.faults = std::move(faults_done_);
  out.jobs.reclaim_ms = std::move(reclaim_ms_);
  broker_.reset();  // stopped (its AOF and log stay in the run's folder)
  for (std::size_t h = 0; h < session_.size(); ++h) {
    ProcessResult p = session_.take_result(static_cast<int>(h));
    p.index = static_cast<int>(h);
    out.processes.push_back(std::move(p));
  }
  return out;
}

void JobStream::on_start(int handle, int pid) {
  if (auto it = handle_job_.find(handle); it != handle_job_.end()) records_[it->second].pid = pid;
  if (relay_) relay_->on_start(handle, pid);
}

void JobStream::on_event(int handle, const Event& ev) {
  if (relay_) relay_->on_event(handle, ev);
  if (spec_.mode != "spawn")  // pool workers, and queue agents (their `ready`)
    pool_event(handle, ev);
  else
    spawn_event(handle, ev);
}

void JobStream::on_exit(int handle, const ProcessResult& res) {
  if (relay_) relay_->on_exit(handle, res);
  if (spec_.mode != "spawn")
    pool_exit(handle, res);
  else
    spawn_exit(handle, res);
  try_dispatch();
  maybe_finish();
}

double JobStream::now_ms() const {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0_).count();
}

std::string JobStream::input_of(std::int64_t id) const {
  if (plan_.inputs.empty()) return "";
  return plan_.inputs[static_cast<std::size_t>(id - 1) % plan_.inputs.size()];
}

void JobStream::begin_arrivals() {
  if (arrivals_begun_ || interrupted_) return;
  arrivals_begun_ = true;
  t0_ = Clock::now();
  schedule_faults();  // `at` counts from here, as the jobs' times do
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

void JobStream::begin_if_workers_ready() {
  if (std::all_of(slots_.begin(), slots_.end(),
                  [](const Slot& s) { return s.dead || (s.handle >= 0 && s.ready); }))
    begin_arrivals();
}

bool JobStream::may_submit_closed() const {
  if (interrupted_ || schedule_over_) return false;
  // A duration-bound closed loop of instant jobs stops at the same 100000 jobs as a schedule.
  if (records_.size() >= kMaxJobs) return false;
  return spec_.count == 0 || records_.size() < static_cast<std::size_t>(spec_.count);
}

void JobStream::schedule_next() {
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

void JobStream::submit(double scheduled_ms) {
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

void JobStream::try_dispatch() {
  if (dispatching_) return;  // a job failing at once re-enters here: the loop below takes it
  dispatching_ = true;
  dispatch_pending();
  dispatching_ = false;
}

void JobStream::dispatch_pending() {
  if (no_worker_) fail_if_no_worker();
  while (!pending_.empty() && !interrupted_) {
    if (spec_.mode == "queue") {  // the broker holds the queue: every job goes at once
      const std::size_t j = pending_.front();
      pending_.pop_front();
      if (!enqueue(j)) return;  // the broker is away: the next poll tries again
    } else if (spec_.mode == "spawn") {
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

void JobStream::begin_attempt(std::size_t j) {
  JobRecord& r = records_[j];
  ++r.attempts;
  r.dispatched_ms = now_ms();
  if (r.attempts == 1 && cancel_ids_.count(r.id))
    live_[j].cancel_timer =
        session_.call_at(Clock::now() + spec_.cancel.after, [this, j] { cancel_job(j); });
}

void JobStream::stop_timers(std::size_t j) {
  Live& l = live_[j];
  if (l.timeout_timer) session_.cancel_timer(std::exchange(l.timeout_timer, 0));
  if (l.cancel_timer) session_.cancel_timer(std::exchange(l.cancel_timer, 0));
}

void JobStream::release_slot(std::size_t j) {
  const int s = live_[j].slot;
  if (s < 0) return;
  Slot& sl = slots_[static_cast<std::size_t>(s)];
  if (sl.job && *sl.job == j) {
    sl.job.reset();
    sl.idle_since = now_ms();
  }
  live_[j].slot = -1;
}

void JobStream::fail(std::size_t j, const std::string& kind, std::string message) {
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

void JobStream::finish(std::size_t j, const std::string& status) {
  stop_timers(j);
  release_slot(j);
  JobRecord& r = records_[j];
  if (!r.status.empty()) return;
  r.status = status;
  r.ended_ms = now_ms();  // failure and error stay: a retried job's earlier attempt failed so
  ++ended_;
  if (spec_.arrival.kind == ArrivalSpec::Kind::closed && may_submit_closed()) submit(now_ms());
}

void JobStream::maybe_finish() {
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
  if (poll_timer_) session_.cancel_timer(std::exchange(poll_timer_, 0));
  cancel_faults();
  for (Slot& sl : slots_) {
    if (sl.ready_timer) session_.cancel_timer(std::exchange(sl.ready_timer, 0));
    if (sl.handle < 0) continue;
    if (spec_.mode == "queue")
      session_.stop(sl.handle);  // SIGTERM: an agent exits once its running job ended
    else
      session_.close_stdin(sl.handle);  // EOF: a pool worker exits
  }
}

std::size_t JobStream::running_jobs() const {
  std::size_t n = 0;
  for (std::size_t j = 0; j < records_.size(); ++j)
    n += records_[j].status.empty() &&
         (live_[j].handle >= 0 || live_[j].slot >= 0 || live_[j].queued);
  return n;
}

void JobStream::interrupt() {
  interrupted_ = true;
  interrupted_ms_ = now_ms();
  if (arrival_timer_) session_.cancel_timer(std::exchange(arrival_timer_, 0));
  while (!pending_.empty()) {
    finish(pending_.front(), "not_run");
    pending_.pop_front();
  }
  // Queued jobs: their agents are being stopped with the rest; nothing more is read.
  for (std::size_t j = 0; j < records_.size(); ++j)
    if (live_[j].queued) {
      live_[j].queued = false;
      finish(j, live_[j].picked ? "interrupted" : "not_run");
    }
  maybe_finish();
}

}  // namespace detail

JobStreamOutcome run_job_stream(Supervisor& supervisor, const JobPlan& plan,
                                ProcessObserver* relay) {
  return detail::JobStream(supervisor, plan, relay).run();
}

}  // namespace harness
