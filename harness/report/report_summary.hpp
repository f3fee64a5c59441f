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

// The CPU of a scenario's judged instances that were measured (reaped).
struct CpuTotals {
  std::size_t instances = 0;
  double cpu_s = 0;                  // user + system, summed
  double utilisation_pct = -1;       // the busiest instance's average
  double peak_utilisation_pct = -1;  // the busiest window of any instance
  int threads_max = 0, processes_max = 0;
};
CpuTotals cpu_totals(const ScenarioResult& s);

// The CPU of a scenario's workers in one cell: "1.84 s, 97 % of a core (peak 100 %), 2 threads"
// for one instance; over several, the mean CPU time, the busiest instance's utilisation and the
// largest tree ("3 x 1.84 s mean, up to 97 % ..."). "-" when no instance was measured.
std::string cpu_summary(const ScenarioResult& s);

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
