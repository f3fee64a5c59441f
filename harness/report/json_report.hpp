#pragma once
// report.json: the canonical, schema-versioned record of a run. reports/README.md documents
// every field and marks the minimal contract, which holds exactly. Other code (capacity
// planning, compare) reads what to_json produces.
//
// Guarantees: every string in the result is valid UTF-8 (worker bytes are sanitised), so
// dump() never throws; unknown figures (-1 memory, absent optionals) are null; memory samples
// are capped at kMaxSamplesPerInstance per instance, keeping the first, the last and the peaks.

#include <cstddef>
#include <ostream>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/core/result.hpp"
#include "harness/report/metrics.hpp"

namespace harness {

inline constexpr int kReportSchema = 1;
inline constexpr std::size_t kMaxSamplesPerInstance = 2000;
inline constexpr std::size_t kMaxEventsPerInstance = 1000;

nlohmann::json to_json(const RunReport& report);
// report.json itself: the bytes of to_json(report).dump(2) and a newline, written scenario by
// scenario and run by run, so the whole tree never exists in memory (a concurrency sweep is
// built whole, one scenario at a time: its capacity needs it all).
void write_json_report(const RunReport& report, std::ostream& out);
nlohmann::json to_json(const RunMetrics& metrics);
// One scenario as in report.json's `scenarios` array (with `capacity` when it is a sweep).
nlohmann::json to_json(const ScenarioResult& scenario);
// Its `capacity` (null unless it is a concurrency sweep), without serialising other scenarios.
nlohmann::json capacity_json(const ScenarioResult& scenario);

// Indices of the samples to keep, ascending: all of them when there are at most max_points,
// else an even stride plus the first, the last and the samples holding the RSS, PSS and USS
// peaks, never more than max_points (max_points >= 8).
std::vector<std::size_t> downsample_indices(const std::vector<MemorySample>& samples,
                                            std::size_t max_points);

}  // namespace harness
