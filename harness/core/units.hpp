#pragma once
// Durations and sizes as scenario files write them: "250ms", "30s", "2m"; "512KiB", "600MiB",
// "8GiB". The parsers are strict: a number, optional spaces, then a unit from the list; anything
// else throws std::invalid_argument whose message shows the accepted forms, ready to be put
// after "file:line:col: error: ". Decimal units (KB, MB, GB) are refused on purpose: memory
// figures in this project are binary (KiB) and a silent 1000-vs-1024 mix-up skews budgets.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace harness {

// "ms", "s", "m", "h"; fractions allowed ("1.5s"); the result is rounded to whole
// milliseconds and must not round a non-zero value to zero.
std::chrono::milliseconds parse_duration(std::string_view text);

// "B", "KiB", "MiB", "GiB", "TiB"; fractions allowed ("1.5GiB"); the result is in bytes.
std::int64_t parse_size(std::string_view text);

// A share: "10%" or a plain number of percent ("10", "2.5 %") -> 0.10; no sign, no exponent.
double parse_percent(std::string_view text);

// Inverse forms for messages and reports: the largest unit that keeps the value short.
// 1500ms -> "1.5s", 120000ms -> "2m", 250ms -> "250ms".
std::string format_duration(std::chrono::milliseconds d);
std::string format_seconds(double seconds);  // 2.0034 -> "2.003s", 0.25 -> "250ms"
// 629145600 -> "600MiB", 1536 -> "1.5KiB", 100 -> "100B".
std::string format_size(std::int64_t bytes);
inline std::string format_kib(std::int64_t kib) {
  return format_size(kib * 1024);
}

}  // namespace harness
