#include "harness/analysis/statistics.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>

#include <boost/math/distributions/normal.hpp>
#include <boost/math/special_functions/binomial.hpp>

namespace harness {
namespace {

void require_values(std::span<const double> v, const char* what) {
  if (v.empty()) throw std::invalid_argument(std::string(what) + " sample is empty");
  for (double x : v)
    if (!std::isfinite(x))
      throw std::invalid_argument(std::string(what) + " sample holds a value that is not finite");
}

void require_level(double level, const char* what) {
  if (!(level > 0 && level < 1))
    throw std::invalid_argument(std::string(what) + " must be between 0 and 1, got " +
                                std::to_string(level));
}

// Mid-ranks of the pooled sample, doubled so they are whole numbers ((i + 1 + j) for a tie
// group at sorted positions i..j-1), in input order: base first, then candidate.
struct Ranked {
  std::vector<long> doubled;
  double tie_term = 0;  // sum over tie groups of t^3 - t
};

Ranked rank(std::span<const double> base, std::span<const double> candidate) {
  const std::size_t n = base.size() + candidate.size();
  std::vector<std::pair<double, std::size_t>> pooled;
  pooled.reserve(n);
  for (std::size_t i = 0; i < base.size(); ++i) pooled.emplace_back(base[i], i);
  for (std::size_t i = 0; i < candidate.size(); ++i)
    pooled.emplace_back(candidate[i], base.size() + i);
  std::sort(pooled.begin(), pooled.end());
  Ranked r;
  r.doubled.assign(n, 0);
  for (std::size_t i = 0; i < n;) {
    std::size_t j = i + 1;
    while (j < n && pooled[j].first == pooled[i].first) ++j;
    const auto t = static_cast<double>(j - i);
    r.tie_term += t * t * t - t;
    for (std::size_t k = i; k < j; ++k) r.doubled[pooled[k].second] = static_cast<long>(i + 1 + j);
    i = j;
  }
  return r;
}

// P(W <= w) and P(W >= w) for W the doubled rank sum of `k` values drawn without replacement
// from `scores`, every subset equally likely (the null hypothesis).
std::pair<double, double> exact_tails(const std::vector<long>& scores, std::size_t k, long w) {
  long total = 0;
  for (long s : scores) total += s;
  // ways[j][s]: subsets of j of the scores seen so far with sum s.
  std::vector<std::vector<double>> ways(k + 1, std::vector<double>(total + 1, 0.0));
  ways[0][0] = 1;
  std::size_t seen = 0;
  for (long score : scores) {
    ++seen;
    for (std::size_t j = std::min(k, seen); j >= 1; --j) {
      auto& to = ways[j];
      const auto& from = ways[j - 1];
      for (long s = total; s >= score; --s) to[s] += from[s - score];
    }
  }
  double all = 0, below = 0, above = 0;
  for (long s = 0; s <= total; ++s) {
    const double c = ways[k][s];
    all += c;
    if (s <= w) below += c;
    if (s >= w) above += c;
  }
  return {below / all, above / all};
}

// The rows of the decision table after "not enough data" (see decide()), shared by both tests.
Verdict verdict_of(double worse_pct, double p, const Interval& ci, const DecisionOptions& o) {
  if (std::abs(worse_pct) <= o.threshold * 100) return Verdict::no_change;
  if (p >= o.alpha || (ci.low <= 1 && 1 <= ci.high)) return Verdict::not_significant;
  return worse_pct > 0 ? Verdict::regression : Verdict::improvement;
}

}  // namespace

UTest mann_whitney_u(std::span<const double> base, std::span<const double> candidate,
                     UMethod method) {
  require_values(base, "base");
  require_values(candidate, "candidate");
  const Ranked r = rank(base, candidate);
  const auto m = static_cast<double>(base.size());
  const auto n = static_cast<double>(candidate.size());
  long w_base = 0;
  for (std::size_t i = 0; i < base.size(); ++i) w_base += r.doubled[i];
  UTest t;
  t.u_base = static_cast<double>(w_base) / 2.0 - m * (m + 1) / 2.0;
  t.u_new = m * n - t.u_base;
  const std::size_t pooled = base.size() + candidate.size();
  const bool exact = method == UMethod::exact ||
                     (method == UMethod::automatic && pooled <= std::size_t(kExactLimit));
  if (exact) {
    // The smaller sample's sum costs less to count; its tails mirror the other's.
    const bool use_base = base.size() <= candidate.size();
    std::vector<long> scores = r.doubled;
    const long w = use_base ? w_base : [&] {
      long s = 0;
      for (std::size_t i = base.size(); i < pooled; ++i) s += r.doubled[i];
      return s;
    }();
    const auto [below, above] = exact_tails(scores, use_base ? base.size() : candidate.size(), w);
    t.p = std::min(1.0, 2.0 * std::min(below, above));
    t.exact = true;
    return t;
  }
  const double big_n = m + n;
  const double variance = m * n / 12.0 * ((big_n + 1) - r.tie_term / (big_n * (big_n - 1)));
  if (variance <= 0) {
    t.p = 1;  // every value tied: nothing to tell apart
    return t;
  }
  const double z = std::max(0.0, std::abs(t.u_base - m * n / 2.0) - 0.5) / std::sqrt(variance);
  const boost::math::normal standard;
  t.p = std::min(1.0, 2.0 * boost::math::cdf(boost::math::complement(standard, z)));
  return t;
}

double min_p_two_sided(int m, int n) {
  if (m < 1 || n < 1) return 1;
  const auto total = static_cast<unsigned>(m + n);
  const auto k = static_cast<unsigned>(std::min(m, n));
  double ways = 0;
  if (total <= 1000) {
    ways = boost::math::binomial_coefficient<double>(total, k);
  } else {
    ways = std::exp(std::lgamma(total + 1.0) - std::lgamma(k + 1.0) - std::lgamma(total - k + 1.0));
  }
  return std::min(1.0, 2.0 / ways);
}

double median(std::vector<double> values) {
  if (values.empty()) throw std::invalid_argument("median of an empty sample");
  const std::size_t mid = values.size() / 2;
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(mid), values.end());
  const double upper = values[mid];
  if (values.size() % 2 == 1) return upper;
  const double lower =
      *std::max_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(mid));
  return (lower + upper) / 2.0;
}

