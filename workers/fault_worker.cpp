// fault_worker: one program that misbehaves on purpose, one way per --mode, so the harness's
// process supervision can be tested against real processes (one helper program per
// behaviour under test). It speaks the worker protocol (docs/protocol.md) on stdout where a mode
// has something to say. Exit codes: 0 success, 2 bad arguments, otherwise what the mode asks for.

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <deque>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

// When the build adds ASan, let crashes be real signals (what a host sees from a release build)
// rather than ASan's report and exit code 1; and forked children must not run leak checks.
extern "C" const char* __asan_default_options() {
  return "handle_segv=0:handle_sigbus=0:handle_abort=0:detect_leaks=0";
}

namespace {

constexpr const char* kUsage = R"(usage: fault_worker --mode MODE [options]

Misbehaves on purpose so a process supervisor can be tested.

modes:
  success      emit started/ready/progress/result events; --output PATH writes a result JSON
  exit         write --message to stderr, exit with --code N (default 1)
  throw        throw an uncaught exception carrying --message (std::terminate: SIGABRT)
  abort        call abort()
  segv         write through a null pointer (--raise: raise(SIGSEGV) instead)
  hang         emit started/ready, then sleep forever
  ignore-term  ignore SIGTERM, fork --children N (default 1) that ignore it too, sleep forever
  escape       fork a grandchild that calls setsid() and holds stdout open for --seconds
               (default 3600); the worker itself exits 0 at once
  flood        write --bytes N to --stream stdout|stderr|both in lines of --line-bytes
               (default 100; 0: no newline at all)
  garbage      emit non-JSON text, invalid UTF-8, malformed events and one valid event
  grow         grow to --mib N MiB touching every page, at --rate MiB/s (default 100),
               then hold for --hold-ms (default 0)
  stdin        read stdin until EOF and report the byte count in a result event
  events       emit --count N progress events as fast as it can, then one result event
  deep         emit a result event nested --depth N levels deep (a hostile worker's JSON)
  serve        a long-lived worker: emit started/ready, then answer each stdin line
               {"id":N,...} with a result event tagged "job":N after --work-ms (a job's own
               "work_ms" overrides it; "fail":true answers an error event instead; "output"
               writes the result there). {"cancel":N} stops job N: result status "cancelled".
               --crash-on K aborts on the K-th job, --hang-on K stops answering (and reading)
               at the K-th job; exits 0 at EOF
  work         a known cost, to check the regression gate: allocate and touch --extra-mib N
               MiB (default 0) before ready, then burn --ms N ms of CPU time (default 100)
               before the result
  tree         a worker of --children N + 1 processes (default 1 child) that differ: process
               k (0 = the root) touches (k+1) x --mib MiB (default 64) and, after ready, burns
               (k+1) x --ms ms of CPU time and writes --count lines (default 1000) to stdout
               and to stderr ("tree k line i", all processes at once), then all hold
               --hold-ms (default 0) and the root reaps its children and answers a result
  threads      start --children N threads (default 1) that sleep, emit ready, hold --hold-ms
               (default 0), then emit a result

options:
  --work-ms N   success, serve: time spent between ready and result, or per job (default 0)
  --help        this text
)";

struct Options {
  std::string mode;
  int code = 1;
  std::string message = "fault_worker: failing on purpose";
  std::string output;
  bool raise = false;
  int children = 1;
  double seconds = 3600;
  long long bytes = 1 << 20;
  std::string stream = "stdout";
  long long line_bytes = 100;
  long long mib = 64;
  double rate = 100;
  long long hold_ms = 0;
  long long work_ms = 0;
  long long count = 1000;
  long long depth = 25000;
  long long crash_on = 0;
  long long hang_on = 0;
  double ms = 100;
  double extra_mib = 0;
};

[[noreturn]] void bad_args(const std::string& why) {
  std::fprintf(stderr, "fault_worker: %s\nrun fault_worker --help for the modes and options\n",
               why.c_str());
  std::exit(2);
}

long long to_int(const std::string& flag, const std::string& v) {
  try {
    std::size_t used = 0;
    long long n = std::stoll(v, &used);
    if (used != v.size()) throw std::invalid_argument(v);
    return n;
  } catch (const std::exception&) {
    bad_args(flag + " needs an integer, got '" + v + "'");
  }
}

double to_double(const std::string& flag, const std::string& v) {
  try {
    std::size_t used = 0;
    double d = std::stod(v, &used);
    if (used != v.size()) throw std::invalid_argument(v);
    return d;
  } catch (const std::exception&) {
    bad_args(flag + " needs a number, got '" + v + "'");
  }
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    }
    if (a == "--raise") {
      o.raise = true;
      continue;
    }
    if (i + 1 >= argc) bad_args("missing value after " + a);
    std::string v = argv[++i];
    if (a == "--mode")
      o.mode = v;
    else if (a == "--code")
      o.code = static_cast<int>(to_int(a, v));
    else if (a == "--message")
      o.message = v;
    else if (a == "--output")
      o.output = v;
    else if (a == "--children")
      o.children = static_cast<int>(to_int(a, v));
    else if (a == "--seconds")
      o.seconds = to_double(a, v);
    else if (a == "--bytes")
      o.bytes = to_int(a, v);
    else if (a == "--stream")
      o.stream = v;
    else if (a == "--line-bytes")
      o.line_bytes = to_int(a, v);
    else if (a == "--mib")
      o.mib = to_int(a, v);
    else if (a == "--rate")
      o.rate = to_double(a, v);
    else if (a == "--hold-ms")
      o.hold_ms = to_int(a, v);
    else if (a == "--work-ms")
      o.work_ms = to_int(a, v);
    else if (a == "--count")
      o.count = to_int(a, v);
    else if (a == "--depth")
      o.depth = to_int(a, v);
    else if (a == "--crash-on")
      o.crash_on = to_int(a, v);
    else if (a == "--hang-on")
      o.hang_on = to_int(a, v);
    else if (a == "--ms")
      o.ms = to_double(a, v);
    else if (a == "--extra-mib")
      o.extra_mib = to_double(a, v);
    else
      bad_args("unknown option " + a);
  }
  if (o.mode.empty()) bad_args("--mode is required");
  if (o.stream != "stdout" && o.stream != "stderr" && o.stream != "both")
    bad_args("--stream must be stdout, stderr or both, got '" + o.stream + "'");
  return o;
}

