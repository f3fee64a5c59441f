#include "harness/supervise/sampler.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libproc2/pids.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <string>
#include <system_error>
#include <unordered_map>
#include <unordered_set>

// Sanitizer builds (HARNESS_DEVELOP): libproc2 4.0 keeps per-thread scratch buffers that it
// never frees; LeakSanitizer reports them when a thread that read smaps ends. They are the
// library's, bounded by the number of threads (harness run --jobs keeps a fixed pool), so they
// are suppressed here rather than in every test's environment. Unused in other builds.
extern "C" const char* __lsan_default_suppressions() {
  return "leak:libproc2.so\n";
}

namespace harness {

bool read_proc_file(const char* path, std::string& out, int dirfd) {
  out.clear();
  int fd = ::openat(dirfd, path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char buf[4096];
  bool ok = true;
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      out.append(buf, static_cast<std::size_t>(n));
    } else if (n == 0) {
      break;
    } else if (errno != EINTR) {
      ok = false;  // ESRCH when the process exited between open and read
      break;
    }
  }
  ::close(fd);
  return ok;
}

double thread_cpu_ms() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

namespace {

std::int64_t parse_int(std::string_view s) {
  std::int64_t v = -1;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  (void)p;
  return ec == std::errc() ? v : -1;
}

// The value of a "Key:   1234 kB" line, -1 when the key is missing. Keys must match whole:
// "Pss" must not match "Pss_Anon".
std::int64_t field_kib(std::string_view text, std::string_view key) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = text.substr(pos, eol - pos);
    if (line.size() > key.size() && line.substr(0, key.size()) == key && line[key.size()] == ':') {
      std::string_view rest = line.substr(key.size() + 1);
      std::size_t b = rest.find_first_not_of(" \t");
      if (b == std::string_view::npos) return -1;
      rest = rest.substr(b);
      std::size_t e = rest.find_first_not_of("0123456789");
      return parse_int(rest.substr(0, e));
    }
    pos = eol + 1;
  }
  return -1;
}

}  // namespace

std::int64_t parse_status_field_kib(std::string_view status_text, std::string_view field) {
  return field_kib(status_text, field);
}

SmapsRollup parse_smaps_rollup(std::string_view text) {
  SmapsRollup r;
  r.rss_kib = field_kib(text, "Rss");
  r.pss_kib = field_kib(text, "Pss");
  std::int64_t clean = field_kib(text, "Private_Clean");
  std::int64_t dirty = field_kib(text, "Private_Dirty");
  if (clean >= 0 && dirty >= 0) r.uss_kib = clean + dirty;
  return r;
}

std::vector<int> parse_children(std::string_view text) {
  std::vector<int> pids;
  const char* p = text.data();
  const char* end = p + text.size();
  while (p < end) {
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\t')) ++p;
    if (p == end) break;
    int v = 0;
    auto [next, ec] = std::from_chars(p, end, v);
    if (ec != std::errc() || next == p) break;  // not a pid list: stop rather than guess
    if (v > 0) pids.push_back(v);
    p = next;
  }
  return pids;
}

