// The regression gate on synthetic reports (tests/data/compare/base.json vs new.json). Every
// repeated scenario has 9 runs a side; "tight" repeats spread about +-1 % around their median,
// "wide" ones +-40 %. Defaults: time 3 %, memory 2 %, alpha 0.01.
//   slower  wall x 1.20, tight                                    => regression (p = 4.1e-5)
//           (plus a warmup run of 99 s on each side, which must be ignored)
//   noisy   wall x 1.20, wide: 6..14 s against 7.2..16.8 s        => not significant
//   faster  wall x 0.80, fps x 1.25                                => improvements
//   fatter  memory added 100000 -> 103000 KiB (+3 % > 2 %)         => regression
//           peak RSS 300000 -> 303000 KiB (+1 % <= 2 %)            => no change
//   single  one run a side, wall 10 -> 12 s                        => not enough data
//   retired only in base, added only in new; sweep has N=2 only in base and N=3 only in new.
// Benchmarks (base_bench.json vs new_bench.json), 9 repetitions each plus aggregates:
//   BM_Parse 100 -> 125 ns, tight                                  => regression
//   BM_Spawn/threads:1 2.0 -> 2.3 ms, wide                         => not significant
//   BM_Units 1.0 us -> 1000 ns, the same values                    => no change
//   BM_Agg only a mean aggregate (3 -> 4 ms)                        => not enough data
//   BM_Old only in base, BM_New only in new.

#include "harness/analysis/compare.hpp"

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <filesystem>
#include <fstream>

#include "harness/analysis/report_fields.hpp"
#include "harness/core/diagnostic.hpp"

