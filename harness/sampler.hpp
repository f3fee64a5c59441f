#pragma once
// Memory of a worker's process tree, read from /proc through libproc2.
//
// Cost, measured with libproc2 on this project's machines: an RSS read is ~30 us per process; a
// PSS/USS read (smaps_rollup) makes the kernel walk the page tables, ~3.6 ms for a 300 MiB
// process. So callers read RSS every tick and PSS/USS only when asked (see MemorySampler).

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "harness/result.hpp"

namespace harness {

// The pids of `root` and all its live descendants (root first), found through
// /proc/PID/task/TID/children. Empty when root is gone.
std::vector<int> process_tree(int root);

// RSS of the calling process (the harness itself), in KiB.
std::int64_t self_rss_kib();

// VmHWM of one process in KiB, -1 when it is gone.
std::int64_t vm_hwm_kib(int pid);

// Parsers of /proc text, separated from I/O so tests feed recorded files (tests/data/).
std::int64_t parse_status_field_kib(std::string_view status_text,
                                    std::string_view field);  // "VmHWM"
struct SmapsRollup {
  std::int64_t rss_kib = -1, pss_kib = -1, uss_kib = -1;  // uss = Private_Clean + Private_Dirty
};
SmapsRollup parse_smaps_rollup(std::string_view text);
std::vector<int> parse_children(std::string_view text);  // "123 456 \n"

// Samples one tree. Not thread-safe; one per supervising thread.
class MemorySampler {
 public:
  MemorySampler();
  ~MemorySampler();
  MemorySampler(const MemorySampler&) = delete;
  MemorySampler& operator=(const MemorySampler&) = delete;

  // Sums over `pids`; with_smaps adds PSS and USS (expensive), otherwise they stay -1.
  MemorySample sample(const std::vector<int>& pids, bool with_smaps);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace harness
