// The regression gate's statistics against published and hand-computed values.
#include "harness/analysis/statistics.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <vector>

namespace harness {
namespace {

// Conover's example, as in SciPy's documentation of scipy.stats.mannwhitneyu: U = 17 for the
// males, exact two-sided p = 0.1111 (14 of the C(9, 4) = 126 arrangements are as extreme),
// asymptotic (continuity-corrected) p = 0.11134688653314041.
const std::vector<double> kMales{19, 22, 16, 29, 24};
const std::vector<double> kFemales{20, 11, 17, 12};

TEST(statistics_test, u_test_matches_the_published_exact_example) {
  const UTest t = mann_whitney_u(kMales, kFemales, UMethod::exact);
  EXPECT_DOUBLE_EQ(t.u_base, 17);
  EXPECT_DOUBLE_EQ(t.u_new, 3);
  EXPECT_TRUE(t.exact);
  EXPECT_NEAR(t.p, 14.0 / 126.0, 1e-12);
  // Small samples go the exact way unless told otherwise.
  EXPECT_TRUE(mann_whitney_u(kMales, kFemales).exact);
}

TEST(statistics_test, u_test_matches_the_published_asymptotic_example) {
  const UTest t = mann_whitney_u(kMales, kFemales, UMethod::asymptotic);
  EXPECT_FALSE(t.exact);
  EXPECT_NEAR(t.p, 0.11134688653314041, 1e-12);
}

// Samples of 9 and 9 with a chosen U: the candidate is 10, 20, ..., 90, and the i-th base value
// 10 c + 1 + i (i < 9) lies above exactly c of them, so U(base) is the sum of the c's. No ties,
// not even within a sample (ties change the exact distribution).
double p_for_u(const std::vector<int>& above) {
  std::vector<double> base, candidate;
  for (int i = 1; i <= 9; ++i) candidate.push_back(10.0 * i);
  for (std::size_t i = 0; i < above.size(); ++i)
    base.push_back(10.0 * above[i] + 1 + static_cast<double>(i));
  const UTest t = mann_whitney_u(base, candidate);
  double u = 0;
  for (int c : above) u += c;
  EXPECT_DOUBLE_EQ(t.u_base, u);
  return t.p;
}

TEST(statistics_test, u_test_reproduces_the_critical_values_table_for_9_and_9) {
  // Published tables of the Mann-Whitney U: for n1 = n2 = 9, two-sided, reject when U <= 17 at
  // 0.05 and when U <= 11 at 0.01.
  EXPECT_LE(p_for_u({9, 8, 0, 0, 0, 0, 0, 0, 0}), 0.05);  // U = 17
  EXPECT_GT(p_for_u({9, 9, 0, 0, 0, 0, 0, 0, 0}), 0.05);  // U = 18
  EXPECT_LE(p_for_u({9, 2, 0, 0, 0, 0, 0, 0, 0}), 0.01);  // U = 11
  EXPECT_GT(p_for_u({9, 3, 0, 0, 0, 0, 0, 0, 0}), 0.01);  // U = 12
  // Complete separation: the smallest p there is, 2 / C(18, 9).
  EXPECT_NEAR(p_for_u({9, 9, 9, 9, 9, 9, 9, 9, 9}), 2.0 / 48620.0, 1e-15);
}

TEST(statistics_test, exact_u_test_counts_ties_by_mid_ranks) {
  // Base {1, 2}, new {2, 3}: mid-ranks 1, 2.5 | 2.5, 4, so the base's rank sum is W = 3.5. The
  // C(4, 2) = 6 ways to pick two of the ranks {1, 2.5, 2.5, 4} sum to 3.5 (twice), 5 (twice:
  // 1 + 4 and 2.5 + 2.5) and 6.5 (twice): P(W <= 3.5) = 1/3, so p = 2/3.
  const UTest t = mann_whitney_u(std::vector<double>{1, 2}, std::vector<double>{2, 3});
  EXPECT_TRUE(t.exact);
  EXPECT_DOUBLE_EQ(t.u_base, 0.5);
  EXPECT_NEAR(t.p, 2.0 / 3.0, 1e-12);
}

// The permutation distribution by brute force: every way to split the pooled values into a
// base of m and a candidate of n, counting those whose U(base) is as extreme as the observed.
double enumerated_p(const std::vector<double>& base, const std::vector<double>& candidate) {
  std::vector<double> pooled = base;
  pooled.insert(pooled.end(), candidate.begin(), candidate.end());
  const std::size_t total = pooled.size(), m = base.size();
  auto u_of = [&](unsigned mask) {
    double u = 0;
    for (std::size_t i = 0; i < total; ++i)
      for (std::size_t j = 0; j < total; ++j)
        if ((mask >> i & 1U) && !(mask >> j & 1U))
          u += pooled[i] > pooled[j] ? 1.0 : pooled[i] == pooled[j] ? 0.5 : 0.0;
    return u;
  };
  const double observed = u_of((1U << m) - 1);
  double below = 0, above = 0, all = 0;
  for (unsigned mask = 0; mask < (1U << total); ++mask) {
    if (static_cast<std::size_t>(__builtin_popcount(mask)) != m) continue;
    const double u = u_of(mask);
    all += 1;
    below += u <= observed + 1e-9;
    above += u >= observed - 1e-9;
  }
  return std::min(1.0, 2 * std::min(below, above) / all);
}

TEST(statistics_test, exact_u_test_equals_enumerating_every_split_with_ties) {
  const std::vector<std::vector<double>> bases{
      {95, 95, 5, 5, 5, 5}, {1, 2, 2, 3, 3, 3}, {10, 11, 12, 13, 14, 15}};
  const std::vector<std::vector<double>> candidates{
      {10, 20, 30, 40, 50, 60, 5}, {2, 3, 4, 4, 5}, {13, 14, 16, 17, 18, 19, 20}};
  for (std::size_t i = 0; i < bases.size(); ++i)
    EXPECT_NEAR(mann_whitney_u(bases[i], candidates[i], UMethod::exact).p,
                enumerated_p(bases[i], candidates[i]), 1e-12)
        << "case " << i;
}

TEST(statistics_test, asymptotic_u_test_corrects_for_ties) {
  // Base {1, 2, 2, 3}, new {2, 3, 4, 4}: mid-ranks 1, 3, 3, 5.5 | 3, 5.5, 7.5, 7.5, so
  // U(base) = 12.5 - 10 = 2.5 against a mean of 8. Ties 3, 2, 2: sum t^3 - t = 36, variance
  // 16/12 x (9 - 36/56) = 11.142857, z = (5.5 - 0.5) / 3.338092 = 1.49786, p = 2 Q(z) = 0.1342.
  const UTest t = mann_whitney_u(std::vector<double>{1, 2, 2, 3}, std::vector<double>{2, 3, 4, 4},
                                 UMethod::asymptotic);
  EXPECT_DOUBLE_EQ(t.u_base, 2.5);
  EXPECT_NEAR(t.p, 0.1342, 1e-3);
}

TEST(statistics_test, all_values_tied_is_never_significant) {
  const std::vector<double> same(6, 7.0);
  EXPECT_DOUBLE_EQ(mann_whitney_u(same, same, UMethod::exact).p, 1.0);
  EXPECT_DOUBLE_EQ(mann_whitney_u(same, same, UMethod::asymptotic).p, 1.0);
}

TEST(statistics_test, exact_and_asymptotic_agree_for_larger_samples) {
  std::vector<double> base, candidate;
  for (int i = 0; i < 30; ++i) {
    base.push_back(100 + (i * 37) % 23);
    candidate.push_back(104 + (i * 41) % 23);
  }
  const double exact = mann_whitney_u(base, candidate, UMethod::exact).p;
  const double normal = mann_whitney_u(base, candidate, UMethod::asymptotic).p;
  EXPECT_LT(exact, 0.05);
  EXPECT_NEAR(normal / exact, 1.0, 0.1) << exact << " " << normal;
  // 60 values in all is the exact limit; more go the normal way.
  base.push_back(101);
  EXPECT_FALSE(mann_whitney_u(base, candidate).exact);
}

TEST(statistics_test, smallest_possible_p_decides_how_many_repetitions_are_enough) {
  EXPECT_NEAR(min_p_two_sided(3, 3), 0.1, 1e-15);         // 2 / C(6, 3)
  EXPECT_NEAR(min_p_two_sided(4, 4), 2.0 / 70, 1e-15);    // below 0.05, not below 0.01
  EXPECT_NEAR(min_p_two_sided(5, 5), 2.0 / 252, 1e-15);   // the first below 0.01
  EXPECT_NEAR(min_p_two_sided(2, 20), 2.0 / 231, 1e-15);  // C(22, 2)
  EXPECT_NEAR(min_p_two_sided(1, 10), 2.0 / 11, 1e-15);
  EXPECT_DOUBLE_EQ(min_p_two_sided(0, 10), 1.0);
  EXPECT_GT(min_p_two_sided(500, 500), 0.0);  // 2 / C(1000, 500), about 7e-300
  EXPECT_LT(min_p_two_sided(500, 500), 1e-299);
  EXPECT_EQ(min_p_two_sided(600, 600), 0.0);  // below the smallest double: always enough
}

TEST(statistics_test, median_and_lower_quantile) {
  EXPECT_DOUBLE_EQ(median({3, 1, 2}), 2);
  EXPECT_DOUBLE_EQ(median({4, 1, 3, 2}), 2.5);
  EXPECT_THROW(median({}), std::invalid_argument);
  const std::vector<double> ten{10, 9, 8, 7, 6, 5, 4, 3, 2, 1};
  EXPECT_DOUBLE_EQ(quantile_lower(ten, 0.0), 1);
  EXPECT_DOUBLE_EQ(quantile_lower(ten, 0.1), 1);  // F(1) = 0.1 >= 0.1
  EXPECT_DOUBLE_EQ(quantile_lower(ten, 0.11), 2);
  EXPECT_DOUBLE_EQ(quantile_lower(ten, 0.5), 5);
  EXPECT_DOUBLE_EQ(quantile_lower(ten, 1.0), 10);
}

TEST(statistics_test, bootstrap_medians_follow_the_exact_bootstrap_distribution) {
  // Resampling {1, 2, 3} three times with replacement: the median is 1 when at least two
  // draws are 1 (3 x 2 + 1 = 7 of 27 draws), 3 likewise (7/27), 2 otherwise (13/27).
  std::mt19937_64 rng(42);
  const std::vector<double> medians = bootstrap_medians(std::vector<double>{1, 2, 3}, 100000, rng);
  std::map<double, int> count;
  for (double m : medians) ++count[m];
  ASSERT_EQ(count.size(), 3u);
  EXPECT_NEAR(count[1] / 1e5, 7.0 / 27, 0.01);
  EXPECT_NEAR(count[2] / 1e5, 13.0 / 27, 0.01);
  EXPECT_NEAR(count[3] / 1e5, 7.0 / 27, 0.01);
}

TEST(statistics_test, bootstrap_ratio_interval_matches_the_hand_computed_one) {
  // Base {1, 2, 3}, new {2, 4, 6}: each median takes its low, middle, high value with
  // probabilities 7/27, 13/27, 7/27, independently. The ratio new/base has the distribution
  // (of 729): 2/3: 49, 1: 91, 4/3: 91, 2: 267, 3: 91, 4: 91, 6: 49, so F = 6.7 %, 19.2 %, 31.7 %,
  // 68.3 %, 80.8 %, 93.3 %, 100 %. The 95 % interval (2.5 % and 97.5 % points) is [2/3, 6];
  // the 80 % interval (10 % and 90 %) is [1, 4].
  const std::vector<double> base{1, 2, 3}, candidate{2, 4, 6};
  const Interval i95 = bootstrap_ratio_ci(base, candidate, 0.95, 20000, 7);
  EXPECT_DOUBLE_EQ(i95.low, 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(i95.high, 6.0);
  const Interval i80 = bootstrap_ratio_ci(base, candidate, 0.80, 20000, 7);
  EXPECT_DOUBLE_EQ(i80.low, 1.0);
  EXPECT_DOUBLE_EQ(i80.high, 4.0);
  // Seeded: the same seed, the same interval.
  const Interval again = bootstrap_ratio_ci(base, candidate, 0.80, 20000, 7);
  EXPECT_DOUBLE_EQ(again.low, i80.low);
  EXPECT_THROW(bootstrap_ratio_ci(base, candidate, 1.5, 100, 1), std::invalid_argument);
}

std::vector<double> scaled(const std::vector<double>& v, double factor) {
  std::vector<double> out;
  for (double x : v) out.push_back(x * factor);
  return out;
}

// Nine repetitions around 100 with a spread of about 1 %.
const std::vector<double> kTight{99.1, 100.4, 99.7, 100.9, 100.2, 99.5, 100.6, 99.9, 100.1};

TEST(statistics_test, decision_too_few_repetitions_is_not_enough_data) {
  const std::vector<double> base{100, 101, 99}, candidate{150, 151, 149};
  const Decision d = decide(base, candidate, {});
  EXPECT_EQ(d.verdict, Verdict::not_enough_data);  // 3 + 3 can never reach p < 0.01
  EXPECT_NEAR(d.ratio, 1.5, 1e-12);                // the effect is still shown
  EXPECT_NEAR(d.min_p, 0.1, 1e-12);
  EXPECT_FALSE(d.test.has_value());
}

TEST(statistics_test, decision_small_significant_change_is_no_change) {
  const Decision d = decide(kTight, scaled(kTight, 1.01), {});
  ASSERT_TRUE(d.test.has_value());
  EXPECT_NEAR(d.worse_pct, 1.0, 1e-9);
  EXPECT_EQ(d.verdict, Verdict::no_change);  // 1 % is under the 3 % threshold
}

TEST(statistics_test, decision_large_change_inside_the_noise_is_not_significant) {
  const std::vector<double> base{60, 80, 100, 120, 140, 70, 90, 110, 130};
  const Decision d = decide(base, scaled(base, 1.10), {});
  EXPECT_NEAR(d.worse_pct, 10.0, 1e-9);
  ASSERT_TRUE(d.test.has_value());
  EXPECT_GT(d.test->p, 0.01);
  EXPECT_EQ(d.verdict, Verdict::not_significant);
  ASSERT_TRUE(d.ci.has_value());
  EXPECT_LT(d.ci->low, 1.0);
  EXPECT_GT(d.ci->high, 1.0);
}

TEST(statistics_test, decision_large_significant_change_is_a_regression_or_an_improvement) {
  const Decision slower = decide(kTight, scaled(kTight, 1.05), {});
  EXPECT_EQ(slower.verdict, Verdict::regression);
  EXPECT_NEAR(slower.ratio, 1.05, 1e-12);
  ASSERT_TRUE(slower.ci.has_value());
  EXPECT_GT(slower.ci->low, 1.0);
  EXPECT_EQ(decide(scaled(kTight, 1.05), kTight, {}).verdict, Verdict::improvement);
  // For throughput, lower is worse.
  DecisionOptions fps;
  fps.higher_is_better = true;
  const Decision fewer = decide(kTight, scaled(kTight, 0.95), fps);
  EXPECT_NEAR(fewer.worse_pct, 5.0, 1e-9);
  EXPECT_EQ(fewer.verdict, Verdict::regression);
}

TEST(statistics_test, decision_constant_memory_that_grew_is_a_regression) {
  // Memory barely moves: nine equal values a side, 3 % apart.
  const std::vector<double> base(9, 100000.0), candidate(9, 103000.0);
  DecisionOptions memory;
  memory.threshold = 0.02;
  const Decision d = decide(base, candidate, memory);
  EXPECT_EQ(d.verdict, Verdict::regression);
  EXPECT_NEAR(d.test->p, 2.0 / 48620.0, 1e-15);
  EXPECT_DOUBLE_EQ(d.ci->low, 1.03);
  EXPECT_DOUBLE_EQ(d.ci->high, 1.03);
  // The same values on both sides: no change, whatever the threshold.
  memory.threshold = 0;
  EXPECT_EQ(decide(base, base, memory).verdict, Verdict::no_change);
}

TEST(statistics_test, decision_refuses_what_it_cannot_judge) {
  const std::vector<double> zeros(9, 0.0);
  EXPECT_THROW(decide(zeros, kTight, {}), std::invalid_argument);
  EXPECT_THROW(decide({}, kTight, {}), std::invalid_argument);
  EXPECT_THROW(decide(std::vector<double>{NAN}, kTight, {}), std::invalid_argument);
  DecisionOptions bad;
  bad.alpha = 0;
  EXPECT_THROW(decide(kTight, kTight, bad), std::invalid_argument);
}

}  // namespace
}  // namespace harness
