#pragma once
// Bounds on a value of an expectation (`result` fields, byte counts): a value, or
// {min:, max:, eq:}; and the words a failure uses for them.

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace harness {

class YamlReader;
struct YamlEntry;

// Bounds on a number; exact when only `eq` is set.
struct Bounds {
  std::optional<double> min, max;
  std::optional<nlohmann::json> eq;  // equality with any JSON value (numbers compare by value)
};

// A value, or {min:, max:, eq:}. With `sizes`, values are byte counts that may be written as
// sizes ("1MiB"); otherwise min/max are numbers and a value is any JSON value.
std::optional<Bounds> read_bounds(YamlReader& reader, const YamlEntry& e, bool sizes);

// "" when `actual` satisfies b, else "expected X, got Y"; numbers are written by `fmt`.
std::string check_bounds(const Bounds& b, const nlohmann::json& actual,
                         std::string (*fmt)(double) = nullptr);

std::string format_number(double v);  // 100, 8.1
std::string format_bytes(double v);   // "11 bytes"

}  // namespace harness
