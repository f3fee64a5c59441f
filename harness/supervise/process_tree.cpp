#include "harness/supervise/process_tree.hpp"

#include <dirent.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <set>

#include "harness/supervise/fd.hpp"
#include "harness/supervise/launcher.hpp"
#include "harness/supervise/sampler.hpp"

namespace harness {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

// Pidfds held by all trees of the harness. Past the budget new descendants are tracked by pid and
// token, so the fds that reading /proc, pipes and reports need are never used up by a worker
// that forks hundreds of daemons.
std::atomic<long> g_pidfds{0};
constexpr long kFdReserve = 256;

bool pidfd_allowed() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return true;
  const long limit = rl.rlim_cur == RLIM_INFINITY ? (1L << 20) : static_cast<long>(rl.rlim_cur);
  return g_pidfds.load() < std::max(16L, limit / 2 - kFdReserve);
}

}  // namespace

struct ProcessTree::Proc {
  int pid = 0;
  // Owns the pidfd (one fd per process: it both watches for death and signals); null when no fd
  // was left and the process is tracked by pid and token.
  std::unique_ptr<asio::posix::stream_descriptor> watch;
  bool dead = false;
  bool sent_kill = false;
  unsigned long long start_time = 0;  // fd-less only: identifies the process behind the pid
  int fd() const { return watch ? watch->native_handle() : -1; }
};

ProcessTree::ProcessTree(asio::io_context& ioc, std::string token, std::function<void()> on_death)
    : ioc_(ioc), token_(std::move(token)), on_death_(std::move(on_death)) {}

ProcessTree::~ProcessTree() {
  // Only reached with live processes when the session unwinds from an exception: leave nothing,
  // not even a zombie (SIGKILL is delivered asynchronously, so wait for each death, bounded).
  for (auto& [pid, p] : procs_)
    if (!p->dead) {
      if (p->watch)
        pidfd_send(p->fd(), SIGKILL);
      else if (same_live(*p))
        ::kill(pid, SIGKILL);
    }
  for (auto& [pid, p] : procs_) {
    if (p->dead || !p->watch) continue;
    pollfd fd{p->fd(), POLLIN, 0};
    ::poll(&fd, 1, 1000);
  }
  close();
}

void ProcessTree::track(int pid) {
  if (pid == root_ || procs_.count(pid)) return;
  int fd = -1;
  if (pidfd_allowed()) {
    fd = pidfd_open(pid);
    if (fd < 0 && errno == ESRCH) return;  // already gone
    if (fd >= 0) ++g_pidfds;
  }
  auto p = std::make_unique<Proc>();
  p->pid = pid;
  Proc* raw = p.get();
  if (fd >= 0) {
    p->watch = std::make_unique<asio::posix::stream_descriptor>(ioc_, fd);
    p->watch->async_wait(asio::posix::descriptor_base::wait_read, [this, raw](error_code ec) {
      if (!ec) died(*raw);
    });
  } else {
    // Out of fds: the process is tracked by pid and start time, once its token says it is ours.
    p->start_time = proc_stat(pid).start_time;
    if (p->start_time == 0 || !still_ours(pid)) return;
  }
  procs_.emplace(pid, std::move(p));
}

namespace {
double tv_ms(const timeval& tv) {
  return static_cast<double>(tv.tv_sec) * 1e3 + static_cast<double>(tv.tv_usec) / 1e3;
}
}  // namespace

void ProcessTree::died(Proc& p) {
  if (p.dead) return;
  p.dead = true;
  if (p.watch) reap(p);
  if (on_death_) on_death_();
}

void ProcessTree::reap(Proc& p) {
  rusage ru{};
  if (!reap_pidfd(p.fd(), &ru)) return;  // not ours to reap: its parent in the tree was
  reaped_user_ms_ += tv_ms(ru.ru_utime);
  reaped_system_ms_ += tv_ms(ru.ru_stime);
}

bool ProcessTree::still_ours(int pid) const {
  return environ_token(pid) == token_;
}

bool ProcessTree::same_live(const Proc& p) const {
  const ProcStat st = proc_stat(p.pid);
  return st.start_time == p.start_time && st.state != 'Z';
}

