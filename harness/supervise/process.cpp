#include "harness/supervise/process.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/readable_pipe.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/writable_pipe.hpp>
#include <boost/asio/write.hpp>
#include <boost/process/v2/environment.hpp>
#include <boost/process/v2/posix/default_launcher.hpp>
#include <boost/process/v2/stdio.hpp>

#include "harness/supervise/protocol.hpp"
#include "harness/supervise/sampler.hpp"

extern char** environ;

namespace harness {
namespace {

namespace asio = boost::asio;
namespace bp = boost::process::v2;
using Clock = std::chrono::steady_clock;
using boost::system::error_code;

constexpr std::size_t kMaxEvents = 100000;
constexpr std::size_t kMaxViolations = 1000;
constexpr std::size_t kMaxSamples = 20000;  // then the timeline is thinned to every other one
// After the whole tree is gone the pipes hold at most what was written before; EOF follows at once
// unless a writer we could not attribute holds a pipe, so this only bounds that case.
constexpr auto kDrainTimeout = std::chrono::milliseconds(500);
constexpr const char* kTokenVar = "HARNESS_INSTANCE_TOKEN";

double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

std::string errno_text(int err) {
  return std::strerror(err);
}

constexpr int kPidfdIdType = 3;  // P_PIDFD (Linux 5.4); glibc 2.36's <sys/wait.h> lacks it

int pidfd_open(int pid) {
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
}
int pidfd_send(int fd, int sig) {
  return static_cast<int>(::syscall(SYS_pidfd_send_signal, fd, sig, nullptr, 0));
}

// Runs in the vfork child before exec (system calls only): own process group, default signal
// state, working directory.
struct ChildSetup {
  const char* cwd = nullptr;
  const char* const* env = nullptr;  // NULL-terminated "K=V" array

  // Boost 1.81 declares process_environment::on_setup but defines it only in src.hpp (the
  // separately compiled part), so the environment is set here.
  template <typename Launcher, typename Path, typename Argv>
  error_code on_setup(Launcher& launcher, const Path&, const Argv&) {
    if (env != nullptr) launcher.env = env;
    return {};
  }

