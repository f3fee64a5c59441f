#include "harness/analysis/ab.hpp"

#include <algorithm>
#include <random>

#include <fmt/format.h>

namespace harness {

std::string_view side_name(AbSide side) {
  return side == AbSide::base ? "base" : "new";
}

std::vector<std::array<AbSide, 2>> round_order(int rounds, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<bool> base_first;
  for (int r = 0; r < rounds; ++r) base_first.push_back(r % 2 == 0);
  if (rounds % 2 == 1) base_first.back() = std::bernoulli_distribution(0.5)(rng);
  std::shuffle(base_first.begin(), base_first.end(), rng);
  std::vector<std::array<AbSide, 2>> order;
  for (bool b : base_first)
    order.push_back(b ? std::array{AbSide::base, AbSide::candidate}
                      : std::array{AbSide::candidate, AbSide::base});
  return order;
}

std::vector<AbPair> interleaved_plan(int rounds, int units, std::uint64_t seed) {
  std::vector<std::vector<std::array<AbSide, 2>>> per_unit;
  for (int u = 0; u < units; ++u) {
    // splitmix64 of (seed, unit): neighbouring units get unrelated orders.
    std::uint64_t z = seed + 0x9E3779B97F4A7C15ULL * static_cast<std::uint64_t>(u + 1);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    per_unit.push_back(round_order(rounds, z ^ (z >> 31)));
  }
  std::vector<AbPair> plan;
  for (int r = 0; r < rounds; ++r)
    for (int u = 0; u < units; ++u) plan.push_back({r, u, per_unit[u][r]});
  return plan;
}

std::string unit_dir_name(int index, const std::filesystem::path& scenario_file) {
  return fmt::format("{:02}-{}", index + 1, scenario_file.stem().string());
}

std::filesystem::path round_dir(const std::filesystem::path& out, AbSide side, int round) {
  return out / std::string(side_name(side)) / fmt::format("round-{:02}", round + 1);
}

namespace {

std::string describe(const AbSideInfo& s) {
  std::string out = "`" + s.given + "`";
  if (!s.ref.empty()) out += fmt::format(" (commit {}, built in a temporary worktree)", s.ref);
  if (s.build_dir != s.given) out += " from `" + s.build_dir + "`";
  return out;
}

std::string order_text(const AbRecord& r) {
  std::string out;
  int round = 0;
  const std::string* unit = nullptr;
  for (const AbStep& s : r.steps) {
    if (s.round != round) {
      out += (out.empty() ? "" : ", ");
      round = s.round;
    } else {
      out += *unit == s.unit ? "-" : " ";
    }
    unit = &s.unit;
    out += s.side == AbSide::base ? "A" : "B";
  }
  return out;
}

}  // namespace

std::string format_ab_markdown(const AbRecord& r, const Comparison& c) {
  std::string out = "# Interleaved A/B check\n\n";
  out += "- A (base): " + describe(r.base) + "\n";
  out += "- B (new): " + describe(r.candidate) + "\n";
  if (!r.paths.empty()) {
    std::string paths;
    for (const auto& p : r.paths) paths += (paths.empty() ? "" : " ") + p;
    out += "- scenarios: " + paths + "\n";
  }
  if (!r.benchmarks.empty()) {
    std::string names;
    for (const auto& b : r.benchmarks) names += (names.empty() ? "" : " ") + b;
    out += fmt::format("- benchmarks: {} ({} repetitions a run, random interleaving)\n", names,
                       r.repetitions);
  }
  if (r.units.size() > 1) {
    std::string units;
    for (const auto& u : r.units) units += (units.empty() ? "" : " ") + u;
    out += "- each round, pair by pair: " + units + "\n";
  }
  out += fmt::format("- rounds: {}, seed {}, order {}\n", r.rounds, r.seed, order_text(r));
  out += fmt::format("- took {:.0f} s on {}", r.seconds, r.host.empty() ? "this host" : r.host);
  if (r.load_before >= 0)
    out += fmt::format(" (load average {:.2f} at the start, {:.2f} at the end)", r.load_before,
                       r.load_after);
  out += "\n";
  for (const AbStep& s : r.steps) {
    if (s.failed_scenarios > 0)
      out += fmt::format(
          "- round {} {}{}: {} scenario(s) did not pass; their figures still count\n", s.round,
          side_name(s.side), s.unit.empty() ? "" : " " + s.unit, s.failed_scenarios);
    for (const auto& p : s.problems)
      out += fmt::format("- round {} {}{}: {}\n", s.round, side_name(s.side),
                         s.unit.empty() ? "" : " " + s.unit, p);
  }
  return out + "\n" + format_compare_markdown(c);
}

nlohmann::json ab_to_json(const AbRecord& r, const Comparison& c) {
  auto side = [](const AbSideInfo& s) {
    return nlohmann::json{{"given", s.given}, {"build_dir", s.build_dir}, {"ref", s.ref}};
  };
  nlohmann::json steps = nlohmann::json::array();
  for (const AbStep& s : r.steps)
    steps.push_back({{"round", s.round},
                     {"side", side_name(s.side)},
                     {"seconds", s.seconds},
                     {"unit", s.unit},
                     {"failed_scenarios", s.failed_scenarios},
                     {"problems", s.problems}});
  return {{"base", side(r.base)},
          {"new", side(r.candidate)},
          {"rounds", r.rounds},
          {"seed", r.seed},
          {"paths", r.paths},
          {"units", r.units},
          {"benchmarks", r.benchmarks},
          {"repetitions", r.repetitions},
          {"steps", steps},
          {"seconds", r.seconds},
          {"host", r.host},
          {"load_before", r.load_before},
          {"load_after", r.load_after},
          {"comparison", comparison_to_json(c)}};
}

}  // namespace harness