std::vector<double> bootstrap_medians(std::span<const double> values, int resamples,
                                      std::mt19937_64& rng) {
  require_values(values, "bootstrap");
  std::uniform_int_distribution<std::size_t> pick(0, values.size() - 1);
  std::vector<double> out;
  out.reserve(static_cast<std::size_t>(std::max(resamples, 0)));
  std::vector<double> draw(values.size());
  for (int b = 0; b < resamples; ++b) {
    for (double& d : draw) d = values[pick(rng)];
    out.push_back(median(draw));
  }
  return out;
}

double quantile_lower(std::vector<double> values, double q) {
  if (values.empty()) throw std::invalid_argument("quantile of an empty sample");
  std::sort(values.begin(), values.end());
  // The 1e-9 keeps q x B = 50.000000001 (binary rounding of 0.005 x 10000) at index 49.
  const double rank = std::ceil(q * static_cast<double>(values.size()) - 1e-9);
  const auto index =
      static_cast<std::size_t>(std::clamp(rank - 1.0, 0.0, static_cast<double>(values.size() - 1)));
  return values[index];
}

Interval bootstrap_ratio_ci(std::span<const double> base, std::span<const double> candidate,
                            double level, int resamples, std::uint64_t seed) {
  require_level(level, "confidence level");
  if (resamples < 1) throw std::invalid_argument("bootstrap needs at least one resample");
  std::mt19937_64 rng(seed);
  const std::vector<double> b = bootstrap_medians(base, resamples, rng);
  const std::vector<double> c = bootstrap_medians(candidate, resamples, rng);
  std::vector<double> ratios(b.size());
  for (std::size_t i = 0; i < b.size(); ++i)
    ratios[i] = b[i] != 0 ? c[i] / b[i] : std::numeric_limits<double>::infinity();
  const double tail = (1 - level) / 2;
  return {quantile_lower(ratios, tail), quantile_lower(ratios, 1 - tail)};
}

