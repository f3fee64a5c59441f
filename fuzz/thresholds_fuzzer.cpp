// libFuzzer target: the thresholds reader of `harness compare` (harness/analysis/thresholds.hpp)
// on arbitrary bytes. parse_thresholds returns Thresholds or throws ScenarioError; anything else
// is a finding, and so is a value the reader should have refused: percentages have no sign and
// no exponent (core/units.hpp), so every one must be finite and >= 0, and alpha in (0, 0.5).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "harness/analysis/thresholds.hpp"
#include "harness/core/diagnostic.hpp"

namespace {

void check_share(double v, const char* what) {
  if (std::isfinite(v) && v >= 0) return;
  std::fprintf(stderr, "thresholds_fuzzer: %s accepted as %g\n", what, v);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  harness::Thresholds t;
  try {
    t = harness::parse_thresholds(text, "/fuzz/thresholds.yaml");
  } catch (const harness::ScenarioError& e) {
    for (const auto& d : e.diagnostics()) (void)d.str();
    return 0;
  }
  check_share(t.time, "time");
  check_share(t.throughput.value_or(0), "throughput");
  check_share(t.memory, "memory");
  for (const auto& [name, v] : t.per_metric) check_share(v, "a per_metric value");
  for (const auto& [name, v] : t.per_run) check_share(v, "a per_run value");
  if (!(t.alpha > 0 && t.alpha < 0.5)) {
    std::fprintf(stderr, "thresholds_fuzzer: alpha accepted as %g\n", t.alpha);
    std::abort();
  }
  return 0;
}
