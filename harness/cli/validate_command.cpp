// `harness validate PATH...`: loads scenarios without running them; every error of every file
// at its file:line:col. Exit 0 all valid, 2 otherwise.
#include <cstdio>
#include <memory>

#include "harness/cli/command.hpp"
#include "harness/cli/load_scenarios.hpp"

namespace harness::cli {
namespace {

struct ValidateArgs {
  std::vector<std::string> paths;
  std::vector<std::string> vars;
};

int validate(const ValidateArgs& args) {
  auto loaded = load_all(args.paths, args.vars);
  if (!loaded) return kExitBadInput;
  for (const auto& s : *loaded) std::printf("ok: %s (%s)\n", s.file.c_str(), s.name.c_str());
  return kExitPass;
}

}  // namespace

Command add_validate_command(CLI::App& parent) {
  auto args = std::make_shared<ValidateArgs>();
  auto* app = parent.add_subcommand("validate", "Check scenario files without running them");
  app->add_option("paths", args->paths, "Scenario files or folders")->required();
  app->add_option("--var", args->vars, "NAME=VALUE for ${NAME} (repeatable)");
  return {app, [args] { return validate(*args); }};
}

}  // namespace harness::cli