namespace harness {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string data(const std::string& name) {
  return std::string(HARNESS_TEST_DATA_DIR) + "/compare/" + name;
}

const MetricChange& find(const Comparison& c, const std::string& scenario,
                         const std::string& metric, const std::string& run = "instances=1") {
  for (const auto& m : c.changes)
    if (m.scenario == scenario && m.metric == metric && m.run == run) return m;
  throw std::runtime_error("no change " + scenario + "/" + run + "/" + metric);
}

Comparison reports(const Thresholds& t = {}) {
  return compare(read_json_file(data("base.json")), read_json_file(data("new.json")), t);
}

Comparison benchmarks(const Thresholds& t = {}) {
  return compare_benchmarks(read_json_file(data("base_bench.json")),
                            read_json_file(data("new_bench.json")), t);
}

TEST(compare_test, a_significant_20_percent_slowdown_is_a_regression) {
  const Comparison c = reports();
  const MetricChange& m = find(c, "slower", "wall_s");
  EXPECT_EQ(m.base_n, 9);  // the warmup run is not a sample
  EXPECT_EQ(m.new_n, 9);
  EXPECT_NEAR(m.base_median, 10.01, 1e-9);
  EXPECT_NEAR(m.ratio, 1.2, 1e-6);
  EXPECT_NEAR(m.change_pct, 20.0, 1e-4);
  ASSERT_TRUE(m.p.has_value());
  EXPECT_NEAR(*m.p, 2.0 / 48620, 1e-12);  // complete separation of 9 and 9
  ASSERT_TRUE(m.ci.has_value());
  EXPECT_GT(m.ci->low, 1.15);
  EXPECT_LT(m.ci->high, 1.25);
  EXPECT_EQ(m.status, ChangeStatus::regression);
  EXPECT_TRUE(c.regressed);
}

TEST(compare_test, a_large_change_inside_the_noise_is_not_significant) {
  const Comparison c = reports();
  const MetricChange& m = find(c, "noisy", "wall_s");
  EXPECT_NEAR(m.change_pct, 20.0, 1e-4);
  ASSERT_TRUE(m.p.has_value());
  EXPECT_GT(*m.p, 0.01);
  EXPECT_EQ(m.status, ChangeStatus::noise);
  EXPECT_EQ(to_string(m.status), "not significant");
}

TEST(compare_test, improvements_are_not_regressions_in_either_direction) {
  const Comparison c = reports();
  const MetricChange& wall = find(c, "faster", "wall_s");
  EXPECT_NEAR(wall.change_pct, -20.0, 1e-4);
  EXPECT_EQ(wall.status, ChangeStatus::improvement);
  const MetricChange& fps = find(c, "faster", "throughput_fps");
  EXPECT_TRUE(fps.higher_is_better);
  EXPECT_NEAR(fps.change_pct, 25.0, 1e-4);
  EXPECT_NEAR(fps.worse_pct, -25.0, 1e-4);
  EXPECT_EQ(fps.status, ChangeStatus::improvement);
}

TEST(compare_test, lower_throughput_is_a_regression) {
  json n = read_json_file(data("new.json"));
  for (json& run : n["scenarios"][0]["runs"])  // "slower": fps 10 -> 8.5, -15 %
    run["metrics"]["throughput_fps"] = run["metrics"]["throughput_fps"].get<double>() * 0.85;
  const Comparison c = compare(read_json_file(data("base.json")), n, {});
  EXPECT_EQ(find(c, "slower", "throughput_fps").status, ChangeStatus::regression);
}

TEST(compare_test, memory_is_held_to_2_percent) {
  const Comparison c = reports();
  const MetricChange& added = find(c, "fatter", "memory_added_kib");
  EXPECT_NEAR(added.change_pct, 3.0, 1e-9);
  EXPECT_EQ(added.status, ChangeStatus::regression);
  EXPECT_DOUBLE_EQ(find(c, "fatter", "peak_rss_kib").threshold_pct, 2.0);
  EXPECT_EQ(find(c, "fatter", "peak_rss_kib").status, ChangeStatus::ok);  // +1 %
  EXPECT_EQ(find(c, "fatter", "wall_s").status, ChangeStatus::ok);
}

TEST(compare_test, one_run_a_side_is_not_enough_data_but_shows_the_change) {
  const Comparison c = reports();
  const MetricChange& m = find(c, "single", "wall_s");
  EXPECT_EQ(m.status, ChangeStatus::not_enough_data);
  EXPECT_NEAR(m.ratio, 1.2, 1e-12);
  EXPECT_FALSE(m.p.has_value());
  EXPECT_FALSE(m.ci.has_value());
  EXPECT_EQ(min_repetitions(0.01), 5);  // 2 / C(10, 5) = 0.0079
  EXPECT_EQ(min_repetitions(0.05), 4);
}

TEST(compare_test, scenarios_and_runs_in_only_one_report_are_listed) {
  const Comparison c = reports();
  EXPECT_EQ(c.only_in_base, std::vector<std::string>{"retired"});
  EXPECT_EQ(c.only_in_new, std::vector<std::string>{"added"});
  EXPECT_EQ(c.unmatched_runs, (std::vector<std::string>{"sweep: instances=2 (only in base)",
                                                        "sweep: instances=3 (only in new)"}));
  EXPECT_EQ(find(c, "sweep", "throughput_fps").status, ChangeStatus::not_enough_data);
}

TEST(compare_test, identical_reports_do_not_regress) {
  const json b = read_json_file(data("base.json"));
  const Comparison c = compare(b, b, {});
  EXPECT_FALSE(c.regressed);
  for (const auto& m : c.changes)
    EXPECT_TRUE(m.status == ChangeStatus::ok || m.status == ChangeStatus::not_enough_data)
        << m.scenario << " " << m.metric << " " << to_string(m.status);
}

TEST(compare_test, rounds_in_several_reports_pool_like_repeats_in_one) {
  // The base's nine "slower" runs split over two reports (4 + 5), as two rounds would write them.
  const json whole = read_json_file(data("base.json"));
  json first = whole, second = whole;
  json& runs1 = first["scenarios"][0]["runs"];
  json& runs2 = second["scenarios"][0]["runs"];
  runs1.erase(runs1.begin() + 5, runs1.end());  // the warmup and four runs
  runs2.erase(runs2.begin() + 1, runs2.begin() + 5);
  const Comparison split =
      compare_reports({first, second}, {read_json_file(data("new.json"))}, Thresholds{});
  const MetricChange& pooled = find(split, "slower", "wall_s");
  const Comparison whole_comparison = reports();
  const MetricChange& one = find(whole_comparison, "slower", "wall_s");
  EXPECT_EQ(pooled.base_n, 9);
  EXPECT_DOUBLE_EQ(pooled.base_median, one.base_median);
  EXPECT_DOUBLE_EQ(*pooled.p, *one.p);
  EXPECT_EQ(pooled.status, ChangeStatus::regression);
  // Other scenarios now have their runs twice on the base side (18 values).
  EXPECT_EQ(find(split, "fatter", "wall_s").base_n, 18);
}

// A report of one scenario whose runs load a model for `load_ms` and then work `work_ms + i`
// (i = 0..8): the work, ready to the last result event, is what a slower frame changes.
json work_report(double load_ms, double work_ms) {
  json runs = json::array(), instances = json::array();
  for (int i = 0; i < 9; ++i) {
    const double ready = load_ms + 7 * i, result = ready + work_ms + i;
    runs.push_back({{"params", json::object()},
                    {"repeat", i},
                    {"warmup", false},
                    {"wall_s", (result + 40) / 1000.0},
                    {"metrics", json::object()}});
    instances.push_back({{"run", i},
                         {"ready_ms", ready},
                         {"events",
                          {{{"t_ms", 1.0}, {"body", {{"event", "started"}}}},
                           {{"t_ms", ready}, {"body", {{"event", "ready"}}}},
                           {{"t_ms", ready + 1}, {"body", {{"event", "result"}, {"job", 1}}}},
                           {{"t_ms", result}, {"body", {{"event", "result"}, {"job", 2}}}}}}});
  }
  return {{"schema", 1},
          {"scenarios", {{{"name", "frames"}, {"runs", runs}, {"instances", instances}}}}};
}

TEST(compare_test, work_after_ready_sees_a_5_percent_slower_frame_that_wall_time_dilutes) {
  // 20 s of model load and 1 s of frames; the frames 5 % slower: wall_s +0.24 %, work +5 %.
  const Comparison c = compare(work_report(20000, 1000), work_report(20000, 1050), Thresholds{});
  const MetricChange& work = find(c, "frames", "work_ms_p50", "(single run)");
  EXPECT_EQ(work.base_n, 9);
  EXPECT_NEAR(work.base_median, 1004, 1e-9);  // the last result counts, not the first
  EXPECT_NEAR(work.new_median, 1054, 1e-9);
  EXPECT_EQ(work.status, ChangeStatus::regression);
  EXPECT_EQ(find(c, "frames", "wall_s", "(single run)").status, ChangeStatus::ok);
}

TEST(compare_test, work_needs_a_ready_and_a_later_result) {
  json r = work_report(100, 50);
  auto& instances = r["scenarios"][0]["instances"];
  instances[0].erase("ready_ms");                  // never ready: no value
  instances[1]["events"].erase(3);                 // the last result gone: the first counts
  instances[1]["events"].erase(2);                 // and then none at all
  instances[2]["events"][3]["t_ms"] = 1.0;         // a result before ready: ignored
  instances[2]["events"][2]["body"]["event"] = 7;  // a hostile event name: ignored
  const ReportFields f = read_report_fields(r, "r");
  const auto& runs = f.scenarios.at(0).runs;
  EXPECT_FALSE(runs.at(0).work_p50_ms.has_value());
  EXPECT_FALSE(runs.at(1).work_p50_ms.has_value());
  EXPECT_FALSE(runs.at(2).work_p50_ms.has_value());
  ASSERT_TRUE(runs.at(3).work_p50_ms.has_value());
  EXPECT_NEAR(*runs.at(3).work_p50_ms, 53, 1e-9);
}

// Side folders as `harness ab` writes them: round-0K/01-frames/report.json, one run each, the
// base's wall time drifting 10..26 s over the rounds and the new side 5 % slower in each round.
void write_round(const fs::path& dir, double wall) {
  fs::create_directories(dir);
  const json report = {
      {"schema", 1},
      {"scenarios",
       {{{"name", "frames"},
         {"runs",
          {{{"params", json::object()}, {"repeat", 0}, {"warmup", false}, {"wall_s", wall}}}}}}}};
  std::ofstream(dir / "report.json") << report.dump();
}

TEST(compare_test, folders_of_the_same_rounds_are_judged_pair_by_pair) {
  const fs::path root = fs::path(::testing::TempDir()) / "compare_paired";
  fs::remove_all(root);
  for (int r = 0; r < 9; ++r) {
    const std::string round = fmt::format("round-{:02}", r + 1);
    write_round(root / "base" / round / "01-frames", 10 + 2 * r);
    write_round(root / "new" / round / "01-frames", (10 + 2 * r) * (1.05 + (r % 3 - 1) * 0.01));
  }
  const Comparison paired = compare_files(root / "base", root / "new", Thresholds{});
  const MetricChange& wall = find(paired, "frames", "wall_s", "(single run)");
  EXPECT_EQ(wall.pairs, 9);
  EXPECT_NEAR(wall.ratio, 1.05, 1e-9);
  EXPECT_EQ(wall.status, ChangeStatus::regression);
  EXPECT_NE(format_compare_markdown(paired).find("0.0039 (9 pairs)"), std::string::npos);
  EXPECT_EQ(comparison_to_json(paired)["changes"][0]["pairs"], 9);
  // A round missing on one side: the folders no longer line up, the values are pooled, and
  // pooled the drift hides the 5 %.
  fs::remove_all(root / "new" / "round-09");
  const Comparison pooled = compare_files(root / "base", root / "new", Thresholds{});
  const MetricChange& wall2 = find(pooled, "frames", "wall_s", "(single run)");
  EXPECT_EQ(wall2.pairs, 0);
  EXPECT_EQ(wall2.base_n, 9);
  EXPECT_EQ(wall2.new_n, 8);
  EXPECT_NE(wall2.status, ChangeStatus::regression);
  // Two report files are never paired.
  EXPECT_EQ(
      find(compare_files(root / "base" / "round-01" / "01-frames" / "report.json",
                         root / "new" / "round-01" / "01-frames" / "report.json", Thresholds{}),
           "frames", "wall_s", "(single run)")
          .pairs,
      0);
}

TEST(compare_test, thresholds_file_loosens_the_gate) {
  const Thresholds t = load_thresholds(data("thresholds.yaml"));
  EXPECT_DOUBLE_EQ(t.time, 0.25);
  EXPECT_DOUBLE_EQ(t.memory, 0.05);
  EXPECT_DOUBLE_EQ(t.alpha, 0.05);
  EXPECT_DOUBLE_EQ(t.per_metric.at("throughput_fps"), 0.30);
  const Comparison c = reports(t);
  EXPECT_EQ(find(c, "slower", "wall_s").status, ChangeStatus::ok);  // 20 % < 25 %
  EXPECT_EQ(find(c, "fatter", "memory_added_kib").status, ChangeStatus::ok);
  EXPECT_EQ(find(c, "faster", "throughput_fps").status, ChangeStatus::ok);  // 25 % < 30 %
  EXPECT_FALSE(c.regressed);
  EXPECT_DOUBLE_EQ(c.alpha, 0.05);
}

TEST(compare_test, per_run_threshold_loosens_one_benchmark_only) {
  const Thresholds t = parse_thresholds("per_run: {\"BM_Parse\": 30%}\n", "t.yaml");
  EXPECT_DOUBLE_EQ(t.per_run.at("BM_Parse"), 0.30);
  const Comparison c = benchmarks(t);
  const MetricChange& parse = find(c, "benchmarks", "real_time", "BM_Parse");
  EXPECT_NEAR(parse.change_pct, 25.0, 1e-4);
  EXPECT_DOUBLE_EQ(parse.threshold_pct, 30.0);
  EXPECT_EQ(parse.status, ChangeStatus::ok);  // +25 % < 30 % for this benchmark alone
  EXPECT_DOUBLE_EQ(find(c, "benchmarks", "real_time", "BM_Units").threshold_pct, 3.0);
  // The same file gates a report's run by its params label.
  const Comparison r = reports(parse_thresholds("per_run: {instances=1: 25%}\n"));
  EXPECT_EQ(find(r, "slower", "wall_s").status, ChangeStatus::ok);  // +20 % < 25 %
  EXPECT_THROW(parse_thresholds("per_run: [BM_Parse]\n"), std::runtime_error);
}

std::string thresholds_error(const std::string& text) {
  try {
    parse_thresholds(text, "t.yaml");
  } catch (const ScenarioError& e) {
    return e.what();
  }
  return "(accepted)";
}

TEST(compare_test, thresholds_errors_name_the_place_and_the_fix) {
  EXPECT_EQ(thresholds_error("time: 10%\nmemroy: 5%\n"),
            "t.yaml:2:1: error: unknown key 'memroy' at the top level (did you mean 'memory'?)");
  EXPECT_EQ(thresholds_error("per_metric: {cpu_tme: 5%}\n"),
            "t.yaml:1:14: error: unknown key 'cpu_tme' in 'per_metric' (did you mean "
            "'cpu_time'?)");
  EXPECT_EQ(thresholds_error("per_metric: {wall_time: 5%}\n"),
            "t.yaml:1:14: error: unknown key 'wall_time' in 'per_metric'; allowed keys: wall_s, "
            "throughput_fps, ready_ms_p50, work_ms_p50, memory_added_kib, peak_rss_kib, real_time, "
            "cpu_time");
  EXPECT_EQ(thresholds_error("time: fast\n"),
            "t.yaml:1:7: error: 'time': invalid percentage 'fast': write a number of percent, "
            "e.g. 10% or 2.5%");
  EXPECT_EQ(thresholds_error("alpha: 2\n"),
            "t.yaml:1:8: error: 'alpha' must be a level between 0 and 0.5, such as 0.01 or 1%, "
            "got '2'");
  EXPECT_EQ(thresholds_error("[1, 2]\n"),
            "t.yaml:1:1: error: thresholds must be a map such as {time: 3%, memory: 2%}, got a "
            "list");
  const std::string broken = thresholds_error("time: [1\n");  // yaml-cpp words the cause
  EXPECT_EQ(broken.rfind("t.yaml:2:1: error: invalid YAML: ", 0), 0u) << broken;
  EXPECT_NE(broken.find("(check indentation, quotes and brackets)"), std::string::npos) << broken;
  // Every problem at once, one line each.
  const std::string two = thresholds_error("time: x\nmemory: y\n");
  EXPECT_EQ(two.rfind("t.yaml:1:7: error: 'time'", 0), 0u) << two;
  EXPECT_NE(two.find("\nt.yaml:2:9: error: 'memory'"), std::string::npos) << two;
  EXPECT_THROW(load_thresholds(data("missing.yaml")), std::runtime_error);
  EXPECT_DOUBLE_EQ(parse_thresholds("").time, 0.03);  // empty file: defaults
  EXPECT_DOUBLE_EQ(parse_thresholds("alpha: 5%").alpha, 0.05);
}

TEST(compare_test, benchmark_repetitions_are_the_samples) {
  const Comparison c = benchmarks();
  const MetricChange& parse = find(c, "benchmarks", "real_time", "BM_Parse");
  EXPECT_EQ(parse.base_n, 9);  // the mean/median/stddev aggregates are not samples
  EXPECT_NEAR(parse.change_pct, 25.0, 1e-4);
  EXPECT_EQ(parse.status, ChangeStatus::regression);
  const MetricChange& spawn = find(c, "benchmarks", "real_time", "BM_Spawn/threads:1");
  EXPECT_NEAR(spawn.base_median, 2.0e6, 1e-3);  // ms -> ns
  EXPECT_EQ(spawn.status, ChangeStatus::noise);
  EXPECT_EQ(find(c, "benchmarks", "real_time", "BM_Units").status, ChangeStatus::ok);
  const MetricChange& agg = find(c, "benchmarks", "real_time", "BM_Agg");
  EXPECT_EQ(agg.base_n, 1);
  EXPECT_EQ(agg.status, ChangeStatus::not_enough_data);
  EXPECT_EQ(c.only_in_base, std::vector<std::string>{"benchmarks: BM_Old"});
  EXPECT_EQ(c.only_in_new, std::vector<std::string>{"benchmarks: BM_New"});
  EXPECT_TRUE(c.regressed);
}

TEST(compare_test, compare_files_picks_the_kind_and_refuses_a_mix) {
  EXPECT_TRUE(compare_files(data("base_bench.json"), data("new_bench.json"), {}).regressed);
  EXPECT_TRUE(compare_files(data("base.json"), data("new.json"), {}).regressed);
  try {
    compare_files(data("base.json"), data("new_bench.json"), {});
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("two report.json files"), std::string::npos) << e.what();
  }
}

