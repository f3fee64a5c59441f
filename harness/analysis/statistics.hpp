#pragma once
// The statistics of the regression gate (docs/regression.md): is the difference between the
// base's and the candidate's repetitions of one metric real, and how large is it?
//
// - mann_whitney_u: the rank-sum test. Exact (the permutation distribution of the rank sum,
//   counted by dynamic programming over doubled mid-ranks, so ties are handled exactly too) up
//   to kExactLimit values in all; beyond, the normal approximation with tie and continuity
//   corrections. Two-sided p = 2 x min(P(W <= w), P(W >= w)), at most 1.
// - min_p_two_sided: the smallest two-sided p the exact test can give for sample sizes m and n,
//   2 / C(m + n, m) (all of one sample below all of the other, no ties). When it is not below
//   the level, no data of that size can ever be significant: "not enough data".
// - bootstrap_ratio_ci: percentile bootstrap confidence interval of median(new) / median(base),
//   each sample resampled with replacement on its own; seeded, so a report is reproducible.
// - wilcoxon_signed_rank: the paired test, for values that come in pairs (the base and the
//   candidate of one round of an interleaved A/B run, seconds apart, so the drift between rounds
//   falls on both). Zero differences are dropped; the rest ranked by absolute value with
//   doubled mid-ranks, and the distribution of the positive ranks' sum counted exactly (every
//   sign pattern equally likely) up to kExactPairs differences, beyond with the normal
//   approximation (tie and continuity corrections). Two-sided p as for the U test.
// - decide: the decision table of one metric (see decide()); decide_paired() the same table
//   on pairs: the effect is the median of the pairs' ratios new / base, the test the signed-rank
//   test of their logarithms, the interval a bootstrap of that median over resampled pairs.
//
// Values are whatever the metric measures (seconds, KiB, fps); they must be finite. Functions
// throw std::invalid_argument on empty samples or a level outside (0, 1).

#include <cstdint>
#include <optional>
#include <random>
#include <span>
#include <string_view>
#include <vector>

namespace harness {

inline constexpr int kExactLimit = 60;  // values in both samples together

enum class UMethod { automatic, exact, asymptotic };

struct UTest {
  double u_base = 0;  // pairs (base, new) with base > new, ties counted 1/2
  double u_new = 0;   // pairs with new > base; u_base + u_new = m x n
  double p = 1;       // two-sided
  bool exact = false;
};

UTest mann_whitney_u(std::span<const double> base, std::span<const double> candidate,
                     UMethod method = UMethod::automatic);

double min_p_two_sided(int m, int n);

inline constexpr int kExactPairs = 40;

struct SignedRankTest {
  double w_plus = 0;  // sum of the ranks of the positive differences
  int n = 0;          // differences that are not 0
  double p = 1;       // two-sided
  bool exact = false;
};

SignedRankTest wilcoxon_signed_rank(std::span<const double> differences);

// The smallest two-sided p of the exact signed-rank test with n pairs: 2 / 2^n (every pair on
// the same side). 9 pairs: 0.0039.
double min_p_signed_rank(int n);

double median(std::vector<double> values);  // by value: it partially sorts its copy

struct Interval {
  double low = 0;
  double high = 0;
};

// The `resamples` bootstrap medians of `values`, drawn with `rng`: exposed so tests can check
// the resampling against the exact bootstrap distribution.
std::vector<double> bootstrap_medians(std::span<const double> values, int resamples,
                                      std::mt19937_64& rng);

// Percentile interval at `level` (e.g. 0.99) of median(candidate) / median(base). Requires a
// base median that is not 0.
Interval bootstrap_ratio_ci(std::span<const double> base, std::span<const double> candidate,
                            double level, int resamples, std::uint64_t seed);

// The q-quantile of a sample as the smallest value v with F(v) >= q (F the empirical
// distribution function): the percentile bootstrap's convention.
double quantile_lower(std::vector<double> values, double q);

enum class Verdict { no_change, regression, improvement, not_significant, not_enough_data };
std::string_view to_string(Verdict verdict);

struct DecisionOptions {
  double threshold = 0.03;  // relative change that matters, e.g. 0.03 for 3 %
  double alpha = 0.01;      // two-sided level of the test; the interval is at 1 - alpha
  bool higher_is_better = false;
  int resamples = 10000;
  std::uint64_t seed = 1;
};

struct Decision {
  Verdict verdict = Verdict::not_enough_data;
  double base_median = 0;
  double new_median = 0;
  double ratio = 1;  // new median / base median
  std::optional<Interval> ci;
  double worse_pct = 0;  // (ratio - 1) x 100, sign flipped for higher-is-better: > 0 is worse
  std::optional<UTest> test;
  std::optional<SignedRankTest> signed_rank;  // decide_paired() only, instead of `test`
  double min_p = 1;  // min_p_two_sided of the sizes (min_p_signed_rank of the pairs)
};

// The decision table, in this order:
//   min_p_two_sided(m, n) >= alpha             -> not_enough_data (the effect is still shown)
//   |worse_pct| <= threshold                   -> no_change
//   U test p >= alpha, or the interval holds 1 -> not_significant (past the threshold, but the
//                                                 repetitions do not tell it from noise)
//   otherwise                                  -> regression (worse_pct > 0) or improvement
// Requiring both the test and the interval means the table never shows a regression whose
// interval says "maybe no change". The base median must not be 0 (the caller reports n/a).
Decision decide(std::span<const double> base, std::span<const double> candidate,
                const DecisionOptions& options);

// The same table on pairs (base[i], candidate[i]), every value above 0: ratio = the median of
// candidate[i] / base[i]; test = wilcoxon_signed_rank of their logarithms (so a change by a
// factor counts alike for large and small values); interval = percentile bootstrap of that
// median over resampled pairs; not_enough_data when min_p_signed_rank(pairs) >= alpha.
// base_median and new_median are still the medians of each side, for the table.
Decision decide_paired(std::span<const double> base, std::span<const double> candidate,
                       const DecisionOptions& options);

}  // namespace harness
