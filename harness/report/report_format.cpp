#include "harness/report/report_format.hpp"

#include <cmath>

#include <fmt/format.h>

namespace harness {

std::string display_kib(std::int64_t kib) {
  if (kib < 0) return "?";
  return display_kib(std::optional<double>(static_cast<double>(kib)));
}

std::string display_kib(std::optional<double> kib) {
  if (!kib || !std::isfinite(*kib)) return "?";
  const double v = *kib;
  const double a = std::fabs(v);
  if (a < 1024) return fmt::format("{:.0f} KiB", v);
  if (a < 1024.0 * 1024) return fmt::format("{:.1f} MiB", v / 1024);
  return fmt::format("{:.2f} GiB", v / (1024.0 * 1024));
}

std::string display_seconds(double s) {
  if (!std::isfinite(s)) return "?";
  if (s < 1) return fmt::format("{:.0f} ms", s * 1000);
  if (s < 10) return fmt::format("{:.3f} s", s);
  return fmt::format("{:.1f} s", s);
}

std::string format_ms(std::optional<double> ms) {
  if (!ms || !std::isfinite(*ms)) return "?";
  return fmt::format("{:.1f} ms", *ms);
}

std::string format_number(double v, int decimals) {
  if (!std::isfinite(v)) return "?";
  return fmt::format("{:.{}f}", v, decimals);
}

std::string format_params(const nlohmann::json& params) {
  if (!params.is_object()) return params.is_null() ? "" : params.dump();
  std::string out;
  for (const auto& [key, value] : params.items()) {
    if (!out.empty()) out += ", ";
    out +=
        key + "=" +
        (value.is_string() ? value.get<std::string>()
                           : value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  }
  return out;
}

}  // namespace harness
