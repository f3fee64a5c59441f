#pragma once
// Runs loaded scenarios: expands each matrix point, repeat and warmup into a batch of worker
// processes, runs the batch on the Supervisor, judges it against the scenario's expectations and
// hands the result on. Scenarios run one after another (memory figures of one scenario must not
// be polluted by another's workers) unless the caller asks for parallel jobs.
//
// Reports are the caller's business: on_scenario_done is called after every scenario so the
// caller can rewrite them, and an interrupted run still leaves a valid report of what ran.

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "harness/core/result.hpp"
#include "harness/scenario/scenario.hpp"
#include "harness/scenario/variables.hpp"
#include "harness/supervise/supervisor.hpp"

namespace harness {

struct RunnerOptions {
  std::filesystem::path out_root;  // ${OUT} = out_root/<scenario>/<run>/instance-<i>
  Variables vars;                  // WORKERS, MODELS, FIXTURES and --var overrides
  std::size_t tail_bytes = 64 * 1024;
  // Output logs (supervise/output_log.hpp): logs_root/<scenario>/<run>/instance-<i>.log (job
  // streams: job-<id>-<attempt>.log, worker-<slot>-<start>.log) and the merged run log. Empty
  // logs_root: no logs. ProcessResult::log_file is then relative to logs_root's parent.
  std::filesystem::path logs_root;
  std::shared_ptr<RunLog> run_log;
};

// What the runner tells a progress display; called on the thread that runs the scenario. With
// parallel jobs several threads call the same display at once: it must lock.
class RunProgress {
 public:
  virtual ~RunProgress() = default;
  virtual void scenario_started(const Scenario&, int /*runs*/) {}
  virtual void run_started(const Scenario&, const nlohmann::json& /*params*/, int /*repeat*/,
                           bool /*warmup*/, int /*instances*/) {}
  virtual void event(const Scenario&, int /*instance*/, const Event&) {}
  virtual void instance_exited(const Scenario&, int /*instance*/, const ProcessResult&) {}
  virtual void scenario_done(const ScenarioResult&) {}
};

class ScenarioRunner {
 public:
  ScenarioRunner(Supervisor& supervisor, RunnerOptions options);

  // Never throws for what a worker did; a scenario whose variables cannot be expanded or whose
  // output folder cannot be made ends with status "error".
  ScenarioResult run(const Scenario& scenario, RunProgress* progress = nullptr);

  bool cancelled() const { return supervisor_.cancelled(); }

 private:
  ScenarioRun run_point(const Scenario& scenario, const RunPoint& point, int repeat, bool warmup,
                        const std::filesystem::path& run_dir, RunProgress* progress);
  // `rate`: the arrival rate of one point of a peak search (the scenario's otherwise).
  ScenarioRun run_jobs(const Scenario& scenario, const RunPoint& point, ScenarioRun run,
                       const std::filesystem::path& run_dir, RunProgress* progress,
                       std::optional<double> rate = std::nullopt);
  // A find_peak job stream at one matrix point: runs appended to `result.runs`, the search to
  // `result.peaks`. `ordinal` numbers the run folders.
  void run_peak_search(const Scenario& scenario, const RunPoint& point,
                       const std::filesystem::path& scenario_dir, int& ordinal,
                       ScenarioResult& result, RunProgress* progress);

  // Where the process `name` of the run in run_dir logs to, tagged "scenario#name" (the first
  // run) or "scenario/run-2-...#name"; no target without logs_root.
  LogTarget log_target(const Scenario& scenario, const std::filesystem::path& run_dir,
                       const std::string& name) const;
  // log_file made relative to the report folder.
  void relative_logs(std::vector<ProcessResult>& processes) const;

  Supervisor& supervisor_;
  RunnerOptions options_;
};

// Runs `scenarios` with at most `jobs` of them at a time, started in the given order: jobs = 1
// on the calling thread, more on a pool of `jobs` threads. A scenario that measures memory
// (measures_memory) runs alone: it waits for the running ones to finish and nothing starts
// beside it, so its figures are as clean as with jobs = 1. on_done(i, result) is called on the
// calling thread after scenario i finished, in completion order; the caller rewrites its reports
// there. result.start_s is set (seconds since the call). Stops starting scenarios once the
// supervisor is cancelled and returns after the running ones ended. jobs < 1 counts as 1.
// An exception from on_done stops the schedule the same way: the running scenarios end (their
// results are dropped), the pool threads are joined, and the exception reaches the caller.
void run_scenarios(ScenarioRunner& runner, const std::vector<Scenario>& scenarios, int jobs,
                   RunProgress* progress,
                   const std::function<void(std::size_t, ScenarioResult&&)>& on_done);

// "instances=3 model=n" for a run's params; empty for none.
std::string describe_params(const nlohmann::json& params);

// Status of a scenario from its runs' failures: "pass" or "fail" (errors are set by the runner).
void finish_status(ScenarioResult& result);

}  // namespace harness
