#pragma once
// The plan and the record of an interleaved A/B run (`harness ab`, docs/regression.md): the
// parts that need no process, so they can be tested on their own.
//
// Rounds: each round runs every unit (a scenario file, a benchmark program) on the base and on
// the candidate, one side right after the other, so a drift of the machine (other jobs,
// thermal state, page cache, what the previous unit left behind) falls on both sides alike.
// Pairing by unit, not by the whole set, matters: when each side ran its whole scenario set in
// turn, a scenario's two runs were minutes apart and followed different neighbours, and an A/A
// check saw a side difference in the memory scenario that the scenario alone never showed.
// The order within a pair is random but balanced per unit: half the rounds go base-first (one
// more either way when the count is odd), shuffled with a seed of its own for each unit, so
// neither side is systematically first (the first of a pair may find a colder cache, or a
// quieter machine).
//
// Layout under the output folder, which `harness compare OUT/base OUT/new` reads back:
//   OUT/base/round-01/01-success/report.json (the scenario files in order, numbered),
//   OUT/base/round-01/bench/PROGRAM.json, ... and OUT/new/...
//   OUT/ab.md (the summary and the comparison table), OUT/ab.json (the same as data).

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/analysis/compare.hpp"

namespace harness {

enum class AbSide { base, candidate };
std::string_view side_name(AbSide side);  // "base", "new"

// Round r (0-based) runs order[r][0] then order[r][1].
std::vector<std::array<AbSide, 2>> round_order(int rounds, std::uint64_t seed);

// One pair of the plan: unit `unit` (0-based) in round `round` (0-based), order[0] first.
struct AbPair {
  int round = 0;
  int unit = 0;
  std::array<AbSide, 2> order{};
  bool operator==(const AbPair&) const = default;
};
// Round by round, unit by unit; each unit's orders are round_order() with a seed derived from
// `seed` and the unit's index, so every unit is balanced on its own.
std::vector<AbPair> interleaved_plan(int rounds, int units, std::uint64_t seed);

// The folder of one scenario file's run: "01-success" for the first file, success.yaml.
std::string unit_dir_name(int index, const std::filesystem::path& scenario_file);

std::filesystem::path round_dir(const std::filesystem::path& out, AbSide side, int round);

struct AbSideInfo {
  std::string given;      // as on the command line: a folder or a git ref
  std::string build_dir;  // the build it ran from
  std::string ref;        // the commit, when it was built from a git ref
};

// What one side did in one round, for the record.
struct AbStep {
  int round = 0;  // 1-based
  AbSide side = AbSide::base;
  double seconds = 0;
  int failed_scenarios = 0;  // scenarios that did not pass: their figures still count
  std::vector<std::string> problems;
  std::string unit;  // the scenario file or benchmark program; empty: the whole set
};

struct AbRecord {
  AbSideInfo base, candidate;
  int rounds = 0;
  std::uint64_t seed = 0;
  std::vector<std::string> paths;       // scenarios, as given
  std::vector<std::string> units;       // what each round runs pair by pair, in order
  std::vector<std::string> benchmarks;  // programs
  int repetitions = 0;
  std::vector<AbStep> steps;
  double seconds = 0;  // the whole check, builds included
  std::string host;
  double load_before = -1;  // /proc/loadavg, 1 min, at the start and the end
  double load_after = -1;
};

// The summary (sides, rounds and order, time taken, load, problems) followed by the
// comparison's own Markdown.
std::string format_ab_markdown(const AbRecord& record, const Comparison& comparison);
nlohmann::json ab_to_json(const AbRecord& record, const Comparison& comparison);

}  // namespace harness