// Events go out unbuffered, one write per line, so a crash right after still delivers them.
void emit(const std::string& json_line) {
  std::string s = json_line + "\n";
  std::fwrite(s.data(), 1, s.size(), stdout);
  std::fflush(stdout);
}

void started() {
  emit(R"({"event":"started","worker":"fault_worker","version":"1.0.0","pid":)" +
       std::to_string(getpid()) + "}");
}

[[noreturn]] void sleep_forever() {
  for (;;) pause();
}

void sleep_ms(long long ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

void write_all(int fd, const char* p, std::size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      std::exit(1);  // the reader went away; nothing useful left to do
    }
    p += w;
    n -= static_cast<std::size_t>(w);
  }
}

int mode_success(const Options& o) {
  started();
  emit(R"({"event":"ready","load_ms":0.1})");
  for (int i = 1; i <= 3; ++i) {
    if (o.work_ms > 0) sleep_ms(o.work_ms / 3);
    emit(R"({"event":"progress","done":)" + std::to_string(i) + R"(,"total":3})");
  }
  std::cout << "a log line between events" << std::endl;
  std::string result = R"({"status":"success","frames_processed":3,"fps":30.0,"detections":7})";
  if (!o.output.empty()) {
    std::ofstream f(o.output);
    f << result << "\n";
    if (!f) {
      std::fprintf(stderr, "fault_worker: cannot write %s: %s\n", o.output.c_str(),
                   std::strerror(errno));
      return 3;
    }
  }
  emit(R"({"event":"result","status":"success","frames_processed":3,"fps":30.0,"detections":7})");
  return 0;
}

