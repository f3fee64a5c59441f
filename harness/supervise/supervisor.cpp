#include "harness/supervise/supervisor.hpp"

#include <signal.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>

#include "harness/supervise/sampler.hpp"
#include "harness/supervise/session_impl.hpp"

namespace harness {

// ---- Session: the public face of Session::Impl --------------------------------------------

Session::Session(Supervisor& supervisor) : impl_(std::make_unique<Impl>(supervisor)) {}
Session::~Session() = default;

int Session::add(const ProcessSpec& spec, ProcessObserver* observer) {
  impl_->lease.clean = false;
  return impl_->add(spec, observer);
}

bool Session::write_line(int handle, std::string_view line) {
  Instance& in = impl_->at(handle);
  if (in.phase != Phase::running || !in.spec.stdin_open) return false;
  std::string text;
  text.reserve(line.size() + 1);
  text.append(line);
  text.push_back('\n');
  return impl_->queue_stdin(in, std::move(text));
}

std::size_t Session::stdin_queued_bytes(int handle) const {
  return impl_->at(handle).stdin_bytes;
}

void Session::close_stdin(int handle) {
  Instance& in = impl_->at(handle);
  if (in.in.is_open()) impl_->close_stdin(in);
}

void Session::stop(int handle) {
  Instance& in = impl_->at(handle);
  if (in.phase == Phase::finished) return;
  in.res.stopped = true;
  if (in.phase == Phase::waiting) {
    in.start_timer.cancel();
    in.res.spawn_error = "not started: stopped before its start";
    impl_->finish(in);
  } else if (!in.stopping) {
    impl_->begin_stop(in, Clock::now());
  }
}

bool Session::running(int handle) const {
  const Phase p = impl_->at(handle).phase;
  return p == Phase::running || p == Phase::reaped;
}
bool Session::finished(int handle) const {
  return impl_->at(handle).phase == Phase::finished;
}
int Session::pid(int handle) const {
  return impl_->at(handle).pid;
}
const ProcessResult& Session::result(int handle) const {
  return impl_->at(handle).res;
}
ProcessResult Session::take_result(int handle) {
  return std::move(impl_->at(handle).res);
}
std::size_t Session::size() const {
  return impl_->insts.size();
}

std::uint64_t Session::call_at(Clock::time_point when, std::function<void()> fn) {
  impl_->lease.clean = false;
  const std::uint64_t id = impl_->next_timer++;
  auto timer = std::make_unique<asio::steady_timer>(impl_->ioc, when);
  Impl* impl = impl_.get();
  timer->async_wait([impl, id, fn = std::move(fn)](boost::system::error_code ec) {
    if (ec) return;
    auto it = impl->timers.find(id);
    if (it == impl->timers.end()) return;
    const auto keep = std::move(it->second);  // the timer outlives its own handler
    impl->timers.erase(it);
    fn();
  });
  impl_->timers.emplace(id, std::move(timer));
  return id;
}

void Session::cancel_timer(std::uint64_t id) {
  auto it = impl_->timers.find(id);
  if (it == impl_->timers.end()) return;
  it->second->cancel();
  impl_->timers.erase(it);
}

void Session::on_cancel(std::function<void()> fn) {
  impl_->cancel_hook = std::move(fn);
}

void Session::run() {
  impl_->lease.clean = false;
  impl_->ioc.restart();
  impl_->ioc.run();
  // run() returns only when no work is left: no handler of this session can reach the loop's
  // next user.
  impl_->lease.clean = true;
}

// ---- Supervisor ---------------------------------------------------------------------------

namespace {

std::atomic<Supervisor*> g_signal_target{nullptr};

// A supervisor that goes away must not be cancelled by a late signal.
void forget_signal_target(Supervisor* self) {
  g_signal_target.compare_exchange_strong(self, nullptr);
}

}  // namespace

struct Supervisor::SavedSigpipe {
  struct sigaction old {};
};

namespace {

// Descendant tracking holds a pidfd per process and every worker three pipes: the usual soft
// limit of 1024 fds would cap a run at a few hundred processes.
void raise_fd_limit() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &rl);
  }
}

}  // namespace

