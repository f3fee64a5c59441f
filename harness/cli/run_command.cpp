// `harness run PATH...`: runs scenarios, rewrites the reports after each one, prints the
// summary. Exit 0 all passed, 1 a scenario failed, 2 bad input or a report that cannot be
// written, 130 interrupted.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "harness/cli/command.hpp"
#include "harness/cli/load_scenarios.hpp"
#include "harness/core/files.hpp"
#include "harness/core/host_info.hpp"
#include "harness/report/report_writer.hpp"
#include "harness/run/console_progress.hpp"
#include "harness/run/scenario_runner.hpp"
#include "harness/supervise/sampler.hpp"
#include "harness/supervise/supervisor.hpp"
#include "harness/supervise/watchdog.hpp"

namespace harness::cli {
namespace {

namespace fs = std::filesystem;

// A tail is kept per stream of every instance, in memory: past 64 MiB it is no longer a tail.
constexpr std::int64_t kMaxTailKib = 64 * 1024;

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

bool has_any_label(const Scenario& s, const std::vector<std::string>& labels) {
  if (labels.empty()) return true;
  return std::any_of(labels.begin(), labels.end(), [&](const std::string& l) {
    return std::find(s.labels.begin(), s.labels.end(), l) != s.labels.end();
  });
}

// The report of this run, rewritten after every scenario so an interrupted run keeps a valid
// one. Scenarios are listed in file order whatever order parallel jobs finish in.
class ReportKeeper {
 public:
  ReportKeeper(RunReport& report, fs::path dir, const Supervisor& supervisor)
      : report_(report), dir_(std::move(dir)), supervisor_(supervisor) {}

  void add(std::size_t index, ScenarioResult&& result) {
    const auto at = std::upper_bound(order_.begin(), order_.end(), index);
    report_.scenarios.insert(report_.scenarios.begin() + (at - order_.begin()), std::move(result));
    order_.insert(at, index);
    rewrite();
  }

  // Writes all formats; the first failure is printed, later ones only remembered.
  void rewrite() {
    try {
      report_.finished_at = utc_timestamp();
      report_.duration_s = std::chrono::duration<double>(Clock::now() - start_).count();
      report_.harness_rss_after_kib = self_rss_kib();
      report_.harness_rss_peak_kib = vm_hwm_kib(static_cast<int>(getpid()));
      report_.interrupted = supervisor_.cancelled();
      write_reports(report_, dir_);
    } catch (const std::exception& e) {
      if (error_.empty()) std::fprintf(stderr, "harness: %s\n", e.what());
      error_ = e.what();
    }
  }

  bool failed() const { return !error_.empty(); }

 private:
  using Clock = std::chrono::steady_clock;
  RunReport& report_;
  fs::path dir_;
  const Supervisor& supervisor_;
  Clock::time_point start_ = Clock::now();
  std::vector<std::size_t> order_;  // scenario index of each entry of report_.scenarios
  std::string error_;
};

RunReport new_report(const CommandContext& context, int jobs) {
  RunReport report;
  report.harness_version = HARNESS_VERSION;
  report.command = context.argv;
  report.host = read_host_info();
  report.started_at = utc_timestamp();
  report.harness_rss_before_kib = self_rss_kib();
  report.jobs = jobs;
  report.complete = false;  // until the last write
  return report;
}

int summarize(const RunReport& report, const RunArgs& args) {
  const fs::path dir = args.report_dir;
  if (!args.quiet) {
    try {
      std::cout << read_file(dir / "report.md") << std::flush;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "harness: %s\n", e.what());
    }
  }
  const auto [passed, failed, errors] = count_statuses(report);
  std::fprintf(stderr, "\n%d passed, %d failed, %d errors%s. Reports: %s (open %s)\n", passed,
               failed, errors, report.interrupted ? " (interrupted)" : "", dir.string().c_str(),
               (dir / "report.html").string().c_str());
  if (report.interrupted) return kExitInterrupted;
  if (errors > 0) return kExitBadInput;
  return failed > 0 ? kExitFail : kExitPass;
}

int run(const RunArgs& args, const CommandContext& context) {
  auto loaded = load_all(args.paths, args.vars);
  if (!loaded) return kExitBadInput;
  std::vector<Scenario> scenarios;
  for (auto& s : *loaded)
    if (has_any_label(s, args.labels)) scenarios.push_back(std::move(s));
  if (scenarios.empty()) {
    std::fprintf(stderr, "harness: no scenario has any of the labels given with --label\n");
    return kExitBadInput;
  }
  RunnerOptions options;
  options.out_root = fs::path(args.report_dir) / "out";
  options.vars = default_vars(context, args.vars);
  options.tail_bytes = args.tail_kib * 1024;
  // Every worker's output, prefixed, as the run goes (logs/ of the report folder); a previous
  // run's logs would be mistaken for this one's.
  options.logs_root = fs::path(args.report_dir) / "logs";
  try {
    fs::remove_all(options.logs_root);
    fs::create_directories(options.logs_root);
    options.run_log = std::make_shared<RunLog>((options.logs_root / "run.log").string());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "harness: cannot make the logs folder: %s\n", e.what());
    return kExitBadInput;
  }

  RunReport report = new_report(context, args.jobs);
  // Forked before any thread starts: if this process is killed, it kills what the run started.
  const Watchdog watchdog;
  Supervisor supervisor;
  const CancelSignals signals(supervisor);
  const Verbosity verbosity = args.quiet     ? Verbosity::quiet
                              : args.verbose ? Verbosity::verbose
                                             : Verbosity::normal;
  ConsoleProgress progress(stderr, verbosity, static_cast<int>(scenarios.size()), args.jobs);
  ScenarioRunner runner(supervisor, options);
  ReportKeeper keeper(report, args.report_dir, supervisor);
  keeper.rewrite();  // an empty but valid report from the start
  if (keeper.failed()) return kExitBadInput;
  run_scenarios(
      runner, scenarios, args.jobs, &progress,
      [&](std::size_t index, ScenarioResult&& result) { keeper.add(index, std::move(result)); });
  report.complete = true;
  keeper.rewrite();
  if (keeper.failed()) return kExitBadInput;
  return summarize(report, args);
}

}  // namespace

Command add_run_command(CLI::App& parent, const CommandContext& context) {
  auto args = std::make_shared<RunArgs>();
  auto* app = parent.add_subcommand("run", "Run scenarios and write reports");
  app->add_option("paths", args->paths, "Scenario files or folders")->required();
  app->add_option("--report-dir", args->report_dir, "Where reports go")->capture_default_str();
  app->add_option("--label", args->labels, "Only scenarios with this label (repeatable)");
  app->add_option("--var", args->vars, "NAME=VALUE for ${NAME} (repeatable)");
  app->add_option("--tail-kib", args->tail_kib, "KiB of each output stream kept")
      ->check(CLI::Range(std::int64_t{1}, kMaxTailKib))
      ->capture_default_str();
  app->add_option("-j,--jobs", args->jobs,
                  "Scenarios run at a time; those with memory expectations always run alone")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  app->add_flag("-q,--quiet", args->quiet, "Print only failures and the final line");
  app->add_flag("-v,--verbose", args->verbose, "Print events and exits of every worker");
  return {app, [args, context] { return run(*args, context); }};
}

}  // namespace harness::cli
