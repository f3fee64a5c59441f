// How a peak search (`arrival: {poisson: find_peak, ...}`) appears in the reports: the series of
// rates it ran, its peak and why it ended (report.json `peaks`, a report.md table, a report.html
// chart of the bounded percentile against the rate with the bound drawn across).
#include <algorithm>
#include <cmath>
#include <ostream>

#include <fmt/format.h>

#include "harness/core/escape.hpp"
#include "harness/report/jobs_report.hpp"
#include "harness/report/report_format.hpp"
#include "harness/report/svg_chart.hpp"

namespace harness {
namespace {

using json = nlohmann::json;

json num(double v) {
  if (!std::isfinite(v)) return nullptr;
  return std::round(v * 1000) / 1000;
}

json opt_rate(const std::optional<double>& r) {
  return r ? num(*r) : json(nullptr);
}

std::string label_of(const PeakResult& p) {
  return p.params.empty() ? "search" : p.params.dump();
}

const char* const kColors[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2"};

}  // namespace

json peaks_json(const std::vector<PeakResult>& peaks) {
  json out = json::array();
  for (const PeakResult& p : peaks) {
    json points = json::array();
    for (const PeakPoint& pt : p.points)
      points.push_back({{"rate_per_s", num(pt.rate)},
                        {"run", pt.run},
                        {"value_ms", num(pt.value_ms)},
                        {"throughput_per_s", num(pt.throughput_per_s)},
                        {"verdict", pt.verdict},
                        {"why", sanitize_utf8(pt.why)}});
    json failures = json::array();
    for (const auto& f : p.failures) failures.push_back(sanitize_utf8(f));
    out.push_back({{"params", p.params},
                   {"key", p.key},
                   {"percentile", num(p.percentile)},
                   {"bound_ms", num(p.bound_ms)},
                   {"from_per_s", num(p.from)},
                   {"to_per_s", num(p.to)},
                   {"precision", num(p.precision)},
                   {"peak_per_s", opt_rate(p.peak_rate)},
                   {"failed_per_s", opt_rate(p.failed_rate)},
                   {"outcome", sanitize_utf8(p.outcome)},
                   {"failures", std::move(failures)},
                   {"points", std::move(points)}});
  }
  return out;
}

void write_peaks_markdown(const ScenarioResult& s, std::ostream& out) {
  for (const PeakResult& p : s.peaks) {
    out << "**Peak search" << (p.params.empty() ? "" : " " + markdown_cell(label_of(p))) << "** ("
        << p.key << " " << display_seconds(p.bound_ms / 1000.0) << "): " << markdown_cell(p.outcome)
        << "\n\n";
    out << fmt::format("| rate | latency p{:g} | throughput | verdict |\n", p.percentile);
    out << "|---:|---:|---:|---|\n";
    for (const PeakPoint& pt : p.points)
      out << "| " << fmt::format("{:g}/s", pt.rate) << " | "
          << display_seconds(pt.value_ms / 1000.0) << " | " << format_number(pt.throughput_per_s, 2)
          << "/s | " << markdown_cell(pt.verdict + (pt.why.empty() ? "" : ": " + pt.why)) << " |\n";
    out << "\n";
  }
}

void write_peaks_html(const ScenarioResult& s, std::ostream& out) {
  if (s.peaks.empty()) return;
  Chart chart{"Peak search: latency percentile against arrival rate",
              "arrival rate (jobs/s)",
              "latency (s)",
              {},
              {}};
  double lo = INFINITY, hi = 0;
  std::size_t n = 0;
  for (const PeakResult& p : s.peaks) {
    std::vector<std::pair<double, double>> points;
    for (const PeakPoint& pt : p.points) points.emplace_back(pt.rate, pt.value_ms / 1000.0);
    std::sort(points.begin(), points.end());
    for (const auto& [x, y] : points) {
      lo = std::min(lo, x);
      hi = std::max(hi, x);
    }
    const char* color = kColors[n++ % 6];
    chart.series.push_back({fmt::format("{} p{:g}", label_of(p), p.percentile), color,
                            std::move(points), true, true, false});
    if (p.peak_rate)
      chart.markers.push_back({*p.peak_rate, fmt::format("peak {:g}/s", *p.peak_rate), color});
  }
  if (hi > 0) {
    for (const PeakResult& p : s.peaks)
      chart.series.push_back({fmt::format("bound {}", display_seconds(p.bound_ms / 1000.0)),
                              "#d62728",
                              {{lo, p.bound_ms / 1000.0}, {hi, p.bound_ms / 1000.0}},
                              true,
                              false,
                              true});
  }
  out << "<h3>Peak search</h3><div class=\"charts\">" << render_svg(chart) << "</div>\n";
  for (const PeakResult& p : s.peaks)
    out << "<p>" << html_escape(label_of(p)) << ": " << html_escape(p.outcome) << "</p>\n";
}

}  // namespace harness
