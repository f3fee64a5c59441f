// `harness agent` as a user runs it: real agent processes against a real private redis-server,
// jobs added to the stream as a coordinator adds them. At-least-once delivery with one end per
// job, a SIGKILLed agent's job completed by another (counted once, its worker gone with it), a
// job that keeps killing its agent dead-lettered, cancel by key and by pub/sub, a broker restart
// from its AOF, the hand-back of a second SIGTERM, pool mode (persistent workers: crash, hang,
// cancel, a forged line), and the exit codes. Nothing is left running: every test checks the
// agents and their workers are gone.

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
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
using Record = std::map<std::string, std::string>;

std::string temp_dir() {
  std::string tmpl = (fs::temp_directory_path() / "agent_test-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed";
  return tmpl;
}

// Live processes started by the agent `pid` (its instance token in their environment).
std::vector<int> workers_of(int pid) {
  return test::processes_carrying("HARNESS_INSTANCE_TOKEN=" + std::to_string(pid) + ".");
}

// The command line of one `harness agent` on the test's queue "t".
std::vector<std::string> agent_argv(const std::string& socket, const std::string& name,
                                    const std::vector<std::string>& extra) {
  std::vector<std::string> argv{HARNESS_BINARY, "agent", "--redis", "unix://" + socket,
                                "--name",       name,    "--queue", "t"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return argv;
}

// Its exit status, or -1 when it still runs after `limit`.
int exit_within(test::TestProcess& p, std::chrono::milliseconds limit) {
  return p.wait_for(limit).value_or(-1);
}

class AgentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = temp_dir();
    PrivateRedisOptions o;
    o.dir = dir_ + "/redis";
    redis_ = std::make_unique<PrivateRedis>(o);
    client_ = std::make_unique<RedisClient>(redis_->endpoint(), 2000ms, 2000ms);
  }
  void TearDown() override {
    client_.reset();
    redis_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  std::string socket() const { return redis_->endpoint().unix_path; }

  void add_job(const std::string& id, const std::string& job_json) {
    client_->command({"XADD", keys_.jobs, "*", "id", id, "job", job_json});
  }
  void add_worker_job(int id, int work_ms) {
    add_job(std::to_string(id), R"({"id":)" + std::to_string(id) +
                                    R"(,"argv":[")" FAULT_WORKER
                                    R"(","--mode","success","--work-ms",")" +
                                    std::to_string(work_ms) + R"("]})");
  }

  std::vector<Record> events(const std::string& type = "") {
    std::vector<Record> out;
    const RedisReply r = client_->command({"XRANGE", keys_.events, "-", "+"});
    for (const RedisReply& entry : r.elements) {
      Record rec;
      const RedisReply& kv = entry.at(1);
      for (std::size_t i = 0; i + 1 < kv.elements.size(); i += 2)
        rec[kv.elements[i].str] = kv.elements[i + 1].str;
      if (type.empty() || rec["type"] == type) out.push_back(rec);
    }
    return out;
  }

  // Waits until `n` events of `type` are in the stream (or `limit` passed).
  std::vector<Record> wait_events(const std::string& type, std::size_t n,
                                  std::chrono::milliseconds limit = 20000ms) {
    const auto end = std::chrono::steady_clock::now() + limit;
    std::vector<Record> got;
    while (std::chrono::steady_clock::now() < end) {
      got = events(type);
      if (got.size() >= n) break;
      std::this_thread::sleep_for(20ms);
    }
    return got;
  }

  std::int64_t pending() {
    return client_->command({"XPENDING", keys_.jobs, keys_.group}).at(0).as_int();
  }

  std::string dir_;
  QueueKeys keys_{"t"};
  std::unique_ptr<PrivateRedis> redis_;
  std::unique_ptr<RedisClient> client_;
};

TEST_F(AgentTest, serves_each_job_once_and_acknowledges_it) {
  test::TestProcess agent(agent_argv(socket(), "a1", {"--slots", "2"}));
  for (int id = 1; id <= 6; ++id) add_worker_job(id, 50);
  const auto ends = wait_events("end", 6);
  ASSERT_EQ(ends.size(), 6u) << agent.err();
  std::map<std::string, int> per_job;
  for (const auto& e : ends) {
    ++per_job[e.at("job")];
    EXPECT_EQ(e.at("status"), "success") << e.at("body");
    EXPECT_EQ(e.at("agent"), "a1");
    EXPECT_EQ(e.at("deliveries"), "1");
    EXPECT_NE(e.at("body").find("\"peak_rss_kib\""), std::string::npos);
  }
  EXPECT_EQ(per_job.size(), 6u);
  EXPECT_EQ(events("picked").size(), 6u);
  EXPECT_GE(events("result").size(), 6u);  // the worker's own result events, relayed
  EXPECT_EQ(pending(), 0);
  agent.signal(SIGTERM);
  const int pid = agent.pid();
  EXPECT_EQ(exit_within(agent, 10000ms), 0) << agent.err();
  EXPECT_TRUE(workers_of(pid).empty());
  EXPECT_NE(agent.err().find("6 job(s) ended here"), std::string::npos);
}