std::vector<int> process_tree(int root) {
  std::vector<int> tree;
  if (root <= 0) return tree;
  char path[64];
  tree.push_back(root);
  std::unordered_set<int> seen{root};
  std::string text;
  auto add_children = [&] {
    for (int pid : parse_children(text)) {
      if (seen.insert(pid).second) tree.push_back(pid);  // guards against pid reuse cycles
    }
  };
  for (std::size_t i = 0; i < tree.size(); ++i) {
    std::snprintf(path, sizeof path, "/proc/%d/task", tree[i]);
    // The task folder's link count is 2 + its threads: a single-threaded process (most of a
    // worker's helpers) has one children file, read by its path, which costs a third of listing
    // the folder. A thread started between the stat and the read is seen on the next walk.
    struct stat st {};
    if (::stat(path, &st) != 0) {
      if (i == 0) return {};
      continue;
    }
    if (st.st_nlink == 3) {
      std::snprintf(path, sizeof path, "/proc/%d/task/%d/children", tree[i], tree[i]);
      if (read_proc_file(path, text)) {
        add_children();
        continue;
      }
      std::snprintf(path, sizeof path, "/proc/%d/task", tree[i]);  // its thread is gone: list
    }
    DIR* dir = ::opendir(path);
    if (dir == nullptr) {
      // The root decides emptiness; a descendant that exited since its parent listed it is
      // just skipped.
      if (i == 0) return {};
      continue;
    }
    // A child belongs to the thread that forked it, so every thread's list is read.
    while (dirent* ent = ::readdir(dir)) {
      if (ent->d_name[0] < '0' || ent->d_name[0] > '9') continue;
      char children[sizeof ent->d_name + 16];
      std::snprintf(children, sizeof children, "%s/children", ent->d_name);
      if (read_proc_file(children, text, ::dirfd(dir))) add_children();
    }
    ::closedir(dir);
  }
  return tree;
}

std::int64_t self_rss_kib() {
  std::string text;
  if (!read_proc_file("/proc/self/status", text)) return -1;
  return parse_status_field_kib(text, "VmRSS");
}

std::int64_t vm_hwm_kib(int pid) {
  char path[48];
  std::snprintf(path, sizeof path, "/proc/%d/status", pid);
  std::string text;
  if (pid <= 0 || !read_proc_file(path, text)) return -1;
  return parse_status_field_kib(text, "VmHWM");
}

std::int64_t parse_statm_rss_kib(std::string_view text, std::int64_t page_kib) {
  // statm: size resident shared text lib data dt, all in pages.
  std::size_t sp = text.find(' ');
  if (sp == std::string_view::npos) return -1;
  std::string_view rest = text.substr(sp + 1);
  std::int64_t pages = parse_int(rest.substr(0, rest.find_first_of(" \n")));
  return pages < 0 ? -1 : pages * page_kib;
}

ProcStatLine parse_proc_stat(std::string_view text) {
  ProcStatLine out;
  // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
  // cutime cstime priority nice num_threads itrealvalue starttime vsize rss ...: the comm may
  // hold spaces and parentheses, so the fields start after the last ')'.
  const auto open = text.find('(');
  const auto close = text.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open) return out;
  out.comm = std::string(text.substr(open + 1, close - open - 1));
  std::string_view rest = text.substr(close + 1);
  // Fields 4..24 (1-based, as proc(5) numbers them; field 3, the state, is a char). Field 25,
  // rsslim, is often 2^64-1 and is not read.
  std::int64_t v[21] = {};
  std::size_t at = rest.find_first_not_of(' ');
  if (at == std::string_view::npos) return out;
  out.state = rest[at];
  at = rest.find(' ', at);
  for (int i = 0; i < 21; ++i) {
    if (at == std::string_view::npos) return out;
    at = rest.find_first_not_of(' ', at);
    if (at == std::string_view::npos) return out;
    const std::size_t end = std::min(rest.find_first_of(" \n", at), rest.size());
    const char* b = rest.data() + at;
    auto [p, ec] = std::from_chars(b, rest.data() + end, v[i]);
    if (ec != std::errc() || p != rest.data() + end) return out;
    at = end;
  }
  auto u = [](std::int64_t x) { return x < 0 ? std::uint64_t{0} : static_cast<std::uint64_t>(x); };
  out.ppid = static_cast<int>(v[0]);
  out.pgrp = static_cast<int>(v[1]);
  out.flags = u(v[5]);
  out.utime = u(v[10]);
  out.stime = u(v[11]);
  out.cutime = u(v[12]);
  out.cstime = u(v[13]);
  out.threads = static_cast<int>(v[16]);
  out.start_time = u(v[18]);
  out.rss_pages = v[20];
  out.ok = true;
  return out;
}

