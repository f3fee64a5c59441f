// Hostile worker output through the whole path (supervisor, judge-visible result, reports): deep
// JSON does not crash the harness, an event flood stays bounded in the harness's memory and the
// final result survives it.

#include <unistd.h>

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "harness/report/report_writer.hpp"
#include "harness/supervise/sampler.hpp"
#include "harness/supervise/supervisor.hpp"
#include "process_test_util.hpp"
#include "sanitizer.hpp"

namespace harness {
namespace {

using test::fault;

RunReport report_of(std::vector<ProcessResult> instances) {
  RunReport report;
  ScenarioResult s;
  s.name = "hostile";
  s.status = "pass";
  ScenarioRun run;
  run.instances = std::move(instances);
  s.runs.push_back(std::move(run));
  report.scenarios.push_back(std::move(s));
  return report;
}

TEST(hostile_output_test, an_event_nested_25000_deep_is_a_violation_not_a_crash) {
  Supervisor sup;
  auto results = sup.run(
      {fault({"--mode", "deep", "--depth", "25000"}), fault({"--mode", "deep", "--depth", "40"})});
  const ProcessResult& deep = results.at(0);
  ASSERT_EQ(deep.exit_code.value_or(-1), 0);
  EXPECT_TRUE(deep.events.empty());
  ASSERT_EQ(deep.protocol_violations.size(), 1u);
  EXPECT_NE(deep.protocol_violations[0].find("levels deep"), std::string::npos);
  const ProcessResult& shallow = results.at(1);
  ASSERT_EQ(shallow.events.size(), 1u);
  EXPECT_EQ(shallow.events[0].type, "result");
  // Every report format walks both without trouble.
  const auto dir =
      std::filesystem::temp_directory_path() / ("hostile_output_" + std::to_string(::getpid()));
  write_reports(report_of(std::move(results)), dir);
  EXPECT_TRUE(std::filesystem::exists(dir / "report.json"));
  EXPECT_TRUE(std::filesystem::exists(dir / "report.html"));
  std::filesystem::remove_all(dir);
}

// Four workers printing 400,000 progress events each as fast as they can: the result at the end
// is kept, every event is counted, and the harness stays far under 64 MiB.
TEST(hostile_output_test, an_event_flood_is_counted_exactly_and_bounded) {
  const std::int64_t before = self_rss_kib();
  Supervisor sup;
  ProcessSpec spec = fault({"--mode", "events", "--count", "400000"});
  auto results = sup.run({spec, spec, spec, spec});
  for (const ProcessResult& r : results) {
    ASSERT_EQ(r.exit_code.value_or(-1), 0) << r.spawn_error;
    EXPECT_EQ(r.event_counts.at("progress"), 400000u);
    EXPECT_EQ(r.event_counts.at("started"), 1u);
    EXPECT_EQ(r.event_counts.at("result"), 1u);
    ASSERT_FALSE(r.events.empty());
    EXPECT_EQ(r.events.back().type, "result");
    EXPECT_EQ(r.events.front().type, "started");
    EXPECT_LE(r.events.size(), 2001u);
    EXPECT_EQ(r.events.size() + r.events_dropped, 400002u);
    EXPECT_TRUE(r.protocol_violations.empty());
  }
  if (testing_support::kSanitized) return;  // the counts above hold; RSS says nothing here
  const std::int64_t peak = vm_hwm_kib(static_cast<int>(::getpid()));
  EXPECT_LT(peak - before, 64 * 1024)
      << "harness grew from " << before << " KiB to a peak of " << peak << " KiB";
}

}  // namespace
}  // namespace harness