// A folder per side laid out as `harness ab` writes it: round-N/report.json and
// round-N/bench/PROGRAM.json.
fs::path side_folder(const std::string& name, const std::string& report, const std::string& bench,
                     int rounds) {
  const fs::path dir = fs::path(::testing::TempDir()) / ("compare_test_" + name);
  fs::remove_all(dir);
  for (int r = 1; r <= rounds; ++r) {
    const fs::path round = dir / ("round-" + std::to_string(r));
    fs::create_directories(round / "bench");
    fs::copy_file(data(report), round / "report.json");
    fs::copy_file(data(bench), round / "bench" / "parse_bench.json");
  }
  return dir;
}

TEST(compare_test, folders_pool_their_rounds_per_report_and_per_program) {
  const fs::path base = side_folder("base", "base.json", "base_bench.json", 2);
  const fs::path cand = side_folder("new", "new.json", "new_bench.json", 2);
  const Comparison c = compare_files(base, cand, {});
  EXPECT_EQ(find(c, "slower", "wall_s").base_n, 18);
  // Two rounds of one run each: 2 + 2 still cannot reach p < 0.01.
  EXPECT_EQ(find(c, "single", "wall_s").status, ChangeStatus::not_enough_data);
  const MetricChange& parse = find(c, "parse_bench", "real_time", "BM_Parse");
  EXPECT_EQ(parse.new_n, 18);
  EXPECT_EQ(parse.status, ChangeStatus::regression);
  EXPECT_TRUE(c.regressed);
  EXPECT_THROW(compare_files(base, data("new.json"), {}), std::runtime_error);
  const fs::path empty = fs::path(::testing::TempDir()) / "compare_test_empty";
  fs::create_directories(empty);
  EXPECT_THROW(compare_files(empty, cand, {}), std::runtime_error);
}

