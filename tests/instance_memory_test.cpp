// Memory bookkeeping of one instance fed made-up samples: phases, peaks, zombies, thinning.

#include "harness/supervise/instance_memory.hpp"

#include <gtest/gtest.h>

namespace harness {
namespace {

MemorySample sample(double t, std::int64_t rss, std::int64_t pss = -1, std::int64_t uss = -1) {
  MemorySample s;
  s.t_ms = t;
  s.rss_kib = rss;
  s.pss_kib = pss;
  s.uss_kib = uss;
  s.processes = 1;
  return s;
}

TEST(instance_memory_test, baseline_ready_and_peaks) {
  InstanceMemory m;
  m.add(sample(0, 1000), false);
  const MemorySample at_started = sample(5, 1200);
  m.add(at_started, false);
  m.at_started(at_started);
  m.add(sample(10, 5000), false);
  m.baseline_from_last_sample();  // a baseline exists: kept
  const MemorySample at_ready = sample(20, 6000, 5500, 5000);
  m.add(at_ready, true, 6100);
  m.at_ready(at_ready);
  m.add(sample(30, 9000), false);
  m.add(sample(40, 7000, 6500, 6000), true, 9100);
  m.finish(9200);
  const MemoryStats& s = m.stats();
  EXPECT_EQ(s.baseline_rss_kib, 1200);
  EXPECT_EQ(s.ready_rss_kib, 6000);
  EXPECT_EQ(s.ready_pss_kib, 5500);
  EXPECT_EQ(s.ready_uss_kib, 5000);
  EXPECT_EQ(s.peak_pss_kib, 6500);
  EXPECT_EQ(s.peak_uss_kib, 6000);
  EXPECT_EQ(s.final_pss_kib, 6500);
  EXPECT_EQ(s.maxrss_kib, 9200);
  EXPECT_EQ(s.hwm_kib, 9200);
  EXPECT_EQ(s.peak_rss_kib, 9200);  // never below the kernel's own peak
  EXPECT_EQ(s.samples.size(), 6u);
}

TEST(instance_memory_test, without_started_the_baseline_is_the_last_sample_before_ready) {
  InstanceMemory m;
  m.add(sample(0, 800), false);
  m.add(sample(10, 900), false);
  m.baseline_from_last_sample();
  EXPECT_EQ(m.stats().baseline_rss_kib, 900);
}

TEST(instance_memory_test, without_any_phase_event_the_baseline_is_the_first_sample) {
  InstanceMemory m;
  m.add(sample(0, 700), false);
  m.add(sample(10, 900), false);
  m.finish(-1);
  EXPECT_EQ(m.stats().baseline_rss_kib, 700);
  EXPECT_EQ(m.stats().peak_rss_kib, 900);
}

TEST(instance_memory_test, a_zombie_reading_zero_keeps_the_last_real_pss) {
  InstanceMemory m;
  m.add(sample(0, 1000, 900, 800), true);
  MemorySample zombie = sample(10, 0, 0, 0);
  m.add(zombie, true);
  EXPECT_EQ(m.stats().final_pss_kib, 900);
  EXPECT_EQ(m.stats().final_uss_kib, 800);
  MemorySample gone;  // the tree was gone: nothing measured, nothing kept
  gone.processes = 0;
  m.add(gone, false);
  EXPECT_EQ(m.stats().samples.size(), 2u);
}

TEST(instance_memory_test, a_long_timeline_is_thinned_and_peaks_stay_exact) {
  InstanceMemory m;
  for (std::size_t i = 0; i < 3 * kMaxSamples; ++i)
    m.add(sample(static_cast<double>(i), i == 12345 ? 99999 : 1000), false);
  EXPECT_LT(m.stats().samples.size(), kMaxSamples);
  EXPECT_EQ(m.stats().peak_rss_kib, 99999);
  EXPECT_EQ(m.stats().samples.front().t_ms, 0);
}

}  // namespace
}  // namespace harness
