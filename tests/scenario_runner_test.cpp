// run_scenarios (`harness run --jobs`) against real fault_worker processes: how many scenarios
// run at once, that memory-measuring ones run alone, that results reach the caller once each,
// and that a cancel stops the schedule. Overlap is judged from each scenario's start_s and
// duration_s, which bracket its real run: start_s is taken before the scenario starts and
// duration_s inside it, so start_s + duration_s is never later than the real end.

#include "harness/run/scenario_runner.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "harness/scenario/scenario.hpp"
#include "process_test_util.hpp"

namespace harness {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// A scenario running fault_worker with `args`; `expect` is extra YAML under expect:.
Scenario scenario(const std::string& name, const std::string& args,
                  const std::string& expect = "") {
  const std::string text = "schema: 1\nname: " + name +
                           "\nworker:\n  command: [\"${WORKERS}/fault_worker\", " + args +
                           "]\n  timeout: 30s\n  grace: 1s\nexpect:\n  exit_code: 0\n" + expect;
  return parse_scenario(text, name + ".yaml");
}

Scenario busy(const std::string& name, int work_ms) {
  return scenario(name,
                  "\"--mode\", \"success\", \"--work-ms\", \"" + std::to_string(work_ms) + "\"");
}

Scenario memory(const std::string& name) {
  return scenario(name, "\"--mode\", \"grow\", \"--mib\", \"4\", \"--hold-ms\", \"300\"",
                  "  peak_rss_max: 1GiB\n");
}

class run_scenarios_test : public ::testing::Test {
 protected:
  run_scenarios_test() {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/runner_test.XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = pattern;
    options_.out_root = dir_ / "out";
    options_.vars["WORKERS"] = fs::path(FAULT_WORKER).parent_path().string();
  }
  ~run_scenarios_test() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // Runs and returns the results by scenario index; fails the test on a double delivery.
  std::vector<ScenarioResult> run(const std::vector<Scenario>& scenarios, int jobs) {
    ScenarioRunner runner(supervisor_, options_);
    std::vector<ScenarioResult> results(scenarios.size());
    std::vector<int> delivered(scenarios.size(), 0);
    run_scenarios(runner, scenarios, jobs, nullptr, [&](std::size_t i, ScenarioResult&& r) {
      EXPECT_LT(i, scenarios.size());
      ++delivered.at(i);
      results.at(i) = std::move(r);
    });
    for (std::size_t i = 0; i < delivered.size(); ++i) {
      EXPECT_LE(delivered[i], 1) << "scenario " << i << " delivered twice";
    }
    delivered_ = delivered;
    return results;
  }

  static bool overlap(const ScenarioResult& a, const ScenarioResult& b) {
    return a.start_s < b.start_s + b.duration_s && b.start_s < a.start_s + a.duration_s;
  }
  static std::string when(const ScenarioResult& r) {
    return r.name + " [" + std::to_string(r.start_s) + ", " +
           std::to_string(r.start_s + r.duration_s) + "]";
  }