int mode_ignore_term(const Options& o) {
  signal(SIGTERM, SIG_IGN);  // inherited by the children across fork
  started();
  std::string pids;
  for (int i = 0; i < o.children; ++i) {
    pid_t pid = fork();
    if (pid == 0) sleep_forever();
    if (pid < 0) {
      std::perror("fault_worker: fork");
      return 1;
    }
    pids += (pids.empty() ? "" : ",") + std::to_string(pid);
  }
  emit(R"({"event":"ready","children":[)" + pids + "]}");
  sleep_forever();
}

int mode_escape(const Options& o) {
  started();
  int sync[2];
  if (pipe(sync) != 0) return 1;
  pid_t mid = fork();
  if (mid == 0) {
    if (fork() == 0) {
      setsid();
      emit(R"({"event":"escaped","pid":)" + std::to_string(getpid()) + "}");
      write_all(sync[1], "x", 1);
      close(sync[1]);
      sleep_ms(static_cast<long long>(o.seconds * 1000));
      _exit(0);
    }
    _exit(0);
  }
  close(sync[1]);
  char c;
  while (read(sync[0], &c, 1) < 0 && errno == EINTR) {
  }
  waitpid(mid, nullptr, 0);
  emit(R"({"event":"result","status":"success"})");
  return 0;
}

int mode_flood(const Options& o) {
  std::string chunk;
  std::size_t line = o.line_bytes > 0 ? static_cast<std::size_t>(o.line_bytes) : 0;
  // A whole number of lines per chunk, so every line has exactly --line-bytes bytes.
  std::size_t chunk_size = line > 0 ? line * ((64 * 1024 + line - 1) / line) : 64 * 1024;
  for (std::size_t i = 0; i < chunk_size; ++i)
    chunk += (line > 0 && i % line == line - 1) ? '\n' : static_cast<char>('a' + i % 26);
  auto flood_fd = [&](int fd) {
    long long left = o.bytes;
    while (left > 0) {
      auto n = static_cast<std::size_t>(std::min<long long>(left, chunk.size()));
      write_all(fd, chunk.data(), n);
      left -= static_cast<long long>(n);
    }
  };
  if (o.stream == "both") {
    std::thread t([&] { flood_fd(STDERR_FILENO); });
    flood_fd(STDOUT_FILENO);
    t.join();
  } else {
    flood_fd(o.stream == "stdout" ? STDOUT_FILENO : STDERR_FILENO);
  }
  return 0;
}

int mode_garbage() {
  const std::string lines[] = {
      "plain log text",
      std::string("invalid utf-8: \xff\xfe\xc3\x28 end"),
      R"({"event": 42})",
      R"({"event":"result","status":)",
      "[1,2,3]",
      std::string("{\"event\":\"bad\xff\"}"),
      std::string("binary\0with nul", 15),
      R"({"event":"result","status":"success"})",
  };
  for (const auto& l : lines) {
    std::string s = l + "\n";
    write_all(STDOUT_FILENO, s.data(), s.size());
  }
  std::string err("stderr garbage \xc0\xc1\n");
  write_all(STDERR_FILENO, err.data(), err.size());
  return 0;
}

int mode_grow(const Options& o) {
  started();
  emit(R"({"event":"ready"})");
  const std::size_t mib = 1 << 20;
  std::vector<char*> blocks;
  auto begin = std::chrono::steady_clock::now();
  long page = sysconf(_SC_PAGESIZE);
  for (long long i = 0; i < o.mib; ++i) {
    char* b = static_cast<char*>(std::malloc(mib));
    if (b == nullptr) return 1;
    for (std::size_t off = 0; off < mib; off += static_cast<std::size_t>(page))
      b[off] = static_cast<char>(i);
    blocks.push_back(b);
    if (o.rate > 0) {
      auto due = begin + std::chrono::duration<double>(static_cast<double>(i + 1) / o.rate);
      std::this_thread::sleep_until(due);
    }
  }
  emit(R"({"event":"progress","mib":)" + std::to_string(o.mib) + "}");
  sleep_ms(o.hold_ms);
  emit(R"({"event":"result","status":"success","mib":)" + std::to_string(o.mib) + "}");
  // Held a while after the result: the harness reads PSS/USS when it sees the result line,
  // and freeing at once would race with that read.
  sleep_ms(std::max<long long>(o.hold_ms, 200));
  for (char* b : blocks) std::free(b);
  return 0;
}