  template <typename Launcher, typename Path, typename Argv>
  error_code on_exec_setup(Launcher&, const Path&, const Argv&) {
    if (::setpgid(0, 0) != 0) return {errno, boost::system::system_category()};
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (int sig : {SIGPIPE, SIGINT, SIGTERM}) ::sigaction(sig, &dfl, nullptr);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    if (cwd != nullptr && ::chdir(cwd) != 0) return {errno, boost::system::system_category()};
    return {};
  }
};

// Boost 1.81 has two launchers that do not fit: default_launcher fork()s, copying the harness's
// page tables and then taking copy-on-write faults (it made a /bin/true launch ~3x dearer than
// posix_spawn here); vfork_launcher calls notify_fork(fork_child) inside the vfork child, which
// re-creates the parent's epoll reactor in the shared address space. This one keeps Boost's
// initializer protocol (on_setup, on_exec_setup, on_error) and argv building, and does what
// posix_spawn does: vfork with all signals blocked, nothing but system calls in the child.
class VforkLauncher : public bp::posix::default_launcher {
 public:
  template <typename Args, typename... Inits>
  int launch(error_code& ec, const bp::filesystem::path& exe, const Args& args, Inits&&... inits) {
    auto argv = this->build_argv_(exe, args);
    ec = bp::posix::detail::on_setup(*this, exe, argv, inits...);
    if (ec) {
      bp::posix::detail::on_error(*this, exe, argv, ec, inits...);
      return -1;
    }
    const long max_fd = ::sysconf(_SC_OPEN_MAX);  // for the child, which may not call it
    sigset_t all, old;
    sigfillset(&all);
    ::pthread_sigmask(SIG_SETMASK, &all, &old);
    volatile int child_errno = 0;  // written by the child through the shared memory
    const char* path = exe.c_str();
    pid = ::vfork();
    if (pid == 0) {
      error_code cec = bp::posix::detail::on_exec_setup(*this, exe, argv, inits...);
      if (!cec) {
        // Our fds are O_CLOEXEC; others (a library's, another thread's) may not be.
        if (::syscall(SYS_close_range, 3U, ~0U, 0U) != 0) {  // before Linux 5.9, or seccomp
          for (long fd = 3; fd < max_fd; ++fd) ::close(static_cast<int>(fd));
        }
        ::execve(path, const_cast<char* const*>(argv), const_cast<char* const*>(env));
        child_errno = errno;
      } else {
        child_errno = cec.value();
      }
      ::_exit(127);  // never exit(): it would run the harness's atexit handlers
    }
    int fork_errno = errno;
    ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
    if (pid < 0) {
      ec.assign(fork_errno, boost::system::system_category());
    } else if (child_errno != 0) {
      ::waitpid(pid, nullptr, 0);
      ec.assign(child_errno, boost::system::system_category());
      pid = -1;
    }
    if (ec) bp::posix::detail::on_error(*this, exe, argv, ec, inits...);
    return pid;
  }
};

struct Fd {
  int fd = -1;
  Fd() = default;
  explicit Fd(int f) : fd(f) {}
  Fd(Fd&& o) noexcept : fd(std::exchange(o.fd, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    reset();
    fd = std::exchange(o.fd, -1);
    return *this;
  }
  ~Fd() { reset(); }
  void reset() noexcept {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
  int release() { return std::exchange(fd, -1); }
};

// A bare name is looked up on PATH like execvp; "" when not found.
std::string resolve_program(const std::string& name, const std::string& path_var, int* last_err) {
  *last_err = ENOENT;
  if (name.find('/') != std::string::npos) return name;
  std::stringstream ss(path_var.empty() ? "/usr/local/bin:/usr/bin:/bin" : path_var);
  std::string dir;
  while (std::getline(ss, dir, ':')) {
    std::string cand = (dir.empty() ? "." : dir) + "/" + name;
    if (::access(cand.c_str(), X_OK) == 0) return cand;
    if (errno == EACCES) *last_err = EACCES;
  }
  return {};
}

// Children of the harness process (all threads), from /proc/self/task/*/children.
std::vector<int> own_children() {
  std::vector<int> out;
  std::string dir = "/proc/self/task";
  std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir.c_str()), ::closedir);
  if (!d) return out;
  while (dirent* e = ::readdir(d.get())) {
    if (e->d_name[0] == '.') continue;
    std::string text;
    if (!read_proc_file((dir + "/" + e->d_name + "/children").c_str(), text)) continue;
    for (int pid : parse_children(text)) out.push_back(pid);
  }
  return out;
}

// Process group of any process, zombies included; -1 when gone.
int pgid_of(int pid) {
  std::string s;
  if (!read_proc_file(("/proc/" + std::to_string(pid) + "/stat").c_str(), s)) return -1;
  auto close = s.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream rest(s.substr(close + 2));
  std::string state;
  int ppid = 0, pgrp = -1;
  rest >> state >> ppid >> pgrp;
  return pgrp;
}

std::string environ_token(int pid) {
  std::string env;
  if (!read_proc_file(("/proc/" + std::to_string(pid) + "/environ").c_str(), env)) return {};
  const std::string prefix = std::string(kTokenVar) + "=";
  std::size_t at = 0;
  while (at < env.size()) {
    std::size_t end = env.find('\0', at);
    if (end == std::string::npos) end = env.size();
    if (env.compare(at, prefix.size(), prefix) == 0) {
      return env.substr(at + prefix.size(), end - at - prefix.size());
    }
    at = end + 1;
  }
  return {};
}

// Reaps a dead descendant if it was reparented to us, through its pidfd: waiting by pid number
// could reap an unrelated child of another batch that got the number after this one was reaped
// elsewhere.
struct Tracked;
void reap_if_ours(const Tracked& t);

struct Tracked {
  Fd pidfd;
  std::unique_ptr<asio::posix::stream_descriptor> watch;
  bool dead = false;
  bool sent_kill = false;
};

void reap_if_ours(const Tracked& t) {
  siginfo_t info{};
  ::waitid(static_cast<idtype_t>(kPidfdIdType), static_cast<id_t>(t.pidfd.fd), &info,
           WEXITED | WNOHANG);
}

class Batch;

struct Instance {
  Instance(asio::io_context& ioc, int i, const ProcessSpec& s)
      : index(i),
        spec(s),
        start_timer(ioc),
        deadline_timer(ioc),
        grace_timer(ioc),
        drain_timer(ioc),
        sample_timer(ioc),
        out(ioc),
        err(ioc),
        in(ioc) {
    res.index = i;
    res.argv = s.argv;
  }
  ~Instance() {
    // Only reached with live processes when run() unwinds from an exception: leave nothing.
    if (pid > 0 && !root_reaped) {
      ::kill(-pid, SIGKILL);
      for (auto& [p, t] : known)
        if (!t.dead) pidfd_send(t.pidfd.fd, SIGKILL);
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  }

  int index;
  const ProcessSpec& spec;
  ProcessResult res;
  std::string token;
  asio::steady_timer start_timer, deadline_timer, grace_timer, drain_timer, sample_timer;
  asio::readable_pipe out, err;
  asio::writable_pipe in;
  std::unique_ptr<asio::posix::stream_descriptor> root_watch;
  Fd root_pidfd;
  int pid = -1;
  Clock::time_point spawn_time;
  std::map<int, Tracked> known;  // descendants ever seen, root excluded
  bool started = false, root_reaped = false, finished = false;
  bool out_open = false, err_open = false;
  bool killing = false, sigkill_sent = false, tree_gone = false;
  std::optional<Clock::time_point> kill_ref;
  Clock::time_point last_smaps{};
  bool have_smaps = false;
  static constexpr std::size_t kReadChunk = 64 * 1024;
  // Uninitialised and below malloc's mmap threshold: no memset, no fresh pages per launch.
  std::unique_ptr<char[]> out_buf{new char[kReadChunk]}, err_buf{new char[kReadChunk]};
  std::string line;
  bool line_overlong = false;
  std::size_t line_bytes = 0;
  std::size_t sample_stride = 1, sample_skip = 0;
};

class Batch {
 public:
  Batch(std::atomic<bool>& cancelled, int wake_fd, MemorySampler& sampler,
        const std::vector<ProcessSpec>& specs, ProcessObserver* obs)
      : cancelled_(cancelled), wake_(ioc_), obs_(obs), sampler_(sampler) {
    static std::atomic<unsigned> batch_seq{0};
    unsigned seq = ++batch_seq;
    for (std::size_t i = 0; i < specs.size(); ++i) {
      insts_.push_back(std::make_unique<Instance>(ioc_, static_cast<int>(i), specs[i]));
      insts_.back()->token =
          std::to_string(::getpid()) + "." + std::to_string(seq) + "." + std::to_string(i);
    }
    int dup = ::fcntl(wake_fd, F_DUPFD_CLOEXEC, 0);
    if (dup < 0) {  // out of fds: a batch that cannot see cancel() must not run
      throw std::system_error(errno, std::generic_category(),
                              "cannot watch for cancellation (dup of the eventfd)");
    }
    wake_.assign(dup);
  }

