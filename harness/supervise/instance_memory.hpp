#pragma once
// The memory figures of one instance, built from the samples the supervisor takes: baseline at
// the `started` event, loaded at `ready`, peaks over every sample, the kernel's own peak (VmHWM
// while running, ru_maxrss at exit). Pure bookkeeping over MemorySample values, so the phase
// logic is tested with made-up samples; when to sample is the supervisor's business.

#include <cstddef>
#include <cstdint>

#include "harness/core/result.hpp"

namespace harness {

inline constexpr std::size_t kMaxSamples = 20000;  // then the timeline is thinned to every other

class InstanceMemory {
 public:
  // One tick over the live tree; `with_smaps` when PSS/USS were read (a zombie reads 0: then the
  // last real PSS/USS are kept). `hwm_kib` is the root's VmHWM read with smaps, or -1.
  void add(const MemorySample& s, bool with_smaps, std::int64_t hwm_kib = -1);
  // A worker says `started` once its runtime is up and before it loads the model: the baseline
  // taken there makes "memory added by loading the model" exactly that.
  void at_started(const MemorySample& s);
  // The sample taken at `ready` (with smaps); without a `started` baseline, the last sample
  // before it is the baseline.
  void at_ready(const MemorySample& s);
  // Before the sample at ready is added: the baseline from the timeline when none was taken.
  void baseline_from_last_sample();
  // At exit: the root's ru_maxrss; settles the baseline and peaks.
  void finish(std::int64_t maxrss_kib);

  bool has_baseline() const { return stats_.baseline_rss_kib >= 0; }
  const MemoryStats& stats() const { return stats_; }
  MemoryStats take() { return std::move(stats_); }

 private:
  MemoryStats stats_;
  std::size_t stride_ = 1, skip_ = 0;
};

}  // namespace harness