TEST(compare_test, bad_reports_are_errors_not_crashes) {
  const json good = read_json_file(data("base.json"));
  EXPECT_THROW(compare(json::object(), good, {}), std::runtime_error);
  EXPECT_THROW(compare(good, json{{"scenarios", 3}}, {}), std::runtime_error);
  EXPECT_THROW(compare_benchmarks(json{{"benchmarks", {{{"name", "x"}}}}},
                                  read_json_file(data("new_bench.json")), {}),
               std::runtime_error);
}

TEST(compare_test, markdown_shows_every_metric_with_its_ratio_interval_and_status) {
  const std::string md = format_compare_markdown(reports());
  EXPECT_EQ(md.rfind("**REGRESSION**: 2 regression(s), 2 improvement(s), ", 0), 0u) << md;
  EXPECT_NE(md.find("| ratio [99 % CI] | p | threshold | status |"), std::string::npos) << md;
  EXPECT_NE(md.find("| slower | instances=1 | wall_s | 10.010 s (n=9) | 12.012 s (n=9) | 1.200 ["),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("| 4.1e-05 | 3 % | regression |"), std::string::npos) << md;
  EXPECT_NE(md.find("| single | instances=1 | wall_s | 10.000 s (n=1) | 12.000 s (n=1) | 1.200 | "
                    "- | 3 % | not enough data (1 + 1 values cannot reach p < 0.01; run 5 or more "
                    "a side) |"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("| fatter | instances=1 | peak_rss_kib |"), std::string::npos) << md;
  EXPECT_NE(md.find("- retired"), std::string::npos) << md;
  EXPECT_NE(md.find("- added"), std::string::npos) << md;
  const json j = comparison_to_json(reports());
  EXPECT_TRUE(j["regressed"].get<bool>());
  EXPECT_DOUBLE_EQ(j["alpha"].get<double>(), 0.01);
  const json& first = j["changes"][0];
  EXPECT_EQ(first["metric"], "wall_s");
  EXPECT_EQ(first["ci"].size(), 2u);
  EXPECT_EQ(first["status"], "regression");
}

}  // namespace
}  // namespace harness
