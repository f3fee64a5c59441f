#pragma once
// Capacity planning from a concurrency sweep: how many workers fit on this machine.
//
// Input is a report.json with a scenario whose matrix varies `instances` (for example
// scenarios/capacity/sweep.yaml). Runs with the same params are one matrix point; repeats are
// averaged, warmup runs ignored. Matrix keys other than `instances` (e.g. `model`) split the
// sweep into series, each planned on its own.
//
// Memory model. For one worker: RSS counts every resident page it maps, including pages that
// siblings map too (OpenCV's libraries, the mmapped model file), so N x RSS overstates N workers.
// USS counts only pages mapped by this process alone; PSS charges each page 1/k to each of the k
// processes that map it, so the PSS of a group of processes sums to the physical memory they
// occupy. Hence the measured total of N workers is T(N) = sum of their PSS at one moment: the
// peak of that sum over the samples taken while all N were alive (report_fields.hpp says why
// not the sum of per-worker peaks; reports without samples fall back to it, with a note).
//
//   private P = per-worker peak USS measured with siblings running (the smallest N >= 2).
//     Not USS at N = 1: a lone worker is the only mapper of the library and model pages, so its
//     USS counts them as private and P would carry the shared part N times.
//     (Only a sweep without any N >= 2 falls back to USS at N = 1, with a note.)
//   shared  S = T(N0) - N0 x P at the smallest measured N0; with N0 = 1 that is the lone
//     worker's PSS (== its RSS, bar pages shared with unrelated processes) minus its private part.
//   predicted total M(N) = S + N x P.
//
// M(N0) equals T(N0) by construction; every other point is a check of the model: the report
// gives error % = (M(N) - T(N)) / T(N) x 100 (target |error| <= 5 %) beside the naive RSS sum's
// error (sum of RSS - T(N)) / T(N) x 100. What the model ignores: pages shared with processes
// outside the sweep (libc) are charged to workers a growing fraction as N grows, and peaks of
// different workers need not coincide; both show up as error, which is why it is reported.
//
// Plan. usable = budget x (1 - margin); memory fit = the largest N with M(N) <= usable.
// The knee is the smallest measured N whose next measured point adds less than `knee_gain`
// (default 10 %) throughput per added worker: more workers then only queue for CPU. With a
// latency limit, the latency fit is the largest measured N such that p95 <= limit at it and at
// every smaller N. recommended = min(memory fit, knee, latency fit); the limiting factor is the
// constraint that gives the minimum: "memory", "latency", "cpu" (the knee), or "sweep" when
// throughput still rose at the largest measured N (the sweep was too short to find the knee).
// Ties go to memory, then latency, then cpu: hard limits first.
//
// Errors are std::runtime_error with a message that says how to fix the input.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace harness {

struct CapacityPoint {
  int workers = 0;
  int repeats = 0;  // runs averaged into this point
  std::optional<double> throughput_fps;
  std::optional<double> latency_p50_s;
  std::optional<double> latency_p95_s;
  std::optional<double> latency_p99_s;
  std::optional<double> ready_p50_ms;
  std::optional<double> sum_rss_kib;
  std::optional<double> sum_pss_kib;  // measured total T(N)
  std::optional<double> uss_per_worker_kib;
  // true: T(N) and USS come from samples while all N workers were alive (report_fields.hpp);
  // false: from per-worker peaks, which mix moments and overstate both.
  bool concurrent = false;
  std::optional<double> sum_peak_pss_kib;  // the per-worker peaks summed, for comparison
  // Filled by the memory model:
  std::optional<double> predicted_kib;         // M(N)
  std::optional<double> prediction_error_pct;  // (M - T) / T x 100
  std::optional<double> rss_sum_error_pct;     // (sum RSS - T) / T x 100
  // CPU (the runs' cpu_demand): CPUs the N workers wanted at once (their threads' run plus
  // run-queue wait over the run), the share of it spent waiting, the most threads one worker
  // ran, and whether any repeat was oversubscribed. Unknown in reports without them.
  std::optional<double> cpus_wanted;
  std::optional<double> cpu_wait_share;
  std::optional<int> threads_per_worker;
  bool oversubscribed = false;
};

