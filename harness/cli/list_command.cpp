// `harness list PATH...`: name, labels and file of each scenario, or with --ctest FILE the CTest
// registration of each (see ctest_registration.hpp), written atomically so CTest never includes
// half a file. Exit 0, or 2 for a bad scenario or a file that cannot be written.
#include <cstdio>
#include <filesystem>
#include <memory>

#include "harness/cli/command.hpp"
#include "harness/cli/ctest_registration.hpp"
#include "harness/cli/load_scenarios.hpp"
#include "harness/core/files.hpp"

namespace harness::cli {
namespace {

namespace fs = std::filesystem;

struct ListArgs {
  std::vector<std::string> paths;
  std::string ctest_file;
  std::string report_dir = "reports/ctest";
  std::vector<std::string> vars;
  std::vector<std::string> add_labels;
};

int list(const ListArgs& args) {
  // A folder without scenarios registers no tests; it is not an error for a build step.
  auto loaded = load_all(args.paths, args.vars, !args.ctest_file.empty());
  if (!loaded) return kExitBadInput;
  if (args.ctest_file.empty()) {
    for (const auto& s : *loaded) {
      std::string labels;
      for (const auto& l : s.labels) labels += (labels.empty() ? "" : ",") + l;
      std::printf("%s\t%s\t%s\n", s.name.c_str(), labels.c_str(), s.file.c_str());
    }
    return kExitPass;
  }
  CtestOptions options;
  options.harness = fs::canonical("/proc/self/exe").string();
  options.report_dir = fs::absolute(args.report_dir).string();
  options.vars = args.vars;
  options.extra_labels = args.add_labels;
  write_file_atomic(args.ctest_file, ctest_registration(*loaded, options));
  return kExitPass;
}

}  // namespace

Command add_list_command(CLI::App& parent) {
  auto args = std::make_shared<ListArgs>();
  auto* app = parent.add_subcommand("list", "List scenarios (name, labels, file)");
  app->add_option("paths", args->paths, "Scenario files or folders")->required();
  app->add_option("--ctest", args->ctest_file,
                  "Write CTest registrations to this file instead (see harness_add_scenarios)");
  app->add_option("--report-dir", args->report_dir, "With --ctest: report root per test");
  app->add_option("--var", args->vars, "With --ctest: NAME=VALUE passed to each run");
  app->add_option("--add-label", args->add_labels, "With --ctest: extra label");
  return {app, [args] { return list(*args); }};
}

}  // namespace harness::cli
