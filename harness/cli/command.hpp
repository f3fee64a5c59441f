#pragma once
// One subcommand of `harness`. Each lives in its own file (run_command.cpp, ...): it adds its
// CLI::App subcommand with its options and returns the action to call when it was chosen, so
// main only parses and dispatches, and a new subcommand is one file plus one line in main.
//
// Exit status of every command: 0 all passed, 1 a scenario failed (or a regression), 2 bad
// input (bad arguments, a bad scenario, a missing file), 130 interrupted.

#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

namespace harness::cli {

constexpr int kExitPass = 0;
constexpr int kExitFail = 1;
constexpr int kExitBadInput = 2;
constexpr int kExitInterrupted = 130;

// What main knows that commands need.
struct CommandContext {
  std::vector<std::string> argv;  // the harness's own command line, recorded in reports
  // Defaults of ${WORKERS} ${MODELS} ${FIXTURES} (cli/default_paths.hpp).
  std::string workers_dir, models_dir, fixtures_dir;
};

struct Command {
  CLI::App* app = nullptr;  // the subcommand; chosen when *app is true after parsing
  std::function<int()> run;
};

Command add_run_command(CLI::App& parent, const CommandContext& context);
Command add_validate_command(CLI::App& parent);
Command add_list_command(CLI::App& parent);
Command add_plan_command(CLI::App& parent);
Command add_compare_command(CLI::App& parent);
Command add_agent_command(CLI::App& parent);

// Parses argv into `app` and runs the chosen command: CLI errors print CLI11's message (and
// --help/--version their text); an exception from a command prints "harness: what" and gives 2.
int parse_and_run(CLI::App& app, const std::vector<Command>& commands, int argc,
                  const char* const* argv);

}  // namespace harness::cli
