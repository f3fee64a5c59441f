#pragma once
// How a job stream's run appears in the reports: its `jobs` object in report.json (every
// record, the counts, percentiles and verdict) and, in report.md, one table per scenario with a
// row per run, which reads as "designs compared" when the matrix varies `mode`.

#include <ostream>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/core/result.hpp"

namespace harness {

nlohmann::json jobs_json(const JobsResult& jobs);
void write_jobs_markdown(const ScenarioResult& scenario, std::ostream& out);
// report.html: the latency distribution (CDF) of every run on one chart, so designs compare at a
// glance, and per run a timeline of its jobs by worker (queue wait as a thin line, service as a
// bar coloured by status). Nothing when the scenario has no job stream.
void write_jobs_html(const ScenarioResult& scenario, std::ostream& out);

// Peak searches (peak_report.cpp): report.json's `peaks` of a scenario, a report.md table per
// search (called by write_jobs_markdown), a report.html chart (called by write_jobs_html).
nlohmann::json peaks_json(const std::vector<PeakResult>& peaks);
void write_peaks_markdown(const ScenarioResult& scenario, std::ostream& out);
void write_peaks_html(const ScenarioResult& scenario, std::ostream& out);

}  // namespace harness