// A real invalid write; UBSan would otherwise turn it into its own report and exit 1.
__attribute__((no_sanitize("undefined", "address"))) void null_write() {
  volatile int* volatile p = nullptr;
  *p = 1;
}

int mode_stdin() {
  started();
  long long total = 0;
  char buf[65536];
  for (;;) {
    ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    total += n;
  }
  emit(R"({"event":"result","status":"success","stdin_bytes":)" + std::to_string(total) + "}");
  return 0;
}

int mode_events(const Options& o) {
  started();
  std::string buf;
  for (long long i = 1; i <= o.count; ++i) {
    buf += R"({"event":"progress","done":)" + std::to_string(i) + R"(,"total":)" +
           std::to_string(o.count) + "}\n";
    if (buf.size() > 60000) {
      write_all(STDOUT_FILENO, buf.data(), buf.size());
      buf.clear();
    }
  }
  buf += R"({"event":"result","status":"success","events":)" + std::to_string(o.count) + "}\n";
  write_all(STDOUT_FILENO, buf.data(), buf.size());
  return 0;
}

int mode_deep(const Options& o) {
  std::string line = R"({"event":"result","status":"success","deep":)";
  line.append(static_cast<std::size_t>(o.depth), '[');
  line.append(static_cast<std::size_t>(o.depth), ']');
  line += "}\n";
  write_all(STDOUT_FILENO, line.data(), line.size());
  return 0;
}

// serve: one job at a time from a queue of parsed job lines; while a job "works", stdin is
// still read so a {"cancel":N} line can stop it.
class Server {
 public:
  explicit Server(const Options& o) : o_(o) {}

  int run() {
    started();
    emit(R"({"event":"ready","load_ms":0.1})");
    for (;;) {
      if (!current_ && !jobs_.empty()) begin_job();
      const auto now = std::chrono::steady_clock::now();
      int timeout = -1;
      if (current_) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(due_ - now);
        timeout = static_cast<int>(std::max<long long>(0, left.count()));
      }
      if (eof_ && !current_ && jobs_.empty()) return 0;
      if (!eof_) {
        pollfd fd{STDIN_FILENO, POLLIN, 0};
        const int ready = ::poll(&fd, 1, timeout);
        if (ready > 0) read_input();
      } else if (timeout > 0) {
        sleep_ms(timeout);
      }
      if (current_ && std::chrono::steady_clock::now() >= due_) end_job("success");
    }
  }

 private:
  using json = nlohmann::json;

  void read_input() {
    char buf[65536];
    const ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) return;
      eof_ = true;
      if (!pending_.empty()) line(std::exchange(pending_, std::string()));
      return;
    }
    pending_.append(buf, static_cast<std::size_t>(n));
    for (std::size_t nl; (nl = pending_.find('\n')) != std::string::npos;) {
      std::string l = pending_.substr(0, nl);
      pending_.erase(0, nl + 1);
      line(l);
    }
  }

  void line(const std::string& text) {
    if (text.find_first_not_of(" \t\r") == std::string::npos) return;
    json j = json::parse(text, nullptr, false);
    if (!j.is_object() || (!j.contains("id") && !j.contains("cancel"))) {
      emit(json{{"event", "error"},
                {"type", "BadJob"},
                {"message", "a job line must be a JSON object with an \"id\""}}
               .dump());
      return;
    }
    if (j.contains("cancel")) {
      cancel(j["cancel"]);
      return;
    }
    jobs_.push_back(std::move(j));
  }

  void begin_job() {
    ++count_;
    current_ = std::move(jobs_.front());
    jobs_.pop_front();
    if (count_ == o_.crash_on) std::abort();
    if (count_ == o_.hang_on) sleep_forever();
    long long work = o_.work_ms;
    if (current_->contains("work_ms") && (*current_)["work_ms"].is_number_integer())
      work = (*current_)["work_ms"].get<long long>();
    due_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(work);
    emit(json{{"event", "progress"}, {"job", (*current_)["id"]}, {"done", 0}, {"total", 1}}.dump());
  }

  void cancel(const json& id) {
    if (current_ && (*current_)["id"] == id) {
      end_job("cancelled");
      return;
    }
    for (auto it = jobs_.begin(); it != jobs_.end(); ++it) {
      if ((*it)["id"] != id) continue;
      emit(json{{"event", "result"}, {"job", id}, {"status", "cancelled"}}.dump());
      jobs_.erase(it);
      return;
    }
  }

  void end_job(const std::string& status) {
    const json& job = *current_;
    if (status == "success" && job.value("fail", false)) {
      emit(json{{"event", "error"},
                {"job", job["id"]},
                {"type", "JobFailed"},
                {"message", "failing on purpose"}}
               .dump());
    } else {
      json result{
          {"event", "result"}, {"job", job["id"]}, {"status", status}, {"job_number", count_}};
      if (status == "success" && job.contains("output") && job["output"].is_string()) {
        std::ofstream f(job["output"].get<std::string>());
        f << json{{"status", "success"}, {"job", job["id"]}}.dump() << "\n";
        if (!f)
          result = json{{"event", "error"},
                        {"job", job["id"]},
                        {"type", "OutputError"},
                        {"message", "cannot write " + job["output"].get<std::string>()}};
      }
      emit(result.dump());
    }
    current_.reset();
  }

  const Options& o_;
  std::deque<json> jobs_;
  std::optional<json> current_;
  std::chrono::steady_clock::time_point due_;
  std::string pending_;
  bool eof_ = false;
  long long count_ = 0;
};