TEST_F(AgentTest, a_job_of_a_sigkilled_agent_completes_on_another_counted_once) {
  test::TestProcess a(agent_argv(socket(), "a", {"--lease", "500ms"}));
  add_worker_job(1, 1500);
  ASSERT_EQ(wait_events("picked", 1).size(), 1u) << a.err();
  std::this_thread::sleep_for(200ms);  // its worker is running
  const int a_pid = a.pid();
  ASSERT_FALSE(workers_of(a_pid).empty()) << "the agent's worker is not running";
  a.signal(SIGKILL);
  EXPECT_EQ(exit_within(a, 5000ms), 128 + SIGKILL);
  // Its worker goes with it (PDEATHSIG and the agent's watchdog).
  const auto gone_by = std::chrono::steady_clock::now() + 5s;
  while (!workers_of(a_pid).empty() && std::chrono::steady_clock::now() < gone_by)
    std::this_thread::sleep_for(20ms);
  EXPECT_TRUE(workers_of(a_pid).empty()) << "the killed agent's worker survived it";

  const auto killed = std::chrono::steady_clock::now();
  test::TestProcess b(agent_argv(socket(), "b", {"--lease", "500ms"}));
  const auto ends = wait_events("end", 1);
  ASSERT_EQ(ends.size(), 1u) << b.err();
  const double reclaim_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - killed).count();
  EXPECT_EQ(ends[0].at("agent"), "b");
  EXPECT_EQ(ends[0].at("status"), "success");
  EXPECT_EQ(ends[0].at("deliveries"), "2");
  const auto picks = events("picked");
  ASSERT_EQ(picks.size(), 2u);
  EXPECT_EQ(picks[1].at("agent"), "b");
  EXPECT_EQ(picks[1].at("reclaimed"), "1");
  EXPECT_EQ(pending(), 0);
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(events("end").size(), 1u) << "the job ended twice";
  std::printf("kill of agent a to the end of its job on b: %.0f ms (lease 500 ms, job 1500 ms)\n",
              reclaim_ms);
  b.signal(SIGTERM);
  EXPECT_EQ(exit_within(b, 10000ms), 0) << b.err();
}

TEST_F(AgentTest, a_job_that_keeps_killing_its_agent_is_dead_lettered) {
  // Its process kills the agent that started it (its parent), delivery after delivery.
  add_job("p", R"({"id":"p","argv":["/bin/sh","-c","kill -9 $PPID; sleep 5"]})");
  const std::vector<std::string> opts{"--lease", "300ms", "--max-deliveries", "2"};
  for (int round = 1; round <= 2; ++round) {
    test::TestProcess victim(agent_argv(socket(), "v" + std::to_string(round), opts));
    EXPECT_EQ(exit_within(victim, 10000ms), 128 + SIGKILL)
        << "round " << round << ": " << victim.err();
  }
  test::TestProcess last(agent_argv(socket(), "v3", opts));
  const auto ends = wait_events("end", 1);
  ASSERT_EQ(ends.size(), 1u) << last.err();
  EXPECT_EQ(ends[0].at("failure"), "dead_letter");
  EXPECT_EQ(ends[0].at("deliveries"), "3");
  EXPECT_NE(ends[0].at("error").find("delivered 3 times"), std::string::npos);
  const RedisReply dead = client_->command({"XRANGE", keys_.dead, "-", "+"});
  ASSERT_EQ(dead.elements.size(), 1u);
  EXPECT_EQ(pending(), 0);
  EXPECT_TRUE(last.running()) << "the job ran a third time";
  last.signal(SIGTERM);
  EXPECT_EQ(exit_within(last, 10000ms), 0) << last.err();
}

