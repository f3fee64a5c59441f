#include "harness/core/units.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <stdexcept>

namespace harness {
namespace {

struct Unit {
  std::string_view name;
  double factor;
};

constexpr std::array<Unit, 4> kDurationUnits{{{"ms", 1}, {"s", 1e3}, {"m", 60e3}, {"h", 3600e3}}};
constexpr std::array<Unit, 5> kSizeUnits{{{"B", 1},
                                          {"KiB", 1024.0},
                                          {"MiB", 1024.0 * 1024},
                                          {"GiB", 1024.0 * 1024 * 1024},
                                          {"TiB", 1024.0 * 1024 * 1024 * 1024}}};

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// Splits "12.5 MiB" into 12.5 and "MiB". Only plain decimal numbers: no sign, no exponent, so
// "-1s" and "1e3ms" are refused rather than half-understood.
bool split_number(std::string_view text, double& number, std::string_view& unit) {
  std::size_t i = 0;
  while (i < text.size() && is_digit(text[i])) ++i;
  std::size_t int_digits = i;
  if (i < text.size() && text[i] == '.') {
    ++i;
    std::size_t frac_start = i;
    while (i < text.size() && is_digit(text[i])) ++i;
    if (i == frac_start) return false;
  }
  if (int_digits == 0) return false;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + i, number);
  if (ec != std::errc() || ptr != text.data() + i) return false;
  while (i < text.size() && text[i] == ' ') ++i;
  unit = text.substr(i);
  return true;
}

template <std::size_t N>
const Unit* find_unit(const std::array<Unit, N>& units, std::string_view name) {
  for (const auto& u : units)
    if (u.name == name) return &u;
  return nullptr;
}

std::string trim_number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3f", v);
  std::string s = buf;
  while (!s.empty() && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

}  // namespace

std::chrono::milliseconds parse_duration(std::string_view text) {
  const std::string hint = "write a number followed by ms, s, m or h, e.g. 250ms, 30s, 2m";
  double number = 0;
  std::string_view unit;
  if (!split_number(text, number, unit))
    throw std::invalid_argument("invalid duration '" + std::string(text) + "': " + hint);
  if (unit.empty())
    throw std::invalid_argument("duration '" + std::string(text) + "' has no unit: " + hint);
  const Unit* u = find_unit(kDurationUnits, unit);
  if (u == nullptr)
    throw std::invalid_argument("unknown duration unit '" + std::string(unit) + "' in '" +
                                std::string(text) + "': " + hint);
  double ms = number * u->factor;
  // A year is far past any sane deadline; the cap keeps the conversion defined.
  if (ms > 365.0 * 24 * 3600e3)
    throw std::invalid_argument("duration '" + std::string(text) + "' is longer than a year");
  auto rounded = static_cast<std::int64_t>(std::llround(ms));
  if (rounded == 0 && number != 0)
    throw std::invalid_argument("duration '" + std::string(text) +
                                "' is shorter than 1ms, the smallest step the harness keeps");
  return std::chrono::milliseconds(rounded);
}

std::int64_t parse_size(std::string_view text) {
  const std::string hint =
      "write a number followed by B, KiB, MiB or GiB, e.g. 512KiB, 600MiB, 8GiB";
  double number = 0;
  std::string_view unit;
  if (!split_number(text, number, unit))
    throw std::invalid_argument("invalid size '" + std::string(text) + "': " + hint);
  if (unit.empty())
    throw std::invalid_argument("size '" + std::string(text) + "' has no unit: " + hint);
  const Unit* u = find_unit(kSizeUnits, unit);
  if (u == nullptr) {
    std::string msg =
        "unknown size unit '" + std::string(unit) + "' in '" + std::string(text) + "'";
    if (unit == "KB" || unit == "kB" || unit == "MB" || unit == "GB" || unit == "TB" ||
        unit == "K" || unit == "M" || unit == "G")
      msg += " (sizes are binary: write " + trim_number(number) +
             std::string(1, unit[0] == 'k' ? 'K' : unit[0]) + "iB)";
    throw std::invalid_argument(msg + ": " + hint);
  }
  double bytes = number * u->factor;
  if (bytes > static_cast<double>(std::numeric_limits<std::int64_t>::max() / 2))
    throw std::invalid_argument("size '" + std::string(text) + "' is too large");
  return static_cast<std::int64_t>(std::llround(bytes));
}

double parse_percent(std::string_view text) {
  const std::string hint = "write a number of percent, e.g. 10% or 2.5%";
  double number = 0;
  std::string_view unit;
  if (!split_number(text, number, unit))
    throw std::invalid_argument("invalid percentage '" + std::string(text) + "': " + hint);
  if (!unit.empty() && unit != "%")
    throw std::invalid_argument("unknown unit '" + std::string(unit) + "' in percentage '" +
                                std::string(text) + "': " + hint);
  return number / 100.0;
}

std::string format_duration(std::chrono::milliseconds d) {
  return format_seconds(static_cast<double>(d.count()) / 1000.0);
}

std::string format_seconds(double seconds) {
  if (seconds < 0) return "-" + format_seconds(-seconds);
  if (seconds < 1) return trim_number(seconds * 1000) + "ms";
  if (seconds < 120 || std::fmod(seconds, 60) != 0) return trim_number(seconds) + "s";
  if (std::fmod(seconds, 3600) == 0) return trim_number(seconds / 3600) + "h";
  return trim_number(seconds / 60) + "m";
}

std::string format_size(std::int64_t bytes) {
  if (bytes < 0) return "-" + format_size(-bytes);
  for (auto it = kSizeUnits.rbegin(); it != kSizeUnits.rend(); ++it) {
    if (static_cast<double>(bytes) >= it->factor) {
      double v = static_cast<double>(bytes) / it->factor;
      char buf[64];
      // One decimal is enough to compare against a budget; exact values print without one.
      if (v == std::floor(v))
        std::snprintf(buf, sizeof buf, "%.0f", v);
      else
        std::snprintf(buf, sizeof buf, "%.1f", v);
      return std::string(buf) + std::string(it->name);
    }
  }
  return std::to_string(bytes) + "B";
}

}  // namespace harness
