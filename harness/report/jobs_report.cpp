#include "harness/report/jobs_report.hpp"

#include <algorithm>
#include <cmath>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "harness/core/escape.hpp"
#include "harness/report/report_format.hpp"
#include "harness/report/svg_chart.hpp"

namespace harness {
namespace {

using json = nlohmann::json;

json num(double v, int decimals = 3) {
  if (!std::isfinite(v)) return nullptr;
  const double scale = std::pow(10.0, decimals);
  return std::round(v * scale) / scale;
}

json ms_or_null(double v) {
  return v < 0 ? json(nullptr) : num(v);
}

json percentiles_json(const JobPercentiles& p) {
  if (p.n == 0) return json{{"n", 0}};
  return {{"n", p.n},
          {"p50_ms", num(p.p50)},
          {"p90_ms", num(p.p90)},
          {"p95_ms", num(p.p95)},
          {"p99_ms", num(p.p99)},
          {"p999_ms", num(p.p999)},
          {"max_ms", num(p.max)},
          {"mean_ms", num(p.mean)}};
}

std::string ms(double v) {
  return display_seconds(v / 1000.0);
}

// Mean peak RSS of the processes that served the run (pool workers, or spawned jobs).
std::string mean_peak(const ScenarioRun& run) {
  double sum = 0;
  int n = 0;
  for (const auto& p : run.instances)
    if (p.memory.peak_rss_kib > 0) {
      sum += static_cast<double>(p.memory.peak_rss_kib);
      ++n;
    }
  return n ? display_kib(std::optional<double>(sum / n)) : "?";
}

}  // namespace

json jobs_json(const JobsResult& r) {
  json records = json::array();
  for (const JobRecord& j : r.records) {
    records.push_back({{"id", j.id},
                       {"input", sanitize_utf8(j.input)},
                       {"attempts", j.attempts},
                       {"worker", j.worker},
                       {"pid", j.pid},
                       {"scheduled_ms", num(j.scheduled_ms)},
                       {"submitted_ms", ms_or_null(j.submitted_ms)},
                       {"dispatched_ms", ms_or_null(j.dispatched_ms)},
                       {"first_event_ms", ms_or_null(j.first_event_ms)},
                       {"ended_ms", ms_or_null(j.ended_ms)},
                       {"status", j.status.empty() ? json(nullptr) : json(j.status)},
                       {"failure", j.failure.empty() ? json(nullptr) : json(j.failure)},
                       {"error", j.error.empty() ? json(nullptr) : json(sanitize_utf8(j.error))},
                       {"progress", j.progress},
                       {"cancel_sent", j.cancel_sent}});
    if (r.mode == "queue") {
      records.back()["agent"] = j.agent.empty() ? json(nullptr) : json(sanitize_utf8(j.agent));
      records.back()["deliveries"] = j.deliveries;
    }
  }
  json reasons = json::array();
  for (const auto& why : r.invalid_reasons) reasons.push_back(why);
  json out = {
      {"mode", r.mode},
      {"workers", r.workers},
      {"arrival", r.arrival},
      {"duration_s", num(r.duration_s)},
      {"throughput_per_s", num(r.throughput_per_s)},
      {"scheduled", r.scheduled},
      {"succeeded", r.succeeded},
      {"failed", r.failed},
      {"cancelled", r.cancelled},
      {"lost", r.lost},
      {"interrupted", r.interrupted},
      {"not_run", r.not_run},
      {"duplicates", r.duplicates},
      {"stray", r.stray},
      {"retries", r.retries},
      {"worker_restarts", r.worker_restarts},
      {"late", r.late},
      {"late_share", num(r.late_share, 4)},
      {"late_share_low", num(r.late_share_low, 4)},
      {"late_after_ms", num(r.late_after_ms)},
      {"latency", percentiles_json(r.latency)},
      {"queue_wait", percentiles_json(r.queue_wait)},
      {"service", percentiles_json(r.service)},
      {"verdict", r.valid ? "VALID" : "INVALID"},
      {"invalid_reasons", std::move(reasons)},
      {"tail_percentile", r.tail_percentile > 0 ? num(r.tail_percentile, 1) : json(nullptr)},
      {"jobs_needed", r.jobs_needed},
      {"harness_cpu_s", num(r.harness_cpu_s)},
      {"harness_cpu_share", num(r.harness_cpu_share, 4)},
      {"generator_limited", r.generator_limited},
      {"records", std::move(records)}};
  if (!r.faults.empty()) {
    json faults = json::array();
    for (const auto& f : r.faults)
      faults.push_back({{"at_ms", num(f.at_ms)},
                        {"kind", f.kind},
                        {"target", f.kind == "restart_broker" ? json(nullptr)
                                   : f.target < 0             ? json("any")
                                                              : json(f.target)},
                        {"applied", f.applied},
                        {"what", sanitize_utf8(f.what)}});
    out["faults"] = std::move(faults);
    json reclaim = json::array();
    for (double v : r.reclaim_ms) reclaim.push_back(num(v));
    out["reclaim_ms"] = std::move(reclaim);
  }
  return out;
}

void write_jobs_markdown(const ScenarioResult& s, std::ostream& out) {
  std::set<std::string> modes;
  std::size_t streams = 0;
  for (const auto& run : s.runs)
    if (run.jobs) {
      modes.insert(run.jobs->mode);
      ++streams;
    }
  if (streams == 0) return;
  out << "### " << markdown_cell(s.name)
      << (modes.size() > 1 ? ": designs compared on the same jobs" : ": job stream") << "\n\n";
  out << "| run | mode | workers | arrival | ok / failed / cancelled / lost | retries | "
         "throughput | latency p50 / p90 / p99 / max | queue wait p99 | service p50 | "
         "peak RSS per process | harness CPU | verdict |\n";
  out << "|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n";
  for (const auto& run : s.runs) {
    if (!run.jobs) continue;
    const JobsResult& r = *run.jobs;
    std::string label = run.params.empty() ? "run" : run.params.dump();
    if (run.warmup) label += " (warmup)";
    if (run.repeat > 0) label += fmt::format(" (repeat {})", run.repeat + 1);
    const auto& l = r.latency;
    std::string verdict = r.valid ? "VALID" : "INVALID";
    for (const auto& why : r.invalid_reasons) verdict += "; " + why;
    out << "| " << markdown_cell(label) << " | " << r.mode << " | " << r.workers << " | "
        << markdown_cell(r.arrival) << " | "
        << fmt::format("{} / {} / {} / {}", r.succeeded, r.failed, r.cancelled, r.lost) << " | "
        << r.retries << " | " << format_number(r.throughput_per_s, 2) << "/s | "
        << (l.n ? ms(l.p50) + " / " + ms(l.p90) + " / " + ms(l.p99) + " / " + ms(l.max) : "-")
        << " | " << (r.queue_wait.n ? ms(r.queue_wait.p99) : "-") << " | "
        << (r.service.n ? ms(r.service.p50) : "-") << " | " << mean_peak(run) << " | "
        << format_number(100 * r.harness_cpu_share, 1) << " % | " << markdown_cell(verdict)
        << " |\n";
  }
  out << "\nLatency runs from each job's scheduled time (queue wait + service); percentiles are "
         "nearest-rank over succeeded jobs. Every job's record is in report.json.\n\n";
  for (const auto& run : s.runs) {
    if (!run.jobs || run.jobs->faults.empty()) continue;
    const JobsResult& r = *run.jobs;
    out << "Faults of " << markdown_cell(run.params.empty() ? "the run" : run.params.dump())
        << ":\n\n";
    for (const auto& f : r.faults)
      out << "- at " << ms(f.at_ms) << ": " << f.kind
          << (f.kind == "restart_broker" ? std::string()
              : f.target < 0             ? std::string(" any")
                                         : " " + std::to_string(f.target))
          << " -> " << (f.applied ? "" : "skipped: ") << markdown_cell(f.what) << "\n";
    if (!r.reclaim_ms.empty()) {
      const double worst = *std::max_element(r.reclaim_ms.begin(), r.reclaim_ms.end());
      out << "- reclaim (agent killed to its job taken over): " << r.reclaim_ms.size()
          << " job(s), max " << ms(worst) << "\n";
    }
    out << "\n";
  }
  write_peaks_markdown(s, out);
}

namespace {

constexpr std::size_t kMaxTimelineJobs = 2000;
const char* const kColors[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2"};

std::string run_label(const ScenarioRun& run) {
  std::string label = run.params.empty() ? run.jobs->mode : run.params.dump();
  if (run.warmup) label += " (warmup)";
  if (run.repeat > 0) label += fmt::format(" (repeat {})", run.repeat + 1);
  return label;
}

const char* status_color(const std::string& status) {
  if (status == "success") return "#2ca02c";
  if (status == "cancelled") return "#ff7f0e";
  if (status == "failed") return "#d62728";
  return "#888";
}

// Jobs as bars on one row per worker (pool slot; spawn: one row per concurrent slot, packed).
std::string timeline_svg(const JobsResult& r) {
  std::vector<const JobRecord*> jobs;
  for (const auto& j : r.records)
    if (j.dispatched_ms >= 0 && j.ended_ms >= 0 && jobs.size() < kMaxTimelineJobs)
      jobs.push_back(&j);
  if (jobs.empty()) return "<p>no job was dispatched</p>";
  // Rows: the pool's worker, or for spawned jobs the first row free at the dispatch.
  std::vector<int> row(jobs.size(), 0);
  std::vector<double> row_free;
  int rows = 1;
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    if (r.mode != "spawn") {  // the pool's worker, the queue's agent
      row[i] = std::max(0, jobs[i]->worker);
    } else {
      std::size_t k = 0;
      while (k < row_free.size() && row_free[k] > jobs[i]->dispatched_ms) ++k;
      if (k == row_free.size()) row_free.push_back(0);
      row_free[k] = jobs[i]->ended_ms;
      row[i] = static_cast<int>(k);
    }
    rows = std::max(rows, row[i] + 1);
  }
  double end = 0;
  for (const auto* j : jobs) end = std::max(end, j->ended_ms);
  end = std::max(end, 1.0);
  const double w = 900, left = 60, bar = 18, gap = 8;
  const double h = 30 + rows * (bar + gap);
  auto x = [&](double ms) { return left + (w - left - 10) * std::max(0.0, ms) / end; };
  std::ostringstream o;
  o << fmt::format(R"(<svg viewBox="0 0 {} {}" width="100%" role="img">)", w, h);
  for (int k = 0; k < rows; ++k)
    o << fmt::format(R"(<text x="4" y="{:.1f}" font-size="11">{} {}</text>)",
                     20 + k * (bar + gap) + bar * 0.7,
                     r.mode == "pool"    ? "worker"
                     : r.mode == "queue" ? "agent"
                                         : "slot",
                     k);
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    const JobRecord& j = *jobs[i];
    const double y = 20 + row[i] * (bar + gap);
    o << fmt::format(R"(<line x1="{:.1f}" x2="{:.1f}" y1="{:.1f}" y2="{:.1f}" stroke="#bbb"/>)",
                     x(j.scheduled_ms), x(j.dispatched_ms), y + bar / 2, y + bar / 2);
    o << fmt::format(
        R"(<rect x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{}" fill="{}"><title>job {} {}: )"
        R"(wait {:.0f} ms, service {:.0f} ms, attempts {}</title></rect>)",
        x(j.dispatched_ms), y, std::max(1.0, x(j.ended_ms) - x(j.dispatched_ms)), bar,
        status_color(j.status), j.id, html_escape(j.status.empty() ? "lost" : j.status),
        j.dispatched_ms - j.scheduled_ms, j.ended_ms - j.dispatched_ms, j.attempts);
  }
  o << fmt::format(R"(<text x="{}" y="{:.1f}" font-size="11">0</text>)", left, h - 2);
  o << fmt::format(R"(<text x="{}" y="{:.1f}" font-size="11" text-anchor="end">{}</text>)", w - 10,
                   h - 2, html_escape(display_seconds(end / 1000.0)));
  o << "</svg>";
  if (jobs.size() < r.records.size())
    o << fmt::format("<p>{} of {} jobs drawn; report.json has all.</p>", jobs.size(),
                     r.records.size());
  return o.str();
}

}  // namespace

