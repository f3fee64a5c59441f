#pragma once
// Memory and CPU of a worker's process tree, read from /proc.
//
// What reads cost the harness (CPU time, bench/sampler_bench.cpp, medians; the first figures were
// measured on a 2-core machine at load 8-10, so read them as upper bounds):
//   process_tree, 1 process               2.6-4.4 us, plus ~3-4 us per further process: a
//                                         single-threaded process's children file is read by
//                                         its path, a threaded one's task folder is listed
//                                         (that was 11-12 us per process for all of them)
//   RSS, CPU time and threads, stat fd    ~3.5 us more per process than statm (the kernel sums
//     kept open (default)                 every thread's times to write stat): a whole tick
//                                         with the tree walk is 4.7-6.8 us for one process,
//                                         49-69 us for a tree of ten (idle machine, 3 x 5
//                                         repetitions)
//   RSS, statm fd kept open               1.3-1.7 us per process
//   RSS, libproc2 PIDS_VM_RSS select      42-52 us per process: on every select libproc2 reads
//                                         /proc/uptime, reads status twice (once to learn the
//                                         tgid) and stats /proc/PID
//   PSS/USS, libproc2 smaps_rollup        84 us for a 1.7 MiB process, 7.9-13.4 ms for a 500 MiB
//                                         one: the kernel walks the page tables, so the cost
//                                         grows with resident memory (16-27 us per MiB)
//   per-process rows with a PSS/USS read  cmdline and every thread's schedstat: 677 us for a tree
//                                         of ten small processes (smaps included)
// So RSS and CPU are read every tick: at the default 10 ms, 0.07 % of a core for a one-process
// worker (0.5-0.7 % for a tree of ten; BM_Tick's core_pct_at_10ms). PSS/USS is read through
// SmapsPacer, which keeps the whole sampling of a worker (ticks and smaps reads) under 1.8 % of
// a core: a read that took C of CPU, after ticks that took a share T, puts the next one
// max(smaps_interval, C / (1.8 % - T)) later. BM_PacedSampling (10 s of 10 ms ticks, idle
// machine): ten small processes 0.5-0.9 % of a core, ten of 100 MiB 1.1-1.5 %, one of 500 MiB
// 0.4 %, each read once a second at the default smaps_interval; a tree whose reads cost more
// is read less often instead of costing more. A fixed rate cannot do that: every 250 ms would be
// 3-5 % of a core at 500 MiB. Callers also read PSS/USS at `ready` and at the end, outside the
// pacer, so the phase figures never miss them.
//
// Processes that exit between the tree walk and the sample are not an error: a sample sums what
// was still alive and says how many (MemorySample::processes).

#include <fcntl.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "harness/core/result.hpp"

