// Agents on two "hosts": each in a network namespace of its own, joined to the test's Redis by a
// veth pair on a bridge, so they reach the broker only over TCP with its password, as agents on
// other machines do. Needs root and `ip` (iproute2); skipped with a message otherwise.

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "harness/queue/queue_keys.hpp"
#include "harness/queue/redis_client.hpp"
#include "harness/queue/redis_server.hpp"
#include "tests/test_process.hpp"

namespace harness {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

bool sh(const std::string& command) {
  return std::system((command + " >/dev/null 2>&1").c_str()) == 0;
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

// `ip netns exec NS harness agent ARGS...` (ip execs the agent: the pid is the agent's).
std::vector<std::string> netns_agent(const std::string& ns, std::vector<std::string> args) {
  args.insert(args.begin(), {"/usr/sbin/ip", "netns", "exec", ns, HARNESS_BINARY, "agent"});
  return args;
}

int exit_within(test::TestProcess& p, std::chrono::milliseconds limit) {
  return p.wait_for(limit).value_or(-1);
}

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
    test::TestProcess intruder(netns_agent(
        hosts.netns(0), {"--redis", "redis://10.231.77.1:" + std::to_string(redis->endpoint().port),
                         "--queue", "t", "--name", "intruder", "--", "/bin/true"}));
    EXPECT_EQ(exit_within(intruder, 10000ms), 2) << intruder.err();
    EXPECT_NE(intruder.err().find("NOAUTH"), std::string::npos) << intruder.err();
  }

  test::TestProcess a(
      netns_agent(hosts.netns(0), {"--redis", url, "--queue", "t", "--name", "host-a"}));
  test::TestProcess b(
      netns_agent(hosts.netns(1), {"--redis", url, "--queue", "t", "--name", "host-b"}));
  // Both agents are connected (they log it after joining the group) before the jobs come, so
  // both get some. (Redis 7.0 lists a consumer only once it has read an entry.)
  const auto joined_by = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < joined_by &&
         (a.err().find("serving") == std::string::npos ||
          b.err().find("serving") == std::string::npos))
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
  EXPECT_EQ(ends, 8) << a.err() << b.err();
  EXPECT_EQ(agent_of.size(), 8u);
  std::set<std::string> agents;
  for (const auto& [job, agent] : agent_of) agents.insert(agent);
  EXPECT_EQ(agents, (std::set<std::string>{"host-a", "host-b"})) << a.err() << b.err();
  a.signal(SIGTERM);
  b.signal(SIGTERM);
  EXPECT_EQ(exit_within(a, 10000ms), 0) << a.err();
  EXPECT_EQ(exit_within(b, 10000ms), 0) << b.err();
  redis.reset();
  std::error_code ec;
  fs::remove_all(dir, ec);
}

}  // namespace
}  // namespace harness
