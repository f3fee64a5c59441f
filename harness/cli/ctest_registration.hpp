#pragma once
// CTest registration of scenarios (`harness list --ctest FILE`), included by CTest at test time
// through TEST_INCLUDE_FILES (cmake/HarnessScenarios.cmake), the way gtest_discover_tests works.
// Each scenario becomes the test `scenario.<name>` that runs `harness run FILE`, with:
//   LABELS         the scenario's labels plus "scenario" and any extra ones
//   TIMEOUT        run_time_bound() of the scenario plus slack, so CTest never kills a run the
//                  harness would still end by itself
//   RESOURCE_LOCK  harness_memory for scenarios that judge memory: their figures must not be
//                  polluted by other workers under `ctest -j`
//   PROCESSORS     the most instances any run starts (capped at 8), so -j counts workers

#include <string>
#include <vector>

#include "harness/scenario/scenario.hpp"

namespace harness {

struct CtestOptions {
  std::string harness;                    // absolute path of the harness binary
  std::string report_dir;                 // each test writes to report_dir/<name>
  std::vector<std::string> vars;          // NAME=VALUE, passed as --var
  std::vector<std::string> extra_labels;  // added to every test
};

std::string ctest_registration(const std::vector<Scenario>& scenarios, const CtestOptions& options);

// A CMake bracket argument holding `text` verbatim, whatever it contains.
std::string cmake_quote(const std::string& text);

}  // namespace harness
