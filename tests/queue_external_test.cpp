// A queue run served by agents it did not start (`jobs.workers: 0`, a broker URL and a queue
// name), as with agents on other hosts: real `harness agent` processes started by the test, a
// real private redis-server, the real `harness run` as the coordinator. And the coordinator's
// dedup: a second `end` record of a job is counted as a duplicate and the first one wins, shown
// by writing a forged `end` for jobs before any agent serves them.

#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/queue/queue_keys.hpp"
#include "harness/queue/redis_client.hpp"
#include "harness/queue/redis_server.hpp"
#include "tests/process_test_util.hpp"
#include "tests/test_process.hpp"

namespace harness {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;

class QueueExternalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "queue_external_test-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    PrivateRedisOptions o;
    o.dir = dir_ / "redis";
    redis_ = std::make_unique<PrivateRedis>(o);
    client_ = std::make_unique<RedisClient>(redis_->endpoint(), 2000ms, 2000ms);
  }
  void TearDown() override {
    client_.reset();
    redis_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  std::string url() const { return "unix://" + redis_->endpoint().unix_path; }

  std::vector<std::string> agent(const std::string& queue, const std::string& name) const {
    return {HARNESS_BINARY, "agent",  "--redis", url(),     "--queue",
            queue,          "--name", name,      "--slots", "1"};
  }

  // A scenario of `count` 50 ms jobs, `in_flight` at once, for agents serving `queue`.
  fs::path write_scenario(const std::string& queue, int count, int in_flight,
                          const std::string& expect) const {
    const fs::path file = dir_ / (queue + ".yaml");
    std::ofstream(file) << "schema: 1\nname: " << queue << "\nworker:\n  command: [\""
                        << FAULT_WORKER
                        << "\", \"--mode\", \"success\", \"--work-ms\", \"50\"]\n"
                           "jobs:\n  mode: queue\n  workers: 0\n  count: "
                        << count << "\n  arrival: {closed: " << in_flight
                        << "}\n  timeout: 20s\n  queue: {redis: \"" << url()
                        << "\", name: " << queue << "}\nexpect:\n  jobs: " << expect << "\n";
    return file;
  }

  std::vector<std::string> run_argv(const fs::path& scenario) const {
    return {HARNESS_BINARY,   "run", "--quiet", "--report-dir", (dir_ / "report").string(),
            scenario.string()};
  }

  json jobs_of_report() const {
    std::ifstream in(dir_ / "report" / "report.json");
    if (!in) return json();
    return json::parse(in, nullptr, false)["scenarios"][0]["runs"][0]["jobs"];
  }

  fs::path dir_;
  std::unique_ptr<PrivateRedis> redis_;
  std::unique_ptr<RedisClient> client_;
};

TEST_F(QueueExternalTest, agents_started_by_hand_serve_a_run_that_starts_none) {
  test::TestProcess host_a(agent("ext", "hostA"));
  test::TestProcess host_b(agent("ext", "hostB"));
  const fs::path scenario =
      write_scenario("ext", 12, 2, "{succeeded: all, lost_max: 0, duplicates_max: 0}");
  test::TestProcess run(run_argv(scenario));
  const std::optional<int> code = run.wait_for(120000ms);
  ASSERT_TRUE(code.has_value()) << "the run did not end";
  EXPECT_EQ(*code, 0) << run.err() << run.out();

  const json jobs = jobs_of_report();
  ASSERT_TRUE(jobs.is_object()) << run.err();
  EXPECT_EQ(jobs["workers"], 0);
  EXPECT_EQ(jobs["succeeded"], 12);
  EXPECT_EQ(jobs["lost"], 0);
  std::map<std::string, int> per_agent;
  for (const json& r : jobs["records"]) ++per_agent[r["agent"].get<std::string>()];
  // Two jobs at once on two one-slot agents: both served.
  EXPECT_EQ(per_agent.size(), 2u) << jobs["records"].dump();
  EXPECT_EQ(per_agent["hostA"] + per_agent["hostB"], 12);

  // The run left its agents alone: they still serve, and stop as a host's agent does.
  EXPECT_TRUE(host_a.running());
  EXPECT_TRUE(host_b.running());
  host_a.signal(SIGTERM);
  host_b.signal(SIGTERM);
  EXPECT_EQ(host_a.wait_for(10000ms).value_or(-1), 0) << host_a.err();
  EXPECT_EQ(host_b.wait_for(10000ms).value_or(-1), 0) << host_b.err();
}

