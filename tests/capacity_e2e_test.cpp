// End to end: the real harness binary runs a tiny concurrency sweep of fault_worker (N = 1, 2, 3;
// each grows to a known `mib` and holds it), then `harness plan --json` plans from its report.
// The known sizes give the truth: a worker growing to 48 MiB holds 32 MiB more private memory
// than one growing to 16 MiB, and every extra worker adds its private part to the total.

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "harness/analysis/report_fields.hpp"
#include "tests/output_match.hpp"
#include "tests/test_process.hpp"

namespace harness {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr double kMiB = 1024.0;

// Runs argv to its end; writes its stdout to `out_file` and returns the exit status. Its stderr
// goes into `out_file`.stderr, beside it, for the failure messages.
int run(const std::vector<std::string>& argv, const fs::path& out_file) {
  const test::Completed c = test::run_program(argv, {}, std::chrono::minutes(5));
  std::ofstream(out_file, std::ios::binary) << c.out;
  std::ofstream(out_file.string() + ".stderr", std::ios::binary) << c.err;
  return c.status;
}

const json& series_for(const json& plan, const std::string& mib) {
  for (const json& s : plan.at("series")) {
    const json& v = s.at("config").at("mib");
    if ((v.is_string() ? v.get<std::string>() : v.dump()) == mib) return s;
  }
  throw std::runtime_error("plan has no series for mib=" + mib + ": " + plan.dump());
}

// One sweep for all tests: it takes ~20 s.
class CapacityE2eTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(fs::path(::testing::TempDir()) /
                        ("capacity_e2e_" + std::to_string(::getpid())));
    fs::remove_all(*dir_);
    fs::create_directories(*dir_);
    const std::string workers = fs::path(FAULT_WORKER).parent_path().string();
    run_status_ =
        run({HARNESS_BINARY, "run", std::string(HARNESS_TEST_DATA_DIR) + "/capacity_e2e/sweep.yaml",
             "--report-dir", (*dir_ / "report").string(), "--var", "WORKERS=" + workers, "-q"},
            *dir_ / "run.txt");
    plan_status_ = run({HARNESS_BINARY, "plan", (*dir_ / "report" / "report.json").string(),
                        "--memory-budget", "1GiB", "--json"},
                       *dir_ / "plan.json");
  }
  static void TearDownTestSuite() {
    std::error_code ignored;
    fs::remove_all(*dir_, ignored);
    delete dir_;
  }
  static json plan_json() { return read_json_file(*dir_ / "plan.json"); }
  static json report_json() { return read_json_file(*dir_ / "report" / "report.json"); }

  static fs::path* dir_;
  static int run_status_, plan_status_;
};
fs::path* CapacityE2eTest::dir_ = nullptr;
int CapacityE2eTest::run_status_ = -1;
int CapacityE2eTest::plan_status_ = -1;

TEST_F(CapacityE2eTest, sweep_passes_and_plan_is_produced) {
  ASSERT_EQ(run_status_, 0) << testing::read_text_file(*dir_ / "run.txt")
                            << testing::read_text_file(*dir_ / "run.txt.stderr");
  ASSERT_EQ(plan_status_, 0) << testing::read_text_file(*dir_ / "plan.json")
                             << testing::read_text_file(*dir_ / "plan.json.stderr");
  const json plan = plan_json();
  ASSERT_EQ(plan.at("series").size(), 2u);  // mib=16 and mib=48
  for (const json& s : plan.at("series")) {
    ASSERT_EQ(s.at("points").size(), 3u);
    EXPECT_EQ(s.at("limiting"), "memory");  // no throughput: the knee is unknown
    EXPECT_TRUE(s.at("knee").is_null());
  }
}

TEST_F(CapacityE2eTest, prediction_error_is_within_five_percent_at_every_n) {
  ASSERT_EQ(plan_status_, 0);
  const json plan = plan_json();  // a range-for over plan_json().at(...) would outlive it
  for (const json& s : plan.at("series")) {
    for (const json& p : s.at("points")) {
      EXPECT_EQ(p.at("sum_pss_from"), "concurrent samples") << p.dump();
      ASSERT_TRUE(p.at("prediction_error_pct").is_number()) << p.dump();
      EXPECT_LE(std::abs(p.at("prediction_error_pct").get<double>()), 5.0) << p.dump();
    }
  }
}

TEST_F(CapacityE2eTest, private_part_grows_by_the_known_size) {
  ASSERT_EQ(plan_status_, 0);
  const json plan = plan_json();
  const double small = series_for(plan, "16").at("model").at("private_kib").get<double>();
  const double big = series_for(plan, "48").at("model").at("private_kib").get<double>();
  EXPECT_GE(small, 16 * kMiB);  // it touched every page of 16 MiB
  EXPECT_NEAR(big - small, 32 * kMiB, 0.05 * 32 * kMiB);
}

TEST_F(CapacityE2eTest, memory_fit_matches_the_known_per_worker_size) {
  ASSERT_EQ(plan_status_, 0);
  const json plan = plan_json();
  const json& big = series_for(plan, "48");
  // Per worker: what a 16 MiB worker measured plus the known 32 MiB more.
  const double per_worker =
      series_for(plan, "16").at("model").at("private_kib").get<double>() + 32 * kMiB;
  const double usable = 1024 * kMiB * 0.9;  // 1 GiB in KiB, less the default 10 % margin
  EXPECT_DOUBLE_EQ(big.at("usable_kib").get<double>(), usable);
  const double shared = big.at("model").at("shared_kib").get<double>();
  const int expected = static_cast<int>(std::floor((usable - shared) / per_worker));
  EXPECT_NEAR(big.at("memory_fit").get<int>(), expected, 1) << big.dump();
  EXPECT_EQ(big.at("recommended"), big.at("memory_fit"));
}

TEST_F(CapacityE2eTest, report_json_carries_the_capacity_series) {
  ASSERT_EQ(run_status_, 0);
  const json report = report_json();
  const json& sc = report.at("scenarios").at(0);
  ASSERT_TRUE(sc.contains("capacity")) << "no capacity object in report.json";
  const json& series = sc.at("capacity").at("series");
  ASSERT_EQ(series.size(), 2u);
  for (const json& s : series)
    for (const json& p : s.at("points")) {
      EXPECT_TRUE(p.at("predicted_kib").is_number());
      EXPECT_TRUE(p.at("rss_sum_error_pct").is_number());
    }
  const std::string html = testing::read_text_file(*dir_ / "report" / "report.html");
  EXPECT_NE(html.find("Capacity: grow-sweep"), std::string::npos);
  EXPECT_NE(html.find("RSS-sum error"), std::string::npos);
}

}  // namespace
}  // namespace harness
