// A pool's persistent workers: started, fed one job line at a time, asked to cancel, restarted
// when they crash, hang or are stopped (job_stream_impl.hpp).
#include <algorithm>

#include <fmt/format.h>

#include "harness/jobs/job_stream_impl.hpp"
#include "harness/judge/failure_text.hpp"

namespace harness::detail {

using ms = std::chrono::milliseconds;

int JobStream::idle_slot() const {
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

void JobStream::send(std::size_t j, int s) {
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

void JobStream::cancel_job(std::size_t j) {
  live_[j].cancel_timer = 0;
  if (!records_[j].status.empty()) return;
  records_[j].cancel_sent = true;
  if (spec_.mode == "queue") {
    queue_cancel(j);
    return;
  }
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

void JobStream::start_worker(int s) {
  Slot& sl = slots_[static_cast<std::size_t>(s)];
  if (interrupted_ || finishing_) return;
  ProcessSpec ps;
  try {
    ps = spec_.mode == "queue" ? plan_.agent_process(s, redis_url_, queue_name_)
                               : plan_.pool_process(s);
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

void JobStream::retire(int s) {
  Slot& sl = slots_[static_cast<std::size_t>(s)];
  if (sl.handle < 0 || sl.retiring) return;
  sl.retiring = true;
  session_.stop(sl.handle);
}

void JobStream::pool_event(int handle, const Event& ev) {
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

void JobStream::pool_exit(int handle, const ProcessResult& res) {
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

void JobStream::fail_if_no_worker() {
  while (!pending_.empty()) {
    const std::size_t j = pending_.front();
    pending_.pop_front();
    records_[j].failure = "spawn";
    records_[j].error = "no pool worker could start: " + dead_reason_;
    finish(j, "failed");
  }
}

std::optional<std::size_t> JobStream::job_of(const nlohmann::json& id) const {
  if (!id.is_number_integer()) return std::nullopt;
  const auto v = id.get<std::int64_t>();
  if (v < 1 || static_cast<std::size_t>(v) > records_.size()) return std::nullopt;
  return static_cast<std::size_t>(v - 1);
}

}  // namespace harness::detail
