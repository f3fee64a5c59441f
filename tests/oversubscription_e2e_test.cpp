// End to end, the way a user meets it: the real harness runs scenarios/capacity/oversubscribed.yaml
// (YOLO workers with OpenCV's default thread pool and no OMP_NUM_THREADS, 1, 2 and 4 at once),
// and the report flags the 4-worker run as oversubscribed from its threads' measured run-queue
// waits, names the variable that limits the threads, links every instance's log; then `harness
// plan` limits N by CPU and says with how many threads per worker.

#include <unistd.h>

#include <chrono>
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

TEST(oversubscription_e2e_test, default_threads_times_four_workers_are_flagged_and_planned) {
  const long cores = ::sysconf(_SC_NPROCESSORS_ONLN);
  if (cores > 4) GTEST_SKIP() << cores << " cores: four YOLO workers may not want 1.25 x the cores";
  const fs::path dir =
      fs::path(::testing::TempDir()) / ("oversubscription_e2e_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  const test::Completed run = test::run_program(
      {HARNESS_BINARY, "run",
       std::string(HARNESS_SOURCE_DIR) + "/scenarios/capacity/oversubscribed.yaml", "--report-dir",
       (dir / "report").string(), "-q"},
      {}, std::chrono::minutes(5));
  ASSERT_EQ(run.status, 0) << run.out << run.err;

  const json report = read_json_file(dir / "report" / "report.json");
  const json& s = report.at("scenarios").at(0);
  const json& runs = s.at("runs");
  ASSERT_EQ(runs.size(), 3u);
  const json& four = runs.at(2);
  ASSERT_EQ(four.at("params").at("instances"), 4);
  const json& d = four.at("cpu_demand");
  ASSERT_TRUE(d.is_object()) << four.dump();
  EXPECT_EQ(d.at("cores"), cores);
  EXPECT_EQ(d.at("workers"), 4);
  EXPECT_EQ(d.at("oversubscribed"), true) << d.dump();
  EXPECT_GT(d.at("wanted_cpus").get<double>(), 1.25 * static_cast<double>(cores)) << d.dump();
  EXPECT_GT(d.at("wait_share").get<double>(), 0.25) << d.dump();
  EXPECT_GE(d.at("threads_per_worker").get<int>(), 2) << d.dump();
  const std::string message = d.at("message");
  EXPECT_NE(message.find("OMP_NUM_THREADS"), std::string::npos) << message;
  EXPECT_NE(message.find("--threads 1"), std::string::npos) << message;
  // One worker with a thread per core wants no more than the cores.
  EXPECT_EQ(runs.at(0).at("cpu_demand").at("oversubscribed"), false) << runs.at(0).dump();

  // The Markdown and HTML reports say so; every instance links its log, which exists.
  const std::string md = testing::read_text_file(dir / "report" / "report.md");
  EXPECT_NE(md.find("## CPU oversubscribed"), std::string::npos) << md;
  EXPECT_NE(md.find("[instances=4, model=n]: oversubscribed: 4 workers wanted"), std::string::npos)
      << md;
  const std::string html = testing::read_text_file(dir / "report" / "report.html");
  EXPECT_NE(html.find("CPU oversubscribed"), std::string::npos);
  int logs = 0;
  for (const json& i : s.at("instances")) {
    ASSERT_TRUE(i.at("log").is_string()) << i.dump();
    const fs::path log = dir / "report" / i.at("log").get<std::string>();
    EXPECT_TRUE(fs::is_regular_file(log)) << log;
    EXPECT_NE(testing::read_text_file(log).find("out [capacity-oversubscribed"), std::string::npos)
        << log;
    ++logs;
  }
  EXPECT_EQ(logs, 1 + 2 + 4);
  EXPECT_TRUE(fs::is_regular_file(dir / "report" / "logs" / "run.log"));

  // The plan: plenty of memory, so the cores limit N, at the threads it measured.
  const test::Completed plan =
      test::run_program({HARNESS_BINARY, "plan", (dir / "report" / "report.json").string(),
                         "--memory-budget", "64GiB", "--json"},
                        {}, std::chrono::minutes(1));
  ASSERT_EQ(plan.status, 0) << plan.out << plan.err;
  const json p = json::parse(plan.out);
  const json& series = p.at("series").at(0);
  EXPECT_EQ(series.at("limiting"), "cpu") << series.dump();
  EXPECT_LT(series.at("cpu_fit").get<int>(), 4) << series.dump();
  EXPECT_EQ(series.at("recommended"), series.at("cpu_fit"));
  EXPECT_GE(series.at("threads_assumed").get<int>(), 2);
  EXPECT_EQ(series.at("points").at(2).at("oversubscribed"), true);
  bool noted = false;
  for (const json& n : series.at("notes"))
    noted = noted || n.get<std::string>().find("N=4 was oversubscribed") != std::string::npos;
  EXPECT_TRUE(noted) << series.at("notes").dump();
  fs::remove_all(dir);
}

}  // namespace
}  // namespace harness
