#pragma once
// A small process that outlives the harness only to clean up after it. Forked when a run
// starts, it waits on a pipe whose other end only the harness holds. When the harness dies, even
// by SIGKILL, the pipe reaches EOF and the watchdog SIGKILLs every process whose environment
// carries this harness's instance token prefix (HARNESS_INSTANCE_TOKEN=<pid>.), a few rounds so
// that processes forked meanwhile go too, then exits. Worker roots also die with the harness by
// PR_SET_PDEATHSIG; the watchdog reaches what they forked, setsid daemons included.
//
// What it cannot reach: a descendant that cleared its environment (it carries no token) and left
// the process group. Only a PID namespace would hold those, which needs privileges.
//
// The child runs only system calls (no allocation): it is forked from a process that may have
// threads.

namespace harness {

class Watchdog {
 public:
  Watchdog();
  // A normal end: the watchdog is told to leave without scanning, and is reaped.
  ~Watchdog();
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  int pid() const { return pid_; }

 private:
  int pid_ = -1;
  int pipe_ = -1;  // write end; closing it without a byte means "the harness is gone"
};

// The body of the watchdog, for the forked child: waits on `fd`, then kills by token prefix.
[[noreturn]] void watchdog_main(int fd, const char* token_prefix);

}  // namespace harness