struct MemoryModel {
  double shared_kib = 0;
  double private_kib = 0;
  int total_from_n = 0;    // N0: where T was taken for the shared part
  int private_from_n = 0;  // where USS was taken for the private part
  double predict_kib(int workers) const { return shared_kib + workers * private_kib; }
};

struct CapacitySeries {
  std::string scenario;
  nlohmann::json config = nlohmann::json::object();  // the other matrix params: {"model": "n"}
  std::string label;                                 // "sweep model=n"
  std::vector<CapacityPoint> points;                 // ascending workers
  std::optional<MemoryModel> model;                  // empty when no memory was measured
  std::optional<double> max_abs_error_pct;           // over points other than N0
  std::optional<int> knee;  // at the default knee gain (PlanOptions), when every point has fps
  bool knee_found = false;  // false: throughput still rose at the largest N
  std::vector<std::string> notes;  // caveats of the model for this series
  std::optional<int> cores;        // of the machine the sweep ran on
};

// All concurrency sweeps in the report, with the memory model fitted and checked. Throws when
// the report has none.
std::vector<CapacitySeries> extract_sweeps(const nlohmann::json& report);

// The knee (see the top of this file) at `gain`; `found` false when throughput still rose at the
// largest N, which is then returned. Unknown when some point has no throughput.
std::optional<int> find_knee(const CapacitySeries& s, double gain, bool* found);

// Whether a scenario's matrix (as written) varies `instances` over 2 values or more.
bool is_concurrency_sweep(const nlohmann::json& matrix);

// A scenario of report.json as {"series": capacity series (below)}, or null when it is not a
// concurrency sweep. For report.json itself, written while the run goes on.
nlohmann::json scenario_capacity(const nlohmann::json& scenario);

// The same as JSON (one object per series with its points, model and errors), for report.json
// and the HTML charts.
nlohmann::json capacity_series(const nlohmann::json& report);
nlohmann::json series_to_json(const CapacitySeries& s);

// What to run when a report has no sweep.
inline constexpr std::string_view kSweepHint =
    "run a concurrency sweep first, e.g. `harness run scenarios/capacity/sweep.yaml "
    "--report-dir reports/capacity`, then plan from reports/capacity/report.json";

// N x the CPUs one worker wants may exceed the cores by this fraction before the CPU limits N:
// the run-queue reading of an unhurried worker is a few percent above one core.
inline constexpr double kCpuFitSlack = 0.10;

struct PlanOptions {
  std::int64_t memory_budget_kib = 0;
  std::optional<double> latency_p95_max_s;
  double margin = 0.10;     // fraction of the budget kept free
  double knee_gain = 0.10;  // minimum throughput gain per added worker worth having
  std::string scenario;     // plan only this scenario's sweep; empty: all sweeps
};

struct SeriesPlan {
  CapacitySeries series;
  double usable_kib = 0;
  int memory_fit = 0;
  int knee = 0;
  bool knee_found = false;
  bool knee_known = false;  // false: some point has no throughput
  std::optional<int> latency_fit;
  // CPU: the workers that fit the cores at the CPUs one worker wanted at the smallest measured
  // N (cpus_wanted / N), with kCpuFitSlack for the reading's noise; unknown without cpu_demand.
  std::optional<int> cpu_fit;
  std::optional<double> cpus_per_worker;
  std::optional<int> threads_assumed;  // the threads per worker that figure was measured with
  int recommended = 0;
  // "memory" | "latency" | "cpu" (the cores) | "throughput" (the knee) | "sweep" (no knee yet)
  std::string limiting;
  std::optional<double> predicted_kib_at_recommended;
  std::optional<double> throughput_at_recommended;  // when that N was measured
  std::vector<std::string> notes;
};

struct Plan {
  PlanOptions options;
  std::vector<SeriesPlan> series;
};

Plan plan(const nlohmann::json& report, const PlanOptions& options);
std::string format_plan_table(const Plan& plan);
nlohmann::json plan_to_json(const Plan& plan);

}  // namespace harness
