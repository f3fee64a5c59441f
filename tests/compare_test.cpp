// The regression gate on synthetic reports (tests/data/compare/base.json vs new.json), one
// scenario per behaviour:
//   single  wall 10.0 -> 12.0 s (+20 %, no repeats)                 => regression
//   noisy   wall repeats 10, 14, 12 (mean 12, sd 2) -> 13.2, 16.8, 13.2 (mean 14.4, sd 2.078):
//           +20 %, but |14.4 - 12| = 2.4 < 2 x 2.078 = 4.157        => noise, not flagged
//   faster  wall 10 -> 8 s (-20 %), fps 10 -> 12.5 (+25 %)           => improvements
//   fatter  memory added 100000 -> 106000 KiB (+6 % > 5 %)           => regression
//           peak RSS 300000 -> 312000 KiB (+4 % <= 5 %)              => ok
//   retired only in base, added only in new; sweep has N=2 only in base and N=3 only in new.
// Benchmarks (base_bench.json vs new_bench.json):
//   BM_Parse 100 -> 125 ns (+25 %)                                    => regression
//   BM_Spawn/threads:1 mean 2.0 ms (stddev 0.5, 5 reps) -> 2.3 ms (stddev 0.4):
//           +15 %, but 0.3 ms < 2 x 0.5 ms                            => noise
//   BM_Units 1.0 us -> 1000 ns                                        => ok (0 %)
//   BM_Old only in base, BM_New only in new.

#include "harness/analysis/compare.hpp"

#include <gtest/gtest.h>

#include "harness/analysis/report_fields.hpp"

