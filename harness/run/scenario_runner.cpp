#include "harness/run/scenario_runner.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <stop_token>
#include <system_error>
#include <thread>
#include <utility>

#include <fmt/format.h>

#include "harness/jobs/job_plan.hpp"
#include "harness/jobs/job_stats.hpp"
#include "harness/jobs/peak_search.hpp"
#include "harness/judge/expect.hpp"
#include "harness/judge/jobs_expect.hpp"
#include "harness/run/cpu_demand.hpp"

namespace harness {
namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::string param_value(const nlohmann::json& value) {
  return value.is_string() ? value.get<std::string>() : value.dump();
}

// A folder name for one run: "run-1", "run-2-instances=3-model=n", "warmup-1".
std::string run_folder(int ordinal, const nlohmann::json& params, bool warmup) {
  std::string name = (warmup ? "warmup-" : "run-") + std::to_string(ordinal);
  for (const auto& [key, value] : params.items()) {
    name += "-" + key + "=" + param_value(value);
  }
  for (char& c : name) {
    if (c == '/' || c == '\\' || c == ' ' || c == ':') c = '_';
  }
  return name;
}

// Forwards the supervisor's callbacks to the progress display.
class ProgressRelay : public ProcessObserver {
 public:
  ProgressRelay(const Scenario& scenario, RunProgress* progress)
      : scenario_(scenario), progress_(progress) {}
  void on_event(int index, const Event& event) override {
    if (progress_) progress_->event(scenario_, index, event);
  }
  void on_exit(int index, const ProcessResult& result) override {
    if (progress_) progress_->instance_exited(scenario_, index, result);
  }

 private:
  const Scenario& scenario_;
  RunProgress* progress_;
};

}  // namespace

std::string describe_params(const nlohmann::json& params) {
  std::string text;
  for (const auto& [key, value] : params.items()) {
    if (!text.empty()) text += ' ';
    text += key + "=" + param_value(value);
  }
  return text;
}

void finish_status(ScenarioResult& result) {
  if (result.status == "error") return;
  result.failures.clear();
  for (const auto& run : result.runs) {
    const std::string prefix = run.params.empty() ? "" : "[" + describe_params(run.params) + "] ";
    const std::string repeat =
        run.repeat > 0 ? "repeat " + std::to_string(run.repeat + 1) + ": " : "";
    for (const auto& failure : run.failures) result.failures.push_back(prefix + repeat + failure);
  }
  for (const auto& peak : result.peaks) {
    const std::string prefix = peak.params.empty() ? "" : "[" + describe_params(peak.params) + "] ";
    for (const auto& failure : peak.failures) result.failures.push_back(prefix + failure);
  }
  result.status = result.failures.empty() ? "pass" : "fail";
}

namespace {

ScenarioResult could_not_run(const Scenario& s, const std::string& why) {
  ScenarioResult result;
  result.name = s.name;
  result.file = s.file;
  result.labels = s.labels;
  result.status = "error";
  result.error = "the harness could not run it: " + why;
  return result;
}

// What the pool threads and the scheduling thread share; guarded by `mutex`.
struct PoolState {
  std::mutex mutex;
  std::condition_variable_any changed;
  int running = 0;  // handed to the pool and not yet finished
  std::deque<std::size_t> ready;
  std::deque<std::pair<std::size_t, ScenarioResult>> finished;
};

// `threads` threads running scenarios from state.ready into state.finished. RAII: destroying
// the pool asks its threads to stop and joins them (std::jthread), also while an exception
// unwinds the scheduling thread; a thread finishes the scenario it is running, then leaves
// without taking another one.
class ScenarioPool {
 public:
  ScenarioPool(PoolState& state, std::size_t threads,
               const std::function<ScenarioResult(std::size_t)>& run_one)
      : state_(state), run_one_(run_one) {
    for (std::size_t t = 0; t < threads; ++t) {
      try {
        threads_.emplace_back([this](std::stop_token stop) { work(stop); });
      } catch (const std::system_error&) {  // fewer threads than asked: run with what we have
        if (threads_.empty()) throw;
        break;
      }
    }
  }
  std::size_t size() const { return threads_.size(); }

 private:
  void work(const std::stop_token& stop) {
    std::unique_lock lock(state_.mutex);
    for (;;) {
      state_.changed.wait(lock, stop, [&] { return !state_.ready.empty(); });
      if (stop.stop_requested()) return;  // even with scenarios left in `ready`
      const std::size_t i = state_.ready.front();
      state_.ready.pop_front();
      lock.unlock();
      ScenarioResult result = run_one_(i);
      lock.lock();
      state_.finished.emplace_back(i, std::move(result));
      --state_.running;
      state_.changed.notify_all();
    }
  }