void write_jobs_html(const ScenarioResult& s, std::ostream& out) {
  Chart cdf{"Latency distribution (scheduled to end, succeeded jobs)",
            "latency (s)",
            "share of jobs",
            {},
            {}};
  std::size_t n = 0;
  for (const auto& run : s.runs) {
    if (!run.jobs) continue;
    std::vector<double> lat;
    for (const auto& j : run.jobs->records)
      if (j.status == "success") lat.push_back((j.ended_ms - j.scheduled_ms) / 1000.0);
    std::sort(lat.begin(), lat.end());
    ChartSeries series{run_label(run), kColors[n++ % 6], {}, true, false, false};
    // At most ~500 steps a run: a CDF needs no more to be read.
    const std::size_t step = std::max<std::size_t>(1, lat.size() / 500);
    for (std::size_t i = 0; i < lat.size(); i += step)
      series.points.emplace_back(lat[i], static_cast<double>(i + 1) / lat.size());
    if (!lat.empty()) series.points.emplace_back(lat.back(), 1.0);
    cdf.series.push_back(std::move(series));
  }
  if (n == 0) return;
  out << "<h3>Job streams</h3><div class=\"charts\">" << render_svg(cdf) << "</div>\n";
  write_peaks_html(s, out);
  for (const auto& run : s.runs) {
    if (!run.jobs) continue;
    out << "<h4>Jobs of " << html_escape(run_label(run)) << " by worker</h4>"
        << timeline_svg(*run.jobs) << "\n";
  }
}

}  // namespace harness
