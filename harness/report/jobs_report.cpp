#include "harness/report/jobs_report.hpp"

#include <cmath>
#include <set>

#include <fmt/format.h>

#include "harness/core/escape.hpp"
#include "harness/report/report_format.hpp"

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
  }
  json reasons = json::array();
  for (const auto& why : r.invalid_reasons) reasons.push_back(why);
  return {{"mode", r.mode},
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
}

}  // namespace harness
