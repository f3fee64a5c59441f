#include "harness/supervise/watchdog.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "harness/supervise/launcher.hpp"

namespace harness {
namespace {

constexpr char kQuit = 'q';
constexpr int kRounds = 5;

// Reads /proc/PID/environ into `buf` and says whether it holds `needle`.
bool environ_has(const char* pid, const char* needle, std::size_t needle_len) {
  static char buf[1 << 16];
  char path[64] = "/proc/";
  std::size_t n = 6;
  for (const char* p = pid; *p && n < sizeof path - 9; ++p) path[n++] = *p;
  std::memcpy(path + n, "/environ", 9);
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  std::size_t got = 0;
  for (;;) {
    const ssize_t r = ::read(fd, buf + got, sizeof buf - got);
    if (r <= 0) break;
    got += static_cast<std::size_t>(r);
    if (got == sizeof buf) break;
  }
  ::close(fd);
  return got >= needle_len && ::memmem(buf, got, needle, needle_len) != nullptr;
}

// One pass over /proc: SIGKILL to every process carrying the token prefix. Returns how many.
int kill_round(const char* needle, std::size_t needle_len) {
  struct linux_dirent64 {
    ino64_t d_ino;
    off64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
  };
  static char dents[1 << 15];
  const int dir = ::open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return 0;
  int killed = 0;
  const int self = static_cast<int>(::getpid());
  for (;;) {
    const long n = ::syscall(SYS_getdents64, dir, dents, sizeof dents);
    if (n <= 0) break;
    for (long off = 0; off < n;) {
      auto* d = reinterpret_cast<linux_dirent64*>(dents + off);
      off += d->d_reclen;
      if (d->d_name[0] < '0' || d->d_name[0] > '9') continue;
      int pid = 0;
      for (const char* p = d->d_name; *p >= '0' && *p <= '9'; ++p) pid = pid * 10 + (*p - '0');
      if (pid == self || pid <= 1) continue;
      if (environ_has(d->d_name, needle, needle_len) && ::kill(pid, SIGKILL) == 0) ++killed;
    }
  }
  ::close(dir);
  return killed;
}

}  // namespace

void watchdog_main(int fd, const char* token_prefix) {
  // The terminal's Ctrl-C reaches the whole process group: the harness handles it, the
  // watchdog must not die of it before the harness does.
  struct sigaction ign {};
  ign.sa_handler = SIG_IGN;
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE}) ::sigaction(sig, &ign, nullptr);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::prctl(PR_SET_NAME, "harness-watch");
  char needle[128];
  const std::size_t prefix_len = std::strlen(kTokenVar);
  std::memcpy(needle, kTokenVar, prefix_len);
  needle[prefix_len] = '=';
  std::size_t len = prefix_len + 1;
  for (const char* p = token_prefix; *p && len < sizeof needle - 1; ++p) needle[len++] = *p;
  char c = 0;
  ssize_t r;
  while ((r = ::read(fd, &c, 1)) < 0 && errno == EINTR) {
  }
  if (r == 1 && c == kQuit) ::_exit(0);
  // The harness is gone without saying goodbye: kill what it started, until nothing is left.
  for (int round = 0; round < kRounds; ++round) {
    if (kill_round(needle, len) == 0 && round > 0) break;
    const timespec pause{0, 50 * 1000 * 1000};
    ::nanosleep(&pause, nullptr);
  }
  ::_exit(0);
}

Watchdog::Watchdog() {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return;  // no watchdog: PDEATHSIG still covers the roots
  char prefix[32];
  std::snprintf(prefix, sizeof prefix, "%d.", static_cast<int>(::getpid()));
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(p[1]);
    // Only the read end stays open: the watchdog must not hold the harness's pipes or sockets.
    if (p[0] != 3) {
      ::dup2(p[0], 3);
      ::close(p[0]);
    }
    ::syscall(SYS_close_range, 4U, ~0U, 0U);
    watchdog_main(3, prefix);
  }
  ::close(p[0]);
  if (pid < 0) {
    ::close(p[1]);
    return;
  }
  pid_ = pid;
  pipe_ = p[1];
}

Watchdog::~Watchdog() {
  if (pipe_ < 0) return;
  const ssize_t n = ::write(pipe_, &kQuit, 1);
  (void)n;
  ::close(pipe_);
  ::waitpid(pid_, nullptr, 0);
}

}  // namespace harness
