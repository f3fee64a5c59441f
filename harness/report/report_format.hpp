#pragma once
// Human formatting of report figures, shared by the Markdown and HTML reports so both say the
// same thing the same way. Unknown values (-1 memory, nullopt) print as "?".

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace harness {

std::string display_kib(std::int64_t kib);  // "512 KiB", "180.2 MiB", "1.50 GiB"; -1 -> "?"
std::string display_kib(std::optional<double> kib);
std::string display_seconds(double s);              // "2.003 s", "45.0 s", "12 ms" below 1 s
std::string format_ms(std::optional<double> ms);    // "1.2 ms", "?"
std::string format_number(double v, int decimals);  // fixed, "?" when not finite
// {"instances":3,"model":"n"} -> "instances=3, model=n"; empty object -> "".
std::string format_params(const nlohmann::json& params);

}  // namespace harness
