// The queue's broker parts against a real redis-server (never a mock): the private server's
// start, stop, crash and restart from its AOF, the client's replies, errors and reconnection,
// a subscriber's messages, and the URL parser's refusals. Every test checks that no redis-server is
// left behind.

#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "harness/core/redis_url.hpp"
#include "harness/queue/redis_client.hpp"
#include "harness/queue/redis_server.hpp"

namespace harness {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

std::string temp_dir() {
  std::string tmpl = (fs::temp_directory_path() / "redis_test-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed";
  return tmpl;
}

bool alive(int pid) {
  return pid > 0 && (::kill(pid, 0) == 0 || errno != ESRCH);
}

class RedisTest : public ::testing::Test {
 protected:
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  // The options of a server in this test's folder, the rest as given.
  PrivateRedisOptions in_dir(bool tcp = false, std::string password = "") const {
    PrivateRedisOptions o;
    o.dir = dir_;
    o.tcp = tcp;
    o.password = std::move(password);
    return o;
  }
  std::string dir_ = temp_dir();
};

TEST(redis_url_test, reads_tcp_and_unix_urls) {
  std::string err;
  auto a = parse_redis_url("redis://127.0.0.1:7001/3", err);
  ASSERT_TRUE(a) << err;
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 7001);
  EXPECT_EQ(a->db, 3);
  EXPECT_FALSE(a->is_unix());

  auto b = parse_redis_url("redis://:s%40cret@queue.example-1.net", err);
  ASSERT_TRUE(b) << err;
  EXPECT_EQ(b->host, "queue.example-1.net");
  EXPECT_EQ(b->port, 6379);
  EXPECT_EQ(b->password, "s@cret");
  EXPECT_EQ(b->display(), "redis://:***@queue.example-1.net:6379");  // never the password

  auto c = parse_redis_url("unix://agent:pw@/run/harness/redis.sock", err);
  ASSERT_TRUE(c) << err;
  EXPECT_EQ(c->unix_path, "/run/harness/redis.sock");
  EXPECT_EQ(c->user, "agent");
  EXPECT_EQ(c->password, "pw");

  auto d = parse_redis_url("redis://[::1]:6380", err);
  ASSERT_TRUE(d) << err;
  EXPECT_EQ(d->host, "::1");
  EXPECT_EQ(d->display(), "redis://[::1]:6380");
}

TEST(redis_url_test, refuses_bad_urls_and_says_where) {
  const std::pair<const char*, const char*> bad[] = {
      {"http://localhost", "character 1: the scheme"},
      {"redis://", "character 9: no host"},
      {"redis://host:0", "character 14: the port must be 1-65535"},
      {"redis://host:65536", "character 14: the port"},
      {"redis://host:12ab", "character 14: the port"},
      {"redis://host/16", "character 14: the db must be 0-15"},
      {"redis://ho st", "character 11: a space"},
      {"redis://host?x=1", "character 13: unexpected text"},
      {"redis://:@host", "character 10: an empty password"},
      {"redis://:a%2@host", "character 11: a bad %-escape in the password"},
      {"redis://:a%00@host", "character 11: a bad %-escape"},
      {"redis://[::1", "character 9: an IPv6 address without"},
      {"unix://relative/path", "character 8: the socket path must be absolute"},
  };
  for (const auto& [url, says] : bad) {
    std::string err;
    EXPECT_FALSE(parse_redis_url(url, err)) << url;
    EXPECT_NE(err.find(says), std::string::npos) << url << " -> " << err;
  }
  std::string err;
  EXPECT_FALSE(parse_redis_url("unix:///" + std::string(120, 'a'), err));
  EXPECT_NE(err.find("over 107 bytes"), std::string::npos) << err;
}

TEST_F(RedisTest, a_private_server_answers_and_is_gone_after_stop) {
  int pid = -1;
  {
    PrivateRedis server(in_dir());
    pid = server.pid();
    ASSERT_TRUE(alive(pid));
    RedisClient client(server.endpoint(), milliseconds{1000}, milliseconds{1000});
    EXPECT_EQ(client.command({"PING"}).text(), "PONG");
    // The AOF is on and fsynced on every write: what a restart replays.
    const RedisReply conf = client.command({"CONFIG", "GET", "appendfsync"});
    ASSERT_EQ(conf.elements.size(), 2u);
    EXPECT_EQ(conf.at(1).text(), "always");
    EXPECT_TRUE(fs::exists(fs::path(dir_) / "redis.log"));
  }
  EXPECT_FALSE(alive(pid)) << "redis-server " << pid << " outlived its PrivateRedis";
}

// A harness SIGKILLed mid-run cannot stop its server: the kernel does (PR_SET_PDEATHSIG).
TEST_F(RedisTest, the_server_dies_with_the_process_that_started_it) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t owner = ::fork();
  ASSERT_GE(owner, 0);
  if (owner == 0) {
    ::close(fds[0]);
    try {
      PrivateRedis server(in_dir());
      const int pid = server.pid();
      if (::write(fds[1], &pid, sizeof pid) != sizeof pid) ::_exit(1);
      for (;;) ::pause();
    } catch (...) {
      ::_exit(2);
    }
  }
  ::close(fds[1]);
  int redis = -1;
  ASSERT_EQ(::read(fds[0], &redis, sizeof redis), static_cast<ssize_t>(sizeof redis));
  ::close(fds[0]);
  ASSERT_TRUE(alive(redis));
  ::kill(owner, SIGKILL);
  ::waitpid(owner, nullptr, 0);
  // Its parent is gone, so it is reparented (to us or init) and reaped there: wait for that.
  for (int i = 0; i < 500 && alive(redis); ++i) {
    ::waitpid(redis, nullptr, WNOHANG);
    ::usleep(10000);
  }
  EXPECT_FALSE(alive(redis)) << "redis-server " << redis << " outlived the harness";
}

