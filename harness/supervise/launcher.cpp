#include "harness/supervise/launcher.hpp"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string_view>
#include <vector>

#include <boost/process/v2/posix/default_launcher.hpp>
#include <boost/process/v2/stdio.hpp>

#include "harness/supervise/supervisor.hpp"

extern char** environ;

namespace harness {
namespace {

namespace bp = boost::process::v2;
using boost::system::error_code;

std::string errno_text(int err) {
  return std::strerror(err);
}

// Runs in the vfork child before exec (system calls only): own process group, death signal,
// default signal state, working directory.
struct ChildSetup {
  const char* cwd = nullptr;
  const char* const* env = nullptr;  // NULL-terminated "K=V" array
  int parent = 0;

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
    // If the launching thread dies (the harness was SIGKILLed), the worker goes with it. The
    // parent may have died between vfork and here: then the signal would never come.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) return {ESRCH, boost::system::system_category()};
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

// The harness's environment with the spec's additions and the token; "K=V" strings.
std::vector<std::string> child_environment(const ProcessSpec& s, const std::string& token,
                                           std::string* path_var) {
  std::map<std::string, std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string_view kv(*e);
    auto eq = kv.find('=');
    if (eq == std::string_view::npos) continue;
    env.emplace(std::string(kv.substr(0, eq)), std::string(kv.substr(eq + 1)));
  }
  for (const auto& [k, v] : s.env) env[k] = v;
  std::string outer;
  if (const char* t = std::getenv(kTokenVar); t != nullptr && *t != '\0')
    outer = std::string(kTokenVar) + "=" + t;
  if (const char* o = std::getenv(kOuterTokensVar); o != nullptr && *o != '\0')
    outer += (outer.empty() ? "" : " ") + std::string(o);
  constexpr std::size_t kMaxOuter = 4096;  // nesting is a few levels; never an unbounded value
  if (outer.size() > kMaxOuter) {
    const std::size_t cut = outer.rfind(' ', kMaxOuter);
    outer.resize(cut == std::string::npos ? 0 : cut);
  }
  if (outer.empty())
    env.erase(kOuterTokensVar);
  else
    env[kOuterTokensVar] = outer;
  env[kTokenVar] = token;
  *path_var = env["PATH"];
  std::vector<std::string> out;
  out.reserve(env.size());
  for (const auto& [k, v] : env) out.push_back(k + "=" + v);
  return out;
}

std::string check_cwd(const ProcessSpec& s) {
  if (s.cwd.empty()) return {};
  struct stat st {};
  int err = 0;
  if (::stat(s.cwd.c_str(), &st) != 0)
    err = errno;
  else if (!S_ISDIR(st.st_mode))
    err = ENOTDIR;
  else if (::access(s.cwd.c_str(), X_OK) != 0)
    err = errno;
  if (err == 0) return {};
  return "cannot run " + s.argv[0] + ": working directory " + s.cwd + ": " + errno_text(err);
}

bool make_pipe(Fd& read_end, Fd& write_end) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return false;
  read_end = Fd(p[0]);
  write_end = Fd(p[1]);
  return true;
}

}  // namespace

std::string resolve_program(const std::string& name, const std::string& path_var, int* err) {
  *err = ENOENT;
  if (name.find('/') != std::string::npos) return name;
  std::stringstream ss(path_var.empty() ? "/usr/local/bin:/usr/bin:/bin" : path_var);
  std::string dir;
  while (std::getline(ss, dir, ':')) {
    std::string cand = (dir.empty() ? "." : dir) + "/" + name;
    if (::access(cand.c_str(), X_OK) == 0) return cand;
    if (errno == EACCES) *err = EACCES;
  }
  return {};
}

std::string launch(const ProcessSpec& s, const std::string& token, Launched& out) {
  if (s.argv.empty() || s.argv[0].empty()) return "cannot run an empty command";
  std::string path_var;
  const std::vector<std::string> env_strings = child_environment(s, token, &path_var);
  std::vector<const char*> env_ptrs;
  env_ptrs.reserve(env_strings.size() + 1);
  for (const auto& e : env_strings) env_ptrs.push_back(e.c_str());
  env_ptrs.push_back(nullptr);

  int lookup_err = 0;
  const std::string exe = resolve_program(s.argv[0], path_var, &lookup_err);
  if (exe.empty())
    return "cannot run '" + s.argv[0] + "': " +
           (lookup_err == EACCES ? "permission denied for every match on PATH"
                                 : "not found on PATH") +
           " (give a full path or fix PATH)";
  if (std::string bad = check_cwd(s); !bad.empty()) return bad;

  const auto pipe_error = [] { return "cannot create a pipe: " + errno_text(errno); };
  Fd out_w, err_w, in_r;
  if (!make_pipe(out.stdout_r, out_w) || !make_pipe(out.stderr_r, err_w)) return pipe_error();
  if (s.stdin_data || s.stdin_open) {
    if (!make_pipe(in_r, out.stdin_w)) return pipe_error();
  } else {
    in_r = Fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    if (!in_r.valid()) return "cannot open /dev/null: " + errno_text(errno);
  }

  const std::vector<std::string> args(s.argv.begin() + 1, s.argv.end());
  ChildSetup setup;
  setup.cwd = s.cwd.empty() ? nullptr : s.cwd.c_str();
  setup.env = env_ptrs.data();
  setup.parent = static_cast<int>(::getpid());
  VforkLauncher launcher;
  error_code ec;
  out.spawn_time = std::chrono::steady_clock::now();
  const int pid = launcher.launch(ec, exe, args,
                                  bp::process_stdio{in_r.get(), out_w.get(), err_w.get()}, setup);
  if (ec) return "cannot run " + exe + ": " + ec.message();
  // Our own pidfd: Boost's wait uses waitpid, which gives no rusage (ru_maxrss).
  out.pidfd = Fd(pidfd_open(pid));
  if (!out.pidfd.valid()) {
    const int e = errno;
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    return "cannot watch process " + std::to_string(pid) + ": pidfd_open: " + errno_text(e);
  }
  out.pid = pid;
  return {};
}

}  // namespace harness
