// The regression gate's statistics against published and hand-computed values.
#include "harness/analysis/statistics.hpp"

#include <gtest/gtest.h>

#include <algorithm>
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

// The signed-rank p by enumerating every sign pattern of the mid-ranks: an independent count.
double enumerated_signed_rank_p(const std::vector<double>& d) {
  std::vector<double> nz;
  for (double x : d)
    if (x != 0) nz.push_back(x);
  const std::size_t n = nz.size();
  std::vector<double> rank(n);
  for (std::size_t i = 0; i < n; ++i) {
    double below = 0, equal = 0;
    for (std::size_t j = 0; j < n; ++j) {
      below += std::abs(nz[j]) < std::abs(nz[i]);
      equal += std::abs(nz[j]) == std::abs(nz[i]);
    }
    rank[i] = below + (equal + 1) / 2;
  }
  double w = 0;
  for (std::size_t i = 0; i < n; ++i) w += nz[i] > 0 ? rank[i] : 0;
  double le = 0, ge = 0;
  const std::size_t patterns = std::size_t{1} << n;
  for (std::size_t mask = 0; mask < patterns; ++mask) {
    double s = 0;
    for (std::size_t i = 0; i < n; ++i) s += (mask >> i & 1) ? rank[i] : 0;
    le += s <= w + 1e-9;
    ge += s >= w - 1e-9;
  }
  return std::min(1.0, 2 * std::min(le, ge) / static_cast<double>(patterns));
}

TEST(statistics_test, signed_rank_test_matches_hand_counts) {
  // Nine pairs all one way: 2 / 2^9, the smallest p of nine pairs.
  const std::vector<double> nine = {0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 0.08, 0.09};
  const SignedRankTest all = wilcoxon_signed_rank(nine);
  EXPECT_TRUE(all.exact);
  EXPECT_EQ(all.n, 9);
  EXPECT_DOUBLE_EQ(all.w_plus, 45);
  EXPECT_DOUBLE_EQ(all.p, 2.0 / 512);
  EXPECT_DOUBLE_EQ(min_p_signed_rank(9), 2.0 / 512);
  // n = 5, the smallest difference negative: W+ = 14; P(S >= 14) = 2/32, so p = 0.125.
  const SignedRankTest one_down = wilcoxon_signed_rank(std::vector<double>{-1, 2, 3, 4, 5});
  EXPECT_DOUBLE_EQ(one_down.w_plus, 14);
  EXPECT_DOUBLE_EQ(one_down.p, 0.125);
  // Zeros are dropped; no difference at all is p = 1.
  EXPECT_EQ(wilcoxon_signed_rank(std::vector<double>{0, 1, 2, 3}).n, 3);
  EXPECT_DOUBLE_EQ(wilcoxon_signed_rank(std::vector<double>{0, 0}).p, 1.0);
  EXPECT_THROW(wilcoxon_signed_rank(std::vector<double>{}), std::invalid_argument);
  EXPECT_THROW(wilcoxon_signed_rank(std::vector<double>{NAN}), std::invalid_argument);
}

TEST(statistics_test, exact_signed_rank_equals_enumerating_every_sign_pattern_with_ties) {
  const std::vector<std::vector<double>> cases = {
      {1, 1, -1, 2, 2, 3, -3, 4},
      {0.5, -0.5, 0.5, 1.5, -2, 2, 2, 7, -7, 0},
      {3, -1, 4, -1, 5, 9, -2, 6, 5, -3, 5, 8},
      {-1, -2, -3, 1, 2, 3},
  };
  for (const auto& d : cases) {
    const SignedRankTest t = wilcoxon_signed_rank(d);
    EXPECT_TRUE(t.exact);
    EXPECT_NEAR(t.p, enumerated_signed_rank_p(d), 1e-12);
  }
}

TEST(statistics_test, asymptotic_signed_rank_agrees_with_the_exact_count_near_the_limit) {
  // 40 differences are counted exactly; the normal approximation of the same data (computed
  // here) is close to it, and 41 differences switch to the approximation.
  std::vector<double> d;
  for (int i = 1; i <= 40; ++i) d.push_back((i % 3 == 0 ? -1.0 : 1.0) * i);
  const SignedRankTest exact = wilcoxon_signed_rank(d);
  ASSERT_TRUE(exact.exact);
  const double n = 40, mean = n * (n + 1) / 4, sd = std::sqrt(n * (n + 1) * (2 * n + 1) / 24);
  const double z = (std::abs(exact.w_plus - mean) - 0.5) / sd;
  EXPECT_NEAR(exact.p, std::erfc(z / std::sqrt(2.0)), 0.01);
  d.push_back(41);  // 41 differences: the approximation
  const SignedRankTest approx = wilcoxon_signed_rank(d);
  EXPECT_FALSE(approx.exact);
  EXPECT_GT(approx.p, 0);
  EXPECT_LE(approx.p, 1);
}

TEST(statistics_test, pairs_see_a_5_percent_change_that_drift_between_rounds_hides) {
  // Rounds drift 10..26 (a busy machine); each round's candidate is 5 % slower than its base,
  // give or take 1 %. Pooled, the samples overlap; paired, every pair is slower.
  std::vector<double> base, cand;
  for (int r = 0; r < 9; ++r) {
    base.push_back(10 + 2 * r);
    cand.push_back((10 + 2 * r) * (1.05 + (r % 3 - 1) * 0.01));
  }
  DecisionOptions o;
  const Decision pooled = decide(base, cand, o);
  EXPECT_EQ(pooled.verdict, Verdict::not_significant) << pooled.test->p;
  const Decision paired = decide_paired(base, cand, o);
  EXPECT_EQ(paired.verdict, Verdict::regression);
  ASSERT_TRUE(paired.signed_rank.has_value());
  EXPECT_DOUBLE_EQ(paired.signed_rank->p, 2.0 / 512);
  EXPECT_NEAR(paired.ratio, 1.05, 1e-9);
  ASSERT_TRUE(paired.ci.has_value());
  EXPECT_GE(paired.ci->low, 1.04 - 1e-9);
  EXPECT_LE(paired.ci->high, 1.06 + 1e-9);
  EXPECT_DOUBLE_EQ(paired.base_median, 18);  // each side's own median, for the table
  // The same pairs with no change: no change; with the sides swapped: an improvement.
  EXPECT_EQ(decide_paired(base, base, o).verdict, Verdict::no_change);
  EXPECT_EQ(decide_paired(cand, base, o).verdict, Verdict::improvement);
  // Throughput: higher is better, so a 5 % drop is the regression.
  o.higher_is_better = true;
  EXPECT_EQ(decide_paired(cand, base, o).verdict, Verdict::regression);
}

TEST(statistics_test, paired_decision_needs_enough_pairs_and_positive_values) {
  DecisionOptions o;
  const std::vector<double> seven_b = {1, 2, 3, 4, 5, 6, 7};
  const std::vector<double> seven_n = {2, 4, 6, 8, 10, 12, 14};
  // 7 pairs: 2 / 128 = 0.0156 >= 0.01, never significant.
  const Decision d = decide_paired(seven_b, seven_n, o);
  EXPECT_EQ(d.verdict, Verdict::not_enough_data);
  EXPECT_NEAR(d.ratio, 2, 1e-12);
  EXPECT_THROW(decide_paired(std::vector<double>{1, 2}, std::vector<double>{1}, o),
               std::invalid_argument);
  EXPECT_THROW(decide_paired(std::vector<double>{1, 0}, std::vector<double>{1, 1}, o),
               std::invalid_argument);
}

}  // namespace
}  // namespace harness
