#include "harness/queue/redis_client.hpp"

#include <hiredis/hiredis.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/time.h>

#include <cerrno>

#include <thread>

#include <fmt/format.h>

namespace harness {

namespace {

timeval to_timeval(std::chrono::milliseconds ms) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

void free_context(redisContext* c) {
  if (c != nullptr) redisFree(c);
}

RedisReply convert(const redisReply* r) {
  RedisReply out;
  switch (r->type) {
    case REDIS_REPLY_STRING:
      out.type = RedisReply::Type::string;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = RedisReply::Type::status;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = RedisReply::Type::error;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = RedisReply::Type::integer;
      out.integer = r->integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = RedisReply::Type::array;
      out.elements.reserve(r->elements);
      for (std::size_t i = 0; i < r->elements; ++i) out.elements.push_back(convert(r->element[i]));
      break;
    default: out.type = RedisReply::Type::nil;
  }
  return out;
}

struct ReplyDeleter {
  void operator()(void* r) const {
    if (r != nullptr) freeReplyObject(r);
  }
};

// argv/argvlen views of `args` for hiredis's *Argv calls.
struct ArgvView {
  std::vector<const char*> argv;
  std::vector<std::size_t> len;
  template <class Range>
  explicit ArgvView(const Range& args) {
    for (const auto& a : args) {
      argv.push_back(a.data());
      len.push_back(a.size());
    }
  }
};

// hiredis 0.14 writes with write(2), so a write to a server that went away raises SIGPIPE, which
// kills a process that did not ignore it. While a command runs, SIGPIPE is blocked in this thread
// and, when the write raised one, taken off the pending set before the mask comes back, so the
// caller sees an io error instead of dying, and the process's disposition is left alone.
class SigpipeGuard {
 public:
  SigpipeGuard() {
    sigset_t pipe;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe, &old_);
    sigset_t pending;
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
  }
  ~SigpipeGuard() {
    sigset_t pending;
    sigpending(&pending);
    if (!was_pending_ && sigismember(&pending, SIGPIPE) == 1) {
      sigset_t pipe;
      sigemptyset(&pipe);
      sigaddset(&pipe, SIGPIPE);
      const timespec now{};
      while (sigtimedwait(&pipe, nullptr, &now) < 0 && errno == EINTR) {
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  SigpipeGuard(const SigpipeGuard&) = delete;
  SigpipeGuard& operator=(const SigpipeGuard&) = delete;

 private:
  sigset_t old_{};
  bool was_pending_ = false;
};

std::string name_of(const std::vector<std::string>& args) {
  return args.empty() ? std::string("(empty)") : args.front();
}

}  // namespace

const std::string& RedisReply::text() const {
  if (type != Type::string && type != Type::status)
    throw RedisError(RedisError::Kind::reply, "expected a string reply from Redis");
  return str;
}

std::int64_t RedisReply::as_int() const {
  if (type != Type::integer)
    throw RedisError(RedisError::Kind::reply, "expected an integer reply from Redis");
  return integer;
}

const RedisReply& RedisReply::at(std::size_t i) const {
  if (type != Type::array || i >= elements.size())
    throw RedisError(RedisError::Kind::reply,
                     fmt::format("expected an array of more than {} elements from Redis", i));
  return elements[i];
}

RedisClient::RedisClient(RedisEndpoint endpoint, std::chrono::milliseconds connect_timeout,
                         std::chrono::milliseconds command_timeout)
    : endpoint_(std::move(endpoint)),
      connect_timeout_(connect_timeout),
      command_timeout_(command_timeout),
      ctx_(nullptr, free_context) {
  open();
}

RedisClient::~RedisClient() = default;
RedisClient::RedisClient(RedisClient&&) noexcept = default;
RedisClient& RedisClient::operator=(RedisClient&&) noexcept = default;

bool RedisClient::connected() const {
  return ctx_ != nullptr;
}

void RedisClient::open() {
  ctx_.reset();
  const timeval tv = to_timeval(connect_timeout_);
  redisContext* c = endpoint_.is_unix()
                        ? redisConnectUnixWithTimeout(endpoint_.unix_path.c_str(), tv)
                        : redisConnectWithTimeout(endpoint_.host.c_str(), endpoint_.port, tv);
  if (c == nullptr)
    throw RedisError(
        RedisError::Kind::io,
        fmt::format("cannot connect to Redis at {}: out of memory", endpoint_.display()));
  std::unique_ptr<redisContext, void (*)(redisContext*)> guard(c, free_context);
  if (c->err != 0)
    throw RedisError(RedisError::Kind::io, fmt::format("cannot connect to Redis at {}: {}",
                                                       endpoint_.display(), c->errstr));
  // The handshake runs under the connect timeout, then commands get theirs.
  if (redisSetTimeout(c, tv) != REDIS_OK)
    throw RedisError(RedisError::Kind::io, "cannot set the Redis socket timeout");
  ctx_ = std::move(guard);
  try {
    if (!endpoint_.password.empty()) {
      std::vector<std::string> auth{"AUTH"};
      if (!endpoint_.user.empty()) auth.push_back(endpoint_.user);
      auth.push_back(endpoint_.password);
      command(auth);
    }
    if (endpoint_.db != 0) command({"SELECT", std::to_string(endpoint_.db)});
    if (!channel_.empty()) {
      const RedisReply r = command({"SUBSCRIBE", channel_});
      if (r.type != RedisReply::Type::array || r.elements.empty() || r.at(0).str != "subscribe")
        throw RedisError(RedisError::Kind::reply, "Redis SUBSCRIBE: unexpected reply");
    }
  } catch (...) {
    ctx_.reset();
    throw;
  }
  set_command_timeout(command_timeout_);
}

void RedisClient::set_command_timeout(std::chrono::milliseconds timeout) {
  command_timeout_ = timeout;
  if (ctx_ && redisSetTimeout(ctx_.get(), to_timeval(timeout)) != REDIS_OK)
    lost("setting the command timeout");
}

void RedisClient::lost(const std::string& during) {
  std::string cause = ctx_ && ctx_->err != 0 ? ctx_->errstr : "not connected";
  if (ctx_ && ctx_->err == REDIS_ERR_EOF) cause = "the server closed the connection";
  ctx_.reset();  // a timed-out or broken connection cannot be trusted to be in step again
  throw RedisError(RedisError::Kind::io,
                   fmt::format("Redis at {}: {} ({})", endpoint_.display(), cause, during));
}

RedisReply RedisClient::command(std::initializer_list<std::string_view> args) {
  std::vector<std::string> copy(args.begin(), args.end());
  return command(copy);
}

RedisReply RedisClient::command(const std::vector<std::string>& args) {
  if (!ctx_) lost(name_of(args));
  SigpipeGuard no_sigpipe;
  ArgvView v(args);
  std::unique_ptr<void, ReplyDeleter> raw(
      redisCommandArgv(ctx_.get(), static_cast<int>(v.argv.size()), v.argv.data(), v.len.data()));
  if (!raw) lost(name_of(args));
  RedisReply reply = convert(static_cast<redisReply*>(raw.get()));
  if (reply.type == RedisReply::Type::error)
    throw RedisError(RedisError::Kind::reply,
                     fmt::format("Redis {}: {}", name_of(args), reply.str));
  return reply;
}

std::vector<RedisReply> RedisClient::pipeline(const std::vector<std::vector<std::string>>& cmds) {
  if (!ctx_) lost("a pipeline");
  SigpipeGuard no_sigpipe;
  for (const auto& args : cmds) {
    ArgvView v(args);
    if (redisAppendCommandArgv(ctx_.get(), static_cast<int>(v.argv.size()), v.argv.data(),
                               v.len.data()) != REDIS_OK)
      lost(name_of(args));
  }
  std::vector<RedisReply> replies;
  replies.reserve(cmds.size());
  for (const auto& args : cmds) {
    void* r = nullptr;
    if (redisGetReply(ctx_.get(), &r) != REDIS_OK || r == nullptr) lost(name_of(args));
    std::unique_ptr<void, ReplyDeleter> raw(r);
    replies.push_back(convert(static_cast<redisReply*>(r)));
  }
  return replies;
}

void RedisClient::subscribe(const std::string& channel) {
  channel_ = channel;
  const RedisReply r = command({"SUBSCRIBE", channel});
  if (r.type != RedisReply::Type::array || r.elements.empty() || r.at(0).str != "subscribe")
    throw RedisError(RedisError::Kind::reply, "Redis SUBSCRIBE: unexpected reply");
}

std::vector<std::string> RedisClient::messages() {
  if (!ctx_) lost("reading messages");
  std::vector<std::string> out;
  pollfd pfd{ctx_->fd, POLLIN, 0};
  int ready = 0;
  while ((ready = ::poll(&pfd, 1, 0)) < 0 && errno == EINTR) {
  }
  if (ready < 0) lost("poll");
  if (ready == 0) return out;
  // Readable: what is there is read without blocking (an EOF or error is a lost connection).
  if (redisBufferRead(ctx_.get()) != REDIS_OK) lost("reading messages");
  for (;;) {
    void* r = nullptr;
    if (redisGetReplyFromReader(ctx_.get(), &r) != REDIS_OK) lost("reading messages");
    if (r == nullptr) break;  // no whole reply left in the buffer
    std::unique_ptr<void, ReplyDeleter> raw(r);
    const RedisReply m = convert(static_cast<redisReply*>(r));
    // ["message", channel, payload]; anything else (a subscribe confirmation) is not one.
    if (m.type == RedisReply::Type::array && m.elements.size() == 3 &&
        m.elements[0].str == "message" && m.elements[2].type == RedisReply::Type::string)
      out.push_back(m.elements[2].str);
  }
  return out;
}

void RedisClient::reconnect(std::chrono::milliseconds give_up_after) {
  const auto deadline = std::chrono::steady_clock::now() + give_up_after;
  std::chrono::milliseconds wait{10};
  for (;;) {
    try {
      open();
      return;
    } catch (const RedisError& e) {
      if (e.kind() == RedisError::Kind::reply) throw;  // AUTH or SELECT refused: no retry helps
      if (std::chrono::steady_clock::now() + wait >= deadline) {
        ctx_.reset();
        throw RedisError(RedisError::Kind::io, fmt::format("{} (gave up reconnecting after {} ms)",
                                                           e.what(), give_up_after.count()));
      }
    }
    std::this_thread::sleep_for(wait);
    wait = std::min(wait * 2, std::chrono::milliseconds{500});
  }
}

}  // namespace harness