SignedRankTest wilcoxon_signed_rank(std::span<const double> differences) {
  require_values(differences, "differences");
  std::vector<double> d;
  for (double x : differences)
    if (x != 0) d.push_back(x);
  SignedRankTest t;
  t.n = static_cast<int>(d.size());
  if (d.empty()) return t;  // no difference at all: p = 1
  std::vector<std::size_t> order(d.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return std::abs(d[a]) < std::abs(d[b]); });
  std::vector<long> doubled(d.size(), 0);
  double tie_term = 0;
  for (std::size_t i = 0; i < order.size();) {
    std::size_t j = i + 1;
    while (j < order.size() && std::abs(d[order[j]]) == std::abs(d[order[i]])) ++j;
    const auto g = static_cast<double>(j - i);
    tie_term += g * g * g - g;
    for (std::size_t k = i; k < j; ++k) doubled[order[k]] = static_cast<long>(i + 1 + j);
    i = j;
  }
  long w2 = 0, total2 = 0;
  for (std::size_t i = 0; i < d.size(); ++i) {
    total2 += doubled[i];
    if (d[i] > 0) w2 += doubled[i];
  }
  t.w_plus = static_cast<double>(w2) / 2;
  if (t.n <= kExactPairs) {
    // count[s]: sign patterns whose positive doubled ranks sum to s; 2^40 fits a double exactly.
    std::vector<double> count(static_cast<std::size_t>(total2) + 1, 0.0);
    count[0] = 1;
    long reach = 0;
    for (long r : doubled) {
      for (long s = reach; s >= 0; --s)
        count[static_cast<std::size_t>(s + r)] += count[static_cast<std::size_t>(s)];
      reach += r;
    }
    double below = 0, above = 0, all = 0;
    for (long s = 0; s <= total2; ++s) {
      const double c = count[static_cast<std::size_t>(s)];
      all += c;
      if (s <= w2) below += c;
      if (s >= w2) above += c;
    }
    t.p = std::min(1.0, 2 * std::min(below, above) / all);
    t.exact = true;
    return t;
  }
  const double n = t.n;
  const double mean = n * (n + 1) / 4;
  const double var = n * (n + 1) * (2 * n + 1) / 24 - tie_term / 48;
  if (var <= 0) return t;
  const double z = std::max(0.0, std::abs(t.w_plus - mean) - 0.5) / std::sqrt(var);
  t.p = std::min(1.0, std::erfc(z / std::sqrt(2.0)));
  return t;
}

double min_p_signed_rank(int n) {
  if (n < 1) return 1;
  return std::min(1.0, 2 * std::pow(0.5, n));
}

Decision decide_paired(std::span<const double> base, std::span<const double> candidate,
                       const DecisionOptions& o) {
  require_values(base, "base");
  require_values(candidate, "candidate");
  require_level(o.alpha, "alpha");
  if (base.size() != candidate.size()) throw std::invalid_argument("paired samples differ in size");
  std::vector<double> ratios, logs;
  for (std::size_t i = 0; i < base.size(); ++i) {
    if (!(base[i] > 0 && candidate[i] > 0))
      throw std::invalid_argument("a paired value is not above 0: no ratio");
    ratios.push_back(candidate[i] / base[i]);
    logs.push_back(std::log(candidate[i] / base[i]));
  }
  Decision d;
  d.base_median = median({base.begin(), base.end()});
  d.new_median = median({candidate.begin(), candidate.end()});
  d.ratio = median(ratios);
  const double change_pct = (d.ratio - 1) * 100;
  d.worse_pct = o.higher_is_better ? -change_pct : change_pct;
  d.min_p = min_p_signed_rank(static_cast<int>(ratios.size()));
  if (d.min_p >= o.alpha) {
    d.verdict = Verdict::not_enough_data;
    return d;
  }
  d.signed_rank = wilcoxon_signed_rank(logs);
  if (o.resamples < 1) throw std::invalid_argument("bootstrap needs at least one resample");
  std::mt19937_64 rng(o.seed);
  const std::vector<double> medians = bootstrap_medians(ratios, o.resamples, rng);
  const double tail = o.alpha / 2;
  d.ci = Interval{quantile_lower(medians, tail), quantile_lower(medians, 1 - tail)};
  d.verdict = verdict_of(d.worse_pct, d.signed_rank->p, *d.ci, o);
  return d;
}

std::string_view to_string(Verdict verdict) {
  switch (verdict) {
    case Verdict::no_change: return "no change";
    case Verdict::regression: return "regression";
    case Verdict::improvement: return "improvement";
    case Verdict::not_significant: return "not significant";
    case Verdict::not_enough_data: return "not enough data";
  }
  return "?";
}

Decision decide(std::span<const double> base, std::span<const double> candidate,
                const DecisionOptions& o) {
  require_values(base, "base");
  require_values(candidate, "candidate");
  require_level(o.alpha, "alpha");
  Decision d;
  d.base_median = median({base.begin(), base.end()});
  d.new_median = median({candidate.begin(), candidate.end()});
  if (d.base_median == 0) throw std::invalid_argument("the base median is 0: no ratio");
  d.ratio = d.new_median / d.base_median;
  const double change_pct = (d.ratio - 1) * 100;
  d.worse_pct = o.higher_is_better ? -change_pct : change_pct;
  d.min_p = min_p_two_sided(static_cast<int>(base.size()), static_cast<int>(candidate.size()));
  if (d.min_p >= o.alpha) {
    d.verdict = Verdict::not_enough_data;
    return d;
  }
  d.test = mann_whitney_u(base, candidate);
  d.ci = bootstrap_ratio_ci(base, candidate, 1 - o.alpha, o.resamples, o.seed);
  d.verdict = verdict_of(d.worse_pct, d.test->p, *d.ci, o);
  return d;
}

}  // namespace harness
