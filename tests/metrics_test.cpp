#include "harness/report/metrics.hpp"

#include <gtest/gtest.h>

namespace harness {
namespace {

ProcessResult finished(int index, int exit_code, double wall_s) {
  ProcessResult p;
  p.index = index;
  p.exit_code = exit_code;
  p.wall_s = wall_s;
  return p;
}

Event result(nlohmann::json body) {
  Event e;
  e.type = "result";
  body["event"] = "result";
  e.body = std::move(body);
  return e;
}

TEST(percentile_test, nearest_rank_returns_an_observed_value) {
  // The textbook example: ranks ceil(p/100 * 5).
  const std::vector<double> v = {35, 20, 50, 15, 40};
  EXPECT_EQ(percentile_nearest_rank(v, 5), 15);
  EXPECT_EQ(percentile_nearest_rank(v, 30), 20);
  EXPECT_EQ(percentile_nearest_rank(v, 40), 20);
  EXPECT_EQ(percentile_nearest_rank(v, 50), 35);
  EXPECT_EQ(percentile_nearest_rank(v, 100), 50);
}

TEST(percentile_test, p95_and_p99_of_a_hundred_values) {
  std::vector<double> v;
  for (int i = 100; i >= 1; --i) v.push_back(i);
  const Percentiles p = percentiles(v);
  EXPECT_EQ(p.p50, 50);
  EXPECT_EQ(p.p95, 95);
  EXPECT_EQ(p.p99, 99);
  EXPECT_EQ(p.max, 100);
}

TEST(percentile_test, single_value_is_every_percentile) {
  const Percentiles p = percentiles({2.5});
  EXPECT_EQ(p.p50, 2.5);
  EXPECT_EQ(p.p99, 2.5);
  EXPECT_EQ(p.max, 2.5);
}

TEST(metrics_test, counts_outcomes) {
  ScenarioRun run;
  run.instances.push_back(finished(0, 0, 1));
  run.instances.push_back(finished(1, 3, 1));
  ProcessResult killed;
  killed.signal = 9;
  killed.timed_out = true;
  run.instances.push_back(killed);
  ProcessResult not_started;
  not_started.spawn_error = "cannot run nope: No such file or directory";
  run.instances.push_back(not_started);

  const RunMetrics m = compute_metrics(run);
  EXPECT_EQ(m.instances, 4);
  EXPECT_EQ(m.succeeded, 1);
  EXPECT_EQ(m.failed, 3);
  EXPECT_EQ(m.timed_out, 1);
}

TEST(metrics_test, frames_and_throughput_come_from_the_last_result_event) {
  ScenarioRun run;
  run.wall_s = 4;
  for (int i = 0; i < 2; ++i) {
    ProcessResult p = finished(i, 0, 3);
    p.events.push_back(result({{"frames_processed", 999}, {"fps", 1.0}}));  // superseded
    p.events.push_back(result({{"frames_processed", 100}, {"fps", 8.0 + i}}));
    run.instances.push_back(p);
  }
  const RunMetrics m = compute_metrics(run);
  ASSERT_TRUE(m.frames_total);
  EXPECT_EQ(*m.frames_total, 200);
  ASSERT_TRUE(m.throughput_fps);
  EXPECT_DOUBLE_EQ(*m.throughput_fps, 50.0);
  ASSERT_EQ(m.instance_fps.size(), 2u);
  EXPECT_DOUBLE_EQ(m.instance_fps[0].value(), 8.0);
  EXPECT_DOUBLE_EQ(m.instance_fps[1].value(), 9.0);
  EXPECT_DOUBLE_EQ(m.mean_instance_fps.value(), 8.5);
}

TEST(metrics_test, no_result_event_means_no_throughput) {
  ScenarioRun run;
  run.wall_s = 2;
  run.instances.push_back(finished(0, 0, 1));
  const RunMetrics m = compute_metrics(run);
  EXPECT_FALSE(m.frames_total);
  EXPECT_FALSE(m.throughput_fps);
  ASSERT_EQ(m.instance_fps.size(), 1u);
  EXPECT_FALSE(m.instance_fps[0]);
  EXPECT_FALSE(m.mean_instance_fps);
}

TEST(metrics_test, fps_missing_or_not_a_number_is_unknown) {
  ScenarioRun run;
  run.wall_s = 1;
  ProcessResult p = finished(0, 0, 1);
  p.events.push_back(result({{"frames_processed", 10}, {"fps", "fast"}}));
  run.instances.push_back(p);
  const RunMetrics m = compute_metrics(run);
  EXPECT_EQ(m.frames_total.value(), 10);
  EXPECT_FALSE(m.instance_fps.at(0));
}

TEST(metrics_test, latency_over_started_instances_only) {
  ScenarioRun run;
  for (double w : {1.0, 3.0, 2.0}) run.instances.push_back(finished(0, 0, w));
  ProcessResult not_started;
  not_started.spawn_error = "cannot run";
  not_started.wall_s = 0;
  run.instances.push_back(not_started);
  const RunMetrics m = compute_metrics(run);
  ASSERT_TRUE(m.latency_s);
  EXPECT_EQ(m.latency_s->p50, 2.0);
  EXPECT_EQ(m.latency_s->p95, 3.0);
  EXPECT_EQ(m.latency_s->max, 3.0);
}

TEST(metrics_test, ready_time_median_and_max) {
  ScenarioRun run;
  for (double r : {300.0, 100.0, 200.0}) {
    ProcessResult p = finished(0, 0, 1);
    p.ready_ms = r;
    run.instances.push_back(p);
  }
  run.instances.push_back(finished(0, 0, 1));  // never ready: not counted
  const RunMetrics m = compute_metrics(run);
  EXPECT_EQ(m.ready_ms_p50.value(), 200.0);
  EXPECT_EQ(m.ready_ms_max.value(), 300.0);
}

TEST(metrics_test, memory_sums_and_means_skip_unknown_values) {
  ScenarioRun run;
  ProcessResult a = finished(0, 0, 1);
  a.memory.peak_rss_kib = 1000;
  a.memory.peak_pss_kib = 800;
  a.memory.peak_uss_kib = 600;
  a.memory.baseline_rss_kib = 100;
  a.memory.ready_rss_kib = 500;  // added 400
  ProcessResult b = finished(1, 0, 1);
  b.memory.peak_rss_kib = 3000;
  b.memory.peak_uss_kib = 1000;
  b.memory.baseline_rss_kib = 200;
  b.memory.ready_rss_kib = 1000;  // added 800
  ProcessResult c = finished(2, 0, 1);
  c.memory.ready_rss_kib = 900;  // baseline unknown: no added figure
  run.instances = {a, b, c};

  const RunMetrics m = compute_metrics(run);
  EXPECT_EQ(m.sum_peak_rss_kib.value(), 4000);
  EXPECT_EQ(m.sum_peak_pss_kib.value(), 800);
  EXPECT_DOUBLE_EQ(m.mean_peak_uss_kib.value(), 800.0);
  EXPECT_EQ(m.max_peak_uss_kib.value(), 1000);
  EXPECT_DOUBLE_EQ(m.mean_memory_added_kib.value(), 600.0);
}

TEST(metrics_test, memory_unknown_everywhere_is_nullopt) {
  ScenarioRun run;
  run.instances.push_back(finished(0, 0, 1));
  const RunMetrics m = compute_metrics(run);
  EXPECT_FALSE(m.sum_peak_rss_kib);
  EXPECT_FALSE(m.sum_peak_pss_kib);
  EXPECT_FALSE(m.mean_peak_uss_kib);
  EXPECT_FALSE(m.max_peak_uss_kib);
  EXPECT_FALSE(m.mean_memory_added_kib);
}

TEST(metrics_test, max_leftover) {
  ScenarioRun run;
  ProcessResult a = finished(0, 0, 1), b = finished(1, 0, 1);
  a.leftover_processes = 2;
  b.leftover_processes = 5;
  run.instances = {a, b};
  EXPECT_EQ(compute_metrics(run).max_leftover, 5);
}

TEST(metrics_test, empty_run) {
  const RunMetrics m = compute_metrics(ScenarioRun{});
  EXPECT_EQ(m.instances, 0);
  EXPECT_FALSE(m.latency_s);
  EXPECT_FALSE(m.throughput_fps);
  EXPECT_TRUE(m.instance_fps.empty());
}

TEST(metrics_test, memory_added_needs_both_ends) {
  MemoryStats m;
  EXPECT_FALSE(memory_added_kib(m));
  m.baseline_rss_kib = 10;
  EXPECT_FALSE(memory_added_kib(m));
  m.ready_rss_kib = 25;
  EXPECT_EQ(memory_added_kib(m).value(), 15);
}

}  // namespace
}  // namespace harness
