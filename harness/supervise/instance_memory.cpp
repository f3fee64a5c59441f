#include "harness/supervise/instance_memory.hpp"

#include <algorithm>
#include <utility>
#include <vector>

namespace harness {

void InstanceMemory::add(const MemorySample& s, bool with_smaps, std::int64_t hwm_kib) {
  auto& m = stats_;
  if (with_smaps) {
    if (s.pss_kib > 0) {
      m.final_pss_kib = s.pss_kib;
      m.final_uss_kib = s.uss_kib;
      m.peak_pss_kib = std::max(m.peak_pss_kib, s.pss_kib);
      m.peak_uss_kib = std::max(m.peak_uss_kib, s.uss_kib);
    }
    m.hwm_kib = std::max(m.hwm_kib, hwm_kib);
  }
  if (s.processes == 0) return;  // the tree was gone: nothing was measured
  m.peak_rss_kib = std::max(m.peak_rss_kib, s.rss_kib);
  // Long runs: the timeline stays bounded by thinning it; peaks stay exact.
  if (skip_++ % stride_ == 0 || with_smaps) m.samples.push_back(s);
  if (m.samples.size() >= kMaxSamples) {
    std::vector<MemorySample> thin;
    thin.reserve(m.samples.size() / 2 + 1);
    for (std::size_t i = 0; i < m.samples.size(); i += 2) thin.push_back(m.samples[i]);
    m.samples = std::move(thin);
    stride_ *= 2;
  }
}

void InstanceMemory::at_started(const MemorySample& s) {
  stats_.baseline_rss_kib = s.rss_kib;
}

void InstanceMemory::baseline_from_last_sample() {
  if (stats_.baseline_rss_kib < 0 && !stats_.samples.empty())
    stats_.baseline_rss_kib = stats_.samples.back().rss_kib;
}

void InstanceMemory::at_ready(const MemorySample& s) {
  stats_.ready_rss_kib = s.rss_kib;
  stats_.ready_pss_kib = s.pss_kib;
  stats_.ready_uss_kib = s.uss_kib;
}

void InstanceMemory::finish(std::int64_t maxrss_kib) {
  auto& m = stats_;
  if (maxrss_kib >= 0) m.maxrss_kib = maxrss_kib;
  if (m.baseline_rss_kib < 0 && !m.samples.empty()) m.baseline_rss_kib = m.samples.front().rss_kib;
  m.hwm_kib = std::max(m.hwm_kib, m.maxrss_kib);
  m.peak_rss_kib = std::max(m.peak_rss_kib, m.hwm_kib);
}

}  // namespace harness
