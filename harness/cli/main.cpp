// The `harness` command: parses the command line, wires the library's pieces and prints errors.
// Exit status: 0 all passed, 1 a scenario failed (or a regression), 2 bad input, 130 interrupted.
#include <unistd.h>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "harness/analysis/capacity.hpp"
#include "harness/analysis/compare.hpp"
#include "harness/analysis/report_fields.hpp"
#include "harness/cli/ab_command.hpp"
#include "harness/cli/ctest_registration.hpp"
#include "harness/core/diagnostic.hpp"
#include "harness/core/host_info.hpp"
#include "harness/core/units.hpp"
#include "harness/report/report_writer.hpp"
#include "harness/report/reporter.hpp"
#include "harness/run/console_progress.hpp"
#include "harness/run/scenario_runner.hpp"
#include "harness/scenario/scenario.hpp"
#include "harness/supervise/process.hpp"
#include "harness/supervise/sampler.hpp"

namespace fs = std::filesystem;
using namespace harness;

namespace {

constexpr int kExitPass = 0;
constexpr int kExitFail = 1;
constexpr int kExitBadInput = 2;
constexpr int kExitInterrupted = 130;

// Defaults for ${WORKERS} ${MODELS} ${FIXTURES}: the build tree this harness was built in,
// overridable by HARNESS_WORKERS/HARNESS_MODELS/HARNESS_FIXTURES and by --var.
Variables default_vars(const std::vector<std::string>& overrides) {
  Variables vars;
  const auto pick = [](const char* env, const char* built) {
    const char* value = std::getenv(env);
    return std::string(value && *value ? value : built);
  };
  vars["WORKERS"] = pick("HARNESS_WORKERS", HARNESS_DEFAULT_WORKERS_DIR);
  vars["MODELS"] = pick("HARNESS_MODELS", HARNESS_DEFAULT_MODELS_DIR);
  vars["FIXTURES"] = pick("HARNESS_FIXTURES", HARNESS_DEFAULT_FIXTURES_DIR);
  for (const auto& entry : overrides) {
    const auto eq = entry.find('=');
    if (eq == std::string::npos || eq == 0) {
      throw CLI::ValidationError("--var", "expected NAME=VALUE, got '" + entry + "'");
    }
    vars[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  return vars;
}

// Loads every scenario under `paths`; prints every problem of every file and returns nullopt
// when any file is bad, so nothing runs on half-valid input.
std::optional<std::vector<Scenario>> load_all(const std::vector<std::string>& paths,
                                              const std::vector<std::string>& var_overrides,
                                              bool allow_empty = false) {
  LoadOptions options;  // --var NAME=VALUE makes ${NAME} known to the loader
  for (const auto& v : var_overrides) options.extra_variables.push_back(v.substr(0, v.find('=')));
  std::vector<Scenario> scenarios;
  bool ok = true;
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
  std::set<std::string> names;
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

bool has_any_label(const Scenario& s, const std::vector<std::string>& labels) {
  if (labels.empty()) return true;
  for (const auto& l : labels) {
    for (const auto& have : s.labels) {
      if (have == l) return true;
    }
  }
  return false;
}

struct RunArgs {
  std::vector<std::string> paths;
  std::string report_dir = "reports/latest";
  std::vector<std::string> labels;
  std::vector<std::string> vars;
  bool quiet = false;
  bool verbose = false;
  std::size_t tail_kib = 64;
  int jobs = 1;
};

int cmd_run(const RunArgs& args, const std::vector<std::string>& command) {
  auto loaded = load_all(args.paths, args.vars);
  if (!loaded) return kExitBadInput;
  std::vector<Scenario> scenarios;
  for (auto& s : *loaded) {
    if (has_any_label(s, args.labels)) scenarios.push_back(std::move(s));
  }
  if (scenarios.empty()) {
    std::fprintf(stderr, "harness: no scenario has any of the labels given with --label\n");
    return kExitBadInput;
  }

  RunReport report;
  report.harness_version = HARNESS_VERSION;
  report.command = command;
  report.host = read_host_info();
  report.started_at = utc_timestamp();
  report.harness_rss_before_kib = self_rss_kib();

  const fs::path report_dir = args.report_dir;
  RunnerOptions options;
  options.out_root = report_dir / "out";
  options.vars = default_vars(args.vars);
  options.tail_bytes = args.tail_kib * 1024;

  Supervisor supervisor;
  install_cancel_signals(supervisor);
  const Verbosity verbosity = args.quiet     ? Verbosity::quiet
                              : args.verbose ? Verbosity::verbose
                                             : Verbosity::normal;
  report.jobs = args.jobs;
  ConsoleProgress progress(stderr, verbosity, static_cast<int>(scenarios.size()), args.jobs);
  ScenarioRunner runner(supervisor, options);

  const auto start = std::chrono::steady_clock::now();
  const auto finish_report = [&] {
    report.finished_at = utc_timestamp();
    report.duration_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    report.harness_rss_after_kib = self_rss_kib();
    report.harness_rss_peak_kib = vm_hwm_kib(static_cast<int>(getpid()));
    report.interrupted = supervisor.cancelled();
  };
  // Reports list scenarios in file order whatever order parallel jobs finish in.
  std::vector<std::size_t> order;  // scenario index of each entry of report.scenarios
  std::string write_error;
  const auto rewrite = [&] {
    try {
      finish_report();
      write_reports(report, report_dir);
    } catch (const std::exception& e) {
      if (write_error.empty()) std::fprintf(stderr, "harness: %s\n", e.what());
      write_error = e.what();
    }
  };
  rewrite();  // an empty but valid report from the start
  if (!write_error.empty()) return kExitBadInput;
  run_scenarios(
      runner, scenarios, args.jobs, &progress, [&](std::size_t index, ScenarioResult&& result) {
        const auto at = std::upper_bound(order.begin(), order.end(), index);
        report.scenarios.insert(report.scenarios.begin() + (at - order.begin()), std::move(result));
        order.insert(at, index);
        rewrite();
      });
  rewrite();
  remove_cancel_signals();
  if (!write_error.empty()) return kExitBadInput;

  if (!args.quiet) {
    std::ifstream md(report_dir / "report.md");
    std::cout << md.rdbuf() << std::flush;
  }
  const auto [passed, failed, errors] = count_statuses(report);
  std::fprintf(stderr, "\n%d passed, %d failed, %d errors%s. Reports: %s (open %s)\n", passed,
               failed, errors, report.interrupted ? " (interrupted)" : "",
               report_dir.string().c_str(), (report_dir / "report.html").string().c_str());
  if (report.interrupted) return kExitInterrupted;
  if (errors > 0) return kExitBadInput;
  return failed > 0 ? kExitFail : kExitPass;
}

int cmd_validate(const std::vector<std::string>& paths, const std::vector<std::string>& vars) {
  auto loaded = load_all(paths, vars);
  if (!loaded) return kExitBadInput;
  for (const auto& s : *loaded) std::printf("ok: %s (%s)\n", s.file.c_str(), s.name.c_str());
  return kExitPass;
}

struct ListArgs {
  std::vector<std::string> paths;
  std::string ctest_file;
  std::string report_dir = "reports/ctest";
  std::vector<std::string> vars;
  std::vector<std::string> add_labels;
};

int cmd_list(const ListArgs& args) {
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
  const std::string text = ctest_registration(*loaded, options);
  const fs::path tmp = args.ctest_file + ".tmp";
  {
    std::ofstream out(tmp);
    out << text;
    if (!out) {
      std::fprintf(stderr, "harness: cannot write %s\n", tmp.c_str());
      return kExitBadInput;
    }
  }
  fs::rename(tmp, args.ctest_file);
  return kExitPass;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> command(argv, argv + argc);
  CLI::App app{
      "harness: integration tests and benchmarks for ML inference workers run as "
      "subprocesses"};
  app.set_version_flag("--version", std::string("harness ") + HARNESS_VERSION);
  app.require_subcommand(1);

  RunArgs run_args;
  auto* run = app.add_subcommand("run", "Run scenarios and write reports");
  run->add_option("paths", run_args.paths, "Scenario files or folders")->required();
  run->add_option("--report-dir", run_args.report_dir, "Where reports go")->capture_default_str();
  run->add_option("--label", run_args.labels, "Only scenarios with this label (repeatable)");
  run->add_option("--var", run_args.vars, "NAME=VALUE for ${NAME} (repeatable)");
  run->add_option("--tail-kib", run_args.tail_kib, "KiB of each output stream kept")
      ->capture_default_str();
  run->add_option("-j,--jobs", run_args.jobs,
                  "Scenarios run at a time; those with memory expectations always run alone")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  run->add_flag("-q,--quiet", run_args.quiet, "Print only failures and the final line");
  run->add_flag("-v,--verbose", run_args.verbose, "Print events and exits of every worker");

  std::vector<std::string> validate_paths, validate_vars;
  auto* validate = app.add_subcommand("validate", "Check scenario files without running them");
  validate->add_option("paths", validate_paths, "Scenario files or folders")->required();
  validate->add_option("--var", validate_vars, "NAME=VALUE for ${NAME} (repeatable)");

  ListArgs list_args;
  auto* list = app.add_subcommand("list", "List scenarios (name, labels, file)");
  list->add_option("paths", list_args.paths, "Scenario files or folders")->required();
  list->add_option("--ctest", list_args.ctest_file,
                   "Write CTest registrations to this file instead (see harness_add_scenarios)");
  list->add_option("--report-dir", list_args.report_dir, "With --ctest: report root per test");
  list->add_option("--var", list_args.vars, "With --ctest: NAME=VALUE passed to each run");
  list->add_option("--add-label", list_args.add_labels, "With --ctest: extra label");

  std::string plan_report, budget = "", latency, margin = "10%", plan_scenario;
  bool plan_json = false;
  auto* plan_cmd = app.add_subcommand("plan", "How many workers fit: capacity from a sweep");
  plan_cmd->add_option("report", plan_report, "report.json of a concurrency sweep")->required();
  plan_cmd->add_option("--memory-budget", budget, "Memory for workers, e.g. 8GiB")->required();
  plan_cmd->add_option("--latency-p95", latency, "Maximum per-job p95 latency, e.g. 2s");
  plan_cmd->add_option("--margin", margin, "Share of the budget kept free")->capture_default_str();
  plan_cmd->add_option("--scenario", plan_scenario, "Only this scenario's sweep");
  plan_cmd->add_flag("--json", plan_json, "Print JSON instead of a table");

  std::string base, candidate, thresholds_file, markdown_out;
  bool compare_json = false;
  auto* compare_cmd =
      app.add_subcommand("compare", "Regression gate: compare two reports or benchmark files");
  compare_cmd->add_option("base", base, "Baseline report.json or Google Benchmark JSON")
      ->required();
  compare_cmd->add_option("new", candidate, "New report.json or Google Benchmark JSON")->required();
  compare_cmd->add_option("--thresholds", thresholds_file, "YAML/JSON thresholds file");
  compare_cmd->add_option("--markdown", markdown_out, "Also write the Markdown table here");
  compare_cmd->add_flag("--json", compare_json, "Print JSON instead of Markdown");

  std::function<int()> ab_action;  // set when `harness ab` was chosen
  add_ab_command(app, ab_action);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? kExitPass : kExitBadInput;
  }

  try {
    if (ab_action) return ab_action();
    if (*run) return cmd_run(run_args, command);
    if (*validate) return cmd_validate(validate_paths, validate_vars);
    if (*list) return cmd_list(list_args);
    if (*plan_cmd) {
      PlanOptions options;
      options.memory_budget_kib = parse_size(budget) / 1024;
      if (!latency.empty())
        options.latency_p95_max_s = std::chrono::duration<double>(parse_duration(latency)).count();
      options.margin = parse_percent(margin);
      options.scenario = plan_scenario;
      const Plan p = plan(read_json_file(plan_report), options);
      if (plan_json) {
        std::cout << plan_to_json(p).dump(2) << "\n";
      } else {
        std::cout << format_plan_table(p);
      }
      return kExitPass;
    }
    if (*compare_cmd) {
      Thresholds thresholds;
      if (!thresholds_file.empty()) thresholds = load_thresholds(thresholds_file);
      const Comparison c = compare_files(base, candidate, thresholds);
      const std::string md = format_compare_markdown(c);
      if (compare_json) {
        std::cout << comparison_to_json(c).dump(2) << "\n";
      } else {
        std::cout << md;
      }
      if (!markdown_out.empty()) std::ofstream(markdown_out) << md;
      return c.regressed ? kExitFail : kExitPass;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "harness: %s\n", e.what());
    return kExitBadInput;
  }
  return kExitBadInput;
}
