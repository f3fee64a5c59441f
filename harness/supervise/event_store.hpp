#pragma once
// The events of one instance, kept within a bound whatever the worker prints: the first ones,
// the last ones, and every `result` and `error` in between (up to their own bound), each part
// limited by count and by bytes. Every event is counted by type, exactly. A worker printing
// 100,000 progress events a second for an hour costs the harness a few MiB, and its final
// `result` is still there for the judge.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <vector>

#include "harness/core/result.hpp"

namespace harness {

struct EventLimits {
  std::size_t first_count = 1000, first_bytes = 2 << 20;
  std::size_t last_count = 1000, last_bytes = 2 << 20;
  std::size_t outcome_count = 10000, outcome_bytes = 8 << 20;  // result and error events
  std::size_t max_types = 256;
};

class EventStore {
 public:
  explicit EventStore(EventLimits limits = {});

  void add(Event ev);
  // Moves the kept events (in arrival order), the counts and the dropped count into `r`.
  void finish(ProcessResult& r);

  std::uint64_t total() const { return total_; }

 private:
  static std::size_t cost(const Event& ev);
  static bool is_outcome(const Event& ev);
  void keep_outcome(Event ev);

  EventLimits lim_;
  std::vector<Event> first_;
  std::size_t first_bytes_ = 0;
  bool first_full_ = false;
  std::deque<Event> outcomes_;  // evicted from the ring, kept for being results or errors
  std::size_t outcome_bytes_ = 0;
  std::deque<Event> last_;  // ring of the most recent events after the first ones
  std::size_t last_bytes_ = 0;
  std::map<std::string, std::uint64_t> counts_;
  std::uint64_t total_ = 0;
  std::uint64_t dropped_ = 0;
};

}  // namespace harness
