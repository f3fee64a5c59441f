// The arithmetic of job streams: arrival schedules, nearest-rank percentiles, the early-stopping
// bound and the counts and verdict of summarise, against values worked out by hand.

#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "harness/jobs/arrival.hpp"
#include "harness/jobs/job_stats.hpp"

namespace harness {
namespace {

TEST(jobs_arrival_test, constant_gaps_are_exact) {
  ArrivalSpec a;
  a.kind = ArrivalSpec::Kind::constant;
  a.rate = 4;
  const auto t = arrival_offsets_ms(a, 5, 0);
  ASSERT_EQ(t.size(), 5u);
  for (std::size_t i = 0; i < t.size(); ++i) EXPECT_DOUBLE_EQ(t[i], 250.0 * i);
}

TEST(jobs_arrival_test, duration_bounds_the_schedule) {
  ArrivalSpec a;
  a.kind = ArrivalSpec::Kind::constant;
  a.rate = 10;
  const auto t = arrival_offsets_ms(a, 0, 1000);
  EXPECT_EQ(t.size(), 10u);  // 0, 100, ..., 900; 1000 is not before the end
  EXPECT_LT(t.back(), 1000.0);
}

TEST(jobs_arrival_test, poisson_is_the_same_for_a_seed_and_differs_between_seeds) {
  ArrivalSpec a;
  a.kind = ArrivalSpec::Kind::poisson;
  a.rate = 100;
  a.seed = 7;
  const auto x = arrival_offsets_ms(a, 1000, 0);
  const auto y = arrival_offsets_ms(a, 1000, 0);
  EXPECT_EQ(x, y);
  a.seed = 8;
  EXPECT_NE(arrival_offsets_ms(a, 1000, 0), x);
  EXPECT_TRUE(std::is_sorted(x.begin(), x.end()));
  EXPECT_GT(x.front(), 0.0);  // no arrival at time 0
}

TEST(jobs_arrival_test, poisson_gaps_have_the_asked_mean_and_spread) {
  // 20000 exponential gaps of mean 10 ms: the sample mean's standard error is 10/sqrt(20000) =
  // 0.0707 ms, so 9.7..10.3 is more than 4 standard errors either side. The coefficient of
  // variation of an exponential is 1; a constant schedule would give 0.
  ArrivalSpec a;
  a.kind = ArrivalSpec::Kind::poisson;
  a.rate = 100;
  a.seed = 12345;
  const auto t = arrival_offsets_ms(a, 20000, 0);
  std::vector<double> gaps(t.size());
  std::adjacent_difference(t.begin(), t.end(), gaps.begin());
  const double mean = std::accumulate(gaps.begin(), gaps.end(), 0.0) / gaps.size();
  double var = 0;
  for (double g : gaps) var += (g - mean) * (g - mean);
  const double cv = std::sqrt(var / (gaps.size() - 1)) / mean;
  EXPECT_NEAR(mean, 10.0, 0.3);
  EXPECT_NEAR(cv, 1.0, 0.05);
}

TEST(jobs_arrival_test, closed_loop_has_no_schedule) {
  ArrivalSpec a;
  EXPECT_TRUE(arrival_offsets_ms(a, 10, 0).empty());
}

TEST(jobs_stats_test, nearest_rank_percentiles_by_hand) {
  // 1..100: p50 is the 50th value, p99 the 99th, p99.9 rounds up to the 100th.
  std::vector<double> v(100);
  std::iota(v.begin(), v.end(), 1.0);
  const JobPercentiles p = percentiles(v);
  EXPECT_EQ(p.n, 100u);
  EXPECT_EQ(p.p50, 50);
  EXPECT_EQ(p.p90, 90);
  EXPECT_EQ(p.p95, 95);
  EXPECT_EQ(p.p99, 99);
  EXPECT_EQ(p.p999, 100);
  EXPECT_EQ(p.max, 100);
  EXPECT_DOUBLE_EQ(p.mean, 50.5);
  // Five values, unsorted: ranks ceil(2.5) = 3 and ceil(4.5) = 5.
  const JobPercentiles q = percentiles({40, 10, 30, 50, 20});
  EXPECT_EQ(q.p50, 30);
  EXPECT_EQ(q.p90, 50);
  EXPECT_EQ(percentiles({}).n, 0u);
}

TEST(jobs_stats_test, early_stopping_needs_the_loadgen_job_counts) {
  // Smallest n with (1-q)^n + n q (1-q)^(n-1) <= 0.01, q = 1 - p, worked out separately:
  // n = 64 gives 0.00118 + 0.00840 = 0.0096, n = 63 gives 0.0105.
  EXPECT_EQ(jobs_needed_for(90), 64u);
  EXPECT_EQ(jobs_needed_for(95), 130u);
  EXPECT_EQ(jobs_needed_for(99), 662u);
  EXPECT_EQ(jobs_needed_for(99.9), 6636u);
}

JobRecord job(std::int64_t id, const char* status, double scheduled, double dispatched,
              double ended) {
  JobRecord r;
  r.id = id;
  r.status = status;
  r.scheduled_ms = scheduled;
  r.submitted_ms = scheduled;
  r.dispatched_ms = dispatched;
  r.ended_ms = ended;
  r.attempts = 1;
  return r;
}

TEST(jobs_stats_test, summary_counts_and_splits_latency) {
  JobsResult r;
  r.records = {job(1, "success", 0, 10, 110), job(2, "success", 100, 300, 350),
               job(3, "failed", 200, 210, 260), job(4, "cancelled", 300, 310, 320),
               job(5, "", 400, -1, -1)};
  r.records[2].submitted_ms = 205;  // 5 ms late
  r.duration_s = 2.0;
  summarise(r, {});
  EXPECT_EQ(r.scheduled, 5u);
  EXPECT_EQ(r.succeeded, 2u);
  EXPECT_EQ(r.failed, 1u);
  EXPECT_EQ(r.cancelled, 1u);
  EXPECT_EQ(r.lost, 1u);
  EXPECT_EQ(r.late, 1u);
  EXPECT_DOUBLE_EQ(r.late_share, 0.2);
  EXPECT_DOUBLE_EQ(r.throughput_per_s, 1.0);
  EXPECT_EQ(r.latency.max, 250);  // job 2: scheduled 100, ended 350
  EXPECT_EQ(r.queue_wait.max, 200);
  EXPECT_EQ(r.service.p50, 50);  // nearest rank of {50, 100}
  // 1 late in 5: the share's 95 % lower bound is 1 - 0.95^(1/5) = 1.02 %, just over 1 %: the
  // generator may be the bottleneck, so the run is not VALID.
  EXPECT_NEAR(r.late_share_low, 1 - std::pow(0.95, 0.2), 1e-9);
  EXPECT_TRUE(r.generator_limited);
  EXPECT_FALSE(r.valid);
}

// The late share is judged at 95 % confidence: one late job in 80 (1.25 %) is what a machine late
// 1 time in 100 gives in more than half its runs, so it leaves the run VALID; 3 in 80 do not.
TEST(jobs_stats_test, late_jobs_void_a_run_only_when_over_one_percent_at_95_percent) {
  for (const auto& [late, valid] : {std::pair{0, true}, {1, true}, {2, true}, {3, false}}) {
    JobsResult r;
    for (int i = 0; i < 80; ++i)
      r.records.push_back(job(i, "success", 10.0 * i, 10.0 * i + 1, 10.0 * i + 5));
    for (int i = 0; i < late; ++i) r.records[static_cast<std::size_t>(i)].submitted_ms += 6;
    r.duration_s = 1;
    summarise(r, {.late_after_ms = 5});
    EXPECT_EQ(r.late, static_cast<std::size_t>(late));
    EXPECT_EQ(r.valid, valid) << late << " late: " << fmt::format("{}", r.invalid_reasons);
    EXPECT_EQ(r.generator_limited, !valid) << late << " late";
  }
}

// The Clopper-Pearson bound against its closed forms: with every trial a hit the lower bound
// solves p^n = alpha, with one hit 1 - (1 - p)^n = alpha.
TEST(jobs_stats_test, share_lower_bound_matches_the_closed_forms) {
  EXPECT_EQ(share_lower_bound(0, 80), 0);
  EXPECT_NEAR(share_lower_bound(10, 10), std::pow(0.05, 0.1), 1e-9);
  EXPECT_NEAR(share_lower_bound(1, 80), 1 - std::pow(0.95, 1.0 / 80), 1e-9);
  // Over 1 % from 3 late jobs in 80 on (3/80 is 3.75 %): the bound is 1.04 %.
  EXPECT_LT(share_lower_bound(2, 80), 0.01);
  EXPECT_GT(share_lower_bound(3, 80), 0.01);
}

TEST(jobs_stats_test, a_tail_without_enough_jobs_is_invalid_and_says_how_many_more) {
  JobsResult r;
  for (int i = 1; i <= 60; ++i) r.records.push_back(job(i, "success", i, i, i + 5));
  r.duration_s = 1;
  VerdictRules rules;
  rules.tail_percentile = 90;
  summarise(r, rules);
  EXPECT_FALSE(r.valid);
  EXPECT_EQ(r.jobs_needed, 64u);
  ASSERT_EQ(r.invalid_reasons.size(), 1u);
  EXPECT_NE(r.invalid_reasons[0].find("4 more"), std::string::npos) << r.invalid_reasons[0];
  for (int i = 61; i <= 64; ++i) r.records.push_back(job(i, "success", i, i, i + 5));
  summarise(r, rules);
  EXPECT_TRUE(r.valid);
  rules.min_duration_s = 5;
  summarise(r, rules);
  EXPECT_FALSE(r.valid);
}

}  // namespace
}  // namespace harness
