// Markdown and JSON of a Comparison (compare.hpp).
#include <algorithm>

#include <fmt/format.h>

#include "harness/analysis/compare.hpp"

namespace harness {
namespace {

using nlohmann::json;

std::string fmt_value(double v, const std::string& unit) {
  if (unit == "KiB") return fmt::format("{:.1f} MiB", v / 1024.0);
  if (unit == "ns") {
    if (v >= 1e9) return fmt::format("{:.3f} s", v / 1e9);
    if (v >= 1e6) return fmt::format("{:.3f} ms", v / 1e6);
    if (v >= 1e3) return fmt::format("{:.3f} us", v / 1e3);
    return fmt::format("{:.1f} ns", v);
  }
  return fmt::format("{:.3f} {}", v, unit);
}

std::string fmt_side(double median, int n, const std::string& unit) {
  if (n == 0) return "-";
  return fmt::format("{} (n={})", fmt_value(median, unit), n);
}

std::string fmt_ratio(const MetricChange& m) {
  if (m.status == ChangeStatus::not_available) return "-";
  std::string s = fmt::format("{:.3f}", m.ratio);
  if (m.ci) s += fmt::format(" [{:.3f}, {:.3f}]", m.ci->low, m.ci->high);
  return s;
}

std::string fmt_p(const MetricChange& m) {
  if (!m.p) return m.pairs > 0 ? fmt::format("- ({} pairs)", m.pairs) : "-";
  std::string s = *m.p < 1e-4 ? fmt::format("{:.1e}", *m.p) : fmt::format("{:.4f}", *m.p);
  if (m.pairs > 0) s += fmt::format(" ({} pairs)", m.pairs);
  return s;
}

// The fewest pairs with which the signed-rank test can reach `alpha`.
int min_pairs(double alpha) {
  int n = 1;
  while (n < 64 && min_p_signed_rank(n) >= alpha) ++n;
  return n;
}

std::string fmt_status(const MetricChange& m, double alpha) {
  std::string s(to_string(m.status));
  if (m.status == ChangeStatus::not_enough_data && m.pairs > 0)
    s += fmt::format(" ({} pairs cannot reach p < {}; run {} or more rounds)", m.pairs, alpha,
                     min_pairs(alpha));
  else if (m.status == ChangeStatus::not_enough_data)
    s += fmt::format(" ({} + {} values cannot reach p < {}; run {} or more a side)", m.base_n,
                     m.new_n, alpha, min_repetitions(alpha));
  return s;
}

}  // namespace

std::string format_compare_markdown(const Comparison& c) {
  int counts[6] = {};
  for (const auto& m : c.changes) ++counts[static_cast<int>(m.status)];
  const double level = (1 - c.alpha) * 100;
  std::string out = fmt::format(
      "**{}**: {} regression(s), {} improvement(s), {} no change, {} not significant, {} not "
      "enough data, {} not comparable.\n\n"
      "A change counts when its ratio of medians passes the metric's threshold and it is "
      "significant: two-sided Mann-Whitney U test p < {} and the {:g} % bootstrap interval of "
      "the ratio excludes 1.{}\n\n",
      c.regressed ? "REGRESSION" : "OK", counts[int(ChangeStatus::regression)],
      counts[int(ChangeStatus::improvement)], counts[int(ChangeStatus::ok)],
      counts[int(ChangeStatus::noise)], counts[int(ChangeStatus::not_enough_data)],
      counts[int(ChangeStatus::not_available)], c.alpha, level,
      std::any_of(c.changes.begin(), c.changes.end(),
                  [](const MetricChange& m) { return m.pairs > 0; })
          ? " A row with pairs compares the two runs of each round instead (an interleaved A/B "
            "run): its ratio is the median of the pairs' ratios new / base, its test the "
            "Wilcoxon signed-rank test of their logarithms, its interval a bootstrap over "
            "the pairs."
          : "");
  if (!c.changes.empty()) {
    out += fmt::format(
        "| scenario | run | metric | base median | new median | ratio [{:g} % CI] | p | "
        "threshold | status |\n",
        level);
    out += "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | --- |\n";
  }
  for (const auto& m : c.changes)
    out += fmt::format("| {} | {} | {} | {} | {} | {} | {} | {:g} % | {} |\n", m.scenario, m.run,
                       m.metric, fmt_side(m.base_median, m.base_n, m.unit),
                       fmt_side(m.new_median, m.new_n, m.unit), fmt_ratio(m), fmt_p(m),
                       m.threshold_pct, fmt_status(m, c.alpha));
  if (c.changes.empty()) out += "Nothing in common to compare.\n";
  auto list = [&](const char* title, const std::vector<std::string>& names) {
    if (names.empty()) return;
    out += fmt::format("\n{}:\n", title);
    for (const auto& n : names) out += "- " + n + "\n";
  };
  list("Only in base (not compared)", c.only_in_base);
  list("Only in new (not compared)", c.only_in_new);
  list("Runs without a match (not compared)", c.unmatched_runs);
  return out;
}

json comparison_to_json(const Comparison& c) {
  json changes = json::array();
  for (const auto& m : c.changes) {
    json ci = m.ci ? json::array({m.ci->low, m.ci->high}) : json(nullptr);
    changes.push_back({{"scenario", m.scenario},
                       {"run", m.run},
                       {"metric", m.metric},
                       {"unit", m.unit},
                       {"higher_is_better", m.higher_is_better},
                       {"base", {{"median", m.base_median}, {"n", m.base_n}}},
                       {"new", {{"median", m.new_median}, {"n", m.new_n}}},
                       {"ratio", m.ratio},
                       {"ci", ci},
                       {"p", m.p ? json(*m.p) : json(nullptr)},
                       {"pairs", m.pairs},
                       {"change_pct", m.change_pct},
                       {"worse_pct", m.worse_pct},
                       {"threshold_pct", m.threshold_pct},
                       {"status", to_string(m.status)}});
  }
  return {{"regressed", c.regressed},
          {"alpha", c.alpha},
          {"test",
           "Mann-Whitney U (two-sided) and bootstrap interval of the ratio of medians; rows with "
           "pairs: Wilcoxon signed-rank (two-sided) of log(new / base) and bootstrap interval of "
           "the median pair ratio"},
          {"changes", changes},
          {"only_in_base", c.only_in_base},
          {"only_in_new", c.only_in_new},
          {"unmatched_runs", c.unmatched_runs}};
}

}  // namespace harness