  fs::path dir_;
  RunnerOptions options_;
  Supervisor supervisor_;
  std::vector<int> delivered_;
};

TEST_F(run_scenarios_test, one_job_runs_scenarios_one_after_another_in_order) {
  const auto rs = run({busy("a", 400), busy("b", 400), busy("c", 400)}, 1);
  for (std::size_t i = 0; i < rs.size(); ++i) {
    EXPECT_EQ(rs[i].status, "pass") << rs[i].name << ": " << rs[i].error;
    if (i > 0) {
      EXPECT_GE(rs[i].start_s, rs[i - 1].start_s + rs[i - 1].duration_s)
          << when(rs[i - 1]) << " vs " << when(rs[i]);
    }
  }
}

TEST_F(run_scenarios_test, two_jobs_run_two_scenarios_at_once_and_never_three) {
  const auto rs = run({busy("a", 2000), busy("b", 2000), busy("c", 2000)}, 2);
  for (const auto& r : rs) EXPECT_EQ(r.status, "pass") << r.name << ": " << r.error;
  EXPECT_TRUE(overlap(rs[0], rs[1])) << when(rs[0]) << " vs " << when(rs[1]);
  // c waits for a free job: it starts only after a or b ended.
  const double first_end =
      std::min(rs[0].start_s + rs[0].duration_s, rs[1].start_s + rs[1].duration_s);
  EXPECT_GE(rs[2].start_s, first_end) << when(rs[0]) << ", " << when(rs[1]) << ", " << when(rs[2]);
  // Each scenario's workers wrote into their own ${OUT}.
  for (const auto& r : rs) {
    ASSERT_EQ(r.runs.size(), 1u);
    EXPECT_EQ(r.runs[0].instances.at(0).out_dir,
              (options_.out_root / r.name / "run-1" / "instance-0").string());
  }
}

TEST_F(run_scenarios_test, memory_measuring_scenario_runs_alone_under_jobs) {
  const auto rs = run({busy("a", 1500), memory("m"), busy("b", 1500), busy("c", 1500)}, 3);
  for (const auto& r : rs) EXPECT_EQ(r.status, "pass") << r.name << ": " << r.error;
  ASSERT_TRUE(measures_memory(memory("m")));
  for (std::size_t i : {0u, 2u, 3u}) {
    EXPECT_FALSE(overlap(rs[1], rs[i])) << when(rs[1]) << " vs " << when(rs[i]);
  }
  EXPECT_GE(rs[1].start_s, rs[0].start_s + rs[0].duration_s);  // waited for a
  EXPECT_TRUE(overlap(rs[2], rs[3])) << when(rs[2]) << " vs " << when(rs[3]);
}

TEST_F(run_scenarios_test, cancel_stops_starting_scenarios_and_delivers_the_running_ones) {
  std::vector<Scenario> scenarios;
  for (const char* name : {"h1", "h2", "h3", "h4"}) {
    scenarios.push_back(scenario(name, "\"--mode\", \"hang\""));
  }
  std::thread canceller([&] {
    std::this_thread::sleep_for(800ms);
    supervisor_.cancel();
  });
  const auto begin = std::chrono::steady_clock::now();
  const auto rs = run(scenarios, 2);
  canceller.join();
  EXPECT_LT(std::chrono::steady_clock::now() - begin, 15s);
  EXPECT_EQ(delivered_, (std::vector<int>{1, 1, 0, 0}));
  for (int i : {0, 1}) {
    ASSERT_EQ(rs[i].runs.size(), 1u) << rs[i].name;
    EXPECT_TRUE(rs[i].runs[0].instances.at(0).cancelled);
  }
  EXPECT_TRUE(test::survivors(-1).empty());
}

// A display shared by parallel jobs: the runner calls it from several threads at once.
class Recorder : public RunProgress {
 public:
  void scenario_started(const Scenario& s, int) override { add(s.name, "start"); }
  void event(const Scenario& s, int, const Event& e) override { add(s.name, e.type); }
  void instance_exited(const Scenario& s, int, const ProcessResult&) override {
    add(s.name, "exit");
  }
  void scenario_done(const ScenarioResult& r) override { add(r.name, "done"); }
  std::map<std::string, std::vector<std::string>> seen;

 private:
  void add(const std::string& name, const std::string& what) {
    std::lock_guard<std::mutex> lock(mutex_);
    seen[name].push_back(what);
  }
  std::mutex mutex_;
};

TEST_F(run_scenarios_test, progress_callbacks_name_the_scenario_they_belong_to) {
  ScenarioRunner runner(supervisor_, options_);
  Recorder recorder;
  const std::vector<Scenario> scenarios{busy("p", 300), busy("q", 300)};
  run_scenarios(runner, scenarios, 2, &recorder, [](std::size_t, ScenarioResult&&) {});
  for (const char* name : {"p", "q"}) {
    const auto& s = recorder.seen[name];
    ASSERT_GE(s.size(), 4u) << name;
    EXPECT_EQ(s.front(), "start");
    EXPECT_EQ(s.back(), "done");
    EXPECT_NE(std::find(s.begin(), s.end(), "result"), s.end()) << name;
    EXPECT_EQ(std::count(s.begin(), s.end(), "exit"), 1) << name;
  }
}

int thread_count() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("Threads:", 0) == 0) return std::stoi(line.substr(8));
  return -1;
}

// on_done rewrites reports and may throw (a full disk, no memory). The pool must still be
// joined and the exception reach the caller; a joinable std::thread destroyed during the
// unwinding terminated the whole program instead.
TEST_F(run_scenarios_test, a_throwing_on_done_joins_the_pool_and_reaches_the_caller) {
  ScenarioRunner runner(supervisor_, options_);
  const std::vector<Scenario> scenarios{busy("t1", 300), busy("t2", 600), busy("t3", 300),
                                        busy("t4", 300)};
  const int threads_before = thread_count();
  ASSERT_GT(threads_before, 0);
  int calls = 0;
  const auto throwing = [&](std::size_t, ScenarioResult&&) {
    ++calls;
    throw std::runtime_error("cannot write report.json: No space left on device");
  };
  EXPECT_THROW(run_scenarios(runner, scenarios, 2, nullptr, throwing), std::runtime_error);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(thread_count(), threads_before) << "a pool thread outlived run_scenarios";
  EXPECT_TRUE(test::survivors(-1).empty()) << "a worker outlived run_scenarios";
  // Nothing new was started once on_done failed.
  EXPECT_FALSE(fs::exists(options_.out_root / "t3"));
  EXPECT_FALSE(fs::exists(options_.out_root / "t4"));

  calls = 0;  // the same on the calling thread (--jobs 1)
  EXPECT_THROW(run_scenarios(runner, scenarios, 1, nullptr, throwing), std::runtime_error);
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace harness
