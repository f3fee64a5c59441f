#pragma once
// The worker protocol (docs/protocol.md): one stdout line is either a protocol
// event (a JSON object whose "event" is a string), log text (anything else), or a protocol
// violation (a line that tries to be an event and fails: a JSON object with a non-string
// "event", or a line starting with `{"event"` that is not valid JSON). Parsing never throws,
// whatever bytes the line holds (invalid UTF-8 included).

#include <string>
#include <string_view>

#include "harness/core/result.hpp"

namespace harness {

// Deeper event lines are violations (or log text when they are not trying to be events).
inline constexpr int kMaxEventDepth = 64;

struct ParsedLine {
  enum class Kind { log, event, violation };
  Kind kind = Kind::log;
  Event event;            // kind == event: type and body; t_ms is the caller's to set
  std::string violation;  // kind == violation: why, with an excerpt of the line
};

// `line` without its terminating newline (a trailing '\r' is ignored). A number literal beyond
// a double's range (1e999, a 400-digit integer) is valid JSON that nlohmann refuses: it is kept
// as a string of its text.
ParsedLine parse_protocol_line(std::string_view line);

// Whether `line` looks like an attempt at an event (`{` then optional spaces then `"event"`);
// used for lines too long to parse, which then count as violations rather than log text.
bool looks_like_event(std::string_view line);

// A printable excerpt of at most `max` bytes: bytes outside printable ASCII become \xNN.
std::string excerpt(std::string_view text, std::size_t max = 120);

}  // namespace harness
