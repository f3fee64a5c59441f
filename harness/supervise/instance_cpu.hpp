#pragma once
// The CPU figures of one instance, built like InstanceMemory from what the supervisor reads: the
// tree's CPU time and size at every sample, the per-process rows at every PSS/USS read, and the
// exact rusage at exit. Pure bookkeeping, so the arithmetic is tested with made-up samples.

#include <map>
#include <vector>

#include "harness/core/result.hpp"

namespace harness {

class InstanceCpu {
 public:
  // One tick. Returns the CPU time the sample should carry: never below the previous one (a
  // process that exits between the tree walk and its parent's read is missing from one sum, until
  // the parent's wait moves its time into the parent's children's time). -1 stays -1.
  double add(const MemorySample& s);
  // The rows of a PSS/USS read whose tree PSS was `tree_pss_kib`: each row's cpu_pct is set from
  // the previous read of the same pid. Kept: the read with the largest tree PSS (the first of
  // equals), and the last read that saw as many processes as any (a tree that shrinks before it
  // exits, its children reaped, keeps the rows of all of them). The threads' schedstat deltas
  // add up to CpuStats::run_s and wait_s.
  void add_rows(double t_ms, std::int64_t tree_pss_kib, std::vector<ProcessRow> rows);
  // At exit, from the exact user and system time (ms; negative: unknown), the wall time and the
  // timeline (for the busiest window).
  CpuStats finish(double user_ms, double system_ms, double wall_s,
                  const std::vector<MemorySample>& samples);

 private:
  double last_cpu_ms_ = -1;
  int threads_max_ = 0, processes_max_ = 0;
  std::int64_t peak_pss_kib_ = -1;
  std::optional<ProcessSnapshot> prev_, at_peak_, last_;
  // schedstat over the reads: the tree's time on a CPU and waiting for one.
  std::uint64_t run_ns_ = 0, wait_ns_ = 0;
  double first_read_ms_ = 0, last_read_ms_ = 0;
  int reads_ = 0;
};

// The largest CPU utilisation (% of one core) over any stretch of at least window_ms between two
// samples that carry CPU time; -1 when the timeline is shorter than the window.
double peak_utilisation_pct(const std::vector<MemorySample>& samples, double window_ms);

}  // namespace harness
