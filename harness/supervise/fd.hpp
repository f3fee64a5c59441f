#pragma once
// Linux process primitives the supervisor is built on, in one place: a move-only file
// descriptor, and pidfds (a handle on a process that, unlike its pid number, is never reused).

#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <utility>

namespace harness {

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    reset();
    fd_ = std::exchange(o.fd_, -1);
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() { return std::exchange(fd_, -1); }
  void reset() noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

// -1 with errno set when the process is gone (ESRCH) or no fd is left (EMFILE, ENFILE).
inline int pidfd_open(int pid) {
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
}
inline int pidfd_send(int pidfd, int sig) {
  return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0));
}

// Reaps the process behind `pidfd` if it is a dead child of ours; waiting by pid number could
// reap an unrelated child that got the number after this one was reaped elsewhere. True when it
// was reaped here; then `ru` (when given) holds its rusage, its own and its waited-for
// children's. The raw waitid syscall returns that rusage; glibc's waitid() does not pass it.
inline bool reap_pidfd(int pidfd, rusage* ru = nullptr) {
  constexpr int kPidfdIdType = 3;  // P_PIDFD (Linux 5.4); glibc 2.36's <sys/wait.h> lacks it
  siginfo_t info{};
  rusage local{};
  const long r =
      ::syscall(SYS_waitid, kPidfdIdType, pidfd, &info, WEXITED | WNOHANG, ru ? ru : &local);
  return r == 0 && info.si_pid != 0;
}

}  // namespace harness
