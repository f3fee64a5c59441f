// The readers behind `harness plan` and `harness compare` on reports with fields of the wrong
// type: a std::runtime_error that names the file and the field, never a bare nlohmann
// type_error or out_of_range (which the fuzz target of fuzz/report_fuzzer.cpp found, with the
// inputs kept in fuzz/regressions/report/).
#include <gtest/gtest.h>

#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>

#include "harness/analysis/benchmark_json.hpp"
#include "harness/analysis/report_fields.hpp"

namespace harness {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

// The message of the std::runtime_error that `read` throws; fails the test on anything else.
template <class F>
std::string runtime_error_of(F read) {
  try {
    read();
  } catch (const std::runtime_error& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "not a std::runtime_error: " << e.what();
    return {};
  }
  ADD_FAILURE() << "no error";
  return {};
}

json report_with_run(json run) {
  return {{"schema", 1}, {"scenarios", {{{"name", "s"}, {"runs", {std::move(run)}}}}}};
}

TEST(report_reader_test, a_run_field_of_the_wrong_type_names_the_field) {
  const std::string warmup = runtime_error_of([] {
    read_report_fields(report_with_run({{"warmup", 1}}), "r.json");
  });
  EXPECT_NE(warmup.find("r.json: scenario s: run 0: \"warmup\" must be true or false, not 1"),
            std::string::npos)
      << warmup;
  const std::string repeat = runtime_error_of([] {
    read_report_fields(report_with_run({{"repeat", "2"}}), "r.json");
  });
  EXPECT_NE(repeat.find("\"repeat\" must be an integer, not \"2\""), std::string::npos) << repeat;
  const std::string huge = runtime_error_of([] {
    read_report_fields(report_with_run({{"repeat", 1e300}}), "r.json");
  });
  EXPECT_NE(huge.find("\"repeat\" must be an integer"), std::string::npos) << huge;
}

TEST(report_reader_test, a_scenario_name_or_status_of_the_wrong_type_names_the_field) {
  const json name = {{"schema", 1}, {"scenarios", {{{"name", 7}}}}};
  EXPECT_NE(runtime_error_of([&] {
              read_report_fields(name, "r.json");
            }).find("r.json: scenarios[0]: \"name\" must be a string, not 7"),
            std::string::npos);
  const json status = {{"schema", 1}, {"scenarios", {{{"name", "s"}, {"status", false}}}}};
  EXPECT_NE(runtime_error_of([&] { read_report_fields(status, "r.json"); }).find("\"status\""),
            std::string::npos);
}

TEST(report_reader_test, an_instance_whose_run_is_not_an_integer_belongs_to_no_run) {
  json report = report_with_run({{"wall_s", 1.0}});
  report["scenarios"][0]["instances"] = {
      {{"run", "0"}, {"memory", {{"peak_rss_kib", 100}}}},
      {{"run", 0}, {"memory", {{"peak_rss_kib", 50}}}},
  };
  const ReportFields f = read_report_fields(report, "r.json");
  ASSERT_EQ(f.scenarios.at(0).runs.size(), 1u);
  EXPECT_EQ(f.scenarios[0].runs[0].instances, 1);
  EXPECT_EQ(f.scenarios[0].runs[0].sum_peak_rss_kib, 50.0);
}

TEST(report_reader_test, benchmark_fields_of_the_wrong_type_name_the_field) {
  auto read = [](json entry) {
    json bench = {{"name", "BM_A"}, {"real_time", 1.0}, {"cpu_time", 1.0}};
    bench.update(entry);
    const json doc = {{"benchmarks", {bench}}};
    std::map<std::string, BenchmarkSamples> into;
    return runtime_error_of([&] { read_benchmark_samples(doc, "b.json", into); });
  };
  EXPECT_NE(read({{"error_occurred", "no"}})
                .find("b.json: benchmark BM_A: \"error_occurred\" must be true or false"),
            std::string::npos);
  EXPECT_NE(read({{"run_name", 3}}).find("\"run_name\" must be a string"), std::string::npos);
  EXPECT_NE(read({{"time_unit", 3}}).find("\"time_unit\" must be a string"), std::string::npos);
  EXPECT_NE(read({{"run_type", 3}}).find("\"run_type\" must be a string"), std::string::npos);
}

TEST(report_reader_test, a_number_beyond_a_double_is_a_named_json_error) {
  const fs::path file =
      fs::path(::testing::TempDir()) / ("overflow_" + std::to_string(::getpid()) + ".json");
  std::ofstream(file) << R"({"schema": 1, "scenarios": [], "x": 1e999})";
  const std::string message = runtime_error_of([&] { read_json_file(file); });
  fs::remove(file);
  EXPECT_NE(message.find(file.string() + ": not valid JSON"), std::string::npos) << message;
}

}  // namespace
}  // namespace harness
