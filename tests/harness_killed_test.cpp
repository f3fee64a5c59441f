// `harness run` killed with SIGKILL: the watchdog it forked kills every process the run started
// (worker roots die of PR_SET_PDEATHSIG; setsid daemons by their instance token), and the report
// it left says the run did not finish.

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "harness/supervise/sampler.hpp"

extern char** environ;

#include "tests/process_test_util.hpp"

namespace harness {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string read_text(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// `harness run --quiet --report-dir REPORT SCENARIO`, started without waiting; its pid.
pid_t start_run(const std::string& report, const fs::path& scenario) {
  std::vector<std::string> args{HARNESS_BINARY, "run",  "--quiet",
                                "--report-dir", report, scenario.string()};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  if (posix_spawn(&pid, HARNESS_BINARY, nullptr, nullptr, argv.data(), environ) != 0) return -1;
  return pid;
}

// A queue run of 4 jobs on 2 agents, each job a shell and its 120 s sleep, found by
// VAR=<this test's pid> in their environment (the agents give them tokens of their own).
void write_queue_scenario(const fs::path& file, const std::string& var) {
  std::ofstream(file) << "schema: 1\nname: queue_stopped\nworker:\n"
                         "  command: [\"/bin/sh\", \"-c\", \"sleep 120; echo done\", \"${JOB}\"]\n"
                         "  env: {"
                      << var << ": \"" << getpid()
                      << "\"}\n"
                         "  timeout: 120s\n  grace: 1s\n"
                         "jobs: {mode: queue, workers: 2, count: 4, arrival: {closed: 2}, "
                         "timeout: 100s}\n";
}

TEST(harness_killed_test, sigkill_of_the_harness_leaves_no_worker_and_an_incomplete_report) {
  const fs::path dir = fs::temp_directory_path() / ("harness_killed_" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ofstream(dir / "daemons.yaml") << R"(schema: 1
name: daemons
worker:
  # The root forks a setsid daemon (its own session and group) and a plain child.
  command: ["/bin/sh", "-c", "setsid sleep 120 & sleep 120 & wait"]
  timeout: 120s
run:
  instances: 3
)";
  const std::string report = (dir / "report").string();
  const pid_t harness = start_run(report, dir / "daemons.yaml");
  ASSERT_GT(harness, 0);
  const std::string needle = "HARNESS_INSTANCE_TOKEN=" + std::to_string(harness) + ".";

  // Three roots, three daemons, three sleeps.
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (test::processes_carrying(needle).size() < 9 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(20ms);
  ASSERT_EQ(test::processes_carrying(needle).size(), 9u);

  ASSERT_EQ(kill(harness, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(waitpid(harness, &status, 0), harness);
  ASSERT_TRUE(WIFSIGNALED(status));

  const auto gone_by = std::chrono::steady_clock::now() + 5s;
  while (!test::processes_carrying(needle).empty() && std::chrono::steady_clock::now() < gone_by)
    std::this_thread::sleep_for(20ms);
  const std::vector<int> left = test::processes_carrying(needle);
  for (int pid : left) kill(pid, SIGKILL);  // never leave them to the next test
  EXPECT_TRUE(left.empty()) << left.size() << " processes of the killed run survived";

  const auto json = nlohmann::json::parse(read_text(fs::path(report) / "report.json"));
  EXPECT_EQ(json.at("complete"), false);
  EXPECT_EQ(json.at("interrupted"), false);
  EXPECT_NE(read_text(fs::path(report) / "junit.xml").find("type=\"incomplete\""),
            std::string::npos);
  EXPECT_NE(read_text(fs::path(report) / "report.md").find("did not finish"), std::string::npos);
  fs::remove_all(dir);
}

// Queue mode: the run's private redis-server and its agents carry the run's token; the jobs the
// agents run carry the agents' tokens, so they are found by a variable of the worker's env.
TEST(harness_killed_test, sigkill_of_a_queue_run_leaves_no_agent_job_or_broker) {
  const fs::path dir = fs::temp_directory_path() / ("harness_killed_q_" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string mark = "HARNESS_KILLED_QUEUE_MARK=" + std::to_string(getpid());
  write_queue_scenario(dir / "queue.yaml", "HARNESS_KILLED_QUEUE_MARK");
  const pid_t harness = start_run((dir / "report").string(), dir / "queue.yaml");
  ASSERT_GT(harness, 0);
  const std::string needle = "HARNESS_INSTANCE_TOKEN=" + std::to_string(harness) + ".";

  // Two agents (and their watchdogs) and the broker; each agent's job: the shell and its sleep.
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (
      (test::processes_carrying(needle).size() < 3 || test::processes_carrying(mark).size() < 4) &&
      std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(20ms);
  if (test::processes_carrying(needle).size() < 3 || test::processes_carrying(mark).size() < 4)
    kill(harness, SIGKILL);  // never leave the run behind a failed assertion
  ASSERT_GE(test::processes_carrying(needle).size(), 3u);
  ASSERT_EQ(test::processes_carrying(mark).size(), 4u);

  ASSERT_EQ(kill(harness, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(waitpid(harness, &status, 0), harness);

  const auto gone_by = std::chrono::steady_clock::now() + 10s;
  auto left = [&] {
    std::vector<int> all = test::processes_carrying(needle);
    for (int pid : test::processes_carrying(mark)) all.push_back(pid);
    return all;
  };
  while (!left().empty() && std::chrono::steady_clock::now() < gone_by)
    std::this_thread::sleep_for(20ms);
  const std::vector<int> survivors = left();
  std::string names;
  for (int pid : survivors)
    names += " " + std::to_string(pid) + " " +
             read_text(fs::path("/proc") / std::to_string(pid) / "comm");
  for (int pid : survivors) kill(pid, SIGKILL);
  EXPECT_TRUE(survivors.empty()) << survivors.size()
                                 << " processes of the killed run survived:" << names;
  fs::remove_all(dir);
}

// SIGINT of a queue run: the open jobs end interrupted or not run, the report is complete and
// says so, and the agents, their jobs and the private redis-server are gone when it exits.
TEST(harness_killed_test, sigint_of_a_queue_run_stops_agents_jobs_and_broker_with_a_report) {
  const fs::path dir = fs::temp_directory_path() / ("harness_int_q_" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string mark = "HARNESS_INT_QUEUE_MARK=" + std::to_string(getpid());
  write_queue_scenario(dir / "queue.yaml", "HARNESS_INT_QUEUE_MARK");
  const std::string report = (dir / "report").string();
  const pid_t harness = start_run(report, dir / "queue.yaml");
  ASSERT_GT(harness, 0);
  const std::string needle = "HARNESS_INSTANCE_TOKEN=" + std::to_string(harness) + ".";
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (test::processes_carrying(mark).size() < 4 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(20ms);
  const std::size_t jobs_running = test::processes_carrying(mark).size();
  ASSERT_EQ(kill(harness, jobs_running == 4 ? SIGINT : SIGKILL), 0);
  ASSERT_EQ(jobs_running, 4u);

  int status = 0;
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(waitpid(harness, &status, 0), harness);
  // Generous: the agents' jobs get their grace (1 s), the agents theirs.
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 15s);
  std::vector<int> left = test::processes_carrying(needle);
  for (int pid : test::processes_carrying(mark)) left.push_back(pid);
  for (int pid : left) kill(pid, SIGKILL);
  EXPECT_TRUE(left.empty()) << left.size() << " processes of the interrupted run survived";

  const auto json = nlohmann::json::parse(read_text(fs::path(report) / "report.json"));
  EXPECT_EQ(json.at("complete"), true);
  EXPECT_EQ(json.at("interrupted"), true);
  const auto& jobs = json.at("scenarios").at(0).at("runs").at(0).at("jobs");
  EXPECT_EQ(jobs.at("mode"), "queue");
  EXPECT_EQ(jobs.at("interrupted"), 2);
  EXPECT_EQ(jobs.at("not_run"), 2);
  EXPECT_EQ(jobs.at("lost"), 0);
  fs::remove_all(dir);
}

TEST(harness_killed_test, a_finished_run_is_complete) {
  const fs::path dir = fs::temp_directory_path() / ("harness_done_" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ofstream(dir / "true.yaml") << "schema: 1\nname: t\nworker:\n  command: [\"/bin/true\"]\n";
  const std::string report = (dir / "report").string();
  const pid_t harness = start_run(report, dir / "true.yaml");
  ASSERT_GT(harness, 0);
  int status = 0;
  ASSERT_EQ(waitpid(harness, &status, 0), harness);
  EXPECT_EQ(WEXITSTATUS(status), 0);
  const auto json = nlohmann::json::parse(read_text(fs::path(report) / "report.json"));
  EXPECT_EQ(json.at("complete"), true);
  EXPECT_EQ(read_text(fs::path(report) / "junit.xml").find("incomplete"), std::string::npos);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace harness