TEST_F(QueueExternalTest, a_second_end_of_a_job_is_a_duplicate_and_the_first_one_counts) {
  const QueueKeys keys("dedup");
  const fs::path scenario =
      write_scenario("dedup", 4, 4, "{succeeded: all, lost_max: 0, duplicates_max: 3}");
  test::TestProcess run(run_argv(scenario));

  // No agent yet: the four jobs wait in the stream.
  RedisReply entries;
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (std::chrono::steady_clock::now() < deadline) {
    entries = client_->command({"XRANGE", keys.jobs, "-", "+"});
    if (entries.elements.size() >= 4) break;
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_EQ(entries.elements.size(), 4u) << run.err();

  // Someone else ends the first three (anyone who can write to the broker can), ...
  for (std::size_t i = 0; i < 3; ++i) {
    const std::string entry = entries.at(i).at(0).text();
    const std::string id = entries.at(i).at(1).at(1).text();
    client_->command({"XADD", keys.events, "*", "job", id, "agent", "forger", "type", "picked",
                      "entry", entry, "deliveries", "1"});
    client_->command({"XADD", keys.events, "*", "job", id, "agent", "forger", "type", "end",
                      "entry", entry, "deliveries", "1", "status", "success", "body", "{}"});
  }
  // ... then one agent serves all four in the stream's order: its ends of the first three come
  // before the fourth's, which ends the run.
  test::TestProcess real(agent("dedup", "real"));
  const std::optional<int> code = run.wait_for(120000ms);
  ASSERT_TRUE(code.has_value()) << "the run did not end";
  EXPECT_EQ(*code, 0) << run.err() << run.out();

  const json jobs = jobs_of_report();
  ASSERT_TRUE(jobs.is_object()) << run.err();
  EXPECT_EQ(jobs["succeeded"], 4);
  EXPECT_EQ(jobs["duplicates"], 3);
  EXPECT_EQ(jobs["stray"], 0);
  std::set<std::string> forged, served;
  for (const json& r : jobs["records"])
    (r["agent"] == "forger" ? forged : served).insert(std::to_string(r["id"].get<int>()));
  EXPECT_EQ(forged, (std::set<std::string>{"1", "2", "3"})) << jobs["records"].dump();
  EXPECT_EQ(served, (std::set<std::string>{"4"})) << jobs["records"].dump();

  real.signal(SIGTERM);
  EXPECT_EQ(real.wait_for(10000ms).value_or(-1), 0) << real.err();
  EXPECT_NE(real.err().find("4 job(s) ended here"), std::string::npos) << real.err();
}

TEST_F(QueueExternalTest, no_agents_of_its_own_needs_a_url_and_a_name) {
  const fs::path file = dir_ / "bad.yaml";
  std::ofstream(file) << "schema: 1\nname: bad\nworker:\n  command: [\"/bin/true\"]\n"
                         "jobs:\n  mode: queue\n  workers: 0\n  count: 2\n";
  test::TestProcess check({HARNESS_BINARY, "validate", file.string()});
  EXPECT_EQ(check.wait_for(30000ms).value_or(-1), 2);
  EXPECT_NE(check.err().find(file.string() + ":7:12"), std::string::npos) << check.err();
  EXPECT_NE(check.err().find("jobs.queue.name"), std::string::npos) << check.err();
}

}  // namespace
}  // namespace harness