TEST_F(RedisTest, a_stream_round_trip_through_a_consumer_group) {
  PrivateRedis server(in_dir());
  RedisClient c(server.endpoint(), milliseconds{1000}, milliseconds{2000});
  c.command({"XGROUP", "CREATE", "jobs", "agents", "$", "MKSTREAM"});
  const std::string id = c.command({"XADD", "jobs", "*", "job", "{\"id\":1}"}).text();
  const RedisReply got =
      c.command({"XREADGROUP", "GROUP", "agents", "a1", "COUNT", "1", "STREAMS", "jobs", ">"});
  // [[stream, [[id, [field, value]]]]]
  const RedisReply& entry = got.at(0).at(1).at(0);
  EXPECT_EQ(entry.at(0).text(), id);
  EXPECT_EQ(entry.at(1).at(1).text(), "{\"id\":1}");
  EXPECT_EQ(c.command({"XPENDING", "jobs", "agents"}).at(0).as_int(), 1);
  // The result and the ack in one MULTI, pipelined: one round trip.
  const auto replies = c.pipeline({{"MULTI"},
                                   {"XADD", "results", "*", "job", "1", "status", "success"},
                                   {"XACK", "jobs", "agents", id},
                                   {"EXEC"}});
  ASSERT_EQ(replies.size(), 4u);
  EXPECT_EQ(replies[3].at(1).as_int(), 1);  // XACK acknowledged one entry
  EXPECT_EQ(c.command({"XPENDING", "jobs", "agents"}).at(0).as_int(), 0);
  EXPECT_EQ(c.command({"XLEN", "results"}).as_int(), 1);
}

