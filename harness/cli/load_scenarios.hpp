#pragma once
// Loading the scenarios named on a command line, shared by run, validate and list.

#include <optional>
#include <string>
#include <vector>

#include "harness/cli/command.hpp"
#include "harness/scenario/scenario.hpp"

namespace harness::cli {

// Every scenario under `paths`. Prints every problem of every file to stderr and returns
// nullopt when any file is bad (or there is none and !allow_empty), so nothing runs on
// half-valid input. `vars` (NAME=VALUE of --var) make ${NAME} known to the loader.
std::optional<std::vector<Scenario>> load_all(const std::vector<std::string>& paths,
                                              const std::vector<std::string>& vars,
                                              bool allow_empty = false);

// ${WORKERS} ${MODELS} ${FIXTURES} from the context's build tree, overridden by
// HARNESS_WORKERS/HARNESS_MODELS/HARNESS_FIXTURES and then by --var NAME=VALUE. Throws
// CLI::ValidationError for a --var without '='.
Variables default_vars(const CommandContext& context, const std::vector<std::string>& overrides);

}  // namespace harness::cli
