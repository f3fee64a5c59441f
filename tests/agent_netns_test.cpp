// Agents on two "hosts": each in a network namespace of its own, joined to the test's Redis by a
// veth pair on a bridge, so they reach the broker only over TCP with its password, as agents on
// other machines do. Needs root and `ip` (iproute2); skipped with a message otherwise.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "harness/queue/queue_keys.hpp"
#include "harness/queue/redis_client.hpp"
#include "harness/queue/redis_server.hpp"

namespace harness {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

bool sh(const std::string& command) {
  return std::system((command + " >/dev/null 2>&1").c_str()) == 0;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A bridge on the host (10.231.77.1/24) and two namespaces on it (.2 and .3).
class TwoHosts {
 public:
  TwoHosts() : tag_("hx" + std::to_string(::getpid() % 100000)) {
    ok_ = sh("ip link add " + bridge() + " type bridge") &&
          sh("ip addr add 10.231.77.1/24 dev " + bridge()) && sh("ip link set " + bridge() + " up");
    for (int i = 0; ok_ && i < 2; ++i) {
      const std::string ns = netns(i), host_end = tag_ + "h" + std::to_string(i),
                        ns_end = tag_ + "n" + std::to_string(i);
      ok_ = sh("ip netns add " + ns) &&
            sh("ip link add " + host_end + " type veth peer name " + ns_end) &&
            sh("ip link set " + host_end + " master " + bridge() + " up") &&
            sh("ip link set " + ns_end + " netns " + ns) &&
            sh("ip -n " + ns + " addr add 10.231.77." + std::to_string(i + 2) + "/24 dev " +
               ns_end) &&
            sh("ip -n " + ns + " link set " + ns_end + " up") &&
            sh("ip -n " + ns + " link set lo up");
    }
  }
  ~TwoHosts() {
    for (int i = 0; i < 2; ++i) {
      sh("ip netns del " + netns(i));  // takes its veth end, and so the pair, with it
      sh("ip link del " + tag_ + "h" + std::to_string(i));
    }
    sh("ip link del " + bridge());
  }
  bool ok() const { return ok_; }
  std::string netns(int i) const { return tag_ + "ns" + std::to_string(i); }
  std::string bridge() const { return tag_ + "br"; }

 private:
  std::string tag_;
  bool ok_ = false;
};

// `ip netns exec NS harness agent ...` (ip execs the agent: the pid is the agent's).
class NetnsAgent {
 public:
  NetnsAgent(const std::string& ns, const std::vector<std::string>& agent_args,
             const std::string& log)
      : log_(log) {
    std::vector<std::string> args{"/usr/sbin/ip", "netns", "exec", ns, HARNESS_BINARY, "agent"};
    args.insert(args.end(), agent_args.begin(), agent_args.end());
    pid_ = ::fork();
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
  }
  ~NetnsAgent() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  void signal(int sig) const { ::kill(pid_, sig); }
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

TEST(AgentNetnsTest, agents_in_two_network_namespaces_serve_one_queue_over_tcp) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to create network namespaces";
  if (!fs::exists("/usr/sbin/ip")) GTEST_SKIP() << "needs ip (iproute2)";
  const TwoHosts hosts;
  if (!hosts.ok()) GTEST_SKIP() << "cannot create network namespaces and veth pairs here";

  std::string dir = (fs::temp_directory_path() / "agent_netns-XXXXXX").string();
  ASSERT_NE(::mkdtemp(dir.data()), nullptr);
  PrivateRedisOptions o;
  o.dir = dir + "/redis";
  o.tcp = true;
  o.bind = "10.231.77.1";  // the bridge: reachable from the namespaces only through their veth
  o.password = "s3cret-for-the-test";
  auto redis = std::make_unique<PrivateRedis>(o);
  const std::string url =
      "redis://:" + o.password + "@10.231.77.1:" + std::to_string(redis->endpoint().port);
  RedisClient client(redis->endpoint(), 2000ms, 2000ms);
  const QueueKeys keys("t");

  // Without the password the broker refuses the agent: exit 2, nothing served.
  {
    NetnsAgent intruder(hosts.netns(0),
                        {"--redis", "redis://10.231.77.1:" + std::to_string(redis->endpoint().port),
                         "--queue", "t", "--name", "intruder", "--", "/bin/true"},
                        dir + "/intruder.log");
    EXPECT_EQ(intruder.wait_exit(10000ms), 2) << intruder.log();
    EXPECT_NE(intruder.log().find("NOAUTH"), std::string::npos) << intruder.log();
  }

  NetnsAgent a(hosts.netns(0), {"--redis", url, "--queue", "t", "--name", "host-a"},
               dir + "/a.log");
  NetnsAgent b(hosts.netns(1), {"--redis", url, "--queue", "t", "--name", "host-b"},
               dir + "/b.log");
  // Both agents are connected (they log it after joining the group) before the jobs come, so
  // both get some. (Redis 7.0 lists a consumer only once it has read an entry.)
  const auto joined_by = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < joined_by &&
         (a.log().find("serving") == std::string::npos ||
          b.log().find("serving") == std::string::npos))
    std::this_thread::sleep_for(20ms);
  for (int id = 1; id <= 8; ++id)
    client.command({"XADD", keys.jobs, "*", "id", std::to_string(id), "job",
                    R"({"id":)" + std::to_string(id) +
                        R"(,"argv":[")" FAULT_WORKER
                        R"(","--mode","success","--work-ms","200"]})"});
  std::map<std::string, std::string> agent_of;  // job -> agent of its end
  int ends = 0;
  const auto done_by = std::chrono::steady_clock::now() + 30s;
  while (std::chrono::steady_clock::now() < done_by) {
    agent_of.clear();
    ends = 0;
    const RedisReply r = client.command({"XRANGE", keys.events, "-", "+"});
    for (const RedisReply& entry : r.elements) {
      std::map<std::string, std::string> rec;
      for (std::size_t i = 0; i + 1 < entry.at(1).elements.size(); i += 2)
        rec[entry.at(1).elements[i].str] = entry.at(1).elements[i + 1].str;
      if (rec["type"] != "end") continue;
      ++ends;
      EXPECT_EQ(rec["status"], "success") << rec["body"];
      agent_of[rec["job"]] = rec["agent"];
    }
    if (ends >= 8) break;
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(ends, 8) << a.log() << b.log();
  EXPECT_EQ(agent_of.size(), 8u);
  std::set<std::string> agents;
  for (const auto& [job, agent] : agent_of) agents.insert(agent);
  EXPECT_EQ(agents, (std::set<std::string>{"host-a", "host-b"})) << a.log() << b.log();
  a.signal(SIGTERM);
  b.signal(SIGTERM);
  EXPECT_EQ(a.wait_exit(10000ms), 0) << a.log();
  EXPECT_EQ(b.wait_exit(10000ms), 0) << b.log();
  redis.reset();
  std::error_code ec;
  fs::remove_all(dir, ec);
}

}  // namespace
}  // namespace harness
