// The `harness` command: parses the command line and runs the chosen subcommand, each in its own
// file (cli/command.hpp). Exit status: 0 all passed, 1 a scenario failed (or a regression), 2 bad
// input, 130 interrupted.
#include <string>
#include <vector>

#include "harness/cli/ab_command.hpp"
#include "harness/cli/command.hpp"
#include "harness/cli/default_paths.hpp"

int main(int argc, char** argv) {
  using namespace harness::cli;
  CLI::App app{
      "harness: integration tests and benchmarks for ML inference workers run as "
      "subprocesses"};
  app.set_version_flag("--version", std::string("harness ") + HARNESS_VERSION);
  app.require_subcommand(1);
  const harness::DefaultPaths& paths = harness::default_paths();
  const CommandContext context{std::vector<std::string>(argv, argv + argc), paths.workers,
                               paths.models, paths.fixtures};
  const std::vector<Command> commands{
      add_run_command(app, context), add_validate_command(app), add_list_command(app),
      add_plan_command(app),         add_compare_command(app),  harness::add_ab_command(app),
      add_agent_command(app),
  };
  return parse_and_run(app, commands, argc, argv);
}