TEST_F(RedisTest, an_error_reply_throws_with_the_servers_message) {
  PrivateRedis server(in_dir());
  RedisClient c(server.endpoint(), milliseconds{1000}, milliseconds{1000});
  c.command({"SET", "k", "v"});
  try {
    c.command({"XADD", "k", "*", "f", "v"});
    FAIL() << "XADD on a string did not throw";
  } catch (const RedisError& e) {
    EXPECT_EQ(e.kind(), RedisError::Kind::reply);
    EXPECT_NE(std::string(e.what()).find("XADD: WRONGTYPE"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(c.connected());  // an error reply leaves the connection usable
  EXPECT_EQ(c.command({"GET", "k"}).text(), "v");
  // Arguments are sent as they are: a value with spaces, quotes and CRLF is one value.
  const std::string odd = "a b \"c\"\r\n*3\r\n$4\r\nQUIT";
  c.command({"SET", "odd", odd});
  EXPECT_EQ(c.command({"GET", "odd"}).text(), odd);
}

// The broker crash of a fault scenario: SIGKILL, then a new server on the same AOF. What was
// acknowledged before the kill is there after it, the consumer group's pending entries too, and
// a client reconnects.
TEST_F(RedisTest, a_killed_server_restarts_from_its_aof_and_clients_reconnect) {
  PrivateRedis server(in_dir());
  RedisClient c(server.endpoint(), milliseconds{1000}, milliseconds{1000});
  c.command({"XGROUP", "CREATE", "jobs", "agents", "$", "MKSTREAM"});
  for (int i = 0; i < 3; ++i) c.command({"XADD", "jobs", "*", "job", std::to_string(i)});
  c.command({"XREADGROUP", "GROUP", "agents", "a1", "COUNT", "1", "STREAMS", "jobs", ">"});
  const int first_pid = server.pid();
  server.kill();
  EXPECT_FALSE(alive(first_pid));
  EXPECT_THROW(c.command({"PING"}), RedisError);
  EXPECT_FALSE(c.connected());
  server.start();
  EXPECT_NE(server.pid(), first_pid);
  c.reconnect(milliseconds{5000});
  EXPECT_EQ(c.command({"XLEN", "jobs"}).as_int(), 3);
  EXPECT_EQ(c.command({"XPENDING", "jobs", "agents"}).at(0).as_int(), 1);
}

// Everything published so far, read without blocking, within `limit`.
std::vector<std::string> messages_within(RedisClient& sub, std::size_t n, milliseconds limit) {
  std::vector<std::string> got;
  const auto end = std::chrono::steady_clock::now() + limit;
  while (got.size() < n && std::chrono::steady_clock::now() < end) {
    for (auto& m : sub.messages()) got.push_back(std::move(m));
    std::this_thread::sleep_for(milliseconds{5});
  }
  return got;
}

TEST_F(RedisTest, a_subscriber_reads_messages_in_order_without_waiting_and_again_after_a_restart) {
  PrivateRedis server(in_dir());
  RedisClient pub(server.endpoint(), milliseconds{1000}, milliseconds{1000});
  RedisClient sub(server.endpoint(), milliseconds{1000}, milliseconds{1000});
  sub.subscribe("ch");
  EXPECT_TRUE(sub.messages().empty());  // nothing published: returns at once
  EXPECT_EQ(pub.command({"PUBLISH", "other", "x"}).as_int(), 0);
  for (const char* m : {"1", "2", "3"}) EXPECT_EQ(pub.command({"PUBLISH", "ch", m}).as_int(), 1);
  EXPECT_EQ(messages_within(sub, 3, milliseconds{5000}), (std::vector<std::string>{"1", "2", "3"}));

  server.kill();
  EXPECT_THROW(messages_within(sub, 1, milliseconds{2000}), RedisError);
  EXPECT_FALSE(sub.connected());
  server.start();
  sub.reconnect(milliseconds{5000});  // subscribed again
  pub.reconnect(milliseconds{5000});
  EXPECT_EQ(pub.command({"PUBLISH", "ch", "4"}).as_int(), 1);
  EXPECT_EQ(messages_within(sub, 1, milliseconds{5000}), std::vector<std::string>{"4"});
}

TEST_F(RedisTest, tcp_with_a_password_refuses_a_wrong_one) {
  PrivateRedis server(in_dir(true, "p4ss"));
  ASSERT_FALSE(server.endpoint().is_unix());
  EXPECT_EQ(server.endpoint().host, "127.0.0.1");
  EXPECT_GT(server.endpoint().port, 0);
  RedisClient ok(server.endpoint(), milliseconds{1000}, milliseconds{1000});
  EXPECT_EQ(ok.command({"PING"}).text(), "PONG");
  RedisEndpoint wrong = server.endpoint();
  wrong.password = "nope";
  try {
    RedisClient bad(wrong, milliseconds{1000}, milliseconds{1000});
    FAIL() << "a wrong password connected";
  } catch (const RedisError& e) {
    EXPECT_EQ(e.kind(), RedisError::Kind::reply);
    EXPECT_EQ(std::string(e.what()).find("nope"), std::string::npos) << "the password leaked";
  }
  RedisEndpoint none = server.endpoint();
  none.password.clear();
  RedisClient anonymous(none, milliseconds{1000}, milliseconds{1000});
  EXPECT_THROW(anonymous.command({"GET", "k"}), RedisError);  // NOAUTH
}

TEST_F(RedisTest, no_server_there_is_a_clear_io_error) {
  RedisEndpoint ep;
  ep.unix_path = dir_ + "/nothing.sock";
  try {
    RedisClient c(ep, milliseconds{500}, milliseconds{500});
    FAIL() << "connected to nothing";
  } catch (const RedisError& e) {
    EXPECT_EQ(e.kind(), RedisError::Kind::io);
    EXPECT_NE(std::string(e.what()).find("cannot connect to Redis at unix://" + ep.unix_path),
              std::string::npos)
        << e.what();
  }
  // Reconnecting gives up after its time and says so.
  const auto start = std::chrono::steady_clock::now();
  try {
    RedisEndpoint tcp;
    tcp.host = "127.0.0.1";
    tcp.port = free_tcp_port();
    RedisClient c(tcp, milliseconds{200}, milliseconds{200});
    FAIL() << "connected to a free port";
  } catch (const RedisError& e) {
    EXPECT_EQ(e.kind(), RedisError::Kind::io);
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds{10});
}

TEST_F(RedisTest, a_server_that_cannot_start_says_why) {
  try {
    PrivateRedisOptions o = in_dir();
    o.program = dir_ + "/no-such-redis-server";
    PrivateRedis missing(o);
    FAIL() << "started a program that does not exist";
  } catch (const RedisError& e) {
    EXPECT_NE(std::string(e.what()).find("setup.sh installs the redis-server package"),
              std::string::npos)
        << e.what();
  }
  try {  // an address of no interface here (TEST-NET-1)
    PrivateRedisOptions o = in_dir(true);
    o.bind = "192.0.2.1";
    PrivateRedis unbindable(o);
    FAIL() << "bound 192.0.2.1";
  } catch (const RedisError& e) {
    EXPECT_NE(std::string(e.what()).find("192.0.2.1"), std::string::npos) << e.what();
  }
  try {  // a program that refuses redis-server's options: what it printed comes back
    PrivateRedisOptions o = in_dir();
    o.program = "/bin/sh";
    PrivateRedis wrong(o);
    FAIL() << "sh took redis-server's options";
  } catch (const RedisError& e) {
    EXPECT_NE(std::string(e.what()).find("redis-server exited at start: "), std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("Illegal option"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace harness
