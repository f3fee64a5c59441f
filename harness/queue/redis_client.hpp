#pragma once
// A small RAII client over hiredis: one blocking connection with a connect timeout and a
// per-command timeout, commands sent as argument vectors (never formatted, so no value can be
// read as part of a command), every reply checked, and reconnection with backoff. The queue's
// agent and coordinator each hold their own (a hiredis context is not for two threads).
//
// Replies are copied into `RedisReply` values, so nothing of hiredis outlives the call.

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "harness/core/redis_url.hpp"

struct redisContext;

namespace harness {

// `io`: the connection failed or was lost (the broker is down, restarting, or too slow);
// `reply`: the server answered with an error (a wrong type, BUSYGROUP, NOSCRIPT...).
class RedisError : public std::runtime_error {
 public:
  enum class Kind { io, reply };
  RedisError(Kind kind, const std::string& what) : std::runtime_error(what), kind_(kind) {}
  Kind kind() const { return kind_; }

 private:
  Kind kind_;
};

struct RedisReply {
  enum class Type { nil, status, error, integer, string, array };
  Type type = Type::nil;
  std::int64_t integer = 0;
  std::string str;  // status, error and string replies
  std::vector<RedisReply> elements;

  bool is_nil() const { return type == Type::nil; }
  // The string of a string or status reply; throws RedisError(reply) for anything else.
  const std::string& text() const;
  std::int64_t as_int() const;                // an integer reply; throws otherwise
  const RedisReply& at(std::size_t i) const;  // an array's element; throws when out of range
};

class RedisClient {
 public:
  // Connects, then AUTH and SELECT as the endpoint says, all within `connect_timeout`; commands
  // then time out after `command_timeout` (0: wait forever, for blocking reads). Throws
  // RedisError(io) naming the endpoint and the cause.
  RedisClient(RedisEndpoint endpoint, std::chrono::milliseconds connect_timeout,
              std::chrono::milliseconds command_timeout);
  ~RedisClient();
  RedisClient(RedisClient&&) noexcept;
  RedisClient& operator=(RedisClient&&) noexcept;

  // Sends one command and returns its reply. An error reply throws RedisError(reply) with the
  // server's message and the command's name; a lost connection throws RedisError(io) and leaves
  // the client disconnected until reconnect().
  RedisReply command(const std::vector<std::string>& args);
  RedisReply command(std::initializer_list<std::string_view> args);

  // Sends every command before reading any reply (one round trip for all). Error replies are
  // returned in place (type error), not thrown, so a MULTI's queued errors can be told apart;
  // a lost connection throws RedisError(io).
  std::vector<RedisReply> pipeline(const std::vector<std::vector<std::string>>& commands);

  // Reconnects, retrying with backoff (10 ms doubling to 500 ms) until `give_up_after` has
  // passed; throws RedisError(io) with the last cause then.
  void reconnect(std::chrono::milliseconds give_up_after);

  // Changes the per-command timeout (0: none) for what follows, e.g. around a blocking read.
  void set_command_timeout(std::chrono::milliseconds timeout);

  // Makes this connection a subscriber of `channel` (SUBSCRIBE; after it, only messages()
  // may be used). A reconnect subscribes again; what was published while disconnected is lost,
  // as pub/sub promises nothing more.
  void subscribe(const std::string& channel);
  // The payloads published on the channel since the last call, without waiting: reads only
  // what the socket already holds. A lost connection throws RedisError(io).
  std::vector<std::string> messages();

  bool connected() const;
  const RedisEndpoint& endpoint() const { return endpoint_; }

 private:
  void open();
  [[noreturn]] void lost(const std::string& during);

  RedisEndpoint endpoint_;
  std::chrono::milliseconds connect_timeout_;
  std::chrono::milliseconds command_timeout_;
  std::string channel_;  // subscribed to, once subscribe() was called
  std::unique_ptr<redisContext, void (*)(redisContext*)> ctx_;
};

}  // namespace harness
