#pragma once
// A private redis-server for one run (`queue: {redis: auto}`) or one test: started in a folder
// of its own with AOF on and `appendfsync always` (an acknowledged write survives a kill of the
// server), listening on a unix socket in that folder (mode 700) or, for agents in other network
// namespaces, on a free loopback TCP port too. Stopped and reaped by the destructor, killed by
// the kernel if the harness dies (PR_SET_PDEATHSIG through the launcher: start it from a thread
// that lives as long as the run) and by the run's watchdog, which finds it by its token.
//
// kill() and start() again are the broker restart of a fault scenario: the new server replays
// the AOF of the same folder.

#include <chrono>
#include <string>

#include "harness/core/redis_url.hpp"
#include "harness/supervise/fd.hpp"

namespace harness {

struct PrivateRedisOptions {
  std::string dir;                       // created if missing; holds the socket, AOF and log
  std::string program = "redis-server";  // a path, or looked up on PATH
  bool tcp = false;                      // also listen on 127.0.0.1 at a free port
  std::string bind = "127.0.0.1";        // the TCP address when tcp (e.g. a veth's address)
  std::string password;                  // requirepass when not empty
  std::chrono::milliseconds start_timeout{10000};
};

class PrivateRedis {
 public:
  // Starts the server and waits until it answers PING. Throws RedisError(io) with what the
  // server printed when it cannot start (not installed, a bad option, the port taken).
  explicit PrivateRedis(PrivateRedisOptions options);
  ~PrivateRedis();  // stop()
  PrivateRedis(const PrivateRedis&) = delete;
  PrivateRedis& operator=(const PrivateRedis&) = delete;

  // Where clients connect: the unix socket, or TCP when `tcp` was asked.
  const RedisEndpoint& endpoint() const { return endpoint_; }
  RedisEndpoint unix_endpoint() const;
  int pid() const { return pid_; }
  bool running() const { return pid_ > 0; }
  const std::string& log_path() const { return log_; }

  void start();  // after kill() or stop(): the same folder, port and AOF
  void kill();   // SIGKILL and reap: a broker crash
  // SIGTERM (Redis fsyncs the AOF and removes its socket), SIGKILL after 5 s; reaped. No-op when
  // not running.
  void stop();

 private:
  void launch_once();

  PrivateRedisOptions options_;
  RedisEndpoint endpoint_;
  std::string socket_, log_;
  int port_ = 0;
  int pid_ = -1;
  Fd pidfd_;
};

// A TCP port on `address` that was free a moment ago (bound to port 0, then released).
int free_tcp_port(const std::string& address = "127.0.0.1");

}  // namespace harness
