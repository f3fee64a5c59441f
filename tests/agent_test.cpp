// `harness agent` as a user runs it: real agent processes against a real private redis-server,
// jobs added to the stream as a coordinator adds them. At-least-once delivery with one end per
// job, a SIGKILLed agent's job completed by another (counted once, its worker gone with it), a
// job that keeps killing its agent dead-lettered, cancel by key, a broker restart from its AOF,
// the hand-back of a second SIGTERM, and the exit codes. Nothing is left running: every test
// checks the agents and their workers are gone.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "harness/queue/queue_keys.hpp"
#include "harness/queue/redis_client.hpp"
#include "harness/queue/redis_server.hpp"
#include "harness/supervise/sampler.hpp"

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

bool alive(int pid) {
  return pid > 0 && ::kill(pid, 0) == 0;
}

// Live processes started by the agent `pid` (its instance token in their environment).
std::vector<int> workers_of(int pid) {
  const std::string needle = "HARNESS_INSTANCE_TOKEN=" + std::to_string(pid) + ".";
  std::vector<int> out;
  for (const auto& e : fs::directory_iterator("/proc")) {
    const std::string name = e.path().filename();
    if (name.empty() || name[0] < '0' || name[0] > '9') continue;
    std::string env;
    if (!read_proc_file(("/proc/" + name + "/environ").c_str(), env)) continue;
    if (env.find(needle) != std::string::npos) out.push_back(std::stoi(name));
  }
  return out;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// One `harness agent` process; its stderr goes to `log`.
class AgentProcess {
 public:
  AgentProcess(const std::string& socket, const std::string& name, const std::string& log,
               std::vector<std::string> extra)
      : log_(log) {
    std::vector<std::string> args{HARNESS_BINARY, "agent", "--redis", "unix://" + socket,
                                  "--name",       name,    "--queue", "t"};
    args.insert(args.end(), extra.begin(), extra.end());
    pid_ = ::fork();
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      ::dup2(fd, 2);
      ::dup2(fd, 1);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
  }
  ~AgentProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  int pid() const { return pid_; }
  void signal(int sig) const { ::kill(pid_, sig); }
  // The exit status once it ended within `limit`; -1 when it is still running (then killed).
  int wait_exit(std::chrono::milliseconds limit) {
    const auto end = std::chrono::steady_clock::now() + limit;
    int status = 0;
    while (std::chrono::steady_clock::now() < end) {
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(10ms);
    }
    return -1;
  }
  std::string log() const { return read_text(log_); }

 private:
  std::string log_;
  int pid_ = -1;
};

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
  std::string log_path(const std::string& name) const { return dir_ + "/" + name + ".log"; }

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
  AgentProcess agent(socket(), "a1", log_path("a1"), {"--slots", "2"});
  for (int id = 1; id <= 6; ++id) add_worker_job(id, 50);
  const auto ends = wait_events("end", 6);
  ASSERT_EQ(ends.size(), 6u) << agent.log();
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
  EXPECT_EQ(agent.wait_exit(10000ms), 0) << agent.log();
  EXPECT_TRUE(workers_of(pid).empty());
  EXPECT_NE(read_text(log_path("a1")).find("6 job(s) ended here"), std::string::npos);
}

TEST_F(AgentTest, a_job_of_a_sigkilled_agent_completes_on_another_counted_once) {
  AgentProcess a(socket(), "a", log_path("a"), {"--lease", "500ms"});
  add_worker_job(1, 1500);
  ASSERT_EQ(wait_events("picked", 1).size(), 1u) << a.log();
  std::this_thread::sleep_for(200ms);  // its worker is running
  const int a_pid = a.pid();
  ASSERT_FALSE(workers_of(a_pid).empty()) << "the agent's worker is not running";
  a.signal(SIGKILL);
  EXPECT_EQ(a.wait_exit(5000ms), 128 + SIGKILL);
  // Its worker goes with it (PDEATHSIG and the agent's watchdog).
  const auto gone_by = std::chrono::steady_clock::now() + 5s;
  while (!workers_of(a_pid).empty() && std::chrono::steady_clock::now() < gone_by)
    std::this_thread::sleep_for(20ms);
  EXPECT_TRUE(workers_of(a_pid).empty()) << "the killed agent's worker survived it";

  const auto killed = std::chrono::steady_clock::now();
  AgentProcess b(socket(), "b", log_path("b"), {"--lease", "500ms"});
  const auto ends = wait_events("end", 1);
  ASSERT_EQ(ends.size(), 1u) << b.log();
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
  EXPECT_EQ(b.wait_exit(10000ms), 0) << b.log();
}

