// The session's loop: starting processes, stopping their trees by the stop policy, reaping, and
// finishing their results. Output, stdin, events and memory are in session_io.cpp.
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <set>
#include <stdexcept>
#include <system_error>

#include <boost/asio/post.hpp>

#include "harness/supervise/launcher.hpp"
#include "harness/supervise/sampler.hpp"
#include "harness/supervise/session_impl.hpp"

namespace harness {

using boost::system::error_code;
using namespace std::chrono_literals;

namespace {

// After the whole tree is gone the pipes hold at most what was written before; EOF follows at once
// unless a writer we could not attribute holds a pipe, so this only bounds that case.
constexpr auto kDrainTimeout = 500ms;
constexpr auto kHurryPoll = 50ms;

std::atomic<unsigned> g_session_seq{0};

}  // namespace

Instance::Instance(asio::io_context& ioc, int h, const ProcessSpec& s, std::string tok,
                   ProcessObserver* obs, std::function<void()> on_descendant_death)
    : handle(h),
      spec(s),
      token(std::move(tok)),
      observer(obs),
      start_timer(ioc),
      deadline_timer(ioc),
      stop_timer(ioc),
      drain_timer(ioc),
      sample_timer(ioc),
      out(ioc),
      err(ioc),
      in(ioc),
      tree(ioc, token, std::move(on_descendant_death)),
      capture(s.tail_bytes),
      pacer(static_cast<double>(s.smaps_interval.count())) {
  res.index = h;
  res.argv = s.argv;
  if (spec.stop.empty()) spec.stop = default_stop_policy(spec.grace);
}

Instance::~Instance() {
  // Only reached with a live root when the session is destroyed early (an exception unwound
  // it): leave nothing. The tree's destructor kills the descendants.
  if (pid > 0 && phase == Phase::running) {
    ::kill(-pid, SIGKILL);
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
}

Session::Impl::Impl(Supervisor& s)
    : sup(s),
      sampler(s.take_sampler()),
      seq(++g_session_seq),
      start_time(Clock::now()),
      lease(s),
      ioc(*lease.loop),
      wake(ioc),
      hurry_timer(ioc) {}

Session::Impl::~Impl() {
  insts.clear();  // kills what is left while the loop still exists
  if (wake.is_open()) wake.release();
  sup.return_sampler(std::move(sampler));
}

Instance& Session::Impl::at(int handle) const {
  if (handle < 0 || static_cast<std::size_t>(handle) >= insts.size())
    throw std::out_of_range("no process with handle " + std::to_string(handle));
  return *insts[static_cast<std::size_t>(handle)];
}

int Session::Impl::add(const ProcessSpec& spec, ProcessObserver* observer) {
  const int h = static_cast<int>(insts.size());
  std::string token =
      std::to_string(::getpid()) + "." + std::to_string(seq) + "." + std::to_string(h);
  insts.push_back(std::make_unique<Instance>(ioc, h, spec, std::move(token), observer,
                                             [this, h] { check_tree_gone(at(h)); }));
  Instance& in = *insts.back();
  ++unfinished;
  if (!wake.is_open()) arm_wake();
  if (sup.cancelled()) {
    in.res.cancelled = true;
    in.res.spawn_error = "not started: the run was cancelled";
    finish(in);
    return h;
  }
  if (spec.start_delay.count() <= 0) {  // no timer to arm: a post is cheaper
    asio::post(ioc, [this, &in] {
      if (in.phase == Phase::waiting) start(in);
    });
    return h;
  }
  in.start_timer.expires_at(Clock::now() + spec.start_delay);
  in.start_timer.async_wait([this, &in](error_code ec) {
    // A cancel handled in the same round as the expiry finished the instance after this handler
    // was queued: cancelling the timer then no longer turns it into an error.
    if (!ec && in.phase == Phase::waiting) start(in);
  });
  return h;
}

void Session::Impl::arm_wake() {
  // The supervisor's own fd, registered in this loop too (an fd may sit in several epolls); it
  // is released, never closed, when the session is done with it.
  wake.assign(sup.wake_fd());
  // Only cancel() writes the eventfd, after raising the count, and cancelling is sticky: the
  // count is never read back, so the fd stays readable and wakes every session that runs at the
  // same time on other threads (--jobs), not only the first to read it.
  wake.async_wait(asio::posix::descriptor_base::wait_read, [this](error_code ec) {
    if (!ec) on_wake();
  });
}

void Session::Impl::on_wake() {
  if (!sup.cancelled() || cancel_seen) return;
  cancel_seen = true;
  for (std::size_t i = 0; i < insts.size(); ++i) {
    Instance& in = *insts[i];
    if (in.phase == Phase::finished) continue;
    in.res.cancelled = true;
    if (in.phase == Phase::waiting) {
      in.start_timer.cancel();
      in.res.spawn_error = "not started: the run was cancelled";
      finish(in);
    } else if (!in.stopping) {
      begin_stop(in, Clock::now());
    }
  }
  if (cancel_hook) cancel_hook();
  watch_hurry();
}

// A second interrupt cuts every stop's grace short. The eventfd cannot tell the second cancel from
// the first (it is never read), so sessions that are stopping look at the count.
void Session::Impl::watch_hurry() {
  bool stopping = false;
  for (auto& ip : insts) {
    Instance& in = *ip;
    if (in.phase == Phase::finished || !in.stopping || in.tree_gone) continue;
    stopping = true;
    if (sup.hurried() && !in.stopping->done()) {
      in.stopping->hurry(Clock::now());
      in.stop_timer.cancel();
      step_stop(in);
    }
  }
  if (!stopping || sup.hurried()) return;
  hurry_timer.expires_after(kHurryPoll);
  hurry_timer.async_wait([this](error_code ec) {
    if (!ec) watch_hurry();
  });
}

void Session::Impl::start(Instance& in) {
  in.res.spawn_offset_ms = ms_between(start_time, Clock::now());
  Launched l;
  std::string error = launch(in.spec, in.token, l);
  if (!error.empty()) {
    in.res.spawn_error = std::move(error);
    finish(in);
    return;
  }
  in.phase = Phase::running;
  if (in.spec.log.enabled()) in.log = std::make_unique<InstanceLog>(in.spec.log);
  in.pid = l.pid;
  in.res.pid = l.pid;
  in.spawn_time = l.spawn_time;
  in.tree.set_root(l.pid);
  in.root_watch = std::make_unique<asio::posix::stream_descriptor>(ioc, l.pidfd.release());
  in.out.assign(l.stdout_r.release());
  in.err.assign(l.stderr_r.release());
  if (l.stdin_w.valid()) in.in.assign(l.stdin_w.release());
  if (in.observer) in.observer->on_start(in.handle, in.pid);
  read_stream(in, true);
  read_stream(in, false);
  if (in.in.is_open()) {
    if (in.spec.stdin_data && !in.spec.stdin_data->empty()) queue_stdin(in, *in.spec.stdin_data);
    if (!in.spec.stdin_open) close_stdin(in);
  }
  in.root_watch->async_wait(asio::posix::descriptor_base::wait_read, [this, &in](error_code ec) {
    if (!ec) on_root_exit(in);
  });
  if (in.spec.timeout.count() > 0) {
    in.deadline_timer.expires_at(in.spawn_time + in.spec.timeout);
    in.deadline_timer.async_wait([this, &in](error_code ec) {
      if (ec || in.stopping || in.phase != Phase::running) return;
      in.res.timed_out = true;
      begin_stop(in, in.spawn_time + in.spec.timeout);
    });
  }
  // The first sample is of the root alone: it has only just exec'd, a child it forks already
  // is caught by the next tick, and the tree walk is a third of the sample's cost.
  MemorySample first = sampler->sample({in.pid}, false);
  first.t_ms = ms_between(in.spawn_time, Clock::now());
  first.cpu_ms = in.cpu.add(first);
  in.memory.add(first, false);
  schedule_sample(in);
  if (sup.cancelled() && !in.stopping) {
    in.res.cancelled = true;
    begin_stop(in, Clock::now());
  }
}

void Session::Impl::begin_stop(Instance& in, Clock::time_point ref) {
  in.stopping.emplace(in.spec.stop, ref);
  step_stop(in);
  if (sup.hurried()) watch_hurry();
}

void Session::Impl::step_stop(Instance& in) {
  const auto action = in.stopping->next();
  if (!action) return;
  in.res.kill_signal = signal_name(action->signal);
  signal_tree(in, action->signal);
  if (!action->next_at) return;
  in.stop_timer.expires_at(*action->next_at);
  in.stop_timer.async_wait([this, &in](error_code ec) {
    if (!ec && in.phase != Phase::finished && !in.tree_gone) step_stop(in);
  });
}

void Session::Impl::signal_tree(Instance& in, int sig) {
  in.tree.refresh(in.phase == Phase::running);
  adopt_orphans();
  if (in.phase == Phase::running) {
    ::kill(-in.pid, sig);
    pidfd_send(in.root_watch->native_handle(), sig);
  }
  in.tree.signal_all(sig);
}

// Children of the harness that are not roots: orphans reparented to the subreaper. Each belongs
// to the instance whose process group or token it carries; others are another session's.
void Session::Impl::adopt_orphans() {
  std::set<int> roots;
  for (auto& ip : insts)
    if (ip->pid > 0) roots.insert(ip->pid);
  for (int child : own_children()) {
    if (roots.count(child)) continue;
    bool known = false;
    for (auto& ip : insts) known = known || ip->tree.knows(child);
    if (known) continue;
    const int pg = pgid_of(child);
    std::string tok;
    for (auto& ip : insts) {
      Instance& in = *ip;
      if (in.pid <= 0 || in.phase == Phase::finished || in.phase == Phase::waiting) continue;
      bool mine = pg == in.pid;
      if (!mine) {
        if (tok.empty()) tok = environ_token(child);
        mine = tok == in.token;
      }
      if (mine) {
        in.tree.adopt(child);
        break;
      }
    }
  }
}

void Session::Impl::on_root_exit(Instance& in) {
  int status = 0;
  rusage ru{};
  const int r = ::wait4(in.pid, &status, WNOHANG, &ru);
  if (r == 0) {  // not yet a zombie (spurious wakeup): wait again
    in.root_watch->async_wait(asio::posix::descriptor_base::wait_read, [this, &in](error_code ec) {
      if (!ec) on_root_exit(in);
    });
    return;
  }
  in.phase = Phase::reaped;
  in.res.wall_s = ms_between(in.spawn_time, Clock::now()) / 1000.0;
  if (r == in.pid) {
    if (WIFEXITED(status)) in.res.exit_code = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) in.res.signal = WTERMSIG(status);
    in.maxrss_kib = ru.ru_maxrss;  // KiB on Linux
    auto ms = [](const timeval& tv) {
      return static_cast<double>(tv.tv_sec) * 1e3 + static_cast<double>(tv.tv_usec) / 1e3;
    };
    in.root_user_ms = ms(ru.ru_utime);
    in.root_system_ms = ms(ru.ru_stime);
  } else {
    in.res.spawn_error =
        "lost track of process " + std::to_string(in.pid) + ": wait4: " + std::strerror(errno);
  }
  in.sample_timer.cancel();
  in.deadline_timer.cancel();
  // What is still alive now outlived its root. Without a stop in progress it is a leftover,
  // killed at once; during a stop it already got the stop signal and the remaining steps deal
  // with it (a descendant found only now gets the current step's signal too).
  in.tree.refresh(false);
  adopt_orphans();
  if (in.stopping)
    in.tree.signal_all(in.stopping->last_signal());
  else
    in.res.leftover_processes += in.tree.kill_unkilled();
  schedule_poll(in);
  check_tree_gone(in, true);
}

void Session::Impl::check_tree_gone(Instance& in, bool just_scanned) {
  if (in.phase != Phase::reaped || in.tree_gone || !in.tree.all_dead()) return;
  // Last look for stragglers forked just before their parents died. The kernel reparents a
  // dying process's children before its death is visible, so right after a scan there is none.
  const std::size_t before = in.tree.size();
  if (!just_scanned) adopt_orphans();
  if (in.tree.size() != before) {
    if (in.stopping)
      in.tree.signal_all(in.stopping->last_signal());
    else
      in.res.leftover_processes += in.tree.kill_unkilled();
    if (!in.tree.all_dead()) return;
  }
  in.tree.close();
  if (in.stopping) in.res.kill_latency_ms = ms_between(in.stopping->last_due(), Clock::now());
  in.stop_timer.cancel();
  error_code ignored;
  in.root_watch->close(ignored);
  in.tree_gone = true;
  // Every writer we know of is dead, so the reads reach EOF right after what the pipes hold.
  // A writer beyond reach (it cleared its environment and left the group) must not keep us:
  // after kDrainTimeout the pipes are closed.
  if (in.out.is_open() || in.err.is_open()) {
    in.drain_timer.expires_after(kDrainTimeout);
    in.drain_timer.async_wait([this, &in](error_code ec) {
      if (ec) return;
      stream_closed(in, true);
      stream_closed(in, false);
    });
  }
  maybe_finish(in);
}

void Session::Impl::maybe_finish(Instance& in) {
  if (in.phase == Phase::finished || in.out.is_open() || in.err.is_open()) return;
  if (in.pid > 0 && !in.tree_gone) return;
  finish(in);
}

void Session::Impl::finish(Instance& in) {
  in.phase = Phase::finished;
  error_code ignored;
  in.in.close(ignored);
  in.stdin_queue.clear();
  in.stdin_bytes = 0;
  for (auto* t :
       {&in.start_timer, &in.sample_timer, &in.deadline_timer, &in.stop_timer, &in.drain_timer})
    t->cancel();
  in.capture.finish(in.res);
  if (in.log) {
    in.log->finish(in.res.out, in.res.err, ms_between(in.spawn_time, Clock::now()));
    in.res.log_file = in.log->written_path();
    in.log.reset();
  }
  in.events.finish(in.res);
  in.memory.finish(in.maxrss_kib);
  in.res.memory = in.memory.take();
  const bool reaped = in.root_user_ms >= 0;
  in.res.cpu = in.cpu.finish(reaped ? in.root_user_ms + in.tree.reaped_user_ms() : -1,
                             reaped ? in.root_system_ms + in.tree.reaped_system_ms() : -1,
                             in.res.wall_s, in.res.memory.samples);
  if (in.observer) in.observer->on_exit(in.handle, in.res);
  if (--unfinished == 0) {
    wake.release();
    hurry_timer.cancel();
  }
}

}  // namespace harness