  std::vector<ProcessResult> run() {
    batch_start_ = Clock::now();
    remaining_ = insts_.size();
    for (auto& ip : insts_) {
      Instance& in = *ip;
      in.start_timer.expires_at(batch_start_ + in.spec.start_delay);
      in.start_timer.async_wait([this, &in](error_code ec) {
        // A cancel handled in the same round as the expiry finished the instance after this
        // handler was queued: cancelling the timer then no longer turns it into an error.
        if (!ec && !in.finished) start(in);
      });
    }
    if (wake_.is_open() && remaining_ > 0) arm_wake();
    if (cancelled_.load()) cancel_all();
    ioc_.run();
    std::vector<ProcessResult> out;
    for (auto& ip : insts_) out.push_back(std::move(ip->res));
    return out;
  }

 private:
  void arm_wake() {
    // Only cancel() writes the eventfd, after setting the flag, and cancelling is sticky: the
    // count is never read back, so the fd stays readable and wakes every batch that runs at the
    // same time on other threads (--jobs), not only the first to read it.
    wake_.async_wait(asio::posix::descriptor_base::wait_read, [this](error_code ec) {
      if (ec) return;
      if (cancelled_.load()) cancel_all();
    });
  }

  void cancel_all() {
    for (auto& ip : insts_) {
      Instance& in = *ip;
      if (in.finished) continue;
      in.res.cancelled = true;
      if (!in.started) {
        in.start_timer.cancel();
        in.res.spawn_error = "not started: the run was cancelled";
        finish(in);
        continue;
      }
      if (!in.killing) begin_kill(in, Clock::now());
    }
  }

  // ---- spawn ----------------------------------------------------------------------------

