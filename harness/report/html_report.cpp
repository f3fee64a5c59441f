// report.html: one self-contained page (inline CSS and SVG, no script, no network) that reads on
// a phone and a desktop. Every string that came from a worker or a scenario file goes through
// html_escape; tables scroll sideways inside their own box on narrow screens.

#include <algorithm>
#include <sstream>

#include <fmt/format.h>

#include "harness/core/escape.hpp"
#include "harness/report/html_style.hpp"
#include "harness/report/jobs_report.hpp"
#include "harness/report/json_report.hpp"
#include "harness/report/metrics.hpp"
#include "harness/report/process_html.hpp"
#include "harness/report/report_format.hpp"
#include "harness/report/report_summary.hpp"
#include "harness/report/reporter.hpp"
#include "harness/report/svg_chart.hpp"

namespace harness {
namespace {

// Per scenario, so a run of 10000 repeats stays a page a browser opens; report.json has it all.
constexpr std::size_t kMaxMemoryCharts = 12;
constexpr std::size_t kMaxChartPoints = 600;  // per series
constexpr std::size_t kMaxTableRows = 1000;   // runs, instances
constexpr std::size_t kMaxListed = 100;       // failures, instance outputs
constexpr const char* kRss = "#1f77b4";
constexpr const char* kPss = "#ff7f0e";
constexpr const char* kUss = "#2ca02c";
constexpr const char* kReady = "#d62728";

std::string esc(std::string_view s) {
  return html_escape(s);
}

std::string badge(const std::string& status) {
  const std::string label = status_label(status);
  const std::string cls = status == "pass" ? "pass" : status == "fail" ? "fail" : "error";
  return fmt::format(R"(<span class="badge {}">{}</span>)", cls, label);
}

std::string anchor(std::size_t i) {
  return fmt::format("s{}", i);
}

std::string opt_number(const std::optional<double>& v, int decimals) {
  return v ? format_number(*v, decimals) : "?";
}

std::string ended(const ProcessResult& p) {
  if (!p.spawn_error.empty()) return "not started";
  if (p.signal) return signal_name(*p.signal);
  if (p.exit_code) return std::to_string(*p.exit_code);
  return "?";
}

void write_header(const RunReport& r, std::ostream& out) {
  out << "<header><h1>Harness report</h1>";
  out << "<p class=\"meta\">harness " << esc(r.harness_version) << " &middot; "
      << esc(r.host.hostname.empty() ? "?" : r.host.hostname);
  if (!r.host.kernel.empty()) out << " &middot; " << esc(r.host.kernel);
  out << " &middot; " << r.host.cpus << " CPUs, " << display_kib(r.host.mem_total_kib) << " RAM";
  if (!r.host.cpu_model.empty()) out << " &middot; " << esc(r.host.cpu_model);
  out << "</p><p class=\"meta\">" << esc(r.started_at) << " &middot; "
      << display_seconds(r.duration_s) << " &middot; harness RSS "
      << display_kib(r.harness_rss_before_kib) << " before, "
      << display_kib(r.harness_rss_after_kib) << " after, " << display_kib(r.harness_rss_peak_kib)
      << " peak</p>";
  if (r.interrupted) {
    out << "<p><strong>The run was interrupted</strong>: only the scenarios below ran.</p>";
  } else if (!r.complete) {
    out << "<p><strong>The run did not finish</strong> (the harness is still running, or was "
           "killed): only the scenarios below ran.</p>";
  }
  out << "</header>\n";
}

void write_summary(const RunReport& r, std::ostream& out) {
  const auto [passed, failed, errors] = count_statuses(r);
  out << "<section><h2>Summary</h2><p>" << passed << " passed, " << failed << " failed, " << errors
      << (errors == 1 ? " error" : " errors")
      << "</p><div class=\"tw\"><table><thead><tr><th>scenario</th><th>status</th>"
         "<th>key result</th></tr></thead><tbody>\n";
  for (std::size_t i = 0; i < r.scenarios.size(); ++i) {
    const auto& s = r.scenarios[i];
    out << "<tr><td><a href=\"#" << anchor(i) << "\">" << esc(s.name) << "</a></td><td>"
        << badge(s.status) << "</td><td>" << esc(key_result(s, r)) << "</td></tr>\n";
  }
  out << "</tbody></table></div></section>\n";
}

void write_expectations(const ScenarioResult& s, std::ostream& out) {
  if (!s.expect.is_object() || s.expect.empty()) return;
  out << "<h3>Expectations</h3><ul>";
  for (const auto& [key, value] : s.expect.items()) {
    out << "<li><code>" << esc(key) << "</code>: "
        << esc(value.is_string()
                   ? value.get<std::string>()
                   : value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace))
        << "</li>";
  }
  out << "</ul>\n";
}

// "1000 of 10000 runs shown; all are in report.json." after a list or table that was cut.
void shown_note(std::ostream& out, std::size_t shown, std::size_t total, const char* what) {
  if (shown < total)
    out << "<p class=\"note\">" << shown << " of " << total << " " << what
        << " shown; all are in report.json.</p>\n";
}

void write_failures(const ScenarioResult& s, std::ostream& out) {
  if (s.error.empty() && s.failures.empty()) return;
  out << "<h3>Failures</h3><ul class=\"failures\">";
  if (!s.error.empty()) out << "<li>" << esc(s.error) << "</li>";
  const std::size_t shown = std::min(s.failures.size(), kMaxListed);
  for (std::size_t i = 0; i < shown; ++i) out << "<li>" << esc(s.failures[i]) << "</li>";
  out << "</ul>\n";
  shown_note(out, shown, s.failures.size(), "failures");
}

std::string cell_mib(const nlohmann::json& kib) {
  return kib.is_number() ? format_number(kib.get<double>() / 1024.0, 1) + " MiB" : "?";
}
std::string cell_pct(const nlohmann::json& v) {
  return v.is_number() ? fmt::format("{:+.1f} %", v.get<double>()) : "&ndash;";
}
std::optional<double> num_at(const nlohmann::json& obj, const char* key) {
  if (!obj.is_object() || !obj.contains(key) || !obj[key].is_number()) return std::nullopt;
  return obj[key].get<double>();
}

// A concurrency sweep: throughput and latency against N (repeats averaged) with the knee
// marked, and the memory model's prediction checked at each N beside the naive RSS sum.
// Returns false when the scenario is not a sweep the model could read.
bool write_capacity(const ScenarioResult& s, std::ostream& out) {
  const nlohmann::json capacity = capacity_json(s);
  if (!capacity.is_object() || !capacity.contains("series")) return false;
  for (const nlohmann::json& cs : capacity["series"]) {
    ChartSeries throughput{"throughput (fps)", kRss, {}, true, true, false};
    ChartSeries p50{"p50 wall", kRss, {}, true, true, false};
    ChartSeries p95{"p95 wall", kPss, {}, true, true, true};
    for (const nlohmann::json& p : cs["points"]) {
      const double n = p["workers"].get<double>();
      if (auto f = num_at(p, "throughput_fps")) throughput.points.emplace_back(n, *f);
      if (auto v = num_at(p["latency_s"], "p50")) p50.points.emplace_back(n, *v);
      if (auto v = num_at(p["latency_s"], "p95")) p95.points.emplace_back(n, *v);
    }
    std::vector<ChartMarker> knee;
    if (cs["knee"].is_number()) {
      knee.push_back({cs["knee"].get<double>(),
                      cs["knee_found"].get<bool>() ? "knee" : "knee not reached", kReady});
    }
    const std::string label = cs.value("label", s.name);
    out << "<h3>Capacity: " << esc(label) << "</h3><div class=\"charts\">";
    out << render_svg(Chart{"Throughput against instances",
                            "instances (workers at once)",
                            "frames/s",
                            {throughput},
                            knee});
    out << render_svg(Chart{"Wall time per instance against instances",
                            "instances (workers at once)",
                            "seconds",
                            {p50, p95},
                            knee});
    out << "</div>\n";
    out << "<div class=\"tw\"><table><thead><tr><th>N</th><th>runs</th><th>throughput</th>"
           "<th>p95 wall</th><th>measured total (PSS)</th><th>predicted</th><th>error</th>"
           "<th>RSS sum</th><th>RSS-sum error</th></tr></thead><tbody>\n";
    for (const nlohmann::json& p : cs["points"]) {
      const auto fps = num_at(p, "throughput_fps");
      const auto lat = num_at(p["latency_s"], "p95");
      out << "<tr><td class=\"n\">" << p["workers"].get<int>() << "</td><td class=\"n\">"
          << p.value("repeats", 0) << "</td><td class=\"n\">"
          << (fps ? format_number(*fps, 2) + " fps" : "?") << "</td><td class=\"n\">"
          << (lat ? display_seconds(*lat) : "?") << "</td><td class=\"n\">"
          << cell_mib(p["sum_pss_kib"]) << "</td><td class=\"n\">" << cell_mib(p["predicted_kib"])
          << "</td><td class=\"n\">" << cell_pct(p["prediction_error_pct"])
          << "</td><td class=\"n\">" << cell_mib(p["sum_rss_kib"]) << "</td><td class=\"n\">"
          << cell_pct(p["rss_sum_error_pct"]) << "</td></tr>\n";
    }
    out << "</tbody></table></div>\n";
    if (const nlohmann::json& m = cs["model"]; m.is_object()) {
      out << "<p class=\"note\">Memory model: total(N) = "
          << format_number(m["shared_kib"].get<double>() / 1024.0, 1) << " MiB shared + N &times; "
          << format_number(m["private_kib"].get<double>() / 1024.0, 1)
          << " MiB private (total at N=" << m["total_from_n"].get<int>()
          << ", USS at N=" << m["private_from_n"].get<int>() << "); target |error| &le; 5 %";
      if (auto e = num_at(cs, "max_abs_error_pct"))
        out << ", worst " << format_number(*e, 1) << " %";
      out << ". Knee: the smallest N after which one more worker adds less than "
          << format_number(cs.value("knee_gain", 0.1) * 100, 0) << " % throughput.</p>\n";
    }
    for (const nlohmann::json& n : cs["notes"])
      out << "<p class=\"note\">" << esc(n.get<std::string>()) << "</p>\n";
  }
  return true;
}

void write_series(const ScenarioResult& s, std::ostream& out) {
  if (write_capacity(s, out)) return;
  for (const auto& run : s.runs)
    if (run.jobs) return write_jobs_html(s, out);  // compared by jobs, not by fps
  std::string varied;
  const auto series = matrix_series(s, &varied);
  if (series.size() < 2) return;
  ChartSeries throughput{"throughput (fps)", kRss, {}, true, true, false};
  ChartSeries p50{"p50 wall", kRss, {}, true, true, false};
  ChartSeries p95{"p95 wall", kPss, {}, true, true, true};
  bool numeric = true;
  for (const auto& p : series) numeric = numeric && p.x.has_value();
  for (std::size_t i = 0; i < series.size(); ++i) {
    const auto& p = series[i];
    const double x = numeric ? *p.x : static_cast<double>(i + 1);
    if (p.metrics.throughput_fps) throughput.points.emplace_back(x, *p.metrics.throughput_fps);
    if (p.metrics.latency_s) {
      p50.points.emplace_back(x, p.metrics.latency_s->p50);
      p95.points.emplace_back(x, p.metrics.latency_s->p95);
    }
  }
  const std::string x_label = numeric ? varied : "run (see table)";
  out << "<h3>Series over " << esc(varied) << "</h3><div class=\"charts\">";
  out << render_svg(Chart{"Throughput against " + varied, x_label, "frames/s", {throughput}, {}});
  out << render_svg(
      Chart{"Wall time per instance against " + varied, x_label, "seconds", {p50, p95}, {}});
  out << "</div>\n";
}

void write_runs(const ScenarioResult& s, std::ostream& out) {
  if (s.runs.empty()) return;
  out << "<h3>Runs</h3><div class=\"tw\"><table><thead><tr><th>run</th><th>params</th>"
         "<th>ok</th><th>wall</th><th>frames</th><th>throughput</th><th>wall p50 / p95 / max</th>"
         "<th>ready p50</th><th>peak RSS sum</th><th>PSS sum</th><th>added (mean)</th>"
         "</tr></thead><tbody>\n";
  const std::size_t shown = std::min(s.runs.size(), kMaxTableRows);
  for (std::size_t i = 0; i < shown; ++i) {
    const ScenarioRun& run = s.runs[i];
    const RunMetrics m = compute_metrics(run);
    std::string params = format_params(run.params);
    if (run.repeat > 0) params += fmt::format(" (repeat {})", run.repeat);
    if (run.warmup) params += " (warmup)";
    out << "<tr><td class=\"n\">" << i << "</td><td>" << esc(params) << "</td><td class=\"n\">"
        << m.succeeded << "/" << m.instances << "</td><td class=\"n\">"
        << display_seconds(run.wall_s) << "</td><td class=\"n\">"
        << (m.frames_total ? std::to_string(*m.frames_total) : "?") << "</td><td class=\"n\">"
        << opt_number(m.throughput_fps, 1) << " fps</td><td class=\"n\">"
        << (m.latency_s
                ? display_seconds(m.latency_s->p50) + " / " + display_seconds(m.latency_s->p95) +
                      " / " + display_seconds(m.latency_s->max)
                : "?")
        << "</td><td class=\"n\">" << format_ms(m.ready_ms_p50) << "</td><td class=\"n\">"
        << (m.sum_peak_rss_kib ? display_kib(*m.sum_peak_rss_kib) : "?") << "</td><td class=\"n\">"
        << (m.sum_peak_pss_kib ? display_kib(*m.sum_peak_pss_kib) : "?") << "</td><td class=\"n\">"
        << display_kib(m.mean_memory_added_kib) << "</td></tr>\n";
  }
  out << "</tbody></table></div>\n";
  shown_note(out, shown, s.runs.size(), "runs");
}

std::string log_link(const ProcessResult& p) {
  if (p.log_file.empty()) return "-";
  return "<a href=\"" + esc(p.log_file) + "\">log</a>";
}

std::string cpu_cell(const ProcessResult& p) {
  if (p.cpu.user_s < 0) return "?";
  return fmt::format("{} ({:.0f} %)", display_seconds(p.cpu.user_s + p.cpu.system_s),
                     p.cpu.utilisation_pct);
}

void write_instances(const ScenarioResult& s, std::ostream& out) {
  bool any = false;
  for (const auto& run : s.runs) any = any || !run.instances.empty();
  if (!any) return;
  out << "<h3>Instances</h3><div class=\"tw\"><table><thead><tr><th>run</th><th>#</th>"
         "<th>pid</th><th>exit</th><th>timed out</th><th>wall</th><th>ready</th>"
         "<th>baseline RSS</th><th>ready RSS</th><th>peak RSS</th><th>peak PSS</th>"
         "<th>peak USS</th><th>CPU</th><th>threads</th><th>kill</th><th>left over</th>"
         "<th>log</th></tr></thead><tbody>\n";
  std::size_t shown = 0, total = 0;
  for (std::size_t r = 0; r < s.runs.size(); ++r) {
    for (const ProcessResult& p : s.runs[r].instances) {
      if (++total > kMaxTableRows) continue;
      ++shown;
      std::string kill = p.kill_signal;
      if (p.kill_latency_ms) kill += " " + format_ms(p.kill_latency_ms);
      out << "<tr><td class=\"n\">" << r << "</td><td class=\"n\">" << p.index
          << "</td><td class=\"n\">" << p.pid << "</td><td>" << esc(ended(p)) << "</td><td>"
          << (p.timed_out ? "yes" : "no") << "</td><td class=\"n\">" << display_seconds(p.wall_s)
          << "</td><td class=\"n\">" << format_ms(p.ready_ms) << "</td><td class=\"n\">"
          << display_kib(p.memory.baseline_rss_kib) << "</td><td class=\"n\">"
          << display_kib(p.memory.ready_rss_kib) << "</td><td class=\"n\">"
          << display_kib(p.memory.peak_rss_kib) << "</td><td class=\"n\">"
          << display_kib(p.memory.peak_pss_kib) << "</td><td class=\"n\">"
          << display_kib(p.memory.peak_uss_kib) << "</td><td class=\"n\">" << cpu_cell(p)
          << "</td><td class=\"n\">" << p.cpu.threads_max << "</td><td>" << esc(kill)
          << "</td><td class=\"n\">" << p.leftover_processes << "</td><td>" << log_link(p)
          << "</td></tr>\n";
    }
  }
  out << "</tbody></table></div>\n";
  shown_note(out, shown, total, "instances");
}

std::string memory_chart(const ScenarioRun& run, const ProcessResult& p) {
  ChartSeries rss{"RSS", kRss, {}, true, false, false};
  ChartSeries pss{"PSS", kPss, {}, false, true, false};
  ChartSeries uss{"USS", kUss, {}, false, true, false};
  for (std::size_t i : downsample_indices(p.memory.samples, kMaxChartPoints)) {
    const MemorySample& m = p.memory.samples[i];
    const double t = m.t_ms / 1000.0;
    rss.points.emplace_back(t, static_cast<double>(m.rss_kib) / 1024.0);
    if (m.pss_kib >= 0) pss.points.emplace_back(t, static_cast<double>(m.pss_kib) / 1024.0);
    if (m.uss_kib >= 0) uss.points.emplace_back(t, static_cast<double>(m.uss_kib) / 1024.0);
  }
  Chart chart;
  chart.title = fmt::format("instance {}", p.index);
  const std::string params = format_params(run.params);
  if (!params.empty()) chart.title += " [" + params + "]";
  chart.x_label = "seconds since spawn";
  chart.y_label = "MiB";
  chart.series.push_back(std::move(rss));
  if (!pss.points.empty()) chart.series.push_back(std::move(pss));
  if (!uss.points.empty()) chart.series.push_back(std::move(uss));
  if (p.ready_ms) chart.markers.push_back({*p.ready_ms / 1000.0, "ready", kReady});
  return render_svg(chart);
}

void write_memory(const ScenarioResult& s, std::ostream& out) {
  std::size_t charted = 0, total = 0;
  std::ostringstream charts;
  for (const ScenarioRun& run : s.runs) {
    for (const ProcessResult& p : run.instances) {
      ++total;
      if (p.memory.samples.empty() || charted >= kMaxMemoryCharts) continue;
      ++charted;
      charts << memory_chart(run, p) << cpu_chart(run, p);
    }
  }
  if (charted == 0) return;
  out << "<h3>Memory and CPU over time</h3><div class=\"charts\">" << charts.str() << "</div>\n";
  if (charted < total) {
    out << "<p class=\"note\">" << charted << " of " << total
        << " instances charted; all samples are in report.json.</p>\n";
  }
}

void write_streams(const ScenarioResult& s, std::ostream& out) {
  std::size_t shown = 0, total = 0;
  for (const ScenarioRun& run : s.runs) {
    for (const ProcessResult& p : run.instances) {
      if (p.out.bytes == 0 && p.err.bytes == 0 && p.spawn_error.empty()) continue;
      if (++total > kMaxListed) continue;
      ++shown;
      std::string title = fmt::format("instance {}", p.index);
      const std::string params = format_params(run.params);
      if (!params.empty()) title += " [" + params + "]";
      out << "<details><summary>" << esc(title) << " output: stdout " << p.out.bytes
          << " bytes, stderr " << p.err.bytes << " bytes</summary>";
      if (!p.spawn_error.empty()) out << "<p>" << esc(p.spawn_error) << "</p>";
      if (!p.argv.empty()) {
        std::string argv;
        for (const auto& a : p.argv) argv += (argv.empty() ? "" : " ") + a;
        out << "<p><code>" << esc(argv) << "</code></p>";
      }
      for (const auto* c : {&p.out, &p.err}) {
        if (c->bytes == 0) continue;
        out << "<p class=\"note\">" << (c == &p.out ? "stdout" : "stderr")
            << (c->truncated ? " (last " + std::to_string(c->tail.size()) + " bytes)" : "")
            << "</p><pre>" << esc(c->tail) << "</pre>";
      }
      out << "</details>\n";
    }
  }
  shown_note(out, shown, total, "instance outputs");
}

void write_scenario(const RunReport& r, const ScenarioResult& s, std::size_t i, std::ostream& out) {
  out << "<section id=\"" << anchor(i) << "\"><h2>" << badge(s.status) << " " << esc(s.name)
      << "</h2>";
  if (!s.description.empty()) out << "<p>" << esc(s.description) << "</p>";
  out << "<p class=\"meta\">";
  if (!s.file.empty()) out << "<code>" << esc(s.file) << "</code> &middot; ";
  if (!s.labels.empty()) {
    std::string labels;
    for (const auto& l : s.labels) labels += (labels.empty() ? "" : ", ") + l;
    out << "labels: " << esc(labels) << " &middot; ";
  }
  out << display_seconds(s.duration_s) << "</p>";
  out << "<p><strong>" << esc(key_result(s, r)) << "</strong></p>\n";
  write_failures(s, out);
  write_expectations(s, out);
  write_series(s, out);
  write_runs(s, out);
  write_instances(s, out);
  for (const ScenarioRun& run : s.runs)
    if (run.cpu_demand && run.cpu_demand->oversubscribed) {
      const std::string params = format_params(run.params);
      out << "<p class=\"warn\"><b>CPU oversubscribed</b>"
          << (params.empty() ? "" : " [" + esc(params) + "]") << ": "
          << esc(run.cpu_demand->message) << "</p>\n";
    }
  write_memory(s, out);
  write_process_trees(s, out);
  write_streams(s, out);
  out << "</section>\n";
}

class HtmlReporter final : public Reporter {
 public:
  std::string filename() const override { return "report.html"; }

  void write(const RunReport& r, std::ostream& out) const override {
    out << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
           "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
           "<title>Harness report "
        << esc(r.started_at) << "</title><style>" << kHtmlStyle << "</style></head><body>\n";
    write_header(r, out);
    write_summary(r, out);
    for (std::size_t i = 0; i < r.scenarios.size(); ++i) write_scenario(r, r.scenarios[i], i, out);
    out << "</body></html>\n";
  }
};

}  // namespace

std::unique_ptr<Reporter> make_html_reporter() {
  return std::make_unique<HtmlReporter>();
}

}  // namespace harness
