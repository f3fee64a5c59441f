#pragma once
// Memory of a worker's process tree, read from /proc.
//
// What a tick costs (CPU time of the harness, bench/sampler_bench.cpp; figures in the hand-over
// of issue 2, measured on a loaded 2-core machine, so upper bounds):
//   process_tree, 1 process                  ~15 us   (+ ~13 us per further process)
//   RSS, statm fd kept open (default)        ~2 us per process
//   RSS, libproc2 PIDS_VM_RSS select         ~40 us per process: libproc2 reads /proc/uptime,
//                                            status twice (once to learn the tgid) and stats
//                                            /proc/PID on every select
//   PSS/USS, libproc2 smaps_rollup select    ~0.1 ms small process, ~8 ms at 500 MiB resident:
//                                            the kernel walks the page tables, so the cost grows
//                                            with resident memory (~16 us per MiB)
// So RSS is read every tick (10 ms by default: ~0.2 % of a core for a one-process worker) and
// PSS/USS adaptively, through SmapsPacer: after a smaps read that took C, the next one comes no
// sooner than max(250 ms, C / 1 %). That keeps smaps reads under 1 % of a core whatever the
// worker's size (a 500 MiB worker gets PSS/USS about every 0.8 s, a small one every 250 ms),
// and the whole sampler under 2 %. Callers also read PSS/USS once at `ready` and at the end.
//
// Processes that exit between the tree walk and the sample are not an error: a sample sums what
// was still alive and says how many (MemorySample::processes).

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "harness/result.hpp"

namespace harness {

// The pids of `root` and all its live descendants (root first, then breadth first), found
// through /proc/PID/task/TID/children of every thread (a child belongs to the thread that forked
// it). Empty when root is gone. A descendant whose parent exits mid-walk is reparented out of
// the tree and missed until then, like any /proc walk.
std::vector<int> process_tree(int root);

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

// Where an RSS-only sample reads from. Both give VmRSS; statm keeps one fd per sampled process
// open between ticks and is ~20x cheaper. libproc2 is kept for comparison and as a fallback.
enum class RssSource { statm, libproc2 };

// Samples one tree. Not thread-safe; one per supervising thread. Holds one open fd per process
// sampled on the last RSS tick (closed when the process leaves the list or the sampler dies).
class MemorySampler {
 public:
  explicit MemorySampler(RssSource rss_source = RssSource::statm);
  ~MemorySampler();
  MemorySampler(const MemorySampler&) = delete;
  MemorySampler& operator=(const MemorySampler&) = delete;

  // Sums over `pids`; with_smaps adds PSS and USS (expensive, read through libproc2), otherwise
  // they stay -1. t_ms is left 0 for the caller to stamp. Throws std::system_error only when
  // libproc2 itself fails (out of memory), never because a process is gone.
  MemorySample sample(const std::vector<int>& pids, bool with_smaps);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Decides when the next PSS/USS read is due, so that smaps reads cost at most `budget` of one
// core: after a read that took cost_ms, the next is due max(min_interval_ms, cost_ms / budget)
// later. Times are the caller's clock in ms (e.g. since spawn). The first read is due at once.
class SmapsPacer {
 public:
  explicit SmapsPacer(double budget = 0.01, double min_interval_ms = 250);
  bool due(double now_ms) const { return now_ms >= next_ms_; }
  void record(double now_ms, double cost_ms);
  double next_ms() const { return next_ms_; }

 private:
  double budget_, min_interval_ms_;
  double next_ms_ = 0;
};

}  // namespace harness
