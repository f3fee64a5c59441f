#pragma once
// Rates in scenario files: "4/s", "0.5/s", "120/min" or a bare number, per second.

#include <optional>
#include <string_view>

namespace harness {

// The rate per second, finite and >= 0; nullopt for anything else. Callers apply their bounds.
std::optional<double> parse_rate(std::string_view text);

}  // namespace harness
