// `harness plan REPORT --memory-budget 8GiB`: how many workers fit, from a concurrency sweep.
// Exit 0, or 2 for a report or an option that cannot be used.
#include <chrono>
#include <iostream>
#include <memory>

#include "harness/analysis/capacity.hpp"
#include "harness/analysis/report_fields.hpp"
#include "harness/cli/command.hpp"
#include "harness/core/units.hpp"

namespace harness::cli {
namespace {

struct PlanArgs {
  std::string report, budget, latency, margin = "10%", scenario;
  bool json = false;
};

int run_plan(const PlanArgs& args) {
  PlanOptions options;
  options.memory_budget_kib = parse_size(args.budget) / 1024;
  if (!args.latency.empty())
    options.latency_p95_max_s = std::chrono::duration<double>(parse_duration(args.latency)).count();
  options.margin = parse_percent(args.margin);
  options.scenario = args.scenario;
  const Plan p = plan(read_json_file(args.report), options);
  if (args.json)
    std::cout << plan_to_json(p).dump(2) << "\n";
  else
    std::cout << format_plan_table(p);
  return kExitPass;
}

}  // namespace

Command add_plan_command(CLI::App& parent) {
  auto args = std::make_shared<PlanArgs>();
  auto* app = parent.add_subcommand("plan", "How many workers fit: capacity from a sweep");
  app->add_option("report", args->report, "report.json of a concurrency sweep")->required();
  app->add_option("--memory-budget", args->budget, "Memory for workers, e.g. 8GiB")->required();
  app->add_option("--latency-p95", args->latency, "Maximum per-job p95 latency, e.g. 2s");
  app->add_option("--margin", args->margin, "Share of the budget kept free")->capture_default_str();
  app->add_option("--scenario", args->scenario, "Only this scenario's sweep");
  app->add_flag("--json", args->json, "Print JSON instead of a table");
  return {app, [args] { return run_plan(*args); }};
}

}  // namespace harness::cli
