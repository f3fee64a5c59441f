// Capacity planning on synthetic sweeps (tests/data/capacity/sweep.json). The sweep was written
// from a known truth: shared S = 102400 KiB (100 MiB), private P = 153600 KiB (150 MiB) per
// worker, plus 10 MiB of libc-like pages shared with the rest of the system (in RSS, not PSS).
//
//   N  sum PSS (measured)        sum RSS   USS/worker               fps           p95 s
//   1  256000                    266240    245760 (lone: libs count) 10            3.0
//   2  (410000+414000)/2=412000  532480    (153000+154200)/2=153600  (18+20)/2=19  3.2
//   3  560000                    798720    153600                    20            4.6
//   4  720000                    1064960   153600                    20.5          6.0
// plus a warmup run at N=1 with absurd numbers that must be ignored.
//
// Model: P = USS at the smallest N >= 2 = 153600; S = T(1) - 1 x P = 256000 - 153600 = 102400.
//   M(2) = 102400 + 2 x 153600 = 409600  error (409600-412000)/412000 = -0.5825 %
//   M(3) = 563200                        error (563200-560000)/560000 = +0.5714 %
//   M(4) = 716800                        error (716800-720000)/720000 = -0.4444 %
//   naive RSS-sum errors: (532480-412000)/412000 = +29.24 %, (798720-560000)/560000 = +42.63 %,
//                         (1064960-720000)/720000 = +47.91 %
// Knee: 1->2 gains (19/10-1)/1 = 90 %; 2->3 gains 20/19-1 = 5.3 % < 10 %  => knee at N=2.

#include "harness/analysis/capacity.hpp"

#include <gtest/gtest.h>

#include "harness/analysis/report_fields.hpp"

