#pragma once
// What the harness keeps of a worker's stdout and stderr, fed the bytes as they are read: exact
// byte and line counts, the last `tail_bytes` of each stream, and stdout split into lines that
// are parsed as protocol events (docs/protocol.md). Pure: no process, no I/O, so tests feed it
// bytes in any chunking.
//
// Bounds: a stdout line longer than max_line_bytes is counted and kept in the tail but not
// parsed (a line that looks like an event becomes a violation); at most kMaxViolations
// violations are kept (their number stays exact in violation_count()).

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "harness/core/result.hpp"

namespace harness {

inline constexpr std::size_t kMaxLineBytes = 1 << 20;
inline constexpr std::size_t kMaxViolations = 1000;

class OutputCapture {
 public:
  using EventSink = std::function<void(Event&&)>;

  explicit OutputCapture(std::size_t tail_bytes, std::size_t max_line_bytes = kMaxLineBytes);

  // Stdout bytes; every event completed by them goes to `sink` (t_ms is the caller's to set).
  void add_stdout(std::string_view data, const EventSink& sink);
  void add_stderr(std::string_view data);
  // Stdout reached EOF: a last line without a newline still counts (and may be an event).
  void stdout_closed(const EventSink& sink);
  // A violation found elsewhere (the event store's bound), kept under the same limit.
  void add_violation(std::string text);

  const StreamCapture& out() const { return out_; }
  const StreamCapture& err() const { return err_; }
  const std::vector<std::string>& violations() const { return violations_; }
  std::uint64_t violation_count() const { return violation_count_; }

  // Trims the tails to tail_bytes, sets `truncated`, and moves streams and violations into `r`.
  void finish(ProcessResult& r);

 private:
  void append_tail(StreamCapture& s, std::string_view data) const;
  void end_line(const EventSink& sink);

  std::size_t tail_bytes_;
  std::size_t max_line_bytes_;
  StreamCapture out_, err_;
  std::string line_;            // the stdout line being assembled (at most max_line_bytes_)
  std::size_t line_bytes_ = 0;  // its full length
  bool line_overlong_ = false;
  std::vector<std::string> violations_;
  std::uint64_t violation_count_ = 0;
};

}  // namespace harness