  void start(Instance& in) {
    in.started = true;
    in.res.spawn_offset_ms = ms_between(batch_start_, Clock::now());
    std::string error = spawn(in);
    if (!error.empty()) {
      in.res.spawn_error = error;
      finish(in);
      return;
    }
    if (obs_) obs_->on_start(in.index, in.pid);
    read_stream(in, true);
    read_stream(in, false);
    if (in.in.is_open()) {
      if (in.spec.stdin_data->empty()) {
        in.in.close();
      } else {
        asio::async_write(in.in, asio::buffer(*in.spec.stdin_data), [&in](error_code, std::size_t) {
          error_code ignored;
          in.in.close(ignored);
        });
      }
    }
    in.root_watch->async_wait(asio::posix::descriptor_base::wait_read, [this, &in](error_code ec) {
      if (!ec) on_root_exit(in);
    });
    if (in.spec.timeout.count() > 0) {
      in.deadline_timer.expires_at(in.spawn_time + in.spec.timeout);
      in.deadline_timer.async_wait([this, &in](error_code ec) {
        if (ec || in.killing || in.root_reaped) return;
        in.res.timed_out = true;
        begin_kill(in, in.spawn_time + in.spec.timeout);
      });
    }
    take_sample(in, false);
    schedule_sample(in);
    if (cancelled_.load() && !in.killing) {
      in.res.cancelled = true;
      begin_kill(in, Clock::now());
    }
  }

  // Returns "" or why the program could not be started.
  std::string spawn(Instance& in) {
    const ProcessSpec& s = in.spec;
    if (s.argv.empty() || s.argv[0].empty()) return "cannot run an empty command";
    std::map<std::string, std::string> env;
    for (char** e = environ; e && *e; ++e) {
      std::string_view kv(*e);
      auto eq = kv.find('=');
      if (eq == std::string_view::npos) continue;
      env.emplace(std::string(kv.substr(0, eq)), std::string(kv.substr(eq + 1)));
    }
    for (const auto& [k, v] : s.env) env[k] = v;
    env[kTokenVar] = in.token;
    std::vector<std::string> env_strings;
    for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
    std::vector<const char*> env_ptrs;
    for (const auto& e : env_strings) env_ptrs.push_back(e.c_str());
    env_ptrs.push_back(nullptr);

    int lookup_err = 0;
    std::string exe = resolve_program(s.argv[0], env["PATH"], &lookup_err);
    if (exe.empty())
      return "cannot run '" + s.argv[0] + "': " +
             (lookup_err == EACCES ? "permission denied for every match on PATH"
                                   : "not found on PATH") +
             " (give a full path or fix PATH)";
    if (!s.cwd.empty() && ::access(s.cwd.c_str(), X_OK) != 0)
      return "cannot run " + s.argv[0] + ": working directory " + s.cwd + ": " + errno_text(errno);

    int p_out[2], p_err[2];
    if (::pipe2(p_out, O_CLOEXEC) != 0) return "cannot create a pipe: " + errno_text(errno);
    Fd out_r(p_out[0]), out_w(p_out[1]);
    if (::pipe2(p_err, O_CLOEXEC) != 0) return "cannot create a pipe: " + errno_text(errno);
    Fd err_r(p_err[0]), err_w(p_err[1]);
    Fd in_child, in_parent;
    if (s.stdin_data) {
      int p_in[2];
      if (::pipe2(p_in, O_CLOEXEC) != 0) return "cannot create a pipe: " + errno_text(errno);
      in_child = Fd(p_in[0]);
      in_parent = Fd(p_in[1]);
    } else {
      in_child = Fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
      if (in_child.fd < 0) return "cannot open /dev/null: " + errno_text(errno);
    }

    std::vector<std::string> args(s.argv.begin() + 1, s.argv.end());
    ChildSetup setup;
    setup.cwd = s.cwd.empty() ? nullptr : s.cwd.c_str();
    setup.env = env_ptrs.data();
    VforkLauncher launcher;
    error_code ec;
    in.spawn_time = Clock::now();
    int pid =
        launcher.launch(ec, exe, args, bp::process_stdio{in_child.fd, out_w.fd, err_w.fd}, setup);
    if (ec) return "cannot run " + exe + ": " + ec.message();
    in.pid = pid;
    in.res.pid = in.pid;
    // Our own pidfd: Boost's wait uses waitpid, which gives no rusage (ru_maxrss).
    in.root_pidfd = Fd(pidfd_open(in.pid));
    if (in.root_pidfd.fd < 0) {
      int e = errno;
      ::kill(in.pid, SIGKILL);
      ::waitpid(in.pid, nullptr, 0);
      in.root_reaped = true;
      return "cannot watch process " + std::to_string(in.pid) + ": pidfd_open: " + errno_text(e);
    }
    int watch_fd = ::fcntl(in.root_pidfd.fd, F_DUPFD_CLOEXEC, 0);
    in.root_watch = std::make_unique<asio::posix::stream_descriptor>(ioc_, watch_fd);
    in.out.assign(out_r.release());
    in.err.assign(err_r.release());
    in.out_open = in.err_open = true;
    if (in_parent.fd >= 0) in.in.assign(in_parent.release());
    return {};
  }

