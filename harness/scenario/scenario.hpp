#pragma once
// A scenario file (docs/scenarios.md is the reference): what to launch, how many at once, how
// often, over which matrix of values, and what to expect.
//
// Loading is strict and complete: load_scenario either returns a fully validated Scenario or
// throws ScenarioError holding every problem of the file, each with its 1-based file:line:col.
// Variables (${WORKERS}, ${OUT}, matrix keys, environment) are checked at load time but only
// substituted by expand_worker, once per instance, when ${OUT} and ${INSTANCE} are known.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/core/diagnostic.hpp"
#include "harness/judge/expect.hpp"
#include "harness/scenario/jobs_spec.hpp"
#include "harness/scenario/matrix.hpp"
#include "harness/scenario/run_fields.hpp"
#include "harness/scenario/variables.hpp"

namespace harness {

struct WorkerSpec {
  std::vector<std::string> command;          // argv; command[0] is looked up on PATH when bare
  std::map<std::string, std::string> env;    // added to (overriding) the harness's environment
  std::string cwd;                           // empty: the harness's working directory
  std::optional<std::string> stdin_data;     // nullopt: stdin is closed (reads see EOF)
  std::chrono::milliseconds timeout{60000};  // then SIGTERM to the whole tree
  std::chrono::milliseconds grace{2000};     // then SIGKILL
};

struct Scenario {
  std::string file;  // as given to load_scenario
  std::string dir;   // absolute folder of the file: ${SCENARIO_DIR}
  std::string name;
  std::string description;
  std::vector<std::string> labels;
  WorkerSpec worker;  // unexpanded: still holds ${...}
  RunSpec run;
  std::optional<JobsSpec> jobs;    // a job stream instead of `run.instances` started together
  std::vector<MatrixAxis> matrix;  // file order; empty without `matrix:`
  Expect expect;
  nlohmann::json expect_json = nlohmann::json::object();  // as written, for reports
  nlohmann::json matrix_json = nullptr;                   // as written, or null
};

struct LoadOptions {
  std::uintmax_t max_file_bytes = 1u << 20;  // refused before parsing
  std::size_t max_nodes = 100000;            // values walked generically (alias bombs)
  int max_depth = 32;
  std::size_t max_matrix_points = 1000;
  std::vector<std::string> extra_variables;  // names the caller defines (harness --var NAME=...)
};

Scenario load_scenario(const std::string& path, const LoadOptions& options = {});
// The same from text already in memory; `file` is used in diagnostics and for ${SCENARIO_DIR}.
Scenario parse_scenario(std::string_view text, const std::string& file,
                        const LoadOptions& options = {});

// The run points of the scenario: its matrix applied to its run (see matrix.hpp).
std::vector<RunPoint> expand_matrix(const Scenario& scenario);

// Substitutes variables in command, env values, cwd and stdin. Throws VariableError.
WorkerSpec expand_worker(const WorkerSpec& worker, const Variables& vars);

// Scenario files under `paths`: files as given, folders searched recursively for *.yaml and
// *.yml, each folder's files sorted. Throws std::runtime_error for a path that does not exist.
std::vector<std::string> find_scenarios(const std::vector<std::string>& paths);

// An upper bound of the scenario's run time when every worker runs into its timeout and grace,
// for CTest's TIMEOUT: all points, warmups and repeats, stagger, plus slack for kill and reap.
std::chrono::milliseconds run_time_bound(const Scenario& scenario);

// Whether the scenario judges memory, so it must not share the machine (CTest RESOURCE_LOCK).
inline bool measures_memory(const Scenario& scenario) {
  return scenario.expect.measures_memory();
}

}  // namespace harness
