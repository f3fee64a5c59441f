#include "harness/run/cpu_demand.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace harness {

const std::vector<std::string>& thread_limit_variables() {
  static const std::vector<std::string> names = {"OMP_NUM_THREADS",      "OMP_THREAD_LIMIT",
                                                 "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                                                 "BLIS_NUM_THREADS",     "NUMEXPR_NUM_THREADS"};
  return names;
}

std::optional<CpuDemand> cpu_demand(const std::vector<ProcessResult>& instances, int cores,
                                    const std::function<bool(const std::string&)>& env_set) {
  CpuDemand d;
  d.cores = std::max(cores, 1);
  double run = 0, wait = 0, from = 0, to = 0;
  for (const ProcessResult& p : instances) {
    if (p.cpu.runnable_avg < 0) continue;
    // The instance's read span, on the run's clock: spawn offset, then its own reads, which end
    // by its last read (wall time is an upper bound of where they began).
    const double end = p.spawn_offset_ms / 1000.0 + p.wall_s;
    const double begin = end - p.cpu.span_s;
    if (d.workers == 0 || begin < from) from = begin;
    if (d.workers == 0 || end > to) to = end;
    ++d.workers;
    run += p.cpu.run_s;
    wait += p.cpu.wait_s;
    d.threads_per_worker = std::max(d.threads_per_worker, p.cpu.threads_max);
  }
  if (d.workers == 0 || to <= from || run + wait <= 0) return std::nullopt;
  d.wanted_cpus = (run + wait) / (to - from);
  d.wait_share = wait / (run + wait);
  d.oversubscribed =
      d.wanted_cpus > kOversubscribedFactor * d.cores && d.wait_share > kOversubscribedWait;
  if (!d.oversubscribed) return d;
  d.message = fmt::format(
      "oversubscribed: {} worker{} wanted {:.1f} CPUs at once on {} core{}, and their threads "
      "waited {:.0f} % of their runnable time for a CPU",
      d.workers, d.workers == 1 ? "" : "s", d.wanted_cpus, d.cores, d.cores == 1 ? "" : "s",
      d.wait_share * 100);
  std::vector<std::string> set;
  for (const std::string& v : thread_limit_variables())
    if (env_set(v)) set.push_back(v);
  if (d.threads_per_worker > 1 && set.empty()) {
    d.message += fmt::format(
        ". Each worker ran up to {} threads and none of OMP_NUM_THREADS, OPENBLAS_NUM_THREADS, "
        "MKL_NUM_THREADS is set in its environment: OpenMP and BLAS pools start a thread per "
        "core by default. Set OMP_NUM_THREADS=1 (or the worker's own thread option, such as "
        "yolo_worker --threads 1) in the scenario's worker.env",
        d.threads_per_worker);
  } else if (d.threads_per_worker > 1) {
    d.message += fmt::format(
        ". Each worker ran up to {} threads although {} {} set: the worker "
        "starts threads of its own beyond those pools",
        d.threads_per_worker, fmt::join(set, ", "), set.size() == 1 ? "is" : "are");
  } else {
    d.message += ": more busy single-threaded workers than cores";
  }
  return d;
}

}  // namespace harness