  // ---- output ---------------------------------------------------------------------------

  void read_stream(Instance& in, bool is_out) {
    auto& pipe = is_out ? in.out : in.err;
    auto& buf = is_out ? in.out_buf : in.err_buf;
    pipe.async_read_some(asio::buffer(buf.get(), Instance::kReadChunk),
                         [this, &in, is_out](error_code ec, std::size_t n) {
                           if (n > 0)
                             consume(in, is_out,
                                     std::string_view((is_out ? in.out_buf : in.err_buf).get(), n));
                           if (ec) {
                             stream_closed(in, is_out);
                             return;
                           }
                           read_stream(in, is_out);
                         });
  }

  void stream_closed(Instance& in, bool is_out) {
    bool& open = is_out ? in.out_open : in.err_open;
    if (!open) return;
    open = false;
    error_code ignored;
    (is_out ? in.out : in.err).close(ignored);
    if (is_out && (in.line_bytes > 0)) end_line(in);
    maybe_finish(in);
  }

  void consume(Instance& in, bool is_out, std::string_view data) {
    StreamCapture& cap = is_out ? in.res.out : in.res.err;
    cap.bytes += data.size();
    cap.tail.append(data.size() > in.spec.tail_bytes ? data.substr(data.size() - in.spec.tail_bytes)
                                                     : data);
    if (cap.tail.size() > 2 * in.spec.tail_bytes)
      cap.tail.erase(0, cap.tail.size() - in.spec.tail_bytes);
    if (!is_out) {
      cap.lines += static_cast<std::uint64_t>(std::count(data.begin(), data.end(), '\n'));
      return;
    }
    while (!data.empty()) {
      auto nl = data.find('\n');
      std::string_view part = data.substr(0, nl);
      in.line_bytes += part.size();
      if (!in.line_overlong) {
        if (in.line.size() + part.size() > kMaxLineBytes) {
          in.line.append(part.substr(0, kMaxLineBytes - in.line.size()));
          in.line_overlong = true;
        } else {
          in.line.append(part);
        }
      }
      if (nl == std::string_view::npos) break;
      data.remove_prefix(nl + 1);
      end_line(in);
    }
  }

  void end_line(Instance& in) {
    ++in.res.out.lines;
    if (in.line_overlong) {
      if (looks_like_event(in.line))
        add_violation(in, "event line of " + std::to_string(in.line_bytes) +
                              " bytes is longer than the " + std::to_string(kMaxLineBytes) +
                              " byte limit: " + excerpt(in.line));
    } else {
      ParsedLine p = parse_protocol_line(in.line);
      if (p.kind == ParsedLine::Kind::violation) {
        add_violation(in, std::move(p.violation));
      } else if (p.kind == ParsedLine::Kind::event) {
        p.event.t_ms = ms_between(in.spawn_time, Clock::now());
        on_event(in, std::move(p.event));
      }
    }
    in.line.clear();
    in.line_overlong = false;
    in.line_bytes = 0;
  }

  void add_violation(Instance& in, std::string v) {
    auto& vs = in.res.protocol_violations;
    if (vs.size() < kMaxViolations) vs.push_back(std::move(v));
    if (vs.size() == kMaxViolations) vs.back() = "more violations not recorded";
  }

  void on_event(Instance& in, Event ev) {
    if (in.res.events.size() >= kMaxEvents) {
      add_violation(in, "more than " + std::to_string(kMaxEvents) + " events; rest dropped");
      return;
    }
    const bool alive = !in.root_reaped;
    auto& m = in.res.memory;
    if (ev.type == "started" && alive && m.baseline_rss_kib < 0 && !in.res.ready_ms) {
      // A worker says `started` once its runtime is up and before it loads the model: the
      // baseline taken here makes "memory added by loading the model" exactly that.
      m.baseline_rss_kib = take_sample(in, false).rss_kib;
    } else if (ev.type == "ready" && !in.res.ready_ms) {
      in.res.ready_ms = ev.t_ms;
      if (m.baseline_rss_kib < 0 && !m.samples.empty())
        m.baseline_rss_kib = m.samples.back().rss_kib;
      if (alive) {
        MemorySample s = take_sample(in, true);
        m.ready_rss_kib = s.rss_kib;
        m.ready_pss_kib = s.pss_kib;
        m.ready_uss_kib = s.uss_kib;
      }
    } else if (ev.type == "result" && alive) {
      take_sample(in, true);
    }
    in.res.events.push_back(std::move(ev));
    if (obs_) obs_->on_event(in.index, in.res.events.back());
  }

