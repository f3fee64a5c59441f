#pragma once
// What the human reports (report.md, report.html) say about a scenario in one line, and the
// series a matrix scenario forms. Shared so both reports agree.
//
// The key result depends on what the scenario shows, judged from its data in this order:
// could not run (error) > matrix series > a timeout > a failing worker (exit code, signal, error
// event captured) > N concurrent workers > memory expectations (memory added by the model) >
// a plain success (the parsed result). The first judged (non-warmup) run speaks for the
// scenario; a repeated scenario also says how many runs there were and their total wall time.

#include <optional>
#include <string>
#include <vector>

#include "harness/core/result.hpp"
#include "harness/report/metrics.hpp"

namespace harness {

std::string status_label(const std::string& status);  // "PASS", "FAIL", "ERROR"

// The run that speaks for the scenario: the first non-warmup run, else the first, else null.
const ScenarioRun* representative_run(const ScenarioResult& s);

std::string key_result(const ScenarioResult& s, const RunReport& report);

struct SeriesPoint {
  std::string label;        // "instances=3"
  std::optional<double> x;  // the varied value when it is one number
  int repeat = 0;
  const ScenarioRun* run = nullptr;
  RunMetrics metrics;
};

// One point per judged run when the scenario has a matrix; empty otherwise. `varied` is set to
// the varied parameter's name ("instances"), or to "params" when several vary.
std::vector<SeriesPoint> matrix_series(const ScenarioResult& s, std::string* varied = nullptr);

}  // namespace harness