// CPU time of this thread, not wall time: on a busy machine the work then takes longer, as
// real work does, instead of finishing on a clock while it was not running.
double thread_cpu_ms() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_nsec) / 1e6;
}

void burn_cpu_ms(double ms) {
  const double start = thread_cpu_ms();
  volatile unsigned long spins = 0;
  while (thread_cpu_ms() - start < ms) spins = spins + 1;
}

// `mib` MiB, every page written, kept until the process exits.
void touch_mib(double mib) {
  const auto bytes = static_cast<std::size_t>(mib * 1024 * 1024);
  if (bytes == 0) return;
  auto* pages = static_cast<volatile char*>(std::malloc(bytes));
  if (pages == nullptr) return;
  for (std::size_t off = 0; off < bytes; off += static_cast<std::size_t>(sysconf(_SC_PAGESIZE)))
    pages[off] = 1;
}

// One process of mode tree: its share of memory, then (once the root said ready) its CPU and its
// lines. The lines go out one write each, so lines of different processes never mix.
void tree_part(const Options& o, int k, int ready_fd, int go_fd) {
  touch_mib(static_cast<double>(o.mib) * (k + 1));
  if (ready_fd >= 0) {
    char c = 'r';
    if (write(ready_fd, &c, 1) != 1) std::_Exit(1);
  }
  if (go_fd >= 0) {
    char c = 0;
    if (read(go_fd, &c, 1) != 1) std::_Exit(1);
  }
  burn_cpu_ms(o.ms * (k + 1));
  for (long long i = 0; i < o.count; ++i) {
    const std::string line = "tree " + std::to_string(k) + " line " + std::to_string(i) + "\n";
    if (write(1, line.data(), line.size()) < 0 || write(2, line.data(), line.size()) < 0) break;
  }
  if (o.hold_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(o.hold_ms));
}