  // ---- memory ---------------------------------------------------------------------------

  void schedule_sample(Instance& in) {
    in.sample_timer.expires_after(std::max(in.spec.sample_interval, std::chrono::milliseconds(1)));
    in.sample_timer.async_wait([this, &in](error_code ec) {
      if (ec || in.root_reaped) return;
      bool smaps = in.spec.smaps_interval.count() > 0 &&
                   Clock::now() - in.last_smaps >= in.spec.smaps_interval;
      take_sample(in, smaps);
      schedule_sample(in);
    });
  }

  // The live tree of the root plus escaped descendants still alive; registers new ones.
  std::vector<int> refresh_tree(Instance& in) {
    std::vector<int> pids;
    if (!in.root_reaped) pids = process_tree(in.pid);
    std::set<int> seen(pids.begin(), pids.end());
    for (int p : pids)
      if (p != in.pid) track(in, p);
    // Escaped subtrees (their parent died; reparented to us) are not under the root any more.
    std::vector<int> roots;
    for (auto& [p, t] : in.known)
      if (!t.dead && !seen.count(p)) roots.push_back(p);
    for (int r : roots) {
      if (seen.count(r)) continue;
      for (int p : process_tree(r)) {
        if (seen.insert(p).second) pids.push_back(p);
        track(in, p);
      }
    }
    return pids;
  }

  MemorySample take_sample(Instance& in, bool with_smaps) {
    std::vector<int> pids = refresh_tree(in);
    MemorySample s;
    if (!pids.empty()) s = sampler_.sample(pids, with_smaps);
    s.t_ms = ms_between(in.spawn_time, Clock::now());
    auto& m = in.res.memory;
    if (with_smaps) {
      in.last_smaps = Clock::now();
      // A zombie (exited, not yet reaped) reads as 0: keep the last real figures then.
      if (s.pss_kib > 0) {
        m.final_pss_kib = s.pss_kib;
        m.final_uss_kib = s.uss_kib;
        m.peak_pss_kib = std::max(m.peak_pss_kib, s.pss_kib);
        m.peak_uss_kib = std::max(m.peak_uss_kib, s.uss_kib);
      }
      m.hwm_kib = std::max(m.hwm_kib, vm_hwm_kib(in.pid));
    }
    if (pids.empty()) return s;
    m.peak_rss_kib = std::max(m.peak_rss_kib, s.rss_kib);
    // Long runs: keep the timeline bounded by thinning it, peaks stay exact.
    if (in.sample_skip++ % in.sample_stride == 0 || with_smaps) m.samples.push_back(s);
    if (m.samples.size() >= kMaxSamples) {
      std::vector<MemorySample> thin;
      for (std::size_t i = 0; i < m.samples.size(); i += 2) thin.push_back(m.samples[i]);
      m.samples = std::move(thin);
      in.sample_stride *= 2;
    }
    return s;
  }

  // ---- process tree ---------------------------------------------------------------------

  void track(Instance& in, int pid) {
    if (pid == in.pid || in.known.count(pid)) return;
    Fd fd(pidfd_open(pid));
    if (fd.fd < 0) return;  // already gone
    Tracked& t = in.known[pid];
    t.pidfd = std::move(fd);
    t.watch = std::make_unique<asio::posix::stream_descriptor>(
        ioc_, ::fcntl(t.pidfd.fd, F_DUPFD_CLOEXEC, 0));
    t.watch->async_wait(asio::posix::descriptor_base::wait_read, [this, &in, pid](error_code ec) {
      if (ec) return;
      auto it = in.known.find(pid);
      if (it == in.known.end()) return;
      it->second.dead = true;
      reap_if_ours(it->second);
      check_tree_gone(in);
    });
  }

