// report.md: the run as a spike-report summary, readable as plain text in a terminal (the
// harness prints it at the end of a run) and rendered by any Markdown viewer. Worker text only
// appears inside table cells or list items, through markdown_cell, so it cannot break the layout
// or send terminal escapes.

#include <utility>
#include <vector>

#include <fmt/format.h>

#include "harness/core/escape.hpp"
#include "harness/report/jobs_report.hpp"
#include "harness/report/json_report.hpp"
#include "harness/report/metrics.hpp"
#include "harness/report/report_format.hpp"
#include "harness/report/report_summary.hpp"
#include "harness/report/reporter.hpp"

namespace harness {
namespace {

// Per scenario, so a run of 10000 repeats stays a summary; report.json has everything.
constexpr std::size_t kMaxSeriesRows = 1000;
constexpr std::size_t kMaxFailures = 100;

void write_header(const RunReport& r, std::ostream& out) {
  const auto [passed, failed, errors] = count_statuses(r);
  out << "# Harness report\n\n";
  out << "| | |\n|---|---|\n";
  out << "| harness | " << markdown_cell(r.harness_version) << " |\n";
  std::string host = r.host.hostname.empty() ? "?" : r.host.hostname;
  if (!r.host.kernel.empty()) host += ", " + r.host.kernel;
  host += fmt::format(", {} CPUs, {} RAM", r.host.cpus, display_kib(r.host.mem_total_kib));
  if (!r.host.cpu_model.empty()) host += ", " + r.host.cpu_model;
  out << "| host | " << markdown_cell(host) << " |\n";
  out << "| date | " << markdown_cell(r.started_at) << " |\n";
  out << "| duration | " << display_seconds(r.duration_s) << (r.interrupted ? " (interrupted)" : "")
      << " |\n";
  if (r.jobs > 1) {
    out << "| jobs | " << r.jobs
        << " scenarios at a time; those with memory expectations ran alone. Wall times of "
           "scenarios that overlapped include CPU contention. |\n";
  }
  out << "| harness RSS | " << display_kib(r.harness_rss_before_kib) << " before, "
      << display_kib(r.harness_rss_after_kib) << " after, " << display_kib(r.harness_rss_peak_kib)
      << " peak |\n";
  out << fmt::format("| result | {} passed, {} failed, {} error{} |\n\n", passed, failed, errors,
                     errors == 1 ? "" : "s");
  if (r.interrupted) {
    out << "**The run was interrupted**: only the scenarios below ran.\n\n";
  } else if (!r.complete) {
    out << "**The run did not finish** (the harness is still running, or was killed): only "
           "the scenarios below ran.\n\n";
  }
}

void write_series(const ScenarioResult& s, std::ostream& out) {
  // A job stream's runs are compared in its own table (jobs_report.hpp), by jobs, not by fps.
  for (const auto& run : s.runs)
    if (run.jobs) return;
  std::string varied;
  const auto series = matrix_series(s, &varied);
  if (series.size() < 2) return;
  out << "### " << markdown_cell(s.name) << ": series over " << markdown_cell(varied) << "\n\n";
  out << "| " << markdown_cell(varied)
      << " | throughput | wall p50 / p95 | peak RSS (sum) | added at ready (mean) | ok |\n";
  out << "|---:|---:|---:|---:|---:|---:|\n";
  for (std::size_t i = 0; i < series.size() && i < kMaxSeriesRows; ++i) {
    const SeriesPoint& p = series[i];
    const RunMetrics& m = p.metrics;
    std::string label = p.x ? format_number(*p.x, 0) : p.label;
    if (p.repeat > 0) label += fmt::format(" (repeat {})", p.repeat);
    out << "| " << markdown_cell(label) << " | "
        << (m.throughput_fps ? format_number(*m.throughput_fps, 1) + " fps" : "?") << " | "
        << (m.latency_s
                ? display_seconds(m.latency_s->p50) + " / " + display_seconds(m.latency_s->p95)
                : "?")
        << " | " << (m.sum_peak_rss_kib ? display_kib(*m.sum_peak_rss_kib) : "?") << " | "
        << display_kib(m.mean_memory_added_kib) << " | " << m.succeeded << "/" << m.instances
        << " |\n";
  }
  if (series.size() > kMaxSeriesRows)
    out << "\n"
        << kMaxSeriesRows << " of " << series.size() << " runs shown; all are in report.json.\n";
  out << "\n";
}

// The memory model against the measured total at each N of a concurrency sweep.
void write_capacity(const ScenarioResult& s, std::ostream& out) {
  const nlohmann::json capacity = capacity_json(s);
  if (!capacity.is_object() || !capacity.contains("series")) return;
  auto mib = [](const nlohmann::json& kib) {
    return kib.is_number() ? format_number(kib.get<double>() / 1024.0, 1) + " MiB" : "?";
  };
  auto pct = [](const nlohmann::json& v) {
    return v.is_number() ? fmt::format("{:+.1f} %", v.get<double>()) : "-";
  };
  for (const nlohmann::json& cs : capacity["series"]) {
    out << "### " << markdown_cell(cs.value("label", s.name))
        << ": memory, predicted vs measured\n\n";
    out << "| N | measured (PSS sum) | predicted | error | RSS sum | RSS-sum error |\n";
    out << "|---:|---:|---:|---:|---:|---:|\n";
    for (const nlohmann::json& p : cs["points"]) {
      out << "| " << p["workers"].get<int>() << " | " << mib(p["sum_pss_kib"]) << " | "
          << mib(p["predicted_kib"]) << " | " << pct(p["prediction_error_pct"]) << " | "
          << mib(p["sum_rss_kib"]) << " | " << pct(p["rss_sum_error_pct"]) << " |\n";
    }
    out << "\n";
    if (const nlohmann::json& m = cs["model"]; m.is_object()) {
      out << "Model: total(N) = " << format_number(m["shared_kib"].get<double>() / 1024.0, 1)
          << " MiB shared + N x " << format_number(m["private_kib"].get<double>() / 1024.0, 1)
          << " MiB private; target |error| <= 5 %.";
      if (cs["knee"].is_number())
        out << " Throughput knee: N=" << cs["knee"].get<int>()
            << (cs.value("knee_found", false) ? "" : " (not reached)") << ".";
      out << "\n\n";
    }
  }
}

// A worker of several processes, seen process by process: the rows at its tree's PSS peak, for
// the instance with the largest tree (the first judged run's first such instance).
// pid | parent | name | argv[0] | RSS | PSS | USS | CPU | CPU now | threads
void write_process_cells(const ProcessRow& r, std::ostream& out) {
  out << r.pid << " | " << r.ppid << " | " << markdown_cell(r.name) << " | "
      << markdown_cell(r.argv0) << " | " << display_kib(r.rss_kib) << " | "
      << display_kib(r.pss_kib) << " | " << display_kib(r.uss_kib) << " | "
      << display_seconds(r.cpu_ms / 1000.0) << " | "
      << (r.cpu_pct < 0 ? std::string("-") : fmt::format("{:.0f} %", r.cpu_pct)) << " | "
      << r.threads << " |\n";
}

constexpr const char* kProcessColumns =
    "pid | parent | name | argv[0] | RSS | PSS | USS | CPU | CPU now | threads |\n";
constexpr const char* kProcessAlign = "---:|---:|---|---|---:|---:|---:|---:|---:|---:|\n";
constexpr const char* kProcessNote =
    "\nCPU is each process's own time so far; CPU now is its share of one core since the "
    "previous PSS read.\n\n";

// The processes at the PSS peak: of the instance with the most processes when some instance is
// several, otherwise the one process of each instance (a row per instance).
void write_processes(const ScenarioResult& s, std::ostream& out) {
  constexpr std::size_t kMaxRows = 50;
  const ProcessResult* best = nullptr;
  std::vector<std::pair<const ScenarioRun*, const ProcessResult*>> single;
  for (const ScenarioRun& run : s.runs) {
    if (run.warmup) continue;
    for (const ProcessResult& p : run.instances) {
      if (!p.cpu.at_peak || p.cpu.at_peak->rows.empty()) continue;
      single.emplace_back(&run, &p);
      if (p.cpu.processes_max > 1 && (!best || p.cpu.processes_max > best->cpu.processes_max))
        best = &p;
    }
  }
  if (single.empty()) return;
  if (!best) {
    out << "### " << markdown_cell(s.name) << ": the process of each instance at its PSS peak\n\n";
    out << "| instance | " << kProcessColumns << "|---|" << kProcessAlign;
    for (std::size_t i = 0; i < single.size() && i < kMaxRows; ++i) {
      const auto& [run, p] = single[i];
      std::string who = std::to_string(p->index);
      const std::string params = format_params(run->params);
      if (!params.empty()) who += " [" + params + "]";
      out << "| " << markdown_cell(who) << " | ";
      write_process_cells(p->cpu.at_peak->rows.front(), out);
    }
    if (single.size() > kMaxRows)
      out << "\n"
          << kMaxRows << " of " << single.size() << " instances shown; report.json has all.\n";
    out << kProcessNote;
    return;
  }
  const ProcessSnapshot& snap = *best->cpu.at_peak;
  out << "### " << markdown_cell(s.name) << ": processes of instance " << best->index
      << " at its PSS peak (" << display_seconds(snap.t_ms / 1000.0) << " after spawn)\n\n";
  out << "| " << kProcessColumns << "|" << kProcessAlign;
  for (std::size_t i = 0; i < snap.rows.size() && i < kMaxRows; ++i) {
    out << "| ";
    write_process_cells(snap.rows[i], out);
  }
  if (snap.rows.size() > kMaxRows)
    out << "\n"
        << kMaxRows << " of " << snap.rows.size() << " processes shown; report.json has all.\n";
  out << kProcessNote;
}

// Runs whose workers wanted more CPUs than the machine has (run/cpu_demand.hpp).
void write_oversubscription(const RunReport& r, std::ostream& out) {
  bool any = false;
  for (const ScenarioResult& s : r.scenarios)
    for (const ScenarioRun& run : s.runs) {
      if (!run.cpu_demand || !run.cpu_demand->oversubscribed) continue;
      if (!any) out << "## CPU oversubscribed\n\n";
      any = true;
      const std::string params = format_params(run.params);
      out << "- " << markdown_cell(s.name)
          << (params.empty() ? "" : " [" + markdown_cell(params) + "]") << ": "
          << markdown_cell(run.cpu_demand->message) << "\n";
    }
  if (any) out << "\n";
}

// Where each instance's output went (logs/ of the report folder), linked.
void write_logs(const ScenarioResult& s, std::ostream& out) {
  constexpr std::size_t kMaxLinks = 20;
  std::size_t total = 0;
  std::string links;
  for (const ScenarioRun& run : s.runs)
    for (const ProcessResult& p : run.instances) {
      if (p.log_file.empty() || ++total > kMaxLinks) continue;
      std::string label = std::to_string(p.index);
      const std::string params = format_params(run.params);
      if (!params.empty()) label += " (" + params + ")";
      links += (links.empty() ? "" : ", ") +
               fmt::format("[{}]({})", markdown_cell(label), markdown_cell(p.log_file));
    }
  if (total == 0) return;
  out << "Logs of " << markdown_cell(s.name) << ": " << links;
  if (total > kMaxLinks) out << fmt::format(", and {} more in logs/", total - kMaxLinks);
  out << "; all workers in time order: [logs/run.log](logs/run.log).\n\n";
}

class MarkdownReporter final : public Reporter {
 public:
  std::string filename() const override { return "report.md"; }

