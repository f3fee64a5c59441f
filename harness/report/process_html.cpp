#include "harness/report/process_html.hpp"

#include <algorithm>
#include <map>
#include <sstream>

#include <fmt/format.h>

#include "harness/core/escape.hpp"
#include "harness/report/report_format.hpp"
#include "harness/report/svg_chart.hpp"

namespace harness {
namespace {

constexpr double kCpuChartStepMs = 250;
constexpr std::size_t kMaxChartPoints = 600;
constexpr std::size_t kMaxTrees = 12;
constexpr std::size_t kMaxTreeRows = 200;
constexpr int kMaxDepth = 32;

std::string esc(std::string_view s) {
  return html_escape(s);
}

std::string row_label(const ProcessRow& r) {
  std::string text = fmt::format("<b>{}</b> {}", r.pid, esc(r.name));
  if (!r.argv0.empty() && r.argv0 != r.name) text += " <code>" + esc(r.argv0) + "</code>";
  text += fmt::format(" &middot; RSS {} &middot; PSS {} &middot; USS {} &middot; CPU {}",
                      display_kib(r.rss_kib), display_kib(r.pss_kib), display_kib(r.uss_kib),
                      display_seconds(r.cpu_ms / 1000.0));
  if (r.cpu_pct >= 0) text += fmt::format(" ({:.0f} % now)", r.cpu_pct);
  text += fmt::format(" &middot; {} thread{}", r.threads, r.threads == 1 ? "" : "s");
  return text;
}

void write_subtree(const std::multimap<int, const ProcessRow*>& children, const ProcessRow& r,
                   int depth, std::size_t& written, std::ostream& out) {
  out << "<li>" << row_label(r);
  ++written;
  auto [b, e] = children.equal_range(r.pid);
  if (b != e && depth < kMaxDepth) {
    out << "<ul>";
    for (auto it = b; it != e && written < kMaxTreeRows; ++it)
      write_subtree(children, *it->second, depth + 1, written, out);
    out << "</ul>";
  }
  out << "</li>";
}

}  // namespace

std::string cpu_chart(const ScenarioRun& run, const ProcessResult& p) {
  const auto& samples = p.memory.samples;
  ChartSeries cpu{"CPU % of one core", "#9467bd", {}, true, false, false};
  std::size_t from = samples.size();
  for (std::size_t i = 0; i < samples.size(); ++i) {
    if (samples[i].cpu_ms < 0) continue;
    if (from == samples.size()) {
      from = i;
      continue;
    }
    const double dt = samples[i].t_ms - samples[from].t_ms;
    if (dt < kCpuChartStepMs && i + 1 < samples.size()) continue;
    if (dt <= 0) continue;
    const double pct = (samples[i].cpu_ms - samples[from].cpu_ms) / dt * 100.0;
    cpu.points.emplace_back(samples[i].t_ms / 1000.0, pct);
    from = i;
  }
  if (cpu.points.empty()) return "";
  if (cpu.points.size() > kMaxChartPoints) {
    std::vector<std::pair<double, double>> thin;
    const std::size_t stride = (cpu.points.size() + kMaxChartPoints - 1) / kMaxChartPoints;
    for (std::size_t i = 0; i < cpu.points.size(); i += stride) thin.push_back(cpu.points[i]);
    cpu.points = std::move(thin);
  }
  Chart chart;
  chart.title = fmt::format("instance {} CPU, up to {} thread{}", p.index, p.cpu.threads_max,
                            p.cpu.threads_max == 1 ? "" : "s");
  const std::string params = format_params(run.params);
  if (!params.empty()) chart.title += " [" + params + "]";
  chart.x_label = "seconds since spawn";
  chart.y_label = "% of one core";
  chart.series.push_back(std::move(cpu));
  if (p.ready_ms) chart.markers.push_back({*p.ready_ms / 1000.0, "ready", "#d62728"});
  return render_svg(chart);
}

void write_process_trees(const ScenarioResult& s, std::ostream& out) {
  std::size_t drawn = 0, total = 0;
  std::ostringstream trees;
  for (const ScenarioRun& run : s.runs) {
    for (const ProcessResult& p : run.instances) {
      if (!p.cpu.at_peak || p.cpu.processes_max < 2 || p.cpu.at_peak->rows.empty()) continue;
      if (++total > kMaxTrees) continue;
      ++drawn;
      const ProcessSnapshot& snap = *p.cpu.at_peak;
      std::multimap<int, const ProcessRow*> children;
      for (const ProcessRow& r : snap.rows) children.emplace(r.ppid, &r);
      std::string title = fmt::format("instance {}", p.index);
      const std::string params = format_params(run.params);
      if (!params.empty()) title += " [" + params + "]";
      trees << "<p>" << esc(title) << ": " << snap.rows.size() << " processes at its PSS peak, "
            << display_seconds(snap.t_ms / 1000.0) << " after spawn</p><ul class=\"tree\">";
      std::size_t written = 0;
      // The root is the first row; a row whose parent is not in the snapshot (an escaped
      // process, adopted by the harness) starts a tree of its own.
      for (const ProcessRow& r : snap.rows) {
        const bool parent_known = &r != &snap.rows.front() &&
                                  std::any_of(snap.rows.begin(), snap.rows.end(),
                                              [&](const ProcessRow& q) { return q.pid == r.ppid; });
        if (!parent_known && written < kMaxTreeRows) write_subtree(children, r, 0, written, trees);
      }
      trees << "</ul>\n";
      if (written < snap.rows.size())
        trees << "<p class=\"note\">" << written << " of " << snap.rows.size()
              << " processes drawn; report.json has all.</p>\n";
    }
  }
  if (drawn == 0) return;
  out << "<h3>Processes</h3>" << trees.str();
  if (drawn < total)
    out << "<p class=\"note\">" << drawn << " of " << total
        << " multi-process instances drawn; report.json has all.</p>\n";
}

}  // namespace harness