  // Children of the harness that are not roots: orphans reparented to the subreaper. Each
  // belongs to the instance whose process group or token it carries.
  void adopt_orphans() {
    std::set<int> roots;
    for (auto& ip : insts_)
      if (ip->pid > 0) roots.insert(ip->pid);
    for (int child : own_children()) {
      if (roots.count(child)) continue;
      bool is_known = false;
      for (auto& ip : insts_) is_known = is_known || ip->known.count(child);
      if (is_known) continue;
      int pg = pgid_of(child);
      std::string tok;
      for (auto& ip : insts_) {
        Instance& in = *ip;
        if (!in.started || in.finished || in.pid <= 0) continue;
        bool mine = pg == in.pid;
        if (!mine) {
          if (tok.empty()) tok = environ_token(child);
          mine = tok == in.token;
        }
        if (mine) {
          track(in, child);
          for (int p : process_tree(child)) track(in, p);
          break;
        }
      }
    }
  }

  void signal_tree(Instance& in, int sig) {
    refresh_tree(in);
    adopt_orphans();
    if (!in.root_reaped) {
      ::kill(-in.pid, sig);
      pidfd_send(in.root_pidfd.fd, sig);
    }
    for (auto& [p, t] : in.known) {
      if (t.dead || t.sent_kill) continue;
      pidfd_send(t.pidfd.fd, sig);
      if (sig == SIGKILL) t.sent_kill = true;
    }
    if (sig == SIGKILL) in.sigkill_sent = true;
  }

  void begin_kill(Instance& in, Clock::time_point ref) {
    in.killing = true;
    in.kill_ref = ref;
    in.res.kill_signal = "SIGTERM";
    signal_tree(in, SIGTERM);
    in.grace_timer.expires_at(ref + in.spec.grace);
    in.grace_timer.async_wait([this, &in](error_code ec) {
      if (ec || in.finished) return;
      in.kill_ref = *in.kill_ref + in.spec.grace;
      in.res.kill_signal = "SIGKILL";
      signal_tree(in, SIGKILL);
    });
  }

  void on_root_exit(Instance& in) {
    int status = 0;
    rusage ru{};
    int r = ::wait4(in.pid, &status, WNOHANG, &ru);
    if (r == 0) {  // not yet a zombie (spurious wakeup): wait again
      in.root_watch->async_wait(asio::posix::descriptor_base::wait_read,
                                [this, &in](error_code ec) {
                                  if (!ec) on_root_exit(in);
                                });
      return;
    }
    auto now = Clock::now();
    in.root_reaped = true;
    in.res.wall_s = ms_between(in.spawn_time, now) / 1000.0;
    if (r == in.pid) {
      if (WIFEXITED(status)) in.res.exit_code = WEXITSTATUS(status);
      if (WIFSIGNALED(status)) in.res.signal = WTERMSIG(status);
      in.res.memory.maxrss_kib = ru.ru_maxrss;  // KiB on Linux
    } else {
      in.res.spawn_error =
          "lost track of process " + std::to_string(in.pid) + ": wait4: " + errno_text(errno);
    }
    in.sample_timer.cancel();
    in.deadline_timer.cancel();
    // What is still alive now outlived its root: find it all and kill it.
    refresh_tree(in);
    adopt_orphans();
    kill_leftovers(in);
    check_tree_gone(in);
  }

  void kill_leftovers(Instance& in) {
    for (auto& [p, t] : in.known) {
      if (t.dead || t.sent_kill) continue;
      if (pidfd_send(t.pidfd.fd, SIGKILL) == 0) {
        ++in.res.leftover_processes;
        t.sent_kill = true;
        if (in.killing) in.res.kill_signal = "SIGKILL";
      }
    }
  }

  void check_tree_gone(Instance& in) {
    if (!in.root_reaped || in.finished || in.tree_gone) return;
    for (auto& [p, t] : in.known)
      if (!t.dead) return;
    // Last look for stragglers forked just before their parents died.
    std::size_t before = in.known.size();
    adopt_orphans();
    if (in.known.size() != before) {
      kill_leftovers(in);
      for (auto& [p, t] : in.known)
        if (!t.dead) return;
    }
    for (auto& [p, t] : in.known) reap_if_ours(t);
    if (in.kill_ref) in.res.kill_latency_ms = ms_between(*in.kill_ref, Clock::now());
    in.grace_timer.cancel();
    for (auto& [p, t] : in.known) {
      error_code ignored;
      t.watch->close(ignored);
    }
    error_code ignored;
    in.root_watch->close(ignored);
    in.tree_gone = true;
    // Every writer we know of is dead, so the reads reach EOF right after what the pipes hold.
    // A writer beyond reach (it cleared its environment and left the group) must not keep us:
    // after kDrainTimeout the pipes are closed.
    if (in.out_open || in.err_open) {
      in.drain_timer.expires_after(kDrainTimeout);
      in.drain_timer.async_wait([this, &in](error_code ec) {
        if (ec) return;
        stream_closed(in, true);
        stream_closed(in, false);
      });
    }
    maybe_finish(in);
  }