  PoolState& state_;
  const std::function<ScenarioResult(std::size_t)>& run_one_;
  std::vector<std::jthread> threads_;  // last: joined before the rest goes
};

}  // namespace

void run_scenarios(ScenarioRunner& runner, const std::vector<Scenario>& scenarios, int jobs,
                   RunProgress* progress,
                   const std::function<void(std::size_t, ScenarioResult&&)>& on_done) {
  jobs = std::max(jobs, 1);
  const auto start = Clock::now();
  const std::function<ScenarioResult(std::size_t)> run_one = [&](std::size_t i) {
    const double start_s = seconds_since(start);
    ScenarioResult result;
    try {
      result = runner.run(scenarios[i], progress);
    } catch (const std::exception& e) {  // out of memory or fds: not the worker's doing
      result = could_not_run(scenarios[i], e.what());
    } catch (...) {  // nothing may escape a pool thread: that would terminate the harness
      result = could_not_run(scenarios[i], "an unknown exception");
    }
    result.start_s = start_s;
    return result;
  };

  if (jobs == 1) {  // on this thread, as simple as it gets
    for (std::size_t i = 0; i < scenarios.size() && !runner.cancelled(); ++i) {
      on_done(i, run_one(i));
    }
    return;
  }

  // A pool of `jobs` threads that live for the whole run: libproc2 keeps per-thread buffers
  // (~260 KiB once a thread read smaps) that are lost when a thread ends, so a thread per
  // scenario would grow the harness with every scenario. Declared after `state`, so an exception
  // from on_done (or anywhere below) joins the threads before what they use goes away.
  PoolState state;
  const ScenarioPool pool(state, std::min<std::size_t>(jobs, scenarios.size()), run_one);
  jobs = static_cast<int>(pool.size());

  std::unique_lock lock(state.mutex);
  // Hands finished results to on_done on this thread, outside the lock, and waits until
  // `may_go` holds.
  const auto wait_until = [&](const auto& may_go) {
    for (;;) {
      while (!state.finished.empty()) {
        auto [index, result] = std::move(state.finished.front());
        state.finished.pop_front();
        lock.unlock();
        on_done(index, std::move(result));
        lock.lock();
      }
      if (may_go()) return;
      state.changed.wait(lock, [&] { return !state.finished.empty(); });
    }
  };
  for (std::size_t i = 0; i < scenarios.size(); ++i) {
    // A memory-measuring scenario waits for the machine to be its own, and keeps it.
    const bool alone = measures_memory(scenarios[i]);
    wait_until([&] { return alone ? state.running == 0 : state.running < jobs; });
    if (runner.cancelled()) break;
    ++state.running;
    state.ready.push_back(i);
    state.changed.notify_all();
    if (alone) wait_until([&] { return state.running == 0; });
  }
  wait_until([&] { return state.running == 0; });
}

ScenarioRunner::ScenarioRunner(Supervisor& supervisor, RunnerOptions options)
    : supervisor_(supervisor), options_(std::move(options)) {}

ScenarioResult ScenarioRunner::run(const Scenario& scenario, RunProgress* progress) {
  const auto start = Clock::now();
  ScenarioResult result;
  result.name = scenario.name;
  result.file = scenario.file;
  result.description = scenario.description;
  result.labels = scenario.labels;
  result.matrix = scenario.matrix_json;
  result.expect = scenario.expect_json;

  const fs::path scenario_dir = options_.out_root / scenario.name;
  std::error_code ec;
  fs::remove_all(scenario_dir, ec);  // ${OUT} must be fresh: stale results would pass checks
  if (ec) {
    result.status = "error";
    result.error = "cannot clear " + scenario_dir.string() + ": " + ec.message();
    return result;
  }

  const std::vector<RunPoint> points = expand_matrix(scenario);
  int total_runs = 0;
  for (const auto& point : points) total_runs += point.run.warmup + point.run.repeat;
  if (progress) progress->scenario_started(scenario, total_runs);

  int ordinal = 0;
  try {
    for (const auto& point : points) {
      if (scenario.jobs && scenario.jobs->arrival.peak) {
        run_peak_search(scenario, point, scenario_dir, ordinal, result, progress);
        continue;
      }
      for (int i = 0; i < point.run.warmup + point.run.repeat; ++i) {
        if (supervisor_.cancelled()) break;
        const bool warmup = i < point.run.warmup;
        const int repeat = warmup ? i : i - point.run.warmup;
        ++ordinal;
        const fs::path run_dir = scenario_dir / run_folder(ordinal, point.params, warmup);
        result.runs.push_back(run_point(scenario, point, repeat, warmup, run_dir, progress));
      }
    }
  } catch (const std::exception& e) {
    // Variables that cannot be expanded or folders that cannot be made: the scenario cannot run,
    // which is the user's input problem, not a worker's failure.
    result.status = "error";
    result.error = e.what();
  }
  finish_status(result);
  result.duration_s = seconds_since(start);
  if (progress) progress->scenario_done(result);
  return result;
}