bool parse_schedstat(std::string_view text, std::uint64_t& run_ns, std::uint64_t& wait_ns) {
  const char* p = text.data();
  const char* end = p + text.size();
  auto [a, ec1] = std::from_chars(p, end, run_ns);
  if (ec1 != std::errc() || a == end || *a != ' ') return false;
  auto [b, ec2] = std::from_chars(a + 1, end, wait_ns);
  return ec2 == std::errc() && b != a + 1 && (b == end || *b == ' ' || *b == '\n');
}

SmapsPacer::SmapsPacer(double min_interval_ms, double budget, double floor)
    : min_interval_ms_(min_interval_ms), budget_(budget), floor_(floor) {}

void SmapsPacer::record(double now_ms, double cost_ms) {
  if (last_read_ms_ >= 0 && now_ms > last_read_ms_)
    last_tick_share_ = tick_cost_ms_ / (now_ms - last_read_ms_);
  tick_cost_ms_ = 0;
  last_read_ms_ = now_ms;
  const double left = std::max(budget_ - last_tick_share_, floor_);
  next_ms_ = now_ms + std::max(min_interval_ms_, cost_ms / left);
}

struct MemorySampler::Impl {
  static constexpr std::size_t kMaxKeptFds = 256;
  RssSource source;
  std::int64_t page_kib = ::sysconf(_SC_PAGESIZE) / 1024;

  // stat (or statm) fds kept open across ticks: a pread on an open /proc file skips the path
  // walk and the libproc2 bookkeeping (~1.5 us against ~40 us, see the header). The fd pins the
  // task, not the pid number, so a reused pid reads as gone and is reopened by path.
  struct Open {
    int fd = -1;
    std::uint64_t tick = 0;
  };
  std::unordered_map<int, Open> kept;
  std::uint64_t tick = 0;
  double last_smaps_cpu_ms = 0;
  double ms_per_tick = 1000.0 / static_cast<double>(::sysconf(_SC_CLK_TCK));

  // Two libproc2 contexts, because the item list decides which /proc files a select reads:
  // `rss` reads status, `smaps` only smaps_rollup (the page-table walk; RSS comes from stat).
  pids_info* rss = nullptr;
  pids_info* smaps = nullptr;
  enum RssItem { kRssPid, kRssRss };
  enum SmapsItem { kSmPid, kSmPss, kSmUss };

  explicit Impl(RssSource s) : source(s) {
    pids_item rss_items[] = {PIDS_ID_PID, PIDS_VM_RSS};
    pids_item smaps_items[] = {PIDS_ID_PID, PIDS_SMAP_PSS, PIDS_SMAP_PRV_TOTAL};
    int rc = procps_pids_new(&rss, rss_items, 2);
    if (rc >= 0) rc = procps_pids_new(&smaps, smaps_items, 3);
    if (rc < 0) {
      release();
      throw std::system_error(-rc, std::generic_category(),
                              "cannot create a libproc2 pids context (procps_pids_new)");
    }
  }
  ~Impl() { release(); }

  void release() noexcept {
    if (rss != nullptr) procps_pids_unref(&rss);
    if (smaps != nullptr) procps_pids_unref(&smaps);
    for (auto& [pid, open] : kept) ::close(open.fd);
    kept.clear();
  }