TEST_F(AgentTest, malformed_entries_are_dead_lettered_not_run) {
  test::TestProcess agent(agent_argv(socket(), "a", {}));
  add_job("1", "[1,2");
  add_job("2", std::string(100000, '['));
  add_job("3", R"({"id":3,"argv":"not an array"})");
  const auto ends = wait_events("end", 3);
  ASSERT_EQ(ends.size(), 3u) << agent.err();
  EXPECT_EQ(ends[0].at("failure"), "dead_letter");
  EXPECT_EQ(ends[1].at("failure"), "dead_letter");
  EXPECT_NE(ends[1].at("error").find("bytes"), std::string::npos);
  EXPECT_EQ(ends[2].at("failure"), "spawn");  // valid JSON, but nothing to run
  EXPECT_EQ(client_->command({"XLEN", keys_.dead}).as_int(), 2);
  agent.signal(SIGTERM);
  EXPECT_EQ(exit_within(agent, 10000ms), 0) << agent.err();
}

TEST_F(AgentTest, a_cancel_key_stops_the_running_job_and_its_tree) {
  test::TestProcess agent(agent_argv(socket(), "a", {}));
  add_job("7", R"({"id":7,"argv":[")" FAULT_WORKER R"(","--mode","hang"]})");
  ASSERT_EQ(wait_events("picked", 1).size(), 1u) << agent.err();
  std::this_thread::sleep_for(200ms);
  client_->command({"SET", keys_.cancel("7"), "1"});
  const auto ends = wait_events("end", 1, 10000ms);
  ASSERT_EQ(ends.size(), 1u) << agent.err();
  EXPECT_EQ(ends[0].at("status"), "cancelled");
  EXPECT_EQ(client_->command({"EXISTS", keys_.cancel("7")}).as_int(), 0);
  EXPECT_TRUE(workers_of(agent.pid()).empty());
  agent.signal(SIGTERM);
  EXPECT_EQ(exit_within(agent, 10000ms), 0) << agent.err();
}

TEST_F(AgentTest, a_published_cancel_stops_the_job_without_its_key) {
  test::TestProcess agent(agent_argv(socket(), "a", {}));
  add_job("8", R"({"id":8,"argv":[")" FAULT_WORKER R"(","--mode","hang"]})");
  ASSERT_EQ(wait_events("picked", 1).size(), 1u) << agent.err();
  std::this_thread::sleep_for(200ms);
  // A message for another job changes nothing; the key is never set, so only the message
  // can stop job 8.
  EXPECT_EQ(client_->command({"PUBLISH", keys_.cancel_channel, "9"}).as_int(), 1);
  EXPECT_EQ(client_->command({"PUBLISH", keys_.cancel_channel, "8"}).as_int(), 1);
  const auto ends = wait_events("end", 1, 10000ms);
  ASSERT_EQ(ends.size(), 1u) << agent.err();
  EXPECT_EQ(ends[0].at("job"), "8");
  EXPECT_EQ(ends[0].at("status"), "cancelled");
  EXPECT_NE(agent.err().find("job 8: cancelled (published)"), std::string::npos) << agent.err();
  EXPECT_TRUE(workers_of(agent.pid()).empty());
  agent.signal(SIGTERM);
  EXPECT_EQ(exit_within(agent, 10000ms), 0) << agent.err();
}