namespace {

// The CPU the run's workers wanted (run/cpu_demand.hpp), with the scenario's worker environment
// over the harness's own.
void judge_cpu_demand(const Scenario& scenario, ScenarioRun& run) {
  const long cores = ::sysconf(_SC_NPROCESSORS_ONLN);
  run.cpu_demand = cpu_demand(run.instances, static_cast<int>(cores), [&](const std::string& v) {
    return scenario.worker.env.count(v) > 0 || std::getenv(v.c_str()) != nullptr;
  });
}

}  // namespace

LogTarget ScenarioRunner::log_target(const Scenario& scenario, const fs::path& run_dir,
                                     const std::string& name) const {
  LogTarget t;
  if (options_.logs_root.empty()) return t;
  const fs::path rel = run_dir.lexically_relative(options_.out_root);
  const std::string run = run_dir.filename().string();
  t.tag = scenario.name + (run == "run-1" ? "" : "/" + run) + "#" + name;
  t.path = (options_.logs_root / rel / ("instance-" + name + ".log")).string();
  t.run = options_.run_log;
  return t;
}

void ScenarioRunner::relative_logs(std::vector<ProcessResult>& processes) const {
  const fs::path base = options_.logs_root.parent_path();
  for (ProcessResult& p : processes)
    if (!p.log_file.empty()) p.log_file = fs::path(p.log_file).lexically_relative(base).string();
}

ScenarioRun ScenarioRunner::run_point(const Scenario& scenario, const RunPoint& point, int repeat,
                                      bool warmup, const fs::path& run_dir, RunProgress* progress) {
  ScenarioRun run;
  run.params = point.params;
  run.repeat = repeat;
  run.warmup = warmup;
  if (scenario.jobs) return run_jobs(scenario, point, std::move(run), run_dir, progress);

  std::vector<ProcessSpec> specs;
  std::vector<std::string> out_dirs;
  for (int i = 0; i < point.run.instances; ++i) {
    const fs::path out = run_dir / ("instance-" + std::to_string(i));
    fs::create_directories(out);  // throws with the path and the cause
    Variables vars = options_.vars;
    for (const auto& [key, value] : point.vars) vars[key] = value;
    vars["OUT"] = out.string();
    vars["INSTANCE"] = std::to_string(i);
    const WorkerSpec worker = expand_worker(scenario.worker, vars);

    ProcessSpec spec = process_spec_of(worker, point, options_.tail_bytes);
    spec.start_delay = point.run.stagger * i;
    spec.log = log_target(scenario, run_dir, std::to_string(i));
    specs.push_back(std::move(spec));
    out_dirs.push_back(out.string());
  }

  if (progress) {
    progress->run_started(scenario, point.params, repeat, warmup, point.run.instances);
  }
  ProgressRelay relay(scenario, progress);
  const auto start = Clock::now();
  run.instances = supervisor_.run(specs, &relay);
  run.wall_s = seconds_since(start);
  relative_logs(run.instances);
  judge_cpu_demand(scenario, run);
  for (std::size_t i = 0; i < run.instances.size(); ++i) run.instances[i].out_dir = out_dirs[i];
  run.failures = evaluate(scenario.expect, run);
  return run;
}

