#pragma once
// The one way tests run a program: argv (never a shell), stdin from /dev/null or from a string,
// stdout and stderr captured apart in memory files, the exit status, and a deadline after which
// the child's whole process group is killed.
//
// The child is started by posix_spawn (glibc: clone(CLONE_VM | CLONE_VFORK), then exec) from
// arguments, environment, file actions and signal settings all prepared before it exists, so
// between fork and exec only glibc's own async-signal-safe code runs: no allocation and no lock,
// however many threads the test has. Output goes to memfd files rather than pipes, so a chatty
// child can never block on a full pipe and a test may read what came so far while it runs.
// Each child leads its own process group; killing it kills what it started and did not move.

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

extern char** environ;

namespace harness::test {

struct SpawnOptions {
  std::filesystem::path cwd;              // empty: the test's own
  std::optional<std::string> stdin_text;  // nullopt: /dev/null
  // Changes to the test's environment: "NAME=VALUE" sets NAME, a bare "NAME" removes it.
  std::vector<std::string> env;
};

namespace detail {

// A file descriptor closed when it goes out of scope.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    std::swap(fd_, other.fd_);
    return *this;
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

// An anonymous in-memory file, closed on exec (the child gets its own copy by dup2).
inline Fd memory_file(const char* name) {
  const int fd = ::memfd_create(name, MFD_CLOEXEC);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "memfd_create");
  return Fd(fd);
}

inline Fd memory_file_holding(const std::string& text) {
  Fd fd = memory_file("test_process.stdin");
  if (::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size()) ||
      ::lseek(fd.get(), 0, SEEK_SET) != 0) {
    throw std::system_error(errno, std::generic_category(), "writing the child's stdin");
  }
  return fd;
}

inline std::string read_all(int fd) {
  struct stat st {};
  if (fd < 0 || ::fstat(fd, &st) != 0) return "";
  std::string text(static_cast<std::size_t>(st.st_size), '\0');
  std::size_t got = 0;
  while (got < text.size()) {
    const ssize_t n = ::pread(fd, text.data() + got, text.size() - got, static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  text.resize(got);
  return text;
}

inline std::string_view env_name(std::string_view entry) {
  return entry.substr(0, entry.find('='));
}

// This process's environment with `changes` applied.
inline std::vector<std::string> environment_with(const std::vector<std::string>& changes) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    bool changed = false;
    for (const auto& c : changes) changed = changed || env_name(c) == env_name(*e);
    if (!changed) env.emplace_back(*e);
  }
  for (const auto& c : changes) {
    if (c.find('=') != std::string::npos) env.push_back(c);
  }
  return env;
}

inline std::vector<char*> pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// posix_spawn's file actions and attributes for one child, destroyed with this object.
struct SpawnSettings {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;

  SpawnSettings(int in, int out, int err, const std::string& cwd) {
    ::posix_spawn_file_actions_init(&actions);
    ::posix_spawnattr_init(&attr);
    if (in >= 0) {
      ::posix_spawn_file_actions_adddup2(&actions, in, STDIN_FILENO);
    } else {
      ::posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    }
    ::posix_spawn_file_actions_adddup2(&actions, out, STDOUT_FILENO);
    ::posix_spawn_file_actions_adddup2(&actions, err, STDERR_FILENO);
    if (!cwd.empty()) ::posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
    // The child starts as a program started from a shell would: no blocked signals, default
    // dispositions even where the test runner ignores one (a background job ignores SIGINT).
    sigset_t none, standard;
    sigemptyset(&none);
    sigemptyset(&standard);
    for (int s = 1; s < 32; ++s) {
      if (s != SIGKILL && s != SIGSTOP) sigaddset(&standard, s);
    }
    ::posix_spawnattr_setsigmask(&attr, &none);
    ::posix_spawnattr_setsigdefault(&attr, &standard);
    ::posix_spawnattr_setpgroup(&attr, 0);
    ::posix_spawnattr_setflags(
        &attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
  }
  ~SpawnSettings() {
    ::posix_spawn_file_actions_destroy(&actions);
    ::posix_spawnattr_destroy(&attr);
  }
  SpawnSettings(const SpawnSettings&) = delete;
  SpawnSettings& operator=(const SpawnSettings&) = delete;
};

}  // namespace detail

// A running program. Destroying it while it still runs kills its process group and reaps it,
// so no test leaves a child behind, even when an assertion returns early.
class TestProcess {
 public:
  using Clock = std::chrono::steady_clock;

