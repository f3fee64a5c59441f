#pragma once
// The plan and the record of an interleaved A/B run (`harness ab`, docs/regression.md): the
// parts that need no process, so they can be tested on their own.
//
// Rounds: each round runs the base and the candidate once each, one right after the other, so
// a drift of the machine (other jobs, thermal state, page cache) falls on both sides alike. The
// order within a round is random but balanced: half the rounds go base-first (one more either
// way when the count is odd), shuffled with the seed, so neither side is systematically first
// (the first of a pair may find a colder cache, or a quieter machine).
//
// Layout under the output folder, which `harness compare OUT/base OUT/new` reads back:
//   OUT/base/round-01/report.json, OUT/base/round-01/bench/PROGRAM.json, ... and OUT/new/...
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
};

struct AbRecord {
  AbSideInfo base, candidate;
  int rounds = 0;
  std::uint64_t seed = 0;
  std::vector<std::string> paths;       // scenarios
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
