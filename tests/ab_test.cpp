// The pieces of `harness ab` that need no process: the order of the rounds and the record.
#include "harness/analysis/ab.hpp"

#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "harness/cli/ab_side.hpp"

namespace harness {
namespace {

int base_first(const std::vector<std::array<AbSide, 2>>& order) {
  int n = 0;
  for (const auto& r : order) n += r[0] == AbSide::base;
  return n;
}

TEST(ab_test, every_round_runs_both_sides_once) {
  for (const auto& r : round_order(9, 3)) {
    EXPECT_NE(r[0], r[1]);
  }
  EXPECT_TRUE(round_order(0, 3).empty());
}

TEST(ab_test, rounds_are_balanced_between_base_first_and_new_first) {
  for (std::uint64_t seed = 0; seed < 50; ++seed) {
    EXPECT_EQ(base_first(round_order(10, seed)), 5) << "seed " << seed;
    const int odd = base_first(round_order(9, seed));
    EXPECT_TRUE(odd == 4 || odd == 5) << "seed " << seed;
  }
}

TEST(ab_test, the_order_is_random_but_fixed_by_the_seed) {
  EXPECT_EQ(round_order(12, 42), round_order(12, 42));
  std::set<std::vector<std::array<AbSide, 2>>> orders;
  for (std::uint64_t seed = 0; seed < 20; ++seed) orders.insert(round_order(12, seed));
  // C(12, 6) = 924 balanced orders: twenty seeds must not all give the same one.
  EXPECT_GT(orders.size(), 10u);
}

TEST(ab_test, the_plan_pairs_each_unit_in_each_round_balanced_per_unit) {
  const auto plan = interleaved_plan(9, 4, 7);
  ASSERT_EQ(plan.size(), 36u);
  for (std::size_t i = 0; i < plan.size(); ++i) {
    EXPECT_EQ(plan[i].round, static_cast<int>(i / 4));
    EXPECT_EQ(plan[i].unit, static_cast<int>(i % 4));
    EXPECT_NE(plan[i].order[0], plan[i].order[1]);
  }
  std::set<std::vector<std::array<AbSide, 2>>> distinct;
  for (int u = 0; u < 4; ++u) {
    std::vector<std::array<AbSide, 2>> orders;
    for (const AbPair& p : plan)
      if (p.unit == u) orders.push_back(p.order);
    const int first = base_first(orders);
    EXPECT_TRUE(first == 4 || first == 5) << "unit " << u;
    distinct.insert(orders);
  }
  // Each unit has an order of its own (C(9, 4) x 2 = 252 balanced orders).
  EXPECT_GT(distinct.size(), 1u);
  EXPECT_EQ(interleaved_plan(9, 4, 7), plan);
  EXPECT_TRUE(interleaved_plan(3, 0, 7).empty());
  EXPECT_EQ(unit_dir_name(0, "scenarios/core/success.yaml"), "01-success");
  EXPECT_EQ(unit_dir_name(11, "memory.yml"), "12-memory");
}

TEST(ab_test, rounds_are_laid_out_for_compare_to_read_back) {
  EXPECT_EQ(round_dir("/out", AbSide::base, 0), std::filesystem::path("/out/base/round-01"));
  EXPECT_EQ(round_dir("/out", AbSide::candidate, 11), std::filesystem::path("/out/new/round-12"));
}

TEST(ab_test, the_summary_names_the_sides_the_order_and_what_went_wrong) {
  AbRecord r;
  r.base = {"v0.1.0", "/tmp/harness-ab-x/src/build", "1234567890ab"};
  r.candidate = {"build", "/w/build", ""};
  r.rounds = 2;
  r.seed = 5;
  r.paths = {"scenarios/core"};
  r.benchmarks = {"process_bench"};
  r.repetitions = 9;
  r.steps = {{1, AbSide::candidate, 10, 0, {}, ""},
             {1, AbSide::base, 11, 1, {}, ""},
             {2, AbSide::base, 10, 0, {}, ""},
             {2, AbSide::candidate, 10, 0, {"a problem"}, ""}};
  r.seconds = 41;
  r.host = "vm (2 CPUs)";
  r.load_before = 1.5;
  r.load_after = 2.25;
  const std::string md = format_ab_markdown(r, Comparison{});
  EXPECT_NE(md.find("- A (base): `v0.1.0` (commit 1234567890ab, built in a temporary worktree) "
                    "from `/tmp/harness-ab-x/src/build`\n"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("- B (new): `build` from `/w/build`\n"), std::string::npos) << md;
  EXPECT_NE(md.find("- benchmarks: process_bench (9 repetitions a run, random interleaving)"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("- rounds: 2, seed 5, order B-A, A-B\n"), std::string::npos) << md;
  EXPECT_NE(md.find("- took 41 s on vm (2 CPUs) (load average 1.50 at the start, 2.25 at the end)"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("- round 1 base: 1 scenario(s) did not pass; their figures still count"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("- round 2 new: a problem"), std::string::npos) << md;
  const nlohmann::json j = ab_to_json(r, Comparison{});
  EXPECT_EQ(j["steps"].size(), 4u);
  EXPECT_EQ(j["steps"][0]["side"], "new");
  EXPECT_EQ(j["base"]["ref"], "1234567890ab");
  EXPECT_FALSE(j["comparison"]["regressed"].get<bool>());
}

TEST(ab_test, the_order_shows_each_units_pair_within_a_round) {
  AbRecord r;
  r.rounds = 2;
  r.units = {"01-success", "02-memory"};
  r.steps = {{1, AbSide::base, 1, 0, {}, "01-success"},
             {1, AbSide::candidate, 1, 0, {}, "01-success"},
             {1, AbSide::candidate, 1, 0, {}, "02-memory"},
             {1, AbSide::base, 1, 0, {}, "02-memory"},
             {2, AbSide::candidate, 1, 0, {}, "01-success"},
             {2, AbSide::base, 1, 0, {}, "01-success"},
             {2, AbSide::base, 1, 2, {}, "02-memory"},
             {2, AbSide::candidate, 1, 0, {}, "02-memory"}};
  const std::string md = format_ab_markdown(r, Comparison{});
  EXPECT_NE(md.find("- each round, pair by pair: 01-success 02-memory\n"), std::string::npos) << md;
  EXPECT_NE(md.find("order A-B B-A, B-A A-B\n"), std::string::npos) << md;
  EXPECT_NE(md.find("- round 2 base 02-memory: 2 scenario(s) did not pass"), std::string::npos)
      << md;
  EXPECT_EQ(ab_to_json(r, Comparison{})["steps"][2]["unit"], "02-memory");
}

TEST(ab_test, a_ref_is_built_like_the_build_folder_on_the_other_side) {
  namespace fs = std::filesystem;
  const fs::path dir =
      fs::path(::testing::TempDir()) / ("ab_test_build_" + std::to_string(::getpid()));
  fs::remove_all(dir);  // a folder left by an earlier run must not answer for this one
  fs::create_directories(dir / "harness");
  EXPECT_FALSE(is_build_folder(dir));  // no harness/harness yet
  EXPECT_FALSE(read_build_settings(dir).has_value());
  std::ofstream(dir / "CMakeCache.txt") << "# comment\nCMAKE_BUILD_TYPE:STRING=Release\n"
                                           "HARNESS_DEVELOP:BOOL=ON\n";
  std::ofstream(dir / "harness" / "harness") << "";
  EXPECT_TRUE(is_build_folder(dir));
  const auto s = read_build_settings(dir);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->build_type, "Release");
  EXPECT_TRUE(s->develop);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace harness