std::vector<int> ProcessTree::refresh(bool root_alive) {
  std::vector<int> pids;
  if (root_alive) pids = process_tree(root_);
  std::set<int> seen(pids.begin(), pids.end());
  for (int p : pids)
    if (p != root_) track(p);
  // Escaped subtrees (their parent died; reparented to us) are not under the root any more.
  std::vector<int> roots;
  for (auto& [pid, p] : procs_)
    if (!p->dead && !seen.count(pid)) roots.push_back(pid);
  for (int r : roots) {
    if (seen.count(r)) continue;
    for (int p : process_tree(r)) {
      if (seen.insert(p).second) pids.push_back(p);
      track(p);
    }
  }
  return pids;
}

void ProcessTree::adopt(int pid) {
  track(pid);
  for (int p : process_tree(pid)) track(p);
}

void ProcessTree::signal_all(int sig) {
  for (auto& [pid, p] : procs_) {
    if (p->dead || p->sent_kill) continue;
    if (p->watch)
      pidfd_send(p->fd(), sig);
    else if (same_live(*p))
      ::kill(pid, sig);
    if (sig == SIGKILL) p->sent_kill = true;
  }
}

int ProcessTree::kill_unkilled() {
  int killed = 0;
  for (auto& [pid, p] : procs_) {
    if (p->dead || p->sent_kill) continue;
    const bool sent =
        p->watch ? pidfd_send(p->fd(), SIGKILL) == 0 : same_live(*p) && ::kill(pid, SIGKILL) == 0;
    p->sent_kill = true;
    if (sent) ++killed;
  }
  return killed;
}

// An fd-less process is the same process as long as its pid shows the start time it had when
// it was tracked: a pid reused by another process has a later one. A zombie of ours with that
// start time is exactly the process we tracked, so reaping it by pid is safe.
bool ProcessTree::poll() {
  bool any = false;
  for (auto& [pid, p] : procs_) {
    if (p->dead || p->watch) continue;
    const ProcStat st = proc_stat(pid);
    if (st.start_time == p->start_time && st.state != 'Z') continue;  // still running
    p->dead = true;
    any = true;
    rusage ru{};
    if (st.start_time == p->start_time && st.ppid == ::getpid() &&
        ::wait4(pid, nullptr, WNOHANG, &ru) == pid) {
      reaped_user_ms_ += tv_ms(ru.ru_utime);
      reaped_system_ms_ += tv_ms(ru.ru_stime);
    }
  }
  if (any && on_death_) on_death_();
  return any;
}

bool ProcessTree::has_fdless() const {
  for (const auto& [pid, p] : procs_)
    if (!p->dead && !p->watch) return true;
  return false;
}

bool ProcessTree::all_dead() const {
  for (const auto& [pid, p] : procs_)
    if (!p->dead) return false;
  return true;
}

void ProcessTree::close() {
  for (auto& [pid, p] : procs_) {
    if (!p->watch) continue;
    reap(*p);
    error_code ignored;
    p->watch->close(ignored);
    p->watch.reset();
    --g_pidfds;
  }
}

std::vector<int> own_children() {
  std::vector<int> out;
  const std::string dir = "/proc/self/task";
  std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir.c_str()), ::closedir);
  if (!d) return out;
  std::string text;
  while (dirent* e = ::readdir(d.get())) {
    if (e->d_name[0] == '.') continue;
    if (!read_proc_file((dir + "/" + e->d_name + "/children").c_str(), text)) continue;
    for (int pid : parse_children(text)) out.push_back(pid);
  }
  return out;
}

ProcStat proc_stat(int pid) {
  ProcStat out;
  std::string s;
  if (!read_proc_file(("/proc/" + std::to_string(pid) + "/stat").c_str(), s)) return out;
  const ProcStatLine line = parse_proc_stat(s);
  if (!line.ok) return out;
  out.state = line.state;
  out.ppid = line.ppid;
  out.pgrp = line.pgrp;
  out.start_time = line.start_time;
  return out;
}

int pgid_of(int pid) {
  const ProcStat st = proc_stat(pid);
  return st.state == 0 ? -1 : st.pgrp;
}

std::string environ_token(int pid) {
  std::string env;
  if (!read_proc_file(("/proc/" + std::to_string(pid) + "/environ").c_str(), env)) return {};
  const std::string prefix = std::string(kTokenVar) + "=";
  std::size_t at = 0;
  while (at < env.size()) {
    std::size_t end = env.find('\0', at);
    if (end == std::string::npos) end = env.size();
    if (env.compare(at, prefix.size(), prefix) == 0)
      return env.substr(at + prefix.size(), end - at - prefix.size());
    at = end + 1;
  }
  return {};
}

}  // namespace harness