  void maybe_finish(Instance& in) {
    if (in.finished || in.out_open || in.err_open) return;
    if (in.pid > 0 && !in.tree_gone) return;
    finish(in);
  }

  void finish(Instance& in) {
    in.finished = true;
    error_code ignored;
    in.in.close(ignored);
    in.sample_timer.cancel();
    in.deadline_timer.cancel();
    in.grace_timer.cancel();
    in.drain_timer.cancel();
    for (StreamCapture* c : {&in.res.out, &in.res.err}) {
      if (c->tail.size() > in.spec.tail_bytes)
        c->tail.erase(0, c->tail.size() - in.spec.tail_bytes);
      c->truncated = c->bytes > c->tail.size();
    }
    auto& m = in.res.memory;
    if (m.baseline_rss_kib < 0 && !m.samples.empty())
      m.baseline_rss_kib = m.samples.front().rss_kib;
    m.hwm_kib = std::max(m.hwm_kib, m.maxrss_kib);
    m.peak_rss_kib = std::max(m.peak_rss_kib, m.hwm_kib);
    if (obs_) obs_->on_exit(in.index, in.res);
    if (--remaining_ == 0) {
      error_code ig;
      wake_.close(ig);
    }
  }

  std::atomic<bool>& cancelled_;
  asio::io_context ioc_;
  asio::posix::stream_descriptor wake_;
  ProcessObserver* obs_;
  MemorySampler& sampler_;
  Clock::time_point batch_start_;
  std::size_t remaining_ = 0;
  std::vector<std::unique_ptr<Instance>> insts_;  // after ioc_: destroyed before it
};

std::atomic<Supervisor*> g_signal_target{nullptr};

extern "C" void on_cancel_signal(int) {
  if (Supervisor* s = g_signal_target.load()) s->cancel();
}

}  // namespace

struct Supervisor::SavedSigpipe {
  struct sigaction old {};
};

Supervisor::Supervisor() : saved_sigpipe_(std::make_unique<SavedSigpipe>()) {
  samplers_.push_back(std::make_unique<MemorySampler>());
  ::prctl(PR_GET_CHILD_SUBREAPER, &old_subreaper_);
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  struct sigaction ign {};
  ign.sa_handler = SIG_IGN;
  ::sigaction(SIGPIPE, &ign, &saved_sigpipe_->old);
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
}

Supervisor::~Supervisor() {
  Supervisor* self = this;
  g_signal_target.compare_exchange_strong(self, nullptr);
  if (wake_fd_ >= 0) ::close(wake_fd_);
  ::sigaction(SIGPIPE, &saved_sigpipe_->old, nullptr);
  ::prctl(PR_SET_CHILD_SUBREAPER, old_subreaper_);
}

std::vector<ProcessResult> Supervisor::run(const std::vector<ProcessSpec>& specs,
                                           ProcessObserver* observer) {
  // Batches on other threads share nothing but the cancel flag and the eventfd; each takes a
  // sampler of its own (a sampler keeps per-process fds and is not thread-safe).
  std::unique_ptr<MemorySampler> sampler;
  {
    std::lock_guard<std::mutex> lock(samplers_mutex_);
    if (!samplers_.empty()) {
      sampler = std::move(samplers_.back());
      samplers_.pop_back();
    }
  }
  if (!sampler) sampler = std::make_unique<MemorySampler>();
  std::vector<ProcessResult> results;
  {
    Batch batch(cancelled_, wake_fd_, *sampler, specs, observer);
    results = batch.run();
  }
  std::lock_guard<std::mutex> lock(samplers_mutex_);
  samplers_.push_back(std::move(sampler));
  return results;
}

void Supervisor::cancel() noexcept {
  int saved = errno;
  cancelled_.store(true);
  std::uint64_t one = 1;
  if (wake_fd_ >= 0) {
    ssize_t n = ::write(wake_fd_, &one, sizeof one);
    (void)n;
  }
  errno = saved;
}

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

}  // namespace harness