namespace harness {
namespace {

using nlohmann::json;

json load(const std::string& name) {
  return read_json_file(std::string(HARNESS_TEST_DATA_DIR) + "/capacity/" + name);
}

const CapacityPoint& point(const CapacitySeries& s, int workers) {
  for (const auto& p : s.points)
    if (p.workers == workers) return p;
  throw std::runtime_error("no point N=" + std::to_string(workers));
}

TEST(capacity_test, finds_the_sweep_and_ignores_plain_scenarios_and_warmups) {
  const auto sweeps = extract_sweeps(load("sweep.json"));
  ASSERT_EQ(sweeps.size(), 1u);
  EXPECT_EQ(sweeps[0].scenario, "capacity-sweep");
  EXPECT_EQ(sweeps[0].config, json({{"model", "n"}}));
  ASSERT_EQ(sweeps[0].points.size(), 4u);
  EXPECT_EQ(point(sweeps[0], 1).repeats, 1);  // the warmup run is not a repeat
  EXPECT_DOUBLE_EQ(*point(sweeps[0], 1).throughput_fps, 10.0);
}

TEST(capacity_test, averages_repeats_of_one_matrix_point) {
  const auto s = extract_sweeps(load("sweep.json"))[0];
  const auto& p2 = point(s, 2);
  EXPECT_EQ(p2.repeats, 2);
  EXPECT_DOUBLE_EQ(*p2.throughput_fps, 19.0);
  EXPECT_DOUBLE_EQ(*p2.sum_pss_kib, 412000.0);
  EXPECT_DOUBLE_EQ(*p2.uss_per_worker_kib, 153600.0);
}

TEST(capacity_test, memory_model_takes_private_from_siblings_and_shared_from_n1) {
  const auto s = extract_sweeps(load("sweep.json"))[0];
  ASSERT_TRUE(s.model);
  EXPECT_DOUBLE_EQ(s.model->private_kib, 153600.0);
  EXPECT_DOUBLE_EQ(s.model->shared_kib, 102400.0);
  EXPECT_EQ(s.model->total_from_n, 1);
  EXPECT_EQ(s.model->private_from_n, 2);
  EXPECT_DOUBLE_EQ(*point(s, 3).predicted_kib, 563200.0);
  EXPECT_DOUBLE_EQ(*point(s, 4).predicted_kib, 716800.0);
}

TEST(capacity_test, prediction_error_is_checked_against_sum_of_pss_beside_rss_sum) {
  const auto s = extract_sweeps(load("sweep.json"))[0];
  EXPECT_NEAR(*point(s, 1).prediction_error_pct, 0.0, 1e-9);
  EXPECT_NEAR(*point(s, 2).prediction_error_pct, -0.5825, 1e-3);
  EXPECT_NEAR(*point(s, 3).prediction_error_pct, 0.5714, 1e-3);
  EXPECT_NEAR(*point(s, 4).prediction_error_pct, -0.4444, 1e-3);
  EXPECT_NEAR(*point(s, 2).rss_sum_error_pct, 29.24, 1e-2);
  EXPECT_NEAR(*point(s, 4).rss_sum_error_pct, 47.91, 1e-2);
  ASSERT_TRUE(s.max_abs_error_pct);
  EXPECT_NEAR(*s.max_abs_error_pct, 0.5825, 1e-3);  // N=1 is the calibration point, excluded
}

TEST(capacity_test, lone_worker_uss_is_only_a_fallback_and_says_so) {
  json r = load("sweep.json");
  auto& runs = r["scenarios"][1]["runs"];
  for (auto& run : runs)
    if (run["params"]["instances"] != 1) run["metrics"]["mean_peak_uss_kib"] = nullptr;
  const auto s = extract_sweeps(r)[0];
  ASSERT_TRUE(s.model);
  EXPECT_DOUBLE_EQ(s.model->private_kib, 245760.0);  // USS at N=1
  EXPECT_DOUBLE_EQ(s.model->shared_kib, 10240.0);    // 256000 - 245760
  ASSERT_FALSE(s.notes.empty());
  EXPECT_NE(s.notes[0].find("USS at N=1"), std::string::npos) << s.notes[0];
}

TEST(capacity_test, memory_sums_fall_back_to_the_instances_of_the_run) {
  json r = load("no_sweep.json");
  auto& sc = r["scenarios"][0];
  sc["instances"] = json::array();
  for (int i = 0; i < 3; ++i)
    sc["instances"].push_back(
        {{"run", 0},
         {"index", i},
         {"memory", {{"peak_rss_kib", 100 + i}, {"peak_pss_kib", 50}, {"peak_uss_kib", 10 * i}}}});
  const auto fields = read_report_fields(r);
  const RunFields& run = fields.scenarios[0].runs[0];
  EXPECT_DOUBLE_EQ(*run.sum_peak_rss_kib, 303.0);
  EXPECT_DOUBLE_EQ(*run.sum_peak_pss_kib, 150.0);
  EXPECT_DOUBLE_EQ(*run.mean_peak_uss_kib, 10.0);  // (0 + 10 + 20) / 3
}

TEST(capacity_test, memory_metrics_nested_under_metrics_memory_are_read_too) {
  json r = load("no_sweep.json");
  r["scenarios"][0]["runs"][0]["metrics"]["memory"] = {{"sum_peak_rss_kib", 900},
                                                       {"sum_peak_pss_kib", 600},
                                                       {"mean_peak_uss_kib", 150},
                                                       {"mean_added_kib", 42}};
  const RunFields run = read_report_fields(r).scenarios[0].runs[0];
  EXPECT_DOUBLE_EQ(*run.sum_peak_rss_kib, 900.0);
  EXPECT_DOUBLE_EQ(*run.sum_peak_pss_kib, 600.0);
  EXPECT_DOUBLE_EQ(*run.mean_peak_uss_kib, 150.0);
  EXPECT_DOUBLE_EQ(*run.mean_memory_added_kib, 42.0);
}

TEST(capacity_test, plan_stops_at_the_throughput_knee_when_memory_is_plentiful) {
  PlanOptions o;
  o.memory_budget_kib = 8 * 1024 * 1024;  // 8 GiB, usable 7549747.2 KiB
  const Plan p = plan(load("sweep.json"), o);
  ASSERT_EQ(p.series.size(), 1u);
  const SeriesPlan& sp = p.series[0];
  EXPECT_EQ(sp.memory_fit, 48);  // floor((7549747.2 - 102400) / 153600) = floor(48.49)
  EXPECT_TRUE(sp.knee_found);
  EXPECT_EQ(sp.knee, 2);
  EXPECT_EQ(sp.recommended, 2);
  EXPECT_EQ(sp.limiting, "throughput");
  EXPECT_DOUBLE_EQ(*sp.throughput_at_recommended, 19.0);
  EXPECT_DOUBLE_EQ(*sp.predicted_kib_at_recommended, 409600.0);
}

TEST(capacity_test, plan_is_memory_limited_on_a_small_budget) {
  PlanOptions o;
  o.memory_budget_kib = 400 * 1024;  // usable 368640: floor((368640 - 102400) / 153600) = 1
  const SeriesPlan sp = plan(load("sweep.json"), o).series[0];
  EXPECT_EQ(sp.memory_fit, 1);
  EXPECT_EQ(sp.recommended, 1);
  EXPECT_EQ(sp.limiting, "memory");
}

TEST(capacity_test, margin_changes_the_memory_fit) {
  PlanOptions o;
  o.memory_budget_kib = 500 * 1024;  // 512000 KiB
  o.margin = 0.10;                   // usable 460800: floor(358400 / 153600) = 2
  EXPECT_EQ(plan(load("sweep.json"), o).series[0].memory_fit, 2);
  o.margin = 0.30;  // usable 358400: floor(256000 / 153600) = 1
  EXPECT_EQ(plan(load("sweep.json"), o).series[0].memory_fit, 1);
}

TEST(capacity_test, a_tie_between_memory_and_knee_is_reported_as_memory) {
  PlanOptions o;
  o.memory_budget_kib = 500 * 1024;  // memory fit 2 == knee 2
  const SeriesPlan sp = plan(load("sweep.json"), o).series[0];
  EXPECT_EQ(sp.recommended, 2);
  EXPECT_EQ(sp.limiting, "memory");
}

TEST(capacity_test, plan_is_latency_limited_under_a_tight_p95) {
  PlanOptions o;
  o.memory_budget_kib = 8 * 1024 * 1024;
  o.latency_p95_max_s = 3.1;  // N=1 has 3.0 s, N=2 has 3.2 s
  const SeriesPlan sp = plan(load("sweep.json"), o).series[0];
  EXPECT_EQ(*sp.latency_fit, 1);
  EXPECT_EQ(sp.recommended, 1);
  EXPECT_EQ(sp.limiting, "latency");
}

TEST(capacity_test, a_sweep_that_never_flattens_says_extend_the_sweep) {
  json r = load("sweep.json");
  for (auto& run : r["scenarios"][1]["runs"])
    run["metrics"]["throughput_fps"] = 10.0 * run["params"]["instances"].get<int>();
  PlanOptions o;
  o.memory_budget_kib = 8 * 1024 * 1024;
  const SeriesPlan sp = plan(r, o).series[0];
  EXPECT_FALSE(sp.knee_found);
  EXPECT_EQ(sp.recommended, 4);
  EXPECT_EQ(sp.limiting, "sweep");
  ASSERT_FALSE(sp.notes.empty());
  EXPECT_NE(sp.notes[0].find("extend the sweep"), std::string::npos);
}

TEST(capacity_test, each_model_scale_is_its_own_series) {
  json r = load("sweep.json");
  auto& runs = r["scenarios"][1]["runs"];
  json more = json::array();
  for (auto run : runs) {
    run["params"]["model"] = "s";
    more.push_back(run);
  }
  for (auto& run : more) runs.push_back(run);
  const auto sweeps = extract_sweeps(r);
  ASSERT_EQ(sweeps.size(), 2u);
  EXPECT_EQ(sweeps[0].config["model"], "n");
  EXPECT_EQ(sweeps[1].config["model"], "s");
  EXPECT_EQ(sweeps[1].points.size(), 4u);
}

TEST(capacity_test, table_and_json_carry_the_recommendation) {
  PlanOptions o;
  o.memory_budget_kib = 8 * 1024 * 1024;
  const Plan p = plan(load("sweep.json"), o);
  const std::string table = format_plan_table(p);
  EXPECT_NE(table.find("recommended: 2 workers, limited by throughput"), std::string::npos)
      << table;
  EXPECT_NE(table.find("-0.6%"), std::string::npos) << table;   // N=2 model error
  EXPECT_NE(table.find("+29.2%"), std::string::npos) << table;  // N=2 RSS-sum error
  const json j = plan_to_json(p);
  EXPECT_EQ(j["series"][0]["recommended"], 2);
  EXPECT_EQ(j["series"][0]["limiting"], "throughput");
  EXPECT_EQ(j["series"][0]["memory_fit"], 48);
  EXPECT_EQ(j["series"][0]["points"].size(), 4u);
}

// The sweep's runs as if measured with each worker wanting `per_worker` CPUs on `cores` cores,
// with `threads` threads each; the runs at `oversubscribed_from` workers and above flagged.
json with_cpu(double per_worker, int cores, int threads, int oversubscribed_from = 99) {
  json r = load("sweep.json");
  for (auto& run : r["scenarios"][1]["runs"]) {
    const int n = run["params"]["instances"].get<int>();
    const double wanted = n * per_worker;
    run["cpu_demand"] = {{"cores", cores},
                         {"workers", n},
                         {"wanted_cpus", wanted},
                         {"wait_share", wanted > cores ? 1 - cores / wanted : 0.02},
                         {"threads_per_worker", threads},
                         {"oversubscribed", n >= oversubscribed_from},
                         {"message", ""}};
  }
  return r;
}

TEST(capacity_test, workers_wanting_most_of_the_cores_each_are_limited_by_cpu) {
  // 1.9 CPUs per worker (3 threads each) on 2 cores: floor(2 x 1.1 / 1.9) = 1 worker.
  PlanOptions o;
  o.memory_budget_kib = 8 * 1024 * 1024;
  const Plan p = plan(with_cpu(1.9, 2, 3, 2), o);
  const SeriesPlan& sp = p.series.at(0);
  ASSERT_TRUE(sp.cpu_fit.has_value());
  EXPECT_EQ(*sp.cpu_fit, 1);
  EXPECT_DOUBLE_EQ(*sp.cpus_per_worker, 1.9);
  EXPECT_EQ(*sp.threads_assumed, 3);
  EXPECT_EQ(sp.recommended, 1);
  EXPECT_EQ(sp.limiting, "cpu");
  const std::string table = format_plan_table(p);
  EXPECT_NE(table.find("cpu fit: 1 workers (1.90 CPUs per worker at 3 threads per worker, 2 "
                       "cores)"),
            std::string::npos)
      << table;
  EXPECT_NE(table.find("recommended: 1 workers, limited by cpu"), std::string::npos) << table;
  EXPECT_NE(table.find("N=4 was oversubscribed: its workers wanted 7.6 CPUs on 2 cores"),
            std::string::npos)
      << table;
  EXPECT_NE(table.find("7.60!"), std::string::npos) << table;  // the flagged point's column
  const json j = plan_to_json(p);
  EXPECT_EQ(j["series"][0]["cpu_fit"], 1);
  EXPECT_EQ(j["series"][0]["threads_assumed"], 3);
  EXPECT_EQ(j["series"][0]["points"][3]["oversubscribed"], true);
  EXPECT_DOUBLE_EQ(j["series"][0]["points"][3]["cpus_wanted"].get<double>(), 7.6);
}

TEST(capacity_test, a_worker_alone_wanting_more_than_the_machine_is_said_to) {
  PlanOptions o;
  o.memory_budget_kib = 8 * 1024 * 1024;
  const SeriesPlan sp = plan(with_cpu(3.0, 2, 8, 1), o).series.at(0);
  EXPECT_EQ(*sp.cpu_fit, 1);  // never 0: one worker still runs, slowly
  bool said = false;
  for (const auto& n : sp.notes) said = said || n.find("oversubscribed by itself") != n.npos;
  EXPECT_TRUE(said);
}

TEST(capacity_test, light_workers_leave_the_limit_to_the_knee) {
  // 0.5 CPUs per worker on 4 cores: floor(4 x 1.1 / 0.5) = 8, above the knee at 2.
  PlanOptions o;
  o.memory_budget_kib = 8 * 1024 * 1024;
  const SeriesPlan sp = plan(with_cpu(0.5, 4, 1), o).series.at(0);
  EXPECT_EQ(*sp.cpu_fit, 8);
  EXPECT_EQ(sp.recommended, 2);
  EXPECT_EQ(sp.limiting, "throughput");
}

TEST(capacity_test, a_report_without_cpu_demand_plans_without_cpu_and_says_so) {
  PlanOptions o;
  o.memory_budget_kib = 8 * 1024 * 1024;
  const SeriesPlan sp = plan(load("sweep.json"), o).series.at(0);
  EXPECT_FALSE(sp.cpu_fit.has_value());
  bool said = false;
  for (const auto& n : sp.notes) said = said || n.find("no CPU demand") != n.npos;
  EXPECT_TRUE(said);
}

TEST(capacity_test, capacity_series_json_has_per_point_errors) {
  const json j = capacity_series(load("sweep.json"));
  ASSERT_EQ(j.size(), 1u);
  EXPECT_DOUBLE_EQ(j[0]["model"]["private_kib"].get<double>(), 153600.0);
  EXPECT_NEAR(j[0]["points"][2]["prediction_error_pct"].get<double>(), 0.5714, 1e-3);
  EXPECT_TRUE(j[0]["points"][0]["rss_sum_error_pct"].is_number());
}

TEST(capacity_test, report_without_a_sweep_says_which_scenario_to_run) {
  try {
    extract_sweeps(load("no_sweep.json"));
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("scenarios/capacity/sweep.yaml"), std::string::npos)
        << e.what();
  }
}

TEST(capacity_test, bad_inputs_are_clear_errors_and_missing_throughput_is_not) {
  EXPECT_THROW(extract_sweeps(json::array()), std::runtime_error);
  EXPECT_THROW(extract_sweeps(json{{"schema", 2}, {"scenarios", json::array()}}),
               std::runtime_error);
  json r = load("sweep.json");
  r["scenarios"][1]["runs"][2]["metrics"].erase("throughput_fps");
  PlanOptions o;
  o.memory_budget_kib = 8 * 1024 * 1024;
  // A worker without frames still plans by memory: the knee is unknown, and the plan says so.
  const SeriesPlan sp = plan(r, o).series.at(0);
  EXPECT_FALSE(sp.knee_known);
  EXPECT_EQ(sp.limiting, "memory");
  ASSERT_FALSE(sp.notes.empty());
  EXPECT_NE(sp.notes[0].find("no throughput"), std::string::npos) << sp.notes[0];
  o.memory_budget_kib = 0;
  EXPECT_THROW(plan(load("sweep.json"), o), std::invalid_argument);
  EXPECT_THROW(read_json_file("/nonexistent/report.json"), std::runtime_error);
}

}  // namespace
}  // namespace harness