TEST_F(AgentTest, jobs_added_before_a_broker_restart_complete) {
  test::TestProcess agent(agent_argv(socket(), "a", {"--lease", "2s"}));
  for (int id = 1; id <= 4; ++id) add_worker_job(id, 300);
  ASSERT_GE(wait_events("picked", 1).size(), 1u) << agent.err();
  client_.reset();
  redis_->kill();  // a broker crash: only what was fsynced to the AOF survives
  std::this_thread::sleep_for(500ms);
  redis_->start();
  client_ = std::make_unique<RedisClient>(redis_->endpoint(), 2000ms, 2000ms);
  const auto end = std::chrono::steady_clock::now() + 30s;
  std::map<std::string, int> succeeded;
  while (std::chrono::steady_clock::now() < end) {
    succeeded.clear();
    for (const auto& e : events("end"))
      if (e.at("status") == "success") ++succeeded[e.at("job")];
    if (succeeded.size() == 4 && pending() == 0) break;
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(succeeded.size(), 4u) << agent.err();
  EXPECT_EQ(pending(), 0);
  EXPECT_NE(agent.err().find("reconnected"), std::string::npos) << agent.err();
  agent.signal(SIGTERM);
  EXPECT_EQ(exit_within(agent, 10000ms), 0) << agent.err();
}

TEST_F(AgentTest, sigterm_lets_the_job_finish_and_a_second_one_hands_it_back) {
  {
    test::TestProcess agent(agent_argv(socket(), "a", {}));
    add_worker_job(1, 600);
    ASSERT_EQ(wait_events("picked", 1).size(), 1u) << agent.err();
    agent.signal(SIGTERM);
    EXPECT_EQ(exit_within(agent, 10000ms), 0) << agent.err();
    const auto ends = events("end");
    ASSERT_EQ(ends.size(), 1u) << agent.err();
    EXPECT_EQ(ends[0].at("status"), "success");
  }
  {
    test::TestProcess agent(agent_argv(socket(), "b", {}));
    add_job("2", R"({"id":2,"argv":[")" FAULT_WORKER R"(","--mode","hang"]})");
    ASSERT_EQ(wait_events("picked", 2).size(), 2u) << agent.err();
    agent.signal(SIGTERM);
    std::this_thread::sleep_for(100ms);
    agent.signal(SIGTERM);
    const int pid = agent.pid();
    EXPECT_EQ(exit_within(agent, 10000ms), 0) << agent.err();
    EXPECT_TRUE(workers_of(pid).empty());
    EXPECT_EQ(events("handed_back").size(), 1u);
    EXPECT_EQ(events("end").size(), 1u);  // only job 1's
    EXPECT_EQ(pending(), 0);
  }
  // The handed-back copy is a fresh delivery for the next agent, not held against the job.
  test::TestProcess c(agent_argv(socket(), "c", {"--timeout", "300ms"}));
  const auto ends = wait_events("end", 2);
  ASSERT_EQ(ends.size(), 2u) << c.err();
  EXPECT_EQ(ends[1].at("agent"), "c");
  EXPECT_EQ(ends[1].at("deliveries"), "1");
  EXPECT_EQ(ends[1].at("failure"), "timeout");
  c.signal(SIGTERM);
  EXPECT_EQ(exit_within(c, 10000ms), 0) << c.err();
}

// --- pool mode: persistent workers fed a line per job ---

std::vector<std::string> pool_agent(const std::string& socket, const std::string& slots,
                                    const std::vector<std::string>& agent_extra,
                                    const std::vector<std::string>& worker_extra) {
  std::vector<std::string> extra{"--mode", "pool", "--slots", slots};
  extra.insert(extra.end(), agent_extra.begin(), agent_extra.end());
  extra.insert(extra.end(), {"--", FAULT_WORKER, "--mode", "serve"});
  extra.insert(extra.end(), worker_extra.begin(), worker_extra.end());
  return agent_argv(socket, "p", extra);
}

std::string pid_of(const Record& end) {
  const auto body = nlohmann::json::parse(end.at("body"), nullptr, false);
  return body.is_object() && body.contains("pid") ? body["pid"].dump() : "";
}

TEST_F(AgentTest, pool_workers_serve_job_after_job_in_the_same_processes) {
  test::TestProcess agent(pool_agent(socket(), "2", {}, {"--work-ms", "50"}));
  for (int id = 1; id <= 6; ++id)
    add_job(std::to_string(id), R"({"id":)" + std::to_string(id) + R"(,"input":"in.jpg"})");
  const auto ends = wait_events("end", 6);
  ASSERT_EQ(ends.size(), 6u) << agent.err();
  std::set<std::string> pids, jobs;
  for (const auto& e : ends) {
    EXPECT_EQ(e.at("status"), "success") << e.at("body");
    pids.insert(pid_of(e));
    jobs.insert(e.at("job"));
  }
  EXPECT_EQ(jobs.size(), 6u);
  EXPECT_GE(pids.size(), 1u);
  EXPECT_LE(pids.size(), 2u) << "six jobs on two persistent workers";
  EXPECT_EQ(pending(), 0);
  const int pid = agent.pid();
  EXPECT_EQ(workers_of(pid).size(), 2u);  // idle, still there
  agent.signal(SIGTERM);
  EXPECT_EQ(exit_within(agent, 10000ms), 0) << agent.err();
  EXPECT_TRUE(workers_of(pid).empty());
  EXPECT_NE(agent.err().find("6 job(s) ended here"), std::string::npos) << agent.err();
}

TEST_F(AgentTest, a_pool_worker_that_crashes_or_hangs_costs_its_job_and_is_started_again) {
  {
    test::TestProcess agent(pool_agent(socket(), "1", {}, {"--crash-on", "2"}));
    for (int id = 1; id <= 3; ++id)
      add_job(std::to_string(id), R"({"id":)" + std::to_string(id) + "}");
    const auto ends = wait_events("end", 3);
    ASSERT_EQ(ends.size(), 3u) << agent.err();
    EXPECT_EQ(ends[0].at("status"), "success");
    EXPECT_EQ(ends[1].at("status"), "failed");
    EXPECT_EQ(ends[1].at("failure"), "crash");
    EXPECT_NE(ends[1].at("error").find("while serving it"), std::string::npos);
    EXPECT_EQ(ends[2].at("status"), "success");
    EXPECT_NE(pid_of(ends[0]), pid_of(ends[2])) << "the crashed worker was started again";
    agent.signal(SIGTERM);
    EXPECT_EQ(exit_within(agent, 10000ms), 0) << agent.err();
  }
  client_->command({"DEL", keys_.events});
  {
    test::TestProcess agent(
        pool_agent(socket(), "1", {"--timeout", "1s", "--grace", "200ms"}, {"--hang-on", "2"}));
    for (int id = 4; id <= 6; ++id)
      add_job(std::to_string(id), R"({"id":)" + std::to_string(id) + "}");
    const auto ends = wait_events("end", 3);
    ASSERT_EQ(ends.size(), 3u) << agent.err();
    EXPECT_EQ(ends[0].at("status"), "success");
    EXPECT_EQ(ends[1].at("failure"), "timeout");
    EXPECT_EQ(ends[2].at("status"), "success");
    EXPECT_NE(pid_of(ends[0]), pid_of(ends[2]));
    const int pid = agent.pid();
    agent.signal(SIGTERM);
    EXPECT_EQ(exit_within(agent, 10000ms), 0) << agent.err();
    EXPECT_TRUE(workers_of(pid).empty());
  }
}

TEST_F(AgentTest, a_pool_worker_answers_a_published_cancel_and_serves_on) {
  test::TestProcess agent(pool_agent(socket(), "1", {}, {"--work-ms", "5000"}));
  add_job("1", R"({"id":1})");
  ASSERT_EQ(wait_events("picked", 1).size(), 1u) << agent.err();
  std::this_thread::sleep_for(200ms);
  client_->command({"PUBLISH", keys_.cancel_channel, "1"});
  auto ends = wait_events("end", 1, 10000ms);
  ASSERT_EQ(ends.size(), 1u) << agent.err();
  EXPECT_EQ(ends[0].at("status"), "cancelled");
  // The worker said so itself: it was not stopped, and takes the next job.
  add_job("2", R"({"id":2,"timeout_ms":100})");
  ends = wait_events("end", 2, 10000ms);
  ASSERT_EQ(ends.size(), 2u) << agent.err();
  EXPECT_EQ(ends[1].at("failure"), "timeout");
  EXPECT_EQ(pid_of(ends[0]), pid_of(ends[1]));
  agent.signal(SIGTERM);
  EXPECT_EQ(exit_within(agent, 10000ms), 0) << agent.err();
}

TEST_F(AgentTest, a_pool_job_line_with_a_newline_is_refused_and_workers_that_never_start_stop_it) {
  {
    test::TestProcess agent(pool_agent(socket(), "1", {}, {}));
    add_job("1", R"({"id":1,"line":"{\"id\":1}\n{\"id\":99}"})");
    const auto ends = wait_events("end", 1);
    ASSERT_EQ(ends.size(), 1u) << agent.err();
    EXPECT_EQ(ends[0].at("failure"), "spawn");
    EXPECT_NE(ends[0].at("error").find("newline"), std::string::npos);
    agent.signal(SIGTERM);
    EXPECT_EQ(exit_within(agent, 10000ms), 0) << agent.err();
  }
  test::TestProcess never(agent_argv(socket(), "n", {"--mode", "pool", "--", "/bin/false"}));
  EXPECT_EQ(exit_within(never, 20000ms), 1) << never.err();
  EXPECT_NE(never.err().find("no worker could start"), std::string::npos) << never.err();
}

TEST(AgentCommandTest, bad_options_and_an_unreachable_redis_exit_2) {
  const std::string dir = temp_dir();
  auto run = [](std::vector<std::string> args) {
    args.insert(args.begin(), {HARNESS_BINARY, "agent"});
    return test::run_program(args, {}, 30000ms);
  };
  auto c = run({"--redis", "unix://" + dir + "/none.sock", "--name", "x", "--", "/bin/true"});
  EXPECT_EQ(c.status, 2);
  EXPECT_NE(c.err.find("none.sock"), std::string::npos) << c.err;
  c = run({"--redis", "http://x", "--name", "x"});
  EXPECT_EQ(c.status, 2);
  EXPECT_NE(c.err.find("--redis"), std::string::npos) << c.err;
  EXPECT_EQ(run({"--redis", "unix:///x", "--mode", "fork"}).status, 2);
  EXPECT_EQ(run({"--redis", "unix:///x", "--slots", "0"}).status, 2);
  c = run({"--help"});
  EXPECT_EQ(c.status, 0);
  EXPECT_NE(c.out.find("--max-deliveries"), std::string::npos) << c.out;
  std::error_code ec;
  fs::remove_all(dir, ec);
}

}  // namespace
}  // namespace harness
