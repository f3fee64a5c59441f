#pragma once
// The parsed values of the expectations that are not a plain bool, number, string, duration
// (std::chrono::milliseconds) or size (KiB as std::int64_t): what Expect::get<T>(key) returns.

#include <optional>
#include <string>

#include "harness/judge/bounds.hpp"
#include "harness/judge/pattern.hpp"

namespace harness {

struct ExitCodeExpectation {  // exit_code
  enum class Kind { kEquals, kNonZero, kAny };
  Kind kind = Kind::kEquals;
  int value = 0;
};

struct FieldExpectation {  // one entry of result (a std::vector of them)
  std::string field;       // a key of the `result` event; "a.b" reaches into nested objects
  Bounds bounds;
};

struct ErrorExpectation {  // error
  std::optional<std::string> type;
  std::optional<Pattern> message;
};

}  // namespace harness
