#include "harness/core/rate.hpp"

#include <charconv>
#include <cmath>

namespace harness {

std::optional<double> parse_rate(std::string_view t) {
  double per = 1;
  if (t.size() > 2 && t.substr(t.size() - 2) == "/s") {
    t.remove_suffix(2);
  } else if (t.size() > 4 && t.substr(t.size() - 4) == "/min") {
    t.remove_suffix(4);
    per = 60;
  }
  double v = -1;
  const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (ec != std::errc() || end != t.data() + t.size() || !std::isfinite(v) || v < 0)
    return std::nullopt;
  return v / per;
}

}  // namespace harness
