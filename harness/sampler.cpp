#include "harness/sampler.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <libproc2/pids.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <string>
#include <system_error>
#include <unordered_set>

namespace harness {
namespace {

// Reads a small /proc file whole. False when it cannot be opened or read (the process is gone,
// or never existed): callers treat that as "not there", never as an error.
bool read_proc_file(const char* path, std::string& out, int dirfd = AT_FDCWD) {
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
  std::snprintf(path, sizeof path, "/proc/%d/task", root);
  // The root's presence decides emptiness; descendants that vanish mid-walk are just skipped.
  if (::access(path, F_OK) != 0) return tree;
  tree.push_back(root);
  std::unordered_set<int> seen{root};
  std::string text;
  for (std::size_t i = 0; i < tree.size(); ++i) {
    std::snprintf(path, sizeof path, "/proc/%d/task", tree[i]);
    DIR* dir = ::opendir(path);
    if (dir == nullptr) continue;  // exited since its parent listed it
    // A child belongs to the thread that forked it, so every thread's list is read.
    while (dirent* ent = ::readdir(dir)) {
      if (ent->d_name[0] < '0' || ent->d_name[0] > '9') continue;
      char children[sizeof ent->d_name + 16];
      std::snprintf(children, sizeof children, "%s/children", ent->d_name);
      if (!read_proc_file(children, text, ::dirfd(dir))) continue;
      for (int pid : parse_children(text)) {
        if (seen.insert(pid).second) tree.push_back(pid);  // guards against pid reuse cycles
      }
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

// Two libproc2 contexts, because the item list decides which /proc files a select reads: the
// RSS one reads only status, the smaps one adds smaps_rollup (the page-table walk).
struct MemorySampler::Impl {
  pids_info* rss = nullptr;
  pids_info* smaps = nullptr;

  enum RssItem { kRssPid, kRssRss };
  enum SmapsItem { kSmPid, kSmRss, kSmPss, kSmUss };

  Impl() {
    pids_item rss_items[] = {PIDS_ID_PID, PIDS_VM_RSS};
    pids_item smaps_items[] = {PIDS_ID_PID, PIDS_VM_RSS, PIDS_SMAP_PSS, PIDS_SMAP_PRV_TOTAL};
    int rc = procps_pids_new(&rss, rss_items, 2);
    if (rc >= 0) rc = procps_pids_new(&smaps, smaps_items, 4);
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
  }
};

MemorySampler::MemorySampler() : impl_(std::make_unique<Impl>()) {}
MemorySampler::~MemorySampler() = default;

MemorySample MemorySampler::sample(const std::vector<int>& pids, bool with_smaps) {
  MemorySample s;
  if (with_smaps) {
    s.pss_kib = 0;
    s.uss_kib = 0;
  }
  pids_info* info = with_smaps ? impl_->smaps : impl_->rss;
  // libproc2 selects at most 255 ids per call (FILL_ID_MAX).
  constexpr std::size_t kChunk = 255;
  std::vector<unsigned> ids;
  for (std::size_t off = 0; off < pids.size(); off += kChunk) {
    std::size_t n = std::min(kChunk, pids.size() - off);
    ids.assign(pids.begin() + static_cast<std::ptrdiff_t>(off),
               pids.begin() + static_cast<std::ptrdiff_t>(off + n));
    pids_fetch* got = procps_pids_select(info, ids.data(), static_cast<int>(n), PIDS_SELECT_PID);
    if (got == nullptr) {
      throw std::system_error(errno, std::generic_category(),
                              "cannot read /proc/PID/status of the sampled processes "
                              "(procps_pids_select)");
    }
    // Pids that vanished since the tree walk are simply absent from the result.
    for (int k = 0; k < got->counts->total; ++k) {
      pids_stack* st = got->stacks[k];
      ++s.processes;
      if (with_smaps) {
        s.rss_kib += static_cast<std::int64_t>(PIDS_VAL(Impl::kSmRss, ul_int, st, info));
        s.pss_kib += static_cast<std::int64_t>(PIDS_VAL(Impl::kSmPss, ul_int, st, info));
        s.uss_kib += static_cast<std::int64_t>(PIDS_VAL(Impl::kSmUss, ul_int, st, info));
      } else {
        s.rss_kib += static_cast<std::int64_t>(PIDS_VAL(Impl::kRssRss, ul_int, st, info));
      }
    }
  }
  return s;
}

}  // namespace harness