int mode_tree(const Options& o) {
  if (o.children < 0 || o.mib < 0 || o.ms < 0 || o.count < 0)
    bad_args("--children, --mib, --ms and --count must not be negative");
  started();
  int ready[2], go[2];
  if (pipe(ready) != 0 || pipe(go) != 0) return 1;
  std::string pids;
  for (int k = 1; k <= o.children; ++k) {
    pid_t pid = fork();
    if (pid < 0) {
      std::perror("fault_worker: fork");
      return 1;
    }
    if (pid == 0) {
      close(ready[0]);
      close(go[1]);
      tree_part(o, k, ready[1], go[0]);
      std::_Exit(0);
    }
    pids += (pids.empty() ? "" : ",") + std::to_string(pid);
  }
  close(ready[1]);
  close(go[0]);
  for (int k = 1; k <= o.children; ++k) {
    char c = 0;
    if (read(ready[0], &c, 1) != 1) return 1;
  }
  emit(R"({"event":"ready","children":[)" + pids + "]}");
  const std::string go_all(static_cast<std::size_t>(o.children), 'g');
  if (!go_all.empty() && write(go[1], go_all.data(), go_all.size()) < 0) return 1;
  tree_part(o, 0, -1, -1);
  int failed = 0;
  for (int k = 1; k <= o.children; ++k) {
    int status = 0;
    if (wait(&status) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) ++failed;
  }
  emit(R"({"event":"result","status":")" + std::string(failed ? "failure" : "success") +
       R"(","processes":)" + std::to_string(o.children + 1) + "}");
  return failed ? 1 : 0;
}

int mode_threads(const Options& o) {
  std::vector<std::thread> threads;
  std::atomic<bool> stop{false};
  started();
  for (int i = 0; i < o.children; ++i)
    threads.emplace_back([&stop] {
      while (!stop) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    });
  emit(R"({"event":"ready","threads":)" + std::to_string(o.children + 1) + "}");
  std::this_thread::sleep_for(std::chrono::milliseconds(o.hold_ms));
  stop = true;
  for (auto& t : threads) t.join();
  emit(R"({"event":"result","status":"success"})");
  return 0;
}

int mode_work(const Options& o) {
  if (o.ms < 0 || o.extra_mib < 0) bad_args("--ms and --extra-mib must not be negative");
  started();
  const auto bytes = static_cast<std::size_t>(o.extra_mib * 1024 * 1024);
  std::unique_ptr<char[]> extra(bytes > 0 ? new char[bytes] : nullptr);
  volatile char* pages = extra.get();  // volatile: stores to never-read memory must stay
  for (std::size_t off = 0; off < bytes; off += static_cast<std::size_t>(sysconf(_SC_PAGESIZE)))
    pages[off] = 1;
  emit(R"({"event":"ready","extra_mib":)" + std::to_string(o.extra_mib) + "}");
  burn_cpu_ms(o.ms);
  emit(R"({"event":"result","status":"success","work_ms":)" + std::to_string(o.ms) + "}");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o = parse(argc, argv);
  if (o.mode == "success") return mode_success(o);
  if (o.mode == "exit") {
    std::fprintf(stderr, "%s\n", o.message.c_str());
    return o.code;
  }
  if (o.mode == "throw") {
    started();
    throw std::runtime_error(o.message);
  }
  if (o.mode == "abort") std::abort();
  if (o.mode == "segv") {
    if (o.raise) raise(SIGSEGV);
    null_write();
    return 1;
  }
  if (o.mode == "hang") {
    started();
    emit(R"({"event":"ready"})");
    sleep_forever();
  }
  if (o.mode == "ignore-term") return mode_ignore_term(o);
  if (o.mode == "escape") return mode_escape(o);
  if (o.mode == "flood") return mode_flood(o);
  if (o.mode == "garbage") return mode_garbage();
  if (o.mode == "grow") return mode_grow(o);
  if (o.mode == "stdin") return mode_stdin();
  if (o.mode == "serve") return Server(o).run();
  if (o.mode == "events") return mode_events(o);
  if (o.mode == "deep") return mode_deep(o);
  if (o.mode == "work") return mode_work(o);
  if (o.mode == "tree") return mode_tree(o);
  if (o.mode == "threads") return mode_threads(o);
  bad_args("unknown mode '" + o.mode + "'");
}
