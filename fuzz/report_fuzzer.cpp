// libFuzzer target: the report reader behind `harness plan` and `harness compare`
// (harness/analysis: report_fields, capacity, plan, compare, benchmark_json) on arbitrary bytes.
// The input is the base file, optionally followed by a form feed (never part of JSON text) and
// the candidate file; without one the base is compared with itself. Each is written to a file
// and read with read_json_file, as the commands do. The readers document std::runtime_error for
// a file that is not JSON or not a usable report or benchmark file; any other exception (a JSON
// library error that escapes, a type_error from an unchecked field), a crash or a sanitizer
// report is a finding.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "harness/analysis/benchmark_json.hpp"
#include "harness/analysis/capacity.hpp"
#include "harness/analysis/compare.hpp"
#include "harness/analysis/report_fields.hpp"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// A file of this process in /dev/shm (memory, not disk), else in the temporary folder.
fs::path scratch(const char* side) {
  const fs::path dir = fs::is_directory("/dev/shm") ? "/dev/shm" : fs::temp_directory_path();
  return dir / ("harness-fuzz-report-" + std::to_string(getpid()) + "-" + side + ".json");
}

// The document in `bytes` as the commands read it, or null when read_json_file refuses it.
json read(std::string_view bytes, const char* side) {
  static const fs::path base = scratch("base"), candidate = scratch("new");
  const fs::path& path = side[0] == 'b' ? base : candidate;
  std::ofstream(path, std::ios::binary | std::ios::trunc).write(bytes.data(), bytes.size());
  try {
    return harness::read_json_file(path);
  } catch (const std::runtime_error&) {
    return json(json::value_t::discarded);
  }
}

void use(const harness::Comparison& c) {
  (void)harness::format_compare_markdown(c);
  (void)harness::comparison_to_json(c).dump();
}

void plan_and_compare(const json& base, const json& candidate) {
  const harness::Thresholds thresholds;
  try {
    (void)harness::read_report_fields(base, "base");
  } catch (const std::runtime_error&) {
  }
  try {
    use(harness::compare(base, candidate, thresholds));
  } catch (const std::runtime_error&) {
  }
  if (harness::is_benchmark_json(base) && harness::is_benchmark_json(candidate)) {
    try {
      use(harness::compare_benchmarks(base, candidate, thresholds));
    } catch (const std::runtime_error&) {
    }
  }
  try {
    (void)harness::capacity_series(base).dump();
  } catch (const std::runtime_error&) {
  }
  try {
    harness::PlanOptions options;
    options.memory_budget_kib = 8 << 20;
    options.latency_p95_max_s = 2.0;
    const harness::Plan p = harness::plan(base, options);
    (void)harness::format_plan_table(p);
    (void)harness::plan_to_json(p).dump();
  } catch (const std::runtime_error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const std::size_t split = bytes.find('\f');
  const json base = read(bytes.substr(0, split), "base");
  if (base.is_discarded()) return 0;
  if (split == std::string_view::npos) {
    plan_and_compare(base, base);
    return 0;
  }
  const json candidate = read(bytes.substr(split + 1), "new");
  if (!candidate.is_discarded()) plan_and_compare(base, candidate);
  return 0;
}
