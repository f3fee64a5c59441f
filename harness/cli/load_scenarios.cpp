#include "harness/cli/load_scenarios.hpp"

#include <cstdio>
#include <cstdlib>
#include <set>

namespace harness::cli {

Variables default_vars(const CommandContext& context, const std::vector<std::string>& overrides) {
  Variables vars;
  const auto pick = [](const char* env, const std::string& built) {
    const char* value = std::getenv(env);
    return value && *value ? std::string(value) : built;
  };
  vars["WORKERS"] = pick("HARNESS_WORKERS", context.workers_dir);
  vars["MODELS"] = pick("HARNESS_MODELS", context.models_dir);
  vars["FIXTURES"] = pick("HARNESS_FIXTURES", context.fixtures_dir);
  for (const auto& entry : overrides) {
    const auto eq = entry.find('=');
    if (eq == std::string::npos || eq == 0) {
      throw CLI::ValidationError("--var", "expected NAME=VALUE, got '" + entry + "'");
    }
    vars[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  return vars;
}

std::optional<std::vector<Scenario>> load_all(const std::vector<std::string>& paths,
                                              const std::vector<std::string>& vars,
                                              bool allow_empty) {
  LoadOptions options;
  for (const auto& v : vars) options.extra_variables.push_back(v.substr(0, v.find('=')));
  std::vector<std::string> files;
  try {
    files = find_scenarios(paths);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "harness: %s\n", e.what());
    return std::nullopt;
  }
  if (files.empty() && !allow_empty) {
    std::fprintf(stderr, "harness: no scenario files (*.yaml, *.yml) under the given paths\n");
    return std::nullopt;
  }
  std::vector<Scenario> scenarios;
  std::set<std::string> names;
  bool ok = true;
  for (const auto& file : files) {
    try {
      Scenario scenario = load_scenario(file, options);
      if (!names.insert(scenario.name).second) {
        std::fprintf(stderr,
                     "%s: error: scenario name '%s' is used by another file; names must "
                     "be unique (reports and ${OUT} folders are named after them)\n",
                     file.c_str(), scenario.name.c_str());
        ok = false;
        continue;
      }
      scenarios.push_back(std::move(scenario));
    } catch (const ScenarioError& e) {
      for (const auto& d : e.diagnostics()) std::fprintf(stderr, "%s\n", d.str().c_str());
      ok = false;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "%s: error: %s\n", file.c_str(), e.what());
      ok = false;
    }
  }
  if (!ok) return std::nullopt;
  return scenarios;
}

}  // namespace harness::cli