ScenarioRun ScenarioRunner::run_jobs(const Scenario& scenario, const RunPoint& point,
                                     ScenarioRun run, const fs::path& run_dir,
                                     RunProgress* progress, std::optional<double> rate) {
  fs::create_directories(run_dir);  // ${OUT} of every job and worker of the stream
  JobPlan plan = make_job_plan(scenario, point, options_.vars, run_dir, options_.tail_bytes);
  if (rate) {
    plan.spec.arrival.rate = *rate;
    plan.spec.arrival.peak.reset();
  }
  if (!options_.logs_root.empty()) {
    // A log per process: per attempt of a spawned job, per start of a pool slot.
    auto starts = std::make_shared<std::map<int, int>>();
    plan.spawn_process = [this, &scenario, run_dir, make = plan.spawn_process](const JobRecord& j) {
      ProcessSpec ps = make(j);
      const std::string name = "job" + std::to_string(j.id);
      ps.log = log_target(scenario, run_dir, name);
      ps.log.path = (fs::path(ps.log.path).parent_path() /
                     ("job-" + std::to_string(j.id) + "-" + std::to_string(j.attempts) + ".log"))
                        .string();
      return ps;
    };
    plan.pool_process = [this, &scenario, run_dir, starts, make = plan.pool_process](int slot) {
      ProcessSpec ps = make(slot);
      const int start = ++(*starts)[slot];
      ps.log = log_target(scenario, run_dir, "w" + std::to_string(slot));
      ps.log.path = (fs::path(ps.log.path).parent_path() /
                     ("worker-" + std::to_string(slot) + "-" + std::to_string(start) + ".log"))
                        .string();
      return ps;
    };
    plan.agent_process = [this, &scenario, run_dir, starts, make = plan.agent_process](
                             int slot, const std::string& url, const std::string& queue) {
      ProcessSpec ps = make(slot, url, queue);
      const int start = ++(*starts)[slot];
      ps.log = log_target(scenario, run_dir, "a" + std::to_string(slot));
      ps.log.path = (fs::path(ps.log.path).parent_path() /
                     ("agent-" + std::to_string(slot) + "-" + std::to_string(start) + ".log"))
                        .string();
      return ps;
    };
  }
  if (progress) {
    progress->run_started(scenario, point.params, run.repeat, run.warmup, plan.spec.workers);
  }
  ProgressRelay relay(scenario, progress);
  JobStreamOutcome out = run_job_stream(supervisor_, plan, &relay);
  run.wall_s = out.wall_s;
  run.instances = std::move(out.processes);
  relative_logs(run.instances);
  judge_cpu_demand(scenario, run);
  for (auto& p : run.instances) p.out_dir = run_dir.string();
  VerdictRules rules;
  rules.min_jobs = static_cast<std::size_t>(plan.spec.min_jobs);
  rules.late_after_ms = static_cast<double>(plan.spec.late_after.count());
  rules.min_duration_s = static_cast<double>(plan.spec.min_duration.count()) / 1000.0;
  if (const auto* x = scenario.expect.get<JobsExpect>("jobs"))
    rules.tail_percentile = x->tail_percentile();
  if (const auto& peak = scenario.jobs->arrival.peak)
    rules.tail_percentile = std::max(rules.tail_percentile, peak->percentile);
  summarise(out.jobs, rules);
  run.jobs = std::move(out.jobs);
  run.failures = evaluate(scenario.expect, run);
  return run;
}

void ScenarioRunner::run_peak_search(const Scenario& scenario, const RunPoint& point,
                                     const fs::path& scenario_dir, int& ordinal,
                                     ScenarioResult& result, RunProgress* progress) {
  PeakSearch search(*scenario.jobs->arrival.peak);
  const std::size_t first = result.runs.size();
  while (const auto rate = search.next_rate()) {
    if (supervisor_.cancelled()) break;
    ScenarioRun run;
    run.params = point.params;
    run.params["rate"] = fmt::format("{:g}/s", *rate);
    const fs::path run_dir = scenario_dir / run_folder(++ordinal, run.params, false);
    run = run_jobs(scenario, point, std::move(run), run_dir, progress, *rate);
    search.record(*rate, *run.jobs, result.runs.size());
    result.runs.push_back(std::move(run));
  }
  if (supervisor_.cancelled()) search.interrupt();
  PeakResult peak = search.result();
  peak.params = point.params;
  // The search's runs are measurements; the expectations are judged at the peak only (above it
  // a latency bound fails by definition).
  for (std::size_t i = first; i < result.runs.size(); ++i) {
    const bool at_peak = peak.peak_rate && result.runs[i].jobs && i - first < peak.points.size() &&
                         peak.points[i - first].rate == *peak.peak_rate;
    if (!at_peak) result.runs[i].failures.clear();
  }
  if (const auto* x = scenario.expect.get<JobsExpect>("jobs")) {
    if (auto failure = check_peak_min(*x, peak)) peak.failures.push_back(*failure);
  }
  result.peaks.push_back(std::move(peak));
}

}  // namespace harness