namespace harness {

// The pids of `root` and all its live descendants (root first, then breadth first), found
// through /proc/PID/task/TID/children of every thread (a child belongs to the thread that forked
// it). Empty when root is gone. A descendant whose parent exits mid-walk is reparented out of
// the tree and missed until then, like any /proc walk.
std::vector<int> process_tree(int root);

// Reads a small /proc file whole with read(2). False when it cannot be opened or read (the
// process is gone, or never existed): callers treat that as "not there", never as an error.
// (std::istreambuf_iterator over an ifstream throws instead when read fails with ESRCH, which
// happens whenever the process exits between open and read.)
bool read_proc_file(const char* path, std::string& out, int dirfd = AT_FDCWD);

// RSS of the calling process (the harness itself), in KiB; -1 if /proc is unreadable.
std::int64_t self_rss_kib();

// VmHWM of one process in KiB, -1 when it is gone (or a zombie: it has no memory left).
std::int64_t vm_hwm_kib(int pid);

// Parsers of /proc text, separated from I/O so tests feed recorded files (tests/data/proc/).
// Missing or malformed values are -1.
std::int64_t parse_status_field_kib(std::string_view status_text,
                                    std::string_view field);  // "VmHWM"
struct SmapsRollup {
  std::int64_t rss_kib = -1, pss_kib = -1, uss_kib = -1;  // uss = Private_Clean + Private_Dirty
};
SmapsRollup parse_smaps_rollup(std::string_view text);
std::vector<int> parse_children(std::string_view text);  // "123 456 \n"
// The resident field (2nd) of /proc/PID/statm, converted from pages.
std::int64_t parse_statm_rss_kib(std::string_view text, std::int64_t page_kib);

// The fields of one /proc/PID/stat line that the harness uses. Times are in clock ticks
// (sysconf(_SC_CLK_TCK), 100 a second on Linux); cutime/cstime are what the process's children
// used once it waited for them. ok is false when the line does not parse.
struct ProcStatLine {
  bool ok = false;
  std::string comm;  // between the first '(' and the last ')': it may hold both
  char state = 0;
  int ppid = 0;
  int pgrp = -1;
  std::uint64_t flags = 0;  // the kernel's PF_* bits; PF_EXITING (0x4) while it tears down
  std::uint64_t utime = 0, stime = 0, cutime = 0, cstime = 0;
  int threads = 0;
  std::uint64_t start_time = 0;  // clock ticks after boot
  std::int64_t rss_pages = -1;
};
ProcStatLine parse_proc_stat(std::string_view text);

// /proc/PID/task/TID/schedstat: "run_ns wait_ns timeslices", time on a CPU and time runnable on
// a run queue. False when the text is not that.
bool parse_schedstat(std::string_view text, std::uint64_t& run_ns, std::uint64_t& wait_ns);

// Where a sample without PSS/USS reads from. All give VmRSS. `stat` (the default) keeps one fd
// per sampled process open on /proc/PID/stat between ticks and also gives CPU time and threads;
// `statm` is the same for RSS alone; libproc2 is kept for comparison (~20x dearer). Only `stat`
// fills MemorySample::cpu_ms and threads (the others leave -1 and 0).
enum class RssSource { stat, statm, libproc2 };

// Samples one tree. Not thread-safe; one per supervising thread. Holds one open fd per process
// sampled on the last RSS tick (closed when the process leaves the list or the sampler dies).
class MemorySampler {
 public:
  explicit MemorySampler(RssSource rss_source = RssSource::stat);
  ~MemorySampler();
  MemorySampler(const MemorySampler&) = delete;
  MemorySampler& operator=(const MemorySampler&) = delete;

  // Sums over `pids`; with_smaps adds PSS and USS (expensive, read through libproc2), otherwise
  // they stay -1. t_ms is left 0 for the caller to stamp. With `rows`, it also gets one row per
  // process read (its own CPU, not its children's; PSS/USS when with_smaps; argv[0] from
  // /proc/PID/cmdline and its threads' schedstat, so ask for rows only at the smaps cadence).
  // Throws std::system_error only when libproc2 itself fails (out of memory), never because a
  // process is gone.
  MemorySample sample(const std::vector<int>& pids, bool with_smaps,
                      std::vector<ProcessRow>* rows = nullptr);

  // CPU time (this thread's) that the last with_smaps sample took, for SmapsPacer::record.
  double last_smaps_cpu_ms() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Decides when the next PSS/USS read of one worker is due, so that everything the sampler spends
// on it (the RSS/CPU tick every sample_interval and the smaps reads) stays under `budget` of one
// core: after a smaps read that took C ms of CPU, while the ticks since the previous read took a
// share T of a core, the next read is due max(min_interval_ms, C / max(budget - T, floor))
// later. So a big worker or a tree of many processes, whose reads cost more, is read less often
// instead of costing more, and a tree so large that its ticks alone take the budget still gets a
// PSS read at `floor`. Times are the caller's clock in ms (e.g. since spawn). The first read is
// due at once; reads the caller takes outside it (at `ready`, at a result) are recorded too.
class SmapsPacer {
 public:
  explicit SmapsPacer(double min_interval_ms = 250, double budget = kBudget, double floor = kFloor);
  static constexpr double kBudget = 0.018;  // under the 2 % of a core the sampler may take
  static constexpr double kFloor = 0.002;
  bool due(double now_ms) const { return now_ms >= next_ms_; }
  void tick(double cost_ms) { tick_cost_ms_ += cost_ms; }  // a sample without smaps
  void record(double now_ms, double cost_ms);              // a sample with smaps
  double next_ms() const { return next_ms_; }
  double tick_share() const { return last_tick_share_; }  // of the last interval

 private:
  double min_interval_ms_, budget_, floor_;
  double next_ms_ = 0;
  double last_read_ms_ = -1;
  double tick_cost_ms_ = 0;
  double last_tick_share_ = 0;
};

// CPU time of the calling thread in ms: what a read costs the harness, whatever the load.
double thread_cpu_ms();

}  // namespace harness
