// Spawned jobs: a process per attempt, judged by its exit and its events (job_stream_impl.hpp).
#include <fmt/format.h>

#include "harness/jobs/job_stream_impl.hpp"
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
  if (ev.type == "error" && live_[j].answer.empty()) live_[j].answer = "error: " + error_text(ev);
  if (ev.type == "result") {
    const std::string status = ev.body.value("status", std::string("success"));
    if (status != "success" && live_[j].answer.empty()) live_[j].answer = status;
  }
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

}  // namespace harness::detail
