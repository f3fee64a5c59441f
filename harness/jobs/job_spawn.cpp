// Spawned jobs: a process per attempt, judged by its exit and its events (job_stream_impl.hpp).
#include <fmt/format.h>

#include "harness/jobs/job_stream_impl.hpp"
#include "harness/jobs/spawn_verdict.hpp"
#include "harness/judge/failure_text.hpp"

namespace harness::detail {

void JobStream::launch(std::size_t j) {
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

void JobStream::spawn_event(int handle, const Event& ev) {
  const auto it = handle_job_.find(handle);
  if (it == handle_job_.end()) return;
  const std::size_t j = it->second;
  JobRecord& r = records_[j];
  if (r.first_event_ms < 0) r.first_event_ms = now_ms();
  if (ev.type == "progress") ++r.progress;
  note_spawned_event(ev, live_[j].answer);
}

void JobStream::spawn_exit(int handle, const ProcessResult& res) {
  const auto it = handle_job_.find(handle);
  if (it == handle_job_.end()) return;
  const std::size_t j = it->second;
  handle_job_.erase(it);
  --running_;
  Live& l = live_[j];
  l.handle = -1;
  const std::string answer = std::exchange(l.answer, std::string());
  const SpawnVerdict v = judge_spawned(res, answer, l.cancelling, spec_.timeout);
  if (v.status == "failed")
    fail(j, v.failure, v.error);
  else
    finish(j, v.status);
}

}  // namespace harness::detail

namespace harness {

void note_spawned_event(const Event& ev, std::string& answer) {
  if (!answer.empty()) return;
  if (ev.type == "error") answer = "error: " + detail::error_text(ev);
  if (ev.type == "result") {
    const std::string status = ev.body.value("status", std::string("success"));
    if (status != "success") answer = status;
  }
}

SpawnVerdict judge_spawned(const ProcessResult& res, const std::string& answer, bool cancelling,
                           std::chrono::milliseconds timeout) {
  using detail::bounded;
  if (res.cancelled) return {"interrupted", "", ""};
  if (cancelling || answer == "cancelled") return {"cancelled", "", ""};
  if (!res.spawn_error.empty()) return {"failed", "spawn", bounded(res.spawn_error)};
  if (res.timed_out)
    return {"failed", "timeout", fmt::format("still running after {} ms", timeout.count())};
  if (res.signal) return {"failed", "crash", "killed by " + signal_name(*res.signal)};
  if (answer.rfind("error: ", 0) == 0) return {"failed", "error", answer.substr(7)};
  if (res.exit_code.value_or(-1) != 0) {
    const std::string err = last_line(res.err.tail);
    return {"failed", "exit", bounded(detail::describe_end(res) + (err.empty() ? "" : ": " + err))};
  }
  if (!answer.empty()) return {"failed", "error", bounded("result status " + answer)};
  return {"success", "", ""};
}

}  // namespace harness