Supervisor::Supervisor() : saved_sigpipe_(std::make_unique<SavedSigpipe>()) {
  raise_fd_limit();
  samplers_.push_back(std::make_unique<MemorySampler>());
  ::prctl(PR_GET_CHILD_SUBREAPER, &old_subreaper_);
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  struct sigaction ign {};
  ign.sa_handler = SIG_IGN;
  ::sigaction(SIGPIPE, &ign, &saved_sigpipe_->old);
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
}

Supervisor::~Supervisor() {
  forget_signal_target(this);
  if (wake_fd_ >= 0) ::close(wake_fd_);
  ::sigaction(SIGPIPE, &saved_sigpipe_->old, nullptr);
  ::prctl(PR_SET_CHILD_SUBREAPER, old_subreaper_);
}

std::unique_ptr<MemorySampler> Supervisor::take_sampler() {
  // Sessions on other threads share nothing but the cancel count and the eventfd; each takes a
  // sampler of its own (a sampler keeps per-process fds and is not thread-safe).
  {
    std::lock_guard<std::mutex> lock(samplers_mutex_);
    if (!samplers_.empty()) {
      auto s = std::move(samplers_.back());
      samplers_.pop_back();
      return s;
    }
  }
  return std::make_unique<MemorySampler>();
}

void Supervisor::return_sampler(std::unique_ptr<MemorySampler> sampler) {
  if (!sampler) return;
  std::lock_guard<std::mutex> lock(samplers_mutex_);
  samplers_.push_back(std::move(sampler));
}

std::unique_ptr<asio::io_context> Supervisor::take_loop() {
  {
    std::lock_guard<std::mutex> lock(samplers_mutex_);
    if (!loops_.empty()) {
      auto l = std::move(loops_.back());
      loops_.pop_back();
      return l;
    }
  }
  return std::make_unique<asio::io_context>(1);
}

void Supervisor::return_loop(std::unique_ptr<asio::io_context> loop) {
  if (!loop) return;
  std::lock_guard<std::mutex> lock(samplers_mutex_);
  loops_.push_back(std::move(loop));
}

std::vector<ProcessResult> Supervisor::run(const std::vector<ProcessSpec>& specs,
                                           ProcessObserver* observer) {
  Session session(*this);
  for (const auto& spec : specs) session.add(spec, observer);
  session.run();
  std::vector<ProcessResult> results;
  results.reserve(specs.size());
  for (std::size_t i = 0; i < specs.size(); ++i)
    results.push_back(session.take_result(static_cast<int>(i)));
  return results;
}

void Supervisor::cancel() noexcept {
  const int saved = errno;
  cancels_.fetch_add(1);
  std::uint64_t one = 1;
  if (wake_fd_ >= 0) {
    const ssize_t n = ::write(wake_fd_, &one, sizeof one);
    (void)n;
  }
  errno = saved;
}

// ---- signals ------------------------------------------------------------------------------

namespace {

extern "C" void on_cancel_signal(int) {
  if (Supervisor* s = g_signal_target.load()) s->cancel();
}

}  // namespace

void install_cancel_signals(Supervisor& supervisor) {
  g_signal_target.store(&supervisor);
  struct sigaction sa {};
  sa.sa_handler = on_cancel_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
}

void remove_cancel_signals() {
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  ::sigaction(SIGINT, &dfl, nullptr);
  ::sigaction(SIGTERM, &dfl, nullptr);
  g_signal_target.store(nullptr);
}

CancelSignals::CancelSignals(Supervisor& supervisor) {
  install_cancel_signals(supervisor);
}
CancelSignals::~CancelSignals() {
  remove_cancel_signals();
}

}  // namespace harness
