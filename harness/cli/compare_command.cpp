// `harness compare BASE NEW`: the regression gate over two reports or Google Benchmark files.
// Exit 0 no regression, 1 a regression, 2 a file that cannot be read or written.
#include <iostream>
#include <memory>

#include "harness/analysis/compare.hpp"
#include "harness/cli/command.hpp"
#include "harness/core/files.hpp"

namespace harness::cli {
namespace {

struct CompareArgs {
  std::string base, candidate, thresholds, markdown_out;
  bool json = false;
};

int run_compare(const CompareArgs& args) {
  Thresholds thresholds;
  if (!args.thresholds.empty()) thresholds = load_thresholds(args.thresholds);
  const Comparison c = compare_files(args.base, args.candidate, thresholds);
  const std::string md = format_compare_markdown(c);
  // Written before printing, so a --markdown path that cannot be written fails the gate (exit
  // 2) instead of leaving an old table behind a verdict on stdout.
  if (!args.markdown_out.empty()) write_file_atomic(args.markdown_out, md);
  if (args.json)
    std::cout << comparison_to_json(c).dump(2) << "\n";
  else
    std::cout << md;
  return c.regressed ? kExitFail : kExitPass;
}

}  // namespace

Command add_compare_command(CLI::App& parent) {
  auto args = std::make_shared<CompareArgs>();
  auto* app =
      parent.add_subcommand("compare", "Regression gate: compare two reports or benchmark files");
  app->add_option("base", args->base, "Baseline report.json or Google Benchmark JSON")->required();
  app->add_option("new", args->candidate, "New report.json or Google Benchmark JSON")->required();
  app->add_option("--thresholds", args->thresholds, "YAML/JSON thresholds file");
  app->add_option("--markdown", args->markdown_out, "Also write the Markdown table here");
  app->add_flag("--json", args->json, "Print JSON instead of Markdown");
  return {app, [args] { return run_compare(*args); }};
}

}  // namespace harness::cli
