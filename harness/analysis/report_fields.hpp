#pragma once
// The one place that knows the field names of report.json (reports/README.md). Capacity
// planning and comparison read reports through these plain records, so a renamed field in the
// report writer is a one-line fix here. Everything that can be unknown is std::optional: a null
// or absent value in the report stays "unknown", never zero.
//
// Per-run numbers come from the run's `metrics` object (memory sums either flat there or in
// `metrics.memory`, with `mean_added_kib` for memory added); where a memory sum is missing there it
// is rebuilt from the run's instances (scenarios[].instances[] with `run` = index of the run),
// and only if every instance of the run knows its value.
//
// Why the concurrent figures: a sum of per-worker peaks mixes moments. Workers of one run end at
// different times, and once its siblings are gone the survivor is the only mapper of the library
// pages they shared, so its PSS and USS jump by that shared part (measured: +50 MiB of OpenCV
// per yolo_worker). The concurrent figures look only at samples taken while all workers of the
// run were alive and busy (spawn_offset_ms + t_ms, up to the first worker's `result` event, or
// its exit without one: a worker frees and unmaps while it exits, before it is reaped) and sum
// PSS at the same instant, holding each worker's latest PSS sample: that is the physical memory
// the group occupied.

#include <climits>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <nlohmann/json.hpp>

namespace harness {

struct RunFields {
  nlohmann::json params = nlohmann::json::object();  // {"instances": 3, "model": "n"}
  int repeat = 0;
  bool warmup = false;
  std::optional<double> wall_s;
  std::optional<int> instances;          // workers started together in this run
  std::optional<double> throughput_fps;  // frames/s over all workers
  std::optional<double> latency_p50_s;   // per-job latency
  std::optional<double> latency_p95_s;
  std::optional<double> latency_p99_s;
  std::optional<double> ready_p50_ms;  // spawn to `ready`
  // `ready` to the last `result` event, median over the run's instances that sent both: the
  // worker's own work (the frames), without start-up and model load, which dilute a slower
  // frame in wall_s. From the instances' events, so reports of older versions have it too.
  std::optional<double> work_p50_ms;
  std::optional<double> sum_peak_rss_kib;
  std::optional<double> sum_peak_pss_kib;
  std::optional<double> mean_peak_uss_kib;
  std::optional<double> mean_memory_added_kib;  // ready RSS - baseline RSS, per worker
  // From the instances' memory timelines, only while every worker of the run was alive (see
  // above); unknown when the report has no PSS sample of some instance in that window.
  std::optional<double> concurrent_pss_kib;             // peak of the sum of PSS at one time
  std::optional<double> concurrent_uss_per_worker_kib;  // mean over workers of their peak USS
  // The run's `cpu_demand` (run/cpu_demand.hpp): CPUs its workers wanted at once, measured from
  // their threads' run and run-queue wait times; unknown in reports without it.
  std::optional<double> cpu_wanted;
  std::optional<double> cpu_wait_share;
  std::optional<int> cpu_cores;
  std::optional<int> threads_per_worker;
  bool oversubscribed = false;
};

struct ScenarioFields {
  std::string name;
  std::string status;
  nlohmann::json matrix;  // object of key -> list, or null
  std::vector<RunFields> runs;
};

struct ReportFields {
  std::optional<int> host_cpus;
  std::optional<double> host_mem_total_kib;
  std::string hostname;
  std::vector<ScenarioFields> scenarios;
};

// Throws std::runtime_error naming `source` and the field when the report is not a report.json
// of schema 1 (not an object, no `scenarios` array, a run that is not an object).
ReportFields read_report_fields(const nlohmann::json& report, std::string_view source = "report");

// Reads and parses a JSON file; errors name the path and the parse position.
nlohmann::json read_json_file(const std::filesystem::path& path);

// "instances=3 model=n": a stable, human-readable key for a run's params (sorted by key).
std::string params_label(const nlohmann::json& params);

// obj[key] as T (bool, int or std::string): `fallback` when obj is no object or the key is absent
// or null; a std::runtime_error naming `where` and the key when it holds another type (where
// nlohmann::json::value would throw a bare type_error, or convert 1e300 to an int).
template <class T>
T field_or(const nlohmann::json& obj, std::string_view key, T fallback, std::string_view where) {
  if (!obj.is_object()) return fallback;
  const auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return fallback;
  bool ok = false;
  if constexpr (std::is_same_v<T, bool>) {
    ok = it->is_boolean();
  } else if constexpr (std::is_same_v<T, int>) {
    ok = it->is_number_integer() && *it >= INT_MIN && *it <= INT_MAX;
  } else {
    static_assert(std::is_same_v<T, std::string>, "field_or: bool, int or std::string");
    ok = it->is_string();
  }
  if (!ok) {
    const char* want = std::is_same_v<T, bool>  ? "true or false"
                       : std::is_same_v<T, int> ? "an integer"
                                                : "a string";
    throw std::runtime_error(std::string(where) + ": \"" + std::string(key) + "\" must be " + want +
                             ", not " + it->dump().substr(0, 40));
  }
  return it->template get<T>();
}

}  // namespace harness
