// The peak search's walk over rates, fed made-up runs so that each step is known by hand (the
// real search on real workers is scenarios/jobs/pool_peak.yaml).

#include <gtest/gtest.h>

#include <functional>

#include "harness/jobs/peak_search.hpp"

namespace harness {
namespace {

PeakSearchSpec spec(double from, double to, double precision = 0.1, int points = 12) {
  PeakSearchSpec s;
  s.key = "latency_p90_max";
  s.percentile = 90;
  s.bound_ms = 200;
  s.from = from;
  s.to = to;
  s.precision = precision;
  s.max_points = points;
  return s;
}

// A run of 100 jobs, all succeeded, VALID, with p90 latency `p90_ms`.
JobsResult run_with(double p90_ms, double rate) {
  JobsResult r;
  r.scheduled = r.succeeded = 100;
  r.latency.n = 100;
  r.latency.p50 = p90_ms / 2;
  r.latency.p90 = p90_ms;
  r.latency.p99 = r.latency.p999 = r.latency.max = p90_ms * 2;
  r.throughput_per_s = rate;
  return r;
}

// Runs the search against `design` (rate -> its run) and returns the rates in the order tried.
std::vector<double> walk(PeakSearch& search, const std::function<JobsResult(double)>& design) {
  std::vector<double> rates;
  while (auto rate = search.next_rate()) {
    rates.push_back(*rate);
    search.record(*rate, design(*rate), rates.size() - 1);
    if (rates.size() > 60) break;  // never: max_points bounds it
  }
  return rates;
}

// p90 100 ms up to 30 jobs/s, 300 ms beyond.
JobsResult knee_at_30(double rate) {
  return run_with(rate <= 30 ? 100 : 300, rate);
}

TEST(peak_search_test, doubles_then_halves_the_bracket_in_geometric_steps) {
  PeakSearch search(spec(5, 80));
  // 5, 10, 20 meet, 40 exceeds; then the rounded geometric middles: sqrt(20*40) = 28.28 -> 28.3
  // (meets, 40 / 28.3 = 1.41), sqrt(28.3*40) = 33.65 -> 33.6 (exceeds, 33.6 / 28.3 = 1.19),
  // sqrt(28.3*33.6) = 30.84 -> 30.8 (exceeds); 30.8 / 28.3 = 1.088 is within 10 %: done.
  const std::vector<double> rates = walk(search, knee_at_30);
  EXPECT_EQ(rates, (std::vector<double>{5, 10, 20, 40, 28.3, 33.6, 30.8}));
  const PeakResult& r = search.result();
  ASSERT_TRUE(r.peak_rate && r.failed_rate);
  EXPECT_DOUBLE_EQ(*r.peak_rate, 28.3);
  EXPECT_DOUBLE_EQ(*r.failed_rate, 30.8);
  EXPECT_TRUE(r.failures.empty());
  ASSERT_EQ(r.points.size(), 7u);
  EXPECT_EQ(r.points[3].verdict, "exceeds");
  EXPECT_EQ(r.points[3].why, "p90 300ms > 200ms");
  EXPECT_EQ(r.points[4].verdict, "meets");
  EXPECT_EQ(r.points[4].run, 4u);
  EXPECT_EQ(r.outcome,
            "peak 28.3/s (p90 100ms <= 200ms, 28.3 jobs/s done); 30.8/s exceeds (p90 300ms > "
            "200ms)");
}

TEST(peak_search_test, a_design_that_meets_the_bound_everywhere_stops_at_to) {
  PeakSearch search(spec(5, 70));
  const std::vector<double> rates = walk(search, [](double r) { return run_with(50, r); });
  EXPECT_EQ(rates, (std::vector<double>{5, 10, 20, 40, 70}));  // 80 is capped at `to`
  EXPECT_DOUBLE_EQ(*search.result().peak_rate, 70);
  EXPECT_FALSE(search.result().failed_rate);
  EXPECT_NE(search.result().outcome.find("that is 'to', the highest rate tried"), std::string::npos)
      << search.result().outcome;
}

TEST(peak_search_test, no_rate_meeting_the_bound_is_a_failure_after_one_run) {
  PeakSearch search(spec(5, 80));
  const std::vector<double> rates = walk(search, [](double r) { return run_with(900, r); });
  EXPECT_EQ(rates, (std::vector<double>{5}));
  EXPECT_FALSE(search.result().peak_rate);
  ASSERT_EQ(search.result().failures.size(), 1u);
  EXPECT_EQ(search.result().failures[0],
            "find_peak: no rate from 5/s meets p90 <= 200ms: at 5/s p90 900ms > 200ms");
}

TEST(peak_search_test, failed_jobs_do_not_meet_the_bound_however_fast_the_rest) {
  PeakSearch search(spec(5, 80));
  walk(search, [](double r) {
    JobsResult run = run_with(10, r);
    if (r > 15) {  // from 20/s on, two jobs time out
      run.succeeded = 98;
      run.failed = 2;
    }
    return run;
  });
  const PeakResult& p = search.result();
  EXPECT_LE(*p.peak_rate, 15);
  EXPECT_GT(*p.failed_rate, 15);
  bool saw = false;
  for (const auto& pt : p.points)
    if (pt.verdict == "failed") {
      saw = true;
      EXPECT_EQ(pt.why,
                "2 of 100 jobs did not succeed (2 failed, 0 lost, 0 not run, 0 interrupted)");
    }
  EXPECT_TRUE(saw);
}

TEST(peak_search_test, an_invalid_run_ends_the_search_and_says_why) {
  PeakSearch search(spec(5, 80));
  const std::vector<double> rates = walk(search, [](double r) {
    JobsResult run = run_with(100, r);
    if (r >= 20) {
      run.valid = false;
      run.invalid_reasons = {"the load generator may be the bottleneck"};
    }
    return run;
  });
  EXPECT_EQ(rates, (std::vector<double>{5, 10, 20}));
  const PeakResult& p = search.result();
  EXPECT_DOUBLE_EQ(*p.peak_rate, 10);  // the highest rate met by a valid run
  EXPECT_FALSE(p.failed_rate);
  EXPECT_EQ(p.points[2].verdict, "invalid");
  EXPECT_NE(p.outcome.find("the search stopped at 20/s: the run is INVALID: the load generator "
                           "may be the bottleneck"),
            std::string::npos)
      << p.outcome;
  EXPECT_TRUE(p.failures.empty());
}

TEST(peak_search_test, the_point_budget_ends_a_search_and_the_outcome_says_the_bracket_is_wide) {
  PeakSearch search(spec(5, 80, 0.01, 5));
  const std::vector<double> rates = walk(search, knee_at_30);
  EXPECT_EQ(rates, (std::vector<double>{5, 10, 20, 40, 28.3}));
  EXPECT_NE(search.result().outcome.find("5 points run, the bracket is still wider than 1 %"),
            std::string::npos)
      << search.result().outcome;
}

TEST(peak_search_test, an_interrupt_stops_it_with_what_was_found) {
  PeakSearch search(spec(5, 80));
  search.record(5, run_with(100, 5), 0);
  search.interrupt();
  EXPECT_FALSE(search.next_rate());
  EXPECT_DOUBLE_EQ(*search.result().peak_rate, 5);
  EXPECT_NE(search.result().outcome.find("interrupted after 1 rates"), std::string::npos)
      << search.result().outcome;
}

}  // namespace
}  // namespace harness
