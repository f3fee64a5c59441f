#pragma once
// The descendants of one worker, as the supervisor knows them: every process ever seen under the
// root (or adopted after it escaped the group and was reparented to the harness), each with a
// pidfd that tells when it dies and signals it without a pid-reuse race. Internal to supervise:
// it lives on the session's event loop.
//
// Past the harness's pidfd budget (half the fd limit, less a reserve), a process is tracked by pid
// number and start time instead, once its token says it is ours: its death is noticed by poll()
// (on the sampling tick), and a signal goes to it only while its pid still shows that start
// time, so a reused pid is never signalled.

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

namespace harness {

class ProcessTree {
 public:
  // on_death is called on the loop whenever a tracked descendant died.
  ProcessTree(boost::asio::io_context& ioc, std::string token, std::function<void()> on_death);
  ~ProcessTree();
  ProcessTree(const ProcessTree&) = delete;
  ProcessTree& operator=(const ProcessTree&) = delete;

  void set_root(int pid) { root_ = pid; }
  // The live tree of the root (when alive) plus escaped subtrees still alive, root first;
  // tracks every new descendant.
  std::vector<int> refresh(bool root_alive);
  // Tracks `pid` and its live subtree (an orphan adopted by the session).
  void adopt(int pid);
  bool knows(int pid) const { return pid == root_ || procs_.count(pid) > 0; }

  // Sends `sig` to every live tracked descendant (the root is the caller's).
  void signal_all(int sig);
  // SIGKILL to live descendants never sent one; returns how many were killed.
  int kill_unkilled();
  // Checks fd-less processes for death; true when one died.
  bool poll();
  bool has_fdless() const;
  bool all_dead() const;
  std::size_t size() const { return procs_.size(); }
  // User and system CPU, ms, of the descendants the harness reaped itself (orphans reparented to
  // it), their waited-for children included: what the root's rusage does not hold.
  double reaped_user_ms() const { return reaped_user_ms_; }
  double reaped_system_ms() const { return reaped_system_ms_; }
  // Reaps what was reparented to us and stops watching (before the loop goes away).
  void close();

 private:
  struct Proc;
  void track(int pid);
  bool still_ours(int pid) const;
  bool same_live(const Proc& p) const;
  void died(Proc& p);
  void reap(Proc& p);

  boost::asio::io_context& ioc_;
  std::string token_;
  std::function<void()> on_death_;
  int root_ = -1;
  std::map<int, std::unique_ptr<Proc>> procs_;  // descendants ever seen, root excluded
  double reaped_user_ms_ = 0, reaped_system_ms_ = 0;
};

// The fields of /proc/PID/stat the tree needs; state 0 when the process is gone.
struct ProcStat {
  char state = 0;
  int ppid = 0;
  int pgrp = -1;
  unsigned long long start_time = 0;  // clock ticks after boot
};
ProcStat proc_stat(int pid);

// Children of the harness process (all threads), from /proc/self/task/*/children.
std::vector<int> own_children();
// Process group of any process, zombies included; -1 when gone.
int pgid_of(int pid);
// The instance token in /proc/PID/environ; "" when unreadable or absent.
std::string environ_token(int pid);

}  // namespace harness