TEST_F(AgentTest, a_job_that_keeps_killing_its_agent_is_dead_lettered) {
  // Its process kills the agent that started it (its parent), delivery after delivery.
  add_job("p", R"({"id":"p","argv":["/bin/sh","-c","kill -9 $PPID; sleep 5"]})");
  const std::vector<std::string> opts{"--lease", "300ms", "--max-deliveries", "2"};
  for (int round = 1; round <= 2; ++round) {
    AgentProcess victim(socket(), "v" + std::to_string(round), log_path("v"), opts);
    EXPECT_EQ(victim.wait_exit(10000ms), 128 + SIGKILL)
        << "round " << round << ": " << victim.log();
  }
  AgentProcess last(socket(), "v3", log_path("v3"), opts);
  const auto ends = wait_events("end", 1);
  ASSERT_EQ(ends.size(), 1u) << last.log();
  EXPECT_EQ(ends[0].at("failure"), "dead_letter");
  EXPECT_EQ(ends[0].at("deliveries"), "3");
  EXPECT_NE(ends[0].at("error").find("delivered 3 times"), std::string::npos);
  const RedisReply dead = client_->command({"XRANGE", keys_.dead, "-", "+"});
  ASSERT_EQ(dead.elements.size(), 1u);
  EXPECT_EQ(pending(), 0);
  EXPECT_TRUE(alive(last.pid())) << "the job ran a third time";
  last.signal(SIGTERM);
  EXPECT_EQ(last.wait_exit(10000ms), 0) << last.log();
}

TEST_F(AgentTest, malformed_entries_are_dead_lettered_not_run) {
  AgentProcess agent(socket(), "a", log_path("a"), {});
  add_job("1", "[1,2");
  add_job("2", std::string(100000, '['));
  add_job("3", R"({"id":3,"argv":"not an array"})");
  const auto ends = wait_events("end", 3);
  ASSERT_EQ(ends.size(), 3u) << agent.log();
  EXPECT_EQ(ends[0].at("failure"), "dead_letter");
  EXPECT_EQ(ends[1].at("failure"), "dead_letter");
  EXPECT_NE(ends[1].at("error").find("bytes"), std::string::npos);
  EXPECT_EQ(ends[2].at("failure"), "spawn");  // valid JSON, but nothing to run
  EXPECT_EQ(client_->command({"XLEN", keys_.dead}).as_int(), 2);
  agent.signal(SIGTERM);
  EXPECT_EQ(agent.wait_exit(10000ms), 0) << agent.log();
}

TEST_F(AgentTest, a_cancel_key_stops_the_running_job_and_its_tree) {
  AgentProcess agent(socket(), "a", log_path("a"), {});
  add_job("7", R"({"id":7,"argv":[")" FAULT_WORKER R"(","--mode","hang"]})");
  ASSERT_EQ(wait_events("picked", 1).size(), 1u) << agent.log();
  std::this_thread::sleep_for(200ms);
  client_->command({"SET", keys_.cancel("7"), "1"});
  const auto ends = wait_events("end", 1, 10000ms);
  ASSERT_EQ(ends.size(), 1u) << agent.log();
  EXPECT_EQ(ends[0].at("status"), "cancelled");
  EXPECT_EQ(client_->command({"EXISTS", keys_.cancel("7")}).as_int(), 0);
  EXPECT_TRUE(workers_of(agent.pid()).empty());
  agent.signal(SIGTERM);
  EXPECT_EQ(agent.wait_exit(10000ms), 0) << agent.log();
}