  explicit TestProcess(std::vector<std::string> argv, const SpawnOptions& options = {})
      : out_(detail::memory_file("test_process.stdout")),
        err_(detail::memory_file("test_process.stderr")) {
    if (argv.empty()) throw std::invalid_argument("TestProcess: empty argv");
    std::vector<std::string> env = detail::environment_with(options.env);
    const std::vector<char*> argv_ptrs = detail::pointers(argv);
    const std::vector<char*> env_ptrs = detail::pointers(env);
    const std::string cwd = options.cwd.string();
    const detail::Fd in =
        options.stdin_text ? detail::memory_file_holding(*options.stdin_text) : detail::Fd();
    const detail::SpawnSettings settings(in.get(), out_.get(), err_.get(), cwd);

    start_ = Clock::now();
    // A bare name is looked up on PATH, as a shell or execvp would.
    const auto spawn = argv[0].find('/') == std::string::npos ? ::posix_spawnp : ::posix_spawn;
    pid_t pid = -1;
    const int rc = spawn(&pid, argv_ptrs[0], &settings.actions, &settings.attr, argv_ptrs.data(),
                         env_ptrs.data());
    if (rc != 0) {
      throw std::system_error(rc, std::generic_category(),
                              "cannot start " + argv[0] + (cwd.empty() ? "" : " in " + cwd));
    }
    pid_ = pid;
  }

  ~TestProcess() {
    if (pid_ > 0) kill();
  }
  TestProcess(const TestProcess&) = delete;
  TestProcess& operator=(const TestProcess&) = delete;

  int pid() const { return pid_ > 0 ? pid_ : reaped_pid_; }
  bool running() const { return pid_ > 0; }
  // `sig` to the program itself (not its group), while it runs.
  void signal(int sig) const {
    if (pid_ > 0) ::kill(pid_, sig);
  }

  // The exit status (128 + N when signal N ended it) once it has ended, or nullopt if it still
  // runs after `limit`.
  std::optional<int> wait_for(std::chrono::milliseconds limit) {
    if (pid_ <= 0) return status_;
    const auto deadline = Clock::now() + limit;
    for (;;) {
      int status = 0;
      const pid_t r = ::waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        reaped(status);
        return status_;
      }
      if (r < 0 && errno != EINTR) return std::nullopt;  // not ours to wait for: a test bug
      if (Clock::now() >= deadline) return std::nullopt;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }

  // SIGKILL to its whole process group, then reaped; returns the status (128 + 9 as a rule).
  int kill() {
    if (pid_ <= 0) return status_.value_or(-1);
    ::kill(-pid_, SIGKILL);
    ::kill(pid_, SIGKILL);  // in case it left its group
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    reaped(status);
    return *status_;
  }

  std::string out() const { return detail::read_all(out_.get()); }
  std::string err() const { return detail::read_all(err_.get()); }
  // From the start to the end it was reaped at (or to now while it runs).
  double seconds() const {
    return std::chrono::duration<double>((pid_ > 0 ? Clock::now() : end_) - start_).count();
  }

 private:
  void reaped(int status) {
    end_ = Clock::now();
    status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    reaped_pid_ = pid_;
    pid_ = -1;
  }

  detail::Fd out_, err_;
  pid_t pid_ = -1, reaped_pid_ = -1;
  std::optional<int> status_;
  Clock::time_point start_, end_;
};

struct Completed {
  int status = -1;         // exit status, 128 + N for signal N; -1 when it was killed at the limit
  bool timed_out = false;  // it ran past the limit and was killed
  std::string out, err;
  double seconds = 0;
};

// Runs `argv` to its end, or kills it (and its process group) after `limit`.
inline Completed run_program(std::vector<std::string> argv, const SpawnOptions& options = {},
                             std::chrono::milliseconds limit = std::chrono::minutes(2)) {
  TestProcess child(std::move(argv), options);
  Completed c;
  const std::optional<int> status = child.wait_for(limit);
  if (status) {
    c.status = *status;
  } else {
    c.timed_out = true;
    child.kill();
  }
  c.out = child.out();
  c.err = child.err();
  c.seconds = child.seconds();
  return c;
}

// The first executable `name` on PATH, as execvp would find it; "" when there is none.
inline std::string find_program(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path ? path : "/usr/bin:/bin");
  for (std::string d; std::getline(dirs, d, ':');) {
    const std::filesystem::path candidate = std::filesystem::path(d.empty() ? "." : d) / name;
    if (::access(candidate.c_str(), X_OK) == 0 && !std::filesystem::is_directory(candidate)) {
      return candidate.string();
    }
  }
  return "";
}

}  // namespace harness::test