namespace harness {
namespace {

// One instance of run 0 in report.json: samples [t_ms, rss, pss, uss] and optional result time.
json instance(double offset_ms, double wall_s, const std::vector<std::vector<double>>& samples,
              std::optional<double> result_ms) {
  json inst = {{"run", 0}, {"spawn_offset_ms", offset_ms}, {"wall_s", wall_s}};
  inst["memory"]["samples"] = samples;
  inst["events"] = json::array();
  if (result_ms) {
    inst["events"].push_back({{"t_ms", *result_ms}, {"body", {{"event", "result"}}}});
  }
  return inst;
}

RunFields only_run(const json& instances) {
  const json report = {{"schema", 1},
                       {"scenarios",
                        {{{"name", "s"},
                          {"runs", {{{"params", {{"instances", 2}}}, {"metrics", json::object()}}}},
                          {"instances", instances}}}}};
  return read_report_fields(report).scenarios.at(0).runs.at(0);
}

TEST(capacity_test, concurrent_window_ends_at_the_first_result_not_at_the_first_exit) {
  // Worker A sends its result at 900 ms and exits at 1000 ms; while it tears down, B reads its
  // share of the libraries as private (USS 150 at 950 ms). That sample must not count.
  const json instances = json::array(
      {instance(0, 1.0, {{100, 200, 100, 80}, {500, 200, 110, 80}, {990, 120, 60, 40}}, 900.0),
       instance(0, 2.0, {{100, 200, 100, 80}, {500, 200, 110, 82}, {950, 200, 160, 150}}, 1900.0)});
  const RunFields r = only_run(instances);
  ASSERT_TRUE(r.concurrent_uss_per_worker_kib.has_value());
  EXPECT_DOUBLE_EQ(*r.concurrent_uss_per_worker_kib, 81.0);  // peaks 80 and 82, before 900 ms
  ASSERT_TRUE(r.concurrent_pss_kib.has_value());
  EXPECT_DOUBLE_EQ(*r.concurrent_pss_kib, 220.0);  // 110 + 110 at 500 ms
}

TEST(capacity_test, concurrent_window_without_result_events_ends_at_the_first_exit) {
  const json instances =
      json::array({instance(0, 1.0, {{100, 200, 100, 80}, {990, 120, 60, 40}}, std::nullopt),
                   instance(0, 2.0, {{100, 200, 100, 80}, {950, 200, 160, 150}}, std::nullopt)});
  const RunFields r = only_run(instances);
  ASSERT_TRUE(r.concurrent_uss_per_worker_kib.has_value());
  EXPECT_DOUBLE_EQ(*r.concurrent_uss_per_worker_kib, (80.0 + 150.0) / 2);
}

}  // namespace
}  // namespace harness
