#pragma once
// The words failures use to describe what a worker did: its ending, its own explanation, and
// bounded, escaped excerpts of what it printed (a failure stays one readable line).

#include <cstddef>
#include <string>
#include <string_view>

#include "harness/core/result.hpp"

namespace harness {

// `s` cut to `limit` bytes ("..." added), with quotes, backslashes and control bytes escaped.
std::string printable(std::string_view s, std::size_t limit = 100);

// The last non-blank line of `text`.
std::string last_line(std::string_view text);

// " (error: \"...\")" from the last error event, else " (stderr: \"...\")" from the last line
// of stderr, else "": what a reader of a failure most wants to see.
std::string context(const ProcessResult& p);

// "3", "signal SIGKILL", "no process (...)", "no exit status".
std::string ending(const ProcessResult& p);

// The last event of `type`, or null.
const Event* last_event(const ProcessResult& p, const std::string& type);

}  // namespace harness
