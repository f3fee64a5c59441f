// jobs.faults: what the run does to its own processes at given times, so a design's answer to an
// agent, a worker or the broker dying is measured on the same jobs as its good days.
//
// Every fault is a SIGKILL (no chance to clean up, as a crash or the OOM killer gives none).
// What it hit, or why it was skipped (a kill_agent outside queue mode, nothing running), goes
// to the report. A kill_agent marks the jobs its agent was running; their next pickup by an
// agent gives the reclaim latency (kill to takeover: the lease, then the autoclaim).
#include <signal.h>

#include <cerrno>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "harness/jobs/job_stream_impl.hpp"

namespace harness::detail {

namespace {

// The children of `pid` (every thread's), from /proc: a process the run does not supervise
// itself (an agent's job) is found below the process it does.
std::vector<int> children_of(int pid) {
  std::vector<int> out;
  std::error_code ec;
  const std::string task = "/proc/" + std::to_string(pid) + "/task";
  for (const auto& t : std::filesystem::directory_iterator(task, ec)) {
    std::ifstream in(t.path() / "children");
    int child = 0;
    while (in >> child) out.push_back(child);
  }
  return out;
}

std::string comm_of(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/comm");
  std::string name;
  std::getline(in, name);
  return name;
}

}  // namespace

void JobStream::schedule_faults() {
  for (std::size_t i = 0; i < spec_.faults.size(); ++i)
    fault_timers_.push_back(session_.call_at(t0_ + spec_.faults[i].at, [this, i] {
      fault_timers_[i] = 0;
      apply_fault(spec_.faults[i]);
    }));
}

void JobStream::cancel_faults() {
  for (std::size_t i = 0; i < fault_timers_.size(); ++i) {
    if (fault_timers_[i] == 0) continue;
    session_.cancel_timer(std::exchange(fault_timers_[i], 0));
    JobsResult::Fault skipped;
    skipped.at_ms = static_cast<double>(spec_.faults[i].at.count());
    skipped.kind = fault_kind_name(spec_.faults[i].kind);
    skipped.target = spec_.faults[i].target;
    skipped.what = "not done: the stream ended first";
    faults_done_.push_back(skipped);
  }
}

void JobStream::apply_fault(const FaultStep& f) {
  JobsResult::Fault done;
  done.at_ms = now_ms();
  done.kind = fault_kind_name(f.kind);
  done.target = f.kind == FaultStep::Kind::restart_broker ? 0 : f.target;
  auto skip = [&](std::string why) {
    done.what = std::move(why);
    faults_done_.push_back(done);
  };
  if (interrupted_ || finishing_) return skip("the stream had ended");
  // The slot a fault hits: the one named, or the first with a process (kill_agent) or a job.
  auto slot_with = [&](bool need_job) -> int {
    for (std::size_t s = 0; s < slots_.size(); ++s) {
      const int want = f.target < 0 ? static_cast<int>(s) : f.target;
      if (want != static_cast<int>(s)) continue;
      const Slot& sl = slots_[s];
      if (sl.handle < 0 || !session_.running(sl.handle)) continue;
      if (need_job && spec_.mode == "pool" && !sl.job) continue;
      if (need_job && spec_.mode == "queue" && !agent_busy(static_cast<int>(s))) continue;
      return static_cast<int>(s);
    }
    return -1;
  };

  switch (f.kind) {
    case FaultStep::Kind::kill_agent: {
      if (spec_.mode != "queue") return skip("no agents: the mode is " + spec_.mode);
      const int s = slot_with(false);
      if (s < 0) return skip("no such agent running");
      const int pid = session_.pid(slots_[static_cast<std::size_t>(s)].handle);
      std::size_t running = 0;
      const std::string name = "agent" + std::to_string(s);
      for (std::size_t j = 0; j < records_.size(); ++j)
        if (live_[j].queued && live_[j].picked && records_[j].agent == name) {
          live_[j].reclaim_from = Clock::now();
          ++running;
        }
      if (::kill(pid, SIGKILL) != 0) return skip(fmt::format("kill({}): {}", pid, errno));
      done.target = s;
      done.applied = true;
      done.what = fmt::format("agent {} (pid {}), {} job(s) running", s, pid, running);
      break;
    }
    case FaultStep::Kind::kill_worker: {
      int pid = -1;
      std::string whose;
      if (spec_.mode == "spawn") {
        for (std::size_t j = 0; j < records_.size() && pid < 0; ++j) {
          const int h = live_[j].handle;
          if (h < 0 || !session_.running(h)) continue;
          if (f.target >= 0 && static_cast<int>(j) % spec_.workers != f.target) continue;
          pid = session_.pid(h);
          whose = fmt::format("job {}", records_[j].id);
        }
      } else {
        const int s = slot_with(true);
        if (s >= 0) {
          const int root = session_.pid(slots_[static_cast<std::size_t>(s)].handle);
          if (spec_.mode == "pool") {
            pid = root;
            whose = fmt::format("worker {}", s);
          } else {  // the agent's job: its child that is not its watchdog
            for (int c : children_of(root))
              if (comm_of(c) != "harness-watch") {
                pid = c;
                break;
              }
            whose = fmt::format("the job of agent {}", s);
          }
          done.target = s;
        }
      }
      if (pid <= 0) return skip("no job running");
      if (::kill(pid, SIGKILL) != 0) return skip(fmt::format("kill({}): {}", pid, errno));
      done.applied = true;
      done.what = fmt::format("{} (pid {})", whose, pid);
      break;
    }
    case FaultStep::Kind::restart_broker: {
      if (spec_.mode != "queue") return skip("no broker: the mode is " + spec_.mode);
      if (!broker_) return skip("the broker is not the run's own (jobs.queue.redis is a URL)");
      const int pid = broker_->pid();
      broker_->kill();
      done.applied = true;
      done.what = fmt::format("redis-server (pid {}) killed, down {} ms", pid, f.down.count());
      if (f.down.count() == 0) {
        restart_broker(done.what);
      } else {
        const std::size_t index = faults_done_.size();
        session_.call_at(Clock::now() + f.down,
                         [this, index] { restart_broker(faults_done_[index].what); });
      }
      break;
    }
  }
  faults_done_.push_back(done);
}

void JobStream::restart_broker(std::string& what) {
  const auto t = Clock::now();
  try {
    broker_->start();  // the same folder and socket: the AOF brings back every acknowledged write
    what += fmt::format(", started again from its AOF in {:.0f} ms",
                        std::chrono::duration<double, std::milli>(Clock::now() - t).count());
  } catch (const std::exception& e) {
    what += std::string(", not started again: ") + bounded(e.what());
  }
}

bool JobStream::agent_busy(int slot) const {
  const std::string name = "agent" + std::to_string(slot);
  for (std::size_t j = 0; j < records_.size(); ++j)
    if (live_[j].queued && live_[j].picked && records_[j].agent == name) return true;
  return false;
}

}  // namespace harness::detail
