#include "harness/queue/redis_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include <fmt/format.h>

#include "harness/queue/redis_client.hpp"
#include "harness/supervise/launcher.hpp"
#include "harness/supervise/supervisor.hpp"

namespace harness {

namespace {

namespace fs = std::filesystem;

// What a pipe holds now, at most `cap` bytes (the server has exited, so no more will come).
std::string drain(const Fd& fd, std::size_t cap = 16 * 1024) {
  std::string out;
  if (!fd.valid()) return out;
  ::fcntl(fd.get(), F_SETFL, ::fcntl(fd.get(), F_GETFL) | O_NONBLOCK);
  char buf[4096];
  while (out.size() < cap) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out.substr(0, cap);
}

// The last `lines` lines of a file, for an error message.
std::string tail_of(const std::string& path, int lines = 8) {
  std::ifstream in(path);
  std::vector<std::string> all;
  for (std::string line; std::getline(in, line);) {
    all.push_back(line);
    if (all.size() > static_cast<std::size_t>(lines)) all.erase(all.begin());
  }
  std::string out;
  for (const auto& l : all) out += "\n  " + l;
  return out;
}

bool wait_exit(const Fd& pidfd, std::chrono::milliseconds within) {
  pollfd p{pidfd.get(), POLLIN, 0};
  int r = 0;
  do {
    r = ::poll(&p, 1, static_cast<int>(within.count()));
  } while (r < 0 && errno == EINTR);
  return r > 0;
}

std::atomic<int> g_sequence{0};

}  // namespace

int free_tcp_port(const std::string& address) {
  const int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) return -1;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = 0;
  if (::inet_pton(AF_INET, address.c_str(), &a.sin_addr) != 1) {
    ::close(s);
    return -1;
  }
  socklen_t len = sizeof a;
  int port = -1;
  if (::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len) == 0)
    port = ntohs(a.sin_port);
  ::close(s);
  return port;
}

PrivateRedis::PrivateRedis(PrivateRedisOptions options) : options_(std::move(options)) {
  std::error_code ec;
  fs::create_directories(options_.dir, ec);
  if (ec)
    throw RedisError(RedisError::Kind::io, fmt::format("cannot create the Redis folder {}: {}",
                                                       options_.dir, ec.message()));
  const fs::path dir = fs::absolute(options_.dir);
  options_.dir = dir.string();
  socket_ = (dir / "redis.sock").string();
  if (socket_.size() > 100) {  // sun_path is 108 bytes: a short private folder instead
    std::string tmpl = "/tmp/harness-redis-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr)
      throw RedisError(RedisError::Kind::io, "cannot create a folder for the Redis socket");
    socket_ = tmpl + "/redis.sock";
  }
  log_ = (dir / "redis.log").string();
  endpoint_.unix_path = socket_;
  endpoint_.password = options_.password;
  start();
}

PrivateRedis::~PrivateRedis() {
  stop();
  if (socket_.rfind("/tmp/harness-redis-", 0) == 0) {
    std::error_code ec;
    fs::remove(socket_, ec);
    fs::remove(fs::path(socket_).parent_path(), ec);
  }
}

RedisEndpoint PrivateRedis::unix_endpoint() const {
  RedisEndpoint e;
  e.unix_path = socket_;
  e.password = options_.password;
  return e;
}

void PrivateRedis::start() {
  if (running()) return;
  // A port taken between free_tcp_port and the server's bind: try another, a few times.
  for (int attempt = 0;; ++attempt) {
    if (options_.tcp && (port_ == 0 || attempt > 0)) {
      port_ = free_tcp_port(options_.bind);
      if (port_ <= 0)
        throw RedisError(RedisError::Kind::io,
                         fmt::format("no free TCP port on {} for Redis", options_.bind));
    }
    try {
      launch_once();
      break;
    } catch (const RedisError& e) {
      if (!options_.tcp || attempt >= 3 || std::strstr(e.what(), "in use") == nullptr) throw;
    }
  }
  if (options_.tcp) {
    endpoint_ = RedisEndpoint{};
    endpoint_.host = options_.bind;
    endpoint_.port = port_;
    endpoint_.password = options_.password;
  }
}

void PrivateRedis::launch_once() {
  ProcessSpec spec;
  spec.argv = {options_.program,
               "--daemonize",
               "no",
               "--supervised",
               "no",
               "--dir",
               options_.dir,
               "--unixsocket",
               socket_,
               "--unixsocketperm",
               "700",
               "--port",
               std::to_string(options_.tcp ? port_ : 0),
               "--bind",
               options_.bind,
               "--protected-mode",
               "yes",
               "--appendonly",
               "yes",
               "--appendfsync",
               "always",
               "--appenddirname",
               "aof",
               "--save",
               "",
               "--logfile",
               log_,
               "--databases",
               "16"};
  if (!options_.password.empty()) {
    spec.argv.push_back("--requirepass");
    spec.argv.push_back(options_.password);
  }
  const std::string token =
      fmt::format("{}.redis.{}", ::getpid(), g_sequence.fetch_add(1, std::memory_order_relaxed));
  Launched l;
  if (std::string error = launch(spec, token, l); !error.empty())
    throw RedisError(RedisError::Kind::io,
                     fmt::format("cannot start redis-server: {} (setup.sh installs the "
                                 "redis-server package)",
                                 error));
  pid_ = l.pid;
  pidfd_ = std::move(l.pidfd);

  const auto deadline = std::chrono::steady_clock::now() + options_.start_timeout;
  std::string last = "no answer yet";
  for (;;) {
    if (wait_exit(pidfd_, std::chrono::milliseconds{10})) {
      reap_pidfd(pidfd_.get());
      pid_ = -1;
      pidfd_.reset();
      std::string said = drain(l.stderr_r) + drain(l.stdout_r);
      while (!said.empty() && (said.back() == '\n' || said.back() == ' ')) said.pop_back();
      throw RedisError(RedisError::Kind::io,
                       fmt::format("redis-server exited at start: {}{}",
                                   said.empty() ? "(it printed nothing)" : said, tail_of(log_)));
    }
    try {
      RedisClient probe(unix_endpoint(), std::chrono::milliseconds{500},
                        std::chrono::milliseconds{1000});
      probe.command({"PING"});
      break;
    } catch (const RedisError& e) {
      last = e.what();  // not listening yet, or LOADING the AOF
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      kill();
      throw RedisError(RedisError::Kind::io,
                       fmt::format("redis-server did not answer within {} ms: {}{}",
                                   options_.start_timeout.count(), last, tail_of(log_)));
    }
  }
  // From here it logs to its file only; it ignores SIGPIPE, so closing the pipes is safe.
}

void PrivateRedis::kill() {
  if (!running()) return;
  pidfd_send(pidfd_.get(), SIGKILL);
  wait_exit(pidfd_, std::chrono::milliseconds{10000});
  reap_pidfd(pidfd_.get());
  pid_ = -1;
  pidfd_.reset();
}

void PrivateRedis::stop() {
  if (!running()) return;
  pidfd_send(pidfd_.get(), SIGTERM);
  if (!wait_exit(pidfd_, std::chrono::milliseconds{5000})) pidfd_send(pidfd_.get(), SIGKILL);
  wait_exit(pidfd_, std::chrono::milliseconds{10000});
  reap_pidfd(pidfd_.get());
  pid_ = -1;
  pidfd_.reset();
}

}  // namespace harness
