#include "harness/supervise/instance_cpu.hpp"

#include <algorithm>
#include <unordered_map>

namespace harness {

double InstanceCpu::add(const MemorySample& s) {
  threads_max_ = std::max(threads_max_, s.threads);
  processes_max_ = std::max(processes_max_, s.processes);
  if (s.cpu_ms < 0) return s.cpu_ms;
  last_cpu_ms_ = std::max(last_cpu_ms_, s.cpu_ms);
  return last_cpu_ms_;
}

void InstanceCpu::add_rows(double t_ms, std::int64_t tree_pss_kib, std::vector<ProcessRow> rows) {
  if (prev_) {
    std::unordered_map<int, const ProcessRow*> before;
    for (const ProcessRow& r : prev_->rows) before.emplace(r.pid, &r);
    const double dt = t_ms - prev_->t_ms;
    for (ProcessRow& r : rows) {
      auto it = before.find(r.pid);
      if (it == before.end() || it->second->name != r.name) {
        // Born since the previous read (as far as the tree walk knows): all its time is new.
        run_ns_ += r.run_ns;
        wait_ns_ += r.wait_ns;
        continue;
      }
      const ProcessRow& was = *it->second;
      // Threads that ended since take their counts with them: never count back.
      if (r.run_ns > was.run_ns) run_ns_ += r.run_ns - was.run_ns;
      if (r.wait_ns > was.wait_ns) wait_ns_ += r.wait_ns - was.wait_ns;
      if (dt > 0) r.cpu_pct = std::max(0.0, (r.cpu_ms - was.cpu_ms) / dt * 100.0);
    }
  } else {
    first_read_ms_ = t_ms;
  }
  last_read_ms_ = t_ms;
  ++reads_;
  prev_ = ProcessSnapshot{t_ms, std::move(rows)};
  if (!last_ || prev_->rows.size() >= last_->rows.size()) last_ = prev_;
  if (tree_pss_kib > peak_pss_kib_) {
    peak_pss_kib_ = tree_pss_kib;
    at_peak_ = prev_;
  }
}

double peak_utilisation_pct(const std::vector<MemorySample>& samples, double window_ms) {
  double best = -1;
  std::size_t j = 0;
  for (std::size_t i = 0; i < samples.size(); ++i) {
    if (samples[i].cpu_ms < 0) continue;
    // Move j to the latest sample at least window_ms before i that carries CPU time.
    while (j + 1 < i && samples[i].t_ms - samples[j + 1].t_ms >= window_ms) ++j;
    if (samples[j].cpu_ms < 0 || samples[i].t_ms - samples[j].t_ms < window_ms) continue;
    const double dt = samples[i].t_ms - samples[j].t_ms;
    best = std::max(best, (samples[i].cpu_ms - samples[j].cpu_ms) / dt * 100.0);
  }
  return best;
}

CpuStats InstanceCpu::finish(double user_ms, double system_ms, double wall_s,
                             const std::vector<MemorySample>& samples) {
  CpuStats c;
  c.threads_max = threads_max_;
  c.processes_max = processes_max_;
  c.at_peak = std::move(at_peak_);
  c.last = std::move(last_);
  if (reads_ >= 2 && last_read_ms_ > first_read_ms_) {
    c.run_s = static_cast<double>(run_ns_) / 1e9;
    c.wait_s = static_cast<double>(wait_ns_) / 1e9;
    c.span_s = (last_read_ms_ - first_read_ms_) / 1000.0;
    c.runnable_avg = (c.run_s + c.wait_s) / c.span_s;
  }
  if (user_ms < 0 || system_ms < 0) return c;
  c.user_s = user_ms / 1000.0;
  c.system_s = system_ms / 1000.0;
  if (wall_s > 0) c.utilisation_pct = (c.user_s + c.system_s) / wall_s * 100.0;
  c.peak_utilisation_pct = peak_utilisation_pct(samples, kCpuWindowMs);
  // Shorter than a window: the whole life is the busiest stretch there is.
  if (c.peak_utilisation_pct < 0) c.peak_utilisation_pct = c.utilisation_pct;
  return c;
}

}  // namespace harness