namespace harness {
namespace {

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

TEST(compare_test, a_20_percent_slowdown_is_a_regression) {
  const Comparison c = reports();
  const MetricChange& m = find(c, "single", "wall_s");
  EXPECT_NEAR(m.change_pct, 20.0, 1e-9);
  EXPECT_EQ(m.status, ChangeStatus::regression);
  EXPECT_TRUE(c.regressed);
}

TEST(compare_test, a_change_inside_the_repeats_noise_is_not_flagged) {
  const Comparison c = reports();
  const MetricChange& m = find(c, "noisy", "wall_s");
  EXPECT_NEAR(m.change_pct, 20.0, 1e-9);
  EXPECT_EQ(m.base_n, 3);
  EXPECT_NEAR(m.base_sd, 2.0, 1e-9);
  EXPECT_NEAR(m.new_sd, 2.0785, 1e-4);
  EXPECT_NEAR(m.noise_band, 4.157, 1e-3);
  EXPECT_EQ(m.status, ChangeStatus::noise);
}

TEST(compare_test, the_same_change_is_flagged_when_noise_k_is_small) {
  Thresholds t;
  t.noise_k = 1.0;  // band 2.078 < 2.4
  EXPECT_EQ(find(reports(t), "noisy", "wall_s").status, ChangeStatus::regression);
}

TEST(compare_test, improvements_are_not_regressions_in_either_direction) {
  const Comparison c = reports();
  const MetricChange& wall = find(c, "faster", "wall_s");
  EXPECT_NEAR(wall.change_pct, -20.0, 1e-9);
  EXPECT_EQ(wall.status, ChangeStatus::improvement);
  const MetricChange& fps = find(c, "faster", "throughput_fps");
  EXPECT_TRUE(fps.higher_is_better);
  EXPECT_NEAR(fps.change_pct, 25.0, 1e-9);
  EXPECT_NEAR(fps.worse_pct, -25.0, 1e-9);
  EXPECT_EQ(fps.status, ChangeStatus::improvement);
}

TEST(compare_test, lower_throughput_is_a_regression) {
  json n = read_json_file(data("new.json"));
  n["scenarios"][0]["runs"][0]["metrics"]["throughput_fps"] = 8.5;  // 10 -> 8.5: -15 %
  const Comparison c = compare(read_json_file(data("base.json")), n, {});
  EXPECT_EQ(find(c, "single", "throughput_fps").status, ChangeStatus::regression);
}

TEST(compare_test, memory_is_held_to_5_percent) {
  const Comparison c = reports();
  EXPECT_EQ(find(c, "fatter", "memory_added_kib").status, ChangeStatus::regression);
  EXPECT_NEAR(find(c, "fatter", "memory_added_kib").change_pct, 6.0, 1e-9);
  EXPECT_EQ(find(c, "fatter", "peak_rss_kib").status, ChangeStatus::ok);
  EXPECT_EQ(find(c, "fatter", "wall_s").status, ChangeStatus::ok);
}

TEST(compare_test, scenarios_and_runs_in_only_one_report_are_listed) {
  const Comparison c = reports();
  EXPECT_EQ(c.only_in_base, std::vector<std::string>{"retired"});
  EXPECT_EQ(c.only_in_new, std::vector<std::string>{"added"});
  EXPECT_EQ(c.unmatched_runs, (std::vector<std::string>{"sweep: instances=2 (only in base)",
                                                        "sweep: instances=3 (only in new)"}));
  EXPECT_EQ(find(c, "sweep", "throughput_fps").status, ChangeStatus::ok);  // N=1 matched
}

TEST(compare_test, identical_reports_do_not_regress) {
  const json b = read_json_file(data("base.json"));
  const Comparison c = compare(b, b, {});
  EXPECT_FALSE(c.regressed);
  for (const auto& m : c.changes) EXPECT_EQ(m.status, ChangeStatus::ok) << m.scenario << m.metric;
}

TEST(compare_test, thresholds_file_loosens_the_gate) {
  const Thresholds t = load_thresholds(data("thresholds.yaml"));
  EXPECT_DOUBLE_EQ(t.time, 0.25);
  EXPECT_DOUBLE_EQ(t.memory, 0.10);
  EXPECT_DOUBLE_EQ(t.per_metric.at("throughput_fps"), 0.30);
  const Comparison c = reports(t);
  EXPECT_EQ(find(c, "single", "wall_s").status, ChangeStatus::ok);
  EXPECT_EQ(find(c, "fatter", "memory_added_kib").status, ChangeStatus::ok);
  EXPECT_EQ(find(c, "faster", "throughput_fps").status, ChangeStatus::ok);  // 25 % < 30 %
  EXPECT_FALSE(c.regressed);
}

TEST(compare_test, per_run_threshold_loosens_one_benchmark_only) {
  const Thresholds t = parse_thresholds("per_run: {\"BM_Parse\": 30%}\n", "t.yaml");
  EXPECT_DOUBLE_EQ(t.per_run.at("BM_Parse"), 0.30);
  const Comparison c = compare_benchmarks(read_json_file(data("base_bench.json")),
                                          read_json_file(data("new_bench.json")), t);
  const MetricChange& parse = find(c, "benchmarks", "real_time", "BM_Parse");
  EXPECT_NEAR(parse.change_pct, 25.0, 1e-9);
  EXPECT_DOUBLE_EQ(parse.threshold_pct, 30.0);
  EXPECT_EQ(parse.status, ChangeStatus::ok);  // +25 % < 30 % for this benchmark alone
  EXPECT_DOUBLE_EQ(find(c, "benchmarks", "real_time", "BM_Units").threshold_pct, 10.0);
  // The same file gates a report's run by its params label.
  const Comparison r = reports(parse_thresholds("per_run: {instances=1: 25%}\n"));
  EXPECT_EQ(find(r, "single", "wall_s").status, ChangeStatus::ok);  // +20 % < 25 %
  EXPECT_THROW(parse_thresholds("per_run: [BM_Parse]\n"), std::runtime_error);
}

TEST(compare_test, thresholds_errors_name_the_place) {
  try {
    parse_thresholds("time: 10%\nmemroy: 5%\n", "t.yaml");
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("t.yaml:2:1"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("memroy"), std::string::npos) << e.what();
  }
  EXPECT_THROW(parse_thresholds("time: fast\n"), std::runtime_error);
  EXPECT_THROW(parse_thresholds("per_metric: {wall_time: 5%}\n"), std::runtime_error);
  EXPECT_THROW(parse_thresholds("[1, 2]\n"), std::runtime_error);
  EXPECT_THROW(load_thresholds(data("missing.yaml")), std::runtime_error);
  EXPECT_DOUBLE_EQ(parse_thresholds("").time, 0.10);  // empty file: defaults
}

TEST(compare_test, benchmark_files_go_through_the_same_gate) {
  const Comparison c = compare_benchmarks(read_json_file(data("base_bench.json")),
                                          read_json_file(data("new_bench.json")), {});
  const MetricChange& parse = find(c, "benchmarks", "real_time", "BM_Parse");
  EXPECT_NEAR(parse.change_pct, 25.0, 1e-9);
  EXPECT_EQ(parse.status, ChangeStatus::regression);
  const MetricChange& spawn = find(c, "benchmarks", "real_time", "BM_Spawn/threads:1");
  EXPECT_NEAR(spawn.base_mean, 2.0e6, 1e-3);  // ms -> ns
  EXPECT_NEAR(spawn.base_sd, 0.5e6, 1e-3);
  EXPECT_EQ(spawn.base_n, 5);
  EXPECT_EQ(spawn.status, ChangeStatus::noise);
  EXPECT_EQ(find(c, "benchmarks", "real_time", "BM_Units").status, ChangeStatus::ok);
  EXPECT_EQ(c.only_in_base, std::vector<std::string>{"BM_Old"});
  EXPECT_EQ(c.only_in_new, std::vector<std::string>{"BM_New"});
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

TEST(compare_test, bad_reports_are_errors_not_crashes) {
  const json good = read_json_file(data("base.json"));
  EXPECT_THROW(compare(json::object(), good, {}), std::runtime_error);
  EXPECT_THROW(compare(good, json{{"scenarios", 3}}, {}), std::runtime_error);
  EXPECT_THROW(compare_benchmarks(json{{"benchmarks", {{{"name", "x"}}}}},
                                  read_json_file(data("new_bench.json")), {}),
               std::runtime_error);
}

TEST(compare_test, markdown_lists_what_changed) {
  const std::string md = format_compare_markdown(reports());
  EXPECT_EQ(md.rfind("**REGRESSION**", 0), 0u) << md;
  EXPECT_NE(md.find("| single | instances=1 | wall_s | 10.000 s | 12.000 s | +20.0 % | 10 % | "
                    "regression |"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("| noisy | instances=1 | wall_s |"), std::string::npos) << md;
  EXPECT_NE(md.find("noise (inside"), std::string::npos) << md;
  EXPECT_EQ(md.find("| fatter | instances=1 | peak_rss_kib"), std::string::npos) << md;  // ok
  EXPECT_NE(md.find("- retired"), std::string::npos) << md;
  EXPECT_NE(md.find("- added"), std::string::npos) << md;
  const json j = comparison_to_json(reports());
  EXPECT_TRUE(j["regressed"].get<bool>());
}

}  // namespace
}  // namespace harness
