#include "harness/cli/command.hpp"

#include <cstdio>
#include <exception>

namespace harness::cli {

int parse_and_run(CLI::App& app, const std::vector<Command>& commands, int argc,
                  const char* const* argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? kExitPass : kExitBadInput;
  }
  try {
    for (const auto& command : commands)
      if (*command.app) return command.run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "harness: %s\n", e.what());
    return kExitBadInput;
  }
  return kExitBadInput;  // require_subcommand(1) makes this unreachable from the command line
}

}  // namespace harness::cli