  // Reads /proc/PID/<file> (stat or statm) through its kept fd into buf; the length, or 0 when
  // the process is gone.
  std::size_t read_kept(int pid, const char* file, char* buf, std::size_t cap) {
    auto it = kept.find(pid);
    for (int attempt = 0; attempt < 2; ++attempt) {
      if (it == kept.end()) {
        char path[48];
        std::snprintf(path, sizeof path, "/proc/%d/%s", pid, file);
        int fd = ::open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) return 0;
        if (kept.size() >= kMaxKeptFds) {
          // A tree of hundreds of processes must not eat the fds the supervisor needs: past
          // the bound, read by path and close at once.
          const ssize_t n = ::pread(fd, buf, cap, 0);
          ::close(fd);
          return n > 0 ? static_cast<std::size_t>(n) : 0;
        }
        it = kept.emplace(pid, Open{fd, tick}).first;
      }
      it->second.tick = tick;
      const ssize_t n = ::pread(it->second.fd, buf, cap, 0);
      if (n > 0) return static_cast<std::size_t>(n);
      // The task behind the fd has exited (ESRCH or empty): a live process may now hold the
      // pid, so open it once more by path.
      ::close(it->second.fd);
      kept.erase(it);
      it = kept.end();
    }
    return 0;
  }

  void sample_kept(const std::vector<int>& pids, MemorySample& s, std::vector<ProcessRow>* rows) {
    ++tick;
    const bool stat = source == RssSource::stat;
    std::uint64_t cpu_ticks = 0;
    char buf[1024];
    for (int pid : pids) {
      if (pid <= 0) continue;
      const std::size_t n = read_kept(pid, stat ? "stat" : "statm", buf, sizeof buf);
      const std::string_view text(buf, n);
      if (!stat) {
        const std::int64_t kib = n > 0 ? parse_statm_rss_kib(text, page_kib) : -1;
        if (kib < 0) continue;  // vanished since the tree walk
        s.rss_kib += kib;
        ++s.processes;
        continue;
      }
      const ProcStatLine st = n > 0 ? parse_proc_stat(text) : ProcStatLine{};
      if (!st.ok || st.rss_pages < 0) continue;
      s.rss_kib += st.rss_pages * page_kib;
      cpu_ticks += st.utime + st.stime + st.cutime + st.cstime;
      s.threads += st.threads;
      ++s.processes;
      // No row for a process on its way out (exiting, or a zombie): its memory is being torn
      // down, so its cmdline and smaps read as garbage or nothing. Its CPU stays in the sum.
      constexpr std::uint64_t kPfExiting = 0x4;
      const bool leaving = st.state == 'Z' || st.state == 'X' || (st.flags & kPfExiting) != 0;
      if (rows && !leaving) {
        ProcessRow r;
        r.pid = pid;
        r.ppid = st.ppid;
        r.name = st.comm;
        r.argv0 = argv0_of(pid);
        r.rss_kib = st.rss_pages * page_kib;
        r.cpu_ms = static_cast<double>(st.utime + st.stime) * ms_per_tick;
        r.threads = st.threads;
        add_thread_schedstat(pid, r);
        rows->push_back(std::move(r));
      }
    }
    if (stat) s.cpu_ms = static_cast<double>(cpu_ticks) * ms_per_tick;
    // Drop fds of processes that left the tree, so they are not held open forever.
    for (auto it = kept.begin(); it != kept.end();) {
      if (it->second.tick != tick) {
        ::close(it->second.fd);
        it = kept.erase(it);
      } else {
        ++it;
      }
    }
  }

  // The schedstat sums of every live thread of `pid` into the row.
  static void add_thread_schedstat(int pid, ProcessRow& r) {
    char path[48];
    std::snprintf(path, sizeof path, "/proc/%d/task", pid);
    DIR* dir = ::opendir(path);
    if (dir == nullptr) return;
    std::string text;
    while (dirent* ent = ::readdir(dir)) {
      if (ent->d_name[0] < '0' || ent->d_name[0] > '9') continue;
      char file[sizeof ent->d_name + 16];
      std::snprintf(file, sizeof file, "%s/schedstat", ent->d_name);
      std::uint64_t run = 0, wait = 0;
      if (read_proc_file(file, text, ::dirfd(dir)) && parse_schedstat(text, run, wait)) {
        r.run_ns += run;
        r.wait_ns += wait;
      }
    }
    ::closedir(dir);
  }

  // argv[0] of a process, at most 256 bytes, "" when unreadable (gone, or a zombie).
  static std::string argv0_of(int pid) {
    char path[48];
    std::snprintf(path, sizeof path, "/proc/%d/cmdline", pid);
    std::string text;
    if (!read_proc_file(path, text)) return {};
    text.resize(std::min<std::size_t>(text.find('\0'), 256));
    return text;
  }

  // RSS alone through libproc2 (status), the comparison path of RssSource::libproc2.
  void sample_libproc2_rss(const std::vector<int>& pids, MemorySample& s) {
    select(rss, pids, "cannot read /proc/PID/status of the sampled processes (procps_pids_select)",
           [&](pids_stack* st) {
             s.rss_kib += static_cast<std::int64_t>(PIDS_VAL(kRssRss, ul_int, st, rss));
             ++s.processes;
           });
  }

  // PSS and USS of `pids` from smaps_rollup, added to the sample and to the rows of their pids.
  void sample_smaps(const std::vector<int>& pids, MemorySample& s, std::vector<ProcessRow>* rows) {
    s.pss_kib = 0;
    s.uss_kib = 0;
    std::unordered_map<int, ProcessRow*> by_pid;
    if (rows)
      for (ProcessRow& r : *rows) by_pid.emplace(r.pid, &r);
    select(smaps, pids,
           "cannot read /proc/PID/smaps_rollup of the sampled processes (procps_pids_select)",
           [&](pids_stack* st) {
             const auto pss = static_cast<std::int64_t>(PIDS_VAL(kSmPss, ul_int, st, smaps));
             const auto uss = static_cast<std::int64_t>(PIDS_VAL(kSmUss, ul_int, st, smaps));
             s.pss_kib += pss;
             s.uss_kib += uss;
             const int pid = PIDS_VAL(kSmPid, s_int, st, smaps);
             if (auto it = by_pid.find(pid); it != by_pid.end()) {
               it->second->pss_kib = pss;
               it->second->uss_kib = uss;
             }
           });
  }

  template <class OnStack>
  void select(pids_info* info, const std::vector<int>& pids, const char* what, OnStack on_stack) {
    // libproc2 selects at most 255 ids per call (FILL_ID_MAX).
    constexpr std::size_t kChunk = 255;
    std::vector<unsigned> ids;
    for (std::size_t off = 0; off < pids.size(); off += kChunk) {
      std::size_t n = std::min(kChunk, pids.size() - off);
      ids.assign(pids.begin() + static_cast<std::ptrdiff_t>(off),
                 pids.begin() + static_cast<std::ptrdiff_t>(off + n));
      pids_fetch* got = procps_pids_select(info, ids.data(), static_cast<int>(n), PIDS_SELECT_PID);
      if (got == nullptr) throw std::system_error(errno, std::generic_category(), what);
      // Pids that vanished since the tree walk are simply absent from the result.
      for (int k = 0; k < got->counts->total; ++k) on_stack(got->stacks[k]);
    }
  }
};

MemorySampler::MemorySampler(RssSource source) : impl_(std::make_unique<Impl>(source)) {}
MemorySampler::~MemorySampler() = default;

double MemorySampler::last_smaps_cpu_ms() const {
  return impl_->last_smaps_cpu_ms;
}

MemorySample MemorySampler::sample(const std::vector<int>& pids, bool with_smaps,
                                   std::vector<ProcessRow>* rows) {
  MemorySample s;
  if (impl_->source == RssSource::libproc2)
    impl_->sample_libproc2_rss(pids, s);
  else
    impl_->sample_kept(pids, s, rows);
  if (with_smaps) {
    double start = thread_cpu_ms();
    impl_->sample_smaps(pids, s, rows);
    impl_->last_smaps_cpu_ms = thread_cpu_ms() - start;
  }
  return s;
}

}  // namespace harness