TEST_F(AgentTest, jobs_added_before_a_broker_restart_complete) {
  AgentProcess agent(socket(), "a", log_path("a"), {"--lease", "2s"});
  for (int id = 1; id <= 4; ++id) add_worker_job(id, 300);
  ASSERT_GE(wait_events("picked", 1).size(), 1u) << agent.log();
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
  EXPECT_EQ(succeeded.size(), 4u) << agent.log();
  EXPECT_EQ(pending(), 0);
  EXPECT_NE(agent.log().find("reconnected"), std::string::npos) << agent.log();
  agent.signal(SIGTERM);
  EXPECT_EQ(agent.wait_exit(10000ms), 0) << agent.log();
}

TEST_F(AgentTest, sigterm_lets_the_job_finish_and_a_second_one_hands_it_back) {
  {
    AgentProcess agent(socket(), "a", log_path("a"), {});
    add_worker_job(1, 600);
    ASSERT_EQ(wait_events("picked", 1).size(), 1u) << agent.log();
    agent.signal(SIGTERM);
    EXPECT_EQ(agent.wait_exit(10000ms), 0) << agent.log();
    const auto ends = events("end");
    ASSERT_EQ(ends.size(), 1u) << agent.log();
    EXPECT_EQ(ends[0].at("status"), "success");
  }
  {
    AgentProcess agent(socket(), "b", log_path("b"), {});
    add_job("2", R"({"id":2,"argv":[")" FAULT_WORKER R"(","--mode","hang"]})");
    ASSERT_EQ(wait_events("picked", 2).size(), 2u) << agent.log();
    agent.signal(SIGTERM);
    std::this_thread::sleep_for(100ms);
    agent.signal(SIGTERM);
    const int pid = agent.pid();
    EXPECT_EQ(agent.wait_exit(10000ms), 0) << agent.log();
    EXPECT_TRUE(workers_of(pid).empty());
    EXPECT_EQ(events("handed_back").size(), 1u);
    EXPECT_EQ(events("end").size(), 1u);  // only job 1's
    EXPECT_EQ(pending(), 0);
  }
  // The handed-back copy is a fresh delivery for the next agent, not held against the job.
  AgentProcess c(socket(), "c", log_path("c"), {"--timeout", "300ms"});
  const auto ends = wait_events("end", 2);
  ASSERT_EQ(ends.size(), 2u) << c.log();
  EXPECT_EQ(ends[1].at("agent"), "c");
  EXPECT_EQ(ends[1].at("deliveries"), "1");
  EXPECT_EQ(ends[1].at("failure"), "timeout");
  c.signal(SIGTERM);
  EXPECT_EQ(c.wait_exit(10000ms), 0) << c.log();
}

TEST(AgentCommandTest, bad_options_and_an_unreachable_redis_exit_2) {
  const std::string dir = temp_dir();
  auto run = [&](const std::string& args) {
    const std::string cmd =
        std::string(HARNESS_BINARY) + " agent " + args + " >" + dir + "/out 2>&1";
    const int status = std::system(cmd.c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  };
  EXPECT_EQ(run("--redis unix://" + dir + "/none.sock --name x -- /bin/true"), 2);
  EXPECT_NE(read_text(dir + "/out").find("none.sock"), std::string::npos)
      << read_text(dir + "/out");
  EXPECT_EQ(run("--redis http://x --name x"), 2);
  EXPECT_NE(read_text(dir + "/out").find("--redis"), std::string::npos);
  EXPECT_EQ(run("--redis unix:///x --mode pool"), 2);
  EXPECT_EQ(run("--redis unix:///x --slots 0"), 2);
  EXPECT_EQ(run("--help"), 0);
  EXPECT_NE(read_text(dir + "/out").find("--max-deliveries"), std::string::npos);
  std::error_code ec;
  fs::remove_all(dir, ec);
}

}  // namespace
}  // namespace harness
