// The session's data paths: reading stdout/stderr into the capture, protocol events and the
// memory samples they trigger, periodic sampling, and the stdin queue of long-lived workers.
#include <algorithm>

#include <boost/asio/write.hpp>

#include "harness/supervise/sampler.hpp"
#include "harness/supervise/session_impl.hpp"

namespace harness {

using boost::system::error_code;

namespace {

// How often descendants tracked without a pidfd are checked for death once the root is gone.
constexpr auto kPollInterval = std::chrono::milliseconds(10);

// Whether a periodic PSS/USS read is due: smaps_interval apart at least, further when the reads
// of this worker would cost more than the pacer's budget (sampler.hpp).
bool smaps_due(const Instance& in) {
  return in.spec.smaps_interval.count() > 0 &&
         in.pacer.due(ms_between(in.spawn_time, Clock::now()));
}

}  // namespace

void Session::Impl::read_stream(Instance& in, bool is_out) {
  auto& pipe = is_out ? in.out : in.err;
  char* buf = (is_out ? in.out_buf : in.err_buf).get();
  pipe.async_read_some(asio::buffer(buf, Instance::kReadChunk), [this, &in, is_out, buf](
                                                                    error_code ec, std::size_t n) {
    if (n > 0) {
      const std::string_view data(buf, n);
      if (is_out)
        in.capture.add_stdout(data, [&](Event&& ev) { on_event(in, std::move(ev)); });
      else
        in.capture.add_stderr(data);
      if (in.log) in.log->add(!is_out, data, ms_between(in.spawn_time, Clock::now()));
    }
    if (ec) {
      stream_closed(in, is_out);
      return;
    }
    read_stream(in, is_out);
  });
}

void Session::Impl::stream_closed(Instance& in, bool is_out) {
  auto& pipe = is_out ? in.out : in.err;
  if (!pipe.is_open()) return;
  error_code ignored;
  pipe.close(ignored);
  if (is_out) in.capture.stdout_closed([&](Event&& ev) { on_event(in, std::move(ev)); });
  maybe_finish(in);
}

void Session::Impl::on_event(Instance& in, Event ev) {
  ev.t_ms = ms_between(in.spawn_time, Clock::now());
  const bool alive = in.phase == Phase::running;
  if (ev.type == "started" && alive && !in.memory.has_baseline() && !in.res.ready_ms) {
    in.memory.at_started(take_sample(in, false));
  } else if (ev.type == "ready" && !in.res.ready_ms) {
    in.res.ready_ms = ev.t_ms;
    in.memory.baseline_from_last_sample();
    if (alive) in.memory.at_ready(take_sample(in, true));
  } else if (ev.type == "result" && alive) {
    // The first result's PSS/USS are the worker's final figures. A pool worker answers a result
    // per job: reading smaps (~3.6 ms for 300 MiB) for each would add that to every job's
    // latency on this loop, so later ones wait for the smaps interval like periodic reads.
    const bool smaps = !in.result_sampled || smaps_due(in);
    in.result_sampled = true;
    take_sample(in, smaps);
  }
  if (in.observer) in.observer->on_event(in.handle, ev);
  in.events.add(std::move(ev));
}

bool Session::Impl::queue_stdin(Instance& in, std::string text) {
  if (!in.in.is_open() || in.stdin_close_after) return false;
  in.stdin_bytes += text.size();
  in.stdin_queue.push_back(std::move(text));
  if (!in.stdin_writing) write_next(in);
  return true;
}

void Session::Impl::write_next(Instance& in) {
  if (in.stdin_queue.empty()) {
    in.stdin_writing = false;
    if (in.stdin_close_after) {
      error_code ignored;
      in.in.close(ignored);
    }
    return;
  }
  in.stdin_writing = true;
  asio::async_write(in.in, asio::buffer(in.stdin_queue.front()),
                    [this, &in](error_code ec, std::size_t) {
                      if (in.stdin_queue.empty()) return;  // finished meanwhile
                      in.stdin_bytes -= in.stdin_queue.front().size();
                      in.stdin_queue.pop_front();
                      if (ec) {  // EPIPE: the worker closed its stdin or exited
                        in.stdin_queue.clear();
                        in.stdin_bytes = 0;
                        in.stdin_writing = false;
                        error_code ignored;
                        in.in.close(ignored);
                        return;
                      }
                      write_next(in);
                    });
}

void Session::Impl::close_stdin(Instance& in) {
  in.stdin_close_after = true;
  if (!in.stdin_writing) write_next(in);
}

void Session::Impl::schedule_sample(Instance& in) {
  in.sample_timer.expires_after(std::max(in.spec.sample_interval, std::chrono::milliseconds(1)));
  in.sample_timer.async_wait([this, &in](error_code ec) {
    if (ec || in.phase != Phase::running) return;
    take_sample(in, smaps_due(in));
    if (in.tree.has_fdless()) in.tree.poll();
    schedule_sample(in);
  });
}

MemorySample Session::Impl::take_sample(Instance& in, bool with_smaps) {
  const double cpu_start = thread_cpu_ms();
  std::vector<int> pids = in.tree.refresh(in.phase == Phase::running);
  MemorySample s;
  std::vector<ProcessRow> rows;
  if (!pids.empty()) s = sampler->sample(pids, with_smaps, with_smaps ? &rows : nullptr);
  s.t_ms = ms_between(in.spawn_time, Clock::now());
  if (s.cpu_ms >= 0) s.cpu_ms += in.tree.reaped_user_ms() + in.tree.reaped_system_ms();
  s.cpu_ms = in.cpu.add(s);
  if (with_smaps && !rows.empty()) in.cpu.add_rows(s.t_ms, s.pss_kib, std::move(rows));
  // What this sample cost the loop (tree walk, stat reads, smaps), so that the pacer keeps the
  // sampling of this worker under its budget of a core.
  const double cost_ms = thread_cpu_ms() - cpu_start;
  if (with_smaps)
    in.pacer.record(s.t_ms, cost_ms);
  else
    in.pacer.tick(cost_ms);
  in.memory.add(s, with_smaps, with_smaps ? vm_hwm_kib(in.pid) : -1);
  return s;
}

// Descendants without a pidfd send no wakeup when they die: look again until they are gone.
void Session::Impl::schedule_poll(Instance& in) {
  if (!in.tree.has_fdless() || in.tree_gone) return;
  in.sample_timer.expires_after(kPollInterval);
  in.sample_timer.async_wait([this, &in](error_code ec) {
    if (ec || in.tree_gone) return;
    in.tree.poll();
    schedule_poll(in);
  });
}

}  // namespace harness
