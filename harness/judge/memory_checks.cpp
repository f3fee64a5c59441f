// Rows of the expectations on memory: peaks over the worker's process tree and what loading the
// model added. Any of them makes the scenario measure memory (it then runs alone).
#include <algorithm>
#include <cstdint>
#include <string>

#include "harness/core/units.hpp"
#include "harness/judge/expectation_rows.hpp"

namespace harness::detail {
namespace {

const char* const kPeakPasses = "peak over the worker's process tree (no measurement fails)";
const char* const kAddedPasses = "RSS at `ready` minus RSS before it: what loading the model added";

// `value` is -1 when it was not measured.
void check_kib(const char* name, std::int64_t limit, std::int64_t value, bool is_max,
               const Judgement& j) {
  const std::string expected =
      std::string(name) + " expected " + (is_max ? "<= " : ">= ") + format_kib(limit);
  if (value < 0)
    j.fail(expected + ", got no measurement");
  else if (is_max ? value > limit : value < limit)
    j.fail(expected + ", got " + format_kib(value));
}

std::int64_t added_kib(const MemoryStats& m) {
  if (m.ready_rss_kib < 0 || m.baseline_rss_kib < 0) return -1;  // no ready sample
  // A negative difference is a real (if odd) measurement: nothing was added.
  return std::max<std::int64_t>(m.ready_rss_kib - m.baseline_rss_kib, 0);
}

enum Limit : bool { kMin = false, kMax = true };

// A row judging the figure `measured` (KiB, -1 when not measured) against the size given.
ExpectRow memory_row(const std::string& key, const char* passes,
                     std::int64_t (*measured)(const MemoryStats&), Limit limit) {
  auto check = [key, measured, limit](std::int64_t want, const Judgement& j) {
    check_kib(key.c_str(), want, measured(j.p().memory), limit == kMax, j);
  };
  return row(key, "size", passes, read_kib, check, {.memory = true});
}

}  // namespace

std::vector<ExpectRow> memory_rows() {
  using M = const MemoryStats&;
  return {
      memory_row(
          "peak_rss_max", kPeakPasses, [](M m) { return m.peak_rss_kib; }, kMax),
      memory_row(
          "peak_pss_max", kPeakPasses, [](M m) { return m.peak_pss_kib; }, kMax),
      memory_row(
          "peak_uss_max", kPeakPasses, [](M m) { return m.peak_uss_kib; }, kMax),
      memory_row("memory_added_max", kAddedPasses, added_kib, kMax),
      memory_row("memory_added_min", kAddedPasses, added_kib, kMin),
  };
}

}  // namespace harness::detail