  void write(const RunReport& r, std::ostream& out) const override {
    write_header(r, out);
    out << "## Scenarios\n\n| scenario | status | key result | CPU (user + system) |\n"
           "|---|---|---|---|\n";
    for (const ScenarioResult& s : r.scenarios) {
      out << "| " << markdown_cell(s.name) << " | " << status_label(s.status) << " | "
          << markdown_cell(key_result(s, r)) << " | " << markdown_cell(cpu_summary(s)) << " |\n";
    }
    if (r.scenarios.empty()) out << "| (none) | | | |\n";
    out << "\n";
    write_oversubscription(r, out);
    for (const ScenarioResult& s : r.scenarios) {
      write_series(s, out);
      write_capacity(s, out);
      write_processes(s, out);
      write_jobs_markdown(s, out);
      write_logs(s, out);
    }

    bool any = false;
    for (const ScenarioResult& s : r.scenarios) {
      if (s.status == "pass") continue;
      if (!any) out << "## Failures\n\n";
      any = true;
      out << "- **" << markdown_cell(s.name) << "** (" << status_label(s.status) << ")";
      if (!s.file.empty()) out << " `" << markdown_cell(s.file) << "`";
      out << "\n";
      if (!s.error.empty()) out << "  - " << markdown_cell(s.error) << "\n";
      for (std::size_t i = 0; i < s.failures.size() && i < kMaxFailures; ++i)
        out << "  - " << markdown_cell(s.failures[i]) << "\n";
      if (s.failures.size() > kMaxFailures)
        out << "  - (" << s.failures.size() - kMaxFailures << " more in report.json)\n";
    }
    if (any) out << "\n";
  }
};

}  // namespace

std::unique_ptr<Reporter> make_markdown_reporter() {
  return std::make_unique<MarkdownReporter>();
}

}  // namespace harness
